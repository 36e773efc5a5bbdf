//! Throughput of the coarse CPU engine (`ictwin bench`) in replica-rounds per second, and the
//! ratio to a loop that only draws the same number of Philox words (how close the model is to
//! the RNG-bound limit).

use super::{prepare, run_cpu};
use crate::scenario::Scenario;
use anyhow::{bail, Result};
use ictwin_kernels::philox::{stream, WordStream};
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
    /// Philox words one replica-round draws (round stream plus ranking).
    pub philox_words_per_round: u32,
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

/// Philox words one all-honest, always-finalized round step draws: the round stream (observer,
/// d_j and e_j for the c signers but the maker's d and the observer's e, one finalization
/// share word) and the two ranking words (ranks 0 and 1).
pub fn words_per_round(s: &Scenario) -> (u32, u32) {
    let c = 3 * s.f() + 1;
    (1 + 2 * (c - 1) + 1, 2)
}

/// The baseline: per replica-round, read the same number of words from the same streams.
fn philox_only(s: &Scenario, replicas: u32, rounds: u32) -> u32 {
    let (round_words, ranking_words) = words_per_round(s);
    let key = [s.run.seed as u32, (s.run.seed >> 32) as u32];
    (0..replicas)
        .into_par_iter()
        .map(|r| {
            let mut acc = 0u32;
            for step in 0..rounds {
                let mut w = WordStream::new(key, r, step, stream::ROUND, round_words);
                for _ in 0..round_words {
                    acc ^= w.next_u32();
                }
                let mut w = WordStream::new(key, r, step, stream::RANKING, ranking_words);
                for _ in 0..ranking_words {
                    acc ^= w.next_u32();
                }
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

/// Times the model and the Philox-only loop on `s` (all honest, static faults) in `pool`,
/// with `s.run` sizing the runs; the best of `repeat` repetitions counts.
pub fn measure(pool: &rayon::ThreadPool, s: &Scenario, repeat: u32) -> Result<CpuBenchRow> {
    if s.faults.crashed + s.byzantine() > 0 || s.dynamic_failures() {
        bail!(
            "{}: the benchmark needs an all-honest scenario (its words per round are then fixed)",
            s.name
        );
    }
    let (replicas, rounds) = (s.run.replicas, s.run.rounds);
    let prep = prepare(s)?;
    let stop = AtomicBool::new(false);
    let total = (replicas * rounds) as f64;
    let t_model = best_of(repeat, || {
        pool.install(|| run_cpu(&prep, &|_| {}, &stop))
            .map(std::hint::black_box)
            .ok();
    });
    let t_rng = best_of(repeat, || {
        std::hint::black_box(pool.install(|| philox_only(s, replicas as u32, rounds as u32)));
    });
    let (w, rw) = words_per_round(s);
    Ok(CpuBenchRow {
        scenario: s.name.clone(),
        replicas,
        rounds,
        philox_words_per_round: w + rw,
        model_replica_rounds_per_s: total / t_model,
        philox_only_replica_rounds_per_s: total / t_rng,
    })
}
