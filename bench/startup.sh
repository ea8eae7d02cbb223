#!/usr/bin/env bash
# Benchmark: start-up of small cairn commands against a bare JVM on the same JDK. Each command runs
# RUNS times (default 25) after a warm-up run (the first run of an installation records its
# start-up archive); the median wall time of each, through the installed launcher bin/cairn, is
# divided by the median of `java -Xshare:auto -version` measured in the same run, interleaved with
# the others so that a busy machine slows all of them alike. Prints
#   java -Xshare:auto -version: 0.0xx s
#   verity format 4k: ratio X.XX        (cairn verity format of a 4 KiB file)
#   version: ratio X.XX                 (cairn --version)
#   uki inspect: ratio X.XX             (cairn uki inspect of a 210 KB UKI)
#   goal: ratio <= 2.5 for each (JDK 17)
# The JDK is the launcher's: JAVA_HOME, else java on PATH. The UKI is made here by cairn uki build
# from Debian's systemd stub (systemd-boot-efi) with systemd-boot itself as a stand-in kernel (any
# PE image will do for inspect).
# Usage: bench/startup.sh     RUNS=N (default 25), CAIRN=.../bin/cairn (default: this checkout's build)
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS="${RUNS:-25}"
STUB=/usr/lib/systemd/boot/efi/linuxx64.efi.stub
KERNEL=/usr/lib/systemd/boot/efi/systemd-bootx64.efi
[ -f "$STUB" ] && [ -f "$KERNEL" ] || { echo "$STUB or $KERNEL missing: apt-get install systemd-boot-efi" >&2; exit 2; }
if [ -z "${CAIRN:-}" ]; then   # CAIRN=path/to/bin/cairn measures another installation
  ls cli/target/cairn-*/cairn-*/bin/cairn >/dev/null 2>&1 || ./mvnw -q -B package -DskipTests
  CAIRN=$(ls cli/target/cairn-*/cairn-*/bin/cairn | head -1)
fi
if [ -n "${JAVA_HOME:-}" ] && [ -x "$JAVA_HOME/bin/java" ]; then JAVA=$JAVA_HOME/bin/java; else JAVA=java; fi

work=$(mktemp -d "${TMPDIR:-/tmp}/cairn-bench-startup.XXXXXX")
trap 'rm -rf "$work"' EXIT
# A start-up archive of this run's own (recorded in the warm-up below): one in the shared cache
# may be replaced by another installation's while this runs.
export XDG_CACHE_HOME="$work/cache"
head -c 4096 /dev/zero | tr '\0' 'c' > "$work/4k.bin"
printf 'initrd' > "$work/initrd"
"$CAIRN" uki build --stub "$STUB" --linux "$KERNEL" --initrd "$work/initrd" --cmdline "console=ttyS0" \
  --output "$work/small.efi" > /dev/null 2>&1
echo "$("$JAVA" -version 2>&1 | head -1); UKI $(stat -c %s "$work/small.efi") B"

java_version() { "$JAVA" -Xshare:auto -version > /dev/null 2>&1; }
verity_4k() { "$CAIRN" verity format "$work/4k.bin" "$work/4k.hash" > /dev/null; }
version() { "$CAIRN" --version > /dev/null; }
uki_inspect() { "$CAIRN" uki inspect "$work/small.efi" > /dev/null; }
benches=(java_version verity_4k version uki_inspect)

for b in "${benches[@]}"; do "$b"; done   # warm-up: page cache, start-up archive
# wall time of one call in microseconds
time_us() {
  local t0 t1
  t0=$(date +%s%N); "$1"; t1=$(date +%s%N)
  echo $(( (t1 - t0) / 1000 ))
}
for b in "${benches[@]}"; do : > "$work/$b.times"; done
for _ in $(seq "$RUNS"); do
  for b in "${benches[@]}"; do time_us "$b" >> "$work/$b.times"; done
done
median() { sort -n "$1" | awk '{ a[NR] = $1 } END { print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }
base=$(median "$work/java_version.times")
printf 'java -Xshare:auto -version: %.3f s\n' "$(awk -v b="$base" 'BEGIN { print b / 1e6 }')"
for b in verity_4k version uki_inspect; do
  m=$(median "$work/$b.times")
  case $b in
    verity_4k) name="verity format 4k" ;;
    version) name="version" ;;
    uki_inspect) name="uki inspect" ;;
  esac
  awk -v n="$name" -v m="$m" -v b="$base" 'BEGIN { printf "%s: %.3f s, ratio %.2f\n", n, m / 1e6, m / b }'
done
echo "goal: ratio <= 2.5 for each (JDK 17)"
