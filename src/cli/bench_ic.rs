//! `ictwin bench-ic`: speed of the IC-year kernel on a topology (IC-years per second) vs a
//! Philox-only loop drawing the same blocks; figures on stdout, appended to `--out`.

use anyhow::{bail, Result};
use ictwin::ic::{self, bench::measure, IcInput};
use ictwin::output::bench::{append_csv, check_appendable, ic_bench_record, IC_BENCH_HEADER};
use ictwin::scenario::ic_faults::load_faults;
use ictwin::topology;
use std::path::PathBuf;

/// Options of `ictwin bench-ic`.
#[derive(Clone, Debug, clap::Args)]
pub struct BenchIcArgs {
    /// Topology file.
    #[arg(default_value = "experiments/topology/mainnet-2025-12.toml")]
    pub topology: PathBuf,
    /// Fault file; default: the embedded default faults.
    #[arg(long)]
    pub faults: Option<PathBuf>,
    /// Replicas (of one year each) per timed run.
    #[arg(long, default_value_t = 20_000)]
    pub replicas: u64,
    /// Worker threads, 1 to 1024 (default: all cores).
    #[arg(long, value_parser = super::args::threads)]
    pub threads: Option<u32>,
    /// Timed repetitions; the best is reported.
    #[arg(long, default_value_t = 3, value_parser = super::args::positive_u32)]
    pub repeat: u32,
    /// CSV file the figures are appended to.
    #[arg(long, default_value = "ictwin-out/bench/ic.csv")]
    pub out: PathBuf,
}

/// `ictwin bench-ic`.
pub fn cmd_bench_ic(a: &BenchIcArgs) -> Result<()> {
    if !(1..=u32::MAX as u64).contains(&a.replicas) {
        bail!("--replicas must be between 1 and {}", u32::MAX);
    }
    let topo = topology::load(&a.topology)?;
    let (mut faults, _) = load_faults(a.faults.as_deref())?;
    faults.run.replicas = a.replicas;
    faults.run.years = 1;
    let input = IcInput::from_topology(&topo, faults.nns.keep_limits)?;
    let prep = ic::prepare(&faults);
    check_appendable(&a.out)?;
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(a.threads.map_or(0, |t| t as usize))
        .build()?;
    let r = measure(&pool, &input, &prep, a.repeat)?;
    let threads = pool.current_num_threads();
    println!(
        "{:<20} {:>8} {:>10} {:>12} {:>16} {:>8}",
        "topology", "threads", "events/yr", "IC-years/s", "philox-only /s", "ratio"
    );
    println!(
        "{:<20} {:>8} {:>10.0} {:>12.0} {:>16.0} {:>8.3}",
        topo.name,
        threads,
        r.events_per_ic_year,
        r.ic_years_per_s,
        r.philox_only_ic_years_per_s,
        r.ic_years_per_s / r.philox_only_ic_years_per_s
    );
    append_csv(&a.out, IC_BENCH_HEADER, &[ic_bench_record(&r, &topo.name, threads)])?;
    println!("appended to {}", a.out.display());
    Ok(())
}
