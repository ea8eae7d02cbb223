#!/usr/bin/env bash
# Benchmark: cairn squashfs create (pure-Java writer) vs mksquashfs on the same ~300 MB "real" tree
# (/usr/lib/python3.11 + /usr/share/doc + a JDK without jmods, whatever exists on this box), page
# cache warm, both with 2 compression threads, JVM start included. Per compressor prints:
#   squashfs <comp> time ratio (cairn/mksquashfs): X.XX   (best wall times; goal <= 1.0)
#   squashfs <comp> size ratio: X.XXX                      (cairn bytes / mksquashfs bytes; goal <= 1.01)
#   squashfs <comp> peak RSS: cairn N MB, mksquashfs M MB
#   squashfs <comp> cpu ratio (cairn/mksquashfs): X.XX    (user+sys of the best runs; less noisy)
# plus the raw seconds and bytes. Every cairn image is checked with `unsquashfs -s` so a broken
# image is never measured. The two tools run interleaved (mksquashfs, cairn, mksquashfs, ...) so
# both see the same machine. Other busy processes (a parallel build, say) spoil the numbers: each
# run waits until the machine is quiet, and a run during which other processes took more than
# a little CPU is reported ("disturbed: ...") and repeated. The "cpu probe" lines show how many
# of 2 vCPUs two busy processes really got (on a shared VM that can drop towards 1.00).
# Needs: squashfs-tools (mksquashfs, unsquashfs) and GNU time for peak RSS: /usr/bin/time, on
# Debian `apt-get install time` (the shell keyword `time` cannot report RSS).
# Usage: bench/squashfs.sh [comp...]   (default: zstd xz; gzip and lz4 work too)
#   RUNS=N        runs per tool and compressor, best wall time wins (default 1)
#   PROCESSORS=N  compression threads for both tools (default 2)
#   PROFILE=1     also time cairn with --processors 1, to show what the second thread buys
#   QUIET_WAIT=S  wait at most S seconds for a quiet machine before a run (default 900)
#   RETRIES=N     repeat a disturbed run at most N times (default 3; the last one counts anyway)
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS="${RUNS:-1}"
PROCESSORS="${PROCESSORS:-2}"
QUIET_WAIT="${QUIET_WAIT:-900}"
RETRIES="${RETRIES:-3}"
COMPS=("$@")
[ ${#COMPS[@]} -gt 0 ] || COMPS=(zstd xz)
command -v mksquashfs >/dev/null || { echo "mksquashfs missing: apt-get install squashfs-tools" >&2; exit 2; }
command -v unsquashfs >/dev/null || { echo "unsquashfs missing: apt-get install squashfs-tools" >&2; exit 2; }
[ -x /usr/bin/time ] || { echo "/usr/bin/time missing: apt-get install time" >&2; exit 2; }
./cairn --version >/dev/null 2>&1 || ./mvnw -q -B package -DskipTests

work=$(mktemp -d "${TMPDIR:-/tmp}/cairn-bench.XXXXXX")
trap 'rm -rf "$work"' EXIT
tree="$work/tree"
mkdir "$tree"

echo "building the source tree..."
if [ -d /usr/lib/python3.11 ]; then cp -a /usr/lib/python3.11 "$tree/python3.11"; fi
if [ -d /usr/share/doc ]; then cp -a /usr/share/doc "$tree/doc"; fi
if [ "$(du -sb "$tree" | cut -f1)" -lt $((300 * 1000 * 1000)) ]; then
  for jdk in /usr/lib/jvm/java-17-openjdk-amd64 /usr/lib/jvm/default-java /usr/lib/jvm/*; do
    [ -d "$jdk" ] || continue
    mkdir "$tree/jdk"
    # dereferenced (the JDK links into /etc and /usr/share), minus jmods; a dangling link
    # (lib/src.zip without openjdk-17-source) makes the reading tar exit 1: ignore that side only
    { tar -C "$jdk" -chf - --exclude=./jmods --ignore-failed-read . 2>/dev/null || true; } | tar -C "$tree/jdk" -xf -
    break
  done
fi
printf 'tree: %s bytes (du -sb), %s files, %s entries\n' \
  "$(du -sb "$tree" | cut -f1)" "$(find "$tree" -type f | wc -l)" "$(find "$tree" | wc -l)"

warm() { find "$tree" -type f -print0 | xargs -0 cat > /dev/null; }   # warm the page cache
hz=$(getconf CLK_TCK)
busy() { awk '/^cpu / { print $2 + $3 + $4 + $7 + $8 }' /proc/stat; }   # user+nice+system+irq+softirq jiffies

# two CPU-bound processes for ~1 s: how many cores did they get?
probe() {
  local big
  big=$(find "$tree" -type f -size +20M | head -n 1)
  [ -n "$big" ] || return 0
  quiet
  /usr/bin/time -o "$work/time" -f '%e %U %S' sh -c 'for i in 1 2 3 4; do sha256sum "$1"; done >/dev/null &
    for i in 1 2 3 4; do sha256sum "$1"; done >/dev/null; wait' sh "$big"
  awk '{ printf "cpu probe (%s): 2 busy processes got %.2f cores\n", label, ($2 + $3) / $1 }' label="$1" "$work/time"
}

# waits (at most QUIET_WAIT s) until the CPUs were less than 10 % busy for 3 s
quiet() {
  local waited=0 b0 b1
  while :; do
    b0=$(busy); sleep 3; b1=$(busy)
    [ $(((b1 - b0) * 100 / (3 * hz))) -lt 10 ] && return 0
    [ "$waited" -ge "$QUIET_WAIT" ] && { echo "note: machine still busy after ${QUIET_WAIT} s, measuring anyway"; return 0; }
    waited=$((waited + 3))
  done
}

# runs "$@" under /usr/bin/time (repeated when disturbed); appends "wall cpu rssKB" to the file $1
measure() {
  local log="$1" out="$2" b0 b1 e u s m other try; shift 2
  for try in $(seq 0 "$RETRIES"); do
    rm -f "$out"
    warm
    quiet
    b0=$(busy)
    /usr/bin/time -o "$work/time" -f '%e %U %S %M' "$@" > "$work/stdout" 2> "$work/stderr" || {
      echo "failed: $*" >&2; cat "$work/stderr" >&2; exit 1; }
    b1=$(busy)
    read -r e u s m < <(tail -n 1 "$work/time")
    # CPU seconds that processes other than "$@" used during the run
    other=$(awk -v d="$((b1 - b0))" -v hz="$hz" -v u="$u" -v s="$s" 'BEGIN { printf "%.1f", d / hz - u - s }')
    if awk -v o="$other" -v e="$e" 'BEGIN { exit !(o > 1 + 0.05 * e) }'; then
      echo "disturbed: other processes used $other s of CPU during a ${1##*/} run of $e s (try $((try + 1)))"
      [ "$try" -lt "$RETRIES" ] && continue
    fi
    break
  done
  awk -v e="$e" -v u="$u" -v s="$s" -v m="$m" 'BEGIN { printf "%s %.2f %d\n", e, u + s, m }' >> "$log"
}
best() { sort -n "$1" | head -n 1; }                  # "wall cpu rss" of the fastest run
peak() { awk '$3 > m { m = $3 } END { print int(m / 1024) }' "$1"; }   # MB

probe start
for comp in "${COMPS[@]}"; do
  m_img="$work/m.$comp.sqfs"
  c_img="$work/c.$comp.sqfs"
  : > "$work/m.log"; : > "$work/c.log"
  for _ in $(seq "$RUNS"); do
    measure "$work/m.log" "$m_img" mksquashfs "$tree" "$m_img" -noappend -comp "$comp" -processors "$PROCESSORS" -no-progress -quiet
    measure "$work/c.log" "$c_img" ./cairn squashfs create "$tree" "$c_img" --comp "$comp" --processors "$PROCESSORS"
    unsquashfs -s "$c_img" > "$work/info" 2>&1 || {
      echo "unsquashfs -s rejects the cairn $comp image:" >&2; cat "$work/info" >&2; exit 1; }
    grep -q "Compression $comp" "$work/info" || {
      echo "the cairn image is not $comp-compressed:" >&2; cat "$work/info" >&2; exit 1; }
  done
  read -r m_wall m_cpu _ < <(best "$work/m.log")
  read -r c_wall c_cpu _ < <(best "$work/c.log")
  m_size=$(stat -c %s "$m_img")
  c_size=$(stat -c %s "$c_img")

  printf 'mksquashfs -comp %s -processors %s: %.2f s wall, %.2f s cpu, %d bytes (runs: %s)\n' \
    "$comp" "$PROCESSORS" "$m_wall" "$m_cpu" "$m_size" "$(cut -d' ' -f1 "$work/m.log" | paste -sd' ')"
  printf 'cairn --comp %s --processors %s: %.2f s wall, %.2f s cpu, %d bytes (runs: %s)\n' \
    "$comp" "$PROCESSORS" "$c_wall" "$c_cpu" "$c_size" "$(cut -d' ' -f1 "$work/c.log" | paste -sd' ')"
  awk -v c="$c_wall" -v m="$m_wall" -v comp="$comp" 'BEGIN { printf "squashfs %s time ratio (cairn/mksquashfs): %.2f\n", comp, c / m }'
  awk -v c="$c_size" -v m="$m_size" -v comp="$comp" 'BEGIN { printf "squashfs %s size ratio: %.3f\n", comp, c / m }'
  printf 'squashfs %s peak RSS: cairn %d MB, mksquashfs %d MB\n' "$comp" "$(peak "$work/c.log")" "$(peak "$work/m.log")"
  awk -v c="$c_cpu" -v m="$m_cpu" -v comp="$comp" 'BEGIN { printf "squashfs %s cpu ratio (cairn/mksquashfs): %.2f\n", comp, c / m }'

  if [ "${PROFILE:-0}" = 1 ]; then
    : > "$work/p.log"
    for _ in $(seq "$RUNS"); do
      measure "$work/p.log" "$c_img" ./cairn squashfs create "$tree" "$c_img" --comp "$comp" --processors 1
    done
    read -r p_wall p_cpu _ < <(best "$work/p.log")
    printf 'cairn --comp %s --processors 1: %.2f s wall, %.2f s cpu; %s threads: %.2f x faster, %.2f cores busy (mksquashfs: %.2f)\n' \
      "$comp" "$p_wall" "$p_cpu" "$PROCESSORS" "$(awk -v a="$p_wall" -v b="$c_wall" 'BEGIN { print a / b }')" \
      "$(awk -v c="$c_cpu" -v w="$c_wall" 'BEGIN { print c / w }')" "$(awk -v c="$m_cpu" -v w="$m_wall" 'BEGIN { print c / w }')"
  fi
  rm -f "$m_img" "$c_img"
done
probe end
