# Sourced by scripts/test and bench/run: start a throwaway PostgreSQL cluster on a free port under /tmp and
# export EVENTREG_TEST_POSTGRES_URL for the tests; stop it when the shell exits.
start_test_postgres() {
  if [ -n "${EVENTREG_TEST_POSTGRES_URL:-}" ]; then return 0; fi
  local pgbin
  pgbin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1 || true)
  if [ -z "$pgbin" ] || [ ! -x "$pgbin/initdb" ]; then
    if [ "${CI:-}" = "true" ]; then
      echo "PostgreSQL server binaries not found (apt-get install postgresql)" >&2
      return 1
    fi
    echo "PostgreSQL not installed: PostgreSQL tests will be skipped (CI runs them)." >&2
    return 0
  fi
  PG_TMP=$(mktemp -d /tmp/eventreg-pg.XXXXXX)
  local port as_pg=()
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  if [ "$(id -u)" = "0" ]; then
    chown postgres:postgres "$PG_TMP"
    as_pg=(runuser -u postgres --)
  fi
  (cd /tmp && "${as_pg[@]}" "$pgbin/initdb" -D "$PG_TMP/data" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 >/dev/null)
  (cd /tmp && "${as_pg[@]}" "$pgbin/pg_ctl" -D "$PG_TMP/data" -l "$PG_TMP/server.log" -w \
    -o "-p $port -k $PG_TMP -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=300" start >/dev/null)
  PG_STOP=("${as_pg[@]}" "$pgbin/pg_ctl" -D "$PG_TMP/data" -m immediate -w stop)
  trap 'cd /tmp; "${PG_STOP[@]}" >/dev/null 2>&1 || true; rm -rf "$PG_TMP"' EXIT
  export EVENTREG_TEST_POSTGRES_URL="postgresql+psycopg://postgres@127.0.0.1:$port/postgres"
  echo "Started PostgreSQL on port $port for the tests."
}
