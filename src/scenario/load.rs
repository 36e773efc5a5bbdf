//! Reading scenario and calibration files: parsing, validation with located errors, and the
//! command-line overrides of `[run]`.

use super::toml_errors::{toml_error_location, toml_error_message};
use super::{Calibration, Loaded, Scenario, DEFAULT_SCENARIO};
use anyhow::{bail, Context, Result};
use ictwin_kernels::params::{faults_tolerated, MAX_NODES};
use std::path::{Path, PathBuf};

/// Smallest non-zero `mtbf_hours`/`mttr_hours`: 1 ms, the engines' resolution.
pub const MIN_FAILURE_HOURS: f64 = 1.0 / 3.6e6;
/// Largest `mtbf_hours`/`mttr_hours`: 10^6 h (114 years); the coarse kernel's exponential
/// durations (Q16 sample times the mean in ms, in u64) overflow near 2.4 10^6 h.
pub const MAX_FAILURE_HOURS: f64 = 1e6;

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
        Err(e) => bail!(
            "{origin}{}: {}",
            toml_error_location(text, &e),
            toml_error_message(text, &e)
        ),
    };
    let warnings = validate(&mut scenario, text, origin, base_dir)?;
    Ok(Loaded {
        scenario,
        origin: origin.to_string(),
        warnings,
    })
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
    if let Some(file) = &s.network.latency_matrix {
        let m = super::latency::LatencyMatrix::load(file, base_dir, n)
            .map_err(|msg| err("network", "latency_matrix", msg))?;
        s.network.latency = Some(m);
    }
    if let Err((key, msg)) = s.node.processing.validate_and_load(base_dir) {
        return Err(err("node", &format!("processing.{key}"), msg));
    }
    if let Err((key, msg)) = s.execution.time.validate_and_load(base_dir) {
        return Err(err("execution", &format!("time.{key}"), msg));
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
        if v > 0.0 && !(MIN_FAILURE_HOURS..=MAX_FAILURE_HOURS).contains(&v) {
            return Err(err(
                "faults",
                key,
                format!(
                    "must be 0 (no dynamic failures) or between 1 ms ({MIN_FAILURE_HOURS:.3e} h) and \
                     {MAX_FAILURE_HOURS:e} h (the engines count it in whole ms), got {v}"
                ),
            ));
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
    let fine_byzantine = s
        .fine
        .as_ref()
        .map_or(0, |c| c.invalid_share as u64 + c.notarize_all as u64);
    if faulty + fine_byzantine >= n as u64 {
        warnings.push(format!(
            "{origin}: no honest node ({n} nodes, {faulty} faulty in [faults], {fine_byzantine} Byzantine in [fine]): \
             progress is measured at honest nodes, so every step counts as stalled, whatever the \
             Byzantine nodes notarize among themselves (kernels/src/agg.rs, \"What is measured\")"
        ));
    }
    if let Some(fine) = &s.fine {
        let faulty = u32::try_from(faulty).unwrap_or(u32::MAX);
        if let Err((key, msg)) = fine.validate(n, faulty) {
            // A `costs.*` key sits in `[fine.costs]`, or inline or dotted in `[fine]`.
            let (table, leaf) = match key.split_once('.') {
                Some((sub, leaf)) if line_of(text, &format!("fine.{sub}"), leaf).is_some() => {
                    (format!("fine.{sub}"), leaf.to_string())
                }
                _ => ("fine".to_string(), key.clone()),
            };
            return Err(err(&table, &leaf, msg));
        }
    }
    if let Some(c) = &s.calibration {
        c.check().map_err(|(key, msg)| err("calibration", key, msg))?;
    }
    if let Some(t) = &s.sweep {
        t.check().map_err(|(_, msg)| err("sweep", "set", msg))?;
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

/// Reads the `[calibration]` table of a calibration file (`ictwin calibrate` writes them).
pub fn load_calibration(path: &Path) -> Result<Calibration> {
    #[derive(serde::Deserialize)]
    struct File {
        calibration: Calibration,
    }
    let text =
        std::fs::read_to_string(path).with_context(|| format!("{}: cannot read calibration file", path.display()))?;
    let f: File = toml::from_str(&text).map_err(|e| {
        anyhow::anyhow!(
            "{}{}: {}",
            path.display(),
            toml_error_location(&text, &e),
            toml_error_message(&text, &e)
        )
    })?;
    f.calibration.check().map_err(|(key, msg)| {
        let loc = line_of(&text, "calibration", key)
            .map(|l| format!(":{l}"))
            .unwrap_or_default();
        anyhow::anyhow!("{}{loc}: key `calibration.{key}`: {msg}", path.display())
    })?;
    Ok(f.calibration)
}

/// Loads a scenario (the embedded default when `path` is `None`), prints its warnings on
/// stderr and applies the command-line overrides of `[run]`; replicas and rounds must lie in
/// 1..=u32::MAX. Returns the scenario and its origin.
pub fn load_with_overrides(
    path: Option<&Path>,
    replicas: Option<u64>,
    rounds: Option<u64>,
    seed: Option<u64>,
) -> Result<(Scenario, String)> {
    let loaded = load(path)?;
    for w in &loaded.warnings {
        eprintln!("warning: {w}");
    }
    let mut s = loaded.scenario;
    s.run.replicas = replicas.unwrap_or(s.run.replicas);
    s.run.rounds = rounds.unwrap_or(s.run.rounds);
    s.run.seed = seed.unwrap_or(s.run.seed);
    if s.run.replicas == 0 || s.run.replicas > u32::MAX as u64 {
        bail!("--replicas must be between 1 and {}", u32::MAX);
    }
    if s.run.rounds == 0 || s.run.rounds > u32::MAX as u64 {
        bail!("--rounds must be between 1 and {}", u32::MAX);
    }
    Ok((s, loaded.origin))
}

/// Loads a scenario for validation or calibration, dividing the fine run by `shrink`
/// (replicas at least 1, rounds at least 20).
pub fn load_for_levels(path: &Path, shrink: u64) -> Result<Scenario> {
    Ok(shrink_for_levels(load(Some(path))?.scenario, shrink))
}

/// Fine-engine node-heights per second assumed for the warning of [`fine_size_warning`]
/// (13 nodes at about 150 heights/s on the 2-core development VM).
const FINE_NODE_HEIGHTS_PER_S: f64 = 2000.0;

/// A warning when the fine run that `[run]` sizes (replicas x rounds heights of n nodes) would
/// take more than ten minutes: `[run]` sizes coarse runs, and the fine engine is some 10^4
/// times slower per height. `origin` names the scenario; `None` when the run is small.
pub fn fine_size_warning(s: &Scenario, origin: &str) -> Option<String> {
    let work = s.run.replicas as f64 * s.run.rounds as f64 * s.subnet.nodes as f64;
    let est_s = work / FINE_NODE_HEIGHTS_PER_S;
    (est_s > 600.0).then(|| {
        format!(
            "{origin}: the fine engine runs [run] replicas x rounds = {} x {} heights of {} nodes, \
             roughly {:.1} h at ~{FINE_NODE_HEIGHTS_PER_S} node-heights/s on 2 cores; \
             --shrink K divides both (experiments/validation/ holds scenarios sized for this)",
            s.run.replicas,
            s.run.rounds,
            s.subnet.nodes,
            est_s / 3600.0
        )
    })
}

/// Divides the fine run of `s` by `shrink` as [`load_for_levels`] does (replicas at least 1,
/// rounds at least 20; `shrink` 0 counts as 1).
pub fn shrink_for_levels(mut s: Scenario, shrink: u64) -> Scenario {
    s.run.replicas = (s.run.replicas / shrink.max(1)).max(1);
    s.run.rounds = (s.run.rounds / shrink.max(1)).max(20);
    s
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

    /// A subnet without an honest node reports every step stalled (no observer) even when
    /// Byzantine notaries reach new heights: the loader says so (it used to be silent).
    #[test]
    fn a_subnet_without_honest_nodes_is_explained() {
        let l = parse(
            "name = \"a\"\n[subnet]\nnodes = 4\n[faults]\nsilent = 2\n[fine]\nnotarize_all = 2\n",
            "x.toml",
            Path::new("."),
        )
        .unwrap();
        assert!(
            l.warnings.iter().any(|w| w.contains("no honest node")),
            "{:?}",
            l.warnings
        );
    }

    #[test]
    fn failure_times_outside_the_engines_resolution_are_refused() {
        let text = |mtbf: &str, mttr: &str| {
            format!("name = \"a\"\n[subnet]\nnodes = 4\n[faults]\nmtbf_hours = {mtbf}\nmttr_hours = {mttr}\n")
        };
        let e = parse_err(&text("1e-9", "1e-9"));
        assert!(
            e.contains("x.toml:5: key `faults.mtbf_hours`") && e.contains("1 ms"),
            "{e}"
        );
        let e = parse_err(&text("1", "1e-9"));
        assert!(e.contains("x.toml:6: key `faults.mttr_hours`"), "{e}");
        let e = parse_err(&text("1e300", "1"));
        assert!(e.contains("key `faults.mtbf_hours`"), "{e}");
        assert!(parse(&text("0.001", "0.0001"), "x.toml", Path::new(".")).is_ok());
    }

    #[test]
    fn fine_table_errors_name_file_line_and_key() {
        let base = "name = \"a\"\n[subnet]\nnodes = 4\n";
        let e = parse_err(&format!("{base}[fine]\nclients = 2\n[fine.costs]\nsign_us = -1\n"));
        assert!(e.contains("x.toml:7: key `fine.costs.sign_us`"), "{e}");
        let e = parse_err(&format!("{base}[fine]\ncosts = {{ verify_us = nan }}\n"));
        assert!(e.contains("x.toml:5: key `fine.costs.verify_us`"), "{e}");
        let e = parse_err(&format!("{base}[fine]\nclients = 2\ngossip_fanout = 9\n"));
        assert!(e.contains("x.toml:6: key `fine.gossip_fanout`"), "{e}");
        let e = parse_err(&format!("{base}[fine]\ncup_interval = 0\n"));
        assert!(e.contains("x.toml:5: key `fine.cup_interval`"), "{e}");
    }
}
