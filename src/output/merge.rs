//! `ictwin merge`: shards of one run ([`super::shard`]) added back into the whole run's
//! aggregate array, after checking that they belong together and cover every replica once.
//! Aggregates are integer sums, so the merge is exact and independent of the shards' order:
//! the merged `summary.csv` and `histograms.csv` equal the unsharded run's byte for byte
//! apart from the timing columns (and the engine column when shards ran on different
//! engines).

use super::shard::ShardFile;
use crate::scenario::Scenario;
use anyhow::{bail, Result};
use std::path::{Path, PathBuf};

/// The whole run, merged from its shards.
#[derive(Clone, Debug)]
pub struct Merged {
    /// The resolved scenario of the run.
    pub scenario: Scenario,
    /// Where the first shard's scenario came from.
    pub origin: String,
    /// The whole run's aggregate array.
    pub agg: Vec<u64>,
    /// The engines the shards ran on, `+`-joined in sorted order (`cpu`, `gpu`, `cpu+gpu`);
    /// empty shards count for none; `none` when all are empty.
    pub engine: String,
    /// The devices the shards ran on, `; `-joined, each once, in order of replica ids.
    pub device: String,
    /// Sum of the shards' wall-clock times, s (the CPU or GPU time the run took in total,
    /// not the elapsed time of a parallel run).
    pub wall_s: f64,
}

/// Checks that `shards` (directory, file) are of one run and cover each of its replicas
/// exactly once, then adds their aggregates. Errors name the directory and the field.
pub fn merge(shards: &[(PathBuf, ShardFile)]) -> Result<Merged> {
    let Some((dir0, first)) = shards.first() else {
        bail!("no shard directories given");
    };
    for (dir, f) in &shards[1..] {
        check_same_run(dir0, first, dir, f)?;
    }
    check_coverage(shards)?;
    let mut order: Vec<&(PathBuf, ShardFile)> = shards.iter().collect();
    order.sort_by_key(|(_, f)| (f.replica_first, f.replica_end));
    let mut agg = vec![0u64; first.aggregates.len()];
    for (dir, f) in &order {
        for (i, (a, x)) in agg.iter_mut().zip(&f.aggregates).enumerate() {
            *a = a.checked_add(*x).ok_or_else(|| {
                anyhow::anyhow!(
                    "{}: counter {i} overflows when added to the other shards",
                    dir.display()
                )
            })?;
        }
    }
    let ran: Vec<&ShardFile> = order.iter().map(|(_, f)| f).filter(|f| !f.range().is_empty()).collect();
    let mut engines: Vec<&str> = ran.iter().map(|f| f.engine.as_str()).collect();
    engines.sort_unstable();
    engines.dedup();
    let mut devices: Vec<&str> = Vec::new();
    for f in &ran {
        if !devices.contains(&f.device.as_str()) {
            devices.push(&f.device);
        }
    }
    Ok(Merged {
        scenario: first.scenario.clone(),
        origin: first.scenario_origin.clone(),
        agg,
        engine: if engines.is_empty() {
            crate::engine::NO_ENGINE.into()
        } else {
            engines.join("+")
        },
        device: devices.join("; "),
        wall_s: order.iter().map(|(_, f)| f.wall_s).sum(),
    })
}

/// `f` (from `dir`) must be of the same run and build as `first` (from `dir0`).
fn check_same_run(dir0: &Path, first: &ShardFile, dir: &Path, f: &ShardFile) -> Result<()> {
    let fields: [(&str, String, String); 8] = [
        ("format", first.format.clone(), f.format.clone()),
        ("ictwin_version", first.ictwin_version.clone(), f.ictwin_version.clone()),
        ("git_commit", first.git_commit.clone(), f.git_commit.clone()),
        (
            "model_version",
            first.model_version.to_string(),
            f.model_version.to_string(),
        ),
        ("seed", first.seed.to_string(), f.seed.to_string()),
        ("replicas", first.replicas.to_string(), f.replicas.to_string()),
        ("rounds", first.rounds.to_string(), f.rounds.to_string()),
        ("scenario_hash", first.scenario_hash.clone(), f.scenario_hash.clone()),
    ];
    for (field, a, b) in fields {
        if a != b {
            bail!(
                "{} is not a shard of the same run as {}: field {field} is {b}, not {a}{}",
                dir.display(),
                dir0.display(),
                if field == "scenario_hash" {
                    format!(
                        " (scenarios {:?} and {:?} differ)",
                        f.scenario.name, first.scenario.name
                    )
                } else {
                    String::new()
                }
            );
        }
    }
    Ok(())
}

/// The shards' replica ranges must tile `0..replicas`: no replica twice, none missing.
fn check_coverage(shards: &[(PathBuf, ShardFile)]) -> Result<()> {
    let mut seen: Vec<(&Path, &ShardFile)> = Vec::new();
    for (dir, f) in shards {
        if let Some((d, _)) = seen
            .iter()
            .find(|(_, g)| (g.shard_index, g.shard_count) == (f.shard_index, f.shard_count))
        {
            bail!(
                "shard {}/{} is given twice: {} and {}",
                f.shard_index,
                f.shard_count,
                d.display(),
                dir.display()
            );
        }
        seen.push((dir, f));
    }
    let replicas = shards[0].1.replicas as u32;
    let mut ranges: Vec<(&Path, &ShardFile)> = seen.into_iter().filter(|(_, f)| !f.range().is_empty()).collect();
    ranges.sort_by_key(|(_, f)| f.replica_first);
    let mut next = 0u32;
    let mut prev: Option<&Path> = None;
    for (dir, f) in &ranges {
        if f.replica_first < next {
            bail!(
                "shards {} and {} overlap: both hold replicas {}..{}",
                prev.map(|p| p.display().to_string()).unwrap_or_default(),
                dir.display(),
                f.replica_first,
                next.min(f.replica_end)
            );
        }
        if f.replica_first > next {
            bail!("{}", missing(shards, next..f.replica_first));
        }
        next = f.replica_end;
        prev = Some(dir);
    }
    if next < replicas {
        bail!("{}", missing(shards, next..replicas));
    }
    Ok(())
}

/// The error for replicas `gap` in no shard given, naming the missing shards when all given
/// shards split the run the same way.
fn missing(shards: &[(PathBuf, ShardFile)], gap: std::ops::Range<u32>) -> String {
    let count = shards[0].1.shard_count;
    let mut msg = format!("replicas {}..{} are in none of the shards given", gap.start, gap.end);
    if shards.iter().all(|(_, f)| f.shard_count == count) {
        let replicas = shards[0].1.replicas as u32;
        let absent: Vec<String> = (0..count)
            .filter(|&i| {
                let r = super::shard::shard_range(i, count, replicas);
                !r.is_empty() && r.start < gap.end && gap.start < r.end
            })
            .map(|i| format!("{i}/{count}"))
            .collect();
        msg += &format!(
            " (missing shard{} {})",
            if absent.len() == 1 { "" } else { "s" },
            absent.join(", ")
        );
    }
    msg
}
