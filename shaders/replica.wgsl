// The coarse ICC model in WGSL: one replica stepping its rounds. Twin of
// kernels/src/model.rs (the step loop; the shuffles are shuffle.wgsl, dynamic failures
// failures.wgsl); the per-batch counters and histogram bins of kernels/src/agg.rs; the
// replica's state between dispatches (src/gpu/layout.rs) and the entry point.

// ---------------------------------------------------------------- per-batch counters

// The invocation's counters of batch `acc_batch`, flushed when the batch changes.
var<private> acc: array<u64, BATCH_FIELDS>;
var<private> acc_batch: u32;

fn acc_flush() {
    for (var f = 0u; f < BATCH_FIELDS; f++) {
        agg_add(acc_batch * BATCH_FIELDS + f, acc[f]);
        acc[f] = 0lu;
    }
}

fn acc_add(batch: u32, field: u32, v: u64) {
    if batch != acc_batch {
        acc_flush();
        acc_batch = batch;
    }
    acc[field] += v;
}

// The batch of round step `step`: one per replica unless replicas are split into segments
// (model::batch_at).
fn batch_at(replica: u32, step: u32) -> u32 {
    return select(batch_of(replica, step), replica % BATCHES, p.batch_segments == 1u);
}

// agg::batch_of.
fn batch_of(replica: u32, step: u32) -> u32 {
    let seg = u32(u64(step) * u64(p.batch_segments) / u64(max(p.rounds, 1u)));
    return u32((u64(replica) * u64(p.batch_segments) + u64(seg)) % u64(BATCHES));
}

// agg::time_bin.
fn time_bin(us: u64) -> u32 {
    let ms = us / 1000lu;
    if ms < 1024lu {
        return u32(ms);
    }
    let hi = u32(ms >> 32u);
    var e = 31u - countLeadingZeros(u32(ms));
    if hi != 0u {
        e = 63u - countLeadingZeros(hi);
    }
    if e > 21u {
        return TIME_BINS - 1u;
    }
    let sub = u32((ms >> (e - 8u)) & 255lu);
    return 1024u + (e - 10u) * 256u + sub;
}

// Steps step..rounds stalled for good: each counted in its batch, one segment at a time
// (the steps of segment s are [ceil(s R / S), ceil((s + 1) R / S)), R rounds, S segments).
fn stall_rest(replica: u32, step: u32) {
    let segs = u64(p.batch_segments);
    let rounds = u64(max(p.rounds, 1u));
    for (var s = u64(step) * segs / rounds; s < segs; s++) {
        fuel += 1u;
        // Step indices (u32); the difference is taken in 32 bits (see arith.wgsl on 64-bit
        // saturating idioms).
        let lo = u32(max(u64(step), (s * rounds + segs - 1lu) / segs));
        let hi = u32(min(u64(p.rounds), ((s + 1lu) * rounds + segs - 1lu) / segs));
        if hi > lo {
            acc_add(u32((u64(replica) * segs + s) % u64(BATCHES)), F_STALLED, u64(hi - lo));
        }
    }
}

// ---------------------------------------------------------------- one round step

// The replica between steps (with the node views and failures above).
var<private> s_step: u32;
var<private> s_height: u32;
var<private> s_up: vec4<u32>;
// Ranks of the chain's last heights (maker_delay.rs).
var<private> s_rank_history: u32;
// Philox blocks the model drew, counted as model::simulate_replica counts them (benchmark
// bookkeeping: two integer adds per step and one atomic add per dispatch).
var<private> philox_blocks: u64;

// Step s_step of the replica (the loop body of model::simulate).
fn step_once(replica: u32) {
    let step = s_step;
    let height = s_height;
    let batch = batch_at(replica, step);
    let byz_lo = p.crashed + p.silent;
    let honest = range_set(byz_lo + p.equivocating, p.nodes);
    let equivocating = range_set(byz_lo, byz_lo + p.equivocating);
    let not_silent = ~range_set(p.crashed, byz_lo);
    let members = committee(range_set(0u, p.nodes), replica, height);
    shuffle(replica, height, STREAM_RANKING, p.makers);
    var up = s_up;
    var act = up & not_silent;
    var t_ref = 0lu;
    if p.dynamic_failures != 0u {
        // The replica's clock: the earliest round start of this height.
        t_ref = NEVER;
        for (var k = 0u; k < p.nodes; k++) {
            fuel += 1u;
            if contains(act, k) {
                t_ref = min(t_ref, v_start[k]);
            }
        }
        if t_ref == NEVER {
            t_ref = v_start[0];
        }
        let before = up;
        up = failures_advance(replica, t_ref, up);
        for (var k = 0u; k < p.nodes; k++) {
            fuel += 1u;
            if contains(up, k) && !contains(before, k) {
                views_rejoin(k, height, t_ref);
            }
        }
        act = up & not_silent;
        s_up = up;
    }
    let signers = members & up & honest;
    // With proofs, an equivocator's rank is disqualified: it cannot carry the height.
    var proposers = act;
    if p.equivocation_proofs != 0u {
        proposers = act & ~equivocating;
    }
    var maker_up = false;
    for (var r = 0u; r < p.makers; r++) {
        fuel += 1u;
        maker_up = maker_up || contains(proposers, ranking_at(r));
    }
    if !maker_up || count(signers) < p.quorum {
        var recovery = NEVER;
        if p.dynamic_failures != 0u {
            recovery = next_recovery_us(up);
        }
        if recovery == NEVER {
            // Nothing can change: the replica is stalled for good.
            stall_rest(replica, step);
            s_step = p.rounds;
            return;
        }
        acc_add(batch, F_STALLED, 1lu);
        // A stall the replica starts in (no height notarized yet) is left out of the time.
        if height > 1u {
            acc_add(batch, F_STALL_US, recovery - t_ref);
        }
        for (var k = 0u; k < p.nodes; k++) {
            fuel += 1u;
            v_start[k] = max(v_start[k], recovery);
        }
        s_step = step + 1u;
        return;
    }

    height_new(replica, step, height, act, signers);
    propose(equivocating, extra_delay_us(s_rank_history));
    resolve(); // and finalizes
    let honest_active = act & honest;
    let w = message_words(KIND_OBSERVER, 0u, 0u, 0u).x;
    let observer = nth_member(honest_active, uniform_below(w, count(honest_active)));
    let out = outcome(observer);
    let obs_start_us = v_start[observer];

    s_rank_history = push_rank(s_rank_history, out.rank);
    acc_add(batch, F_NOTARIZED, 1lu);
    acc_add(batch, F_ROUND_US, out.round_us);
    acc_add(batch, F_RANK_SUM, u64(out.rank));
    acc_add(batch, F_RANK0, select(0lu, 1lu, out.rank == 0u));
    hist_add(HIST_ROUND + time_bin(out.round_us));
    hist_add(HIST_RANK + min(out.rank, RANK_BINS - 1u));
    if out.finalized {
        acc_add(batch, F_FINALIZED, 1lu);
        acc_add(batch, F_FIN_US, out.finalization_us);
        hist_add(HIST_FIN + time_bin(out.finalization_us));
    }

    // Every next round start first (they read the round starts), then the views advance.
    for (var k = 0u; k < p.nodes; k++) {
        fuel += 1u;
        if contains(act, k) {
            h_tmp[k] = next_start_us(k);
        }
    }
    for (var k = 0u; k < p.nodes; k++) {
        fuel += 1u;
        if contains(act, k) {
            views_advance(k, height, h_fin[k], h_fin_tie[k], h_tmp[k]);
        }
    }

    // Rule 8: the honest nodes execute the height and certify it; h_tmp now holds the times
    // they send their certification shares (and l_share those of kept heights).
    let x_us = execution_us(replica, height);
    var certifiers = vec4<u32>(0u);
    for (var k = 0u; k < p.nodes; k++) {
        fuel += 1u;
        if contains(honest_active, k) {
            h_tmp[k] = views_execute(replica, k, height, h_fin[k], x_us);
            certifiers = with_node(certifiers, k, h_tmp[k] != NEVER);
        }
    }
    // Earlier heights whose late shares have all been sent (oldest first), and room for this
    // one if it waits for late shares too.
    let complete = all(certifiers == honest_active);
    loop {
        fuel += 1u;
        if l_len == 0u {
            break;
        }
        if !late_oldest_complete(honest_active) && (complete || l_len < LATE) {
            break;
        }
        late_resolve_oldest(replica, honest_active);
    }
    var cert_o = NEVER;
    for (var k = 0u; k < p.nodes; k++) {
        fuel += 1u;
        if contains(honest_active, k) {
            var c = NEVER;
            if contains(certifiers, k) {
                c = certified_us(certifiers, k, false);
            }
            views_certified(k, height, c);
            if k == observer {
                cert_o = c;
            }
        }
    }
    if complete {
        count_certification(batch, obs_start_us, h_fin[observer], cert_o);
    } else {
        // Some node executes this height late: it is certified again then.
        late_push(observer, obs_start_us, h_fin[observer], certifiers);
    }
    // Messages and observer, execution, then the shuffles' words (4 per block).
    philox_blocks += u64(h_blocks + 1u + p.execution + (p.nodes - p.committee + 3u) / 4u + (p.makers + 3u) / 4u);
    s_height = height + 1u;
    s_step = step + 1u;
}
