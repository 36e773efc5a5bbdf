//! Benchmarks: `ictwin crypto-bench` (per-operation blst costs on this host, printed as a
//! `[fine.costs]` table) and `ictwin fine-bench` (simulated rounds per second of the fine
//! engine and how its wall time splits between crypto and the simulator itself).

use super::crypto::{self, MultiSigKey, ThresholdKeys};
use crate::dist::Delay;
use crate::scenario::{CryptoCosts, Faults, FineConfig, Network, Run, Scenario, Subnet};
use rand::rngs::StdRng;
use rand::SeedableRng;
use std::sync::atomic::AtomicBool;

/// CPU time of the calling thread in µs (`CLOCK_THREAD_CPUTIME_ID`): what an operation costs
/// the node, without the time other processes hold the core (wall time made the costs, and
/// their order, depend on the machine's load).
fn thread_cpu_us() -> f64 {
    let mut t = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    // SAFETY: `t` is a valid, writable timespec; the clock id is a constant Linux defines.
    let rc = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut t) };
    assert_eq!(rc, 0, "clock_gettime(CLOCK_THREAD_CPUTIME_ID) failed");
    t.tv_sec as f64 * 1e6 + t.tv_nsec as f64 * 1e-3
}

/// Mean thread CPU time of `f` in µs over repetitions filling about `budget_ms` of CPU time
/// (at least 3).
fn time_us(budget_ms: u64, mut f: impl FnMut()) -> f64 {
    let start = thread_cpu_us();
    let mut k = 0u64;
    while k < 3 || thread_cpu_us() - start < budget_ms as f64 * 1e3 {
        f();
        k += 1;
    }
    (thread_cpu_us() - start) / k as f64
}

/// Measured costs (µs) of the operations the fine engine charges, for a subnet of `n` nodes.
pub fn measure_costs(n: usize, budget_ms: u64) -> (CryptoCosts, Vec<(String, f64)>) {
    let mut rng = StdRng::seed_from_u64(1);
    let f = (n - 1) / 3;
    let keys: Vec<MultiSigKey> = (0..n).map(|_| MultiSigKey::generate(&mut rng)).collect();
    let msg = b"a block digest of 32 bytes......";
    let h = crypto::hash_to_g1(msg, crypto::DST_MULTI);
    let sigs: Vec<crypto::Sig> = keys.iter().map(|k| k.sk.sign(&h)).collect();
    let pks: Vec<crypto::PublicKey> = keys.iter().map(|k| k.pk).collect();
    let q = 2 * f + 1;
    let agg = crypto::aggregate_sigs(&sigs[..q]);
    let tk = ThresholdKeys::deal(n, f + 1, &mut rng);
    let bshares: Vec<(usize, crypto::Sig)> = (0..f + 1).map(|i| (i, tk.shares[i].sign(&h))).collect();
    let mut brng = StdRng::seed_from_u64(2);
    let mut rows = Vec::new();
    let mut m = |name: &str, v: f64| {
        rows.push((name.to_string(), v));
        v
    };
    let hash = m(
        "hash_to_g1",
        time_us(budget_ms, || {
            std::hint::black_box(crypto::hash_to_g1(msg, crypto::DST_MULTI));
        }),
    );
    let sign_pre = m(
        "sign (pre-hashed)",
        time_us(budget_ms, || {
            std::hint::black_box(keys[0].sk.sign(&h));
        }),
    );
    let sign = m("sign (with hashing)", hash + sign_pre);
    m(
        &format!("{n} shares of one message (comb, as the simulator signs)"),
        time_us(budget_ms, || {
            let base = crypto::SignBase::new(&h);
            for k in &keys {
                std::hint::black_box(base.sign(&k.sk));
            }
        }),
    );
    let verify = m(
        "verify",
        time_us(budget_ms, || assert!(crypto::verify(&sigs[0], &pks[0], &h))),
    );
    m(
        &format!("batch verify of {n} shares (same message)"),
        time_us(budget_ms, || {
            assert!(crypto::batch_verify_same_message(&sigs, &pks, &h, &mut brng))
        }),
    );
    let tables: Vec<crypto::PkTable> = pks.iter().map(crypto::PkTable::new).collect();
    let trefs: Vec<&crypto::PkTable> = tables.iter().collect();
    let batch = m(
        &format!("batch verify of {n} shares (fixed-base key tables, used)"),
        time_us(budget_ms, || {
            assert!(crypto::batch_verify_with_tables(&sigs, &trefs, &h, &mut brng))
        }),
    );
    let aggv = m(
        &format!("aggregate verify ({q} signers, incl. key aggregation)"),
        time_us(budget_ms, || assert!(crypto::verify_aggregate(&agg, &pks[..q], &h))),
    );
    let comb = m(
        &format!("threshold combine ({} of {n})", f + 1),
        time_us(budget_ms, || {
            std::hint::black_box(crypto::combine_threshold(&bshares));
        }),
    );
    m(
        "aggregate of signatures (sum)",
        time_us(budget_ms, || {
            std::hint::black_box(crypto::aggregate_sigs(&sigs[..q]));
        }),
    );
    let costs = CryptoCosts {
        sign_us: sign.round(),
        verify_us: verify.round(),
        verify_share_us: (batch / n as f64).round(),
        aggregate_verify_us: aggv.round(),
        combine_us: comb.round(),
    };
    (costs, rows)
}

/// `ictwin crypto-bench`: prints per-operation costs and a `[fine.costs]` table. The costs are
/// measured on one core (a node's modeled CPU is one serial timeline; the simulator itself
/// spreads the real work over every core).
pub fn crypto_bench(nodes: usize, budget_ms: u64) -> anyhow::Result<String> {
    let one_core = rayon::ThreadPoolBuilder::new().num_threads(1).build()?;
    let (c, rows) = one_core.install(|| measure_costs(nodes.max(4), budget_ms));
    let mut out = format!(
        "# blst BLS12-381 min_sig on one core of this host, subnet of {} nodes\n",
        nodes.max(4)
    );
    for (k, v) in rows {
        out.push_str(&format!("#   {k:<58} {v:>10.1} µs\n"));
    }
    out.push_str(&format!(
        "[fine.costs]\nsign_us = {}\nverify_us = {}\nverify_share_us = {}\naggregate_verify_us = {}\ncombine_us = {}\n",
        c.sign_us, c.verify_us, c.verify_share_us, c.aggregate_verify_us, c.combine_us
    ));
    Ok(out)
}

/// A benchmark scenario: `n` nodes as deployed on application subnets, lognormal delays
/// (median 70 ms), all crypto real and charged, gossip with `fanout` (0 = full mesh).
pub fn bench_scenario(n: u32, rounds: u64, fanout: u32) -> Scenario {
    Scenario {
        name: format!("fine-bench-{n}"),
        description: None,
        subnet: Subnet {
            nodes: n,
            unit_delay_ms: 1000.0,
            initial_notary_delay_ms: 300.0,
            finality_backoff: true,
        },
        network: Network {
            delay: Delay::Lognormal {
                median_ms: 70.0,
                sigma: 0.5,
            },
            ..Network::default()
        },
        node: Default::default(),
        execution: Default::default(),
        faults: Faults::default(),
        protocol: Default::default(),
        run: Run {
            replicas: 1,
            rounds,
            seed: 1,
        },
        calibration: None,
        sweep: None,
        fine: Some(FineConfig {
            gossip_fanout: fanout,
            ..FineConfig::default()
        }),
    }
}

/// One fine-bench measurement.
pub struct BenchRow {
    /// Subnet size.
    pub nodes: u32,
    /// Gossip fanout (0 = full mesh).
    pub fanout: u32,
    /// Heights simulated.
    pub rounds: u64,
    /// Wall-clock time, s.
    pub wall_s: f64,
    /// Wall-clock time spent in crypto, s.
    pub crypto_s: f64,
    /// Heights per wall-clock second.
    pub rounds_per_s: f64,
    /// Simulation events processed.
    pub events: u64,
}

/// Runs one benchmark scenario.
pub fn bench_one(n: u32, rounds: u64, fanout: u32) -> anyhow::Result<BenchRow> {
    let s = bench_scenario(n, rounds, fanout);
    let stop = AtomicBool::new(false);
    let o = super::run(&s, None, &stop, &|_| {})?;
    Ok(BenchRow {
        nodes: n,
        fanout,
        rounds,
        wall_s: o.wall_s,
        crypto_s: o.crypto.wall.as_secs_f64(),
        rounds_per_s: rounds as f64 / o.wall_s,
        events: o.events,
    })
}

/// Text table of benchmark rows.
pub fn render_bench(rows: &[BenchRow]) -> String {
    let mut out = String::from(
        "| nodes | network | rounds | wall s | rounds/s | crypto % | simulator % | events/round |\n|---:|---|---:|---:|---:|---:|---:|---:|\n",
    );
    for r in rows {
        let cp = 100.0 * r.crypto_s / r.wall_s;
        out.push_str(&format!(
            "| {} | {} | {} | {:.2} | {:.prec$} | {:.0} | {:.0} | {:.0} |\n",
            r.nodes,
            if r.fanout == 0 {
                "full mesh".to_string()
            } else {
                format!("gossip k={}", r.fanout)
            },
            r.rounds,
            r.wall_s,
            r.rounds_per_s,
            cp,
            100.0 - cp,
            r.events as f64 / r.rounds as f64,
            // Two decimals for slow (large) subnets.
            prec = if r.rounds_per_s >= 10.0 { 1 } else { 2 }
        ));
    }
    out
}
