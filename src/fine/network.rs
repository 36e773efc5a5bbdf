//! The simulated network: per-message one-way delays drawn from the scenario's distribution
//! (inverse CDF of a seeded uniform) plus, with `[network] latency_matrix`, the (sender,
//! receiver) pair's base latency, delivered by full-mesh broadcast or over a gossip overlay in
//! which every node relays to k random neighbours (each hop takes the base latency between
//! its two endpoints).
//!
//! Gossip is computed as flooding: a message's arrival time at each node is its earliest
//! arrival over overlay paths (Dijkstra with a fresh delay draw per traversed edge, in a
//! deterministic order), where only relaying nodes (up, not silent) forward. This equals
//! relaying every artifact on first receipt to all neighbours, without one event per hop.

use crate::dist::Delay;
use rand::rngs::StdRng;
use rand::{Rng, RngCore, SeedableRng};

use std::cmp::Reverse;
use std::collections::BinaryHeap;

pub struct Network {
    delay: Delay,
    /// Base latency per (sender, receiver), µs, row-major n x n; empty: none.
    base_us: Vec<u64>,
    /// The receiver's processing delay (`[node] processing`), added to every message.
    processing: Delay,
    /// Undirected overlay adjacency (empty: full mesh).
    pub overlay: Vec<Vec<u32>>,
    rng: StdRng,
    /// Scratch for gossip flooding.
    dist: Vec<u64>,
    /// Messages delivered so far (one per recipient).
    pub deliveries: u64,
}

/// A uniform in (0, 1) from 53 random bits (never 0 or 1).
fn open_unit(rng: &mut impl RngCore) -> f64 {
    ((rng.next_u64() >> 11) as f64 + 0.5) / (1u64 << 53) as f64
}

impl Network {
    /// A network of `n` nodes; `fanout` = 0 for full mesh, else each node picks `fanout`
    /// distinct random neighbours (edges are used in both directions). Every message also
    /// takes a `processing` delay at its receiver (a relay hop at each relaying node), and
    /// `base_us[s n + r]` µs from s to r (row-major n x n; empty for none).
    pub fn new(delay: Delay, processing: Delay, base_us: Vec<u64>, n: u32, fanout: u32, seed: u64) -> Self {
        assert!(base_us.is_empty() || base_us.len() == (n as usize) * (n as usize));
        let mut rng = StdRng::seed_from_u64(seed);
        let mut overlay = vec![Vec::new(); if fanout > 0 { n as usize } else { 0 }];
        if fanout > 0 {
            for i in 0..n {
                let mut picked = 0;
                // Stop when i already links to every other node (edges picked by others
                // count): no new neighbour exists, and drawing on would never end.
                while picked < fanout.min(n - 1) && overlay[i as usize].len() < (n - 1) as usize {
                    let j = rng.random_range(0..n);
                    if j != i && !overlay[i as usize].contains(&j) {
                        overlay[i as usize].push(j);
                        if !overlay[j as usize].contains(&i) {
                            overlay[j as usize].push(i);
                        }
                        picked += 1;
                    }
                }
            }
            for adj in overlay.iter_mut() {
                adj.sort_unstable();
                adj.dedup();
            }
        }
        Network {
            delay,
            base_us,
            processing,
            overlay,
            rng,
            dist: vec![u64::MAX; n as usize],
            deliveries: 0,
        }
    }

    /// The same network (delays, latency matrix, processing, overlay) with its own stream of
    /// draws from `seed` and its own delivery count: traffic on it leaves this one's draws
    /// untouched.
    pub fn fork(&self, seed: u64) -> Network {
        Network {
            delay: self.delay.clone(),
            base_us: self.base_us.clone(),
            processing: self.processing.clone(),
            overlay: self.overlay.clone(),
            rng: StdRng::seed_from_u64(seed),
            dist: vec![u64::MAX; self.dist.len()],
            deliveries: 0,
        }
    }

    /// Whether messages go over a gossip overlay (else full mesh).
    pub fn is_gossip(&self) -> bool {
        !self.overlay.is_empty()
    }

    /// The base latency from `from` to `to`, µs (0 without a latency matrix).
    pub fn base_us(&self, from: u32, to: u32) -> u64 {
        if self.base_us.is_empty() {
            0
        } else {
            self.base_us[(from as usize) * self.dist.len() + to as usize]
        }
    }

    /// One message's delay, µs: its one-way network delay plus the receiver's processing
    /// delay (a second, independent draw unless the processing delay is constant).
    pub fn sample_us(&mut self) -> u64 {
        let u = open_unit(&mut self.rng);
        let d = (self.delay.quantile_ms(u) * 1000.0).round().max(0.0) as u64;
        let ms = match self.processing {
            Delay::Constant { ms } => ms,
            ref p => p.quantile_ms(open_unit(&mut self.rng)),
        };
        d + (ms * 1000.0).round().max(0.0) as u64
    }

    /// Arrival times `(node, µs)` at every other node of a message `from` sends at `t_us`.
    /// `relays(i)`: whether node i forwards (gossip only).
    pub fn broadcast(&mut self, from: u32, t_us: u64, relays: impl Fn(u32) -> bool, out: &mut Vec<(u32, u64)>) {
        out.clear();
        let n = self.dist.len() as u32;
        if !self.is_gossip() {
            for j in 0..n {
                if j != from {
                    let d = self.sample_us() + self.base_us(from, j);
                    out.push((j, t_us + d));
                }
            }
        } else {
            self.dist.iter_mut().for_each(|d| *d = u64::MAX);
            self.dist[from as usize] = t_us;
            let mut heap = BinaryHeap::new();
            heap.push(Reverse((t_us, from)));
            while let Some(Reverse((t, i))) = heap.pop() {
                if t > self.dist[i as usize] {
                    continue;
                }
                if i != from {
                    out.push((i, t));
                    if !relays(i) {
                        continue;
                    }
                }
                for k in 0..self.overlay[i as usize].len() {
                    let j = self.overlay[i as usize][k];
                    if self.dist[j as usize] <= t {
                        continue;
                    }
                    let arr = t + self.sample_us() + self.base_us(i, j);
                    if arr < self.dist[j as usize] {
                        self.dist[j as usize] = arr;
                        heap.push(Reverse((arr, j)));
                    }
                }
            }
        }
        self.deliveries += out.len() as u64;
    }

    /// Arrival time of a point-to-point message sent at `t_us` (gossip: one overlay hop
    /// count is not modeled for requests/replies; a single delay).
    pub fn unicast(&mut self, t_us: u64) -> u64 {
        self.deliveries += 1;
        t_us + self.sample_us()
    }

    /// Arrival time of a message node `from` sends node `to` at `t_us`: one delay plus the
    /// pair's base latency.
    pub fn unicast_between(&mut self, from: u32, to: u32, t_us: u64) -> u64 {
        self.deliveries += 1;
        t_us + self.sample_us() + self.base_us(from, to)
    }

    /// Arrival time of `count` (> 0) messages node `from` sends node `to` together at `t_us`
    /// over one connection: one delay (plus the pair's base latency) for the whole batch (a
    /// reconnection's re-sent pool, say).
    pub fn unicast_batch(&mut self, from: u32, to: u32, t_us: u64, count: u64) -> u64 {
        self.deliveries += count;
        t_us + self.sample_us() + self.base_us(from, to)
    }

    /// A uniform draw from the network's stream (for choices such as catch-up peers).
    pub fn uniform_below(&mut self, n: u32) -> u32 {
        self.rng.random_range(0..n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mesh_reaches_everyone_after_one_delay() {
        let mut net = Network::new(
            Delay::Constant { ms: 100.0 },
            Delay::Constant { ms: 0.0 },
            Vec::new(),
            5,
            0,
            1,
        );
        let mut out = Vec::new();
        net.broadcast(2, 1000, |_| true, &mut out);
        assert_eq!(out.len(), 4);
        assert!(out.iter().all(|&(j, t)| j != 2 && t == 101_000));
    }

    #[test]
    fn gossip_floods_along_shortest_paths_and_skips_non_relays() {
        let mut net = Network::new(
            Delay::Constant { ms: 10.0 },
            Delay::Constant { ms: 0.0 },
            Vec::new(),
            200,
            3,
            7,
        );
        let mut out = Vec::new();
        net.broadcast(0, 0, |_| true, &mut out);
        assert_eq!(out.len(), 199, "the overlay is connected");
        let hops_max = out.iter().map(|&(_, t)| t / 10_000).max().unwrap();
        assert!((2..20).contains(&hops_max), "{hops_max} hops");
        for &(j, t) in &out {
            let via_neighbour = net.overlay[j as usize]
                .iter()
                .any(|&k| k == 0 || out.iter().any(|&(m, tm)| m == k && tm + 10_000 == t));
            assert!(via_neighbour, "node {j} at {t}");
        }
        // Nobody relays: only the sender's neighbours hear it.
        net.broadcast(0, 0, |_| false, &mut out);
        assert_eq!(out.len(), net.overlay[0].len());
    }

    #[test]
    fn overlay_with_fanout_near_n_terminates() {
        // Fanout 2 among 3 nodes: the third node's neighbours are all taken by the others'
        // picks; the generator must stop instead of drawing forever.
        for (n, k) in [(3, 2), (4, 3), (5, 4), (3, 9)] {
            let net = Network::new(
                Delay::Constant { ms: 1.0 },
                Delay::Constant { ms: 0.0 },
                Vec::new(),
                n,
                k,
                7,
            );
            assert!(
                net.overlay.iter().all(|adj| adj.len() == (n - 1) as usize),
                "n {n} k {k}"
            );
        }
    }

    #[test]
    fn base_latency_is_added_per_pair_and_per_hop() {
        // 3 nodes, base[s][r] = 10 s + r ms, constant jitter 1 ms.
        let base: Vec<u64> = (0..9u64)
            .map(|i| {
                if i / 3 == i % 3 {
                    0
                } else {
                    (10 * (i / 3) + i % 3) * 1000
                }
            })
            .collect();
        let mut net = Network::new(
            Delay::Constant { ms: 1.0 },
            Delay::Constant { ms: 0.0 },
            base.clone(),
            3,
            0,
            1,
        );
        let mut out = Vec::new();
        net.broadcast(2, 0, |_| true, &mut out);
        assert_eq!(out, vec![(0, 21_000), (1, 22_000)]);
        assert_eq!(net.unicast_between(0, 1, 5), 5 + 2_000);
        // Gossip over the full triangle: 1 -> 0 direct (11 ms) or via 2 (13 + 21 ms).
        let mut g = Network::new(Delay::Constant { ms: 1.0 }, Delay::Constant { ms: 0.0 }, base, 3, 1, 1);
        g.overlay = vec![vec![1, 2], vec![0, 2], vec![0, 1]];
        g.broadcast(1, 0, |_| true, &mut out);
        out.sort();
        assert_eq!(out, vec![(0, 11_000), (2, 13_000)]);
    }
}
