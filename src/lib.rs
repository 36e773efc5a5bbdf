//! ictwin: a digital twin of the Internet Computer consensus protocol (ICC).
//!
//! Layers, imports flowing one way from top to bottom (a module imports only from its own
//! layer's lower entries and from the layers below):
//!
//! 1. Commands: `src/cli/`, one module per `ictwin` command, in the binary crate (so no
//!    library module can import a command); `main.rs` dispatches.
//! 2. Outputs: [`output`] writes every file and printed table (summary, histograms, `fine.csv`,
//!    validation report and plots, calibration file, benchmark CSVs) and owns the one atomic
//!    run-directory writer with its manifest; it knows the result types of the layers below.
//! 3. Analysis: [`validate`] (coarse vs fine, metric by metric), [`calibrate`] (fitting the
//!    coarse model to the fine engine) and [`sweep`] (planning and running parameter sweeps).
//! 4. Engines, each taking a resolved scenario and returning aggregates: [`engine`] picks
//!    where the coarse model runs, [`gpu`] (WGSL) or [`coarse`] (CPU twin of the shaders, with
//!    its benchmark); [`fine`] is the agent-based engine with real BLS signatures; [`ic`] is
//!    the whole-IC level (every subnet of a topology, correlated failures, NNS replacement).
//! 5. Inputs and foundations: [`scenario`] (every scenario table, `[fine]` included, loading and
//!    overrides, random scenarios), [`topology`] (the whole network: data centers, providers,
//!    nodes, subnets; decentralization checks, import, generation), [`dist`] (delay distributions and quantile tables), [`stats`]
//!    (statistics of aggregates, the two-sample tests, spreads), [`progress`] (progress bar, Ctrl-C flag), and the
//!    `ictwin-kernels` crate (the round model shared with the shaders).

pub mod calibrate;
pub mod coarse;
pub mod dist;
pub mod engine;
pub mod fine;
pub mod gpu;
pub mod ic;
pub mod output;
pub mod progress;
pub mod scenario;
pub mod stats;
pub mod sweep;
pub mod topology;
pub mod validate;
