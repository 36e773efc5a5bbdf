//! Every file and table ictwin writes: the run directory (`summary.csv`, `histograms.csv`,
//! `fine.csv`, `manifest.json`), the validation report and plots, the calibration file and
//! its fit report, the benchmark CSVs; and the printed tables that mirror them.
//!
//! - [`atomic`]: output directories opened (created, locked, checked writable) before a run
//!   and written all or nothing after it; [`run_dir`]: a run's files with its manifest;
//! - [`summary`]: `summary.csv`, `histograms.csv` and the printed run table;
//! - [`shard`]: the partial result of `run --shard` (`shard.json`); [`merge`]: shards back
//!   into the whole run; [`slurm`]: the Slurm scripts of `ictwin slurm`;
//! - [`fine`]: `fine.csv`; [`validation`]: `validation.csv`, the verdict table, the CDF plot;
//!   [`validation_random`]: `scenarios.csv` and `summary.md` of `validate --random`;
//! - [`sweep`]: `sweep.csv` and the sweep manifest, read back from the points' run directories;
//!   [`sweep_plot`]: the sweep's SVG and PNG plots;
//! - [`calibration`]: the calibration file and `<stem>-fit.csv`; [`bench`]: benchmark CSVs;
//! - [`ic`]: `availability.csv`, `ic.csv`, `stall-durations.csv` of `ictwin ic`; [`ic_plot`]: its plots;
//!   [`ic_predict`]: its real-subnet prediction (`subnets.csv`, `prediction.csv`, scatter plot);
//! - this module: number formatting and descriptions of the host and build.

pub mod atomic;
pub mod bench;
pub mod calibration;
pub mod fine;
pub mod ic;
pub mod ic_plot;
pub mod ic_predict;
pub mod merge;
pub mod run_dir;
pub mod shard;
pub mod slurm;
pub mod summary;
pub mod sweep;
pub mod sweep_plot;
pub mod validation;
pub mod validation_random;

pub use atomic::OutDir;
pub use run_dir::{write_run_dir, Manifest};
pub use summary::{
    histograms_csv, render_table, summary_csv, summary_row, SummaryRow, SUMMARY_COLUMNS, TIMING_COLUMNS,
};

/// Formats a float for CSV: shortest round-trip representation, `nan` when undefined.
pub fn fmt_f(x: f64) -> String {
    if x.is_nan() {
        "nan".into()
    } else if x.is_infinite() {
        if x > 0.0 { "inf" } else { "-inf" }.into()
    } else {
        format!("{x}")
    }
}

/// One CSV line (no newline): fields joined by commas, quoted when they hold a comma, quote or
/// newline.
pub fn csv_line(fields: &[String]) -> String {
    fields.iter().map(|f| csv_field(f)).collect::<Vec<_>>().join(",")
}

fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

/// DejaVu Sans, embedded (`assets/fonts/`, Bitstream Vera license) so that plots render
/// text on machines without system fonts.
const PLOT_FONT: &[u8] = include_bytes!("../../assets/fonts/DejaVuSans.ttf");

/// Registers the embedded font as plotters' `sans-serif` (once per process); every plot
/// calls it first (plotters' `ab_glyph` text has no other font).
pub fn ensure_plot_font() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        if plotters::style::register_font("sans-serif", plotters::style::FontStyle::Normal, PLOT_FONT).is_err() {
            eprintln!("warning: the embedded plot font did not load; plots may lack text");
        }
    });
}

/// A description of this host for manifests.
pub fn host_info() -> serde_json::Value {
    serde_json::json!({
        "os": std::env::consts::OS,
        "arch": std::env::consts::ARCH,
        "cpus": std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1),
        "hostname": std::fs::read_to_string("/etc/hostname").map(|s| s.trim().to_string()).unwrap_or_default(),
    })
}

/// Build information: crate version and git commit (when built from a git checkout).
pub fn build_info() -> serde_json::Value {
    serde_json::json!({
        "version": env!("CARGO_PKG_VERSION"),
        "git_commit": option_env!("ICTWIN_GIT_COMMIT").unwrap_or("unknown"),
    })
}

/// Current UTC time as `YYYY-MM-DDTHH:MM:SSZ` (civil-from-days, Howard Hinnant), for records.
pub fn utc_datetime() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let z = (secs / 86_400) as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + (m <= 2) as i64;
    let t = secs % 86_400;
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        t / 3600,
        (t / 60) % 60,
        t % 60
    )
}

/// Current UTC date as `YYYY-MM-DD`.
pub fn utc_date() -> String {
    utc_datetime()[..10].to_string()
}

/// The CPU model name (Linux), for benchmark records.
pub fn host_cpu() -> String {
    std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|t| {
            t.lines()
                .find(|l| l.starts_with("model name"))
                .map(|l| l.split(':').nth(1).unwrap_or("").trim().to_string())
        })
        .unwrap_or_else(|| std::env::consts::ARCH.to_string())
        .replace(',', " ")
}
