//! The fine engine's commands: `ictwin fine`, `ictwin crypto-bench`, `ictwin fine-bench`.

use crate::app;
use crate::output;
use crate::progress::{stop_flag, Progress};
use crate::stats;
use anyhow::{bail, Context, Result};
use std::path::PathBuf;

/// Options of `ictwin fine` (flags override the scenario file).
#[derive(Clone, Debug, clap::Args)]
pub struct FineArgs {
    /// Scenario file (TOML, optional `[fine]` table); default: the embedded 13-node subnet.
    pub scenario: Option<PathBuf>,
    /// Heights (round steps) per replica; overrides `run.rounds`.
    #[arg(long)]
    pub rounds: Option<u64>,
    /// RNG seed; overrides `run.seed`.
    #[arg(long)]
    pub seed: Option<u64>,
    /// Independent replicas (default 1: the scenario's `run.replicas` sizes coarse runs).
    #[arg(long, default_value_t = 1)]
    pub replicas: u64,
    /// Output directory (default `results/<name>/fine/`).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// CSV trace of protocol events of replica 0 (time_ms, node, height, kind, rank).
    #[arg(long)]
    pub trace: Option<PathBuf>,
    /// No progress bar.
    #[arg(long, short)]
    pub quiet: bool,
}

/// `ictwin fine`.
pub fn cmd_fine(a: &FineArgs) -> Result<()> {
    let (s, origin) = app::load_with_overrides(a.scenario.as_deref(), Some(a.replicas), a.rounds, a.seed)?;
    if s.run.rounds > u32::MAX as u64 - 8 {
        bail!("--rounds must be between 1 and {}", u32::MAX - 8);
    }
    super::config_of(&s).map_err(|e| anyhow::anyhow!("{origin}: {e:#}"))?;
    let out_dir = a
        .out
        .clone()
        .unwrap_or_else(|| PathBuf::from("results").join(&s.name).join("fine"));
    let trace_tmp = a.trace.as_ref().map(|p| {
        let name = p
            .file_name()
            .map(|n| n.to_string_lossy().to_string())
            .unwrap_or_default();
        p.with_file_name(format!(".{name}.tmp{}", std::process::id()))
    });
    let trace_writer: Option<Box<dyn std::io::Write + Send>> = match &trace_tmp {
        Some(p) => Some(Box::new(
            std::fs::File::create(p).with_context(|| format!("cannot create trace file {}", p.display()))?,
        )),
        None => None,
    };
    let progress = Progress::new(s.run.replicas, "replicas", a.quiet);
    let result = super::run(&s, trace_writer, stop_flag(), &|k| progress.set(k));
    progress.finish();
    let o = match result {
        Ok(o) => o,
        Err(e) => {
            if let Some(t) = &trace_tmp {
                let _ = std::fs::remove_file(t);
            }
            return Err(e);
        }
    };
    let stats = stats::from_aggregates(&o.agg);
    let mut row = app::summary_row(&s, "fine", stats, o.wall_s);
    row.safety_violations = Some(o.safety_violations);
    let manifest = serde_json::json!({
        "ictwin": output::build_info(),
        "scenario_origin": origin,
        "scenario": s,
        "seed": s.run.seed,
        "engine": "fine",
        "host": output::host_info(),
        "created_unix_s": std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0),
    });
    output::write_atomically(
        &out_dir,
        &[
            ("summary.csv", output::summary_csv(std::slice::from_ref(&row))?),
            ("histograms.csv", output::histograms_csv(&o.agg)),
            ("fine.csv", super::fine_csv(&s, &o)?),
            ("manifest.json", serde_json::to_string_pretty(&manifest)? + "\n"),
        ],
    )?;
    if let (Some(tmp), Some(dst)) = (&trace_tmp, &a.trace) {
        std::fs::rename(tmp, dst).with_context(|| format!("cannot move trace into {}", dst.display()))?;
    }
    print!("{}", app::render_table(&row));
    let sim_s = o.sim_time_us as f64 / 1e6;
    println!(
        "  {:<20} {} (heights with two finalized blocks)",
        "safety violations", o.safety_violations
    );
    println!(
        "  {:<20} {} submitted, {} finalized, {:.1}/s",
        "requests",
        o.requests.submitted,
        o.requests.finalized,
        o.requests.finalized as f64 / sim_s.max(1e-9)
    );
    println!(
        "  {:<20} {:.2} s of {:.2} s wall in crypto; {} shares rejected",
        "crypto",
        o.crypto.wall.as_secs_f64(),
        o.wall_s,
        o.shares_rejected
    );
    println!("  {:<20} {}", "written to", out_dir.display());
    Ok(())
}

/// Options of `ictwin crypto-bench`.
#[derive(Clone, Debug, clap::Args)]
pub struct CryptoBenchArgs {
    /// Subnet size for the batch/aggregate/threshold measurements.
    #[arg(long, default_value_t = 13)]
    pub nodes: usize,
    /// Measuring time per operation, ms.
    #[arg(long, default_value_t = 400)]
    pub budget_ms: u64,
}

pub fn cmd_crypto_bench(a: &CryptoBenchArgs) -> Result<()> {
    print!("{}", super::bench::crypto_bench(a.nodes, a.budget_ms)?);
    Ok(())
}

/// Options of `ictwin fine-bench`.
#[derive(Clone, Debug, clap::Args)]
pub struct FineBenchArgs {
    /// Subnet sizes.
    #[arg(long, value_delimiter = ',', default_value = "13,40,200")]
    pub nodes: Vec<u32>,
    /// Heights per size (scaled down as 13 * rounds / n for larger subnets, at least 10).
    #[arg(long, default_value_t = 300)]
    pub rounds: u64,
    /// Gossip fanout used for subnets of at least `gossip_from` nodes.
    #[arg(long, default_value_t = 8)]
    pub fanout: u32,
    #[arg(long, default_value_t = 100)]
    pub gossip_from: u32,
}

pub fn cmd_fine_bench(a: &FineBenchArgs) -> Result<()> {
    let mut rows = Vec::new();
    for &n in &a.nodes {
        if n < 4 {
            bail!("--nodes: subnets need at least 4 nodes, got {n}");
        }
        let rounds = (a.rounds * 13 / n as u64).max(10);
        let fanout = if n >= a.gossip_from { a.fanout } else { 0 };
        let r = super::bench::bench_one(n, rounds, fanout)?;
        eprintln!("{n} nodes: {:.1} rounds/s", r.rounds_per_s);
        rows.push(r);
    }
    println!(
        "fine-bench: lognormal delays (median 70 ms), all crypto real, crypto_time on, {} threads\n",
        rayon::current_num_threads()
    );
    print!("{}", super::bench::render_bench(&rows));
    Ok(())
}
