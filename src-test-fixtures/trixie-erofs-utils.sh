#!/usr/bin/env bash
# Fetches Debian 13 (trixie)'s erofs-utils (1.8.x) and the shared libraries it links, unpacks them into
# DEST (default /opt/cairn-oracles/trixie-erofs) without installing anything, and writes wrappers
# DEST/bin/{mkfs.erofs,fsck.erofs,dump.erofs} that run the trixie binaries through trixie's own
# ld-linux loader and library path (Debian 12 ships erofs-utils 1.5, which has no --tar).
# The EROFS oracle IT (erofs/src/test/java/dev/cairn/erofs/ErofsOracleIT.java) runs DEST/bin/mkfs.erofs.
# Idempotent: a second run with the wrappers present does nothing.
set -euo pipefail
. "$(dirname "$0")/trixie-debs.sh"
DEST="${1:-/opt/cairn-oracles/trixie-erofs}"
if [ -x "$DEST/bin/mkfs.erofs" ] && "$DEST/bin/mkfs.erofs" --version >/dev/null 2>&1; then
  exit 0
fi
# erofs-utils and the runtime libraries of mkfs/fsck/dump.erofs (dpkg-deb -I erofs-utils: Depends).
PKGS=(erofs-utils libc6 liblz4-1 liblzma5 libuuid1 zlib1g libzstd1 libdeflate0 libxxhash0 libselinux1 libpcre2-8-0)
rm -rf "$DEST.tmp"
mkdir -p "$DEST.tmp/bin"
trixie_unpack "$DEST.tmp/root" "trixie" "${PKGS[@]}"
LIBDIR="$DEST/root/usr/lib/x86_64-linux-gnu"
for tool in mkfs.erofs fsck.erofs dump.erofs; do
  cat > "$DEST.tmp/bin/$tool" <<WRAP
#!/bin/sh
# trixie's $tool through trixie's loader and libraries (written by src-test-fixtures/trixie-erofs-utils.sh)
exec "$LIBDIR/ld-linux-x86-64.so.2" --library-path "$LIBDIR" "$DEST/root/usr/bin/$tool" "\$@"
WRAP
  chmod 755 "$DEST.tmp/bin/$tool"
done
rm -rf "$DEST"
mv "$DEST.tmp" "$DEST"
# Every library the tools need must resolve inside DEST (not from the host's Debian 12 libraries).
for tool in mkfs.erofs fsck.erofs dump.erofs; do
  libs=$("$LIBDIR/ld-linux-x86-64.so.2" --library-path "$LIBDIR" --list "$DEST/root/usr/bin/$tool")
  if echo "$libs" | grep -v -e "$DEST/" -e 'linux-vdso' | grep -q '=>'; then
    echo "$tool needs libraries from outside $DEST (add their trixie packages to PKGS):" >&2
    echo "$libs" >&2
    exit 1
  fi
done
"$DEST/bin/mkfs.erofs" --version
