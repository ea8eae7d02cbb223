#!/usr/bin/env bash
# README command 1: build the bundled example image set (examples/image.yaml) with development
# keys into examples/out (or $1), then verify it offline. Installs Debian's stub, kernel, static
# busybox and veritysetup first when they are missing and this user may run apt-get.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
cairn="$here/../cairn"
out="${1:-$here/out}"

need=()
[ -f /usr/lib/systemd/boot/efi/linuxx64.efi.stub ] || need+=(systemd-boot-efi)
compgen -G '/boot/vmlinuz-6.1.*-amd64' >/dev/null || need+=(linux-image-amd64)
if [ ! -x /bin/busybox ] || ldd /bin/busybox >/dev/null 2>&1; then need+=(busybox-static); fi   # ldd fails on a static binary
[ -x /usr/sbin/veritysetup ] || need+=(cryptsetup-bin)
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    apt-get update -q && apt-get install -y -q "${need[@]}"
  elif command -v sudo >/dev/null && sudo -n true 2>/dev/null && command -v apt-get >/dev/null; then
    sudo apt-get update -q && sudo apt-get install -y -q "${need[@]}"
  else
    echo "examples/build.sh: missing Debian packages: ${need[*]}" >&2
    echo "install them with: sudo apt-get install ${need[*]}" >&2
    exit 3
  fi
fi

"$cairn" build "$here/image.yaml" --out "$out"
"$cairn" verify "$out" --ca "$out/dev-keys/ca.crt" --db-cert "$out/dev-keys/secureboot/db.crt"
echo "Boot it in QEMU with Secure Boot on and these development keys enrolled: $cairn boot $out (docs/build-local.md)"
