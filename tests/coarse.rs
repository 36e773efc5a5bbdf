//! The coarse model against closed forms and exact combinatorics (ICC-MODEL.md), and the
//! samplers against their distributions. Statistical checks use fixed seeds and tolerances
//! of a few standard errors.

use ictwin::coarse::{prepare, run_cpu};
use ictwin::dist::Delay;
use ictwin::scenario::{parse, Scenario};
use ictwin::stats::{from_aggregates, RunStats};
use ictwin_kernels::agg;
use ictwin_kernels::philox::{stream, WordStream};
use ictwin_kernels::table;
use std::path::Path;
use std::sync::atomic::AtomicBool;

fn scenario(nodes: u32, delay: &str, faults: &str, replicas: u64, rounds: u64) -> Scenario {
    let text = format!(
        "name = \"t\"\n[subnet]\nnodes = {nodes}\nunit_delay_ms = 1000\ninitial_notary_delay_ms = 300\n\
         [network]\ndelay = {delay}\n[faults]\n{faults}\n[run]\nreplicas = {replicas}\nrounds = {rounds}\nseed = 7\n"
    );
    parse(&text, "test.toml", Path::new(".")).unwrap().scenario
}

fn run(s: &Scenario) -> (RunStats, Vec<u64>) {
    let prep = prepare(s).unwrap();
    let agg = run_cpu(&prep, &|_| {}, &AtomicBool::new(false)).unwrap();
    (from_aggregates(&agg), agg)
}

const CONST100: &str = "{ dist = \"constant\", ms = 100.0 }";

#[test]
fn all_honest_constant_delay_closed_form() {
    let (st, _) = run(&scenario(13, CONST100, "", 500, 40));
    assert_eq!(st.rounds_total, 20_000);
    assert_eq!(st.stalled_ratio, 0.0);
    assert_eq!(st.mean_round_ms, 400.0);
    assert_eq!(st.mean_round_ms_ci95, 0.0);
    assert_eq!((st.round_ms_p50, st.round_ms_p99), (400.0, 400.0));
    assert_eq!(st.mean_finalization_ms, 500.0);
    assert_eq!(st.finalized_ratio, 1.0);
    assert!((st.block_rate_per_s - 2.5).abs() < 1e-12);
    assert_eq!((st.mean_notarized_rank, st.rank0_ratio), (0.0, 1.0));
}

#[test]
fn round_time_is_max_n0_d_plus_d() {
    // Constant one-way delay d: round = max(N0, d) + d, finalization one d later.
    for d in [50.0, 300.0, 450.0] {
        let s = scenario(13, &format!("{{ dist = \"constant\", ms = {d} }}"), "", 50, 20);
        let (st, _) = run(&s);
        assert_eq!(st.mean_round_ms, f64::max(300.0, d) + d, "d = {d}");
        assert_eq!(st.mean_finalization_ms, f64::max(300.0, d) + 2.0 * d, "d = {d}");
    }
}

/// E[rank of the first live maker] = sum_{r>=1} C(k,r)/C(n,r) with k of n crashed.
fn expected_rank(n: u64, k: u64) -> f64 {
    let c = |a: u64, b: u64| -> f64 { (0..b).map(|i| (a - i) as f64 / (b - i) as f64).product() };
    (1..=k).map(|r| c(k, r) / c(n, r)).sum()
}

#[test]
fn four_of_thirteen_crashed_hypergeometric_rank() {
    assert!((expected_rank(13, 4) - 0.4).abs() < 1e-12);
    // The closed form of rank r's round, 400 + 1000 r ms, is without the dynamic block-maker
    // delay (its own test is `dynamic_maker_delay_adds_one_unit_delay_exactly_where_it_fires`).
    let mut s = scenario(13, CONST100, "crashed = 4", 2000, 50);
    s.protocol.dynamic_block_maker_delay = false;
    let (st, agg) = run(&s);
    assert_eq!(st.stalled_ratio, 0.0);
    // Rank draws are independent across heights: SE from the exact distribution.
    let n = st.rounds_total as f64;
    let probs: Vec<f64> = (0..=4u64)
        .map(|r| {
            let c = |a: u64, b: u64| -> f64 { (0..b).map(|i| (a - i) as f64 / (b - i) as f64).product() };
            // P(first r makers crashed, rank r live) = C(4,r)/C(13,r) * 9/(13-r)
            c(4, r) / c(13, r) * 9.0 / (13 - r) as f64
        })
        .collect();
    assert!((probs.iter().sum::<f64>() - 1.0).abs() < 1e-12);
    let var: f64 = probs
        .iter()
        .enumerate()
        .map(|(r, p)| p * (r as f64 - 0.4).powi(2))
        .sum();
    let se = (var / n).sqrt();
    assert!(
        (st.mean_notarized_rank - 0.4).abs() < 4.0 * se,
        "rank {} se {se}",
        st.mean_notarized_rank
    );
    // Each round is exactly 400 + 1000 r ms.
    assert!((st.mean_round_ms - (400.0 + 1000.0 * st.mean_notarized_rank)).abs() < 1e-6);
    // Chi-square of the rank histogram against the exact probabilities (4 dof, 0.1% level: 18.47).
    let chi2: f64 = probs
        .iter()
        .enumerate()
        .map(|(r, p)| (agg[(agg::HIST_RANK + r as u32) as usize] as f64 - n * p).powi(2) / (n * p))
        .sum();
    assert!(chi2 < 18.47, "chi2 = {chi2}");
}

#[test]
fn five_of_thirteen_crashed_stall_and_spend_no_time() {
    let (st, _) = run(&scenario(13, CONST100, "crashed = 5", 100, 30));
    assert_eq!(st.stalled_ratio, 1.0);
    assert_eq!(st.block_rate_per_s, 0.0);
    assert!(st.mean_round_ms.is_nan());
}

#[test]
fn f_silent_progress_f_plus_one_stall() {
    let lognormal = "{ dist = \"lognormal\", median_ms = 70.0, sigma = 0.5 }";
    for (n, f) in [(4u32, 1u32), (13, 4), (40, 13)] {
        let (st, _) = run(&scenario(n, lognormal, &format!("silent = {f}"), 200, 20));
        assert_eq!(st.stalled_ratio, 0.0, "n = {n}");
        let (st, _) = run(&scenario(n, lognormal, &format!("silent = {}", f + 1), 200, 20));
        assert_eq!(st.stalled_ratio, 1.0, "n = {n}");
    }
}

#[test]
fn equivocating_leader_without_proofs_is_never_finalized() {
    // `[protocol] equivocation_proofs = false` (the 2022 rule): every notary signs both
    // blocks of an equivocating leader, so heights it leads are notarized but not finalized.
    let mut s = scenario(13, CONST100, "equivocating = 1", 2000, 50);
    s.protocol.equivocation_proofs = false;
    let (st, _) = run(&s);
    let p = 12.0 / 13.0;
    let se = (p * (1.0 - p) / st.rounds_total as f64).sqrt();
    assert!(
        (st.finalized_ratio - p).abs() < 4.0 * se,
        "{} vs {p}",
        st.finalized_ratio
    );
    // The finality backoff only matters for ranks > 0, which never occur here.
    assert_eq!(st.mean_round_ms, 400.0);
}

#[test]
fn equivocating_leader_with_proofs_costs_n0_plus_u_plus_d() {
    // Issue 11's closed form (deployed rule, the default): constant d = 100 ms, N0 = 300 ms,
    // U = 1000 ms. Every node holds both rank-0 blocks at d = 100 ms < N0, so it builds the
    // proof and signs neither; the rank-1 maker proposes at U, its block is signed at N0 + U
    // and notarized at N0 + U + d = 1400 ms, then finalized one d later. Other heights: 400 ms.
    let (st, agg) = run(&scenario(13, CONST100, "equivocating = 1", 2000, 50));
    assert_eq!(st.stalled_ratio, 0.0);
    assert_eq!(st.finalized_ratio, 1.0);
    let round = |ms: u64| agg[(agg::HIST_ROUND + agg::time_bin(ms * 1000)) as usize];
    let fin = |ms: u64| agg[(agg::HIST_FIN + agg::time_bin(ms * 1000)) as usize];
    let total = st.rounds_total;
    assert_eq!(round(400) + round(1400), total, "only 400 and 1400 ms rounds");
    assert_eq!(fin(500) + fin(1500), total, "finalized one delay after");
    assert_eq!(round(1400), fin(1500));
    // The slow heights are exactly those of rank 1 (the equivocator led, 1/13 of heights).
    let slow = round(1400) as f64 / total as f64;
    assert!((st.mean_notarized_rank - slow).abs() < 1e-12);
    assert!((st.mean_round_ms - (400.0 + 1000.0 * slow)).abs() < 1e-9);
    let p = 1.0 / 13.0;
    let se = (p * (1.0 - p) / total as f64).sqrt();
    assert!((slow - p).abs() < 4.0 * se, "{slow} vs {p}");
}

/// Share of heights an equivocating rank-0 maker costs when its two blocks reach all 13 nodes
/// at the same µs after their notary delay: each of the 12 honest signers signs the block its
/// tie coin puts first, one block gets the quorum of 9 with probability
/// q = 2 P(Bin(12, 1/2) >= 9) = 598 / 4096 (and is finalized: its signers signed nothing else),
/// otherwise the rank-1 block is notarized and nobody may sign its finalization. The
/// equivocator leads 1/13 of the heights: (1 - q) / 13 of them have rank 1 and stay
/// unfinalized. Without the certification backlog: with it, the height after a split one is
/// finalized (finalized - certified 2) at the µs the next block arrives, so some nodes wait a
/// delay for the certification (`ictwin_kernels::views::tie`, `tests/certification.rs`), which
/// changes the heights after a split in ways this closed form leaves out.
const TIE_SPLIT_SHARE: f64 = (1.0 - 598.0 / 4096.0) / 13.0;

#[test]
fn equivocators_blocks_arriving_together_split_the_notaries_by_coin() {
    // Constant d = 350 ms above N0 = 300 ms (the old rule, variant 0 first at every node,
    // finalized every height).
    let mut s = scenario(13, "{ dist = \"constant\", ms = 350.0 }", "equivocating = 1", 2000, 100);
    s.protocol.certification_backlog = false;
    let (st, _) = run(&s);
    let p = TIE_SPLIT_SHARE;
    let se = (p * (1.0 - p) / st.rounds_total as f64).sqrt();
    let unfinalized = 1.0 - st.finalized_ratio;
    assert!(
        (unfinalized - p).abs() < 4.5 * se,
        "unfinalized {unfinalized} vs {p} (se {se})"
    );
    assert!(
        (st.mean_notarized_rank - unfinalized).abs() < 1e-12,
        "the rank-1 heights are the unfinalized ones"
    );
}

#[test]
fn slow_network_loses_finality_and_backs_off() {
    // Delays around U: rank-1 makers often miss the leader's block; heights go unfinalized.
    let slow = "{ dist = \"exponential\", min_ms = 200.0, mean_ms = 900.0 }";
    let (with, _) = run(&scenario(13, slow, "crashed = 3", 300, 100));
    assert!(
        with.finalized_ratio < 0.999 && with.finalized_ratio > 0.5,
        "{}",
        with.finalized_ratio
    );
    let mut s = scenario(13, slow, "crashed = 3", 300, 100);
    s.subnet.finality_backoff = false;
    let (without, _) = run(&s);
    // Same seed, same words: every round's ranking, observer and delays coincide, and the
    // backoff only raises the notary delay of ranks > 0, so no round is faster with it.
    assert!(
        with.mean_round_ms > without.mean_round_ms,
        "{} vs {}",
        with.mean_round_ms,
        without.mean_round_ms
    );
    assert!(with.round_ms_p99 >= without.round_ms_p99);
}

#[test]
fn block_rate_never_exceeds_one_over_n0() {
    for (delay, faults) in [
        (CONST100, ""),
        ("{ dist = \"uniform\", min_ms = 0.0, max_ms = 50.0 }", ""),
        (
            "{ dist = \"exponential\", min_ms = 0.0, mean_ms = 10.0 }",
            "crashed = 2",
        ),
    ] {
        let (st, _) = run(&scenario(13, delay, faults, 200, 50));
        assert!(st.block_rate_per_s <= 1.0 / 0.3 + 1e-9, "{}", st.block_rate_per_s);
    }
}

#[test]
fn dynamic_failures_stall_time_matches_stationary_probability() {
    // n = 4 (quorum 3, 2 makers): stalled iff at most 2 of 4 nodes are up (then both makers
    // cannot be down with 3 up). MTBF = MTTR: each node up with p = 1/2, so P = 11/16.
    // Transitions every ~360 s against ~0.4 s rounds, so status-at-round-start bias is ~0.1%.
    let mut s = scenario(4, CONST100, "mtbf_hours = 0.1\nmttr_hours = 0.1", 200, 40_000);
    s.run.seed = 3;
    let (st, _) = run(&s);
    // ~200 replicas x ~45 independent up/down cycles each: SE of the time fraction ~0.004.
    assert!(
        (st.stall_time_ratio - 11.0 / 16.0).abs() < 0.02,
        "stall time ratio {}",
        st.stall_time_ratio
    );
    assert!(st.stalled_ratio > 0.0 && st.stalled_ratio < 1.0);
}

/// Kolmogorov-Smirnov distance between `n` samples of the integer sampler (µs) and the
/// distribution's CDF.
fn ks_distance(d: &Delay, n: u32) -> f64 {
    let t = d.table_us();
    let mut w = WordStream::new([11, 0], 0, 0, stream::MESSAGE, n);
    let mut xs: Vec<f64> = (0..n)
        .map(|_| table::sample(&t, 0, w.next_u32()) as f64 / 1000.0)
        .collect();
    xs.sort_by(|a, b| a.total_cmp(b));
    let mut dmax: f64 = 0.0;
    for (i, &x) in xs.iter().enumerate() {
        let f = d.cdf_ms(x);
        dmax = dmax
            .max((f - i as f64 / n as f64).abs())
            .max(((i + 1) as f64 / n as f64 - f).abs());
    }
    dmax
}

#[test]
fn samplers_match_their_distributions_ks() {
    let n = 200_000;
    // 0.1% critical value of the one-sample KS statistic, plus 1 µs table rounding slack.
    let crit = 1.95 / (n as f64).sqrt() + 2e-4;
    let empirical = {
        let mut v: Vec<f64> = (0..500)
            .map(|i| 20.0 + (i as f64 * 0.37).sin().abs() * 80.0 + i as f64 * 0.1)
            .collect();
        v.sort_by(|a, b| a.total_cmp(b));
        Delay::Empirical {
            file: "x.csv".into(),
            samples_ms: v,
        }
    };
    for d in [
        Delay::Uniform {
            min_ms: 10.0,
            max_ms: 200.0,
        },
        Delay::Exponential {
            min_ms: 5.0,
            mean_ms: 80.0,
        },
        Delay::Lognormal {
            median_ms: 70.0,
            sigma: 0.5,
        },
        Delay::Lognormal {
            median_ms: 150.0,
            sigma: 1.2,
        },
        empirical,
    ] {
        let ks = ks_distance(&d, n);
        assert!(ks < crit, "{d:?}: KS {ks} >= {crit}");
    }
}

#[test]
fn sampler_means_match() {
    // The tail above 1 - 2^-32 is the only truncation: means agree to the SE of the sample.
    for d in [
        Delay::Exponential {
            min_ms: 0.0,
            mean_ms: 100.0,
        },
        Delay::Lognormal {
            median_ms: 70.0,
            sigma: 1.0,
        },
    ] {
        let t = d.table_us();
        let n = 400_000u32;
        let mut w = WordStream::new([5, 0], 1, 0, stream::MESSAGE, n);
        let xs: Vec<f64> = (0..n)
            .map(|_| table::sample(&t, 0, w.next_u32()) as f64 / 1000.0)
            .collect();
        let mean = xs.iter().sum::<f64>() / n as f64;
        let sd = (xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1) as f64).sqrt();
        assert!(
            (mean - d.mean_ms()).abs() < 4.0 * sd / (n as f64).sqrt(),
            "{d:?}: mean {mean}"
        );
    }
}

#[test]
fn results_do_not_depend_on_thread_count() {
    let s = scenario(
        13,
        "{ dist = \"lognormal\", median_ms = 70.0, sigma = 0.5 }",
        "crashed = 2",
        3000,
        20,
    );
    let prep = prepare(&s).unwrap();
    let one = rayon::ThreadPoolBuilder::new().num_threads(1).build().unwrap();
    let two = rayon::ThreadPoolBuilder::new().num_threads(2).build().unwrap();
    let a = one.install(|| run_cpu(&prep, &|_| {}, &AtomicBool::new(false)).unwrap());
    let b = two.install(|| run_cpu(&prep, &|_| {}, &AtomicBool::new(false)).unwrap());
    assert_eq!(a, b);
}

#[test]
fn larger_subnets_and_partial_committees_run() {
    // n = 14: committee of 13 drawn from 14; n = 128: the largest supported subnet.
    for n in [14u32, 34, 128] {
        let f = (n - 1) / 3;
        let (st, _) = run(&scenario(
            n,
            "{ dist = \"lognormal\", median_ms = 70.0, sigma = 0.5 }",
            &format!("crashed = {f}"),
            100,
            10,
        ));
        assert_eq!(st.stalled_ratio, 0.0, "n = {n}");
        assert!(st.mean_round_ms > 300.0);
    }
    // n = 14 with 5 crashed: stalls exactly when the committee holds 9 or fewer live nodes:
    // the committee excludes 1 of 14 uniformly; 9 live members remain iff it excludes a
    // crashed node (5/14), else 8 < 9 and the height stalls for good.
    let (st, _) = run(&scenario(14, CONST100, "crashed = 5", 4000, 5));
    // A replica stalls for good at its first bad height: P(no stall in 5 heights) = (5/14)^5.
    let p_ok: f64 = (5.0f64 / 14.0).powi(5);
    let expect_stalled = 1.0 - (0..5).map(|h| (5.0f64 / 14.0).powi(h + 1)).sum::<f64>() / 5.0;
    let se = (expect_stalled * (1.0 - expect_stalled) / 4000.0).sqrt() * 2.0;
    assert!(
        (st.stalled_ratio - expect_stalled).abs() < 4.0 * se,
        "{} vs {expect_stalled} ({p_ok})",
        st.stalled_ratio
    );
}

/// Dynamic failures: the share of time stalled is the stationary probability that more than f
/// of the nodes are down, at horizons of 35 and 90 stall episodes (the replicas that start
/// stalled would bias it upwards if their first stall counted).
#[test]
fn stalled_time_is_the_binomial_probability() {
    // 4 honest nodes (f = 1), each down with probability MTTR / (MTBF + MTTR) = 0.2; the
    // subnet stalls iff 2 or more are down (one maker of the two top ranks is always up).
    let (mtbf_h, mttr_h): (f64, f64) = (0.04, 0.01);
    let q = mttr_h / (mtbf_h + mttr_h);
    let p_stall = 1.0 - (1.0 - q).powi(4) - 4.0 * q * (1.0 - q).powi(3);
    let faults = format!("mtbf_hours = {mtbf_h}\nmttr_hours = {mttr_h}");
    let delay = "{ dist = \"constant\", ms = 10.0 }";
    for (replicas, rounds) in [(2_500, 2_000), (1_000, 5_000)] {
        let (st, _) = run(&scenario(4, delay, &faults, replicas, rounds));
        // Failures are seen at height starts: a stall begins up to one round (~0.32 s) late,
        // out of episodes of about MTTR / 2 = 18 s (two nodes down, either may recover).
        let round_s = st.mean_round_ms / 1000.0;
        let lag_bias = round_s * p_stall / (mttr_h * 3600.0 / 2.0);
        let se = st.stall_time_ratio_ci95 / 1.96;
        let tol = 4.0 * se + lag_bias;
        assert!(
            (st.stall_time_ratio - p_stall).abs() <= tol,
            "{replicas} x {rounds}: stalled time {} ± {} vs binomial {p_stall} (tolerance {tol})",
            st.stall_time_ratio,
            st.stall_time_ratio_ci95
        );
        assert!(se > 0.0 && se < 0.01, "se {se}");
    }
}

/// Rule 7, the dynamic block-maker delay: with 1 of 4 nodes crashed and constant delays
/// d >= N0, a height whose rank-0 maker is the crashed node takes U + max(N0, d) + d, and
/// exactly U more when more than 10 of the chain's last 30 blocks have rank > 0; nothing else
/// changes (every other height's round is the same in both runs). So the total round time
/// with the rule minus without it is U times the number of such heights, counted here from
/// the ranking shuffles themselves (the same words the model reads).
#[test]
fn dynamic_maker_delay_adds_one_unit_delay_exactly_where_it_fires() {
    use ictwin_kernels::maker_delay::{push_rank, MAX_NON_RANK_0};
    use ictwin_kernels::shuffle::Shuffle;
    let (replicas, rounds) = (40u32, 300u32);
    let mut s = scenario(
        4,
        "{ dist = \"constant\", ms = 400.0 }",
        "crashed = 1",
        replicas as u64,
        rounds as u64,
    );
    let total_round_us = |agg: &[u64]| -> u64 {
        (0..agg::BATCHES)
            .map(|b| agg[agg::batch_index(b, agg::F_ROUND_US)])
            .sum()
    };
    let (on_stats, on) = run(&s);
    s.protocol.dynamic_block_maker_delay = false;
    let (off_stats, off) = run(&s);
    assert_eq!(
        on_stats.mean_notarized_rank, off_stats.mean_notarized_rank,
        "ranks are unchanged"
    );
    let p = prepare(&s).unwrap().params;
    let mut fired = 0u64;
    for replica in 0..replicas {
        let mut history = 0u32;
        for height in 1..=rounds {
            let words = WordStream::new([p.seed_lo, p.seed_hi], replica, height, stream::RANKING, 2);
            let rank = (Shuffle::new(4, words).at(0) == 0) as u32;
            fired += (rank == 1 && history.count_ones() > MAX_NON_RANK_0) as u64;
            history = push_rank(history, rank);
        }
    }
    // P(Bin(30, 1/4) > 10) = 0.106: about 0.25 x 0.106 x 12,000 = 300 heights.
    assert!(fired > 100, "the rule fired on only {fired} heights");
    assert_eq!(total_round_us(&on) - total_round_us(&off), fired * 1_000_000);
}

/// Rule 4, node processing: a constant processing delay c is added to every message a node
/// receives (not to its own share), so with constant delays d the round is
/// max(N0, d + c) + d + c and finalization d + c later; c = 0 is the model without it.
#[test]
fn constant_processing_adds_to_every_received_message() {
    for (d, c) in [(100.0, 50.0), (300.0, 50.0), (100.0, 0.0)] {
        let mut s = scenario(13, &format!("{{ dist = \"constant\", ms = {d} }}"), "", 50, 20);
        s.node.processing = Delay::Constant { ms: c };
        let (st, _) = run(&s);
        let m = d + c;
        assert_eq!(st.mean_round_ms, f64::max(300.0, m) + m, "d = {d}, c = {c}");
        assert_eq!(
            st.mean_finalization_ms,
            f64::max(300.0, m) + 2.0 * m,
            "d = {d}, c = {c}"
        );
    }
}

/// The kernel's received-message delay with a processing distribution is network plus
/// processing from one word (`views::delay_us`, the processing quantile at `mix32(word)`): over
/// the midpoints of 2^20 equal strata of the words its distribution matches the convolution,
/// here 10 ms + Exp(mean 40 ms) plus Uniform(0, 40 ms) in closed form, within a KS distance of
/// 3e-3 (the processing part is pseudo-random over 2^20 words: SE about 1e-3) and means
/// within 0.1 ms of 70 ms.
#[test]
fn processing_delay_from_the_mixed_word_is_the_convolution() {
    let delay = "{ dist = \"exponential\", min_ms = 10.0, mean_ms = 50.0 }";
    let mut s = scenario(13, delay, "", 1, 1);
    s.node.processing = Delay::Uniform {
        min_ms: 0.0,
        max_ms: 40.0,
    };
    let prep = prepare(&s).unwrap();
    let mut us: Vec<u64> = (0..1u32 << 20)
        .map(|k| ictwin_kernels::views::delay_us(&prep.params, &prep.tables, (k << 12) | 0x800, 0, 1))
        .collect();
    us.sort_unstable();
    let n = us.len() as f64;
    let mean_ms = us.iter().sum::<u64>() as f64 / n / 1000.0;
    assert!((mean_ms - 70.0).abs() < 0.1, "mean {mean_ms} ms");
    let cdf = |x: f64| -> f64 {
        let v = x - 10.0;
        if v <= 0.0 {
            return 0.0;
        }
        let a = v.min(40.0);
        (a - 40.0 * ((-(v - a) / 40.0).exp() - (-v / 40.0).exp())) / 40.0
    };
    let mut ks: f64 = 0.0;
    for x in (10..600).map(|x| x as f64) {
        let below = us.partition_point(|&t| (t as f64) <= x * 1000.0) as f64 / n;
        ks = ks.max((below - cdf(x)).abs());
    }
    assert!(ks < 3e-3, "KS distance {ks}");
}
