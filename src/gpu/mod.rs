//! The GPU engine: the coarse model as WGSL compute shaders (`shaders/`) through wgpu.
//!
//! One invocation steps one replica through all its rounds; replicas are dispatched in
//! chunks (at most 65,535 workgroups of 64 per dispatch, sized to take about half a second
//! each, so the progress bar and Ctrl-C react), and nothing per replica lives in device
//! memory beyond the state kept between slices of steps (node views, certification included, failures and late
//! certification records, 39 words per node; private memory per invocation: [`shaders::NodeClass::private_bytes`]): each chunk adds into the same
//! aggregate buffer (u64 counters as pairs of u32 atomics with carry), read back once at the
//! end. The result is the exact u64 array that [`crate::coarse::run_cpu`] returns.
//!
//! - `adapter`: which adapter the engine uses ([`pick_adapter`]);
//! - `device`: the open device ([`Gpu`]): buffers, pipelines, dispatch, readback;
//! - `run`: the model run ([`Gpu::run`]);
//! - `probe`: test and benchmark kernels ([`Gpu::philox`], [`Gpu::time_philox_only`]);
//! - [`shaders`] and [`layout`]: the WGSL programs and the structs they share with the host.

mod adapter;
pub mod bench;
mod device;
pub mod layout;
mod probe;
mod run;
pub mod shaders;

pub use adapter::{adapters, backends, describe, pick_adapter, unusable_reason, ADAPTER_ENV};
pub use device::Gpu;
pub use layout::Slice;
pub use probe::U64_OPS;
pub use run::{GpuRun, RunOptions, SOFTWARE_MAX_NODES};
