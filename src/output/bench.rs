//! Benchmark records: one CSV row per measured scenario, appended to `--out` (default
//! `ictwin-out/bench/cpu.csv` for `ictwin bench`, `ictwin-out/bench/gpu.csv` for `ictwin
//! bench-gpu`; the committed ones are `results/bench/`), header written when the file is new.

use super::{csv_line, host_cpu, utc_date, utc_datetime};
use crate::coarse::bench::CpuBenchRow;
use crate::gpu::bench::BenchRow;
use anyhow::{Context, Result};
use std::io::Write;
use std::path::Path;

/// Header of `results/bench/cpu.csv`.
pub const CPU_BENCH_HEADER: &str = "date,cpu,threads,scenario,replicas,rounds,philox_words_per_round,model_replica_rounds_per_s,philox_only_replica_rounds_per_s,ratio";

/// Header of `results/bench/gpu.csv`.
pub const GPU_BENCH_HEADER: &str = "date_utc,device,backend,device_type,driver,scenario,nodes,replicas,rounds,model_s,replica_rounds_per_s,philox_blocks_per_replica_round,philox_only_s,philox_only_replica_rounds_per_s,ratio_to_philox_only,command";

/// Header of `ic.csv` (`ictwin bench-ic`).
pub const IC_BENCH_HEADER: &str = "date,cpu,threads,topology,ic_years,events_per_ic_year,philox_blocks_per_ic_year,ic_years_per_s,philox_only_ic_years_per_s,ratio";

/// An `ic.csv` row: today's date, this host's CPU, `threads` workers, the topology, the
/// measurement.
pub fn ic_bench_record(r: &crate::ic::bench::IcBenchRow, topology: &str, threads: usize) -> String {
    csv_line(&[
        utc_date(),
        host_cpu(),
        threads.to_string(),
        topology.to_string(),
        format!("{:.0}", r.ic_years),
        format!("{:.1}", r.events_per_ic_year),
        format!("{:.1}", r.blocks_per_ic_year),
        format!("{:.0}", r.ic_years_per_s),
        format!("{:.0}", r.philox_only_ic_years_per_s),
        format!("{:.4}", r.ic_years_per_s / r.philox_only_ic_years_per_s),
    ])
}

/// A `cpu.csv` row: today's date, this host's CPU, `threads` workers, the measurement.
pub fn cpu_bench_record(r: &CpuBenchRow, threads: usize) -> String {
    csv_line(&[
        utc_date(),
        host_cpu(),
        threads.to_string(),
        r.scenario.clone(),
        r.replicas.to_string(),
        r.rounds.to_string(),
        format!("{:.1}", r.philox_words_per_round),
        format!("{:.0}", r.model_replica_rounds_per_s),
        format!("{:.0}", r.philox_only_replica_rounds_per_s),
        format!("{:.4}", r.ratio()),
    ])
}

/// A `gpu.csv` row: the time (UTC), the adapter, the measurement and the command line.
pub fn gpu_bench_record(r: &BenchRow, adapter: &wgpu::AdapterInfo, command: &str) -> String {
    csv_line(&[
        utc_datetime(),
        adapter.name.clone(),
        format!("{:?}", adapter.backend),
        format!("{:?}", adapter.device_type),
        format!("{} {}", adapter.driver, adapter.driver_info).trim().to_string(),
        r.scenario.clone(),
        r.nodes.to_string(),
        r.replicas.to_string(),
        r.rounds.to_string(),
        format!("{:.3}", r.model_s),
        format!("{:.0}", r.replica_rounds_per_s),
        format!("{:.3}", r.philox_blocks_per_replica_round),
        format!("{:.3}", r.philox_only_s),
        format!("{:.0}", r.philox_only_replica_rounds_per_s),
        format!("{:.4}", r.ratio),
        command.to_string(),
    ])
}

/// Appends `records` (CSV lines without newline) to `path`, creating its directory, and the
/// file with `header` first when it does not exist yet.
pub fn append_csv(path: &Path, header: &str, records: &[String]) -> Result<()> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    }
    let mut out = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .with_context(|| format!("{}: cannot open", path.display()))?;
    let new = out.metadata().map(|m| m.len() == 0).unwrap_or(false);
    let mut text = String::new();
    if new {
        text += header;
        text.push('\n');
    }
    for r in records {
        text += r;
        text.push('\n');
    }
    // One write: records are appended whole.
    out.write_all(text.as_bytes())
        .with_context(|| format!("cannot append to {}", path.display()))
}

/// Checks, before a benchmark runs, that [`append_csv`] can write `path`: an existing file is
/// opened for appending (and left unchanged); otherwise its directory is created and a file
/// created in it and removed again.
pub fn check_appendable(path: &Path) -> Result<()> {
    if path.is_dir() {
        anyhow::bail!(
            "--out {}: is a directory; name the CSV file to append to",
            path.display()
        );
    }
    if path.exists() {
        std::fs::OpenOptions::new()
            .append(true)
            .open(path)
            .with_context(|| format!("{}: cannot append", path.display()))?;
        return Ok(());
    }
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    }
    std::fs::File::create(path).with_context(|| format!("{}: cannot create", path.display()))?;
    std::fs::remove_file(path).with_context(|| format!("{}: cannot remove", path.display()))
}
