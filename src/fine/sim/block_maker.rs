//! Block making: the rank-r block maker of height h proposes at T0 + r U (T0: its round start;
//! plus U for r > 0 under the dynamic block-maker delay: [`Sim::maker_extra_us`]) unless it has seen a valid block of lower rank (not of a rank it holds an equivocation
//! proof against: `is_better_block_proposal_available`) or a notarization by then; a proof
//! arriving later makes it check again (`proofs.rs`). An equivocating
//! maker proposes two variants with the same payload.

use super::{Emit, Ev, Msg, Sim};
use crate::fine::agents::{Block, BlockId, Role};

impl Sim {
    /// The proposal timer of node i for round h started at `t` (µs): at `t + rank U` (plus
    /// [`Sim::maker_extra_us`]) if it proposes and is a ranked maker of h.
    pub(super) fn proposal_timer(&self, i: u32, h: u64, t: u64) -> Option<Emit> {
        let n = &self.nodes[i as usize];
        if !n.role.proposes() {
            return None;
        }
        let rank = self.rank_of(h, i)?;
        let ev = Ev::MakeBlock {
            node: i,
            epoch: n.epoch,
            height: h,
            rank,
        };
        let extra = if rank > 0 { self.maker_extra_us(i, h) } else { 0 };
        Some(Emit::Timer {
            at_us: t + rank as u64 * self.p.unit_us + extra,
            ev,
        })
    }

    /// The dynamic block-maker delay of node i at height h, µs (`[protocol]
    /// dynamic_block_maker_delay`; dfinity/ic PRs #1531, #2336, #2356, constants in
    /// `ictwin_kernels::maker_delay`): U when more than 10 of the last 30 blocks of the chain
    /// of its parent (its first notarized block of h - 1) have rank > 0, else 0.
    pub(super) fn maker_extra_us(&self, i: u32, h: u64) -> u64 {
        use ictwin_kernels::maker_delay::{LOOK_BACK, MAX_NON_RANK_0};
        let parent = self.nodes[i as usize]
            .pools
            .get(&(h - 1))
            .and_then(|pool| pool.notarized.first().copied());
        let (true, Some(mut b)) = (self.p.dynamic_maker_delay, parent) else {
            return 0;
        };
        let mut non_rank_0 = 0;
        for _ in 0..LOOK_BACK {
            let block = &self.blocks[b as usize];
            if block.height == 0 {
                break;
            }
            non_rank_0 += (block.rank > 0) as u32;
            b = block.parent;
        }
        if non_rank_0 > MAX_NON_RANK_0 {
            self.p.unit_us
        } else {
            0
        }
    }

    /// Node i's proposal time for rank `rank` at height h has come (`t`, µs).
    pub(super) fn make_block(&mut self, i: u32, h: u64, rank: u32, t: u64) {
        let blocks = self.propose(i, h, rank, t);
        self.apply(i, t, blocks);
    }

    /// The blocks node i proposes at `t` (µs) as rank `rank` maker of h, on its first
    /// notarized block of h - 1: none if it left round h or saw a lower rank's block, its own
    /// block (made before a crash and re-sent to it) or a notarization at h, or proposed already. The blocks enter the arena signed.
    pub(super) fn propose(&mut self, i: u32, h: u64, rank: u32, t: u64) -> Vec<Emit> {
        let n = &self.nodes[i as usize];
        if n.height != h {
            return Vec::new();
        }
        let lower_seen = n.pools.get(&h).is_some_and(|pool| {
            let better = |r: u32| r < rank && !pool.disqualified.contains(&r);
            pool.proposed
                || !pool.notarized.is_empty()
                || pool.blocks.iter().any(|(&b, st)| {
                    st.received && (better(self.blocks[b as usize].rank) || self.blocks[b as usize].maker == i)
                })
        });
        if lower_seen {
            return Vec::new();
        }
        self.nodes[i as usize].pool(h).proposed = true;
        let n = &self.nodes[i as usize];
        let parent = n.pools[&(h - 1)].notarized[0];
        let payload = self.select_payload(i, parent, t);
        let variants = if n.role == Role::Equivocating { 2 } else { 1 };
        let mut out = Vec::with_capacity(variants as usize);
        for v in 0..variants {
            let id = self.blocks.len() as BlockId;
            let digest = Block::compute_digest(&self.blocks[parent as usize].digest, h, rank, i, v, &payload);
            self.blocks.push(Block {
                id,
                parent,
                height: h,
                rank,
                maker: i,
                variant: v,
                payload: payload.clone(),
                digest,
            });
            self.art.sign_block(id, i, &digest);
            out.push(Emit::Signed(Msg::Block(id)));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::super::fixture::{fixture, EQUIVOCATING, HONEST};
    use super::super::{Emit, Ev, Msg};

    /// The rank-1 maker's timer is at T0 + U (U = 1 s in the fixture).
    #[test]
    fn rank_r_maker_proposes_at_round_start_plus_r_units() {
        let sim = fixture(HONEST, "");
        let maker = sim.rankings[1][1];
        match sim.proposal_timer(maker, 1, 250) {
            Some(Emit::Timer {
                at_us,
                ev: Ev::MakeBlock { rank, height, .. },
            }) => assert_eq!((at_us, rank, height), (1_000_250, 1, 1)),
            other => panic!("expected a MakeBlock timer, got {other:?}"),
        }
        let not_maker = (0..4).find(|&i| sim.rank_of(1, i).is_none()).unwrap();
        assert!(sim.proposal_timer(not_maker, 1, 250).is_none());
    }

    /// The dynamic block-maker delay: U once more than 10 of the parent chain's last 30
    /// blocks have rank > 0 (here the chain of heights 1..=30 with `non_rank_0` rank-1
    /// blocks, the oldest first), 0 with 10, and never with the rule off.
    #[test]
    fn rank_1_maker_waits_one_more_unit_after_eleven_non_rank_0_blocks() {
        for (non_rank_0, rule, extra) in [(11, true, 1_000_000), (10, true, 0), (30, false, 0)] {
            let mut sim = fixture(HONEST, "");
            sim.p.dynamic_maker_delay = rule;
            let mut parent = 0;
            for h in 1..=30 {
                parent = sim.block_on(h, (h <= non_rank_0) as u32, parent);
                sim.advance_beacon(h);
            }
            let maker = sim.rankings[31][1];
            sim.nodes[maker as usize].pool(30).notarized.push(parent);
            assert_eq!(
                sim.maker_extra_us(maker, 31),
                extra,
                "{non_rank_0} rank-1 blocks, rule {rule}"
            );
            match sim.proposal_timer(maker, 31, 0) {
                Some(Emit::Timer { at_us, .. }) => assert_eq!(at_us, 1_000_000 + extra),
                other => panic!("expected a MakeBlock timer, got {other:?}"),
            }
        }
    }

    /// A maker that received a valid lower-rank block proposes nothing; without it, one block.
    #[test]
    fn maker_skips_when_it_saw_a_lower_rank_block() {
        let mut sim = fixture(HONEST, "");
        let maker = sim.rankings[1][1];
        let leader_block = sim.block(1, 0);
        let before = sim.blocks.len();
        let mine = sim.propose(maker, 1, 1, 1_000_000);
        assert_eq!(mine.len(), 1);
        assert!(matches!(mine[0], Emit::Signed(Msg::Block(b)) if b as usize == before));
        sim.process(maker, Msg::Block(leader_block), 1_000_000);
        assert!(sim.propose(maker, 1, 1, 1_000_000).is_empty());
    }

    /// An equivocating maker proposes two validly signed variants with different digests.
    #[test]
    fn equivocating_maker_proposes_two_variants() {
        let mut sim = fixture(EQUIVOCATING, "");
        let maker = 0;
        let rank = sim.rank_of(1, maker).unwrap_or(0);
        let out = sim.propose(maker, 1, rank, 0);
        assert_eq!(out.len(), 2);
        let n = sim.blocks.len();
        let (a, b) = (&sim.blocks[n - 2], &sim.blocks[n - 1]);
        assert_eq!((a.variant, b.variant, a.maker, b.maker), (0, 1, maker, maker));
        assert_ne!(a.digest, b.digest);
        assert!(sim.art.block_valid(a.id) && sim.art.block_valid(b.id));
    }
}
