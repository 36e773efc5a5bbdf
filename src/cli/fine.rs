//! `ictwin fine`: the agent-based fine engine on one scenario, table on stdout and files
//! (the coarse schema plus `fine.csv`) in `--out`.

use anyhow::{bail, Context, Result};
use ictwin::fine;
use ictwin::output::{self, Manifest};
use ictwin::progress::{stop_flag, Progress};
use ictwin::scenario;
use ictwin::stats;
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
    let (s, origin) = scenario::load_with_overrides(a.scenario.as_deref(), Some(a.replicas), a.rounds, a.seed)?;
    if s.run.rounds > u32::MAX as u64 - 8 {
        bail!("--rounds must be between 1 and {}", u32::MAX - 8);
    }
    fine::config_of(&s).map_err(|e| anyhow::anyhow!("{origin}: {e:#}"))?;
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
    let result = fine::run(&s, trace_writer, stop_flag(), &|k| progress.set(k)).map_err(|e| {
        // A failed trace write is an I/O error at the root: name the file the user gave.
        match (&a.trace, e.root_cause().is::<std::io::Error>()) {
            (Some(p), true) => e.context(format!("trace file {}", p.display())),
            _ => e,
        }
    });
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
    let mut row = output::summary_row(&s, "fine", stats, o.wall_s);
    row.safety_violations = Some(o.safety_violations);
    let manifest = Manifest {
        scenario: &s,
        origin: &origin,
        engine: "fine",
        device: None,
    };
    output::write_run_dir(
        &out_dir,
        vec![
            ("summary.csv".into(), output::summary_csv(std::slice::from_ref(&row))?),
            ("histograms.csv".into(), output::histograms_csv(&o.agg)),
            ("fine.csv".into(), output::fine::fine_csv(&s, &o)?),
        ],
        Some(&manifest),
    )?;
    if let (Some(tmp), Some(dst)) = (&trace_tmp, &a.trace) {
        std::fs::rename(tmp, dst).with_context(|| format!("cannot move trace into {}", dst.display()))?;
    }
    print!("{}", output::render_table(&row));
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
