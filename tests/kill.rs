//! SIGKILL at every step of writing a run's output (issue 14 item 5 and Goal): `run`, `fine`
//! (run directory and `--trace` file), `validate` (CSV and plots) and `calibrate` (the
//! calibration file and its fit report), each paused at a step by the test hook
//! `ICTWIN_TEST_PAUSE_AT` (src/output/atomic.rs) and killed there. The directory must hold
//! the old files or, once the journal marks it mid-update, old and new files that the next
//! run completes to all new; the next run leaves no temporary file (staging directory,
//! journal, trace temporaries of killed runs).

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

type Tree = BTreeMap<String, String>;

/// Every file under `dir`, hidden ones included (empty when `dir` is missing).
fn tree(dir: &Path) -> Tree {
    fn walk(root: &Path, d: &Path, out: &mut Tree) {
        let Ok(entries) = std::fs::read_dir(d) else { return };
        for e in entries {
            let p = e.unwrap().path();
            if p.is_dir() {
                walk(root, &p, out);
            } else {
                let rel = p.strip_prefix(root).unwrap().to_string_lossy().to_string();
                out.insert(rel, String::from_utf8_lossy(&std::fs::read(&p).unwrap()).to_string());
            }
        }
    }
    let mut out = Tree::new();
    walk(dir, dir, &mut out);
    out
}

/// The files a user sees: no hidden file, nothing under the staging directory.
fn visible(t: &Tree) -> Tree {
    t.iter()
        .filter(|(k, _)| !k.split('/').any(|c| c.starts_with('.')))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}

fn copy_tree(t: &Tree, dir: &Path) {
    for (k, v) in t {
        let p = dir.join(k);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, v).unwrap();
    }
}

/// One command writing into `out` (and a trace in `trace_dir`), its run numbered `seed`.
struct Cmd {
    name: &'static str,
    args: fn(&Path, &Path, &Path, u64) -> Vec<String>,
}

fn s(v: &[&str]) -> Vec<String> {
    v.iter().map(|x| x.to_string()).collect()
}

/// A tiny scenario with seed `seed` (same name, so the same output names).
fn scenario(dir: &Path, seed: u64) -> String {
    let p = dir.join(format!("tiny-{seed}.toml"));
    std::fs::write(
        &p,
        format!(
            "name = \"tiny\"\n[subnet]\nnodes = 4\n[network]\ndelay = {{ dist = \"lognormal\", median_ms = 50.0, sigma = 0.4 }}\n\
             [run]\nreplicas = 2\nrounds = 20\nseed = {seed}\n[fine]\ncrypto_time = false\n"
        ),
    )
    .unwrap();
    p.display().to_string()
}

const CMDS: &[Cmd] = &[
    Cmd {
        name: "run",
        args: |d, out, _, seed| {
            let mut a = s(&["run", "--engine", "cpu", "--replicas", "50", "-q", "--out"]);
            a.extend([out.display().to_string(), scenario(d, seed)]);
            a
        },
    },
    Cmd {
        name: "fine",
        args: |d, out, trace, seed| {
            let mut a = s(&["fine", "-q", "--out"]);
            a.extend([
                out.display().to_string(),
                "--trace".into(),
                trace.join("t.csv").display().to_string(),
            ]);
            a.push(scenario(d, seed));
            a
        },
    },
    Cmd {
        name: "validate",
        args: |d, out, _, seed| {
            let mut a = s(&["validate", "--coarse-replicas", "100", "-q", "--out"]);
            a.extend([out.display().to_string(), scenario(d, seed)]);
            a
        },
    },
    Cmd {
        name: "calibrate",
        args: |d, out, _, seed| {
            let mut a = s(&[
                "calibrate",
                "--coarse-replicas",
                "50",
                "--iterations",
                "2",
                "-q",
                "--out",
            ]);
            a.extend([out.join("cal.toml").display().to_string(), scenario(d, seed)]);
            a
        },
    },
];

/// Runs `args` paused at `step` and kills it there with SIGKILL; an error when it never gets there.
fn kill_at(args: &[String], step: &str) -> Result<(), String> {
    let mut child = Command::new(env!("CARGO_BIN_EXE_ictwin"))
        .args(args)
        .env("ICTWIN_TEST_PAUSE_AT", step)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    let err = child.stderr.take().unwrap();
    std::thread::spawn(move || {
        let mut all = String::new();
        for line in BufReader::new(err).lines().map_while(Result::ok) {
            if line.starts_with("ictwin: paused at") {
                let _ = tx.send(Ok(()));
            }
            all.push_str(&line);
            all.push('\n');
        }
        let _ = tx.send(Err(all));
    });
    let got = rx.recv_timeout(Duration::from_secs(120));
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    match got {
        Ok(Ok(())) => Ok(()),
        Ok(Err(stderr)) => Err(format!("ended without reaching {step}: {stderr}")),
        Err(_) => Err(format!("did not reach {step} in time")),
    }
}

fn run_ok(args: &[String]) {
    let o = Command::new(env!("CARGO_BIN_EXE_ictwin")).args(args).output().unwrap();
    assert!(
        matches!(o.status.code(), Some(0 | 2)),
        "{args:?}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
}

/// The property for one command at every step.
fn check(cmd: &Cmd) {
    let t0 = Instant::now();
    let base = tempfile::tempdir().unwrap();
    let d = base.path();
    let (out, trace): (PathBuf, PathBuf) = (d.join("ref/out"), d.join("ref/trace"));
    std::fs::create_dir_all(&trace).unwrap();
    run_ok(&(cmd.args)(d, &out, &trace, 1));
    let old = tree(&out);
    let old_trace = tree(&trace);
    let n = visible(&old).len();
    assert!(n >= 2, "{}: {old:?}", cmd.name);
    let mut steps = vec!["write:0".to_string(), format!("write:{}", n - 1), "journal".into()];
    steps.extend(["rename:0".to_string(), format!("rename:{}", n - 1), "finish".into()]);
    if cmd.name == "fine" {
        steps.push("trace".into());
    }
    for step in &steps {
        let case = format!("{} killed at {step}", cmd.name);
        let (out, trace) = (
            d.join(step.replace(':', "-")).join("out"),
            d.join(step.replace(':', "-")).join("trace"),
        );
        copy_tree(&old, &out);
        std::fs::create_dir_all(&trace).unwrap();
        copy_tree(&old_trace, &trace);
        kill_at(&(cmd.args)(d, &out, &trace, 2), step).unwrap_or_else(|e| panic!("{case}: {e}"));
        let killed = tree(&out);
        let expected = match killed.get(".ictwin-journal") {
            // The trace is renamed after the run directory is complete.
            None if step == "trace" => {
                let new = visible(&killed);
                assert!(
                    new.keys().eq(old.keys()) && new != old,
                    "{case}: run directory not complete"
                );
                new
            }
            None => {
                assert_eq!(visible(&killed), old, "{case}: files changed before the commit point");
                old.clone()
            }
            Some(j) => {
                let names: Vec<String> = serde_json::from_str(j).unwrap();
                assert_eq!(names.len(), n, "{case}: journal {names:?}");
                let mut new = old.clone();
                for name in names {
                    let staged = killed.get(&format!(".ictwin-staging/{name}"));
                    let v = staged
                        .or(killed.get(&name))
                        .unwrap_or_else(|| panic!("{case}: {name} lost"));
                    new.insert(name, v.clone());
                }
                assert_ne!(new, old, "{case}");
                for (k, v) in visible(&killed) {
                    assert!(
                        old.get(&k) == Some(&v) || new.get(&k) == Some(&v),
                        "{case}: {k} neither old nor new"
                    );
                }
                new
            }
        };
        if step == "trace" {
            assert_eq!(
                visible(&tree(&trace)),
                old_trace,
                "{case}: trace replaced before its rename"
            );
        }
        // The next run into the directory recovers it first: paused at its first write (after
        // the recovery) and killed, the directory is all old or all new, without a journal.
        kill_at(&(cmd.args)(d, &out, &trace, 3), "write:0").unwrap_or_else(|e| panic!("{case}, next run: {e}"));
        let recovered = tree(&out);
        assert!(
            !recovered.contains_key(".ictwin-journal"),
            "{case}: journal left after recovery"
        );
        assert_eq!(visible(&recovered), expected, "{case}: not recovered to a whole state");
        // A complete run afterwards leaves no temporary file anywhere.
        run_ok(&(cmd.args)(d, &out, &trace, 3));
        let leftovers: Vec<String> = tree(&out)
            .into_keys()
            .chain(tree(&trace).into_keys())
            .filter(|k| k.contains(".ictwin") || k.contains(".tmp"))
            .collect();
        assert!(leftovers.is_empty(), "{case}: left {leftovers:?}");
    }
    eprintln!(
        "{}: {} steps killed and recovered in {:.1} s",
        cmd.name,
        steps.len(),
        t0.elapsed().as_secs_f64()
    );
}

#[test]
fn run_killed_at_every_step() {
    check(&CMDS[0]);
}

#[test]
fn fine_and_its_trace_killed_at_every_step() {
    check(&CMDS[1]);
}

#[test]
fn validate_killed_at_every_step() {
    check(&CMDS[2]);
}

#[test]
fn calibrate_killed_at_every_step() {
    check(&CMDS[3]);
}
