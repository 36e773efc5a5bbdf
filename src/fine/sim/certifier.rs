//! Certifier: execution of finalized heights and state certification, coupled back into the
//! notary (rule 2 of `results/real-ic/DEPLOYED-RULES.md` §2; dfinity/ic
//! `rs/consensus/src/consensus/notary.rs`, `get_adjusted_notary_delay_from_settings`, and
//! `rs/consensus/src/consensus.rs`, `ACCEPTABLE_NOTARIZATION_CERTIFICATION_GAP`).
//!
//! Per node k whose role signs shares (honest, `invalid_share`, `notarize_all`; up) and
//! height h, times in µs:
//! 1. **Execution**, in height order, one height after the other:
//!    `ex_k(h) = max(ex_k(h - 1), F_k(h)) + X_h`, where `F_k(h)` is when k holds h finalized
//!    (directly, or as an ancestor of a block it finalized) and `X_h` the execution time of h,
//!    drawn once per height from `[execution] time` with a seed of its own (the same value at
//!    every node: execution is deterministic). Genesis is executed and certified at 0. A down
//!    node executes nothing (its pending executions die with its epoch).
//! 2. **Certification share**: at `ex_k(h)` k signs a share of the state of h (threshold BLS,
//!    the high-threshold key set; `sign_us` of CPU) and sends it to every other node like any
//!    share (network delay, latency matrix, `[node] processing`, `verify_share_us` to check).
//! 3. **Certified**: k holds h certified at `cert_k(h)`, the first time it has executed h and
//!    holds n - f valid shares of h (its own included; f = (n - 1) / 3: the high-threshold
//!    committee, `Committee::HighThreshold` in `rs/types/types/src/consensus/certification.rs`,
//!    threshold `committee_size - f` in `rs/types/types/src/crypto/threshold_sig/ni_dkg.rs`).
//!    Aggregated certifications are not relayed (a simplification shared with the coarse
//!    model). `certified_k` = the highest height k holds certified (heights may be skipped).
//! 4. **Notary coupling** (`[protocol] certification_backlog`, [`super::notary`]): the notary
//!    delay of k in round h gains `2,000 ms x gap` when `gap = finalized_k - certified_k > 1`
//!    (0 otherwise), and k signs no notarization share while `(h - 1) - certified_k >= 70`.
//!    Both are recomputed on every decision; a rise of `certified_k` makes k reconsider. Not
//!    modelled: the CUP gap limit (130) and the halting exception of the backlog delay.
//! 5. **Recovery** ([`super::recovery`]): a node that catches up to a peer's finalized height
//!    H holds H executed and certified from then on (state sync) and executes later heights
//!    normally; its certification shares of heights it missed are not re-sent.
//!
//! Invariants: `certified_k <= executed_k <= scheduled_k <= finalized_k`; with `X = 0` and
//! delays shorter than a round the gap stays at most 1 and the backlog never applies.
//! Certification traffic is kept off the consensus streams (see [`super`], determinism).

use super::{Emit, Ev, Msg, Sim};
use crate::fine::agents::{Role, SignerSet};
use crate::fine::artifacts::ShareKind;
use ictwin_kernels::backlog;
use rand::rngs::StdRng;
use rand::{RngCore, SeedableRng};
use std::collections::BTreeMap;

/// Share entries this far below the certified height are dropped (they cannot matter to the
/// notary any more; their heights just go unmeasured), heights.
pub const KEEP_BELOW_CERTIFIED: u64 = 256;

/// One node's execution and certification state.
#[derive(Clone, Debug, Default)]
pub(super) struct NodeCert {
    /// Highest height whose execution is scheduled.
    pub scheduled: u64,
    /// When the execution of `scheduled` ends, µs.
    pub exec_done_us: u64,
    /// Highest height executed.
    pub executed: u64,
    /// Highest height held certified.
    pub certified: u64,
    /// Certification shares per height not yet certified here (true once certified).
    pub shares: BTreeMap<u64, (SignerSet, bool)>,
}

impl Sim {
    /// Execution time of height h, µs: one draw per height from `[execution] time`, from a
    /// stream seeded by (run seed, h) alone.
    fn exec_us(&mut self, h: u64) -> u64 {
        while self.exec_times.len() as u64 <= h {
            let k = self.exec_times.len() as u64;
            let mut rng = StdRng::seed_from_u64(super::mix64(self.exec_seed ^ super::mix64(k)));
            let u = ((rng.next_u64() >> 11) as f64 + 0.5) / (1u64 << 53) as f64;
            let us = (self.p.execution.quantile_ms(u) * 1000.0).round().max(0.0) as u64;
            self.exec_times.push(us);
        }
        self.exec_times[h as usize]
    }

    /// Node i's finalized height rose at `t` (µs): it schedules the execution of the new
    /// heights, in order, one after the other.
    pub(super) fn schedule_executions(&mut self, i: u32, t: u64) {
        let n = &self.nodes[i as usize];
        if !n.role.signs() {
            return;
        }
        let (fin, epoch) = (n.finalized_height, n.epoch);
        let mut out = Vec::new();
        while self.cert[i as usize].scheduled < fin {
            let h = self.cert[i as usize].scheduled + 1;
            let x = self.exec_us(h);
            let c = &mut self.cert[i as usize];
            c.exec_done_us = c.exec_done_us.max(t) + x;
            c.scheduled = h;
            let ev = Ev::Executed {
                node: i,
                epoch,
                height: h,
            };
            out.push(Emit::Timer {
                at_us: c.exec_done_us,
                ev,
            });
        }
        self.apply(i, t, out);
    }

    /// Node i finished executing h at `t` (µs): it signs its certification share of h.
    pub(super) fn executed(&mut self, i: u32, h: u64, t: u64) {
        // Heights finishing at the same instant may come out of the queue in any order.
        let c = &mut self.cert[i as usize];
        c.executed = c.executed.max(h);
        let signers: Vec<(u32, bool)> = self
            .nodes
            .iter()
            .filter(|x| x.role.signs())
            .map(|x| (x.id, x.role == Role::InvalidShare))
            .collect();
        let subject = [b"ictwin-state".as_slice(), &h.to_le_bytes()].concat();
        self.art.prepare(ShareKind::Certification, h, &subject, &signers);
        self.apply(i, t, [Emit::Signed(Msg::CertShare(h, i))]);
        self.check_certified(i, h, t);
    }

    /// Share s of height h would count at node i (not held yet, h not certified there).
    pub(super) fn cert_share_useful(&self, i: u32, h: u64, s: u32) -> bool {
        let c = &self.cert[i as usize];
        h > c.certified.saturating_sub(KEEP_BELOW_CERTIFIED)
            && c.shares.get(&h).is_none_or(|(set, done)| !done && !set.contains(s))
    }

    /// Node i takes in signer s's certification share of h at `t` (µs); invalid ones are
    /// counted and dropped.
    pub(super) fn add_cert_share(&mut self, i: u32, h: u64, s: u32, t: u64) {
        if !self.cert_share_useful(i, h, s) {
            return;
        }
        if !self.art.share_valid(ShareKind::Certification, h, s) {
            self.monitor.shares_rejected += 1;
            return;
        }
        self.cert[i as usize].shares.entry(h).or_default().0.insert(s);
        self.check_certified(i, h, t);
    }

    /// Node i holds h certified at `t` (µs) once it executed h and holds n - f shares of h:
    /// measured; a new highest certified height makes the notary reconsider.
    fn check_certified(&mut self, i: u32, h: u64, t: u64) {
        let thr = self.p.cert_threshold;
        let c = &mut self.cert[i as usize];
        let Some((set, done)) = c.shares.get_mut(&h) else {
            return;
        };
        if *done || c.executed < h || set.len() < thr {
            return;
        }
        *done = true;
        // Only the flag is read from now on: free the signer set (n bits per height kept).
        *set = SignerSet::default();
        self.monitor.certified(i, h, t);
        self.trace_line(t, i, h, "certified", 0);
        let c = &mut self.cert[i as usize];
        if h <= c.certified {
            return;
        }
        c.certified = h;
        let floor = h.saturating_sub(KEEP_BELOW_CERTIFIED);
        c.shares = c.shares.split_off(&floor);
        if self.p.cert_backlog {
            let cur = self.nodes[i as usize].height;
            self.try_notarize(i, cur, t);
        }
    }

    /// Extra notary delay of node i now, µs: 2 s per height of finalized - certified gap when
    /// the gap exceeds 1 (0 without `certification_backlog`).
    pub(super) fn backlog_us(&self, i: u32) -> u64 {
        let gap = self.nodes[i as usize]
            .finalized_height
            .saturating_sub(self.cert[i as usize].certified);
        if self.p.cert_backlog {
            backlog::backlog_us(gap.min(u32::MAX as u64) as u32)
        } else {
            0
        }
    }

    /// Node i may not notarization-sign in round h: (h - 1) - certified >= 70 (only with
    /// `certification_backlog`).
    pub(super) fn certification_gap_too_large(&self, i: u32, h: u64) -> bool {
        self.p.cert_backlog
            && h.saturating_sub(1).saturating_sub(self.cert[i as usize].certified)
                >= backlog::ACCEPTABLE_NOTARIZATION_CERTIFICATION_GAP as u64
    }

    /// Node i goes down: its pending executions are void (epoch), its share pool is lost.
    pub(super) fn cert_crash(&mut self, i: u32) {
        let c = &mut self.cert[i as usize];
        c.scheduled = c.executed;
        c.shares.clear();
    }

    /// Node i caught up at `t` (µs) to finalized height `fin`: state sync makes it hold `fin`
    /// executed and certified; later heights execute normally.
    pub(super) fn cert_catch_up(&mut self, i: u32, fin: u64, t: u64) {
        let c = &mut self.cert[i as usize];
        if fin > c.executed {
            c.executed = fin;
            c.scheduled = fin;
            c.certified = c.certified.max(fin);
        }
        c.scheduled = c.scheduled.max(c.executed);
        c.exec_done_us = t;
    }
}

#[cfg(test)]
mod tests {
    use super::super::fixture::{fixture, fixture_with, HONEST};
    use super::super::{Emit, Msg, Sim};
    use crate::fine::artifacts::ShareKind;
    use std::sync::atomic::AtomicBool;

    /// The fixture subnet (constant 100 ms delays, N0 = 300 ms, U = 1 s, 20 heights) with
    /// execution time `x_ms` and `certification_backlog = backlog`, run to its end.
    fn run(x_ms: f64, backlog: bool) -> Sim {
        let tables = format!(
            "[execution]\ntime = {{ dist = \"constant\", ms = {x_ms} }}\n\
             [protocol]\ncertification_backlog = {backlog}\n"
        );
        let mut sim = fixture_with(HONEST, "", &tables);
        assert!(sim.run(&AtomicBool::new(false), &mut |_| {}));
        sim
    }

    /// (round start, notarization, finalization, rank) at the observer of a height.
    type Round = (Option<u64>, Option<u64>, Option<u64>, u32);

    /// The [`Round`]s of the 20 measured heights.
    fn rounds(sim: &Sim) -> Vec<Round> {
        sim.monitor.records[..20]
            .iter()
            .map(|r| (r.obs_start_us, r.obs_notarized_us, r.obs_finalized_us, r.obs_rank))
            .collect()
    }

    /// (a) X = 0: every height is certified one share delay (100 ms) after its finalization
    /// and the backlog never applies (every round is the closed form N0 + d = 400 ms).
    #[test]
    fn fast_execution_certifies_one_share_delay_after_finalization() {
        let sim = run(0.0, true);
        for (h, r) in sim.monitor.records[..20].iter().enumerate() {
            let s = r.obs_start_us.expect("observed");
            assert_eq!(r.obs_notarized_us.unwrap() - s, 400_000, "height {}", h + 1);
            let (f, c) = (r.obs_finalized_us.unwrap(), r.obs_certified_us.unwrap());
            assert_eq!(c - f, 100_000, "height {}", h + 1);
        }
        for i in 0..4 {
            assert!(sim.cert[i].certified + 1 >= sim.nodes[i].finalized_height);
        }
    }

    /// (b) X = 2 s, longer than the 400 ms round: the finalized - certified gap reaches 2 and
    /// the notary waits for the backlog delay, which a certification arriving meanwhile cuts
    /// short (the due time is recomputed): the rounds become execution-bound, exactly X, and
    /// the block rate 1/X. With X = 5 s the certification comes after N0 + 4 s: rounds of
    /// N0 + 4 s + d = 4.4 s happen.
    #[test]
    fn slow_execution_stretches_rounds_by_the_backlog_delay() {
        let sim = run(2000.0, true);
        let r = rounds(&sim);
        let times: Vec<u64> = r.iter().map(|x| x.1.unwrap() - x.0.unwrap()).collect();
        assert_eq!(times[..2], [400_000, 400_000], "gap below 2: closed-form rounds");
        assert!(times[3..].iter().all(|&t| t == 2_000_000), "{times:?}");
        // After the first heights (fast, the gap building up), at most 1/X per second.
        let (a, b) = (r[4].1.unwrap(), r[19].1.unwrap());
        let rate = 15.0 / ((b - a) as f64 / 1e6);
        assert!(rate <= 0.5 + 1e-9, "block rate {rate} /s, times {times:?}");
        let lag = sim.monitor.records[10]
            .obs_certified_us
            .zip(sim.monitor.records[10].obs_finalized_us);
        assert!(lag.is_some_and(|(c, f)| c - f >= 2_000_000), "{lag:?}");
        let times: Vec<u64> = rounds(&run(5000.0, true))
            .iter()
            .map(|x| x.1.unwrap() - x.0.unwrap())
            .collect();
        assert!(times.contains(&4_400_000), "a round of N0 + 4 s + d: {times:?}");
    }

    /// The due time includes 2 s x gap once finalized - certified exceeds 1.
    #[test]
    fn notary_delay_grows_by_two_seconds_per_height_of_gap() {
        let mut sim = fixture(HONEST, "");
        let b = sim.block(1, 0);
        let i = 3;
        sim.nodes[i as usize].pool(1).blocks.entry(b).or_default().received = true;
        sim.nodes[i as usize].finalized_height = 1;
        assert_eq!(sim.backlog_us(i), 0, "gap 1: no backlog");
        sim.nodes[i as usize].finalized_height = 3;
        assert_eq!(sim.backlog_us(i), 6_000_000, "gap 3: the whole gap, 2 s each");
        sim.nodes[i as usize].finalized_height = 2;
        match sim.notarize(i, 1, 0).as_slice() {
            [Emit::Timer { at_us, .. }] => assert_eq!(*at_us, 300_000 + 4_000_000),
            other => panic!("expected a timer, got {other:?}"),
        }
        // Certified rises to 1 (gap 1): the due time moves back to N0, a new timer is set.
        sim.cert[i as usize].certified = 1;
        match sim.notarize(i, 1, 0).as_slice() {
            [Emit::Timer { at_us, .. }] => assert_eq!(*at_us, 300_000),
            other => panic!("expected a timer, got {other:?}"),
        }
    }

    /// (c) Without the backlog rule, a slow execution changes no round: the same rounds as
    /// with fast execution (and as with the rule and fast execution), while certification is
    /// still measured.
    #[test]
    fn without_the_backlog_rule_execution_does_not_slow_consensus() {
        let base = run(0.0, false);
        let slow = run(2000.0, false);
        assert_eq!(rounds(&base), rounds(&slow));
        assert_eq!(rounds(&base), rounds(&run(0.0, true)));
        let certified = slow.monitor.records[..20]
            .iter()
            .filter(|r| r.obs_certified_us.is_some())
            .count();
        assert!(certified >= 3, "{certified} certified heights");
        let last = slow.monitor.records[..20]
            .iter()
            .rev()
            .find_map(|r| r.obs_certified_us.zip(r.obs_finalized_us));
        assert!(
            last.is_some_and(|(c, f)| c - f > 5_000_000),
            "the lag keeps growing: {last:?}"
        );
    }

    /// (d) The hard limit: in round 71 a node whose certified height is 0 signs nothing;
    /// certified 1 (a lag of 69) lets it sign.
    #[test]
    fn node_lagging_70_certified_heights_signs_nothing() {
        let mut sim = fixture(HONEST, "");
        let mut b = sim.block(1, 0);
        for h in 2..=71 {
            sim.advance_beacon(h - 1);
            let rank = (0..2)
                .find(|&r| sim.in_committee(h, sim.rankings[h as usize][r as usize]))
                .unwrap_or(0);
            b = sim.block_on(h, rank, b);
        }
        let parent = sim.blocks[b as usize].parent;
        let i = (0..4).find(|&i| sim.in_committee(71, i)).expect("a member");
        let n = &mut sim.nodes[i as usize];
        n.height = 71;
        n.round_start_us = 0;
        n.pool(70).blocks.entry(parent).or_default().notarized = true;
        n.pool(71).blocks.entry(b).or_default().received = true;
        assert!(sim.notarize(i, 71, 60_000_000).is_empty(), "(71 - 1) - 0 >= 70");
        sim.cert[i as usize].certified = 1;
        match sim.notarize(i, 71, 60_000_000).as_slice() {
            [Emit::Signed(Msg::Share(ShareKind::Notarization, x, s))] => assert_eq!((*x, *s), (b, i)),
            other => panic!("expected one share, got {other:?}"),
        }
    }

    /// n - f = 3 valid certification shares of an executed height certify it; 2 do not, nor
    /// 3 before execution.
    #[test]
    fn n_minus_f_shares_of_an_executed_height_certify_it() {
        let mut sim = fixture(HONEST, "");
        let i = 3;
        sim.nodes[i as usize].finalized_height = 1;
        sim.executed(0, 1, 0);
        for s in 0..3 {
            sim.process(i, Msg::CertShare(1, s), 10);
        }
        assert_eq!(sim.cert[i as usize].certified, 0, "not executed yet");
        sim.executed(i, 1, 20);
        assert_eq!(sim.cert[i as usize].certified, 1);
        let j = 2;
        sim.cert[j as usize].executed = 1;
        for s in 0..2 {
            sim.process(j, Msg::CertShare(1, s), 30);
        }
        assert_eq!(sim.cert[j as usize].certified, 0);
    }
}
