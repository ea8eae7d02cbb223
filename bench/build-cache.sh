#!/usr/bin/env bash
# Measure: the bundled example (examples/image.yaml, development keys) built cold into a fresh
# directory with --cache-to a registry, then built again into another fresh directory with
# --cache-from that registry (same keys, as a CI job on a new machine would). Debian's
# docker-registry on 127.0.0.1. JVM start included. Checks that both manifests are byte-identical
# and that rootfs, initramfs and uki came from the registry, then prints
#   cold build: X.XX s, from the registry cache: Y.YY s, ratio (cached/cold): Z.ZZ
# Needs: docker-registry, curl, jq, the example's Debian packages. Usage: bench/build-cache.sh
set -euo pipefail
cd "$(dirname "$0")/.."
for t in docker-registry curl jq; do
  command -v "$t" >/dev/null || { echo "$t missing: apt-get install docker-registry curl jq" >&2; exit 2; }
done
./cairn --version >/dev/null 2>&1 || ./mvnw -q -B package -DskipTests

work=$(mktemp -d "${TMPDIR:-/tmp}/cairn-bench-cache.XXXXXX")
reg_pid=
cleanup() { [ -n "$reg_pid" ] && kill "$reg_pid" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT

mkdir -p "$work/reg/data"
port=$(( 20000 + RANDOM % 20000 ))
printf 'version: 0.1\nlog: {level: error}\nstorage: {filesystem: {rootdirectory: %s}}\nhttp: {addr: 127.0.0.1:%s, secret: bench-only}\n' \
  "$work/reg/data" "$port" > "$work/reg/config.yml"
docker-registry serve "$work/reg/config.yml" > "$work/reg/log" 2>&1 &
reg_pid=$!
for _ in $(seq 200); do curl -fs "http://127.0.0.1:$port/v2/" >/dev/null 2>&1 && break; sleep 0.05; done
cache="127.0.0.1:$port/bench/cairn-cache"
now() { date +%s.%N; }

# the keys first (their generation is not part of either build), shared by both builds
./cairn build examples/image.yaml --out "$work/keys-only" --dev-keys "$work/keys" -q > /dev/null 2>&1
t0=$(now)
./cairn build examples/image.yaml --out "$work/cold" --dev-keys "$work/keys" --cache-to "$cache" --json > "$work/cold.json"
t1=$(now)
./cairn build examples/image.yaml --out "$work/warm" --dev-keys "$work/keys" --cache-from "$cache" --json > "$work/warm.json"
t2=$(now)
cmp "$work/cold/manifest.json" "$work/warm/manifest.json"
hits=$(jq -r '[.steps[] | select(.cache == "hit") | .step] | join(",")' "$work/warm.json")
[ "$hits" = "rootfs,initramfs,uki" ] || { echo "expected rootfs, initramfs and uki from the cache, got: $hits" >&2; exit 1; }
du -sb "$work/cold/rootfs.img" "$work/cold/initramfs.cpio.zst" | awk '{ printf "%s: %s bytes\n", $2, $1 }'
c=$(echo "$t1 - $t0" | bc -l); w=$(echo "$t2 - $t1" | bc -l)
printf 'cold build: %.2f s, from the registry cache: %.2f s, ratio (cached/cold): %.2f\n' "$c" "$w" "$(echo "$w / $c" | bc -l)"
