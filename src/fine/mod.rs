//! The fine engine: an agent-based discrete-event simulation of ICC with real BLS12-381
//! signatures (the reference level that validates and calibrates the coarse model).
//!
//! - [`events`]: the deterministic event queue; [`network`]: delays, full mesh or gossip;
//! - [`agents`]: IcNode, Client, Request, Block (the position paper's class diagram);
//! - [`crypto`]: BLS multi-signatures with PoP, batch verification, threshold BLS;
//! - [`artifacts`]: the replica's keys, shares, aggregates, beacons and CUPs;
//! - [`sim`]: the protocol on each node; [`monitor`]: measurements, safety, stalls;
//! - [`config`]: the `[fine]` scenario table; [`cli`]: `ictwin fine`, `crypto-bench`,
//!   `fine-bench`; [`bench`]: the benchmarks.
//!
//! Outputs use the coarse engine's schema (`summary.csv`, `histograms.csv`, engine `fine`)
//! plus `fine.csv` (requests, throughput, crypto work). What is measured per height is
//! documented in [`monitor`].

pub mod agents;
pub mod artifacts;
pub mod bench;
pub mod cli;
pub mod config;
pub mod crypto;
pub mod events;
pub mod monitor;
pub mod network;
pub mod sim;

pub use config::{CryptoCosts, FineConfig};

use crate::scenario::Scenario;
use anyhow::{bail, Result};
use artifacts::CryptoStats;
use events::mix64;
use ictwin_kernels::agg::{self, batch_segments};
use monitor::RequestStats;
use rayon::prelude::*;
use std::io::Write;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Instant;

/// The result of a fine run (all replicas).
pub struct FineOutcome {
    /// Aggregate array in the layout of `ictwin_kernels::agg`.
    pub agg: Vec<u64>,
    /// Heights (over all replicas) where two honest nodes finalized different blocks.
    pub safety_violations: u64,
    /// Notarizations/finalizations that contained a share that failed verification.
    pub aggregates_with_invalid_shares: u64,
    pub shares_rejected: u64,
    pub requests: RequestStats,
    pub crypto: CryptoStats,
    pub events: u64,
    pub messages: u64,
    /// Simulated time, summed over replicas, µs.
    pub sim_time_us: u64,
    pub wall_s: f64,
}

/// Seed of replica `r`.
pub fn replica_seed(seed: u64, r: u64) -> u64 {
    mix64(seed ^ mix64(r.wrapping_add(0xF17E)))
}

/// The `[fine]` table of a scenario (defaults when absent), validated.
pub fn config_of(s: &Scenario) -> Result<FineConfig> {
    let cfg = s.fine.clone().unwrap_or_default();
    let faulty = s.faults.crashed + s.faults.silent + s.faults.equivocating;
    if let Err((k, msg)) = cfg.validate(s.subnet.nodes, faulty) {
        bail!("scenario `{}`: key `fine.{k}`: {msg}", s.name);
    }
    Ok(cfg)
}

/// Runs `s.run.replicas` independent replicas of `s.run.rounds` heights (in parallel).
/// `trace` receives the protocol events of replica 0. `progress(done_replicas)` is called
/// as replicas finish. Returns an error when interrupted through `stop`.
pub fn run(
    s: &Scenario,
    trace: Option<Box<dyn Write + Send>>,
    stop: &AtomicBool,
    progress: &(dyn Fn(u64) + Sync),
) -> Result<FineOutcome> {
    let cfg = config_of(s)?;
    if s.subnet.nodes < 1 {
        bail!("scenario `{}`: the fine engine needs at least 1 node", s.name);
    }
    let rounds = s.run.rounds;
    let replicas = s.run.replicas;
    let segments = batch_segments(replicas.min(u32::MAX as u64) as u32);
    let start = Instant::now();
    let trace = std::sync::Mutex::new(trace);
    let done = AtomicU64::new(0);
    let results: Vec<Option<(Vec<u64>, sim::ReplicaResult)>> = (0..replicas)
        .into_par_iter()
        .map(|r| {
            if stop.load(Ordering::Relaxed) {
                return None;
            }
            let p = sim::SimParams::from_scenario(s, &cfg, rounds);
            let tr: Option<Box<dyn Write>> = if r == 0 {
                trace.lock().ok()?.take().map(|w| {
                    let mut w: Box<dyn Write> = Box::new(std::io::BufWriter::new(w));
                    let _ = writeln!(w, "time_ms,node,height,kind,rank");
                    w
                })
            } else {
                None
            };
            let mut sim = sim::Sim::new(s, p, replica_seed(s.run.seed, r), tr);
            if !sim.run(stop) {
                return None;
            }
            let res = sim.result();
            let mut a = vec![0u64; agg::AGG_LEN as usize];
            monitor::add_steps(
                &res.monitor.steps(rounds as usize),
                r as u32,
                rounds as u32,
                segments,
                &mut a,
            );
            progress(done.fetch_add(1, Ordering::Relaxed) + 1);
            Some((a, res))
        })
        .collect();
    if stop.load(Ordering::SeqCst) || results.iter().any(Option::is_none) {
        bail!("interrupted: nothing written");
    }
    let mut out = FineOutcome {
        agg: vec![0; agg::AGG_LEN as usize],
        safety_violations: 0,
        aggregates_with_invalid_shares: 0,
        shares_rejected: 0,
        requests: RequestStats::default(),
        crypto: CryptoStats::default(),
        events: 0,
        messages: 0,
        sim_time_us: 0,
        wall_s: 0.0,
    };
    for (a, res) in results.into_iter().flatten() {
        for (x, y) in out.agg.iter_mut().zip(&a) {
            *x += y;
        }
        out.safety_violations += res.monitor.violation_heights.len() as u64;
        out.aggregates_with_invalid_shares += res.monitor.aggregates_with_invalid_shares;
        out.shares_rejected += res.monitor.shares_rejected;
        out.requests.add(&res.requests);
        out.crypto.add(&res.crypto);
        out.events += res.events;
        out.messages += res.messages;
        out.sim_time_us += res.sim_time_us;
    }
    out.wall_s = start.elapsed().as_secs_f64();
    Ok(out)
}

/// Columns of `fine.csv` that measure the host (excluded from determinism comparisons).
pub const FINE_TIMING_COLUMNS: &[&str] = &["crypto_wall_s", "wall_s"];

/// `fine.csv`: fine-only metrics (one row): requests, throughput, crypto work, events.
pub fn fine_csv(s: &Scenario, o: &FineOutcome) -> Result<String> {
    use crate::output::fmt_f;
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
        fmt_f(crate::stats::hist_quantile(&r.latency_hist, 0.5, edge)),
        fmt_f(crate::stats::hist_quantile(&r.latency_hist, 0.99, edge)),
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
