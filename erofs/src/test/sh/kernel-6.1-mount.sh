#!/usr/bin/env bash
# Boots Debian 12's 6.1 kernel (linux-image-6.1.*-amd64, as installed by .ci/run's linux-image-amd64)
# under QEMU (TCG) with a busybox initramfs, loop-mounts each EROFS image given as an argument there,
# and compares what 6.1 shows (ls -lnRa --full-time, SHA-256 of every file) with what the running
# kernel shows for the same image. Needs root (host mounts), qemu-system-x86, busybox-static.
# A manual check (not run by Maven): ErofsMountIT checks the running kernel's view against the tar.
# Usage: erofs/src/test/sh/kernel-6.1-mount.sh IMAGE.erofs...
set -euo pipefail
[ $# -gt 0 ] || { echo "usage: $0 IMAGE.erofs..." >&2; exit 2; }
KVER=$(ls /lib/modules | grep -E '^6\.1\.[0-9]+-[0-9]+-amd64$' | sort -V | tail -1)
[ -n "$KVER" ] || { echo "no Debian 12 6.1 kernel in /lib/modules" >&2; exit 2; }
K=/lib/modules/$KVER/kernel
W=$(mktemp -d)
trap 'umount "$W/mnt" 2>/dev/null || true; [ -n "${KEEP:-}" ] || rm -rf "$W"' EXIT
mkdir -p "$W"/root/{bin,img,mods,proc,sys,dev,mnt,tmp} "$W/mnt"
cp /bin/busybox "$W/root/bin/"
cp "$K/crypto/crc32c_generic.ko" "$K/lib/libcrc32c.ko" "$K/fs/erofs/erofs.ko" "$K/drivers/block/loop.ko" "$W/root/mods/"
i=0
for f in "$@"; do i=$((i + 1)); cp "$f" "$W/root/img/$i.erofs"; done
listing='ls -lnRa --full-time . | grep -v "^total" | grep -v " \.\.$"; find . -type f | sort | while read p; do sha256sum "$p"; done'
cat > "$W/root/init" <<INIT
#!/bin/busybox sh
/bin/busybox --install -s /bin
export PATH=/bin
mount -t proc p /proc; mount -t sysfs s /sys; mount -t devtmpfs d /dev
for m in crc32c_generic libcrc32c loop erofs; do insmod /mods/\$m.ko || echo "INSMOD-FAIL \$m"; done
for f in /img/*.erofs; do
  n=\$(basename \$f .erofs)
  if mount -t erofs -o loop,ro \$f /mnt; then
    (cd /mnt && $listing) > /tmp/\$n.txt 2>&1
    echo "TREE \$n \$(sha256sum /tmp/\$n.txt | cut -c1-64)"
    umount /mnt
  else
    echo "TREE \$n MOUNT-FAILED"
  fi
done
poweroff -f
INIT
chmod +x "$W/root/init"
(cd "$W/root" && find . | cpio -o -H newc 2>/dev/null | gzip > "$W/initrd.gz")
timeout 600 qemu-system-x86_64 -machine q35 -accel tcg -m 1024 -smp 1 -nographic -no-reboot \
  -kernel "/boot/vmlinuz-$KVER" -initrd "$W/initrd.gz" -append "console=ttyS0 panic=-1 quiet" > "$W/console.log" 2>&1 || true
grep -ao 'TREE .*' "$W/console.log" | tr -d '\r' | sort > "$W/guest.txt"
# the same busybox applets on the host (GNU ls/sha256sum print differently)
mkdir -p "$W/bb" && busybox --install -s "$W/bb"
i=0
for f in "$@"; do
  i=$((i + 1))
  mount -t erofs -o loop,ro "$f" "$W/mnt"
  (cd "$W/mnt" && PATH="$W/bb" busybox sh -c "$listing") > "$W/host-$i.txt" 2>&1
  umount "$W/mnt"
  echo "TREE $i $(sha256sum "$W/host-$i.txt" | cut -c1-64)"
done | sort > "$W/host.txt"
if diff "$W/guest.txt" "$W/host.txt"; then
  echo "kernel $KVER and $(uname -r) show identical trees for $# image(s)"
else
  echo "kernel $KVER differs from $(uname -r) (guest < > host; numbers are argument positions)" >&2
  exit 1
fi
