//! `ictwin validate`: the coarse model checked against the fine engine, scenario by scenario.
//!
//! Both levels run the same scenario with independent seeds; their aggregate arrays (same
//! layout) are compared metric by metric with a test and an effect size:
//! - notarized-rank distribution: chi-square test of homogeneity (sparse bins pooled);
//! - stalled and finalized ratios: two-sample z-tests with batch-means standard errors (rounds
//!   within a replica are correlated, so per-round binomial errors would be too small);
//! - round and finalization time: two-sample Kolmogorov-Smirnov on the shared 1 ms histogram
//!   bins (distance = effect size; the p-value treats rounds as independent, which is
//!   optimistic under backoff) and the difference of means with its 95% CI;
//! - block rate: difference with its 95% CI.
//!
//! Each metric is *exact* (the coarse model claims to reproduce it with no calibration:
//! combinatorial quantities, rank distribution and stall probability under static faults, when
//! the network is fast against U) or *approximate* (timing, where unsynchronized node views,
//! crypto time and gossip hops matter). An exact metric disagrees when its test rejects at
//! level `alpha`; an approximate one when its mean differs by more than `tolerance`
//! (relative). Any disagreement makes the command exit non-zero.

use crate::coarse::{prepare, run_cpu};
use crate::fine;
use crate::progress::{stop_flag, Progress};
use crate::scenario::Scenario;
use crate::stats::{self, batch_field, chi_square_homogeneity, ks_binned, normal_p, ratio_se};
use anyhow::Result;
use ictwin_kernels::agg::{self, RANK_BINS, TIME_BINS};

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
    /// Metric name (a `summary.csv` column or `<time>_distribution`).
    pub metric: &'static str,
    /// Exact or approximate.
    pub claim: Claim,
    /// The coarse model's value.
    pub coarse: f64,
    /// The fine engine's value.
    pub fine: f64,
    /// CI half-width of the difference, or the test statistic (see `statistic_kind`).
    pub statistic: f64,
    /// What `statistic` is (`z`, `chi2`, `ks distance`, `ci95 of difference`).
    pub statistic_kind: &'static str,
    /// p-value of the test (NaN when undefined).
    pub p_value: f64,
    /// Whether the levels agree on this metric under its claim.
    pub agree: bool,
}

impl Comparison {
    /// `agree` or `DISAGREE`.
    pub fn verdict(&self) -> &'static str {
        if self.agree {
            "agree"
        } else {
            "DISAGREE"
        }
    }
}

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
    /// Relative difference of means accepted for approximate metrics.
    pub tolerance: f64,
    /// Kolmogorov-Smirnov distance accepted for time distributions.
    pub ks_tolerance: f64,
}

/// Compares the aggregates of both levels (same layout) on one scenario, metric by metric.
pub fn compare(s: &Scenario, coarse: &[u64], fine: &[u64], th: Thresholds) -> Vec<Comparison> {
    let Thresholds {
        alpha,
        tolerance,
        ks_tolerance,
    } = th;
    let (c, f) = (stats::from_aggregates(coarse), stats::from_aggregates(fine));
    let fast = fast_network(s);
    let static_faults = !s.dynamic_failures();
    let exact_if = |cond: bool| if cond { Claim::Exact } else { Claim::Approximate };
    let mut out = Vec::new();
    let mut push = |metric, claim, cv: f64, fv: f64, statistic, kind, p: f64, mean_like: bool| {
        let agree = match claim {
            Claim::Exact => p.is_nan() || p >= alpha,
            Claim::Approximate => {
                if mean_like {
                    let scale = cv.abs().max(fv.abs());
                    (cv.is_nan() && fv.is_nan()) || scale == 0.0 || (fv - cv).abs() <= tolerance * scale || p >= alpha
                } else {
                    // Distances (KS) and ratios: an absolute effect-size tolerance.
                    let tol = if kind_is_distance(metric) {
                        ks_tolerance
                    } else {
                        tolerance
                    };
                    p.is_nan() || p >= alpha || (fv - cv).abs() <= tol
                }
            }
        };
        out.push(Comparison {
            scenario: s.name.clone(),
            metric,
            claim,
            coarse: cv,
            fine: fv,
            statistic,
            statistic_kind: kind,
            p_value: p,
            agree,
        });
    };
    // Rank distribution.
    let ranks = |a: &[u64]| a[agg::HIST_RANK as usize..(agg::HIST_RANK + RANK_BINS) as usize].to_vec();
    let (chi2, dof, p) = chi_square_homogeneity(&ranks(coarse), &ranks(fine));
    push(
        "notarized_rank_distribution",
        exact_if(fast && static_faults),
        c.mean_notarized_rank,
        f.mean_notarized_rank,
        chi2,
        if dof > 0 { "chi2" } else { "chi2 (one cell)" },
        p,
        false,
    );
    // Ratios with batch-means standard errors.
    let steps = |a: &[u64]| -> Vec<f64> {
        batch_field(a, agg::F_NOTARIZED)
            .iter()
            .zip(batch_field(a, agg::F_STALLED))
            .map(|(x, y)| x + y)
            .collect()
    };
    let z_test = |cv: f64, fv: f64, sc: f64, sf: f64| -> (f64, f64) {
        let se = (sc * sc + sf * sf).sqrt();
        if se > 0.0 {
            let z = (fv - cv) / se;
            (z, normal_p(z))
        } else if cv == fv || (cv.is_nan() && fv.is_nan()) {
            (0.0, 1.0)
        } else {
            (f64::INFINITY, 0.0)
        }
    };
    let sc = ratio_se(&batch_field(coarse, agg::F_STALLED), &steps(coarse));
    let sf = ratio_se(&batch_field(fine, agg::F_STALLED), &steps(fine));
    let (z, p) = z_test(c.stalled_ratio, f.stalled_ratio, sc, sf);
    push(
        "stalled_ratio",
        exact_if(static_faults),
        c.stalled_ratio,
        f.stalled_ratio,
        z,
        "z",
        p,
        false,
    );
    let sc = ratio_se(
        &batch_field(coarse, agg::F_FINALIZED),
        &batch_field(coarse, agg::F_NOTARIZED),
    );
    let sf = ratio_se(
        &batch_field(fine, agg::F_FINALIZED),
        &batch_field(fine, agg::F_NOTARIZED),
    );
    let (z, p) = z_test(c.finalized_ratio, f.finalized_ratio, sc, sf);
    push(
        "finalized_ratio",
        exact_if(fast && static_faults),
        c.finalized_ratio,
        f.finalized_ratio,
        z,
        "z",
        p,
        false,
    );
    // Timing.
    let hist = |a: &[u64], off: u32| a[off as usize..(off + TIME_BINS) as usize].to_vec();
    for (metric, ks_metric, off, cm, fm, cci, fci) in [
        (
            "mean_round_ms",
            "round_ms_distribution",
            agg::HIST_ROUND,
            c.mean_round_ms,
            f.mean_round_ms,
            c.mean_round_ms_ci95,
            f.mean_round_ms_ci95,
        ),
        (
            "mean_finalization_ms",
            "finalization_ms_distribution",
            agg::HIST_FIN,
            c.mean_finalization_ms,
            f.mean_finalization_ms,
            c.mean_finalization_ms_ci95,
            f.mean_finalization_ms_ci95,
        ),
    ] {
        let ci = (cci.powi(2) + fci.powi(2)).sqrt();
        let p = if ci > 0.0 {
            normal_p((fm - cm) / (ci / 1.96))
        } else {
            f64::NAN
        };
        push(metric, Claim::Approximate, cm, fm, ci, "ci95 of difference", p, true);
        let (d, p) = ks_binned(&hist(coarse, off), &hist(fine, off));
        push(ks_metric, Claim::Approximate, 0.0, d, d, "ks distance", p, false);
    }
    let ci = (c.block_rate_per_s_ci95.powi(2) + f.block_rate_per_s_ci95.powi(2)).sqrt();
    let p = if ci > 0.0 {
        normal_p((f.block_rate_per_s - c.block_rate_per_s) / (ci / 1.96))
    } else {
        f64::NAN
    };
    push(
        "block_rate_per_s",
        Claim::Approximate,
        c.block_rate_per_s,
        f.block_rate_per_s,
        ci,
        "ci95 of difference",
        p,
        true,
    );
    out
}

fn kind_is_distance(metric: &str) -> bool {
    metric.ends_with("_distribution")
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
    let progress = Progress::new(s.run.replicas, "fine replicas", quiet);
    let fo = fine::run(s, None, stop_flag(), &|k| progress.set(k))?;
    progress.finish();
    Ok(LevelRuns {
        coarse,
        fine: fo.agg,
        fine_safety_violations: fo.safety_violations,
    })
}
