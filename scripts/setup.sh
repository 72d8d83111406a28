#!/usr/bin/env bash
# Installs what kbuild needs on Debian 12 (as root) and builds the project.
# Safe to run again: it installs only what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

PACKAGES=(clang llvm bpftool dwarves libbpf-dev gcc libc6-dev dpkg-dev binutils xz-utils lz4 zstd bzip2 make ca-certificates gpgv gnupg debian-archive-keyring
  rpm createrepo-c redis-server docker.io debootstrap curl
  # kbuild verify: QEMU (TCG) for both arches; the static guest loader links libbpf, libelf, zlib and zstd
  # (x86_64 from these packages; arm64 is cross-compiled against Debian's arm64 packages, which kbuild fetches itself).
  qemu-system-x86 qemu-system-arm libelf-dev zlib1g-dev libzstd-dev gcc-aarch64-linux-gnu libc6-dev-arm64-cross coreutils
  chromium) # chromium: the report's browser test (playwright-core drives Debian's build; it downloads none)

missing=()
for pkg in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || missing+=("$pkg")
done
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  missing+=(nodejs npm)
fi
if [ "${#missing[@]}" -gt 0 ]; then
  echo "setup: installing ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

node_major=$(node -p 'process.versions.node.split(".")[0]')
if [ "$node_major" -lt 18 ]; then
  echo "setup: Node.js >= 18 is required, found $(node --version)" >&2
  exit 1
fi

# The farm's tests (and `kbuild worker` by default) use Redis at 127.0.0.1:6379. Debian's package
# starts it as a service; where no service manager runs, start one bound to loopback, keeping nothing on disk.
if ! (exec 3<>/dev/tcp/127.0.0.1/6379) 2>/dev/null; then
  echo "setup: starting redis-server on 127.0.0.1:6379" >&2
  redis-server --bind 127.0.0.1 --port 6379 --save '' --appendonly no --daemonize yes >/dev/null
fi

# Big downloads (header packages, kernel images) are cached outside the clone.
mkdir -p "${KBUILD_CACHE_DIR:-/var/cache/kbuild}"

# The Docker executor's engine is not started here: `bash scripts/dockerd.sh start` starts one on the
# unix socket when none answers (the Docker tests do so themselves and stop what they started).

if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund --loglevel=warn
fi
npm run --silent build
