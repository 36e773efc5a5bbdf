//! Notary: a committee member notarization-signs every block of the lowest rank r it has
//! (parent notarized in its view) once r's notary delay N0 + r U 1.5^g has passed since its
//! round start, and never a rank higher than one it signed; ranks it holds an equivocation
//! proof against count in neither rule (`find_lowest_ranked_non_disqualified_proposals`). A quorum of shares notarizes a
//! block: the node ends the round and relays the notarization.
//!
//! Certification backlog (`[protocol] certification_backlog`, rule 2, [`super::certifier`];
//! dfinity/ic `notary.rs` and `consensus.rs`): the due time is T0 + N0 + r U 1.5^g +
//! 2,000 ms x (finalized - certified) when that gap exceeds 1, for every rank; and the node
//! signs nothing in round h while (h - 1) - certified >= 70. Both are recomputed at every
//! decision (a new finalized or certified height makes the node reconsider), so the due time
//! can move either way: a timer that fires before a due time that moved later sets a new one,
//! and a due time that moved earlier sets an earlier timer. Not modelled: the CUP gap limit
//! (130) and the backlog's halting exception.

use super::{Emit, Ev, Msg, Sim};
use crate::fine::agents::{BlockId, Role, SignerSet};
use crate::fine::artifacts::ShareKind;
use std::rc::Rc;

impl Sim {
    /// The parent of block b is notarized in node i's view.
    fn parent_notarized(&self, i: u32, b: BlockId) -> bool {
        let blk = &self.blocks[b as usize];
        let n = &self.nodes[i as usize];
        n.pools
            .get(&(blk.height - 1))
            .and_then(|p| p.blocks.get(&blk.parent))
            .is_some_and(|s| s.notarized)
    }

    /// Node i reconsiders its notarization shares for height h at `t` (µs).
    pub(super) fn try_notarize(&mut self, i: u32, h: u64, t: u64) {
        let out = self.notarize(i, h, t);
        self.apply(i, t, out);
    }

    /// What node i, in round h at `t` (µs), signs now: the unsigned blocks of the lowest rank
    /// r it holds once `t >= T0 + notary delay(r, g) + backlog`, or else a notary timer at that time
    /// (only if it is earlier than the one set). Nothing once h is notarized in its view or
    /// for a rank above one it signed, nor while its certified height lags by 70 or more. A
    /// notarize-all node signs every block it received.
    pub(super) fn notarize(&mut self, i: u32, h: u64, t: u64) -> Vec<Emit> {
        let n = &self.nodes[i as usize];
        if !n.up || n.height != h || !n.role.signs() || !self.in_committee(h, i) {
            return Vec::new();
        }
        let Some(pool) = n.pools.get(&h) else {
            return Vec::new();
        };
        if n.role == Role::NotarizeAll {
            let todo: Vec<BlockId> = pool
                .blocks
                .iter()
                .filter(|(_, s)| s.received && !s.signed_notar)
                .map(|(&b, _)| b)
                .collect();
            return todo.into_iter().map(|b| self.sign_notarization(i, b)).collect();
        }
        if !pool.notarized.is_empty() || self.certification_gap_too_large(i, h) {
            return Vec::new();
        }
        let live = |b: &BlockId| !pool.disqualified.contains(&self.blocks[*b as usize].rank);
        let candidates: Vec<BlockId> = pool
            .blocks
            .iter()
            .filter(|(&b, s)| s.received && live(&b) && self.parent_notarized(i, b))
            .map(|(&b, _)| b)
            .collect();
        let Some(r) = candidates.iter().map(|&b| self.blocks[b as usize].rank).min() else {
            return Vec::new();
        };
        // The lowest rank it signed, disqualified ranks aside (notary.rs: "lower (or equal)
        // rank than every non-disqualified block" it signed).
        let min_signed = if pool.disqualified.is_empty() {
            pool.min_signed_rank
        } else {
            pool.blocks
                .iter()
                .filter(|(b, s)| s.signed_notar && live(b))
                .map(|(&b, _)| self.blocks[b as usize].rank)
                .min()
        };
        if min_signed.is_some_and(|ms| r > ms) {
            return Vec::new();
        }
        let due = n.round_start_us + self.p.notary_delay_us(r, n.finality_gap()) + self.backlog_us(i);
        if t < due {
            // A timer still to come, at or before `due`, will reconsider. One that already
            // fired does not: the lowest rank can rise (its blocks disqualified).
            if pool.notary_timer_us.is_some_and(|x| x <= due && x > t) {
                return Vec::new();
            }
            let epoch = n.epoch;
            self.nodes[i as usize].pool(h).notary_timer_us = Some(due);
            let ev = Ev::NotaryTimer {
                node: i,
                epoch,
                height: h,
            };
            return vec![Emit::Timer { at_us: due, ev }];
        }
        let todo: Vec<BlockId> = candidates
            .into_iter()
            .filter(|b| self.blocks[*b as usize].rank == r && !pool.blocks[b].signed_notar)
            .collect();
        let out = todo.into_iter().map(|b| self.sign_notarization(i, b)).collect();
        let pool = self.nodes[i as usize].pool(h);
        pool.min_signed_rank = Some(pool.min_signed_rank.map_or(r, |m| m.min(r)));
        out
    }

    /// Node i's notarization share on block b (prepares the shares of all signers of b).
    fn sign_notarization(&mut self, i: u32, b: BlockId) -> Emit {
        let h = self.blocks[b as usize].height;
        self.nodes[i as usize].pool(h).blocks.entry(b).or_default().signed_notar = true;
        let signers = self.share_signers(h);
        let digest = self.blocks[b as usize].digest;
        self.art.prepare(ShareKind::Notarization, b as u64, &digest, &signers);
        Emit::Signed(Msg::Share(ShareKind::Notarization, b, i))
    }

    /// Node i holds a notarization `signers` of block b at `t` (µs): the first one of its
    /// height ends the node's round there (measured; an honest node's new maximum is progress).
    /// Then it relays it, may sign a finalization share and starts the next round.
    pub(super) fn on_notarized(&mut self, i: u32, b: BlockId, signers: Rc<SignerSet>, t: u64) {
        let h = self.blocks[b as usize].height;
        let rank = self.blocks[b as usize].rank;
        let first;
        {
            let n = &mut self.nodes[i as usize];
            let pool = n.pool(h);
            let st = pool.blocks.entry(b).or_default();
            if st.notarized {
                return;
            }
            st.notarized = true;
            st.notarization = Some(signers.clone());
            pool.notarized.push(b);
            first = pool.notarized.len() == 1;
            n.notarized_height = n.notarized_height.max(h);
        }
        self.count_invalid_shares(ShareKind::Notarization, b, &signers);
        let n = &self.nodes[i as usize];
        let honest = n.role == Role::Honest;
        if first {
            let start = (n.height == h).then_some(n.round_start_us);
            self.monitor.notarized(i, honest, h, t, rank, start);
            self.trace_line(t, i, h, "notarized", rank);
            if honest && h > self.max_notarized {
                self.progress(h, t);
            }
        }
        self.relay(i, t, ShareKind::Notarization, b, signers);
        self.maybe_sign_finalization(i, h, t);
        self.maybe_advance(i, t);
        // A block of h + 1 held back because this block, its parent, was not notarized in
        // this node's view is a candidate now (an equivocator's other variant, say): the
        // replica's validator re-checks such blocks too.
        self.try_notarize(i, h + 1, t);
    }

    /// Counts an aggregate of `kind` on block b that contains an invalid share.
    pub(super) fn count_invalid_shares(&mut self, kind: ShareKind, b: BlockId, signers: &SignerSet) {
        if signers.iter().any(|s| !self.art.share_valid(kind, b as u64, s)) {
            self.monitor.aggregates_with_invalid_shares += 1;
        }
    }

    /// Node i relays a notarization (or finalization) of block b at `t` (µs): every relaying
    /// node in full mesh; in gossip mode only the first node that formed it floods it.
    pub(super) fn relay(&mut self, i: u32, t: u64, kind: ShareKind, b: BlockId, signers: Rc<SignerSet>) {
        if !self.nodes[i as usize].role.relays() {
            return;
        }
        if self.net.is_gossip() && !self.flooded.insert((b, kind)) {
            return;
        }
        self.apply(i, t, [Emit::Relay(Msg::Aggregate(kind, b, signers))]);
    }
}

#[cfg(test)]
mod tests {
    use super::super::fixture::{fixture, HONEST};
    use super::super::{Emit, Ev, Msg};
    use crate::fine::artifacts::ShareKind;

    /// Notary delay of rank 1 at g = 0 in the fixture: N0 + U = 300 ms + 1 s.
    const RANK1_DUE_US: u64 = 1_300_000;

    /// Before the delay a timer is set for T0 + N0 + r U; at that time the share is signed,
    /// once.
    #[test]
    fn notary_signs_only_after_the_notary_delay() {
        let mut sim = fixture(HONEST, "");
        let b = sim.block(1, 1);
        let i = 3;
        sim.nodes[i as usize].pool(1).blocks.entry(b).or_default().received = true;
        match sim.notarize(i, 1, 1_000_000).as_slice() {
            [Emit::Timer {
                at_us,
                ev: Ev::NotaryTimer { height: 1, .. },
            }] => assert_eq!(*at_us, RANK1_DUE_US),
            other => panic!("expected one notary timer, got {other:?}"),
        }
        assert!(sim.notarize(i, 1, 1_100_000).is_empty(), "timer already set");
        match sim.notarize(i, 1, RANK1_DUE_US).as_slice() {
            [Emit::Signed(Msg::Share(ShareKind::Notarization, x, s))] => assert_eq!((*x, *s), (b, i)),
            other => panic!("expected one share, got {other:?}"),
        }
        assert!(sim.notarize(i, 1, RANK1_DUE_US).is_empty(), "signed once");
    }

    /// After signing rank 0 the notary never signs a rank-1 block at that height.
    #[test]
    fn notary_never_signs_a_higher_rank_than_one_it_signed() {
        let mut sim = fixture(HONEST, "");
        let (b0, b1) = (sim.block(1, 0), sim.block(1, 1));
        let i = 3;
        sim.nodes[i as usize].pool(1).blocks.entry(b0).or_default().received = true;
        assert_eq!(sim.notarize(i, 1, 300_000).len(), 1);
        sim.nodes[i as usize].pool(1).blocks.remove(&b0);
        sim.nodes[i as usize].pool(1).blocks.entry(b1).or_default().received = true;
        assert!(sim.notarize(i, 1, 5_000_000).is_empty());
        assert_eq!(sim.nodes[i as usize].pools[&1].min_signed_rank, Some(0));
    }

    /// A block whose parent is not notarized in the node's view waits; once the parent's
    /// notarization arrives (here: the other block of height 1, notarized second), the node
    /// signs it without any other trigger.
    #[test]
    fn block_is_signed_once_its_parent_becomes_notarized() {
        let mut sim = fixture(HONEST, "");
        let (a, other) = (sim.block(1, 0), sim.block(1, 1));
        sim.advance_beacon(1);
        let b = sim.block_on(2, 0, other);
        let i = 3;
        for s in 0..2 {
            sim.process(i, Msg::BeaconShare(1, s), 0);
        }
        for s in 0..3 {
            sim.process(i, Msg::Share(ShareKind::Notarization, a, s), 1_000);
        }
        assert_eq!(sim.nodes[i as usize].height, 2);
        sim.process(i, Msg::Block(b), 2_000_000);
        let signed = |sim: &super::super::Sim| sim.nodes[i as usize].pools[&2].blocks[&b].signed_notar;
        assert!(!signed(&sim), "parent not notarized yet");
        for s in 0..3 {
            sim.process(i, Msg::Share(ShareKind::Notarization, other, s), 3_000_000);
        }
        assert!(signed(&sim), "signed when the parent became notarized");
    }

    /// A notarize-all node signs every received block at once, whatever its rank.
    #[test]
    fn notarize_all_signs_every_block_at_once() {
        let mut sim = fixture(HONEST, "notarize_all = 1");
        let (b0, b1) = (sim.block(1, 0), sim.block(1, 1));
        for b in [b0, b1] {
            sim.nodes[0].pool(1).blocks.entry(b).or_default().received = true;
        }
        assert_eq!(sim.notarize(0, 1, 0).len(), 2);
        assert!(sim.notarize(0, 1, 0).is_empty());
    }
}
