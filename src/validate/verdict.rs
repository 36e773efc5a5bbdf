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

/// Fewest samples (notarized, finalized or certified heights; round steps for the stalled
/// ratio) each level needs before an approximate metric is judged: below it a 10% tolerance
/// is not resolvable for round times with a coefficient of variation of 0.5 or more (the
/// standard error of the mean alone is 5% at 100), so neither verdict would mean anything.
pub const MIN_SAMPLES: f64 = 100.0;

/// The outcome of one compared metric.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// The levels agree under the metric's claim.
    Agree,
    /// They do not.
    Disagree,
    /// A level has too few samples to judge it: fewer than [`MIN_SAMPLES`] for an
    /// approximate claim, none for an exact one (its test is undefined). Typical of stall
    /// checks, whose replicas notarize a handful of heights before they stall for good.
    TooFew,
}

/// The verdict of the two levels on one metric.
///
/// `coarse` and `fine` are the levels' values, NaN when a level has no sample (no notarized
/// or no finalized height), and `samples` how many samples each level has (coarse, fine). A
/// metric neither level measured (both NaN, or no sample at either: a block rate of 0 in a
/// subnet stalled from its first height) agrees. A level with too few samples (see
/// [`Verdict::TooFew`]) makes it [`Verdict::TooFew`] (a level without a value has no
/// sample); otherwise an exact claim agrees iff its test's `p` >= `alpha` (an undefined
/// p-value does not confirm anything: disagree); an approximate claim iff its effect size is
/// within the tolerance of `effect`, whatever `p` (`distance` is the KS distance for
/// [`Effect::Distance`], unused otherwise).
#[allow(clippy::too_many_arguments)]
pub fn verdict(
    claim: Claim,
    effect: Effect,
    coarse: f64,
    fine: f64,
    samples: (f64, f64),
    distance: f64,
    p: f64,
    th: &Thresholds,
) -> Verdict {
    if (coarse.is_nan() && fine.is_nan()) || samples == (0.0, 0.0) {
        return Verdict::Agree;
    }
    let fewest = samples.0.min(samples.1);
    let needed = match claim {
        Claim::Exact => 1.0,
        Claim::Approximate => MIN_SAMPLES,
    };
    if fewest < needed {
        return Verdict::TooFew;
    }
    if agrees(claim, effect, coarse, fine, distance, p, th) {
        Verdict::Agree
    } else {
        Verdict::Disagree
    }
}

/// Whether the two levels agree on one metric, both with enough samples (see [`verdict`]):
/// a metric neither level measured agrees, one only a level measured disagrees; an exact
/// claim agrees iff its test's `p` >= `alpha`, an approximate one iff its effect size is
/// within the tolerance of `effect`, whatever `p`.
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
        // "agree" because the fine sample was noisy (p above alpha). With at least
        // MIN_SAMPLES heights at each level it disagrees (below that: too few samples).
        let v = verdict(
            Claim::Approximate,
            Effect::Relative,
            831.0,
            6674.0,
            (1e6, 4000.0),
            f64::NAN,
            0.4,
            &TH,
        );
        assert_eq!(v, Verdict::Disagree);
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
    fn a_handful_of_heights_is_too_few_to_judge() {
        // A stall check (random-20261129-7): the fine engine notarized 6 heights before its
        // replicas stalled for good, mean round 724 ms against the coarse 1,476 ms, p = 0.2.
        let v = |n_fine: f64| {
            verdict(
                Claim::Approximate,
                Effect::Relative,
                1476.0,
                724.0,
                (1000.0, n_fine),
                f64::NAN,
                0.2,
                &TH,
            )
        };
        assert_eq!(v(6.0), Verdict::TooFew);
        assert_eq!(v(MIN_SAMPLES - 1.0), Verdict::TooFew);
        // With enough heights the same difference disagrees, whatever p.
        assert_eq!(v(MIN_SAMPLES), Verdict::Disagree);
        // A metric one level could not measure at all (no notarized height in 8 replicas).
        let none = verdict(
            Claim::Exact,
            Effect::Distance,
            0.53,
            f64::NAN,
            (1078.0, 0.0),
            f64::NAN,
            f64::NAN,
            &TH,
        );
        assert_eq!(none, Verdict::TooFew);
        // An exact claim with a few samples is judged by its test, which accounts for them.
        let few = verdict(
            Claim::Exact,
            Effect::Absolute,
            1.0,
            0.8,
            (1000.0, 5.0),
            f64::NAN,
            1e-4,
            &TH,
        );
        assert_eq!(few, Verdict::Disagree);
        // Neither level measured it: agree (both say there is nothing).
        let nothing = verdict(
            Claim::Approximate,
            Effect::Relative,
            f64::NAN,
            f64::NAN,
            (0.0, 0.0),
            f64::NAN,
            f64::NAN,
            &TH,
        );
        assert_eq!(nothing, Verdict::Agree);
        // A block rate of 0 at both levels of a subnet that never notarizes (random-1-0).
        let stalled = verdict(
            Claim::Approximate,
            Effect::Relative,
            0.0,
            0.0,
            (0.0, 0.0),
            0.0,
            1.0,
            &TH,
        );
        assert_eq!(stalled, Verdict::Agree);
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
