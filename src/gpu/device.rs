//! An open device: buffers, the pipeline cache, dispatch and readback. Everything here is
//! program-agnostic; [`super::run`] and [`super::probe`] say what to dispatch.

use super::adapter::{describe, pick_adapter, unusable_reason};
use anyhow::{anyhow, bail, Context, Result};
use bytemuck::Pod;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// How long a readback may take after its copy was submitted and waited for: only a mapping
/// callback still running on another thread can be late, so this bound is generous.
const READBACK_TIMEOUT: Duration = Duration::from_secs(60);

/// An open device with the engine's pipelines.
///
/// Every method that touches the device checks afterwards for a lost device and for errors
/// wgpu reported, so a failure surfaces as an error naming what was being done.
pub struct Gpu {
    /// The adapter the device runs on.
    pub info: wgpu::AdapterInfo,
    /// The device's limits (the adapter's own: the engine asks for all of them).
    pub limits: wgpu::Limits,
    device: wgpu::Device,
    queue: wgpu::Queue,
    /// Why the device was lost, once it was.
    lost: Arc<Mutex<Option<String>>>,
    /// Uncaptured errors since the last [`Gpu::check`].
    errors: Arc<Mutex<Vec<String>>>,
    /// Compiled pipelines by `program/entry`.
    pipelines: Mutex<HashMap<String, Arc<wgpu::ComputePipeline>>>,
}

/// A pipeline with its bind group: everything one dispatch needs besides its size.
pub(super) struct Kernel {
    label: String,
    pipeline: Arc<wgpu::ComputePipeline>,
    bind: wgpu::BindGroup,
}

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
    pub(super) fn wait(&self, what: &str) -> Result<()> {
        let r = self.device.poll(wgpu::PollType::wait_indefinitely());
        self.check(what)?;
        r.map_err(|e| anyhow!("GPU wait failed during {what}: {e}"))?;
        Ok(())
    }

    /// Runs `f` inside out-of-memory and validation error scopes.
    pub(super) fn scoped<T>(&self, what: &str, f: impl FnOnce() -> T) -> Result<T> {
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

    /// A buffer of `size` bytes (zeroed by wgpu), within the adapter's size limit.
    pub(super) fn buffer(&self, label: &str, size: u64, usage: wgpu::BufferUsages) -> Result<wgpu::Buffer> {
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

    /// A buffer holding `data` (padded to a multiple of 4 bytes, at least 4).
    pub(super) fn buffer_init(&self, label: &str, data: &[u8], usage: wgpu::BufferUsages) -> Result<wgpu::Buffer> {
        let size = (data.len() as u64).max(4).next_multiple_of(4);
        let b = self.buffer(label, size, usage | wgpu::BufferUsages::COPY_DST)?;
        self.queue.write_buffer(&b, 0, data);
        Ok(b)
    }

    /// Compiles (once) the pipeline of `entry` in `source`.
    pub(super) fn pipeline(
        &self,
        name: &str,
        source: impl FnOnce() -> String,
        entry: &str,
    ) -> Result<Arc<wgpu::ComputePipeline>> {
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
    pub(super) fn read_u32(&self, src: &wgpu::Buffer, words: usize) -> Result<Vec<u32>> {
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

    /// A uniform buffer sized for one `T`, written with [`Gpu::write`].
    pub(super) fn uniform<T: Pod>(&self, label: &str) -> Result<wgpu::Buffer> {
        self.buffer(
            label,
            std::mem::size_of::<T>() as u64,
            wgpu::BufferUsages::UNIFORM | wgpu::BufferUsages::COPY_DST,
        )
    }

    /// A read-only storage buffer sized for one `T` (a struct the shaders read as
    /// `var<storage, read>`), written with [`Gpu::write`].
    pub(super) fn storage_struct<T: Pod>(&self, label: &str) -> Result<wgpu::Buffer> {
        self.buffer(
            label,
            std::mem::size_of::<T>() as u64,
            wgpu::BufferUsages::STORAGE | wgpu::BufferUsages::COPY_DST,
        )
    }

    /// Queues a write of `value` to the start of `buffer` (before the next submission).
    pub(super) fn write<T: Pod>(&self, buffer: &wgpu::Buffer, value: &T) {
        self.queue.write_buffer(buffer, 0, bytemuck::bytes_of(value));
    }

    /// Binds `resources` to bindings 0, 1, ... of group 0 of `pipeline`.
    pub(super) fn kernel(
        &self,
        label: &str,
        pipeline: Arc<wgpu::ComputePipeline>,
        resources: &[wgpu::BindingResource],
    ) -> Result<Kernel> {
        let entries: Vec<wgpu::BindGroupEntry> = resources
            .iter()
            .enumerate()
            .map(|(i, r)| wgpu::BindGroupEntry {
                binding: i as u32,
                resource: r.clone(),
            })
            .collect();
        let bind = self.scoped("bind group creation", || {
            self.device.create_bind_group(&wgpu::BindGroupDescriptor {
                label: Some(label),
                layout: &pipeline.get_bind_group_layout(0),
                entries: &entries,
            })
        })?;
        Ok(Kernel {
            label: label.to_string(),
            pipeline,
            bind,
        })
    }

    /// Submits one dispatch of `groups` workgroups of `kernel` (does not wait for it: see
    /// [`Gpu::wait`]). Uniforms written before this call are the ones it reads.
    pub(super) fn dispatch(&self, kernel: &Kernel, groups: u32) {
        let mut enc = self.device.create_command_encoder(&Default::default());
        {
            let mut pass = enc.begin_compute_pass(&wgpu::ComputePassDescriptor {
                label: Some(&kernel.label),
                timestamp_writes: None,
            });
            pass.set_pipeline(&kernel.pipeline);
            pass.set_bind_group(0, &kernel.bind, &[]);
            pass.dispatch_workgroups(groups, 1, 1);
        }
        self.queue.submit([enc.finish()]);
    }
}
