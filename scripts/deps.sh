#!/usr/bin/env bash
# Installs the Debian packages taojin needs, only those missing.
# Runs `apt-get update` first (a fresh machine's package lists are stale).
set -euo pipefail
PKGS=(
  build-essential pkg-config clang libclang-rt-14-dev
  libyaml-dev libcjson-dev zlib1g-dev libcurl4-openssl-dev
  libuchardet-dev libxml2-dev libutf8proc-dev libpcre2-dev
  libopencc1.1 opencc libsqlite3-dev sqlite3 libpq-dev postgresql
  libhiredis-dev redis-server libcmocka-dev libmicrohttpd-dev
  libtcmalloc-minimal4
  python3 python3-lxml ca-certificates openssl tzdata curl
)
missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' \
    || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "deps: all ${#PKGS[@]} packages present"
  exit 0
fi
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || { echo "deps: need root or sudo to install: ${missing[*]}" >&2; exit 1; }
  SUDO=sudo
fi
echo "deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" </dev/null
