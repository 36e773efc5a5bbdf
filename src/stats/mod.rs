//! Statistics from the integer aggregates of a run: means with batch-means confidence
//! intervals, ratios, histogram percentiles, and the two-sample tests that compare the coarse
//! model with the fine engine. Pure functions of the aggregates, so equal aggregates give
//! byte-equal output.
//!
//! - [`batch`]: batch-means standard errors and CIs, t quantiles, histogram quantiles;
//! - [`homogeneity`]: chi-square homogeneity, binned Kolmogorov-Smirnov, normal p-values;
//! - [`proportion`]: two-proportion test with a pooled estimate and design effects;
//! - [`spread`]: min, median, p90 and max of a set of values (effect sizes across scenarios);
//! - this module: [`RunStats`], the statistics of one run.

pub mod batch;
pub mod homogeneity;
pub mod proportion;
pub mod spread;

pub use batch::{batch_field, hist_quantile, ratio_ci95, ratio_se, t975};
pub use homogeneity::{chi_square_homogeneity, kolmogorov_sf, ks_binned, normal_p};
pub use proportion::{two_proportion_test, wilson95, Proportion};
pub use spread::{quantile, Spread};

use ictwin_kernels::agg::{self, batch_index, BATCHES};

/// The statistics of one coarse run (see the README for each column's meaning).
#[derive(Clone, Debug, Default)]
pub struct RunStats {
    /// Round steps over all replicas (notarized + stalled).
    pub rounds_total: u64,
    /// Round steps that notarized a block.
    pub notarized: u64,
    /// Round steps that stalled (no notarization within the stall horizon).
    pub stalled: u64,
    /// Notarized blocks that were also finalized.
    pub finalized: u64,
    /// stalled / rounds_total.
    pub stalled_ratio: f64,
    /// Half-width of its batch-means 95% CI.
    pub stalled_ratio_ci95: f64,
    /// Mean time of a notarized round, ms.
    pub mean_round_ms: f64,
    /// Half-width of its 95% CI, ms.
    pub mean_round_ms_ci95: f64,
    /// Median round time, ms (lower edge of its 1 ms histogram bin).
    pub round_ms_p50: f64,
    /// 99th percentile of round time, ms (lower bin edge).
    pub round_ms_p99: f64,
    /// Notarized blocks per simulated second (stalls included in the time).
    pub block_rate_per_s: f64,
    /// Half-width of its 95% CI, 1/s.
    pub block_rate_per_s_ci95: f64,
    /// finalized / notarized.
    pub finalized_ratio: f64,
    /// Half-width of its 95% CI.
    pub finalized_ratio_ci95: f64,
    /// Mean time from round start to finalization, ms.
    pub mean_finalization_ms: f64,
    /// Half-width of its 95% CI, ms.
    pub mean_finalization_ms_ci95: f64,
    /// Median finalization time, ms (lower bin edge).
    pub finalization_ms_p50: f64,
    /// 99th percentile of finalization time, ms (lower bin edge).
    pub finalization_ms_p99: f64,
    /// Mean rank of the notarized block (0 = the round's leader).
    pub mean_notarized_rank: f64,
    /// Share of notarized blocks of rank 0.
    pub rank0_ratio: f64,
    /// Long-run share of simulated time spent stalled (time stalled / (round time + time
    /// stalled), the definition in `ictwin_kernels::agg`; independent of the horizon).
    pub stall_time_ratio: f64,
    /// Half-width of its batch-means 95% CI.
    pub stall_time_ratio_ci95: f64,
    /// Mean time from round start until the observer holds the height's state certified
    /// (executed and n - f certification shares), ms, over certified heights.
    pub mean_certification_ms: f64,
    /// Half-width of its 95% CI, ms.
    pub mean_certification_ms_ci95: f64,
    /// Time average of finalized - certified height at the observer, heights (see
    /// `ictwin_kernels::agg`, "certification").
    pub mean_certification_lag: f64,
    /// Half-width of its 95% CI.
    pub mean_certification_lag_ci95: f64,
}

fn div(a: f64, b: f64) -> f64 {
    if b > 0.0 {
        a / b
    } else {
        f64::NAN
    }
}

/// Computes the run statistics from the aggregate array.
pub fn from_aggregates(a: &[u64]) -> RunStats {
    let field = |f: u32| batch_field(a, f);
    let total = |f: u32| -> u64 { (0..BATCHES).map(|b| a[batch_index(b, f)]).sum() };
    let notarized = field(agg::F_NOTARIZED);
    let stalled = field(agg::F_STALLED);
    let finalized = field(agg::F_FINALIZED);
    let round_us = field(agg::F_ROUND_US);
    let fin_us = field(agg::F_FIN_US);
    let certified = field(agg::F_CERTIFIED);
    let cert_us = field(agg::F_CERT_US);
    let lag_s: Vec<f64> = field(agg::F_CERT_LAG_US).iter().map(|s| s / 1e6).collect();
    let steps: Vec<f64> = notarized.iter().zip(&stalled).map(|(a, b)| a + b).collect();
    let stall_s: Vec<f64> = field(agg::F_STALL_US).iter().map(|s| s / 1e6).collect();
    let sim_s: Vec<f64> = round_us
        .iter()
        .zip(field(agg::F_STALL_US))
        .map(|(r, s)| (r + s) / 1e6)
        .collect();
    let hist = |off: u32, len: u32| &a[off as usize..(off + len) as usize];
    let edge = |i: usize| agg::time_bin_edges_ms(i as u32).0;
    let (n, st, fi) = (total(agg::F_NOTARIZED), total(agg::F_STALLED), total(agg::F_FINALIZED));
    let sim_total: f64 = sim_s.iter().sum();
    RunStats {
        rounds_total: n + st,
        notarized: n,
        stalled: st,
        finalized: fi,
        stalled_ratio: div(st as f64, (n + st) as f64),
        stalled_ratio_ci95: ratio_ci95(&stalled, &steps),
        mean_round_ms: div(total(agg::F_ROUND_US) as f64, n as f64) / 1000.0,
        mean_round_ms_ci95: ratio_ci95(&round_us, &notarized) / 1000.0,
        round_ms_p50: hist_quantile(hist(agg::HIST_ROUND, agg::TIME_BINS), 0.5, edge),
        round_ms_p99: hist_quantile(hist(agg::HIST_ROUND, agg::TIME_BINS), 0.99, edge),
        block_rate_per_s: if sim_total > 0.0 { n as f64 / sim_total } else { 0.0 },
        block_rate_per_s_ci95: ratio_ci95(&notarized, &sim_s),
        finalized_ratio: div(fi as f64, n as f64),
        finalized_ratio_ci95: ratio_ci95(&finalized, &notarized),
        mean_finalization_ms: div(total(agg::F_FIN_US) as f64, fi as f64) / 1000.0,
        mean_finalization_ms_ci95: ratio_ci95(&fin_us, &finalized) / 1000.0,
        finalization_ms_p50: hist_quantile(hist(agg::HIST_FIN, agg::TIME_BINS), 0.5, edge),
        finalization_ms_p99: hist_quantile(hist(agg::HIST_FIN, agg::TIME_BINS), 0.99, edge),
        mean_notarized_rank: div(total(agg::F_RANK_SUM) as f64, n as f64),
        rank0_ratio: div(total(agg::F_RANK0) as f64, n as f64),
        stall_time_ratio: div(total(agg::F_STALL_US) as f64 / 1e6, sim_total),
        stall_time_ratio_ci95: ratio_ci95(&stall_s, &sim_s),
        mean_certification_ms: div(total(agg::F_CERT_US) as f64, total(agg::F_CERTIFIED) as f64) / 1000.0,
        mean_certification_ms_ci95: ratio_ci95(&cert_us, &certified) / 1000.0,
        mean_certification_lag: div(total(agg::F_CERT_LAG_US) as f64 / 1e6, sim_total),
        mean_certification_lag_ci95: ratio_ci95(&lag_s, &sim_s),
    }
}
