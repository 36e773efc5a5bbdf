//! Dynamic failures and catch-up: honest nodes alternate between up (exponential, mean MTBF)
//! and down (mean MTTR). A recovering node loses its pools and asks a random up honest peer
//! for its latest catch-up package (CUP) and notarized tip; meanwhile the up nodes re-send it
//! their pools ([`super::reconnect`]), which it keeps, with whatever else arrives, until it
//! has caught up (the replica's unvalidated pool), then processes as usual. It holds the
//! peer's finalized height executed and certified (state sync, [`super::certifier`]).

use super::{Ev, Sim};
use crate::fine::agents::{BlockId, HeightPool, Role};
use rand::Rng;

/// `peer` of a [`Ev::CatchUpReply`] that is a retry: no peer could be asked.
const NO_PEER: u32 = u32::MAX;

impl Sim {
    /// Dynamic failures: draws each honest node's initial state from the stationary
    /// distribution (up with probability MTBF / (MTBF + MTTR)) and its first transition.
    pub(super) fn start_failures(&mut self) {
        let Some((mtbf, mttr)) = self.p.dynamic else { return };
        for i in 0..self.p.n {
            if self.nodes[i as usize].role != Role::Honest {
                continue;
            }
            let up = self.rng.random::<f64>() < mtbf / (mtbf + mttr);
            let mean = if up { mtbf } else { mttr };
            let d = self.exp_us(mean);
            self.nodes[i as usize].up = up;
            self.schedule(
                d,
                if up {
                    Ev::Crash { node: i }
                } else {
                    Ev::Recover { node: i }
                },
            );
        }
    }

    /// Node i goes down at `t` (µs); its timers are voided, it recovers after an
    /// exponential time of mean MTTR.
    pub(super) fn crash(&mut self, i: u32, t: u64) {
        let Some((_, mttr)) = self.p.dynamic else { return };
        let n = &mut self.nodes[i as usize];
        n.up = false;
        n.epoch += 1;
        self.backlogs.remove(&i);
        self.cert_crash(i);
        self.trace_line(t, i, self.nodes[i as usize].height, "crash", 0);
        let d = self.exp_us(mttr);
        self.schedule(t + d, Ev::Recover { node: i });
        self.check_stall_onset(t);
    }

    /// Node i comes back up at `t` (µs) with empty pools and an idle CPU; it crashes again
    /// after an exponential time of mean MTBF, asks a peer to catch up and is re-sent the
    /// pools of its peers.
    pub(super) fn recover(&mut self, i: u32, t: u64) {
        let Some((mtbf, _)) = self.p.dynamic else { return };
        {
            let n = &mut self.nodes[i as usize];
            n.up = true;
            n.epoch += 1;
            n.busy_until_us = t;
            n.pools.clear();
        }
        self.trace_line(t, i, self.nodes[i as usize].height, "recover", 0);
        let d = self.exp_us(mtbf);
        self.schedule(t + d, Ev::Crash { node: i });
        self.backlogs.insert(i, Vec::new());
        self.request_catch_up(i, t);
        self.resend_pools(i, t);
        self.stall_recovery(t);
    }

    /// Node i asks a random up honest peer (one that started a round and is not catching up
    /// itself) at `t` (µs) for its latest CUP and notarized tip; the reply comes back after
    /// two network delays. With no such peer it asks again after one unit delay U.
    pub(super) fn request_catch_up(&mut self, i: u32, t: u64) {
        let peers: Vec<u32> = self
            .nodes
            .iter()
            .filter(|x| {
                x.id != i && x.up && x.role == Role::Honest && x.height > 0 && !self.backlogs.contains_key(&x.id)
            })
            .map(|x| x.id)
            .collect();
        let epoch = self.nodes[i as usize].epoch;
        if peers.is_empty() {
            let peer = NO_PEER;
            return self.schedule(t + self.p.unit_us, Ev::CatchUpReply { node: i, epoch, peer });
        }
        let peer = peers[self.net.uniform_below(peers.len() as u32) as usize];
        let there = self.net.unicast_between(i, peer, t);
        let back = self.net.unicast_between(peer, i, there);
        self.schedule(back, Ev::CatchUpReply { node: i, epoch, peer });
    }

    /// Restarts node i at `t` (µs) from the peer's latest CUP plus the blocks after it: its
    /// finalized chain, its first notarized block at its notarized height, and the beacons up
    /// to there. Verifying the CUP costs `verify_us`. Then the node takes in, as if they
    /// arrived now, the messages it kept while catching up. Asks again if there was no peer,
    /// or the peer went down, is catching up itself or has no tip.
    pub(super) fn catch_up(&mut self, i: u32, peer: u32, t: u64) {
        if peer == NO_PEER || !self.nodes[peer as usize].up || self.backlogs.contains_key(&peer) {
            return self.request_catch_up(i, t);
        }
        let p = &self.nodes[peer as usize];
        let (hp, fp, bp) = (p.notarized_height, p.finalized_height, p.beacon_height);
        let Some(tip) = p.pools.get(&hp).and_then(|x| x.notarized.first().copied()) else {
            return self.request_catch_up(i, t);
        };
        let fin_block = self.ancestor_at(tip, fp);
        let cup_h = fp / self.p.cfg.cup_interval * self.p.cfg.cup_interval;
        let mut t1 = t;
        if cup_h > 0 {
            let cup_block = self.ancestor_at(fin_block, cup_h);
            self.ensure_ranking(cup_h);
            let signers = self.share_signers(cup_h);
            let digest = self.blocks[cup_block as usize].digest;
            if !self.art.cup(cup_h, &digest, &signers) {
                // No valid CUP can exist (too few valid signers): the node stays behind.
                self.backlogs.remove(&i);
                return;
            }
            t1 = self.cpu(i, t, self.p.cfg.costs.verify_us);
        }
        let beacon_h = hp.min(self.beacons_combined() - 1).max(bp);
        let n = &mut self.nodes[i as usize];
        n.pools.clear();
        let mark = |pool: &mut HeightPool, b: BlockId, fin: bool| {
            let st = pool.blocks.entry(b).or_default();
            st.received = true;
            st.notarized = true;
            st.finalized = fin;
            pool.notarized.push(b);
        };
        mark(n.pool(fp), fin_block, true);
        if hp > fp {
            mark(n.pool(hp), tip, false);
        }
        n.finalized_height = fp;
        n.notarized_height = hp;
        n.beacon_height = beacon_h;
        n.height = hp;
        n.busy_until_us = t1;
        self.cert_catch_up(i, fp, t1);
        self.trace_line(t1, i, hp, "catch_up", 0);
        for msg in self.backlogs.remove(&i).unwrap_or_default() {
            self.deliver(i, msg, t1);
        }
        self.maybe_advance(i, t1);
    }

    /// The ancestor of block b at height h (b itself if it is not above h).
    fn ancestor_at(&self, mut b: BlockId, h: u64) -> BlockId {
        while self.blocks[b as usize].height > h {
            b = self.blocks[b as usize].parent;
        }
        b
    }

    /// Number of beacons combined in the replica (heights 0 up to it, exclusive).
    fn beacons_combined(&self) -> u64 {
        let mut k = 0;
        while self.art.beacon(k).is_some() {
            k += 1;
        }
        k
    }
}

#[cfg(test)]
mod tests {
    use super::super::fixture::{fixture, HONEST};
    use super::super::{Ev, Sim};
    use crate::fine::agents::BlockId;

    /// A recovered node adopts a peer's finalized block and notarized tip and resumes from
    /// the tip's height.
    #[test]
    fn recovering_node_catches_up_from_a_peers_tip() {
        let (mut sim, b1, b2) = peer_at_height_2("");
        let i = 3;
        sim.nodes[i as usize].pools.clear();
        sim.catch_up(i, 1, 9_000);
        let n = &sim.nodes[i as usize];
        assert_eq!((n.finalized_height, n.notarized_height, n.beacon_height), (1, 2, 1));
        assert_eq!(n.height, 2, "no beacon of height 2 yet: stays in round 2");
        assert!(n.pools[&1].blocks[&b1].finalized);
        assert_eq!(n.pools[&2].notarized, [b2]);
    }

    /// With a CUP at the peer's finalized height, the node combines and verifies it first:
    /// `verify_us` (600 µs) of CPU before it resumes.
    #[test]
    fn catch_up_verifies_the_peers_cup() {
        let (mut sim, _, _) = peer_at_height_2("cup_interval = 1\ncrypto_time = true");
        let combinations = sim.art.stats.combinations;
        sim.catch_up(3, 1, 9_000);
        assert_eq!(sim.art.stats.combinations, combinations + 1);
        assert_eq!(sim.nodes[3].busy_until_us, 9_600);
        assert_eq!(sim.nodes[3].finalized_height, 1);
    }

    /// The fixture with peer 1 at notarized height 2 (block b2 on b1) and finalized height 1.
    fn peer_at_height_2(fine: &str) -> (Sim, BlockId, BlockId) {
        let mut sim = fixture(HONEST, fine);
        let b1 = sim.block(1, 0);
        sim.advance_beacon(1);
        let b2 = sim.block_on(2, 0, b1);
        let p = &mut sim.nodes[1];
        p.pool(1).notarized.push(b1);
        p.pool(2).notarized.push(b2);
        p.notarized_height = 2;
        p.finalized_height = 1;
        p.beacon_height = 1;
        (sim, b1, b2)
    }

    /// The catch-up request goes to an up honest peer other than the node itself.
    #[test]
    fn catch_up_request_goes_to_another_up_honest_node() {
        let mut sim = fixture(HONEST, "");
        sim.nodes[0].up = false;
        sim.request_catch_up(3, 0);
        let mut replies = Vec::new();
        while let Some((t, ev)) = sim.q.pop() {
            if let Ev::CatchUpReply { node, peer, .. } = ev {
                replies.push((t, node, peer));
            }
        }
        assert_eq!(replies.len(), 1);
        let (t, node, peer) = replies[0];
        assert_eq!((t, node), (200_000, 3), "two constant 100 ms delays");
        assert!(peer == 1 || peer == 2);
    }
}
