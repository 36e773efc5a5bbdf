//! `ictwin bench`: throughput of the coarse CPU engine in replica-rounds per second, and the
//! ratio to a loop that only draws the same number of Philox words (how close the model is to
//! the RNG-bound limit). Figures go to stdout and are appended to `results/bench/cpu.csv`.

use crate::coarse::{prepare, run_cpu};
use crate::scenario::{self, Scenario};
use anyhow::{bail, Result};
use ictwin_kernels::philox::{stream, WordStream};
use rayon::prelude::*;
use std::io::Write;
use std::path::PathBuf;
use std::sync::atomic::AtomicBool;
use std::time::Instant;

#[derive(Clone, Debug, clap::Args)]
pub struct BenchArgs {
    /// Scenario files (all honest, so that every round draws the same words); default: the
    /// embedded 13-node scenario and experiments/ic-nns-40.toml.
    pub scenarios: Vec<PathBuf>,
    #[arg(long, default_value_t = 100_000)]
    pub replicas: u64,
    #[arg(long, default_value_t = 100)]
    pub rounds: u64,
    /// Worker threads (default: all cores).
    #[arg(long)]
    pub threads: Option<usize>,
    /// Timed repetitions; the best is reported.
    #[arg(long, default_value_t = 3)]
    pub repeat: u32,
    /// CSV file the figures are appended to.
    #[arg(long, default_value = "results/bench/cpu.csv")]
    pub out: PathBuf,
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

/// `ictwin bench`.
pub fn cmd_bench(a: &BenchArgs) -> Result<()> {
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(a.threads.unwrap_or(0))
        .build()?;
    let mut scenarios = Vec::new();
    if a.scenarios.is_empty() {
        scenarios.push(scenario::load(None)?.scenario);
        scenarios.push(scenario::load(Some(std::path::Path::new("experiments/ic-nns-40.toml")))?.scenario);
    }
    for p in &a.scenarios {
        scenarios.push(scenario::load(Some(p))?.scenario);
    }
    if a.replicas == 0 || a.replicas > u32::MAX as u64 || a.rounds == 0 || a.rounds > u32::MAX as u64 {
        bail!("--replicas and --rounds must be between 1 and {}", u32::MAX);
    }
    let new_file = !a.out.exists();
    if let Some(d) = a.out.parent() {
        std::fs::create_dir_all(d)?;
    }
    let mut rows = Vec::new();
    let threads = pool.current_num_threads();
    println!(
        "{:<22} {:>8} {:>16} {:>18} {:>8}",
        "scenario", "words", "model rr/s", "philox-only rr/s", "ratio"
    );
    for mut s in scenarios {
        if s.faults.crashed + s.byzantine() > 0 || s.dynamic_failures() {
            bail!(
                "{}: the benchmark needs an all-honest scenario (its words per round are then fixed)",
                s.name
            );
        }
        s.run.replicas = a.replicas;
        s.run.rounds = a.rounds;
        let prep = prepare(&s)?;
        let stop = AtomicBool::new(false);
        let total = (a.replicas * a.rounds) as f64;
        let t_model = best_of(a.repeat, || {
            pool.install(|| run_cpu(&prep, &|_| {}, &stop))
                .map(std::hint::black_box)
                .ok();
        });
        let t_rng = best_of(a.repeat, || {
            std::hint::black_box(pool.install(|| philox_only(&s, a.replicas as u32, a.rounds as u32)));
        });
        let (w, rw) = words_per_round(&s);
        let (model, rng) = (total / t_model, total / t_rng);
        println!(
            "{:<22} {:>8} {:>16.4e} {:>18.4e} {:>8.3}",
            s.name,
            w + rw,
            model,
            rng,
            model / rng
        );
        rows.push(format!(
            "{},{},{},{},{},{},{},{:.0},{:.0},{:.4}",
            crate::output::utc_date(),
            host_cpu(),
            threads,
            s.name,
            a.replicas,
            a.rounds,
            w + rw,
            model,
            rng,
            model / rng
        ));
    }
    let mut f = std::fs::OpenOptions::new().create(true).append(true).open(&a.out)?;
    if new_file {
        writeln!(
            f,
            "date,cpu,threads,scenario,replicas,rounds,philox_words_per_round,model_replica_rounds_per_s,philox_only_replica_rounds_per_s,ratio"
        )?;
    }
    for r in rows {
        writeln!(f, "{r}")?;
    }
    println!("appended to {}", a.out.display());
    Ok(())
}

/// The CPU model name (Linux), for benchmark records.
pub fn host_cpu() -> String {
    std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|t| {
            t.lines()
                .find(|l| l.starts_with("model name"))
                .map(|l| l.split(':').nth(1).unwrap_or("").trim().to_string())
        })
        .unwrap_or_else(|| std::env::consts::ARCH.to_string())
        .replace(',', " ")
}
