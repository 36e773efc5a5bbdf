//! P2P re-send on reconnection: when node i recovers, every up peer it is connected to (all
//! nodes in full mesh, its overlay neighbours in gossip mode) sends it again what that peer
//! holds above its own finalized height: blocks, notarizations and finalizations (or, where
//! the peer holds none, the shares it has), the recovering node's own shares, and the beacon
//! shares, one network delay per pair for the whole batch. The recovering node keeps them
//! until it has caught up (see [`super::recovery`]), then processes them as usual.
//!
//! This is the deployed P2P layer's behaviour (dfinity/ic `rs/p2p/consensus_manager`): the
//! sender keeps, for every artifact in the validated pool, a task that sends its slot update
//! to every peer and sends it again to a peer whose connection is new (a reconnect), until
//! the artifact is purged; the receiver fetches what it lacks and drops what is below its
//! finalized height. Not modeled: the time to detect the reconnection, and the artifacts
//! below the peer's finalized height (the catch-up package and tip replace them).

use super::delivery::Msg;
use super::{Ev, Sim};
use crate::fine::artifacts::ShareKind;

impl Sim {
    /// Every up relaying peer of node i that is not catching up itself re-sends it, at `t`
    /// (µs), its pool (see [`Sim::pool_for`]); in peer id order, one delay per peer.
    pub(super) fn resend_pools(&mut self, i: u32, t: u64) {
        let peers: Vec<u32> = if self.net.is_gossip() {
            self.net.overlay[i as usize].clone()
        } else {
            (0..self.p.n).collect()
        };
        for j in peers {
            let x = &self.nodes[j as usize];
            if j == i || !x.up || !x.role.relays() || self.backlogs.contains_key(&j) {
                continue;
            }
            let batch = self.pool_for(j, i);
            if batch.is_empty() {
                continue;
            }
            let arrival = self.net.unicast_batch(j, i, t, batch.len() as u64);
            for msg in batch {
                self.q.push(arrival, Ev::Deliver { to: i, msg });
            }
        }
    }

    /// What node j holds for a recovering node i, height by height above j's finalized
    /// height: the blocks it received; per block and kind the aggregate with i's own share
    /// if j holds both, else the shares j holds; j's own beacon share of each height it
    /// started, and the uncombined beacon shares in its pool.
    pub(super) fn pool_for(&self, j: u32, i: u32) -> Vec<Msg> {
        let n = &self.nodes[j as usize];
        let mut out = Vec::new();
        let last = n.pools.keys().next_back().copied().unwrap_or(0).max(n.height);
        for h in n.finalized_height + 1..=last {
            let pool = n.pools.get(&h);
            for (&b, st) in pool.into_iter().flat_map(|p| p.blocks.iter()) {
                if st.received {
                    out.push(Msg::Block(b));
                }
            }
            for kind in [ShareKind::Notarization, ShareKind::Finalization] {
                for (&b, st) in pool.into_iter().flat_map(|p| p.blocks.iter()) {
                    let (agg, shares) = match kind {
                        ShareKind::Finalization => (&st.finalization, &st.final_shares),
                        _ => (&st.notarization, &st.notar_shares),
                    };
                    if let Some(set) = agg {
                        out.push(Msg::Aggregate(kind, b, set.clone()));
                        if shares.contains(i) {
                            out.push(Msg::Share(kind, b, i));
                        }
                    } else {
                        out.extend(shares.iter().map(|s| Msg::Share(kind, b, s)));
                    }
                }
            }
            let own = h <= n.height && n.role.signs() && self.in_committee(h, j);
            let pending = pool.map(|p| p.beacon_shares.clone()).unwrap_or_default();
            if own && !pending.contains(j) {
                out.push(Msg::BeaconShare(h, j));
            }
            out.extend(pending.iter().map(|s| Msg::BeaconShare(h, s)));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::super::fixture::{fixture, HONEST};
    use super::super::{Msg, Sim};
    use crate::fine::artifacts::ShareKind;

    /// Runs the replica's events up to `until` (µs).
    fn run_until(sim: &mut Sim, until: u64) {
        while sim.q.peek_time().is_some_and(|t| t <= until) {
            let (t, ev) = sim.q.pop().expect("peeked");
            sim.now = t;
            sim.handle(t, ev);
        }
    }

    /// The fixture with dynamic failures (MTBF = MTTR = 10^9 ms: no transition in the test)
    /// where only the rank-0 maker of height 1 and one other node are up (2 < quorum 3);
    /// returns it with the up pair and the down pair.
    fn two_of_four_up() -> (Sim, [u32; 2], [u32; 2]) {
        let mut sim = fixture(HONEST, "");
        sim.p.dynamic = Some((1e9, 1e9));
        let leader = sim.rankings[1][0];
        let others: Vec<u32> = (0..4).filter(|&k| k != leader).collect();
        let (up, down) = ([leader, others[0]], [others[1], others[2]]);
        for k in down {
            sim.crash(k, 0);
        }
        (sim, up, down)
    }

    /// The leader's block of height 1 is signed by the 2 up nodes and stalls; a node that
    /// recovers at 20 s is re-sent block and shares, catches up, signs: the quorum it restores
    /// notarizes height 1 (before the re-send it never saw the block: stalled for good).
    #[test]
    fn a_recovery_that_restores_the_quorum_ends_the_stall() {
        let (mut sim, up, down) = two_of_four_up();
        run_until(&mut sim, 20_000_000);
        assert_eq!(sim.max_notarized, 0, "2 of 4 up: no quorum");
        let b = sim.nodes[up[0] as usize].pools[&1].blocks.keys().copied().next();
        let b = b.expect("the leader proposed");
        assert_eq!(sim.nodes[up[1] as usize].pools[&1].blocks[&b].notar_shares.len(), 2);
        sim.recover(down[0], 20_000_000);
        // Re-sent pools at 20.1 s, caught up at 20.2 s, rank-0 share at 20.2 + N0 = 20.5 s,
        // which completes the quorum at the node itself.
        run_until(&mut sim, 20_550_000);
        assert_eq!((sim.max_notarized, sim.last_progress_us), (1, 20_500_000));
        let st = &sim.nodes[down[0] as usize].pools[&1].blocks[&b];
        assert!(st.received && st.signed_notar, "signed the block it was re-sent");
        run_until(&mut sim, 22_000_000);
        assert!(sim.max_notarized >= 2, "the subnet runs again");
    }

    /// An up node re-sends its block, the shares it holds without an aggregate, its own
    /// beacon share. A node catching up keeps what arrives.
    #[test]
    fn pool_for_a_recovering_node_holds_blocks_shares_and_beacon_shares() {
        let (mut sim, up, down) = two_of_four_up();
        run_until(&mut sim, 5_000_000);
        let batch = sim.pool_for(up[1], down[0]);
        let blocks = batch.iter().filter(|m| matches!(m, Msg::Block(_))).count();
        let shares = batch
            .iter()
            .filter(|m| matches!(m, Msg::Share(ShareKind::Notarization, _, _)))
            .count();
        assert_eq!((blocks, shares), (1, 2), "{batch:?}");
        assert!(batch.iter().any(|m| matches!(m, Msg::BeaconShare(1, s) if *s == up[1])));
        sim.recover(down[0], 5_000_000);
        assert!(sim.backlogs.contains_key(&down[0]));
        run_until(&mut sim, 5_150_000);
        let kept = sim.backlogs[&down[0]].len();
        assert!(kept >= 2 * batch.len() - 2, "both peers' batches are kept: {kept}");
    }

    /// A node re-sent its own notarization share of rank 0 remembers it signed: it will not
    /// sign a rank-1 block at that height, nor propose again at a height where its block is.
    #[test]
    fn own_artifacts_come_back_as_signed() {
        let mut sim = fixture(HONEST, "");
        let b = sim.block(1, 0);
        let maker = sim.blocks[b as usize].maker;
        let i = 3;
        sim.deliver(i, Msg::Share(ShareKind::Notarization, b, i), 0);
        assert_eq!(sim.nodes[i as usize].pools[&1].min_signed_rank, Some(0));
        assert!(sim.nodes[i as usize].pools[&1].blocks[&b].signed_notar);
        sim.deliver(maker, Msg::Block(b), 0);
        assert!(sim.propose(maker, 1, 0, 0).is_empty(), "its block is already out");
    }
}
