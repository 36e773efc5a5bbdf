//! The run's aggregates: one flat array of u64 counters, the same layout on the CPU (plain
//! adds) and on the GPU (pairs of u32 atomics with carry). Everything in `summary.csv` and
//! `histograms.csv` is computed from it, so equal aggregates mean equal output files.
//!
//! Layout: `BATCHES` blocks of `BATCH_FIELDS` counters, then the round-time histogram, the
//! finalization-time histogram and the notarized-rank histogram.
//!
//! # What is measured (the one definition both engines implement)
//! The coarse model (`model.rs`) and the fine engine (`src/fine/monitor.rs`) fill this layout
//! with the same quantities. Each height h is one *round step*, measured at its **observer**:
//! an honest node drawn uniformly per height, independently of the protocol's randomness.
//! T0 = the observer's own round start for h (when it held a notarization and the random
//! beacon of h - 1).
//! - **round time** = when the observer first holds a notarization of a block at h (a quorum
//!   of 2f+1 shares, its own included, or a relayed notarization) - T0 (0 if it held it
//!   before T0);
//! - **notarized rank** = the rank of that first notarized block;
//! - **finalized**: the observer holds a finalization of a block at h itself (2f+1
//!   finalization shares or a relayed finalization), not only as an ancestor of a later
//!   finalization; **finalization time** = that moment - T0;
//! - a **stalled** step: no progress is possible (fewer than 2f+1 signers up, or no block
//!   maker left); with dynamic failures it lasts from the moment that holds (the coarse
//!   model sees it at the height's earliest round start, the fine engine when a node goes
//!   down or the height becomes the next) until the next recovery of any node, and the
//!   height's round and finalization times count from the end of its last stalled step
//!   (its observer's T0 if later). Progress is what an
//!   honest node holds: a subnet without any honest node (every node crashed or Byzantine,
//!   `[fine]` roles included) has no observer, and every step counts as stalled even when
//!   Byzantine nodes notarize heights among themselves (`notarize_all` nodes do): nothing
//!   they produce carries the protocol's guarantees. Scenario loading warns about it;
//! - **time stalled** (`F_STALL_US`): the stalled steps' durations, counted only after the
//!   replica's first notarized height. Replicas start in the stationary state of the failure
//!   processes; a stall they start in would be counted whole while the up time that follows
//!   is cut by the step horizon, which biased the fraction upwards by about
//!   P(stalled) x (stall length) / (horizon).
//!   From the first notarization on, every stall episode that starts inside the horizon
//!   counts whole, so Σ stall / Σ (round + stall) time estimates the long-run fraction of
//!   time stalled r D / (1 + r D) (renewal-reward; r the rate of stall onsets per up second,
//!   D the mean episode length). A smaller bias of order D / horizon remains (the up time
//!   after a replica's initial stall has a higher onset rate): use horizons (rounds x round
//!   time) much longer than the stall episodes;
//!   `tests/coarse.rs` checks it against the binomial P(more than f nodes down);
//! - **certification** (rule 2 of the deployed-rules issue; [`crate::cert`]): the observer
//!   holds the state of h certified when it has executed h and holds n - f certification
//!   shares of h (its own included); **certification time** = that moment - T0, counted for
//!   the heights it certifies (`F_CERTIFIED`, `F_CERT_US`). For a height both finalized and
//!   certified at the observer, certification - finalization time is the time h spends
//!   finalized but not certified; summed (`F_CERT_LAG_US`) and divided by the total round
//!   and stall time it is the time average of finalized - certified height (Little's law):
//!   **mean certification lag**;
//! - calibrated overheads (`[calibration]`) are added to the coarse round and finalization
//!   times only (the certification time includes both, as it follows the finalization).
//!
//! Ratios are per step: stalled / all steps, finalized / notarized steps; the block rate is
//! notarized steps / (their total round time + time stalled), and the time-stalled ratio is
//! time stalled / (total round time + time stalled).

/// Independent batches for batch-means confidence intervals.
pub const BATCHES: u32 = 64;
/// Counters per batch, indexed by the `F_*` constants.
pub const BATCH_FIELDS: u32 = 11;
pub const F_NOTARIZED: u32 = 0;
pub const F_STALLED: u32 = 1;
pub const F_FINALIZED: u32 = 2;
/// Sum of round times of notarized rounds, µs.
pub const F_ROUND_US: u32 = 3;
/// Sum of finalization times (from round start) of finalized rounds, µs.
pub const F_FIN_US: u32 = 4;
/// Sum of notarized ranks.
pub const F_RANK_SUM: u32 = 5;
pub const F_RANK0: u32 = 6;
/// Simulated time spent stalled (waiting for a recovery) after the replica's first
/// notarized height, µs (see "time stalled" above).
pub const F_STALL_US: u32 = 7;
/// Heights whose state the observer certified (see "certification" above).
pub const F_CERTIFIED: u32 = 8;
/// Sum of certification times (from the observer's round start) of certified heights, µs.
pub const F_CERT_US: u32 = 9;
/// Sum over heights both finalized and certified at the observer of certification time -
/// finalization time, µs (the area under finalized - certified height; see "certification").
pub const F_CERT_LAG_US: u32 = 10;

/// Time histogram bins: 1 ms wide below 1024 ms, then 256 log-spaced bins per octave up to
/// 2^22 ms; the last bin also holds everything above.
pub const TIME_BINS: u32 = 4096;
pub const RANK_BINS: u32 = 64;

pub const HIST_ROUND: u32 = BATCHES * BATCH_FIELDS;
pub const HIST_FIN: u32 = HIST_ROUND + TIME_BINS;
pub const HIST_RANK: u32 = HIST_FIN + TIME_BINS;
/// Length of the aggregate array.
pub const AGG_LEN: u32 = HIST_RANK + RANK_BINS;

/// Index of counter `field` of batch `batch`.
#[inline(always)]
pub fn batch_index(batch: u32, field: u32) -> usize {
    (batch * BATCH_FIELDS + field) as usize
}

/// Batch of round step `step` of replica `replica`: replicas are spread over the batches;
/// when there are fewer replicas than batches each replica is cut into `segments` consecutive
/// runs of steps (classic batch means), so that a single long replica still gets a CI.
#[inline(always)]
pub fn batch_of(replica: u32, step: u32, rounds: u32, segments: u32) -> u32 {
    let seg = (step as u64 * segments as u64 / rounds.max(1) as u64) as u32;
    ((replica as u64 * segments as u64 + seg as u64) % BATCHES as u64) as u32
}

/// max(1, ceil(BATCHES / replicas)).
pub fn batch_segments(replicas: u32) -> u32 {
    if replicas >= BATCHES {
        1
    } else {
        BATCHES.div_ceil(replicas.max(1))
    }
}

/// Histogram bin of a time in µs.
#[inline(always)]
pub fn time_bin(us: u64) -> u32 {
    let ms = us / 1000;
    if ms < 1024 {
        return ms as u32;
    }
    let e = 63 - ms.leading_zeros(); // >= 10
    if e > 21 {
        return TIME_BINS - 1;
    }
    let sub = ((ms >> (e - 8)) & 255) as u32;
    1024 + (e - 10) * 256 + sub
}

/// Lower and upper edge of a time bin, ms (the last bin's upper edge is infinite).
pub fn time_bin_edges_ms(bin: u32) -> (f64, f64) {
    if bin < 1024 {
        return (bin as f64, bin as f64 + 1.0);
    }
    let e = 10 + (bin - 1024) / 256;
    let sub = (bin - 1024) % 256;
    let lo = ((256 + sub as u64) << (e - 8)) as f64;
    let hi = if bin == TIME_BINS - 1 {
        f64::INFINITY
    } else {
        lo + (1u64 << (e - 8)) as f64
    };
    (lo, hi)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn time_bins_contain_their_values() {
        for ms in [
            0u64,
            1,
            399,
            400,
            1023,
            1024,
            1027,
            1028,
            2047,
            2048,
            5000,
            123_456,
            (1 << 22) - 1,
        ] {
            let b = time_bin(ms * 1000 + 999);
            let (lo, hi) = time_bin_edges_ms(b);
            assert!(lo <= ms as f64 && (ms as f64) < hi, "{ms} ms in bin {b} [{lo}, {hi})");
        }
        assert_eq!(time_bin(400_000), 400);
        assert_eq!(time_bin(u64::MAX), TIME_BINS - 1);
        assert_eq!(time_bin(((1u64 << 22) - 1) * 1000), TIME_BINS - 1);
    }

    #[test]
    fn bins_are_contiguous() {
        for b in 0..TIME_BINS - 1 {
            assert_eq!(time_bin_edges_ms(b).1, time_bin_edges_ms(b + 1).0, "bin {b}");
        }
    }

    #[test]
    fn batches_cover_all_and_segment_small_runs() {
        assert_eq!(batch_segments(1), 64);
        assert_eq!(batch_segments(10), 7);
        assert_eq!(batch_segments(1000), 1);
        let mut seen = [false; 64];
        for s in 0..100 {
            seen[batch_of(0, s, 100, 64) as usize] = true;
        }
        assert!(seen.iter().all(|&x| x));
        assert_eq!(batch_of(130, 5, 100, 1), 2);
    }
}
