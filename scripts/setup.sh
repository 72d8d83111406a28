#!/usr/bin/env bash
# Installs what kbuild needs on Debian 12 (as root) and builds the project.
# Safe to run again: it installs only what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

PACKAGES=(clang llvm bpftool dwarves libbpf-dev dpkg-dev binutils xz-utils lz4 zstd ca-certificates gpgv gnupg debian-archive-keyring
  debootstrap curl)  # the last line: the S3 test server (scripts/rgw.sh)

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

# Big downloads (header packages, kernel images) are cached outside the clone.
mkdir -p "${KBUILD_CACHE_DIR:-/var/cache/kbuild}"

if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund --loglevel=warn
fi
npm run --silent build
