//! Measurement and checking: per-height records at an observer node, the safety monitor,
//! stall accounting, request latency; and the conversion into the shared aggregate layout.
//!
//! # What is measured
//! The quantities defined once in `ictwin_kernels::agg` ("What is measured"), shared with the
//! coarse model. Here the observer of each height is drawn among the honest nodes with its own
//! seeded stream.
//!
//! If the observer missed the height (down), the first honest node that notarized h inside
//! its round h stands in; if none, the step counts as notarized with the round time taken
//! between the first honest notarizations of h - 1 and h.
//!
//! Certification ([`super::sim`]'s certifier): the observer's (or stand-in's) first moment
//! holding h itself certified (h executed, n - f certification shares of h), from the same
//! origin as the finalization time; the certification lag of h is that moment minus the
//! observer's direct finalization of h, when both exist.

use super::agents::BlockId;
use ictwin_kernels::agg::{self, batch_index, batch_of};

/// One height's measurements.
#[derive(Clone, Debug, Default)]
pub struct HeightRecord {
    pub observer: u32,
    pub obs_start_us: Option<u64>,
    pub obs_notarized_us: Option<u64>,
    pub obs_rank: u32,
    pub obs_finalized_us: Option<u64>,
    /// Stand-in: (node, round start, notarization, rank).
    pub fallback: Option<(u32, u64, u64, u32)>,
    pub fallback_finalized_us: Option<u64>,
    /// When the observer held h certified (executed, n - f certification shares), µs.
    pub obs_certified_us: Option<u64>,
    pub fallback_certified_us: Option<u64>,
    pub first_notarized_us: Option<u64>,
    pub first_rank: u32,
    /// Stall steps recorded while this height was the next to notarize, with their stall time.
    pub stalls_before: Vec<u64>,
    /// End of the last stalled step of this height (a recovery, or the stall horizon), µs:
    /// its round and finalization times count from here if the round started earlier.
    pub resume_us: Option<u64>,
}

/// One round step's outcome.
#[derive(Clone, Debug, PartialEq)]
pub enum Step {
    Notarized {
        round_us: u64,
        rank: u32,
        finalization_us: Option<u64>,
        /// Certification time (from the round start), if certified.
        certification_us: Option<u64>,
        /// Certification - finalization time, if both (the finalization direct).
        cert_lag_us: Option<u64>,
    },
    Stalled {
        stall_us: u64,
    },
}

/// Request statistics.
#[derive(Clone, Debug)]
pub struct RequestStats {
    pub submitted: u64,
    pub finalized: u64,
    pub latency_sum_us: u64,
    /// Latency histogram in the aggregate's time bins.
    pub latency_hist: Vec<u64>,
}

impl Default for RequestStats {
    fn default() -> Self {
        RequestStats {
            submitted: 0,
            finalized: 0,
            latency_sum_us: 0,
            latency_hist: vec![0; agg::TIME_BINS as usize],
        }
    }
}

impl RequestStats {
    pub fn add(&mut self, o: &RequestStats) {
        self.submitted += o.submitted;
        self.finalized += o.finalized;
        self.latency_sum_us += o.latency_sum_us;
        for (a, b) in self.latency_hist.iter_mut().zip(&o.latency_hist) {
            *a += b;
        }
    }
    pub fn record(&mut self, latency_us: u64) {
        self.finalized += 1;
        self.latency_sum_us += latency_us;
        self.latency_hist[agg::time_bin(latency_us) as usize] += 1;
    }
}

/// The run's monitor.
#[derive(Clone, Debug, Default)]
pub struct Monitor {
    /// Index h - 1 for heights 1..=records.len().
    pub records: Vec<HeightRecord>,
    /// The block finalized at each height (index = height), as first seen by any honest node.
    pub finalized: Vec<Option<BlockId>>,
    /// Heights where two honest nodes finalized different blocks.
    pub violation_heights: Vec<u64>,
    /// Aggregates (notarizations/finalizations) formed or accepted that contain a share that
    /// failed verification (must stay 0).
    pub aggregates_with_invalid_shares: u64,
    /// Shares rejected by verification, over all receivers.
    pub shares_rejected: u64,
    pub requests: RequestStats,
}

impl Monitor {
    /// A monitor for heights 1..=heights with the given observers (index h - 1).
    pub fn new(observers: Vec<u32>) -> Self {
        Monitor {
            records: observers
                .into_iter()
                .map(|o| HeightRecord {
                    observer: o,
                    ..Default::default()
                })
                .collect(),
            finalized: vec![Some(0)],
            ..Default::default()
        }
    }

    fn rec(&mut self, h: u64) -> Option<&mut HeightRecord> {
        if h == 0 {
            return None;
        }
        self.records.get_mut(h as usize - 1)
    }

    pub fn round_start(&mut self, node: u32, h: u64, t: u64) {
        if let Some(r) = self.rec(h) {
            if r.observer == node && r.obs_start_us.is_none() {
                r.obs_start_us = Some(t);
            }
        }
    }

    /// Node `node` (honest or not) received the first notarization of `h` at `t`;
    /// `start` = its round start of h if it was in round h.
    pub fn notarized(&mut self, node: u32, honest: bool, h: u64, t: u64, rank: u32, start: Option<u64>) {
        let Some(r) = self.rec(h) else { return };
        if r.observer == node && r.obs_notarized_us.is_none() {
            r.obs_notarized_us = Some(t);
            r.obs_rank = rank;
        }
        if honest {
            if r.first_notarized_us.is_none() {
                r.first_notarized_us = Some(t);
                r.first_rank = rank;
            }
            if let (None, Some(s)) = (r.fallback, start) {
                r.fallback = Some((node, s, t, rank));
            }
        }
    }

    /// Node `node` received a finalization of a block at height `h` at `t`.
    pub fn direct_finalization(&mut self, node: u32, h: u64, t: u64) {
        let Some(r) = self.rec(h) else { return };
        if r.observer == node && r.obs_finalized_us.is_none() {
            r.obs_finalized_us = Some(t);
        }
        if r.fallback.is_some_and(|f| f.0 == node) && r.fallback_finalized_us.is_none() {
            r.fallback_finalized_us = Some(t);
        }
    }

    /// Node `node` holds height `h` certified at `t` (it executed h and holds n - f
    /// certification shares of h).
    pub fn certified(&mut self, node: u32, h: u64, t: u64) {
        let Some(r) = self.rec(h) else { return };
        if r.observer == node && r.obs_certified_us.is_none() {
            r.obs_certified_us = Some(t);
        }
        if r.fallback.is_some_and(|f| f.0 == node) && r.fallback_certified_us.is_none() {
            r.fallback_certified_us = Some(t);
        }
    }

    /// Honest node finalized `block` at height `h`: checks agreement. Returns true the first
    /// time this height is finalized by anyone.
    pub fn finalize(&mut self, h: u64, block: BlockId) -> bool {
        let h = h as usize;
        if self.finalized.len() <= h {
            self.finalized.resize(h + 1, None);
        }
        match self.finalized[h] {
            None => {
                self.finalized[h] = Some(block);
                true
            }
            Some(b) if b != block => {
                if !self.violation_heights.contains(&(h as u64)) {
                    self.violation_heights.push(h as u64);
                }
                false
            }
            Some(_) => false,
        }
    }

    /// A stalled step of `stall_us` (µs) ending at `end_us` while `h` was the next height to
    /// notarize.
    pub fn stall(&mut self, h: u64, stall_us: u64, end_us: u64) {
        if let Some(r) = self.rec(h) {
            r.stalls_before.push(stall_us);
            r.resume_us = Some(end_us);
        }
    }

    /// The round steps in order (at most `rounds`; padded with zero-time stalls when the run
    /// stalled for good).
    pub fn steps(&self, rounds: usize) -> Vec<Step> {
        let mut out = Vec::with_capacity(rounds);
        let mut prev_first: Option<u64> = Some(0);
        for r in &self.records {
            for &s in &r.stalls_before {
                out.push(Step::Stalled { stall_us: s });
            }
            let resume = r.resume_us.unwrap_or(0);
            let lag = |c: Option<u64>, f: Option<u64>| c.zip(f).map(|(c, f)| c.saturating_sub(f));
            let step = match (r.obs_start_us, r.obs_notarized_us, r.fallback, r.first_notarized_us) {
                (Some(s), Some(n), _, _) => Some(Step::Notarized {
                    round_us: n.saturating_sub(s.max(resume)),
                    rank: r.obs_rank,
                    finalization_us: r.obs_finalized_us.map(|f| f.saturating_sub(s.max(resume))),
                    certification_us: r.obs_certified_us.map(|c| c.saturating_sub(s.max(resume))),
                    cert_lag_us: lag(r.obs_certified_us, r.obs_finalized_us),
                }),
                (_, _, Some((_, s, n, rank)), _) => Some(Step::Notarized {
                    round_us: n.saturating_sub(s.max(resume)),
                    rank,
                    finalization_us: r.fallback_finalized_us.map(|f| f.saturating_sub(s.max(resume))),
                    certification_us: r.fallback_certified_us.map(|c| c.saturating_sub(s.max(resume))),
                    cert_lag_us: lag(r.fallback_certified_us, r.fallback_finalized_us),
                }),
                (_, _, None, Some(n)) => Some(Step::Notarized {
                    round_us: n.saturating_sub(prev_first.unwrap_or(n).max(resume)),
                    rank: r.first_rank,
                    finalization_us: None,
                    certification_us: None,
                    cert_lag_us: None,
                }),
                _ => None,
            };
            prev_first = r.first_notarized_us;
            match step {
                Some(s) => out.push(s),
                None => break,
            }
        }
        out.truncate(rounds);
        while out.len() < rounds {
            out.push(Step::Stalled { stall_us: 0 });
        }
        out
    }
}

/// Adds the steps of replica `replica` to an aggregate array (layout of `ictwin_kernels::agg`).
/// Stall time counts only after the first notarized step ("time stalled" in that module).
pub fn add_steps(steps: &[Step], replica: u32, rounds: u32, segments: u32, a: &mut [u64]) {
    let mut progressed = false;
    for (s, step) in steps.iter().enumerate() {
        let b = batch_of(replica, s as u32, rounds, segments);
        let mut add = |f: u32, v: u64| a[batch_index(b, f)] += v;
        match *step {
            Step::Notarized {
                round_us,
                rank,
                finalization_us,
                certification_us,
                cert_lag_us,
            } => {
                progressed = true;
                if let Some(c) = certification_us {
                    add(agg::F_CERTIFIED, 1);
                    add(agg::F_CERT_US, c);
                }
                if let Some(l) = cert_lag_us {
                    add(agg::F_CERT_LAG_US, l);
                }
                add(agg::F_NOTARIZED, 1);
                add(agg::F_ROUND_US, round_us);
                add(agg::F_RANK_SUM, rank as u64);
                add(agg::F_RANK0, (rank == 0) as u64);
                if let Some(f) = finalization_us {
                    add(agg::F_FINALIZED, 1);
                    add(agg::F_FIN_US, f);
                }
                a[(agg::HIST_ROUND + agg::time_bin(round_us)) as usize] += 1;
                a[(agg::HIST_RANK + rank.min(agg::RANK_BINS - 1)) as usize] += 1;
                if let Some(f) = finalization_us {
                    a[(agg::HIST_FIN + agg::time_bin(f)) as usize] += 1;
                }
            }
            Step::Stalled { stall_us } => {
                add(agg::F_STALLED, 1);
                if progressed {
                    add(agg::F_STALL_US, stall_us);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn observer_measurements_become_steps() {
        let mut m = Monitor::new(vec![3, 3, 3]);
        m.round_start(3, 1, 0);
        m.notarized(3, true, 1, 400_000, 0, Some(0));
        m.direct_finalization(3, 1, 500_000);
        m.certified(3, 1, 650_000);
        m.round_start(3, 2, 400_000);
        m.notarized(5, true, 2, 790_000, 1, Some(400_000));
        m.notarized(3, true, 2, 800_000, 1, Some(400_000));
        m.stall(3, 60_000_000, 61_000_000);
        let steps = m.steps(4);
        assert_eq!(
            steps,
            vec![
                Step::Notarized {
                    round_us: 400_000,
                    rank: 0,
                    finalization_us: Some(500_000),
                    certification_us: Some(650_000),
                    cert_lag_us: Some(150_000),
                },
                Step::Notarized {
                    round_us: 400_000,
                    rank: 1,
                    finalization_us: None,
                    certification_us: None,
                    cert_lag_us: None,
                },
                Step::Stalled { stall_us: 60_000_000 },
                Step::Stalled { stall_us: 0 },
            ]
        );
        assert!(m.finalize(1, 7));
        assert!(!m.finalize(1, 8));
        assert_eq!(m.violation_heights, vec![1]);
    }
}
