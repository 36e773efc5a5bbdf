#!/usr/bin/env bash
# CPU time (user + sys) of a coarse run unsharded vs split into 4 and 16 shards run one
# after another plus the merge, same thread count, repeated; -> results/bench/shard.csv.
# Usage: [ICTWIN_BIN=path] bash experiments/bench-shard.sh [REPEATS] [REPLICAS] [ROUNDS] [THREADS]
set -euo pipefail
cd "$(dirname "$0")/.."
REPEATS=${1:-3}; REPLICAS=${2:-4000}; ROUNDS=${3:-500}; THREADS=${4:-2}
# ICTWIN_BIN: an already built binary (skips the build).
B=${ICTWIN_BIN:-target/release/ictwin}
[ -n "${ICTWIN_BIN:-}" ] || cargo build --release -q
W=$(mktemp -d); trap 'rm -rf "$W"' EXIT
RUN=(run --engine cpu --quiet --replicas "$REPLICAS" --rounds "$ROUNDS" --seed 1 --threads "$THREADS")
TIMEFORMAT='%U %S %R'
cpu() { { time "$@" >/dev/null 2>&1 ; } 2>&1 | awk '{printf "%.3f,%.3f", $1 + $2, $3}'; }
sharded() {
    local n=$1 dirs=()
    for i in $(seq 0 $((n - 1))); do "$B" "${RUN[@]}" --shard "$i/$n" --out "$W/s$n-$i"; dirs+=("$W/s$n-$i"); done
    "$B" merge "${dirs[@]}" --out "$W/m$n"
}
mkdir -p results/bench
CSV=results/bench/shard.csv
echo "date,host_cpu,threads,replicas,rounds,repeat,shards,cpu_s,wall_s" > "$CSV"
CPU_NAME=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //; s/,/ /g')
for r in $(seq 1 "$REPEATS"); do
    for n in 1 4 16; do
        if [ "$n" = 1 ]; then t=$(cpu "$B" "${RUN[@]}" --out "$W/whole"); else t=$(cpu sharded "$n"); fi
        echo "$(date -u +%F),$CPU_NAME,$THREADS,$REPLICAS,$ROUNDS,$r,$n,$t" | tee -a "$CSV"
    done
done
