//! Plots of `ictwin ic`: stalled hours per year of every subnet (sorted, with 95% CI bars)
//! and the distribution of stall-episode durations (log-spaced bins). SVG and PNG each,
//! 1200 x 750 px, text in the embedded font ([`super::ensure_plot_font`]).

use super::ic::SubnetRow;
use super::sweep_plot::png_bytes;
use crate::ic::IcTotals;
use anyhow::{anyhow, Result};
use ictwin_kernels::ic::{duration_bin_lower_s, DURATION_BINS};
use plotters::coord::Shift;
use plotters::prelude::*;

const SIZE: (u32, u32) = (1200, 750);
const BAR: RGBColor = RGBColor(31, 119, 180);

fn availability<DB: DrawingBackend>(root: &DrawingArea<DB, Shift>, title: &str, rows: &[SubnetRow]) -> Result<()> {
    let e = |x: DrawingAreaErrorKind<DB::ErrorType>| anyhow!("availability plot: {x}");
    root.fill(&WHITE).map_err(e)?;
    let mut sorted: Vec<&SubnetRow> = rows.iter().collect();
    sorted.sort_by(|a, b| b.stalled_hours_per_year.0.total_cmp(&a.stalled_hours_per_year.0));
    let ymax = sorted
        .iter()
        .map(|r| r.stalled_hours_per_year.0 + r.stalled_hours_per_year.1.max(0.0))
        .fold(0.0f64, f64::max)
        .max(1e-3)
        * 1.1;
    let n = sorted.len().max(1);
    let mut chart = ChartBuilder::on(root)
        .caption(title, ("sans-serif", 28))
        .margin(20)
        .x_label_area_size(90)
        .y_label_area_size(90)
        .build_cartesian_2d(0f64..n as f64, 0f64..ymax)
        .map_err(e)?;
    let names: Vec<String> = sorted.iter().map(|r| r.subnet.chars().take(5).collect()).collect();
    chart
        .configure_mesh()
        .disable_x_mesh()
        .x_labels(n.min(60))
        .x_label_formatter(&|x| names.get(x.floor() as usize).cloned().unwrap_or_default())
        .x_label_style(("sans-serif", 13).into_font().transform(FontTransform::Rotate90))
        .x_desc("subnet (sorted by stalled time)")
        .y_desc("stalled hours per year (mean, 95% CI)")
        .label_style(("sans-serif", 18))
        .draw()
        .map_err(e)?;
    chart
        .draw_series(sorted.iter().enumerate().map(|(i, r)| {
            Rectangle::new(
                [(i as f64 + 0.15, 0.0), (i as f64 + 0.85, r.stalled_hours_per_year.0)],
                BAR.filled(),
            )
        }))
        .map_err(e)?;
    chart
        .draw_series(
            sorted
                .iter()
                .enumerate()
                .filter(|(_, r)| r.stalled_hours_per_year.1.is_finite())
                .map(|(i, r)| {
                    let (m, c) = r.stalled_hours_per_year;
                    PathElement::new(
                        vec![(i as f64 + 0.5, (m - c).max(0.0)), (i as f64 + 0.5, m + c)],
                        BLACK.stroke_width(2),
                    )
                }),
        )
        .map_err(e)?;
    root.present().map_err(e)?;
    Ok(())
}

fn durations<DB: DrawingBackend>(root: &DrawingArea<DB, Shift>, title: &str, t: &IcTotals) -> Result<()> {
    let e = |x: DrawingAreaErrorKind<DB::ErrorType>| anyhow!("stall-duration plot: {x}");
    root.fill(&WHITE).map_err(e)?;
    let ic_years = (t.replicas * t.years as u64).max(1) as f64;
    let bins: Vec<(f64, f64, f64)> = (1..DURATION_BINS)
        .filter(|&b| t.agg[b] > 0)
        .map(|b| {
            let hi = if b + 1 < DURATION_BINS {
                duration_bin_lower_s(b + 1)
            } else {
                duration_bin_lower_s(b) * 1.19
            };
            (
                duration_bin_lower_s(b) / 3600.0,
                hi / 3600.0,
                t.agg[b] as f64 / ic_years,
            )
        })
        .collect();
    let (xmin, xmax) = bins
        .iter()
        .fold((f64::INFINITY, 0.0f64), |(lo, hi), b| (lo.min(b.0), hi.max(b.1)));
    let (xmin, xmax) = if bins.is_empty() {
        (1e-3, 1.0)
    } else {
        (xmin * 0.8, xmax * 1.25)
    };
    let ymax = bins.iter().map(|b| b.2).fold(0.0f64, f64::max).max(1e-9) * 1.1;
    let mut chart = ChartBuilder::on(root)
        .caption(title, ("sans-serif", 28))
        .margin(20)
        .x_label_area_size(60)
        .y_label_area_size(100)
        .build_cartesian_2d((xmin..xmax).log_scale(), 0f64..ymax)
        .map_err(e)?;
    chart
        .configure_mesh()
        .x_desc("stall-episode duration (hours, log scale; quarter-octave bins)")
        .y_desc("episodes per IC-year (all subnets)")
        .label_style(("sans-serif", 18))
        .draw()
        .map_err(e)?;
    chart
        .draw_series(
            bins.iter()
                .map(|&(lo, hi, y)| Rectangle::new([(lo, 0.0), (hi, y)], BAR.filled())),
        )
        .map_err(e)?;
    root.present().map_err(e)?;
    Ok(())
}

/// Both figures as (`plots/<stem>.svg|png`, bytes); `name` titles them.
pub fn ic_plots(name: &str, rows: &[SubnetRow], t: &IcTotals) -> Result<Vec<(String, Vec<u8>)>> {
    super::ensure_plot_font();
    let mut out = Vec::new();
    for (stem, which) in [("availability", 0), ("stall-durations", 1)] {
        let title = if which == 0 {
            format!("{name}: stalled time per subnet")
        } else {
            format!("{name}: stall-episode durations")
        };
        let draw_svg = |root: &DrawingArea<SVGBackend, Shift>| {
            if which == 0 {
                availability(root, &title, rows)
            } else {
                durations(root, &title, t)
            }
        };
        let mut svg = String::new();
        {
            let root = SVGBackend::with_string(&mut svg, SIZE).into_drawing_area();
            draw_svg(&root)?;
        }
        let mut rgb = vec![0u8; (SIZE.0 * SIZE.1 * 3) as usize];
        {
            let root = BitMapBackend::with_buffer(&mut rgb, SIZE).into_drawing_area();
            if which == 0 {
                availability(&root, &title, rows)?;
            } else {
                durations(&root, &title, t)?;
            }
        }
        out.push((format!("plots/{stem}.svg"), svg.into_bytes()));
        out.push((format!("plots/{stem}.png"), png_bytes(&rgb, SIZE)?));
    }
    Ok(out)
}
