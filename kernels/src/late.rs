//! Late certification shares (rule 8 of [`crate::model`]): the certification of a height that
//! some honest active node did not finalize directly.
//!
//! # The rule (dfinity/ic, and the fine engine)
//! A node executes every finalized height in order, those it holds finalized only as the
//! ancestor of a later finalized block included (`rs/consensus/src/consensus/finalizer.rs`
//! delivers every block from the last delivered height up to the finalized tip to the message
//! routing; the state manager then certifies each height's state), so it sends its
//! certification share of such a height h when it next finalizes a height directly, and every
//! node certifies h once n - f shares of h have arrived, late ones counted.
//!
//! # The model
//! When some honest active node has not executed height h by the end of h's step, h's
//! certification is *provisional*: the nodes that executed it certify it from the shares sent
//! so far, as for any height, and the share times are kept in a [`LateCert`] record. At the
//! end of the first later step by which every honest active node has executed h (usually the
//! next height's: the nodes that finalize it directly execute h first), [`resolve`] certifies
//! h again at every node that executed it, from all the shares sent by then and the same
//! delay words (so never later than the provisional time); only then is the observer's
//! certification of h counted. With every honest active node finalizing every height
//! directly no record is ever kept and nothing changes.
//!
//! Approximations (the fine engine follows the rule exactly): at most [`LATE`] records are
//! kept; when a fifth is needed the oldest is resolved with the shares sent so far (five
//! consecutive heights finalized only as ancestors at some node); a node holds h certified
//! provisionally, not from the late shares, until the record is resolved (its certified
//! height can lag there, which the backlog rule reads only when more than one height is
//! finalized and not certified); records still kept when the run ends or stalls for good
//! are resolved with the shares sent by then. Memory: 7 words + 2 per node per record, kept
//! across heights.

use crate::height::Height;
use crate::params::MAX_NODES;
use crate::sets::{contains, set, NodeSet, EMPTY};
use crate::views::{NodeViews, NEVER};

/// Heights whose certification waits for late shares kept at once (see the approximations).
pub const LATE: usize = 4;

/// A height whose certification waits for late shares.
#[derive(Clone, Copy)]
pub struct LateCert {
    /// The height (from 1).
    pub height: u32,
    /// Its round step (the counter of its certification-share words).
    pub step: u32,
    /// Its observer.
    pub observer: u32,
    /// The observer's round start of the height, µs.
    pub obs_start_us: u64,
    /// The observer's direct finalization of the height, µs (`NEVER`: none).
    pub obs_fin_us: u64,
    /// When each node sent its certification share of the height, µs (`NEVER`: not yet).
    pub share_us: [u64; MAX_NODES as usize],
}

impl LateCert {
    /// An empty record.
    pub const NONE: LateCert = LateCert {
        height: 0,
        step: 0,
        observer: 0,
        obs_start_us: 0,
        obs_fin_us: NEVER,
        share_us: [NEVER; MAX_NODES as usize],
    };

    /// The nodes that have sent their share of the record's height.
    pub fn certifiers(&self, nodes: u32) -> NodeSet {
        let mut s = EMPTY;
        for k in 0..nodes {
            set(&mut s, k, self.share_us[k as usize] != NEVER);
        }
        s
    }
}

/// The records kept, in height order (the first `len`); heights increase.
pub struct LateCerts {
    /// Records; the first `len` are kept.
    pub rec: [LateCert; LATE],
    /// Records kept.
    pub len: usize,
}

impl LateCerts {
    /// None kept.
    pub const EMPTY: LateCerts = LateCerts {
        rec: [LateCert::NONE; LATE],
        len: 0,
    };

    /// Node `k` executed `height` at `ex_us` µs: its share time, if the height is kept.
    #[inline(always)]
    pub fn executed(&mut self, k: u32, height: u32, ex_us: u64) {
        for r in self.rec.iter_mut().take(self.len) {
            if r.height == height {
                r.share_us[k as usize] = ex_us;
            }
        }
    }

    /// True when the oldest record waits for no share any more: every node of `honest_active`
    /// has executed its height (nodes down now send none until they rejoin, and a rejoining
    /// node skips the heights below its catch-up package).
    pub fn oldest_complete(&self, views: &NodeViews, honest_active: &NodeSet, nodes: u32) -> bool {
        let h = self.rec[0].height;
        (0..nodes).all(|k| !contains(honest_active, k) || views.ex_h[k as usize] >= h)
    }

    /// Drops the oldest record.
    pub fn pop_oldest(&mut self) {
        for i in 1..self.len {
            self.rec[i - 1] = self.rec[i];
        }
        self.len -= 1;
    }

    /// Keeps `r` (a height above every kept one; there must be room).
    pub fn push(&mut self, r: LateCert) {
        self.rec[self.len] = r;
        self.len += 1;
    }
}

/// Certifies the record's height again from every share sent so far: each node that sent one
/// holds it certified at max(its own share, the (n - f)-th arrival), the delays of the
/// record's step; those in `receivers` take that into their views (heights in order: call it
/// before the current height's [`NodeViews::certified`]). Returns the observer's
/// certification time, µs (`NEVER`: none). `h` only lends the parameters and the word counter.
pub fn resolve<const B: usize>(h: &Height<B>, late: &LateCert, views: &mut NodeViews, receivers: &NodeSet) -> u64 {
    let certifiers = late.certifiers(h.p.nodes);
    let mut cert_o = NEVER;
    for k in 0..h.p.nodes {
        if !contains(&certifiers, k) {
            continue;
        }
        let c = h.certified_us(late.step, &late.share_us, &certifiers, k);
        if contains(receivers, k) {
            views.certified(k, late.height, c);
        }
        if k == late.observer {
            cert_o = c;
        }
    }
    cert_o
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::params::Params;
    use crate::proofs::Proofs;

    /// Four nodes, n - f = 3, a delay table of zeros (every delay 0): with two shares the height is
    /// not certified; a third, late share certifies it at that share's time at every node
    /// that sent one, and the views take it in.
    #[test]
    fn a_late_share_completes_the_certification() {
        let p = Params {
            nodes: 4,
            cert_quorum: 3,
            ..Default::default()
        };
        let zeros = [0u32; crate::table::TABLE_STRIDE as usize];
        let mut proofs = Proofs::new();
        let h = Height::<5>::new(&p, &zeros, 0, 7, 8, EMPTY, EMPTY, &mut proofs);
        let mut late = LateCert {
            height: 7,
            step: 6,
            observer: 1,
            obs_start_us: 100,
            obs_fin_us: 200,
            ..LateCert::NONE
        };
        late.share_us[0] = 300;
        late.share_us[1] = 350;
        let mut views = NodeViews::genesis();
        let all = [0b1111, 0, 0, 0];
        assert_eq!(resolve(&h, &late, &mut views, &all), NEVER);
        late.share_us[3] = 900;
        assert_eq!(late.certifiers(4), [0b1011, 0, 0, 0]);
        assert_eq!(resolve(&h, &late, &mut views, &all), 900);
        // Node 0 holds 7 certified at 900 (its window), node 2 sent nothing: nothing held.
        assert_eq!((views.cw_len[0], views.cw_h[0], views.cw_us[0]), (1, 7, 900));
        assert_eq!(views.cw_len[2], 0);
    }
}
