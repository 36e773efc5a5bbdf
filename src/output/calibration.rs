//! What `ictwin calibrate` writes: the calibration file (a `[calibration]` table with its
//! provenance in comments), `<stem>-fit.csv` beside it, and the printed before/after table.

use super::fmt_f;
use crate::calibrate::Fit;
use crate::scenario::Calibration;
use anyhow::Result;

/// Goodness of fit of one scenario before (uncalibrated) and after the calibration.
#[derive(Clone, Debug)]
pub struct FitRow {
    /// Scenario name.
    pub scenario: String,
    /// `fit` or `holdout`.
    pub set: &'static str,
    /// The uncalibrated coarse model.
    pub before: Fit,
    /// The calibrated coarse model.
    pub after: Fit,
}

/// Header of the printed before/after table.
pub fn fit_table_header() -> String {
    format!(
        "{:<24} {:<8} {:>17} {:>17} {:>21} {:>21}",
        "scenario", "set", "KS round b/a", "KS fin b/a", "round mean err b/a", "fin mean err b/a"
    )
}

/// One line of the printed before/after table.
pub fn fit_table_line(r: &FitRow) -> String {
    let (b, f) = (&r.before, &r.after);
    format!(
        "{:<24} {:<8} {:>8.4} {:>8.4} {:>8.4} {:>8.4} {:>+10.4} {:>+10.4} {:>+10.4} {:>+10.4}",
        r.scenario, r.set, b.ks_round, f.ks_round, b.ks_fin, f.ks_fin, b.err_round, f.err_round, b.err_fin, f.err_fin
    )
}

/// `<stem>-fit.csv` text: KS distances and relative mean errors, before and after.
pub fn fit_report_csv(rows: &[FitRow]) -> Result<String> {
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record([
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
    for r in rows {
        let (b, f) = (&r.before, &r.after);
        w.write_record([
            r.scenario.clone(),
            r.set.into(),
            fmt_f(b.ks_round),
            fmt_f(f.ks_round),
            fmt_f(b.ks_fin),
            fmt_f(f.ks_fin),
            fmt_f(b.err_round),
            fmt_f(f.err_round),
            fmt_f(b.err_fin),
            fmt_f(f.err_fin),
        ])?;
    }
    Ok(String::from_utf8(w.into_inner()?)?)
}

/// The calibration file: provenance comments (scenarios fitted on and held out, loss), then
/// the `[calibration]` table with values rounded to 6 decimals.
pub fn calibration_toml(cal: &Calibration, loss: f64, fitted_on: &[String], held_out: &[String]) -> String {
    format!(
        "# Coarse-model calibration fitted by `ictwin calibrate` against the fine engine.\n\
         # Fitted on: {}\n# Held out: {}\n# Loss (sum of squared relative mean errors and KS distances): {:.6}\n\
         # Use: ictwin run SCENARIO --calibration THIS_FILE\n\
         [calibration]\ndelay_scale = {}\nround_overhead_ms = {}\nfinalization_overhead_ms = {}\ngossip_hop_scale = {}\n",
        fitted_on.join(", "),
        if held_out.is_empty() {
            "(none)".into()
        } else {
            held_out.join(", ")
        },
        loss,
        round6(cal.delay_scale),
        round6(cal.round_overhead_ms),
        round6(cal.finalization_overhead_ms),
        round6(cal.gossip_hop_scale)
    )
}

fn round6(x: f64) -> f64 {
    (x * 1e6).round() / 1e6
}
