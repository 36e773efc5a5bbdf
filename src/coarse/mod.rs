//! The coarse Monte Carlo engine: scenario -> kernel parameters and tables, and the CPU run;
//! [`bench`] measures its throughput.

pub mod bench;

use crate::dist::exp1_table_q16;
use crate::scenario::Scenario;
use anyhow::{bail, Result};
use ictwin_kernels::agg::{batch_segments, AGG_LEN};
use ictwin_kernels::model::simulate_replica;
use ictwin_kernels::params::{faults_tolerated, Params, Q16_ONE};
use ictwin_kernels::table::TABLE_STRIDE;
use rayon::prelude::*;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

/// What a coarse run needs: the kernel parameters and the concatenated quantile tables.
#[derive(Clone, Debug)]
pub struct Prepared {
    /// Kernel parameters (uniforms of the shaders).
    pub params: Params,
    /// Network delay table (µs) at offset 0, Exp(1) table (Q16) at `TABLE_STRIDE`, the
    /// processing-delay table (µs) at `2 TABLE_STRIDE` if `[node] processing` is not 0, then
    /// the execution-time table (µs, at `params.execution_table`) if `[execution] time` is
    /// not 0, then the n x n base-latency table (µs, at `params.latency_table`) if `[network]
    /// latency_matrix` is given.
    pub tables: Vec<u32>,
}

fn ms_to_us(ms: f64) -> u32 {
    (ms * 1000.0).round() as u32
}

/// Builds kernel parameters from a validated scenario (run sizes from `scenario.run`).
pub fn prepare(s: &Scenario) -> Result<Prepared> {
    crate::scenario::check_coarse_limits(s, &s.name)?;
    let n = s.subnet.nodes;
    let f = faults_tolerated(n);
    let calib = s.calibration.clone().unwrap_or_default();
    let fanout = s.fine.as_ref().map(|c| c.gossip_fanout).unwrap_or(0);
    let (mtbf_ms, mttr_ms, p_up_q32) = if s.dynamic_failures() {
        let mtbf = (s.faults.mtbf_hours * 3.6e6).round().max(1.0) as u64;
        let mttr = (s.faults.mttr_hours * 3.6e6).round().max(1.0) as u64;
        let p_up = mtbf as f64 / (mtbf + mttr) as f64;
        (mtbf, mttr, (p_up * 4294967296.0).min(u32::MAX as f64) as u32)
    } else {
        (0, 0, u32::MAX)
    };
    let replicas = s.run.replicas as u32;
    let mut params = Params {
        nodes: n,
        committee: 3 * f + 1,
        quorum: 2 * f + 1,
        makers: f + 1,
        crashed: s.faults.crashed,
        silent: s.faults.silent,
        equivocating: s.faults.equivocating,
        unit_delay_us: ms_to_us(s.subnet.unit_delay_ms),
        initial_notary_delay_us: ms_to_us(s.subnet.initial_notary_delay_ms),
        finality_backoff: s.subnet.finality_backoff as u32,
        dynamic_failures: s.dynamic_failures() as u32,
        p_up_q32,
        mtbf_ms_lo: mtbf_ms as u32,
        mtbf_ms_hi: (mtbf_ms >> 32) as u32,
        mttr_ms_lo: mttr_ms as u32,
        mttr_ms_hi: (mttr_ms >> 32) as u32,
        rounds: s.run.rounds as u32,
        replicas,
        replica_offset: 0,
        batch_segments: batch_segments(replicas),
        seed_lo: s.run.seed as u32,
        seed_hi: (s.run.seed >> 32) as u32,
        delay_table: 0,
        exp_table: TABLE_STRIDE,
        delay_scale_q16: (calib.effective_delay_scale(n, fanout) * Q16_ONE as f64)
            .round()
            .min(u32::MAX as f64) as u32,
        round_overhead_us: ms_to_us(calib.round_overhead_ms),
        finalization_overhead_us: ms_to_us(calib.finalization_overhead_ms),
        equivocation_proofs: s.protocol.equivocation_proofs as u32,
        dynamic_maker_delay: s.protocol.dynamic_block_maker_delay as u32,
        processing: !s.node.is_default() as u32,
        processing_table: 2 * TABLE_STRIDE,
        execution: !s.execution.is_default() as u32,
        certification_backlog: s.protocol.certification_backlog as u32,
        cert_quorum: n - f,
        ..Params::default()
    };
    let mut tables = s.network.delay.table_us();
    tables.extend(exp1_table_q16());
    if params.processing != 0 {
        tables.extend(s.node.processing.table_us());
    }
    if params.execution != 0 {
        params.execution_table = tables.len() as u32;
        tables.extend(s.execution.time.table_us());
    }
    if let Some(m) = &s.network.latency {
        if m.n != n {
            bail!(
                "{}: key `network.latency_matrix`: {} x {} matrix for {n} nodes",
                s.name,
                m.n,
                m.n
            );
        }
        params.latency_table = tables.len() as u32;
        tables.extend(m.table_us());
    }
    Ok(Prepared { params, tables })
}

impl Prepared {
    /// The replica ids this run covers: `replica_offset..replicas` of the parameters (all of
    /// the scenario's replicas unless [`Prepared::restrict`] narrowed it).
    pub fn replica_range(&self) -> std::ops::Range<u32> {
        self.params.replica_offset..self.params.replicas
    }

    /// Restricts the run to the replica ids `range` (a shard), keeping the whole run's
    /// batch-means layout, so that each replica adds exactly what it adds in the whole run.
    /// `range` must lie within the current range.
    pub fn restrict(&mut self, range: std::ops::Range<u32>) {
        let whole = self.replica_range();
        assert!(
            whole.start <= range.start && range.start <= range.end && range.end <= whole.end,
            "shard range {range:?} outside {whole:?}"
        );
        self.params.replica_offset = range.start;
        self.params.replicas = range.end;
    }
}

/// Replicas per work item of the CPU engine (progress and Ctrl-C granularity).
const CHUNK: u32 = 256;

/// Runs every replica of [`Prepared::replica_range`] on the CPU with the current rayon pool
/// and returns the aggregates.
/// `progress` receives the number of finished replicas; `stop` aborts the run (Ctrl-C).
pub fn run_cpu(prep: &Prepared, progress: &(dyn Fn(u64) + Sync), stop: &AtomicBool) -> Result<Vec<u64>> {
    let p = &prep.params;
    let range = prep.replica_range();
    let chunks = range.len().div_ceil(CHUNK as usize) as u32;
    let done = AtomicU64::new(0);
    let agg = (0..chunks)
        .into_par_iter()
        .fold(
            || vec![0u64; AGG_LEN as usize],
            |mut acc, c| {
                if stop.load(Ordering::Relaxed) {
                    return acc;
                }
                let lo = range.start + c * CHUNK;
                let hi = (lo + CHUNK).min(range.end);
                for r in lo..hi {
                    simulate_replica(p, &prep.tables, r, &mut acc);
                }
                progress(done.fetch_add((hi - lo) as u64, Ordering::Relaxed) + (hi - lo) as u64);
                acc
            },
        )
        .reduce(
            || vec![0u64; AGG_LEN as usize],
            |mut a, b| {
                for (x, y) in a.iter_mut().zip(b) {
                    *x += y;
                }
                a
            },
        );
    if stop.load(Ordering::Relaxed) {
        bail!("interrupted");
    }
    Ok(agg)
}
