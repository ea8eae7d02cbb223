#!/usr/bin/env bash
# Benchmark: push a ~500 MB image (one tar+gzip layer of deterministic pseudo-random bytes) from an
# OCI layout to Debian's docker-registry on 127.0.0.1 with `cairn oci push` and with `skopeo copy`,
# each into a fresh, empty registry (no blob is skipped or mounted), JVM start included. Both
# pushed manifests are read back with skopeo so a broken push is never timed. Prints the best wall
# time of RUNS runs of each and
#   oci push ratio (cairn/skopeo): X.XX    (goal <= 1.0)
# Needs: docker-registry, skopeo, openssl, curl. Usage: bench/oci.sh   RUNS=N (default 3), SIZE_MB=N (default 500)
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS="${RUNS:-3}"
SIZE_MB="${SIZE_MB:-500}"
for t in docker-registry skopeo openssl curl; do
  command -v "$t" >/dev/null || { echo "$t missing: apt-get install docker-registry skopeo openssl curl" >&2; exit 2; }
done
./cairn --version >/dev/null 2>&1 || ./mvnw -q -B package -DskipTests

work=$(mktemp -d "${TMPDIR:-/tmp}/cairn-bench-oci.XXXXXX")
reg_pid=
cleanup() { [ -n "$reg_pid" ] && kill "$reg_pid" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT

mkdir -p "$work/tree"
{ openssl enc -aes-128-ctr -nosalt -K 000102030405060708090a0b0c0d0e0f -iv 00000000000000000000000000000000 \
  < /dev/zero 2>/dev/null || true; } | head -c $((SIZE_MB * 1000 * 1000)) > "$work/tree/payload"
echo "building the layout (tar+gzip layer of $SIZE_MB MB)..."
./cairn oci layer add "$work/lay:img" "$work/tree" --type tar+gzip > /dev/null
du -sb "$work/lay/blobs" | awk '{ printf "layout blobs: %s bytes\n", $1 }'

start_registry() {   # fresh storage each time: nothing to skip or mount
  rm -rf "$work/reg"; mkdir -p "$work/reg/data"
  port=$(( 20000 + RANDOM % 20000 ))
  printf 'version: 0.1\nlog: {level: error}\nstorage: {filesystem: {rootdirectory: %s}}\nhttp: {addr: 127.0.0.1:%s, secret: bench-only}\n' \
    "$work/reg/data" "$port" > "$work/reg/config.yml"
  docker-registry serve "$work/reg/config.yml" > "$work/reg/log" 2>&1 &
  reg_pid=$!
  for _ in $(seq 200); do curl -fs "http://127.0.0.1:$port/v2/" >/dev/null 2>&1 && return 0; sleep 0.05; done
  echo "docker-registry did not start: $(cat "$work/reg/log")" >&2; exit 1
}
stop_registry() { kill "$reg_pid" 2>/dev/null; wait "$reg_pid" 2>/dev/null || true; reg_pid=; }
now() { date +%s.%N; }

best_cairn=999999; best_skopeo=999999
for i in $(seq "$RUNS"); do
  start_registry
  t0=$(now); ./cairn oci push "$work/lay:img" "127.0.0.1:$port/bench/app:1" > /dev/null; t1=$(now)
  skopeo inspect --raw --tls-verify=false "docker://127.0.0.1:$port/bench/app:1" > /dev/null
  stop_registry
  start_registry
  t2=$(now); skopeo copy -q --dest-tls-verify=false "oci:$work/lay:img" "docker://127.0.0.1:$port/bench/app:1"; t3=$(now)
  skopeo inspect --raw --tls-verify=false "docker://127.0.0.1:$port/bench/app:1" > /dev/null
  stop_registry
  c=$(echo "$t1 - $t0" | bc -l); s=$(echo "$t3 - $t2" | bc -l)
  printf 'run %d: cairn %.3f s, skopeo %.3f s\n' "$i" "$c" "$s"
  best_cairn=$(echo "if ($c < $best_cairn) $c else $best_cairn" | bc -l)
  best_skopeo=$(echo "if ($s < $best_skopeo) $s else $best_skopeo" | bc -l)
done
printf 'best: cairn %.3f s, skopeo %.3f s\n' "$best_cairn" "$best_skopeo"
printf 'oci push ratio (cairn/skopeo): %.2f\n' "$(echo "$best_cairn / $best_skopeo" | bc -l)"
