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
# Each real subnet predicted from its membership and geography (issue 12), and what the
# prediction leaves unexplained (experiments/real-ic/residuals.py).
./target/release/ictwin ic experiments/topology/mainnet-2025-12.toml --observed "$data" \
    --predict-replicas 512 --predict-rounds 100 --quiet --out results/real-ic/prediction
python3 experiments/real-ic/residuals.py --data "$data" --prediction results/real-ic/prediction \
    --out results/real-ic/prediction/residuals.md
