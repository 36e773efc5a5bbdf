//! `--point K` runs followed by `--collect` give the plain sweep's `sweep.csv` (apart from
//! timing columns); `--collect` refuses missing and mismatched points, naming them.

use super::*;

#[test]
fn point_runs_then_collect_equal_a_plain_sweep() {
    let (tmp, sc) = scenario_file("t4.toml", SMALL);
    let s = sc.to_str().unwrap();
    let axes = [
        "--set",
        "network.delay.median_ms=20,80",
        "--set",
        "faults.crashed=0,1",
        "--replicas",
        "60",
        "--rounds",
        "20",
        "--engine",
        "cpu",
    ];
    let (plain, split) = (tmp.path().join("plain"), tmp.path().join("split"));
    sweep_ok(&[&[s, "--out", plain.to_str().unwrap()], &axes[..]].concat());
    // Points in any order, as separate processes (a cluster's tasks).
    for k in ["3", "0", "2", "1"] {
        sweep_ok(&[&[s, "--out", split.to_str().unwrap(), "--point", k], &axes[..]].concat());
    }
    assert!(!split.join("sweep.csv").exists(), "--point writes only its point");
    sweep_ok(&[&[s, "--out", split.to_str().unwrap(), "--collect"], &axes[..]].concat());
    assert_eq!(sweep_csv(&plain), sweep_csv(&split));
    for stem in ["mean_round", "block_rate"] {
        assert!(split.join(format!("plots/{stem}.png")).is_file());
    }
    let hist = |d: &Path| std::fs::read(d.join("points/2-median_ms-80_crashed-0/histograms.csv")).unwrap();
    assert_eq!(hist(&plain), hist(&split));
}

#[test]
fn collect_refuses_missing_and_mismatched_points() {
    let (tmp, sc) = scenario_file("t4.toml", SMALL);
    let s = sc.to_str().unwrap();
    let out = tmp.path().join("o");
    let o = out.to_str().unwrap();
    let axes = [
        "--set",
        "faults.crashed=0..2",
        "--replicas",
        "20",
        "--rounds",
        "10",
        "--engine",
        "cpu",
    ];
    sweep_ok(&[&[s, "--out", o, "--point", "1"], &axes[..]].concat());
    let e = sweep_err(&[&[s, "--out", o, "--collect"], &axes[..]].concat());
    assert!(e.contains("2 of 3 points missing"), "{e}");
    assert!(
        e.contains("0 (") && e.contains("points/0-crashed-0") && e.contains("points/2-crashed-2"),
        "{e}"
    );
    // Point 0 run with another base seed: its recorded seed differs from the plan's.
    sweep_ok(&[&[s, "--out", o, "--point", "0", "--seed", "8"], &axes[..]].concat());
    sweep_ok(&[&[s, "--out", o, "--point", "2"], &axes[..]].concat());
    let e = sweep_err(&[&[s, "--out", o, "--collect"], &axes[..]].concat());
    assert!(
        e.contains("mismatched point 0") && e.contains("scenario.run.seed"),
        "{e}"
    );
    assert!(!out.join("sweep.csv").exists());
    let e = sweep_err(&[&[s, "--out", o, "--point", "3"], &axes[..]].concat());
    assert!(e.contains("--point 3: the sweep has 3 points"), "{e}");
    // Rerun point 0 with the sweep's seed: now it collects.
    sweep_ok(&[&[s, "--out", o, "--point", "0"], &axes[..]].concat());
    sweep_ok(&[&[s, "--out", o, "--collect"], &axes[..]].concat());
    assert_eq!(column(&out, "faults.crashed"), ["0", "1", "2"]);
}

/// `ictwin slurm` of a sweep: one array task per point (`--point $TASK`) and a final
/// `--collect`; the scripts, run as Slurm would (each task with its SLURM_ARRAY_TASK_ID, then
/// the final job), give the plain sweep's `sweep.csv`. (The real cluster: tests/slurm.rs.)
#[test]
fn slurm_scripts_of_a_sweep_equal_a_plain_sweep() {
    let (tmp, sc) = scenario_file("t4.toml", SMALL);
    let s = sc.to_str().unwrap();
    let axes = ["--set", "faults.crashed=0..2", "--replicas", "20", "--rounds", "10"];
    let plain = tmp.path().join("plain");
    sweep_ok(&[&[s, "--out", plain.to_str().unwrap(), "--engine", "cpu"], &axes[..]].concat());
    let job = tmp.path().join("job");
    let slurm = |extra: &[&str]| {
        std::process::Command::new(env!("CARGO_BIN_EXE_ictwin"))
            .args(
                [
                    &["slurm", s, "--engine", "cpu", "--out", job.to_str().unwrap()],
                    &axes[..],
                    extra,
                ]
                .concat(),
            )
            .output()
            .unwrap()
    };
    let e = slurm(&["--tasks", "2"]);
    assert!(!e.status.success());
    assert!(String::from_utf8_lossy(&e.stderr).contains("this sweep has 3"), "{e:?}");
    let o = slurm(&[]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let tasks = std::fs::read_to_string(job.join("shards.sbatch")).unwrap();
    assert!(
        tasks.contains("#SBATCH --array=0-2") && tasks.contains("--point \"$TASK\""),
        "{tasks}"
    );
    for k in ["2", "0", "1"] {
        let r = std::process::Command::new("bash")
            .arg(job.join("shards.sbatch"))
            .env("SLURM_ARRAY_TASK_ID", k)
            .output()
            .unwrap();
        assert!(r.status.success(), "task {k}: {}", String::from_utf8_lossy(&r.stderr));
    }
    let r = std::process::Command::new("bash")
        .arg(job.join("merge.sbatch"))
        .output()
        .unwrap();
    assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
    assert_eq!(sweep_csv(&plain), sweep_csv(&job.join("sweep")));
}
