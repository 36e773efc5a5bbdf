//! Statistics of a run from its integer aggregates: means with batch-means confidence
//! intervals, ratios, histogram percentiles. Pure functions of the aggregates, so equal
//! aggregates give byte-equal output.

use ictwin_kernels::agg::{self, batch_index, BATCHES};
use statrs::distribution::{ContinuousCDF, StudentsT};

/// Half-width of the 95% CI of the ratio estimator sum(y)/sum(x) over batches with x > 0:
/// t_{0.975, B-1} * sqrt(sum_b (y_b - R x_b)^2 / (B (B-1) xbar^2)). NaN with fewer than 2
/// batches. Batches hold whole replicas (or consecutive segments of one), so batch means are
/// independent although rounds within a replica are correlated.
pub fn ratio_ci95(y: &[f64], x: &[f64]) -> f64 {
    let pairs: Vec<(f64, f64)> = y
        .iter()
        .zip(x)
        .filter(|(_, &x)| x > 0.0)
        .map(|(&y, &x)| (y, x))
        .collect();
    let b = pairs.len();
    if b < 2 {
        return f64::NAN;
    }
    let sy: f64 = pairs.iter().map(|p| p.0).sum();
    let sx: f64 = pairs.iter().map(|p| p.1).sum();
    let r = sy / sx;
    let xbar = sx / b as f64;
    let ss: f64 = pairs.iter().map(|(y, x)| (y - r * x).powi(2)).sum();
    let var = ss / (b as f64 * (b as f64 - 1.0) * xbar * xbar);
    t975(b - 1) * var.sqrt()
}

/// 0.975 quantile of Student's t with `dof` degrees of freedom.
pub fn t975(dof: usize) -> f64 {
    StudentsT::new(0.0, 1.0, dof as f64)
        .map(|t| t.inverse_cdf(0.975))
        .unwrap_or(f64::NAN)
}

/// Lower edge of the bin holding the q-quantile of a histogram (`edges(bin)` -> lower edge).
pub fn hist_quantile(counts: &[u64], q: f64, lower_edge: impl Fn(usize) -> f64) -> f64 {
    let total: u64 = counts.iter().sum();
    if total == 0 {
        return f64::NAN;
    }
    let target = ((q * total as f64).ceil() as u64).max(1);
    let mut cum = 0;
    for (i, &c) in counts.iter().enumerate() {
        cum += c;
        if cum >= target {
            return lower_edge(i);
        }
    }
    f64::NAN
}

/// The statistics of one coarse run (see the README for each column's meaning).
#[derive(Clone, Debug, Default)]
pub struct RunStats {
    pub rounds_total: u64,
    pub notarized: u64,
    pub stalled: u64,
    pub finalized: u64,
    pub stalled_ratio: f64,
    pub stalled_ratio_ci95: f64,
    pub mean_round_ms: f64,
    pub mean_round_ms_ci95: f64,
    pub round_ms_p50: f64,
    pub round_ms_p99: f64,
    pub block_rate_per_s: f64,
    pub block_rate_per_s_ci95: f64,
    pub finalized_ratio: f64,
    pub finalized_ratio_ci95: f64,
    pub mean_finalization_ms: f64,
    pub mean_finalization_ms_ci95: f64,
    pub finalization_ms_p50: f64,
    pub finalization_ms_p99: f64,
    pub mean_notarized_rank: f64,
    pub rank0_ratio: f64,
    pub stall_time_ratio: f64,
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
    let field = |f: u32| -> Vec<f64> { (0..BATCHES).map(|b| a[batch_index(b, f)] as f64).collect() };
    let total = |f: u32| -> u64 { (0..BATCHES).map(|b| a[batch_index(b, f)]).sum() };
    let notarized = field(agg::F_NOTARIZED);
    let stalled = field(agg::F_STALLED);
    let finalized = field(agg::F_FINALIZED);
    let round_us = field(agg::F_ROUND_US);
    let fin_us = field(agg::F_FIN_US);
    let steps: Vec<f64> = notarized.iter().zip(&stalled).map(|(a, b)| a + b).collect();
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
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ratio_ci_matches_iid_formula_for_equal_batches() {
        // Equal x: the CI is t * sd(y)/sqrt(B).
        let y = [1.0, 2.0, 3.0, 4.0];
        let x = [1.0; 4];
        let sd = (((1.5f64.powi(2) + 0.5f64.powi(2)) * 2.0) / 3.0).sqrt();
        assert!((ratio_ci95(&y, &x) - t975(3) * sd / 2.0).abs() < 1e-12);
        assert!(ratio_ci95(&[1.0], &[1.0]).is_nan());
    }

    #[test]
    fn t_quantile_is_right() {
        assert!((t975(10) - 2.228138851964).abs() < 1e-6);
    }

    #[test]
    fn quantile_of_histogram() {
        let h = [0, 5, 0, 5];
        assert_eq!(hist_quantile(&h, 0.5, |i| i as f64), 1.0);
        assert_eq!(hist_quantile(&h, 0.51, |i| i as f64), 3.0);
        assert_eq!(hist_quantile(&h, 0.99, |i| i as f64), 3.0);
    }
}
