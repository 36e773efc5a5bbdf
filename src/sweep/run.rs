//! Running sweep points: the engine is chosen (and a GPU opened) once for the whole sweep,
//! with the same rule as `ictwin run --engine` ([`crate::engine`]); the fine engine is the
//! fourth choice.

use crate::coarse;
use crate::engine::EngineChoice;
use crate::fine::{self, FineOutcome};
use crate::gpu::Gpu;
use crate::scenario::Scenario;
use anyhow::{bail, Context, Result};
use std::sync::atomic::AtomicBool;
use std::time::Instant;

/// `ictwin sweep --engine`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum SweepEngine {
    /// A hardware GPU adapter when there is one, else the CPU engine (as `run --engine auto`).
    Auto,
    /// The coarse CPU engine.
    Cpu,
    /// The coarse WGSL engine on any adapter (lavapipe included).
    Gpu,
    /// The agent-based fine engine with real BLS signatures.
    Fine,
}

impl SweepEngine {
    /// The checks a point must pass on this engine.
    pub fn level(self) -> super::Level {
        if self == SweepEngine::Fine {
            super::Level::Fine
        } else {
            super::Level::Coarse
        }
    }

    /// The `engine` values a point run with this choice may record (`auto`: cpu or gpu).
    pub fn accepts(self, engine: &str) -> bool {
        match self {
            SweepEngine::Auto => engine == "cpu" || engine == "gpu",
            SweepEngine::Cpu => engine == "cpu",
            SweepEngine::Gpu => engine == "gpu",
            SweepEngine::Fine => engine == "fine",
        }
    }

    /// The name on the command line.
    pub fn name(self) -> &'static str {
        match self {
            SweepEngine::Auto => "auto",
            SweepEngine::Cpu => "cpu",
            SweepEngine::Gpu => "gpu",
            SweepEngine::Fine => "fine",
        }
    }
}

/// The engine of a sweep, opened.
pub enum Runner {
    /// Coarse CPU engine on the current rayon pool.
    Cpu,
    /// Coarse GPU engine on this adapter.
    Gpu(Box<Gpu>),
    /// Fine engine on the current rayon pool.
    Fine,
}

/// What running one point gives.
pub struct PointOutcome {
    /// Aggregate array (layout of `ictwin_kernels::agg`).
    pub agg: Vec<u64>,
    /// `cpu`, `gpu` or `fine`.
    pub engine: &'static str,
    /// Adapter name or CPU threads (coarse engines).
    pub device: Option<String>,
    /// Wall-clock time, s.
    pub wall_s: f64,
    /// The fine engine's full outcome (`fine.csv`, safety violations).
    pub fine: Option<FineOutcome>,
}

impl Runner {
    /// Opens the engine (says which on stderr for `auto` and `gpu`); `max_nodes` is the
    /// largest subnet of the sweep, refused before anything runs when the adapter cannot
    /// run it (software adapters: 96).
    pub fn open(choice: SweepEngine, max_nodes: u32) -> Result<Runner> {
        let coarse = match choice {
            SweepEngine::Fine => return Ok(Runner::Fine),
            SweepEngine::Cpu => return Ok(Runner::Cpu),
            SweepEngine::Auto => EngineChoice::Auto,
            SweepEngine::Gpu => EngineChoice::Gpu,
        };
        crate::gpu::backends().map_err(anyhow::Error::msg)?;
        let gpu = if coarse == EngineChoice::Gpu {
            Gpu::open(true).context("--engine gpu")?
        } else {
            match crate::gpu::pick_adapter(false) {
                Ok(adapter) => Gpu::from_adapter(adapter)?,
                Err(why) => {
                    eprintln!("engine: cpu (--engine auto: {why})");
                    return Ok(Runner::Cpu);
                }
            }
        };
        eprintln!("engine: gpu on {}", gpu.describe());
        if max_nodes > gpu.max_nodes() {
            bail!(
                "the sweep has points of {max_nodes} nodes; the GPU engine on {} runs at most {} (use --engine cpu)",
                gpu.describe(),
                gpu.max_nodes()
            );
        }
        Ok(Runner::Gpu(Box::new(gpu)))
    }

    /// Runs one point's scenario; `progress(done_replicas)` as replicas finish; `stop`
    /// (Ctrl-C) aborts with an error.
    pub fn run(&self, s: &Scenario, progress: &(dyn Fn(u64) + Sync), stop: &AtomicBool) -> Result<PointOutcome> {
        let t0 = Instant::now();
        let (agg, engine, device, fine) = match self {
            Runner::Cpu => {
                let prep = coarse::prepare(s)?;
                let agg = coarse::run_cpu(&prep, progress, stop)?;
                let device = format!("cpu x{} threads", rayon::current_num_threads());
                (agg, "cpu", Some(device), None)
            }
            Runner::Gpu(gpu) => {
                let prep = coarse::prepare(s)?;
                let agg = gpu
                    .run(&prep, &|d| progress(d), stop)
                    .with_context(|| format!("GPU engine on {}", gpu.describe()))?;
                (agg, "gpu", Some(gpu.describe()), None)
            }
            Runner::Fine => {
                let o = fine::run(s, None, stop, progress)?;
                (o.agg.clone(), "fine", None, Some(o))
            }
        };
        if stop.load(std::sync::atomic::Ordering::SeqCst) {
            bail!("interrupted");
        }
        Ok(PointOutcome {
            agg,
            engine,
            device,
            wall_s: fine.as_ref().map_or(t0.elapsed().as_secs_f64(), |o| o.wall_s),
            fine,
        })
    }
}
