//! Rule 2 of the deployed protocol (execution and state certification, coupled into the
//! notary; `ictwin_kernels::cert`) in the coarse model, against closed forms.

use ictwin::coarse::{prepare, run_cpu};
use ictwin::scenario::{parse, Scenario};
use ictwin::stats::{from_aggregates, RunStats};
use std::path::Path;
use std::sync::atomic::AtomicBool;

/// 13 nodes, U = 1 s, N0 = 300 ms, constant 100 ms delays, constant execution time `x_ms`.
fn scenario(x_ms: f64, backlog: bool, replicas: u64, rounds: u64) -> Scenario {
    let text = format!(
        "name = \"cert\"\n[subnet]\nnodes = 13\nunit_delay_ms = 1000\ninitial_notary_delay_ms = 300\n\
         [network]\ndelay = {{ dist = \"constant\", ms = 100.0 }}\n\
         [execution]\ntime = {{ dist = \"constant\", ms = {x_ms:.1} }}\n\
         [protocol]\ncertification_backlog = {backlog}\n\
         [run]\nreplicas = {replicas}\nrounds = {rounds}\nseed = 3\n"
    );
    parse(&text, "test.toml", Path::new(".")).unwrap().scenario
}

fn run(s: &Scenario) -> RunStats {
    let prep = prepare(s).unwrap();
    from_aggregates(&run_cpu(&prep, &|_| {}, &AtomicBool::new(false)).unwrap())
}

/// Fast execution: a height is finalized 500 ms into its round and certified one execution
/// time and one share delay later; it spends 100 + X ms finalized but not certified per
/// 400 ms round, and consensus is as without the rule.
#[test]
fn fast_execution_certifies_one_delay_after_execution() {
    for x in [0.0, 50.0, 150.0] {
        let st = run(&scenario(x, true, 50, 60));
        assert_eq!(st.mean_round_ms, 400.0, "X = {x}");
        assert_eq!(st.mean_finalization_ms, 500.0, "X = {x}");
        assert_eq!(st.mean_certification_ms, 600.0 + x, "X = {x}");
        assert!(
            (st.mean_certification_lag - (100.0 + x) / 400.0).abs() < 1e-12,
            "X = {x}"
        );
    }
}

/// Execution slower than the round: the finalized - certified gap reaches 2, the notary's
/// 2 s x gap backlog delay stretches the rounds, and in the long run the chain grows exactly
/// as fast as execution, one block per X. Over R heights the first few (until the gap first
/// reaches 2, about 3 + X / 2 s of them) run at consensus speed, which bounds the measured rate:
/// 1/X <= rate <= R / ((R - c) X).
#[test]
fn slow_execution_bounds_the_block_rate_by_one_over_x() {
    let rounds = 400u64;
    for x in [1000.0, 2000.0, 3000.0, 5000.0] {
        let st = run(&scenario(x, true, 20, rounds));
        let c = 3.0 + x / 2000.0;
        let hi = rounds as f64 / ((rounds as f64 - c) * x / 1000.0);
        assert!(
            st.block_rate_per_s >= 1000.0 / x && st.block_rate_per_s <= hi,
            "X = {x}: rate {} not in [{}, {hi}]",
            st.block_rate_per_s,
            1000.0 / x
        );
        // The gap hovers between 1 and its backlog level, never far above.
        assert!(st.mean_certification_lag > 1.0 && st.mean_certification_lag < 2.0 + x / 2000.0);
    }
}

/// Without the backlog rule consensus ignores execution: rounds stay at 400 ms and the
/// certification lag grows with the horizon.
#[test]
fn without_the_backlog_rule_the_lag_grows() {
    let st = run(&scenario(2000.0, false, 10, 100));
    assert_eq!(st.mean_round_ms, 400.0);
    assert!((st.block_rate_per_s - 2.5).abs() < 1e-9);
    assert!(st.mean_certification_lag > 20.0, "lag {}", st.mean_certification_lag);
}
