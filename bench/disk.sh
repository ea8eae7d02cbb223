#!/usr/bin/env bash
# Benchmark: assemble a GPT disk from ready-made partitions with `cairn disk assemble` and with
# systemd-repart 252 (one CopyBlocks= definition per partition, fixed sizes, --seed,
# --empty=create --size=auto; both fsync the image), from the same files, page cache warm, JVM
# start included: a 1 GiB root (deterministic pseudo-random bytes, standing in for a SquashFS),
# its dm-verity hash file (cairn verity format, ~8 MiB), a 16 KiB signature file (systemd's JSON,
# NUL-padded) and a 128 MiB FAT32 ESP (mkfs.fat, with a file copied in by mcopy). Checks that both
# images are byte-identical, then prints the best wall time of RUNS runs of each and
#   disk ratio (cairn/repart): X.XX    (goal <= 1.0)
# Needs: systemd-repart (systemd), mkfs.fat (dosfstools), mmd/mcopy (mtools), openssl, bc (no root
# or loop devices: CopyBlocks= into an image file needs neither). Usage: bench/disk.sh
#   RUNS=N (default 3), ROOT_MB=N (default 1024)
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS="${RUNS:-3}"
ROOT_MB="${ROOT_MB:-1024}"
REPART="${REPART:-systemd-repart}"
export PATH="$PATH:/usr/sbin:/sbin"
for t in "$REPART" mkfs.fat mcopy openssl bc; do
  command -v "$t" >/dev/null || { echo "$t missing: apt-get install systemd dosfstools mtools openssl bc" >&2; exit 2; }
done
./cairn --version >/dev/null 2>&1 || ./mvnw -q -B package -DskipTests

work=$(mktemp -d "${TMPDIR:-/tmp}/cairn-bench-disk.XXXXXX")
trap 'rm -rf "$work"' EXIT
seed=0f6e5cf2-8a3e-4b7e-9e1a-1c2d3e4f5a6b
prng() {   # deterministic pseudo-random bytes: AES-128-CTR of zeros
  { openssl enc -aes-128-ctr -nosalt -K "$1" -iv 00000000000000000000000000000000 < /dev/zero 2>/dev/null || true; } | head -c "$2"
}

echo "making the partitions (${ROOT_MB} MiB root, its hash tree, 16 KiB signature, 128 MiB ESP)..."
prng 000102030405060708090a0b0c0d0e0f $((ROOT_MB * 1024 * 1024)) > "$work/root.img"
./cairn verity format "$work/root.img" "$work/verity.img" --salt 000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f \
  --uuid 12345678-1234-1234-1234-123456789abc --root-hash-file "$work/roothash" > /dev/null
printf '{"rootHash":"%s","signature":"%s"}' "$(cat "$work/roothash")" "$(prng 0f0e0d0c0b0a09080706050403020100 1200 | base64 -w0)" \
  > "$work/sig.img"
truncate -s 16384 "$work/sig.img"   # NUL padding
mkfs.fat -F 32 -n ESP -i 26AAD50E --invariant -C "$work/esp.img" $((128 * 1024)) > /dev/null
prng 00112233445566778899aabbccddeeff $((20 * 1024 * 1024)) > "$work/BOOTX64.EFI"
MTOOLS_SKIP_CHECK=1 mmd -i "$work/esp.img" ::/EFI ::/EFI/BOOT
MTOOLS_SKIP_CHECK=1 mcopy -i "$work/esp.img" "$work/BOOTX64.EFI" ::/EFI/BOOT/BOOTX64.EFI
rm "$work/BOOTX64.EFI"

parts=(esp:"$work/esp.img" root-x86-64:"$work/root.img" root-x86-64-verity:"$work/verity.img" root-x86-64-verity-sig:"$work/sig.img")
mkdir "$work/repart.d"
n=0
cairn_args=()
for p in "${parts[@]}"; do
  type=${p%%:*} file=${p#*:}
  size=$(stat -c %s "$file")
  [ $((size % 4096)) -eq 0 ] || { echo "$file: $size bytes, not a multiple of 4096" >&2; exit 1; }
  printf '[Partition]\nType=%s\nCopyBlocks=%s\nSizeMinBytes=%s\nSizeMaxBytes=%s\n' "$type" "$file" "$size" "$size" \
    > "$work/repart.d/$(printf %02d $n)-$type.conf"
  cairn_args+=(--partition "$type:$file")
  n=$((n + 1))
done
du -cb "$work"/{root,verity,sig,esp}.img | tail -1 | awk '{ printf "partition contents: %s bytes\n", $1 }'
cat "$work"/*.img > /dev/null   # warm the page cache

now() { date +%s.%N; }
run_cairn() { ./cairn disk assemble "$work/cairn.raw" --seed "$seed" "${cairn_args[@]}" > /dev/null; }
run_repart() { "$REPART" --empty=create --size=auto --seed="$seed" --dry-run=no --no-pager --definitions="$work/repart.d" \
  "$work/repart.raw" > /dev/null 2>&1; }
time_cairn() { rm -f "$work/cairn.raw"; sync; t0=$(now); run_cairn; t1=$(now); c=$(echo "$t1 - $t0" | bc -l); }
time_repart() { rm -f "$work/repart.raw"; sync; t0=$(now); run_repart; t1=$(now); r=$(echo "$t1 - $t0" | bc -l); }
# untimed warm-up of both: the launcher's first run on a new class path writes its class-data-sharing
# archive, and the first copy after the inputs were written was several times slower here for either tool
run_cairn; run_repart; rm -f "$work/cairn.raw" "$work/repart.raw"

best_cairn=999999; best_repart=999999
for i in $(seq "$RUNS"); do
  if [ $((i % 2)) -eq 1 ]; then time_cairn; time_repart; else time_repart; time_cairn; fi   # alternate who goes first
  cmp "$work/cairn.raw" "$work/repart.raw" || { echo "cairn's and repart's disks differ" >&2; exit 1; }
  printf 'run %d: cairn %.3f s, repart %.3f s\n' "$i" "$c" "$r"
  best_cairn=$(echo "if ($c < $best_cairn) $c else $best_cairn" | bc -l)
  best_repart=$(echo "if ($r < $best_repart) $r else $best_repart" | bc -l)
done
printf 'disk: %s bytes, byte-identical\n' "$(stat -c %s "$work/cairn.raw")"
printf 'best: cairn %.3f s, repart %.3f s\n' "$best_cairn" "$best_repart"
printf 'disk ratio (cairn/repart): %.2f\n' "$(echo "$best_cairn / $best_repart" | bc -l)"
