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
