//! `ictwin sweep`: a grid (or aligned lists) of scenario values, each point run like
//! `ictwin run` (or `ictwin fine`) into `points/<i>-<slug>/`, then `sweep.csv`, the sweep's
//! `manifest.json` and the plots in `plots/`, built from the points' directories.
//!
//! Writes are atomic per point (a point's directory is written all or nothing when it
//! finishes) and for the sweep files (written together at the end); an interrupted sweep
//! leaves its finished points and no `sweep.csv`. `--point K` runs one point;
//! `--collect` builds the sweep files from the point directories.

use anyhow::{bail, Result};
use ictwin::output::{self, sweep as out_sweep, Manifest, OutDir};
use ictwin::progress::{stop_flag, Progress};
use ictwin::stats;
use ictwin::sweep::{self, Overrides, Plan, Point, Runner, SweepEngine};
use std::path::{Path, PathBuf};

/// Options of `ictwin sweep`.
#[derive(Clone, Debug, clap::Args)]
pub struct SweepArgs {
    /// Scenario file (TOML, optional `[sweep]` table); default: the embedded 13-node subnet.
    pub scenario: Option<PathBuf>,
    /// An axis `KEY=VALUES`: a dotted scenario key and comma-separated values or inclusive
    /// ranges `A..B[:STEP]`, e.g. `network.delay.median_ms=20,50,100` or `faults.crashed=0..4`;
    /// repeat for more axes (they replace the file's `[sweep] set`).
    #[arg(long = "set", value_name = "KEY=VALUES")]
    pub set: Vec<String>,
    /// Aligned lists (point i takes the i-th value of every axis) instead of the grid.
    #[arg(long)]
    pub zip: bool,
    /// Where the points run: a coarse engine (as `ictwin run`) or the fine engine.
    #[arg(long, value_enum, default_value = "auto")]
    pub engine: SweepEngine,
    /// Replicas per point; overrides `run.replicas` (fine engine default: 1, as `ictwin fine`).
    #[arg(long)]
    pub replicas: Option<u64>,
    /// Round steps per replica; overrides `run.rounds`.
    #[arg(long)]
    pub rounds: Option<u64>,
    /// Base seed of the derived point seeds; overrides `run.seed`.
    #[arg(long)]
    pub seed: Option<u64>,
    /// Output directory (default `ictwin-out/<name>-sweep/` in the current directory).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Worker threads for the CPU and fine engines, at least 1 (default: all cores).
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..))]
    pub threads: Option<u32>,
    /// Run only point K (0-based, the order of sweep.csv) into `points/<K>-<slug>/` of --out.
    #[arg(long, value_name = "K", conflicts_with = "collect")]
    pub point: Option<usize>,
    /// Build sweep.csv, manifest.json and plots/ from the point directories in --out
    /// (refusing missing or mismatched points); runs nothing.
    #[arg(long)]
    pub collect: bool,
    /// No progress bar.
    #[arg(long, short)]
    pub quiet: bool,
}

/// `ictwin sweep`.
pub fn cmd_sweep(a: &SweepArgs) -> Result<()> {
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(a.threads.map_or(0, |t| t as usize))
        .build()?;
    pool.install(|| sweep_in_pool(a))
}

fn sweep_in_pool(a: &SweepArgs) -> Result<()> {
    let swept = |key: &str| a.set.iter().any(|s| s.split('=').next().map(str::trim) == Some(key));
    let fine = a.engine == SweepEngine::Fine;
    let ov = Overrides {
        // The fine engine runs 1 replica unless told otherwise, as `ictwin fine`.
        replicas: a.replicas.or((fine && !swept("run.replicas")).then_some(1)),
        rounds: a.rounds,
        seed: a.seed,
    };
    let plan = sweep::plan(a.scenario.as_deref(), &a.set, a.zip, &ov, a.engine.level())?;
    for w in &plan.warnings {
        eprintln!("warning: {w}");
    }
    if fine {
        if let Some(w) = plan
            .points
            .iter()
            .find_map(|p| ictwin::scenario::fine_size_warning(&p.scenario, &plan.origin))
        {
            eprintln!("warning: {w}");
        }
    }
    let dir = a
        .out
        .clone()
        .unwrap_or_else(|| PathBuf::from("ictwin-out").join(format!("{}-sweep", plan.base.name)));
    if a.collect {
        let out = OutDir::open(&dir)?;
        return collect(&plan, a.engine, out, &dir);
    }
    let max_nodes = plan.points.iter().map(|p| p.scenario.subnet.nodes).max().unwrap_or(0);
    if let Some(k) = a.point {
        let Some(p) = plan.points.get(k) else {
            bail!(
                "--point {k}: the sweep has {} points (0..={})",
                plan.points.len(),
                plan.points.len().saturating_sub(1)
            );
        };
        let point_out = OutDir::open(&dir.join(&p.dir))?;
        let runner = Runner::open(a.engine, p.scenario.subnet.nodes)?;
        let progress = Progress::new(p.scenario.run.replicas, "replicas", a.quiet);
        let r = run_point(&plan, p, &runner, point_out, &|d| progress.set(d));
        progress.finish();
        r?;
        println!("point {k} ({}) written to {}", p.label(), dir.join(&p.dir).display());
        return Ok(());
    }
    // The sweep directory is locked and proved writable before anything runs.
    let out = OutDir::open(&dir)?;
    let runner = Runner::open(a.engine, max_nodes)?;
    let weight = |p: &Point| p.scenario.run.replicas * p.scenario.run.rounds * p.scenario.subnet.nodes as u64;
    let total: u64 = plan.points.iter().map(weight).sum();
    let progress = Progress::with_template(
        total,
        "{elapsed_precise} [{bar:20}] {percent:>3}% eta {eta} {wide_msg}",
        a.quiet,
    );
    let mut done = 0u64;
    for p in &plan.points {
        progress.set_message(format!("point {}/{}: {}", p.index + 1, plan.points.len(), p.label()));
        let point_out = OutDir::open(&dir.join(&p.dir))?;
        let per_replica = weight(p) / p.scenario.run.replicas;
        let r = run_point(&plan, p, &runner, point_out, &|d| progress.set(done + d * per_replica));
        if let Err(e) = r {
            progress.finish();
            return Err(e.context(format!(
                "sweep point {} ({}); the points before it are written in {}",
                p.index,
                p.label(),
                dir.display()
            )));
        }
        done += weight(p);
        progress.set(done);
    }
    progress.finish();
    collect(&plan, a.engine, out, &dir)
}

/// Runs one point and writes its run directory (as `ictwin run`/`fine`, all or nothing).
fn run_point(plan: &Plan, p: &Point, runner: &Runner, out: OutDir, progress: &(dyn Fn(u64) + Sync)) -> Result<()> {
    let s = &p.scenario;
    let o = runner.run(s, progress, stop_flag())?;
    let mut row = output::summary_row(s, o.engine, stats::from_aggregates(&o.agg), o.wall_s);
    let mut files = vec![("histograms.csv".to_string(), output::histograms_csv(&o.agg))];
    if let Some(f) = &o.fine {
        row.safety_violations = Some(f.safety_violations);
        files.push(("fine.csv".into(), output::fine::fine_csv(s, f)?));
    }
    files.insert(
        0,
        ("summary.csv".into(), output::summary_csv(std::slice::from_ref(&row))?),
    );
    let origin = format!("{} (sweep point {}: {})", plan.origin, p.index, p.label());
    let manifest = Manifest {
        scenario: s,
        origin: &origin,
        engine: o.engine,
        device: o.device.as_deref(),
    };
    output::write_run_dir(out, files, Some(&manifest))
}

/// Builds `sweep.csv`, `manifest.json` and `plots/` from the point directories and writes
/// them all or nothing; prints the table.
fn collect(plan: &Plan, engine: SweepEngine, out: OutDir, dir: &Path) -> Result<()> {
    let points = out_sweep::read_points(plan, dir, engine)?;
    let mut files: Vec<(String, Vec<u8>)> = vec![
        ("sweep.csv".into(), out_sweep::sweep_csv(plan, &points)?.into_bytes()),
        (
            "manifest.json".into(),
            out_sweep::sweep_manifest(plan, engine, &points)?.into_bytes(),
        ),
    ];
    files.extend(output::sweep_plot::sweep_plots(plan, &points)?);
    out.commit(&files)?;
    print!("{}", out_sweep::render_sweep_table(plan, &points));
    println!(
        "written to {} (sweep.csv, manifest.json, plots/, points/)",
        dir.display()
    );
    Ok(())
}
