//! The fine engine: an agent-based discrete-event simulation of ICC with real BLS12-381
//! signatures (the reference level that validates and calibrates the coarse model).
//!
//! - [`events`]: the deterministic event queue; [`network`]: delays, full mesh or gossip;
//! - [`agents`]: IcNode, Client, Request, Block (the position paper's class diagram);
//! - [`crypto`]: BLS multi-signatures with PoP, batch verification, threshold BLS;
//! - [`artifacts`]: the replica's keys, shares, aggregates, beacons and CUPs;
//! - [`sim`]: the protocol on each node; [`monitor`]: measurements, safety, stalls;
//! - [`bench`]: the benchmarks (`ictwin crypto-bench`, `ictwin fine-bench`);
//! - [`memory`]: the memory estimate that refuses runs beyond the machine.
//!
//! Its settings are the scenario's `[fine]` table ([`FineConfig`], in [`crate::scenario`]).
//! Outputs use the coarse engine's schema (`summary.csv`, `histograms.csv`, engine `fine`)
//! plus `fine.csv` (requests, throughput, crypto work; written by [`crate::output`]). What is
//! measured per height is documented in [`monitor`].

pub mod agents;
pub mod artifacts;
pub mod bench;
pub mod crypto;
pub mod events;
pub mod memory;
pub mod monitor;
pub mod network;
pub mod sim;

pub use crate::scenario::{CryptoCosts, FineConfig};

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
    /// Received shares that failed verification and were dropped.
    pub shares_rejected: u64,
    /// Client requests: submitted, finalized, latency.
    pub requests: RequestStats,
    /// Crypto work done (counts and wall time).
    pub crypto: CryptoStats,
    /// Simulation events processed.
    pub events: u64,
    /// Messages sent between nodes.
    pub messages: u64,
    /// Simulated time, summed over replicas, µs.
    pub sim_time_us: u64,
    /// Wall-clock time of the run, s.
    pub wall_s: f64,
}

/// Seed of replica `r`.
pub fn replica_seed(seed: u64, r: u64) -> u64 {
    mix64(seed ^ mix64(r.wrapping_add(0xF17E)))
}

/// The `[fine]` table of a scenario (defaults when absent), validated; refused when the run
/// would need more memory than the machine has available ([`memory`]).
pub fn config_of(s: &Scenario) -> Result<FineConfig> {
    let cfg = s.fine.clone().unwrap_or_default();
    let faulty = s.faults.crashed + s.faults.silent + s.faults.equivocating;
    if let Err((k, msg)) = cfg.validate(s.subnet.nodes, faulty) {
        bail!("scenario `{}`: key `fine.{k}`: {msg}", s.name);
    }
    let threads = rayon::current_num_threads() as u64;
    if let Err(msg) = memory::check(s, &cfg, threads, memory::available_bytes()) {
        bail!("scenario `{}`: {msg}", s.name);
    }
    Ok(cfg)
}

/// A buffered trace writer with its CSV header written.
fn open_trace(w: Box<dyn Write + Send>) -> std::io::Result<Box<dyn Write>> {
    let mut w = std::io::BufWriter::new(w);
    writeln!(w, "time_ms,node,height,kind,rank")?;
    Ok(Box::new(w))
}

/// Runs `s.run.replicas` independent replicas of `s.run.rounds` heights (in parallel).
/// `trace` receives the protocol events of replica 0. `progress(heights)` is called as the
/// replicas advance, with the heights notarized so far summed over replicas (at most
/// replicas x rounds; a stalled height counts once its replica ends), so that a bar moves
/// with one replica too. Returns an error when interrupted through `stop` or when a write to
/// `trace` fails (the caller discards the partial trace).
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
    let trace_error = std::sync::Mutex::new(None);
    let record_trace_error = |e: std::io::Error| {
        if let Ok(mut slot) = trace_error.lock() {
            slot.get_or_insert(e);
        }
    };
    let results: Vec<Option<(Vec<u64>, sim::ReplicaResult)>> = (0..replicas)
        .into_par_iter()
        .map(|r| {
            if stop.load(Ordering::Relaxed) {
                return None;
            }
            let p = sim::SimParams::from_scenario(s, &cfg, rounds);
            let tr: Option<Box<dyn Write>> = if r == 0 {
                match trace.lock().ok()?.take().map(open_trace).transpose() {
                    Ok(w) => w,
                    Err(e) => {
                        record_trace_error(e);
                        return None;
                    }
                }
            } else {
                None
            };
            let mut sim = sim::Sim::new(s, p, replica_seed(s.run.seed, r), tr, stop)?;
            let mut reported = 0;
            let mut advance = |h: u64| {
                if h > reported {
                    progress(done.fetch_add(h - reported, Ordering::Relaxed) + h - reported);
                    reported = h;
                }
            };
            if !sim.run(stop, &mut advance) {
                return None;
            }
            advance(rounds);
            if let Some(e) = sim.trace_error() {
                record_trace_error(e);
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
            Some((a, res))
        })
        .collect();
    if let Some(e) = trace_error.into_inner().ok().flatten() {
        return Err(anyhow::Error::new(e).context("cannot write the trace"));
    }
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

#[cfg(test)]
mod tests {
    use crate::scenario::parse;
    use std::sync::atomic::AtomicBool;
    use std::sync::Mutex;

    /// Progress counts heights, so a single replica moves the bar (it used to count finished
    /// replicas: 0 until the very end with one replica).
    #[test]
    fn progress_moves_within_one_replica() {
        let text =
            "name = \"p\"\n[subnet]\nnodes = 13\n[run]\nreplicas = 1\nrounds = 60\n[fine]\ncrypto_time = false\n";
        let s = parse(text, "p.toml", std::path::Path::new(".")).unwrap().scenario;
        let seen = Mutex::new(Vec::new());
        super::run(&s, None, &AtomicBool::new(false), &|h| seen.lock().unwrap().push(h)).unwrap();
        let seen = seen.into_inner().unwrap();
        assert_eq!(seen.last(), Some(&60), "{seen:?}");
        assert!(
            seen.iter().any(|&h| h > 0 && h < 60),
            "no intermediate progress: {seen:?}"
        );
        assert!(seen.windows(2).all(|w| w[0] < w[1]), "{seen:?}");
    }
}
