//! `ictwin bench-gpu`: replica-rounds per second of the GPU engine, and the ratio to a
//! shader that only draws the same number of Philox blocks (how close the model kernel is
//! to the RNG-bound limit). A benchmark, not a test: it asserts nothing about speed.

use super::{Gpu, RunOptions};
use crate::progress::stop_flag;
use anyhow::{bail, Context, Result};
use bytemuck::{Pod, Zeroable};
use std::io::Write;
use std::path::PathBuf;
use std::time::Instant;

/// Uniforms of `shaders/philox_only.wgsl` (`BenchParams` there).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Pod, Zeroable)]
pub struct PhiloxOnlyParams {
    pub replicas: u32,
    pub replica_offset: u32,
    /// Philox blocks per invocation.
    pub blocks: u32,
    pub seed_lo: u32,
    pub seed_hi: u32,
    pub reserved: [u32; 3],
}

/// Options of `ictwin bench-gpu`.
#[derive(Clone, Debug, clap::Args)]
pub struct BenchArgs {
    /// Scenario files (default: experiments/ic-app-13.toml and experiments/ic-nns-40.toml).
    pub scenarios: Vec<PathBuf>,
    /// Replicas per measurement.
    #[arg(long, default_value_t = 200_000)]
    pub replicas: u64,
    /// Round steps per replica.
    #[arg(long, default_value_t = 100)]
    pub rounds: u64,
    /// Replicas of the (slower) run that counts the Philox blocks the model draws.
    #[arg(long, default_value_t = 16_384)]
    pub count_replicas: u64,
    /// CSV file one row per scenario is appended to (header written when new).
    #[arg(long, default_value = "results/bench/gpu.csv")]
    pub out: PathBuf,
}

/// One benchmark measurement.
#[derive(Clone, Debug)]
pub struct BenchRow {
    pub scenario: String,
    pub nodes: u32,
    pub replicas: u64,
    pub rounds: u64,
    pub model_s: f64,
    pub replica_rounds_per_s: f64,
    pub philox_blocks_per_replica_round: f64,
    pub philox_only_s: f64,
    pub philox_only_replica_rounds_per_s: f64,
    /// Model rate / Philox-only rate (1 = the model costs no more than drawing its words).
    pub ratio: f64,
}

/// Measures one scenario.
pub fn bench_scenario(gpu: &Gpu, s: &crate::scenario::Scenario, count_replicas: u64) -> Result<BenchRow> {
    let stop = stop_flag();
    let mut counted = s.clone();
    counted.run.replicas = count_replicas.clamp(1, s.run.replicas);
    let prep_count = crate::coarse::prepare(&counted)?;
    let c = gpu.run_with(
        &prep_count,
        RunOptions {
            count_blocks: true,
            ..Default::default()
        },
        &|_| {},
        stop,
    )?;
    let blocks = c.philox_blocks.unwrap_or(0) as f64 / (counted.run.replicas as f64 * counted.run.rounds as f64);
    let prep = crate::coarse::prepare(s)?;
    // Warm-up (compiles the pipeline), then the timed run.
    let mut warm = s.clone();
    warm.run.replicas = 64;
    gpu.run(&crate::coarse::prepare(&warm)?, &|_| {}, stop)?;
    let t0 = Instant::now();
    gpu.run(&prep, &|_| {}, stop)?;
    let model_s = t0.elapsed().as_secs_f64();
    let rr = s.run.replicas as f64 * s.run.rounds as f64;
    let per_replica = (blocks * s.run.rounds as f64).round().max(1.0) as u32;
    let philox_s = gpu
        .time_philox_only(s.run.replicas as u32, per_replica, s.run.seed)?
        .as_secs_f64();
    Ok(BenchRow {
        scenario: s.name.clone(),
        nodes: s.subnet.nodes,
        replicas: s.run.replicas,
        rounds: s.run.rounds,
        model_s,
        replica_rounds_per_s: rr / model_s,
        philox_blocks_per_replica_round: blocks,
        philox_only_s: philox_s,
        philox_only_replica_rounds_per_s: rr / philox_s,
        ratio: philox_s / model_s,
    })
}

const CSV_HEADER: &str = "date_utc,device,backend,device_type,driver,scenario,nodes,replicas,rounds,model_s,replica_rounds_per_s,philox_blocks_per_replica_round,philox_only_s,philox_only_replica_rounds_per_s,ratio_to_philox_only,command";

fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

/// `ictwin bench-gpu`.
pub fn cmd_bench(args: &BenchArgs) -> Result<()> {
    let gpu = Gpu::open(true).context("--engine gpu benchmark")?;
    eprintln!("device: {}", gpu.describe());
    let mut files = args.scenarios.clone();
    if files.is_empty() {
        for f in ["experiments/ic-app-13.toml", "experiments/ic-nns-40.toml"] {
            if std::path::Path::new(f).exists() {
                files.push(f.into());
            }
        }
    }
    if files.is_empty() {
        bail!("no scenario given and none of the default ones found");
    }
    let command = std::env::args().collect::<Vec<_>>().join(" ");
    println!(
        "{:<24} {:>5} {:>16} {:>10} {:>18} {:>22} {:>8}",
        "scenario", "nodes", "replica-rounds", "model s", "replica-rounds/s", "philox-only rr/s", "ratio"
    );
    for f in &files {
        let mut s = crate::scenario::load(Some(f))?.scenario;
        s.run.replicas = args.replicas;
        s.run.rounds = args.rounds;
        if s.run.replicas == 0
            || s.run.replicas > u32::MAX as u64
            || s.run.rounds == 0
            || s.run.rounds > u32::MAX as u64
        {
            bail!("--replicas and --rounds must be between 1 and {}", u32::MAX);
        }
        let r = bench_scenario(&gpu, &s, args.count_replicas)?;
        println!(
            "{:<24} {:>5} {:>16} {:>10.3} {:>18.4e} {:>22.4e} {:>8.3}",
            r.scenario,
            r.nodes,
            r.replicas * r.rounds,
            r.model_s,
            r.replica_rounds_per_s,
            r.philox_only_replica_rounds_per_s,
            r.ratio
        );
        {
            let path = &args.out;
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
                writeln!(out, "{CSV_HEADER}")?;
            }
            let i = &gpu.info;
            let fields = [
                crate::output::utc_datetime(),
                i.name.clone(),
                format!("{:?}", i.backend),
                format!("{:?}", i.device_type),
                format!("{} {}", i.driver, i.driver_info).trim().to_string(),
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
                command.clone(),
            ];
            writeln!(
                out,
                "{}",
                fields.iter().map(|f| csv_field(f)).collect::<Vec<_>>().join(",")
            )?;
        }
    }
    Ok(())
}

/// Options of `ictwin devices`.
#[derive(Clone, Debug, clap::Args)]
pub struct DevicesArgs {}

/// `ictwin devices`: the adapters wgpu sees and the limits that matter to the engine.
pub fn cmd_devices(_args: &DevicesArgs) -> Result<()> {
    let all = super::adapters();
    println!("backends searched: {:?} (WGPU_BACKEND overrides)", super::backends());
    if all.is_empty() {
        println!("no adapters found; `--engine auto` uses the CPU engine, `--engine gpu` fails");
        return Ok(());
    }
    for (k, a) in all.iter().enumerate() {
        let i = a.get_info();
        let l = a.limits();
        let f = a.features();
        println!("[{k}] {}", i.name);
        println!(
            "    backend {:?}, type {:?}, vendor {:#06x}, device {:#06x}",
            i.backend, i.device_type, i.vendor, i.device
        );
        println!("    driver {} {}", i.driver, i.driver_info);
        println!(
            "    shader i64 {}, i64 atomics {}",
            if f.contains(wgpu::Features::SHADER_INT64) {
                "yes"
            } else {
                "no"
            },
            if f.contains(wgpu::Features::SHADER_INT64_ATOMIC_ALL_OPS) {
                "yes"
            } else {
                "no"
            },
        );
        println!(
            "    max workgroups/dim {}, max invocations/workgroup {}, workgroup memory {} B",
            l.max_compute_workgroups_per_dimension,
            l.max_compute_invocations_per_workgroup,
            l.max_compute_workgroup_storage_size
        );
        println!(
            "    max buffer {} B, max storage binding {} B",
            l.max_buffer_size, l.max_storage_buffer_binding_size
        );
        match super::unusable_reason(a) {
            Some(why) => println!("    ictwin: unusable ({why})"),
            None => println!(
                "    ictwin: usable{}",
                if i.device_type == wgpu::DeviceType::Cpu {
                    " with --engine gpu (software: --engine auto prefers the CPU engine)"
                } else {
                    ""
                }
            ),
        }
    }
    for (flag, soft) in [("--engine auto", false), ("--engine gpu", true)] {
        match super::pick_adapter(soft) {
            Ok(a) => println!("{flag}: {}", super::describe(&a.get_info())),
            Err(e) => println!(
                "{flag}: {}",
                if soft {
                    format!("fails: {e}")
                } else {
                    format!("CPU engine ({e})")
                }
            ),
        }
    }
    Ok(())
}
