#!/usr/bin/env bash
# Starts (or stops) a Docker engine for kbuild when none is reachable.
#   scripts/dockerd.sh start   # prints "started" or "running" (an engine was already there)
#   scripts/dockerd.sh stop    # stops only an engine this script started (pid file)
#   scripts/dockerd.sh status  # exit 0 when the engine answers
# The engine listens on a unix socket only (no TCP). Builds run with no
# network at all, so the default bridge and iptables rules are not needed;
# `docker build` of the builder images uses the host network to reach the
# Debian archive. Images live under the kbuild cache so a second run is fast.
set -euo pipefail

CACHE="${KBUILD_CACHE_DIR:-/var/cache/kbuild}"
DATA_ROOT="${KBUILD_DOCKER_DATA_ROOT:-$CACHE/docker-root}"
STATE="${KBUILD_DOCKER_STATE:-/run/kbuild-dockerd}"
SOCKET="${KBUILD_DOCKER_SOCKET:-/var/run/docker.sock}"
PIDFILE="$STATE/dockerd.pid"
LOG="$STATE/dockerd.log"

answers() {
  # `docker` may be absent; curl is not guaranteed either, so ask with the engine's own CLI when there.
  if [ -n "${DOCKER_HOST:-}" ]; then
    command -v docker >/dev/null && timeout 5 docker version >/dev/null 2>&1
  else
    [ -S "$SOCKET" ] && timeout 5 docker -H "unix://$SOCKET" version >/dev/null 2>&1
  fi
}

start() {
  if answers; then echo running; return 0; fi
  if [ -n "${DOCKER_HOST:-}" ]; then
    echo "dockerd.sh: DOCKER_HOST=$DOCKER_HOST does not answer; unset it to start a local engine" >&2
    return 1
  fi
  command -v dockerd >/dev/null || { echo "dockerd.sh: dockerd is not installed (run scripts/setup.sh)" >&2; return 1; }
  mkdir -p "$STATE" "$DATA_ROOT"
  # A stale socket from a killed engine would make dockerd refuse to start.
  if [ -S "$SOCKET" ]; then rm -f "$SOCKET"; fi
  setsid dockerd \
    --host "unix://$SOCKET" \
    --data-root "$DATA_ROOT" \
    --exec-root "$STATE/exec" \
    --pidfile "$PIDFILE" \
    --iptables=false --ip-masq=false --bridge=none \
    --log-level warn \
    >"$LOG" 2>&1 </dev/null &
  for _ in $(seq 1 60); do
    if answers; then echo started; return 0; fi
    sleep 0.5
  done
  echo "dockerd.sh: dockerd did not answer within 30s; see $LOG" >&2
  tail -n 20 "$LOG" >&2 || true
  return 1
}

stop() {
  [ -f "$PIDFILE" ] || { echo "not started by this script"; return 0; }
  pid=$(cat "$PIDFILE")
  if kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid"
    for _ in $(seq 1 60); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
    if kill -0 "$pid" 2>/dev/null; then kill -KILL "$pid"; fi
  fi
  rm -f "$PIDFILE"
  echo stopped
}

case "${1:-start}" in
  start) start ;;
  stop) stop ;;
  status) answers ;;
  *) echo "usage: $0 start|stop|status" >&2; exit 2 ;;
esac
