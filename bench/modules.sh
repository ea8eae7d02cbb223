#!/usr/bin/env bash
# Benchmark: signing N kernel modules (default 500) with one `cairn sign module *.ko` call against a
# shell loop of the kernel's scripts/sign-file over the same modules (same throw-away RSA-2048 key
# and certificate, SHA-256, page cache warm, JVM start included). Prints:
#   sign-file loop: X.XXX s (Y.YY ms a module)
#   cairn sign module (one call): X.XXX s (Y.YY ms a module)
#   modules speedup: X.XX (goal >= 3)      (loop time / cairn time, best of RUNS each, the two
#                                           tools alternating run by run)
#   modules cpu ratio: X.XX                (user+sys of the loop / of cairn, in those best runs:
#                                           less noisy on a busy machine, blind to cairn's threads)
# and checks that every module cairn signed is byte-identical to sign-file's (RSA PKCS#1 v1.5 is
# deterministic, and both write DER PKCS#7 without certificates or signed attributes).
# The modules are real relocatable ELF objects made by `as`: a .modinfo section (license, name) and
# a .text of 8-127 KiB, different for each, like the small modules that make up most of a kernel.
# Needs: sign-file from Debian's linux-kbuild-6.1 (apt-get install linux-kbuild-6.1), binutils (as),
# openssl.
# Usage: bench/modules.sh [count]   (default 500)
#   RUNS=N      timed runs per tool, best wall time wins (default 3)
#   THREADS=N   cairn --threads (default: cairn's default, all processors)
#   SIGN_FILE=  path of sign-file (default /usr/lib/linux-kbuild-6.1/scripts/sign-file)
set -euo pipefail
cd "$(dirname "$0")/.."
COUNT="${1:-500}"
RUNS="${RUNS:-3}"
SIGN_FILE="${SIGN_FILE:-/usr/lib/linux-kbuild-6.1/scripts/sign-file}"
[ -x "$SIGN_FILE" ] || { echo "$SIGN_FILE missing: apt-get install linux-kbuild-6.1" >&2; exit 2; }
for t in as openssl; do
  command -v "$t" >/dev/null || { echo "$t missing: apt-get install binutils openssl" >&2; exit 2; }
done
ls cli/target/cairn-*/bin/cairn >/dev/null 2>&1 || ./mvnw -q -B package -DskipTests
THREAD_ARGS=()
[ -z "${THREADS:-}" ] || THREAD_ARGS=(--threads "$THREADS")

work=$(mktemp -d "${TMPDIR:-/tmp}/cairn-bench.XXXXXX")
trap 'rm -rf "$work"' EXIT
mkdir "$work/orig" "$work/sf" "$work/cairn"

echo "generating $COUNT modules and a throw-away RSA-2048 key..."
openssl req -new -x509 -newkey rsa:2048 -nodes -sha256 -days 30 -subj "/CN=cairn bench module key" \
  -keyout "$work/key.pem" -out "$work/cert.pem" 2>/dev/null
for i in $(seq -w 1 "$COUNT"); do
  kib=$((8 + (10#$i * 37) % 120))
  printf '.section .modinfo,"a"\n.string "license=GPL"\n.string "name=bench%s"\n.text\n.fill %d,4,0x%08x\n' \
    "$i" $((kib * 256)) $((10#$i * 2654435761 % 4294967296)) > "$work/m.s"
  as -o "$work/orig/bench$i.ko" "$work/m.s"
done
du -sh "$work/orig" | awk '{ print "modules: " $1 " in total" }'
cat "$work"/orig/*.ko > /dev/null   # warm the page cache

fresh() { rm -f "$1"/*.ko; cp "$work"/orig/*.ko "$1"/; }
sign_file_loop() {
  bash -c 'for m in "$0"/*.ko; do "$1" sha256 "$2" "$3" "$m"; done' "$work/sf" "$SIGN_FILE" "$work/key.pem" "$work/cert.pem"
}
cairn_batch() {
  ./cairn sign module "${THREAD_ARGS[@]}" --key "$work/key.pem" --cert "$work/cert.pem" "$work"/cairn/*.ko 2> "$work/cairn.err"
}
# One timed run of a function: refills directory $2 first, then keeps the run's wall time and CPU
# seconds (user+sys) in ${1}_time and ${1}_cpu when its wall time is the best so far.
# The tools alternate, run by run: each file a run creates and each one it replaces leaves a
# recently deleted inode, which ext4 (without a journal) skips over on every later file creation
# for a minute or more, so whichever tool ran later would pay for the other's runs.
sf_time="" sf_cpu="" c_time="" c_cpu=""
timed() {
  local name="$1" dir="$2" t wall user sys best
  shift 2
  fresh "$dir"
  TIMEFORMAT='%R %U %S'
  t=$( { time "$@" > /dev/null; } 2>&1 | tail -n 1)
  read -r wall user sys <<< "$t"
  best="${name}_time"
  if [ -z "${!best}" ] || awk -v d="$wall" -v b="${!best}" 'BEGIN { exit !(d < b) }'; then
    printf -v "${name}_time" '%s' "$wall"
    printf -v "${name}_cpu" '%s' "$(awk -v u="$user" -v s="$sys" 'BEGIN { printf "%.3f", u + s }')"
  fi
}

for _ in $(seq "$RUNS"); do
  timed sf "$work/sf" sign_file_loop
  timed c "$work/cairn" cairn_batch
done
tail -n 1 "$work/cairn.err"
differ=0
for m in "$work"/sf/*.ko; do
  cmp -s "$m" "$work/cairn/$(basename "$m")" || { echo "differs from sign-file's: $(basename "$m")" >&2; differ=$((differ + 1)); }
done
[ "$differ" = 0 ] || { echo "$differ of $COUNT modules differ from sign-file's output!" >&2; exit 1; }
echo "all $COUNT signed modules byte-identical to sign-file's"
awk -v t="$sf_time" -v c="$sf_cpu" -v n="$COUNT" \
  'BEGIN { printf "sign-file loop: %.3f s (%.2f ms a module), cpu %.3f s\n", t, 1000 * t / n, c }'
awk -v t="$c_time" -v c="$c_cpu" -v n="$COUNT" \
  'BEGIN { printf "cairn sign module (one call): %.3f s (%.2f ms a module), cpu %.3f s\n", t, 1000 * t / n, c }'
awk -v s="$sf_cpu" -v c="$c_cpu" 'BEGIN { printf "modules cpu ratio: %.2f\n", s / c }'
awk -v s="$sf_time" -v c="$c_time" 'BEGIN { printf "modules speedup: %.2f (goal >= 3)\n", s / c }'
