//! The run directory: a run's files and its `manifest.json`, written all or nothing through
//! [`OutDir`] (see [`super::atomic`]). `ictwin run`, `ictwin fine`, `ictwin validate` and
//! `ictwin calibrate` all write through [`write_run_dir`].

use super::atomic::OutDir;
use super::{build_info, host_info};
use crate::scenario::Scenario;
use anyhow::Result;

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

/// Writes `files` (name, contents), then `manifest.json` when a manifest is given, into the
/// opened directory `out`, all or nothing ([`OutDir::commit`]).
pub fn write_run_dir(out: OutDir, mut files: Vec<(String, String)>, manifest: Option<&Manifest>) -> Result<()> {
    if let Some(m) = manifest {
        files.push(("manifest.json".into(), manifest_json(m)?));
    }
    out.commit(&files)
}
