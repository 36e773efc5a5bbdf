//! Parameters of a replica, derived from the scenario: subnet size and thresholds, unit and
//! notary delays (µs), fault roles, the stall horizon, execution and certification.

use crate::dist::Delay;
use crate::scenario::FineConfig;
use crate::scenario::Scenario;

/// Notary delays are capped here, µs (2^40 µs, as in the coarse model).
const MAX_NOTARY_DELAY_US: u64 = 1 << 40;

/// Parameters of a replica, derived from the scenario.
#[derive(Clone, Debug)]
pub struct SimParams {
    /// Nodes in the subnet.
    pub n: u32,
    /// Faults tolerated, (n - 1) / 3.
    pub f: u32,
    /// Committee size c = 3f + 1.
    pub committee: u32,
    /// Notarization/finalization quorum c - f.
    pub quorum: u32,
    /// Block makers f + 1.
    pub makers: u32,
    /// Beacon threshold f + 1.
    pub beacon_threshold: u32,
    /// Unit delay U, µs.
    pub unit_us: u64,
    /// Initial notary delay N0, µs.
    pub n0_us: u64,
    /// Notary delays grow by 1.5^g with the finality gap g.
    pub backoff: bool,
    /// Heights to measure.
    pub rounds: u64,
    /// Time without a new notarization after which a height counts as stalled, µs.
    pub horizon_us: u64,
    /// (MTBF, MTTR) in ms for honest nodes, if dynamic failures are on.
    pub dynamic: Option<(f64, f64)>,
    /// crashed, silent, equivocating, invalid_share, notarize_all.
    pub role_counts: [u32; 5],
    /// `[protocol] equivocation_proofs`: equivocation proofs disqualify a rank.
    pub proofs: bool,
    /// `[protocol] dynamic_block_maker_delay`: see [`super::Sim::maker_extra_us`].
    pub dynamic_maker_delay: bool,
    /// Certification threshold n - f (the high-threshold committee is the whole subnet).
    pub cert_threshold: u32,
    /// `[execution] time`: execution time of one height (one draw per height).
    pub execution: Delay,
    /// `[protocol] certification_backlog`: the certification gap slows the notary down.
    pub cert_backlog: bool,
    /// The scenario's `[fine]` table.
    pub cfg: FineConfig,
}

impl SimParams {
    /// Parameters of scenario `s` measuring `rounds` heights.
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
            proofs: s.protocol.equivocation_proofs,
            dynamic_maker_delay: s.protocol.dynamic_block_maker_delay,
            cert_threshold: n - f,
            execution: s.execution.time.clone(),
            cert_backlog: s.protocol.certification_backlog,
            cfg: cfg.clone(),
        }
    }

    /// Notary delay of a rank-`rank` block at finality gap `g`, µs: N0 + rank U 1.5^g
    /// (factor 1 without backoff; the extra part is capped at 2^40 µs).
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

#[cfg(test)]
mod tests {
    use super::super::fixture::{fixture, HONEST};

    /// Thresholds of the 4-node fixture: f = 1, quorum 3, 2 makers, beacon threshold 2.
    #[test]
    fn thresholds_follow_f() {
        let p = &fixture(HONEST, "").p;
        assert_eq!(
            (p.f, p.committee, p.quorum, p.makers, p.beacon_threshold),
            (1, 4, 3, 2, 2)
        );
        assert_eq!((p.unit_us, p.n0_us), (1_000_000, 300_000));
    }

    /// N0 + r U 1.5^g: the delay grows with the rank and the finality gap g.
    #[test]
    fn notary_delay_backs_off_with_the_finality_gap() {
        let p = &fixture(HONEST, "").p;
        assert_eq!(p.notary_delay_us(1, 0), 1_300_000);
        assert_eq!(p.notary_delay_us(1, 2), 300_000 + 2_250_000);
        assert_eq!(p.notary_delay_us(0, 5), 300_000);
    }
}
