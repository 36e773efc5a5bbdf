//! Two-sample test of proportions (events out of trials) that accounts for the uncertainty of
//! both samples, also when one of them has no event (or only events).
//!
//! The test is the two-proportion z-test with a pooled estimate: under H0 both samples share
//! one proportion p, estimated by p0 = (x_a + x_b) / (n_a + n_b), so each sample's variance
//! is p0 (1 - p0) deff / n, nonzero even for a sample with 0 of n events. Trials within a
//! replica are correlated (backoff clusters unfinalized heights, a stall lasts), so each
//! sample's binomial variance is multiplied by its *design effect* deff, the batch-means
//! variance of its proportion over the binomial one, floored at 1. A sample whose own design
//! effect cannot be estimated (no event, only events, fewer than 2 batches) takes the other
//! sample's: under H0 both come from the same process.

use super::batch::ratio_se;
use super::homogeneity::normal_p;

/// One sample of a proportion: `events` out of `trials` (counts, >= 0, events <= trials).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Proportion {
    /// Number of events (e.g. unfinalized heights).
    pub events: f64,
    /// Number of trials (e.g. notarized heights).
    pub trials: f64,
    /// Variance of the estimate over the binomial variance events/trials (1 - events/trials)
    /// / trials; `None` when it cannot be estimated (see [`Proportion::from_batches`]).
    pub design_effect: Option<f64>,
}

impl Proportion {
    /// A sample of independent trials (design effect 1).
    pub fn independent(events: f64, trials: f64) -> Self {
        Proportion {
            events,
            trials,
            design_effect: Some(1.0),
        }
    }

    /// A sample from per-batch counts (batches independent, trials within one correlated):
    /// the totals, and the design effect = (batch-means standard error of the ratio)^2 over
    /// the binomial variance; `None` when the sample has no event, only events, or fewer than
    /// two batches with trials (the batch-means error is then 0 or undefined).
    pub fn from_batches(events: &[f64], trials: &[f64]) -> Self {
        let (x, n) = (events.iter().sum::<f64>(), trials.iter().sum::<f64>());
        let p = if n > 0.0 { x / n } else { f64::NAN };
        let binomial_var = p * (1.0 - p) / n;
        let se = ratio_se(events, trials);
        let design_effect = (binomial_var > 0.0 && se.is_finite()).then(|| se * se / binomial_var);
        Proportion {
            events: x,
            trials: n,
            design_effect,
        }
    }

    /// events / trials; NaN without trials.
    pub fn ratio(&self) -> f64 {
        if self.trials > 0.0 {
            self.events / self.trials
        } else {
            f64::NAN
        }
    }
}

/// Two-sided two-proportion z-test of H0: both samples have the same proportion, with the
/// pooled estimate and design effects of the module doc. Returns (z, p-value), z =
/// (ratio_b - ratio_a) / se. (NaN, NaN) when a sample has no trials; (0, 1) when the pooled
/// proportion is 0 or 1 (both samples without events, or both all events: identical).
pub fn two_proportion_test(a: &Proportion, b: &Proportion) -> (f64, f64) {
    if a.trials <= 0.0 || b.trials <= 0.0 || a.trials.is_nan() || b.trials.is_nan() {
        return (f64::NAN, f64::NAN);
    }
    let pooled = (a.events + b.events) / (a.trials + b.trials);
    if pooled <= 0.0 || pooled >= 1.0 {
        return (0.0, 1.0);
    }
    let deff = |own: &Proportion, other: &Proportion| {
        own.design_effect
            .or(other.design_effect)
            .filter(|d| d.is_finite())
            .unwrap_or(1.0)
            .max(1.0)
    };
    let var = pooled * (1.0 - pooled) * (deff(a, b) / a.trials + deff(b, a) / b.trials);
    let z = (b.ratio() - a.ratio()) / var.sqrt();
    (z, normal_p(z))
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::rngs::StdRng;
    use rand::{Rng, SeedableRng};

    const ALPHA: f64 = 0.001;

    #[test]
    fn zero_events_against_a_handful_is_not_a_difference() {
        // Fine: no unfinalized height in 4000; coarse: 5 in 100000. A z-test with the fine
        // sample's own (zero) error rejected this; the pooled test does not.
        let (z, p) = two_proportion_test(
            &Proportion::independent(5.0, 100_000.0),
            &Proportion::independent(0.0, 4000.0),
        );
        assert!(p >= ALPHA, "z = {z}, p = {p}");
        assert!(p > 0.5, "z = {z}, p = {p}");
        // The same ratio against 20,000 coarse replicas x 200 heights: the coarse error alone
        // (sqrt(200) / 4e6) made this z = 14; the pooled variance keeps the fine sample's.
        let (z, p) = two_proportion_test(
            &Proportion::independent(200.0, 4_000_000.0),
            &Proportion::independent(0.0, 4000.0),
        );
        assert!(p >= ALPHA && z.abs() < 1.0, "z = {z}, p = {p}");
        // Also with the batch layout: the fine sample's design effect is undefined (no
        // event), the coarse one's is taken.
        let coarse = Proportion::from_batches(&[1.0, 0.0, 2.0, 0.0, 2.0], &[20_000.0; 5]);
        let fine = Proportion::from_batches(&[0.0; 4], &[1000.0; 4]);
        assert_eq!(fine.design_effect, None);
        assert!(coarse.design_effect.is_some());
        assert!(two_proportion_test(&coarse, &fine).1 >= ALPHA);
    }

    #[test]
    fn a_real_difference_is_rejected() {
        let (z, p) = two_proportion_test(
            &Proportion::independent(150.0, 3000.0),
            &Proportion::independent(300.0, 3000.0),
        );
        assert!(p < ALPHA && z > 0.0, "z = {z}, p = {p}");
        // No events in 4000 against 0.5% in 100000 (20 expected) is a difference too.
        let (_, p) = two_proportion_test(
            &Proportion::independent(500.0, 100_000.0),
            &Proportion::independent(0.0, 4000.0),
        );
        assert!(p < ALPHA, "p = {p}");
    }

    #[test]
    fn identical_and_empty_samples() {
        let none = Proportion::independent(0.0, 100.0);
        assert_eq!(two_proportion_test(&none, &none), (0.0, 1.0));
        let all = Proportion::independent(100.0, 100.0);
        assert_eq!(
            two_proportion_test(&all, &Proportion::independent(7.0, 7.0)),
            (0.0, 1.0)
        );
        let empty = Proportion::independent(0.0, 0.0);
        let (z, p) = two_proportion_test(&empty, &none);
        assert!(z.is_nan() && p.is_nan());
        assert!(empty.ratio().is_nan());
    }

    #[test]
    fn design_effect_widens_the_test() {
        // Equal batches: batch-means variance of clustered events is above the binomial one.
        let clustered = Proportion::from_batches(&[0.0, 0.0, 0.0, 40.0], &[100.0; 4]);
        let d = clustered.design_effect.unwrap();
        assert!(d > 10.0, "design effect {d}");
        let other = Proportion::independent(20.0, 400.0);
        let p_iid = two_proportion_test(&Proportion::independent(40.0, 400.0), &other).1;
        let p_clustered = two_proportion_test(&clustered, &other).1;
        assert!(p_clustered > p_iid, "{p_clustered} vs {p_iid}");
        // A design effect below 1 (batches more even than binomial) is floored at 1.
        let even = Proportion::from_batches(&[10.0; 4], &[100.0; 4]);
        assert!(even.design_effect.unwrap() < 1.0);
        let p_even = two_proportion_test(&even, &other).1;
        assert_eq!(p_even, p_iid);
    }

    #[test]
    fn size_of_the_test_under_h0() {
        // Both samples Binomial(n, 0.002), fine-sized against coarse-sized; at level 0.05 the
        // rejection rate must not exceed 0.05 by more than 3 binomial standard errors
        // (sqrt(0.05 * 0.95 / reps)), nor be absurdly conservative.
        let mut rng = StdRng::seed_from_u64(20);
        let (reps, p) = (1000, 0.002);
        let draw = |rng: &mut StdRng, n: u32| (0..n).filter(|_| rng.random::<f64>() < p).count() as f64;
        let mut rejected = 0;
        for _ in 0..reps {
            let a = Proportion::independent(draw(&mut rng, 20_000), 20_000.0);
            let b = Proportion::independent(draw(&mut rng, 2000), 2000.0);
            rejected += (two_proportion_test(&a, &b).1 < 0.05) as u32;
        }
        let rate = rejected as f64 / reps as f64;
        let se = (0.05f64 * 0.95 / reps as f64).sqrt();
        assert!(rate <= 0.05 + 3.0 * se, "rejection rate {rate}");
        assert!(rate >= 0.005, "rejection rate {rate}");
    }
}

/// Wilson score 95% interval (lower, upper) of a proportion of `events` in `trials`
/// independent trials; defined (and informative) also for 0 or `trials` events; (NaN, NaN)
/// without trials.
pub fn wilson95(events: f64, trials: f64) -> (f64, f64) {
    if trials <= 0.0 {
        return (f64::NAN, f64::NAN);
    }
    let z = 1.959_963_984_540_054;
    let p = events / trials;
    let d = 1.0 + z * z / trials;
    let centre = (p + z * z / (2.0 * trials)) / d;
    let half = z * ((p * (1.0 - p) / trials + z * z / (4.0 * trials * trials)).sqrt()) / d;
    let lo = if events <= 0.0 { 0.0 } else { (centre - half).max(0.0) };
    let hi = if events >= trials {
        1.0
    } else {
        (centre + half).min(1.0)
    };
    (lo, hi)
}

#[cfg(test)]
mod wilson_tests {
    use super::wilson95;

    /// Known values: 0 of 10 -> [0, 0.2775]; 5 of 10 -> [0.2366, 0.7634].
    #[test]
    fn wilson_known_values() {
        let (lo, hi) = wilson95(0.0, 10.0);
        assert!(lo == 0.0 && (hi - 0.27753).abs() < 1e-4, "{hi}");
        let (lo, hi) = wilson95(5.0, 10.0);
        assert!((lo - 0.23659).abs() < 1e-4 && (hi - 0.76341).abs() < 1e-4, "{lo} {hi}");
    }
}
