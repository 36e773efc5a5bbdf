//! The commands of the `ictwin` binary, one module each: its clap options and its `cmd_*`.
//! They live in the binary crate, so no library module can depend on a command.

pub mod args;
pub mod bench;
pub mod bench_gpu;
pub mod bench_ic;
pub mod calibrate;
pub mod crypto_bench;
pub mod devices;
pub mod fine;
pub mod fine_bench;
pub mod ic;
pub mod merge;
pub mod run;
pub mod slurm;
pub mod sweep;
pub mod topology;
pub mod validate;
