//! `ictwin crypto-bench`: per-operation BLS costs on this host, printed as a `[fine.costs]`
//! table.

use anyhow::Result;
use ictwin::fine;

/// Options of `ictwin crypto-bench`.
#[derive(Clone, Debug, clap::Args)]
pub struct CryptoBenchArgs {
    /// Subnet size for the batch/aggregate/threshold measurements.
    #[arg(long, default_value_t = 13)]
    pub nodes: usize,
    /// Measuring time per operation, ms.
    #[arg(long, default_value_t = 400)]
    pub budget_ms: u64,
}

/// `ictwin crypto-bench`.
pub fn cmd_crypto_bench(a: &CryptoBenchArgs) -> Result<()> {
    print!("{}", fine::bench::crypto_bench(a.nodes, a.budget_ms)?);
    Ok(())
}
