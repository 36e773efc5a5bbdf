//! Liveness and memory: progress is a new highest notarized height at an honest node.
//!
//! Stalls follow the one definition of `ictwin_kernels::agg` ("stalled step"), as the coarse
//! model applies it: with dynamic failures the next height is *stalled* from the moment the up
//! nodes cannot notarize it (fewer than 2f+1 up honest committee members, or no up block
//! maker) until a recovery that lets them; every recovery in between ends one stalled step
//! (its time: since the stall began or the previous recovery) and the height's round and
//! finalization times count from the end of its last stalled step. A run without progress
//! for the stall horizon although the up nodes could notarize records a stall of the horizon
//! (dynamic failures; not expected) or ends (static faults: nothing can change any more).
//! Crypto artifacts of heights every node is past are freed.

use super::{Ev, Sim};
use crate::fine::agents::Role;
use crate::fine::artifacts::ShareKind;

impl Sim {
    /// An honest node notarized new maximum height h at `t` (µs): the stall clock restarts,
    /// the run is done once h reaches `rounds + 3` (margin for finalizing the measured ones).
    /// A stall that began while h was still reachable with shares already sent (a node went
    /// down after signing) did not block it: it is dropped, and h + 1 is checked anew.
    pub(super) fn progress(&mut self, h: u64, t: u64) {
        self.max_notarized = h;
        self.last_progress_us = t;
        self.schedule(t + self.p.horizon_us, Ev::StallCheck);
        if h >= self.p.rounds + 3 {
            self.done = true;
        }
        self.stalled_since = None;
        self.check_stall_onset(t);
        self.maybe_prune();
    }

    /// Whether the up nodes can notarize height h: at least `quorum` up honest members of
    /// h's committee, and an up block maker of h that proposes (with equivocation proofs, not
    /// an equivocator, whose rank is disqualified). Committee and ranking of h exist once
    /// beacon h - 1 does; before that every node counts as a member and the makers are not
    /// checked (with n = 3f + 1 an up maker follows from the quorum).
    pub(super) fn can_notarize(&self, h: u64) -> bool {
        let known = (self.committees.len() as u64 > h).then_some(h);
        let signers = self
            .nodes
            .iter()
            .filter(|x| x.up && x.role == Role::Honest && known.is_none_or(|h| self.in_committee(h, x.id)))
            .count() as u32;
        let maker_up = match self.rankings.get(h as usize) {
            Some(makers) if known.is_some() => makers.iter().any(|&m| {
                let x = &self.nodes[m as usize];
                x.up && x.role.proposes() && !(self.p.proofs && x.role == Role::Equivocating)
            }),
            _ => true,
        };
        signers >= self.p.quorum && maker_up
    }

    /// Dynamic failures, at `t` (µs; a node went down, or a new height became the next): the
    /// next height is stalled from now if the up nodes cannot notarize it.
    pub(super) fn check_stall_onset(&mut self, t: u64) {
        if self.p.dynamic.is_some() && self.stalled_since.is_none() && !self.can_notarize(self.max_notarized + 1) {
            self.stalled_since = Some(t);
        }
    }

    /// A node recovered at `t` (µs) while the next height h was stalled: one stalled step of
    /// h ends here (h's times count from `t` on). If the up nodes can now notarize h the stall
    /// is over; otherwise the next stalled step begins. (Shares sent before a crash still
    /// count, so h may be notarized before that; its times count from this recovery.)
    pub(super) fn stall_recovery(&mut self, t: u64) {
        let Some(since) = self.stalled_since else { return };
        let h = self.max_notarized + 1;
        self.record_stall(h, t - since, t);
        self.stalled_since = (!self.can_notarize(h)).then_some(t);
    }

    /// Records a stalled step of height h lasting `stall_us` (µs) and ending at `t`; the run
    /// is done once stalled steps plus notarized heights reach `rounds`.
    fn record_stall(&mut self, h: u64, stall_us: u64, t: u64) {
        self.trace_line(t, u32::MAX, h, "stall", 0);
        self.monitor.stall(h, stall_us, t);
        let stalls: usize = self.monitor.records.iter().map(|r| r.stalls_before.len()).sum();
        if stalls as u64 + self.max_notarized >= self.p.rounds {
            self.done = true;
        }
    }

    /// The event queue ran dry: the run stalls for good at the next height.
    pub(super) fn stall_for_good(&mut self) {
        self.trace_line(self.now, u32::MAX, self.max_notarized + 1, "stall", 0);
        self.done = true;
    }

    /// At `t` (µs): if there was no progress for the stall horizon (and, with dynamic
    /// failures, no stall explains it), records a stall of the next height and waits another
    /// horizon (dynamic failures), or ends the run (static faults).
    pub(super) fn stall_check(&mut self, t: u64) {
        if self.done || t < self.last_progress_us + self.p.horizon_us {
            return;
        }
        if self.p.dynamic.is_none() {
            self.trace_line(t, u32::MAX, self.max_notarized + 1, "stall", 0);
            self.done = true;
            return;
        }
        if self.stalled_since.is_none() {
            self.record_stall(self.max_notarized + 1, self.p.horizon_us, t);
        }
        self.last_progress_us = t;
        self.schedule(t + self.p.horizon_us, Ev::StallCheck);
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
        let min_cert = self
            .nodes
            .iter()
            .zip(&self.cert)
            .filter(|(x, _)| x.up && x.role.signs())
            .map(|(_, c)| c.certified)
            .min()
            .unwrap_or(0);
        // Below this no node counts a certification share any more (see `certifier`).
        let cert_below = min_cert.saturating_sub(super::certifier::KEEP_BELOW_CERTIFIED);
        self.art.prune(ShareKind::Certification, cert_below.min(below));
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

    /// The fixture with dynamic failures, every node up and no stall.
    fn dynamic_all_up() -> super::super::Sim {
        let mut sim = fixture("mtbf_hours = 1000.0\nmttr_hours = 1000.0", "");
        for x in sim.nodes.iter_mut() {
            x.up = true;
        }
        sim.stalled_since = None;
        sim
    }

    /// A stall begins when the up nodes fall below the quorum (3 of 4), and each recovery
    /// ends one stalled step; the height's times then count from the last one.
    #[test]
    fn stalled_steps_run_from_onset_to_each_recovery() {
        let mut sim = dynamic_all_up();
        sim.crash(0, 1_000);
        assert_eq!(sim.stalled_since, None, "3 up: a quorum");
        sim.crash(1, 2_000);
        sim.crash(2, 3_000);
        assert_eq!(sim.stalled_since, Some(2_000));
        sim.recover(1, 7_000);
        assert_eq!(sim.stalled_since, Some(7_000), "2 up: still stalled");
        sim.recover(2, 10_000);
        assert_eq!(sim.stalled_since, None);
        let r = &sim.monitor.records[0];
        assert_eq!(r.stalls_before, [5_000, 3_000]);
        assert_eq!(r.resume_us, Some(10_000));
    }

    /// A height notarized although a stall began (the shares were out before the crash)
    /// records no stalled step; the next height is checked anew.
    #[test]
    fn progress_drops_a_stall_without_recovery() {
        let mut sim = dynamic_all_up();
        sim.crash(1, 2_000);
        sim.crash(2, 3_000);
        assert_eq!(sim.stalled_since, Some(3_000));
        sim.progress(1, 4_000);
        assert!(sim.monitor.records[0].stalls_before.is_empty());
        assert_eq!(sim.stalled_since, Some(4_000), "height 2 is stalled from its start");
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
