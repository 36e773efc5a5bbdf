//! Message arrival: a message reaches a node ([`Sim::deliver`]), costs its verification on the
//! node's CPU, then takes effect ([`Sim::process`]). Notarization and finalization shares and
//! aggregates follow one path, told apart by their [`ShareKind`].

use super::{Ev, Sim};
use crate::fine::agents::{BlockId, BlockState, Role, SignerSet};
use crate::fine::artifacts::ShareKind;
use std::rc::Rc;

/// Messages between nodes. `Share` and `Aggregate` carry `ShareKind::Notarization` or
/// `ShareKind::Finalization` (beacon shares are per height, not per block).
#[derive(Clone, Debug)]
pub(super) enum Msg {
    /// A block proposal.
    Block(BlockId),
    /// A share on a block by a committee member.
    Share(ShareKind, BlockId, u32),
    /// A notarization or finalization: a quorum of shares on a block.
    Aggregate(ShareKind, BlockId, Rc<SignerSet>),
    /// A random-beacon share for a height by a committee member.
    BeaconShare(u64, u32),
    /// An equivocation proof: two blocks of one height and rank by one maker.
    Proof(BlockId, BlockId),
    /// A certification share of the state after executing a height, by a node (see
    /// [`super::certifier`]).
    CertShare(u64, u32),
}

/// The aggregate of `kind` on this block is already known to the node.
fn has_aggregate(st: &BlockState, kind: ShareKind) -> bool {
    match kind {
        ShareKind::Finalization => st.finalized,
        _ => st.notarized,
    }
}

/// The node's shares of `kind` on this block.
fn shares(st: &BlockState, kind: ShareKind) -> &SignerSet {
    match kind {
        ShareKind::Finalization => &st.final_shares,
        _ => &st.notar_shares,
    }
}

/// The node's shares of `kind` on this block, to add to.
fn shares_mut(st: &mut BlockState, kind: ShareKind) -> &mut SignerSet {
    match kind {
        ShareKind::Finalization => &mut st.final_shares,
        _ => &mut st.notar_shares,
    }
}

impl Sim {
    /// Height a message is about.
    pub(super) fn msg_height(&self, msg: &Msg) -> u64 {
        match msg {
            Msg::Block(b) | Msg::Share(_, b, _) | Msg::Aggregate(_, b, _) | Msg::Proof(b, _) => {
                self.blocks[*b as usize].height
            }
            Msg::BeaconShare(h, _) | Msg::CertShare(h, _) => *h,
        }
    }

    /// Trace kind and rank of a message the node signs (beacon shares are not traced;
    /// certification shares have rank 0).
    pub(super) fn signed_trace(&self, msg: &Msg) -> Option<(&'static str, u32)> {
        let (kind, b) = match msg {
            Msg::Block(b) => ("block_proposed", b),
            Msg::Share(ShareKind::Finalization, b, _) => ("finalization_share", b),
            Msg::Share(_, b, _) => ("notarization_share", b),
            Msg::CertShare(..) => return Some(("certification_share", 0)),
            Msg::Aggregate(..) | Msg::BeaconShare(..) | Msg::Proof(..) => return None,
        };
        Some((kind, self.blocks[*b as usize].rank))
    }

    /// The message was made by node i itself (re-sent to it after a recovery).
    pub(super) fn is_own(&self, i: u32, msg: &Msg) -> bool {
        match msg {
            Msg::Block(b) => self.blocks[*b as usize].maker == i,
            Msg::Share(_, _, s) | Msg::BeaconShare(_, s) | Msg::CertShare(_, s) => *s == i,
            Msg::Aggregate(..) | Msg::Proof(..) => false,
        }
    }

    /// Modeled verification cost of a received message, µs (0 when it is useless to the
    /// node: already known, or its aggregate is; or when it is the node's own artifact).
    pub(super) fn verify_cost(&self, i: u32, msg: &Msg) -> f64 {
        let c = &self.p.cfg.costs;
        let n = &self.nodes[i as usize];
        if self.is_own(i, msg) {
            return 0.0;
        }
        let h = self.msg_height(msg);
        let st = |b: &BlockId| n.pools.get(&h).and_then(|p| p.blocks.get(b));
        let (useless, cost) = match msg {
            Msg::Block(b) => (st(b).is_some_and(|s| s.received), c.verify_us),
            Msg::Share(kind, b, s) => (
                st(b).is_some_and(|x| has_aggregate(x, *kind) || shares(x, *kind).contains(*s)),
                c.verify_share_us,
            ),
            Msg::Aggregate(kind, b, _) => (st(b).is_some_and(|x| has_aggregate(x, *kind)), c.aggregate_verify_us),
            Msg::BeaconShare(..) => (h <= n.beacon_height, c.verify_share_us),
            Msg::CertShare(_, s) => (!self.cert_share_useful(i, h, *s), c.verify_share_us),
            // Two block signatures.
            Msg::Proof(b, _) => (
                n.pools
                    .get(&h)
                    .is_some_and(|p| p.disqualified.contains(&self.blocks[*b as usize].rank)),
                2.0 * c.verify_us,
            ),
        };
        if useless {
            0.0
        } else {
            cost
        }
    }

    /// Message `msg` reaches node i at `t` (µs). Down and silent nodes drop it; a node still
    /// catching up keeps it for later (its unvalidated pool); a node finalized past its height
    /// drops it (beacon and certification shares excepted); otherwise it takes effect once verified: now when
    /// verification is free, else at the end of its CPU time.
    pub(super) fn deliver(&mut self, i: u32, msg: Msg, t: u64) {
        let n = &self.nodes[i as usize];
        if !n.up || n.role == Role::Silent {
            return;
        }
        if let Some(backlog) = self.backlogs.get_mut(&i) {
            backlog.push(msg);
            return;
        }
        let h = self.msg_height(&msg);
        if h < n.finalized_height && !matches!(msg, Msg::BeaconShare(..) | Msg::CertShare(..)) {
            return;
        }
        let cost = self.verify_cost(i, &msg);
        let t1 = self.cpu(i, t, cost);
        if t1 == t {
            self.process(i, msg, t);
        } else {
            self.push_ev(t1, Ev::Process { to: i, msg });
        }
    }

    /// Verified message `msg` takes effect at node i at `t` (µs).
    pub(super) fn process(&mut self, i: u32, msg: Msg, t: u64) {
        let h = self.msg_height(&msg);
        if h < self.nodes[i as usize].finalized_height && !matches!(msg, Msg::BeaconShare(..) | Msg::CertShare(..)) {
            return;
        }
        match msg {
            Msg::Block(b) => {
                if !self.art.block_valid(b) || !self.admit_block(i, b, t) {
                    return;
                }
                self.nodes[i as usize].pool(h).blocks.entry(b).or_default().received = true;
                self.try_notarize(i, h, t);
            }
            Msg::Share(kind, b, s) => {
                if s == i {
                    self.remember_own_share(i, h, kind, b);
                }
                self.add_share(i, h, kind, b, s, t)
            }
            Msg::Aggregate(kind, b, set) => {
                let known = self.nodes[i as usize]
                    .pools
                    .get(&h)
                    .and_then(|p| p.blocks.get(&b))
                    .is_some_and(|s| has_aggregate(s, kind));
                if known || set.len() < self.p.quorum || !self.art.verify_aggregate(kind, b as u64, &set) {
                    return;
                }
                self.on_aggregate(i, kind, b, set, t);
            }
            Msg::Proof(b1, b2) => self.on_proof(i, b1, b2, t),
            Msg::CertShare(ch, s) => self.add_cert_share(i, ch, s, t),
            Msg::BeaconShare(bh, s) => {
                if bh <= self.nodes[i as usize].beacon_height {
                    return;
                }
                if !self.art.share_valid(ShareKind::Beacon, bh, s) {
                    self.monitor.shares_rejected += 1;
                    return;
                }
                self.nodes[i as usize].pool(bh).beacon_shares.insert(s);
                self.check_beacon(i, t);
            }
        }
    }

    /// Node i gets back its own `kind` share on block b (height h), made before a crash: it
    /// signed that block, so it signs no other rank above it and no other finalization at h.
    fn remember_own_share(&mut self, i: u32, h: u64, kind: ShareKind, b: BlockId) {
        let rank = self.blocks[b as usize].rank;
        let pool = self.nodes[i as usize].pool(h);
        if kind == ShareKind::Finalization {
            pool.final_signed = true;
        } else {
            pool.blocks.entry(b).or_default().signed_notar = true;
            pool.min_signed_rank = Some(pool.min_signed_rank.map_or(rank, |m| m.min(rank)));
        }
    }

    /// Adds signer s's valid `kind` share on block b (height h) to node i's pool; the
    /// quorum-th distinct share forms the aggregate. Invalid shares are counted and dropped.
    fn add_share(&mut self, i: u32, h: u64, kind: ShareKind, b: BlockId, s: u32, t: u64) {
        if !self.art.share_valid(kind, b as u64, s) {
            self.monitor.shares_rejected += 1;
            return;
        }
        let q = self.p.quorum;
        let st = self.nodes[i as usize].pool(h).blocks.entry(b).or_default();
        if has_aggregate(st, kind) {
            return;
        }
        let set = shares_mut(st, kind);
        if !set.insert(s) || set.len() < q {
            return;
        }
        let set = Rc::new(set.clone());
        self.on_aggregate(i, kind, b, set, t);
    }

    /// Node i holds the `kind` aggregate `signers` on block b.
    fn on_aggregate(&mut self, i: u32, kind: ShareKind, b: BlockId, signers: Rc<SignerSet>, t: u64) {
        match kind {
            ShareKind::Finalization => self.on_finalized(i, b, signers, t),
            _ => self.on_notarized(i, b, signers, t),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::fixture::{fixture, HONEST};
    use super::*;

    /// f + 1 = 2 shares of a 4-node subnet do not notarize; the 3rd distinct one does, and a
    /// repeated share does not count twice.
    #[test]
    fn quorum_of_distinct_shares_forms_the_aggregate() {
        let mut sim = fixture(HONEST, "");
        let b = sim.block(1, 0);
        let i = 3;
        for s in [0, 1, 1] {
            sim.process(i, Msg::Share(ShareKind::Notarization, b, s), 0);
        }
        let st = &sim.nodes[i as usize].pools[&1].blocks[&b];
        assert_eq!(st.notar_shares.len(), 2);
        assert!(!st.notarized);
        sim.process(i, Msg::Share(ShareKind::Notarization, b, 2), 0);
        assert!(sim.nodes[i as usize].pools[&1].blocks[&b].notarized);
        assert_eq!(sim.nodes[i as usize].notarized_height, 1);
    }

    /// Verification costs the table's figure, and nothing once the aggregate is known.
    #[test]
    fn verify_cost_is_zero_for_known_artifacts() {
        let mut sim = fixture(HONEST, "");
        let b = sim.block(1, 0);
        let share = Msg::Share(ShareKind::Finalization, b, 0);
        assert_eq!(sim.verify_cost(3, &share), sim.p.cfg.costs.verify_share_us);
        assert_eq!(sim.verify_cost(3, &Msg::Block(b)), sim.p.cfg.costs.verify_us);
        sim.nodes[3].pool(1).blocks.entry(b).or_default().finalized = true;
        assert_eq!(sim.verify_cost(3, &share), 0.0);
    }
}
