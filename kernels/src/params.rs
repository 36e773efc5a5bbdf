//! The model's parameters, shared with WGSL: `shaders/model.wgsl` reads [`Params`] as a
//! uniform whose declaration the host generates from this one ([`crate::shared_struct!`]).
//! All fields are u32 so the WGSL uniform layout is the plain C layout; 64-bit values are
//! split into `_lo` / `_hi` halves.

/// Largest subnet the coarse kernel supports (node sets are 128-bit masks).
pub const MAX_NODES: u32 = 128;
/// Fixed-point one for `delay_scale_q16` and the backoff factor.
pub const Q16_ONE: u32 = 1 << 16;

crate::shared_struct! {
    /// Everything one replica needs to step its rounds. Times in µs unless the name says otherwise.
    ///
    /// Fault roles are fixed node ids: `[0, crashed)` are down for good, the next `silent` ids
    /// never propose nor sign, the next `equivocating` ids propose two blocks when they make a
    /// block. The remaining ids are honest (and, with dynamic failures, alternate up and down).
    pub struct Params {
        /// n, at most [`MAX_NODES`].
        pub nodes: u32,
        /// Committee size c = 3f + 1 with f = (n - 1) / 3.
        pub committee: u32,
        /// Notarization and finalization quorum c - f = 2f + 1.
        pub quorum: u32,
        /// Number of ranked block makers f + 1.
        pub makers: u32,
        /// Nodes down for good (ids `0..crashed`).
        pub crashed: u32,
        /// Nodes that never propose nor sign (the next ids).
        pub silent: u32,
        /// Nodes that propose two blocks when they make one (the next ids).
        pub equivocating: u32,
        /// Unit delay U in µs.
        pub unit_delay_us: u32,
        /// Initial notary delay N0 in µs.
        pub initial_notary_delay_us: u32,
        /// 1: notary delay N0 + r U 1.5^g with g = notarized - finalized height; 0: g = 0 always.
        pub finality_backoff: u32,
        /// 1: honest nodes alternate up/down with exponential durations.
        pub dynamic_failures: u32,
        /// Probability that an honest node is up at time 0 (stationary), times 2^32, saturated.
        pub p_up_q32: u32,
        /// Mean up time (MTBF) in ms, low and high halves.
        pub mtbf_ms_lo: u32,
        /// High half of `mtbf_ms_lo`.
        pub mtbf_ms_hi: u32,
        /// Mean down time (MTTR) in ms, low and high halves.
        pub mttr_ms_lo: u32,
        /// High half of `mttr_ms_lo`.
        pub mttr_ms_hi: u32,
        /// Round steps per replica.
        pub rounds: u32,
        /// One past the last replica id to run: the run's replica count, or the end of a shard's
        /// range (`ictwin run --shard`). The batch-means layout comes from `batch_segments`,
        /// which always counts the whole run's replicas.
        pub replicas: u32,
        /// First replica id to run (a shard's start; within a GPU run, the current dispatch
        /// chunk's start). The replica id is the RNG counter.
        pub replica_offset: u32,
        /// Batch segments per replica: max(1, ceil(BATCHES / replicas of the whole run)), see
        /// [`crate::agg::batch_of`].
        pub batch_segments: u32,
        /// Run seed (the Philox key), low half.
        pub seed_lo: u32,
        /// Run seed, high half.
        pub seed_hi: u32,
        /// Offset (in u32 entries) of the one-way network delay table, unit µs.
        pub delay_table: u32,
        /// Offset of the Exp(1) table, unit 2^-16.
        pub exp_table: u32,
        /// Calibration: every sampled network delay is multiplied by this / 2^16.
        pub delay_scale_q16: u32,
        /// Calibration: processing time added to every notarized round's time, µs.
        pub round_overhead_us: u32,
        /// Calibration: processing time added to every finalization time (after the round), µs.
        pub finalization_overhead_us: u32,
        /// 1: equivocation proofs disqualify a rank (see [`crate::model`], rule 6); 0: both
        /// blocks of an equivocator are signed like any block of one rank.
        pub equivocation_proofs: u32,
        /// 1: makers of rank > 0 wait one more unit delay after too many recent blocks of rank
        /// > 0 (see [`crate::maker_delay`], rule 7 of [`crate::model`]); 0: never.
        pub dynamic_maker_delay: u32,
        /// 1: every received message's delay also includes a processing delay drawn from the
        /// table at `processing_table` (see [`crate::views::delay_us`]); 0: none.
        pub processing: u32,
        /// Offset of the processing-delay table, unit µs.
        pub processing_table: u32,
        /// Offset of the n x n base-latency table (a subnet's geography, `[network]
        /// latency_matrix`; row = sender, column = receiver), unit µs: every message from s to
        /// r also takes `tables[latency_table + s nodes + r]` (see [`crate::views::delay_us`]).
        /// 0: no matrix (the delay table always sits at offset 0, so a latency table never does).
        pub latency_table: u32,
        /// 1: every height takes an execution time drawn from the table at
        /// `execution_table` (see [`crate::cert`]); 0: execution is instantaneous.
        pub execution: u32,
        /// Offset of the execution-time table, unit µs.
        pub execution_table: u32,
        /// 1: the notary's certification backlog delay and hard limit apply (rule 8 of
        /// [`crate::model`], [`crate::cert`]); 0: certification is measured only.
        pub certification_backlog: u32,
        /// Certification threshold n - f (the high-threshold committee of all n nodes).
        pub cert_quorum: u32,
    }
}

impl Params {
    /// Mean up time (MTBF), ms.
    pub fn mtbf_ms(&self) -> u64 {
        (self.mtbf_ms_hi as u64) << 32 | self.mtbf_ms_lo as u64
    }
    /// Mean down time (MTTR), ms.
    pub fn mttr_ms(&self) -> u64 {
        (self.mttr_ms_hi as u64) << 32 | self.mttr_ms_lo as u64
    }
}

/// f = (n - 1) / 3, as in `rs/types/types/src/consensus.rs`.
pub const fn faults_tolerated(nodes: u32) -> u32 {
    if nodes == 0 {
        0
    } else {
        (nodes - 1) / 3
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn size_is_a_multiple_of_16() {
        assert_eq!(core::mem::size_of::<Params>() % 16, 0);
    }

    /// ICC-MODEL.md's reference table n -> (f, quorum, makers).
    #[test]
    fn thresholds_match_the_deployed_table() {
        for (n, f, q, m) in [
            (4, 1, 3, 2),
            (13, 4, 9, 5),
            (14, 4, 9, 5),
            (28, 9, 19, 10),
            (31, 10, 21, 11),
            (34, 11, 23, 12),
            (40, 13, 27, 14),
        ] {
            let ff = faults_tolerated(n);
            assert_eq!((ff, 2 * ff + 1, ff + 1), (f, q, m), "n = {n}");
        }
    }
}
