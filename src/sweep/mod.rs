//! Parameter sweeps: the plan (every point's scenario, built from the scenario document with
//! the point's values written in and checked by the normal loader before anything runs) and
//! running a point ([`run`]) on an engine opened once for the whole sweep.
//!
//! A point's scenario is the scenario file's TOML document without its `[sweep]` table, with
//! each swept `key = value` written in ([`crate::scenario::sweep::apply`]), parsed and checked
//! like any scenario file (so every error names the file, line and key), then the
//! command-line `--replicas`/`--rounds`/`--seed` applied, then `run.seed` replaced by the
//! point's derived seed ([`crate::scenario::sweep::derived_seed`]).

pub mod run;

use crate::scenario::sweep::{self as axes, Axis, SweepTable};
use crate::scenario::{self, Scenario, DEFAULT_SCENARIO};
use anyhow::{bail, Result};
use std::path::{Path, PathBuf};

pub use run::{Runner, SweepEngine};

/// Command-line values that replace `[run]` keys in every point (`None`: the file's).
#[derive(Clone, Copy, Debug, Default)]
pub struct Overrides {
    /// `run.replicas`.
    pub replicas: Option<u64>,
    /// `run.rounds`.
    pub rounds: Option<u64>,
    /// `run.seed`, the base of the derived seeds.
    pub seed: Option<u64>,
}

/// One point of a sweep.
#[derive(Clone, Debug)]
pub struct Point {
    /// Position in the sweep (grid order, first key slowest; or zip order), from 0.
    pub index: usize,
    /// The swept (key, value) pairs, in axis order.
    pub values: Vec<(String, toml::Value)>,
    /// The point's resolved scenario (derived seed in `run.seed`, no `[sweep]` table).
    pub scenario: Scenario,
    /// Its directory inside the sweep directory, `points/<index>-<slug>`.
    pub dir: String,
}

impl Point {
    /// `key=value, ...` for messages.
    pub fn label(&self) -> String {
        self.values
            .iter()
            .map(|(k, v)| format!("{k}={}", axes::value_text(v)))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// A checked sweep: its axes and every point.
#[derive(Clone, Debug)]
pub struct Plan {
    /// The scenario file, or `<embedded default>`.
    pub origin: String,
    /// The scenario without points (overrides applied), with the `[sweep]` table in effect.
    pub base: Scenario,
    /// The axes, in order (the first is the x axis of the plots).
    pub axes: Vec<Axis>,
    /// Aligned lists (`true`) or grid.
    pub zip: bool,
    /// Every point, in order.
    pub points: Vec<Point>,
    /// Warnings of the points' scenarios (e.g. more than f faulty nodes), one per line.
    pub warnings: Vec<String>,
}

/// Which checks a point must pass besides the scenario's own.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Level {
    /// The coarse engines (at most 128 nodes).
    Coarse,
    /// The fine engine (`[fine]` table, memory).
    Fine,
}

/// Most point errors listed in one message.
const MAX_LISTED: usize = 20;

/// Plans the sweep of the scenario at `path` (the embedded default when `None`): axes from
/// `set` (`KEY=VALUES` each; `zip` for aligned lists) or, when `set` is empty, from the file's
/// `[sweep]` table (`zip` forces aligned lists). Builds and checks every point before
/// anything runs: an unknown key is an error naming it, invalid points are listed with their
/// values and the loader's message. Fine-engine checks (memory) use the current rayon pool.
pub fn plan(path: Option<&Path>, set: &[String], zip: bool, ov: &Overrides, level: Level) -> Result<Plan> {
    let (text, origin, base_dir) = match path {
        None => (
            DEFAULT_SCENARIO.to_string(),
            "<embedded default>".to_string(),
            PathBuf::from("experiments"),
        ),
        Some(p) => (
            std::fs::read_to_string(p).map_err(|e| anyhow::anyhow!("{}: cannot read scenario: {e}", p.display()))?,
            p.display().to_string(),
            p.parent().map(Path::to_path_buf).unwrap_or_else(|| PathBuf::from(".")),
        ),
    };
    let mut base = scenario::parse(&text, &origin, &base_dir)?.scenario;
    let table = if set.is_empty() {
        let t = base.sweep.clone().unwrap_or_default();
        SweepTable { zip: t.zip || zip, ..t }
    } else {
        SweepTable { set: set.to_vec(), zip }
    };
    if table.set.is_empty() {
        bail!("{origin}: nothing to sweep: give --set KEY=VALUES or a [sweep] table with `set`");
    }
    let axes = table
        .set
        .iter()
        .map(|s| Axis::parse(s).map_err(|e| anyhow::anyhow!("sweep axis {e}")))
        .collect::<Result<Vec<_>>>()?;
    let points = axes::points(&axes, table.zip).map_err(|e| anyhow::anyhow!("sweep: {e}"))?;
    for (flag, key, given) in [
        ("--replicas", "run.replicas", ov.replicas.is_some()),
        ("--rounds", "run.rounds", ov.rounds.is_some()),
        ("--seed", "run.seed", ov.seed.is_some()),
    ] {
        if given && axes.iter().any(|a| a.key == key) {
            bail!("{flag} and the swept key `{key}` both set it; drop one");
        }
    }
    let mut doc: toml_edit::DocumentMut = text.parse().map_err(|e| anyhow::anyhow!("{origin}: {e}"))?;
    doc.remove("sweep");
    apply_overrides(&mut base, ov)?;
    base.sweep = Some(table.clone());
    let mut out = Vec::new();
    let mut errors = Vec::new();
    let mut warnings = Vec::new();
    for (index, values) in points.into_iter().enumerate() {
        let label = values
            .iter()
            .map(|(k, v)| format!("{k}={}", axes::value_text(v)))
            .collect::<Vec<_>>()
            .join(", ");
        match build_point(&doc, &values, &origin, &base_dir, ov, level) {
            Ok((scenario, w)) => {
                warnings.extend(w.into_iter().map(|w| format!("sweep point {index} ({label}): {w}")));
                let dir = axes::point_dir(index, &values);
                out.push(Point {
                    index,
                    values,
                    scenario,
                    dir,
                });
            }
            Err(PointError::Key(e)) => bail!("{e}"),
            Err(PointError::Invalid(e)) => errors.push(format!("sweep point {index} ({label}): {e:#}")),
        }
    }
    if !errors.is_empty() {
        let more = errors.len().saturating_sub(MAX_LISTED);
        let mut msg = format!(
            "{} of {} sweep points are invalid; nothing was run:\n  {}",
            errors.len(),
            out.len() + errors.len(),
            errors[..errors.len().min(MAX_LISTED)].join("\n  ")
        );
        if more > 0 {
            msg.push_str(&format!("\n  ... and {more} more"));
        }
        bail!("{msg}");
    }
    Ok(Plan {
        origin,
        base,
        axes,
        zip: table.zip,
        points: out,
        warnings,
    })
}

/// Why a point could not be built: a key that no scenario has (the whole sweep is wrong), or
/// a value that makes this point's scenario invalid.
enum PointError {
    Key(String),
    Invalid(anyhow::Error),
}

/// The scenario of one point (see the module doc) and its warnings.
fn build_point(
    doc: &toml_edit::DocumentMut,
    values: &[(String, toml::Value)],
    origin: &str,
    base_dir: &Path,
    ov: &Overrides,
    level: Level,
) -> std::result::Result<(Scenario, Vec<String>), PointError> {
    let mut d = doc.clone();
    let mut added = false;
    for (k, v) in values {
        added |= axes::apply(&mut d, k, v).map_err(|e| PointError::Key(format!("sweep: {e}")))?;
    }
    let loaded = scenario::parse(&d.to_string(), origin, base_dir).map_err(|e| {
        let mut msg = format!("{e:#}");
        if added {
            // Lines moved below an added key: name the file and key without a line.
            if let Some(rest) = msg.strip_prefix(origin).and_then(|r| r.strip_prefix(':')) {
                let digits = rest.chars().take_while(char::is_ascii_digit).count();
                if digits > 0 && rest[digits..].starts_with(':') {
                    msg = format!("{origin}{}", &rest[digits..]);
                }
            }
        }
        match values
            .iter()
            .find(|(k, _)| msg.contains(&format!("unknown field `{}`", k.rsplit('.').next().unwrap_or(k))))
        {
            // The line of an added key is not in the file: name the key only.
            Some((k, _)) => PointError::Key(format!(
                "sweep: unknown scenario key `{k}`: {}",
                &msg[msg.find("unknown field").unwrap_or(0)..]
            )),
            None => PointError::Invalid(anyhow::anyhow!("{msg}")),
        }
    })?;
    let mut s = loaded.scenario;
    apply_overrides(&mut s, ov).map_err(PointError::Invalid)?;
    s.run.seed = axes::derived_seed(s.run.seed, values);
    match level {
        Level::Coarse => scenario::check_coarse_limits(&s, origin).map_err(PointError::Invalid)?,
        Level::Fine => {
            if s.run.rounds > u32::MAX as u64 - 8 {
                return Err(PointError::Invalid(anyhow::anyhow!(
                    "run.rounds must be at most {} for the fine engine",
                    u32::MAX - 8
                )));
            }
            crate::fine::config_of(&s).map_err(|e| PointError::Invalid(anyhow::anyhow!("{origin}: {e:#}")))?;
        }
    }
    Ok((s, loaded.warnings))
}

/// Applies the command-line `[run]` values; replicas and rounds must lie in 1..=u32::MAX.
fn apply_overrides(s: &mut Scenario, ov: &Overrides) -> Result<()> {
    s.run.replicas = ov.replicas.unwrap_or(s.run.replicas);
    s.run.rounds = ov.rounds.unwrap_or(s.run.rounds);
    s.run.seed = ov.seed.unwrap_or(s.run.seed);
    if s.run.replicas == 0 || s.run.replicas > u32::MAX as u64 {
        bail!("--replicas must be between 1 and {}", u32::MAX);
    }
    if s.run.rounds == 0 || s.run.rounds > u32::MAX as u64 {
        bail!("--rounds must be between 1 and {}", u32::MAX);
    }
    Ok(())
}
