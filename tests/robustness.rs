//! Issue 14, end to end: what the engines cannot represent is refused with file, line and key;
//! outputs are checked before anything is simulated and written all or nothing.

use std::path::PathBuf;
use std::process::{Command, Output};

fn ictwin(args: &[&str]) -> Output {
    ictwin_env(args, &[])
}

fn ictwin_env(args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut c = Command::new(env!("CARGO_BIN_EXE_ictwin"));
    c.args(args);
    for (k, v) in env {
        c.env(k, v);
    }
    c.output().expect("run ictwin")
}

/// A fresh, empty directory for one test.
fn tmp(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("ictwin-robust-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).to_string()
}

/// Delays beyond 2^32 - 1 µs used to be clamped, failure times below 1 ms raised to 1 ms:
/// both are refused now, by `run` and `fine` alike, naming file, line and key.
#[test]
fn unrepresentable_values_are_refused_with_file_line_and_key() {
    let dir = tmp("unrepresentable");
    let head = "name = \"x\"\n[subnet]\nnodes = 4\n";
    let cases = [
        (
            "[network]\ndelay = { dist = \"lognormal\", median_ms = 1e12, sigma = 0.5 }\n",
            ":5: key `network.delay.median_ms`",
        ),
        (
            "[network]\ndelay = { dist = \"lognormal\", median_ms = 70.0, sigma = 100.0 }\n",
            ":5: key `network.delay.sigma`",
        ),
        (
            "[network]\ndelay = { dist = \"empirical\", file = \"d.csv\" }\n",
            "d.csv:3: delay 1000000000000 ms is above",
        ),
        (
            "[faults]\nmtbf_hours = 1e-9\nmttr_hours = 1e-9\n",
            ":5: key `faults.mtbf_hours`",
        ),
        (
            "[fine]\nclients = 2\n[fine.costs]\nsign_us = -1\n",
            ":7: key `fine.costs.sign_us`",
        ),
    ];
    std::fs::write(dir.join("d.csv"), "delay_ms\n70\n1e12\n").unwrap();
    for (tail, want) in cases {
        let path = dir.join("s.toml");
        std::fs::write(&path, format!("{head}{tail}")).unwrap();
        let out = dir.join("out");
        for cmd in ["run", "fine"] {
            let o = ictwin(&[cmd, path.to_str().unwrap(), "--out", out.to_str().unwrap()]);
            let err = stderr(&o);
            assert_eq!(o.status.code(), Some(1), "{cmd} {tail}: {err}");
            assert!(err.contains(want), "{cmd} {tail}: {err}");
            assert!(!out.exists(), "{cmd} {tail}: output written despite the error");
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// `WGPU_BACKEND=bogus` used to search no backend at all without a word.
#[test]
fn unknown_wgpu_backend_is_an_error_naming_the_variable() {
    let dir = tmp("backend");
    let out = dir.join("out");
    let env = [("WGPU_BACKEND", "bogus")];
    for args in [
        vec!["devices"],
        vec![
            "run",
            "--engine",
            "auto",
            "--replicas",
            "10",
            "--rounds",
            "5",
            "--out",
            out.to_str().unwrap(),
        ],
        vec![
            "run",
            "--engine",
            "gpu",
            "--replicas",
            "10",
            "--rounds",
            "5",
            "--out",
            out.to_str().unwrap(),
        ],
    ] {
        let o = ictwin_env(&args, &env);
        let err = stderr(&o);
        assert_eq!(o.status.code(), Some(1), "{args:?}: {err}");
        assert!(
            err.contains("WGPU_BACKEND") && err.contains("bogus") && err.contains("vulkan"),
            "{args:?}: {err}"
        );
        assert!(!out.exists(), "{args:?}: output written despite the error");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// Runs `args` and returns its output and how long it took, s.
fn timed(args: &[&str]) -> (Output, f64) {
    let t0 = std::time::Instant::now();
    let o = ictwin(args);
    (o, t0.elapsed().as_secs_f64())
}

/// A second process writing into a locked output directory fails at once, before simulating
/// (it used to run to the end and interleave its files with the first one's).
#[test]
fn a_locked_output_directory_fails_at_once() {
    let dir = tmp("locked");
    let out = dir.join("out");
    std::fs::create_dir_all(&out).unwrap();
    let lock = std::fs::File::open(&out).unwrap();
    lock.lock().unwrap();
    for cmd in ["run", "fine"] {
        let (o, s) = timed(&[cmd, "--replicas", "4000000000", "--out", out.to_str().unwrap()]);
        let err = stderr(&o);
        assert_eq!(o.status.code(), Some(1), "{cmd}: {err}");
        assert!(
            err.contains("another ictwin process") && err.contains("out"),
            "{cmd}: {err}"
        );
        assert!(s < 30.0, "{cmd}: failed only after {s} s");
        assert_eq!(
            std::fs::read_dir(&out).unwrap().count(),
            0,
            "{cmd}: wrote into a locked directory"
        );
    }
    drop(lock);
    let _ = std::fs::remove_dir_all(&dir);
}

/// Every input and output is checked before anything is simulated: an unwritable `--out`, a
/// `--trace` naming a directory (or `/`), a missing second scenario of `validate`, a
/// 129-node scenario given to `calibrate` after a valid one.
#[test]
fn inputs_and_outputs_are_checked_before_simulating() {
    let dir = tmp("upfront");
    let bad_out = "/proc/ictwin-cannot-create/out";
    let big = ["--replicas", "4000000000", "--out", bad_out];
    for cmd in ["run", "fine"] {
        let (o, s) = timed(&[&[cmd][..], &big[..]].concat());
        let err = stderr(&o);
        assert_eq!(o.status.code(), Some(1), "{cmd}: {err}");
        assert!(err.contains(bad_out) && s < 30.0, "{cmd} ({s} s): {err}");
    }
    let before: Vec<_> = std::fs::read_dir(&dir).unwrap().collect();
    assert!(before.is_empty());
    let out = dir.join("out");
    for trace in [dir.to_str().unwrap(), "/"] {
        let (o, s) = timed(&[
            "fine",
            "--rounds",
            "100000000",
            "--trace",
            trace,
            "--out",
            out.to_str().unwrap(),
        ]);
        let err = stderr(&o);
        assert_eq!(o.status.code(), Some(1), "--trace {trace}: {err}");
        assert!(
            err.contains("--trace") && err.contains("directory") && s < 30.0,
            "{trace} ({s} s): {err}"
        );
        let left: Vec<_> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert!(left.is_empty(), "--trace {trace} left {left:?}");
        let root_tmp = std::fs::read_dir("/")
            .unwrap()
            .any(|e| e.unwrap().file_name().to_string_lossy().contains(".tmp"));
        assert!(!root_tmp, "--trace {trace} left a temporary file in /");
    }
    let good = dir.join("good.toml");
    std::fs::write(
        &good,
        "name = \"g\"\n[subnet]\nnodes = 4\n[run]\nreplicas = 2\nrounds = 20\n",
    )
    .unwrap();
    let missing = dir.join("missing.toml");
    let o = ictwin(&[
        "validate",
        good.to_str().unwrap(),
        missing.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(
        err.contains("missing.toml") && !err.contains("validate: g"),
        "ran `good` first: {err}"
    );
    let huge = dir.join("huge.toml");
    std::fs::write(
        &huge,
        "name = \"h\"\n[subnet]\nnodes = 129\n[run]\nreplicas = 1\nrounds = 20\n",
    )
    .unwrap();
    let cal = out.join("cal.toml");
    let o = ictwin(&[
        "calibrate",
        good.to_str().unwrap(),
        huge.to_str().unwrap(),
        "--out",
        cal.to_str().unwrap(),
    ]);
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(err.contains("huge.toml") && err.contains("subnet.nodes"), "{err}");
    assert!(!err.contains("fine engine on"), "ran the fine engine first: {err}");
    assert!(!out.exists(), "output written despite the errors");
    let _ = std::fs::remove_dir_all(&dir);
}

/// `ictwin run` without `--out` writes `ictwin-out/<name>/` in the current directory (it used
/// to rewrite the committed `results/ic-app-13/`, dirtying `git status`).
#[test]
fn default_run_goes_to_ictwin_out_in_the_current_directory() {
    let dir = tmp("default-out");
    let o = Command::new(env!("CARGO_BIN_EXE_ictwin"))
        .args(["run", "--engine", "cpu", "--replicas", "50", "--rounds", "5", "--quiet"])
        .current_dir(&dir)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    let out = dir.join("ictwin-out/ic-app-13");
    let mut names: Vec<String> = std::fs::read_dir(&out)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
        .collect();
    names.sort();
    assert_eq!(
        names,
        ["histograms.csv", "manifest.json", "summary.csv"],
        "nothing else left behind"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// `ictwin bench` used to need the repository root (its default scenarios and CSV path were
/// relative to it); it now runs anywhere and checks its output before measuring.
#[test]
fn bench_runs_outside_the_repository_and_checks_its_output_first() {
    let dir = tmp("bench");
    let args = [
        "bench",
        "--replicas",
        "100",
        "--rounds",
        "5",
        "--repeat",
        "1",
        "--threads",
        "1",
    ];
    let o = Command::new(env!("CARGO_BIN_EXE_ictwin"))
        .args(args)
        .current_dir(&dir)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    let csv = std::fs::read_to_string(dir.join("ictwin-out/bench/cpu.csv")).unwrap();
    assert_eq!(csv.lines().count(), 3, "header and two rows: {csv}");
    let bad = "/proc/ictwin-cannot-create/cpu.csv";
    let big = [
        "bench",
        "--replicas",
        "4000000000",
        "--rounds",
        "4000000000",
        "--out",
        bad,
    ];
    let (o, s) = timed(&big);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("ictwin-cannot-create") && s < 30.0,
        "{s} s: {}",
        stderr(&o)
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// Every command's long help ends with an example.
#[test]
fn every_command_help_has_an_example() {
    let commands = [
        "run",
        "bench",
        "bench-gpu",
        "devices",
        "fine",
        "crypto-bench",
        "fine-bench",
        "validate",
        "calibrate",
    ];
    for cmd in commands {
        let o = ictwin(&[cmd, "--help"]);
        let text = String::from_utf8_lossy(&o.stdout);
        assert!(o.status.success(), "{cmd}: {}", stderr(&o));
        assert!(
            text.contains("Example:\n  ") && text.contains(&format!("ictwin {cmd} ")),
            "{cmd}: {text}"
        );
    }
}

/// `validate` of a shipped scenario sizes the fine engine from `[run]` (20,000 x 100 heights:
/// hours); it says so before running (here the locked output directory stops it right after).
#[test]
fn validate_warns_when_run_sizes_a_huge_fine_run() {
    let dir = tmp("validate-size");
    let out = dir.join("out");
    std::fs::create_dir_all(&out).unwrap();
    let lock = std::fs::File::open(&out).unwrap();
    lock.lock().unwrap();
    let scen = concat!(env!("CARGO_MANIFEST_DIR"), "/experiments/ic-app-13.toml");
    let o = ictwin(&["validate", scen, "--out", out.to_str().unwrap()]);
    let err = stderr(&o);
    assert!(
        err.contains("warning:") && err.contains("20000 x 100") && err.contains("--shrink"),
        "{err}"
    );
    let small = concat!(env!("CARGO_MANIFEST_DIR"), "/experiments/validation/v-app-13-fast.toml");
    let o = ictwin(&["validate", small, "--out", out.to_str().unwrap()]);
    assert!(!stderr(&o).contains("warning:"), "{}", stderr(&o));
    drop(lock);
    let _ = std::fs::remove_dir_all(&dir);
}
