//! `ictwin bench-gpu`: throughput of the coarse GPU engine vs a Philox-only shader; figures on
//! stdout, one row per scenario appended to `results/bench/gpu.csv`.

use anyhow::{bail, Context, Result};
use ictwin::gpu::bench::bench_scenario;
use ictwin::gpu::Gpu;
use ictwin::output::bench::{append_csv, gpu_bench_record, GPU_BENCH_HEADER};
use ictwin::scenario;
use std::path::{Path, PathBuf};

/// Options of `ictwin bench-gpu`.
#[derive(Clone, Debug, clap::Args)]
pub struct BenchArgs {
    /// Scenario files (default: experiments/ic-app-13.toml and experiments/ic-nns-40.toml).
    pub scenarios: Vec<PathBuf>,
    /// Replicas per measurement.
    #[arg(long, default_value_t = 200_000)]
    pub replicas: u64,
    /// Round steps per replica.
    #[arg(long, default_value_t = 100)]
    pub rounds: u64,
    /// CSV file one row per scenario is appended to (header written when new).
    #[arg(long, default_value = "results/bench/gpu.csv")]
    pub out: PathBuf,
}

/// `ictwin bench-gpu`.
pub fn cmd_bench(args: &BenchArgs) -> Result<()> {
    let gpu = Gpu::open(true).context("--engine gpu benchmark")?;
    eprintln!("device: {}", gpu.describe());
    let mut files = args.scenarios.clone();
    if files.is_empty() {
        for f in ["experiments/ic-app-13.toml", "experiments/ic-nns-40.toml"] {
            if Path::new(f).exists() {
                files.push(f.into());
            }
        }
    }
    if files.is_empty() {
        bail!("no scenario given and none of the default ones found");
    }
    let command = std::env::args().collect::<Vec<_>>().join(" ");
    println!(
        "{:<24} {:>5} {:>16} {:>10} {:>18} {:>22} {:>8}",
        "scenario", "nodes", "replica-rounds", "model s", "replica-rounds/s", "philox-only rr/s", "ratio"
    );
    for f in &files {
        let mut s = scenario::load(Some(f))?.scenario;
        s.run.replicas = args.replicas;
        s.run.rounds = args.rounds;
        if s.run.replicas == 0
            || s.run.replicas > u32::MAX as u64
            || s.run.rounds == 0
            || s.run.rounds > u32::MAX as u64
        {
            bail!("--replicas and --rounds must be between 1 and {}", u32::MAX);
        }
        let r = bench_scenario(&gpu, &s)?;
        println!(
            "{:<24} {:>5} {:>16} {:>10.3} {:>18.4e} {:>22.4e} {:>8.3}",
            r.scenario,
            r.nodes,
            r.replicas * r.rounds,
            r.model_s,
            r.replica_rounds_per_s,
            r.philox_only_replica_rounds_per_s,
            r.ratio
        );
        append_csv(
            &args.out,
            GPU_BENCH_HEADER,
            &[gpu_bench_record(&r, &gpu.info, &command)],
        )?;
    }
    Ok(())
}
