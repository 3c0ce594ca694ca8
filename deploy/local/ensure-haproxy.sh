#!/usr/bin/env bash
# HAProxy, the load balancer of the scale-out test (tests/e2e/test_scale_out.py), from Debian's
# packages when it is missing and this runs as root with apt-get (CI, containers). Elsewhere
# the test is skipped and says why. With --required (CI) a HAProxy that cannot be had fails.
set -euo pipefail

found() { command -v haproxy >/dev/null || [ -x /usr/sbin/haproxy ]; }
found && exit 0

if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null; then
  echo "HAProxy is missing; installing Debian's haproxy package (the scale-out test needs it)"
  export DEBIAN_FRONTEND=noninteractive
  install() { apt-get install -y -qq --no-install-recommends haproxy >/dev/null; }
  # a fresh machine may have no package lists yet
  install 2>/dev/null || { apt-get update -qq >/dev/null && install; } || true
fi
found && exit 0

problem="HAProxy is not installed and could not be (that needs root and apt-get)"
if [ "${1:-}" = "--required" ]; then
  echo "$problem" >&2
  exit 1
fi
echo "$problem: the scale-out test will be skipped. Install it: sudo apt-get install haproxy" >&2
