#!/usr/bin/env bash
# Benchmark: cairn verity format vs veritysetup format on the same files (page cache warm, same
# salt and UUID, JVM start included), by default a 1 GiB and a 4 GiB file. Prints, per size:
#   verity speedup (1024 MiB): X.XX   (veritysetup time / cairn time; goal >= 1.8 on 2 cores)
#   cairn max RSS (1024 MiB): N MiB   (peak resident set of the cairn JVM; goal < 256 MiB at any size)
#   CPU time, user+sys (1024 MiB): veritysetup X s, cairn Y s   (least of the runs; steadier than
#                                     wall time when the machine is shared)
# and, for the first size only:
#   FEC speedup: X.XX                 (same with --fec-device --fec-roots 2; goal >= 4)
# and checks that both tools wrote identical bytes. Runs alternate veritysetup and cairn and keep
# the best of RUNS (default 3) each, so load from elsewhere on the machine hits both alike.
# Usage: bench/verity.sh [size-in-MiB ...]   (default: 1024 4096; needs about 2 x the largest
# size free in ${TMPDIR:-/tmp}, veritysetup and /usr/bin/time)
# Environment: RUNS (3), FEC=0 skips the FEC comparison, CAIRN=path/to/bin/cairn times another
# build (default: this checkout's ./cairn).
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "$#" -eq 0 ]; then set -- 1024 4096; fi
RUNS="${RUNS:-3}"
CAIRN="${CAIRN:-./cairn}"
command -v veritysetup >/dev/null || { echo "veritysetup missing: apt-get install cryptsetup-bin" >&2; exit 2; }
[ -x /usr/bin/time ] || { echo "/usr/bin/time missing: apt-get install time" >&2; exit 2; }
if [ "$CAIRN" = ./cairn ]; then ls cli/target/cairn-*/cairn-*/bin/cairn >/dev/null 2>&1 || ./mvnw -q -B package -DskipTests; fi

work=$(mktemp -d "${TMPDIR:-/tmp}/cairn-bench.XXXXXX")
trap 'rm -rf "$work"' EXIT
data="$work/data.img"
salt=000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f
uuid=12345678-1234-1234-1234-123456789abc

now() { date +%s.%N; }
# wall time of one run, in seconds; "peak-RSS-KiB user-s sys-s" go to $work/rss
timed() {
  local t0 t1
  t0=$(now); /usr/bin/time -f '%M %U %S' -o "$work/rss" "$@" > /dev/null; t1=$(now)
  awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.4f", b - a }'
}
cpu() { awk '{ print $2 + $3 }' "$work/rss"; }
min() { awk -v a="$1" -v b="$2" 'BEGIN { print (a == "" || b < a) ? b : a }'; }
max() { awk -v a="$1" -v b="$2" 'BEGIN { print (a == "" || b > a) ? b : a }'; }

# best-of-RUNS of veritysetup and cairn, alternating; sets v_time, c_time, v_cpu, c_cpu (user+sys,
# least over runs: less sensitive than wall time to load from elsewhere) and c_rss (max over runs)
compare() {
  v_time="" c_time="" v_cpu="" c_cpu="" c_rss=""
  for _ in $(seq "$RUNS"); do
    rm -f "$work"/h.* "$work"/f.*
    v_time=$(min "$v_time" "$(timed veritysetup format "$data" "$work/h.vs" --salt "$salt" --uuid "$uuid" "$@" \
      ${fec:+--fec-device "$work/f.vs"})")
    v_cpu=$(min "$v_cpu" "$(cpu)")
    c_time=$(min "$c_time" "$(timed "$CAIRN" verity format "$data" "$work/h.cairn" --salt "$salt" --uuid "$uuid" "$@" \
      ${fec:+--fec-device "$work/f.cairn"})")
    c_cpu=$(min "$c_cpu" "$(cpu)")
    c_rss=$(max "$c_rss" "$(awk '{ print $1 }' "$work/rss")")
  done
  cmp "$work/h.vs" "$work/h.cairn" || { echo "hash files differ!" >&2; exit 1; }
  if [ -n "${fec:-}" ]; then cmp "$work/f.vs" "$work/f.cairn" || { echo "FEC files differ!" >&2; exit 1; }; fi
}

first=1
for SIZE_MIB in "$@"; do
  echo "generating ${SIZE_MIB} MiB of data..."
  rm -f "$data"
  head -c $((SIZE_MIB * 1024 * 1024)) /dev/urandom > "$data"
  cat "$data" > /dev/null   # warm the page cache
  "$CAIRN" --version > /dev/null  # the launcher's first run records its start-up archive

  fec="" compare
  printf 'veritysetup format (%s MiB): %.3f s\ncairn verity format (%s MiB): %.3f s\n' "$SIZE_MIB" "$v_time" "$SIZE_MIB" "$c_time"
  awk -v v="$v_time" -v c="$c_time" -v s="$SIZE_MIB" 'BEGIN { printf "verity speedup (%s MiB): %.2f\n", s, v / c }'
  awk -v k="$c_rss" -v s="$SIZE_MIB" 'BEGIN { printf "cairn max RSS (%s MiB): %d MiB\n", s, k / 1024 }'
  printf 'CPU time, user+sys (%s MiB): veritysetup %.2f s, cairn %.2f s\n' "$SIZE_MIB" "$v_cpu" "$c_cpu"

  if [ "$first" = 1 ] && [ "${FEC:-1}" != 0 ]; then
    first=0
    fec=1 RUNS=1 compare --fec-roots 2
    printf 'veritysetup format --fec-roots 2: %.3f s\ncairn verity format --fec-roots 2: %.3f s\n' "$v_time" "$c_time"
    awk -v v="$v_time" -v c="$c_time" 'BEGIN { printf "FEC speedup: %.2f\n", v / c }'
  fi
done
