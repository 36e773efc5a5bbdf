//! The notary's certification backlog (rule 8 of [`crate::model`]; the deployed rules and the
//! model are stated once in [`crate::cert`]'s doc): the backlog delay B(gap), the hard limit
//! of 70 notarized - certified heights, and the earliest time a node may sign under both,
//! found by a sweep over the finalizations and certifications in flight (which may arrive at
//! the block's own µs: [`crate::views::tie`]). The WGSL twin is `shaders/backlog.wgsl`.

use crate::cert::WINDOW;
use crate::height::{kind, message_words};
use crate::params::Params;
use crate::views::{notary_delay_us, tie, NodeViews, TieKey, NEVER};

/// `BACKLOG_DELAY_MILLIS` of `notary.rs`, µs.
pub const BACKLOG_DELAY_US: u64 = 2_000_000;
/// `ACCEPTABLE_FINALIZATION_CERTIFICATION_GAP` of `notary.rs`, heights.
pub const ACCEPTABLE_FINALIZATION_CERTIFICATION_GAP: u32 = 1;
/// `ACCEPTABLE_NOTARIZATION_CERTIFICATION_GAP` of `consensus.rs`, heights.
pub const ACCEPTABLE_NOTARIZATION_CERTIFICATION_GAP: u32 = 70;

/// The notary's backlog delay at certification gap `gap` (finalized - certified height), µs:
/// 2,000 ms x gap when gap > 1, else 0.
#[inline(always)]
pub fn backlog_us(gap: u32) -> u64 {
    if gap > ACCEPTABLE_FINALIZATION_CERTIFICATION_GAP {
        BACKLOG_DELAY_US * gap as u64
    } else {
        0
    }
}

impl NodeViews {
    /// Node k's finalized height once every finalization in flight has arrived.
    #[inline(always)]
    fn final_fin_height(&self, k: usize) -> u32 {
        let mut f = self.fin_height[k];
        if self.pend0_us[k] != NEVER {
            f = f.max(self.pend0_h[k]);
        }
        if self.pend1_us[k] != NEVER {
            f = f.max(self.pend1_h[k]);
        }
        f
    }

    /// True when neither the backlog delay nor the hard limit can apply to node k in round
    /// `height`, whatever arrives: its certified height already keeps the largest finalized
    /// height it will reach within 1, and the notarized height within 70.
    #[inline(always)]
    pub fn backlog_free(&self, k: u32, height: u32) -> bool {
        let k = k as usize;
        let c = self.cert_h[k];
        self.final_fin_height(k).saturating_sub(c) <= ACCEPTABLE_FINALIZATION_CERTIFICATION_GAP
            && (height - 1).saturating_sub(c) < ACCEPTABLE_NOTARIZATION_CERTIFICATION_GAP
    }

    /// Earliest time from `arrival_us` on (the block's arrival) at which node `k` may sign a
    /// rank-`rank` block at `height` with the backlog rules, µs (`NEVER` if the hard limit
    /// holds for good): the events that change its finalized height F (finalizations in
    /// flight) or certified height C (certifications in flight) cut time into intervals of
    /// constant F and C; the answer is the first interval [a, b) with max(a, `arrival_us`,
    /// T + N(rank, h - 1 - F) + B(F - C)) < b (the hard limit makes an interval ineligible).
    /// The notary re-checks the rule whenever its pool changes (`notary.rs`), so a
    /// finalization arriving before the block can raise the backlog after the notary delay
    /// had passed: the condition is not monotone in time, and the answer is not
    /// max(`arrival_us`, the first time it held). When a finalization completes at the
    /// block's own µs and the rule held just before, the block comes first with the
    /// probability of [`tie::block_first`] (the fine engine's random order of simultaneous
    /// deliveries), read from word 0 of the tie word of `key` (rule 8 of [`crate::model`]); a
    /// certification at that µs cannot make the node wait, so the block counts first.
    pub fn eligible_with_backlog_us(
        &self,
        p: &Params,
        k: u32,
        rank: u32,
        height: u32,
        arrival_us: u64,
        key: TieKey,
    ) -> u64 {
        let k = k as usize;
        let t0 = self.start[k];
        let last = height - 1;
        let mut f = self.fin_height[k];
        let mut c = self.cert_h[k];
        let mut a = t0;
        let mut next_pend = 0u32; // 0: pend0, 1: pend1, 2: none left
        let mut next_cert = 0usize;
        loop {
            let tp = match next_pend {
                0 => self.pend0_us[k],
                1 => self.pend1_us[k],
                _ => NEVER,
            };
            let tc = if next_cert < self.cw_len[k] as usize {
                self.cw_us[k * WINDOW + next_cert]
            } else {
                NEVER
            };
            let b = tp.min(tc);
            if last.saturating_sub(c) < ACCEPTABLE_NOTARIZATION_CERTIFICATION_GAP {
                let need = t0 + notary_delay_us(p, rank, last - f.min(last)) + backlog_us(f.saturating_sub(c));
                let e = a.max(need).max(arrival_us);
                if e < b || (e == b && e == arrival_us && a < b && (tp != b || self.block_first(p, k, next_pend, key)))
                {
                    return e;
                }
            }
            if b == NEVER {
                return NEVER;
            }
            a = a.max(b);
            if tp <= tc {
                f = f.max(if next_pend == 0 {
                    self.pend0_h[k]
                } else {
                    self.pend1_h[k]
                });
                next_pend += 1;
            } else {
                c = c.max(self.cw_h[k * WINDOW + next_cert]);
                next_cert += 1;
            }
        }
    }

    /// Whether the block of `key` reaching node `k` at the µs of its finalization in flight
    /// `slot` (0 or 1) is delivered before it ([`tie::block_first`], word 0 of message kind
    /// `TIE`, block `key.block`, receiver `k`, group 0 of the block's round step).
    #[inline(always)]
    fn block_first(&self, p: &Params, k: usize, slot: u32, key: TieKey) -> bool {
        let t = if slot == 0 {
            self.pend0_tie[k]
        } else {
            self.pend1_tie[k]
        };
        let w = message_words(p, key.replica, key.step, kind::TIE, key.block, k as u32, 0)[0];
        tie::block_first(t, w)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::views::tests::K;

    /// The views' fixture with 4 nodes, the backlog rule on and a certification quorum of 3.
    fn params() -> Params {
        Params {
            nodes: 4,
            certification_backlog: 1,
            cert_quorum: 3,
            ..crate::views::tests::params()
        }
    }

    /// notary.rs: nothing up to a gap of 1, then the whole gap times 2 s.
    #[test]
    fn backlog_is_the_whole_gap_beyond_one() {
        assert_eq!([0, 1, 2, 3].map(backlog_us), [0, 0, 4_000_000, 6_000_000]);
    }

    /// Round 5 starts at 1 s with heights 4 finalized and 2 certified (gap 2): rank 0 waits
    /// N0 + 4 s, unless the certification of 3 arrives first (gap 1: N0 or its arrival).
    #[test]
    fn the_backlog_delay_ends_when_a_certification_arrives() {
        let p = params();
        let mut v = NodeViews::genesis();
        v.start[0] = 1_000_000;
        v.fin_height[0] = 4;
        v.cert_h[0] = 2;
        assert!(!v.backlog_free(0, 5));
        assert_eq!(v.eligible_us(&p, 0, 0, 5, 0, K), 1_000_000 + 300_000 + 4_000_000);
        v.certified(0, 3, 2_000_000);
        assert_eq!(v.eligible_us(&p, 0, 0, 5, 0, K), 2_000_000);
        v.cw_us[0] = 1_100_000;
        assert_eq!(v.eligible_us(&p, 0, 0, 5, 0, K), 1_300_000);
        // Without the rule the certified height does not matter.
        let off = Params {
            certification_backlog: 0,
            ..p
        };
        v.cw_len[0] = 0;
        assert_eq!(v.eligible_us(&off, 0, 0, 5, 0, K), 1_300_000);
    }

    /// A finalization arriving in the round raises the gap: the delay grows with it.
    #[test]
    fn a_finalization_in_flight_can_lengthen_the_wait() {
        let p = params();
        // Gap 2 from 1.2 s: rank 0 would be due at 1.3 s, after the gap became 2, so it waits
        // N0 + 4 s.
        let mut v = gap_one_until(1_200_000);
        assert_eq!(v.eligible_us(&p, 0, 0, 5, 0, K), 1_000_000 + 4_300_000);
        v.pend0_us[0] = 1_400_000; // arrives after the rank-0 notary delay passed
        assert_eq!(v.eligible_us(&p, 0, 0, 5, 0, K), 1_300_000);
    }

    /// Node 0 in round 5 from 1 s, holding 3 finalized and 2 certified (gap 1), with the
    /// finalization of 4 arriving at `fin4_us` (gap 2 from then on).
    fn gap_one_until(fin4_us: u64) -> NodeViews {
        let mut v = NodeViews::genesis();
        v.start[0] = 1_000_000;
        v.fin_height[0] = 3;
        v.cert_h[0] = 2;
        v.pend0_h[0] = 4;
        v.pend0_us[0] = fin4_us;
        v
    }

    /// The rule must hold when the block is there: a finalization arriving after the notary
    /// delay passed but before the block raises the backlog again (`notary.rs` re-checks it
    /// on every call), so the node waits for a certification.
    #[test]
    fn the_backlog_is_read_when_the_block_arrives() {
        let p = params();
        let mut v = gap_one_until(1_400_000); // gap 2 from 1.4 s
        assert_eq!(v.eligible_us(&p, 0, 0, 5, 1_350_000, K), 1_350_000);
        assert_eq!(v.eligible_us(&p, 0, 0, 5, 1_500_000, K), 1_000_000 + 4_300_000);
        v.certified(0, 4, 2_000_000);
        assert_eq!(v.eligible_us(&p, 0, 0, 5, 1_500_000, K), 2_000_000);
    }

    /// A block that reaches the node at the µs its finalization completes, as the 20th of 22
    /// simultaneous shares, comes first (signed at once) with probability 20/23, as in the
    /// fine engine's random order of simultaneous deliveries; otherwise the node waits for
    /// the certification. 23,000 blocks (keys), within 4.5 standard errors (51 blocks).
    #[test]
    fn a_block_at_its_finalizations_us_comes_first_by_its_position() {
        let p = params();
        let mut v = gap_one_until(1_400_000);
        v.pend0_tie[0] = tie::pack(20, 22);
        v.certified(0, 4, 2_000_000);
        let n = 23_000u32;
        let mut first = 0u32;
        for r in 0..n {
            let key = TieKey {
                replica: r,
                step: 7,
                block: 2,
            };
            match v.eligible_us(&p, 0, 0, 5, 1_400_000, key) {
                1_400_000 => first += 1,
                t => assert_eq!(t, 2_000_000),
            }
        }
        let sd = (n as f64 * 20.0 / 23.0 * 3.0 / 23.0).sqrt();
        assert!((first as f64 - 20_000.0).abs() < 4.5 * sd, "{first} of {n} first");
        // A certification at that µs instead cannot make it wait: the block counts first.
        v.pend0_us[0] = NEVER;
        v.fin_height[0] = 4;
        v.cert_h[0] = 1;
        v.certified(0, 3, 1_400_000);
        assert_eq!(v.eligible_us(&p, 0, 0, 5, 1_400_000, K), 1_400_000);
    }

    /// Notarized - certified reaching 70 stops signing until a certification arrives.
    #[test]
    fn the_hard_limit_stops_the_notary() {
        let p = params();
        let mut v = NodeViews::genesis();
        v.fin_height[0] = 71;
        v.cert_h[0] = 1;
        assert_eq!(v.eligible_us(&p, 0, 0, 72, 0, K), NEVER);
        v.certified(0, 71, 9_000_000);
        assert_eq!(v.eligible_us(&p, 0, 0, 72, 0, K), 9_000_000);
    }
}
