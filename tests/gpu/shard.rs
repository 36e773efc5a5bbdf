//! Shards on the GPU: each shard's aggregates (`Prepared::restrict`) equal the CPU engine's
//! for the same replicas, and the shards add up to the whole CPU run, so `ictwin merge` of
//! GPU shards gives the unsharded run's files.

use super::gpu;
use ictwin::coarse::{prepare, run_cpu};
use ictwin::output::shard::shard_range;
use ictwin::scenario;
use std::sync::atomic::AtomicBool;

#[test]
fn gpu_shards_add_up_to_the_whole_cpu_run() {
    let Some(gpu) = gpu() else { return };
    let stop = AtomicBool::new(false);
    // 100 replicas (one batch each) and 3 replicas (segments of rounds): the two batch layouts.
    for (replicas, rounds, count) in [(100u64, 25u64, 3u32), (3, 120, 5)] {
        let (s, _) = scenario::load_with_overrides(None, Some(replicas), Some(rounds), Some(9)).unwrap();
        let whole = prepare(&s).unwrap();
        let cpu_whole = run_cpu(&whole, &|_| {}, &stop).unwrap();
        let mut sum = vec![0u64; cpu_whole.len()];
        for i in 0..count {
            let range = shard_range(i, count, replicas as u32);
            if range.is_empty() {
                continue;
            }
            let mut prep = whole.clone();
            prep.restrict(range.clone());
            let on_gpu = gpu.run(&prep, &|_| {}, &stop).unwrap();
            let on_cpu = run_cpu(&prep, &|_| {}, &stop).unwrap();
            assert!(
                on_gpu == on_cpu,
                "shard {i}/{count} ({range:?}) of {replicas} replicas: GPU != CPU"
            );
            for (a, x) in sum.iter_mut().zip(&on_gpu) {
                *a += x;
            }
        }
        assert!(
            sum == cpu_whole,
            "{replicas} replicas in {count} shards do not add up to the whole run"
        );
    }
}
