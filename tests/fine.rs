//! The fine engine against the closed forms of ICC-MODEL.md and the protocol's guarantees.
//! All runs use fixed seeds; statistical tolerances are derived from standard errors.

use ictwin::fine::{self, FineOutcome};
use ictwin::scenario::{parse, Scenario};
use ictwin::stats::{from_aggregates, RunStats};
use ictwin_kernels::agg;
use std::path::Path;
use std::sync::atomic::AtomicBool;

const CONST100: &str = "{ dist = \"constant\", ms = 100.0 }";
const LOGNORMAL: &str = "{ dist = \"lognormal\", median_ms = 70.0, sigma = 0.5 }";

fn scenario(nodes: u32, delay: &str, faults: &str, fine: &str, rounds: u64) -> Scenario {
    let clients = if fine.contains("clients") { "" } else { "clients = 2\n" };
    let text = format!(
        "name = \"t\"\n[subnet]\nnodes = {nodes}\nunit_delay_ms = 1000\ninitial_notary_delay_ms = 300\n\
         [network]\ndelay = {delay}\n[faults]\n{faults}\n[run]\nreplicas = 1\nrounds = {rounds}\nseed = 11\n\
         [fine]\n{clients}{fine}\n"
    );
    parse(&text, "test.toml", Path::new(".")).unwrap().scenario
}

fn run(s: &Scenario) -> (RunStats, FineOutcome) {
    let o = fine::run(s, None, &AtomicBool::new(false), &|_| {}).unwrap();
    (from_aggregates(&o.agg), o)
}

#[test]
fn closed_form_constant_delay_rounds_400_finalization_500() {
    let s = scenario(13, CONST100, "", "crypto_time = false", 40);
    let (st, o) = run(&s);
    assert_eq!(st.rounds_total, 40);
    assert_eq!(st.notarized, 40);
    assert_eq!(st.finalized, 40);
    assert_eq!(st.mean_round_ms, 400.0);
    assert_eq!(st.round_ms_p99, 400.0);
    assert_eq!(st.mean_finalization_ms, 500.0);
    assert_eq!(st.mean_notarized_rank, 0.0);
    assert!((st.block_rate_per_s - 2.5).abs() < 1e-9);
    assert_eq!(o.safety_violations, 0);
    assert!(
        o.requests.finalized > 0,
        "requests flow from clients into finalized blocks"
    );
    // Real crypto ran: 13 notarization + 13 finalization + 13 beacon shares per height.
    assert!(o.crypto.signatures >= 39 * 40, "{}", o.crypto.signatures);
}

/// Rule 4, node processing: a constant 50 ms per received message (as in tests/coarse.rs):
/// rounds of max(N0, d + c) + d + c = 450 ms, finalization 600 ms.
#[test]
fn constant_processing_adds_to_every_received_message() {
    let mut s = scenario(13, CONST100, "", "crypto_time = false", 30);
    s.node.processing = ictwin::dist::Delay::Constant { ms: 50.0 };
    let (st, _) = run(&s);
    assert_eq!((st.notarized, st.finalized), (30, 30));
    assert_eq!((st.mean_round_ms, st.round_ms_p99), (450.0, 450.0));
    assert_eq!(st.mean_finalization_ms, 600.0);
}

#[test]
fn modeled_crypto_time_lengthens_rounds_by_the_cost_table() {
    // Closed form with CPU costs: the notary signs at max(N0, d + verify_block) + sign and
    // the 9th share (8 received + own) is counted after 8 share verifications on one CPU.
    let s = scenario(
        13,
        CONST100,
        "",
        "[fine.costs]\nsign_us = 100\nverify_us = 500\nverify_share_us = 200\naggregate_verify_us = 600\ncombine_us = 300",
        20,
    );
    let (st, _) = run(&s);
    // Shares are made at 300.1 ms, arrive at 400.1 ms, 12 arrive at once and are verified
    // in arrival order (tie order is seeded): the quorum needs the 8th received verified.
    assert_eq!(st.notarized, 20);
    assert!((st.mean_round_ms - 401.7).abs() < 0.6, "{}", st.mean_round_ms);
}

#[test]
fn up_to_f_silent_nodes_progress_f_plus_one_stall() {
    let (st, o) = run(&scenario(13, LOGNORMAL, "silent = 4", "crypto_time = false", 30));
    assert_eq!(st.stalled, 0);
    assert_eq!(st.notarized, 30);
    assert_eq!(o.safety_violations, 0);
    let (st, _) = run(&scenario(13, LOGNORMAL, "silent = 5", "crypto_time = false", 30));
    assert_eq!(st.notarized, 0);
    assert_eq!(st.stalled, 30);
    assert_eq!(st.stalled_ratio, 1.0);
}

#[test]
fn invalid_shares_are_rejected_and_never_enter_a_notarization() {
    let (st, o) = run(&scenario(
        13,
        LOGNORMAL,
        "",
        "crypto_time = false\ninvalid_share = 4",
        30,
    ));
    assert_eq!(st.notarized, 30);
    assert!(o.shares_rejected > 0, "invalid shares were sent and rejected");
    assert!(
        o.crypto.batch_failures > 0,
        "batches with bad shares fell back to per-share checks"
    );
    assert_eq!(o.aggregates_with_invalid_shares, 0);
    assert_eq!(o.safety_violations, 0);
    let (st, o) = run(&scenario(
        13,
        LOGNORMAL,
        "",
        "crypto_time = false\ninvalid_share = 5",
        20,
    ));
    assert_eq!(st.notarized, 0, "f+1 invalid-share nodes leave only 2f honest signers");
    assert_eq!(o.aggregates_with_invalid_shares, 0);
}

#[test]
fn equivocation_without_proofs_never_finalizes_two_blocks_at_one_height() {
    // `[protocol] equivocation_proofs = false` (the 2022 rule), constant delays: every honest
    // notary sees both rank-0 blocks of an equivocating leader before its notary delay, signs
    // both, both get notarized, the height is not finalized.
    let mut s = scenario(13, CONST100, "equivocating = 1", "crypto_time = false", 120);
    s.protocol.equivocation_proofs = false;
    let (st, o) = run(&s);
    assert_eq!(st.notarized, 120);
    assert_eq!(o.safety_violations, 0);
    assert!(
        st.finalized < 120,
        "heights led by the equivocator are not finalized directly"
    );
    // With a notarize-everything Byzantine notary on top and random delays, still safe.
    s = scenario(
        13,
        LOGNORMAL,
        "equivocating = 2",
        "crypto_time = false\nnotarize_all = 2",
        120,
    );
    s.protocol.equivocation_proofs = false;
    let (st, o) = run(&s);
    assert_eq!(st.notarized, 120);
    assert_eq!(o.safety_violations, 0);
}

#[test]
fn equivocating_leader_with_proofs_costs_n0_plus_u_plus_d() {
    // Issue 11's closed form (deployed rule, the default), as in tests/coarse.rs: constant
    // d = 100 ms, N0 = 300 ms, U = 1000 ms. Every node holds both rank-0 blocks at 100 ms,
    // builds the proof and signs neither; the rank-1 block is signed at N0 + U and notarized
    // at N0 + U + d = 1400 ms, finalized one d later. Other heights: 400 ms.
    let (st, o) = run(&scenario(13, CONST100, "equivocating = 1", "crypto_time = false", 120));
    assert_eq!((st.notarized, st.finalized), (120, 120));
    assert_eq!(o.safety_violations, 0);
    let round = |ms: u64| o.agg[(agg::HIST_ROUND + agg::time_bin(ms * 1000)) as usize];
    let fin = |ms: u64| o.agg[(agg::HIST_FIN + agg::time_bin(ms * 1000)) as usize];
    assert_eq!(round(400) + round(1400), 120, "only 400 and 1400 ms rounds");
    assert_eq!(fin(500) + fin(1500), 120, "finalized one delay after");
    assert!(round(1400) > 0, "the equivocator led some heights");
    assert!((st.mean_notarized_rank - round(1400) as f64 / 120.0).abs() < 1e-12);
    // With a notarize-everything Byzantine notary and random delays, still safe and live.
    let s = scenario(
        13,
        LOGNORMAL,
        "equivocating = 2",
        "crypto_time = false\nnotarize_all = 2",
        120,
    );
    let (st, o) = run(&s);
    assert_eq!(st.notarized, 120);
    assert_eq!(o.safety_violations, 0);
}

#[test]
fn crashed_makers_give_the_closed_form_rank_distribution() {
    // k = 4 of n = 13 crashed: E[rank of the first live maker] = sum_r C(4,r)/C(13,r) = 0.400.
    let rounds = 400;
    let (st, o) = run(&scenario(
        13,
        CONST100,
        "crashed = 4",
        "crypto_time = false\nclients = 0",
        rounds,
    ));
    assert_eq!(st.notarized, rounds);
    // Rank sd: P(r >= 1) = 4/13, P(r >= 2) = 1/13, P(r >= 3) = 4/286, P(r = 4) = 1/715.
    let (p1, p2, p3, p4) = (4.0 / 13.0, 6.0 / 78.0, 4.0 / 286.0, 1.0 / 715.0);
    let mean = p1 + p2 + p3 + p4;
    let second = p1 + 3.0 * p2 + 5.0 * p3 + 7.0 * p4; // E[r^2] = sum (2r - 1) P(r' >= r)
    let se = ((second - mean * mean) / rounds as f64).sqrt();
    assert!((mean - 0.4).abs() < 1e-3);
    assert!(
        (st.mean_notarized_rank - 0.4).abs() < 4.0 * se,
        "{} vs 0.4 ± {}",
        st.mean_notarized_rank,
        4.0 * se
    );
    // A live leader gives the 400 ms round; a crashed one a rank-1 round of U + 2d.
    assert_eq!(st.round_ms_p50, 400.0);
    assert_eq!(o.safety_violations, 0);
}

#[test]
fn same_seed_same_output_and_seeds_matter() {
    let s = scenario(13, LOGNORMAL, "", "", 30);
    let (a, oa) = run(&s);
    let (b, ob) = run(&s);
    assert_eq!(oa.agg, ob.agg);
    assert_eq!(oa.events, ob.events);
    assert_eq!(oa.requests.latency_hist, ob.requests.latency_hist);
    assert_eq!(a.mean_round_ms, b.mean_round_ms);
    let mut s2 = s.clone();
    s2.run.seed = 12;
    let (_, oc) = run(&s2);
    assert_ne!(oa.agg, oc.agg);
}

#[test]
fn dynamic_crash_recovery_catches_up_and_stays_safe() {
    // MTBF 20 s, MTTR 5 s per honest node: nodes keep crashing and catching up.
    let s = scenario(
        13,
        LOGNORMAL,
        "mtbf_hours = 0.00556\nmttr_hours = 0.00139",
        "crypto_time = false\ncup_interval = 20\nstall_horizon_ms = 10000",
        150,
    );
    let (st, o) = run(&s);
    assert_eq!(st.rounds_total, 150);
    assert!(st.notarized > 100, "{} notarized", st.notarized);
    assert_eq!(o.safety_violations, 0);
}

#[test]
fn gossip_overlay_runs_a_larger_subnet() {
    let s = scenario(
        40,
        LOGNORMAL,
        "",
        "crypto_time = false\ngossip_fanout = 4\nclients = 0",
        10,
    );
    let (st, o) = run(&s);
    assert_eq!(st.notarized, 10);
    assert_eq!(o.safety_violations, 0);
    let mesh = scenario(40, LOGNORMAL, "", "crypto_time = false\nclients = 0", 10);
    let (sm, _) = run(&mesh);
    assert!(
        st.mean_round_ms > sm.mean_round_ms,
        "multi-hop gossip is slower than direct delivery"
    );
}

#[test]
fn bad_fine_table_is_a_clear_error() {
    let text = "name = \"t\"\n[subnet]\nnodes = 4\n[fine]\ngossip_fanot = 3\n";
    let e = format!("{:#}", parse(text, "x.toml", Path::new(".")).unwrap_err());
    assert!(e.starts_with("x.toml:5:") && e.contains("gossip_fanot"), "{e}");
    // Value errors of [fine] are caught when the file is loaded, with file and line.
    let text = "name = \"t\"\n[subnet]\nnodes = 4\n[fine]\ninvalid_share = 5\n";
    let e = format!("{:#}", parse(text, "x.toml", Path::new(".")).unwrap_err());
    assert!(e.starts_with("x.toml:5: key `fine.invalid_share`"), "{e}");
}

/// A trace sink with room for `left` bytes, then "No space left on device" (a full disk).
struct FullAfter {
    left: usize,
    /// Bytes accepted so far, shared with the test.
    written: std::sync::Arc<std::sync::atomic::AtomicUsize>,
}

impl FullAfter {
    fn new(left: usize) -> Self {
        FullAfter {
            left,
            written: Default::default(),
        }
    }
}

impl std::io::Write for FullAfter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if self.left == 0 {
            return Err(std::io::Error::from_raw_os_error(28)); // ENOSPC
        }
        let n = buf.len().min(self.left);
        self.left -= n;
        self.written.fetch_add(n, std::sync::atomic::Ordering::Relaxed);
        Ok(n)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// A trace that cannot be written whole fails the run (it used to end silently truncated
/// with exit 0), whether the disk fills mid-run, at the final flush or at the header.
#[test]
fn trace_write_errors_fail_the_run() {
    let s = scenario(4, CONST100, "", "crypto_time = false", 60);
    // The whole trace is several 8 KiB buffers long, so the failures below land in the header,
    // the first buffer, and a later one.
    let whole = FullAfter::new(1 << 30);
    let written = whole.written.clone();
    fine::run(&s, Some(Box::new(whole)), &AtomicBool::new(false), &|_| {}).unwrap();
    let size = written.load(std::sync::atomic::Ordering::Relaxed);
    assert!(size > 12_000 + 8192, "trace of {size} bytes");
    for left in [0, 20, 3000, 12_000] {
        let sink: Box<dyn std::io::Write + Send> = Box::new(FullAfter::new(left));
        let e = match fine::run(&s, Some(sink), &AtomicBool::new(false), &|_| {}) {
            Ok(_) => panic!("room for {left} bytes: the run succeeded with a truncated trace"),
            Err(e) => format!("{e:#}"),
        };
        assert!(e.contains("cannot write the trace"), "{e}");
    }
}

/// A trace sink that keeps what it is given, shared with the test.
#[derive(Clone, Default)]
struct Kept(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

impl std::io::Write for Kept {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Dynamic failures: once recoveries bring a quorum of honest nodes back, the subnet runs
/// again (the recovering nodes are re-sent the pools of the up nodes, as the P2P layer does on
/// a reconnection). Seed 2 of the shipped scenario used to stay stalled for minutes with 9 of
/// the 11 honest nodes up (18 stalls with a quorum up throughout, stalled ratio 0.515): no
/// stall may be recorded after a quorum was up for the 50 s before it (horizon 60 s).
#[test]
fn dynamic_failures_no_stall_with_a_quorum_up() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("experiments/ic-app-13-dynamic.toml");
    let mut s = ictwin::scenario::load(Some(&path)).unwrap().scenario;
    (s.run.rounds, s.run.replicas, s.run.seed) = (200, 1, 2);
    let quorum = 9;
    let kept = Kept::default();
    let o = fine::run(&s, Some(Box::new(kept.clone())), &AtomicBool::new(false), &|_| {}).unwrap();
    assert_eq!(o.safety_violations, 0);
    let text = String::from_utf8(kept.0.lock().unwrap().clone()).unwrap();
    // In time order (signatures are traced when their CPU time ends: rows used to go back).
    let t: Vec<f64> = text
        .lines()
        .skip(1)
        .map(|r| r[..r.find(',').unwrap()].parse().unwrap())
        .collect();
    assert!(t.windows(2).all(|w| w[0] <= w[1]), "trace rows out of time order");
    // Rows: time_ms,node,height,kind,rank. Up at 0: the honest nodes that start round 1 then.
    let mut up = std::collections::BTreeSet::new();
    let mut counts: Vec<(f64, usize)> = Vec::new();
    let (mut stalls, mut with_quorum, mut initial) = (0, Vec::new(), 0);
    for row in text.lines().skip(1) {
        let f: Vec<&str> = row.split(',').collect();
        let (t, kind) = (f[0].parse::<f64>().unwrap(), f[3]);
        match kind {
            "round_start" if t == 0.0 => {
                up.insert(f[1].to_string());
                initial = up.len();
            }
            "crash" => drop(up.remove(f[1])),
            "recover" => drop(up.insert(f[1].to_string())),
            "stall" => {
                stalls += 1;
                let before = counts
                    .iter()
                    .rev()
                    .find(|c| c.0 <= t - 50_000.0)
                    .map_or(initial, |c| c.1);
                let least = counts
                    .iter()
                    .filter(|c| c.0 > t - 50_000.0)
                    .map(|c| c.1)
                    .chain([before])
                    .min();
                if least.unwrap() >= quorum {
                    with_quorum.push(t);
                }
            }
            _ => {}
        }
        if kind == "crash" || kind == "recover" {
            counts.push((t, up.len()));
        }
    }
    assert!(stalls > 0, "the scenario does lose its quorum");
    assert!(with_quorum.is_empty(), "stalls with a quorum up at {with_quorum:?} ms");
}

/// The trace shows rule 2 (execution and certification): with constant 100 ms delays and a
/// constant execution time of 50 ms, every node of 13 signs its certification share of h
/// 50 ms after it finalized h and holds h certified 100 ms after that (the (n - f)-th share,
/// all sent at once), for every height it finalized.
#[test]
fn trace_has_certification_shares_and_certified_heights() {
    let mut s = scenario(13, CONST100, "", "crypto_time = false", 20);
    s.execution.time = ictwin::dist::Delay::Constant { ms: 50.0 };
    s.run.replicas = 1;
    let kept = Kept::default();
    fine::run(&s, Some(Box::new(kept.clone())), &AtomicBool::new(false), &|_| {}).unwrap();
    let text = String::from_utf8(kept.0.lock().unwrap().clone()).unwrap();
    let mut at = std::collections::HashMap::new();
    for row in text.lines().skip(1) {
        let f: Vec<&str> = row.split(',').collect();
        let t: f64 = f[0].parse().unwrap();
        at.insert((f[1].to_string(), f[2].to_string(), f[3].to_string()), t);
    }
    let mut checked = 0;
    for ((node, h, kind), t) in &at {
        if kind != "finalized" {
            continue;
        }
        let share = at[&(node.clone(), h.clone(), "certification_share".to_string())];
        let certified = at[&(node.clone(), h.clone(), "certified".to_string())];
        assert!(
            (share - t - 50.0).abs() < 1e-6,
            "node {node} height {h}: share at {share}, finalized {t}"
        );
        assert!(
            (certified - share - 100.0).abs() < 1e-6,
            "node {node} height {h}: certified at {certified}"
        );
        checked += 1;
    }
    assert!(checked >= 13 * 19, "{checked} finalizations traced");
}

/// The fine engine's side of `tests/coarse.rs::equivocators_blocks_arriving_together_split_the_notaries_by_coin`
/// (crypto CPU time off, so that the equivocator sends both blocks at once): simultaneous
/// deliveries come out in a seed-keyed order per node, a fair coin, and (1 - 598/4096) / 13 of
/// the heights end at rank 1 without a direct finalization.
#[test]
fn equivocators_blocks_arriving_together_split_the_notaries_by_coin() {
    let mut s = scenario(
        13,
        "{ dist = \"constant\", ms = 350.0 }",
        "equivocating = 1",
        "crypto_time = false",
        400,
    );
    s.run.replicas = 4;
    let (st, _) = run(&s);
    let p = (1.0 - 598.0 / 4096.0) / 13.0;
    let se = (p * (1.0 - p) / st.rounds_total as f64).sqrt();
    let unfinalized = 1.0 - st.finalized_ratio;
    assert!(
        (unfinalized - p).abs() < 4.5 * se,
        "unfinalized {unfinalized} vs {p} (se {se})"
    );
    assert!(
        (st.mean_notarized_rank - p).abs() < 4.5 * se,
        "rank {} vs {p}",
        st.mean_notarized_rank
    );
}

/// Runs beyond the machine's memory are refused at once, naming the key and the estimate:
/// 10^5 nodes with gossip (was OOM-killed at 24 GB after 11 minutes of key dealing) and
/// 4 × 10^9 clients (aborted on an allocation). Assumes less than 320 GB available.
#[test]
fn runs_beyond_memory_are_refused_at_once() {
    for (nodes, fine, key, estimate) in [
        (100_000, "gossip_fanout = 8", "`subnet.nodes` = 100000", " GB"),
        (13, "clients = 4000000000", "`fine.clients` = 4000000000", "320.0 GB"),
    ] {
        let s = scenario(nodes, LOGNORMAL, "", fine, 10);
        let t0 = std::time::Instant::now();
        let e = match fine::run(&s, None, &AtomicBool::new(false), &|_| {}) {
            Ok(_) => panic!("{key}: ran"),
            Err(e) => format!("{e:#}"),
        };
        assert!(
            t0.elapsed().as_secs_f64() < 1.0,
            "{key}: refused only after {:?}",
            t0.elapsed()
        );
        assert!(
            e.contains(key) && e.contains(estimate) && e.contains("available"),
            "{e}"
        );
    }
}

/// Ctrl-C during key dealing ends the run: setup for 2 × 10^4 nodes (tens of seconds) stops
/// within a moment of the flag being set, and a set flag stops the run before any replica.
#[test]
fn setup_is_interruptible() {
    let stop = std::sync::Arc::new(AtomicBool::new(false));
    let flag = stop.clone();
    let ctrl_c = std::thread::spawn(move || {
        std::thread::sleep(std::time::Duration::from_millis(300));
        flag.store(true, std::sync::atomic::Ordering::SeqCst);
    });
    let t0 = std::time::Instant::now();
    let keys = ictwin::fine::artifacts::Artifacts::setup_until(20_000, 6666, 1, &stop);
    ctrl_c.join().unwrap();
    assert!(keys.is_none(), "setup finished before the stop");
    assert!(t0.elapsed().as_secs_f64() < 2.0, "stopped after {:?}", t0.elapsed());
    let s = scenario(13, LOGNORMAL, "", "", 10);
    let e = fine::run(&s, None, &stop, &|_| {}).err().unwrap();
    assert!(format!("{e:#}").contains("interrupted"), "{e:#}");
}

/// Rule 2 (execution and certification, `[protocol] certification_backlog`): a 7-node subnet,
/// constant 100 ms delays, constant execution time X. With X = 2 s, longer than the 400 ms
/// consensus round, the finalized - certified gap reaches 2, the notary's backlog delay holds
/// consensus back to the execution rate: at most 1/X blocks per second (plus the standard
/// error), with more than one height finalized but not certified on average. With X = 0 the
/// backlog never applies: every aggregate equals that of a run without the backlog rule.
#[test]
fn certification_backlog_bounds_the_block_rate_by_execution() {
    let with = |x_ms: f64, backlog: bool| {
        let mut s = scenario(7, CONST100, "", "", 200);
        s.execution.time = ictwin::dist::Delay::Constant { ms: x_ms };
        s.protocol.certification_backlog = backlog;
        run(&s)
    };
    let (st, o) = with(2000.0, true);
    eprintln!(
        "X = 2 s: block rate {} ± {} /s, round {} ms, certification {} ms, lag {} ± {}",
        st.block_rate_per_s,
        st.block_rate_per_s_ci95,
        st.mean_round_ms,
        st.mean_certification_ms,
        st.mean_certification_lag,
        st.mean_certification_lag_ci95
    );
    assert_eq!((st.notarized, o.safety_violations), (200, 0));
    assert!(
        st.block_rate_per_s <= 0.5 + st.block_rate_per_s_ci95.max(0.01),
        "{} ± {}",
        st.block_rate_per_s,
        st.block_rate_per_s_ci95
    );
    assert!(st.mean_certification_lag > 1.0, "{}", st.mean_certification_lag);
    let (fast, fo) = with(0.0, true);
    let (off, oo) = with(0.0, false);
    eprintln!(
        "X = 0: round {} ms, finalization {} ms, certification {} ms, lag {}",
        fast.mean_round_ms, fast.mean_finalization_ms, fast.mean_certification_ms, fast.mean_certification_lag
    );
    assert_eq!(fo.agg, oo.agg, "nothing changes when execution is fast");
    let certified: u64 = (0..agg::BATCHES)
        .map(|b| fo.agg[agg::batch_index(b, agg::F_CERTIFIED)])
        .sum();
    assert_eq!(certified, 200, "every measured height is certified at its observer");
    assert_eq!(
        (fast.mean_round_ms, off.mean_finalization_ms),
        (off.mean_round_ms, fast.mean_finalization_ms)
    );
}

/// With X = 0 (the default) the backlog rule changes nothing, also with random delays and
/// dynamic failures (crashes, catch-ups from a peer, state sync): the same aggregates with
/// and without it.
#[test]
fn fast_execution_leaves_random_delays_and_recoveries_unchanged() {
    let with = |backlog: bool| {
        let mut s = scenario(
            7,
            LOGNORMAL,
            "mtbf_hours = 0.01\nmttr_hours = 0.002",
            "crypto_time = false",
            400,
        );
        s.protocol.certification_backlog = backlog;
        run(&s)
    };
    let ((st, on), (_, off)) = (with(true), with(false));
    assert!(
        st.stalled > 0 && st.mean_certification_ms > 0.0,
        "{} {}",
        st.stalled,
        st.mean_certification_ms
    );
    assert_eq!(on.agg, off.agg);
}
