//! The `[fine]` scenario table: settings only the fine engine reads.
//!
//! ```toml
//! [fine]
//! crypto_time = true          # charge modeled CPU time for crypto to each node's timeline
//! gossip_fanout = 0           # 0: full-mesh broadcast; k > 0: gossip overlay, k neighbours
//! clients = 4                 # clients issuing requests through boundary nodes
//! request_rate_per_s = 5.0    # per client (Poisson)
//! stall_horizon_ms = 0        # 0: automatic (max(60 s, 20 (N0 + U)))
//! invalid_share = 0           # Byzantine nodes that send invalid shares
//! notarize_all = 0            # Byzantine notaries that sign every block at once
//! [fine.costs]                # modeled CPU time per crypto operation, µs (`ictwin crypto-bench`)
//! sign_us = 110
//! ```
//!
//! Fault roles are fixed node ids, after the scenario's: `[0, crashed)` crashed, then
//! `silent`, then `equivocating`, then `invalid_share`, then `notarize_all`; the rest honest.

use serde::{Deserialize, Serialize};

/// Modeled CPU time of each crypto operation, µs. The defaults are the blst figures of
/// `ICC-MODEL.md` (measured on a 2-core machine; batch verify of 13 shares 3 ms, so 230 µs a
/// share); `ictwin crypto-bench` measures this host and prints a table to paste instead.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CryptoCosts {
    /// One BLS signature (share, block signature), µs.
    #[serde(default = "d_sign")]
    pub sign_us: f64,
    /// One single-signature verification, µs (block signatures, combined beacon, CUP).
    #[serde(default = "d_verify")]
    pub verify_us: f64,
    /// Verification of one received share, amortized over a batch of a subnet's shares, µs.
    #[serde(default = "d_share")]
    pub verify_share_us: f64,
    /// Verification of a multi-signature aggregate (notarization, finalization), µs.
    #[serde(default = "d_agg")]
    pub aggregate_verify_us: f64,
    /// Lagrange combination of threshold shares (beacon), µs.
    #[serde(default = "d_combine")]
    pub combine_us: f64,
}

fn d_sign() -> f64 {
    110.0
}
fn d_verify() -> f64 {
    600.0
}
fn d_share() -> f64 {
    230.0
}
fn d_agg() -> f64 {
    650.0
}
fn d_combine() -> f64 {
    450.0
}

impl Default for CryptoCosts {
    fn default() -> Self {
        CryptoCosts {
            sign_us: d_sign(),
            verify_us: d_verify(),
            verify_share_us: d_share(),
            aggregate_verify_us: d_agg(),
            combine_us: d_combine(),
        }
    }
}

/// The `[fine]` table.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FineConfig {
    /// Charge the modeled CPU time of crypto operations (the crypto always runs for real).
    #[serde(default = "d_true")]
    pub crypto_time: bool,
    #[serde(default)]
    /// Modeled CPU time of each crypto operation (`[fine.costs]`).
    pub costs: CryptoCosts,
    /// 0: every message goes directly to every node (full mesh); k > 0: a gossip overlay in
    /// which every node relays to k random neighbours (for 100-1000-node subnets).
    #[serde(default)]
    pub gossip_fanout: u32,
    /// Clients issuing requests.
    #[serde(default = "d_clients")]
    pub clients: u32,
    /// Requests per second per client (Poisson).
    #[serde(default = "d_rate")]
    pub request_rate_per_s: f64,
    /// Boundary nodes (the highest node ids; clients submit through them). 0: all nodes.
    #[serde(default)]
    pub boundary_nodes: u32,
    /// Virtual time without any new notarization after which a height counts as stalled, ms;
    /// 0: automatic, max(60 s, 20 (N0 + U)).
    #[serde(default)]
    pub stall_horizon_ms: f64,
    /// Byzantine nodes that send real but invalid signature shares.
    #[serde(default)]
    pub invalid_share: u32,
    /// Byzantine notaries that sign every block on receipt (and finalize every notarized one).
    #[serde(default)]
    pub notarize_all: u32,
    /// Heights between catch-up packages (CUPs): DKG interval 499 + summary block.
    #[serde(default = "d_cup")]
    pub cup_interval: u64,
}

fn d_true() -> bool {
    true
}
fn d_clients() -> u32 {
    4
}
fn d_rate() -> f64 {
    5.0
}
fn d_cup() -> u64 {
    500
}

impl Default for FineConfig {
    fn default() -> Self {
        FineConfig {
            crypto_time: true,
            costs: CryptoCosts::default(),
            gossip_fanout: 0,
            clients: d_clients(),
            request_rate_per_s: d_rate(),
            boundary_nodes: 0,
            stall_horizon_ms: 0.0,
            invalid_share: 0,
            notarize_all: 0,
            cup_interval: d_cup(),
        }
    }
}

impl FineConfig {
    /// Checks the values against a subnet of `nodes` nodes with `faulty` scenario faults;
    /// errors name the key (`fine.<key>`) and the problem.
    pub fn validate(&self, nodes: u32, faulty: u32) -> Result<(), (String, String)> {
        let c = &self.costs;
        for (k, v) in [
            ("costs.sign_us", c.sign_us),
            ("costs.verify_us", c.verify_us),
            ("costs.verify_share_us", c.verify_share_us),
            ("costs.aggregate_verify_us", c.aggregate_verify_us),
            ("costs.combine_us", c.combine_us),
            ("stall_horizon_ms", self.stall_horizon_ms),
        ] {
            if !v.is_finite() || !(0.0..=1e9).contains(&v) {
                return Err((k.into(), format!("must be between 0 and 1e9, got {v}")));
            }
        }
        if !self.request_rate_per_s.is_finite() || !(0.0..=1e6).contains(&self.request_rate_per_s) {
            return Err((
                "request_rate_per_s".into(),
                format!("must be between 0 and 1e6, got {}", self.request_rate_per_s),
            ));
        }
        if self.gossip_fanout >= nodes && self.gossip_fanout > 0 {
            return Err((
                "gossip_fanout".into(),
                format!(
                    "must be below the {nodes} nodes (0 = full mesh), got {}",
                    self.gossip_fanout
                ),
            ));
        }
        if self.boundary_nodes > nodes {
            return Err((
                "boundary_nodes".into(),
                format!("must be at most the {nodes} nodes, got {}", self.boundary_nodes),
            ));
        }
        let total = faulty as u64 + self.invalid_share as u64 + self.notarize_all as u64;
        if total > nodes as u64 {
            return Err((
                "invalid_share".into(),
                format!("faults + invalid_share + notarize_all = {total} is more than the {nodes} nodes"),
            ));
        }
        if self.cup_interval == 0 {
            return Err(("cup_interval".into(), "must be at least 1".into()));
        }
        Ok(())
    }
}
