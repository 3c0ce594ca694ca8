#!/usr/bin/env bash
# Make sure PostgreSQL and Redis answer at the addresses the settings name. A local server that
# is installed but stopped is started; anything else is explained, and the script fails.
set -euo pipefail
cd "$(dirname "$0")/../.."
set -a; [ -f .env ] && . ./.env; set +a

database_url=${IID_DATABASE_URL:-postgresql+asyncpg://postgres@127.0.0.1:5432/iid}
redis_url=${IID_REDIS_URL:-redis://127.0.0.1:6379/0}

host_port() {  # URL -> "host port"
  python3 -c 'import sys, urllib.parse as u; p = u.urlsplit(sys.argv[1]); print(p.hostname or "127.0.0.1", p.port or int(sys.argv[2]))' "$1" "$2"
}
answers() { (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null; }
is_local() { [[ $1 == 127.0.0.1 || $1 == localhost || $1 == ::1 ]]; }
wait_for() {
  for _ in $(seq 1 60); do answers "$1" "$2" && return 0; sleep 0.5; done
  return 1
}

read -r pg_host pg_port < <(host_port "$database_url" 5432)
read -r redis_host redis_port < <(host_port "$redis_url" 6379)

if ! answers "$pg_host" "$pg_port"; then
  if is_local "$pg_host" && command -v pg_ctlcluster >/dev/null && [ -d /etc/postgresql ]; then
    echo "PostgreSQL is not answering on $pg_host:$pg_port; starting the local cluster"
    pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n 1)" main start || true
  fi
  if ! wait_for "$pg_host" "$pg_port"; then
    cat >&2 <<MSG
PostgreSQL is not answering on $pg_host:$pg_port.
  - Debian/Ubuntu: sudo apt-get install postgresql   (then run this command again)
  - or point IID_DATABASE_URL (environment or .env) at a running server, e.g.
    IID_DATABASE_URL=postgresql+asyncpg://USER:PASSWORD@HOST:5432/iid
MSG
    exit 1
  fi
fi

if ! answers "$redis_host" "$redis_port"; then
  if is_local "$redis_host" && command -v redis-server >/dev/null; then
    echo "Redis is not answering on $redis_host:$redis_port; starting a local redis-server"
    redis-server --daemonize yes --bind 127.0.0.1 --port "$redis_port" --save "" --appendonly no >/dev/null
  fi
  if ! wait_for "$redis_host" "$redis_port"; then
    cat >&2 <<MSG
Redis is not answering on $redis_host:$redis_port.
  - Debian/Ubuntu: sudo apt-get install redis-server   (then run this command again)
  - or point IID_REDIS_URL (environment or .env) at a running server, e.g.
    IID_REDIS_URL=redis://HOST:6379/0
MSG
    exit 1
  fi
fi
echo "PostgreSQL ($pg_host:$pg_port) and Redis ($redis_host:$redis_port) are answering"
