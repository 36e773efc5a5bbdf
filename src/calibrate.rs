//! Calibration (`ictwin calibrate`): fits the coarse model's calibration parameters to the fine engine.
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
use crate::fine;
use crate::progress::{stop_flag, Progress};
use crate::scenario::{check_coarse_limits, load_for_levels, Calibration, Scenario};
use crate::stats::{self, ks_binned};
use anyhow::{bail, Result};
use ictwin_kernels::agg::{self, TIME_BINS};
use std::path::Path;

/// Goodness of fit of the coarse model on one scenario.
#[derive(Clone, Copy, Debug, Default)]
pub struct Fit {
    /// Kolmogorov-Smirnov distance between the round-time distributions.
    pub ks_round: f64,
    /// Kolmogorov-Smirnov distance between the finalization-time distributions.
    pub ks_fin: f64,
    /// (coarse - fine) / fine of the mean round time.
    pub err_round: f64,
    /// (coarse - fine) / fine of the mean finalization time.
    pub err_fin: f64,
}

impl Fit {
    /// Sum of the squared finite errors and distances (what the fit minimizes).
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
    /// The scenario, uncalibrated, sized for the fine run.
    pub scenario: Scenario,
    /// The fine engine's aggregate array (layout of `ictwin_kernels::agg`).
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

/// Loads a scenario file for calibration (uncalibrated, its fine run divided by `shrink`) and
/// checks that both engines can run it (the coarse engine's node limit included), so that a
/// scenario the fit cannot use fails before any engine runs.
pub fn load_reference(path: &Path, shrink: u64) -> Result<Scenario> {
    let mut s = load_for_levels(path, shrink)?;
    s.calibration = None;
    let origin = path.display().to_string();
    check_coarse_limits(&s, &origin)?;
    fine::config_of(&s).map_err(|e| anyhow::anyhow!("{origin}: {e:#}"))?;
    Ok(s)
}

/// Runs the fine engine on a scenario from [`load_reference`]: the reference the coarse model
/// is fitted to. Reports progress on stderr.
pub fn reference(s: Scenario, quiet: bool) -> Result<Reference> {
    eprintln!(
        "calibrate: fine engine on {} ({} x {})",
        s.name, s.run.replicas, s.run.rounds
    );
    let progress = Progress::new(s.run.replicas * s.run.rounds, "fine heights", quiet);
    let fo = fine::run(&s, None, stop_flag(), &|k| progress.set(k))?;
    progress.finish();
    Ok(Reference {
        scenario: s,
        fine: fo.agg,
    })
}

/// Fits the calibration to `fit_set` by Nelder-Mead (`iterations` steps from the
/// uncalibrated model), each loss evaluation running `coarse_replicas` coarse replicas per
/// scenario. Returns the calibration and its loss (sum of [`Fit::loss`] over `fit_set`).
pub fn fit(fit_set: &[Reference], coarse_replicas: u64, iterations: u32) -> Result<(Calibration, f64)> {
    let mut failure = None;
    let mut loss = |x: &[f64; DIM]| -> f64 {
        let c = calibration_of(x);
        let mut total = 0.0;
        for r in fit_set {
            match coarse_fit(r, &c, coarse_replicas) {
                Ok(fit) => total += fit.loss(),
                Err(e) => {
                    failure.get_or_insert(e);
                    return f64::INFINITY;
                }
            }
        }
        total
    };
    let (best, best_loss) = nelder_mead(&mut loss, [1.0, 0.0, 0.0, 0.0], [0.2, 20.0, 20.0, 0.3], iterations);
    if let Some(e) = failure {
        bail!("calibration failed: {e:#}");
    }
    Ok((calibration_of(&best), best_loss))
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
