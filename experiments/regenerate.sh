#!/usr/bin/env bash
# Regenerates results/<scenario>/ for every scenario in experiments/ (coarse engine, the
# sizes and seeds in the files), the sweeps of experiments/sweeps/ into results/sweeps/<name>/,
# then the CPU benchmark figures in results/bench/cpu.csv.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release
for f in experiments/*.toml; do
    ./target/release/ictwin run "$f" --engine "${ICTWIN_ENGINE:-cpu}" --quiet --out "results/$(basename "$f" .toml)"
done
for f in experiments/sweeps/*.toml; do
    ./target/release/ictwin sweep "$f" --engine "${ICTWIN_ENGINE:-cpu}" --quiet --out "results/sweeps/$(basename "$f" .toml)"
done
./target/release/ictwin bench --out results/bench/cpu.csv
