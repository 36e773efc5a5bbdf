//! `ictwin validate`: coarse vs fine on each scenario file, or on `--random N` scenarios drawn
//! from the coarse model's envelope; `validation.csv` and plots in `--out`, the verdict table
//! (files) or the summary (random) on stdout.

use anyhow::{Context, Result};
use ictwin::output::{self, validation, validation_random, OutDir};
use ictwin::scenario::{self, random, shrink_for_levels, Scenario};
use ictwin::validate::{compare, run_levels, Comparison, Thresholds};
use std::path::{Path, PathBuf};

/// Options of `ictwin validate`.
#[derive(Clone, Debug, clap::Args)]
pub struct ValidateArgs {
    /// Scenario files; `[run]` sizes the fine engine (replicas x rounds).
    #[arg(required_unless_present = "random", conflicts_with_all = ["random", "seed"])]
    pub scenarios: Vec<PathBuf>,
    /// Instead of files, validate N scenarios drawn uniformly from the envelope the coarse
    /// model claims (src/scenario/random.rs), uncalibrated; writes scenarios.csv, summary.md
    /// and each drawn scenario as scenarios/<name>.toml too.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..), conflicts_with = "calibration")]
    pub random: Option<u64>,
    /// Seed of the --random set (default 1): scenario k depends on (seed, k) only.
    #[arg(long, requires = "random")]
    pub seed: Option<u64>,
    /// Output directory [default: results/validation; with --random, results/validation/random].
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Coarse replicas (each of the fine engine's rounds).
    #[arg(long, default_value_t = 20_000, value_parser = super::args::count)]
    pub coarse_replicas: u64,
    /// Divide the fine engine's replicas and rounds by this (CI runs).
    #[arg(long, default_value_t = 1, value_parser = super::args::positive)]
    pub shrink: u64,
    /// Calibration file applied to the coarse model.
    #[arg(long)]
    pub calibration: Option<PathBuf>,
    /// Level of the tests of exact metrics.
    #[arg(long, default_value_t = 0.001, allow_negative_numbers = true, value_parser = super::args::level)]
    pub alpha: f64,
    /// Largest relative difference of means accepted for approximate metrics (absolute for
    /// proportions).
    #[arg(long, default_value_t = 0.10, allow_negative_numbers = true, value_parser = super::args::tolerance)]
    pub tolerance: f64,
    /// Largest Kolmogorov-Smirnov distance accepted between the distributions.
    #[arg(long, default_value_t = 0.25, allow_negative_numbers = true, value_parser = super::args::distance)]
    pub ks_tolerance: f64,
    /// No progress bar (errors and warnings still go to stderr).
    #[arg(long, short)]
    pub quiet: bool,
}

/// `ictwin validate`; returns whether every metric agreed.
pub fn cmd_validate(a: &ValidateArgs) -> Result<bool> {
    let th = Thresholds {
        alpha: a.alpha,
        tolerance: a.tolerance,
        ks_tolerance: a.ks_tolerance,
    };
    match a.random {
        Some(n) => validate_random(a, n, th),
        None => validate_files(a, th),
    }
}

/// Checks that both engines can run `s` (`origin` names it in errors).
fn check_levels(s: &Scenario, origin: &str) -> Result<()> {
    scenario::check_coarse_limits(s, origin)?;
    ictwin::fine::config_of(s).map_err(|e| anyhow::anyhow!("{origin}: {e:#}"))?;
    Ok(())
}

/// Both levels on `s`, compared; prints the progress line first.
fn run_one(a: &ValidateArgs, s: &Scenario, label: &str, th: Thresholds) -> Result<(Vec<Comparison>, String, u64)> {
    eprintln!(
        "validate: {label} (fine {} x {}, coarse {} x {})",
        s.run.replicas, s.run.rounds, a.coarse_replicas, s.run.rounds
    );
    let runs = run_levels(s, a.coarse_replicas, a.quiet)?;
    let plot = validation::round_cdf_svg(
        &format!("{}: round time, coarse vs fine", s.name),
        &runs.coarse,
        &runs.fine,
    )?;
    Ok((
        compare(s, &runs.coarse, &runs.fine, th),
        plot,
        runs.fine_safety_violations,
    ))
}

/// Prints the fine engine's safety violations (if any) and where the files went; returns
/// whether every row agrees.
fn finish(out: &Path, rows: &[Comparison], safety: &[(String, u64)]) -> bool {
    for (name, v) in safety {
        if *v > 0 {
            println!("{name}: fine engine safety violations: {v}");
        }
    }
    let ok = !rows.iter().any(|r| r.disagrees());
    let too_few = rows.iter().filter(|r| r.too_few()).count();
    if too_few > 0 {
        println!("{too_few} metrics have too few samples at a level to be judged (verdict `too few samples`)");
    }
    println!(
        "written to {}; {}",
        out.display(),
        if ok && too_few == 0 {
            "all metrics agree"
        } else if ok {
            "no metric disagrees"
        } else {
            "SOME METRICS DISAGREE"
        }
    );
    ok
}

fn validate_files(a: &ValidateArgs, th: Thresholds) -> Result<bool> {
    let calibration = a.calibration.as_deref().map(scenario::load_calibration).transpose()?;
    let out_dir = a.out.clone().unwrap_or_else(|| PathBuf::from("results/validation"));
    // Every scenario is loaded and checked, and the output directory opened, before any run.
    let mut loaded = Vec::new();
    for path in &a.scenarios {
        let mut s = scenario::load_for_levels(path, a.shrink)?;
        check_levels(&s, &path.display().to_string())?;
        if let Some(w) = scenario::fine_size_warning(&s, &path.display().to_string()) {
            eprintln!("warning: {w}");
        }
        if let Some(c) = &calibration {
            s.calibration = Some(c.clone());
        }
        loaded.push((path, s));
    }
    let out = OutDir::open(&out_dir)?;
    let mut rows = Vec::new();
    let mut plots = Vec::new();
    let mut safety = Vec::new();
    for (path, s) in loaded {
        let (r, plot, violations) =
            run_one(a, &s, &s.name, th).with_context(|| format!("scenario {}", path.display()))?;
        rows.extend(r);
        plots.push((format!("{}-round-cdf.svg", s.name), plot));
        safety.push((s.name, violations));
    }
    let mut files = vec![("validation.csv".to_string(), validation::validation_csv(&rows)?)];
    files.extend(plots);
    output::write_run_dir(out, files, None)?;
    print!("{}", validation::render_verdicts(&rows));
    Ok(finish(&out_dir, &rows, &safety))
}

/// A private directory for the drawn scenario files while they are loaded, removed on drop.
struct Staging(PathBuf);

impl Staging {
    fn new(seed: u64) -> Result<Self> {
        let dir = std::env::temp_dir().join(format!("ictwin-random-{}-{seed}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
        Ok(Staging(dir))
    }
}

impl Drop for Staging {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// `--random n`: draws, loads (through the scenario loader, from a staging directory),
/// validates each uncalibrated, writes `validation.csv`, `scenarios.csv`, `summary.md`,
/// `scenarios/` and the round-time CDF of each disagreeing scenario (`plots/`).
fn validate_random(a: &ValidateArgs, n: u64, th: Thresholds) -> Result<bool> {
    let seed = a.seed.unwrap_or(1);
    let out_dir = a
        .out
        .clone()
        .unwrap_or_else(|| PathBuf::from("results/validation/random"));
    let staging = Staging::new(seed)?;
    // Every scenario is drawn, loaded and checked, and the output directory opened, first.
    let mut drawn = Vec::new();
    for k in 0..n {
        let d = random::draw(seed, k);
        let s = shrink_for_levels(d.load_in(&staging.0)?.scenario, a.shrink);
        check_levels(&s, &s.name)?;
        drawn.push((k, d, s));
    }
    drop(staging);
    let out = OutDir::open(&out_dir)?;
    let (mut rows, mut scenarios, mut files, mut safety) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for (k, d, s) in drawn {
        let label = format!("{} [{}/{n}]: {}", s.name, k + 1, s.description.as_deref().unwrap_or(""));
        let (r, plot, violations) = run_one(a, &s, &label, th).with_context(|| format!("scenario {}", s.name))?;
        if r.iter().any(|x| !x.agrees()) {
            files.push((format!("plots/{}-round-cdf.svg", s.name), plot));
        }
        rows.extend(r);
        files.extend(
            d.files()
                .into_iter()
                .map(|(name, text)| (format!("scenarios/{name}"), text)),
        );
        safety.push((s.name.clone(), violations));
        scenarios.push(s);
    }
    let run = validation_random::RandomRun {
        seed,
        shrink: a.shrink,
        coarse_replicas: a.coarse_replicas,
        thresholds: th,
        scenarios: &scenarios,
    };
    let summary = validation_random::summary_md(&run, &rows);
    files.push(("validation.csv".into(), validation::validation_csv(&rows)?));
    files.push((
        "scenarios.csv".into(),
        validation_random::scenarios_csv(&scenarios, &rows)?,
    ));
    files.push(("summary.md".into(), summary.clone()));
    output::write_run_dir(out, files, None)?;
    print!("{summary}");
    Ok(finish(&out_dir, &rows, &safety))
}
