#!/usr/bin/env bash
# A real S3 server for the tests: Ceph's RADOS Gateway with its standalone
# dbstore (SQLite) backend, no Ceph cluster, bound to 127.0.0.1 (or the one
# address a test gives, such as a veth address other network namespaces reach).
#
#   scripts/rgw.sh install          debootstrap trixie + radosgw into $KBUILD_CACHE_DIR/rgw-root (once, cached)
#   scripts/rgw.sh start NAME PORT [ADDR]
#                                   start a gateway whose data lives in rgw-root/var/lib/kbuild-rgw/NAME,
#                                   with the user $RGW_ACCESS_KEY/$RGW_SECRET_KEY, listening on ADDR
#                                   (default 127.0.0.1); returns once it answers
#   scripts/rgw.sh stop NAME        stop that gateway and delete its data
#   scripts/rgw.sh image            import rgw-root as kbuild/rgw:trixie (deploy/compose.yaml uses kbuild/rgw:latest from `kbuild images build --farm`)
#
# The gateway runs chrooted in a private mount namespace (unshare -m), so the
# /proc and /dev it needs vanish with it and the cached tree stays clean.
# The Debian mirror is the host's own (read by the Debian builder from apt's sources).
set -euo pipefail
cd "$(dirname "$0")/.."

CACHE="${KBUILD_CACHE_DIR:-/var/cache/kbuild}"
ROOT="$CACHE/rgw-root"
RGW_ACCESS_KEY="${RGW_ACCESS_KEY:-KBUILDTESTACCESSKEY0}"
RGW_SECRET_KEY="${RGW_SECRET_KEY:-kbuild-test-secret-key-0000000000000000}"

die() { echo "rgw: $*" >&2; exit 1; }

# Runs a command chrooted in ROOT with /proc and /dev mounted only for it.
in_root() {
  ${IN_ROOT_EXEC:+exec} unshare --mount --propagation private -- /bin/sh -c '
    root=$1; shift
    mount -t proc proc "$root/proc" && mount --rbind /dev "$root/dev" || exit 97
    exec chroot "$root" "$@"' sh "$ROOT" "$@"
}

mirror() {
  [ -f dist/builders/debian/mirror.js ] || npm run --silent build >&2
  node --input-type=module -e "const m = await import('./dist/builders/debian/mirror.js'); console.log((await m.findMirror()).url)"
}

install_root() {
  mkdir -p "$CACHE"
  [ -x "$ROOT/usr/bin/radosgw" ] && return 0
  # Held until this script exits (a gateway started later must not inherit it: see start).
  exec 9>"$CACHE/rgw-root.lock"
  flock 9
  [ -x "$ROOT/usr/bin/radosgw" ] && return 0
  command -v debootstrap >/dev/null || die "debootstrap is missing (scripts/setup.sh installs it)"
  local url tmp
  url=$(mirror)
  tmp="$ROOT.tmp-$$"
  rm -rf "$tmp"
  trap 'rm -rf "$tmp"' EXIT
  echo "rgw: debootstrap trixie into $ROOT (once; about 3 minutes)" >&2
  debootstrap --variant=minbase trixie "$tmp" "$url" >"$CACHE/rgw-root.debootstrap.log" 2>&1 ||
    die "debootstrap failed, see $CACHE/rgw-root.debootstrap.log"
  # No daemons may start inside the chroot while packages install.
  printf '#!/bin/sh\nexit 101\n' >"$tmp/usr/sbin/policy-rc.d"
  chmod 755 "$tmp/usr/sbin/policy-rc.d"
  ROOT="$tmp" in_root /bin/sh -c 'export DEBIAN_FRONTEND=noninteractive; apt-get update -qq && apt-get install -y -qq --no-install-recommends radosgw ceph-common >/dev/null' ||
    die "apt-get install radosgw failed in $tmp"
  in_root_clean "$tmp"
  mv "$tmp" "$ROOT"
  trap - EXIT
}

in_root_clean() { rm -rf "$1"/var/cache/apt/archives/*.deb "$1"/var/lib/apt/lists/*_Packages; }

start() {
  local name=$1 port=$2 addr=${3:-127.0.0.1}
  [[ "$name" =~ ^[A-Za-z0-9_-]+$ ]] || die "bad run name '$name'"
  [[ "$port" =~ ^[0-9]+$ ]] || die "bad port '$port'"
  [[ "$addr" =~ ^[0-9]+\.[0-9]+\.[0-9]+\.[0-9]+$ ]] || die "bad address '$addr'"
  install_root
  local rel="/var/lib/kbuild-rgw/$name" dir="$ROOT/var/lib/kbuild-rgw/$name"
  # Data of runs whose gateway is gone (a test killed before its stop) is removed after an hour.
  local old
  for old in "$ROOT"/var/lib/kbuild-rgw/*/; do
    [ -d "$old" ] || continue
    if ! kill -0 "$(cat "$old/pid" 2>/dev/null || echo 0)" 2>/dev/null && [ -n "$(find "$old" -maxdepth 0 -mmin +60)" ]; then rm -rf "$old"; fi
  done
  rm -rf "$dir"
  mkdir -p "$dir/db" "$dir/run"
  cat >"$dir/ceph.conf" <<EOF
[global]
run_dir = $rel/run
admin_socket = $rel/run/\$name.asok
log_file = $rel/\$name.log
[client.rgw]
rgw_backend_store = dbstore
rgw_config_store = dbstore
dbstore_db_dir = $rel/db
rgw_frontends = beast endpoint=$addr:$port
rgw_enable_usage_log = false
EOF
  # radosgw-admin sometimes hangs on exit after doing its work (seen with dbstore):
  # wait for the user to exist, give it a moment to exit, then end it.
  (exec 9>&-; IN_ROOT_EXEC=1 in_root radosgw-admin -c "$rel/ceph.conf" --no-mon-config -n client.rgw user create \
    --uid kbuild-test --display-name "kbuild tests" --access-key "$RGW_ACCESS_KEY" --secret "$RGW_SECRET_KEY") \
    >"$dir/user.json" 2>"$dir/admin.log" &
  local admin=$! created=
  for _ in $(seq 1 300); do
    grep -q "\"access_key\": \"$RGW_ACCESS_KEY\"" "$dir/user.json" 2>/dev/null && created=1
    kill -0 "$admin" 2>/dev/null || break
    [ -n "$created" ] && { sleep 2; kill -KILL "$admin" 2>/dev/null || true; break; }
    sleep 0.1
  done
  wait "$admin" 2>/dev/null || true
  grep -q "\"access_key\": \"$RGW_ACCESS_KEY\"" "$dir/user.json" || die "radosgw-admin user create failed: $(tail -5 "$dir/admin.log")"
  # exec all the way down (subshell -> unshare -> sh -> chroot -> radosgw): $! is radosgw's pid.
  (exec 9>&-; IN_ROOT_EXEC=1 in_root radosgw -f --no-mon-config -n client.rgw -c "$rel/ceph.conf") >"$dir/stdout.log" 2>&1 &
  echo $! >"$dir/pid"
  for _ in $(seq 1 300); do
    if curl -fsS -o /dev/null "http://$addr:$port/" 2>/dev/null; then return 0; fi
    kill -0 "$(cat "$dir/pid")" 2>/dev/null || die "radosgw exited: $(tail -20 "$dir/stdout.log")"
    sleep 0.2
  done
  die "radosgw did not answer on $addr:$port within 60 s"
}

stop() {
  local name=$1
  [[ "$name" =~ ^[A-Za-z0-9_-]+$ ]] || die "bad run name '$name'"
  local dir="$ROOT/var/lib/kbuild-rgw/$name"
  if [ -f "$dir/pid" ]; then
    local pid
    pid=$(cat "$dir/pid")
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
  fi
  rm -rf "$dir"
}

# The same root as an image for deploy/compose.yaml's s3 service (no registry needed), without test runs' data.
image() {
  install_root
  tar --numeric-owner -C "$ROOT" --exclude=./var/lib/kbuild-rgw -c . | docker import - kbuild/rgw:trixie
}

case "${1:-}" in
  install) install_root ;;
  image) image ;;
  start) [ $# -eq 3 ] || [ $# -eq 4 ] || die "usage: $0 start NAME PORT [ADDR]"; start "$2" "$3" "${4:-127.0.0.1}" ;;
  stop) [ $# -eq 2 ] || die "usage: $0 stop NAME"; stop "$2" ;;
  *) die "usage: $0 install | image | start NAME PORT [ADDR] | stop NAME" ;;
esac
