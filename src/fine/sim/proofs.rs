//! Equivocation proofs (`[protocol] equivocation_proofs`, on by default), as the deployed
//! validator, notary and block maker handle them (dfinity/ic
//! `rs/consensus/src/consensus/validator.rs`, `validate_blocks`: a second valid proposal of a
//! rank already held becomes an `EquivocationProof` in the validated pool instead of being
//! validated, and later proposals of that rank are skipped; the proof is an artifact gossiped
//! like any other; `rs/consensus/utils/src/lib.rs`, `find_lowest_ranked_non_disqualified_proposals`,
//! read by `notary.rs` and `block_maker.rs`). A node that holds the proof for (height, rank)
//! neither notarization-signs that rank nor counts its blocks as better proposals; it then
//! reconsiders its shares and, as a maker whose time has come, its proposal. Equivocating
//! nodes build proofs for their own decisions but never send them.

use super::{Emit, Msg, Sim};
use crate::fine::agents::{BlockId, Role};

impl Sim {
    /// Node i validated block b at `t` (µs); whether b enters its pool as received. Not when
    /// b's rank is disqualified at the node, nor when it holds another block of that rank by
    /// the same maker: then b and that block form a proof.
    pub(super) fn admit_block(&mut self, i: u32, b: BlockId, t: u64) -> bool {
        if !self.p.proofs {
            return true;
        }
        let blk = &self.blocks[b as usize];
        let (h, rank, maker) = (blk.height, blk.rank, blk.maker);
        let Some(pool) = self.nodes[i as usize].pools.get(&h) else {
            return true;
        };
        if pool.disqualified.contains(&rank) {
            return false;
        }
        let other = pool.blocks.iter().find(|(&x, st)| {
            st.received && x != b && self.blocks[x as usize].rank == rank && self.blocks[x as usize].maker == maker
        });
        match other {
            Some((&x, _)) => {
                self.disqualify(i, x, b, t);
                false
            }
            None => true,
        }
    }

    /// A proof (blocks b1, b2) reaches node i at `t` (µs), already verified: valid block
    /// signatures by one maker, same height and rank, different digests.
    pub(super) fn on_proof(&mut self, i: u32, b1: BlockId, b2: BlockId, t: u64) {
        let (x, y) = (&self.blocks[b1 as usize], &self.blocks[b2 as usize]);
        let valid = self.art.block_valid(b1)
            && self.art.block_valid(b2)
            && (x.height, x.rank, x.maker) == (y.height, y.rank, y.maker)
            && x.digest != y.digest;
        if self.p.proofs && valid {
            self.disqualify(i, b1, b2, t);
        }
    }

    /// Whether node i holds a proof against the rank-`rank` maker of height h.
    #[cfg(test)]
    pub(super) fn disqualified(&self, i: u32, h: u64, rank: u32) -> bool {
        self.nodes[i as usize]
            .pools
            .get(&h)
            .is_some_and(|p| p.disqualified.contains(&rank))
    }

    /// Node i holds the proof (b1, b2) from `t` (µs) on: it records the rank as disqualified,
    /// sends the proof to every peer (in gossip mode only the first node to hold one floods
    /// it), and reconsiders its shares and its proposal.
    fn disqualify(&mut self, i: u32, b1: BlockId, b2: BlockId, t: u64) {
        let (h, rank) = (self.blocks[b1 as usize].height, self.blocks[b1 as usize].rank);
        let pool = self.nodes[i as usize].pool(h);
        if pool.disqualified.contains(&rank) {
            return;
        }
        pool.disqualified.push(rank);
        self.trace_line(t, i, h, "equivocation_proof", rank);
        let role = self.nodes[i as usize].role;
        if role.relays()
            && role != Role::Equivocating
            && (!self.net.is_gossip() || self.flooded_proofs.insert((h, rank)))
        {
            self.apply(i, t, [Emit::Relay(Msg::Proof(b1, b2))]);
        }
        self.try_notarize(i, h, t);
        let n = &self.nodes[i as usize];
        if n.height == h && n.role.proposes() {
            if let Some(r) = self.rank_of(h, i) {
                if t >= n.round_start_us + r as u64 * self.p.unit_us {
                    self.make_block(i, h, r, t);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::fixture::{fixture, EQUIVOCATING};
    use super::super::Msg;

    /// Node 3 gets both blocks of the equivocating rank-r maker: the second becomes a proof
    /// (not a candidate); the notary signs only the first, and nothing of rank r once the
    /// proof is held before its notary delay.
    #[test]
    fn second_block_of_a_rank_becomes_a_proof() {
        let mut sim = fixture(EQUIVOCATING, "");
        let rank = sim.rank_of(1, 0).expect("node 0 is a maker of height 1");
        let out = sim.propose(0, 1, rank, 0);
        assert_eq!(out.len(), 2);
        let (v0, v1) = (sim.blocks.len() as u32 - 2, sim.blocks.len() as u32 - 1);
        let i = 3;
        sim.process(i, Msg::Block(v0), 100_000);
        assert!(!sim.disqualified(i, 1, rank));
        sim.process(i, Msg::Block(v1), 150_000);
        assert!(sim.disqualified(i, 1, rank));
        let pool = &sim.nodes[i as usize].pools[&1];
        assert!(pool.blocks[&v0].received && !pool.blocks.get(&v1).is_some_and(|s| s.received));
        // Held at 150 ms, before the notary delay of any rank: rank r is never signed.
        sim.try_notarize(i, 1, 10_000_000);
        let pool = &sim.nodes[i as usize].pools[&1];
        assert!(!pool.blocks[&v0].signed_notar);
        // A relayed proof disqualifies at a node that never saw the second block.
        let j = 2;
        sim.process(j, Msg::Block(v0), 100_000);
        sim.process(j, Msg::Proof(v0, v1), 120_000);
        assert!(sim.disqualified(j, 1, rank));
        // A forged proof (the same block twice) is refused.
        let k = 1;
        sim.process(k, Msg::Proof(v0, v0), 120_000);
        assert!(!sim.disqualified(k, 1, rank));
    }

    /// Without proofs (`equivocation_proofs = false`) both blocks are candidates.
    #[test]
    fn without_proofs_both_blocks_are_candidates() {
        let mut sim = fixture(EQUIVOCATING, "");
        sim.p.proofs = false;
        let rank = sim.rank_of(1, 0).expect("node 0 is a maker of height 1");
        sim.propose(0, 1, rank, 0);
        let (v0, v1) = (sim.blocks.len() as u32 - 2, sim.blocks.len() as u32 - 1);
        sim.process(3, Msg::Block(v0), 100_000);
        sim.process(3, Msg::Block(v1), 150_000);
        let pool = &sim.nodes[3].pools[&1];
        assert!(pool.blocks[&v0].received && pool.blocks[&v1].received);
        assert!(!sim.disqualified(3, 1, rank));
    }
}
