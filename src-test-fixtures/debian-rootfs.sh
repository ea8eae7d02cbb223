#!/usr/bin/env bash
# Builds a Debian 12 (bookworm) minbase root file system with systemd, udev, kmod, iputils-ping
# (so that files carry capabilities: /usr/bin/ping has security.capability cap_net_raw=ep) and the TPM
# libraries systemd loads for its PCR phase measurements (systemd-pcrphase; examples/debian boots it), and
# dmsetup (the device-mapper tables of the verity root and extensions, read by DebianHostBootIT),
# and packs it, extended attributes and numeric owners included, as OUTDIR/debian-bookworm-minbase.tar:
#   debootstrap --variant=minbase --include=$INCLUDE bookworm DIR MIRROR
#   tar --xattrs --xattrs-include='*' --numeric-owner -cpf debian-bookworm-minbase.tar -C DIR .
# MIRROR is the first Debian mirror of this machine's apt sources (deb.debian.org otherwise).
# Unpack with: tar --xattrs --xattrs-include='*' --numeric-owner -xpf debian-bookworm-minbase.tar -C DEST (as root).
# Used by the squashfs IT DebianRootfsIT, SelinuxLabelIT and the Debian host example (examples/debian/build.sh,
# DebianHostBootIT); .ci/run runs it once into /opt/cairn-fixtures, the tests find it there (or at
# -Dcairn.debian.rootfs=TAR, CAIRN_DEBIAN_ROOTFS=TAR for the example).
# Needs root and debootstrap. Idempotent: does nothing when the tarball exists and was made from the same
# package list (recorded beside it in debian-bookworm-minbase.tar.include); writes it atomically
# (temp file + rename), so an interrupted run leaves no half tarball behind.
# Usage: src-test-fixtures/debian-rootfs.sh [OUTDIR]   (default /opt/cairn-fixtures)
set -euo pipefail
OUT="${1:-/opt/cairn-fixtures}"
TAR="$OUT/debian-bookworm-minbase.tar"
INCLUDE=systemd,systemd-sysv,udev,kmod,iputils-ping,dmsetup,libtss2-esys-3.0.2-0,libtss2-rc0,libtss2-tcti-device0
if [ -s "$TAR" ] && [ "$(cat "$TAR.include" 2>/dev/null)" = "$INCLUDE" ]; then
  exit 0
fi
if [ "$(id -u)" != 0 ]; then
  echo "debian-rootfs.sh: debootstrap needs root" >&2
  exit 1
fi
command -v debootstrap >/dev/null || { echo "debian-rootfs.sh: debootstrap missing (apt-get install debootstrap)" >&2; exit 1; }

mirror=""
for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.sources /etc/apt/sources.list.d/*.list; do
  [ -f "$f" ] || continue
  # one-line format: deb [opts] URI suite ...; deb822: URIs: URI (the first Debian archive, not -security)
  mirror=$(awk '
    /^[[:space:]]*deb[[:space:]]/ { for (i = 2; i <= NF; i++) if ($i ~ /^https?:\/\//) { print $i; exit } }
    /^[[:space:]]*URIs:/ { for (i = 2; i <= NF; i++) if ($i ~ /^https?:\/\//) { print $i; exit } }
  ' "$f" | grep -v -e security -e nodesource -e google | head -n 1 || true)
  [ -n "$mirror" ] && break
done
mirror="${mirror:-http://deb.debian.org/debian}"

mkdir -p "$OUT"
WORK="$(mktemp -d "$OUT/.debian-rootfs.XXXXXX")"
cleanup() {
  # debootstrap mounts proc and sys in the target and may leave them mounted when it fails: unmount what is
  # still mounted below WORK (deepest first) and never delete across a file system boundary
  local m
  for m in $(awk -v w="$WORK/" 'index($2, w) == 1 { print $2 }' /proc/self/mounts | sort -r); do
    umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null || true
  done
  rm -rf --one-file-system "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
debootstrap --variant=minbase --include="$INCLUDE" \
  bookworm "$WORK/root" "$mirror" > "$WORK/debootstrap.log" 2>&1 || {
  tail -n 30 "$WORK/debootstrap.log" >&2
  exit 1
}
# the capability the tests look for must have survived debootstrap (setcap in iputils-ping's postinst)
if ! getfattr -h -n security.capability "$WORK/root/usr/bin/ping" >/dev/null 2>&1; then
  echo "debian-rootfs.sh: /usr/bin/ping has no security.capability after debootstrap" >&2
  exit 1
fi
tar --xattrs --xattrs-include='*' --numeric-owner -cpf "$WORK/rootfs.tar" -C "$WORK/root" .
mv "$WORK/rootfs.tar" "$TAR.tmp"
mv -f "$TAR.tmp" "$TAR"
echo "$INCLUDE" > "$TAR.include.tmp" && mv -f "$TAR.include.tmp" "$TAR.include"
echo "debian-rootfs.sh: wrote $TAR ($(du -h "$TAR" | cut -f1))"
