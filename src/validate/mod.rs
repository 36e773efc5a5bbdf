//! `ictwin validate`: the coarse model checked against the fine engine, scenario by scenario.
//!
//! Both levels run the same scenario with independent seeds; their aggregate arrays (same
//! layout) are compared metric by metric with a test and an effect size:
//! - notarized-rank distribution: chi-square test of homogeneity (sparse bins pooled) when
//!   exact, the Kolmogorov-Smirnov distance of the rank distributions when approximate;
//! - stalled and finalized ratios: two-proportion z-test with a pooled estimate and
//!   batch-means design effects (rounds within a replica are correlated), so that a sample
//!   with no event still has its binomial uncertainty ([`crate::stats::proportion`]);
//! - round and finalization time: two-sample Kolmogorov-Smirnov on the shared 1 ms histogram
//!   bins (distance = effect size; the p-value treats rounds as independent, which is
//!   optimistic under backoff) and the difference of means with its 95% CI;
//! - block rate: difference with its 95% CI.
//!
//! Each metric is *exact* (the coarse model claims to reproduce it with no calibration:
//! combinatorial quantities, rank distribution and stall probability under static faults, when
//! the network is fast against U) or *approximate* (timing, where unsynchronized node views,
//! crypto time and gossip hops matter). An exact metric disagrees when its test rejects at
//! level `alpha`. An approximate one disagrees when its effect size exceeds the tolerance,
//! whatever its p-value ([`verdict::agrees`]): a mean or rate when |fine - coarse| >
//! `tolerance` max(|fine|, |coarse|), a proportion when |fine - coarse| > `tolerance`, a
//! distribution when its KS distance > `ks_tolerance`. A metric is judged only when both levels
//! have enough samples of it ([`verdict::verdict`]: at least [`verdict::MIN_SAMPLES`] heights
//! for an approximate claim, one for an exact one, whose test accounts for the sample sizes);
//! otherwise its verdict is `too few samples`, neither agreement nor disagreement (a stall
//! check's replicas notarize a handful of heights before they stall for good); with no
//! sample at either level it agrees (both say nothing happened). How many
//! samples a level has is itself judged by the ratio behind it (no finalized height among
//! many notarized ones shows in `finalized_ratio`, no notarized height in `stalled_ratio`,
//! both over samples that are never too few). Any disagreement makes the command exit non-zero.
//!
//! - this module: the comparison of one scenario ([`compare`]) and the runs of both levels;
//! - [`verdict`]: the agreement rule; [`summary`]: effect sizes across many scenarios (the
//!   random scenarios of [`crate::scenario::random`]).

pub mod summary;
pub mod verdict;

use crate::coarse::{prepare, run_cpu};
use crate::fine;
use crate::progress::{stop_flag, Progress};
use crate::scenario::Scenario;
use crate::stats::{self, batch_field, chi_square_homogeneity, ks_binned, normal_p, two_proportion_test, Proportion};
use anyhow::Result;
use ictwin_kernels::agg::{self, RANK_BINS, TIME_BINS};
pub use verdict::{agrees, relative_error, verdict, Effect, Verdict, MIN_SAMPLES};

/// Whether the coarse model claims a metric exactly or approximately.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Claim {
    /// Reproduced with no calibration: judged by the test at level `alpha`.
    Exact,
    /// Judged by an effect-size tolerance (relative for means, absolute for distances).
    Approximate,
}

impl Claim {
    /// `exact` or `approximate`, as in `validation.csv` and the verdict table.
    pub fn label(self) -> &'static str {
        match self {
            Claim::Exact => "exact",
            Claim::Approximate => "approximate",
        }
    }
}

/// One compared metric.
#[derive(Clone, Debug)]
pub struct Comparison {
    /// Scenario name.
    pub scenario: String,
    /// Metric name (a `summary.csv` column or `<quantity>_distribution`).
    pub metric: &'static str,
    /// Exact or approximate.
    pub claim: Claim,
    /// How the effect size is measured when the claim is approximate.
    pub effect: Effect,
    /// The coarse model's value: the metric itself; for `notarized_rank_distribution` the
    /// mean rank, for the time distributions the median (ms, lower bin edge). NaN when the
    /// level has no sample.
    pub coarse: f64,
    /// The fine engine's value (as `coarse`).
    pub fine: f64,
    /// (fine - coarse) / max(|fine|, |coarse|) for means and rates ([`Effect::Relative`]),
    /// the quantity the tolerance judges; NaN for proportions and distributions.
    pub rel_error: f64,
    /// CI half-width of the difference, or the test statistic (see `statistic_kind`).
    pub statistic: f64,
    /// What `statistic` is (`z`, `chi2`, `ks distance`, `ci95 of difference`).
    pub statistic_kind: &'static str,
    /// p-value of the test (NaN when undefined).
    pub p_value: f64,
    /// Samples behind the values (coarse, fine): notarized heights, finalized heights for the
    /// finalization metrics, certified heights for certification, round steps for the
    /// stalled ratio.
    pub samples: (f64, f64),
    /// The levels' verdict on this metric under its claim.
    pub outcome: Verdict,
}

impl Comparison {
    /// `agree`, `DISAGREE` or `too few samples`.
    pub fn verdict(&self) -> &'static str {
        match self.outcome {
            Verdict::Agree => "agree",
            Verdict::Disagree => "DISAGREE",
            Verdict::TooFew => "too few samples",
        }
    }

    /// Whether the levels agree on this metric.
    pub fn agrees(&self) -> bool {
        self.outcome == Verdict::Agree
    }

    /// Whether the levels disagree on this metric (not merely too few samples to judge).
    pub fn disagrees(&self) -> bool {
        self.outcome == Verdict::Disagree
    }

    /// Whether a level has too few samples to judge this metric ([`Verdict::TooFew`]).
    pub fn too_few(&self) -> bool {
        self.outcome == Verdict::TooFew
    }

    /// The effect size of this row and its name, for summaries across scenarios:
    /// |`rel_error`| for means and rates, the KS distance for distributions judged by it,
    /// |fine - coarse| for proportions; `None` for a chi-square row (judged by its test only).
    pub fn effect_size(&self) -> Option<(&'static str, f64)> {
        match self.effect {
            Effect::Relative => Some(("relative error (abs)", self.rel_error.abs())),
            Effect::Absolute => Some(("difference (abs)", (self.fine - self.coarse).abs())),
            Effect::Distance if self.statistic_kind == KS_KIND => Some(("ks distance", self.statistic)),
            Effect::Distance => None,
        }
    }
}

/// `statistic_kind` of a Kolmogorov-Smirnov distance.
pub const KS_KIND: &str = "ks distance";

/// Whether the scenario's network is fast against U, so that the block of rank r* reaches
/// every node long before rank r*+1 is considered: then rank and stall are combinatorial.
pub fn fast_network(s: &Scenario) -> bool {
    let d999 = s.network.delay.quantile_ms(0.999) * s.calibration.as_ref().map(|c| c.delay_scale).unwrap_or(1.0);
    d999 + s.subnet.initial_notary_delay_ms < s.subnet.unit_delay_ms
}

/// Acceptance thresholds of [`compare`].
#[derive(Clone, Copy, Debug)]
pub struct Thresholds {
    /// Level of the tests of exact metrics.
    pub alpha: f64,
    /// Relative difference accepted for approximate means and rates (|fine - coarse| over
    /// the larger magnitude); absolute difference accepted for approximate proportions.
    pub tolerance: f64,
    /// Kolmogorov-Smirnov distance accepted for approximate distributions (times; ranks on
    /// slow networks).
    pub ks_tolerance: f64,
}

/// One row before its verdict: metric, claim, effect, values, statistic, its kind, p-value.
type Row = (&'static str, Claim, Effect, f64, f64, f64, &'static str, f64);

/// Compares the aggregates of both levels (same layout) on one scenario, metric by metric.
pub fn compare(s: &Scenario, coarse: &[u64], fine: &[u64], th: Thresholds) -> Vec<Comparison> {
    let (c, f) = (stats::from_aggregates(coarse), stats::from_aggregates(fine));
    let fast = fast_network(s);
    let static_faults = !s.dynamic_failures();
    let exact_if = |cond: bool| if cond { Claim::Exact } else { Claim::Approximate };
    let mut rows: Vec<Row> = Vec::new();
    // Rank distribution: chi-square when exact, KS distance of the rank CDFs when approximate.
    let ranks = |a: &[u64]| a[agg::HIST_RANK as usize..(agg::HIST_RANK + RANK_BINS) as usize].to_vec();
    let claim = exact_if(fast && static_faults);
    let (statistic, kind, p) = match claim {
        Claim::Exact => {
            let (chi2, dof, p) = chi_square_homogeneity(&ranks(coarse), &ranks(fine));
            (chi2, if dof > 0 { "chi2" } else { "chi2 (one cell)" }, p)
        }
        Claim::Approximate => {
            let (d, p) = ks_binned(&ranks(coarse), &ranks(fine));
            (d, KS_KIND, p)
        }
    };
    rows.push((
        "notarized_rank_distribution",
        claim,
        Effect::Distance,
        c.mean_notarized_rank,
        f.mean_notarized_rank,
        statistic,
        kind,
        p,
    ));
    // Proportions: pooled two-proportion test with batch-means design effects.
    let steps = |a: &[u64]| -> Vec<f64> {
        batch_field(a, agg::F_NOTARIZED)
            .iter()
            .zip(batch_field(a, agg::F_STALLED))
            .map(|(x, y)| x + y)
            .collect()
    };
    for (metric, claim, events, trials) in [
        ("stalled_ratio", exact_if(static_faults), agg::F_STALLED, None),
        (
            "finalized_ratio",
            exact_if(fast && static_faults),
            agg::F_FINALIZED,
            Some(agg::F_NOTARIZED),
        ),
    ] {
        let sample = |a: &[u64]| {
            let n = trials.map(|t| batch_field(a, t)).unwrap_or_else(|| steps(a));
            Proportion::from_batches(&batch_field(a, events), &n)
        };
        let (pc, pf) = (sample(coarse), sample(fine));
        let (z, p) = two_proportion_test(&pc, &pf);
        rows.push((metric, claim, Effect::Absolute, pc.ratio(), pf.ratio(), z, "z", p));
    }
    // Timing: means (relative tolerance) and distributions (KS distance).
    let hist = |a: &[u64], off: u32| a[off as usize..(off + TIME_BINS) as usize].to_vec();
    for (metric, ks_metric, off, (cm, fm), (cci, fci), (c50, f50)) in [
        (
            "mean_round_ms",
            "round_ms_distribution",
            agg::HIST_ROUND,
            (c.mean_round_ms, f.mean_round_ms),
            (c.mean_round_ms_ci95, f.mean_round_ms_ci95),
            (c.round_ms_p50, f.round_ms_p50),
        ),
        (
            "mean_finalization_ms",
            "finalization_ms_distribution",
            agg::HIST_FIN,
            (c.mean_finalization_ms, f.mean_finalization_ms),
            (c.mean_finalization_ms_ci95, f.mean_finalization_ms_ci95),
            (c.finalization_ms_p50, f.finalization_ms_p50),
        ),
    ] {
        let (ci, p) = difference_ci(cm, fm, cci, fci);
        rows.push((
            metric,
            Claim::Approximate,
            Effect::Relative,
            cm,
            fm,
            ci,
            "ci95 of difference",
            p,
        ));
        let (d, p) = ks_binned(&hist(coarse, off), &hist(fine, off));
        rows.push((ks_metric, Claim::Approximate, Effect::Distance, c50, f50, d, KS_KIND, p));
    }
    let (ci, p) = difference_ci(
        c.block_rate_per_s,
        f.block_rate_per_s,
        c.block_rate_per_s_ci95,
        f.block_rate_per_s_ci95,
    );
    rows.push((
        "block_rate_per_s",
        Claim::Approximate,
        Effect::Relative,
        c.block_rate_per_s,
        f.block_rate_per_s,
        ci,
        "ci95 of difference",
        p,
    ));
    // Certification (rule 2): both engines measure it at the observer (no row when neither
    // level certified a height, e.g. a stalled subnet).
    if !(c.mean_certification_ms.is_nan() && f.mean_certification_ms.is_nan()) {
        let (ci, p) = difference_ci(
            c.mean_certification_ms,
            f.mean_certification_ms,
            c.mean_certification_ms_ci95,
            f.mean_certification_ms_ci95,
        );
        rows.push((
            "mean_certification_ms",
            Claim::Approximate,
            Effect::Relative,
            c.mean_certification_ms,
            f.mean_certification_ms,
            ci,
            "ci95 of difference",
            p,
        ));
    }
    let total = |a: &[u64], field: u32| batch_field(a, field).iter().sum::<f64>();
    let samples = |metric: &str, a: &[u64]| match metric {
        "stalled_ratio" => total(a, agg::F_NOTARIZED) + total(a, agg::F_STALLED),
        "mean_finalization_ms" | "finalization_ms_distribution" => total(a, agg::F_FINALIZED),
        "mean_certification_ms" => total(a, agg::F_CERTIFIED),
        _ => total(a, agg::F_NOTARIZED),
    };
    rows.into_iter()
        .map(|(metric, claim, effect, cv, fv, statistic, kind, p)| {
            let n = (samples(metric, coarse), samples(metric, fine));
            Comparison {
                scenario: s.name.clone(),
                metric,
                claim,
                effect,
                coarse: cv,
                fine: fv,
                rel_error: if effect == Effect::Relative {
                    relative_error(cv, fv)
                } else {
                    f64::NAN
                },
                statistic,
                statistic_kind: kind,
                p_value: p,
                samples: n,
                outcome: verdict(claim, effect, cv, fv, n, statistic, p, &th),
            }
        })
        .collect()
}

/// Differences below this fraction of the larger value are rounding of the same number (e.g.
/// a block rate computed as 1000 / mean round in two summation orders), not a difference.
const SAME_VALUE_REL: f64 = 1e-9;

/// 95% CI half-width of fine - coarse from both 95% CI half-widths, and the two-sided normal
/// p-value of the difference: 1 when the values are equal up to rounding ([`SAME_VALUE_REL`];
/// deterministic scenarios have CIs of 0 or of rounding size), NaN when they differ and the CI
/// is 0 or undefined.
fn difference_ci(coarse: f64, fine: f64, coarse_ci: f64, fine_ci: f64) -> (f64, f64) {
    let ci = (coarse_ci.powi(2) + fine_ci.powi(2)).sqrt();
    let p = if (fine - coarse).abs() <= SAME_VALUE_REL * fine.abs().max(coarse.abs()) {
        1.0
    } else if ci > 0.0 {
        normal_p((fine - coarse) / (ci / 1.96))
    } else {
        f64::NAN
    };
    (ci, p)
}

/// Both levels' aggregates for one scenario.
pub struct LevelRuns {
    /// The coarse model's aggregate array.
    pub coarse: Vec<u64>,
    /// The fine engine's aggregate array (same layout).
    pub fine: Vec<u64>,
    /// Heights where the fine engine saw two finalized blocks (must be 0).
    pub fine_safety_violations: u64,
}

/// Runs both levels on `s` (fine with `s.run`, coarse with `coarse_replicas` and an
/// independent seed).
pub fn run_levels(s: &Scenario, coarse_replicas: u64, quiet: bool) -> Result<LevelRuns> {
    let mut sc = s.clone();
    sc.run.replicas = coarse_replicas;
    sc.run.seed = s.run.seed.wrapping_add(0x5EED_C0A5);
    let prep = prepare(&sc)?;
    let coarse = run_cpu(&prep, &|_| {}, stop_flag())?;
    let progress = Progress::new(s.run.replicas * s.run.rounds, "fine heights", quiet);
    let fo = fine::run(s, None, stop_flag(), &|k| progress.set(k))?;
    progress.finish();
    Ok(LevelRuns {
        coarse,
        fine: fo.agg,
        fine_safety_violations: fo.safety_violations,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use ictwin_kernels::agg::{batch_index, time_bin, AGG_LEN, BATCHES};

    /// Aggregates of `per_batch` notarized heights in each batch, all of rank 0 and round time
    /// `round_ms`, finalized 50 ms later except `unfinalized[b]` in batch b.
    fn synthetic(per_batch: u64, unfinalized: &[u64], round_ms: u64) -> Vec<u64> {
        let mut a = vec![0u64; AGG_LEN as usize];
        for b in 0..BATCHES {
            let u = unfinalized.get(b as usize).copied().unwrap_or(0);
            a[batch_index(b, agg::F_NOTARIZED)] = per_batch;
            a[batch_index(b, agg::F_FINALIZED)] = per_batch - u;
            a[batch_index(b, agg::F_ROUND_US)] = per_batch * round_ms * 1000;
            a[batch_index(b, agg::F_FIN_US)] = (per_batch - u) * (round_ms + 50) * 1000;
            a[batch_index(b, agg::F_RANK0)] = per_batch;
        }
        let n = per_batch * BATCHES as u64;
        a[(agg::HIST_ROUND + time_bin(round_ms * 1000)) as usize] = n;
        a[(agg::HIST_FIN + time_bin((round_ms + 50) * 1000)) as usize] = n - unfinalized.iter().sum::<u64>();
        a[agg::HIST_RANK as usize] = n;
        a
    }

    fn scenario() -> Scenario {
        crate::scenario::load(None).unwrap().scenario
    }

    #[test]
    fn equal_values_up_to_rounding_have_p_one_and_a_real_difference_does_not() {
        // Deterministic scenario: the CI is of rounding size and the values differ in the
        // last bits (seen as p = 1e-25 in a random validation).
        let rate = 1000.0 / 1185.8;
        let (_, p) = difference_ci(rate, rate * (1.0 + 4e-16), 1e-17, 1e-17);
        assert_eq!(p, 1.0);
        let (_, p) = difference_ci(5.0, 5.0, 0.0, 0.0);
        assert_eq!(p, 1.0);
        let (_, p) = difference_ci(100.0, 101.0, 0.1, 0.1);
        assert!(p < 1e-6, "p = {p}");
        assert!(difference_ci(100.0, 101.0, 0.0, 0.0).1.is_nan());
    }

    const TH: Thresholds = Thresholds {
        alpha: 0.001,
        tolerance: 0.10,
        ks_tolerance: 0.25,
    };

    #[test]
    fn no_unfinalized_fine_height_against_a_handful_agrees() {
        // Coarse: 192 unfinalized heights in 4,000,000 (20,000 replicas x 200 heights); fine:
        // none in 4,096. The finalized ratio is an exact claim here, and its test must see the
        // fine sample's binomial uncertainty.
        let coarse = synthetic(62_500, &[3; 64], 350);
        let fine = synthetic(64, &[], 350);
        let rows = compare(&scenario(), &coarse, &fine, TH);
        let fin = rows.iter().find(|r| r.metric == "finalized_ratio").unwrap();
        assert_eq!(fin.claim, Claim::Exact);
        assert!(fin.agrees() && fin.p_value > 0.01, "{fin:?}");
        assert!(rows.iter().all(|r| r.agrees()), "{rows:#?}");
        // The former test, with the coarse batch-means error alone (the fine one is 0 without
        // events), rejected this at 0.001.
        let se = stats::ratio_se(
            &batch_field(&coarse, agg::F_FINALIZED),
            &batch_field(&coarse, agg::F_NOTARIZED),
        );
        assert!(normal_p((fin.fine - fin.coarse) / se) < TH.alpha);
        // A real difference (5% unfinalized against none) is still caught.
        let worse = synthetic(1600, &[80; 64], 350);
        let rows = compare(&scenario(), &worse, &fine, TH);
        let fin = rows.iter().find(|r| r.metric == "finalized_ratio").unwrap();
        assert!(fin.disagrees(), "{fin:?}");
    }

    #[test]
    fn rel_error_is_reported_for_means_and_rates_only() {
        let rows = compare(&scenario(), &synthetic(100, &[], 350), &synthetic(10, &[], 400), TH);
        let round = rows.iter().find(|r| r.metric == "mean_round_ms").unwrap();
        assert!((round.rel_error - 50.0 / 400.0).abs() < 1e-12, "{round:?}");
        assert!(round.disagrees());
        for r in &rows {
            assert_eq!(r.rel_error.is_nan(), r.effect != Effect::Relative, "{r:?}");
        }
    }
}
