//! Command-line flags: the binary run with random values of every numeric flag of `run`,
//! `fine`, `validate`, `calibrate` and `bench` (and random `--calibration` files), on a tiny
//! scenario. A flag outside what the command can use must be an error naming the flag; a
//! valid set must run with exactly the values given (or, for a run too big to finish here,
//! get as far as the locked output directory, i.e. past every input check).

use crate::gen::Rng;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Command-line cases.
const CASES: u64 = 100;
/// A case taking longer than this is a hang.
const TIMEOUT: Duration = Duration::from_secs(60);

/// Values of count flags (`--replicas`, `--rounds`, `--coarse-replicas`...).
const COUNTS: &[&str] = &[
    "0",
    "1",
    "2",
    "3",
    "-1",
    "4294967295",
    "4294967296",
    "18446744073709551616",
    "abc",
    "1e3",
    "",
    "7",
];
const SEEDS: &[&str] = &[
    "0",
    "1",
    "18446744073709551615",
    "18446744073709551616",
    "-1",
    "x",
    "42",
];
const THREADS: &[&str] = &["0", "1", "2", "3", "1024", "1025", "99999", "-1", "x", "4294967296"];
const FLOATS: &[&str] = &[
    "nan", "inf", "-1", "0", "1", "0.5", "1e-300", "x", "-0.0", "0.001", "0.1", "2",
];
/// Calibration files: (name, contents, valid).
const CALIBRATIONS: &[(&str, &str, bool)] = &[
    (
        "cal-ok.toml",
        "[calibration]\ndelay_scale = 1.1\nround_overhead_ms = 2.0\n",
        true,
    ),
    ("cal-neg.toml", "[calibration]\ndelay_scale = -1.0\n", false),
    ("cal-nan.toml", "[calibration]\ngossip_hop_scale = nan\n", false),
    ("cal-type.toml", "[calibration]\nround_overhead_ms = \"x\"\n", false),
    ("cal-none.toml", "delay_scale = 1.0\n", false),
    ("cal-missing.toml", "", false),
];

/// What the command should do with a value: accept it (parsed) or refuse it.
fn parse_count(v: &str, max: u64) -> Option<u64> {
    v.parse::<u64>().ok().filter(|&c| (1..=max).contains(&c))
}

/// One command line: the arguments, the flags that must be refused (any one named in the
/// error), and the values a successful run must report.
struct Case {
    args: Vec<String>,
    invalid: Vec<&'static str>,
    /// (replicas, rounds, seed) expected in summary.csv, or None when not checked.
    summary: Option<(u64, u64, u64)>,
    /// Work too big to run here: the output directory is locked so the run stops there.
    lock: bool,
}

fn draw(r: &mut Rng, dir: &Path, out: &Path) -> Case {
    let tiny = dir.join("tiny.toml").display().to_string();
    let mut args: Vec<String> = Vec::new();
    let mut invalid = Vec::new();
    let flag = |args: &mut Vec<String>, name: &'static str, v: &str, ok: bool, invalid: &mut Vec<_>| {
        args.push(format!("--{name}={v}"));
        if !ok {
            invalid.push(name);
        }
    };
    let cmd = *r.pick(&["run", "run", "run", "fine", "validate", "calibrate", "bench"]);
    args.push(cmd.to_string());
    if cmd != "bench" || r.chance(0.5) {
        args.push(tiny.clone());
    }
    let (mut replicas, mut rounds, mut seed) = (Some(3u64), Some(4u64), Some(1u64));
    let work: f64;
    match cmd {
        "run" | "fine" => {
            let max_rounds = if cmd == "fine" {
                u32::MAX as u64 - 8
            } else {
                u32::MAX as u64
            };
            if cmd == "fine" {
                replicas = Some(1);
            }
            if r.chance(0.7) {
                let v = *r.pick(COUNTS);
                replicas = parse_count(v, u32::MAX as u64);
                flag(&mut args, "replicas", v, replicas.is_some(), &mut invalid);
            }
            if r.chance(0.7) {
                let v = *r.pick(COUNTS);
                rounds = parse_count(v, max_rounds);
                flag(&mut args, "rounds", v, rounds.is_some(), &mut invalid);
            }
            if r.chance(0.7) {
                let v = *r.pick(SEEDS);
                seed = v.parse::<u64>().ok();
                flag(&mut args, "seed", v, seed.is_some(), &mut invalid);
            }
            if cmd == "run" {
                args.push("--engine=cpu".into());
                if r.chance(0.6) {
                    let v = *r.pick(THREADS);
                    let ok = v.parse::<u32>().is_ok_and(|t| (1..=1024).contains(&t));
                    flag(&mut args, "threads", v, ok, &mut invalid);
                }
                if r.chance(0.4) {
                    let (name, _, ok) = *r.pick(CALIBRATIONS);
                    let p = dir.join(name).display().to_string();
                    flag(&mut args, "calibration", &p, ok, &mut invalid);
                }
            }
            work = replicas.unwrap_or(1) as f64 * rounds.unwrap_or(1) as f64 * if cmd == "fine" { 1000.0 } else { 1.0 };
        }
        "validate" | "calibrate" => {
            let mut coarse = 2000u64;
            if r.chance(0.6) {
                let v = *r.pick(COUNTS);
                let c = parse_count(v, u32::MAX as u64);
                coarse = c.unwrap_or(1);
                flag(&mut args, "coarse-replicas", v, c.is_some(), &mut invalid);
            }
            if r.chance(0.4) {
                let v = *r.pick(COUNTS);
                let ok = v.parse::<u64>().is_ok_and(|s| s >= 1);
                flag(&mut args, "shrink", v, ok, &mut invalid);
            }
            if cmd == "validate" {
                for (name, lo, hi, open) in [
                    ("alpha", 0.0, 1.0, true),
                    ("tolerance", 0.0, f64::MAX, false),
                    ("ks-tolerance", 0.0, 1.0, false),
                ] {
                    if r.chance(0.4) {
                        let v = *r.pick(FLOATS);
                        let ok = v
                            .parse::<f64>()
                            .is_ok_and(|x| x.is_finite() && if open { x > lo && x < hi } else { x >= lo && x <= hi });
                        flag(&mut args, name, v, ok, &mut invalid);
                    }
                }
                work = coarse as f64 * 20.0 + 20_000.0;
            } else {
                let mut iterations = 60u64;
                if r.chance(0.6) {
                    let v = *r.pick(COUNTS);
                    let c = v.parse::<u32>().ok().filter(|&i| i >= 1);
                    iterations = c.unwrap_or(1) as u64;
                    flag(&mut args, "iterations", v, c.is_some(), &mut invalid);
                }
                work = coarse as f64 * 20.0 * iterations as f64 + 20_000.0;
            }
            replicas = None;
        }
        _ => {
            // bench appends to a CSV (no directory to lock): only small valid sizes.
            for name in ["replicas", "rounds", "repeat"] {
                let v = *r.pick(&["0", "1", "2", "-1", "x", "4294967296", ""]);
                let ok = parse_count(v, u32::MAX as u64).is_some();
                flag(&mut args, name, v, ok, &mut invalid);
            }
            if r.chance(0.5) {
                let v = *r.pick(THREADS);
                let ok = v.parse::<u32>().is_ok_and(|t| (1..=1024).contains(&t));
                flag(&mut args, "threads", v, ok, &mut invalid);
            }
            args.push(format!("--out={}", out.join("bench.csv").display()));
            return Case {
                args,
                invalid,
                summary: None,
                lock: false,
            };
        }
    }
    let target = if cmd == "calibrate" {
        out.join("cal.toml")
    } else {
        out.to_path_buf()
    };
    args.push(format!("--out={}", target.display()));
    args.push("-q".into());
    let summary = match (cmd, replicas, rounds, seed) {
        ("run" | "fine", Some(a), Some(b), Some(c)) => Some((a, b, c)),
        _ => None,
    };
    Case {
        args,
        invalid,
        summary,
        lock: work > 2e5,
    }
}

/// Runs the binary; (exit code, stderr), or an error on a hang.
fn ictwin(args: &[String], cwd: &Path) -> Result<(Option<i32>, String), String> {
    let mut child = Command::new(env!("CARGO_BIN_EXE_ictwin"))
        .args(args)
        .current_dir(cwd)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| e.to_string())?;
    let t0 = Instant::now();
    loop {
        if let Some(status) = child.try_wait().map_err(|e| e.to_string())? {
            let mut err = String::new();
            use std::io::Read;
            child.stderr.take().unwrap().read_to_string(&mut err).unwrap();
            return Ok((status.code(), err));
        }
        if t0.elapsed() > TIMEOUT {
            let _ = child.kill();
            let _ = child.wait();
            return Err(format!("no answer after {TIMEOUT:?}"));
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// Runs one case in `work` (a fresh directory); the failure, if any.
fn check(case: &Case, dir: &Path, work: &Path) -> Option<String> {
    let out = work.join("out");
    let lock = case.lock.then(|| {
        std::fs::create_dir_all(&out).unwrap();
        let f = std::fs::File::open(&out).unwrap();
        f.lock().unwrap();
        f
    });
    let (code, err) = match ictwin(&case.args, dir) {
        Ok(r) => r,
        Err(e) => return Some(e),
    };
    drop(lock);
    if err.contains("panicked") || !matches!(code, Some(0..=2)) {
        return Some(format!("exit {code:?}: {err}"));
    }
    if !case.invalid.is_empty() {
        let named = case
            .invalid
            .iter()
            .any(|f| err.contains(&format!("--{f}")) || (*f == "calibration" && err.contains("cal-")));
        return (code == Some(0) || !named)
            .then(|| format!("invalid {:?} not refused by name (exit {code:?}): {err}", case.invalid));
    }
    if case.lock {
        return (!err.contains("another ictwin process"))
            .then(|| format!("valid flags refused (exit {code:?}): {err}"));
    }
    if code == Some(1) {
        return Some(format!("valid flags refused: {err}"));
    }
    let (want, Ok(csv)) = (case.summary?, std::fs::read_to_string(out.join("summary.csv"))) else {
        return Some("no summary.csv".into());
    };
    let row: Vec<&str> = csv.lines().nth(1).unwrap_or("").split(',').collect();
    let got = (
        row.get(3)?.parse().ok()?,
        row.get(4)?.parse().ok()?,
        row.get(5)?.parse().ok()?,
    );
    (got != want).then(|| format!("summary.csv has (replicas, rounds, seed) = {got:?}, asked {want:?}"))
}

/// The property over [`CASES`] command lines (two at a time).
#[test]
fn flags_are_refused_by_name_or_used_exactly() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("tiny.toml"),
        "name = \"tiny\"\n[subnet]\nnodes = 4\n[network]\ndelay = { dist = \"constant\", ms = 50.0 }\n\
         [run]\nreplicas = 3\nrounds = 4\n[fine]\ncrypto_time = false\n",
    )
    .unwrap();
    for (name, text, _) in CALIBRATIONS.iter().filter(|c| c.0 != "cal-missing.toml") {
        std::fs::write(dir.path().join(name), text).unwrap();
    }
    let mut r = Rng::new(0xF1A6_5000);
    let cases: Vec<(u64, Case)> = (0..CASES)
        .map(|i| (i, draw(&mut r, dir.path(), Path::new("out"))))
        .collect();
    let failures = std::sync::Mutex::new(Vec::new());
    let next = std::sync::atomic::AtomicUsize::new(0);
    std::thread::scope(|s| {
        for _ in 0..2 {
            s.spawn(|| loop {
                let i = next.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                let Some((k, case)) = cases.get(i) else { break };
                let work: PathBuf = dir.path().join(format!("case{k}"));
                std::fs::create_dir_all(&work).unwrap();
                // Relative --out: each case runs in its own directory.
                if let Some(f) = check(case, &work, &work) {
                    failures
                        .lock()
                        .unwrap()
                        .push(format!("case {k}: {f}\nictwin {}", case.args.join(" ")));
                }
                let _ = std::fs::remove_dir_all(&work);
            });
        }
    });
    let failures = failures.into_inner().unwrap();
    eprintln!("flag fuzz: {CASES} command lines");
    crate::gen::report(&failures);
}
