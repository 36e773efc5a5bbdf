//! `ictwin fine-bench`: fine-engine speed (rounds/s) for several subnet sizes and how its
//! wall time splits between crypto and the simulator.

use anyhow::{bail, Result};
use ictwin::fine;

/// Options of `ictwin fine-bench`.
#[derive(Clone, Debug, clap::Args)]
pub struct FineBenchArgs {
    /// Subnet sizes.
    #[arg(long, value_delimiter = ',', default_value = "13,40,200")]
    pub nodes: Vec<u32>,
    /// Heights per size (scaled down as 13 * rounds / n for larger subnets, at least 10).
    #[arg(long, default_value_t = 300, value_parser = super::args::positive)]
    pub rounds: u64,
    /// Gossip fanout used for subnets of at least `gossip_from` nodes.
    #[arg(long, default_value_t = 8)]
    pub fanout: u32,
    /// Smallest subnet that gossips (smaller ones use a full mesh).
    #[arg(long, default_value_t = 100)]
    pub gossip_from: u32,
}

/// `ictwin fine-bench`.
pub fn cmd_fine_bench(a: &FineBenchArgs) -> Result<()> {
    let mut rows = Vec::new();
    for &n in &a.nodes {
        if n < 4 {
            bail!("--nodes: subnets need at least 4 nodes, got {n}");
        }
        let rounds = (a.rounds * 13 / n as u64).max(10);
        let fanout = if n >= a.gossip_from { a.fanout } else { 0 };
        let r = fine::bench::bench_one(n, rounds, fanout)?;
        eprintln!("{n} nodes: {:.1} rounds/s", r.rounds_per_s);
        rows.push(r);
    }
    println!(
        "fine-bench: lognormal delays (median 70 ms), all crypto real, crypto_time on, {} threads\n",
        rayon::current_num_threads()
    );
    print!("{}", fine::bench::render_bench(&rows));
    Ok(())
}
