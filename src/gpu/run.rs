//! The model run: a prepared scenario's replicas in chunks of workgroups, each chunk's round
//! steps in slices of at most `MAX_SLICE_STEPS` per dispatch (fewer on software adapters,
//! whose loop budget each replica tracks itself), every dispatch adding into one aggregate
//! buffer that is read back once at the end.

use super::device::{Gpu, Kernel};
use super::layout::{state_words, Slice};
use super::shaders::{self, node_class, Accumulation, MAX_SLICE_STEPS, WORKGROUP_HIST_BYTES, WORKGROUP_SIZE};
use crate::coarse::Prepared;
use anyhow::{bail, Result};
use ictwin_kernels::agg::{batch_index, AGG_LEN, BATCHES, F_NOTARIZED, F_STALLED};
use ictwin_kernels::params::Params;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

/// What a GPU run returns.
#[derive(Clone, Debug)]
pub struct GpuRun {
    /// The aggregates (layout of `ictwin_kernels::agg`), equal to the CPU engine's.
    pub agg: Vec<u64>,
    /// Philox blocks the model drew, counted as `ictwin_kernels::model::simulate_replica`
    /// counts them (the CPU engine's count for the same run).
    pub philox_blocks: u64,
    /// Chunks of replicas (one progress report each).
    pub chunks: u32,
    /// Dispatches submitted (one per slice of steps per chunk).
    pub dispatches: u32,
}

/// Knobs of a GPU run (the defaults are what `ictwin run` uses).
#[derive(Clone, Copy, Debug, Default)]
pub struct RunOptions {
    /// Histogram accumulation; `None`: workgroup memory when possible.
    pub accumulation: Option<Accumulation>,
    /// Upper bound on workgroups per dispatch (default: the adapter's per-dimension limit).
    pub max_workgroups: Option<u32>,
    /// Most steps per dispatch (default: `MAX_SLICE_STEPS`).
    pub slice_steps: Option<u32>,
}

/// Loop iterations one invocation may run per dispatch on Mesa's llvmpipe/lavapipe, which
/// ends a shader's loops after 65,535 iterations in total (`LP_MAX_TGSI_LOOP_ITERATIONS`,
/// shared by every loop of the inlined shader and by the 4 or 8 invocations it runs as one
/// SIMD batch, whose loops run as long as any of them needs).
const SOFTWARE_LOOP_LIMIT: u32 = 65_535;

/// The loop budget each replica steps within on software adapters ([`Slice::fuel`]): a
/// twelfth of the limit, as the invocations of a batch diverge (a loop costs the batch the
/// most iterations any invocation needs, up to the sum over its 8 invocations); the rest is
/// margin for the costliest step and the per-dispatch setup. A sixth sufficed before
/// equivocation proofs; with them, heights led by an equivocator take other paths (proof
/// relays, higher ranks) than their neighbours' in the batch, and a sixth overran the limit
/// on `experiments/validation/v-app-13-equivocating.toml` with 32 replicas or more. A
/// dispatch that still reaches the limit fails the run.
const SOFTWARE_FUEL: u32 = SOFTWARE_LOOP_LIMIT / 12;

/// Largest subnet the model kernel runs on software adapters: one round step of a larger one
/// (quorum arrivals and relays cost about n^2 / 4 loop iterations each) may exceed the loop
/// limit on its own.
pub const SOFTWARE_MAX_NODES: u32 = 96;

/// Workgroups per dispatch on software adapters: llvmpipe allocates the invocations' private
/// memory for the whole dispatch.
const SOFTWARE_MAX_WORKGROUPS: u32 = 512;

/// Seconds a chunk should take (progress and Ctrl-C granularity).
const CHUNK_TARGET_S: f64 = 0.5;
/// Chunk duration on software adapters (lavapipe), s: every dispatch costs time and (Mesa
/// 22.3) a few MB that are never returned, so fewer, larger dispatches.
const SOFTWARE_CHUNK_TARGET_S: f64 = 5.0;
/// Bytes of replica state one chunk may hold.
const STATE_BUDGET_BYTES: u64 = 256 << 20;

/// How a run is cut into dispatches.
struct Plan {
    /// Most steps per dispatch, in `1..=MAX_SLICE_STEPS`.
    slice_steps: u32,
    /// Loop budget per invocation and dispatch ([`Slice::fuel`]).
    fuel: u32,
    /// u32 words of state per replica ([`Slice::state_words`]).
    state_words: u32,
    /// Most workgroups per dispatch.
    max_wg: u32,
    /// Seconds a chunk should take.
    chunk_target_s: f64,
}

/// The model kernel's bindings (in binding order) that the host writes or reads.
struct ModelBuffers {
    params: wgpu::Buffer,
    slice: wgpu::Buffer,
    agg: wgpu::Buffer,
    /// u32 words of `agg`: AGG_LEN counters + the Philox block count, as (lo, hi) pairs.
    agg_words: usize,
    /// [replicas not finished after the last dispatch, loop limit reached, most loop
    /// iterations one invocation counted in a dispatch].
    flags: wgpu::Buffer,
}

impl Gpu {
    /// Whether the device is a software (CPU) adapter such as lavapipe.
    fn is_software(&self) -> bool {
        self.info.device_type == wgpu::DeviceType::Cpu
    }

    /// The histogram accumulation `ictwin run` uses: workgroup memory when there is enough.
    pub fn default_accumulation(&self) -> Accumulation {
        match std::env::var("ICTWIN_GPU_ACCUMULATION").as_deref() {
            Ok("global") => return Accumulation::Global,
            Ok("workgroup") => return Accumulation::Workgroup,
            _ => {}
        }
        if self.limits.max_compute_workgroup_storage_size >= WORKGROUP_HIST_BYTES {
            Accumulation::Workgroup
        } else {
            Accumulation::Global
        }
    }

    /// Largest subnet the model kernel runs on this adapter.
    pub fn max_nodes(&self) -> u32 {
        if self.is_software() {
            SOFTWARE_MAX_NODES
        } else {
            ictwin_kernels::params::MAX_NODES
        }
    }

    /// Runs the replicas of a prepared scenario ([`Prepared::replica_range`]: all of them, or
    /// a shard's); `progress` receives the number of finished
    /// replicas after each chunk; `stop` (Ctrl-C) aborts between chunks.
    pub fn run(&self, prep: &Prepared, progress: &dyn Fn(u64), stop: &AtomicBool) -> Result<Vec<u64>> {
        Ok(self.run_with(prep, RunOptions::default(), progress, stop)?.agg)
    }

    /// [`Gpu::run`] with explicit options.
    pub fn run_with(
        &self,
        prep: &Prepared,
        opts: RunOptions,
        progress: &dyn Fn(u64),
        stop: &AtomicBool,
    ) -> Result<GpuRun> {
        let p = prep.params;
        if p.replicas <= p.replica_offset || p.rounds == 0 {
            bail!("a GPU run needs at least one replica and one round");
        }
        if p.nodes > self.max_nodes() {
            bail!(
                "{} nodes exceed what the GPU engine runs on the software adapter {} ({} nodes: one round \
                 step would exceed its loop limit); use --engine cpu",
                p.nodes,
                self.describe(),
                self.max_nodes()
            );
        }
        let acc = opts.accumulation.unwrap_or_else(|| self.default_accumulation());
        if acc == Accumulation::Workgroup && self.limits.max_compute_workgroup_storage_size < WORKGROUP_HIST_BYTES {
            bail!(
                "workgroup histograms need {WORKGROUP_HIST_BYTES} bytes of workgroup memory, the adapter has {}",
                self.limits.max_compute_workgroup_storage_size
            );
        }
        let class = node_class(p.nodes);
        let name = format!(
            "model-{}-{}",
            match acc {
                Accumulation::Workgroup => "workgroup",
                Accumulation::Global => "global",
            },
            class.node_cap
        );
        let pipeline = self.pipeline(&name, || shaders::model_program(acc, class), "main")?;
        let plan = self.plan(&p, &opts);
        let (kernel, bufs) = self.model_kernel(pipeline, prep, &plan)?;
        let (chunks, dispatches) = self.run_chunks(&p, &plan, &kernel, &bufs, progress, stop)?;
        if stop.load(Ordering::Relaxed) {
            bail!("interrupted");
        }
        let mut agg = self.read_u64(&bufs.agg, bufs.agg_words)?;
        let blocks = agg.pop().unwrap_or(0);
        self.check_complete(&p, &agg)?;
        Ok(GpuRun {
            agg,
            philox_blocks: blocks,
            chunks,
            dispatches,
        })
    }

    /// Slices, loop budget, dispatch size bound and chunk duration for `p` on this adapter.
    fn plan(&self, p: &Params, opts: &RunOptions) -> Plan {
        let slice_steps = opts.slice_steps.unwrap_or(MAX_SLICE_STEPS).clamp(1, MAX_SLICE_STEPS);
        let state_words = state_words(p);
        let mut max_wg = opts
            .max_workgroups
            .unwrap_or(u32::MAX)
            .min(self.limits.max_compute_workgroups_per_dimension)
            .max(1);
        if self.is_software() {
            max_wg = max_wg.min(SOFTWARE_MAX_WORKGROUPS);
        }
        // State for one chunk, within the budget and the adapter's binding limits.
        let budget = STATE_BUDGET_BYTES
            .min(self.limits.max_storage_buffer_binding_size)
            .min(self.limits.max_buffer_size);
        max_wg = max_wg.min((budget / state_bytes_per_workgroup(state_words)).max(1) as u32);
        let (fuel, default_target) = if self.is_software() {
            (SOFTWARE_FUEL, SOFTWARE_CHUNK_TARGET_S)
        } else {
            (u32::MAX, CHUNK_TARGET_S)
        };
        let chunk_target_s = std::env::var("ICTWIN_GPU_CHUNK_S")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(default_target);
        Plan {
            slice_steps,
            fuel,
            state_words,
            max_wg,
            chunk_target_s,
        }
    }

    /// Allocates the model's buffers and binds them to `pipeline`.
    fn model_kernel(
        &self,
        pipeline: std::sync::Arc<wgpu::ComputePipeline>,
        prep: &Prepared,
        plan: &Plan,
    ) -> Result<(Kernel, ModelBuffers)> {
        let storage = wgpu::BufferUsages::STORAGE;
        let params = self.storage_struct::<Params>("params")?;
        let slice = self.storage_struct::<Slice>("slice")?;
        let tables = self.buffer_init("tables", bytemuck::cast_slice(&prep.tables), storage)?;
        let agg_words = 2 * (AGG_LEN as usize + 1);
        let agg = self.buffer(
            "aggregates",
            (agg_words * 4) as u64,
            storage | wgpu::BufferUsages::COPY_SRC,
        )?;
        let state = self.buffer(
            "replica state",
            plan.max_wg as u64 * state_bytes_per_workgroup(plan.state_words),
            storage,
        )?;
        let flags = self.buffer(
            "flags",
            12,
            storage | wgpu::BufferUsages::COPY_SRC | wgpu::BufferUsages::COPY_DST,
        )?;
        let kernel = self.kernel(
            "model",
            pipeline,
            &[
                params.as_entire_binding(),
                tables.as_entire_binding(),
                agg.as_entire_binding(),
                slice.as_entire_binding(),
                state.as_entire_binding(),
                flags.as_entire_binding(),
            ],
        )?;
        Ok((
            kernel,
            ModelBuffers {
                params,
                slice,
                agg,
                agg_words,
                flags,
            },
        ))
    }

    /// Dispatches every chunk of replicas, sizing chunks to the plan's target duration.
    /// Returns (chunks, dispatches).
    fn run_chunks(
        &self,
        p0: &Params,
        plan: &Plan,
        kernel: &Kernel,
        bufs: &ModelBuffers,
        progress: &dyn Fn(u64),
        stop: &AtomicBool,
    ) -> Result<(u32, u32)> {
        // Start small (about 2^22 replica-rounds), then size chunks to the target duration.
        let mut wgs = ((1u64 << 22) / (p0.rounds as u64 * WORKGROUP_SIZE as u64)).clamp(1, plan.max_wg as u64) as u32;
        // The replica ids run are `replica_offset..replicas` (a shard's range, see `Params`).
        let first = p0.replica_offset;
        let mut offset = first;
        let (mut chunks, mut dispatches) = (0u32, 0u32);
        while offset < p0.replicas {
            if stop.load(Ordering::Relaxed) {
                bail!("interrupted");
            }
            let n = ((wgs as u64) * WORKGROUP_SIZE as u64).min((p0.replicas - offset) as u64) as u32;
            let groups = n.div_ceil(WORKGROUP_SIZE);
            let p = Params {
                replica_offset: offset,
                ..*p0
            };
            self.write(&bufs.params, &p);
            let t0 = Instant::now();
            dispatches += self.run_chunk(p0.rounds, plan, kernel, bufs, groups, stop)?;
            let dt = t0.elapsed().as_secs_f64().max(1e-6);
            offset += n;
            chunks += 1;
            progress((offset - first) as u64);
            // Next chunk: aim at the target duration, growing at most 4x at a time.
            let scaled = (groups as f64 * plan.chunk_target_s / dt).min(groups as f64 * 4.0);
            wgs = (scaled as u64).clamp(1, plan.max_wg as u64) as u32;
        }
        Ok((chunks, dispatches))
    }

    /// Runs one chunk's replicas to the end: rounds of dispatches (at first as many as the
    /// steps need at `slice_steps` each, then more while replicas that ran out of loop budget
    /// are left), waiting after each round; stops early on `stop`. Returns the dispatches.
    fn run_chunk(
        &self,
        rounds: u32,
        plan: &Plan,
        kernel: &Kernel,
        bufs: &ModelBuffers,
        groups: u32,
        stop: &AtomicBool,
    ) -> Result<u32> {
        let mut dispatches = 0u32;
        let mut batch = rounds.div_ceil(plan.slice_steps);
        loop {
            for _ in 0..batch {
                let slice = Slice {
                    first: (dispatches == 0) as u32,
                    steps: plan.slice_steps,
                    fuel: plan.fuel,
                    state_words: plan.state_words,
                };
                self.write(&bufs.slice, &slice);
                self.write(&bufs.flags, &0u32);
                self.dispatch(kernel, groups);
                dispatches += 1;
                if stop.load(Ordering::Relaxed) {
                    return Ok(dispatches);
                }
            }
            self.wait("the model kernel")?;
            let flags = self.read_u32(&bufs.flags, 3)?;
            if flags[1] != 0 {
                bail!(
                    "the driver's loop limit cut a dispatch of the model kernel short, so its results are \
                     void (an invocation counted up to {} loop iterations in a dispatch; {}); use --engine cpu",
                    flags[2],
                    self.describe()
                );
            }
            if flags[0] == 0 {
                return Ok(dispatches);
            }
            // Replicas left that ran out of loop budget: another round, half as long as so far.
            batch = (dispatches / 2).clamp(1, 64);
        }
    }

    /// Reads back `words` u32 as u64 counters stored as (lo, hi) pairs.
    fn read_u64(&self, buf: &wgpu::Buffer, words: usize) -> Result<Vec<u64>> {
        let w = self.read_u32(buf, words)?;
        Ok(w.chunks_exact(2).map(|w| (w[1] as u64) << 32 | w[0] as u64).collect())
    }

    /// Every step is either notarized or stalled: anything else means the driver did not run
    /// the kernel to completion.
    fn check_complete(&self, p: &Params, agg: &[u64]) -> Result<()> {
        let steps: u64 = (0..BATCHES)
            .map(|b| agg[batch_index(b, F_NOTARIZED)] + agg[batch_index(b, F_STALLED)])
            .sum();
        let expected = (p.replicas - p.replica_offset) as u64 * p.rounds as u64;
        if steps != expected {
            bail!(
                "the GPU ran {steps} of {expected} replica-rounds: the driver cut the kernel short ({})",
                self.describe()
            );
        }
        Ok(())
    }
}

/// Bytes of replica state for one workgroup.
fn state_bytes_per_workgroup(state_words: u32) -> u64 {
    (state_words * WORKGROUP_SIZE * 4) as u64
}
