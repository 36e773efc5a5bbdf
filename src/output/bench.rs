//! Benchmark records: one CSV row per measured scenario, appended to `results/bench/cpu.csv`
//! (`ictwin bench`) or `results/bench/gpu.csv` (`ictwin bench-gpu`), header written when the
//! file is new.

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
    let new = !path.exists();
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).ok();
    }
    let mut out = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .with_context(|| format!("{}: cannot open", path.display()))?;
    if new {
        writeln!(out, "{header}")?;
    }
    for r in records {
        writeln!(out, "{r}")?;
    }
    Ok(())
}
