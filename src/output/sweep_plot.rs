//! Sweep plots: one chart per metric against the first swept key, one line per combination of
//! the other keys' values (grid; one line for zip or a single axis), with 95% CI bands
//! (mean ± `_ci95`), axis labels with units and a legend; 1200 x 750 px, type sized for a
//! slide. Each is written as SVG and PNG (`plots/<metric>.svg`, `.png`); the PNG's text uses
//! the embedded DejaVu Sans ([`super::ensure_plot_font`]), so no system font is needed.

use super::sweep::PointSummary;
use crate::scenario::sweep::value_text;
use crate::sweep::Plan;
use anyhow::{anyhow, Result};
use plotters::coord::Shift;
use plotters::prelude::*;

/// The plotted metrics: (file stem, summary column, y-axis label with unit).
pub const METRICS: &[(&str, &str, &str)] = &[
    ("mean_round", "mean_round_ms", "mean round time (ms)"),
    (
        "mean_finalization",
        "mean_finalization_ms",
        "mean finalization time (ms)",
    ),
    ("block_rate", "block_rate_per_s", "block rate (blocks/s)"),
    ("stalled_ratio", "stalled_ratio", "stalled round steps (fraction)"),
    ("stall_time_ratio", "stall_time_ratio", "time stalled (fraction)"),
    (
        "finalized_ratio",
        "finalized_ratio",
        "finalized / notarized heights (fraction)",
    ),
];

const SIZE: (u32, u32) = (1200, 750);
/// Width of the legend column on the right, px.
const LEGEND_W: i32 = 230;
/// Tableau 10: distinguishable lines.
const PALETTE: [(u8, u8, u8); 10] = [
    (31, 119, 180),
    (255, 127, 14),
    (44, 160, 44),
    (214, 39, 40),
    (148, 103, 189),
    (140, 86, 75),
    (227, 119, 194),
    (127, 127, 127),
    (188, 189, 34),
    (23, 190, 207),
];

/// A line: its legend label and (x, mean, ci95) per point, in x order.
struct Series {
    label: String,
    pts: Vec<(f64, f64, f64)>,
}

/// The x-axis label: the first key, with its unit when the key's suffix names one.
fn x_label(key: &str) -> String {
    let leaf = key.rsplit('.').next().unwrap_or(key);
    let unit = [("_ms", "ms"), ("_hours", "h"), ("_us", "µs"), ("_per_s", "1/s")]
        .iter()
        .find(|(suf, _)| leaf.ends_with(suf))
        .map(|(_, u)| *u)
        .or(match leaf {
            "nodes" => Some("nodes"),
            "crashed" | "silent" | "equivocating" | "invalid_share" | "notarize_all" => Some("nodes"),
            "rounds" => Some("heights"),
            _ => None,
        });
    match unit {
        Some(u) => format!("{key} ({u})"),
        None => key.to_string(),
    }
}

/// Every plot of the sweep as (`plots/<metric>.svg|png`, bytes).
pub fn sweep_plots(plan: &Plan, points: &[PointSummary]) -> Result<Vec<(String, Vec<u8>)>> {
    super::ensure_plot_font();
    let first = &plan.axes[0];
    let numeric = first.values.iter().all(|v| v.is_integer() || v.is_float());
    let x_of = |v: &toml::Value| -> f64 {
        if numeric {
            v.as_float().or(v.as_integer().map(|i| i as f64)).unwrap_or(f64::NAN)
        } else {
            first.values.iter().position(|w| w == v).unwrap_or(0) as f64
        }
    };
    let ticks: Vec<String> = first.values.iter().map(value_text).collect();
    let mut out = Vec::new();
    for &(stem, col, ylabel) in METRICS {
        let mut series: Vec<Series> = Vec::new();
        for (p, s) in plan.points.iter().zip(points) {
            let label = if plan.zip {
                String::new()
            } else {
                p.values[1..]
                    .iter()
                    .map(|(k, v)| format!("{}={}", k.rsplit('.').next().unwrap_or(k), value_text(v)))
                    .collect::<Vec<_>>()
                    .join(", ")
            };
            let pt = (x_of(&p.values[0].1), s.number(col), s.number(&format!("{col}_ci95")));
            match series.iter_mut().find(|l| l.label == label) {
                Some(l) => l.pts.push(pt),
                None => series.push(Series { label, pts: vec![pt] }),
            }
        }
        for l in &mut series {
            l.pts.sort_by(|a, b| a.0.total_cmp(&b.0));
        }
        let title = format!("{} — {}", plan.base.name, ylabel);
        let xdesc = x_label(&first.key);
        let mut svg = String::new();
        {
            let root = SVGBackend::with_string(&mut svg, SIZE).into_drawing_area();
            draw(&root, &title, &xdesc, ylabel, &series, numeric, &ticks).map_err(|e| anyhow!("plot {stem}: {e}"))?;
        }
        let mut rgb = vec![0u8; (SIZE.0 * SIZE.1 * 3) as usize];
        {
            let root = BitMapBackend::with_buffer(&mut rgb, SIZE).into_drawing_area();
            draw(&root, &title, &xdesc, ylabel, &series, numeric, &ticks).map_err(|e| anyhow!("plot {stem}: {e}"))?;
        }
        out.push((format!("plots/{stem}.svg"), svg.into_bytes()));
        out.push((format!("plots/{stem}.png"), png_bytes(&rgb, SIZE)?));
    }
    Ok(out)
}

/// PNG encoding of an RGB buffer.
pub(crate) fn png_bytes(rgb: &[u8], (w, h): (u32, u32)) -> Result<Vec<u8>> {
    let mut bytes = Vec::new();
    let mut enc = png::Encoder::new(&mut bytes, w, h);
    enc.set_color(png::ColorType::Rgb);
    enc.set_depth(png::BitDepth::Eight);
    enc.set_compression(png::Compression::Best);
    enc.set_adaptive_filter(png::AdaptiveFilterType::Adaptive);
    let mut writer = enc.write_header()?;
    writer.write_image_data(rgb)?;
    writer.finish()?;
    Ok(bytes)
}

/// A tick label: at most 4 decimals, trailing zeros dropped.
fn trim_number(x: f64) -> String {
    let s = format!("{x:.4}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    if s == "-0" {
        "0".into()
    } else {
        s.into()
    }
}

/// Runs of consecutive points where `ok` holds (a NaN breaks a line or a band).
fn runs(pts: &[(f64, f64, f64)], ok: impl Fn(&(f64, f64, f64)) -> bool) -> Vec<Vec<(f64, f64, f64)>> {
    let mut out: Vec<Vec<(f64, f64, f64)>> = vec![Vec::new()];
    for p in pts {
        if ok(p) {
            out.last_mut().expect("non-empty").push(*p);
        } else if !out.last().expect("non-empty").is_empty() {
            out.push(Vec::new());
        }
    }
    out.retain(|r| !r.is_empty());
    out
}

type DrawResult<DB> = std::result::Result<(), DrawingAreaErrorKind<<DB as DrawingBackend>::ErrorType>>;

/// Draws one chart on `root`; y starts at 0 and spans every finite mean ± CI.
fn draw<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    title: &str,
    xdesc: &str,
    ydesc: &str,
    series: &[Series],
    numeric: bool,
    ticks: &[String],
) -> DrawResult<DB> {
    root.fill(&WHITE)?;
    let all: Vec<&(f64, f64, f64)> = series.iter().flat_map(|s| &s.pts).collect();
    let (mut xmin, mut xmax) = all
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), p| (a.min(p.0), b.max(p.0)));
    if !xmin.is_finite() {
        (xmin, xmax) = (0.0, 1.0);
    }
    // Categories sit half a slot from the edges; numbers 4% of the range.
    let pad = if numeric && xmax > xmin {
        (xmax - xmin) * 0.04
    } else {
        0.5
    };
    let (xmin, xmax) = (xmin - pad, xmax + pad);
    let ymax = all
        .iter()
        .filter(|p| p.1.is_finite())
        .map(|p| p.1 + if p.2.is_finite() { p.2 } else { 0.0 })
        .fold(0.0f64, f64::max);
    let ymax = if ymax > 0.0 { ymax * 1.08 } else { 1.0 };
    let (plot_area, side) = root.split_horizontally(SIZE.0 as i32 - LEGEND_W);
    let mut chart = ChartBuilder::on(&plot_area)
        .caption(title, ("sans-serif", 34))
        .margin(20)
        .x_label_area_size(80)
        .y_label_area_size(110)
        .build_cartesian_2d(xmin..xmax, 0.0..ymax)?;
    let tick = |x: &f64| -> String {
        if numeric {
            trim_number(*x)
        } else {
            let i = x.round();
            if (x - i).abs() < 1e-9 && i >= 0.0 && (i as usize) < ticks.len() {
                ticks[i as usize].clone()
            } else {
                String::new()
            }
        }
    };
    let ytick = |y: &f64| trim_number(*y);
    let mut mesh = chart.configure_mesh();
    mesh.x_desc(xdesc)
        .y_desc(ydesc)
        .axis_desc_style(("sans-serif", 28))
        .label_style(("sans-serif", 22))
        .x_label_formatter(&tick)
        .y_label_formatter(&ytick)
        .max_light_lines(1)
        .light_line_style(RGBColor(240, 240, 240))
        .bold_line_style(RGBColor(200, 200, 200));
    if !numeric {
        mesh.x_labels(ticks.len() * 4 + 1);
    }
    mesh.draw()?;
    let legend_font = ("sans-serif", 22).into_font();
    let mut y = 90;
    for (i, s) in series.iter().enumerate() {
        let (r, g, b) = PALETTE[i % PALETTE.len()];
        let color = RGBColor(r, g, b);
        for band in runs(&s.pts, |p| p.1.is_finite() && p.2.is_finite()) {
            let mut poly: Vec<(f64, f64)> = band.iter().map(|p| (p.0, (p.1 + p.2).min(ymax))).collect();
            poly.extend(band.iter().rev().map(|p| (p.0, (p.1 - p.2).max(0.0))));
            chart.draw_series(std::iter::once(Polygon::new(poly, color.mix(0.25).filled())))?;
        }
        for line in runs(&s.pts, |p| p.1.is_finite()) {
            let xy: Vec<(f64, f64)> = line.iter().map(|p| (p.0, p.1)).collect();
            chart.draw_series(LineSeries::new(xy.clone(), color.stroke_width(3)))?;
            chart.draw_series(xy.into_iter().map(|p| Circle::new(p, 5, color.filled())))?;
        }
        if !s.label.is_empty() {
            side.draw(&PathElement::new(vec![(8, y), (48, y)], color.stroke_width(4)))?;
            side.draw(&Circle::new((28, y), 5, color.filled()))?;
            side.draw(&Text::new(s.label.clone(), (58, y - 12), legend_font.clone()))?;
            y += 36;
        }
    }
    side.draw(&Rectangle::new(
        [(8, y - 4), (48, y + 12)],
        RGBColor(31, 119, 180).mix(0.25).filled(),
    ))?;
    side.draw(&Text::new("95% CI", (58, y - 8), legend_font.clone()))?;
    root.present()?;
    Ok(())
}
