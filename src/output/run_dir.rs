//! The run directory: every file of a run is written to a temporary name in the directory
//! first and renamed into place only once all are written, so an interrupted or failed run
//! leaves no half-written files. `ictwin run`, `ictwin fine`, `ictwin validate` and
//! `ictwin calibrate` all write through [`write_run_dir`].

use super::{build_info, host_info};
use crate::scenario::Scenario;
use anyhow::{bail, Context, Result};
use std::path::{Component, Path};

/// Writes `files` (name, contents) into `dir` atomically: each goes to a temporary file in
/// its own directory first, and all are renamed into place only once every one is written.
/// A name may hold subdirectories (`scenarios/a.toml`), created as needed; absolute names and
/// `..` are refused.
fn write_atomically(dir: &Path, files: &[(String, String)]) -> Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create output directory {}", dir.display()))?;
    let pid = std::process::id();
    let mut tmp = Vec::with_capacity(files.len());
    for (name, _) in files {
        let rel = Path::new(name);
        let plain = rel.components().all(|c| matches!(c, Component::Normal(_)));
        let (Some(base), true) = (rel.file_name(), plain) else {
            bail!("output file name {name:?} must be a relative path without `..`");
        };
        let parent = dir
            .join(rel)
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_else(|| dir.to_path_buf());
        std::fs::create_dir_all(&parent).with_context(|| format!("cannot create {}", parent.display()))?;
        tmp.push(parent.join(format!(".{}.tmp{pid}", base.to_string_lossy())));
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_with_subdirectories_are_written_and_escapes_refused() {
        let dir = tempfile::tempdir().unwrap();
        let files = vec![
            ("top.csv".to_string(), "a\n".to_string()),
            ("scenarios/x.toml".to_string(), "b\n".to_string()),
        ];
        write_run_dir(dir.path(), files, None).unwrap();
        assert_eq!(std::fs::read_to_string(dir.path().join("top.csv")).unwrap(), "a\n");
        assert_eq!(
            std::fs::read_to_string(dir.path().join("scenarios/x.toml")).unwrap(),
            "b\n"
        );
        let leftovers: Vec<_> = std::fs::read_dir(dir.path().join("scenarios")).unwrap().collect();
        assert_eq!(leftovers.len(), 1, "temporary files left: {leftovers:?}");
        for bad in ["../x.csv", "/tmp/x.csv", "a/../../x.csv"] {
            let e = write_run_dir(dir.path(), vec![(bad.into(), String::new())], None).unwrap_err();
            assert!(format!("{e}").contains("relative path"), "{bad}: {e}");
        }
    }
}
