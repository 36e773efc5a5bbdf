//! The fault file of `ictwin ic` (TOML): failure processes at every level of the topology,
//! provider takeovers, NNS node replacement and the run size. Durations are in hours.
//!
//! ```toml
//! [node]                      # also [data_center], [owner], [provider], [country]
//! mtbf_hours = 8766           # mean up time; 0 or absent = this level never fails
//! repair = { dist = "lognormal", median_hours = 24.0, sigma = 1.0 }
//! [takeover]                  # a provider's nodes all Byzantine for a while
//! mtbf_hours = 0              # per provider; 0 = never
//! duration = { dist = "constant", hours = 168.0 }
//! [nns]
//! replacement = true
//! detect_hours = 24.0
//! governance = { dist = "uniform", min_hours = 48.0, max_hours = 168.0 }
//! catch_up_hours = 2.0
//! keep_limits = true         # replacements keep the topology's per-subnet limits
//! [run]
//! years = 1
//! replicas = 1000
//! seed = 1
//! ```
//! Errors name the file, the line, the key and the problem.

use super::toml_errors::{toml_error_location, toml_error_message};
use anyhow::{anyhow, Result};
use serde::{Deserialize, Serialize};
use std::path::Path;

/// Most years per replica (the kernel's event times stop at 2^44 ms, 557 years).
pub const MAX_YEARS: u32 = 500;

/// The embedded default fault file (`experiments/ic/faults-default.toml`).
pub const DEFAULT_FAULTS: &str = include_str!("../../experiments/ic/faults-default.toml");

/// A duration distribution, hours.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "dist", rename_all = "lowercase", deny_unknown_fields)]
pub enum Span {
    /// Always `hours`.
    Constant { hours: f64 },
    /// Uniform on [min_hours, max_hours].
    Uniform { min_hours: f64, max_hours: f64 },
    /// Exponential with mean `mean_hours`.
    Exponential { mean_hours: f64 },
    /// Lognormal with median `median_hours` and log-space standard deviation `sigma`.
    Lognormal { median_hours: f64, sigma: f64 },
}

impl Span {
    /// Checks the parameters: finite, positive where they must be, at most 100 years.
    pub fn check(&self) -> std::result::Result<(), String> {
        const MAX_H: f64 = 876_600.0;
        let ok = |x: f64, what: &str| -> std::result::Result<(), String> {
            if !x.is_finite() || !(0.0..=MAX_H).contains(&x) {
                Err(format!(
                    "{what} must be a number of hours in [0, {MAX_H}] (100 years), got {x}"
                ))
            } else {
                Ok(())
            }
        };
        match *self {
            Span::Constant { hours } => ok(hours, "hours"),
            Span::Uniform { min_hours, max_hours } => {
                ok(min_hours, "min_hours")?;
                ok(max_hours, "max_hours")?;
                if max_hours < min_hours {
                    return Err(format!("max_hours {max_hours} is below min_hours {min_hours}"));
                }
                Ok(())
            }
            Span::Exponential { mean_hours } => ok(mean_hours, "mean_hours"),
            Span::Lognormal { median_hours, sigma } => {
                ok(median_hours, "median_hours")?;
                if !sigma.is_finite() || !(0.0..=3.0).contains(&sigma) {
                    return Err(format!("sigma must be in [0, 3], got {sigma}"));
                }
                Ok(())
            }
        }
    }

    /// Quantile at probability `p` in [0, 1), hours.
    pub fn quantile_hours(&self, p: f64) -> f64 {
        match *self {
            Span::Constant { hours } => hours,
            Span::Uniform { min_hours, max_hours } => min_hours + p * (max_hours - min_hours),
            Span::Exponential { mean_hours } => -mean_hours * (-p).ln_1p(),
            Span::Lognormal { median_hours, sigma } => {
                use statrs::distribution::{ContinuousCDF, Normal};
                let z = Normal::new(0.0, 1.0).map(|n| n.inverse_cdf(p)).unwrap_or(0.0);
                median_hours * (sigma * z).exp()
            }
        }
    }

    /// Mean, hours.
    pub fn mean_hours(&self) -> f64 {
        match *self {
            Span::Constant { hours } => hours,
            Span::Uniform { min_hours, max_hours } => (min_hours + max_hours) / 2.0,
            Span::Exponential { mean_hours } => mean_hours,
            Span::Lognormal { median_hours, sigma } => median_hours * (sigma * sigma / 2.0).exp(),
        }
    }
}

/// One level's failure process.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Level {
    /// Mean up time, hours; 0 = never fails.
    #[serde(default)]
    pub mtbf_hours: f64,
    /// Repair (down) time.
    #[serde(default = "default_repair")]
    pub repair: Span,
}

fn default_repair() -> Span {
    Span::Constant { hours: 1.0 }
}

impl Default for Level {
    fn default() -> Self {
        Level {
            mtbf_hours: 0.0,
            repair: default_repair(),
        }
    }
}

/// Provider takeovers.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Takeover {
    /// Mean time between takeovers of one provider, hours; 0 = never.
    #[serde(default)]
    pub mtbf_hours: f64,
    /// How long a takeover lasts.
    #[serde(default = "default_repair")]
    pub duration: Span,
}

impl Default for Takeover {
    fn default() -> Self {
        Takeover {
            mtbf_hours: 0.0,
            duration: default_repair(),
        }
    }
}

/// NNS node replacement.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Nns {
    /// Whether down members are replaced at all.
    #[serde(default)]
    pub replacement: bool,
    /// Down time before a replacement is proposed, hours.
    #[serde(default)]
    pub detect_hours: f64,
    /// Proposal and vote, from proposal to execution.
    #[serde(default = "zero_span")]
    pub governance: Span,
    /// A new member's catch-up (state sync) time, hours.
    #[serde(default)]
    pub catch_up_hours: f64,
    /// Whether a replacement must keep each subnet within its limits (the topology file's
    /// per-subnet limits on providers, data centers, owners and countries).
    #[serde(default = "yes")]
    pub keep_limits: bool,
}

fn yes() -> bool {
    true
}

fn zero_span() -> Span {
    Span::Constant { hours: 0.0 }
}

impl Default for Nns {
    fn default() -> Self {
        Nns {
            replacement: false,
            detect_hours: 0.0,
            governance: zero_span(),
            catch_up_hours: 0.0,
            keep_limits: true,
        }
    }
}

/// Run size.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IcRunSize {
    /// Years per replica (1..=[`MAX_YEARS`]).
    #[serde(default = "one")]
    pub years: u32,
    /// Replicas (1..=u32::MAX).
    #[serde(default = "thousand")]
    pub replicas: u64,
    /// RNG seed.
    #[serde(default = "one_u64")]
    pub seed: u64,
}

fn one() -> u32 {
    1
}
fn one_u64() -> u64 {
    1
}
fn thousand() -> u64 {
    1000
}

impl Default for IcRunSize {
    fn default() -> Self {
        IcRunSize {
            years: 1,
            replicas: 1000,
            seed: 1,
        }
    }
}

/// A fault file.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IcFaults {
    /// Free text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default)]
    pub node: Level,
    #[serde(default)]
    pub data_center: Level,
    #[serde(default)]
    pub owner: Level,
    #[serde(default)]
    pub provider: Level,
    #[serde(default)]
    pub country: Level,
    #[serde(default)]
    pub takeover: Takeover,
    #[serde(default)]
    pub nns: Nns,
    #[serde(default)]
    pub run: IcRunSize,
}

impl IcFaults {
    /// The five failure levels in kernel order (node, data center, owner, provider, country)
    /// with their table names.
    pub fn levels(&self) -> [(&'static str, &Level); 5] {
        [
            ("node", &self.node),
            ("data_center", &self.data_center),
            ("owner", &self.owner),
            ("provider", &self.provider),
            ("country", &self.country),
        ]
    }

    /// Checks every value; the error names the key.
    fn check(&self) -> std::result::Result<(), (String, String)> {
        let hours = |x: f64, key: String| -> std::result::Result<(), (String, String)> {
            if !x.is_finite() || !(0.0..=876_600.0).contains(&x) {
                Err((
                    key,
                    format!("must be a number of hours in [0, 876600] (100 years), got {x}"),
                ))
            } else {
                Ok(())
            }
        };
        for (name, l) in self.levels() {
            hours(l.mtbf_hours, format!("{name}.mtbf_hours"))?;
            l.repair.check().map_err(|m| (format!("{name}.repair"), m))?;
            if l.mtbf_hours > 0.0 && l.repair.mean_hours() <= 0.0 {
                return Err((
                    format!("{name}.repair"),
                    "a level that fails needs a positive mean repair time".into(),
                ));
            }
        }
        hours(self.takeover.mtbf_hours, "takeover.mtbf_hours".into())?;
        self.takeover
            .duration
            .check()
            .map_err(|m| ("takeover.duration".into(), m))?;
        hours(self.nns.detect_hours, "nns.detect_hours".into())?;
        hours(self.nns.catch_up_hours, "nns.catch_up_hours".into())?;
        self.nns.governance.check().map_err(|m| ("nns.governance".into(), m))?;
        if !(1..=MAX_YEARS).contains(&self.run.years) {
            return Err((
                "run.years".into(),
                format!("must be in 1..={MAX_YEARS}, got {}", self.run.years),
            ));
        }
        if !(1..=u32::MAX as u64).contains(&self.run.replicas) {
            return Err((
                "run.replicas".into(),
                format!("must be in 1..={}, got {}", u32::MAX, self.run.replicas),
            ));
        }
        Ok(())
    }
}

/// Parses and checks fault-file text; `origin` names it in errors.
pub fn parse_faults(text: &str, origin: &str) -> Result<IcFaults> {
    let f: IcFaults = toml::from_str(text).map_err(|e| {
        let at = toml_error_location(text, &e);
        anyhow!("{origin}{at}: {}", toml_error_message(text, &e))
    })?;
    f.check().map_err(|(key, msg)| {
        let line = key_line(text, &key).map(|l| format!(":{l}")).unwrap_or_default();
        anyhow!("{origin}{line}: key `{key}`: {msg}")
    })?;
    Ok(f)
}

/// The line (1-based) where the last part of a dotted `key` is set, if found.
fn key_line(text: &str, key: &str) -> Option<usize> {
    let (table, leaf) = key.split_once('.').unwrap_or(("", key));
    let mut in_table = table.is_empty();
    for (i, line) in text.lines().enumerate() {
        let l = line.trim();
        if l.starts_with('[') {
            in_table = l.trim_matches(['[', ']', ' ']) == table;
            continue;
        }
        if in_table && (l.starts_with(leaf) && l[leaf.len()..].trim_start().starts_with('=')) {
            return Some(i + 1);
        }
    }
    None
}

/// Reads a fault file, or the embedded default when `path` is `None`.
pub fn load_faults(path: Option<&Path>) -> Result<(IcFaults, String)> {
    match path {
        None => Ok((
            parse_faults(DEFAULT_FAULTS, "<embedded default faults>")?,
            "<embedded default faults>".into(),
        )),
        Some(p) => {
            let text =
                std::fs::read_to_string(p).map_err(|e| anyhow!("cannot read fault file {}: {e}", p.display()))?;
            let origin = p.display().to_string();
            Ok((parse_faults(&text, &origin)?, origin))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_parses_and_errors_name_the_key_and_line() {
        let f = parse_faults(DEFAULT_FAULTS, "d").unwrap();
        assert!(f.node.mtbf_hours > 0.0);
        let e = parse_faults("[node]\nmtbf_hours = -3\n", "x.toml")
            .unwrap_err()
            .to_string();
        assert!(e.contains("x.toml:2") && e.contains("node.mtbf_hours"), "{e}");
        let e = parse_faults("[node]\nmtbf = 3\n", "x.toml").unwrap_err().to_string();
        assert!(e.contains("x.toml") && e.contains("mtbf"), "{e}");
        let e = parse_faults(
            "[nns]\ngovernance = { dist = \"uniform\", min_hours = 5.0, max_hours = 1.0 }\n",
            "y",
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("nns.governance") && e.contains("y:2"), "{e}");
        let e = parse_faults("[run]\nyears = 0\n", "z").unwrap_err().to_string();
        assert!(e.contains("run.years"), "{e}");
    }

    #[test]
    fn span_quantiles_and_means() {
        let l = Span::Lognormal {
            median_hours: 10.0,
            sigma: 1.0,
        };
        assert!((l.quantile_hours(0.5) - 10.0).abs() < 1e-9);
        assert!((l.mean_hours() - 10.0 * 0.5f64.exp()).abs() < 1e-9);
        let e = Span::Exponential { mean_hours: 2.0 };
        assert!((e.quantile_hours(1.0 - (-1.0f64).exp()) - 2.0).abs() < 1e-9);
    }
}
