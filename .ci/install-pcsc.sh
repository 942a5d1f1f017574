#!/usr/bin/env bash
# Installs what the PC/SC end-to-end tests need, on Debian or Ubuntu: pcscd, vsmartcard's vpcd
# reader driver, pcsc-tools (scriptor, pcsc_scan) and libpcsclite-dev (headers for nfc-pcsc's
# native addon). Idempotent and quiet: does nothing when all are installed; prints apt's output
# only when it fails. Runs as root (CI), or through sudo.
set -euo pipefail

packages=(pcscd vsmartcard-vpcd pcsc-tools libpcsclite-dev)

if ! command -v dpkg-query >/dev/null || ! command -v apt-get >/dev/null; then
  echo "install-pcsc: needs dpkg and apt-get (Debian/Ubuntu); install ${packages[*]} by hand" >&2
  exit 1
fi

missing=()
for package in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$package")
  fi
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "install-pcsc: ${packages[*]} already installed"
  exit 0
fi

sudo=()
if [ "$(id -u)" -ne 0 ]; then sudo=(sudo); fi
log=$(mktemp)
trap 'rm -f "$log"' EXIT
echo "install-pcsc: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
if ! { "${sudo[@]}" apt-get update -qq && "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"; } >"$log" 2>&1; then
  cat "$log" >&2
  echo "install-pcsc: apt-get failed" >&2
  exit 1
fi
