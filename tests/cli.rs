//! `ictwin run` end to end: files, schema, determinism, overrides and errors.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn ictwin(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_ictwin"))
        .args(args)
        .output()
        .expect("run ictwin")
}

fn tmp(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("ictwin-cli-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    d
}

/// summary.csv without the timing columns.
fn summary_without_timing(dir: &Path) -> Vec<Vec<String>> {
    let mut r = csv::Reader::from_path(dir.join("summary.csv")).unwrap();
    let headers = r.headers().unwrap().clone();
    let keep: Vec<usize> = (0..headers.len())
        .filter(|&i| !ictwin::output::TIMING_COLUMNS.contains(&&headers[i]))
        .collect();
    let mut rows = vec![keep.iter().map(|&i| headers[i].to_string()).collect()];
    for rec in r.records() {
        let rec = rec.unwrap();
        rows.push(keep.iter().map(|&i| rec[i].to_string()).collect());
    }
    rows
}

#[test]
fn default_scenario_writes_all_files() {
    let out = tmp("default");
    let o = ictwin(&[
        "run",
        "--engine",
        "cpu",
        "--replicas",
        "300",
        "--rounds",
        "20",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(
        stdout.contains("ic-app-13") && stdout.contains("round time"),
        "{stdout}"
    );
    // Percentiles are bin edges in whole ms and print as such (not `381.0000`).
    for line in stdout.lines().filter(|l| l.contains(" p50 ")) {
        let words: Vec<&str> = line.split_whitespace().collect();
        for p in ["p50", "p99"] {
            let v = words[words.iter().position(|w| *w == p).unwrap() + 1];
            assert!(v.parse::<u64>().is_ok(), "{p} printed as {v}: {line}");
        }
    }
    let rows = summary_without_timing(&out);
    let header = &rows[0];
    for col in [
        "scenario",
        "engine",
        "nodes",
        "replicas",
        "rounds_per_replica",
        "seed",
        "rounds_total",
        "stalled_ratio",
        "mean_round_ms",
        "mean_round_ms_ci95",
        "round_ms_p50",
        "round_ms_p99",
        "block_rate_per_s",
        "finalized_ratio",
        "mean_finalization_ms",
        "mean_notarized_rank",
        "rank0_ratio",
    ] {
        assert!(header.iter().any(|h| h == col), "missing column {col}");
    }
    let get = |c: &str| rows[1][header.iter().position(|h| h == c).unwrap()].clone();
    assert_eq!(get("rounds_total"), "6000");
    assert_eq!(get("engine"), "cpu");
    let hist = std::fs::read_to_string(out.join("histograms.csv")).unwrap();
    assert!(hist.starts_with("metric,bin_lo,bin_hi,count\n"));
    for m in ["round_ms,", "finalization_ms,", "notarized_rank,"] {
        assert!(hist.contains(m), "no {m} rows");
    }
    let total: u64 = hist
        .lines()
        .filter(|l| l.starts_with("round_ms,"))
        .map(|l| l.rsplit(',').next().unwrap().parse::<u64>().unwrap())
        .sum();
    assert_eq!(total, 6000);
    let manifest: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("manifest.json")).unwrap()).unwrap();
    assert_eq!(manifest["seed"], 1);
    assert_eq!(manifest["scenario"]["subnet"]["nodes"], 13);
    assert!(manifest["ictwin"]["version"].is_string() && manifest["host"]["cpus"].is_number());
    let _ = std::fs::remove_dir_all(&out);
}

#[test]
fn same_seed_same_bytes_and_threads_do_not_matter() {
    let dirs: Vec<PathBuf> = (0..3).map(|i| tmp(&format!("det{i}"))).collect();
    let run = |seed: &str, threads: &str, out: &Path| {
        ictwin(&[
            "run",
            "experiments/ic-app-13-crashed-4.toml",
            "--engine",
            "cpu",
            "--replicas",
            "500",
            "--rounds",
            "30",
            "--seed",
            seed,
            "--threads",
            threads,
            "--out",
            out.to_str().unwrap(),
        ])
    };
    for (d, threads) in dirs.iter().zip(["1", "2", "2"]) {
        let o = run("42", threads, d);
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    }
    let a = summary_without_timing(&dirs[0]);
    assert_eq!(a, summary_without_timing(&dirs[1]));
    assert_eq!(a, summary_without_timing(&dirs[2]));
    let h = |d: &Path| std::fs::read(d.join("histograms.csv")).unwrap();
    assert_eq!(h(&dirs[0]), h(&dirs[1]));
    assert_eq!(h(&dirs[0]), h(&dirs[2]));
    // A different seed gives different numbers.
    let other = tmp("det-other");
    let o = run("43", "2", &other);
    assert!(o.status.success());
    assert_ne!(h(&dirs[0]), h(&other));
    for d in dirs.iter().chain([&other]) {
        let _ = std::fs::remove_dir_all(d);
    }
}

#[test]
fn bad_scenario_reports_file_line_key_and_writes_nothing() {
    let dir = tmp("bad");
    std::fs::create_dir_all(&dir).unwrap();
    let cases = [
        ("unknown.toml", "name = \"x\"\n[subnet]\nnodes = 13\nunit_delay = 5\n", "unknown.toml:4", "unit_delay"),
        ("type.toml", "name = \"x\"\n[subnet]\nnodes = 13.5\n", "type.toml:3", "expected u32"),
        (
            "negative.toml",
            "name = \"x\"\n[subnet]\nnodes = 13\n[network]\ndelay = { dist = \"uniform\", min_ms = -5.0, max_ms = 3.0 }\n",
            "negative.toml:5",
            "network.delay.min_ms",
        ),
        (
            "faulty.toml",
            "name = \"x\"\n[subnet]\nnodes = 4\n[faults]\ncrashed = 3\nsilent = 2\n",
            "faulty.toml:5",
            "more than the 4 nodes",
        ),
        (
            "empirical.toml",
            "name = \"x\"\n[subnet]\nnodes = 4\n[network]\ndelay = { dist = \"empirical\", file = \"missing.csv\" }\n",
            "empirical.toml:5",
            "missing.csv",
        ),
        ("toobig.toml", "name = \"x\"\n[subnet]\nnodes = 129\n", "toobig.toml", "at most 128"),
    ];
    for (file, text, loc, what) in cases {
        let path = dir.join(file);
        std::fs::write(&path, text).unwrap();
        let out = dir.join("out");
        let o = ictwin(&["run", path.to_str().unwrap(), "--out", out.to_str().unwrap()]);
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(1), "{file}: {err}");
        assert!(err.contains(loc) && err.contains(what), "{file}: {err}");
        assert!(!out.exists(), "{file}: output written despite the error");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn more_than_f_faulty_warns_but_runs() {
    let dir = tmp("warn");
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("w.toml");
    std::fs::write(
        &path,
        "name = \"w\"\n[subnet]\nnodes = 13\n[faults]\ncrashed = 5\n[run]\nreplicas = 10\nrounds = 5\n",
    )
    .unwrap();
    let o = ictwin(&[
        "run",
        path.to_str().unwrap(),
        "--engine",
        "cpu",
        "--out",
        dir.join("o").to_str().unwrap(),
    ]);
    assert!(o.status.success());
    assert!(String::from_utf8_lossy(&o.stderr).contains("warning"));
    let rows = summary_without_timing(&dir.join("o"));
    let i = rows[0].iter().position(|h| h == "stalled_ratio").unwrap();
    assert_eq!(rows[1][i], "1");
    let _ = std::fs::remove_dir_all(&dir);
}

/// Every `.toml` under `experiments/`, subdirectories included (`real-ic/`, `validation/`).
fn shipped_scenarios(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let p = entry.unwrap().path();
        if p.is_dir() {
            shipped_scenarios(&p, out);
        } else if p.extension().is_some_and(|e| e == "toml") {
            out.push(p);
        }
    }
}

#[test]
fn every_shipped_scenario_parses() {
    let mut files = Vec::new();
    shipped_scenarios(Path::new("experiments"), &mut files);
    for sub in ["real-ic", "validation"] {
        let n = files
            .iter()
            .filter(|p| p.starts_with(Path::new("experiments").join(sub)))
            .count();
        assert!(n > 0, "no scenario found under experiments/{sub}/");
    }
    let (mut faults, mut topologies) = (0, 0);
    for p in &files {
        // experiments/ic/ holds `ictwin ic` fault files and experiments/topology/ topology
        // files: each kind is checked with its own loader.
        if p.starts_with("experiments/ic") {
            ictwin::scenario::ic_faults::load_faults(Some(p)).unwrap_or_else(|e| panic!("{}: {e:#}", p.display()));
            faults += 1;
            continue;
        }
        if p.starts_with("experiments/topology") {
            ictwin::topology::load(p).unwrap_or_else(|e| panic!("{}: {e:#}", p.display()));
            topologies += 1;
            continue;
        }
        let l = ictwin::scenario::load(Some(p)).unwrap_or_else(|e| panic!("{}: {e:#}", p.display()));
        assert!(!l.scenario.name.is_empty());
    }
    assert!(
        faults >= 4 && topologies >= 1,
        "{faults} fault files, {topologies} topologies"
    );
}

/// `ictwin crypto-bench` prints a `[fine.costs]` table that can be pasted into a scenario.
#[test]
fn crypto_bench_prints_a_costs_table_that_a_scenario_accepts() {
    let o = ictwin(&["crypto-bench", "--nodes", "4", "--budget-ms", "1"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let text = String::from_utf8(o.stdout).unwrap();
    let table = &text[text.find("[fine.costs]").expect("a [fine.costs] table")..];
    let base = std::fs::read_to_string("experiments/ic-app-13.toml").unwrap();
    let l = ictwin::scenario::parse(&format!("{base}\n{table}"), "pasted", Path::new("experiments"))
        .unwrap_or_else(|e| panic!("{e:#}\n{table}"));
    let c = l.scenario.fine.expect("[fine] from the pasted table").costs;
    for v in [
        c.sign_us,
        c.verify_us,
        c.verify_share_us,
        c.aggregate_verify_us,
        c.combine_us,
    ] {
        assert!(v > 0.0 && v < 1e6, "{v} µs\n{table}");
    }
    assert!(
        c.verify_share_us < c.verify_us,
        "a share in a batch costs less than a verify\n{table}"
    );
}

/// A `--calibration` file is checked like a scenario's `[calibration]` table (it used to be
/// taken as is: `delay_scale = -1` gave a network without delay), naming file, line and key;
/// and `--threads 0` is refused instead of silently meaning every core.
#[test]
fn bad_calibration_file_and_zero_threads_are_errors() {
    let dir = tmp("badcal");
    std::fs::create_dir_all(&dir).unwrap();
    let out = dir.join("out");
    for (text, key) in [
        ("delay_scale = -1.0", "calibration.delay_scale"),
        ("delay_scale = 0.0", "calibration.delay_scale"),
        ("delay_scale = nan", "calibration.delay_scale"),
        ("round_overhead_ms = -3.0", "calibration.round_overhead_ms"),
        ("finalization_overhead_ms = inf", "calibration.finalization_overhead_ms"),
        ("gossip_hop_scale = nan", "calibration.gossip_hop_scale"),
        ("gossip_hop_scale = -3.0", "calibration.gossip_hop_scale"),
        ("gossip_hop_scale = 1e300", "calibration.gossip_hop_scale"),
    ] {
        let path = dir.join("cal.toml");
        std::fs::write(&path, format!("# fitted\n[calibration]\n{text}\n")).unwrap();
        let o = ictwin(&[
            "run",
            "--calibration",
            path.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
        ]);
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(1), "{text}: {err}");
        assert!(err.contains("cal.toml:3") && err.contains(key), "{text}: {err}");
        assert!(!out.exists(), "{text}: output written despite the error");
        // The same table inside a scenario file is refused the same way.
        let scen = dir.join("scen.toml");
        std::fs::write(
            &scen,
            format!("name = \"x\"\n[subnet]\nnodes = 4\n[calibration]\n{text}\n"),
        )
        .unwrap();
        let o = ictwin(&["run", scen.to_str().unwrap(), "--out", out.to_str().unwrap()]);
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(1), "scenario {text}: {err}");
        assert!(
            err.contains("scen.toml:5") && err.contains(key),
            "scenario {text}: {err}"
        );
    }
    let o = ictwin(&["run", "--threads", "0", "--out", out.to_str().unwrap()]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}"); // clap's usage error
    assert!(err.contains("--threads"), "{err}");
    assert!(!out.exists());
    let _ = std::fs::remove_dir_all(&dir);
}

/// Without `XDG_RUNTIME_DIR`, Mesa's Vulkan drivers used to print an "error:" line on every
/// run that looked for a GPU; the binary now gives them a private runtime directory.
#[test]
fn no_runtime_dir_noise_without_xdg_runtime_dir() {
    let out = tmp("xdg");
    let o = Command::new(env!("CARGO_BIN_EXE_ictwin"))
        .args([
            "run",
            "--engine",
            "auto",
            "--replicas",
            "100",
            "--rounds",
            "5",
            "--quiet",
            "--out",
        ])
        .arg(&out)
        .env_remove("XDG_RUNTIME_DIR")
        .output()
        .expect("run ictwin");
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(o.status.success(), "{err}");
    assert!(!err.contains("XDG_RUNTIME_DIR"), "{err}");
    let _ = std::fs::remove_dir_all(&out);
}
