//! What each node carries across heights (its round start and what it holds finalized) and
//! the notary-delay rule that depends on it; network delay samples.

use crate::cert::WINDOW;
use crate::params::{Params, MAX_NODES, Q16_ONE};
use crate::table;

/// "Never" (no such event), µs.
pub const NEVER: u64 = u64::MAX;
/// Notary delays are capped here (2^40 µs, about 12.7 days).
pub const MAX_NOTARY_DELAY_US: u64 = 1 << 40;

/// 1.5^g in Q16, multiplied by 3/2 with floor g times, for g = 0..=40 (the cap).
pub const BACKOFF_Q16: [u64; 41] = backoff_table();

const fn backoff_table() -> [u64; 41] {
    let mut t = [0u64; 41];
    t[0] = Q16_ONE as u64;
    let mut g = 1;
    while g <= 40 {
        t[g] = t[g - 1] * 3 / 2;
        g += 1;
    }
    t
}

/// Notary delay of a rank-`rank` block at finality gap `gap`, µs: N0 + rank U 1.5^gap
/// (factor 1 without backoff; gap capped at 40; the rank term capped at 2^40 µs).
#[inline(always)]
pub fn notary_delay_us(p: &Params, rank: u32, gap: u32) -> u64 {
    let b = if p.finality_backoff == 0 {
        Q16_ONE as u64
    } else {
        BACKOFF_Q16[gap.min(40) as usize]
    };
    let ru = rank as u64 * p.unit_delay_us as u64;
    let extra = if ru != 0 && b > (MAX_NOTARY_DELAY_US << 16) / ru {
        MAX_NOTARY_DELAY_US
    } else {
        ((ru * b) >> 16).min(MAX_NOTARY_DELAY_US)
    };
    p.initial_notary_delay_us as u64 + extra
}

/// One message's delay from `sender` to `receiver`, µs: the pair's base latency (when
/// `p.latency_table` is not 0, from the n x n table there; not scaled), plus the network delay
/// (the per-message jitter when a base latency is given; times the calibrated delay scale)
/// plus, with `p.processing`, the receiver's processing delay. Both draws come from the
/// message's one uniform word: the processing quantile reads [`mix32`] of it, a bijection of
/// the 32-bit words, so each part has its exact table distribution and the two are as
/// independent as two draws of a good generator (`tests/coarse.rs` checks the sum against the
/// convolution). The base latency depends on the pair only, not on the word.
#[inline(always)]
pub fn delay_us(p: &Params, tables: &[u32], word: u32, sender: u32, receiver: u32) -> u64 {
    let d = table::sample(tables, p.delay_table, word) as u64;
    let d = if p.delay_scale_q16 == Q16_ONE {
        d
    } else {
        (d * p.delay_scale_q16 as u64) >> 16
    };
    let d = if p.latency_table != 0 {
        d + tables[(p.latency_table + sender * p.nodes + receiver) as usize] as u64
    } else {
        d
    };
    if p.processing != 0 {
        d + table::sample(tables, p.processing_table, mix32(word)) as u64
    } else {
        d
    }
}

/// A bijective mixer of 32-bit words (Chris Wellons' "lowbias32": xor-shift and multiply
/// rounds with full avalanche), wrapping arithmetic.
#[inline(always)]
pub fn mix32(mut x: u32) -> u32 {
    x ^= x >> 16;
    x = x.wrapping_mul(0x7feb_352d);
    x ^= x >> 15;
    x = x.wrapping_mul(0x846c_a68b);
    x ^ (x >> 16)
}

/// Simultaneous deliveries at a node: the fine engine takes events of one µs in a seed-keyed
/// random order (`src/fine/events.rs`), and the notary re-checks its rule at each delivery, so
/// when a block reaches node k at the µs at which a finalization completes there, which comes
/// first decides whether k signs at once (the block first) or waits for the backlog (rule 8 of
/// [`crate::model`]). A finalization's *tie* records how it completed.
pub mod tie {
    /// A finalization completed by the only delivery at its µs: need 1 of m = 1 (a relayed
    /// finalization, or one whose count of simultaneous shares was not needed).
    pub const ONE: u32 = pack(1, 1);

    /// The `need`-th of the `m` finalization shares that reach the node at its µs completed
    /// the quorum (1 <= need <= m <= 128; bits 0-7 need, 8-15 m).
    #[inline(always)]
    pub const fn pack(need: u32, m: u32) -> u32 {
        need | m << 8
    }

    /// Whether a block reaching the node at the finalization's µs is delivered first: its
    /// position among the m + 1 simultaneous deliveries is uniform, so it precedes the
    /// need-th share with probability need / (m + 1) (position = floor(`word` (m + 1) / 2^32),
    /// `word` uniform on 32 bits; exact up to 2^-32 per position).
    #[inline(always)]
    pub fn block_first(tie: u32, word: u32) -> bool {
        let need = (tie & 0xff) as u64;
        let m = ((tie >> 8) & 0xff) as u64;
        ((word as u64 * (m + 1)) >> 32) < need
    }
}

/// Where the word that breaks a tie for a block comes from ([`crate::model`]'s random words,
/// kind `TIE`): the replica, the round step of the block's height and its index 2 rank +
/// variant.
#[derive(Clone, Copy)]
pub struct TieKey {
    /// Replica id.
    pub replica: u32,
    /// Round step of the height.
    pub step: u32,
    /// The block's word index, 2 rank + variant.
    pub block: u32,
}

/// What each node carries from one height to the next. Heights count from 1 (genesis 0).
#[derive(Clone, Copy)]
pub struct NodeViews {
    /// Round start of the current height, µs (when the node held notarization and beacon of
    /// the previous height).
    pub start: [u64; MAX_NODES as usize],
    /// Highest height the node held finalized at its round start.
    pub fin_height: [u32; MAX_NODES as usize],
    /// Finalizations in flight at the round start: (height, arrival µs), earliest first;
    /// `NEVER` marks an empty slot. Heights increase with arrival time.
    pub pend0_h: [u32; MAX_NODES as usize],
    /// Arrival of `pend0_h`, µs.
    pub pend0_us: [u64; MAX_NODES as usize],
    /// The later pending finalization's height.
    pub pend1_h: [u32; MAX_NODES as usize],
    /// Arrival of `pend1_h`, µs.
    pub pend1_us: [u64; MAX_NODES as usize],
    /// How `pend0_h`'s finalization completed at its µs ([`tie`]): what decides whether a
    /// block reaching the node at that same µs comes before it.
    pub pend0_tie: [u32; MAX_NODES as usize],
    /// The same for `pend1_h`.
    pub pend1_tie: [u32; MAX_NODES as usize],
    /// Highest height the node executed ([`crate::cert`]).
    pub ex_h: [u32; MAX_NODES as usize],
    /// When it finished executing `ex_h`, µs.
    pub ex_us: [u64; MAX_NODES as usize],
    /// Highest height it held certified at its round start.
    pub cert_h: [u32; MAX_NODES as usize],
    /// Certifications in flight at its round start: `cw_len` entries of (height, arrival µs)
    /// at `k WINDOW ..`, heights and times increasing.
    pub cw_len: [u32; MAX_NODES as usize],
    /// Heights of the certifications in flight.
    pub cw_h: [u32; MAX_NODES as usize * WINDOW],
    /// Their arrivals, µs.
    pub cw_us: [u64; MAX_NODES as usize * WINDOW],
}

impl NodeViews {
    /// Every node at genesis: round 1 starts at 0, genesis finalized, nothing in flight.
    pub fn genesis() -> Self {
        NodeViews {
            start: [0; MAX_NODES as usize],
            fin_height: [0; MAX_NODES as usize],
            pend0_h: [0; MAX_NODES as usize],
            pend0_us: [NEVER; MAX_NODES as usize],
            pend1_h: [0; MAX_NODES as usize],
            pend1_us: [NEVER; MAX_NODES as usize],
            pend0_tie: [tie::ONE; MAX_NODES as usize],
            pend1_tie: [tie::ONE; MAX_NODES as usize],
            ex_h: [0; MAX_NODES as usize],
            ex_us: [0; MAX_NODES as usize],
            cert_h: [0; MAX_NODES as usize],
            cw_len: [0; MAX_NODES as usize],
            cw_h: [0; MAX_NODES as usize * WINDOW],
            cw_us: [NEVER; MAX_NODES as usize * WINDOW],
        }
    }

    /// Node `k` (re)joins at height `height` at `t` µs: it starts the round at `t` holding
    /// height - 1 finalized, executed and certified (it caught up from a catch-up package).
    pub fn rejoin(&mut self, k: u32, height: u32, t: u64) {
        let k = k as usize;
        self.start[k] = t;
        self.fin_height[k] = height - 1;
        self.pend0_us[k] = NEVER;
        self.pend1_us[k] = NEVER;
        self.ex_h[k] = height - 1;
        self.ex_us[k] = t;
        self.cert_h[k] = height - 1;
        self.cw_len[k] = 0;
    }

    /// Earliest time from `arrival_us` on (the block's arrival) at which node `k` may
    /// notarization-sign a rank-`rank` block at `height`, µs: max(`arrival_us`, min over the
    /// gaps g it passes through of max(when g holds, start + N(rank, g))), where
    /// g = (height - 1) - its finalized height, which drops as finalizations arrive (the
    /// rule, once it holds, keeps holding); with the certification backlog (when it can
    /// apply) see [`NodeViews::eligible_with_backlog_us`] (which reads `key` at a tie).
    #[inline(always)]
    pub fn eligible_us(&self, p: &Params, k: u32, rank: u32, height: u32, arrival_us: u64, key: TieKey) -> u64 {
        if p.certification_backlog != 0 && !self.backlog_free(k, height) {
            return self.eligible_with_backlog_us(p, k, rank, height, arrival_us, key);
        }
        let k = k as usize;
        let t0 = self.start[k];
        if rank == 0 || p.finality_backoff == 0 {
            return (t0 + notary_delay_us(p, rank, 0)).max(arrival_us);
        }
        let last = height - 1;
        let mut e = t0 + notary_delay_us(p, rank, last - self.fin_height[k].min(last));
        if self.pend0_us[k] != NEVER {
            let d = t0 + notary_delay_us(p, rank, last - self.pend0_h[k].min(last));
            e = e.min(d.max(self.pend0_us[k]));
        }
        if self.pend1_us[k] != NEVER {
            let d = t0 + notary_delay_us(p, rank, last - self.pend1_h[k].min(last));
            e = e.min(d.max(self.pend1_us[k]));
        }
        e.max(arrival_us)
    }

    /// Node `k` directly finalized `height` at `fin_us` (or never; completed as `fin_tie` says,
    /// [`tie`]) and starts the next round at `next_us`: records the finalization in flight and
    /// absorbs those arrived by `next_us`. With both slots taken, the earliest is absorbed
    /// early (a finalization more than two rounds in flight; documented approximation).
    pub fn advance(&mut self, k: u32, height: u32, fin_us: u64, fin_tie: u32, next_us: u64) {
        let k = k as usize;
        if fin_us != NEVER {
            // A later arrival of a lower height no longer matters.
            if self.pend1_us[k] >= fin_us {
                self.pend1_us[k] = NEVER;
            }
            if self.pend0_us[k] >= fin_us {
                self.shift_pending(k);
            }
            if self.pend0_us[k] == NEVER {
                self.pend0_h[k] = height;
                self.pend0_us[k] = fin_us;
                self.pend0_tie[k] = fin_tie;
            } else if self.pend1_us[k] == NEVER {
                self.pend1_h[k] = height;
                self.pend1_us[k] = fin_us;
                self.pend1_tie[k] = fin_tie;
            } else {
                self.fin_height[k] = self.fin_height[k].max(self.pend0_h[k]);
                self.shift_pending(k);
                self.pend1_h[k] = height;
                self.pend1_us[k] = fin_us;
                self.pend1_tie[k] = fin_tie;
            }
        }
        // (An empty slot is NEVER: it is not absorbed even when next_us is NEVER.)
        while self.pend0_us[k] != NEVER && self.pend0_us[k] <= next_us {
            self.fin_height[k] = self.fin_height[k].max(self.pend0_h[k]);
            self.shift_pending(k);
        }
        self.start[k] = next_us;
    }

    /// Drops the earlier finalization in flight of node `k`: the later one takes its slot.
    #[inline(always)]
    fn shift_pending(&mut self, k: usize) {
        self.pend0_h[k] = self.pend1_h[k];
        self.pend0_us[k] = self.pend1_us[k];
        self.pend0_tie[k] = self.pend1_tie[k];
        self.pend1_us[k] = NEVER;
    }

    /// Highest height node `k` holds certified strictly before `t` µs (certifications in flight
    /// included), for a finalization of this round at `t`.
    #[inline(always)]
    pub fn certified_before(&self, k: u32, t: u64) -> u32 {
        let k = k as usize;
        let mut c = self.cert_h[k];
        for i in 0..self.cw_len[k] as usize {
            if self.cw_us[k * WINDOW + i] < t {
                c = c.max(self.cw_h[k * WINDOW + i]);
            }
        }
        c
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// Any block (for tests without a tie with a finalization).
    pub(crate) const K: TieKey = TieKey {
        replica: 0,
        step: 0,
        block: 0,
    };

    /// U = 1 s, N0 = 300 ms, finality backoff on.
    pub(crate) fn params() -> Params {
        Params {
            unit_delay_us: 1_000_000,
            initial_notary_delay_us: 300_000,
            finality_backoff: 1,
            ..Default::default()
        }
    }

    /// At height 5 with height 3 finalized (g = 1) and the finalization of 4 arriving 200 ms
    /// into the round, a rank-1 block may be signed at start + 1.3 s (g = 0 by then); arriving
    /// at 2 s it no longer helps (1.8 s, g = 1, comes first). Rank 0 ignores the gap.
    #[test]
    fn eligibility_follows_the_gap_as_finalizations_arrive() {
        let p = params();
        let mut v = NodeViews::genesis();
        v.start[0] = 1_000_000;
        v.fin_height[0] = 3;
        v.pend0_h[0] = 4;
        v.pend0_us[0] = 1_200_000;
        assert_eq!(v.eligible_us(&p, 0, 1, 5, 0, K), 2_300_000);
        v.pend0_us[0] = 3_000_000;
        assert_eq!(v.eligible_us(&p, 0, 1, 5, 0, K), 2_800_000);
        assert_eq!(v.eligible_us(&p, 0, 0, 5, 0, K), 1_300_000);
        v.pend0_us[0] = NEVER;
        v.fin_height[0] = 1; // g = 3
        assert_eq!(v.eligible_us(&p, 0, 1, 5, 0, K), 1_000_000 + 300_000 + 3_375_000);
    }

    /// The tie rule's threshold is exact: a block precedes the need-th of m simultaneous
    /// shares for the first ceil(need 2^32 / (m + 1)) words.
    #[test]
    fn tie_positions_split_the_words_exactly() {
        for (need, m) in [(1, 1), (20, 22), (22, 22), (1, 128), (128, 128)] {
            let th = ((need as u64) << 32).div_ceil(m as u64 + 1);
            let t = tie::pack(need, m);
            assert!(tie::block_first(t, 0));
            assert!(tie::block_first(t, (th - 1) as u32));
            assert!(!tie::block_first(t, th as u32));
            assert!(!tie::block_first(t, u32::MAX));
        }
    }

    /// Finalizations in flight: a later one of a higher height replaces slower lower ones,
    /// arrivals by the next round start are absorbed, a third in flight absorbs the oldest.
    #[test]
    fn finalizations_in_flight_are_kept_in_arrival_order() {
        let mut v = NodeViews::genesis();
        v.advance(0, 1, 500, tie::ONE, 400); // in flight at the next start
        assert_eq!((v.fin_height[0], v.pend0_h[0], v.pend0_us[0]), (0, 1, 500));
        v.advance(0, 2, 450, tie::ONE, 300); // arrives before height 1's: height 1 no longer matters
        assert_eq!((v.pend0_h[0], v.pend0_us[0], v.pend1_us[0]), (2, 450, NEVER));
        v.advance(0, 3, 900, tie::ONE, 400);
        v.advance(0, 4, 1000, tie::ONE, 400);
        assert_eq!((v.fin_height[0], v.pend0_h[0], v.pend1_h[0]), (2, 3, 4));
        v.advance(0, 5, NEVER, tie::ONE, 950);
        assert_eq!((v.fin_height[0], v.pend0_h[0], v.pend0_us[0]), (3, 4, 1000));
        assert_eq!(v.start[0], 950);
    }

    #[test]
    fn backoff_cap_is_iterated_1_5_pow_40() {
        let mut b = Q16_ONE as u64;
        for _ in 0..40 {
            b = b * 3 / 2;
        }
        assert_eq!(b, BACKOFF_Q16[40]);
        assert_eq!(BACKOFF_Q16[40], 724_653_314_721);
    }

    #[test]
    fn notary_delay_saturates() {
        let p = Params {
            unit_delay_us: 1_000_000,
            initial_notary_delay_us: 300_000,
            finality_backoff: 1,
            ..Default::default()
        };
        assert_eq!(notary_delay_us(&p, 0, 40), 300_000);
        assert_eq!(notary_delay_us(&p, 2, 0), 2_300_000);
        assert_eq!(notary_delay_us(&p, 1, 1), 1_800_000);
        assert_eq!(notary_delay_us(&p, 42, 40), 300_000 + MAX_NOTARY_DELAY_US);
        assert_eq!(notary_delay_us(&p, 42, 1000), 300_000 + MAX_NOTARY_DELAY_US);
    }
}
