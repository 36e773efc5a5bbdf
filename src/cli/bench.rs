//! `ictwin bench`: throughput of the coarse CPU engine vs a Philox-only loop; figures on
//! stdout, appended to `--out` (default `ictwin-out/bench/cpu.csv`).

use anyhow::{bail, Result};
use ictwin::coarse::bench::measure;
use ictwin::output::bench::{append_csv, check_appendable, cpu_bench_record, CPU_BENCH_HEADER};
use ictwin::scenario;
use std::path::PathBuf;

/// Options of `ictwin bench`.
#[derive(Clone, Debug, clap::Args)]
pub struct BenchArgs {
    /// Scenario files; default: the embedded ic-app-13 and ic-nns-40 scenarios.
    pub scenarios: Vec<PathBuf>,
    /// Replicas per timed run.
    #[arg(long, default_value_t = 10_000)]
    pub replicas: u64,
    /// Round steps per replica.
    #[arg(long, default_value_t = 100)]
    pub rounds: u64,
    /// Worker threads, 1 to 1024 (default: all cores).
    #[arg(long, value_parser = super::args::threads)]
    pub threads: Option<u32>,
    /// Timed repetitions; the best is reported.
    #[arg(long, default_value_t = 3, value_parser = super::args::positive_u32)]
    pub repeat: u32,
    /// CSV file the figures are appended to.
    #[arg(long, default_value = "ictwin-out/bench/cpu.csv")]
    pub out: PathBuf,
}

/// `ictwin bench`.
pub fn cmd_bench(a: &BenchArgs) -> Result<()> {
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(a.threads.map_or(0, |t| t as usize))
        .build()?;
    let mut scenarios = Vec::new();
    if a.scenarios.is_empty() {
        scenarios = scenario::bench_scenarios()?;
    }
    for p in &a.scenarios {
        scenarios.push(scenario::load(Some(p))?.scenario);
    }
    if a.replicas == 0 || a.replicas > u32::MAX as u64 || a.rounds == 0 || a.rounds > u32::MAX as u64 {
        bail!("--replicas and --rounds must be between 1 and {}", u32::MAX);
    }
    check_appendable(&a.out)?;
    let mut records = Vec::new();
    let threads = pool.current_num_threads();
    println!(
        "{:<22} {:>8} {:>16} {:>18} {:>8}",
        "scenario", "words", "model rr/s", "philox-only rr/s", "ratio"
    );
    for mut s in scenarios {
        s.run.replicas = a.replicas;
        s.run.rounds = a.rounds;
        let r = measure(&pool, &s, a.repeat)?;
        println!(
            "{:<22} {:>8.1} {:>16.4e} {:>18.4e} {:>8.3}",
            r.scenario,
            r.philox_words_per_round,
            r.model_replica_rounds_per_s,
            r.philox_only_replica_rounds_per_s,
            r.ratio()
        );
        records.push(cpu_bench_record(&r, threads));
    }
    append_csv(&a.out, CPU_BENCH_HEADER, &records)?;
    println!("appended to {}", a.out.display());
    Ok(())
}
