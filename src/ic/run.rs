//! IC replicas in parallel (rayon, one state per worker) and their reduction to per-subnet
//! and IC-wide totals (sums and sums of squares over replicas, for confidence intervals).

use super::input::IcInput;
use crate::dist::{build_table, exp1_table_q16};
use crate::progress::Progress;
use crate::scenario::ic_faults::{IcFaults, Span};
use anyhow::{bail, Result};
use ictwin_kernels::ic::{
    agg_len, cause, field, record_len, simulate_ic_replica, IcParams, IcRecord, IcSizes, IcState, MAX_TIME_MS, NEVER,
    SLOT_BITS,
};
use ictwin_kernels::table::TABLE_STRIDE;
use rayon::prelude::*;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

const MS_PER_HOUR: f64 = 3.6e6;

/// Kernel parameters and tables of a fault file.
#[derive(Clone, Debug)]
pub struct IcPrepared {
    /// Kernel parameters.
    pub params: IcParams,
    /// Quantile tables (Exp(1) in Q16 at 0, then duration tables in seconds).
    pub tables: Vec<u32>,
    /// Replicas to run.
    pub replicas: u32,
    /// Run seed.
    pub seed: u64,
}

fn span_table_s(s: &Span) -> Vec<u32> {
    build_table(|p| s.quantile_hours(p) * 3600.0)
}

/// Probability `num / (num + den)` in Q32 (u32::MAX when `den` is 0).
fn q32(num: f64, den: f64) -> u32 {
    if den <= 0.0 {
        return u32::MAX;
    }
    ((num / (num + den)) * 4_294_967_296.0)
        .round()
        .clamp(0.0, u32::MAX as f64) as u32
}

/// Builds the kernel's parameters and tables from a checked fault file.
pub fn prepare(f: &IcFaults) -> IcPrepared {
    let mut tables = exp1_table_q16();
    let mut push = |t: Vec<u32>| -> u32 {
        let off = tables.len() as u32;
        debug_assert_eq!(t.len() as u32, TABLE_STRIDE);
        tables.extend(t);
        off
    };
    let mut p = IcParams {
        years: f.run.years,
        key: [f.run.seed as u32, (f.run.seed >> 32) as u32],
        exp_table: 0,
        ..Default::default()
    };
    for (i, (_, l)) in f.levels().into_iter().enumerate() {
        if l.mtbf_hours > 0.0 {
            p.mtbf_ms[i] = (l.mtbf_hours * MS_PER_HOUR).round() as u64;
            p.p_up_q32[i] = q32(l.mtbf_hours, l.repair.mean_hours());
            p.repair_table[i] = push(span_table_s(&l.repair));
        } else {
            p.p_up_q32[i] = u32::MAX;
        }
    }
    if f.takeover.mtbf_hours > 0.0 {
        p.takeover_mtbf_ms = (f.takeover.mtbf_hours * MS_PER_HOUR).round() as u64;
        p.p_honest_q32 = q32(f.takeover.mtbf_hours, f.takeover.duration.mean_hours());
        p.takeover_table = push(span_table_s(&f.takeover.duration));
    }
    if f.nns.replacement {
        p.detect_ms = (f.nns.detect_hours * MS_PER_HOUR).round() as u64;
        p.governance_table = push(span_table_s(&f.nns.governance));
        p.catch_up_ms = (f.nns.catch_up_hours * MS_PER_HOUR).round() as u64;
    } else {
        p.detect_ms = NEVER;
    }
    IcPrepared {
        params: p,
        tables,
        replicas: f.run.replicas as u32,
        seed: f.run.seed,
    }
}

/// Sum and sum of squares of a per-replica integer quantity, exact (so totals do not depend
/// on how replicas were split among threads).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Moments {
    pub sum: u128,
    pub sumsq: u128,
}

impl Moments {
    fn add(&mut self, x: u64) {
        self.sum += x as u128;
        self.sumsq += (x as u128) * (x as u128);
    }
    fn merge(&mut self, o: &Moments) {
        self.sum += o.sum;
        self.sumsq += o.sumsq;
    }
    /// Mean and half-width of the normal 95% confidence interval over `n` replicas.
    pub fn mean_ci95(&self, n: f64) -> (f64, f64) {
        let mean = self.sum as f64 / n;
        if n < 2.0 {
            return (mean, f64::NAN);
        }
        // n sumsq - sum^2 exactly when it fits (it does below 2^128), else in f64.
        let centered = (self.sumsq.checked_mul(n as u128))
            .and_then(|a| self.sum.checked_mul(self.sum).map(|b| a.saturating_sub(b) as f64))
            .unwrap_or_else(|| (self.sumsq as f64 * n - (self.sum as f64).powi(2)).max(0.0));
        let var = centered / (n * (n - 1.0));
        (mean, crate::stats::t975(n as usize - 1) * (var / n).sqrt())
    }
}

/// One subnet's totals over all replicas.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct SubnetTotals {
    /// Stalled time per replica, ms.
    pub stall_ms: Moments,
    /// Stall episodes per replica.
    pub episodes: Moments,
    /// Time with more than f Byzantine members per replica, ms.
    pub risk_ms: Moments,
    /// Replica-years with stalled time.
    pub years_stalled: u64,
    /// Members replaced.
    pub replaced: u64,
    /// Stalled time by cause ([`cause`]), ms.
    pub cause_ms: [u128; cause::CAUSES],
}

/// A run's totals.
#[derive(Clone, Debug, PartialEq)]
pub struct IcTotals {
    pub replicas: u64,
    pub years: u32,
    pub subnets: Vec<SubnetTotals>,
    /// Stalled subnet-time summed over subnets, per replica, ms.
    pub ic_stall_ms: Moments,
    /// Replica-years in which some subnet stalled.
    pub years_any_stall: u64,
    /// Replacement proposals without an eligible spare.
    pub no_spare: u64,
    /// Events processed.
    pub events: u64,
    /// Philox blocks computed.
    pub blocks: u64,
    /// The kernel's aggregate ([`agg_len`]).
    pub agg: Vec<u64>,
}

impl IcTotals {
    fn new(subnets: usize, years: u32, agg: usize) -> Self {
        IcTotals {
            replicas: 0,
            years,
            subnets: vec![SubnetTotals::default(); subnets],
            ic_stall_ms: Moments::default(),
            years_any_stall: 0,
            no_spare: 0,
            events: 0,
            blocks: 0,
            agg: vec![0; agg],
        }
    }

    fn add_record(&mut self, rec: &[u64]) {
        let r = IcRecord(rec);
        let n = self.subnets.len() as u32;
        let mut total = 0;
        for (s, t) in self.subnets.iter_mut().enumerate() {
            let s = s as u32;
            let stall = r.subnet(s, field::STALL_MS);
            total += stall;
            t.stall_ms.add(stall);
            t.episodes.add(r.subnet(s, field::EPISODES));
            t.risk_ms.add(r.subnet(s, field::RISK_MS));
            t.years_stalled += r.subnet(s, field::YEARS_STALLED);
            t.replaced += r.subnet(s, field::REPLACED);
            for (c, x) in t.cause_ms.iter_mut().enumerate() {
                *x += r.subnet(s, field::CAUSE_MS + c) as u128;
            }
        }
        self.ic_stall_ms.add(total);
        self.years_any_stall += r.ic(n, field::YEARS_ANY_STALL);
        self.no_spare += r.ic(n, field::NO_SPARE);
        self.events += r.ic(n, field::EVENTS);
        self.replicas += 1;
    }

    fn merge(mut self, o: IcTotals) -> IcTotals {
        for (a, b) in self.subnets.iter_mut().zip(&o.subnets) {
            a.stall_ms.merge(&b.stall_ms);
            a.episodes.merge(&b.episodes);
            a.risk_ms.merge(&b.risk_ms);
            a.years_stalled += b.years_stalled;
            a.replaced += b.replaced;
            for (x, y) in a.cause_ms.iter_mut().zip(b.cause_ms) {
                *x += y;
            }
        }
        self.ic_stall_ms.merge(&o.ic_stall_ms);
        self.years_any_stall += o.years_any_stall;
        self.no_spare += o.no_spare;
        self.events += o.events;
        self.blocks += o.blocks;
        self.replicas += o.replicas;
        for (a, b) in self.agg.iter_mut().zip(&o.agg) {
            *a += b;
        }
        self
    }
}

/// One worker's buffers.
struct Worker {
    w64: Vec<u64>,
    w32: Vec<u32>,
    w8: Vec<u8>,
    rec: Vec<u64>,
    totals: IcTotals,
}

/// Replicas per rayon task (progress and Ctrl-C granularity).
const CHUNK: u32 = 16;

/// Runs `prep.replicas` replicas over `input` (in the current rayon pool); `stop` set
/// (Ctrl-C) ends early with an error. Equal inputs and seeds give equal totals whatever the
/// thread count (replicas are independent and every total is an exact integer sum).
pub fn run(input: &IcInput, prep: &IcPrepared, progress: &Progress, stop: &AtomicBool) -> Result<IcTotals> {
    let topo = input.topology();
    let sizes = IcSizes::of(&topo, prep.params.years);
    if sizes.slots() >= 1 << SLOT_BITS {
        bail!(
            "the topology has {} components, nodes and providers; the IC kernel takes fewer than {}",
            sizes.slots(),
            1u32 << SLOT_BITS
        );
    }
    if prep.params.horizon_ms() > MAX_TIME_MS {
        bail!(
            "{} years per replica is beyond the IC kernel's clock (2^44 ms)",
            prep.params.years
        );
    }
    let subnets = topo.subnets() as usize;
    let done = AtomicU64::new(0);
    let chunks: Vec<u32> = (0..prep.replicas.div_ceil(CHUNK)).collect();
    let new_worker = || Worker {
        w64: vec![0; sizes.u64_len()],
        w32: vec![0; sizes.u32_len()],
        w8: vec![0; sizes.u8_len()],
        rec: vec![0; record_len(topo.subnets())],
        totals: IcTotals::new(subnets, prep.params.years, agg_len(&sizes)),
    };
    let totals = chunks
        .par_iter()
        .fold(new_worker, |mut w, &c| {
            if stop.load(Ordering::Relaxed) {
                return w;
            }
            let lo = c * CHUNK;
            let hi = (lo + CHUNK).min(prep.replicas);
            for r in lo..hi {
                let mut st = IcState::new(&sizes, &mut w.w64, &mut w.w32, &mut w.w8);
                w.totals.blocks += simulate_ic_replica(
                    &prep.params,
                    &topo,
                    &prep.tables,
                    r,
                    &mut st,
                    &mut w.rec,
                    &mut w.totals.agg,
                );
                let rec = std::mem::take(&mut w.rec);
                w.totals.add_record(&rec);
                w.rec = rec;
            }
            progress.set(done.fetch_add((hi - lo) as u64, Ordering::Relaxed) + (hi - lo) as u64);
            w
        })
        .map(|w| w.totals)
        .reduce(
            || IcTotals::new(subnets, prep.params.years, agg_len(&sizes)),
            IcTotals::merge,
        );
    if stop.load(Ordering::SeqCst) {
        bail!("interrupted: nothing written");
    }
    Ok(totals)
}
