//! Scenario files (TOML): what subnet, network, faults and run size to simulate.
//!
//! Errors name the file, the line where the toml parser or the offending key sits, the key
//! and the problem. Unusual but legal settings (more than f faulty nodes) are warnings: that
//! is what users study.
//!
//! - this module: the tables (`[subnet]`, `[network]`, `[node]`, `[faults]`, `[protocol]`, `[run]`,
//!   `[calibration]`);
//! - [`fine`]: the `[fine]` table ([`FineConfig`]), read only by the fine engine;
//! - [`latency`]: `[network] latency_matrix`, per-pair base latencies read from a CSV file;
//! - [`ic_faults`]: the fault file of `ictwin ic` (failures, takeovers, NNS replacement);
//! - `load`: reading, parsing, validating, command-line overrides, calibration files;
//! - [`random`]: scenarios drawn at random from the coarse model's envelope;
//! - [`sweep`]: the `[sweep]` table, `KEY=VALUES` axes, points, derived seeds.

pub mod fine;
pub mod ic_faults;
pub mod latency;
mod load;
pub mod random;
pub mod sweep;
mod toml_errors;

pub use fine::{CryptoCosts, FineConfig};
pub use load::{
    check_coarse_limits, fine_size_warning, load, load_calibration, load_for_levels, load_with_overrides, parse,
    shrink_for_levels,
};
pub use toml_errors::{toml_error_location, toml_error_message};

use crate::dist::Delay;
use ictwin_kernels::params::faults_tolerated;
use serde::{Deserialize, Serialize};

/// The embedded default scenario: a 13-node application subnet.
pub const DEFAULT_SCENARIO: &str = include_str!("../../experiments/ic-app-13.toml");

/// The scenarios `ictwin bench` and `bench-gpu` measure by default, embedded so that they run
/// from any directory: (name, text) of the 13-node application subnet and the 40-node NNS.
pub const BENCH_SCENARIOS: [(&str, &str); 2] = [
    ("ic-app-13", DEFAULT_SCENARIO),
    ("ic-nns-40", include_str!("../../experiments/ic-nns-40.toml")),
];

/// The [`BENCH_SCENARIOS`], parsed.
pub fn bench_scenarios() -> anyhow::Result<Vec<Scenario>> {
    BENCH_SCENARIOS
        .iter()
        .map(|(name, text)| {
            Ok(parse(text, &format!("<embedded {name}>"), std::path::Path::new("experiments"))?.scenario)
        })
        .collect()
}

/// A scenario file: what subnet, network, faults and run size to simulate.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scenario {
    /// Name, used for output directories and in every output row.
    pub name: String,
    /// Free text about what the scenario studies.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The subnet (`[subnet]`).
    pub subnet: Subnet,
    /// The network between its nodes (`[network]`).
    #[serde(default)]
    pub network: Network,
    /// Faulty nodes and dynamic failures (`[faults]`).
    #[serde(default)]
    pub faults: Faults,
    /// What a node itself adds to every message it receives (`[node]`); absent = nothing.
    #[serde(default, skip_serializing_if = "NodeTable::is_default")]
    pub node: NodeTable,
    /// Execution of finalized blocks (`[execution]`); absent = instantaneous.
    #[serde(default, skip_serializing_if = "Execution::is_default")]
    pub execution: Execution,
    /// Which protocol rules of the deployed replica are modelled (`[protocol]`).
    #[serde(default)]
    pub protocol: Protocol,
    /// Run size and seed (`[run]`).
    #[serde(default)]
    pub run: Run,
    /// Coarse-model calibration (see `ictwin calibrate`); absent = uncalibrated.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub calibration: Option<Calibration>,
    /// Fine-engine settings (`[fine]`); absent = defaults.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fine: Option<FineConfig>,
    /// Sweep axes (`[sweep]`), read only by `ictwin sweep` (checked, then ignored, by the other
    /// commands); absent = none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sweep: Option<sweep::SweepTable>,
}

/// `[subnet]`: size and protocol timing.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Subnet {
    /// Number of nodes n (1..=128 for the coarse engine).
    pub nodes: u32,
    /// Unit delay U, ms (1000 on application subnets, 3000 on the NNS).
    #[serde(default = "default_unit_delay")]
    pub unit_delay_ms: f64,
    /// Initial notary delay N0, ms (300 today).
    #[serde(default = "default_n0")]
    pub initial_notary_delay_ms: f64,
    /// Finality backoff: notary delay N0 + r U 1.5^g.
    #[serde(default = "default_true")]
    pub finality_backoff: bool,
}

/// `[network]`: the delay between nodes (lognormal, median 70 ms, sigma 0.5 by default).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Network {
    /// One-way message delay between two nodes, ms; with `latency_matrix`, the per-message
    /// jitter added to the pair's base latency.
    pub delay: Delay,
    /// CSV file of the subnet's n x n one-way base latencies, ms (row = sender, column =
    /// receiver), relative to the scenario file ([`latency`]); absent = none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub latency_matrix: Option<String>,
    /// The loaded `latency_matrix` (filled by the loader), or `None`.
    #[serde(skip)]
    pub latency: Option<latency::LatencyMatrix>,
}

impl Default for Network {
    fn default() -> Self {
        Network {
            delay: Delay::Lognormal {
                median_ms: 70.0,
                sigma: 0.5,
            },
            latency_matrix: None,
            latency: None,
        }
    }
}

/// `[node]`: time a node spends on each artifact it receives before acting on it (rule 4 of
/// the deployed-rules issue; results/real-ic/DEPLOYED-RULES.md section 5).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NodeTable {
    /// Processing delay of every received block, share, aggregate or proof, ms (any delay
    /// distribution; one independent draw per message and receiver, added to its network
    /// delay; nothing for a node's own artifacts). Default `constant 0`: no published per-artifact
    /// figure exists, and the one cost the code pins down, signature verification, is what the
    /// fine engine already charges as CPU time (`[fine] crypto_time`).
    #[serde(default = "zero_delay")]
    pub processing: Delay,
}

fn zero_delay() -> Delay {
    Delay::Constant { ms: 0.0 }
}

impl Default for NodeTable {
    fn default() -> Self {
        NodeTable {
            processing: zero_delay(),
        }
    }
}

impl NodeTable {
    /// No processing delay (the table is then left out of written scenarios and manifests).
    pub fn is_default(&self) -> bool {
        self.processing == zero_delay()
    }
}

/// `[execution]`: how long a node takes to execute one finalized block (rule 2 of the
/// deployed-rules issue; `ictwin_kernels::cert`, results/real-ic/DEPLOYED-RULES.md section 2).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Execution {
    /// Execution time of one block, ms (any delay distribution; one draw per height, the same
    /// at every node, since execution is deterministic). Nodes execute finalized blocks in
    /// height order, one after the other, then sign a certification share of the state.
    /// Default `constant 0`: no per-block figure is published (the scheduler's instruction
    /// limit per round bounds the work, not its wall time).
    #[serde(default = "zero_delay")]
    pub time: Delay,
}

impl Default for Execution {
    fn default() -> Self {
        Execution { time: zero_delay() }
    }
}

impl Execution {
    /// Instantaneous execution (the table is then left out of written scenarios).
    pub fn is_default(&self) -> bool {
        self.time == zero_delay()
    }
}

/// `[faults]`: static faulty nodes (fixed node ids, see [`FineConfig`]) and dynamic failures.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Faults {
    /// Nodes permanently down.
    #[serde(default)]
    pub crashed: u32,
    /// Byzantine nodes that never propose and never sign.
    #[serde(default)]
    pub silent: u32,
    /// Byzantine nodes that, as block makers, propose two blocks.
    #[serde(default)]
    pub equivocating: u32,
    /// Mean time between failures of an honest node, hours (0: no dynamic failures).
    #[serde(default)]
    pub mtbf_hours: f64,
    /// Mean time to repair, hours.
    #[serde(default)]
    pub mttr_hours: f64,
}

/// `[protocol]`: rules of the deployed replica (dfinity/ic `rs/consensus`) that can be switched
/// off to compare designs. Every default is the deployed behaviour.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Protocol {
    /// Equivocation proofs and rank disqualification (default true, as deployed): a node that
    /// holds two different blocks of one rank builds a proof and gossips it; from then on it
    /// neither notarization-signs that rank nor counts it as a better proposal when deciding
    /// to make its own block (`rs/consensus/src/consensus/validator.rs`, `notary.rs`,
    /// `block_maker.rs`: `find_lowest_ranked_non_disqualified_proposals`). False: the 2022
    /// rule, every block of the lowest rank is signed, both of an equivocator.
    #[serde(default = "default_true")]
    pub equivocation_proofs: bool,
    /// Dynamic block-maker delay (default true, as merged in dfinity/ic PRs #1531, #2336,
    /// #2356; `ictwin_kernels::maker_delay`): a maker of rank r > 0 proposes at T0 + (r + 1) U
    /// instead of T0 + r U when more than 10 of the last 30 blocks of its parent's chain have
    /// rank > 0. False: always T0 + r U (the 2022 rule).
    #[serde(default = "default_true")]
    pub dynamic_block_maker_delay: bool,
    /// Certification backlog (default true, as deployed; `rs/consensus/src/consensus/notary.rs`
    /// and `consensus.rs`, `ictwin_kernels::cert`): the notary adds 2,000 ms x (finalized -
    /// certified height) to every notary delay while that gap exceeds 1, and signs nothing
    /// while notarized - certified height reaches 70. False: execution and certification are
    /// still simulated and measured, but never slow consensus down.
    #[serde(default = "default_true")]
    pub certification_backlog: bool,
}

impl Default for Protocol {
    fn default() -> Self {
        Protocol {
            equivocation_proofs: true,
            dynamic_block_maker_delay: true,
            certification_backlog: true,
        }
    }
}

/// `[run]`: how much to simulate.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Run {
    /// Independent replicas (subnets), 1..=u32::MAX for a run.
    #[serde(default = "default_replicas")]
    pub replicas: u64,
    /// Round steps (heights) per replica, 1..=u32::MAX for a run.
    #[serde(default = "default_rounds")]
    pub rounds: u64,
    /// RNG seed; equal seeds give equal outputs.
    #[serde(default = "default_seed")]
    pub seed: u64,
}

impl Default for Run {
    fn default() -> Self {
        Run {
            replicas: default_replicas(),
            rounds: default_rounds(),
            seed: default_seed(),
        }
    }
}

/// What the coarse model abstracts away, fitted against the fine engine.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Calibration {
    /// Every network delay sample is multiplied by this.
    #[serde(default = "default_one")]
    pub delay_scale: f64,
    /// Added to every round time, ms.
    #[serde(default)]
    pub round_overhead_ms: f64,
    /// Added to every finalization time, ms.
    #[serde(default)]
    pub finalization_overhead_ms: f64,
    /// On a gossip overlay (`[fine] gossip_fanout = k > 0`), a message crosses about
    /// h = max(1, ln n / ln k) hops; every hop beyond the first adds this fraction of a
    /// one-hop delay: effective scale = delay_scale (1 + gossip_hop_scale (h - 1)).
    #[serde(default)]
    pub gossip_hop_scale: f64,
}

/// Largest calibrated delay scale: a scaled table sample must stay within the kernel's µs
/// range (the scale is applied in Q16 fixed point to u32 samples).
pub const MAX_DELAY_SCALE: f64 = 60000.0;

impl Calibration {
    /// Checks that every value is finite and representable by the coarse kernel:
    /// `delay_scale` in (0, [`MAX_DELAY_SCALE`]] (0 would mean a network without delay),
    /// overheads in [0, 4294967] ms (u32 µs), `gossip_hop_scale` in [0, 1000] with an
    /// effective scale at most [`MAX_DELAY_SCALE`] for 128 nodes at fan-out 2. Returns the
    /// offending key and what is wrong.
    pub fn check(&self) -> std::result::Result<(), (&'static str, String)> {
        if !self.delay_scale.is_finite() || self.delay_scale <= 0.0 || self.delay_scale > MAX_DELAY_SCALE {
            return Err((
                "delay_scale",
                format!(
                    "must be above 0 and at most {MAX_DELAY_SCALE}, got {}",
                    self.delay_scale
                ),
            ));
        }
        for (key, v) in [
            ("round_overhead_ms", self.round_overhead_ms),
            ("finalization_overhead_ms", self.finalization_overhead_ms),
        ] {
            if !v.is_finite() || v < 0.0 || v * 1000.0 > u32::MAX as f64 {
                return Err((key, format!("must be between 0 and 4294967 ms, got {v}")));
            }
        }
        let h = self.gossip_hop_scale;
        if !h.is_finite() || !(0.0..=1000.0).contains(&h) {
            return Err(("gossip_hop_scale", format!("must be between 0 and 1000, got {h}")));
        }
        let worst = self.effective_delay_scale(128, 2);
        if worst > MAX_DELAY_SCALE {
            return Err((
                "gossip_hop_scale",
                format!("gives a delay scale of {worst} on a 128-node gossip overlay, above {MAX_DELAY_SCALE}"),
            ));
        }
        Ok(())
    }

    /// The effective delay scale for a subnet of `nodes` on a gossip overlay of fan-out
    /// `fanout` (0: full mesh).
    pub fn effective_delay_scale(&self, nodes: u32, fanout: u32) -> f64 {
        let hops = if fanout >= 2 && nodes > 1 {
            ((nodes as f64).ln() / (fanout as f64).ln()).max(1.0)
        } else {
            1.0
        };
        self.delay_scale * (1.0 + self.gossip_hop_scale * (hops - 1.0))
    }
}

impl Default for Calibration {
    fn default() -> Self {
        Calibration {
            delay_scale: 1.0,
            round_overhead_ms: 0.0,
            finalization_overhead_ms: 0.0,
            gossip_hop_scale: 0.0,
        }
    }
}

fn default_unit_delay() -> f64 {
    1000.0
}
fn default_n0() -> f64 {
    300.0
}
fn default_true() -> bool {
    true
}
fn default_one() -> f64 {
    1.0
}
fn default_replicas() -> u64 {
    20_000
}
fn default_rounds() -> u64 {
    100
}
fn default_seed() -> u64 {
    1
}

/// A parsed, validated scenario with where it came from.
#[derive(Clone, Debug)]
pub struct Loaded {
    /// The scenario as written in the file (no command-line overrides).
    pub scenario: Scenario,
    /// The file, or `<embedded default>`.
    pub origin: String,
    /// Unusual but legal settings (e.g. more than f faulty nodes), one sentence each.
    pub warnings: Vec<String>,
}

impl Scenario {
    /// f = (n - 1) / 3.
    pub fn f(&self) -> u32 {
        faults_tolerated(self.subnet.nodes)
    }
    /// Byzantine nodes of `[faults]` (silent plus equivocating).
    pub fn byzantine(&self) -> u32 {
        self.faults.silent + self.faults.equivocating
    }
    /// Whether honest nodes fail and recover over time (`faults.mtbf_hours > 0`).
    pub fn dynamic_failures(&self) -> bool {
        self.faults.mtbf_hours > 0.0
    }
}
