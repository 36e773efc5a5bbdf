//! The GPU engine: the coarse model as WGSL compute shaders (`shaders/`) through wgpu.
//!
//! One invocation steps one replica through all its rounds; replicas are dispatched in
//! chunks (at most 65,535 workgroups of 64 per dispatch, sized to take about half a second
//! each, so the progress bar and Ctrl-C react), and nothing per replica lives in device
//! memory: each chunk adds into the same aggregate buffer (u64 counters as pairs of u32
//! atomics with carry), read back once at the end. The result is the exact u64 array that
//! [`crate::coarse::run_cpu`] returns.
//!
//! Backend: Vulkan unless `WGPU_BACKEND` says otherwise (the GL fallback lacks 64-bit
//! integers). Adapter: the best one with `SHADER_INT64` (discrete > integrated > virtual >
//! other > CPU/software), or the first whose name contains `ICTWIN_GPU_ADAPTER`.

pub mod bench;
pub mod shaders;

use crate::coarse::Prepared;
use anyhow::{anyhow, bail, Context, Result};
use bytemuck::{Pod, Zeroable};
use ictwin_kernels::agg::{batch_index, AGG_LEN, BATCHES, F_NOTARIZED, F_STALLED};
use ictwin_kernels::params::Params;
use shaders::{Accumulation, MAX_SLICE_STEPS, STATE_FIXED_WORDS, WORKGROUP_HIST_BYTES, WORKGROUP_SIZE};
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Environment variable selecting an adapter by (a case-insensitive part of) its name.
pub const ADAPTER_ENV: &str = "ICTWIN_GPU_ADAPTER";

/// Backends searched: Vulkan, or what `WGPU_BACKEND` names.
pub fn backends() -> wgpu::Backends {
    wgpu::Backends::VULKAN.with_env()
}

fn instance() -> wgpu::Instance {
    let mut desc = wgpu::InstanceDescriptor::new_without_display_handle();
    desc.backends = backends();
    desc.flags = wgpu::InstanceFlags::empty().with_env();
    wgpu::Instance::new(desc)
}

/// Every adapter wgpu sees on the searched backends.
pub fn adapters() -> Vec<wgpu::Adapter> {
    pollster::block_on(instance().enumerate_adapters(backends()))
}

/// Why the engine cannot use an adapter, if it cannot.
pub fn unusable_reason(a: &wgpu::Adapter) -> Option<String> {
    if !a.features().contains(wgpu::Features::SHADER_INT64) {
        return Some("no 64-bit integers in shaders (SHADER_INT64)".into());
    }
    None
}

fn type_rank(t: wgpu::DeviceType) -> u32 {
    match t {
        wgpu::DeviceType::DiscreteGpu => 0,
        wgpu::DeviceType::IntegratedGpu => 1,
        wgpu::DeviceType::VirtualGpu => 2,
        wgpu::DeviceType::Other => 3,
        wgpu::DeviceType::Cpu => 4,
    }
}

/// Short description of an adapter: `name (backend, type, driver)`.
pub fn describe(info: &wgpu::AdapterInfo) -> String {
    let driver = [info.driver.as_str(), info.driver_info.as_str()]
        .iter()
        .filter(|s| !s.is_empty())
        .copied()
        .collect::<Vec<_>>()
        .join(" ");
    format!(
        "{} ({:?}, {:?}{})",
        info.name,
        info.backend,
        info.device_type,
        if driver.is_empty() {
            String::new()
        } else {
            format!(", {driver}")
        }
    )
}

/// The adapter the engine would use. `allow_software`: accept CPU (software) adapters such
/// as lavapipe, which `--engine auto` skips because the CPU engine is faster than them.
pub fn pick_adapter(allow_software: bool) -> std::result::Result<wgpu::Adapter, String> {
    let all = adapters();
    if all.is_empty() {
        return Err(format!(
            "no GPU adapter found (backends searched: {:?}; set WGPU_BACKEND to search others)",
            backends()
        ));
    }
    let wanted = std::env::var(ADAPTER_ENV).ok().filter(|s| !s.is_empty());
    let mut rejected = Vec::new();
    let mut usable: Vec<wgpu::Adapter> = Vec::new();
    for a in all {
        let info = a.get_info();
        if let Some(w) = &wanted {
            if !info.name.to_lowercase().contains(&w.to_lowercase()) {
                rejected.push(format!("{}: name does not match {ADAPTER_ENV}={w}", info.name));
                continue;
            }
        }
        if let Some(why) = unusable_reason(&a) {
            rejected.push(format!("{}: {why}", info.name));
            continue;
        }
        if !allow_software && info.device_type == wgpu::DeviceType::Cpu {
            rejected.push(format!(
                "{}: a software (CPU) adapter, slower than the CPU engine",
                info.name
            ));
            continue;
        }
        usable.push(a);
    }
    usable.sort_by_key(|a| type_rank(a.get_info().device_type));
    usable
        .into_iter()
        .next()
        .ok_or_else(|| format!("no usable GPU adapter ({})", rejected.join("; ")))
}

/// What a GPU run returns.
#[derive(Clone, Debug)]
pub struct GpuRun {
    /// The aggregates (layout of `ictwin_kernels::agg`), equal to the CPU engine's.
    pub agg: Vec<u64>,
    /// Philox blocks drawn (only when counted, see [`RunOptions::count_blocks`]).
    pub philox_blocks: Option<u64>,
    /// Chunks of replicas and dispatches used.
    pub chunks: u32,
    pub dispatches: u32,
}

/// Uniforms of one dispatch of the model kernel (`Slice` in `shaders/model.wgsl`): steps
/// `[first_step, end_step)` of the chunk's replicas, `state_words` u32 of state per replica.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Pod, Zeroable)]
pub struct Slice {
    pub first_step: u32,
    pub end_step: u32,
    pub state_words: u32,
    pub reserved: u32,
}

/// Loop iterations one invocation may run per dispatch on Mesa's llvmpipe/lavapipe, which
/// ends a shader's loops after 65,535 iterations in total (`LP_MAX_TGSI_LOOP_ITERATIONS`,
/// shared by every loop of the inlined shader).
const SOFTWARE_LOOP_BUDGET: u64 = 65_535;

/// Workgroups per dispatch on software adapters (memory, see `run_with`).
const SOFTWARE_MAX_WORKGROUPS: u32 = 512;

/// Steps per dispatch that keep a software adapter's loop count within budget: a bound on
/// the loop iterations of one step (per node: failures, committee, ranking, signer loops with
/// their node-set scans, the order-statistic buffer of f + 1 slots, the replay) and of the
/// per-dispatch setup (state, histograms).
pub fn software_slice_steps(p: &Params) -> u32 {
    let n = p.nodes as u64;
    let b = p.makers as u64;
    let per_step = n * (16 + b) + 4 * b + 32;
    let setup = 8 * n + 2 * (shaders::HIST_WORDS / WORKGROUP_SIZE) as u64 + 64;
    ((SOFTWARE_LOOP_BUDGET - setup) / per_step).clamp(1, MAX_SLICE_STEPS as u64) as u32
}

/// Knobs of a GPU run (the defaults are what `ictwin run` uses).
#[derive(Clone, Copy, Debug, Default)]
pub struct RunOptions {
    /// Histogram accumulation; `None`: workgroup memory when possible.
    pub accumulation: Option<Accumulation>,
    /// Count the Philox blocks drawn (benchmark bookkeeping; slower).
    pub count_blocks: bool,
    /// Upper bound on workgroups per dispatch (default: the adapter's per-dimension limit).
    pub max_workgroups: Option<u32>,
    /// Steps per dispatch (default: `MAX_SLICE_STEPS`, fewer on software adapters).
    pub slice_steps: Option<u32>,
}

/// An open device with the engine's pipelines.
pub struct Gpu {
    pub info: wgpu::AdapterInfo,
    pub limits: wgpu::Limits,
    device: wgpu::Device,
    queue: wgpu::Queue,
    lost: Arc<Mutex<Option<String>>>,
    errors: Arc<Mutex<Vec<String>>>,
    pipelines: Mutex<HashMap<String, Arc<wgpu::ComputePipeline>>>,
}

/// Seconds a chunk should take (progress and Ctrl-C granularity).
const CHUNK_TARGET_S: f64 = 0.5;
/// How long a readback may take after its copy was submitted and waited for: only a mapping
/// callback still running on another thread can be late, so this bound is generous.
const READBACK_TIMEOUT: Duration = Duration::from_secs(60);
/// Chunk duration on software adapters (lavapipe), s.
const SOFTWARE_CHUNK_TARGET_S: f64 = 5.0;

impl Gpu {
    /// Opens the adapter [`pick_adapter`] chooses.
    pub fn open(allow_software: bool) -> Result<Gpu> {
        let adapter = pick_adapter(allow_software).map_err(|e| anyhow!(e))?;
        Gpu::from_adapter(adapter)
    }

    /// Opens a device on `adapter` with `SHADER_INT64` and the adapter's own limits.
    pub fn from_adapter(adapter: wgpu::Adapter) -> Result<Gpu> {
        let info = adapter.get_info();
        if let Some(why) = unusable_reason(&adapter) {
            bail!("GPU adapter {}: {why}", describe(&info));
        }
        let limits = adapter.limits();
        let (device, queue) = pollster::block_on(adapter.request_device(&wgpu::DeviceDescriptor {
            label: Some("ictwin"),
            required_features: wgpu::Features::SHADER_INT64,
            required_limits: limits.clone(),
            experimental_features: wgpu::ExperimentalFeatures::disabled(),
            memory_hints: wgpu::MemoryHints::Performance,
            trace: wgpu::Trace::Off,
        }))
        .with_context(|| format!("cannot open GPU device {}", describe(&info)))?;
        let lost = Arc::new(Mutex::new(None));
        let l = lost.clone();
        device.set_device_lost_callback(move |reason, msg| {
            *l.lock().unwrap() = Some(format!("{reason:?}: {msg}"));
        });
        let errors = Arc::new(Mutex::new(Vec::new()));
        let e = errors.clone();
        device.on_uncaptured_error(Arc::new(move |err: wgpu::Error| {
            e.lock().unwrap().push(err.to_string());
        }));
        Ok(Gpu {
            info,
            limits,
            device,
            queue,
            lost,
            errors,
            pipelines: Mutex::new(HashMap::new()),
        })
    }

    /// `name (backend, type, driver)`.
    pub fn describe(&self) -> String {
        describe(&self.info)
    }

    /// Fails if the device was lost or reported an error since the last check.
    fn check(&self, what: &str) -> Result<()> {
        if let Some(l) = self.lost.lock().unwrap().clone() {
            bail!("GPU device lost during {what} ({l}); {}", self.describe());
        }
        let errs = std::mem::take(&mut *self.errors.lock().unwrap());
        if !errs.is_empty() {
            bail!("GPU error during {what}: {}", errs.join("; "));
        }
        Ok(())
    }

    /// Waits for all submitted work.
    fn wait(&self, what: &str) -> Result<()> {
        let r = self.device.poll(wgpu::PollType::wait_indefinitely());
        self.check(what)?;
        r.map_err(|e| anyhow!("GPU wait failed during {what}: {e}"))?;
        Ok(())
    }

    /// Runs `f` inside out-of-memory and validation error scopes.
    fn scoped<T>(&self, what: &str, f: impl FnOnce() -> T) -> Result<T> {
        let oom = self.device.push_error_scope(wgpu::ErrorFilter::OutOfMemory);
        let val = self.device.push_error_scope(wgpu::ErrorFilter::Validation);
        let out = f();
        let v = pollster::block_on(val.pop());
        let o = pollster::block_on(oom.pop());
        if let Some(e) = o {
            bail!("out of GPU memory during {what}: {e}");
        }
        if let Some(e) = v {
            bail!("GPU rejected {what}: {e}");
        }
        self.check(what)?;
        Ok(out)
    }

    fn buffer(&self, label: &str, size: u64, usage: wgpu::BufferUsages) -> Result<wgpu::Buffer> {
        if size > self.limits.max_buffer_size {
            bail!(
                "{label}: {size} bytes exceed the adapter's buffer size limit ({})",
                self.limits.max_buffer_size
            );
        }
        self.scoped(&format!("allocation of {label} ({size} bytes)"), || {
            self.device.create_buffer(&wgpu::BufferDescriptor {
                label: Some(label),
                size,
                usage,
                mapped_at_creation: false,
            })
        })
    }

    fn buffer_init(&self, label: &str, data: &[u8], usage: wgpu::BufferUsages) -> Result<wgpu::Buffer> {
        let size = (data.len() as u64).max(4).next_multiple_of(4);
        let b = self.buffer(label, size, usage | wgpu::BufferUsages::COPY_DST)?;
        self.queue.write_buffer(&b, 0, data);
        Ok(b)
    }

    /// Compiles (once) the pipeline of `entry` in `source`.
    fn pipeline(&self, name: &str, source: impl FnOnce() -> String, entry: &str) -> Result<Arc<wgpu::ComputePipeline>> {
        let key = format!("{name}/{entry}");
        if let Some(p) = self.pipelines.lock().unwrap().get(&key) {
            return Ok(p.clone());
        }
        let src = source();
        let p = self.scoped(&format!("compilation of the {name} shader"), || {
            let desc = wgpu::ShaderModuleDescriptor {
                label: Some(name),
                source: wgpu::ShaderSource::Wgsl(src.into()),
            };
            let module = self.device.create_shader_module(desc);
            self.device.create_compute_pipeline(&wgpu::ComputePipelineDescriptor {
                label: Some(name),
                layout: None,
                module: &module,
                entry_point: Some(entry),
                compilation_options: wgpu::PipelineCompilationOptions {
                    constants: &[],
                    zero_initialize_workgroup_memory: false,
                },
                cache: None,
            })
        })?;
        let p = Arc::new(p);
        self.pipelines.lock().unwrap().insert(key, p.clone());
        Ok(p)
    }

    /// Reads back a buffer of u32 words.
    fn read_u32(&self, src: &wgpu::Buffer, words: usize) -> Result<Vec<u32>> {
        let size = (words * 4) as u64;
        let staging = self.buffer(
            "readback",
            size,
            wgpu::BufferUsages::MAP_READ | wgpu::BufferUsages::COPY_DST,
        )?;
        let mut enc = self.device.create_command_encoder(&Default::default());
        enc.copy_buffer_to_buffer(src, 0, &staging, 0, size);
        self.queue.submit([enc.finish()]);
        // The callback fires inside whichever thread's `poll` collects the finished mapping:
        // when threads share the device (the tests do), that may be another thread, and it may
        // still be running the callback after our own `poll` has returned. So wait on the
        // channel, polling again meanwhile, instead of expecting the result right after `poll`.
        let (tx, rx) = std::sync::mpsc::channel();
        staging.map_async(wgpu::MapMode::Read, .., move |r| {
            let _ = tx.send(r);
        });
        let deadline = Instant::now() + READBACK_TIMEOUT;
        let mapped = loop {
            self.wait("readback")?;
            match rx.recv_timeout(Duration::from_millis(50)) {
                Ok(r) => break r,
                Err(std::sync::mpsc::RecvTimeoutError::Timeout) if Instant::now() < deadline => {}
                Err(_) => bail!(
                    "GPU readback did not complete within {} s; {}",
                    READBACK_TIMEOUT.as_secs(),
                    self.describe()
                ),
            }
        };
        mapped.map_err(|e| anyhow!("GPU readback failed: {e}"))?;
        let out = {
            let view = staging
                .get_mapped_range(..)
                .map_err(|e| anyhow!("GPU readback failed: {e:?}"))?;
            bytemuck::cast_slice::<u8, u32>(&view).to_vec()
        };
        staging.unmap();
        Ok(out)
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

    /// Runs every replica of a prepared scenario; `progress` receives the number of finished
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
        let p0 = prep.params;
        if p0.replicas == 0 || p0.rounds == 0 {
            bail!("a GPU run needs at least one replica and one round");
        }
        let acc = opts.accumulation.unwrap_or_else(|| self.default_accumulation());
        if acc == Accumulation::Workgroup && self.limits.max_compute_workgroup_storage_size < WORKGROUP_HIST_BYTES {
            bail!(
                "workgroup histograms need {WORKGROUP_HIST_BYTES} bytes of workgroup memory, the adapter has {}",
                self.limits.max_compute_workgroup_storage_size
            );
        }
        let name = format!(
            "model-{}{}",
            match acc {
                Accumulation::Workgroup => "workgroup",
                Accumulation::Global => "global",
            },
            if opts.count_blocks { "-counting" } else { "" }
        );
        let pipeline = self.pipeline(&name, || shaders::model_program(acc, opts.count_blocks), "main")?;

        let storage = wgpu::BufferUsages::STORAGE;
        let params_buf = self.buffer(
            "params",
            std::mem::size_of::<Params>() as u64,
            wgpu::BufferUsages::UNIFORM | wgpu::BufferUsages::COPY_DST,
        )?;
        let slice_buf = self.buffer(
            "slice",
            std::mem::size_of::<Slice>() as u64,
            wgpu::BufferUsages::UNIFORM | wgpu::BufferUsages::COPY_DST,
        )?;
        let tables = self.buffer_init("tables", bytemuck::cast_slice(&prep.tables), storage)?;
        // AGG_LEN counters + the Philox block count, as (lo, hi) u32 pairs; zeroed by wgpu.
        let agg_words = 2 * (AGG_LEN as usize + 1);
        let agg_buf = self.buffer(
            "aggregates",
            (agg_words * 4) as u64,
            storage | wgpu::BufferUsages::COPY_SRC,
        )?;

        // Slices of steps per dispatch; replicas keep their state between slices.
        let software_cap = if self.info.device_type == wgpu::DeviceType::Cpu {
            software_slice_steps(&p0)
        } else {
            MAX_SLICE_STEPS
        };
        let slice_steps = opts
            .slice_steps
            .unwrap_or(MAX_SLICE_STEPS)
            .min(software_cap)
            .clamp(1, MAX_SLICE_STEPS);
        let state_words = STATE_FIXED_WORDS + if p0.dynamic_failures != 0 { 3 * p0.nodes } else { 0 };
        let mut max_wg = opts
            .max_workgroups
            .unwrap_or(u32::MAX)
            .min(self.limits.max_compute_workgroups_per_dimension)
            .max(1);
        if self.info.device_type == wgpu::DeviceType::Cpu {
            // llvmpipe allocates the invocations' private memory for the whole dispatch
            // (about 3 KiB per replica here): keep its dispatches small.
            max_wg = max_wg.min(SOFTWARE_MAX_WORKGROUPS);
        }
        let sliced = p0.rounds > slice_steps;
        let state_bytes_per_wg = (state_words * WORKGROUP_SIZE * 4) as u64;
        if sliced {
            // State for one chunk, within 256 MiB and the adapter's binding limits.
            let budget = (256u64 << 20)
                .min(self.limits.max_storage_buffer_binding_size)
                .min(self.limits.max_buffer_size);
            max_wg = max_wg.min((budget / state_bytes_per_wg).max(1) as u32);
        }
        let state_buf = self.buffer(
            "replica state",
            if sliced { max_wg as u64 * state_bytes_per_wg } else { 16 },
            storage,
        )?;
        let entries = [
            params_buf.as_entire_binding(),
            tables.as_entire_binding(),
            agg_buf.as_entire_binding(),
            slice_buf.as_entire_binding(),
            state_buf.as_entire_binding(),
        ];
        let bind = self.scoped("bind group creation", || {
            self.device.create_bind_group(&wgpu::BindGroupDescriptor {
                label: Some("model"),
                layout: &pipeline.get_bind_group_layout(0),
                entries: &entries
                    .iter()
                    .enumerate()
                    .map(|(i, r)| wgpu::BindGroupEntry {
                        binding: i as u32,
                        resource: r.clone(),
                    })
                    .collect::<Vec<_>>(),
            })
        })?;

        // Start small (about 2^22 replica-rounds), then size chunks to CHUNK_TARGET_S.
        // On software adapters every dispatch costs time and (lavapipe, Mesa 22.3) a few MB that
        // are never returned, so their chunks are 10x longer: fewer, larger dispatches.
        let default_target = if self.info.device_type == wgpu::DeviceType::Cpu {
            SOFTWARE_CHUNK_TARGET_S
        } else {
            CHUNK_TARGET_S
        };
        let chunk_target_s: f64 = std::env::var("ICTWIN_GPU_CHUNK_S")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(default_target);
        let mut wgs = ((1u64 << 22) / (p0.rounds as u64 * WORKGROUP_SIZE as u64)).clamp(1, max_wg as u64) as u32;
        let mut offset: u32 = 0;
        let (mut chunks, mut dispatches) = (0u32, 0u32);
        while offset < p0.replicas {
            if stop.load(Ordering::Relaxed) {
                bail!("interrupted");
            }
            let left = p0.replicas - offset;
            let n = ((wgs as u64) * WORKGROUP_SIZE as u64).min(left as u64) as u32;
            let groups = n.div_ceil(WORKGROUP_SIZE);
            let p = Params {
                replica_offset: offset,
                ..p0
            };
            self.queue.write_buffer(&params_buf, 0, bytemuck::bytes_of(&p));
            let t0 = Instant::now();
            let mut first = 0u32;
            while first < p0.rounds {
                let end = first.saturating_add(slice_steps).min(p0.rounds);
                let sl = Slice {
                    first_step: first,
                    end_step: end,
                    state_words,
                    reserved: 0,
                };
                self.queue.write_buffer(&slice_buf, 0, bytemuck::bytes_of(&sl));
                let mut enc = self.device.create_command_encoder(&Default::default());
                {
                    let mut pass = enc.begin_compute_pass(&wgpu::ComputePassDescriptor {
                        label: Some("model"),
                        timestamp_writes: None,
                    });
                    pass.set_pipeline(&pipeline);
                    pass.set_bind_group(0, &bind, &[]);
                    pass.dispatch_workgroups(groups, 1, 1);
                }
                self.queue.submit([enc.finish()]);
                dispatches += 1;
                first = end;
                if stop.load(Ordering::Relaxed) {
                    break;
                }
            }
            self.wait("the model kernel")?;
            let dt = t0.elapsed().as_secs_f64().max(1e-6);
            offset += n;
            chunks += 1;
            progress(offset as u64);
            // Next chunk: aim at CHUNK_TARGET_S, growing at most 4x at a time.
            let scaled = (groups as f64 * chunk_target_s / dt).min(groups as f64 * 4.0);
            wgs = (scaled as u64).clamp(1, max_wg as u64) as u32;
        }
        if stop.load(Ordering::Relaxed) {
            bail!("interrupted");
        }
        let words = self.read_u32(&agg_buf, agg_words)?;
        let mut agg: Vec<u64> = words
            .chunks_exact(2)
            .map(|w| (w[1] as u64) << 32 | w[0] as u64)
            .collect();
        let blocks = agg.pop();
        // Every step is either notarized or stalled: anything else means the driver did not
        // run the kernel to completion.
        let steps: u64 = (0..BATCHES)
            .map(|b| agg[batch_index(b, F_NOTARIZED)] + agg[batch_index(b, F_STALLED)])
            .sum();
        let expected = p0.replicas as u64 * p0.rounds as u64;
        if steps != expected {
            bail!(
                "the GPU ran {steps} of {expected} replica-rounds: the driver cut the kernel short ({})",
                self.describe()
            );
        }
        Ok(GpuRun {
            agg,
            philox_blocks: if opts.count_blocks { blocks } else { None },
            chunks,
            dispatches,
        })
    }

    /// Philox4x32-10 on the device for each (counter, key).
    pub fn philox(&self, cases: &[([u32; 4], [u32; 2])]) -> Result<Vec<[u32; 4]>> {
        let input: Vec<u32> = cases.iter().flat_map(|(c, k)| c.iter().chain(k).copied()).collect();
        let out = self.run_test_kernel("philox_kat", &input, cases.len() * 4, None, cases.len() as u32)?;
        Ok(out.chunks_exact(4).map(|w| [w[0], w[1], w[2], w[3]]).collect())
    }

    /// Table samples at `offset` and `uniform_below(word, 128)` on the device for each word.
    pub fn sample_table(&self, tables: &[u32], offset: u32, words: &[u32]) -> Result<(Vec<u32>, Vec<u32>)> {
        let mut input = vec![offset];
        input.extend_from_slice(words);
        let n = words.len();
        let out = self.run_test_kernel("sample_table", &input, 2 * n, Some(tables), n as u32)?;
        Ok((out[..n].to_vec(), out[n..].to_vec()))
    }

    fn run_test_kernel(
        &self,
        entry: &str,
        input: &[u32],
        out_words: usize,
        tables: Option<&[u32]>,
        invocations: u32,
    ) -> Result<Vec<u32>> {
        let pipeline = self.pipeline("tests", shaders::tests_program, entry)?;
        let storage = wgpu::BufferUsages::STORAGE;
        let input_buf = self.buffer_init("input", bytemuck::cast_slice(input), storage)?;
        let out_buf = self.buffer(
            "output",
            (out_words.max(1) * 4) as u64,
            storage | wgpu::BufferUsages::COPY_SRC,
        )?;
        let tables_buf = match tables {
            Some(t) => Some(self.buffer_init("tables", bytemuck::cast_slice(t), storage)?),
            None => None,
        };
        let mut entries = vec![
            wgpu::BindGroupEntry {
                binding: 0,
                resource: input_buf.as_entire_binding(),
            },
            wgpu::BindGroupEntry {
                binding: 1,
                resource: out_buf.as_entire_binding(),
            },
        ];
        if let Some(t) = &tables_buf {
            entries.push(wgpu::BindGroupEntry {
                binding: 2,
                resource: t.as_entire_binding(),
            });
        }
        let bind = self.scoped("bind group creation", || {
            self.device.create_bind_group(&wgpu::BindGroupDescriptor {
                label: Some(entry),
                layout: &pipeline.get_bind_group_layout(0),
                entries: &entries,
            })
        })?;
        let groups = invocations.div_ceil(WORKGROUP_SIZE);
        if groups > self.limits.max_compute_workgroups_per_dimension {
            bail!("too many test cases for one dispatch");
        }
        let mut enc = self.device.create_command_encoder(&Default::default());
        {
            let mut pass = enc.begin_compute_pass(&Default::default());
            pass.set_pipeline(&pipeline);
            pass.set_bind_group(0, &bind, &[]);
            pass.dispatch_workgroups(groups.max(1), 1, 1);
        }
        self.queue.submit([enc.finish()]);
        self.wait(entry)?;
        let mut out = self.read_u32(&out_buf, out_words.max(1))?;
        out.truncate(out_words);
        Ok(out)
    }

    /// Times the Philox-only baseline: `replicas` invocations drawing `blocks` blocks each.
    /// Returns the device seconds (wall time of the dispatches, after a warm-up).
    pub fn time_philox_only(&self, replicas: u32, blocks: u32, seed: u64) -> Result<Duration> {
        let pipeline = self.pipeline("philox-only", shaders::philox_only_program, "main")?;
        let params_buf = self.buffer(
            "bench params",
            std::mem::size_of::<bench::PhiloxOnlyParams>() as u64,
            wgpu::BufferUsages::UNIFORM | wgpu::BufferUsages::COPY_DST,
        )?;
        let sink = self.buffer("sink", 16, wgpu::BufferUsages::STORAGE | wgpu::BufferUsages::COPY_SRC)?;
        let bind = self.scoped("bind group creation", || {
            self.device.create_bind_group(&wgpu::BindGroupDescriptor {
                label: Some("philox-only"),
                layout: &pipeline.get_bind_group_layout(0),
                entries: &[
                    wgpu::BindGroupEntry {
                        binding: 0,
                        resource: params_buf.as_entire_binding(),
                    },
                    wgpu::BindGroupEntry {
                        binding: 1,
                        resource: sink.as_entire_binding(),
                    },
                ],
            })
        })?;
        let max_wg = self.limits.max_compute_workgroups_per_dimension;
        let dispatch = |offset: u32, n: u32| -> Result<()> {
            let bp = bench::PhiloxOnlyParams {
                replicas: offset + n,
                replica_offset: offset,
                blocks,
                seed_lo: seed as u32,
                seed_hi: (seed >> 32) as u32,
                ..Default::default()
            };
            self.queue.write_buffer(&params_buf, 0, bytemuck::bytes_of(&bp));
            let mut enc = self.device.create_command_encoder(&Default::default());
            {
                let mut pass = enc.begin_compute_pass(&Default::default());
                pass.set_pipeline(&pipeline);
                pass.set_bind_group(0, &bind, &[]);
                pass.dispatch_workgroups(n.div_ceil(WORKGROUP_SIZE), 1, 1);
            }
            self.queue.submit([enc.finish()]);
            self.wait("the Philox-only kernel")
        };
        dispatch(0, WORKGROUP_SIZE.min(replicas))?; // warm-up
        let t0 = Instant::now();
        let mut offset = 0u32;
        while offset < replicas {
            let n = (replicas - offset).min(max_wg.saturating_mul(WORKGROUP_SIZE));
            dispatch(offset, n)?;
            offset += n;
        }
        Ok(t0.elapsed())
    }
}
