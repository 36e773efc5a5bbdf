#!/usr/bin/env bash
# Regenerates results/validation/: the calibration (fitted on four scenarios, three held
# out), then the validation of every scenario without and with it.
set -uo pipefail
cd "$(dirname "$0")/../.."
[ -n "${ICTWIN_BIN:-}" ] || cargo build --release || exit 1
bin=${ICTWIN_BIN:-./target/release/ictwin}
v=experiments/validation
$bin calibrate $v/v-app-13-fast.toml $v/v-app-13-crashed-4.toml $v/v-app-13-slow.toml $v/v-gossip-100.toml \
    --holdout $v/v-app-13-silent-4.toml $v/v-app-13-equivocating.toml $v/v-nns-40.toml \
    --coarse-replicas 200 --iterations 40 \
    --out results/validation/calibration.toml --quiet || exit 1
# Validation exits 2 when a claimed metric disagrees; record that and go on.
$bin validate $v/*.toml --coarse-replicas 2000 --out results/validation/uncalibrated --quiet; echo "uncalibrated: exit $?"
$bin validate $v/*.toml --coarse-replicas 2000 --calibration results/validation/calibration.toml \
    --out results/validation/calibrated --quiet; echo "calibrated: exit $?"
# Random scenarios from the envelope the coarse model claims, uncalibrated (crypto time off).
$bin validate --random 24 --seed 1 --coarse-replicas 2000 --out results/validation/random --quiet; echo "random: exit $?"
# A second, independent random set (drawn on 2026-11-29 to check the model on scenarios it was
# never compared on before).
$bin validate --random 24 --seed 20261129 --coarse-replicas 2000 --out results/validation/random-20261129 --quiet; echo "random-20261129: exit $?"
