//! One replica of the fine engine: every node runs ICC on its own view (see
//! `../shared/ICC-MODEL.md`), messages cross the simulated network, crypto is real.
//!
//! Per node and height h (its round): the round starts when the node holds a notarization and
//! the beacon of h - 1; it then signs its beacon share for h, and if it is the rank-r block
//! maker it proposes at T0 + r U unless it has seen a valid block of lower rank. As a committee
//! member it notarization-signs every block of the lowest rank seen (parent notarized in its
//! view) once that rank's notary delay N0 + r U 1.5^g has passed since T0 (g = its notarized -
//! finalized height, evaluated when it decides), never a rank higher than one it signed.
//! With equivocation proofs, ranks it holds a proof against do not count in either rule. 2f+1
//! valid shares on a block notarize it: the node ends the round and relays the notarization.
//! It signs a finalization share iff it saw exactly one notarized block at h and signed no
//! other block at h; 2f+1 finalization shares finalize the block and its ancestors.
//! It executes finalized heights in order (`[execution] time` each), signs a certification
//! share of each executed state and holds a height certified with n - f shares of it; with
//! `[protocol] certification_backlog` the notary waits 2 s per height of finalized - certified
//! gap above 1 and signs nothing while (h - 1) - certified >= 70 ([`certifier`]).
//!
//! Modeled CPU time (`[fine] crypto_time`): each node has one CPU that performs its crypto in
//! arrival order; a received artifact takes effect once verified, a signature is sent once made.
//!
//! One module per protocol role, in the style of dfinity/ic's `rs/consensus`: a role reads the
//! node's view and returns the [`Emit`]s it wants; [`Sim::apply`] alone turns them into CPU
//! time, messages and timers ([`apply`], with CPU time and broadcast). [`params`]: the replica's parameters; [`delivery`]: message arrival; [`round`]: round start;
//! [`block_maker`], [`notary`], [`finalizer`], [`beacon`] (also rankings and committees);
//! [`certifier`]: execution and state certification (rule 2);
//! [`proofs`]: equivocation proofs (`[protocol] equivocation_proofs`);
//! [`recovery`]: crashes and catch-up; [`reconnect`]: the pool re-sent to a recovering node;
//! [`workload`]: clients; [`liveness`]: stalls, pruning; [`trace`]: the CSV trace.
//!
//! Determinism: the event queue breaks ties by push order, so the order of `q.push` calls and
//! of every draw from `rng` and `net` is part of the output. Certification traffic (execution
//! timers, certification shares) uses its own sequence space in the queue
//! ([`EventQueue::push_side`]) and its own network stream (`cert_net`), and execution times
//! are drawn per height from their own seed: it changes the consensus events of a run only
//! through what it feeds back (the notary's backlog, CPU time under `crypto_time`).

#![deny(missing_docs)]

mod apply;
mod beacon;
mod block_maker;
mod certifier;
mod delivery;
mod finalizer;
#[cfg(test)]
mod fixture;
mod liveness;
mod notary;
mod params;
mod proofs;
mod reconnect;
mod recovery;
mod round;
mod trace;
mod workload;

pub use certifier::KEEP_BELOW_CERTIFIED;

use super::agents::*;
use super::artifacts::{Artifacts, ShareKind};
use super::events::{mix64, EventQueue};
use super::monitor::{Monitor, RequestStats};
use super::network::Network;
use crate::scenario::Scenario;
use delivery::Msg;
pub use params::SimParams;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use std::collections::{BTreeMap, HashSet, VecDeque};
use std::io::Write;
use std::sync::atomic::AtomicBool;

/// Simulator events. Node timers carry the node's epoch: a crash or recovery in between
/// voids them.
#[derive(Clone, Debug)]
enum Ev {
    /// A message arrives (its verification, if any, is still to be done).
    Deliver { to: u32, msg: Msg },
    /// A message takes effect (verified, or made by the node itself).
    Process { to: u32, msg: Msg },
    /// The node finished combining the beacon of `height`.
    BeaconReady { node: u32, epoch: u32, height: u64 },
    /// The rank-`rank` block maker's proposal time T0 + rank U has come.
    MakeBlock {
        node: u32,
        epoch: u32,
        height: u64,
        rank: u32,
    },
    /// A notary delay ran out.
    NotaryTimer { node: u32, epoch: u32, height: u64 },
    /// Dynamic failures: the node goes down.
    Crash { node: u32 },
    /// Dynamic failures: the node comes back up.
    Recover { node: u32 },
    /// A peer's catch-up package and tip reach a recovering node.
    CatchUpReply { node: u32, epoch: u32, peer: u32 },
    /// Client `client` submits its next request.
    Request { client: u32 },
    /// Checks whether the subnet made progress within the stall horizon.
    StallCheck,
    /// The node finished executing `height` ([`certifier`]).
    Executed { node: u32, epoch: u32, height: u64 },
}

impl Ev {
    /// Certification traffic: pushed in the queue's side sequence ([`EventQueue::push_side`]).
    fn is_side(&self) -> bool {
        match self {
            Ev::Deliver { msg, .. } | Ev::Process { msg, .. } => matches!(msg, Msg::CertShare(..)),
            Ev::Executed { .. } => true,
            _ => false,
        }
    }
}

/// What a role asks the simulator to do for one node; applied by [`Sim::apply`], the one place
/// that charges CPU time, sends messages and schedules timers.
#[derive(Debug)]
enum Emit {
    /// Sign `msg` (`sign_us` of the node's CPU), trace it, send it to every peer and let it
    /// take effect at the node itself once signed.
    Signed(Msg),
    /// Send an already verified aggregate to every peer (no CPU time).
    Relay(Msg),
    /// Schedule `ev` at `at_us` (µs).
    Timer { at_us: u64, ev: Ev },
}

/// Result of one replica.
pub struct ReplicaResult {
    /// Measurements per height, safety, stalls.
    pub monitor: Monitor,
    /// Crypto work done.
    pub crypto: super::artifacts::CryptoStats,
    /// Events processed.
    pub events: u64,
    /// Messages delivered.
    pub messages: u64,
    /// Simulated time at the end, µs.
    pub sim_time_us: u64,
    /// Client request statistics.
    pub requests: RequestStats,
}

/// One simulated subnet.
pub struct Sim {
    p: SimParams,
    nodes: Vec<IcNode>,
    blocks: Vec<Block>,
    requests: Vec<Request>,
    /// Requests not finalized yet, in submission order.
    pending: VecDeque<u32>,
    clients: Vec<Client>,
    q: EventQueue<Ev>,
    net: Network,
    /// The network of the certification shares: `net` with its own stream of draws.
    cert_net: Network,
    /// Execution and certification state of each node ([`certifier`]).
    cert: Vec<certifier::NodeCert>,
    /// Seed of the execution times (one draw per height).
    exec_seed: u64,
    /// Execution time of each height drawn so far, µs (index = height).
    exec_times: Vec<u64>,
    /// The replica's keys, shares, aggregates, beacons and CUPs.
    pub art: Artifacts,
    /// Block makers of each height in rank order (index = height).
    rankings: Vec<Vec<u32>>,
    /// Notarization committee of each height (index = height).
    committees: Vec<SignerSet>,
    rng: StdRng,
    /// Measurements per height, safety, stalls.
    pub monitor: Monitor,
    trace: Option<trace::Trace>,
    /// The first error writing the trace; the trace is closed from then on.
    trace_error: Option<std::io::Error>,
    /// (receiver, arrival µs) of the latest broadcast.
    scratch: Vec<(u32, u64)>,
    /// Highest height notarized by an honest node.
    max_notarized: u64,
    /// Time of the latest new `max_notarized`, µs.
    last_progress_us: u64,
    /// Dynamic failures: since when (µs) the next height cannot be notarized by the up nodes
    /// (see [`liveness`]); None while it can.
    stalled_since: Option<u64>,
    /// Blocks whose notarization/finalization was already flooded (gossip mode).
    flooded: HashSet<(BlockId, ShareKind)>,
    /// (height, rank) whose equivocation proof was already flooded (gossip mode).
    flooded_proofs: HashSet<(u64, u32)>,
    now: u64,
    done: bool,
    /// Crypto artifacts below this height are freed.
    pruned_below: u64,
    /// Nodes catching up after a recovery, with the messages they received meanwhile.
    backlogs: BTreeMap<u32, Vec<Msg>>,
}

impl Sim {
    /// Sets up replica keys, agents and the initial events from `seed`; None if `stop` was
    /// set meanwhile (key dealing takes minutes for 10^5 nodes).
    pub fn new(
        s: &Scenario,
        p: SimParams,
        seed: u64,
        trace: Option<Box<dyn Write>>,
        stop: &AtomicBool,
    ) -> Option<Self> {
        let n = p.n;
        let sub = |k: u64| mix64(seed ^ mix64(k));
        let art = Artifacts::setup_until(n, p.f, sub(1), stop)?;
        let base_us = s
            .network
            .latency
            .as_ref()
            .map(|m| m.table_us().into_iter().map(u64::from).collect())
            .unwrap_or_default();
        let net = Network::new(
            s.network.delay.clone(),
            s.node.processing.clone(),
            base_us,
            n,
            p.cfg.gossip_fanout,
            sub(2),
        );
        let cert_net = net.fork(sub(7));
        let boundary = if p.cfg.boundary_nodes == 0 {
            n
        } else {
            p.cfg.boundary_nodes
        };
        let nodes: Vec<IcNode> = (0..n).map(|i| round::genesis_node(i, &p, &net, boundary)).collect();
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
        let clients = workload::clients(&nodes, &p.cfg);
        let genesis = Block {
            id: 0,
            parent: 0,
            height: 0,
            rank: 0,
            maker: 0,
            variant: 0,
            payload: Vec::new(),
            digest: super::crypto::sha256(b"ictwin-genesis"),
        };
        let mut sim = Sim {
            q: EventQueue::new(sub(5)),
            nodes,
            blocks: vec![genesis],
            requests: Vec::new(),
            pending: VecDeque::new(),
            clients,
            cert: vec![certifier::NodeCert::default(); n as usize],
            cert_net,
            exec_seed: sub(8),
            exec_times: vec![0],
            net,
            art,
            rankings: Vec::new(),
            committees: Vec::new(),
            rng: StdRng::seed_from_u64(sub(6)),
            monitor: Monitor::new(observers),
            trace: trace.map(trace::Trace::new),
            trace_error: None,
            scratch: Vec::new(),
            max_notarized: 0,
            last_progress_us: 0,
            stalled_since: None,
            flooded: HashSet::new(),
            flooded_proofs: HashSet::new(),
            now: 0,
            done: false,
            pruned_below: 0,
            backlogs: BTreeMap::new(),
            p,
        };
        sim.trace_line(0, u32::MAX, 0, "genesis", 0);
        // The order of these first draws and pushes is part of the output.
        sim.start_failures();
        sim.check_stall_onset(0);
        sim.start_clients();
        for i in 0..n {
            if sim.nodes[i as usize].up {
                sim.nodes[i as usize].height = 0;
                sim.maybe_advance(i, 0);
            }
        }
        sim.schedule(sim.p.horizon_us, Ev::StallCheck);
        Some(sim)
    }

    /// Exponential duration with mean `mean_ms`, µs (at least 1 µs); one draw from `rng`.
    fn exp_us(&mut self, mean_ms: f64) -> u64 {
        let u: f64 = self.rng.random::<f64>();
        ((-(1.0 - u).ln() * mean_ms * 1000.0) as u64).max(1)
    }

    /// Runs until `rounds` heights are measured (plus a margin for their finalization) or
    /// the run stalls for good. `stop` aborts early (returns false). `heights(h)` is told,
    /// every 4096 events, how many of the `rounds` heights are notarized so far (progress).
    pub fn run(&mut self, stop: &AtomicBool, heights: &mut dyn FnMut(u64)) -> bool {
        let mut k = 0u32;
        while !self.done {
            let Some((t, ev)) = self.q.pop() else {
                self.stall_for_good();
                break;
            };
            self.now = t;
            self.handle(t, ev);
            k = k.wrapping_add(1);
            if k.is_multiple_of(4096) {
                if stop.load(std::sync::atomic::Ordering::Relaxed) {
                    return false;
                }
                heights(self.max_notarized.min(self.p.rounds));
            }
        }
        if let Some(Err(e)) = self.trace.as_mut().map(|w| w.finish()) {
            self.close_trace(e);
        }
        true
    }

    /// Result of the replica.
    pub fn result(self) -> ReplicaResult {
        ReplicaResult {
            crypto: self.art.stats.clone(),
            events: self.q.processed(),
            messages: self.net.deliveries + self.cert_net.deliveries,
            sim_time_us: self.now,
            requests: self.monitor.requests.clone(),
            monitor: self.monitor,
        }
    }

    /// Dispatches event `ev` at `t` (µs) to its role; node timers of a down node or an
    /// older epoch are dropped, as are verifications a node began before it crashed.
    fn handle(&mut self, t: u64, ev: Ev) {
        match ev {
            Ev::Deliver { to, msg } => self.deliver(to, msg, t),
            Ev::Process { to, msg } => {
                if self.nodes[to as usize].up && !self.backlogs.contains_key(&to) {
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
            Ev::Executed { node, epoch, height } => {
                if self.alive(node, epoch) {
                    self.executed(node, height, t)
                }
            }
        }
    }
}
