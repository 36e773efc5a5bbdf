//! The `ictwin` command line.

use clap::{Parser, Subcommand};
use ictwin::app;

#[derive(Parser)]
#[command(
    name = "ictwin",
    version,
    about = "Digital twin of the Internet Computer consensus protocol (ICC)"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Monte Carlo run of the coarse round model: table on stdout, CSV + manifest in --out.
    Run(app::RunArgs),
    /// Throughput of the coarse CPU engine vs a Philox-only loop (results/bench/cpu.csv).
    Bench(ictwin::bench::BenchArgs),
    /// Throughput of the coarse GPU engine vs a Philox-only shader (results/bench/gpu.csv).
    BenchGpu(ictwin::gpu::bench::BenchArgs),
    /// GPU adapters wgpu sees (name, backend, type, limits) and which one the engine uses.
    Devices(ictwin::gpu::bench::DevicesArgs),
    /// Fine engine: agent-based simulation with real BLS signatures (CSV in --out).
    Fine(ictwin::fine::cli::FineArgs),
    /// Per-operation BLS costs on this host, printed as a `[fine.costs]` table.
    CryptoBench(ictwin::fine::cli::CryptoBenchArgs),
    /// Fine-engine speed: rounds/s for 13, 40, 200 nodes and the crypto/simulator split.
    FineBench(ictwin::fine::cli::FineBenchArgs),
    /// Coarse vs fine on each scenario: tests, effect sizes, plots; non-zero exit on disagreement.
    Validate(ictwin::validate::ValidateArgs),
    /// Fit the coarse model's calibration (delay scale, overheads) to the fine engine.
    Calibrate(ictwin::calibrate::CalibrateArgs),
}

fn main() {
    let cli = Cli::parse();
    ictwin::progress::install_ctrlc();
    let result = match &cli.command {
        Command::Run(a) => app::cmd_run(a),
        Command::Bench(a) => ictwin::bench::cmd_bench(a),
        Command::BenchGpu(a) => ictwin::gpu::bench::cmd_bench(a),
        Command::Devices(a) => ictwin::gpu::bench::cmd_devices(a),
        Command::Fine(a) => ictwin::fine::cli::cmd_fine(a),
        Command::CryptoBench(a) => ictwin::fine::cli::cmd_crypto_bench(a),
        Command::FineBench(a) => ictwin::fine::cli::cmd_fine_bench(a),
        Command::Calibrate(a) => ictwin::calibrate::cmd_calibrate(a),
        Command::Validate(a) => match ictwin::validate::cmd_validate(a) {
            Ok(true) => Ok(()),
            Ok(false) => std::process::exit(2),
            Err(e) => Err(e),
        },
    };
    if let Err(e) = result {
        eprintln!("error: {e:#}");
        let interrupted = ictwin::progress::stop_flag().load(std::sync::atomic::Ordering::SeqCst);
        std::process::exit(if interrupted { 130 } else { 1 });
    }
}
