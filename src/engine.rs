//! Choosing where the coarse model runs.

use crate::coarse::{run_cpu, Prepared};
use crate::gpu::Gpu;
use crate::progress::Progress;
use anyhow::{Context, Result};
use std::sync::atomic::AtomicBool;
use std::time::Instant;

/// `--engine`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum EngineChoice {
    /// A GPU adapter when there is one (hardware, with 64-bit shader integers), else the CPU
    /// engine; says which on stderr.
    Auto,
    /// The WGSL engine on a GPU adapter (software ones such as lavapipe included); fails when
    /// there is none.
    Gpu,
    /// The CPU twin of the kernels.
    Cpu,
}

/// The aggregates of a coarse run and where it ran.
pub struct Outcome {
    /// Aggregate array in the layout of `ictwin_kernels::agg`.
    pub agg: Vec<u64>,
    /// `cpu` or `gpu`.
    pub engine: &'static str,
    /// The device (adapter name or CPU threads).
    pub device: String,
    /// Wall-clock time of the run, s.
    pub wall_s: f64,
}

fn run_on_cpu(prep: &Prepared, progress: &Progress, stop: &AtomicBool) -> Result<Outcome> {
    let t0 = Instant::now();
    let agg = run_cpu(prep, &|done| progress.set(done), stop)?;
    Ok(Outcome {
        agg,
        engine: "cpu",
        device: format!("cpu x{} threads", rayon::current_num_threads()),
        wall_s: t0.elapsed().as_secs_f64(),
    })
}

fn run_on_gpu(gpu: &Gpu, prep: &Prepared, progress: &Progress, stop: &AtomicBool) -> Result<Outcome> {
    let t0 = Instant::now();
    let agg = gpu
        .run(prep, &|done| progress.set(done), stop)
        .with_context(|| format!("GPU engine on {}", gpu.describe()))?;
    Ok(Outcome {
        agg,
        engine: "gpu",
        device: gpu.describe(),
        wall_s: t0.elapsed().as_secs_f64(),
    })
}

/// `Outcome::engine` of a run with no replicas (an empty shard): nothing ran anywhere.
pub const NO_ENGINE: &str = "none";

/// Runs a prepared coarse scenario ([`Prepared::replica_range`]) on the chosen engine. An
/// empty range (a shard beyond the replica count) runs nothing: zero aggregates, engine
/// [`NO_ENGINE`].
pub fn run_coarse(prep: &Prepared, choice: EngineChoice, progress: &Progress, stop: &AtomicBool) -> Result<Outcome> {
    if prep.replica_range().is_empty() {
        return Ok(Outcome {
            agg: vec![0; ictwin_kernels::agg::AGG_LEN as usize],
            engine: NO_ENGINE,
            device: "none (no replicas to run)".into(),
            wall_s: 0.0,
        });
    }
    if choice != EngineChoice::Cpu {
        // A misspelt WGPU_BACKEND is an error, not a silent fallback to the CPU engine.
        crate::gpu::backends().map_err(anyhow::Error::msg)?;
    }
    match choice {
        EngineChoice::Cpu => run_on_cpu(prep, progress, stop),
        EngineChoice::Gpu => {
            let gpu = Gpu::open(true).context("--engine gpu")?;
            eprintln!("engine: gpu on {}", gpu.describe());
            run_on_gpu(&gpu, prep, progress, stop)
        }
        EngineChoice::Auto => match crate::gpu::pick_adapter(false) {
            Ok(adapter) => {
                let gpu = Gpu::from_adapter(adapter)?;
                eprintln!("engine: gpu on {} (--engine auto)", gpu.describe());
                run_on_gpu(&gpu, prep, progress, stop)
            }
            Err(why) => {
                eprintln!("engine: cpu (--engine auto: {why})");
                run_on_cpu(prep, progress, stop)
            }
        },
    }
}
