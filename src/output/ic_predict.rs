//! The real-subnet prediction of `ictwin ic`: `subnets.csv` (one row per subnet: observed and
//! predicted block rate and rank, the held-out flag, the subnet's round-time, finalization and
//! block-rate distribution under its own configuration), `prediction.csv` (the fitted
//! processing time and the error summary), and the predicted-vs-observed scatter plot.

use super::sweep_plot::png_bytes;
use super::{csv_line, fmt_f};
use crate::ic::predict::{spearman, SubnetPrediction, LOW_RANK};
use anyhow::{anyhow, Result};
use plotters::coord::Shift;
use plotters::prelude::*;

/// `subnets.csv`.
pub fn subnets_csv(preds: &[SubnetPrediction]) -> String {
    let head = [
        "subnet_short",
        "kind",
        "nodes",
        "dead_nodes",
        "observed_block_rate_per_s",
        "predicted_block_rate_per_s",
        "predicted_block_rate_per_s_ci95",
        "block_rate_rel_error",
        "observed_mean_rank",
        "predicted_mean_rank",
        "held_out",
        "mean_round_ms",
        "mean_round_ms_ci95",
        "round_ms_p50",
        "round_ms_p99",
        "mean_finalization_ms",
        "mean_finalization_ms_ci95",
        "finalization_ms_p50",
        "finalization_ms_p99",
    ];
    let mut out = csv_line(&head.map(String::from)) + "\n";
    for p in preds {
        let st = &p.stats;
        let (obs_rate, obs_rank, err) = match p.observed {
            Some(o) => (
                fmt_f(o.block_rate_per_s),
                fmt_f(o.mean_rank),
                fmt_f(st.block_rate_per_s / o.block_rate_per_s - 1.0),
            ),
            None => ("nan".into(), "nan".into(), "nan".into()),
        };
        out += &(csv_line(&[
            p.subnet.clone(),
            p.kind.as_str().to_string(),
            p.nodes.to_string(),
            p.dead_nodes.to_string(),
            obs_rate,
            fmt_f(st.block_rate_per_s),
            fmt_f(st.block_rate_per_s_ci95),
            err,
            obs_rank,
            fmt_f(st.mean_notarized_rank),
            p.held_out.to_string(),
            fmt_f(st.mean_round_ms),
            fmt_f(st.mean_round_ms_ci95),
            fmt_f(st.round_ms_p50),
            fmt_f(st.round_ms_p99),
            fmt_f(st.mean_finalization_ms),
            fmt_f(st.mean_finalization_ms_ci95),
            fmt_f(st.finalization_ms_p50),
            fmt_f(st.finalization_ms_p99),
        ]) + "\n");
    }
    out
}

/// Error summary: (column, value) pairs of `prediction.csv`.
pub fn prediction_fields(processing_ms: Option<f64>, preds: &[SubnetPrediction]) -> Vec<(&'static str, String)> {
    let errs = |held: bool, low: bool| -> Vec<(f64, f64, f64)> {
        preds
            .iter()
            .filter(|p| p.held_out == held)
            .filter_map(|p| p.observed.map(|o| (p, o)))
            .filter(|(_, o)| !low || o.mean_rank < LOW_RANK)
            .map(|(p, o)| {
                (
                    o.block_rate_per_s,
                    p.stats.block_rate_per_s,
                    p.stats.block_rate_per_s / o.block_rate_per_s - 1.0,
                )
            })
            .collect()
    };
    let summary = |v: &[(f64, f64, f64)]| -> (usize, f64, f64, f64, f64) {
        let n = v.len();
        let within = v.iter().filter(|e| e.2.abs() <= 0.05).count() as f64 / n.max(1) as f64;
        let mut abs: Vec<f64> = v.iter().map(|e| e.2.abs()).collect();
        abs.sort_by(f64::total_cmp);
        let median = if n == 0 { f64::NAN } else { abs[n / 2] };
        let max = abs.last().copied().unwrap_or(f64::NAN);
        let rho = spearman(&v.iter().map(|e| (e.0, e.1)).collect::<Vec<_>>());
        (n, within, median, max, rho)
    };
    let held_low = summary(&errs(true, true));
    let held_all = summary(&errs(true, false));
    let fit_all = summary(&errs(false, false));
    let rank_pairs: Vec<(f64, f64)> = preds
        .iter()
        .filter_map(|p| p.observed.map(|o| (o.mean_rank, p.stats.mean_notarized_rank)))
        .collect();
    vec![
        ("fitted_processing_ms", fmt_f(processing_ms.unwrap_or(f64::NAN))),
        ("held_out_low_rank_subnets", held_low.0.to_string()),
        ("held_out_low_rank_within_5pct", fmt_f(held_low.1)),
        ("held_out_low_rank_median_abs_rel_error", fmt_f(held_low.2)),
        ("held_out_low_rank_max_abs_rel_error", fmt_f(held_low.3)),
        ("held_out_subnets", held_all.0.to_string()),
        ("held_out_median_abs_rel_error", fmt_f(held_all.2)),
        ("held_out_block_rate_spearman", fmt_f(held_all.4)),
        ("fit_subnets", fit_all.0.to_string()),
        ("fit_median_abs_rel_error", fmt_f(fit_all.2)),
        ("all_mean_rank_spearman", fmt_f(spearman(&rank_pairs))),
    ]
}

fn scatter<DB: DrawingBackend>(root: &DrawingArea<DB, Shift>, title: &str, preds: &[SubnetPrediction]) -> Result<()> {
    let e = |x: DrawingAreaErrorKind<DB::ErrorType>| anyhow!("prediction plot: {x}");
    root.fill(&WHITE).map_err(e)?;
    let pts: Vec<(f64, f64, f64, bool)> = preds
        .iter()
        .filter_map(|p| {
            p.observed.map(|o| {
                (
                    o.block_rate_per_s,
                    p.stats.block_rate_per_s,
                    p.stats.block_rate_per_s_ci95,
                    p.held_out,
                )
            })
        })
        .collect();
    let hi = pts.iter().map(|p| p.0.max(p.1)).fold(0.0f64, f64::max).max(0.1) * 1.08;
    let mut chart = ChartBuilder::on(root)
        .caption(title, ("sans-serif", 28))
        .margin(20)
        .x_label_area_size(60)
        .y_label_area_size(80)
        .build_cartesian_2d(0f64..hi, 0f64..hi)
        .map_err(e)?;
    chart
        .configure_mesh()
        .x_desc("observed block rate, 30-day median (blocks/s)")
        .y_desc("predicted block rate (blocks/s, 95% CI)")
        .label_style(("sans-serif", 18))
        .draw()
        .map_err(e)?;
    chart
        .draw_series(LineSeries::new(vec![(0.0, 0.0), (hi, hi)], BLACK.stroke_width(1)))
        .map_err(e)?
        .label("predicted = observed")
        .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], BLACK));
    for (held, color, label) in [
        (false, RGBColor(31, 119, 180), "fit half"),
        (true, RGBColor(214, 39, 40), "held out"),
    ] {
        let sel: Vec<_> = pts.iter().filter(|p| p.3 == held).collect();
        chart
            .draw_series(
                sel.iter()
                    .map(|p| PathElement::new(vec![(p.0, p.1 - p.2), (p.0, p.1 + p.2)], color)),
            )
            .map_err(e)?;
        chart
            .draw_series(sel.iter().map(|p| Circle::new((p.0, p.1), 6, color.filled())))
            .map_err(e)?
            .label(label)
            .legend(move |(x, y)| Circle::new((x + 10, y), 6, color.filled()));
    }
    chart
        .configure_series_labels()
        .border_style(BLACK)
        .background_style(WHITE)
        .label_font(("sans-serif", 18))
        .position(SeriesLabelPosition::UpperLeft)
        .draw()
        .map_err(e)?;
    root.present().map_err(e)?;
    Ok(())
}

/// The scatter plot as `plots/predicted-vs-observed.svg|png`.
pub fn prediction_plot(name: &str, preds: &[SubnetPrediction]) -> Result<Vec<(String, Vec<u8>)>> {
    super::ensure_plot_font();
    const SIZE: (u32, u32) = (1000, 900);
    let title = format!("{name}: predicted vs observed block rate per subnet");
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, SIZE).into_drawing_area();
        scatter(&root, &title, preds)?;
    }
    let mut rgb = vec![0u8; (SIZE.0 * SIZE.1 * 3) as usize];
    {
        let root = BitMapBackend::with_buffer(&mut rgb, SIZE).into_drawing_area();
        scatter(&root, &title, preds)?;
    }
    Ok(vec![
        ("plots/predicted-vs-observed.svg".into(), svg.into_bytes()),
        ("plots/predicted-vs-observed.png".into(), png_bytes(&rgb, SIZE)?),
    ])
}
