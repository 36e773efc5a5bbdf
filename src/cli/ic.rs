//! `ictwin ic`: every subnet of a topology over IC-years under correlated failures, provider
//! takeovers and NNS replacement; availability per subnet and IC-wide, with plots.

use anyhow::{bail, Result};
use ictwin::ic::predict::{predict, read_observed, PredictSize};
use ictwin::ic::{self, IcInput};
use ictwin::output::ic::{availability_csv, durations_csv, ic_csv, ic_fields, manifest_json, render, subnet_rows};
use ictwin::output::ic_plot::ic_plots;
use ictwin::output::ic_predict::{prediction_fields, prediction_plot, subnets_csv};
use ictwin::output::OutDir;
use ictwin::progress::{stop_flag, Progress};
use ictwin::scenario::ic_faults::{load_faults, MAX_YEARS};
use ictwin::topology::{self, Topology};
use std::path::{Path, PathBuf};

/// Options of `ictwin ic` (flags override the fault file's `[run]`).
#[derive(Clone, Debug, clap::Args)]
#[command(
    after_long_help = "Example (the committed study):\n  ictwin ic experiments/topology/mainnet-2025-12.toml --replicas 20000 --out results/ic"
)]
pub struct IcArgs {
    /// Topology file (TOML, see README "Topology files").
    pub topology: PathBuf,
    /// Fault file (TOML); default: the embedded experiments/ic/faults-default.toml.
    #[arg(long)]
    pub faults: Option<PathBuf>,
    /// Years per replica, 1 to 500; overrides `run.years`.
    #[arg(long)]
    pub years: Option<u32>,
    /// Replicas (independent IC histories); overrides `run.replicas`.
    #[arg(long)]
    pub replicas: Option<u64>,
    /// RNG seed; overrides `run.seed`.
    #[arg(long)]
    pub seed: Option<u64>,
    /// Output directory (default `ictwin-out/ic/<topology name>/`).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Worker threads, 1 to 1024 (default: all cores).
    #[arg(long, value_parser = super::args::threads)]
    pub threads: Option<u32>,
    /// Real-IC data directory (its `subnets.csv`) for the per-subnet prediction; default
    /// `$ICTWIN_REAL_IC_DATA`, else `../shared/data/real-ic` when it exists.
    #[arg(long)]
    pub observed: Option<PathBuf>,
    /// Skip the per-subnet prediction (no `subnets.csv`).
    #[arg(long)]
    pub no_predict: bool,
    /// Replicas of each subnet's coarse run in the prediction.
    #[arg(long, default_value_t = 512)]
    pub predict_replicas: u64,
    /// Round steps per replica of each subnet's coarse run in the prediction.
    #[arg(long, default_value_t = 200)]
    pub predict_rounds: u64,
    /// No progress bar.
    #[arg(long, short)]
    pub quiet: bool,
}

/// The real-IC data directory of the prediction, if any.
fn observed_dir(a: &IcArgs) -> Option<PathBuf> {
    if a.no_predict {
        return None;
    }
    a.observed
        .clone()
        .or_else(|| std::env::var_os("ICTWIN_REAL_IC_DATA").map(PathBuf::from))
        .or_else(|| Some(PathBuf::from("../shared/data/real-ic")).filter(|d| d.join("subnets.csv").is_file()))
}

/// `ictwin ic`.
pub fn cmd_ic(a: &IcArgs) -> Result<()> {
    let topo = topology::load(&a.topology)?;
    let (mut faults, faults_origin) = load_faults(a.faults.as_deref())?;
    if let Some(y) = a.years {
        if !(1..=MAX_YEARS).contains(&y) {
            bail!("--years must be between 1 and {MAX_YEARS}, got {y}");
        }
        faults.run.years = y;
    }
    if let Some(r) = a.replicas {
        if !(1..=u32::MAX as u64).contains(&r) {
            bail!("--replicas must be between 1 and {}, got {r}", u32::MAX);
        }
        faults.run.replicas = r;
    }
    if let Some(s) = a.seed {
        faults.run.seed = s;
    }
    let input = IcInput::from_topology(&topo, faults.nns.keep_limits)?;
    let observed = match observed_dir(a) {
        Some(d) => read_observed(&d)?,
        None => Default::default(),
    };
    // Each subnet with a scenario preset gets its own coarse run (subnets.csv); with observed
    // data for its subnets the processing time is fitted and the prediction compared.
    let predicting = !a.no_predict && topo.subnets.iter().any(|s| s.preset.is_some());
    let compared = topo
        .subnets
        .iter()
        .any(|s| s.preset.is_some() && observed.contains_key(Topology::short_id(&s.id)));
    let size = PredictSize {
        replicas: a.predict_replicas,
        rounds: a.predict_rounds,
        seed: faults.run.seed,
    };
    if predicting && (!(1..=u32::MAX as u64).contains(&size.replicas) || !(1..=u32::MAX as u64).contains(&size.rounds))
    {
        bail!(
            "--predict-replicas and --predict-rounds must be between 1 and {}",
            u32::MAX
        );
    }
    let prep = ic::prepare(&faults);
    let out_dir = a
        .out
        .clone()
        .unwrap_or_else(|| PathBuf::from("ictwin-out").join("ic").join(&topo.name));
    // Checked (created, locked, writable) before anything is simulated.
    let out = OutDir::open(&out_dir)?;
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(a.threads.map_or(0, |t| t as usize))
        .build()?;
    let progress = Progress::new(prep.replicas as u64, "replicas", a.quiet);
    let started = std::time::Instant::now();
    let totals = pool.install(|| ic::run(&input, &prep, &progress, stop_flag()))?;
    progress.finish();
    let wall_s = started.elapsed().as_secs_f64();
    let rows = subnet_rows(&input, &totals);
    let ic = ic_fields(&totals, &rows);
    let mut files: Vec<(String, Vec<u8>)> = vec![
        ("availability.csv".into(), availability_csv(&rows).into_bytes()),
        ("ic.csv".into(), ic_csv(&ic).into_bytes()),
        ("stall-durations.csv".into(), durations_csv(&totals).into_bytes()),
    ];
    files.extend(ic_plots(&topo.name, &rows, &totals)?);
    let mut prediction = None;
    if predicting {
        let dir = a.topology.parent().unwrap_or(Path::new("."));
        if !a.quiet {
            eprintln!(
                "running each subnet's coarse model{}...",
                if compared {
                    " (fitting the processing time on half of them)"
                } else {
                    ""
                }
            );
        }
        let (p, preds) = pool.install(|| predict(&topo, dir, &observed, size, stop_flag()))?;
        files.push(("subnets.csv".into(), subnets_csv(&preds).into_bytes()));
        if compared {
            let fields = prediction_fields(p, &preds);
            files.push(("prediction.csv".into(), ic_csv(&fields).into_bytes()));
            files.extend(prediction_plot(&topo.name, &preds)?);
            prediction = Some(fields);
        }
    }
    files.push((
        "manifest.json".into(),
        manifest_json(&a.topology.display().to_string(), &faults_origin, &faults)?.into_bytes(),
    ));
    out.commit(&files)?;
    print!("{}", render(&rows, &ic));
    if let Some(fields) = &prediction {
        for (k, v) in fields {
            println!("  {k:<40} {v}");
        }
    }
    let ic_years = totals.replicas as f64 * totals.years as f64;
    println!(
        "  {:<40} {:.0} IC-years in {:.2} s ({:.0} IC-years/s, {} threads)",
        "speed",
        ic_years,
        wall_s,
        ic_years / wall_s,
        pool.current_num_threads()
    );
    println!("  {:<40} {}", "written to", out_dir.display());
    Ok(())
}
