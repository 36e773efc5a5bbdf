//! `ictwin sweep` end to end, on a small 4-node scenario (coarse CPU engine unless said):
//! grid and zip order, ranges, named errors before anything runs, derived seeds (adding a
//! point changes no other point), `--point` + `--collect` equal to a plain sweep, plots, the
//! `[sweep]` table, the fine engine, and the GPU engine (skipped without an adapter unless
//! `ICTWIN_REQUIRE_GPU=1`).

mod collect;
mod committed;
mod engines;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// A 4-node scenario small enough for a few hundred milliseconds per point.
pub const SMALL: &str = "name = \"t4\"\n[subnet]\nnodes = 4\n[network]\ndelay = { dist = \"lognormal\", median_ms = 50.0, sigma = 0.5 }\n[faults]\ncrashed = 0\n[run]\nreplicas = 200\nrounds = 40\nseed = 7\n";

/// Columns that measure the host.
pub const TIMING: &[&str] = &["replica_rounds_per_s", "wall_s"];

/// Writes `text` as `name` in a fresh temporary directory; returns (dir guard, path).
pub fn scenario_file(name: &str, text: &str) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(name);
    std::fs::write(&path, text).unwrap();
    (dir, path)
}

/// Runs `ictwin sweep <args> --quiet`.
pub fn sweep(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_ictwin"))
        .arg("sweep")
        .args(args)
        .arg("--quiet")
        .output()
        .expect("run ictwin")
}

/// Runs a sweep that must succeed.
pub fn sweep_ok(args: &[&str]) {
    let o = sweep(args);
    assert!(o.status.success(), "{args:?}: {}", String::from_utf8_lossy(&o.stderr));
}

/// The error of a sweep that must fail.
pub fn sweep_err(args: &[&str]) -> String {
    let o = sweep(args);
    assert!(!o.status.success(), "{args:?} should fail");
    String::from_utf8_lossy(&o.stderr).to_string()
}

/// `sweep.csv` as (header, rows), timing columns removed.
pub fn sweep_csv(dir: &Path) -> (Vec<String>, Vec<Vec<String>>) {
    let mut r = csv::Reader::from_path(dir.join("sweep.csv")).unwrap();
    let header: Vec<String> = r.headers().unwrap().iter().map(String::from).collect();
    let keep: Vec<bool> = header.iter().map(|h| !TIMING.contains(&h.as_str())).collect();
    let rows = r
        .records()
        .map(|rec| {
            rec.unwrap()
                .iter()
                .zip(&keep)
                .filter(|(_, k)| **k)
                .map(|(v, _)| v.to_string())
                .collect()
        })
        .collect();
    (
        header
            .into_iter()
            .zip(&keep)
            .filter(|(_, k)| **k)
            .map(|(h, _)| h)
            .collect(),
        rows,
    )
}

/// The column `name` of `sweep.csv`.
pub fn column(dir: &Path, name: &str) -> Vec<String> {
    let (h, rows) = sweep_csv(dir);
    let i = h
        .iter()
        .position(|c| c == name)
        .unwrap_or_else(|| panic!("no column {name}"));
    rows.into_iter().map(|r| r[i].clone()).collect()
}

#[test]
fn grid_is_first_key_slowest_and_zip_aligns() {
    let (tmp, sc) = scenario_file("t4.toml", SMALL);
    let out = tmp.path().join("grid");
    let s = sc.to_str().unwrap();
    sweep_ok(&[
        s,
        "--engine",
        "cpu",
        "--set",
        "network.delay.median_ms=20,80",
        "--set",
        "faults.crashed=0..1",
        "--replicas",
        "50",
        "--rounds",
        "20",
        "--out",
        out.to_str().unwrap(),
    ]);
    let (h, _) = sweep_csv(&out);
    assert_eq!(
        &h[..4],
        ["point", "network.delay.median_ms", "faults.crashed", "scenario"]
    );
    assert_eq!(column(&out, "point"), ["0", "1", "2", "3"]);
    assert_eq!(column(&out, "network.delay.median_ms"), ["20", "20", "80", "80"]);
    assert_eq!(column(&out, "faults.crashed"), ["0", "1", "0", "1"]);
    assert!(out.join("points/3-median_ms-80_crashed-1/summary.csv").is_file());
    // Slower network, longer rounds (a deterministic property of the model at these sizes).
    let mean: Vec<f64> = column(&out, "mean_round_ms")
        .iter()
        .map(|v| v.parse().unwrap())
        .collect();
    assert!(mean[2] > mean[0] && mean[3] > mean[1], "{mean:?}");

    let zip = tmp.path().join("zip");
    sweep_ok(&[
        s,
        "--engine",
        "cpu",
        "--zip",
        "--set",
        "network.delay.median_ms=20,80",
        "--set",
        "faults.crashed=0..1",
        "--replicas",
        "50",
        "--rounds",
        "20",
        "--out",
        zip.to_str().unwrap(),
    ]);
    assert_eq!(column(&zip, "network.delay.median_ms"), ["20", "80"]);
    assert_eq!(column(&zip, "faults.crashed"), ["0", "1"]);
    // Same point values, same derived seed, same numbers: zip point 1 = grid point 3.
    let (_, g) = sweep_csv(&out);
    let (_, z) = sweep_csv(&zip);
    assert_eq!(g[3][1..], z[1][1..]);
}

#[test]
fn ranges_with_steps_and_floats_expand() {
    let (tmp, sc) = scenario_file("t4.toml", SMALL);
    let out = tmp.path().join("o");
    sweep_ok(&[
        sc.to_str().unwrap(),
        "--engine",
        "cpu",
        "--set",
        "network.delay.sigma=0.2..0.6:0.2,1.0",
        "--replicas",
        "20",
        "--rounds",
        "10",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(column(&out, "network.delay.sigma"), ["0.2", "0.4", "0.6", "1.0"]);
}

#[test]
fn bad_keys_and_values_are_named_before_anything_runs() {
    let (tmp, sc) = scenario_file("t4.toml", SMALL);
    let s = sc.to_str().unwrap();
    let out = tmp.path().join("never");
    let o = out.to_str().unwrap();
    let e = sweep_err(&[s, "--set", "faults.crashd=0..1", "--out", o]);
    assert!(e.contains("unknown scenario key `faults.crashd`"), "{e}");
    let e = sweep_err(&[s, "--set", "faults.crashed=0,5", "--out", o]);
    assert!(e.contains("sweep point 1 (faults.crashed=5)"), "{e}");
    assert!(
        e.contains(&format!("{s}:7: key `faults.crashed`")),
        "file, line and key: {e}"
    );
    assert!(e.contains("more than the 4 nodes"), "{e}");
    // A key the file lacks is added; its error names file and key (no line: lines moved).
    let e = sweep_err(&[s, "--set", "faults.silent=0,9", "--out", o]);
    assert!(
        e.contains(&format!("sweep point 1 (faults.silent=9): {s}: key `faults.crashed`")),
        "{e}"
    );
    let e = sweep_err(&[s, "--set", "subnet.nodes=4,200", "--out", o]);
    assert!(
        e.contains("sweep point 1 (subnet.nodes=200)") && e.contains("at most 128 nodes"),
        "{e}"
    );
    let e = sweep_err(&[s, "--set", "network.delay.median_ms=-5,10,-1", "--out", o]);
    assert!(
        e.contains("2 of 3 sweep points are invalid"),
        "every invalid point listed: {e}"
    );
    let e = sweep_err(&[
        s,
        "--set",
        "subnet.nodes=4..7",
        "--set",
        "faults.crashed=0,1",
        "--zip",
        "--out",
        o,
    ]);
    assert!(e.contains("equal length"), "{e}");
    let e = sweep_err(&[s, "--set", "faults.crashed", "--out", o]);
    assert!(e.contains("expected KEY=VALUES"), "{e}");
    let e = sweep_err(&[s, "--set", "run.rounds=5,6", "--rounds", "7", "--out", o]);
    assert!(e.contains("--rounds and the swept key `run.rounds`"), "{e}");
    let e = sweep_err(&[s, "--out", o]);
    assert!(e.contains("nothing to sweep"), "{e}");
    assert!(!out.exists(), "nothing may be written when the sweep is refused");
}

#[test]
fn adding_a_point_changes_no_other_point() {
    let (tmp, sc) = scenario_file("t4.toml", SMALL);
    let s = sc.to_str().unwrap();
    let (a, b) = (tmp.path().join("a"), tmp.path().join("b"));
    sweep_ok(&[
        s,
        "--engine",
        "cpu",
        "--set",
        "faults.crashed=0,1",
        "--out",
        a.to_str().unwrap(),
    ]);
    sweep_ok(&[
        s,
        "--engine",
        "cpu",
        "--set",
        "faults.crashed=0,2,1",
        "--out",
        b.to_str().unwrap(),
    ]);
    let (_, ra) = sweep_csv(&a);
    let (_, rb) = sweep_csv(&b);
    // Rows without the point index: crashed=0 and crashed=1 are equal in both sweeps.
    assert_eq!(ra[0][1..], rb[0][1..]);
    assert_eq!(ra[1][1..], rb[2][1..]);
    let seeds = column(&b, "seed");
    assert_ne!(seeds[0], seeds[1], "each point its own seed");
    assert_ne!(seeds[0], "7", "derived from the base seed 7, not equal to it");
}

#[test]
fn sweep_table_in_the_file_is_used_and_checked() {
    let text = format!("{SMALL}[sweep]\nset = [\"faults.crashed=0..1\"]\nzip = false\n");
    let (tmp, sc) = scenario_file("t4.toml", &text);
    let out = tmp.path().join("t");
    sweep_ok(&[
        sc.to_str().unwrap(),
        "--engine",
        "cpu",
        "--replicas",
        "20",
        "--rounds",
        "10",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(column(&out, "faults.crashed"), ["0", "1"]);
    // `ictwin run` accepts the file (and ignores the table).
    let run = Command::new(env!("CARGO_BIN_EXE_ictwin"))
        .args([
            "run",
            sc.to_str().unwrap(),
            "--engine",
            "cpu",
            "--replicas",
            "10",
            "--rounds",
            "5",
            "--quiet",
            "--out",
        ])
        .arg(tmp.path().join("run"))
        .output()
        .unwrap();
    assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));
    let bad = format!("{SMALL}[sweep]\nset = [\"faults.crashed=3..1\"]\n");
    let (_t2, sc2) = scenario_file("bad.toml", &bad);
    let e = sweep_err(&[sc2.to_str().unwrap(), "--out", tmp.path().join("x").to_str().unwrap()]);
    assert!(
        e.contains(":13: key `sweep.set`") && e.contains("A must not exceed B"),
        "{e}"
    );
}
