//! `ictwin validate`: the coarse model checked against the fine engine, scenario by scenario.
//!
//! Both levels run the same scenario with independent seeds; their aggregate arrays (same
//! layout) are compared metric by metric with a test and an effect size:
//! - notarized-rank distribution: chi-square test of homogeneity (sparse bins pooled);
//! - stalled and finalized ratios: two-sample z-tests with batch-means standard errors (rounds
//!   within a replica are correlated, so per-round binomial errors would be too small);
//! - round and finalization time: two-sample Kolmogorov-Smirnov on the shared 1 ms histogram
//!   bins (distance = effect size; the p-value treats rounds as independent, which is
//!   optimistic under backoff) and the difference of means with its 95% CI;
//! - block rate: difference with its 95% CI.
//!
//! Each metric is *exact* (the coarse model claims to reproduce it with no calibration:
//! combinatorial quantities, rank distribution and stall probability under static faults, when
//! the network is fast against U) or *approximate* (timing, where unsynchronized node views,
//! crypto time and gossip hops matter). An exact metric disagrees when its test rejects at
//! level `alpha`; an approximate one when its mean differs by more than `tolerance`
//! (relative). Any disagreement makes the command exit non-zero.

use crate::coarse::{prepare, run_cpu};
use crate::fine;
use crate::output::fmt_f;
use crate::progress::stop_flag;
use crate::scenario::{self, Scenario};
use crate::stats::{self, RunStats};
use anyhow::{Context, Result};
use ictwin_kernels::agg::{self, batch_index, BATCHES, RANK_BINS, TIME_BINS};
use statrs::distribution::{ChiSquared, ContinuousCDF, Normal};
use std::path::{Path, PathBuf};

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
    #[arg(long, short)]
    pub quiet: bool,
}

/// Whether the coarse model claims a metric exactly or approximately.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Claim {
    Exact,
    Approximate,
}

/// One compared metric.
#[derive(Clone, Debug)]
pub struct Comparison {
    pub scenario: String,
    pub metric: &'static str,
    pub claim: Claim,
    pub coarse: f64,
    pub fine: f64,
    /// CI half-width of the difference, or the test statistic (see `statistic_kind`).
    pub statistic: f64,
    pub statistic_kind: &'static str,
    pub p_value: f64,
    pub agree: bool,
}

pub const VALIDATION_COLUMNS: &[&str] = &[
    "scenario",
    "metric",
    "claim",
    "coarse",
    "fine",
    "difference",
    "statistic",
    "statistic_kind",
    "p_value",
    "verdict",
];

impl Comparison {
    pub fn verdict(&self) -> &'static str {
        if self.agree {
            "agree"
        } else {
            "DISAGREE"
        }
    }
    fn record(&self) -> Vec<String> {
        vec![
            self.scenario.clone(),
            self.metric.into(),
            match self.claim {
                Claim::Exact => "exact",
                Claim::Approximate => "approximate",
            }
            .into(),
            fmt_f(self.coarse),
            fmt_f(self.fine),
            fmt_f(self.fine - self.coarse),
            fmt_f(self.statistic),
            self.statistic_kind.into(),
            fmt_f(self.p_value),
            self.verdict().into(),
        ]
    }
}

/// Two-sided p-value of a standard normal statistic.
pub fn normal_p(z: f64) -> f64 {
    if z.is_nan() {
        return f64::NAN;
    }
    2.0 * Normal::standard().sf(z.abs())
}

/// Chi-square test of homogeneity of two count vectors over the same categories. Categories
/// are pooled from the top until each pooled cell expects at least 5 in both samples.
/// Returns (statistic, degrees of freedom, p-value).
pub fn chi_square_homogeneity(a: &[u64], b: &[u64]) -> (f64, usize, f64) {
    let (na, nb) = (a.iter().sum::<u64>() as f64, b.iter().sum::<u64>() as f64);
    if na == 0.0 || nb == 0.0 {
        return (f64::NAN, 0, f64::NAN);
    }
    let mut cells: Vec<(f64, f64)> = Vec::new();
    let (mut ca, mut cb) = (0.0, 0.0);
    for (x, y) in a.iter().zip(b) {
        ca += *x as f64;
        cb += *y as f64;
        let tot = ca + cb;
        if tot * na / (na + nb) >= 5.0 && tot * nb / (na + nb) >= 5.0 {
            cells.push((ca, cb));
            ca = 0.0;
            cb = 0.0;
        }
    }
    if ca + cb > 0.0 {
        match cells.last_mut() {
            Some(last) => {
                last.0 += ca;
                last.1 += cb;
            }
            None => cells.push((ca, cb)),
        }
    }
    if cells.len() < 2 {
        return (0.0, 0, 1.0);
    }
    let n = na + nb;
    let mut chi2 = 0.0;
    for (x, y) in &cells {
        let t = x + y;
        let (ea, eb) = (t * na / n, t * nb / n);
        chi2 += (x - ea).powi(2) / ea + (y - eb).powi(2) / eb;
    }
    let dof = cells.len() - 1;
    let p = ChiSquared::new(dof as f64).map(|c| c.sf(chi2)).unwrap_or(f64::NAN);
    (chi2, dof, p)
}

/// Two-sample Kolmogorov-Smirnov on histograms over the same bins: (distance, p-value with
/// the asymptotic Kolmogorov distribution at n = n_a n_b / (n_a + n_b)).
pub fn ks_binned(a: &[u64], b: &[u64]) -> (f64, f64) {
    let (na, nb) = (a.iter().sum::<u64>() as f64, b.iter().sum::<u64>() as f64);
    if na == 0.0 || nb == 0.0 {
        return (f64::NAN, f64::NAN);
    }
    let (mut fa, mut fb, mut d) = (0.0, 0.0, 0.0f64);
    for (x, y) in a.iter().zip(b) {
        fa += *x as f64 / na;
        fb += *y as f64 / nb;
        d = d.max((fa - fb).abs());
    }
    let ne = na * nb / (na + nb);
    (d, kolmogorov_sf((ne.sqrt() + 0.12 + 0.11 / ne.sqrt()) * d))
}

/// P(K > x) for the Kolmogorov distribution.
pub fn kolmogorov_sf(x: f64) -> f64 {
    if x < 0.2 {
        return 1.0;
    }
    let mut s = 0.0;
    for k in 1..=100 {
        let term = (-2.0 * (k * k) as f64 * x * x).exp();
        s += if k % 2 == 1 { term } else { -term };
        if term < 1e-16 {
            break;
        }
    }
    (2.0 * s).clamp(0.0, 1.0)
}

/// Per-batch values of an aggregate field.
fn field(a: &[u64], f: u32) -> Vec<f64> {
    (0..BATCHES).map(|b| a[batch_index(b, f)] as f64).collect()
}

/// Standard error of a batch-means ratio estimate (the CI half-width over t).
fn ratio_se(y: &[f64], x: &[f64]) -> f64 {
    let b = x.iter().filter(|&&v| v > 0.0).count();
    if b < 2 {
        return f64::NAN;
    }
    stats::ratio_ci95(y, x) / stats::t975(b - 1)
}

/// Whether the scenario's network is fast against U, so that the block of rank r* reaches
/// every node long before rank r*+1 is considered: then rank and stall are combinatorial.
pub fn fast_network(s: &Scenario) -> bool {
    let d999 = s.network.delay.quantile_ms(0.999) * s.calibration.as_ref().map(|c| c.delay_scale).unwrap_or(1.0);
    d999 + s.subnet.initial_notary_delay_ms < s.subnet.unit_delay_ms
}

/// Compares the aggregates of both levels on one scenario.
/// Acceptance thresholds of [`compare`].
#[derive(Clone, Copy, Debug)]
pub struct Thresholds {
    /// Level of the tests of exact metrics.
    pub alpha: f64,
    /// Relative difference of means accepted for approximate metrics.
    pub tolerance: f64,
    /// Kolmogorov-Smirnov distance accepted for time distributions.
    pub ks_tolerance: f64,
}

pub fn compare(s: &Scenario, coarse: &[u64], fine: &[u64], th: Thresholds) -> Vec<Comparison> {
    let Thresholds {
        alpha,
        tolerance,
        ks_tolerance,
    } = th;
    let (c, f) = (stats::from_aggregates(coarse), stats::from_aggregates(fine));
    let fast = fast_network(s);
    let static_faults = !s.dynamic_failures();
    let exact_if = |cond: bool| if cond { Claim::Exact } else { Claim::Approximate };
    let mut out = Vec::new();
    let mut push = |metric, claim, cv: f64, fv: f64, statistic, kind, p: f64, mean_like: bool| {
        let agree = match claim {
            Claim::Exact => p.is_nan() || p >= alpha,
            Claim::Approximate => {
                if mean_like {
                    let scale = cv.abs().max(fv.abs());
                    (cv.is_nan() && fv.is_nan()) || scale == 0.0 || (fv - cv).abs() <= tolerance * scale || p >= alpha
                } else {
                    // Distances (KS) and ratios: an absolute effect-size tolerance.
                    let tol = if kind_is_distance(metric) {
                        ks_tolerance
                    } else {
                        tolerance
                    };
                    p.is_nan() || p >= alpha || (fv - cv).abs() <= tol
                }
            }
        };
        out.push(Comparison {
            scenario: s.name.clone(),
            metric,
            claim,
            coarse: cv,
            fine: fv,
            statistic,
            statistic_kind: kind,
            p_value: p,
            agree,
        });
    };
    // Rank distribution.
    let ranks = |a: &[u64]| a[agg::HIST_RANK as usize..(agg::HIST_RANK + RANK_BINS) as usize].to_vec();
    let (chi2, dof, p) = chi_square_homogeneity(&ranks(coarse), &ranks(fine));
    push(
        "notarized_rank_distribution",
        exact_if(fast && static_faults),
        c.mean_notarized_rank,
        f.mean_notarized_rank,
        chi2,
        if dof > 0 { "chi2" } else { "chi2 (one cell)" },
        p,
        false,
    );
    // Ratios with batch-means standard errors.
    let steps = |a: &[u64]| -> Vec<f64> {
        field(a, agg::F_NOTARIZED)
            .iter()
            .zip(field(a, agg::F_STALLED))
            .map(|(x, y)| x + y)
            .collect()
    };
    let z_test = |cv: f64, fv: f64, sc: f64, sf: f64| -> (f64, f64) {
        let se = (sc * sc + sf * sf).sqrt();
        if se > 0.0 {
            let z = (fv - cv) / se;
            (z, normal_p(z))
        } else if cv == fv || (cv.is_nan() && fv.is_nan()) {
            (0.0, 1.0)
        } else {
            (f64::INFINITY, 0.0)
        }
    };
    let sc = ratio_se(&field(coarse, agg::F_STALLED), &steps(coarse));
    let sf = ratio_se(&field(fine, agg::F_STALLED), &steps(fine));
    let (z, p) = z_test(c.stalled_ratio, f.stalled_ratio, sc, sf);
    push(
        "stalled_ratio",
        exact_if(static_faults),
        c.stalled_ratio,
        f.stalled_ratio,
        z,
        "z",
        p,
        false,
    );
    let sc = ratio_se(&field(coarse, agg::F_FINALIZED), &field(coarse, agg::F_NOTARIZED));
    let sf = ratio_se(&field(fine, agg::F_FINALIZED), &field(fine, agg::F_NOTARIZED));
    let (z, p) = z_test(c.finalized_ratio, f.finalized_ratio, sc, sf);
    push(
        "finalized_ratio",
        exact_if(fast && static_faults),
        c.finalized_ratio,
        f.finalized_ratio,
        z,
        "z",
        p,
        false,
    );
    // Timing.
    let hist = |a: &[u64], off: u32| a[off as usize..(off + TIME_BINS) as usize].to_vec();
    for (metric, ks_metric, off, cm, fm, cci, fci) in [
        (
            "mean_round_ms",
            "round_ms_distribution",
            agg::HIST_ROUND,
            c.mean_round_ms,
            f.mean_round_ms,
            c.mean_round_ms_ci95,
            f.mean_round_ms_ci95,
        ),
        (
            "mean_finalization_ms",
            "finalization_ms_distribution",
            agg::HIST_FIN,
            c.mean_finalization_ms,
            f.mean_finalization_ms,
            c.mean_finalization_ms_ci95,
            f.mean_finalization_ms_ci95,
        ),
    ] {
        let ci = (cci.powi(2) + fci.powi(2)).sqrt();
        let p = if ci > 0.0 {
            normal_p((fm - cm) / (ci / 1.96))
        } else {
            f64::NAN
        };
        push(metric, Claim::Approximate, cm, fm, ci, "ci95 of difference", p, true);
        let (d, p) = ks_binned(&hist(coarse, off), &hist(fine, off));
        push(ks_metric, Claim::Approximate, 0.0, d, d, "ks distance", p, false);
    }
    let ci = (c.block_rate_per_s_ci95.powi(2) + f.block_rate_per_s_ci95.powi(2)).sqrt();
    let p = if ci > 0.0 {
        normal_p((f.block_rate_per_s - c.block_rate_per_s) / (ci / 1.96))
    } else {
        f64::NAN
    };
    push(
        "block_rate_per_s",
        Claim::Approximate,
        c.block_rate_per_s,
        f.block_rate_per_s,
        ci,
        "ci95 of difference",
        p,
        true,
    );
    out
}

fn kind_is_distance(metric: &str) -> bool {
    metric.ends_with("_distribution")
}

/// Both levels' aggregates for one scenario.
pub struct LevelRuns {
    pub coarse: Vec<u64>,
    pub fine: Vec<u64>,
    pub fine_safety_violations: u64,
}

/// Runs both levels on `s` (fine with `s.run`, coarse with `coarse_replicas` and an
/// independent seed).
pub fn run_levels(s: &Scenario, coarse_replicas: u64, quiet: bool) -> Result<LevelRuns> {
    let mut sc = s.clone();
    sc.run.replicas = coarse_replicas;
    sc.run.seed = s.run.seed.wrapping_add(0x5EED_C0A5);
    let prep = prepare(&sc)?;
    let coarse = run_cpu(&prep, &|_| {}, stop_flag())?;
    let progress = crate::progress::Progress::new(s.run.replicas, "fine replicas", quiet);
    let fo = fine::run(s, None, stop_flag(), &|k| progress.set(k))?;
    progress.finish();
    Ok(LevelRuns {
        coarse,
        fine: fo.agg,
        fine_safety_violations: fo.safety_violations,
    })
}

/// Loads a scenario for validation or calibration, shrinking the fine run by `shrink`.
pub fn load_for_levels(path: &Path, shrink: u64) -> Result<Scenario> {
    let l = scenario::load(Some(path))?;
    let mut s = l.scenario;
    s.run.replicas = (s.run.replicas / shrink.max(1)).max(1);
    s.run.rounds = (s.run.rounds / shrink.max(1)).max(20);
    Ok(s)
}

/// Round-time CDFs of both levels on one chart (SVG).
pub fn plot_cdfs(path: &Path, title: &str, coarse: &[u64], fine: &[u64]) -> Result<()> {
    use plotters::prelude::*;
    let hist = |a: &[u64]| a[agg::HIST_ROUND as usize..(agg::HIST_ROUND + TIME_BINS) as usize].to_vec();
    let cdf = |h: &[u64]| -> Vec<(f64, f64)> {
        let n: u64 = h.iter().sum();
        let mut acc = 0u64;
        let mut pts = Vec::new();
        for (i, &c) in h.iter().enumerate() {
            if c > 0 {
                acc += c;
                let (lo, hi) = agg::time_bin_edges_ms(i as u32);
                pts.push((if hi.is_finite() { hi } else { lo }, acc as f64 / n as f64));
            }
        }
        pts
    };
    let (cc, fc) = (cdf(&hist(coarse)), cdf(&hist(fine)));
    let q = |pts: &[(f64, f64)], p: f64| pts.iter().find(|x| x.1 >= p).map(|x| x.0).unwrap_or(0.0);
    let xmin = q(&cc, 0.0005).min(q(&fc, 0.0005)) * 0.95;
    let xmax = (q(&cc, 0.995).max(q(&fc, 0.995)) * 1.05).max(xmin + 1.0);
    let root = SVGBackend::new(path, (720, 460)).into_drawing_area();
    root.fill(&WHITE)?;
    let mut chart = ChartBuilder::on(&root)
        .caption(title, ("sans-serif", 20))
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(50)
        .build_cartesian_2d(xmin..xmax, 0.0..1.0)?;
    chart.configure_mesh().x_desc("round time (ms)").y_desc("CDF").draw()?;
    let step = |pts: &[(f64, f64)]| -> Vec<(f64, f64)> {
        let mut v = vec![(xmin, 0.0)];
        let mut last = 0.0;
        for &(x, y) in pts {
            v.push((x.clamp(xmin, xmax), last));
            v.push((x.clamp(xmin, xmax), y));
            last = y;
        }
        v.push((xmax, last));
        v
    };
    chart
        .draw_series(LineSeries::new(step(&cc), BLUE.stroke_width(2)))?
        .label("coarse")
        .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], BLUE.stroke_width(2)));
    chart
        .draw_series(LineSeries::new(step(&fc), RED.stroke_width(2)))?
        .label("fine")
        .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], RED.stroke_width(2)));
    chart
        .configure_series_labels()
        .border_style(BLACK)
        .background_style(WHITE.mix(0.8))
        .draw()?;
    root.present()?;
    Ok(())
}

/// The verdict table.
pub fn render(rows: &[Comparison]) -> String {
    let mut s = format!(
        "{:<28} {:<30} {:<12} {:>12} {:>12} {:>10} {:>9}  {}\n",
        "scenario", "metric", "claim", "coarse", "fine", "statistic", "p", "verdict"
    );
    for r in rows {
        s.push_str(&format!(
            "{:<28} {:<30} {:<12} {:>12.4} {:>12.4} {:>10.4} {:>9.2e}  {}\n",
            r.scenario,
            r.metric,
            if r.claim == Claim::Exact {
                "exact"
            } else {
                "approximate"
            },
            r.coarse,
            r.fine,
            r.statistic,
            r.p_value,
            r.verdict()
        ));
    }
    s
}

/// `ictwin validate`; returns whether every metric agreed.
pub fn cmd_validate(a: &ValidateArgs) -> Result<bool> {
    let calibration = a.calibration.as_deref().map(crate::app::load_calibration).transpose()?;
    let mut rows = Vec::new();
    let mut plots = Vec::new();
    let mut summaries: Vec<(String, RunStats, RunStats, u64)> = Vec::new();
    for path in &a.scenarios {
        let mut s = load_for_levels(path, a.shrink)?;
        if let Some(c) = &calibration {
            s.calibration = Some(c.clone());
        }
        eprintln!(
            "validate: {} (fine {} x {}, coarse {} x {})",
            s.name, s.run.replicas, s.run.rounds, a.coarse_replicas, s.run.rounds
        );
        let runs =
            run_levels(&s, a.coarse_replicas, a.quiet).with_context(|| format!("scenario {}", path.display()))?;
        let th = Thresholds {
            alpha: a.alpha,
            tolerance: a.tolerance,
            ks_tolerance: a.ks_tolerance,
        };
        rows.extend(compare(&s, &runs.coarse, &runs.fine, th));
        let svg = format!("{}-round-cdf.svg", s.name);
        plots.push((svg, s.name.clone(), runs.coarse.clone(), runs.fine.clone()));
        summaries.push((
            s.name.clone(),
            stats::from_aggregates(&runs.coarse),
            stats::from_aggregates(&runs.fine),
            runs.fine_safety_violations,
        ));
    }
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(VALIDATION_COLUMNS)?;
    for r in &rows {
        w.write_record(r.record())?;
    }
    let csv_text = String::from_utf8(w.into_inner()?)?;
    std::fs::create_dir_all(&a.out)?;
    // Plots first into temporary names, then everything is renamed together.
    let mut files = vec![("validation.csv".to_string(), csv_text)];
    for (name, title, c, f) in &plots {
        let tmp = a.out.join(format!(".{name}.tmp{}", std::process::id()));
        plot_cdfs(&tmp, &format!("{title}: round time, coarse vs fine"), c, f)?;
        let text = std::fs::read_to_string(&tmp)?;
        let _ = std::fs::remove_file(&tmp);
        files.push((name.clone(), text));
    }
    let refs: Vec<(&str, String)> = files.iter().map(|(n, t)| (n.as_str(), t.clone())).collect();
    crate::output::write_atomically(&a.out, &refs)?;
    print!("{}", render(&rows));
    for (name, _, _, v) in &summaries {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kolmogorov_distribution_known_values() {
        // Q_KS(1.36) ~ 0.049, Q_KS(1.63) ~ 0.0098.
        assert!((kolmogorov_sf(1.358) - 0.05).abs() < 1e-3);
        assert!((kolmogorov_sf(1.628) - 0.01).abs() < 5e-4);
        assert_eq!(kolmogorov_sf(0.1), 1.0);
    }

    #[test]
    fn chi_square_detects_difference_and_accepts_equal() {
        let a = [500u64, 300, 150, 50];
        let (_, dof, p) = chi_square_homogeneity(&a, &a);
        assert_eq!(dof, 3);
        assert!(p > 0.99);
        let b = [400u64, 300, 200, 100];
        assert!(chi_square_homogeneity(&a, &b).2 < 1e-6);
    }

    #[test]
    fn binned_ks_distance() {
        let (d, p) = ks_binned(&[10, 0, 0], &[0, 0, 10]);
        assert_eq!(d, 1.0);
        assert!(p < 0.01);
        let (d, p) = ks_binned(&[5, 5], &[50, 50]);
        assert_eq!(d, 0.0);
        assert_eq!(p, 1.0);
    }
}
