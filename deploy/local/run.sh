#!/usr/bin/env bash
# Start the API and the worker together in the foreground; Ctrl-C stops both.
# The worker is supervised: if it dies (e.g. Redis vanished), it is started again.
set -euo pipefail
cd "$(dirname "$0")/../.."
set -a; [ -f .env ] && . ./.env; set +a

host=${IID_HOST:-127.0.0.1}
port=${IID_PORT:-8000}
venv=.venv/bin

supervise_worker() {
  while true; do
    "$venv/python" -m iid_worker || true
    echo "worker stopped; restarting in 2 s" >&2
    sleep 2
  done
}

pids=()
stop() {
  trap - INT TERM EXIT
  echo; echo "stopping API and worker"
  for pid in "${pids[@]}"; do pkill -TERM -P "$pid" 2>/dev/null || true; kill -TERM "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
trap stop INT TERM EXIT

"$venv/python" -m iid_api &
pids+=($!)
supervise_worker &
pids+=($!)

echo
echo "IID API listening on http://$host:$port  (docs: http://$host:$port/docs)"
echo "worker running; Ctrl-C stops both"
echo
wait -n "${pids[0]}"
