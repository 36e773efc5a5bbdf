//! The committed coarse results are reproducible: every `results/<name>/` made by
//! `experiments/regenerate.sh` is regenerated here with the same scenario, sizes and seed and
//! must match byte for byte (`histograms.csv`) and value for value (`summary.csv` apart from
//! the timing columns). A refactor that changes any coarse output fails here; a deliberate
//! model change regenerates `results/` and says so.

use std::path::{Path, PathBuf};
use std::process::Command;

/// Columns that measure the host, not the model.
const TIMING: &[&str] = &["replica_rounds_per_s", "wall_s"];

/// Committed run directories whose scenario is a shipped `experiments/<name>.toml`, and one level
/// down, `results/<group>/<name>/` for `experiments/<group>/<name>.toml` (e.g. `real-ic/`).
/// The name returned is the path below `results/`.
fn committed_runs() -> Vec<(String, PathBuf)> {
    let mut runs = Vec::new();
    for group in ["", "real-ic"] {
        let Ok(entries) = std::fs::read_dir(Path::new("results").join(group)) else {
            continue;
        };
        for entry in entries {
            let dir = entry.unwrap().path();
            let name = dir.file_name().unwrap().to_string_lossy().to_string();
            let scenario = Path::new("experiments").join(group).join(format!("{name}.toml"));
            if dir.join("summary.csv").is_file() && scenario.is_file() {
                let rel = Path::new(group).join(&name).to_string_lossy().to_string();
                runs.push((rel, scenario));
            }
        }
    }
    runs.sort();
    runs
}

/// The summary row without timing columns, as (column, value) pairs.
fn summary(path: &Path) -> Vec<(String, String)> {
    let mut r = csv::Reader::from_path(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let headers = r.headers().unwrap().clone();
    let row = r.records().next().expect("one row").unwrap();
    headers
        .iter()
        .zip(row.iter())
        .filter(|(h, _)| !TIMING.contains(h))
        .map(|(h, v)| (h.to_string(), v.to_string()))
        .collect()
}

/// `run.replicas`, `run.rounds`, `run.seed` of the committed manifest.
fn committed_sizes(dir: &Path) -> [String; 3] {
    let text = std::fs::read_to_string(dir.join("manifest.json")).unwrap();
    let m: serde_json::Value = serde_json::from_str(&text).unwrap();
    let run = &m["scenario"]["run"];
    ["replicas", "rounds", "seed"].map(|k| {
        run[k]
            .as_u64()
            .unwrap_or_else(|| panic!("manifest run.{k}"))
            .to_string()
    })
}

#[test]
fn committed_coarse_results_are_reproduced_exactly() {
    let runs = committed_runs();
    assert!(
        runs.len() >= 10,
        "expected the shipped runs in results/, found {}",
        runs.len()
    );
    assert!(
        runs.iter().any(|(name, _)| name.starts_with("real-ic/")),
        "expected the real-network presets in results/real-ic/"
    );
    let tmp = std::env::temp_dir().join(format!("ictwin-results-{}", std::process::id()));
    let mut failures = Vec::new();
    for (name, scenario) in &runs {
        let committed = Path::new("results").join(name);
        let [replicas, rounds, seed] = committed_sizes(&committed);
        let out = tmp.join(name);
        let o = Command::new(env!("CARGO_BIN_EXE_ictwin"))
            .args(["run", scenario.to_str().unwrap(), "--engine", "cpu", "--quiet"])
            .args(["--replicas", &replicas, "--rounds", &rounds, "--seed", &seed])
            .arg("--out")
            .arg(&out)
            .output()
            .expect("run ictwin");
        assert!(o.status.success(), "{name}: {}", String::from_utf8_lossy(&o.stderr));
        if summary(&committed.join("summary.csv")) != summary(&out.join("summary.csv")) {
            failures.push(format!("{name}: summary.csv differs"));
        }
        let a = std::fs::read(committed.join("histograms.csv")).unwrap();
        let b = std::fs::read(out.join("histograms.csv")).unwrap();
        if a != b {
            failures.push(format!("{name}: histograms.csv differs"));
        }
    }
    let _ = std::fs::remove_dir_all(&tmp);
    assert!(failures.is_empty(), "{failures:#?}");
}
