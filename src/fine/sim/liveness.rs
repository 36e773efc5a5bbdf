//! Liveness and memory: progress is a new highest notarized height at an honest node; a run
//! without progress for the stall horizon records a stall (dynamic failures) or ends (static
//! faults: nothing can change any more). Crypto artifacts of heights every node is past are
//! freed.

use super::{Ev, Sim};
use crate::fine::agents::Role;
use crate::fine::artifacts::ShareKind;

impl Sim {
    /// An honest node notarized new maximum height h at `t` (µs): the stall clock restarts,
    /// the run is done once h reaches `rounds + 3` (margin for finalizing the measured ones).
    pub(super) fn progress(&mut self, h: u64, t: u64) {
        self.max_notarized = h;
        self.last_progress_us = t;
        self.schedule(t + self.p.horizon_us, Ev::StallCheck);
        if h >= self.p.rounds + 3 {
            self.done = true;
        }
        self.maybe_prune();
    }

    /// The event queue ran dry: the run stalls for good at the next height.
    pub(super) fn stall_for_good(&mut self) {
        self.trace_line(self.now, u32::MAX, self.max_notarized + 1, "stall", 0);
        self.done = true;
    }

    /// At `t` (µs): if there was no progress for the stall horizon, records a stall of the
    /// next height and waits another horizon (dynamic failures; done once stalls plus
    /// notarized heights reach `rounds`), or ends the run (static faults).
    pub(super) fn stall_check(&mut self, t: u64) {
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
            self.schedule(t + self.p.horizon_us, Ev::StallCheck);
        } else {
            self.done = true;
        }
    }

    /// Frees crypto artifacts below 16 heights under the lowest finalized height of the up
    /// honest nodes; runs at most every 64 notarized heights.
    pub(super) fn maybe_prune(&mut self) {
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

#[cfg(test)]
mod tests {
    use super::super::fixture::{fixture, HONEST};

    /// Static faults: no progress for the horizon ends the run; progress defers the check.
    #[test]
    fn stall_check_ends_a_static_run_only_after_the_horizon() {
        let mut sim = fixture(HONEST, "");
        let horizon = sim.p.horizon_us;
        assert_eq!(horizon, 60_000_000, "max(60 s, 20 (N0 + U)) = 60 s");
        sim.progress(1, 1_000);
        sim.stall_check(horizon);
        assert!(!sim.done);
        sim.stall_check(horizon + 1_000);
        assert!(sim.done);
    }

    /// Reaching rounds + 3 notarized heights ends the run.
    #[test]
    fn run_is_done_at_rounds_plus_three() {
        let mut sim = fixture(HONEST, "");
        let last = sim.p.rounds + 3;
        sim.progress(last - 1, 5);
        assert!(!sim.done);
        sim.progress(last, 6);
        assert!(sim.done && sim.max_notarized == last);
    }
}
