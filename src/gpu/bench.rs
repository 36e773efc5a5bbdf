//! The GPU benchmark (`ictwin bench-gpu`): replica-rounds per second of the GPU engine, and the ratio to a
//! shader that only draws the same number of Philox blocks (how close the model kernel is
//! to the RNG-bound limit). A benchmark, not a test: it asserts nothing about speed.

use super::{Gpu, RunOptions};
use crate::progress::stop_flag;
use anyhow::Result;
use bytemuck::{Pod, Zeroable};
use std::time::Instant;

/// Uniforms of `shaders/philox_only.wgsl` (`BenchParams` there).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Pod, Zeroable)]
pub struct PhiloxOnlyParams {
    /// Replicas of the dispatch.
    pub replicas: u32,
    /// First replica of the dispatch.
    pub replica_offset: u32,
    /// Philox blocks per invocation.
    pub blocks: u32,
    /// Low word of the seed.
    pub seed_lo: u32,
    /// High word of the seed.
    pub seed_hi: u32,
    /// Padding to 32 bytes.
    pub reserved: [u32; 3],
}

/// One benchmark measurement.
#[derive(Clone, Debug)]
pub struct BenchRow {
    /// Scenario name.
    pub scenario: String,
    /// Subnet size.
    pub nodes: u32,
    /// Replicas of the timed run.
    pub replicas: u64,
    /// Round steps per replica.
    pub rounds: u64,
    /// Wall-clock time of the timed model run, s.
    pub model_s: f64,
    /// Model throughput, replica-rounds per second.
    pub replica_rounds_per_s: f64,
    /// Philox blocks the model draws per replica-round (counted by the timed run).
    pub philox_blocks_per_replica_round: f64,
    /// Wall-clock time of the Philox-only shader, s.
    pub philox_only_s: f64,
    /// Philox-only throughput, replica-rounds per second.
    pub philox_only_replica_rounds_per_s: f64,
    /// Model rate / Philox-only rate (1 = the model costs no more than drawing its words).
    pub ratio: f64,
}

/// Measures one scenario: the timed model run also counts the Philox blocks it draws (as
/// the CPU bench counts them), and the baseline draws as many per replica.
pub fn bench_scenario(gpu: &Gpu, s: &crate::scenario::Scenario) -> Result<BenchRow> {
    let stop = stop_flag();
    let prep = crate::coarse::prepare(s)?;
    // Warm-up (compiles the pipeline), then the timed run.
    let mut warm = s.clone();
    warm.run.replicas = 64;
    gpu.run(&crate::coarse::prepare(&warm)?, &|_| {}, stop)?;
    let t0 = Instant::now();
    let run = gpu.run_with(&prep, RunOptions::default(), &|_| {}, stop)?;
    let model_s = t0.elapsed().as_secs_f64();
    let blocks = run.philox_blocks as f64 / (s.run.replicas as f64 * s.run.rounds as f64);
    let rr = s.run.replicas as f64 * s.run.rounds as f64;
    let per_replica = (blocks * s.run.rounds as f64).round().max(1.0) as u32;
    let philox_s = gpu
        .time_philox_only(s.run.replicas as u32, per_replica, s.run.seed)?
        .as_secs_f64();
    Ok(BenchRow {
        scenario: s.name.clone(),
        nodes: s.subnet.nodes,
        replicas: s.run.replicas,
        rounds: s.run.rounds,
        model_s,
        replica_rounds_per_s: rr / model_s,
        philox_blocks_per_replica_round: blocks,
        philox_only_s: philox_s,
        philox_only_replica_rounds_per_s: rr / philox_s,
        ratio: philox_s / model_s,
    })
}
