#!/usr/bin/env bash
# cairn's main job on the bundled example: turn examples/rootfs/ into a reproducible SquashFS
# root filesystem (owned by root, with /dev/console made without root privileges), append its
# dm-verity hash tree the way stacker/atomfs do, verify it and print the root hash.
# Outputs go to examples/out/ (or $1). The same bytes and root hash on every machine.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
cairn="$here/../cairn"
out="${1:-$here/out}"
mkdir -p "$out"
img="$out/rootfs.squashfs"

# 1. SquashFS: zstd, every time fixed (SOURCE_DATE_EPOCH style), all files root-owned,
#    modes pinned and device nodes made by pseudo definitions (no umask, no mknod, no root).
"$cairn" squashfs create "$here/rootfs" "$img" --comp zstd --all-root --mtime 1700000000 \
    --pseudo-file "$here/rootfs.pseudo"
"$cairn" squashfs ls -l "$img"

# 2. dm-verity tree appended after the 4 KiB-padded image (stacker/atomfs layout).
size=$(stat -c %s "$img")
"$cairn" verity format "$img" "$img" --hash-offset "$size" --seed "cairn example rootfs" \
    --root-hash-file "$out/rootfs.roothash" >/dev/null
"$cairn" verity verify "$img" "$img" --hash-offset "$size" --data-blocks $((size / 4096)) \
    --root-hash-file "$out/rootfs.roothash"
echo "rootfs: $img: $size bytes of SquashFS + $(( $(stat -c %s "$img") - size )) bytes of hash tree, root hash $(cat "$out/rootfs.roothash")"
