//! One replica of the fine engine: every node runs ICC on its own view (see
//! `../shared/ICC-MODEL.md`), messages cross the simulated network, crypto is real.
//!
//! Per node and height h (its round): the round starts when the node holds a notarization and
//! the beacon of h - 1; it then signs its beacon share for h, and if it is the rank-r block
//! maker it proposes at T0 + r U unless it has seen a valid block of lower rank. As a committee
//! member it notarization-signs every block of the lowest rank seen (parent notarized in its
//! view) once that rank's notary delay N0 + r U 1.5^g has passed since T0 (g = its notarized -
//! finalized height, evaluated when it decides), never a rank higher than one it signed. 2f+1
//! valid shares on a block notarize it: the node ends the round and relays the notarization.
//! It signs a finalization share iff it saw exactly one notarized block at h and signed no
//! other block at h; 2f+1 finalization shares finalize the block and its ancestors.
//!
//! Modeled CPU time (`[fine] crypto_time`): each node has one CPU that performs its crypto in
//! arrival order; a received artifact takes effect once verified, a signature is sent once made.

use super::agents::*;
use super::artifacts::{Artifacts, ShareKind};
use super::config::FineConfig;
use super::events::{mix64, EventQueue};
use super::monitor::{Monitor, RequestStats};
use super::network::Network;
use crate::scenario::Scenario;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use std::collections::{HashSet, VecDeque};
use std::io::Write;
use std::rc::Rc;

/// Notary delays are capped here, µs (2^40 µs, as in the coarse model).
const MAX_NOTARY_DELAY_US: u64 = 1 << 40;
/// Ingress messages per block (deployed limit).
const MAX_BLOCK_REQUESTS: usize = 1000;

/// Parameters of a replica, derived from the scenario.
#[derive(Clone, Debug)]
pub struct SimParams {
    pub n: u32,
    pub f: u32,
    /// Committee size c = 3f + 1.
    pub committee: u32,
    /// Notarization/finalization quorum c - f.
    pub quorum: u32,
    /// Block makers f + 1.
    pub makers: u32,
    /// Beacon threshold f + 1.
    pub beacon_threshold: u32,
    pub unit_us: u64,
    pub n0_us: u64,
    pub backoff: bool,
    /// Heights to measure.
    pub rounds: u64,
    pub horizon_us: u64,
    /// (MTBF, MTTR) in ms for honest nodes, if dynamic failures are on.
    pub dynamic: Option<(f64, f64)>,
    /// crashed, silent, equivocating, invalid_share, notarize_all.
    pub role_counts: [u32; 5],
    pub cfg: FineConfig,
}

impl SimParams {
    pub fn from_scenario(s: &Scenario, cfg: &FineConfig, rounds: u64) -> Self {
        let n = s.subnet.nodes;
        let f = (n - 1) / 3;
        let committee = 3 * f + 1;
        let unit_us = (s.subnet.unit_delay_ms * 1000.0).round() as u64;
        let n0_us = (s.subnet.initial_notary_delay_ms * 1000.0).round() as u64;
        let horizon_us = if cfg.stall_horizon_ms > 0.0 {
            (cfg.stall_horizon_ms * 1000.0) as u64
        } else {
            (60_000_000u64).max(20 * (n0_us + unit_us))
        };
        SimParams {
            n,
            f,
            committee,
            quorum: committee - f,
            makers: f + 1,
            beacon_threshold: f + 1,
            unit_us,
            n0_us,
            backoff: s.subnet.finality_backoff,
            rounds,
            horizon_us,
            dynamic: s
                .dynamic_failures()
                .then_some((s.faults.mtbf_hours * 3.6e6, s.faults.mttr_hours * 3.6e6)),
            role_counts: [
                s.faults.crashed,
                s.faults.silent,
                s.faults.equivocating,
                cfg.invalid_share,
                cfg.notarize_all,
            ],
            cfg: cfg.clone(),
        }
    }

    /// Notary delay of a rank-`rank` block at finality gap `g`, µs.
    pub fn notary_delay_us(&self, rank: u32, g: u64) -> u64 {
        let factor = if self.backoff {
            1.5f64.powi(g.min(200) as i32)
        } else {
            1.0
        };
        let extra = (rank as f64 * self.unit_us as f64 * factor).min(MAX_NOTARY_DELAY_US as f64) as u64;
        self.n0_us + extra
    }
}

/// Messages between nodes.
#[derive(Clone, Debug)]
enum Msg {
    Block(BlockId),
    NotarShare(BlockId, u32),
    Notarization(BlockId, Rc<SignerSet>),
    FinalShare(BlockId, u32),
    Finalization(BlockId, Rc<SignerSet>),
    BeaconShare(u64, u32),
}

#[derive(Clone, Debug)]
enum Ev {
    /// A message arrives (its verification, if any, is still to be done).
    Deliver {
        to: u32,
        msg: Msg,
    },
    /// A message takes effect (verified, or made by the node itself).
    Process {
        to: u32,
        msg: Msg,
    },
    BeaconReady {
        node: u32,
        epoch: u32,
        height: u64,
    },
    MakeBlock {
        node: u32,
        epoch: u32,
        height: u64,
        rank: u32,
    },
    NotaryTimer {
        node: u32,
        epoch: u32,
        height: u64,
    },
    Crash {
        node: u32,
    },
    Recover {
        node: u32,
    },
    CatchUpReply {
        node: u32,
        epoch: u32,
        peer: u32,
    },
    Request {
        client: u32,
    },
    StallCheck,
}

/// Result of one replica.
pub struct ReplicaResult {
    pub monitor: Monitor,
    pub crypto: super::artifacts::CryptoStats,
    pub events: u64,
    pub messages: u64,
    pub sim_time_us: u64,
    pub requests: RequestStats,
}

/// One simulated subnet.
pub struct Sim {
    p: SimParams,
    nodes: Vec<IcNode>,
    blocks: Vec<Block>,
    requests: Vec<Request>,
    pending: VecDeque<u32>,
    clients: Vec<Client>,
    q: EventQueue<Ev>,
    net: Network,
    pub art: Artifacts,
    /// Block makers of each height in rank order (index = height).
    rankings: Vec<Vec<u32>>,
    committees: Vec<SignerSet>,
    rng: StdRng,
    pub monitor: Monitor,
    trace: Option<Box<dyn Write>>,
    scratch: Vec<(u32, u64)>,
    max_notarized: u64,
    last_progress_us: u64,
    /// Blocks whose notarization/finalization was already flooded (gossip mode).
    flooded: HashSet<(BlockId, bool)>,
    now: u64,
    done: bool,
    pruned_below: u64,
}

impl Sim {
    /// Sets up replica keys, agents and the initial events from `seed`.
    pub fn new(s: &Scenario, p: SimParams, seed: u64, trace: Option<Box<dyn Write>>) -> Self {
        let n = p.n;
        let sub = |k: u64| mix64(seed ^ mix64(k));
        let art = Artifacts::setup(n, p.f, sub(1));
        let net = Network::new(s.network.delay.clone(), n, p.cfg.gossip_fanout, sub(2));
        let boundary = if p.cfg.boundary_nodes == 0 {
            n
        } else {
            p.cfg.boundary_nodes
        };
        let nodes: Vec<IcNode> = (0..n)
            .map(|i| {
                let role = role_of(i, p.role_counts);
                let mut pools = std::collections::BTreeMap::new();
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
                pools.insert(0, g);
                IcNode {
                    id: i,
                    subnet: 0,
                    data_center: i,
                    neighbours: net.overlay.get(i as usize).cloned().unwrap_or_default(),
                    is_boundary: i >= n - boundary,
                    role,
                    up: role != Role::Crashed,
                    epoch: 0,
                    busy_until_us: 0,
                    height: 0,
                    round_start_us: 0,
                    notarized_height: 0,
                    finalized_height: 0,
                    beacon_height: 0,
                    pools,
                }
            })
            .collect();
        let honest: Vec<u32> = nodes.iter().filter(|x| x.role == Role::Honest).map(|x| x.id).collect();
        let mut obs_rng = StdRng::seed_from_u64(sub(4));
        let observers: Vec<u32> = (0..p.rounds + 4)
            .map(|_| {
                if honest.is_empty() {
                    u32::MAX
                } else {
                    honest[obs_rng.random_range(0..honest.len())]
                }
            })
            .collect();
        let boundary_ids: Vec<u32> = nodes.iter().filter(|x| x.is_boundary).map(|x| x.id).collect();
        let clients: Vec<Client> = (0..p.cfg.clients)
            .map(|c| Client {
                id: c,
                boundary_node: boundary_ids[c as usize % boundary_ids.len()],
                rate_per_s: p.cfg.request_rate_per_s,
            })
            .collect();
        let genesis_digest = super::crypto::sha256(b"ictwin-genesis");
        let mut sim = Sim {
            q: EventQueue::new(sub(5)),
            nodes,
            blocks: vec![Block {
                id: 0,
                parent: 0,
                height: 0,
                rank: 0,
                maker: 0,
                variant: 0,
                payload: Vec::new(),
                digest: genesis_digest,
            }],
            requests: Vec::new(),
            pending: VecDeque::new(),
            clients,
            net,
            art,
            rankings: Vec::new(),
            committees: Vec::new(),
            rng: StdRng::seed_from_u64(sub(6)),
            monitor: Monitor::new(observers),
            trace,
            scratch: Vec::new(),
            max_notarized: 0,
            last_progress_us: 0,
            flooded: HashSet::new(),
            now: 0,
            done: false,
            pruned_below: 0,
            p,
        };
        sim.trace_line(0, u32::MAX, 0, "genesis", 0);
        // Dynamic failures: stationary start for honest nodes.
        if let Some((mtbf, mttr)) = sim.p.dynamic {
            for i in 0..n {
                if sim.nodes[i as usize].role != Role::Honest {
                    continue;
                }
                let up = sim.rng.random::<f64>() < mtbf / (mtbf + mttr);
                let mean = if up { mtbf } else { mttr };
                let d = sim.exp_us(mean);
                sim.nodes[i as usize].up = up;
                sim.q.push(
                    d,
                    if up {
                        Ev::Crash { node: i }
                    } else {
                        Ev::Recover { node: i }
                    },
                );
            }
        }
        for c in 0..sim.clients.len() as u32 {
            if sim.clients[c as usize].rate_per_s > 0.0 {
                let d = sim.exp_us(1000.0 / sim.clients[c as usize].rate_per_s);
                sim.q.push(d, Ev::Request { client: c });
            }
        }
        for i in 0..n {
            if sim.nodes[i as usize].up {
                sim.nodes[i as usize].height = 0;
                sim.maybe_advance(i, 0);
            }
        }
        sim.q.push(sim.p.horizon_us, Ev::StallCheck);
        sim
    }

    /// Exponential duration with mean `mean_ms`, µs (at least 1 µs).
    fn exp_us(&mut self, mean_ms: f64) -> u64 {
        let u: f64 = self.rng.random::<f64>();
        ((-(1.0 - u).ln() * mean_ms * 1000.0) as u64).max(1)
    }

    fn trace_line(&mut self, t: u64, node: u32, h: u64, kind: &str, rank: u32) {
        if let Some(w) = self.trace.as_mut() {
            let node = if node == u32::MAX {
                String::new()
            } else {
                node.to_string()
            };
            let _ = writeln!(w, "{:.3},{node},{h},{kind},{rank}", t as f64 / 1000.0);
        }
    }

    /// Runs until `rounds` heights are measured (plus a margin for their finalization) or
    /// the run stalls for good. `stop` aborts early (returns false).
    pub fn run(&mut self, stop: &std::sync::atomic::AtomicBool) -> bool {
        let mut k = 0u32;
        while !self.done {
            let Some((t, ev)) = self.q.pop() else {
                self.stall_for_good();
                break;
            };
            self.now = t;
            self.handle(t, ev);
            k = k.wrapping_add(1);
            if k.is_multiple_of(4096) && stop.load(std::sync::atomic::Ordering::Relaxed) {
                return false;
            }
        }
        if let Some(w) = self.trace.as_mut() {
            let _ = w.flush();
        }
        true
    }

    /// Result of the replica.
    pub fn result(self) -> ReplicaResult {
        ReplicaResult {
            crypto: self.art.stats.clone(),
            events: self.q.processed(),
            messages: self.net.deliveries,
            sim_time_us: self.now,
            requests: self.monitor.requests.clone(),
            monitor: self.monitor,
        }
    }

    fn stall_for_good(&mut self) {
        self.trace_line(self.now, u32::MAX, self.max_notarized + 1, "stall", 0);
        self.done = true;
    }

    fn handle(&mut self, t: u64, ev: Ev) {
        match ev {
            Ev::Deliver { to, msg } => self.deliver(to, msg, t),
            Ev::Process { to, msg } => {
                if self.nodes[to as usize].up {
                    self.process(to, msg, t)
                }
            }
            Ev::BeaconReady { node, epoch, height } => {
                if self.alive(node, epoch) {
                    self.beacon_ready(node, height, t)
                }
            }
            Ev::MakeBlock {
                node,
                epoch,
                height,
                rank,
            } => {
                if self.alive(node, epoch) {
                    self.make_block(node, height, rank, t)
                }
            }
            Ev::NotaryTimer { node, epoch, height } => {
                if self.alive(node, epoch) {
                    self.try_notarize(node, height, t)
                }
            }
            Ev::Crash { node } => self.crash(node, t),
            Ev::Recover { node } => self.recover(node, t),
            Ev::CatchUpReply { node, epoch, peer } => {
                if self.alive(node, epoch) {
                    self.catch_up(node, peer, t)
                }
            }
            Ev::Request { client } => self.request(client, t),
            Ev::StallCheck => self.stall_check(t),
        }
    }

    fn alive(&self, i: u32, epoch: u32) -> bool {
        let n = &self.nodes[i as usize];
        n.up && n.epoch == epoch
    }

    /// Reserves `cost_us` of node i's CPU from `t`; returns when the work is done.
    fn cpu(&mut self, i: u32, t: u64, cost_us: f64) -> u64 {
        if !self.p.cfg.crypto_time || cost_us <= 0.0 {
            return t;
        }
        let n = &mut self.nodes[i as usize];
        let done = n.busy_until_us.max(t) + cost_us.round() as u64;
        n.busy_until_us = done;
        done
    }

    /// Sends `msg` from node `from` at `t` to every other node.
    fn broadcast(&mut self, from: u32, t: u64, msg: Msg) {
        let nodes = &self.nodes;
        self.net.broadcast(
            from,
            t,
            |j| nodes[j as usize].up && nodes[j as usize].role.relays(),
            &mut self.scratch,
        );
        for &(j, arr) in &self.scratch {
            self.q.push(
                arr,
                Ev::Deliver {
                    to: j,
                    msg: msg.clone(),
                },
            );
        }
    }

    // ---- rankings and committees ------------------------------------------------------

    /// Makes sure makers and committee of height `h` are known (needs beacon h - 1).
    fn ensure_ranking(&mut self, h: u64) {
        while self.rankings.len() as u64 <= h {
            let k = self.rankings.len() as u64;
            if k == 0 {
                self.rankings.push(Vec::new());
                self.committees.push(SignerSet::default());
                continue;
            }
            let beacon = super::crypto::sig_bytes(self.art.beacon(k - 1).expect("beacon of h - 1 before round h"));
            let shuffle = |purpose: &[u8], n: u32| -> Vec<u32> {
                let seed = super::crypto::sha256(&[purpose, &k.to_le_bytes(), &beacon].concat());
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

    fn rank_of(&self, h: u64, i: u32) -> Option<u32> {
        self.rankings[h as usize].iter().position(|&x| x == i).map(|r| r as u32)
    }

    fn in_committee(&self, h: u64, i: u32) -> bool {
        self.committees.get(h as usize).is_some_and(|c| c.contains(i))
    }

    /// Committee members of height h that send shares: (node, sends an invalid share).
    fn share_signers(&self, h: u64) -> Vec<(u32, bool)> {
        self.committees[h as usize]
            .iter()
            .filter(|&i| self.nodes[i as usize].role.signs())
            .map(|i| (i, self.nodes[i as usize].role == Role::InvalidShare))
            .collect()
    }

    // ---- round structure --------------------------------------------------------------

    /// Starts the next round(s) while the node holds notarization and beacon of its height.
    fn maybe_advance(&mut self, i: u32, t: u64) {
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

    fn start_round(&mut self, i: u32, h: u64, t: u64) {
        self.ensure_ranking(h);
        {
            let n = &mut self.nodes[i as usize];
            n.height = h;
            n.round_start_us = t;
        }
        self.monitor.round_start(i, h, t);
        self.trace_line(t, i, h, "round_start", 0);
        let role = self.nodes[i as usize].role;
        if role.proposes() {
            if let Some(r) = self.rank_of(h, i) {
                let epoch = self.nodes[i as usize].epoch;
                self.q.push(
                    t + r as u64 * self.p.unit_us,
                    Ev::MakeBlock {
                        node: i,
                        epoch,
                        height: h,
                        rank: r,
                    },
                );
            }
        }
        // Beacon share for height h over (h, beacon of h - 1).
        if role.signs() && self.in_committee(h, i) {
            let signers = self.share_signers(h);
            let subject = self.art.beacon_subject(h);
            self.art.prepare(ShareKind::Beacon, h, &subject, &signers);
            let t1 = self.cpu(i, t, self.p.cfg.costs.sign_us);
            self.broadcast(i, t1, Msg::BeaconShare(h, i));
            self.q.push(
                t1,
                Ev::Process {
                    to: i,
                    msg: Msg::BeaconShare(h, i),
                },
            );
        }
        // Beacon shares of h that arrived early may already complete it.
        self.check_beacon(i, t);
        self.try_notarize(i, h, t);
    }

    // ---- block making -----------------------------------------------------------------

    fn make_block(&mut self, i: u32, h: u64, rank: u32, t: u64) {
        let n = &self.nodes[i as usize];
        if n.height != h {
            return;
        }
        let lower_seen = n.pools.get(&h).is_some_and(|pool| {
            !pool.notarized.is_empty()
                || pool
                    .blocks
                    .iter()
                    .any(|(&b, st)| st.received && self.blocks[b as usize].rank < rank)
        });
        if lower_seen {
            return;
        }
        let parent = n.pools[&(h - 1)].notarized[0];
        let payload = self.select_payload(i, parent, t);
        let variants = if n.role == Role::Equivocating { 2 } else { 1 };
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
            let t1 = self.cpu(i, t, self.p.cfg.costs.sign_us);
            self.trace_line(t1, i, h, "block_proposed", rank);
            self.broadcast(i, t1, Msg::Block(id));
            self.q.push(
                t1,
                Ev::Process {
                    to: i,
                    msg: Msg::Block(id),
                },
            );
        }
    }

    /// Requests in the ingress pool at `t` that are neither finalized nor in the chain from
    /// `parent` down to the node's finalized height (at most 1000).
    fn select_payload(&self, i: u32, parent: BlockId, t: u64) -> Vec<u32> {
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

    // ---- notarization ------------------------------------------------------------------

    fn parent_notarized(&self, i: u32, b: BlockId) -> bool {
        let blk = &self.blocks[b as usize];
        let n = &self.nodes[i as usize];
        n.pools
            .get(&(blk.height - 1))
            .and_then(|p| p.blocks.get(&blk.parent))
            .is_some_and(|s| s.notarized)
    }

    fn try_notarize(&mut self, i: u32, h: u64, t: u64) {
        let n = &self.nodes[i as usize];
        if !n.up || n.height != h || !n.role.signs() || !self.in_committee(h, i) {
            return;
        }
        let Some(pool) = n.pools.get(&h) else { return };
        if n.role == Role::NotarizeAll {
            let todo: Vec<BlockId> = pool
                .blocks
                .iter()
                .filter(|(_, s)| s.received && !s.signed_notar)
                .map(|(&b, _)| b)
                .collect();
            for b in todo {
                self.sign_notarization(i, b, t);
            }
            return;
        }
        if !pool.notarized.is_empty() {
            return;
        }
        let candidates: Vec<BlockId> = pool
            .blocks
            .iter()
            .filter(|(&b, s)| s.received && self.parent_notarized(i, b))
            .map(|(&b, _)| b)
            .collect();
        let Some(r) = candidates.iter().map(|&b| self.blocks[b as usize].rank).min() else {
            return;
        };
        if pool.min_signed_rank.is_some_and(|ms| r > ms) {
            return;
        }
        let due = n.round_start_us + self.p.notary_delay_us(r, n.finality_gap());
        if t < due {
            if pool.notary_timer_us.is_none_or(|x| x > due) {
                let epoch = n.epoch;
                self.nodes[i as usize].pool(h).notary_timer_us = Some(due);
                self.q.push(
                    due,
                    Ev::NotaryTimer {
                        node: i,
                        epoch,
                        height: h,
                    },
                );
            }
            return;
        }
        let todo: Vec<BlockId> = candidates
            .into_iter()
            .filter(|b| self.blocks[*b as usize].rank == r && !pool.blocks[b].signed_notar)
            .collect();
        for b in todo {
            self.sign_notarization(i, b, t);
        }
        let pool = self.nodes[i as usize].pool(h);
        pool.min_signed_rank = Some(pool.min_signed_rank.map_or(r, |m| m.min(r)));
    }

    fn sign_notarization(&mut self, i: u32, b: BlockId, t: u64) {
        let h = self.blocks[b as usize].height;
        self.nodes[i as usize].pool(h).blocks.entry(b).or_default().signed_notar = true;
        let signers = self.share_signers(h);
        let digest = self.blocks[b as usize].digest;
        self.art.prepare(ShareKind::Notarization, b as u64, &digest, &signers);
        let t1 = self.cpu(i, t, self.p.cfg.costs.sign_us);
        self.trace_line(t1, i, h, "notarization_share", self.blocks[b as usize].rank);
        self.broadcast(i, t1, Msg::NotarShare(b, i));
        self.q.push(
            t1,
            Ev::Process {
                to: i,
                msg: Msg::NotarShare(b, i),
            },
        );
    }

    fn on_notarized(&mut self, i: u32, b: BlockId, signers: Rc<SignerSet>, t: u64) {
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
            pool.notarized.push(b);
            first = pool.notarized.len() == 1;
            n.notarized_height = n.notarized_height.max(h);
        }
        if signers
            .iter()
            .any(|s| !self.art.share_valid(ShareKind::Notarization, b as u64, s))
        {
            self.monitor.aggregates_with_invalid_shares += 1;
        }
        let n = &self.nodes[i as usize];
        let honest = n.role == Role::Honest;
        if first {
            let start = (n.height == h).then_some(n.round_start_us);
            self.monitor.notarized(i, honest, h, t, rank, start);
            self.trace_line(t, i, h, "notarized", rank);
            if honest && h > self.max_notarized {
                self.max_notarized = h;
                self.last_progress_us = t;
                self.q.push(t + self.p.horizon_us, Ev::StallCheck);
                if h >= self.p.rounds + 3 {
                    self.done = true;
                }
                self.maybe_prune();
            }
        }
        self.relay_aggregate(i, t, b, false, signers);
        self.maybe_sign_finalization(i, h, t);
        self.maybe_advance(i, t);
    }

    /// Relays a notarization (or finalization): every node in full mesh; in gossip mode
    /// only the first node that formed it floods it.
    fn relay_aggregate(&mut self, i: u32, t: u64, b: BlockId, finalization: bool, signers: Rc<SignerSet>) {
        if !self.nodes[i as usize].role.relays() {
            return;
        }
        if self.net.is_gossip() && !self.flooded.insert((b, finalization)) {
            return;
        }
        let msg = if finalization {
            Msg::Finalization(b, signers)
        } else {
            Msg::Notarization(b, signers)
        };
        self.broadcast(i, t, msg);
    }

    // ---- finalization ------------------------------------------------------------------

    fn maybe_sign_finalization(&mut self, i: u32, h: u64, t: u64) {
        let n = &self.nodes[i as usize];
        if !n.role.signs() || !self.in_committee(h, i) || h <= n.finalized_height {
            return;
        }
        let Some(pool) = n.pools.get(&h) else { return };
        let targets: Vec<BlockId> = if n.role == Role::NotarizeAll {
            pool.notarized
                .iter()
                .copied()
                .filter(|b| !pool.blocks[b].final_shares.contains(i))
                .collect()
        } else {
            let signed_other = pool
                .blocks
                .iter()
                .any(|(&b, s)| s.signed_notar && Some(&b) != pool.notarized.first());
            if pool.final_signed || pool.notarized.len() != 1 || signed_other {
                return;
            }
            pool.notarized.clone()
        };
        for b in targets {
            self.nodes[i as usize].pool(h).final_signed = true;
            let signers = self.share_signers(h);
            let digest = self.blocks[b as usize].digest;
            self.art.prepare(ShareKind::Finalization, b as u64, &digest, &signers);
            let t1 = self.cpu(i, t, self.p.cfg.costs.sign_us);
            self.trace_line(t1, i, h, "finalization_share", self.blocks[b as usize].rank);
            self.broadcast(i, t1, Msg::FinalShare(b, i));
            self.q.push(
                t1,
                Ev::Process {
                    to: i,
                    msg: Msg::FinalShare(b, i),
                },
            );
        }
    }

    fn on_finalized(&mut self, i: u32, b: BlockId, signers: Rc<SignerSet>, t: u64) {
        let h = self.blocks[b as usize].height;
        {
            let st = self.nodes[i as usize].pool(h).blocks.entry(b).or_default();
            if st.finalized {
                return;
            }
            st.finalized = true;
        }
        if signers
            .iter()
            .any(|s| !self.art.share_valid(ShareKind::Finalization, b as u64, s))
        {
            self.monitor.aggregates_with_invalid_shares += 1;
        }
        self.monitor.direct_finalization(i, h, t);
        self.trace_line(t, i, h, "finalized", self.blocks[b as usize].rank);
        self.relay_aggregate(i, t, b, true, signers);
        self.finalize_chain(i, b, t);
    }

    /// Finalizes `b` and its ancestors in node i's view; records them in the safety monitor.
    fn finalize_chain(&mut self, i: u32, b: BlockId, t: u64) {
        let old = self.nodes[i as usize].finalized_height;
        let h = self.blocks[b as usize].height;
        if h <= old {
            return;
        }
        let honest = self.nodes[i as usize].role == Role::Honest;
        let mut cur = b;
        while self.blocks[cur as usize].height > old {
            let blk = &self.blocks[cur as usize];
            let (height, parent) = (blk.height, blk.parent);
            if honest && self.monitor.finalize(height, cur) {
                self.first_finalization(cur, t);
            }
            cur = parent;
        }
        if honest {
            // The chain must pass through the block this node finalized before.
            self.monitor.finalize(self.blocks[cur as usize].height, cur);
        }
        let n = &mut self.nodes[i as usize];
        n.finalized_height = h;
        n.pools = n.pools.split_off(&h);
        // g shrank: a pending notary decision may be due earlier.
        let cur_h = n.height;
        self.try_notarize(i, cur_h, t);
    }

    /// A block is finalized for the first time: its requests are done.
    fn first_finalization(&mut self, b: BlockId, t: u64) {
        for k in 0..self.blocks[b as usize].payload.len() {
            let r = self.blocks[b as usize].payload[k] as usize;
            if self.requests[r].finalized_us.is_none() {
                self.requests[r].finalized_us = Some(t);
                let lat = t - self.requests[r].submitted_us;
                self.monitor.requests.record(lat);
            }
        }
        let reqs = &self.requests;
        self.pending.retain(|&r| reqs[r as usize].finalized_us.is_none());
    }

    // ---- beacon ------------------------------------------------------------------------

    /// Combines the next beacon if enough valid shares are in the node's pool.
    fn check_beacon(&mut self, i: u32, t: u64) {
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
            self.q.push(
                t1,
                Ev::BeaconReady {
                    node: i,
                    epoch,
                    height: h,
                },
            );
        }
    }

    fn beacon_ready(&mut self, i: u32, h: u64, t: u64) {
        let n = &mut self.nodes[i as usize];
        if h != n.beacon_height + 1 {
            return;
        }
        n.beacon_height = h;
        self.trace_line(t, i, h, "beacon", 0);
        self.maybe_advance(i, t);
        self.check_beacon(i, t);
    }

    // ---- message handling --------------------------------------------------------------

    /// Height a message is about.
    fn msg_height(&self, msg: &Msg) -> u64 {
        match msg {
            Msg::Block(b)
            | Msg::NotarShare(b, _)
            | Msg::Notarization(b, _)
            | Msg::FinalShare(b, _)
            | Msg::Finalization(b, _) => self.blocks[*b as usize].height,
            Msg::BeaconShare(h, _) => *h,
        }
    }

    /// Modeled verification cost of a received message (0 when it is useless to the node).
    fn verify_cost(&self, i: u32, msg: &Msg) -> f64 {
        let c = &self.p.cfg.costs;
        let n = &self.nodes[i as usize];
        let h = self.msg_height(msg);
        let st = |b: &BlockId| n.pools.get(&h).and_then(|p| p.blocks.get(b));
        match msg {
            Msg::Block(b) => {
                if st(b).is_some_and(|s| s.received) {
                    0.0
                } else {
                    c.verify_us
                }
            }
            Msg::NotarShare(b, s) => {
                if st(b).is_some_and(|x| x.notarized || x.notar_shares.contains(*s)) {
                    0.0
                } else {
                    c.verify_share_us
                }
            }
            Msg::FinalShare(b, s) => {
                if st(b).is_some_and(|x| x.finalized || x.final_shares.contains(*s)) {
                    0.0
                } else {
                    c.verify_share_us
                }
            }
            Msg::Notarization(b, _) => {
                if st(b).is_some_and(|x| x.notarized) {
                    0.0
                } else {
                    c.aggregate_verify_us
                }
            }
            Msg::Finalization(b, _) => {
                if st(b).is_some_and(|x| x.finalized) {
                    0.0
                } else {
                    c.aggregate_verify_us
                }
            }
            Msg::BeaconShare(..) => {
                if h <= n.beacon_height {
                    0.0
                } else {
                    c.verify_share_us
                }
            }
        }
    }

    fn deliver(&mut self, i: u32, msg: Msg, t: u64) {
        let n = &self.nodes[i as usize];
        if !n.up || n.role == Role::Silent {
            return;
        }
        let h = self.msg_height(&msg);
        if h < n.finalized_height && !matches!(msg, Msg::BeaconShare(..)) {
            return;
        }
        let cost = self.verify_cost(i, &msg);
        let t1 = self.cpu(i, t, cost);
        if t1 == t {
            self.process(i, msg, t);
        } else {
            self.q.push(t1, Ev::Process { to: i, msg });
        }
    }

    fn process(&mut self, i: u32, msg: Msg, t: u64) {
        let h = self.msg_height(&msg);
        if h < self.nodes[i as usize].finalized_height && !matches!(msg, Msg::BeaconShare(..)) {
            return;
        }
        let q = self.p.quorum;
        match msg {
            Msg::Block(b) => {
                if !self.art.block_valid(b) {
                    return;
                }
                self.nodes[i as usize].pool(h).blocks.entry(b).or_default().received = true;
                self.try_notarize(i, h, t);
            }
            Msg::NotarShare(b, s) => {
                if !self.art.share_valid(ShareKind::Notarization, b as u64, s) {
                    self.monitor.shares_rejected += 1;
                    return;
                }
                let st = self.nodes[i as usize].pool(h).blocks.entry(b).or_default();
                if st.notarized || !st.notar_shares.insert(s) || st.notar_shares.len() < q {
                    return;
                }
                let set = Rc::new(st.notar_shares.clone());
                self.on_notarized(i, b, set, t);
            }
            Msg::Notarization(b, set) => {
                if self.nodes[i as usize]
                    .pools
                    .get(&h)
                    .and_then(|p| p.blocks.get(&b))
                    .is_some_and(|s| s.notarized)
                {
                    return;
                }
                if set.len() < q || !self.art.verify_aggregate(ShareKind::Notarization, b as u64, &set) {
                    return;
                }
                self.on_notarized(i, b, set, t);
            }
            Msg::FinalShare(b, s) => {
                if !self.art.share_valid(ShareKind::Finalization, b as u64, s) {
                    self.monitor.shares_rejected += 1;
                    return;
                }
                let st = self.nodes[i as usize].pool(h).blocks.entry(b).or_default();
                if st.finalized || !st.final_shares.insert(s) || st.final_shares.len() < q {
                    return;
                }
                let set = Rc::new(st.final_shares.clone());
                self.on_finalized(i, b, set, t);
            }
            Msg::Finalization(b, set) => {
                if self.nodes[i as usize]
                    .pools
                    .get(&h)
                    .and_then(|p| p.blocks.get(&b))
                    .is_some_and(|s| s.finalized)
                {
                    return;
                }
                if set.len() < q || !self.art.verify_aggregate(ShareKind::Finalization, b as u64, &set) {
                    return;
                }
                self.on_finalized(i, b, set, t);
            }
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

    // ---- faults, catch-up --------------------------------------------------------------

    fn crash(&mut self, i: u32, t: u64) {
        let Some((mtbf, mttr)) = self.p.dynamic else { return };
        let _ = mtbf;
        let n = &mut self.nodes[i as usize];
        n.up = false;
        n.epoch += 1;
        self.trace_line(t, i, self.nodes[i as usize].height, "crash", 0);
        let d = self.exp_us(mttr);
        self.q.push(t + d, Ev::Recover { node: i });
    }

    fn recover(&mut self, i: u32, t: u64) {
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
        self.q.push(t + d, Ev::Crash { node: i });
        self.request_catch_up(i, t);
    }

    /// Asks a random up honest peer for its latest CUP and notarized tip.
    fn request_catch_up(&mut self, i: u32, t: u64) {
        let peers: Vec<u32> = self
            .nodes
            .iter()
            .filter(|x| x.id != i && x.up && x.role == Role::Honest && x.height > 0)
            .map(|x| x.id)
            .collect();
        if peers.is_empty() {
            return;
        }
        let peer = peers[self.net.uniform_below(peers.len() as u32) as usize];
        let there = self.net.unicast(t);
        let back = self.net.unicast(there);
        let epoch = self.nodes[i as usize].epoch;
        self.q.push(back, Ev::CatchUpReply { node: i, epoch, peer });
    }

    /// Restarts node i from the peer's latest CUP plus the blocks after it: its finalized
    /// chain, its first notarized block at its notarized height, and the beacons up to there.
    fn catch_up(&mut self, i: u32, peer: u32, t: u64) {
        let p = &self.nodes[peer as usize];
        if !p.up {
            return self.request_catch_up(i, t);
        }
        let (hp, fp, bp) = (p.notarized_height, p.finalized_height, p.beacon_height);
        let Some(tip) = p.pools.get(&hp).and_then(|x| x.notarized.first().copied()) else {
            return self.request_catch_up(i, t);
        };
        let mut fin_block = tip;
        while self.blocks[fin_block as usize].height > fp {
            fin_block = self.blocks[fin_block as usize].parent;
        }
        let cup_h = fp / self.p.cfg.cup_interval * self.p.cfg.cup_interval;
        let mut t1 = t;
        if cup_h > 0 {
            let mut cup_block = fin_block;
            while self.blocks[cup_block as usize].height > cup_h {
                cup_block = self.blocks[cup_block as usize].parent;
            }
            self.ensure_ranking(cup_h);
            let signers = self.share_signers(cup_h);
            let digest = self.blocks[cup_block as usize].digest;
            if !self.art.cup(cup_h, &digest, &signers) {
                return;
            }
            t1 = self.cpu(i, t, self.p.cfg.costs.verify_us);
        }
        let beacon_h = hp.min(self.art_beacons() - 1).max(bp);
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
        self.trace_line(t1, i, hp, "catch_up", 0);
        self.maybe_advance(i, t1);
    }

    fn art_beacons(&self) -> u64 {
        let mut k = 0;
        while self.art.beacon(k).is_some() {
            k += 1;
        }
        k
    }

    // ---- clients ------------------------------------------------------------------------

    fn request(&mut self, c: u32, t: u64) {
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
        self.q.push(t + d, Ev::Request { client: c });
    }

    // ---- liveness ------------------------------------------------------------------------

    fn stall_check(&mut self, t: u64) {
        if self.done || t < self.last_progress_us + self.p.horizon_us {
            return;
        }
        let h = self.max_notarized + 1;
        self.trace_line(t, u32::MAX, h, "stall", 0);
        if self.p.dynamic.is_some() {
            self.monitor.stall(h, self.p.horizon_us);
            let stalls: usize = self.monitor.records.iter().map(|r| r.stalls_before.len()).sum();
            if stalls as u64 + self.max_notarized >= self.p.rounds {
                self.done = true;
                return;
            }
            self.last_progress_us = t;
            self.q.push(t + self.p.horizon_us, Ev::StallCheck);
        } else {
            // Static faults: nothing can change any more.
            self.done = true;
        }
    }

    /// Frees crypto artifacts of heights every node is past.
    fn maybe_prune(&mut self) {
        if self.max_notarized < self.pruned_below + 64 {
            return;
        }
        let min_fin = self
            .nodes
            .iter()
            .filter(|x| x.up && x.role == Role::Honest)
            .map(|x| x.finalized_height)
            .min()
            .unwrap_or(0);
        let below = min_fin.saturating_sub(16);
        if below <= self.pruned_below {
            return;
        }
        let min_block = self
            .blocks
            .iter()
            .position(|b| b.height >= below)
            .unwrap_or(self.blocks.len()) as u64;
        self.art.prune(ShareKind::Notarization, min_block);
        self.art.prune(ShareKind::Finalization, min_block);
        self.art.prune(ShareKind::Beacon, below);
        self.pruned_below = below;
    }
}
