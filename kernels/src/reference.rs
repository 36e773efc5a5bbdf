//! Test-only reference for one height: a plain discrete-event simulation (a priority queue of
//! proposals, share decisions and deliveries) with the same rules and the same per-message
//! delays as [`crate::height`], against which `Height::resolve`, `finalize` and
//! `next_start_us` are checked on many random heights. Decisions at a time are taken before
//! deliveries at that time, so a delivery at exactly a decision's time does not suppress it
//! (the model's tie rule); relayed equivocation proofs are delivered after blocks and shares
//! of the same time.

use crate::height::{kind, message_words, Height, MAX_BLOCKS};
use crate::params::{Params, Q16_ONE};
use crate::sets::{contains, count, set, NodeSet, EMPTY};
use crate::views::{delay_us, NodeViews, TieKey, NEVER};
use std::cmp::Reverse;
use std::collections::BinaryHeap;

#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Debug)]
enum Ev {
    // Decisions (first at equal times).
    Propose { m: u32, r: u32 },
    TrySign { j: u32, b: u32 },
    // Deliveries.
    Block { to: u32, b: u32 },
    Share { to: u32, b: u32 },
    Relay { to: u32, b: u32 },
    // A relayed equivocation proof against the rank-`r` maker.
    Proof { to: u32, r: u32 },
}

fn prio(e: &Ev) -> u32 {
    match e {
        Ev::Propose { .. } | Ev::TrySign { .. } => 0,
        Ev::Proof { .. } => 2,
        _ => 1,
    }
}

/// A queued event: (time µs, priority, block, sequence number, event), smallest first.
type Queued = Reverse<(u64, u32, u32, u64, Ev)>;

struct Queue {
    heap: BinaryHeap<Queued>,
    seq: u64,
}

impl Queue {
    fn push(&mut self, t: u64, e: Ev) {
        // At equal times the lower block first (a node signs one rank's blocks in id order).
        let b = match e {
            Ev::Propose { .. } => 0,
            Ev::TrySign { b, .. } | Ev::Block { b, .. } | Ev::Share { b, .. } | Ev::Relay { b, .. } => b,
            Ev::Proof { r, .. } => 2 * r,
        };
        self.heap.push(Reverse((t, prio(&e), b, self.seq, e)));
        self.seq += 1;
    }
}

/// Per-node results of the reference: (notar, first block 2r+v, fin, next start).
pub struct RefOut {
    pub notar: Vec<u64>,
    pub first: Vec<u32>,
    pub fin: Vec<u64>,
    pub next: Vec<u64>,
}

/// Simulates one height with events. `makers[r]` = rank-r maker.
#[allow(clippy::too_many_arguments)]
pub fn reference(
    p: &Params,
    tables: &[u32],
    replica: u32,
    step: u32,
    height: u32,
    views: &NodeViews,
    active: NodeSet,
    signers: NodeSet,
    equivocating: NodeSet,
    makers: &[u32],
    extra_us: u64,
) -> RefOut {
    let n = p.nodes as usize;
    let nb = 2 * p.makers as usize;
    // The message's words sit at (kind, b, recv, send); it goes from `from` to `to`.
    let d = |kind: u32, b: u32, recv: u32, send: u32, from: u32, to: u32| {
        delay_us(
            p,
            tables,
            message_words(p, replica, step, kind, b, recv, send / 4)[(send % 4) as usize],
            from,
            to,
        )
    };
    let rank = |b: u32| b / 2;
    let mut q = Queue {
        heap: BinaryHeap::new(),
        seq: 0,
    };
    let mut received = vec![vec![NEVER; nb]; n];
    let mut signed = vec![vec![false; nb]; n];
    let mut shares = vec![vec![0u32; nb]; n];
    let mut notarized = vec![vec![NEVER; nb]; n];
    let mut notar = vec![NEVER; n];
    let mut first = vec![u32::MAX; n];
    // Proofs: when each honest active node holds the proof against each rank.
    let proofs = p.equivocation_proofs != 0;
    let mut honest = active;
    for (w, e) in honest.iter_mut().zip(&equivocating) {
        *w &= !e;
    }
    let mut disq = vec![vec![NEVER; p.makers as usize]; n];
    let send_proof = |q: &mut Queue, from: u32, r: u32, t: u64| {
        for m in 0..p.nodes {
            if contains(&honest, m) && m != from {
                q.push(
                    t + d(kind::EQUIV_PROOF, 2 * r, m, from, from, m),
                    Ev::Proof { to: m, r },
                );
            }
        }
    };
    // Lower-rank blocks that count at node k deciding at t: arrived strictly before t, not an
    // equivocator's when proofs are on (the model's approximation, see `crate::proofs`).
    let unit = |r: u32| proofs && contains(&equivocating, makers[r as usize]);
    let lower = |received: &Vec<Vec<u64>>, k: usize, r: u32, t: u64| {
        (0..nb).any(|b| rank(b as u32) < r && received[k][b] < t && !unit(rank(b as u32)))
    };
    for (r, &m) in makers.iter().enumerate() {
        if contains(&active, m) {
            q.push(
                views.start[m as usize] + r as u64 * p.unit_delay_us as u64 + if r > 0 { extra_us } else { 0 },
                Ev::Propose { m, r: r as u32 },
            );
        }
    }
    while let Some(Reverse((t, _, _, _, e))) = q.heap.pop() {
        match e {
            Ev::Propose { m, r } => {
                let mu = m as usize;
                if lower(&received, mu, r, t) || notar[mu] < t {
                    continue;
                }
                let variants = if contains(&equivocating, m) { 2 } else { 1 };
                for v in 0..variants {
                    let b = 2 * r + v;
                    for k in 0..p.nodes {
                        if contains(&active, k) {
                            let at = if k == m { t } else { t + d(kind::BLOCK, b, 0, k, m, k) };
                            q.push(at, Ev::Block { to: k, b });
                        }
                    }
                }
            }
            Ev::Block { to, b } => {
                let (tu, r) = (to as usize, rank(b));
                received[tu][b as usize] = t;
                if unit(r) && contains(&honest, to) && received[tu][(b ^ 1) as usize] != NEVER {
                    // The second block of the rank: it becomes the proof, never signed.
                    if disq[tu][r as usize] == NEVER {
                        disq[tu][r as usize] = t;
                        send_proof(&mut q, to, r, t);
                    }
                    continue;
                }
                if contains(&signers, to) {
                    let key = TieKey {
                        replica,
                        step,
                        block: b,
                    };
                    q.push(
                        views.eligible_us(p, to, rank(b), height, t, key),
                        Ev::TrySign { j: to, b },
                    );
                }
            }
            Ev::TrySign { j, b } => {
                let ju = j as usize;
                if lower(&received, ju, rank(b), t) || notar[ju] < t || signed[ju][b as usize] {
                    continue;
                }
                if disq[ju][rank(b) as usize] < t {
                    continue;
                }
                signed[ju][b as usize] = true;
                for k in 0..p.nodes {
                    if contains(&active, k) {
                        let at = if k == j {
                            t
                        } else {
                            t + d(kind::NOTAR_SHARE, b, k, j, j, k)
                        };
                        q.push(at, Ev::Share { to: k, b });
                    }
                }
            }
            Ev::Proof { to, r } => {
                if disq[to as usize][r as usize] == NEVER {
                    disq[to as usize][r as usize] = t;
                    send_proof(&mut q, to, r, t);
                }
            }
            Ev::Share { to, b } | Ev::Relay { to, b } => {
                let (ku, bu) = (to as usize, b as usize);
                if notarized[ku][bu] != NEVER {
                    continue;
                }
                if let Ev::Share { .. } = e {
                    shares[ku][bu] += 1;
                    if shares[ku][bu] < p.quorum {
                        continue;
                    }
                }
                notarized[ku][bu] = t;
                if t < notar[ku] {
                    notar[ku] = t;
                    first[ku] = b;
                }
                for m in 0..p.nodes {
                    if contains(&active, m) && m != to {
                        q.push(t + d(kind::NOTAR_RELAY, b, m, to, to, m), Ev::Relay { to: m, b });
                    }
                }
            }
        }
    }
    // Finalization: shares at each signer's first notarization, iff it signed nothing else.
    let mut fin = vec![NEVER; n];
    for b in 0..nb as u32 {
        let senders: Vec<u32> = (0..p.nodes)
            .filter(|&j| {
                contains(&signers, j)
                    && first[j as usize] == b
                    && (0..nb).all(|x| x == b as usize || !signed[j as usize][x])
            })
            .collect();
        if (senders.len() as u32) < p.quorum {
            continue;
        }
        // Shortest-path arrival of the finalization of b, by events.
        let mut heap = BinaryHeap::new();
        for k in 0..p.nodes {
            if !contains(&active, k) {
                continue;
            }
            let mut arr: Vec<u64> = senders
                .iter()
                .map(|&j| notar[j as usize] + if j == k { 0 } else { d(kind::FIN_SHARE, b, k, j, j, k) })
                .collect();
            arr.sort();
            heap.push(Reverse((arr[p.quorum as usize - 1], k)));
        }
        let mut done = vec![NEVER; n];
        while let Some(Reverse((t, k))) = heap.pop() {
            if done[k as usize] != NEVER {
                continue;
            }
            done[k as usize] = t;
            for m in 0..p.nodes {
                if contains(&active, m) && m != k && done[m as usize] == NEVER {
                    heap.push(Reverse((t + d(kind::FIN_RELAY, b, m, k, k, m), m)));
                }
            }
        }
        for k in 0..n {
            fin[k] = fin[k].min(done[k]);
        }
    }
    let mut next = vec![NEVER; n];
    for k in 0..p.nodes {
        if !contains(&active, k) {
            continue;
        }
        let mut arr: Vec<u64> = (0..p.nodes)
            .filter(|&j| contains(&signers, j))
            .map(|j| views.start[j as usize] + if j == k { 0 } else { d(kind::BEACON, 0, k, j, j, k) })
            .collect();
        arr.sort();
        let beacon = arr[p.makers as usize - 1];
        next[k as usize] = (notar[k as usize] + p.round_overhead_us as u64).max(beacon);
    }
    RefOut {
        notar,
        first,
        fin,
        next,
    }
}

/// A heavy-tailed delay table (Pareto, shape `alpha`, scale `scale_us`) in the kernel layout.
fn pareto_table(scale_us: f64, alpha: f64) -> Vec<u32> {
    use crate::table::{L1_SEGMENTS, L2_OFFSET, L2_SEGMENTS, TABLE_STRIDE};
    (0..TABLE_STRIDE)
        .map(|k| {
            let p = if k < L1_SEGMENTS {
                k as f64 / L1_SEGMENTS as f64
            } else {
                let j = (k - L2_OFFSET).min(L2_SEGMENTS);
                if j == L2_SEGMENTS {
                    1.0 - 2f64.powi(-32)
                } else {
                    1.0 - 2f64.powi(-12) + j as f64 * 2f64.powi(-24)
                }
            };
            (scale_us * ((1.0 - p).powf(-1.0 / alpha) - 1.0))
                .round()
                .min(u32::MAX as f64) as u32
        })
        .collect()
}

/// A tiny deterministic generator for the random configurations.
struct Lcg(u64);
impl Lcg {
    fn below(&mut self, n: u64) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (self.0 >> 33) % n.max(1)
    }
}

/// Heights with random subnets, faults, unsynchronized round starts, finalizations in flight
/// and heavy-tailed delays (competing blocks, lagging nodes, multi-hop relays): the model's
/// resolution equals the event simulation on every node.
#[test]
fn height_equals_event_simulation() {
    let mut rng = Lcg(7);
    let mut multi_block = 0;
    let mut relayed = 0;
    let mut with_proofs = 0;
    for case in 0..3000u32 {
        let nodes = 4 + rng.below(37) as u32;
        let f = (nodes - 1) / 3;
        let alpha = [0.8, 1.2, 2.0, 4.0][rng.below(4) as usize];
        let scale = [5_000.0, 50_000.0, 200_000.0, 600_000.0][rng.below(4) as usize];
        let mut tables = pareto_table(scale, alpha);
        // Every other case with a random base-latency matrix (geography, asymmetric).
        let latency_table = (case % 2) * tables.len() as u32;
        if latency_table != 0 {
            let top = [20_000, 300_000][rng.below(2) as usize];
            tables.extend((0..nodes * nodes).map(|_| rng.below(top) as u32));
        }
        let p = Params {
            nodes,
            committee: 3 * f + 1,
            quorum: 2 * f + 1,
            makers: f + 1,
            unit_delay_us: [1_000_000, 3_000_000][rng.below(2) as usize],
            initial_notary_delay_us: 200_000 + 100_000 * rng.below(9) as u32,
            finality_backoff: rng.below(2) as u32,
            delay_scale_q16: Q16_ONE,
            round_overhead_us: [0, 7_000][rng.below(2) as usize],
            seed_lo: case,
            seed_hi: 3,
            equivocation_proofs: rng.below(4).min(1) as u32,
            latency_table,
            ..Default::default()
        };
        let faulty = rng.below(f as u64 + 1) as u32;
        let (mut active, mut signers, mut equivocating) = (EMPTY, EMPTY, EMPTY);
        let mut ids: Vec<u32> = (0..nodes).collect();
        for i in (1..ids.len()).rev() {
            ids.swap(i, rng.below(i as u64 + 1) as usize);
        }
        for (pos, &i) in ids.iter().enumerate() {
            let role = if (pos as u32) < faulty { rng.below(3) } else { 3 };
            // 0 crashed, 1 silent, 2 equivocating, 3 honest.
            set(&mut active, i, role >= 2);
            set(&mut equivocating, i, role == 2);
            set(&mut signers, i, role == 3 && (pos as u32) < p.committee + faulty);
        }
        if count(&signers) < p.quorum {
            continue;
        }
        let makers: Vec<u32> = (0..p.makers).map(|r| ids[((r * 7 + case) % nodes) as usize]).collect();
        let proposer = |m: u32| contains(&active, m) && (p.equivocation_proofs == 0 || !contains(&equivocating, m));
        if !makers.iter().any(|&m| proposer(m)) {
            continue; // stalled: the driver does not simulate the height
        }
        let height = 1 + rng.below(30) as u32;
        let mut views = NodeViews::genesis();
        for k in 0..nodes as usize {
            views.start[k] = 10_000_000 + rng.below(4) * rng.below(1_500_000);
            views.fin_height[k] = height.saturating_sub(1 + rng.below(3) as u32);
            if views.fin_height[k] + 1 < height && rng.below(2) == 0 {
                views.pend0_h[k] = height - 1;
                views.pend0_us[k] = views.start[k] + rng.below(800_000);
            }
        }
        let (replica, step) = (case, 2 * case + 1);
        let mut proofs = crate::proofs::Proofs::new();
        let mut h = Height::<48>::new(&p, &tables, replica, step, height, active, signers, &mut proofs);
        // Every third case with the dynamic block-maker delay's extra U for ranks > 0.
        let extra = if case % 3 == 0 { p.unit_delay_us as u64 } else { 0 };
        h.propose(&views, &equivocating, extra, |r| makers[r as usize]);
        if h.ncand == MAX_BLOCKS {
            continue;
        }
        h.resolve(&views);
        h.finalize(&views);
        let r = reference(
            &p,
            &tables,
            replica,
            step,
            height,
            &views,
            active,
            signers,
            equivocating,
            &makers,
            extra,
        );
        let yes = (0..h.ncand)
            .filter(|&c| h.cands[c].status == crate::height::status::YES)
            .count();
        multi_block += (yes > 1) as u32;
        with_proofs += (h.units > 0) as u32;
        for k in 0..nodes {
            if !contains(&active, k) {
                continue;
            }
            let ku = k as usize;
            let c = &h.cands[h.first[ku] as usize];
            let ctx = format!("case {case} node {k} n {nodes} cands {}", h.ncand);
            assert_eq!(h.notar[ku], r.notar[ku], "notarization, {ctx}");
            assert_eq!(2 * c.rank + c.variant, r.first[ku], "first block, {ctx}");
            assert_eq!(h.fin[ku], r.fin[ku], "finalization, {ctx}");
            assert_eq!(h.next_start_us(&views, k), r.next[ku], "next start, {ctx}");
            relayed += !contains(&signers, k) as u32;
        }
    }
    assert!(multi_block > 50, "only {multi_block} heights with competing blocks");
    assert!(relayed > 100, "only {relayed} non-signing nodes checked");
    assert!(with_proofs > 100, "only {with_proofs} heights with equivocation proofs");
    eprintln!("{multi_block} heights with competing blocks, {relayed} non-signing nodes, {with_proofs} with proofs");
}
