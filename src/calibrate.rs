//! `ictwin calibrate`: fits the coarse model's calibration parameters to the fine engine.
//!
//! The coarse model abstracts away what the fine engine simulates: crypto CPU time on every
//! node's timeline, unsynchronized round starts, relaying. Its calibration parameters
//! (`[calibration]` in a scenario or `--calibration FILE`):
//! - `delay_scale`: every network delay sample is multiplied by it (effective delay);
//! - `round_overhead_ms`: processing time added to every round;
//! - `finalization_overhead_ms`: processing time added to every finalization.
//!
//! Method: the fine engine runs once per scenario; then Nelder-Mead minimizes, over the
//! fitting scenarios, the sum of squared relative errors of the mean round and finalization
//! times plus the squared Kolmogorov-Smirnov distances of both time distributions, each coarse
//! evaluation using the same seed (common random numbers, so the loss is smooth in the
//! parameters). Held-out scenarios are only evaluated, before and after, to show whether the
//! fit generalizes.

use crate::coarse::{prepare, run_cpu};
use crate::output::fmt_f;
use crate::progress::stop_flag;
use crate::scenario::{Calibration, Scenario};
use crate::stats;
use crate::validate::{ks_binned, load_for_levels};
use anyhow::{bail, Result};
use ictwin_kernels::agg::{self, TIME_BINS};
use std::path::PathBuf;

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
    #[arg(long, default_value_t = 2000)]
    pub coarse_replicas: u64,
    /// Divide the fine engine's replicas and rounds by this (CI runs).
    #[arg(long, default_value_t = 1)]
    pub shrink: u64,
    /// Nelder-Mead iterations.
    #[arg(long, default_value_t = 60)]
    pub iterations: u32,
    #[arg(long, short)]
    pub quiet: bool,
}

/// Goodness of fit of the coarse model on one scenario.
#[derive(Clone, Copy, Debug, Default)]
pub struct Fit {
    pub ks_round: f64,
    pub ks_fin: f64,
    /// (coarse - fine) / fine of the mean round time.
    pub err_round: f64,
    pub err_fin: f64,
}

impl Fit {
    pub fn loss(&self) -> f64 {
        [self.err_round, self.err_fin, self.ks_round, self.ks_fin]
            .iter()
            .filter(|x| x.is_finite())
            .map(|x| x * x)
            .sum()
    }
}

/// A fine-engine reference: the scenario and its aggregates.
pub struct Reference {
    pub scenario: Scenario,
    pub fine: Vec<u64>,
}

/// Coarse aggregates of `r` under calibration `c` (fixed seed: common random numbers).
pub fn coarse_fit(r: &Reference, c: &Calibration, replicas: u64) -> Result<Fit> {
    let mut s = r.scenario.clone();
    s.calibration = Some(c.clone());
    s.run.replicas = replicas;
    s.run.seed = r.scenario.run.seed.wrapping_add(0xCA11_B8A7);
    let coarse = run_cpu(&prepare(&s)?, &|_| {}, stop_flag())?;
    Ok(fit_of(&coarse, &r.fine))
}

/// Goodness of fit from both aggregate arrays.
pub fn fit_of(coarse: &[u64], fine: &[u64]) -> Fit {
    let (c, f) = (stats::from_aggregates(coarse), stats::from_aggregates(fine));
    let hist = |a: &[u64], off: u32| a[off as usize..(off + TIME_BINS) as usize].to_vec();
    let rel = |x: f64, y: f64| if y > 0.0 { (x - y) / y } else { f64::NAN };
    Fit {
        ks_round: ks_binned(&hist(coarse, agg::HIST_ROUND), &hist(fine, agg::HIST_ROUND)).0,
        ks_fin: ks_binned(&hist(coarse, agg::HIST_FIN), &hist(fine, agg::HIST_FIN)).0,
        err_round: rel(c.mean_round_ms, f.mean_round_ms),
        err_fin: rel(c.mean_finalization_ms, f.mean_finalization_ms),
    }
}

/// Number of fitted parameters.
const DIM: usize = 4;

/// Parameters (delay scale, round overhead ms, finalization overhead ms, gossip hop scale),
/// clamped to the box [0.25, 4] x [0, 2000] x [0, 2000] x [0, 10].
fn calibration_of(x: &[f64; DIM]) -> Calibration {
    Calibration {
        delay_scale: x[0].clamp(0.25, 4.0),
        round_overhead_ms: x[1].clamp(0.0, 2000.0),
        finalization_overhead_ms: x[2].clamp(0.0, 2000.0),
        gossip_hop_scale: x[3].clamp(0.0, 10.0),
    }
}

/// Nelder-Mead minimization of `f` from `x0` with initial steps `step`.
pub fn nelder_mead<const D: usize>(
    f: &mut dyn FnMut(&[f64; D]) -> f64,
    x0: [f64; D],
    step: [f64; D],
    iterations: u32,
) -> ([f64; D], f64) {
    let mut simplex: Vec<([f64; D], f64)> = vec![(x0, f(&x0))];
    for i in 0..D {
        let mut x = x0;
        x[i] += step[i];
        simplex.push((x, f(&x)));
    }
    let lerp = |a: &[f64; D], b: &[f64; D], t: f64| -> [f64; D] { std::array::from_fn(|i| a[i] + t * (b[i] - a[i])) };
    for _ in 0..iterations {
        simplex.sort_by(|a, b| a.1.total_cmp(&b.1));
        let centroid: [f64; D] = std::array::from_fn(|i| simplex[..D].iter().map(|p| p.0[i]).sum::<f64>() / D as f64);
        let worst = simplex[D];
        let reflect = lerp(&centroid, &worst.0, -1.0);
        let fr = f(&reflect);
        if fr < simplex[0].1 {
            let expand = lerp(&centroid, &worst.0, -2.0);
            let fe = f(&expand);
            simplex[D] = if fe < fr { (expand, fe) } else { (reflect, fr) };
        } else if fr < simplex[D - 1].1 {
            simplex[D] = (reflect, fr);
        } else {
            let contract = lerp(&centroid, &worst.0, 0.5);
            let fc = f(&contract);
            if fc < worst.1 {
                simplex[D] = (contract, fc);
            } else {
                let best = simplex[0].0;
                for p in simplex.iter_mut().skip(1) {
                    p.0 = lerp(&best, &p.0, 0.5);
                    p.1 = f(&p.0);
                }
            }
        }
    }
    simplex.sort_by(|a, b| a.1.total_cmp(&b.1));
    simplex[0]
}

/// `ictwin calibrate`.
pub fn cmd_calibrate(a: &CalibrateArgs) -> Result<()> {
    let load = |paths: &[PathBuf]| -> Result<Vec<Reference>> {
        paths
            .iter()
            .map(|p| {
                let mut s = load_for_levels(p, a.shrink)?;
                s.calibration = None;
                eprintln!(
                    "calibrate: fine engine on {} ({} x {})",
                    s.name, s.run.replicas, s.run.rounds
                );
                let progress = crate::progress::Progress::new(s.run.replicas, "fine replicas", a.quiet);
                let fo = crate::fine::run(&s, None, stop_flag(), &|k| progress.set(k))?;
                progress.finish();
                Ok(Reference {
                    scenario: s,
                    fine: fo.agg,
                })
            })
            .collect()
    };
    let fit_set = load(&a.scenarios)?;
    let holdout = load(&a.holdout)?;
    let none = Calibration::default();
    let mut failure = None;
    let mut loss = |x: &[f64; DIM]| -> f64 {
        let c = calibration_of(x);
        let mut total = 0.0;
        for r in &fit_set {
            match coarse_fit(r, &c, a.coarse_replicas) {
                Ok(fit) => total += fit.loss(),
                Err(e) => {
                    failure.get_or_insert(e);
                    return f64::INFINITY;
                }
            }
        }
        total
    };
    let (best, best_loss) = nelder_mead(&mut loss, [1.0, 0.0, 0.0, 0.0], [0.2, 20.0, 20.0, 0.3], a.iterations);
    if let Some(e) = failure {
        bail!("calibration failed: {e:#}");
    }
    let cal = calibration_of(&best);
    let mut report = csv::Writer::from_writer(Vec::new());
    report.write_record([
        "scenario",
        "set",
        "ks_round_before",
        "ks_round_after",
        "ks_fin_before",
        "ks_fin_after",
        "mean_round_err_before",
        "mean_round_err_after",
        "mean_fin_err_before",
        "mean_fin_err_after",
    ])?;
    println!(
        "{:<24} {:<8} {:>17} {:>17} {:>21} {:>21}",
        "scenario", "set", "KS round b/a", "KS fin b/a", "round mean err b/a", "fin mean err b/a"
    );
    for (set, refs) in [("fit", &fit_set), ("holdout", &holdout)] {
        for r in refs.iter() {
            let (b, f) = (
                coarse_fit(r, &none, a.coarse_replicas)?,
                coarse_fit(r, &cal, a.coarse_replicas)?,
            );
            report.write_record([
                r.scenario.name.clone(),
                set.into(),
                fmt_f(b.ks_round),
                fmt_f(f.ks_round),
                fmt_f(b.ks_fin),
                fmt_f(f.ks_fin),
                fmt_f(b.err_round),
                fmt_f(f.err_round),
                fmt_f(b.err_fin),
                fmt_f(f.err_fin),
            ])?;
            println!(
                "{:<24} {:<8} {:>8.4} {:>8.4} {:>8.4} {:>8.4} {:>+10.4} {:>+10.4} {:>+10.4} {:>+10.4}",
                r.scenario.name,
                set,
                b.ks_round,
                f.ks_round,
                b.ks_fin,
                f.ks_fin,
                b.err_round,
                f.err_round,
                b.err_fin,
                f.err_fin
            );
        }
    }
    let names = |v: &[Reference]| v.iter().map(|r| r.scenario.name.clone()).collect::<Vec<_>>().join(", ");
    let text = format!(
        "# Coarse-model calibration fitted by `ictwin calibrate` against the fine engine.\n\
         # Fitted on: {}\n# Held out: {}\n# Loss (sum of squared relative mean errors and KS distances): {:.6}\n\
         # Use: ictwin run SCENARIO --calibration THIS_FILE\n\
         [calibration]\ndelay_scale = {}\nround_overhead_ms = {}\nfinalization_overhead_ms = {}\ngossip_hop_scale = {}\n",
        names(&fit_set),
        if holdout.is_empty() { "(none)".into() } else { names(&holdout) },
        best_loss,
        round6(cal.delay_scale),
        round6(cal.round_overhead_ms),
        round6(cal.finalization_overhead_ms),
        round6(cal.gossip_hop_scale)
    );
    let dir = a
        .out
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(std::path::Path::new("."));
    let file = a
        .out
        .file_name()
        .map(|n| n.to_string_lossy().to_string())
        .unwrap_or_else(|| "calibration.toml".into());
    let stem = a
        .out
        .file_stem()
        .map(|n| n.to_string_lossy().to_string())
        .unwrap_or_else(|| "calibration".into());
    crate::output::write_atomically(
        dir,
        &[
            (file.as_str(), text.clone()),
            (&format!("{stem}-fit.csv"), String::from_utf8(report.into_inner()?)?),
        ],
    )?;
    println!("\n{text}written to {}", a.out.display());
    Ok(())
}

fn round6(x: f64) -> f64 {
    (x * 1e6).round() / 1e6
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nelder_mead_finds_a_quadratic_minimum() {
        let mut f = |x: &[f64; 3]| (x[0] - 1.3).powi(2) + 0.01 * (x[1] - 40.0).powi(2) + 0.02 * (x[2] - 7.0).powi(2);
        let (x, fx) = nelder_mead(&mut f, [1.0, 0.0, 0.0], [0.2, 20.0, 20.0], 300);
        assert!(fx < 1e-6, "{x:?} {fx}");
        assert!(
            (x[0] - 1.3).abs() < 1e-2 && (x[1] - 40.0).abs() < 0.1 && (x[2] - 7.0).abs() < 0.1,
            "{x:?}"
        );
    }
}
