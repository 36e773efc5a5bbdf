//! The IC-year kernel against closed forms: stationary unavailability under data-center and
//! independent node failures (tolerances from the run's own standard error), replacement
//! without delay, and reproducibility.

use ictwin::ic::{self, DataCenterRow, IcInput, NodeRow};
use ictwin::progress::Progress;
use ictwin::scenario::ic_faults::{parse_faults, IcFaults, Span};
use ictwin_kernels::ic::YEAR_MS;
use std::path::Path;
use std::sync::atomic::AtomicBool;

/// A topology of one subnet whose member i sits in data center `dcs[i]` (every data center
/// its own owner; every node its own provider and country unless `shared` says otherwise),
/// plus `spares` unassigned nodes in data centers of their own.
fn topology(dcs: &[&str], spares: usize) -> IcInput {
    let mut nodes = Vec::new();
    let mut centers: Vec<DataCenterRow> = Vec::new();
    let add_dc = |id: &str, centers: &mut Vec<DataCenterRow>| {
        if !centers.iter().any(|d| d.id == id) {
            centers.push(DataCenterRow {
                id: id.into(),
                owner: format!("owner-{id}"),
                country: format!("C-{id}"),
            });
        }
    };
    for (i, dc) in dcs.iter().enumerate() {
        add_dc(dc, &mut centers);
        nodes.push(NodeRow {
            id: format!("n{i}"),
            data_center: dc.to_string(),
            provider: format!("p{i}"),
            subnet: Some("s".into()),
        });
    }
    for j in 0..spares {
        let dc = format!("spare-dc{j}");
        add_dc(&dc, &mut centers);
        nodes.push(NodeRow {
            id: format!("spare{j}"),
            data_center: dc,
            provider: format!("sp{j}"),
            subnet: None,
        });
    }
    IcInput::new(&nodes, &centers).unwrap()
}

fn faults(text: &str) -> IcFaults {
    parse_faults(text, "test").unwrap()
}

/// Unavailable fraction of the one subnet: (estimate, standard error) over replicas.
fn unavailable(input: &IcInput, f: &IcFaults) -> (f64, f64) {
    let prep = ic::prepare(f);
    let t = ic::run(
        input,
        &prep,
        &Progress::new(0, "replicas", true),
        &AtomicBool::new(false),
    )
    .unwrap();
    let horizon = f.run.years as f64 * YEAR_MS as f64;
    let n = t.replicas as f64;
    let (mean, ci) = t.subnets[0].stall_ms.mean_ci95(n);
    (mean / horizon, ci / 1.96 / horizon)
}

fn binomial_tail(n: u32, k: u32, p: f64) -> f64 {
    (k..=n)
        .map(|i| {
            let c: f64 = (0..i).map(|j| (n - j) as f64 / (j + 1) as f64).product();
            c * p.powi(i as i32) * (1.0 - p).powi((n - i) as i32)
        })
        .sum()
}

const DC_ONLY: &str = r#"
[data_center]
mtbf_hours = 90.0
repair = { dist = "exponential", mean_hours = 10.0 }
[run]
years = 1
replicas = 400
seed = 7
"#;

/// k of 13 members in one data center, the other 13 - k in data centers of their own, only
/// data-center outages (down with probability p = MTTR / (MTBF + MTTR) = 0.1 each,
/// independently): the subnet stalls when at least 5 members are down.
#[test]
fn data_center_outages_match_the_stationary_closed_form() {
    let p: f64 = 0.1;
    for k in [5u32, 4] {
        let mut dcs = vec!["big"; k as usize];
        let others: Vec<String> = (0..13 - k).map(|i| format!("dc{i}")).collect();
        dcs.extend(others.iter().map(String::as_str));
        let input = topology(&dcs, 0);
        let rest = 13 - k;
        // The big data center down takes k members; the rest fail one by one.
        let exact = p * binomial_tail(rest, 5u32.saturating_sub(k), p) + (1.0 - p) * binomial_tail(rest, 5, p);
        let (est, se) = unavailable(&input, &faults(DC_ONLY));
        assert!(se > 0.0 && se < 0.01 * exact.max(0.01), "se {se}");
        assert!(
            (est - exact).abs() < 4.0 * se,
            "k = {k}: unavailable {est:.5} +- {se:.5}, exact {exact:.5}"
        );
        if k == 5 {
            // Exactly when that data center is down, up to the rare five-of-eight term.
            assert!((exact - p).abs() < 0.01 * p);
        }
    }
}

/// Independent node failures: the binomial probability of more than f of n nodes down.
#[test]
fn independent_node_failures_give_the_binomial_tail() {
    let dcs: Vec<String> = (0..13).map(|i| format!("dc{i}")).collect();
    let input = topology(&dcs.iter().map(String::as_str).collect::<Vec<_>>(), 0);
    let f = faults(
        r#"
[node]
mtbf_hours = 180.0
repair = { dist = "exponential", mean_hours = 20.0 }
[run]
years = 1
replicas = 300
seed = 11
"#,
    );
    let exact = binomial_tail(13, 5, 0.1);
    let (est, se) = unavailable(&input, &f);
    assert!(
        (est - exact).abs() < 4.0 * se,
        "unavailable {est:.5} +- {se:.5}, binomial {exact:.5}"
    );
}

/// With replacement after no delay (detection, governance and catch-up all 0) and spares
/// that fit the limits, a down member is swapped out at the instant it fails: no stalled
/// time at all, where the same failures without replacement stall the subnet.
#[test]
fn replacement_without_delay_removes_stalls() {
    let dcs: Vec<String> = (0..13).map(|i| format!("dc{i}")).collect();
    let input = topology(&dcs.iter().map(String::as_str).collect::<Vec<_>>(), 60);
    let base = r#"
[node]
mtbf_hours = 180.0
repair = { dist = "lognormal", median_hours = 20.0, sigma = 1.0 }
[run]
years = 1
replicas = 50
seed = 3
"#;
    let (without, _) = unavailable(&input, &faults(base));
    assert!(without > 0.01, "{without}");
    let mut f = faults(base);
    f.nns.replacement = true;
    f.nns.governance = Span::Constant { hours: 0.0 };
    let mut input = input;
    input.set_limits(0, [1, 1, 1, 1]);
    let prep = ic::prepare(&f);
    let t = ic::run(
        &input,
        &prep,
        &Progress::new(0, "replicas", true),
        &AtomicBool::new(false),
    )
    .unwrap();
    assert_eq!(t.subnets[0].stall_ms.sum, 0);
    assert_eq!(t.subnets[0].episodes.sum, 0);
    assert!(t.subnets[0].replaced > 50 * 20, "{}", t.subnets[0].replaced);
}

/// Equal seeds give equal totals whatever the thread count; another seed differs.
#[test]
fn runs_are_reproducible_across_thread_counts() {
    let dcs: Vec<String> = (0..13).map(|i| format!("dc{i}")).collect();
    let input = topology(&dcs.iter().map(String::as_str).collect::<Vec<_>>(), 20);
    let mut f = faults(&format!("{DC_ONLY}\n[node]\nmtbf_hours = 500.0\n"));
    f.nns.replacement = true;
    f.nns.detect_hours = 5.0;
    f.nns.governance = Span::Uniform {
        min_hours: 1.0,
        max_hours: 10.0,
    };
    f.nns.catch_up_hours = 1.0;
    f.run.replicas = 40;
    let prep = ic::prepare(&f);
    let go = |threads: usize| {
        let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap();
        pool.install(|| {
            ic::run(
                &input,
                &prep,
                &Progress::new(0, "replicas", true),
                &AtomicBool::new(false),
            )
        })
        .unwrap()
    };
    let (a, b) = (go(1), go(2));
    assert_eq!(a, b);
    assert!(a.subnets[0].replaced > 0);
    f.run.seed += 1;
    let other = ic::run(
        &input,
        &ic::prepare(&f),
        &Progress::new(0, "r", true),
        &AtomicBool::new(false),
    )
    .unwrap();
    assert_ne!(a.subnets[0].stall_ms, other.subnets[0].stall_ms);
}

/// `ictwin ic` on the mainnet topology: every file written, one availability row per subnet;
/// a bad fault file fails naming file, line and key, and writes nothing.
#[test]
fn the_command_writes_its_files_and_rejects_bad_faults() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("ic");
    let topo = concat!(env!("CARGO_MANIFEST_DIR"), "/experiments/topology/mainnet-2025-12.toml");
    let faults = concat!(env!("CARGO_MANIFEST_DIR"), "/experiments/ic/faults-stress.toml");
    let run = |args: &[&str]| {
        std::process::Command::new(env!("CARGO_BIN_EXE_ictwin"))
            .args(args)
            .output()
            .unwrap()
    };
    let ok = run(&[
        "ic",
        topo,
        "--faults",
        faults,
        "--replicas",
        "200",
        "--quiet",
        "--no-predict",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(ok.status.success(), "{}", String::from_utf8_lossy(&ok.stderr));
    for f in [
        "availability.csv",
        "ic.csv",
        "stall-durations.csv",
        "manifest.json",
        "plots/availability.svg",
        "plots/availability.png",
        "plots/stall-durations.svg",
        "plots/stall-durations.png",
    ] {
        assert!(out.join(f).is_file(), "{f} missing");
    }
    let csv = std::fs::read_to_string(out.join("availability.csv")).unwrap();
    assert_eq!(csv.lines().count(), 1 + 47);
    let bad = dir.path().join("bad.toml");
    std::fs::write(
        &bad,
        "[node]\nmtbf_hours = 10.0\nrepair = { dist = \"lognormal\", median_hours = 1.0, sigma = -2.0 }\n",
    )
    .unwrap();
    let out2 = dir.path().join("never");
    let err = run(&[
        "ic",
        topo,
        "--faults",
        bad.to_str().unwrap(),
        "--out",
        out2.to_str().unwrap(),
    ]);
    assert!(!err.status.success());
    let msg = String::from_utf8_lossy(&err.stderr);
    assert!(
        msg.contains("bad.toml:3") && msg.contains("node.repair") && msg.contains("sigma"),
        "{msg}"
    );
    assert!(!out2.exists());
}

/// The committed studies in `results/ic/` regenerate byte for byte (their CSVs; the manifest
/// records the time and the plots the fonts' rasterisation): a refactor that changes any IC
/// output fails here.
#[test]
fn committed_ic_results_are_reproducible() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let dir = tempfile::tempdir().unwrap();
    let mut checked = 0;
    for name in ["default", "correlated"] {
        let committed = root.join("results/ic").join(name);
        if !committed.join("availability.csv").is_file() {
            continue;
        }
        let out = dir.path().join(name);
        let status = std::process::Command::new(env!("CARGO_BIN_EXE_ictwin"))
            .current_dir(root)
            .args(["ic", "experiments/topology/mainnet-2025-12.toml", "--faults"])
            .arg(format!("experiments/ic/faults-{name}.toml"))
            .args(["--quiet", "--no-predict", "--out"])
            .arg(&out)
            .status()
            .unwrap();
        assert!(status.success());
        for f in ["availability.csv", "ic.csv", "stall-durations.csv"] {
            let a = std::fs::read_to_string(committed.join(f)).unwrap();
            let b = std::fs::read_to_string(out.join(f)).unwrap();
            assert!(a == b, "results/ic/{name}/{f} differs from a fresh run");
        }
        checked += 1;
    }
    assert_eq!(
        checked, 2,
        "results/ic/default and results/ic/correlated must be committed"
    );
}

/// The prediction's fit recovers a known processing time: "observed" rates made by the model
/// itself at 100 ms (another seed) for two subnets of the fit half give back 100 ms within
/// the search tolerance and the runs' noise; every subnet with a preset gets a row, and the
/// declared split holds out every second one by short id.
#[test]
fn prediction_fit_recovers_a_known_processing_time() {
    use ictwin::ic::predict::{predict, subnet_scenario, Observed, PredictSize};
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let topo = ictwin::topology::load(&root.join("experiments/topology/mainnet-2025-12.toml")).unwrap();
    let dir = root.join("experiments/topology");
    let size = PredictSize {
        replicas: 512,
        rounds: 60,
        seed: 5,
    };
    let mut shorts: Vec<(String, usize)> = topo
        .subnets
        .iter()
        .enumerate()
        .map(|(i, s)| (ictwin::topology::Topology::short_id(&s.id).to_string(), i))
        .collect();
    shorts.sort();
    let stop = AtomicBool::new(false);
    let mut observed = std::collections::HashMap::new();
    for (short, i) in [&shorts[0], &shorts[2]] {
        let truth = PredictSize {
            replicas: 2048,
            seed: 99,
            ..size
        };
        let sc = subnet_scenario(&topo, &dir, *i, Some(100.0), truth).unwrap();
        let prep = ictwin::coarse::prepare(&sc).unwrap();
        let agg = ictwin::coarse::run_cpu(&prep, &|_| {}, &stop).unwrap();
        let st = ictwin::stats::from_aggregates(&agg);
        observed.insert(
            short.clone(),
            Observed {
                block_rate_per_s: st.block_rate_per_s,
                mean_rank: 0.0,
            },
        );
    }
    let (p, preds) = predict(&topo, &dir, &observed, size, &stop).unwrap();
    let p = p.expect("fitted");
    assert!((p - 100.0).abs() <= 5.0, "fitted {p} ms, truth 100 ms");
    assert_eq!(preds.len(), 47);
    let held: Vec<&str> = preds.iter().filter(|p| p.held_out).map(|p| p.subnet.as_str()).collect();
    assert_eq!(held.len(), 23);
    assert!(held.contains(&shorts[1].0.as_str()) && !held.contains(&shorts[0].0.as_str()));
}
