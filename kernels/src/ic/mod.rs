//! The IC-year kernel: availability of every subnet of a whole Internet Computer topology
//! under correlated failures, Byzantine provider takeovers and NNS node replacement.
//! Integer arithmetic, no allocation (the host lends every buffer, [`IcState`]), one
//! counter-based Philox stream per component, so a WGSL twin can follow and any replica can
//! be recomputed alone.
//!
//! # Model (times in ms, from 0 to the horizon `years` x [`YEAR_MS`])
//! - **Components** fail and are repaired at five levels: node, data center, data-center
//!   owner, node provider, country ([`level`]). Component c alternates up and down: up times
//!   are exponential with the level's mean (`mtbf_ms`, 0 = the level never fails), down times
//!   are drawn from the level's repair table (seconds). Replicas start in the stationary
//!   state: up with probability MTBF / (MTBF + mean repair) (`p_up_q32`), the residual up
//!   time exponential; a component down at 0 draws a whole repair time (exact for
//!   exponential repairs, an approximation otherwise).
//! - A **node is down** while any of its five components is (itself, its data center, that
//!   data center's owner and country, its provider).
//! - **Takeover**: a provider alternates between honest (exponential, mean
//!   `takeover_mtbf_ms`, 0 = never) and taken over (takeover-duration table); while taken
//!   over, all its nodes are Byzantine.
//! - A subnet of n members with f = floor((n - 1) / 3) is **live** while at least 2f + 1 of
//!   its members are *good*: up, honest and not catching up (then a notarization quorum and an
//!   honest block maker exist); otherwise **stalled**. Its **safety is at risk** while more
//!   than f members are Byzantine.
//! - **NNS replacement** (`detect_ms` < `NEVER`): a member down for `detect_ms` without a
//!   break is proposed for replacement; after a governance delay (table, seconds) the
//!   proposal executes: a spare (unassigned, up, honest node, found by scanning all nodes
//!   cyclically from a uniform start) that keeps the subnet within its limits
//!   (`subnet_limits`: at most that many members per provider, data center, owner, country;
//!   0 = unlimited) joins, catches up for `catch_up_ms` (not good meanwhile) and the replaced node
//!   becomes a spare. Without an eligible spare nothing changes and the member is proposed
//!   again after another `detect_ms` if still down. Replacement pipelines start idle at 0.
//!
//! # Measured (per replica, [`IcRecord`] layout; per run, the aggregate layout)
//! Per subnet: stalled time (clipped to the horizon), stall episodes (of positive length,
//! counted when they end or at the horizon), time at safety risk, years with any stalled
//! time, replacements, stalled time by the *cause* of each episode's onset (the level of the
//! event that made the subnet stall; [`cause`]). Per replica: years in which any subnet had
//! stalled time. Aggregates: episode durations (histogram, [`duration_bin`]) and stalled time per
//! subnet and event slot (which component, takeover or replacement started the episode).
//!
//! # Random words (Philox4x32-10, key = run seed)
//! Component c, transition k (k = 0 the initial state): counter (replica, k, c,
//! `IC_COMPONENT`), word 0 the state (k = 0) or duration, word 1 the initial duration.
//! Takeover of provider p: (replica, k, p, `IC_TAKEOVER`), same use. Replacement pipeline
//! use k of node n: (replica, k, n, `IC_REPLACEMENT`), word 0 the governance delay, word 1
//! the spare scan's start.

mod heap;
mod replacement;
mod run;
mod state;

pub use heap::{EventHeap, MAX_TIME_MS, SLOT_BITS};
pub use run::simulate_ic_replica;
pub use state::{IcSizes, IcState};

/// No subnet (a spare node) / no cause.
pub const NONE: u32 = u32::MAX;
/// "Never", ms.
pub const NEVER: u64 = u64::MAX;
/// One year, ms (365.25 days).
pub const YEAR_MS: u64 = 31_557_600_000;

/// Topology levels at which components fail (indices into the per-level parameters).
pub mod level {
    pub const NODE: usize = 0;
    pub const DATA_CENTER: usize = 1;
    pub const OWNER: usize = 2;
    pub const PROVIDER: usize = 3;
    pub const COUNTRY: usize = 4;
    /// Number of failure levels.
    pub const LEVELS: usize = 5;
}

/// What started a stall episode (index into the per-subnet cause fields): a failure level,
/// then these.
pub mod cause {
    /// A provider takeover (members became Byzantine).
    pub const TAKEOVER: usize = 5;
    /// A replacement (a good member swapped for a spare still catching up).
    pub const REPLACEMENT: usize = 6;
    /// Stalled at time 0 (the stationary start).
    pub const START: usize = 7;
    /// Number of causes.
    pub const CAUSES: usize = 8;
}

/// Per-subnet fields of a replica's record.
pub mod field {
    /// Stalled time, ms.
    pub const STALL_MS: usize = 0;
    /// Stall episodes.
    pub const EPISODES: usize = 1;
    /// Time with more than f Byzantine members, ms.
    pub const RISK_MS: usize = 2;
    /// Years (of the replica's `years`) with any stalled time.
    pub const YEARS_STALLED: usize = 3;
    /// Members replaced.
    pub const REPLACED: usize = 4;
    /// Stalled time by cause, ms ([`super::cause`]): fields `CAUSE_MS + cause`.
    pub const CAUSE_MS: usize = 5;
    /// Fields per subnet.
    pub const SUBNET_FIELDS: usize = CAUSE_MS + super::cause::CAUSES;
    /// IC-wide fields after the subnets': years with any stalled subnet.
    pub const YEARS_ANY_STALL: usize = 0;
    /// Replacement proposals that found no eligible spare.
    pub const NO_SPARE: usize = 1;
    /// Events processed.
    pub const EVENTS: usize = 2;
    /// IC-wide fields.
    pub const IC_FIELDS: usize = 3;
}

/// Length of a replica record for `subnets` subnets.
pub fn record_len(subnets: u32) -> usize {
    subnets as usize * field::SUBNET_FIELDS + field::IC_FIELDS
}

/// Stall-duration histogram bins: bin 0 below 1,024 ms, then 4 bins per octave of ms up
/// to 2^50 ms (the last bin holds everything longer).
pub const DURATION_BINS: usize = 1 + 4 * 40;

/// Histogram bin of a duration, ms: 0 below 1,024 ms; else 1 + 4 (log2(ms) - 10) + the two
/// bits after the leading one (quarter octaves), capped at the last bin.
pub fn duration_bin(ms: u64) -> usize {
    if ms < 1024 {
        return 0;
    }
    let octave = 63 - ms.leading_zeros() as usize;
    let quarter = ((ms >> (octave - 2)) & 3) as usize;
    (1 + 4 * (octave - 10) + quarter).min(DURATION_BINS - 1)
}

/// Lower edge of histogram bin `b`, seconds (inverse of [`duration_bin`]).
pub fn duration_bin_lower_s(b: usize) -> f64 {
    if b == 0 {
        return 0.0;
    }
    let octave = (b - 1) / 4 + 10;
    let quarter = (b - 1) % 4;
    (1u64 << octave) as f64 * (1.0 + quarter as f64 / 4.0) / 1000.0
}

/// Aggregate layout: the duration histogram, then stalled time (ms) per subnet and event slot
/// that started the episode (index `DURATION_BINS + subnet x slots + slot`; slots: components,
/// then nodes' replacement pipelines, then providers' takeovers).
pub fn agg_len(sizes: &IcSizes) -> usize {
    DURATION_BINS + sizes.subnets * sizes.slots()
}

/// Run parameters (host-built; times ms, tables in seconds).
#[derive(Clone, Copy, Debug, Default)]
pub struct IcParams {
    /// Years simulated per replica (>= 1).
    pub years: u32,
    /// Philox key (the run seed).
    pub key: [u32; 2],
    /// Mean up time per level, ms; 0 = the level never fails.
    pub mtbf_ms: [u64; level::LEVELS],
    /// Stationary probability of being up per level, Q32 (u32::MAX = always up).
    pub p_up_q32: [u32; level::LEVELS],
    /// Offset of each level's repair-time table (seconds) in the tables.
    pub repair_table: [u32; level::LEVELS],
    /// Mean time between provider takeovers, ms; 0 = none.
    pub takeover_mtbf_ms: u64,
    /// Stationary probability of a provider being honest, Q32.
    pub p_honest_q32: u32,
    /// Offset of the takeover-duration table (seconds).
    pub takeover_table: u32,
    /// Down time after which the NNS proposes a replacement, ms; [`NEVER`] = no replacement.
    pub detect_ms: u64,
    /// Offset of the governance-delay table (seconds).
    pub governance_table: u32,
    /// Catch-up time of a new member (state size / bandwidth), ms.
    pub catch_up_ms: u64,
    /// Offset of the Exp(1) table (Q16).
    pub exp_table: u32,
}

impl IcParams {
    /// Horizon of one replica, ms.
    pub fn horizon_ms(&self) -> u64 {
        self.years as u64 * YEAR_MS
    }
}

/// The topology, flattened: dense ids per kind. Components are numbered nodes first, then
/// data centers, owners, providers, countries ([`IcTopology::component`]); each non-node
/// component's member nodes are a CSR list (`group_start`, `group_nodes`).
#[derive(Clone, Copy, Debug)]
pub struct IcTopology<'a> {
    /// Data center of each node.
    pub node_dc: &'a [u32],
    /// Provider of each node.
    pub node_provider: &'a [u32],
    /// Initial subnet of each node ([`NONE`] = spare).
    pub node_subnet: &'a [u32],
    /// Owner of each data center.
    pub dc_owner: &'a [u32],
    /// Country of each data center.
    pub dc_country: &'a [u32],
    /// Owners and providers and countries (counts).
    pub owners: u32,
    pub providers: u32,
    pub countries: u32,
    /// Subnet sizes (members; constant: a replacement swaps one node for another).
    pub subnet_size: &'a [u32],
    /// Per subnet, the most members allowed per provider, data center, owner and country
    /// (4 entries per subnet; 0 = unlimited): what a replacement must keep.
    pub subnet_limits: &'a [u32],
    /// CSR offsets over the non-node components (length components - nodes + 1).
    pub group_start: &'a [u32],
    /// Member nodes of each non-node component.
    pub group_nodes: &'a [u32],
}

impl IcTopology<'_> {
    /// Nodes.
    pub fn nodes(&self) -> u32 {
        self.node_dc.len() as u32
    }
    /// Data centers.
    pub fn dcs(&self) -> u32 {
        self.dc_owner.len() as u32
    }
    /// Subnets.
    pub fn subnets(&self) -> u32 {
        self.subnet_size.len() as u32
    }
    /// All components (nodes, data centers, owners, providers, countries).
    pub fn components(&self) -> u32 {
        self.nodes() + self.dcs() + self.owners + self.providers + self.countries
    }
    /// Component id of entity `i` of `lvl`.
    pub fn component(&self, lvl: usize, i: u32) -> u32 {
        let mut base = 0;
        let counts = [self.nodes(), self.dcs(), self.owners, self.providers, self.countries];
        for c in counts.iter().take(lvl) {
            base += c;
        }
        base + i
    }
    /// Level of component `c`.
    pub fn level_of(&self, c: u32) -> usize {
        let counts = [self.nodes(), self.dcs(), self.owners, self.providers, self.countries];
        let mut base = 0;
        for (l, n) in counts.iter().enumerate() {
            if c < base + n {
                return l;
            }
            base += n;
        }
        level::LEVELS
    }
    /// The five components a node depends on (node, data center, owner, provider, country).
    pub fn node_components(&self, n: u32) -> [u32; level::LEVELS] {
        let dc = self.node_dc[n as usize];
        [
            n,
            self.component(level::DATA_CENTER, dc),
            self.component(level::OWNER, self.dc_owner[dc as usize]),
            self.component(level::PROVIDER, self.node_provider[n as usize]),
            self.component(level::COUNTRY, self.dc_country[dc as usize]),
        ]
    }
}

/// f of a subnet of `n` members: floor((n - 1) / 3) (the one definition, in `params`).
pub use crate::params::faults_tolerated;

/// Read access to a replica record.
pub struct IcRecord<'a>(pub &'a [u64]);

impl IcRecord<'_> {
    /// Field `f` of subnet `s`.
    pub fn subnet(&self, s: u32, f: usize) -> u64 {
        self.0[s as usize * field::SUBNET_FIELDS + f]
    }
    /// IC-wide field `f` (after the subnets' fields of `subnets` subnets).
    pub fn ic(&self, subnets: u32, f: usize) -> u64 {
        self.0[subnets as usize * field::SUBNET_FIELDS + f]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn duration_bins_are_quarter_octaves() {
        assert_eq!(duration_bin(1023), 0);
        assert_eq!(duration_bin(1024), 1);
        assert_eq!(duration_bin(1280), 2);
        assert_eq!(duration_bin(2048), 5);
        assert_eq!(duration_bin(3072), 7);
        assert_eq!(duration_bin(u64::MAX), DURATION_BINS - 1);
        for b in 1..DURATION_BINS - 1 {
            let lo = duration_bin_lower_s(b);
            assert_eq!(duration_bin((lo * 1000.0).round() as u64), b, "bin {b}");
            assert_eq!(duration_bin((lo * 1000.0).round() as u64 - 1), b - 1, "below bin {b}");
        }
    }
}
