//! The `ictwin` command line: parses the arguments and dispatches to the commands in [`cli`].
//! Exit status: 0 on success, 1 on error, 130 when interrupted by Ctrl-C, 2 when `validate`
//! finds a disagreement.

mod cli;

use clap::{Parser, Subcommand};
use std::process::ExitCode;
use std::sync::atomic::Ordering;

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
    #[command(
        after_long_help = "Example:\n  ictwin run experiments/ic-app-13-crashed-4.toml --replicas 100000 --out /tmp/crashed-4"
    )]
    Run(cli::run::RunArgs),
    /// Merge shards of a run (`run --shard I/N`) into the whole run's summary and histograms.
    #[command(
        after_long_help = "Example:\n  ictwin run --shard 0/2 --out /tmp/s0 && ictwin run --shard 1/2 --out /tmp/s1\n  ictwin merge /tmp/s0 /tmp/s1 --out /tmp/whole"
    )]
    Merge(cli::merge::MergeArgs),
    /// Slurm job array running a run's shards (or a sweep's points), and a dependent job merging them.
    #[command(
        after_long_help = "Example:\n  ictwin slurm experiments/ic-nns-40.toml --tasks 64 --time 01:00:00 --out $HOME/nns --submit"
    )]
    Slurm(cli::slurm::SlurmArgs),
    /// Throughput of the coarse CPU engine vs a Philox-only loop (results/bench/cpu.csv).
    #[command(after_long_help = "Example:\n  ictwin bench --threads 2 --out /tmp/bench-cpu.csv")]
    Bench(cli::bench::BenchArgs),
    /// Throughput of the coarse GPU engine vs a Philox-only shader (results/bench/gpu.csv).
    #[command(after_long_help = "Example:\n  ictwin bench-gpu experiments/ic-nns-40.toml --replicas 200000")]
    BenchGpu(cli::bench_gpu::BenchArgs),
    /// GPU adapters wgpu sees (name, backend, type, limits) and which one the engine uses.
    #[command(
        after_long_help = "Example:\n  ictwin devices   # WGPU_BACKEND=vulkan,gl ictwin devices searches GL too"
    )]
    Devices(cli::devices::DevicesArgs),
    /// Fine engine: agent-based simulation with real BLS signatures (CSV in --out).
    #[command(
        after_long_help = "Example:\n  ictwin fine experiments/ic-app-13.toml --rounds 200 --trace /tmp/trace.csv --out /tmp/fine"
    )]
    Fine(cli::fine::FineArgs),
    /// Per-operation BLS costs on this host, printed as a `[fine.costs]` table.
    #[command(
        after_long_help = "Example:\n  ictwin crypto-bench --nodes 40   # paste the printed [fine.costs] table into a scenario"
    )]
    CryptoBench(cli::crypto_bench::CryptoBenchArgs),
    /// Fine-engine speed: rounds/s for 13, 40, 200 nodes and the crypto/simulator split.
    #[command(after_long_help = "Example:\n  ictwin fine-bench   # 13, 40 and 200 nodes")]
    FineBench(cli::fine_bench::FineBenchArgs),
    /// Coarse vs fine on each scenario: tests, effect sizes, plots; non-zero exit on disagreement.
    #[command(
        after_long_help = "Example:\n  ictwin validate experiments/validation/v-app-13-fast.toml --shrink 4 --out /tmp/validation"
    )]
    Validate(cli::validate::ValidateArgs),
    /// Fit the coarse model's calibration (delay scale, overheads) to the fine engine.
    #[command(
        after_long_help = "Example:\n  ictwin calibrate experiments/validation/v-app-13-fast.toml --shrink 4 --out /tmp/cal.toml"
    )]
    Calibrate(cli::calibrate::CalibrateArgs),
    /// Parameter sweep: a grid (or --zip lists) of scenario values, sweep.csv and plots in --out.
    #[command(
        after_long_help = "Example:\n  ictwin sweep experiments/ic-app-13.toml --set network.delay.median_ms=20,50,100 --set faults.crashed=0..4 --replicas 2000 --out /tmp/sweep"
    )]
    Sweep(cli::sweep::SweepArgs),
    /// Topology files of the whole network: import the mainnet, check subnet limits, generate.
    #[command(
        after_long_help = "Example:\n  ictwin topology check experiments/topology/mainnet-2025-12.toml --csv /tmp/check.csv"
    )]
    Topology(cli::topology::TopologyArgs),
    /// The whole IC over years: every subnet's availability under correlated failures and NNS replacement.
    Ic(cli::ic::IcArgs),
    /// Speed of the IC-year kernel (IC-years/s) vs a Philox-only loop (results/bench/ic.csv).
    #[command(after_long_help = "Example:
  ictwin bench-ic --out /tmp/bench-ic.csv")]
    BenchIc(cli::bench_ic::BenchIcArgs),
}

/// Exit status of `ictwin validate` when some metric disagrees (and of `ictwin topology check
/// --fail-on-violation` when a subnet violates a limit).
const DISAGREEMENT: u8 = 2;

/// Runs the command; `Ok(false)` when it finished but its verdict is negative (`validate`,
/// `topology check --fail-on-violation`).
fn dispatch(command: &Command) -> anyhow::Result<bool> {
    match command {
        Command::Run(a) => cli::run::cmd_run(a).map(|()| true),
        Command::Merge(a) => cli::merge::cmd_merge(a).map(|()| true),
        Command::Slurm(a) => cli::slurm::cmd_slurm(a).map(|()| true),
        Command::Bench(a) => cli::bench::cmd_bench(a).map(|()| true),
        Command::BenchGpu(a) => cli::bench_gpu::cmd_bench(a).map(|()| true),
        Command::Devices(a) => cli::devices::cmd_devices(a).map(|()| true),
        Command::Fine(a) => cli::fine::cmd_fine(a).map(|()| true),
        Command::CryptoBench(a) => cli::crypto_bench::cmd_crypto_bench(a).map(|()| true),
        Command::FineBench(a) => cli::fine_bench::cmd_fine_bench(a).map(|()| true),
        Command::Calibrate(a) => cli::calibrate::cmd_calibrate(a).map(|()| true),
        Command::Validate(a) => cli::validate::cmd_validate(a),
        Command::Sweep(a) => cli::sweep::cmd_sweep(a).map(|()| true),
        Command::Topology(a) => cli::topology::cmd_topology(a),
        Command::Ic(a) => cli::ic::cmd_ic(a).map(|()| true),
        Command::BenchIc(a) => cli::bench_ic::cmd_bench_ic(a).map(|()| true),
    }
}

/// Gives Mesa's Vulkan drivers the private runtime directory they look for: without a valid
/// `XDG_RUNTIME_DIR` they print "error: XDG_RUNTIME_DIR is invalid or not set" on every run
/// that opens a wgpu instance. Uses `$TMPDIR/ictwin-runtime-<uid>` (mode 0700). Runs first
/// in `main`, before any thread exists, so setting the variable races with nothing.
fn ensure_runtime_dir() {
    use std::os::unix::fs::{DirBuilderExt, MetadataExt};
    let valid = |p: &std::path::Path| std::fs::metadata(p).is_ok_and(|m| m.is_dir());
    if std::env::var_os("XDG_RUNTIME_DIR").is_some_and(|d| valid(d.as_ref())) {
        return;
    }
    let uid = std::fs::metadata("/proc/self").map(|m| m.uid()).unwrap_or(0);
    let dir = std::env::temp_dir().join(format!("ictwin-runtime-{uid}"));
    let _ = std::fs::DirBuilder::new().mode(0o700).create(&dir);
    let ours = std::fs::metadata(&dir).is_ok_and(|m| m.is_dir() && m.uid() == uid && m.mode() & 0o077 == 0);
    if ours {
        std::env::set_var("XDG_RUNTIME_DIR", &dir);
    }
}

fn main() -> ExitCode {
    ensure_runtime_dir();
    let cli = Cli::parse();
    ictwin::progress::install_ctrlc();
    match dispatch(&cli.command) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::from(DISAGREEMENT),
        Err(e) => {
            eprintln!("error: {e:#}");
            let interrupted = ictwin::progress::stop_flag().load(Ordering::SeqCst);
            ExitCode::from(if interrupted { 130 } else { 1 })
        }
    }
}
