//! The coarse ICC round model: one replica is one subnet stepping `rounds` round steps.
//! Pure integer arithmetic, no allocation; `shaders/model.wgsl` mirrors it line by line.
//!
//! # One round step (height h, time t = the replica's clock at round start, µs)
//! 1. Dynamic failures (optional): every honest node's up/down status is advanced to t.
//! 2. Committee and ranking of height h (redrawn only when the height advances): the committee
//!    is the first c = 3f+1 nodes of a uniform shuffle (stream `COMMITTEE`), the block makers
//!    the first f+1 of an independent shuffle (stream `RANKING`), rank 0 first.
//! 3. r* = the lowest rank whose maker is up and not silent. Signers = up honest committee
//!    members, H of them. No such maker, or H < 2f+1: the step is *stalled*. With static
//!    faults nothing can change, so every remaining step of the replica is stalled and no time
//!    passes. With dynamic failures the replica waits until the next honest node recovers
//!    (counted as stall time) and the next step retries the same height.
//! 4. Otherwise, with N(r) = N0 + r U 1.5^g (g = notarized - finalized height; the factor is
//!    kept in Q16 fixed point, multiplied by 3/2 with floor, capped at 1.5^40; the r U 1.5^g
//!    term is capped at 2^40 µs): the block reaches signer j at r*U + d_j (d_j = 0 for its
//!    maker), and j signs at s_j = max(r*U + d_j, N(r*)). An observer o is drawn uniformly
//!    among the signers; share j reaches it at s_j + e_j (e_o = 0). Round time T = the
//!    (2f+1)-th smallest arrival (+ the calibrated round overhead).
//! 5. Finalization rule. A competing block exists at h when
//!    (a) the r* maker is equivocating: it sends two rank-r* blocks and every honest notary
//!    signs both, since both have the lowest rank it has seen; or
//!    (b) the rank r*+1 maker (if f+1 > r*+1) is up, not silent, and the r* block reaches it
//!    strictly after (r*+1)U (its delay d > U), so it proposes its own block at (r*+1)U; that
//!    block reaches signer j at (r*+1)U + d'_j (0 for its maker) and j signs it iff
//!    max((r*+1)U + d'_j, N(r*+1)) < s_j (j has not signed the r* block yet, so it has not
//!    ended the round either).
//!
//!    The height is finalized iff there is no competing block under (a) and no signer signs
//!    the competitor under (b). Finalization time = T + the (2f+1)-th smallest of fresh share
//!    delays at the observer (its own 0, H - 1 independent network delays), + the calibrated
//!    finalization overhead. That order statistic is drawn with one word from a host-built
//!    table of its exact quantile function, Q_delay(BetaInv(p; 2f, H - 2f)), which has the
//!    same distribution as drawing H - 1 delays and selecting. g resets to 0 on
//!    finalization, else grows by 1 (with backoff on).
//!
//! # Random words
//! Step s of replica i reads stream `ROUND` at counter (i, s, block, 0) in this order: word 0
//! picks the observer; then, for each signer j in id order, d_j (unless j is the maker) and
//! e_j (unless j is the observer); then, only when needed: the r*+1 maker's d (when it is not
//! a signer), the competitor delays d'_j for signers in id order (but the r*+1 maker itself,
//! stopping at the first signer that signs it), and, if finalized, one word for the
//! finalization share order statistic.

use crate::agg::{self, batch_index, batch_of};
use crate::params::{Params, MAX_NODES, Q16_ONE};
use crate::philox::{philox4x32_10, stream, uniform_below, WordStream};
use crate::table;

/// Backoff factor cap: 1.5^40 in Q16 (larger exponents are effectively infinite delays).
pub const BACKOFF_CAP_Q16: u64 = 724_653_314_721; // 65536 multiplied 40 times by 3/2 with floor
/// Notary delays are capped here (2^40 µs, about 12.7 days).
pub const MAX_NOTARY_DELAY_US: u64 = 1 << 40;

/// "No node" (an id no subnet has).
pub const NO_NODE: u32 = u32::MAX;

/// A set of node ids as a 128-bit mask.
pub type NodeSet = [u32; 4];

#[inline(always)]
pub fn contains(s: &NodeSet, i: u32) -> bool {
    (s[(i >> 5) as usize] >> (i & 31)) & 1 == 1
}
#[inline(always)]
fn set(s: &mut NodeSet, i: u32, on: bool) {
    let w = &mut s[(i >> 5) as usize];
    if on {
        *w |= 1 << (i & 31);
    } else {
        *w &= !(1 << (i & 31));
    }
}

#[inline(always)]
fn is_silent(p: &Params, i: u32) -> bool {
    i >= p.crashed && i < p.crashed + p.silent
}
#[inline(always)]
fn is_equivocating(p: &Params, i: u32) -> bool {
    let b = p.crashed + p.silent;
    i >= b && i < b + p.equivocating
}
/// Honest = neither crashed nor Byzantine.
#[inline(always)]
pub fn is_honest(p: &Params, i: u32) -> bool {
    i >= p.crashed + p.silent + p.equivocating
}

/// Notary delay of a rank-`rank` block, µs: N0 + rank U b / 2^16 (saturating, capped).
#[inline(always)]
pub fn notary_delay_us(p: &Params, rank: u32, backoff_q16: u64) -> u64 {
    let ru = rank as u64 * p.unit_delay_us as u64;
    let extra = if ru != 0 && backoff_q16 > (MAX_NOTARY_DELAY_US << 16) / ru {
        MAX_NOTARY_DELAY_US
    } else {
        ((ru * backoff_q16) >> 16).min(MAX_NOTARY_DELAY_US)
    };
    p.initial_notary_delay_us as u64 + extra
}

/// One sample from the delay-valued table at `offset`, µs, times the calibrated delay scale.
#[inline(always)]
fn scaled_sample_us(p: &Params, tables: &[u32], offset: u32, word: u32) -> u64 {
    let d = table::sample(tables, offset, word) as u64;
    if p.delay_scale_q16 == Q16_ONE {
        d
    } else {
        (d * p.delay_scale_q16 as u64) >> 16
    }
}

/// One network delay sample, µs.
#[inline(always)]
fn delay_us(p: &Params, tables: &[u32], word: u32) -> u64 {
    scaled_sample_us(p, tables, p.delay_table, word)
}

/// Lazy partial Fisher-Yates shuffle of `0..n` reading one word per position.
struct Shuffle {
    perm: [u8; MAX_NODES as usize],
    drawn: u32,
    n: u32,
    words: WordStream,
}

impl Shuffle {
    /// Restarts the shuffle for another counter `c1` (another height), reusing the buffers.
    #[inline(always)]
    fn restart(&mut self, c1: u32) {
        for (i, x) in self.perm.iter_mut().enumerate().take(self.n as usize) {
            *x = i as u8;
        }
        self.drawn = 0;
        self.words.restart(c1, 2);
    }

    fn new(n: u32, words: WordStream) -> Self {
        let mut perm = [0u8; MAX_NODES as usize];
        for (i, x) in perm.iter_mut().enumerate().take(n as usize) {
            *x = i as u8;
        }
        Shuffle {
            perm,
            drawn: 0,
            n,
            words,
        }
    }
    /// Element at shuffled position `pos`.
    #[inline(always)]
    fn at(&mut self, pos: u32) -> u32 {
        while self.drawn <= pos {
            let d = self.drawn;
            let j = d + uniform_below(self.words.next_u32(), self.n - d);
            self.perm.swap(d as usize, j as usize);
            self.drawn += 1;
        }
        self.perm[pos as usize] as u32
    }
}

/// Committee of height `height`: all nodes except the first n - c of a uniform shuffle
/// (the same set as the first c of that shuffle read from the other end).
fn committee(p: &Params, all: &NodeSet, replica: u32, height: u32) -> NodeSet {
    let mut c = *all;
    if p.nodes > p.committee {
        let key = [p.seed_lo, p.seed_hi];
        let mut sh = Shuffle::new(
            p.nodes,
            WordStream::new(key, replica, height, stream::COMMITTEE, p.nodes - p.committee),
        );
        for pos in 0..p.nodes - p.committee {
            set(&mut c, sh.at(pos), false);
        }
    }
    c
}

/// Per-node state of dynamic failures.
struct Failures {
    next_change_us: [u64; MAX_NODES as usize],
    transitions: [u32; MAX_NODES as usize],
}

/// One Exp(1)-distributed duration with the given mean, µs (at least 1 ms).
#[inline(always)]
fn exp_duration_us(p: &Params, tables: &[u32], word: u32, mean_ms: u64) -> u64 {
    let x = table::sample(tables, p.exp_table, word) as u64; // Q16
    (((x * mean_ms) >> 16) * 1000).max(1000)
}

/// Nodes subject to dynamic failures: honest ones.
#[inline(always)]
fn is_dynamic(p: &Params, i: u32) -> bool {
    p.dynamic_failures != 0 && is_honest(p, i)
}

impl Failures {
    /// Stationary start: up with probability MTBF/(MTBF+MTTR), residual time exponential.
    fn init(p: &Params, tables: &[u32], replica: u32, up: &mut NodeSet) -> Self {
        let mut f = Failures {
            next_change_us: [u64::MAX; MAX_NODES as usize],
            transitions: [0; MAX_NODES as usize],
        };
        let key = [p.seed_lo, p.seed_hi];
        for i in 0..p.nodes {
            if !is_dynamic(p, i) {
                continue;
            }
            let w = philox4x32_10([replica, 0, i, stream::FAILURE], key);
            let is_up = w[0] < p.p_up_q32;
            set(up, i, is_up);
            let mean = if is_up { p.mtbf_ms() } else { p.mttr_ms() };
            f.next_change_us[i as usize] = exp_duration_us(p, tables, w[1], mean);
            f.transitions[i as usize] = 1;
        }
        f
    }

    /// Apply every transition at or before `t`.
    fn advance(&mut self, p: &Params, tables: &[u32], replica: u32, t: u64, up: &mut NodeSet) {
        let key = [p.seed_lo, p.seed_hi];
        for i in 0..p.nodes {
            let iu = i as usize;
            while self.next_change_us[iu] <= t {
                let now_up = !contains(up, i);
                set(up, i, now_up);
                let w = philox4x32_10([replica, self.transitions[iu], i, stream::FAILURE], key);
                let mean = if now_up { p.mtbf_ms() } else { p.mttr_ms() };
                self.next_change_us[iu] += exp_duration_us(p, tables, w[0], mean);
                self.transitions[iu] += 1;
            }
        }
    }

    /// Time of the next recovery of a down node, or u64::MAX if no node will recover.
    fn next_recovery_us(&self, p: &Params, up: &NodeSet) -> u64 {
        let mut t = u64::MAX;
        for i in 0..p.nodes {
            if is_dynamic(p, i) && !contains(up, i) {
                t = t.min(self.next_change_us[i as usize]);
            }
        }
        t
    }
}

/// Adds `v` to batch counter `field`.
#[inline(always)]
fn add(agg: &mut [u64], batch: u32, field: u32, v: u64) {
    agg[batch_index(batch, field)] += v;
}

/// Result of one notarized round.
struct Notarized {
    rank: u32,
    round_us: u64,
    /// Finalization time from round start, if the height was finalized directly.
    finalization_us: Option<u64>,
}

/// Steps the rounds of replica `replica` (global id) and adds its results to `agg`
/// (length [`agg::AGG_LEN`]).
pub fn simulate_replica(p: &Params, tables: &[u32], replica: u32, agg: &mut [u64]) {
    // The order-statistic buffer only needs f + 1 slots; small subnets get small buffers.
    match p.makers {
        0..=5 => simulate::<5>(p, tables, replica, agg),
        6 => simulate::<6>(p, tables, replica, agg),
        7..=8 => simulate::<8>(p, tables, replica, agg),
        9..=10 => simulate::<10>(p, tables, replica, agg),
        11..=12 => simulate::<12>(p, tables, replica, agg),
        13..=14 => simulate::<14>(p, tables, replica, agg),
        15..=16 => simulate::<16>(p, tables, replica, agg),
        17..=24 => simulate::<24>(p, tables, replica, agg),
        25..=32 => simulate::<32>(p, tables, replica, agg),
        _ => simulate::<ORDER_BUF>(p, tables, replica, agg),
    }
}

fn simulate<const B: usize>(p: &Params, tables: &[u32], replica: u32, agg: &mut [u64]) {
    let key = [p.seed_lo, p.seed_hi];
    let mut up: NodeSet = [0; 4];
    for i in p.crashed..p.nodes {
        set(&mut up, i, true);
    }
    let mut all: NodeSet = [0; 4];
    for i in 0..p.nodes {
        set(&mut all, i, true);
    }
    let mut honest: NodeSet = [0; 4];
    for i in p.crashed + p.silent + p.equivocating..p.nodes {
        set(&mut honest, i, true);
    }
    let mut failures = if p.dynamic_failures != 0 {
        Some(Failures::init(p, tables, replica, &mut up))
    } else {
        None
    };

    let mut t: u64 = 0;
    let mut height: u32 = 0;
    let mut backoff_q16: u64 = Q16_ONE as u64;
    let mut step: u32 = 0;
    let mut members = committee(p, &all, replica, height);
    let mut ranking = Shuffle::new(p.nodes, WordStream::new(key, replica, height, stream::RANKING, 2));
    let mut round_words = WordStream::new(key, replica, 0, stream::ROUND, 0);

    while step < p.rounds {
        // One batch per replica unless replicas are split into segments (few replicas).
        let batch = if p.batch_segments == 1 {
            replica % agg::BATCHES
        } else {
            batch_of(replica, step, p.rounds, p.batch_segments)
        };
        if let Some(f) = failures.as_mut() {
            f.advance(p, tables, replica, t, &mut up);
        }
        let signers = [
            members[0] & up[0] & honest[0],
            members[1] & up[1] & honest[1],
            members[2] & up[2] & honest[2],
            members[3] & up[3] & honest[3],
        ];
        match notarize::<B>(
            p,
            tables,
            replica,
            step,
            &signers,
            &mut ranking,
            &mut round_words,
            &up,
            backoff_q16,
        ) {
            Some(r) => {
                add(agg, batch, agg::F_NOTARIZED, 1);
                add(agg, batch, agg::F_ROUND_US, r.round_us);
                add(agg, batch, agg::F_RANK_SUM, r.rank as u64);
                add(agg, batch, agg::F_RANK0, (r.rank == 0) as u64);
                agg[(agg::HIST_ROUND + agg::time_bin(r.round_us)) as usize] += 1;
                agg[(agg::HIST_RANK + r.rank.min(agg::RANK_BINS - 1)) as usize] += 1;
                match r.finalization_us {
                    Some(fin) => {
                        add(agg, batch, agg::F_FINALIZED, 1);
                        add(agg, batch, agg::F_FIN_US, fin);
                        agg[(agg::HIST_FIN + agg::time_bin(fin)) as usize] += 1;
                        backoff_q16 = Q16_ONE as u64;
                    }
                    None => {
                        if p.finality_backoff != 0 {
                            backoff_q16 = (backoff_q16 * 3 / 2).min(BACKOFF_CAP_Q16);
                        }
                    }
                }
                t += r.round_us;
                height += 1;
                members = committee(p, &all, replica, height);
                ranking.restart(height);
                step += 1;
            }
            None => {
                let recovery = match failures.as_ref() {
                    Some(f) => f.next_recovery_us(p, &up),
                    None => u64::MAX,
                };
                if recovery == u64::MAX {
                    // Nothing can change: the replica is stalled for good.
                    while step < p.rounds {
                        add(
                            agg,
                            batch_of(replica, step, p.rounds, p.batch_segments),
                            agg::F_STALLED,
                            1,
                        );
                        step += 1;
                    }
                } else {
                    add(agg, batch, agg::F_STALLED, 1);
                    add(agg, batch, agg::F_STALL_US, recovery - t);
                    t = recovery;
                    step += 1;
                }
            }
        }
    }
    debug_assert_eq!(agg.len(), agg::AGG_LEN as usize);
}

/// Streaming k-th smallest of a sequence of `len` values (known in advance), keeping only
/// B >= min(k, len - k + 1) values, sorted ascending: the B smallest (padded with u64::MAX)
/// when k <= len - k + 1, else the B largest (padded with 0). Insertion is branch-free
/// (min/max bubbling over the whole fixed-size buffer), because data-dependent branches here
/// cost more than the comparisons.
pub struct OrderStat<const B: usize> {
    buf: [u64; B],
    /// Index of the answer in `buf`.
    answer: usize,
    smallest: bool,
}

/// Largest [`OrderStat`] buffer needed: min(q, H - q + 1) <= f + 1 <= 43 for n <= 128.
pub const ORDER_BUF: usize = 48;

impl<const B: usize> OrderStat<B> {
    /// Selects the `k`-th smallest (1-based) of `len` values; min(k, len-k+1) must be <= B.
    #[inline(always)]
    pub fn new(len: u32, k: u32) -> Self {
        let largest = len - k + 1;
        let smallest = k <= largest;
        let answer = if smallest { k as usize - 1 } else { B - largest as usize };
        OrderStat {
            buf: [if smallest { u64::MAX } else { 0 }; B],
            answer,
            smallest,
        }
    }

    /// Offers one value.
    #[inline(always)]
    pub fn push(&mut self, x: u64) {
        let mut x = x;
        if self.smallest {
            // Carry the larger value upwards; the largest of B + 1 falls off the end.
            for v in self.buf.iter_mut() {
                let lo = (*v).min(x);
                x = (*v).max(x);
                *v = lo;
            }
        } else {
            // Carry the smaller value downwards; the smallest falls off the front.
            for v in self.buf.iter_mut().rev() {
                let hi = (*v).max(x);
                x = (*v).min(x);
                *v = hi;
            }
        }
    }

    /// The k-th smallest of the values pushed (all `len` of them must have been pushed).
    #[inline(always)]
    pub fn get(&self) -> u64 {
        self.buf[self.answer]
    }
}

/// Iterator over the ids in a node set, ascending.
#[inline(always)]
fn next_member(s: &mut NodeSet) -> Option<u32> {
    for (w, bits) in s.iter_mut().enumerate() {
        if *bits != 0 {
            let b = bits.trailing_zeros();
            *bits &= *bits - 1;
            return Some(w as u32 * 32 + b);
        }
    }
    None
}

fn count(s: &NodeSet) -> u32 {
    s.iter().map(|w| w.count_ones()).sum()
}

/// Steps 3-5 of one round; `None` when the step is stalled. `B` bounds the order-statistic
/// buffers (>= f + 1).
#[allow(clippy::too_many_arguments)]
fn notarize<const B: usize>(
    p: &Params,
    tables: &[u32],
    replica: u32,
    step: u32,
    signer_set: &NodeSet,
    ranking: &mut Shuffle,
    words: &mut WordStream,
    up: &NodeSet,
    backoff_q16: u64,
) -> Option<Notarized> {
    // r*: lowest rank whose maker is up and not silent.
    let mut rank = p.makers;
    for r in 0..p.makers {
        let m = ranking.at(r);
        if contains(up, m) && !is_silent(p, m) {
            rank = r;
            break;
        }
    }
    let signers = count(signer_set);
    if rank == p.makers || signers < p.quorum {
        return None;
    }
    let maker = ranking.at(rank);
    let u = p.unit_delay_us as u64;
    let proposal = rank as u64 * u;
    let threshold = notary_delay_us(p, rank, backoff_q16);
    let key = [p.seed_lo, p.seed_hi];

    // The rank r*+1 maker, if it may propose a competing block (rule (b) below).
    let next = if rank + 1 < p.makers {
        ranking.at(rank + 1)
    } else {
        NO_NODE
    };
    let next_proposes = next != NO_NODE && contains(up, next) && !is_silent(p, next);

    // Word 0: the observer; then, per signer in id order, d_j (unless it is the maker) and
    // e_j (unless it is the observer); then the optional words.
    words.restart(step, 2 * signers);
    let observer = uniform_below(words.next_u32(), signers);
    let mut arrivals = OrderStat::<B>::new(signers, p.quorum);
    let mut d_next = u64::MAX; // the r* block's delay to `next`
    let mut rest = *signer_set;
    let mut k = 0u32;
    while let Some(i) = next_member(&mut rest) {
        let d = if i == maker {
            0
        } else {
            delay_us(p, tables, words.next_u32())
        };
        if i == next {
            d_next = d;
        }
        let s = (proposal + d).max(threshold);
        let e = if k == observer {
            0
        } else {
            delay_us(p, tables, words.next_u32())
        };
        arrivals.push(s + e);
        k += 1;
    }
    let round_us = arrivals.get() + p.round_overhead_us as u64;

    // Finalization rule (a): an equivocating r* maker.
    let mut competing = is_equivocating(p, maker);
    // Rule (b): the rank r*+1 maker missed the r* block and its block gets an honest share.
    if !competing && next_proposes {
        if d_next == u64::MAX {
            d_next = delay_us(p, tables, words.next_u32()); // `next` is not a signer
        }
        if d_next > u {
            let proposal2 = proposal + u;
            let threshold2 = notary_delay_us(p, rank + 1, backoff_q16);
            // Replay the per-signer words to recover each s_j.
            let mut replay = WordStream::at(key, replica, step, stream::ROUND, 1, 2 * signers);
            let mut rest = *signer_set;
            let mut k = 0u32;
            while let Some(i) = next_member(&mut rest) {
                let d = if i == maker {
                    0
                } else {
                    delay_us(p, tables, replay.next_u32())
                };
                if k != observer {
                    replay.next_u32();
                }
                k += 1;
                let s = (proposal + d).max(threshold);
                let d2 = if i == next {
                    0
                } else {
                    delay_us(p, tables, words.next_u32())
                };
                if (proposal2 + d2).max(threshold2) < s {
                    competing = true;
                    break;
                }
            }
        }
    }
    let finalization_us = if competing {
        None
    } else {
        // The (2f+1)-th smallest of {0} and H - 1 fresh share delays, by inverse CDF of its
        // exact distribution (one word).
        let table = p.fin_table + (signers - p.quorum) * table::TABLE_STRIDE;
        let share = scaled_sample_us(p, tables, table, words.next_u32());
        Some(round_us + share + p.finalization_overhead_us as u64)
    };
    Some(Notarized {
        rank,
        round_us,
        finalization_us,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_cap_is_iterated_1_5_pow_40() {
        let mut b = Q16_ONE as u64;
        for _ in 0..40 {
            b = b * 3 / 2;
        }
        assert_eq!(b, BACKOFF_CAP_Q16);
    }

    #[test]
    fn notary_delay_saturates() {
        let p = Params {
            unit_delay_us: 1_000_000,
            initial_notary_delay_us: 300_000,
            ..Default::default()
        };
        assert_eq!(notary_delay_us(&p, 0, BACKOFF_CAP_Q16), 300_000);
        assert_eq!(notary_delay_us(&p, 2, 65536), 2_300_000);
        assert_eq!(notary_delay_us(&p, 1, 98304), 1_800_000);
        assert_eq!(notary_delay_us(&p, 42, BACKOFF_CAP_Q16), 300_000 + MAX_NOTARY_DELAY_US);
    }

    #[test]
    fn order_stat_matches_sorting() {
        let mut x = 12345u64;
        for len in 1..=127u32 {
            for k in [1, len / 3 + 1, (2 * len) / 3 + 1, len] {
                let k = k.clamp(1, len);
                if k.min(len - k + 1) as usize > ORDER_BUF {
                    continue;
                }
                let mut v = Vec::new();
                let mut o = OrderStat::<ORDER_BUF>::new(len, k);
                for _ in 0..len {
                    x = x.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                    let val = (x >> 40) % 50; // many ties
                    v.push(val);
                    o.push(val);
                }
                v.sort();
                assert_eq!(o.get(), v[(k - 1) as usize], "len {len} k {k}");
            }
        }
    }
}
