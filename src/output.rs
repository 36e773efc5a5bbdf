//! Output files of a run: `summary.csv`, `histograms.csv`, `manifest.json`, written
//! atomically (all files go to temporary names first, then are renamed into place), so an
//! interrupted or failed run leaves no half-written files.

use crate::stats::RunStats;
use anyhow::{Context, Result};
use ictwin_kernels::agg::{self, RANK_BINS, TIME_BINS};
use std::fmt::Write as _;
use std::path::Path;

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
    "safety_violations",
    "replica_rounds_per_s",
    "wall_s",
];

/// Columns that measure the host, not the model: excluded from determinism comparisons.
pub const TIMING_COLUMNS: &[&str] = &["replica_rounds_per_s", "wall_s"];

/// One row of `summary.csv`.
#[derive(Clone, Debug)]
pub struct SummaryRow {
    pub scenario: String,
    /// `cpu`, `gpu` or `fine`.
    pub engine: String,
    pub nodes: u32,
    pub replicas: u64,
    pub rounds_per_replica: u64,
    pub seed: u64,
    pub stats: RunStats,
    /// Heights at which two honest nodes finalized different blocks (fine engine only).
    pub safety_violations: Option<u64>,
    pub wall_s: f64,
}

/// Formats a float for CSV: shortest round-trip representation, `nan` when undefined.
pub fn fmt_f(x: f64) -> String {
    if x.is_nan() {
        "nan".into()
    } else if x.is_infinite() {
        if x > 0.0 { "inf" } else { "-inf" }.into()
    } else {
        format!("{x}")
    }
}

impl SummaryRow {
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

/// Writes `files` (name, contents) into `dir` atomically: each goes to a temporary file in
/// `dir` first, and all are renamed into place only once every one is written.
pub fn write_atomically(dir: &Path, files: &[(&str, String)]) -> Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create output directory {}", dir.display()))?;
    let pid = std::process::id();
    let tmp: Vec<_> = files
        .iter()
        .map(|(name, _)| dir.join(format!(".{name}.tmp{pid}")))
        .collect();
    let result = (|| -> Result<()> {
        for ((_, contents), t) in files.iter().zip(&tmp) {
            std::fs::write(t, contents).with_context(|| format!("cannot write {}", t.display()))?;
        }
        for ((name, _), t) in files.iter().zip(&tmp) {
            std::fs::rename(t, dir.join(name)).with_context(|| format!("cannot move {} into place", t.display()))?;
        }
        Ok(())
    })();
    if result.is_err() {
        for t in &tmp {
            let _ = std::fs::remove_file(t);
        }
    }
    result
}

/// A description of this host for manifests.
pub fn host_info() -> serde_json::Value {
    serde_json::json!({
        "os": std::env::consts::OS,
        "arch": std::env::consts::ARCH,
        "cpus": std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1),
        "hostname": std::fs::read_to_string("/etc/hostname").map(|s| s.trim().to_string()).unwrap_or_default(),
    })
}

/// Build information: crate version and git commit (when built from a git checkout).
pub fn build_info() -> serde_json::Value {
    serde_json::json!({
        "version": env!("CARGO_PKG_VERSION"),
        "git_commit": option_env!("ICTWIN_GIT_COMMIT").unwrap_or("unknown"),
    })
}

/// Current UTC time as `YYYY-MM-DDTHH:MM:SSZ` (civil-from-days, Howard Hinnant), for records.
pub fn utc_datetime() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let z = (secs / 86_400) as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + (m <= 2) as i64;
    let t = secs % 86_400;
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        t / 3600,
        (t / 60) % 60,
        t % 60
    )
}

/// Current UTC date as `YYYY-MM-DD`.
pub fn utc_date() -> String {
    utc_datetime()[..10].to_string()
}
