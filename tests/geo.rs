//! Geography (`[network] latency_matrix`): per-pair base latencies in both engines against
//! closed forms, a hand-computable subnet where the leader's place matters, and the loader's
//! errors. The latency function itself is tested in `src/topology/latency.rs`.

use ictwin::coarse::{prepare, run_cpu};
use ictwin::fine;
use ictwin::scenario::{parse, Scenario};
use ictwin::stats::from_aggregates;
use ictwin_kernels::agg;
use std::path::Path;
use std::sync::atomic::AtomicBool;

/// A scenario of `nodes` nodes with `matrix` (rows of ms) written to `dir/m.csv` (or no
/// matrix when empty), jitter `delay`, N0 `n0` ms.
#[allow(clippy::too_many_arguments)]
fn scenario(
    dir: &Path,
    nodes: u32,
    matrix: &[Vec<f64>],
    delay: &str,
    faults: &str,
    n0: f64,
    replicas: u64,
    rounds: u64,
) -> Scenario {
    let key = if matrix.is_empty() {
        String::new()
    } else {
        let rows: Vec<String> = matrix
            .iter()
            .map(|r| r.iter().map(|v| v.to_string()).collect::<Vec<_>>().join(","))
            .collect();
        std::fs::write(dir.join("m.csv"), rows.join("\n") + "\n").unwrap();
        "latency_matrix = \"m.csv\"\n".to_string()
    };
    let text = format!(
        "name = \"t\"\n[subnet]\nnodes = {nodes}\nunit_delay_ms = 1000\ninitial_notary_delay_ms = {n0}\n\
         [network]\n{key}delay = {delay}\n[faults]\n{faults}\n[run]\nreplicas = {replicas}\nrounds = {rounds}\nseed = 7\n\
         [fine]\nclients = 2\ncrypto_time = false\n"
    );
    parse(&text, "test.toml", dir).unwrap().scenario
}

fn uniform(n: u32, d: f64) -> Vec<Vec<f64>> {
    (0..n)
        .map(|s| (0..n).map(|r| if s == r { 0.0 } else { d }).collect())
        .collect()
}

fn cpu(s: &Scenario) -> Vec<u64> {
    run_cpu(&prepare(s).unwrap(), &|_| {}, &AtomicBool::new(false)).unwrap()
}

const ZERO: &str = "{ dist = \"constant\", ms = 0.0 }";

/// Every off-diagonal entry d with constant jitter 0 is constant delay d without a matrix:
/// the same aggregates, bit for bit, with and without faults (the words drawn are the same).
#[test]
fn uniform_matrix_with_zero_jitter_equals_constant_delay() {
    let dir = tempfile::tempdir().unwrap();
    for (d, faults) in [
        (100.0, ""),
        (450.0, ""),
        (250.0, "crashed = 2\nequivocating = 1\n"),
        (80.0, "silent = 3\n"),
    ] {
        let with = scenario(dir.path(), 13, &uniform(13, d), ZERO, faults, 300.0, 200, 30);
        let without = scenario(
            dir.path(),
            13,
            &[],
            &format!("{{ dist = \"constant\", ms = {d} }}"),
            faults,
            300.0,
            200,
            30,
        );
        assert!(prepare(&with).unwrap().params.latency_table != 0);
        assert_eq!(prepare(&without).unwrap().params.latency_table, 0);
        assert_eq!(cpu(&with), cpu(&without), "d = {d}, faults {faults:?}");
    }
    // And with a jitter: base 60 ms + constant 40 ms is constant 100 ms.
    let with = scenario(
        dir.path(),
        13,
        &uniform(13, 60.0),
        "{ dist = \"constant\", ms = 40.0 }",
        "",
        300.0,
        100,
        20,
    );
    let st = from_aggregates(&cpu(&with));
    assert_eq!((st.mean_round_ms, st.mean_finalization_ms), (400.0, 500.0));
}

/// The fine engine with a uniform matrix d and zero jitter: the constant-delay closed form,
/// rounds of max(N0, d) + d and finalization one d later (tests/fine.rs without a matrix).
#[test]
fn fine_engine_uniform_matrix_closed_form() {
    let dir = tempfile::tempdir().unwrap();
    for (d, jitter) in [(100.0, ZERO), (80.0, "{ dist = \"constant\", ms = 20.0 }")] {
        let s = scenario(dir.path(), 13, &uniform(13, d), jitter, "", 300.0, 1, 30);
        let o = fine::run(&s, None, &AtomicBool::new(false), &|_| {}).unwrap();
        let st = from_aggregates(&o.agg);
        assert_eq!((st.notarized, st.finalized), (30, 30));
        assert_eq!((st.mean_round_ms, st.round_ms_p99), (400.0, 400.0), "d = {d}");
        assert_eq!(st.mean_finalization_ms, 500.0, "d = {d}");
        assert_eq!(o.safety_violations, 0);
    }
}

/// Four nodes with access terms x = (10, 20, 30, 40) ms, base latency x_s + x_r, no jitter,
/// N0 = 0 and one round step from genesis: signer j signs the rank-0 block of maker m when it
/// arrives (x_m + x_j; the maker at 0) and node k holds the notarization at the earliest of
/// the third share arrival (own at 0) and a relay (shortest paths). The observer's round time
/// is that of the pair (maker, observer): the histogram holds exactly those values, each pair
/// about equally often (maker and observer uniform), and the mean is their average.
#[test]
fn the_leaders_place_sets_the_round_time() {
    let x = [10u64, 20, 30, 40];
    let b = |s: usize, r: usize| if s == r { 0 } else { x[s] + x[r] };
    let matrix: Vec<Vec<f64>> = (0..4).map(|s| (0..4).map(|r| b(s, r) as f64).collect()).collect();
    // Expected notarization time of each node for each maker, ms.
    let mut expected = Vec::new();
    for m in 0..4 {
        let sign: Vec<u64> = (0..4).map(|j| b(m, j)).collect();
        let mut notar: Vec<u64> = (0..4)
            .map(|k| {
                let mut arr: Vec<u64> = (0..4).map(|j| sign[j] + b(j, k)).collect();
                arr.sort();
                arr[2]
            })
            .collect();
        for _ in 0..4 {
            for k in 0..4 {
                for j in 0..4 {
                    notar[k] = notar[k].min(notar[j] + b(j, k));
                }
            }
        }
        expected.extend(notar);
    }
    let dir = tempfile::tempdir().unwrap();
    let s = scenario(dir.path(), 4, &matrix, ZERO, "", 0.0, 8000, 1);
    let a = cpu(&s);
    let mut seen = std::collections::BTreeMap::new();
    for bin in 0..1000u64 {
        let c = a[(agg::HIST_ROUND as u64 + bin) as usize];
        if c > 0 {
            seen.insert(bin, c);
        }
    }
    let mut want = std::collections::BTreeMap::new();
    for &t in &expected {
        *want.entry(t).or_insert(0u64) += 1;
    }
    assert_eq!(
        seen.keys().collect::<Vec<_>>(),
        want.keys().collect::<Vec<_>>(),
        "{expected:?}"
    );
    for (t, pairs) in &want {
        let share = seen[t] as f64 / 8000.0;
        let p = *pairs as f64 / 16.0;
        let se = (p * (1.0 - p) / 8000.0).sqrt();
        assert!((share - p).abs() < 5.0 * se, "{t} ms: {share} vs {p}");
    }
    // The leader matters: the fastest maker (x = 10) gives shorter rounds than the slowest.
    let by_maker = |m: usize| expected[4 * m..4 * m + 4].iter().sum::<u64>();
    assert!(by_maker(0) < by_maker(3), "{expected:?}");
    let st = from_aggregates(&a);
    assert_eq!(st.mean_notarized_rank, 0.0);
}

fn parse_err(dir: &Path, csv: &str, nodes: u32) -> String {
    std::fs::write(dir.join("m.csv"), csv).unwrap();
    let text = format!("name = \"t\"\n[subnet]\nnodes = {nodes}\n[network]\nlatency_matrix = \"m.csv\"\ndelay = {{ dist = \"constant\", ms = 1.0 }}\n");
    format!("{:#}", parse(&text, "x.toml", dir).unwrap_err())
}

/// Loader errors name the scenario file, line and key, then the matrix file, line, column.
#[test]
fn bad_matrices_are_located_errors() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let m = d.join("m.csv").display().to_string();
    let e = parse_err(d, "0,1,2\n1,0,x\n2,2,0\n", 3);
    assert!(e.starts_with("x.toml:5: key `network.latency_matrix`"), "{e}");
    assert!(e.contains(&format!("{m}:2:3: not a number: `x`")), "{e}");
    let e = parse_err(d, "0,1,-2\n1,0,2\n2,2,0\n", 3);
    assert!(e.contains(&format!("{m}:1:3: latency must")), "{e}");
    let e = parse_err(d, "0,1,nan\n1,0,2\n2,2,0\n", 3);
    assert!(e.contains(&format!("{m}:1:3: latency must")), "{e}");
    let e = parse_err(d, "0,1\n1,0\n", 3);
    assert!(e.contains(&format!("{m}:1: row 1 has 2 columns, expected 3")), "{e}");
    let e = parse_err(d, "0,1,2\n1,0,2\n", 3);
    assert!(e.contains(&format!("{m}:2: 2 rows, expected 3")), "{e}");
    let e = parse_err(d, "0,1\n1,0\n1,1\n", 2);
    assert!(e.contains(&format!("{m}:3: more than the 2 rows")), "{e}");
    std::fs::remove_file(d.join("m.csv")).unwrap();
    let text = "name = \"t\"\n[subnet]\nnodes = 2\n[network]\nlatency_matrix = \"m.csv\"\ndelay = { dist = \"constant\", ms = 1.0 }\n";
    let e = format!("{:#}", parse(text, "x.toml", d).unwrap_err());
    assert!(e.contains("cannot read"), "{e}");
    // Asymmetric matrices and comments are fine; the diagonal is ignored.
    std::fs::write(d.join("m.csv"), "# a comment\n7,1\n\n2,9\n").unwrap();
    let s = parse(text, "x.toml", d).unwrap().scenario;
    assert_eq!(s.network.latency.unwrap().ms, vec![0.0, 1.0, 2.0, 0.0]);
}

/// Without the key nothing changes: the parameters carry no latency table and the scenario
/// serializes as before (no `latency_matrix` key in manifests).
#[test]
fn no_matrix_no_table_no_key() {
    let dir = tempfile::tempdir().unwrap();
    let s = scenario(dir.path(), 13, &[], ZERO, "", 300.0, 10, 10);
    assert!(s.network.latency.is_none());
    let p = prepare(&s).unwrap();
    assert_eq!(p.params.latency_table, 0);
    assert!(!toml::to_string(&s).unwrap().contains("latency"));
}
