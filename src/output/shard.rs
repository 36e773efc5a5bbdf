//! Partial results of `ictwin run --shard I/N`: `shard.json`, holding a shard's raw integer
//! aggregates (every batch sum and histogram bin of `ictwin_kernels::agg`, not the rounded
//! summary) and the identity of the run it belongs to. [`super::merge`] adds shards back
//! into the whole run's aggregates.
//!
//! Shard I of N (0-based, 0 <= I < N) runs the contiguous block of replica ids
//! `floor(I R / N) .. floor((I + 1) R / N)` of a run of R replicas ([`shard_range`]); with
//! N > R some shards are empty. Each replica draws from its own counter-based Philox stream
//! and adds into the batch of the whole run's layout, so a shard's aggregates are exactly
//! what its replicas add in the unsharded run, and the sum over all shards is the unsharded
//! run's aggregate array.

use super::build_info;
use crate::scenario::Scenario;
use anyhow::{bail, Context, Result};
use ictwin_kernels::agg::AGG_LEN;
use serde::{Deserialize, Serialize};
use std::ops::Range;
use std::path::Path;

/// The partial result's file name inside a shard's output directory.
pub const SHARD_FILE: &str = "shard.json";

/// Value of [`ShardFile::format`]; bumped when the file's fields change.
pub const SHARD_FORMAT: &str = "ictwin-shard-1";

/// `--shard I/N`: shard `index` (0-based) of `count`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ShardSpec {
    /// 0-based shard index, below `count`.
    pub index: u32,
    /// Number of shards, at least 1.
    pub count: u32,
}

impl ShardSpec {
    /// The replica ids this shard runs out of `replicas` ([`shard_range`]).
    pub fn range(self, replicas: u32) -> Range<u32> {
        shard_range(self.index, self.count, replicas)
    }
}

impl std::fmt::Display for ShardSpec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

/// Parses `I/N` (0 <= I < N, N >= 1), the value of `--shard`.
pub fn parse_spec(text: &str) -> Result<ShardSpec, String> {
    let bad = || format!("expected I/N with 0 <= I < N (I is 0-based), got {text:?}");
    let (i, n) = text.split_once('/').ok_or_else(bad)?;
    let index: u32 = i.trim().parse().map_err(|_| bad())?;
    let count: u32 = n.trim().parse().map_err(|_| bad())?;
    if count == 0 || index >= count {
        return Err(bad());
    }
    Ok(ShardSpec { index, count })
}

/// Replica ids of shard `index` of `count` in a run of `replicas`: the contiguous block
/// `floor(index R / count) .. floor((index + 1) R / count)` (empty when count > R and the
/// block holds no id). The blocks of all shards tile `0..replicas`.
pub fn shard_range(index: u32, count: u32, replicas: u32) -> Range<u32> {
    let edge = |i: u32| (i as u64 * replicas as u64 / count.max(1) as u64) as u32;
    edge(index)..edge(index + 1)
}

/// 64-bit FNV-1a hash of the resolved scenario's JSON (struct field order, shortest
/// round-trip floats), as 16 hex digits: names the scenario a shard belongs to.
pub fn scenario_hash(s: &Scenario) -> Result<String> {
    let text = serde_json::to_string(s)?;
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in text.bytes() {
        h ^= b as u64;
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    Ok(format!("{h:016x}"))
}

/// The contents of `shard.json`.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ShardFile {
    /// [`SHARD_FORMAT`].
    pub format: String,
    /// ictwin crate version of the binary that ran the shard.
    pub ictwin_version: String,
    /// Its git commit (`unknown` outside a checkout; `-dirty` with local changes).
    pub git_commit: String,
    /// `ictwin_kernels::MODEL_VERSION` of that binary.
    pub model_version: u32,
    /// [`scenario_hash`] of `scenario`.
    pub scenario_hash: String,
    /// Where the scenario came from (a file or `<embedded default>`); informative only.
    pub scenario_origin: String,
    /// The run's seed (`scenario.run.seed`).
    pub seed: u64,
    /// Replicas of the whole run (`scenario.run.replicas`).
    pub replicas: u64,
    /// Round steps per replica (`scenario.run.rounds`).
    pub rounds: u64,
    /// 0-based shard index.
    pub shard_index: u32,
    /// Number of shards the run was split into.
    pub shard_count: u32,
    /// First replica id run.
    pub replica_first: u32,
    /// One past the last replica id run (`replica_first` when the shard is empty).
    pub replica_end: u32,
    /// `cpu`, `gpu`, or `none` for an empty shard.
    pub engine: String,
    /// The device (adapter name or CPU threads).
    pub device: String,
    /// Wall-clock time of the shard's simulation, s.
    pub wall_s: f64,
    /// The resolved scenario (overrides and calibration applied) of the whole run.
    pub scenario: Scenario,
    /// The raw aggregate array (`ictwin_kernels::agg` layout, `AGG_LEN` counters).
    pub aggregates: Vec<u64>,
}

/// What a shard ran, besides the scenario: its spec, engine, device, time and aggregates.
pub struct ShardRun<'a> {
    /// `--shard I/N`.
    pub spec: ShardSpec,
    /// `cpu`, `gpu` or `none`.
    pub engine: &'a str,
    /// The device.
    pub device: &'a str,
    /// Wall-clock time, s.
    pub wall_s: f64,
    /// Aggregates of the shard's replicas.
    pub agg: &'a [u64],
}

impl ShardFile {
    /// The record of shard `run` of the resolved scenario `s` (from `origin`).
    pub fn new(s: &Scenario, origin: &str, run: &ShardRun) -> Result<ShardFile> {
        let build = build_info();
        let range = run.spec.range(s.run.replicas as u32);
        Ok(ShardFile {
            format: SHARD_FORMAT.into(),
            ictwin_version: build["version"].as_str().unwrap_or_default().into(),
            git_commit: build["git_commit"].as_str().unwrap_or_default().into(),
            model_version: ictwin_kernels::MODEL_VERSION,
            scenario_hash: scenario_hash(s)?,
            scenario_origin: origin.into(),
            seed: s.run.seed,
            replicas: s.run.replicas,
            rounds: s.run.rounds,
            shard_index: run.spec.index,
            shard_count: run.spec.count,
            replica_first: range.start,
            replica_end: range.end,
            engine: run.engine.into(),
            device: run.device.into(),
            wall_s: run.wall_s,
            scenario: s.clone(),
            aggregates: run.agg.to_vec(),
        })
    }

    /// `shard.json` text (pretty JSON, one counter per line).
    pub fn to_json(&self) -> Result<String> {
        Ok(serde_json::to_string_pretty(self)? + "\n")
    }

    /// The replica ids this shard covers.
    pub fn range(&self) -> Range<u32> {
        self.replica_first..self.replica_end
    }

    /// Reads `<dir>/shard.json` and checks it is whole and consistent with itself (format,
    /// counter count, scenario hash, run fields, replica range of its I/N); errors name the
    /// file and the field.
    pub fn read(dir: &Path) -> Result<ShardFile> {
        let path = dir.join(SHARD_FILE);
        let text = std::fs::read_to_string(&path).with_context(|| {
            format!(
                "{}: cannot read the shard's partial result (is it the --out of `ictwin run --shard`?)",
                path.display()
            )
        })?;
        let f: ShardFile =
            serde_json::from_str(&text).with_context(|| format!("{}: not a shard file", path.display()))?;
        let bad = |field: &str, why: String| -> Result<ShardFile> { bail!("{}: field {field}: {why}", path.display()) };
        if f.format != SHARD_FORMAT {
            return bad("format", format!("{:?}, this ictwin reads {SHARD_FORMAT:?}", f.format));
        }
        if f.aggregates.len() != AGG_LEN as usize {
            return bad(
                "aggregates",
                format!("{} counters, expected {AGG_LEN}", f.aggregates.len()),
            );
        }
        let hash = scenario_hash(&f.scenario)?;
        if f.scenario_hash != hash {
            return bad(
                "scenario_hash",
                format!("{} but the scenario recorded hashes to {hash}", f.scenario_hash),
            );
        }
        let run = &f.scenario.run;
        for (field, got, want) in [
            ("seed", f.seed, run.seed),
            ("replicas", f.replicas, run.replicas),
            ("rounds", f.rounds, run.rounds),
        ] {
            if got != want {
                return bad(field, format!("{got} but the scenario's run.{field} is {want}"));
            }
        }
        if f.replicas == 0 || f.replicas > u32::MAX as u64 {
            return bad("replicas", format!("{} is outside 1..={}", f.replicas, u32::MAX));
        }
        if f.shard_count == 0 || f.shard_index >= f.shard_count {
            return bad(
                "shard_index",
                format!("{}/{} is not a shard I/N with I < N", f.shard_index, f.shard_count),
            );
        }
        let want = shard_range(f.shard_index, f.shard_count, f.replicas as u32);
        if f.range() != want {
            return bad(
                "replica_first/replica_end",
                format!(
                    "{:?}, but shard {}/{} of {} replicas is {want:?}",
                    f.range(),
                    f.shard_index,
                    f.shard_count,
                    f.replicas
                ),
            );
        }
        Ok(f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shard_ranges_tile_the_replicas() {
        for replicas in [1u32, 2, 5, 63, 64, 65, 1000] {
            for count in [1u32, 2, 3, 4, 7, 16, 100, 2000] {
                let mut next = 0;
                for i in 0..count {
                    let r = shard_range(i, count, replicas);
                    assert_eq!(r.start, next, "R={replicas} N={count} i={i}");
                    assert!(r.end >= r.start);
                    assert!(r.len() as u32 <= replicas.div_ceil(count));
                    next = r.end;
                }
                assert_eq!(next, replicas);
            }
        }
        assert_eq!(shard_range(0, 4, u32::MAX).start, 0);
        assert_eq!(shard_range(3, 4, u32::MAX).end, u32::MAX);
    }

    #[test]
    fn shard_specs_parse_and_refuse() {
        assert_eq!(parse_spec("0/1"), Ok(ShardSpec { index: 0, count: 1 }));
        assert_eq!(parse_spec("3/4").unwrap().to_string(), "3/4");
        for bad in ["4/4", "1/0", "x/2", "1", "-1/2", "1/2/3", ""] {
            assert!(parse_spec(bad).is_err(), "{bad}");
        }
    }
}
