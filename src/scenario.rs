//! Scenario files (TOML): what subnet, network, faults and run size to simulate.
//!
//! Errors name the file, the line where the toml parser or the offending key sits, the key
//! and the problem. Unusual but legal settings (more than f faulty nodes) are warnings: that
//! is what users study.

use crate::dist::Delay;
use anyhow::{bail, Result};
use ictwin_kernels::params::{faults_tolerated, MAX_NODES};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// The embedded default scenario: a 13-node application subnet.
pub const DEFAULT_SCENARIO: &str = include_str!("../experiments/ic-app-13.toml");

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scenario {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    pub subnet: Subnet,
    #[serde(default)]
    pub network: Network,
    #[serde(default)]
    pub faults: Faults,
    #[serde(default)]
    pub run: Run,
    /// Coarse-model calibration (see `ictwin calibrate`); absent = uncalibrated.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub calibration: Option<Calibration>,
    /// Fine-engine settings (`[fine]`); absent = defaults.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fine: Option<crate::fine::FineConfig>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Subnet {
    /// Number of nodes n (1..=128 for the coarse engine).
    pub nodes: u32,
    /// Unit delay U, ms (1000 on application subnets, 3000 on the NNS).
    #[serde(default = "default_unit_delay")]
    pub unit_delay_ms: f64,
    /// Initial notary delay N0, ms (300 today).
    #[serde(default = "default_n0")]
    pub initial_notary_delay_ms: f64,
    /// Finality backoff: notary delay N0 + r U 1.5^g.
    #[serde(default = "default_true")]
    pub finality_backoff: bool,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Network {
    /// One-way message delay between two nodes.
    pub delay: Delay,
}

impl Default for Network {
    fn default() -> Self {
        Network {
            delay: Delay::Lognormal {
                median_ms: 70.0,
                sigma: 0.5,
            },
        }
    }
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Faults {
    /// Nodes permanently down.
    #[serde(default)]
    pub crashed: u32,
    /// Byzantine nodes that never propose and never sign.
    #[serde(default)]
    pub silent: u32,
    /// Byzantine nodes that, as block makers, propose two blocks.
    #[serde(default)]
    pub equivocating: u32,
    /// Mean time between failures of an honest node, hours (0: no dynamic failures).
    #[serde(default)]
    pub mtbf_hours: f64,
    /// Mean time to repair, hours.
    #[serde(default)]
    pub mttr_hours: f64,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Run {
    #[serde(default = "default_replicas")]
    pub replicas: u64,
    #[serde(default = "default_rounds")]
    pub rounds: u64,
    #[serde(default = "default_seed")]
    pub seed: u64,
}

impl Default for Run {
    fn default() -> Self {
        Run {
            replicas: default_replicas(),
            rounds: default_rounds(),
            seed: default_seed(),
        }
    }
}

/// What the coarse model abstracts away, fitted against the fine engine.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Calibration {
    /// Every network delay sample is multiplied by this.
    #[serde(default = "default_one")]
    pub delay_scale: f64,
    /// Added to every round time, ms.
    #[serde(default)]
    pub round_overhead_ms: f64,
    /// Added to every finalization time, ms.
    #[serde(default)]
    pub finalization_overhead_ms: f64,
    /// On a gossip overlay (`[fine] gossip_fanout = k > 0`), a message crosses about
    /// h = max(1, ln n / ln k) hops; every hop beyond the first adds this fraction of a
    /// one-hop delay: effective scale = delay_scale (1 + gossip_hop_scale (h - 1)).
    #[serde(default)]
    pub gossip_hop_scale: f64,
}

impl Calibration {
    /// The effective delay scale for a subnet of `nodes` on a gossip overlay of fan-out
    /// `fanout` (0: full mesh).
    pub fn effective_delay_scale(&self, nodes: u32, fanout: u32) -> f64 {
        let hops = if fanout >= 2 && nodes > 1 {
            ((nodes as f64).ln() / (fanout as f64).ln()).max(1.0)
        } else {
            1.0
        };
        self.delay_scale * (1.0 + self.gossip_hop_scale * (hops - 1.0))
    }
}

impl Default for Calibration {
    fn default() -> Self {
        Calibration {
            delay_scale: 1.0,
            round_overhead_ms: 0.0,
            finalization_overhead_ms: 0.0,
            gossip_hop_scale: 0.0,
        }
    }
}

fn default_unit_delay() -> f64 {
    1000.0
}
fn default_n0() -> f64 {
    300.0
}
fn default_true() -> bool {
    true
}
fn default_one() -> f64 {
    1.0
}
fn default_replicas() -> u64 {
    100_000
}
fn default_rounds() -> u64 {
    100
}
fn default_seed() -> u64 {
    1
}

/// A parsed, validated scenario with where it came from.
#[derive(Clone, Debug)]
pub struct Loaded {
    pub scenario: Scenario,
    /// The file, or `<embedded default>`.
    pub origin: String,
    pub warnings: Vec<String>,
}

impl Scenario {
    /// f = (n - 1) / 3.
    pub fn f(&self) -> u32 {
        faults_tolerated(self.subnet.nodes)
    }
    pub fn byzantine(&self) -> u32 {
        self.faults.silent + self.faults.equivocating
    }
    pub fn dynamic_failures(&self) -> bool {
        self.faults.mtbf_hours > 0.0
    }
}

/// Loads a scenario file (or the embedded default when `path` is `None`).
pub fn load(path: Option<&Path>) -> Result<Loaded> {
    match path {
        None => parse(DEFAULT_SCENARIO, "<embedded default>", Path::new("experiments")),
        Some(p) => {
            let text = std::fs::read_to_string(p)
                .map_err(|e| anyhow::anyhow!("{}: cannot read scenario: {e}", p.display()))?;
            let dir = p.parent().map(Path::to_path_buf).unwrap_or_else(|| PathBuf::from("."));
            parse(&text, &p.display().to_string(), &dir)
        }
    }
}

/// Parses and validates scenario text; `origin` names it in errors, `base_dir` resolves
/// relative paths (empirical delay files).
pub fn parse(text: &str, origin: &str, base_dir: &Path) -> Result<Loaded> {
    let mut scenario: Scenario = match toml::from_str(text) {
        Ok(s) => s,
        Err(e) => bail!("{origin}{}: {}", toml_error_location(text, &e), e.message().trim()),
    };
    let warnings = validate(&mut scenario, text, origin, base_dir)?;
    Ok(Loaded {
        scenario,
        origin: origin.to_string(),
        warnings,
    })
}

/// `:line` of a toml parse error (empty if the parser gave no position).
pub fn toml_error_location(text: &str, e: &toml::de::Error) -> String {
    e.span()
        .map(|s| format!(":{}", text[..s.start].matches('\n').count() + 1))
        .unwrap_or_default()
}

/// 1-based line of `key` inside `[table]` (best effort, for error messages).
fn line_of(text: &str, table: &str, key: &str) -> Option<usize> {
    let mut current = String::new();
    let mut table_line = None;
    for (i, raw) in text.lines().enumerate() {
        let line = raw.trim();
        if line.starts_with('[') {
            current = line.trim_matches(|c| c == '[' || c == ']').trim().to_string();
            if current == table {
                table_line = Some(i + 1);
            }
            continue;
        }
        if current == table {
            let k = line.split('=').next().unwrap_or("").trim();
            if k == key || line.contains(&format!("{key} =")) || line.contains(&format!("{key}=")) {
                return Some(i + 1);
            }
        }
    }
    table_line
}

fn validate(s: &mut Scenario, text: &str, origin: &str, base_dir: &Path) -> Result<Vec<String>> {
    let err = |table: &str, key: &str, msg: String| -> anyhow::Error {
        let loc = line_of(text, table, key.rsplit('.').next().unwrap_or(key))
            .map(|l| format!(":{l}"))
            .unwrap_or_default();
        let full = if table.is_empty() {
            key.to_string()
        } else {
            format!("{table}.{key}")
        };
        anyhow::anyhow!("{origin}{loc}: key `{full}`: {msg}")
    };
    let mut warnings = Vec::new();
    if s.name.trim().is_empty() || s.name.contains(['/', '\\']) {
        return Err(err(
            "",
            "name",
            "must be a non-empty name without path separators".into(),
        ));
    }
    let n = s.subnet.nodes;
    if n == 0 {
        return Err(err("subnet", "nodes", "must be at least 1".into()));
    }
    for (key, v) in [
        ("unit_delay_ms", s.subnet.unit_delay_ms),
        ("initial_notary_delay_ms", s.subnet.initial_notary_delay_ms),
    ] {
        if !v.is_finite() || v < 0.0 || v * 1000.0 > u32::MAX as f64 {
            return Err(err("subnet", key, format!("must be between 0 and 4294967 ms, got {v}")));
        }
    }
    if let Err((key, msg)) = s.network.delay.validate_and_load(base_dir) {
        return Err(err("network", &format!("delay.{key}"), msg));
    }
    let f = &s.faults;
    let faulty = f.crashed as u64 + f.silent as u64 + f.equivocating as u64;
    if faulty > n as u64 {
        return Err(err(
            "faults",
            "crashed",
            format!("crashed + silent + equivocating = {faulty} is more than the {n} nodes"),
        ));
    }
    for (key, v) in [("mtbf_hours", f.mtbf_hours), ("mttr_hours", f.mttr_hours)] {
        if !v.is_finite() || v < 0.0 {
            return Err(err("faults", key, format!("must be a finite number >= 0, got {v}")));
        }
    }
    if (f.mtbf_hours > 0.0) != (f.mttr_hours > 0.0) {
        return Err(err(
            "faults",
            "mttr_hours",
            "dynamic failures need both mtbf_hours and mttr_hours > 0 (or both 0)".into(),
        ));
    }
    let fmax = faults_tolerated(n);
    if faulty > fmax as u64 {
        warnings.push(format!(
            "{origin}: {faulty} faulty nodes is more than f = {fmax} for n = {n}: expect stalls (this is legal, and what such studies look at)"
        ));
    }
    if s.run.replicas == 0 || s.run.replicas > u32::MAX as u64 {
        return Err(err(
            "run",
            "replicas",
            format!("must be between 1 and {}, got {}", u32::MAX, s.run.replicas),
        ));
    }
    if s.run.rounds == 0 || s.run.rounds > u32::MAX as u64 {
        return Err(err(
            "run",
            "rounds",
            format!("must be between 1 and {}, got {}", u32::MAX, s.run.rounds),
        ));
    }
    if let Some(c) = &s.calibration {
        if !c.delay_scale.is_finite() || c.delay_scale < 0.0 || c.delay_scale > 60000.0 {
            return Err(err(
                "calibration",
                "delay_scale",
                format!("must be between 0 and 60000, got {}", c.delay_scale),
            ));
        }
        for (key, v) in [
            ("round_overhead_ms", c.round_overhead_ms),
            ("finalization_overhead_ms", c.finalization_overhead_ms),
        ] {
            if !v.is_finite() || v < 0.0 || v * 1000.0 > u32::MAX as f64 {
                return Err(err(
                    "calibration",
                    key,
                    format!("must be between 0 and 4294967 ms, got {v}"),
                ));
            }
        }
    }
    Ok(warnings)
}

/// Checks that the coarse engine can run this scenario (n <= 128).
pub fn check_coarse_limits(s: &Scenario, origin: &str) -> Result<()> {
    if s.subnet.nodes > MAX_NODES {
        bail!("{origin}: key `subnet.nodes`: the coarse engine supports at most {MAX_NODES} nodes, got {} (the fine engine has no such limit)", s.subnet.nodes);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_scenario_parses() {
        let l = load(None).unwrap();
        assert_eq!(l.scenario.subnet.nodes, 13);
        assert!(l.warnings.is_empty());
    }

    fn parse_err(text: &str) -> String {
        format!("{:#}", parse(text, "x.toml", Path::new(".")).unwrap_err())
    }

    #[test]
    fn unknown_key_names_file_line_and_key() {
        let e = parse_err("name = \"a\"\n[subnet]\nnodes = 4\nnodez = 5\n");
        assert!(e.starts_with("x.toml:4:"), "{e}");
        assert!(e.contains("nodez"), "{e}");
    }

    #[test]
    fn wrong_type_is_reported() {
        let e = parse_err("name = \"a\"\n[subnet]\nnodes = \"many\"\n");
        assert!(e.starts_with("x.toml:3:"), "{e}");
    }

    #[test]
    fn negative_delay_is_an_error() {
        let e = parse_err("name = \"a\"\n[subnet]\nnodes = 4\n[network]\ndelay = { dist = \"constant\", ms = -1.0 }\n");
        assert!(e.contains("x.toml:5: key `network.delay.ms`"), "{e}");
    }

    #[test]
    fn too_many_faulty_is_an_error_more_than_f_a_warning() {
        let e = parse_err("name = \"a\"\n[subnet]\nnodes = 4\n[faults]\ncrashed = 3\nsilent = 2\n");
        assert!(e.contains("more than the 4 nodes"), "{e}");
        let l = parse(
            "name = \"a\"\n[subnet]\nnodes = 4\n[faults]\ncrashed = 2\n",
            "x.toml",
            Path::new("."),
        )
        .unwrap();
        assert_eq!(l.warnings.len(), 1);
    }
}
