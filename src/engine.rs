//! Choosing where the coarse model runs.

use crate::coarse::{run_cpu, Prepared};
use crate::progress::Progress;
use anyhow::Result;
use std::sync::atomic::AtomicBool;
use std::time::Instant;

/// `--engine`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum EngineChoice {
    /// A GPU adapter when there is one, else the CPU engine.
    Auto,
    /// The CPU twin of the kernels.
    Cpu,
}

/// The aggregates of a coarse run and where it ran.
pub struct Outcome {
    pub agg: Vec<u64>,
    /// `cpu` or `gpu`.
    pub engine: &'static str,
    /// The device (adapter name or CPU threads).
    pub device: String,
    pub wall_s: f64,
}

/// Runs a prepared coarse scenario on the chosen engine.
pub fn run_coarse(prep: &Prepared, choice: EngineChoice, progress: &Progress, stop: &AtomicBool) -> Result<Outcome> {
    match choice {
        EngineChoice::Auto | EngineChoice::Cpu => {
            if choice == EngineChoice::Auto {
                eprintln!("engine: cpu (this build has no GPU engine)");
            }
            let t0 = Instant::now();
            let agg = run_cpu(prep, &|done| progress.set(done), stop)?;
            Ok(Outcome {
                agg,
                engine: "cpu",
                device: format!("cpu x{} threads", rayon::current_num_threads()),
                wall_s: t0.elapsed().as_secs_f64(),
            })
        }
    }
}
