//! All-or-nothing output directories.
//!
//! [`OutDir::open`] runs before anything is simulated: it creates the directory, takes an
//! exclusive lock on it (a second ictwin process writing into the same directory fails at
//! once), completes or discards what an interrupted earlier write left, and proves the
//! directory writable by creating its staging directory `.ictwin-staging/`.
//! [`OutDir::commit`] then writes every file of the run into the staging directory, records
//! the list in a journal (`.ictwin-journal`, itself renamed into place: the commit point) and
//! renames the files into place. An error or a kill before the commit point leaves the
//! directory as it was (the staging directory is removed now or by the next open); after it,
//! the journal marks the directory as mid-update and the next [`OutDir::open`] finishes the
//! renames. Files of the directory that the run does not write are left alone.

use anyhow::{bail, Context, Result};
use std::fs::File;
use std::path::{Component, Path, PathBuf};

/// The staging directory inside an output directory.
const STAGING: &str = ".ictwin-staging";
/// The journal: the names being renamed from the staging directory (a JSON array).
const JOURNAL: &str = ".ictwin-journal";

/// A step of [`OutDir::commit`], for fault injection in tests.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Step {
    /// Writing file `i` into the staging directory.
    Write(usize),
    /// Renaming the journal into place (the commit point).
    Journal,
    /// Renaming file `i` into place.
    Rename(usize),
    /// Removing the journal once every file is in place.
    Finish,
}

impl Step {
    /// The step as [`PAUSE_VAR`] names it: `write:I`, `journal`, `rename:I`, `finish`.
    pub fn name(&self) -> String {
        match self {
            Step::Write(i) => format!("write:{i}"),
            Step::Journal => "journal".into(),
            Step::Rename(i) => format!("rename:{i}"),
            Step::Finish => "finish".into(),
        }
    }
}

/// Test hook for killing a real process at each step of a commit: with this variable set to
/// a [`Step::name`] (or to `trace`, the rename of `fine --trace`'s file), the process prints
/// `ictwin: paused at <step>` on stderr when it reaches that step and sleeps until it is
/// killed (`tests/kill.rs` sends SIGKILL there). Unset, it costs one lookup per commit.
pub const PAUSE_VAR: &str = "ICTWIN_TEST_PAUSE_AT";

/// Pauses for good (see [`PAUSE_VAR`]) when `wanted` is `step`.
pub fn pause_if(wanted: &str, step: &str) {
    if wanted == step {
        eprintln!("ictwin: paused at {step}");
        loop {
            std::thread::sleep(std::time::Duration::from_secs(3600));
        }
    }
}

/// What a fault injected at a [`Step`] does.
#[derive(Debug)]
pub enum Fault {
    /// The step fails with this error (the writer cleans up as for a real error).
    Error(std::io::Error),
    /// The process dies at this step: the writer stops at once, cleaning nothing up.
    Kill,
}

/// An output directory opened for one run (see the module doc); dropped without a commit,
/// it removes its staging directory and the directories [`OutDir::open`] created.
#[derive(Debug)]
pub struct OutDir {
    dir: PathBuf,
    /// Held open for its lock (released when the descriptor closes).
    _lock: File,
    /// Directories `open` created, deepest first.
    created: Vec<PathBuf>,
    done: bool,
}

impl OutDir {
    /// Creates `dir` when missing, locks it, recovers an interrupted write and creates the
    /// staging directory; errors name the directory.
    pub fn open(dir: &Path) -> Result<OutDir> {
        let mut created = Vec::new();
        let mut d = Some(dir);
        while let Some(p) = d.filter(|p| !p.as_os_str().is_empty() && !p.exists()) {
            created.push(p.to_path_buf());
            d = p.parent();
        }
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create output directory {}", dir.display()))?;
        let lock = File::open(dir).with_context(|| format!("cannot open output directory {}", dir.display()))?;
        match lock.try_lock() {
            Ok(()) => {}
            Err(std::fs::TryLockError::WouldBlock) => bail!(
                "output directory {} is being written by another ictwin process; wait for it or choose another directory",
                dir.display()
            ),
            Err(std::fs::TryLockError::Error(e)) => {
                return Err(e).with_context(|| format!("cannot lock output directory {}", dir.display()))
            }
        }
        let mut out = OutDir {
            dir: dir.to_path_buf(),
            _lock: lock,
            created,
            done: false,
        };
        out.recover()?;
        let staging = out.staging();
        std::fs::create_dir(&staging).with_context(|| format!("output directory {} is not writable", dir.display()))?;
        Ok(out)
    }

    /// The directory.
    pub fn path(&self) -> &Path {
        &self.dir
    }

    fn staging(&self) -> PathBuf {
        self.dir.join(STAGING)
    }

    /// Finishes an interrupted commit (journal present) or discards an uncommitted one.
    fn recover(&mut self) -> Result<()> {
        let journal = self.dir.join(JOURNAL);
        if journal.exists() {
            let text =
                std::fs::read_to_string(&journal).with_context(|| format!("cannot read {}", journal.display()))?;
            let names: Vec<String> =
                serde_json::from_str(&text).with_context(|| format!("{}: not an ictwin journal", journal.display()))?;
            for name in &names {
                check_name(name)?;
                let staged = self.staging().join(name);
                if staged.exists() {
                    self.place(&staged, name)?;
                }
            }
            std::fs::remove_file(&journal).with_context(|| format!("cannot remove {}", journal.display()))?;
        }
        let _ = std::fs::remove_file(self.dir.join(format!("{JOURNAL}.tmp")));
        let staging = self.staging();
        if staging.exists() {
            std::fs::remove_dir_all(&staging).with_context(|| format!("cannot remove {}", staging.display()))?;
        }
        Ok(())
    }

    /// Renames a staged file to `name` in the directory, creating its subdirectories.
    fn place(&self, staged: &Path, name: &str) -> Result<()> {
        let dst = self.dir.join(name);
        if let Some(parent) = dst.parent() {
            std::fs::create_dir_all(parent).with_context(|| format!("cannot create {}", parent.display()))?;
        }
        std::fs::rename(staged, &dst).with_context(|| format!("cannot move {} into place", dst.display()))
    }

    /// Writes `files` (name, contents) all or nothing (see the module doc). A name may hold
    /// subdirectories (`scenarios/a.toml`); absolute names and `..` are refused.
    pub fn commit<T: AsRef<[u8]>>(self, files: &[(String, T)]) -> Result<()> {
        let pause = std::env::var(PAUSE_VAR).ok();
        self.commit_with(files, &mut |s| {
            if let Some(p) = &pause {
                pause_if(p, &s.name());
            }
            None
        })
    }

    /// [`OutDir::commit`] with `fault` consulted before each step (tests).
    pub fn commit_with<T: AsRef<[u8]>>(
        mut self,
        files: &[(String, T)],
        fault: &mut dyn FnMut(Step) -> Option<Fault>,
    ) -> Result<()> {
        let mut step = |s: Step| -> std::result::Result<(), Option<std::io::Error>> {
            match fault(s) {
                None => Ok(()),
                Some(Fault::Error(e)) => Err(Some(e)),
                Some(Fault::Kill) => Err(None),
            }
        };
        macro_rules! at {
            ($s:expr, $what:expr) => {
                match step($s) {
                    Ok(()) => {}
                    Err(Some(e)) => return Err(anyhow::Error::new(e).context($what)),
                    Err(None) => {
                        self.done = true; // killed: nothing is cleaned up
                        bail!("killed at {:?}", $s);
                    }
                }
            };
        }
        for (name, _) in files {
            check_name(name)?;
            if self.dir.join(name).is_dir() {
                bail!("cannot write {}: it is a directory", self.dir.join(name).display());
            }
        }
        let staging = self.staging();
        for (i, (name, text)) in files.iter().enumerate() {
            let dst = self.dir.join(name);
            at!(Step::Write(i), format!("cannot write {}", dst.display()));
            let staged = staging.join(name);
            write_synced(&staged, text.as_ref()).with_context(|| format!("cannot write {}", dst.display()))?;
        }
        let names: Vec<&String> = files.iter().map(|(n, _)| n).collect();
        let journal_tmp = self.dir.join(format!("{JOURNAL}.tmp"));
        let journal = self.dir.join(JOURNAL);
        write_synced(&journal_tmp, serde_json::to_string(&names)?.as_bytes())
            .with_context(|| format!("cannot write {}", journal_tmp.display()))?;
        at!(Step::Journal, format!("cannot write {}", journal.display()));
        std::fs::rename(&journal_tmp, &journal).with_context(|| format!("cannot write {}", journal.display()))?;
        // Committed: from here on an error leaves the journal for the next open to finish.
        self.done = true;
        for (i, (name, _)) in files.iter().enumerate() {
            at!(
                Step::Rename(i),
                format!("cannot move {} into place", self.dir.join(name).display())
            );
            self.place(&staging.join(name), name)?;
        }
        at!(Step::Finish, format!("cannot remove {}", journal.display()));
        std::fs::remove_file(&journal).with_context(|| format!("cannot remove {}", journal.display()))?;
        let _ = std::fs::remove_dir_all(&staging);
        Ok(())
    }
}

impl Drop for OutDir {
    fn drop(&mut self) {
        if self.done {
            return;
        }
        let _ = std::fs::remove_dir_all(self.staging());
        let _ = std::fs::remove_file(self.dir.join(format!("{JOURNAL}.tmp")));
        for d in &self.created {
            let _ = std::fs::remove_dir(d); // only when empty
        }
    }
}

/// Refuses absolute names, `..` and empty names.
fn check_name(name: &str) -> Result<()> {
    let rel = Path::new(name);
    if rel.file_name().is_none() || !rel.components().all(|c| matches!(c, Component::Normal(_))) {
        bail!("output file name {name:?} must be a relative path without `..`");
    }
    Ok(())
}

/// Writes `text` to `path` (creating its directory) and flushes it to the disk.
fn write_synced(path: &Path, text: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)?;
    }
    let mut f = File::create(path)?;
    f.write_all(text)?;
    f.sync_all()
}

#[cfg(test)]
#[path = "atomic_tests.rs"]
mod tests;
