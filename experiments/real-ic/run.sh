#!/usr/bin/env bash
# Regenerates results/real-ic/: one coarse CPU run of every preset in experiments/real-ic/ (the
# sizes and seeds in the files) into results/real-ic/<preset>/, then the observed distributions of
# the real network and the comparison table (experiments/real-ic/summarize.py, Python 3 stdlib).
# The real-network data is read from ../shared/data/real-ic/ (override: ICTWIN_REAL_IC_DATA=DIR).
set -euo pipefail
cd "$(dirname "$0")/../.."
data="${ICTWIN_REAL_IC_DATA:-../shared/data/real-ic}"
[ -f "$data/subnet_days.csv" ] || { echo "run.sh: no $data/subnet_days.csv (set ICTWIN_REAL_IC_DATA)" >&2; exit 1; }
cargo build --release
for f in experiments/real-ic/*.toml; do
    ./target/release/ictwin run "$f" --engine cpu --quiet --out "results/real-ic/$(basename "$f" .toml)"
done
python3 experiments/real-ic/summarize.py --data "$data" --results results/real-ic
