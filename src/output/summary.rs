//! `summary.csv` (one row per run), `histograms.csv` (non-empty bins of an aggregate array)
//! and the table `ictwin run` and `ictwin fine` print.

use super::fmt_f;
use crate::scenario::Scenario;
use crate::stats::RunStats;
use anyhow::Result;
use ictwin_kernels::agg::{self, RANK_BINS, TIME_BINS};
use std::fmt::Write as _;

/// Columns of `summary.csv`, in order.
pub const SUMMARY_COLUMNS: &[&str] = &[
    "scenario",
    "engine",
    "nodes",
    "replicas",
    "rounds_per_replica",
    "seed",
    "rounds_total",
    "stalled_ratio",
    "stalled_ratio_ci95",
    "mean_round_ms",
    "mean_round_ms_ci95",
    "round_ms_p50",
    "round_ms_p99",
    "block_rate_per_s",
    "block_rate_per_s_ci95",
    "finalized_ratio",
    "finalized_ratio_ci95",
    "mean_finalization_ms",
    "mean_finalization_ms_ci95",
    "finalization_ms_p50",
    "finalization_ms_p99",
    "mean_notarized_rank",
    "rank0_ratio",
    "stall_time_ratio",
    "stall_time_ratio_ci95",
    "mean_certification_ms",
    "mean_certification_ms_ci95",
    "mean_certification_lag",
    "mean_certification_lag_ci95",
    "safety_violations",
    "replica_rounds_per_s",
    "wall_s",
];

/// Columns that measure the host, not the model: excluded from determinism comparisons.
pub const TIMING_COLUMNS: &[&str] = &["replica_rounds_per_s", "wall_s"];

/// One row of `summary.csv`.
#[derive(Clone, Debug)]
pub struct SummaryRow {
    /// Scenario name.
    pub scenario: String,
    /// `cpu`, `gpu` or `fine`.
    pub engine: String,
    /// Subnet size n.
    pub nodes: u32,
    /// Independent replicas run.
    pub replicas: u64,
    /// Round steps (heights, for the fine engine) per replica.
    pub rounds_per_replica: u64,
    /// RNG seed of the run.
    pub seed: u64,
    /// The statistics of the run's aggregates.
    pub stats: RunStats,
    /// Heights at which two honest nodes finalized different blocks (fine engine only).
    pub safety_violations: Option<u64>,
    /// Wall-clock time of the run, s.
    pub wall_s: f64,
}

impl SummaryRow {
    /// The row's fields, formatted, in the order of [`SUMMARY_COLUMNS`].
    pub fn values(&self) -> Vec<String> {
        let s = &self.stats;
        let rr = if self.wall_s > 0.0 {
            s.rounds_total as f64 / self.wall_s
        } else {
            f64::NAN
        };
        vec![
            self.scenario.clone(),
            self.engine.clone(),
            self.nodes.to_string(),
            self.replicas.to_string(),
            self.rounds_per_replica.to_string(),
            self.seed.to_string(),
            s.rounds_total.to_string(),
            fmt_f(s.stalled_ratio),
            fmt_f(s.stalled_ratio_ci95),
            fmt_f(s.mean_round_ms),
            fmt_f(s.mean_round_ms_ci95),
            fmt_f(s.round_ms_p50),
            fmt_f(s.round_ms_p99),
            fmt_f(s.block_rate_per_s),
            fmt_f(s.block_rate_per_s_ci95),
            fmt_f(s.finalized_ratio),
            fmt_f(s.finalized_ratio_ci95),
            fmt_f(s.mean_finalization_ms),
            fmt_f(s.mean_finalization_ms_ci95),
            fmt_f(s.finalization_ms_p50),
            fmt_f(s.finalization_ms_p99),
            fmt_f(s.mean_notarized_rank),
            fmt_f(s.rank0_ratio),
            fmt_f(s.stall_time_ratio),
            fmt_f(s.stall_time_ratio_ci95),
            fmt_f(s.mean_certification_ms),
            fmt_f(s.mean_certification_ms_ci95),
            fmt_f(s.mean_certification_lag),
            fmt_f(s.mean_certification_lag_ci95),
            self.safety_violations.map(|v| v.to_string()).unwrap_or_default(),
            format!("{rr:.0}"),
            format!("{:.3}", self.wall_s),
        ]
    }
}

/// `summary.csv` text for the given rows.
pub fn summary_csv(rows: &[SummaryRow]) -> Result<String> {
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(SUMMARY_COLUMNS)?;
    for r in rows {
        w.write_record(r.values())?;
    }
    Ok(String::from_utf8(w.into_inner()?)?)
}

/// `histograms.csv` text (long format, non-empty bins only) from an aggregate array:
/// metrics `round_ms`, `finalization_ms` (bin edges in ms) and `notarized_rank`.
pub fn histograms_csv(a: &[u64]) -> String {
    let mut out = String::from("metric,bin_lo,bin_hi,count\n");
    for (metric, off) in [("round_ms", agg::HIST_ROUND), ("finalization_ms", agg::HIST_FIN)] {
        for b in 0..TIME_BINS {
            let c = a[(off + b) as usize];
            if c > 0 {
                let (lo, hi) = agg::time_bin_edges_ms(b);
                let _ = writeln!(out, "{metric},{},{},{c}", fmt_f(lo), fmt_f(hi));
            }
        }
    }
    for r in 0..RANK_BINS {
        let c = a[(agg::HIST_RANK + r) as usize];
        if c > 0 {
            let _ = writeln!(out, "notarized_rank,{r},{},{c}", r + 1);
        }
    }
    out
}

/// The printed table of a run.
pub fn render_table(row: &SummaryRow) -> String {
    let s = &row.stats;
    let pm = |m: f64, ci: f64| format!("{} ± {}", fmt3(m), fmt3(ci));
    // A time distribution: mean ± CI, then its percentiles.
    let spread = |mean: f64, ci: f64, p50: f64, p99: f64| {
        format!("mean {}  p50 {}  p99 {}", pm(mean, ci), fmt_edge(p50), fmt_edge(p99))
    };
    let lines = [
        (
            "scenario",
            format!("{} ({} nodes, engine {})", row.scenario, row.nodes, row.engine),
        ),
        (
            "replica-rounds",
            format!(
                "{} ({} replicas x {} rounds, seed {})",
                s.rounds_total, row.replicas, row.rounds_per_replica, row.seed
            ),
        ),
        ("stalled steps", pm(s.stalled_ratio, s.stalled_ratio_ci95)),
        ("stalled time", pm(s.stall_time_ratio, s.stall_time_ratio_ci95)),
        (
            "round time (ms)",
            spread(s.mean_round_ms, s.mean_round_ms_ci95, s.round_ms_p50, s.round_ms_p99),
        ),
        ("block rate (1/s)", pm(s.block_rate_per_s, s.block_rate_per_s_ci95)),
        ("finalized ratio", pm(s.finalized_ratio, s.finalized_ratio_ci95)),
        (
            "finalization (ms)",
            spread(
                s.mean_finalization_ms,
                s.mean_finalization_ms_ci95,
                s.finalization_ms_p50,
                s.finalization_ms_p99,
            ),
        ),
        (
            "certification (ms)",
            format!(
                "mean {}  lag {} heights",
                pm(s.mean_certification_ms, s.mean_certification_ms_ci95),
                pm(s.mean_certification_lag, s.mean_certification_lag_ci95)
            ),
        ),
        (
            "notarized rank",
            format!(
                "mean {}  rank-0 ratio {}",
                fmt3(s.mean_notarized_rank),
                fmt3(s.rank0_ratio)
            ),
        ),
        (
            "speed",
            format!(
                "{:.3e} replica-rounds/s, {:.2} s",
                s.rounds_total as f64 / row.wall_s.max(1e-9),
                row.wall_s
            ),
        ),
    ];
    let mut out = String::new();
    for (k, v) in lines {
        out.push_str(&format!("  {k:<20} {v}\n"));
    }
    out
}

fn fmt3(x: f64) -> String {
    if x.is_nan() {
        "n/a".into()
    } else if x != 0.0 && (x.abs() < 1e-3 || x.abs() >= 1e7) {
        format!("{x:.3e}")
    } else {
        format!("{x:.4}")
    }
}

/// A percentile: the lower edge of its histogram bin, a whole number of ms (printed without
/// decimals, `381` rather than `381.0000`).
fn fmt_edge(x: f64) -> String {
    if x.is_finite() && x.fract() == 0.0 {
        format!("{x:.0}")
    } else {
        fmt3(x)
    }
}

/// Builds the summary row of a coarse run.
pub fn summary_row(s: &Scenario, engine: &str, stats: RunStats, wall_s: f64) -> SummaryRow {
    SummaryRow {
        scenario: s.name.clone(),
        engine: engine.into(),
        nodes: s.subnet.nodes,
        replicas: s.run.replicas,
        rounds_per_replica: s.run.rounds,
        seed: s.run.seed,
        stats,
        safety_violations: None,
        wall_s,
    }
}
