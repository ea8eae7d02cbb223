#!/usr/bin/env bash
# Builds the systemd initramfs of the Debian example (examples/debian/image.yaml) with Debian 12's own
# dracut (059, package dracut-core) and systemd (252), run in a chroot of the Debian root tarball, never
# on the build host:
#   dracut --no-hostonly --reproducible --no-early-microcode --compress zstd --kver KVER \
#     -m "bash systemd systemd-initrd systemd-udevd udev-rules systemd-modules-load systemd-veritysetup dm cairn" \
#     --drivers "<modules-load.conf + dm_mod>"
# The kernel modules come from the build host's /lib/modules/KVER (Debian's 6.12 kernel, bind-mounted
# read-only into the chroot); the dracut module dracut/90cairn adds the IPE unit and the modules-load list.
# The result boots a cairn DDI the way systemd expects: roothash= on the command line,
# systemd-veritysetup-generator opens /dev/disk/by-partuuid/<first 128 bits> with the hash partition
# /dev/disk/by-partuuid/<last 128 bits> as /dev/mapper/root, systemd-fstab-generator mounts it on
# /sysroot (no root=), then switch-root. cairn build appends etc/cairn/roothash.p7s and
# etc/ipe/policy.p7s as a second cpio.
#
# Usage: examples/debian/initrd.sh OUT.img
# Environment: CAIRN_DEBIAN_ROOTFS   the root tarball (default /opt/cairn-fixtures/debian-bookworm-minbase.tar)
#              CAIRN_DEBIAN_KVER     kernel release (default: the newest /boot/vmlinuz-6.12.*+deb12-amd64)
#              SOURCE_DATE_EPOCH     mtimes in the cpio (default 1700000000)
#              CAIRN_CACHE           cache directory (default ${XDG_CACHE_HOME:-$HOME/.cache}/cairn/debian-initrd)
# The result is cached under a key over every input (the tarball's digest, the kernel release and its
# modules.dep, this script, the dracut module, the epoch); a hit is a copy. Needs root (chroot, mounts)
# and network access to the Debian mirror of the tarball's sources.list (apt-get install dracut-core zstd).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
out="${1:?usage: initrd.sh OUT.img}"
tarball="${CAIRN_DEBIAN_ROOTFS:-/opt/cairn-fixtures/debian-bookworm-minbase.tar}"
epoch="${SOURCE_DATE_EPOCH:-1700000000}"
cache="${CAIRN_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/cairn/debian-initrd}"
kver="${CAIRN_DEBIAN_KVER:-}"
if [ -z "$kver" ]; then
  k=$(ls /boot/vmlinuz-6.12.*+deb12-amd64 2>/dev/null | sort -V | tail -n 1 || true)
  [ -n "$k" ] || { echo "initrd.sh: no /boot/vmlinuz-6.12.*+deb12-amd64 (apt-get install linux-image-6.12.N+deb12-amd64 from bookworm-security, see apt-cache search linux-image-6.12; or set CAIRN_DEBIAN_KVER)" >&2; exit 3; }
  kver=${k#/boot/vmlinuz-}
fi
moddir="/lib/modules/$kver"
[ -f "$moddir/modules.dep" ] || { echo "initrd.sh: $moddir/modules.dep missing" >&2; exit 3; }
[ -f "$tarball" ] || { echo "initrd.sh: root tarball $tarball missing (src-test-fixtures/debian-rootfs.sh makes it; examples/debian/build.sh runs it)" >&2; exit 3; }
modules="bash systemd systemd-initrd systemd-udevd udev-rules systemd-modules-load systemd-veritysetup dm cairn"
drivers="dm_mod $(grep -v "^#" "$here/dracut/90cairn/modules-load.conf" | tr "\n" " ")"

key=$( {
  echo "cairn debian initrd v1"
  echo "kver=$kver epoch=$epoch"
  echo "modules=$modules"
  echo "drivers=$drivers"
  sha256sum "$tarball" | cut -d' ' -f1
  sha256sum "$moddir/modules.dep" | cut -d' ' -f1
  sha256sum "$0" | cut -d' ' -f1
  (cd "$here/dracut" && find . -type f | LC_ALL=C sort | xargs sha256sum)
} | sha256sum | cut -d' ' -f1)
if [ -s "$cache/$key.img" ]; then
  cp "$cache/$key.img" "$out.tmp" && mv -f "$out.tmp" "$out"
  echo "initrd.sh: $out from the cache ($key)"
  exit 0
fi
if [ "$(id -u)" != 0 ]; then
  echo "initrd.sh: needs root (chroot and bind mounts)" >&2
  exit 1
fi

start=$(date +%s)
mkdir -p "$cache"
work="$(mktemp -d "$cache/.work.XXXXXX")"
root="$work/root"
cleanup() {
  local m busy=""
  for m in "$root$moddir" "$root/dev" "$root/sys" "$root/proc"; do
    if mountpoint -q "$m" 2>/dev/null; then
      umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null || true
      mountpoint -q "$m" 2>/dev/null && busy="$busy $m"
    fi
  done
  if [ -n "$busy" ]; then
    # never delete through a bind mount of the host's /dev or /lib/modules
    echo "initrd.sh: still mounted:$busy; left $work in place (umount them, then remove it)" >&2
    return
  fi
  rm -rf --one-file-system "$work" "$out.tmp"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
mkdir "$root"
tar --xattrs --xattrs-include='*' --numeric-owner -xpf "$tarball" -C "$root"
mount -t proc proc "$root/proc"
mount --bind /dev "$root/dev"
mount -t sysfs sysfs "$root/sys"
mkdir -p "$root$moddir"
mount --bind -o ro "$moddir" "$root$moddir"
cp -L /etc/resolv.conf "$root/etc/resolv.conf"
chroot "$root" /usr/bin/env DEBIAN_FRONTEND=noninteractive sh -c \
  'apt-get update -q && apt-get install -y -q --no-install-recommends dracut-core zstd' > "$work/apt.log" 2>&1 || {
  tail -n 30 "$work/apt.log" >&2
  exit 1
}
cp -r "$here/dracut/90cairn" "$root/usr/lib/dracut/modules.d/"
chmod 755 "$root/usr/lib/dracut/modules.d/90cairn/"*.sh
chroot "$root" /usr/bin/env SOURCE_DATE_EPOCH="$epoch" LANG=C.UTF-8 \
  dracut --no-hostonly --no-hostonly-cmdline --reproducible --no-early-microcode --nofscks \
  --compress zstd --kver "$kver" --force -m "$modules" --drivers "$drivers" \
  /tmp/initrd.img > "$work/dracut.log" 2>&1 || {
  tail -n 40 "$work/dracut.log" >&2
  exit 1
}
dracut_version=$(chroot "$root" dpkg-query -W -f '${Version}' dracut-core)
# Zero-pad to a multiple of 512 bytes: the kernel reads a cpio appended after a compressed one only
# when it starts 4-byte aligned (init/initramfs.c unpack_to_rootfs skips zeros between archives).
truncate -s %512 "$root/tmp/initrd.img"
cp "$root/tmp/initrd.img" "$cache/.$key.img" && mv -f "$cache/.$key.img" "$cache/$key.img"
cp "$cache/$key.img" "$out.tmp" && mv -f "$out.tmp" "$out"
echo "initrd.sh: $out ($(du -h "$out" | cut -f1), dracut $dracut_version, kernel $kver) in $(( $(date +%s) - start )) s"
