#!/usr/bin/env bash
# cairn's main job on a bundled example: protect a generated disk image with dm-verity,
# verify it, print the kernel table, then show that a single flipped byte is caught.
# Outputs go to examples/out/ (or $1). Deterministic: the same root hash on every machine.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
cairn="$here/../cairn"
out="${1:-$here/out}"
mkdir -p "$out"

# 1. A deterministic 16 MiB "root filesystem" image (text, so anyone can regenerate it).
(seq 1 3000000 || :) | head -c $((16 * 1024 * 1024)) > "$out/rootfs.img"

# 2. Hash tree + superblock; salt and UUID derived from a seed, so the build is reproducible.
"$cairn" verity format "$out/rootfs.img" "$out/rootfs.verity" \
    --seed "cairn example" --root-hash-file "$out/rootfs.roothash"

# 3. Verify the image against the root hash (exit 0 = intact).
"$cairn" verity verify "$out/rootfs.img" "$out/rootfs.verity" --root-hash-file "$out/rootfs.roothash"
echo "verify: intact"

# 4. What to give the kernel.
"$cairn" verity table "$out/rootfs.img" "$out/rootfs.verity" --root-hash-file "$out/rootfs.roothash"

# 5. One flipped byte must be detected (exit 1, naming the block).
cp "$out/rootfs.img" "$out/rootfs-tampered.img"
printf 'X' | dd of="$out/rootfs-tampered.img" bs=1 seek=5000000 conv=notrunc 2>/dev/null
set +e
"$cairn" verity verify "$out/rootfs-tampered.img" "$out/rootfs.verity" --root-hash-file "$out/rootfs.roothash"
rc=$?
set -e
if [ "$rc" -ne 1 ]; then
  echo "expected exit 1 for the tampered image, got $rc" >&2
  exit 1
fi
echo "verify of tampered image: rejected (exit 1), as it should be"
echo "root hash: $(cat "$out/rootfs.roothash")"
