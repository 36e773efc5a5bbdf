//! The coarse ICC round model as pure integer Rust: the CPU twin of `shaders/`.
//!
//! Everything here is written so that it can be mirrored line by line in WGSL: no floats in
//! the hot path, no allocation, no dynamic dispatch, no `std` (tests aside). The host builds
//! the quantile tables and [`params::Params`]; [`model::simulate_replica`] steps one replica
//! and adds into the flat aggregate array laid out in [`agg`].
#![cfg_attr(not(test), no_std)]
#![forbid(unsafe_code)]

pub mod agg;
pub mod backlog;
pub mod cert;
pub mod failures;
pub mod height;
pub mod ic;
pub mod late;
pub mod maker_delay;
pub mod model;
pub mod params;
pub mod philox;
pub mod proofs;
#[cfg(test)]
mod reference;
pub mod resolve;
pub mod sets;
pub mod shared;
pub mod shuffle;
pub mod table;
pub mod views;

pub use params::Params;

/// Version of the coarse model's numbers, independent of the engine (CPU or GPU) that
/// computes them: equal versions, scenarios and seeds give equal aggregates. Bump it with
/// every change that alters any run's aggregates (`tests/results.rs` catches such a change
/// against the committed results); `ictwin merge` refuses shards of different versions.
pub const MODEL_VERSION: u32 = 6;
