//! `ictwin fine`: the agent-based fine engine on one scenario, table on stdout and files
//! (the coarse schema plus `fine.csv`) in `--out`.

use anyhow::{bail, Context, Result};
use ictwin::fine;
use ictwin::output::{self, Manifest, OutDir};
use ictwin::progress::{stop_flag, Progress};
use ictwin::scenario;
use ictwin::stats;
use std::path::{Path, PathBuf};

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
    /// Output directory (default `ictwin-out/<name>/fine/` in the current directory).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// CSV trace of protocol events of replica 0 (time_ms, node, height, kind, rank).
    ///
    /// Kinds: round_start, block_proposed, notarization_share, notarized,
    /// finalization_share, finalized, beacon, certification_share, certified,
    /// equivocation_proof, crash, recover, catch_up, stall (node empty: the subnet).
    #[arg(long)]
    pub trace: Option<PathBuf>,
    /// No progress bar (errors and warnings still go to stderr).
    #[arg(long, short)]
    pub quiet: bool,
}

/// The trace file while the run writes it: a temporary file beside it, renamed into place
/// after the run's other files, removed when the run fails.
struct Trace {
    path: PathBuf,
    tmp: PathBuf,
    file: std::fs::File,
    done: bool,
}

impl Trace {
    /// Checks that `path` names a file in an existing directory, then creates the temporary file.
    fn create(path: &Path) -> Result<Trace> {
        let (Some(name), false) = (path.file_name(), path.is_dir()) else {
            bail!(
                "--trace {}: is a directory; name the trace file to write",
                path.display()
            );
        };
        let dir = path
            .parent()
            .filter(|d| !d.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        if !dir.is_dir() {
            bail!("--trace {}: directory {} does not exist", path.display(), dir.display());
        }
        let prefix = format!(".{}.tmp", name.to_string_lossy());
        remove_stale(dir, &prefix);
        let tmp = dir.join(format!("{prefix}{}", std::process::id()));
        let file = std::fs::File::create(&tmp)
            .with_context(|| format!("--trace {}: cannot create a file in {}", path.display(), dir.display()))?;
        Ok(Trace {
            path: path.to_path_buf(),
            tmp,
            file,
            done: false,
        })
    }

    /// Renames the trace into place.
    fn commit(mut self) -> Result<()> {
        if let Ok(p) = std::env::var(output::atomic::PAUSE_VAR) {
            output::atomic::pause_if(&p, "trace");
        }
        std::fs::rename(&self.tmp, &self.path)
            .with_context(|| format!("cannot move the trace into {}", self.path.display()))?;
        self.done = true;
        Ok(())
    }
}

/// Removes the temporary traces `<prefix><pid>` in `dir` left by killed runs (their process is
/// gone): a kill cannot run [`Trace`]'s clean-up, so the next run with the same trace file
/// does it.
fn remove_stale(dir: &Path, prefix: &str) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    for e in entries.flatten() {
        let name = e.file_name().to_string_lossy().to_string();
        let pid = name.strip_prefix(prefix).and_then(|p| p.parse::<u32>().ok());
        if pid.is_some_and(|pid| !Path::new(&format!("/proc/{pid}")).exists()) {
            let _ = std::fs::remove_file(e.path());
        }
    }
}

impl Drop for Trace {
    fn drop(&mut self) {
        if !self.done {
            let _ = std::fs::remove_file(&self.tmp);
        }
    }
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
        .unwrap_or_else(|| super::run::default_out(&s.name).join("fine"));
    // Outputs are checked (created, locked, writable) before anything is simulated.
    let trace = a.trace.as_deref().map(Trace::create).transpose()?;
    let out = OutDir::open(&out_dir)?;
    let trace_writer: Option<Box<dyn std::io::Write + Send>> = match &trace {
        Some(t) => Some(Box::new(
            t.file
                .try_clone()
                .with_context(|| format!("trace file {}", t.path.display()))?,
        )),
        None => None,
    };
    let progress = Progress::new(s.run.replicas * s.run.rounds, "heights", a.quiet);
    let result = fine::run(&s, trace_writer, stop_flag(), &|k| progress.set(k)).map_err(|e| {
        // A failed trace write is an I/O error at the root: name the file the user gave.
        match (&a.trace, e.root_cause().is::<std::io::Error>()) {
            (Some(p), true) => e.context(format!("trace file {}", p.display())),
            _ => e,
        }
    });
    progress.finish();
    let o = result?;
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
        out,
        vec![
            ("summary.csv".into(), output::summary_csv(std::slice::from_ref(&row))?),
            ("histograms.csv".into(), output::histograms_csv(&o.agg)),
            ("fine.csv".into(), output::fine::fine_csv(&s, &o)?),
        ],
        Some(&manifest),
    )?;
    if let Some(t) = trace {
        t.commit()?;
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
