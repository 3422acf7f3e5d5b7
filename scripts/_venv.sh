# Sourced by scripts/run and scripts/test: create .venv and install a requirements file,
# skipping pip when the file has not changed since the last install.
ensure_venv() {
  local requirements="$1" stamp
  [ -x .venv/bin/python ] || python3 -m venv .venv
  stamp=".venv/.installed-$(basename "$requirements")"
  if [ ! -f "$stamp" ] || ! cmp -s <(cat requirements*.txt) "$stamp"; then
    .venv/bin/pip install --disable-pip-version-check -q -r "$requirements" 2>&1 | grep -v "is ignored" || true
    .venv/bin/pip check >/dev/null
    cat requirements*.txt > "$stamp"
  fi
}
