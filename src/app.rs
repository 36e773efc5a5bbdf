//! The `ictwin run` command: scenario -> coarse run -> table on stdout and files in `--out`.

use crate::engine::{run_coarse, EngineChoice};
use crate::output::{self, SummaryRow};
use crate::progress::{stop_flag, Progress};
use crate::scenario::{self, Calibration, Scenario};
use crate::stats::{self, RunStats};
use anyhow::{bail, Context, Result};
use std::path::{Path, PathBuf};

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
    /// Output directory (default `results/<name>/`).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Worker threads for the CPU engine (default: all cores).
    #[arg(long)]
    pub threads: Option<usize>,
    /// Calibration file (a `[calibration]` table, see `ictwin calibrate`); overrides the scenario's.
    #[arg(long)]
    pub calibration: Option<PathBuf>,
    /// No progress bar.
    #[arg(long, short)]
    pub quiet: bool,
}

/// Reads the `[calibration]` table of a calibration file.
pub fn load_calibration(path: &Path) -> Result<Calibration> {
    #[derive(serde::Deserialize)]
    struct File {
        calibration: Calibration,
    }
    let text =
        std::fs::read_to_string(path).with_context(|| format!("{}: cannot read calibration file", path.display()))?;
    let f: File = toml::from_str(&text).map_err(|e| {
        anyhow::anyhow!(
            "{}{}: {}",
            path.display(),
            scenario::toml_error_location(&text, &e),
            e.message().trim()
        )
    })?;
    Ok(f.calibration)
}

/// Loads a scenario (the embedded default when `path` is `None`), prints its warnings and
/// applies the command-line overrides of `[run]`, checking their ranges.
pub fn load_with_overrides(
    path: Option<&Path>,
    replicas: Option<u64>,
    rounds: Option<u64>,
    seed: Option<u64>,
) -> Result<(Scenario, String)> {
    let loaded = scenario::load(path)?;
    for w in &loaded.warnings {
        eprintln!("warning: {w}");
    }
    let mut s = loaded.scenario;
    s.run.replicas = replicas.unwrap_or(s.run.replicas);
    s.run.rounds = rounds.unwrap_or(s.run.rounds);
    s.run.seed = seed.unwrap_or(s.run.seed);
    if s.run.replicas == 0 || s.run.replicas > u32::MAX as u64 {
        bail!("--replicas must be between 1 and {}", u32::MAX);
    }
    if s.run.rounds == 0 || s.run.rounds > u32::MAX as u64 {
        bail!("--rounds must be between 1 and {}", u32::MAX);
    }
    Ok((s, loaded.origin))
}

/// Loads the scenario of `ictwin run` with its overrides and calibration file.
pub fn resolve_scenario(args: &RunArgs) -> Result<(Scenario, String)> {
    let (mut s, origin) = load_with_overrides(args.scenario.as_deref(), args.replicas, args.rounds, args.seed)?;
    if let Some(c) = &args.calibration {
        s.calibration = Some(load_calibration(c)?);
    }
    scenario::check_coarse_limits(&s, &origin)?;
    Ok((s, origin))
}

/// The printed table of a run.
pub fn render_table(row: &SummaryRow) -> String {
    let s = &row.stats;
    let pm = |m: f64, ci: f64| format!("{} ± {}", fmt3(m), fmt3(ci));
    let lines = [
        (
            "scenario",
            format!("{} ({} nodes, engine {})", row.scenario, row.nodes, row.engine),
        ),
        (
            "replica-rounds",
            format!(
                "{} ({} replicas x {} rounds, seed {})",
                s.rounds_total, row.replicas, row.rounds_per_replica, row.seed
            ),
        ),
        ("stalled ratio", pm(s.stalled_ratio, s.stalled_ratio_ci95)),
        (
            "round time (ms)",
            format!(
                "mean {}  p50 {}  p99 {}",
                pm(s.mean_round_ms, s.mean_round_ms_ci95),
                fmt3(s.round_ms_p50),
                fmt3(s.round_ms_p99)
            ),
        ),
        ("block rate (1/s)", pm(s.block_rate_per_s, s.block_rate_per_s_ci95)),
        ("finalized ratio", pm(s.finalized_ratio, s.finalized_ratio_ci95)),
        (
            "finalization (ms)",
            format!(
                "mean {}  p50 {}  p99 {}",
                pm(s.mean_finalization_ms, s.mean_finalization_ms_ci95),
                fmt3(s.finalization_ms_p50),
                fmt3(s.finalization_ms_p99)
            ),
        ),
        (
            "notarized rank",
            format!(
                "mean {}  rank-0 ratio {}",
                fmt3(s.mean_notarized_rank),
                fmt3(s.rank0_ratio)
            ),
        ),
        (
            "speed",
            format!(
                "{:.3e} replica-rounds/s, {:.2} s",
                s.rounds_total as f64 / row.wall_s.max(1e-9),
                row.wall_s
            ),
        ),
    ];
    let mut out = String::new();
    for (k, v) in lines {
        out.push_str(&format!("  {k:<20} {v}\n"));
    }
    out
}

fn fmt3(x: f64) -> String {
    if x.is_nan() {
        "n/a".into()
    } else if x != 0.0 && (x.abs() < 1e-3 || x.abs() >= 1e7) {
        format!("{x:.3e}")
    } else {
        format!("{x:.4}")
    }
}

/// Builds the summary row of a coarse run.
pub fn summary_row(s: &Scenario, engine: &str, stats: RunStats, wall_s: f64) -> SummaryRow {
    SummaryRow {
        scenario: s.name.clone(),
        engine: engine.into(),
        nodes: s.subnet.nodes,
        replicas: s.run.replicas,
        rounds_per_replica: s.run.rounds,
        seed: s.run.seed,
        stats,
        safety_violations: None,
        wall_s,
    }
}

/// `ictwin run`.
pub fn cmd_run(args: &RunArgs) -> Result<()> {
    let (s, origin) = resolve_scenario(args)?;
    let prep = crate::coarse::prepare(&s)?;
    let out_dir = args
        .out
        .clone()
        .unwrap_or_else(|| PathBuf::from("results").join(&s.name));
    let stop = stop_flag();
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(args.threads.unwrap_or(0))
        .build()?;
    let progress = Progress::new(s.run.replicas, "replicas", args.quiet);
    let outcome = pool.install(|| run_coarse(&prep, args.engine, &progress, stop))?;
    progress.finish();
    if stop.load(std::sync::atomic::Ordering::SeqCst) {
        bail!("interrupted: nothing written");
    }
    let stats = stats::from_aggregates(&outcome.agg);
    let row = summary_row(&s, outcome.engine, stats, outcome.wall_s);
    let manifest = serde_json::json!({
        "ictwin": output::build_info(),
        "scenario_origin": origin,
        "scenario": s,
        "seed": s.run.seed,
        "engine": outcome.engine,
        "device": outcome.device,
        "host": output::host_info(),
        "created_unix_s": std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0),
    });
    output::write_atomically(
        &out_dir,
        &[
            ("summary.csv", output::summary_csv(std::slice::from_ref(&row))?),
            ("histograms.csv", output::histograms_csv(&outcome.agg)),
            ("manifest.json", serde_json::to_string_pretty(&manifest)? + "\n"),
        ],
    )?;
    print!("{}", render_table(&row));
    println!("  {:<20} {}", "written to", out_dir.display());
    Ok(())
}
