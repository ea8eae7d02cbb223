#!/usr/bin/env bash
# The realistic example (docs/immutable-host.md): an immutable Debian 12 host, built with development
# keys into examples/debian/out (or $1) and verified offline, like examples/build.sh:
#   1. the root tarball: $CAIRN_DEBIAN_ROOTFS when set (e.g. the test fixture
#      /opt/cairn-fixtures/debian-bookworm-minbase.tar), else debootstrap --variant=minbase through
#      src-test-fixtures/debian-rootfs.sh into OUT/rootfs/ (about 30 s with a nearby mirror);
#   2. the systemd initramfs: initrd.sh (Debian's dracut in a chroot of that tarball; cached);
#   3. cairn build image.yaml: OUT/disk.raw (GPT: ESP with the signed UKI and the system extension
#      hello, dm-verity root, hash, signature), OUT/extensions/hello.raw; then cairn verify.
# Needs root (debootstrap, chroot) and Debian's 6.12 kernel (/boot/vmlinuz-6.12.*+deb12-amd64).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
cairn="${CAIRN:-$(cd "$here/../.." && pwd)/cairn}"
out="${1:-$here/out}"
mkdir -p "$out"
out="$(cd "$out" && pwd)"

tarball="${CAIRN_DEBIAN_ROOTFS:-}"
if [ -z "$tarball" ]; then
  bash "$here/../../src-test-fixtures/debian-rootfs.sh" "$out/rootfs"
  tarball="$out/rootfs/debian-bookworm-minbase.tar"
fi
tarball="$(cd "$(dirname "$tarball")" && pwd)/$(basename "$tarball")"
mkdir -p "$here/inputs"
ln -sfn "$tarball" "$here/inputs/rootfs.tar"
CAIRN_DEBIAN_ROOTFS="$tarball" bash "$here/initrd.sh" "$here/inputs/initrd.img"

"$cairn" build "$here/image.yaml" --out "$out"
"$cairn" verify "$out" --ca "$out/dev-keys/ca.crt" --db-cert "$out/dev-keys/secureboot/db.crt"
echo "Boot it with Secure Boot on and these development keys enrolled: $cairn boot $out (docs/immutable-host.md)"
