//! Speed of the IC-year kernel (`ictwin bench-ic`): IC-years per second, and the ratio to a
//! loop that computes only the Philox blocks the kernel draws (how far the event handling is
//! from the random-number bound).

use super::input::IcInput;
use super::run::{run, IcPrepared};
use crate::progress::Progress;
use anyhow::Result;
use ictwin_kernels::philox::{philox4x32_10, stream};
use rayon::prelude::*;
use std::sync::atomic::AtomicBool;
use std::time::Instant;

/// One measurement.
#[derive(Clone, Debug, PartialEq)]
pub struct IcBenchRow {
    /// Replicas x years per timed run.
    pub ic_years: f64,
    /// Events per IC-year (component transitions, takeovers, replacement steps).
    pub events_per_ic_year: f64,
    /// Philox blocks per IC-year.
    pub blocks_per_ic_year: f64,
    /// Best kernel throughput, IC-years per second.
    pub ic_years_per_s: f64,
    /// Best throughput of the Philox-only loop drawing the same blocks, IC-years per second.
    pub philox_only_ic_years_per_s: f64,
}

/// Times `repeat` runs of `prep` on `input` and of the Philox-only baseline (in `pool`);
/// reports the best of each.
pub fn measure(pool: &rayon::ThreadPool, input: &IcInput, prep: &IcPrepared, repeat: u32) -> Result<IcBenchRow> {
    let quiet = Progress::new(0, "replicas", true);
    let stop = AtomicBool::new(false);
    let ic_years = prep.replicas as f64 * prep.params.years as f64;
    let mut best = f64::INFINITY;
    let mut totals = None;
    for _ in 0..repeat.max(1) {
        let t0 = Instant::now();
        let t = pool.install(|| run(input, prep, &quiet, &stop))?;
        best = best.min(t0.elapsed().as_secs_f64());
        totals = Some(t);
    }
    let t = totals.expect("at least one run");
    let per_replica = t.blocks / t.replicas.max(1);
    let key = prep.params.key;
    let mut best_philox = f64::INFINITY;
    for _ in 0..repeat.max(1) {
        let t0 = Instant::now();
        let sink: u32 = pool.install(|| {
            (0..prep.replicas)
                .into_par_iter()
                .map(|r| {
                    let mut acc = 0u32;
                    for b in 0..per_replica as u32 {
                        acc ^= philox4x32_10([r, b, 0, stream::IC_COMPONENT], key)[0];
                    }
                    acc
                })
                .reduce(|| 0, |a, b| a ^ b)
        });
        std::hint::black_box(sink);
        best_philox = best_philox.min(t0.elapsed().as_secs_f64());
    }
    Ok(IcBenchRow {
        ic_years,
        events_per_ic_year: t.events as f64 / ic_years,
        blocks_per_ic_year: t.blocks as f64 / ic_years,
        ic_years_per_s: ic_years / best,
        philox_only_ic_years_per_s: ic_years / best_philox,
    })
}
