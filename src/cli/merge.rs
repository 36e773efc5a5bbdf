//! `ictwin merge`: shards of a run (`ictwin run --shard I/N`) -> the whole run's files.

use anyhow::Result;
use ictwin::output::merge::merge;
use ictwin::output::shard::ShardFile;
use ictwin::output::{self, Manifest, OutDir};
use ictwin::stats;
use std::path::PathBuf;

/// Options of `ictwin merge`.
#[derive(Clone, Debug, clap::Args)]
pub struct MergeArgs {
    /// The shards' output directories (each holding a `shard.json`), in any order.
    #[arg(required = true, value_name = "DIR")]
    pub shards: Vec<PathBuf>,
    /// Output directory for `summary.csv`, `histograms.csv` and `manifest.json` (default
    /// `ictwin-out/<name>/` in the current directory, as for `ictwin run`).
    #[arg(long)]
    pub out: Option<PathBuf>,
}

/// `ictwin merge`.
pub fn cmd_merge(args: &MergeArgs) -> Result<()> {
    let shards = args
        .shards
        .iter()
        .map(|d| Ok((d.clone(), ShardFile::read(d)?)))
        .collect::<Result<Vec<_>>>()?;
    let m = merge(&shards)?;
    let out_dir = args
        .out
        .clone()
        .unwrap_or_else(|| super::run::default_out(&m.scenario.name));
    let out = OutDir::open(&out_dir)?;
    let row = output::summary_row(&m.scenario, &m.engine, stats::from_aggregates(&m.agg), m.wall_s);
    let device = format!("{} shards: {}", shards.len(), m.device);
    let manifest = Manifest {
        scenario: &m.scenario,
        origin: &m.origin,
        engine: &m.engine,
        device: Some(&device),
    };
    output::write_run_dir(
        out,
        vec![
            ("summary.csv".into(), output::summary_csv(std::slice::from_ref(&row))?),
            ("histograms.csv".into(), output::histograms_csv(&m.agg)),
        ],
        Some(&manifest),
    )?;
    print!("{}", output::render_table(&row));
    println!("  {:<20} {} shards", "merged", shards.len());
    println!("  {:<20} {}", "written to", out_dir.display());
    Ok(())
}
