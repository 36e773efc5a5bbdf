//! `ictwin bench-gpu`: throughput of the coarse GPU engine vs a Philox-only shader; figures on
//! stdout, one row per scenario appended to `--out` (default `ictwin-out/bench/gpu.csv`).

use anyhow::{bail, Context, Result};
use ictwin::gpu::bench::bench_scenario;
use ictwin::gpu::Gpu;
use ictwin::output::bench::{append_csv, check_appendable, gpu_bench_record, GPU_BENCH_HEADER};
use ictwin::scenario;
use std::path::PathBuf;

/// Options of `ictwin bench-gpu`.
#[derive(Clone, Debug, clap::Args)]
pub struct BenchArgs {
    /// Scenario files (default: the embedded ic-app-13 and ic-nns-40 scenarios).
    pub scenarios: Vec<PathBuf>,
    /// Replicas per measurement.
    #[arg(long, default_value_t = 200_000)]
    pub replicas: u64,
    /// Round steps per replica.
    #[arg(long, default_value_t = 100)]
    pub rounds: u64,
    /// CSV file one row per scenario is appended to (header written when new).
    #[arg(long, default_value = "ictwin-out/bench/gpu.csv")]
    pub out: PathBuf,
}

/// `ictwin bench-gpu`.
pub fn cmd_bench(args: &BenchArgs) -> Result<()> {
    // Inputs and the output file are checked before the GPU is opened.
    let mut scenarios = Vec::new();
    if args.scenarios.is_empty() {
        scenarios = scenario::bench_scenarios()?;
    }
    for f in &args.scenarios {
        scenarios.push(scenario::load(Some(f))?.scenario);
    }
    if args.replicas == 0 || args.replicas > u32::MAX as u64 || args.rounds == 0 || args.rounds > u32::MAX as u64 {
        bail!("--replicas and --rounds must be between 1 and {}", u32::MAX);
    }
    check_appendable(&args.out)?;
    let gpu = Gpu::open(true).context("--engine gpu benchmark")?;
    eprintln!("device: {}", gpu.describe());
    let command = std::env::args().collect::<Vec<_>>().join(" ");
    println!(
        "{:<24} {:>5} {:>16} {:>10} {:>18} {:>22} {:>8}",
        "scenario", "nodes", "replica-rounds", "model s", "replica-rounds/s", "philox-only rr/s", "ratio"
    );
    for mut s in scenarios {
        s.run.replicas = args.replicas;
        s.run.rounds = args.rounds;
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
