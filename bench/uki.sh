#!/usr/bin/env bash
# Benchmark: cairn uki build + Authenticode signing in one command vs the classic pipeline
# objcopy --add-section (the well-known recipe) + sbsign, on the same inputs: Debian's systemd stub,
# the newest /boot/vmlinuz-*, a 60 MB initrd (deterministic pseudo-random bytes), an os-release and
# a command line. JVM start is included. Both outputs are checked with sbverify before timing
# counts. Prints the best wall time of RUNS runs of each and
#   uki speedup: X.XX    (objcopy+sbsign seconds / cairn seconds; goal >= 1.0)
# and, when Debian 13's ukify 257 is unpacked (src-test-fixtures/trixie-systemd.sh, SYSTEMD257=DIR), the same UKI
# built and signed (sbsign) by ukify 257 and by cairn, both on the 257 stub:
#   ukify speedup: X.XX  (ukify 257 seconds / cairn seconds; goal >= 2)
# Needs: binutils (objcopy), sbsigntool (sbsign, sbverify), systemd-boot-efi, linux-image-amd64, openssl.
# Usage: bench/uki.sh     RUNS=N (default 5), INITRD_MB=N (default 60)
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS="${RUNS:-5}"
INITRD_MB="${INITRD_MB:-60}"
STUB=/usr/lib/systemd/boot/efi/linuxx64.efi.stub
SYSTEMD257="${SYSTEMD257:-/opt/cairn-oracles/trixie-systemd}"
STUB257="$SYSTEMD257/root/usr/lib/systemd/boot/efi/linuxx64.efi.stub"
if [ -x "$SYSTEMD257/bin/ukify" ] && [ -f "$STUB257" ]; then HAVE_UKIFY=1; else HAVE_UKIFY=0
  echo "no ukify 257 at $SYSTEMD257 (run src-test-fixtures/trixie-systemd.sh): skipping the ukify comparison" >&2; fi
for t in objcopy sbsign sbverify openssl; do
  command -v "$t" >/dev/null || { echo "$t missing: apt-get install binutils sbsigntool openssl" >&2; exit 2; }
done
[ -f "$STUB" ] || { echo "$STUB missing: apt-get install systemd-boot-efi" >&2; exit 2; }
KERNEL=$(ls /boot/vmlinuz-* 2>/dev/null | sort | tail -1)
[ -n "$KERNEL" ] || { echo "no /boot/vmlinuz-*: apt-get install linux-image-amd64" >&2; exit 2; }
./cairn --version >/dev/null 2>&1 || ./mvnw -q -B package -DskipTests

work=$(mktemp -d "${TMPDIR:-/tmp}/cairn-bench-uki.XXXXXX")
trap 'rm -rf "$work"' EXIT
{ openssl enc -aes-128-ctr -nosalt -K 000102030405060708090a0b0c0d0e0f -iv 00000000000000000000000000000000 \
  < /dev/zero 2>/dev/null || true; } | head -c $((INITRD_MB * 1000 * 1000)) > "$work/initrd"
printf 'ID=cairn-bench\nNAME="cairn bench"\n' > "$work/os-release"
printf 'console=ttyS0 quiet' > "$work/cmdline"
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$work/db.key" -out "$work/db.crt" -days 30 \
  -subj "/CN=cairn bench db" 2>/dev/null
echo "inputs: stub $(stat -c %s "$STUB") B, kernel $(stat -c %s "$KERNEL") B, initrd $(stat -c %s "$work/initrd") B"
cat "$KERNEL" "$work/initrd" "$STUB" > /dev/null   # warm the page cache

# objcopy placement: each section after the stub's last one, 4 KiB aligned (no overlaps).
stub_end=0
while read -r idx name size vma _; do
  [[ "$idx" =~ ^[0-9]+$ ]] || continue
  e=$(( 16#$vma + 16#$size )); (( e > stub_end )) && stub_end=$e
done < <(objdump -h "$STUB")
classic() {
  local vma=$(( (stub_end + 4095) / 4096 * 4096 )) args=() f name size
  for pair in .osrel:"$work/os-release" .cmdline:"$work/cmdline" .initrd:"$work/initrd" .linux:"$KERNEL"; do
    name=${pair%%:*}; f=${pair#*:}; size=$(stat -c %s "$f")
    args+=(--add-section "$name=$f" --change-section-vma "$name=$(printf 0x%x "$vma")")
    vma=$(( (vma + size + 4095) / 4096 * 4096 ))
  done
  objcopy "${args[@]}" "$STUB" "$work/classic.unsigned.efi"
  sbsign --key "$work/db.key" --cert "$work/db.crt" --output "$work/classic.efi" "$work/classic.unsigned.efi" 2>/dev/null
}
ours() {
  ./cairn uki build --stub "$STUB" --linux "$KERNEL" --initrd "$work/initrd" --cmdline @"$work/cmdline" \
    --os-release @"$work/os-release" --key "$work/db.key" --cert "$work/db.crt" --output "$work/cairn.efi" > /dev/null 2>&1
}
ukify257() {
  "$SYSTEMD257/bin/ukify" build --stub "$STUB257" --linux "$KERNEL" --initrd "$work/initrd" --cmdline @"$work/cmdline" \
    --os-release @"$work/os-release" --uname bench --secureboot-private-key "$work/db.key" \
    --secureboot-certificate "$work/db.crt" --output "$work/ukify.efi" > /dev/null 2>&1
}
ours257() {
  ./cairn uki build --stub "$STUB257" --linux "$KERNEL" --initrd "$work/initrd" --cmdline @"$work/cmdline" \
    --os-release @"$work/os-release" --uname bench --key "$work/db.key" --cert "$work/db.crt" \
    --output "$work/cairn257.efi" > /dev/null 2>&1
}
now() { date +%s.%N; }
best_classic=999999; best_cairn=999999; best_ukify=999999; best_cairn257=999999
for i in $(seq "$RUNS"); do
  rm -f "$work"/classic*.efi "$work/cairn.efi" "$work/ukify.efi" "$work/cairn257.efi"
  t0=$(now); classic; t1=$(now); ours; t2=$(now)
  sbverify --cert "$work/db.crt" "$work/classic.efi" >/dev/null 2>&1 || { echo "classic UKI does not verify" >&2; exit 1; }
  sbverify --cert "$work/db.crt" "$work/cairn.efi" >/dev/null 2>&1 || { echo "cairn UKI does not verify" >&2; exit 1; }
  c=$(echo "$t1 - $t0" | bc -l); k=$(echo "$t2 - $t1" | bc -l)
  printf 'run %d: objcopy+sbsign %.3f s, cairn %.3f s' "$i" "$c" "$k"
  best_classic=$(echo "if ($c < $best_classic) $c else $best_classic" | bc -l)
  best_cairn=$(echo "if ($k < $best_cairn) $k else $best_cairn" | bc -l)
  if [ "$HAVE_UKIFY" = 1 ]; then
    t3=$(now); ukify257; t4=$(now); ours257; t5=$(now)
    sbverify --cert "$work/db.crt" "$work/ukify.efi" >/dev/null 2>&1 || { echo; echo "ukify 257's UKI does not verify" >&2; exit 1; }
    sbverify --cert "$work/db.crt" "$work/cairn257.efi" >/dev/null 2>&1 || { echo; echo "cairn's 257 UKI does not verify" >&2; exit 1; }
    u=$(echo "$t4 - $t3" | bc -l); k2=$(echo "$t5 - $t4" | bc -l)
    printf ', ukify 257 %.3f s, cairn (257 stub) %.3f s' "$u" "$k2"
    best_ukify=$(echo "if ($u < $best_ukify) $u else $best_ukify" | bc -l)
    best_cairn257=$(echo "if ($k2 < $best_cairn257) $k2 else $best_cairn257" | bc -l)
  fi
  echo
done
printf 'best: objcopy+sbsign %.3f s, cairn %.3f s (sizes %s / %s bytes)\n' "$best_classic" "$best_cairn" \
  "$(stat -c %s "$work/classic.efi")" "$(stat -c %s "$work/cairn.efi")"
printf 'uki speedup: %.2f\n' "$(echo "$best_classic / $best_cairn" | bc -l)"
if [ "$HAVE_UKIFY" = 1 ]; then
  printf 'best: ukify 257 (+sbsign) %.3f s, cairn %.3f s (sizes %s / %s bytes)\n' "$best_ukify" "$best_cairn257" \
    "$(stat -c %s "$work/ukify.efi")" "$(stat -c %s "$work/cairn257.efi")"
  printf 'ukify speedup: %.2f\n' "$(echo "$best_ukify / $best_cairn257" | bc -l)"
fi
