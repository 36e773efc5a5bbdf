#!/usr/bin/env bash
# Regenerates results/validation/: the calibration (fitted on four scenarios, three held
# out), then the validation of every scenario without and with it.
set -uo pipefail
cd "$(dirname "$0")/../.."
cargo build --release || exit 1
bin=./target/release/ictwin
v=experiments/validation
$bin calibrate $v/v-app-13-fast.toml $v/v-app-13-crashed-4.toml $v/v-app-13-slow.toml $v/v-gossip-100.toml \
    --holdout $v/v-app-13-silent-4.toml $v/v-app-13-equivocating.toml $v/v-nns-40.toml \
    --out results/validation/calibration.toml --quiet || exit 1
# Validation exits 2 when a claimed metric disagrees; record that and go on.
$bin validate $v/*.toml --out results/validation/uncalibrated --quiet; echo "uncalibrated: exit $?"
$bin validate $v/*.toml --calibration results/validation/calibration.toml \
    --out results/validation/calibrated --quiet; echo "calibrated: exit $?"
