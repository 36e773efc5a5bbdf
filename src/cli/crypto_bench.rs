//! `ictwin crypto-bench`: per-operation BLS costs on this host, printed as a `[fine.costs]`
//! table.

use anyhow::Result;
use ictwin::fine;

/// Options of `ictwin crypto-bench`.
#[derive(Clone, Debug, clap::Args)]
pub struct CryptoBenchArgs {
    /// Subnet size for the batch/aggregate/threshold measurements, 4 to 10000.
    #[arg(long, default_value_t = 13, value_parser = nodes)]
    pub nodes: usize,
    /// Measuring time per operation, ms.
    #[arg(long, default_value_t = 400, value_parser = super::args::positive)]
    pub budget_ms: u64,
}

/// `ictwin crypto-bench`.
pub fn cmd_crypto_bench(a: &CryptoBenchArgs) -> Result<()> {
    print!("{}", fine::bench::crypto_bench(a.nodes, a.budget_ms)?);
    Ok(())
}

/// `--nodes`: 4 to 10,000 (fewer than 4 used to be raised to 4 silently; 10^8 aborted on an
/// allocation).
fn nodes(s: &str) -> Result<usize, String> {
    let v: usize = s.parse().map_err(|e| format!("{e}"))?;
    if !(4..=10_000).contains(&v) {
        return Err(format!("must be between 4 and 10000 nodes, got {v}"));
    }
    Ok(v)
}
