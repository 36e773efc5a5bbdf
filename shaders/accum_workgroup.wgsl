// Histogram accumulation, variant 1: per-workgroup counters in workgroup memory, two 16-bit
// counters per u32 (bin b in word b / 2, half b % 2), flushed into the global u64 counters
// (pairs of u32 with carry, see agg_add) at the end of the dispatch. A dispatch runs at most
// MAX_SLICE_STEPS steps, so a bin gets at most WORKGROUP_SIZE x MAX_SLICE_STEPS = 64000 < 2^16
// counts and a half never carries into the other. 16.1 KiB of workgroup memory.

var<workgroup> wg_hist: array<atomic<u32>, HIST_WORDS>;

fn hist_init(lid: u32) {
    for (var i = lid; i < HIST_WORDS; i += WORKGROUP_SIZE) {
        atomicStore(&wg_hist[i], 0u);
    }
    workgroupBarrier();
}

fn hist_add(index: u32) {
    let b = index - HIST_ROUND;
    atomicAdd(&wg_hist[b >> 1u], 1u << ((b & 1u) << 4u));
}

fn hist_flush(lid: u32) {
    workgroupBarrier();
    for (var i = lid; i < HIST_WORDS; i += WORKGROUP_SIZE) {
        let v = atomicExchange(&wg_hist[i], 0u);
        if v != 0u {
            agg_add(HIST_ROUND + 2u * i, u64(v & 0xFFFFu));
            agg_add(HIST_ROUND + 2u * i + 1u, u64(v >> 16u));
        }
    }
}
