#!/usr/bin/env bash
# Regenerates results/ic/<name>/ for every fault file experiments/ic/faults-<name>.toml on the
# mainnet topology (sizes and seeds in the files), then the IC-kernel benchmark figures in
# results/bench/ic.csv.
set -euo pipefail
cd "$(dirname "$0")/../.."
cargo build --release
for f in experiments/ic/faults-*.toml; do
    name=$(basename "$f" .toml)
    ./target/release/ictwin ic experiments/topology/mainnet-2025-12.toml --faults "$f" --quiet \
        --no-predict --out "results/ic/${name#faults-}"
done
./target/release/ictwin bench-ic --out results/bench/ic.csv
