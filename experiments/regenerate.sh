#!/usr/bin/env bash
# Regenerates results/<scenario>/ for every scenario in experiments/ (coarse engine, the
# sizes and seeds in the files), then the CPU benchmark figures in results/bench/cpu.csv.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release
for f in experiments/*.toml; do
    ./target/release/ictwin run "$f" --engine "${ICTWIN_ENGINE:-cpu}" --quiet --out "results/$(basename "$f" .toml)"
done
./target/release/ictwin bench --out results/bench/cpu.csv
