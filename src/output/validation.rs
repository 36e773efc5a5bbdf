//! `validation.csv` (one row per scenario and metric), the verdict table and the round-time
//! CDF plots of `ictwin validate` (the files of `--random` are in [`super::validation_random`]).

use super::fmt_f;
use crate::validate::Comparison;
use anyhow::Result;
use ictwin_kernels::agg::{self, TIME_BINS};

/// Columns of `validation.csv`, in order: `difference` is fine - coarse, `rel_error` the
/// difference over max(|fine|, |coarse|) for means and rates (`nan` for proportions and
/// distributions); for `*_distribution` rows `coarse` and `fine` are the mean rank or the
/// median time (ms).
pub const VALIDATION_COLUMNS: &[&str] = &[
    "scenario",
    "metric",
    "claim",
    "coarse",
    "fine",
    "difference",
    "rel_error",
    "statistic",
    "statistic_kind",
    "p_value",
    "verdict",
];

/// The fields of one comparison, in the order of [`VALIDATION_COLUMNS`].
fn record(c: &Comparison) -> Vec<String> {
    vec![
        c.scenario.clone(),
        c.metric.into(),
        c.claim.label().into(),
        fmt_f(c.coarse),
        fmt_f(c.fine),
        fmt_f(c.fine - c.coarse),
        fmt_f(c.rel_error),
        fmt_f(c.statistic),
        c.statistic_kind.into(),
        fmt_f(c.p_value),
        c.verdict().into(),
    ]
}

/// `validation.csv` text for the given comparisons.
pub fn validation_csv(rows: &[Comparison]) -> Result<String> {
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(VALIDATION_COLUMNS)?;
    for r in rows {
        w.write_record(record(r))?;
    }
    Ok(String::from_utf8(w.into_inner()?)?)
}

/// SVG text of the round-time CDFs of both levels on one chart (720 x 460), from their
/// aggregate arrays; the x range spans the 0.05% to 99.5% quantiles of both.
pub fn round_cdf_svg(title: &str, coarse: &[u64], fine: &[u64]) -> Result<String> {
    use plotters::prelude::*;
    super::ensure_plot_font();
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
    let mut svg = String::new();
    let root = SVGBackend::with_string(&mut svg, (720, 460)).into_drawing_area();
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
    drop(chart);
    drop(root);
    Ok(svg)
}

/// The verdict table `ictwin validate` prints.
pub fn render_verdicts(rows: &[Comparison]) -> String {
    let mut s = format!(
        "{:<28} {:<30} {:<12} {:>12} {:>12} {:>10} {:>9}  {}\n",
        "scenario", "metric", "claim", "coarse", "fine", "statistic", "p", "verdict"
    );
    for r in rows {
        s.push_str(&format!(
            "{:<28} {:<30} {:<12} {:>12.4} {:>12.4} {:>10.4} {:>9.2e}  {}\n",
            r.scenario,
            r.metric,
            r.claim.label(),
            r.coarse,
            r.fine,
            r.statistic,
            r.p_value,
            r.verdict()
        ));
    }
    s
}
