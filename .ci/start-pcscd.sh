#!/usr/bin/env bash
# Starts pcscd in the background so that vpcd, vsmartcard's virtual reader driver loaded by pcscd
# from /etc/reader.conf.d/vpcd, listens for virtual cards (port 35963 for reader slot 0, 35964 for
# slot 1), and waits until it does. Idempotent: does nothing when vpcd already listens.
# The daemon's log goes to $PCSCD_LOG (default /tmp/pcscd.log). Needs root (pcscd's /run/pcscd).
set -euo pipefail

port=${VPCD_PORT:-35963}
log=${PCSCD_LOG:-/tmp/pcscd.log}
timeout_s=${PCSCD_START_TIMEOUT:-20}

# LISTEN (state 0A) on the port, any address, read from /proc: no connection made (vpcd would take
# a test connection for a card).
listening() {
  local hex
  hex=$(printf '%04X' "$port")
  awk -v port=":$hex" 'substr($2, length($2) - 4) == port && $4 == "0A" { found = 1 } END { exit !found }' \
    /proc/net/tcp /proc/net/tcp6 2>/dev/null
}

if listening; then
  echo "start-pcscd: vpcd already listens on port $port"
  exit 0
fi

pcscd=$(command -v pcscd || true)
for dir in /usr/sbin /sbin /usr/local/sbin; do
  if [ -z "$pcscd" ] && [ -x "$dir/pcscd" ]; then pcscd=$dir/pcscd; fi
done
if [ -z "$pcscd" ]; then
  echo "start-pcscd: pcscd not installed (run .ci/install-pcsc.sh)" >&2
  exit 1
fi
if ! grep -qs ifdvpcd /etc/reader.conf.d/*; then
  echo "start-pcscd: the vpcd driver is not configured in /etc/reader.conf.d (install vsmartcard-vpcd)" >&2
  exit 1
fi
if [ -s /run/pcscd/pcscd.pid ] && kill -0 "$(cat /run/pcscd/pcscd.pid)" 2>/dev/null; then
  echo "start-pcscd: pcscd (pid $(cat /run/pcscd/pcscd.pid)) runs but vpcd does not listen on port $port;" \
    "it was started before vsmartcard-vpcd was installed: restart it" >&2
  exit 1
fi

# Foreground mode in its own session: logs to a file (containers have no syslog), and it outlives
# this script and the CI step's shell.
setsid "$pcscd" --foreground --info </dev/null >"$log" 2>&1 &
pid=$!
for _ in $(seq 1 $((timeout_s * 10))); do
  if listening && [ -S /run/pcscd/pcscd.comm ]; then
    echo "start-pcscd: pcscd (pid $pid) started; vpcd listens on port $port; log in $log"
    exit 0
  fi
  if ! kill -0 "$pid" 2>/dev/null; then break; fi
  sleep 0.1
done
echo "start-pcscd: pcscd did not get vpcd listening on port $port within ${timeout_s}s; its log:" >&2
cat "$log" >&2
exit 1
