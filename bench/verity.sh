#!/usr/bin/env bash
# Benchmark: cairn verity format vs veritysetup format on the same 1 GiB file (page cache warm,
# same salt and UUID, JVM start included). Prints:
#   verity speedup: X.XX   (veritysetup time / cairn time; goal >= 1.8 on 2 cores)
#   FEC speedup: X.XX      (same with --fec-device --fec-roots 2; goal >= 4)
# and checks that both tools wrote identical bytes.
# Usage: bench/verity.sh [size-in-MiB]   (default 1024)
set -euo pipefail
cd "$(dirname "$0")/.."
SIZE_MIB="${1:-1024}"
RUNS="${RUNS:-3}"
command -v veritysetup >/dev/null || { echo "veritysetup missing: apt-get install cryptsetup-bin" >&2; exit 2; }
ls cli/target/cairn-*/bin/cairn >/dev/null 2>&1 || ./mvnw -q -B package -DskipTests

work=$(mktemp -d "${TMPDIR:-/tmp}/cairn-bench.XXXXXX")
trap 'rm -rf "$work"' EXIT
data="$work/data.img"
salt=000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f
uuid=12345678-1234-1234-1234-123456789abc

echo "generating ${SIZE_MIB} MiB of data..."
head -c $((SIZE_MIB * 1024 * 1024)) /dev/urandom > "$data"
cat "$data" > /dev/null   # warm the page cache

now() { date +%s.%N; }
# best-of-N wall time of a command, in seconds
best() {
  local best="" t0 t1 d
  for _ in $(seq "$RUNS"); do
    rm -f "$work"/h.* "$work"/f.*
    t0=$(now); "$@" > /dev/null; t1=$(now)
    d=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.4f", b - a }')
    if [ -z "$best" ] || awk -v d="$d" -v b="$best" 'BEGIN { exit !(d < b) }'; then best=$d; fi
  done
  echo "$best"
}

v_time=$(best veritysetup format "$data" "$work/h.vs" --salt "$salt" --uuid "$uuid")
c_time=$(best ./cairn verity format "$data" "$work/h.cairn" --salt "$salt" --uuid "$uuid")
veritysetup format "$data" "$work/h.vs" --salt "$salt" --uuid "$uuid" > /dev/null
./cairn verity format "$data" "$work/h.cairn" --salt "$salt" --uuid "$uuid" > /dev/null
cmp "$work/h.vs" "$work/h.cairn" || { echo "hash files differ!" >&2; exit 1; }
printf 'veritysetup format: %.3f s\ncairn verity format: %.3f s\n' "$v_time" "$c_time"
awk -v v="$v_time" -v c="$c_time" 'BEGIN { printf "verity speedup: %.2f\n", v / c }'

RUNS=1
vf_time=$(best veritysetup format "$data" "$work/h.vs" --salt "$salt" --uuid "$uuid" --fec-device "$work/f.vs" --fec-roots 2)
cf_time=$(best ./cairn verity format "$data" "$work/h.cairn" --salt "$salt" --uuid "$uuid" --fec-device "$work/f.cairn" --fec-roots 2)
veritysetup format "$data" "$work/h.vs" --salt "$salt" --uuid "$uuid" --fec-device "$work/f.vs" --fec-roots 2 > /dev/null
./cairn verity format "$data" "$work/h.cairn" --salt "$salt" --uuid "$uuid" --fec-device "$work/f.cairn" --fec-roots 2 > /dev/null
cmp "$work/f.vs" "$work/f.cairn" || { echo "FEC files differ!" >&2; exit 1; }
printf 'veritysetup format --fec-roots 2: %.3f s\ncairn verity format --fec-roots 2: %.3f s\n' "$vf_time" "$cf_time"
awk -v v="$vf_time" -v c="$cf_time" 'BEGIN { printf "FEC speedup: %.2f\n", v / c }'
