//! Round structure: every node starts at height 0 holding genesis, notarized and finalized.
//! It enters round h once it holds a notarization and the beacon of h - 1; at the start it
//! schedules its proposal, signs its beacon share and looks for something to notarize.

use super::{Sim, SimParams};
use crate::fine::agents::{role_of, BlockState, HeightPool, IcNode, Role};
use crate::fine::network::Network;
use std::collections::BTreeMap;

/// Node `i` at genesis: it holds block 0, notarized and finalized.
pub(super) fn genesis_node(i: u32, p: &SimParams, net: &Network, boundary: u32) -> IcNode {
    let role = role_of(i, p.role_counts);
    let mut g = HeightPool::default();
    g.blocks.insert(
        0,
        BlockState {
            received: true,
            notarized: true,
            finalized: true,
            ..Default::default()
        },
    );
    g.notarized.push(0);
    IcNode {
        id: i,
        subnet: 0,
        data_center: i,
        neighbours: net.overlay.get(i as usize).cloned().unwrap_or_default(),
        is_boundary: i >= p.n - boundary,
        role,
        up: role != Role::Crashed,
        epoch: 0,
        busy_until_us: 0,
        height: 0,
        round_start_us: 0,
        notarized_height: 0,
        finalized_height: 0,
        beacon_height: 0,
        pools: BTreeMap::from([(0, g)]),
    }
}

impl Sim {
    /// Starts the next round(s) of node i at `t` (µs) while it holds notarization and beacon
    /// of its height.
    pub(super) fn maybe_advance(&mut self, i: u32, t: u64) {
        loop {
            let n = &self.nodes[i as usize];
            let h = n.height;
            let notarized = n.pools.get(&h).is_some_and(|p| !p.notarized.is_empty());
            if !(notarized && n.beacon_height >= h) {
                return;
            }
            self.start_round(i, h + 1, t);
        }
    }

    /// Node i enters round h at `t` (µs): T0 = `t`. Order matters (it fixes the event order):
    /// proposal timer, beacon share, early beacon shares, notary.
    fn start_round(&mut self, i: u32, h: u64, t: u64) {
        self.ensure_ranking(h);
        {
            let n = &mut self.nodes[i as usize];
            n.height = h;
            n.round_start_us = t;
        }
        self.monitor.round_start(i, h, t);
        self.trace_line(t, i, h, "round_start", 0);
        let timer = self.proposal_timer(i, h, t);
        self.apply(i, t, timer);
        let share = self.beacon_share(i, h);
        self.apply(i, t, share);
        // Beacon shares of h that arrived early may already complete it.
        self.check_beacon(i, t);
        self.try_notarize(i, h, t);
    }
}

#[cfg(test)]
mod tests {
    use super::super::fixture::{fixture, HONEST};
    use super::super::Msg;

    /// The round advances only with both the notarization and the beacon of h - 1.
    #[test]
    fn round_advances_with_notarization_and_beacon_of_previous_height() {
        let mut sim = fixture(HONEST, "");
        let b = sim.block(1, 0);
        let (i, j) = (2, 3);
        sim.nodes[i as usize].pool(1).notarized.push(b);
        sim.maybe_advance(i, 5_000);
        assert_eq!(sim.nodes[i as usize].height, 1, "no beacon of height 1 yet");
        for node in [i, j] {
            sim.process(node, Msg::BeaconShare(1, 0), 7_000);
            sim.process(node, Msg::BeaconShare(1, 1), 7_000);
            assert_eq!(sim.nodes[node as usize].beacon_height, 1);
        }
        assert_eq!(sim.nodes[j as usize].height, 1, "no notarization of height 1 at j");
        assert_eq!(sim.nodes[i as usize].height, 2);
        assert_eq!(sim.nodes[i as usize].round_start_us, 7_000);
    }
}
