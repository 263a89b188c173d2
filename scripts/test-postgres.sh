#!/usr/bin/env bash
# A throwaway PostgreSQL server for the shared-store tests (Tests/RigorStorePostgresTests).
#
#   scripts/test-postgres.sh start DIR   initdb a cluster in DIR, start it on a free localhost
#                                        port, create database "rigor"; prints the store URL
#   scripts/test-postgres.sh stop DIR    stop it and remove DIR
#
# The server runs as the `postgres` user when this runs as root (initdb refuses root), with
# trust authentication on 127.0.0.1 only, fsync off (a test cluster holds nothing to keep),
# and its socket in DIR. Needs Debian's postgresql package (make deps installs it).
set -euo pipefail
command="${1:-}"; dir="${2:-}"

# Close every descriptor inherited beyond stdin, stdout and stderr: the server daemon would keep
# them open for its whole life, and a caller that reads a pipe to its end (a test process that
# spawns other commands on other threads meanwhile) would then wait forever.
for fd in /proc/$$/fd/*; do
  fd="${fd##*/}"
  if [ "$fd" -gt 2 ] 2>/dev/null; then eval "exec $fd>&-" 2>/dev/null || true; fi
done
[ -n "$command" ] && [ -n "$dir" ] || { echo "usage: $0 start|stop DIR" >&2; exit 2; }

bindir=""
for candidate in "$(command -v pg_config >/dev/null 2>&1 && pg_config --bindir || true)" /usr/lib/postgresql/*/bin; do
  if [ -n "$candidate" ] && [ -x "$candidate/initdb" ] && [ -x "$candidate/pg_ctl" ]; then bindir="$candidate"; fi
done
[ -n "$bindir" ] || { echo "no PostgreSQL server found (initdb, pg_ctl): install Debian's postgresql package (make deps)" >&2; exit 3; }

as_owner() {
  if [ "$(id -u)" = 0 ]; then
    id postgres >/dev/null 2>&1 || useradd --system --no-create-home postgres
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

case "$command" in
  start)
    mkdir -p "$dir"
    [ "$(id -u)" = 0 ] && chown postgres "$dir"
    chmod 700 "$dir"
    as_owner "$bindir/initdb" -D "$dir/data" -U postgres -A trust -E UTF8 --no-locale >"$dir/initdb.log" 2>&1 \
      || { cat "$dir/initdb.log" >&2; exit 1; }
    # A free port: ask the kernel for one, then hand it to the server (a race with another
    # process taking it in between is retried).
    for attempt in 1 2 3 4 5; do
      port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')
      if as_owner "$bindir/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 30 \
           -o "-c listen_addresses=127.0.0.1 -p $port -k $dir -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=100" \
           start >/dev/null 2>&1; then
        as_owner "$bindir/createdb" -h 127.0.0.1 -p "$port" -U postgres rigor
        echo "postgres://postgres@127.0.0.1:$port/rigor"
        exit 0
      fi
    done
    cat "$dir/server.log" >&2; exit 1 ;;
  stop)
    [ -d "$dir/data" ] && as_owner "$bindir/pg_ctl" -D "$dir/data" -m immediate -w stop >/dev/null 2>&1 || true
    rm -rf "$dir" ;;
  *) echo "usage: $0 start|stop DIR" >&2; exit 2 ;;
esac
