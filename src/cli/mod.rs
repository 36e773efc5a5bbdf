//! The commands of the `ictwin` binary, one module each: its clap options and its `cmd_*`.
//! They live in the binary crate, so no library module can depend on a command.

/// `ictwin bench`.
pub mod bench;
/// `ictwin bench-gpu`.
pub mod bench_gpu;
/// `ictwin calibrate`.
pub mod calibrate;
/// `ictwin crypto-bench`.
pub mod crypto_bench;
/// `ictwin devices`.
pub mod devices;
/// `ictwin fine`.
pub mod fine;
/// `ictwin fine-bench`.
pub mod fine_bench;
/// `ictwin run`.
pub mod run;
/// `ictwin validate`.
pub mod validate;
