//! `ictwin run`: scenario -> coarse run -> table on stdout and files in `--out`.

use anyhow::{bail, Result};
use ictwin::coarse;
use ictwin::engine::{run_coarse, EngineChoice};
use ictwin::output::shard::{ShardFile, ShardRun, ShardSpec, SHARD_FILE};
use ictwin::output::{self, Manifest, OutDir};
use ictwin::progress::{stop_flag, Progress};
use ictwin::scenario::{self, Scenario};
use ictwin::stats;
use std::path::PathBuf;

/// Options of `ictwin run` (flags override the scenario file).
#[derive(Clone, Debug, clap::Args)]
pub struct RunArgs {
    /// Scenario file (TOML); default: the embedded 13-node application subnet.
    pub scenario: Option<PathBuf>,
    /// Where the coarse model runs.
    #[arg(long, value_enum, default_value = "auto")]
    pub engine: EngineChoice,
    /// Replicas (independent subnets); overrides `run.replicas`.
    #[arg(long)]
    pub replicas: Option<u64>,
    /// Round steps per replica; overrides `run.rounds`.
    #[arg(long)]
    pub rounds: Option<u64>,
    /// RNG seed; overrides `run.seed`.
    #[arg(long)]
    pub seed: Option<u64>,
    /// Output directory (default `ictwin-out/<name>/` in the current directory; the committed
    /// `results/<name>/` are regenerated with an explicit `--out`).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Worker threads for the CPU engine, 1 to 1024 (default: all cores).
    #[arg(long, value_parser = super::args::threads)]
    pub threads: Option<u32>,
    /// Calibration file (a `[calibration]` table, see `ictwin calibrate`); overrides the scenario's.
    #[arg(long)]
    pub calibration: Option<PathBuf>,
    /// No progress bar (errors and warnings still go to stderr).
    #[arg(long, short)]
    pub quiet: bool,
    /// Run only shard I of N (I 0-based, 0 <= I < N: a contiguous block of the replicas) and
    /// write its partial result `shard.json` into --out instead of the summary; `ictwin
    /// merge` combines the shards into the whole run's files.
    #[arg(long, value_name = "I/N", value_parser = output::shard::parse_spec)]
    pub shard: Option<ShardSpec>,
}

/// The scenario of `ictwin run` with its overrides and calibration file, and its origin.
pub fn resolve_scenario(args: &RunArgs) -> Result<(Scenario, String)> {
    let (mut s, origin) =
        scenario::load_with_overrides(args.scenario.as_deref(), args.replicas, args.rounds, args.seed)?;
    if let Some(c) = &args.calibration {
        s.calibration = Some(scenario::load_calibration(c)?);
    }
    scenario::check_coarse_limits(&s, &origin)?;
    Ok((s, origin))
}

/// Where a run goes without `--out`: `ictwin-out/<name>` in the current directory.
pub fn default_out(name: &str) -> PathBuf {
    PathBuf::from("ictwin-out").join(name)
}

/// `ictwin run`.
pub fn cmd_run(args: &RunArgs) -> Result<()> {
    let (s, origin) = resolve_scenario(args)?;
    let mut prep = coarse::prepare(&s)?;
    if let Some(spec) = args.shard {
        prep.restrict(spec.range(s.run.replicas as u32));
    }
    let out_dir = args.out.clone().unwrap_or_else(|| default_out(&s.name));
    // Checked (created, locked, writable) before anything is simulated.
    let out = OutDir::open(&out_dir)?;
    let stop = stop_flag();
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(args.threads.map_or(0, |t| t as usize))
        .build()?;
    let progress = Progress::new(prep.replica_range().len() as u64, "replicas", args.quiet);
    let outcome = pool.install(|| run_coarse(&prep, args.engine, &progress, stop))?;
    progress.finish();
    if stop.load(std::sync::atomic::Ordering::SeqCst) {
        bail!("interrupted: nothing written");
    }
    let manifest = Manifest {
        scenario: &s,
        origin: &origin,
        engine: outcome.engine,
        device: Some(&outcome.device),
    };
    if let Some(spec) = args.shard {
        let (engine, device, agg) = (outcome.engine, outcome.device.as_str(), outcome.agg.as_slice());
        let run = ShardRun {
            spec,
            engine,
            device,
            wall_s: outcome.wall_s,
            agg,
        };
        let file = ShardFile::new(&s, &origin, &run)?;
        output::write_run_dir(out, vec![(SHARD_FILE.into(), file.to_json()?)], Some(&manifest))?;
        let r = prep.replica_range();
        println!(
            "shard {spec}: replicas {}..{} -> {}",
            r.start,
            r.end,
            out_dir.join(SHARD_FILE).display()
        );
        return Ok(());
    }
    let stats = stats::from_aggregates(&outcome.agg);
    let row = output::summary_row(&s, outcome.engine, stats, outcome.wall_s);
    output::write_run_dir(
        out,
        vec![
            ("summary.csv".into(), output::summary_csv(std::slice::from_ref(&row))?),
            ("histograms.csv".into(), output::histograms_csv(&outcome.agg)),
        ],
        Some(&manifest),
    )?;
    print!("{}", output::render_table(&row));
    println!("  {:<20} {}", "written to", out_dir.display());
    Ok(())
}
