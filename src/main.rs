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
}

fn main() {
    let cli = Cli::parse();
    ictwin::progress::install_ctrlc();
    let result = match &cli.command {
        Command::Run(a) => app::cmd_run(a),
    };
    if let Err(e) = result {
        eprintln!("error: {e:#}");
        let interrupted = ictwin::progress::stop_flag().load(std::sync::atomic::Ordering::SeqCst);
        std::process::exit(if interrupted { 130 } else { 1 });
    }
}
