//! `fine.csv`: the fine engine's own metrics, beside the coarse schema's files.

use super::fmt_f;
use crate::fine::FineOutcome;
use crate::scenario::Scenario;
use crate::stats::hist_quantile;
use anyhow::Result;
use ictwin_kernels::agg;

/// Columns of `fine.csv` that measure the host (excluded from determinism comparisons).
pub const FINE_TIMING_COLUMNS: &[&str] = &["crypto_wall_s", "wall_s"];

/// `fine.csv`: fine-only metrics (one row): requests, throughput, crypto work, events.
pub fn fine_csv(s: &Scenario, o: &FineOutcome) -> Result<String> {
    let r = &o.requests;
    let edge = |i: usize| agg::time_bin_edges_ms(i as u32).0;
    let sim_s = o.sim_time_us as f64 / 1e6;
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record([
        "scenario",
        "engine",
        "nodes",
        "replicas",
        "seed",
        "requests_submitted",
        "requests_finalized",
        "mean_request_latency_ms",
        "request_latency_ms_p50",
        "request_latency_ms_p99",
        "throughput_requests_per_s",
        "safety_violations",
        "aggregates_with_invalid_shares",
        "shares_rejected",
        "signatures",
        "shares_verified",
        "share_batches",
        "batch_failures",
        "aggregates_verified",
        "threshold_combinations",
        "events",
        "messages",
        "sim_time_s",
        "crypto_wall_s",
        "wall_s",
    ])?;
    w.write_record([
        s.name.clone(),
        "fine".into(),
        s.subnet.nodes.to_string(),
        s.run.replicas.to_string(),
        s.run.seed.to_string(),
        r.submitted.to_string(),
        r.finalized.to_string(),
        fmt_f(if r.finalized > 0 {
            r.latency_sum_us as f64 / r.finalized as f64 / 1000.0
        } else {
            f64::NAN
        }),
        fmt_f(hist_quantile(&r.latency_hist, 0.5, edge)),
        fmt_f(hist_quantile(&r.latency_hist, 0.99, edge)),
        fmt_f(if sim_s > 0.0 {
            r.finalized as f64 / sim_s
        } else {
            f64::NAN
        }),
        o.safety_violations.to_string(),
        o.aggregates_with_invalid_shares.to_string(),
        o.shares_rejected.to_string(),
        o.crypto.signatures.to_string(),
        o.crypto.shares_verified.to_string(),
        o.crypto.batches.to_string(),
        o.crypto.batch_failures.to_string(),
        o.crypto.aggregates_verified.to_string(),
        o.crypto.combinations.to_string(),
        o.events.to_string(),
        o.messages.to_string(),
        format!("{sim_s:.6}"),
        format!("{:.3}", o.crypto.wall.as_secs_f64()),
        format!("{:.3}", o.wall_s),
    ])?;
    Ok(String::from_utf8(w.into_inner()?)?)
}
