//! Finalizer: a committee member signs a finalization share on block b at height h iff b is
//! the only block notarized at h in its view and it notarization-signed no other block at h.
//! A quorum of finalization shares finalizes b and its ancestors.

use super::{Emit, Msg, Sim};
use crate::fine::agents::{BlockId, Role, SignerSet};
use crate::fine::artifacts::ShareKind;
use std::rc::Rc;

impl Sim {
    /// Node i signs its finalization share(s) for height h at `t` (µs), if any.
    pub(super) fn maybe_sign_finalization(&mut self, i: u32, h: u64, t: u64) {
        let out = self.finalization_shares(i, h);
        self.apply(i, t, out);
    }

    /// Node i's finalization shares for height h: on the one notarized block if it signed no
    /// other block and no finalization share at h yet; a notarize-all node signs every
    /// notarized block. None above its finalized height or outside the committee.
    fn finalization_shares(&mut self, i: u32, h: u64) -> Vec<Emit> {
        let n = &self.nodes[i as usize];
        if !n.role.signs() || !self.in_committee(h, i) || h <= n.finalized_height {
            return Vec::new();
        }
        let Some(pool) = n.pools.get(&h) else {
            return Vec::new();
        };
        let targets: Vec<BlockId> = if n.role == Role::NotarizeAll {
            pool.notarized
                .iter()
                .copied()
                .filter(|b| !pool.blocks[b].final_shares.contains(i))
                .collect()
        } else {
            let signed_other = pool
                .blocks
                .iter()
                .any(|(&b, s)| s.signed_notar && Some(&b) != pool.notarized.first());
            if pool.final_signed || pool.notarized.len() != 1 || signed_other {
                return Vec::new();
            }
            pool.notarized.clone()
        };
        let mut out = Vec::with_capacity(targets.len());
        for b in targets {
            self.nodes[i as usize].pool(h).final_signed = true;
            let signers = self.share_signers(h);
            let digest = self.blocks[b as usize].digest;
            self.art.prepare(ShareKind::Finalization, b as u64, &digest, &signers);
            out.push(Emit::Signed(Msg::Share(ShareKind::Finalization, b, i)));
        }
        out
    }

    /// Node i holds a finalization `signers` of block b at `t` (µs): it relays it and
    /// finalizes b's chain.
    pub(super) fn on_finalized(&mut self, i: u32, b: BlockId, signers: Rc<SignerSet>, t: u64) {
        let h = self.blocks[b as usize].height;
        {
            let st = self.nodes[i as usize].pool(h).blocks.entry(b).or_default();
            if st.finalized {
                return;
            }
            st.finalized = true;
            st.finalization = Some(signers.clone());
        }
        self.count_invalid_shares(ShareKind::Finalization, b, &signers);
        self.monitor.direct_finalization(i, h, t);
        self.trace_line(t, i, h, "finalized", self.blocks[b as usize].rank);
        self.relay(i, t, ShareKind::Finalization, b, signers);
        self.finalize_chain(i, b, t);
    }

    /// Finalizes `b` and its ancestors in node i's view at `t` (µs); records them in the
    /// safety monitor (honest nodes) and drops the node's pools below b's height.
    pub(super) fn finalize_chain(&mut self, i: u32, b: BlockId, t: u64) {
        let old = self.nodes[i as usize].finalized_height;
        let h = self.blocks[b as usize].height;
        if h <= old {
            return;
        }
        let honest = self.nodes[i as usize].role == Role::Honest;
        let mut cur = b;
        while self.blocks[cur as usize].height > old {
            let blk = &self.blocks[cur as usize];
            let (height, parent) = (blk.height, blk.parent);
            if honest && self.monitor.finalize(height, cur) {
                self.first_finalization(cur, t);
            }
            cur = parent;
        }
        if honest {
            // The chain must pass through the block this node finalized before.
            self.monitor.finalize(self.blocks[cur as usize].height, cur);
        }
        let n = &mut self.nodes[i as usize];
        n.finalized_height = h;
        n.pools = n.pools.split_off(&h);
        let cur_h = n.height;
        self.schedule_executions(i, t);
        // g shrank: a pending notary decision may be due earlier (the certification backlog
        // may have grown: later).
        self.try_notarize(i, cur_h, t);
    }

    /// Block b is finalized for the first time (by any honest node) at `t` (µs): its requests
    /// are done, their latency is recorded.
    fn first_finalization(&mut self, b: BlockId, t: u64) {
        for k in 0..self.blocks[b as usize].payload.len() {
            let r = self.blocks[b as usize].payload[k] as usize;
            if self.requests[r].finalized_us.is_none() {
                self.requests[r].finalized_us = Some(t);
                let lat = t - self.requests[r].submitted_us;
                self.monitor.requests.record(lat);
            }
        }
        let reqs = &self.requests;
        self.pending.retain(|&r| reqs[r as usize].finalized_us.is_none());
    }
}

#[cfg(test)]
mod tests {
    use super::super::fixture::{fixture, HONEST};
    use super::super::{Emit, Msg};
    use crate::fine::artifacts::ShareKind;

    /// One notarized block and no other signed: one share. Two notarized: none.
    #[test]
    fn finalizer_signs_only_the_single_notarized_block() {
        let mut sim = fixture(HONEST, "");
        let (b0, b1) = (sim.block(1, 0), sim.block(1, 1));
        let i = 3;
        sim.nodes[i as usize].pool(1).notarized.push(b0);
        sim.nodes[i as usize].pool(1).blocks.entry(b0).or_default().notarized = true;
        match sim.finalization_shares(i, 1).as_slice() {
            [Emit::Signed(Msg::Share(ShareKind::Finalization, b, s))] => assert_eq!((*b, *s), (b0, i)),
            other => panic!("expected one finalization share, got {other:?}"),
        }
        assert!(sim.finalization_shares(i, 1).is_empty(), "signs once per height");
        let j = 2;
        for b in [b0, b1] {
            sim.nodes[j as usize].pool(1).notarized.push(b);
        }
        assert!(sim.finalization_shares(j, 1).is_empty());
    }

    /// A node that notarization-signed another block at h does not finalize.
    #[test]
    fn finalizer_skips_after_signing_another_block() {
        let mut sim = fixture(HONEST, "");
        let (b0, b1) = (sim.block(1, 0), sim.block(1, 1));
        let i = 3;
        sim.nodes[i as usize].pool(1).blocks.entry(b1).or_default().signed_notar = true;
        sim.nodes[i as usize].pool(1).notarized.push(b0);
        assert!(sim.finalization_shares(i, 1).is_empty());
    }

    /// 2f + 1 = 3 finalization shares finalize a block at height 2 and its parent at 1.
    #[test]
    fn quorum_of_finalization_shares_finalizes_block_and_ancestors() {
        let mut sim = fixture(HONEST, "");
        let b1 = sim.block(1, 0);
        sim.advance_beacon(1);
        let b2 = sim.block_on(2, 0, b1);
        let i = 3;
        for s in 0..2 {
            sim.process(i, Msg::Share(ShareKind::Finalization, b2, s), 10);
        }
        assert_eq!(sim.nodes[i as usize].finalized_height, 0);
        sim.process(i, Msg::Share(ShareKind::Finalization, b2, 2), 10);
        assert_eq!(sim.nodes[i as usize].finalized_height, 2);
        assert_eq!(sim.monitor.finalized[1..], [Some(b1), Some(b2)]);
    }
}
