//! `ictwin validate`: coarse vs fine on each scenario; `validation.csv` and one round-time CDF
//! plot per scenario in `--out`, the verdict table on stdout.

use anyhow::{Context, Result};
use ictwin::output::{self, validation};
use ictwin::scenario;
use ictwin::validate::{compare, run_levels, Thresholds};
use std::path::PathBuf;

/// Options of `ictwin validate`.
#[derive(Clone, Debug, clap::Args)]
pub struct ValidateArgs {
    /// Scenario files; `[run]` sizes the fine engine (replicas x rounds).
    #[arg(required = true)]
    pub scenarios: Vec<PathBuf>,
    /// Output directory for validation.csv and the plots.
    #[arg(long, default_value = "results/validation")]
    pub out: PathBuf,
    /// Coarse replicas (each of the fine engine's rounds).
    #[arg(long, default_value_t = 20_000)]
    pub coarse_replicas: u64,
    /// Divide the fine engine's replicas and rounds by this (CI runs).
    #[arg(long, default_value_t = 1)]
    pub shrink: u64,
    /// Calibration file applied to the coarse model.
    #[arg(long)]
    pub calibration: Option<PathBuf>,
    /// Level of the tests of exact metrics.
    #[arg(long, default_value_t = 0.001)]
    pub alpha: f64,
    /// Largest relative difference of means accepted for approximate metrics.
    #[arg(long, default_value_t = 0.10)]
    pub tolerance: f64,
    /// Largest Kolmogorov-Smirnov distance accepted between the time distributions.
    #[arg(long, default_value_t = 0.25)]
    pub ks_tolerance: f64,
    /// No progress bar.
    #[arg(long, short)]
    pub quiet: bool,
}

/// `ictwin validate`; returns whether every metric agreed.
pub fn cmd_validate(a: &ValidateArgs) -> Result<bool> {
    let calibration = a.calibration.as_deref().map(scenario::load_calibration).transpose()?;
    let th = Thresholds {
        alpha: a.alpha,
        tolerance: a.tolerance,
        ks_tolerance: a.ks_tolerance,
    };
    let mut rows = Vec::new();
    let mut plots = Vec::new();
    let mut safety = Vec::new();
    for path in &a.scenarios {
        let mut s = scenario::load_for_levels(path, a.shrink)?;
        if let Some(c) = &calibration {
            s.calibration = Some(c.clone());
        }
        eprintln!(
            "validate: {} (fine {} x {}, coarse {} x {})",
            s.name, s.run.replicas, s.run.rounds, a.coarse_replicas, s.run.rounds
        );
        let runs =
            run_levels(&s, a.coarse_replicas, a.quiet).with_context(|| format!("scenario {}", path.display()))?;
        rows.extend(compare(&s, &runs.coarse, &runs.fine, th));
        plots.push((
            format!("{}-round-cdf.svg", s.name),
            validation::round_cdf_svg(
                &format!("{}: round time, coarse vs fine", s.name),
                &runs.coarse,
                &runs.fine,
            )?,
        ));
        safety.push((s.name, runs.fine_safety_violations));
    }
    let mut files = vec![("validation.csv".to_string(), validation::validation_csv(&rows)?)];
    files.extend(plots);
    output::write_run_dir(&a.out, files, None)?;
    print!("{}", validation::render_verdicts(&rows));
    for (name, v) in &safety {
        if *v > 0 {
            println!("{name}: fine engine safety violations: {v}");
        }
    }
    let ok = rows.iter().all(|r| r.agree);
    println!(
        "written to {}; {}",
        a.out.display(),
        if ok {
            "all metrics agree"
        } else {
            "SOME METRICS DISAGREE"
        }
    );
    Ok(ok)
}
