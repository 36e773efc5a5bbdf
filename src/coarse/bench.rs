//! Throughput of the coarse CPU engine (`ictwin bench`) in replica-rounds per second, and the
//! ratio to a loop that only draws the same number of Philox words (how close the model is to
//! the RNG-bound limit).

use super::{prepare, run_cpu, Prepared};
use crate::scenario::Scenario;
use anyhow::Result;
use ictwin_kernels::agg::AGG_LEN;
use ictwin_kernels::model::simulate_replica;
use ictwin_kernels::philox::{philox4x32_10, stream};
use rayon::prelude::*;
use std::sync::atomic::AtomicBool;
use std::time::Instant;

/// One measurement of [`measure`].
#[derive(Clone, Debug)]
pub struct CpuBenchRow {
    /// Scenario name.
    pub scenario: String,
    /// Replicas per timed run.
    pub replicas: u64,
    /// Round steps per replica.
    pub rounds: u64,
    /// Philox words (4 per block) the model computes per replica-round, averaged over the
    /// timed run (data dependent: relays and beacon shares that cannot matter are skipped).
    pub philox_words_per_round: f64,
    /// Best model throughput, replica-rounds per second.
    pub model_replica_rounds_per_s: f64,
    /// Best throughput of the Philox-only loop, replica-rounds per second.
    pub philox_only_replica_rounds_per_s: f64,
}

impl CpuBenchRow {
    /// Model rate / Philox-only rate (1 = the model costs no more than drawing its words).
    pub fn ratio(&self) -> f64 {
        self.model_replica_rounds_per_s / self.philox_only_replica_rounds_per_s
    }
}

/// Philox blocks the model computes for every replica of `prep` (counted by the kernel).
fn model_blocks(prep: &Prepared) -> Vec<u64> {
    let p = &prep.params;
    (0..p.replicas)
        .into_par_iter()
        .map(|r| {
            let mut agg = vec![0u64; AGG_LEN as usize];
            simulate_replica(p, &prep.tables, r, &mut agg)
        })
        .collect()
}

/// The baseline: replica r computes `blocks[r]` Philox blocks (stream `MESSAGE`, distinct
/// counters), the number the model computes for it.
fn philox_only(seed: u64, blocks: &[u64]) -> u32 {
    let key = [seed as u32, (seed >> 32) as u32];
    blocks
        .par_iter()
        .enumerate()
        .map(|(r, &n)| {
            let mut acc = 0u32;
            for b in 0..n {
                let w = philox4x32_10([r as u32, (b >> 32) as u32, b as u32, stream::MESSAGE], key);
                acc ^= w[0] ^ w[1] ^ w[2] ^ w[3];
            }
            acc
        })
        .reduce(|| 0, |a, b| a ^ b)
}

fn best_of(repeat: u32, mut f: impl FnMut()) -> f64 {
    (0..repeat.max(1))
        .map(|_| {
            let t = Instant::now();
            f();
            t.elapsed().as_secs_f64()
        })
        .fold(f64::INFINITY, f64::min)
}

/// Times the model and the Philox-only loop computing the same Philox blocks per replica on
/// `s` in `pool`, with `s.run` sizing the runs; the best of `repeat` repetitions counts.
pub fn measure(pool: &rayon::ThreadPool, s: &Scenario, repeat: u32) -> Result<CpuBenchRow> {
    let (replicas, rounds) = (s.run.replicas, s.run.rounds);
    let prep = prepare(s)?;
    let stop = AtomicBool::new(false);
    let total = (replicas * rounds) as f64;
    let t_model = best_of(repeat, || {
        pool.install(|| run_cpu(&prep, &|_| {}, &stop))
            .map(std::hint::black_box)
            .ok();
    });
    let blocks = pool.install(|| model_blocks(&prep));
    let t_rng = best_of(repeat, || {
        std::hint::black_box(pool.install(|| philox_only(s.run.seed, &blocks)));
    });
    let words = 4.0 * blocks.iter().sum::<u64>() as f64 / total;
    Ok(CpuBenchRow {
        scenario: s.name.clone(),
        replicas,
        rounds,
        philox_words_per_round: words,
        model_replica_rounds_per_s: total / t_model,
        philox_only_replica_rounds_per_s: total / t_rng,
    })
}
