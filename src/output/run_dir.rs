//! The run directory: every file of a run is written to a temporary name in the directory
//! first and renamed into place only once all are written, so an interrupted or failed run
//! leaves no half-written files. `ictwin run`, `ictwin fine`, `ictwin validate` and
//! `ictwin calibrate` all write through [`write_run_dir`].

use super::{build_info, host_info};
use crate::scenario::Scenario;
use anyhow::{Context, Result};
use std::path::Path;

/// Writes `files` (name, contents) into `dir` atomically: each goes to a temporary file in
/// `dir` first, and all are renamed into place only once every one is written.
fn write_atomically(dir: &Path, files: &[(String, String)]) -> Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create output directory {}", dir.display()))?;
    let pid = std::process::id();
    let tmp: Vec<_> = files
        .iter()
        .map(|(name, _)| dir.join(format!(".{name}.tmp{pid}")))
        .collect();
    let result = (|| -> Result<()> {
        for ((_, contents), t) in files.iter().zip(&tmp) {
            std::fs::write(t, contents).with_context(|| format!("cannot write {}", t.display()))?;
        }
        for ((name, _), t) in files.iter().zip(&tmp) {
            std::fs::rename(t, dir.join(name)).with_context(|| format!("cannot move {} into place", t.display()))?;
        }
        Ok(())
    })();
    if result.is_err() {
        for t in &tmp {
            let _ = std::fs::remove_file(t);
        }
    }
    result
}

/// What `manifest.json` records about a run, besides the build, the host and the time.
#[derive(Clone, Copy, Debug)]
pub struct Manifest<'a> {
    /// The resolved scenario (overrides applied), recorded in full.
    pub scenario: &'a Scenario,
    /// Where the scenario came from: its file, or `<embedded default>`.
    pub origin: &'a str,
    /// `cpu`, `gpu` or `fine`.
    pub engine: &'a str,
    /// The device a coarse run used (adapter name or CPU threads); `None` for the fine engine.
    pub device: Option<&'a str>,
}

/// `manifest.json` text: build, scenario and its origin, seed, engine, device (when any), host
/// and creation time (Unix seconds); keys sorted.
fn manifest_json(m: &Manifest) -> Result<String> {
    let mut json = serde_json::json!({
        "ictwin": build_info(),
        "scenario_origin": m.origin,
        "scenario": m.scenario,
        "seed": m.scenario.run.seed,
        "engine": m.engine,
        "host": host_info(),
        "created_unix_s": std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0),
    });
    if let Some(device) = m.device {
        json["device"] = device.into();
    }
    Ok(serde_json::to_string_pretty(&json)? + "\n")
}

/// Writes `files` (name, contents), then `manifest.json` when a manifest is given, into
/// `dir` (created when missing) atomically: nothing is renamed into place before every file
/// is written, and on failure the temporary files are removed.
pub fn write_run_dir(dir: &Path, mut files: Vec<(String, String)>, manifest: Option<&Manifest>) -> Result<()> {
    if let Some(m) = manifest {
        files.push(("manifest.json".into(), manifest_json(m)?));
    }
    write_atomically(dir, &files)
}
