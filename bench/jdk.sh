#!/usr/bin/env bash
# Benchmark: the launcher's start-up cache on each JDK. Median wall time and CPU time (user+sys,
# less sensitive to other load on the machine), in seconds, of
#   --version, `verity format` of 4 KiB, `verity format` of 1 GiB (random data, page cache warm)
# in five set-ups, runs interleaved across set-ups so that load from elsewhere hits all alike:
#   jdk25-aot   JAVA_HOME=JDK 25, the launcher's AOT cache (its default on JDK 24+)
#   jdk25-cds   JAVA_HOME=JDK 25, a dynamic AppCDS archive recorded as on JDK 17 (same training)
#   jdk25-none  JAVA_HOME=JDK 25, CAIRN_CDS=0
#   jdk17-cds   JAVA_HOME=JDK 17, the launcher's AppCDS archive (its default there)
#   jdk17-none  JAVA_HOME=JDK 17, CAIRN_CDS=0
# plus each JDK's bare `java -Xshare:auto -version`, the first run (which records the cache) and the
# cache's size. Usage: bench/jdk.sh [size-in-MiB] (default 1024); RUNS (default 21) small runs and
# RUNS_BIG (default 5) big ones; JDK17 and JDK25 name the JDK homes.
set -euo pipefail
cd "$(dirname "$0")/.."
SIZE_MIB="${1:-1024}"
RUNS="${RUNS:-21}"
RUNS_BIG="${RUNS_BIG:-5}"
JDK17="${JDK17:-/usr/lib/jvm/java-17-openjdk-amd64}"
JDK25="${JDK25:-/usr/lib/jvm/temurin-25-jdk-amd64}"
for j in "$JDK17" "$JDK25"; do
  [ -x "$j/bin/java" ] || { echo "no JDK at $j (set JDK17 / JDK25)" >&2; exit 2; }
done
ls cli/target/cairn-*/cairn-*/bin/cairn >/dev/null 2>&1 || ./mvnw -q -B package -DskipTests
launcher=$(ls cli/target/cairn-*/cairn-*/bin/cairn | head -1)
main_jar=$(ls "$(dirname "$launcher")"/../lib/cairn-cli-*.jar)

work=$(mktemp -d "${TMPDIR:-/tmp}/cairn-bench.XXXXXX")
trap 'rm -rf "$work"' EXIT
head -c 4096 /dev/urandom > "$work/small.img"
echo "generating ${SIZE_MIB} MiB of data..."
head -c $((SIZE_MIB * 1024 * 1024)) /dev/urandom > "$work/big.img"
cat "$work/big.img" > /dev/null

TIMEFORMAT='%3R %3U %3S'
# appends "wall cpu" of a command to the named list
declare -A t
timed() { # key, command...
  local key=$1 r; shift
  r=$( { time "$@" > /dev/null 2>&1; } 2>&1 )
  t[$key]+="$(awk -v r="$r" 'BEGIN { split(r, a, " "); printf "%s:%.3f", a[1], a[2] + a[3] }') "
}
# median wall / median cpu of a list
med() {
  local l=${t[$1]}
  printf '%s/%s' "$(echo $l | tr ' ' '\n' | cut -d: -f1 | sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }')" \
    "$(echo $l | tr ' ' '\n' | cut -d: -f2 | sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }')"
}

# set-up name -> environment for the launcher
declare -A setup_env=(
  [jdk25-aot]="JAVA_HOME=$JDK25 XDG_CACHE_HOME=$work/c25aot"
  [jdk25-cds]="JAVA_HOME=$JDK25 XDG_CACHE_HOME=$work/c25cds"
  [jdk25-none]="JAVA_HOME=$JDK25 CAIRN_CDS=0"
  [jdk17-cds]="JAVA_HOME=$JDK17 XDG_CACHE_HOME=$work/c17cds"
  [jdk17-none]="JAVA_HOME=$JDK17 CAIRN_CDS=0"
)
setups=(jdk25-aot jdk25-cds jdk25-none jdk17-cds jdk17-none)
run() { # set-up, args...
  local s=$1; shift
  # shellcheck disable=SC2086
  env -u JAVA_OPTS -u CAIRN_OPTS -u JAVA_TOOL_OPTIONS ${setup_env[$s]} "$launcher" "$@"
}

# first runs: record the caches
for s in jdk25-aot jdk17-cds; do
  timed "$s-first" run "$s" --version
  echo "$s first run (records the cache): wall/cpu $(med "$s-first") s, cache $(du -b "$work"/c${s:3:2}*/cairn/*/cairn.* | cut -f1) bytes"
done
# jdk25-cds: the same cache directory, with a dynamic archive recorded by the launcher's training run
# (flags as in bin/cairn) instead of the AOT cache
mkdir -p "$work/c25cds" && cp -r "$work/c25aot/cairn" "$work/c25cds/"
dir=$(dirname "$(ls "$work"/c25cds/cairn/*/cairn.aot)")
rm "$dir/cairn.aot"
"$JDK25/bin/java" -XX:+UseSerialGC -XX:+TieredCompilation -XX:-UsePerfData -Xss1m -Xlog:disable -Xlog:all=error:stderr \
  -XX:ArchiveClassesAtExit="$dir/cairn.jsa" -Dcairn.cds.training=true -jar "$main_jar" --help > /dev/null 2>&1
echo "jdk25-cds archive: $(du -b "$dir/cairn.jsa" | cut -f1) bytes"

for i in $(seq "$RUNS"); do
  timed java17-version "$JDK17/bin/java" -Xshare:auto -version
  timed java25-version "$JDK25/bin/java" -Xshare:auto -version
  for s in "${setups[@]}"; do
    timed "$s-version" run "$s" --version
    rm -f "$work/small.hash"
    timed "$s-small" run "$s" verity format "$work/small.img" "$work/small.hash"
  done
done
for i in $(seq "$RUNS_BIG"); do
  for s in "${setups[@]}"; do
    rm -f "$work/big.hash"
    timed "$s-big" run "$s" verity format "$work/big.img" "$work/big.hash"
  done
done

echo "wall/cpu seconds, median"
printf '%-11s %14s %14s %16s\n' "" "--version" "format 4KiB" "format ${SIZE_MIB}MiB"
for j in 17 25; do
  printf '%-11s %14s   (bare java -Xshare:auto -version)\n' "java$j" "$(med "java$j-version")"
done
for s in "${setups[@]}"; do
  printf '%-11s %14s %14s %16s\n' "$s" "$(med "$s-version")" "$(med "$s-small")" "$(med "$s-big")"
done
echo "($RUNS small and $RUNS_BIG big runs; $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg))"
