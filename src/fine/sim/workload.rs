//! Workload: clients submit requests as Poisson processes through boundary nodes; a request
//! reaches the ingress pools two network delays later and waits there until a block that
//! carries it is finalized.

use super::{Ev, Sim};
use crate::fine::agents::{BlockId, Client, IcNode, Request};
use crate::scenario::FineConfig;
use std::collections::HashSet;

/// Ingress messages per block (deployed limit).
const MAX_BLOCK_REQUESTS: usize = 1000;

/// The configured clients, spread round-robin over the boundary nodes.
pub(super) fn clients(nodes: &[IcNode], cfg: &FineConfig) -> Vec<Client> {
    let boundary_ids: Vec<u32> = nodes.iter().filter(|x| x.is_boundary).map(|x| x.id).collect();
    (0..cfg.clients)
        .map(|c| Client {
            id: c,
            boundary_node: boundary_ids[c as usize % boundary_ids.len()],
            rate_per_s: cfg.request_rate_per_s,
        })
        .collect()
}

impl Sim {
    /// Schedules each active client's first request (one exponential draw each, in id order).
    pub(super) fn start_clients(&mut self) {
        for c in 0..self.clients.len() as u32 {
            if self.clients[c as usize].rate_per_s > 0.0 {
                let d = self.exp_us(1000.0 / self.clients[c as usize].rate_per_s);
                self.schedule(d, Ev::Request { client: c });
            }
        }
    }

    /// Client c submits a request at `t` (µs): it is in the ingress pools after two network
    /// delays (client to boundary node, boundary node to the subnet); the next one follows
    /// after an exponential time. Nothing once the run is done.
    pub(super) fn request(&mut self, c: u32, t: u64) {
        if self.done {
            return;
        }
        let client = self.clients[c as usize].clone();
        let id = self.requests.len() as u32;
        let at_boundary = self.net.unicast(t);
        let ingress = self.net.unicast(at_boundary);
        self.requests.push(Request {
            id,
            client: c,
            target_subnet: 0,
            cross_subnet_targets: Vec::new(),
            submitted_us: t,
            boundary_node: client.boundary_node,
            ingress_us: ingress,
            finalized_us: None,
        });
        self.pending.push_back(id);
        self.monitor.requests.submitted += 1;
        let d = self.exp_us(1000.0 / client.rate_per_s);
        self.schedule(t + d, Ev::Request { client: c });
    }

    /// Payload of node i's block on `parent` at `t` (µs): requests in the ingress pool at `t`
    /// that are neither finalized nor in the chain from `parent` down to the node's finalized
    /// height, oldest first, at most 1000.
    pub(super) fn select_payload(&self, i: u32, parent: BlockId, t: u64) -> Vec<u32> {
        let fin = self.nodes[i as usize].finalized_height;
        let mut in_chain = HashSet::new();
        let mut b = parent;
        while self.blocks[b as usize].height > fin {
            in_chain.extend(self.blocks[b as usize].payload.iter().copied());
            b = self.blocks[b as usize].parent;
        }
        self.pending
            .iter()
            .copied()
            .filter(|&r| {
                let q = &self.requests[r as usize];
                q.ingress_us <= t && q.finalized_us.is_none() && !in_chain.contains(&r)
            })
            .take(MAX_BLOCK_REQUESTS)
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::super::fixture::{fixture, HONEST};

    /// A request is in the pool two constant 100 ms delays after submission.
    #[test]
    fn request_reaches_the_ingress_pool_after_two_network_delays() {
        let mut sim = fixture(HONEST, "clients = 1");
        sim.request(0, 1_000);
        assert_eq!(sim.requests[0].ingress_us, 201_000);
        assert_eq!(sim.pending, [0]);
        assert_eq!(sim.select_payload(3, 0, 200_999), Vec::<u32>::new());
        assert_eq!(sim.select_payload(3, 0, 201_000), [0]);
    }

    /// Requests already in the chain above the finalized height are left out; at most 1000.
    #[test]
    fn payload_excludes_the_chain_and_is_capped_at_1000() {
        let mut sim = fixture(HONEST, "clients = 1");
        for k in 0..1003 {
            sim.request(0, k);
        }
        let b1 = sim.block(1, 0);
        sim.blocks[b1 as usize].payload = vec![0, 2];
        let p = sim.select_payload(3, b1, 10_000_000);
        assert_eq!(p.len(), 1000);
        assert_eq!(&p[..3], [1, 3, 4]);
        assert_eq!(p[999], 1001);
        sim.nodes[3].finalized_height = 1;
        assert_eq!(
            sim.select_payload(3, b1, 10_000_000)[..2],
            [0, 1],
            "finalized part excluded from the check"
        );
    }
}
