//! Random beacon and membership: f + 1 beacon shares of height h combine into beacon h, which
//! seeds the block-maker ranking and the committee of h + 1.

use super::{Emit, Ev, Sim};
use crate::fine::agents::{Role, SignerSet};
use crate::fine::artifacts::ShareKind;
use crate::fine::crypto;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

impl Sim {
    /// Makes sure makers and committee of height `h` are known (needs beacon h - 1). Both are
    /// Fisher-Yates shuffles seeded by SHA-256(purpose, h, beacon h - 1): the first f + 1
    /// of one are the makers in rank order, the first 3f + 1 of the other the committee.
    pub(super) fn ensure_ranking(&mut self, h: u64) {
        while self.rankings.len() as u64 <= h {
            let k = self.rankings.len() as u64;
            if k == 0 {
                self.rankings.push(Vec::new());
                self.committees.push(SignerSet::default());
                continue;
            }
            let beacon = crypto::sig_bytes(self.art.beacon(k - 1).expect("beacon of h - 1 before round h"));
            let shuffle = |purpose: &[u8], n: u32| -> Vec<u32> {
                let seed = crypto::sha256(&[purpose, &k.to_le_bytes(), &beacon].concat());
                let mut r = StdRng::from_seed(seed);
                let mut v: Vec<u32> = (0..n).collect();
                for x in 0..v.len() {
                    let j = r.random_range(x..v.len());
                    v.swap(x, j);
                }
                v
            };
            let ranking = shuffle(b"BlockmakerRanking", self.p.n);
            let committee = shuffle(b"CommitteeSampling", self.p.n);
            let mut cs = SignerSet::default();
            for &i in committee.iter().take(self.p.committee as usize) {
                cs.insert(i);
            }
            self.rankings.push(ranking[..self.p.makers as usize].to_vec());
            self.committees.push(cs);
        }
    }

    /// Rank of node i among the block makers of height h (None: not a maker).
    pub(super) fn rank_of(&self, h: u64, i: u32) -> Option<u32> {
        self.rankings[h as usize].iter().position(|&x| x == i).map(|r| r as u32)
    }

    /// Node i is in the committee of height h.
    pub(super) fn in_committee(&self, h: u64, i: u32) -> bool {
        self.committees.get(h as usize).is_some_and(|c| c.contains(i))
    }

    /// Committee members of height h that send shares: (node, sends an invalid share).
    pub(super) fn share_signers(&self, h: u64) -> Vec<(u32, bool)> {
        self.committees[h as usize]
            .iter()
            .filter(|&i| self.nodes[i as usize].role.signs())
            .map(|i| (i, self.nodes[i as usize].role == Role::InvalidShare))
            .collect()
    }

    /// Node i's beacon share for height h over (h, beacon of h - 1), if it is a signing
    /// committee member (prepares the shares of all signers of h).
    pub(super) fn beacon_share(&mut self, i: u32, h: u64) -> Option<Emit> {
        if !self.nodes[i as usize].role.signs() || !self.in_committee(h, i) {
            return None;
        }
        let signers = self.share_signers(h);
        let subject = self.art.beacon_subject(h);
        self.art.prepare(ShareKind::Beacon, h, &subject, &signers);
        Some(Emit::Signed(super::Msg::BeaconShare(h, i)))
    }

    /// Combines node i's next beacon at `t` (µs) once f + 1 valid shares are in its pool; it
    /// is ready after `combine_us + verify_us` of CPU.
    pub(super) fn check_beacon(&mut self, i: u32, t: u64) {
        let n = &self.nodes[i as usize];
        let h = n.beacon_height + 1;
        let Some(pool) = n.pools.get(&h) else { return };
        if pool.beacon_shares.len() < self.p.beacon_threshold {
            return;
        }
        let shares = pool.beacon_shares.clone();
        if !self.art.combine_beacon(h, &shares) {
            return;
        }
        let c = &self.p.cfg.costs;
        let t1 = self.cpu(i, t, c.combine_us + c.verify_us);
        let epoch = self.nodes[i as usize].epoch;
        // Mark as in progress so shares arriving meanwhile do not combine again.
        self.nodes[i as usize].pool(h).beacon_shares = SignerSet::default();
        if t1 == t {
            self.beacon_ready(i, h, t);
        } else {
            let ev = Ev::BeaconReady {
                node: i,
                epoch,
                height: h,
            };
            self.apply(i, t, [Emit::Timer { at_us: t1, ev }]);
        }
    }

    /// Node i holds beacon h at `t` (µs): it may start the next round and combine the next
    /// beacon. Beacons are taken in height order.
    pub(super) fn beacon_ready(&mut self, i: u32, h: u64, t: u64) {
        let n = &mut self.nodes[i as usize];
        if h != n.beacon_height + 1 {
            return;
        }
        n.beacon_height = h;
        self.trace_line(t, i, h, "beacon", 0);
        self.maybe_advance(i, t);
        self.check_beacon(i, t);
    }
}

#[cfg(test)]
mod tests {
    use super::super::fixture::{fixture, HONEST};
    use super::super::{Emit, Msg};

    /// f + 1 = 2 valid shares combine the beacon (not 1), and it counts once.
    #[test]
    fn beacon_combines_at_f_plus_one_shares() {
        let mut sim = fixture(HONEST, "");
        let i = 3;
        sim.process(i, Msg::BeaconShare(1, 0), 0);
        assert_eq!(sim.nodes[i as usize].beacon_height, 0);
        sim.process(i, Msg::BeaconShare(1, 1), 0);
        assert_eq!(sim.nodes[i as usize].beacon_height, 1);
        assert!(sim.art.beacon(1).is_some());
    }

    /// Every committee member of the 4-node subnet signs a beacon share; rankings hold the
    /// f + 1 = 2 makers and the committee all 3f + 1 = 4 nodes.
    #[test]
    fn every_signer_emits_a_beacon_share_and_membership_has_the_right_sizes() {
        let mut sim = fixture(HONEST, "");
        assert_eq!(sim.rankings[1].len(), 2);
        assert_eq!(sim.committees[1].len(), 4);
        let r0 = sim.rankings[1][0];
        assert_eq!(sim.rank_of(1, r0), Some(0));
        assert!(matches!(
            sim.beacon_share(2, 1),
            Some(Emit::Signed(Msg::BeaconShare(1, 2)))
        ));
    }
}
