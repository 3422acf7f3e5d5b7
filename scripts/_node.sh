# Sourced by scripts/test: lint the site's JavaScript with the ESLint pinned in package-lock.json,
# running `npm ci` only when node_modules is missing or was installed from another lock file.
lint_javascript() {
  local stamp=node_modules/.installed-package-lock.json
  if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
    if [ "${CI:-}" = true ]; then
      echo "CI=true but Node.js and npm are missing: the JavaScript cannot be linted" >&2
      return 1
    fi
    echo "Node.js (20 or later) and npm are missing: the JavaScript is not linted" >&2
    return 0
  fi
  if [ ! -f "$stamp" ] || ! cmp -s package-lock.json "$stamp"; then
    npm ci --no-audit --no-fund --loglevel=error >/dev/null
    cp package-lock.json "$stamp"
  fi
  npx --no-install eslint static/js
}
