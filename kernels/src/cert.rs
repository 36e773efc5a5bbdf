//! Execution and state certification, coupled back into consensus (rule 8 of [`crate::model`];
//! rule 2 of the deployed-rules issue; results/real-ic/DEPLOYED-RULES.md section 2).
//!
//! # The deployed rules (dfinity/ic)
//! - A node executes finalized blocks in height order, then signs a certification share of
//!   the resulting state; certifications are threshold signatures of the high-threshold
//!   committee, n - f of the n nodes (`rs/types/types/src/consensus/certification.rs`,
//!   `Committee::HighThreshold`; `rs/types/types/src/crypto/threshold_sig/ni_dkg.rs`,
//!   `committee_size - f`). A node's certified height is the highest height whose state it
//!   computed and holds a full certification for (its own state manager).
//! - The notary adds `BACKLOG_DELAY_MILLIS` (2,000 ms) x gap to every notary delay, rank 0
//!   included, while gap = finalized - certified height exceeds
//!   `ACCEPTABLE_FINALIZATION_CERTIFICATION_GAP` (1), recomputed on every call
//!   (`rs/consensus/src/consensus/notary.rs`), and signs nothing while notarized - certified
//!   height reaches `ACCEPTABLE_NOTARIZATION_CERTIFICATION_GAP` (70,
//!   `rs/consensus/src/consensus.rs`). Not modelled: the exception while the subnet halts for
//!   an upgrade, and the CUP gap limit (notarized - pending catch-up package height >= 130).
//!   A CUP at summary height H is made once H is finalized and certified and its state
//!   manifest is computed; with no manifest time the pending CUP height is above the
//!   certified height or within 70 of the notarized one, so the 70-height certification limit
//!   always binds first and leaving the CUP limit out is exact under that assumption.
//!
//! # The model (both engines; `[execution] time`, `[protocol] certification_backlog`)
//! - Execution: node k executes height h at ex_k(h) = max(ex_k(h - 1), F_k(h)) + X_h, F_k(h)
//!   when it holds h finalized, X_h one draw per height from the execution-time table, the
//!   same at every node (execution is deterministic): word 0 of Philox counter (replica, h, 0,
//!   `EXECUTION`). Genesis is executed and certified at 0.
//! - Certification: at ex_k(h) node k sends its share of h to every node (kind
//!   `CERT_SHARE`); k holds h certified at cert_k(h) = max(ex_k(h), the (n - f)-th arrival of
//!   shares of h at k, its own at delay 0). Full certifications are not relayed (both engines).
//!   C_k(t) = the highest height k holds certified at t.
//! - Notary (with `certification_backlog = 1`): node k may sign a rank-r block at height h
//!   from the first t >= T_k with t >= T_k + N(r, g(t)) + B(F_k(t) - C_k(t)), B(gap) = 2,000
//!   ms x gap if gap > 1 else 0, F_k(t) its finalized height (the views of [`crate::views`]),
//!   and never while (h - 1) - C_k(t) >= 70. Both heights only grow during a round; the
//!   earliest such t is found by a sweep over the arrivals that change them
//!   ([`NodeViews::eligible_with_backlog_us`], in [`crate::backlog`]).
//!
//! # Approximations of the coarse model (the fine engine follows the rules exactly)
//! - Heights are resolved one at a time: a node that holds h finalized only as an ancestor
//!   (no direct finalization of h) executes h when it next finalizes a height directly; its
//!   late share of h is counted when h is certified again from the late shares
//!   ([`crate::late`], with that module's approximations).
//! - A node keeps at most [`WINDOW`] certifications in flight (later than its round start);
//!   when a fifth arrives, the latest kept one is taken to arrive with it (its height is
//!   certified later than in the exact rule: the backlog is overestimated, only while more
//!   than four heights are finalized and not yet certified, i.e. execution times above about
//!   6 s per block).
//! - A recovering node (dynamic failures) rejoins with the previous height executed and
//!   certified (state sync from the catch-up package).

use crate::height::{kind, Height};
use crate::late::LateCerts;
use crate::params::{Params, MAX_NODES};
use crate::philox::{philox4x32_10, stream};
use crate::sets::{contains, count, group_bits, NodeSet};
use crate::table;
use crate::views::{NodeViews, NEVER};

/// Certifications a node keeps in flight (see the approximations above).
pub const WINDOW: usize = 4;
/// Execution time of height `height`, µs (0 without an execution table).
#[inline(always)]
pub fn execution_us(p: &Params, tables: &[u32], replica: u32, height: u32) -> u64 {
    if p.execution == 0 {
        return 0;
    }
    let w = philox4x32_10([replica, height, 0, stream::EXECUTION], [p.seed_lo, p.seed_hi]);
    table::sample(tables, p.execution_table, w[0]) as u64
}

impl NodeViews {
    /// Node `k` holds `height` finalized at `fin_us` (`NEVER`: not directly): it executes every
    /// height up to `height` not yet executed, in order, `height` itself in `x_us` µs (the
    /// caller's one draw of [`execution_us`]). Returns when it finished executing `height`
    /// (when it sends its certification share), or `NEVER`. When one of the heights below is
    /// `late`'s, its share time is recorded there.
    #[allow(clippy::too_many_arguments)]
    pub fn execute(
        &mut self,
        p: &Params,
        tables: &[u32],
        replica: u32,
        k: u32,
        height: u32,
        fin_us: u64,
        x_us: u64,
        late: &mut LateCerts,
    ) -> u64 {
        let k = k as usize;
        if fin_us == NEVER || self.ex_h[k] >= height {
            return NEVER;
        }
        while self.ex_h[k] < height {
            let j = self.ex_h[k] + 1;
            let x = if j == height {
                x_us
            } else {
                execution_us(p, tables, replica, j)
            };
            self.ex_us[k] = self.ex_us[k].max(fin_us) + x;
            self.ex_h[k] = j;
            late.executed(k as u32, j, self.ex_us[k]);
        }
        self.ex_us[k]
    }

    /// Node `k` holds `height` certified at `cert_us` (`NEVER`: not in this model): absorbs the
    /// certifications in flight that arrived by its round start, then keeps this one in flight
    /// unless a height at least as high arrives no later. The window stays a staircase (times
    /// and heights increasing): entries this one makes useless (no higher, no earlier) go.
    /// Heights usually come in order (each appended); a late certification ([`crate::late`])
    /// may come below kept ones. When the window is full, an appended one takes the latest
    /// kept entry with it, and one inside is taken to arrive with the next kept entry (a
    /// higher height, later): either way a height is certified later than in the exact rule.
    pub fn certified(&mut self, k: u32, height: u32, cert_us: u64) {
        let k = k as usize;
        let base = k * WINDOW;
        let start = self.start[k];
        // Absorb arrivals up to the round start (the window is in time order).
        let mut skip = 0usize;
        let len = self.cw_len[k] as usize;
        while skip < len && self.cw_us[base + skip] <= start {
            self.cert_h[k] = self.cert_h[k].max(self.cw_h[base + skip]);
            skip += 1;
        }
        for i in skip..len {
            self.cw_h[base + i - skip] = self.cw_h[base + i];
            self.cw_us[base + i - skip] = self.cw_us[base + i];
        }
        let mut len = len - skip;
        self.cw_len[k] = len as u32;
        if cert_us == NEVER || height <= self.cert_h[k] {
            return;
        }
        if len == 0 || height > self.cw_h[base + len - 1] {
            // Above every kept height (the usual case): drop the later ones, append.
            if cert_us <= start {
                self.cert_h[k] = height;
                self.cw_len[k] = 0;
                return;
            }
            while len > 0 && self.cw_us[base + len - 1] >= cert_us {
                len -= 1;
            }
            if len == WINDOW {
                len -= 1; // the latest kept certification is taken to arrive with this one
            }
            self.cw_h[base + len] = height;
            self.cw_us[base + len] = cert_us;
            self.cw_len[k] = len as u32 + 1;
            return;
        }
        // Below a kept height (a late certification).
        for i in 0..len {
            if self.cw_h[base + i] >= height && self.cw_us[base + i] <= cert_us {
                return;
            }
        }
        // Drop the entries this one makes useless; `pos` = where it goes in time order.
        let mut kept = 0usize;
        let mut pos = 0usize;
        for i in 0..len {
            let (h, t) = (self.cw_h[base + i], self.cw_us[base + i]);
            if h <= height && (t >= cert_us || cert_us <= start) {
                continue;
            }
            self.cw_h[base + kept] = h;
            self.cw_us[base + kept] = t;
            kept += 1;
            if t < cert_us {
                pos = kept;
            }
        }
        if cert_us <= start {
            self.cert_h[k] = height;
            self.cw_len[k] = kept as u32;
            return;
        }
        if kept == WINDOW {
            self.cw_len[k] = kept as u32;
            return; // arrives with the next kept entry (a higher height, later)
        }
        let mut i = kept;
        while i > pos {
            self.cw_h[base + i] = self.cw_h[base + i - 1];
            self.cw_us[base + i] = self.cw_us[base + i - 1];
            i -= 1;
        }
        self.cw_h[base + pos] = height;
        self.cw_us[base + pos] = cert_us;
        self.cw_len[k] = kept as u32 + 1;
    }
}

impl<'a, const B: usize> Height<'a, B> {
    /// When node `k` holds the height of round step `step` certified, µs: max(its own share
    /// time, the (n - f)-th arrival of the shares sent at `share_us[j]` by the nodes
    /// `certifiers`), or `NEVER` when fewer than n - f nodes certify. `k` must be one of
    /// `certifiers`. The delays are the words of `step` (this height's, or an earlier one's
    /// for [`crate::late`]).
    pub fn certified_us(&self, step: u32, share_us: &[u64; MAX_NODES as usize], certifiers: &NodeSet, k: u32) -> u64 {
        let m = count(certifiers);
        if m < self.p.cert_quorum {
            return NEVER;
        }
        debug_assert!(contains(certifiers, k));
        // The receiver's own share takes no delay: no words for a group of itself alone.
        let mut mask = 0u32;
        for g in 0..self.p.nodes.div_ceil(4) {
            let bits = group_bits(certifiers, g);
            if bits != 0 && !(bits == 1 << (k & 3) && k >> 2 == g) {
                mask |= 1 << g;
            }
        }
        let mut words = [[0u32; 4]; 32];
        self.group_words_at(step, kind::CERT_SHARE, 0, k, mask, &mut words);
        self.kth_arrival(m, self.p.cert_quorum, &words, certifiers, k, share_us)
            .max(share_us[k as usize])
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::late::LateCert;

    /// The window keeps heights and times increasing, absorbs arrivals by the round start and
    /// merges the latest entry when full.
    #[test]
    fn certifications_in_flight_stay_ordered() {
        let mut v = NodeViews::genesis();
        v.start[0] = 100;
        v.certified(0, 1, 50); // before the round start: absorbed at once
        assert_eq!((v.cert_h[0], v.cw_len[0]), (1, 0));
        v.certified(0, 2, 500);
        v.certified(0, 3, 400); // earlier and higher: height 2 no longer matters
        assert_eq!((v.cw_len[0], v.cw_h[0], v.cw_us[0]), (1, 3, 400));
        for (h, t) in [(4, 600), (5, 700), (6, 800)] {
            v.certified(0, h, t);
        }
        assert_eq!(v.cw_len[0] as usize, WINDOW);
        v.certified(0, 7, 900); // full: 6 is taken to arrive with 7
        assert_eq!(&v.cw_h[..4], &[3, 4, 5, 7]);
        assert_eq!(&v.cw_us[..4], &[400, 600, 700, 900]);
        v.start[0] = 650;
        v.certified(0, 8, NEVER); // absorbs 3 and 4
        assert_eq!((v.cert_h[0], v.cw_len[0], v.cw_h[0]), (4, 2, 5));
    }

    /// A late certification ([`crate::late`]) below kept heights: kept in time order when it
    /// arrives first, dropped when a higher height arrives no later.
    #[test]
    fn a_late_certification_goes_below_kept_heights() {
        let mut v = NodeViews::genesis();
        v.start[0] = 100;
        v.certified(0, 5, 800);
        v.certified(0, 4, 900); // 5 arrives first: 4 adds nothing
        assert_eq!((v.cw_len[0], v.cw_h[0]), (1, 5));
        v.certified(0, 4, 600);
        v.certified(0, 3, 700); // 4 arrives first
        assert_eq!(
            (v.cw_len[0], &v.cw_h[..2], &v.cw_us[..2]),
            (2, &[4, 5][..], &[600, 800][..])
        );
        v.certified(0, 2, 50); // before the round start: held at once, the window kept
        assert_eq!((v.cert_h[0], v.cw_len[0]), (2, 2));
        v.certified(0, 5, 650); // an earlier arrival of 5 replaces the later one
        assert_eq!((&v.cw_h[..2], &v.cw_us[..2]), (&[4, 5][..], &[600, 650][..]));
        v.certified(0, 7, 1_000);
        v.certified(0, 8, 1_100);
        v.certified(0, 6, 700); // full, inside: taken to arrive with 7
        assert_eq!((v.cw_len[0], &v.cw_h[..4]), (4, &[4, 5, 7, 8][..]));
    }

    /// Execution is sequential: a block finalized while the previous one still executes waits
    /// for it; skipped heights (finalized only as ancestors) execute first.
    #[test]
    fn execution_is_in_height_order() {
        let p = Params::default(); // no execution table: X = 0 except the one given
        let mut v = NodeViews::genesis();
        let mut late = LateCerts::EMPTY;
        assert_eq!(v.execute(&p, &[], 0, 0, 1, 1_000, 2_000, &mut late), 3_000);
        assert_eq!(v.execute(&p, &[], 0, 0, 2, 2_500, 2_000, &mut late), 5_000);
        assert_eq!(v.execute(&p, &[], 0, 0, 3, NEVER, 2_000, &mut late), NEVER);
        // Heights 3 (X = 0 from the table-less params) and 4; 3's share time is recorded.
        late.push(LateCert {
            height: 3,
            ..LateCert::NONE
        });
        assert_eq!(v.execute(&p, &[], 0, 0, 4, 4_000, 100, &mut late), 5_100);
        assert_eq!(late.rec[0].share_us[0], 5_000);
        assert_eq!(v.ex_h[0], 4);
        v.rejoin(0, 9, 7_000);
        assert_eq!((v.ex_h[0], v.ex_us[0], v.cert_h[0]), (8, 7_000, 8));
    }
}
