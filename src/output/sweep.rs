//! The files of a sweep directory: each point's run directory (`points/<i>-<slug>/`, written
//! by the same code as `ictwin run`/`fine`), then, read back from those directories,
//! `sweep.csv` (one row per point: `point`, the swept keys, the `summary.csv` columns), the
//! sweep's `manifest.json` and the plots ([`super::sweep_plot`]).

use super::summary::SUMMARY_COLUMNS;
use super::{build_info, host_info};
use crate::scenario::sweep::value_text;
use crate::sweep::{Plan, SweepEngine};
use anyhow::{bail, Result};
use std::path::Path;

/// The seed rule, as recorded in the sweep manifest.
pub const SEED_RULE: &str = "seed of a point = splitmix64(fnv1a64(base seed in decimal, then for each sorted `key=value` of the point a newline and the string))";

/// One point read back from its directory.
#[derive(Clone, Debug)]
pub struct PointSummary {
    /// The summary row's values, in the order of [`SUMMARY_COLUMNS`].
    pub values: Vec<String>,
    /// The engine the point ran on.
    pub engine: String,
}

impl PointSummary {
    /// The value of summary column `col` as a number (`nan` when empty or not a number).
    pub fn number(&self, col: &str) -> f64 {
        SUMMARY_COLUMNS
            .iter()
            .position(|c| *c == col)
            .and_then(|i| self.values[i].parse().ok())
            .unwrap_or(f64::NAN)
    }
}

/// Reads every point of `plan` from `dir` (`points/<i>-<slug>/summary.csv` and
/// `manifest.json`), refusing missing points and points whose recorded scenario (seed
/// included) or engine is not the plan's; every problem point is named in one error.
pub fn read_points(plan: &Plan, dir: &Path, engine: SweepEngine) -> Result<Vec<PointSummary>> {
    let mut out = Vec::new();
    let mut missing = Vec::new();
    let mut wrong = Vec::new();
    for p in &plan.points {
        let pdir = dir.join(&p.dir);
        let (summary, manifest) = (pdir.join("summary.csv"), pdir.join("manifest.json"));
        if !summary.is_file() || !manifest.is_file() {
            missing.push(format!("{} ({})", p.index, pdir.display()));
            continue;
        }
        match read_point(&summary, &manifest, &p.scenario, engine) {
            Ok(s) => out.push(s),
            Err(e) => wrong.push(format!("point {} ({}): {e:#}", p.index, pdir.display())),
        }
    }
    if !missing.is_empty() || !wrong.is_empty() {
        let mut msg = String::from("cannot collect the sweep:");
        if !missing.is_empty() {
            msg.push_str(&format!(
                "\n  {} of {} points missing (run them with --point K): {}",
                missing.len(),
                plan.points.len(),
                missing.join(", ")
            ));
        }
        for w in &wrong {
            msg.push_str(&format!("\n  mismatched {w}"));
        }
        bail!("{msg}");
    }
    Ok(out)
}

fn read_point(
    summary: &Path,
    manifest: &Path,
    expected: &crate::scenario::Scenario,
    engine: SweepEngine,
) -> Result<PointSummary> {
    let text = std::fs::read_to_string(manifest)?;
    let m: serde_json::Value =
        serde_json::from_str(&text).map_err(|e| anyhow::anyhow!("{}: {e}", manifest.display()))?;
    let want = serde_json::to_value(expected)?;
    if let Some(diff) = first_difference(&want, &m["scenario"], "scenario") {
        bail!("{}: {diff}", manifest.display());
    }
    let used = m["engine"].as_str().unwrap_or("");
    if !engine.accepts(used) {
        bail!(
            "{}: engine {used:?}, the sweep runs --engine {}",
            manifest.display(),
            engine.name()
        );
    }
    let mut r = csv::Reader::from_path(summary).map_err(|e| anyhow::anyhow!("{}: {e}", summary.display()))?;
    let headers: Vec<String> = r.headers()?.iter().map(String::from).collect();
    if headers != SUMMARY_COLUMNS {
        bail!("{}: not the summary.csv columns of this ictwin", summary.display());
    }
    let rows: Vec<csv::StringRecord> = r.records().collect::<std::result::Result<_, _>>()?;
    if rows.len() != 1 {
        bail!("{}: {} rows, expected 1", summary.display(), rows.len());
    }
    Ok(PointSummary {
        values: rows[0].iter().map(String::from).collect(),
        engine: used.to_string(),
    })
}

/// The first place where `found` differs from `want`: `path: expected X, found Y`.
fn first_difference(want: &serde_json::Value, found: &serde_json::Value, path: &str) -> Option<String> {
    use serde_json::Value as J;
    match (want, found) {
        (J::Object(a), J::Object(b)) => {
            let mut keys: Vec<&String> = a.keys().chain(b.keys()).collect();
            keys.sort();
            keys.dedup();
            keys.into_iter().find_map(|k| {
                first_difference(
                    a.get(k).unwrap_or(&J::Null),
                    b.get(k).unwrap_or(&J::Null),
                    &format!("{path}.{k}"),
                )
            })
        }
        _ if want == found => None,
        // 20 and 20.0 are the same number.
        (J::Number(a), J::Number(b)) if a.as_f64() == b.as_f64() => None,
        _ => Some(format!("{path}: expected {want}, found {found}")),
    }
}

/// `sweep.csv` text: header `point`, the swept keys, the summary columns; one row per point.
pub fn sweep_csv(plan: &Plan, points: &[PointSummary]) -> Result<String> {
    let mut w = csv::Writer::from_writer(Vec::new());
    let mut header = vec!["point".to_string()];
    header.extend(plan.axes.iter().map(|a| a.key.clone()));
    header.extend(SUMMARY_COLUMNS.iter().map(|c| c.to_string()));
    w.write_record(&header)?;
    for (p, s) in plan.points.iter().zip(points) {
        let mut row = vec![p.index.to_string()];
        row.extend(p.values.iter().map(|(_, v)| value_text(v)));
        row.extend(s.values.iter().cloned());
        w.write_record(&row)?;
    }
    Ok(String::from_utf8(w.into_inner()?)?)
}

/// The sweep's `manifest.json`: build, scenario origin and base scenario (with its `[sweep]`
/// table), axes, mode, engine asked for and used, the seed rule, every point (index,
/// directory, values, seed), host and time; keys sorted.
pub fn sweep_manifest(plan: &Plan, engine: SweepEngine, points: &[PointSummary]) -> Result<String> {
    let mut used: Vec<&str> = points.iter().map(|p| p.engine.as_str()).collect();
    used.sort();
    used.dedup();
    let json = serde_json::json!({
        "ictwin": build_info(),
        "scenario_origin": plan.origin,
        "scenario": plan.base,
        "axes": plan.axes.iter().map(|a| serde_json::json!({"key": a.key, "values": a.values})).collect::<Vec<_>>(),
        "mode": if plan.zip { "zip" } else { "grid" },
        "engine": engine.name(),
        "engines_used": used,
        "seed_rule": SEED_RULE,
        "points": plan.points.iter().map(|p| serde_json::json!({
            "point": p.index,
            "dir": p.dir,
            "values": p.values.iter().map(|(k, v)| (k.clone(), serde_json::json!(v))).collect::<serde_json::Map<_, _>>(),
            "seed": p.scenario.run.seed,
        })).collect::<Vec<_>>(),
        "host": host_info(),
        "created_unix_s": std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0),
    });
    Ok(serde_json::to_string_pretty(&json)? + "\n")
}

/// The table `ictwin sweep` prints: per point its values and the headline metrics.
pub fn render_sweep_table(plan: &Plan, points: &[PointSummary]) -> String {
    let cols = [
        ("mean_round_ms", "round ms"),
        ("block_rate_per_s", "blocks/s"),
        ("mean_finalization_ms", "final. ms"),
        ("finalized_ratio", "finalized"),
        ("stalled_ratio", "stalled"),
    ];
    let mut s = format!("{:>5}", "point");
    for a in &plan.axes {
        s.push_str(&format!(" {:>14}", a.key.rsplit('.').next().unwrap_or(&a.key)));
    }
    for (_, label) in cols {
        s.push_str(&format!(" {label:>10}"));
    }
    s.push('\n');
    for (p, r) in plan.points.iter().zip(points) {
        s.push_str(&format!("{:>5}", p.index));
        for (_, v) in &p.values {
            s.push_str(&format!(" {:>14}", value_text(v)));
        }
        for (col, _) in cols {
            s.push_str(&format!(" {:>10.4}", r.number(col)));
        }
        s.push('\n');
    }
    s
}
