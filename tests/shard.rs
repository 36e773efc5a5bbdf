//! `ictwin run --shard I/N` and `ictwin merge`: merged shards equal the unsharded run byte for
//! byte (apart from the timing columns), for several N, shards in any order, N above the
//! replica count; and every refusal names what is wrong.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn ictwin(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_ictwin"))
        .args(args)
        .output()
        .expect("run ictwin")
}

fn ok(args: &[&str]) -> Output {
    let o = ictwin(args);
    assert!(
        o.status.success(),
        "ictwin {args:?}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    o
}

/// The error message of a command that must fail.
fn refused(args: &[&str]) -> String {
    let o = ictwin(args);
    assert!(!o.status.success(), "ictwin {args:?} succeeded");
    String::from_utf8_lossy(&o.stderr).to_string()
}

fn tmp(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("ictwin-shard-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    d
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// summary.csv with the timing columns blanked.
fn summary_without_timing(dir: &Path) -> String {
    let text = std::fs::read_to_string(dir.join("summary.csv")).unwrap();
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    let mut out = header.join(",") + "\n";
    for l in lines {
        let row: Vec<&str> = l
            .split(',')
            .zip(&header)
            .map(|(v, h)| {
                if ictwin::output::TIMING_COLUMNS.contains(h) {
                    ""
                } else {
                    v
                }
            })
            .collect();
        out += &(row.join(",") + "\n");
    }
    out
}

/// Runs the whole run and its N shards (run order and merge order shuffled) and checks the
/// merged files against the whole run's.
fn check_merge_equals_whole(base: &Path, size: &[&str], counts: &[u32]) {
    let whole = base.join("whole");
    let mut args = vec!["run", "--engine", "cpu", "--quiet"];
    args.extend_from_slice(size);
    ok(&[args.as_slice(), &["--out", s(&whole)]].concat());
    for &n in counts {
        // Shards run in a rotated order and are merged in another one (odd indices first).
        let run_order: Vec<u32> = (0..n).map(|k| (k + n / 3) % n).collect();
        let mut dirs = Vec::new();
        for &i in &run_order {
            let dir = base.join(format!("n{n}-s{i}"));
            let spec = format!("{i}/{n}");
            ok(&[args.as_slice(), &["--shard", &spec, "--out", s(&dir)]].concat());
            assert!(dir.join("shard.json").exists() && !dir.join("summary.csv").exists());
            dirs.push(dir);
        }
        dirs.sort_by_key(|d| {
            let name = d.file_name().unwrap().to_string_lossy().to_string();
            let i: u32 = name.rsplit('s').next().unwrap().parse().unwrap();
            (i.is_multiple_of(2), std::cmp::Reverse(i))
        });
        let merged = base.join(format!("n{n}-merged"));
        let mut margs = vec!["merge"];
        margs.extend(dirs.iter().map(|d| s(d)));
        margs.extend(["--out", s(&merged)]);
        ok(&margs);
        assert_eq!(
            summary_without_timing(&merged),
            summary_without_timing(&whole),
            "N = {n}, {size:?}"
        );
        let hist = |d: &Path| std::fs::read(d.join("histograms.csv")).unwrap();
        assert!(hist(&merged) == hist(&whole), "histograms differ, N = {n}, {size:?}");
    }
}

#[test]
fn merged_shards_equal_the_unsharded_run_many_replicas() {
    // 200 replicas >= 64 batches: one batch per replica (modulo 64).
    let base = tmp("many");
    check_merge_equals_whole(
        &base,
        &["--replicas", "200", "--rounds", "40", "--seed", "11"],
        &[1, 2, 3, 7, 64],
    );
    let _ = std::fs::remove_dir_all(&base);
}

#[test]
fn merged_shards_equal_the_unsharded_run_few_replicas_and_empty_shards() {
    // 5 replicas < 64 batches: each replica is cut into 13 segments of rounds; N = 8 and 13
    // exceed the replicas, so some shards are empty.
    let base = tmp("few");
    let scenario = concat!(env!("CARGO_MANIFEST_DIR"), "/experiments/ic-app-13-crashed-4.toml");
    check_merge_equals_whole(
        &base,
        &[scenario, "--replicas", "5", "--rounds", "300", "--seed", "5"],
        &[2, 5, 8, 13],
    );
    let _ = std::fs::remove_dir_all(&base);
}

/// Runs shard `spec` of the default scenario, 10 replicas x 30 rounds, with `extra` flags.
fn shard(base: &Path, name: &str, spec: &str, extra: &[&str]) -> PathBuf {
    shard_sized(base, name, spec, "30", extra)
}

/// [`shard`] with `rounds` rounds.
fn shard_sized(base: &Path, name: &str, spec: &str, rounds: &str, extra: &[&str]) -> PathBuf {
    let dir = base.join(name);
    let args = [
        "run",
        "--engine",
        "cpu",
        "-q",
        "--replicas",
        "10",
        "--rounds",
        rounds,
        "--shard",
        spec,
    ];
    ok(&[args.as_slice(), extra, &["--out", s(&dir)]].concat());
    dir
}

/// Rewrites one top-level field of a shard's `shard.json`.
fn edit(dir: &Path, field: &str, value: serde_json::Value) {
    let path = dir.join("shard.json");
    let mut json: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    json[field] = value;
    std::fs::write(&path, serde_json::to_string(&json).unwrap()).unwrap();
}

#[test]
fn merge_refuses_shards_that_do_not_make_one_run() {
    let base = tmp("refuse");
    let out = base.join("out");
    let a = shard(&base, "a", "0/2", &[]);
    let b = shard(&base, "b", "1/2", &[]);
    let merge = |dirs: &[&Path]| {
        let mut args = vec!["merge"];
        args.extend(dirs.iter().map(|d| s(d)));
        args.extend(["--out", s(&out)]);
        let e = refused(&args);
        assert!(!out.exists(), "a refused merge wrote {}", out.display());
        e
    };
    let has = |e: &str, parts: &[&str]| {
        for p in parts {
            assert!(e.contains(p), "{p:?} missing from: {e}");
        }
    };
    // Missing replicas: names the range and the missing shard.
    has(&merge(&[&a]), &["replicas 5..10", "missing shard 1/2"]);
    // The same shard twice.
    has(&merge(&[&a, &b, &a]), &["shard 0/2 is given twice", s(&a)]);
    // Overlapping shards of different splits.
    let q1 = shard(&base, "q1", "1/4", &[]);
    has(&merge(&[&a, &q1, &b]), &["overlap", "replicas 2..5", s(&q1)]);
    // Another seed, another run size, another scenario.
    let seed = shard(&base, "seed", "1/2", &["--seed", "2"]);
    has(&merge(&[&a, &seed]), &[s(&seed), "field seed is 2, not 1", s(&a)]);
    let rounds = shard_sized(&base, "rounds", "1/2", "31", &[]);
    has(&merge(&[&a, &rounds]), &[s(&rounds), "field rounds is 31, not 30"]);
    let crashed = concat!(env!("CARGO_MANIFEST_DIR"), "/experiments/ic-app-13-crashed-4.toml");
    let other = shard(&base, "other", "1/2", &[crashed]);
    has(
        &merge(&[&a, &other]),
        &[s(&other), "field scenario_hash", "ic-app-13-crashed-4"],
    );
    // Another build or model version.
    for (field, value) in [
        ("git_commit", serde_json::json!("0123456789ab")),
        ("ictwin_version", serde_json::json!("9.9.9")),
        ("model_version", serde_json::json!(999)),
    ] {
        let v = shard(&base, &format!("v-{field}"), "1/2", &[]);
        edit(&v, field, value.clone());
        has(
            &merge(&[&a, &v]),
            &[
                s(&v),
                &format!(
                    "field {field} is {}",
                    value.as_str().map_or(value.to_string(), String::from)
                ),
            ],
        );
    }
    // Files that are not whole or not consistent with themselves.
    let c = shard(&base, "counters", "1/2", &[]);
    edit(&c, "aggregates", serde_json::json!([1, 2, 3]));
    has(&merge(&[&a, &c]), &["shard.json: field aggregates: 3 counters"]);
    let h = shard(&base, "hash", "1/2", &[]);
    edit(&h, "scenario_hash", serde_json::json!("0000000000000000"));
    has(
        &merge(&[&a, &h]),
        &["field scenario_hash: 0000000000000000 but the scenario recorded hashes to"],
    );
    let r = shard(&base, "range", "1/2", &[]);
    edit(&r, "replica_first", serde_json::json!(4));
    has(
        &merge(&[&a, &r]),
        &["field replica_first/replica_end", "shard 1/2 of 10 replicas is 5..10"],
    );
    has(
        &merge(&[&a, &base.join("nothing")]),
        &["nothing/shard.json: cannot read"],
    );
    // And the pair that does make one run merges.
    ok(&["merge", s(&b), s(&a), "--out", s(&out)]);
    assert!(out.join("summary.csv").exists());
    let _ = std::fs::remove_dir_all(&base);
}

#[test]
fn shard_specs_out_of_range_are_refused() {
    for spec in ["2/2", "0/0", "1", "a/b", "1/-3", "1/2/3"] {
        let e = refused(&[
            "run",
            "--engine",
            "cpu",
            "--replicas",
            "4",
            "--rounds",
            "5",
            "--shard",
            spec,
        ]);
        assert!(e.contains("0 <= I < N"), "{spec}: {e}");
    }
}
