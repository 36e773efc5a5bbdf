//! ictwin: a digital twin of the Internet Computer consensus protocol (ICC).
//!
//! - [`scenario`]: scenario files; [`dist`]: delay distributions and quantile tables.
//! - [`coarse`] + the `ictwin-kernels` crate: the coarse Monte Carlo round model (CPU twin of
//!   `shaders/`); [`engine`] picks where it runs; [`gpu`] is the WGSL engine.
//! - [`stats`]: statistics from the aggregates; [`output`]: CSV and manifest files.
//! - [`fine`]: the agent-based fine engine with real BLS signatures.
//! - [`app`]: the command-line commands.

pub mod app;
pub mod bench;
pub mod calibrate;
pub mod coarse;
pub mod dist;
pub mod engine;
pub mod fine;
pub mod gpu;
pub mod output;
pub mod progress;
pub mod scenario;
pub mod stats;
pub mod validate;
