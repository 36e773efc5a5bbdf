//! `ictwin calibrate`: fits the coarse model's calibration to the fine engine; writes the
//! calibration file and `<stem>-fit.csv` beside it, prints the before/after table.

use anyhow::{bail, Result};
use ictwin::calibrate::{coarse_fit, fit, load_reference, reference, Reference};
use ictwin::output::{self, calibration, OutDir};
use ictwin::scenario::Calibration;
use std::path::{Path, PathBuf};

/// Options of `ictwin calibrate`.
#[derive(Clone, Debug, clap::Args)]
pub struct CalibrateArgs {
    /// Scenarios to fit on; `[run]` sizes the fine engine.
    #[arg(required = true)]
    pub scenarios: Vec<PathBuf>,
    /// Scenarios held out of the fit, evaluated before and after.
    #[arg(long, num_args = 1..)]
    pub holdout: Vec<PathBuf>,
    /// The calibration file to write (a `[calibration]` table); the fit report goes beside it
    /// as `<stem>-fit.csv`.
    #[arg(long, default_value = "results/validation/calibration.toml")]
    pub out: PathBuf,
    /// Coarse replicas per loss evaluation.
    #[arg(long, default_value_t = 2000, value_parser = super::args::count)]
    pub coarse_replicas: u64,
    /// Divide the fine engine's replicas and rounds by this (CI runs).
    #[arg(long, default_value_t = 1, value_parser = super::args::positive)]
    pub shrink: u64,
    /// Nelder-Mead iterations.
    #[arg(long, default_value_t = 60, value_parser = super::args::positive_u32)]
    pub iterations: u32,
    /// No progress bar (errors and warnings still go to stderr).
    #[arg(long, short)]
    pub quiet: bool,
}

/// The directory, file name and stem of `--out`; an error when it names no file.
fn out_names(out: &Path) -> Result<(PathBuf, String, String)> {
    let (Some(file), Some(stem)) = (out.file_name(), out.file_stem()) else {
        bail!(
            "--out {}: must name a file (the calibration file to write)",
            out.display()
        );
    };
    let dir = out
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    if out.is_dir() {
        bail!(
            "--out {}: is a directory; name the calibration file to write",
            out.display()
        );
    }
    Ok((
        dir.to_path_buf(),
        file.to_string_lossy().to_string(),
        stem.to_string_lossy().to_string(),
    ))
}

/// `ictwin calibrate`.
pub fn cmd_calibrate(a: &CalibrateArgs) -> Result<()> {
    // Every input and the output directory are checked before any engine runs.
    let load = |paths: &[PathBuf]| -> Result<Vec<_>> { paths.iter().map(|p| load_reference(p, a.shrink)).collect() };
    let (fit_scenarios, holdout_scenarios) = (load(&a.scenarios)?, load(&a.holdout)?);
    for (s, p) in fit_scenarios
        .iter()
        .chain(&holdout_scenarios)
        .zip(a.scenarios.iter().chain(&a.holdout))
    {
        if let Some(w) = ictwin::scenario::fine_size_warning(s, &p.display().to_string()) {
            eprintln!("warning: {w}");
        }
    }
    let (dir, file, stem) = out_names(&a.out)?;
    let out = OutDir::open(&dir)?;
    let run = |v: Vec<_>| -> Result<Vec<Reference>> { v.into_iter().map(|s| reference(s, a.quiet)).collect() };
    let fit_set = run(fit_scenarios)?;
    let holdout = run(holdout_scenarios)?;
    let (cal, loss) = fit(&fit_set, a.coarse_replicas, a.iterations)?;
    let none = Calibration::default();
    println!("{}", calibration::fit_table_header());
    let mut rows = Vec::new();
    for (set, refs) in [("fit", &fit_set), ("holdout", &holdout)] {
        for r in refs.iter() {
            let row = calibration::FitRow {
                scenario: r.scenario.name.clone(),
                set,
                before: coarse_fit(r, &none, a.coarse_replicas)?,
                after: coarse_fit(r, &cal, a.coarse_replicas)?,
            };
            println!("{}", calibration::fit_table_line(&row));
            rows.push(row);
        }
    }
    let names = |v: &[Reference]| v.iter().map(|r| r.scenario.name.clone()).collect::<Vec<_>>();
    let text = calibration::calibration_toml(&cal, loss, &names(&fit_set), &names(&holdout));
    output::write_run_dir(
        out,
        vec![
            (file, text.clone()),
            (format!("{stem}-fit.csv"), calibration::fit_report_csv(&rows)?),
        ],
        None,
    )?;
    println!("\n{text}written to {}", a.out.display());
    Ok(())
}
