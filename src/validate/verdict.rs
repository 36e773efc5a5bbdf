//! The verdict rule of one compared metric: exact claims by their test at level `alpha`,
//! approximate claims by an effect size against a tolerance (a p-value never overrides the
//! tolerance: a large sample makes tiny differences significant, a small one hides large
//! ones).

use super::{Claim, Thresholds};

/// How the effect size of an approximate metric is measured.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Effect {
    /// Means and rates: |fine - coarse| against `tolerance` max(|fine|, |coarse|).
    Relative,
    /// Proportions in [0, 1]: |fine - coarse| against `tolerance` (absolute; a relative rule
    /// would call 0.001 vs 0.002 a 50% error).
    Absolute,
    /// Distributions: the Kolmogorov-Smirnov distance (the statistic) against `ks_tolerance`.
    Distance,
}

/// (fine - coarse) / max(|fine|, |coarse|): the relative difference [`Effect::Relative`]
/// judges, in [-2, 2]; 0 when both are 0, NaN when either is NaN.
pub fn relative_error(coarse: f64, fine: f64) -> f64 {
    let scale = coarse.abs().max(fine.abs());
    if coarse.is_nan() || fine.is_nan() {
        f64::NAN
    } else if scale == 0.0 {
        0.0
    } else {
        (fine - coarse) / scale
    }
}

/// Whether the two levels agree on one metric.
///
/// `coarse` and `fine` are the levels' values, NaN when a level has no sample (no notarized
/// or no finalized height): a metric neither level measured agrees, one only a level measured
/// disagrees. Otherwise an exact claim agrees iff its test's `p` >= `alpha` (an undefined
/// p-value does not confirm anything: disagree); an approximate claim iff its effect size is
/// within the tolerance of `effect`, whatever `p` (`distance` is the KS distance for
/// [`Effect::Distance`], unused otherwise).
pub fn agrees(claim: Claim, effect: Effect, coarse: f64, fine: f64, distance: f64, p: f64, th: &Thresholds) -> bool {
    match (coarse.is_nan(), fine.is_nan()) {
        (true, true) => return true,
        (true, false) | (false, true) => return false,
        (false, false) => {}
    }
    match claim {
        Claim::Exact => p >= th.alpha,
        Claim::Approximate => match effect {
            Effect::Relative => relative_error(coarse, fine).abs() <= th.tolerance,
            Effect::Absolute => (fine - coarse).abs() <= th.tolerance,
            Effect::Distance => distance <= th.ks_tolerance,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TH: Thresholds = Thresholds {
        alpha: 0.001,
        tolerance: 0.10,
        ks_tolerance: 0.25,
    };

    #[test]
    fn a_large_difference_disagrees_whatever_the_p_value() {
        // The run that motivated the rule: mean round 831 ms (coarse) vs 6,674 ms (fine) was
        // "agree" because the fine sample was small (p above alpha).
        assert!(!agrees(
            Claim::Approximate,
            Effect::Relative,
            831.0,
            6674.0,
            f64::NAN,
            0.4,
            &TH
        ));
        assert!((relative_error(831.0, 6674.0) - (6674.0 - 831.0) / 6674.0).abs() < 1e-12);
        // A KS distance beyond its tolerance disagrees even with a large p-value.
        assert!(!agrees(
            Claim::Approximate,
            Effect::Distance,
            300.0,
            310.0,
            0.3,
            0.9,
            &TH
        ));
        assert!(!agrees(
            Claim::Approximate,
            Effect::Absolute,
            0.80,
            0.95,
            f64::NAN,
            0.5,
            &TH
        ));
    }

    #[test]
    fn a_difference_within_tolerance_agrees_even_when_significant() {
        // 345.8 vs 346.6 ms: 0.2%, p tiny with a huge sample: agree.
        assert!(agrees(
            Claim::Approximate,
            Effect::Relative,
            345.8,
            346.6,
            f64::NAN,
            1e-9,
            &TH
        ));
        // 9.5% either way agrees (the scale is the larger of both), 10.5% does not.
        assert!(agrees(
            Claim::Approximate,
            Effect::Relative,
            1000.0,
            905.0,
            f64::NAN,
            0.0,
            &TH
        ));
        assert!(agrees(
            Claim::Approximate,
            Effect::Relative,
            905.0,
            1000.0,
            f64::NAN,
            0.0,
            &TH
        ));
        assert!(!agrees(
            Claim::Approximate,
            Effect::Relative,
            1000.0,
            895.0,
            f64::NAN,
            0.9,
            &TH
        ));
        assert!(agrees(
            Claim::Approximate,
            Effect::Relative,
            0.0,
            0.0,
            f64::NAN,
            f64::NAN,
            &TH
        ));
        assert!(agrees(
            Claim::Approximate,
            Effect::Distance,
            340.0,
            341.0,
            0.06,
            1e-12,
            &TH
        ));
        assert!(agrees(
            Claim::Approximate,
            Effect::Absolute,
            0.983,
            1.0,
            f64::NAN,
            1e-6,
            &TH
        ));
    }

    #[test]
    fn exact_claims_follow_their_test() {
        assert!(agrees(
            Claim::Exact,
            Effect::Absolute,
            0.9228,
            0.9237,
            f64::NAN,
            0.90,
            &TH
        ));
        assert!(!agrees(Claim::Exact, Effect::Absolute, 0.92, 0.93, f64::NAN, 1e-4, &TH));
        assert!(!agrees(
            Claim::Exact,
            Effect::Absolute,
            0.92,
            0.93,
            f64::NAN,
            f64::NAN,
            &TH
        ));
    }

    #[test]
    fn a_metric_only_one_level_measured_disagrees() {
        for claim in [Claim::Exact, Claim::Approximate] {
            for effect in [Effect::Relative, Effect::Absolute, Effect::Distance] {
                assert!(agrees(claim, effect, f64::NAN, f64::NAN, f64::NAN, f64::NAN, &TH));
                assert!(!agrees(claim, effect, f64::NAN, 400.0, f64::NAN, 1.0, &TH));
                assert!(!agrees(claim, effect, 400.0, f64::NAN, f64::NAN, 1.0, &TH));
            }
        }
        assert!(relative_error(f64::NAN, 1.0).is_nan());
        assert_eq!(relative_error(0.0, 0.0), 0.0);
    }
}
