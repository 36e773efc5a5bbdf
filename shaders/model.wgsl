// The coarse ICC round model: WGSL twin of kernels/src/model.rs (read its doc comment for the
// rules and the order in which Philox words are consumed; this file follows it line by line).
// One invocation = one replica stepping all its rounds; only the aggregates touch memory.
//
// Composed by the host (src/gpu/shaders.rs) as: generated constants (from the kernels crate)
// + generated shared structs + philox.wgsl + table.wgsl + this file + one accum_*.wgsl
// (hist_init/hist_add/hist_flush).

// `Params`, `Slice` and the STATE_* / NODE_* word offsets of a replica's state are generated
// by the host from its definitions (kernels/src/params.rs, src/gpu/layout.rs).

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> tables: array<u32>;
// AGG_LEN (+1 for the Philox block count) u64 counters as (lo, hi) pairs of u32.
@group(0) @binding(2) var<storage, read_write> agg: array<atomic<u32>>;

// A dispatch steps the replicas of one chunk through steps [first_step, end_step) (host:
// src/gpu/layout.rs `Slice`). Replicas whose run spans several slices keep their state between
// slices in `state` (state_words u32 per replica of the chunk), so that no dispatch runs
// unbounded loops: some drivers (Mesa's llvmpipe) stop a shader after 65,535 loop iterations.
@group(0) @binding(3) var<uniform> slice: Slice;
@group(0) @binding(4) var<storage, read_write> state: array<u32>;

const U64_MAX: u64 = 0xFFFFFFFFFFFFFFFFlu;

// ---------------------------------------------------------------- global accumulation

// Adds v to u64 counter `index`: 64-bit-safe with two u32 atomics (the carry of the low
// word is decided by the value the atomic add saw, so concurrent adds stay exact).
fn agg_add(index: u32, v: u64) {
    if v == 0lu {
        return;
    }
    let lo = u32(v);
    let old = atomicAdd(&agg[2u * index], lo);
    let hi = u32(v >> 32u) + select(0u, 1u, old > 0xFFFFFFFFu - lo);
    if hi != 0u {
        atomicAdd(&agg[2u * index + 1u], hi);
    }
}

// ---------------------------------------------------------------- random words

// Philox blocks this invocation computed (benchmark bookkeeping, COUNT_BLOCKS builds only).
var<private> philox_blocks: u32;

fn philox_model(ctr: vec4<u32>) -> vec4<u32> {
    if COUNT_BLOCKS {
        philox_blocks += 1u;
    }
    return philox4x32_10(ctr, vec2<u32>(p.seed_lo, p.seed_hi));
}

// kernels: philox::WordStream, computing one block on demand (the words depend only on
// (counter, index), not on the CPU's batching).
struct WordStream {
    c0: u32,
    c1: u32,
    stream: u32,
    block: u32,
    buf: vec4<u32>,
    pos: u32,
}

fn ws_new(c0: u32, c1: u32, stream: u32) -> WordStream {
    return WordStream(c0, c1, stream, 0u, vec4<u32>(0u), 4u);
}

// A reader positioned at word `index`.
fn ws_at(c0: u32, c1: u32, stream: u32, index: u32) -> WordStream {
    var s = ws_new(c0, c1, stream);
    s.block = index / 4u;
    if index % 4u != 0u {
        s.buf = philox_model(vec4<u32>(c0, c1, s.block, stream));
        s.block += 1u;
        s.pos = index % 4u;
    }
    return s;
}

fn ws_next(s: ptr<private, WordStream>) -> u32 {
    if (*s).pos == 4u {
        (*s).buf = philox_model(vec4<u32>((*s).c0, (*s).c1, (*s).block, (*s).stream));
        (*s).block += 1u;
        (*s).pos = 0u;
    }
    let w = (*s).buf[(*s).pos];
    (*s).pos += 1u;
    return w;
}

var<private> round_words: WordStream;
var<private> replay_words: WordStream;
var<private> committee_words: WordStream;
var<private> ranking_words: WordStream;

// ---------------------------------------------------------------- node sets and roles

fn contains(s: vec4<u32>, i: u32) -> bool {
    return ((s[i >> 5u] >> (i & 31u)) & 1u) == 1u;
}

fn set_node(s: ptr<function, vec4<u32>>, i: u32, on: bool) {
    let w = (*s)[i >> 5u];
    let bit = 1u << (i & 31u);
    (*s)[i >> 5u] = select(w & ~bit, w | bit, on);
}

fn count(s: vec4<u32>) -> u32 {
    return countOneBits(s.x) + countOneBits(s.y) + countOneBits(s.z) + countOneBits(s.w);
}

// Next id of `s` (ascending) and removes it; NO_NODE when empty.
fn next_member(s: ptr<function, vec4<u32>>) -> u32 {
    for (var w = 0u; w < 4u; w++) {
        let bits = (*s)[w];
        if bits != 0u {
            (*s)[w] = bits & (bits - 1u);
            return w * 32u + countTrailingZeros(bits);
        }
    }
    return NO_NODE;
}

fn is_silent(i: u32) -> bool {
    return i >= p.crashed && i < p.crashed + p.silent;
}

fn is_equivocating(i: u32) -> bool {
    let b = p.crashed + p.silent;
    return i >= b && i < b + p.equivocating;
}

fn is_honest(i: u32) -> bool {
    return i >= p.crashed + p.silent + p.equivocating;
}

// ---------------------------------------------------------------- delays

fn notary_delay_us(rank: u32, backoff_q16: u64) -> u64 {
    let ru = u64(rank) * u64(p.unit_delay_us);
    var extra = MAX_NOTARY_DELAY_US;
    if ru == 0lu || backoff_q16 <= (MAX_NOTARY_DELAY_US << 16u) / ru {
        extra = min((ru * backoff_q16) >> 16u, MAX_NOTARY_DELAY_US);
    }
    return u64(p.initial_notary_delay_us) + extra;
}

// One sample from the delay-valued table at `offset`, µs, times the calibrated delay scale.
fn scaled_sample_us(offset: u32, word: u32) -> u64 {
    let d = u64(table_sample(offset, word));
    if p.delay_scale_q16 == Q16_ONE {
        return d;
    }
    return (d * u64(p.delay_scale_q16)) >> 16u;
}

// One network delay sample, µs.
fn delay_us(word: u32) -> u64 {
    return scaled_sample_us(p.delay_table, word);
}

// ---------------------------------------------------------------- shuffles

// Lazy partial Fisher-Yates shuffle of the block-maker ranking of one height.
var<private> ranking_perm: array<u32, MAX_NODES>;
var<private> ranking_drawn: u32;

fn ranking_reset(replica: u32, height: u32) {
    for (var i = 0u; i < p.nodes; i++) {
        ranking_perm[i] = i;
    }
    ranking_drawn = 0u;
    ranking_words = ws_new(replica, height, STREAM_RANKING);
}

fn ranking_at(pos: u32) -> u32 {
    while ranking_drawn <= pos {
        let d = ranking_drawn;
        let j = d + uniform_below(ws_next(&ranking_words), p.nodes - d);
        let x = ranking_perm[d];
        ranking_perm[d] = ranking_perm[j];
        ranking_perm[j] = x;
        ranking_drawn += 1u;
    }
    return ranking_perm[pos];
}

var<private> committee_perm: array<u32, MAX_NODES>;

// All nodes but the first n - c of a uniform shuffle.
fn committee(all: vec4<u32>, replica: u32, height: u32) -> vec4<u32> {
    var c = all;
    if p.nodes > p.committee {
        for (var i = 0u; i < p.nodes; i++) {
            committee_perm[i] = i;
        }
        committee_words = ws_new(replica, height, STREAM_COMMITTEE);
        for (var d = 0u; d < p.nodes - p.committee; d++) {
            let j = d + uniform_below(ws_next(&committee_words), p.nodes - d);
            let x = committee_perm[j];
            committee_perm[j] = committee_perm[d];
            committee_perm[d] = x;
            set_node(&c, x, false);
        }
    }
    return c;
}

// ---------------------------------------------------------------- dynamic failures

var<private> fail_next_us: array<u64, MAX_NODES>;
var<private> fail_transitions: array<u32, MAX_NODES>;

fn mtbf_ms() -> u64 {
    return (u64(p.mtbf_ms_hi) << 32u) | u64(p.mtbf_ms_lo);
}

fn mttr_ms() -> u64 {
    return (u64(p.mttr_ms_hi) << 32u) | u64(p.mttr_ms_lo);
}

fn exp_duration_us(word: u32, mean_ms: u64) -> u64 {
    let x = u64(table_sample(p.exp_table, word));
    return max(((x * mean_ms) >> 16u) * 1000lu, 1000lu);
}

fn is_dynamic(i: u32) -> bool {
    return p.dynamic_failures != 0u && is_honest(i);
}

fn failures_init(replica: u32, up: ptr<function, vec4<u32>>) {
    for (var i = 0u; i < p.nodes; i++) {
        fail_next_us[i] = U64_MAX;
        fail_transitions[i] = 0u;
        if !is_dynamic(i) {
            continue;
        }
        let w = philox_model(vec4<u32>(replica, 0u, i, STREAM_FAILURE));
        let is_up = w.x < p.p_up_q32;
        set_node(up, i, is_up);
        fail_next_us[i] = exp_duration_us(w.y, select(mttr_ms(), mtbf_ms(), is_up));
        fail_transitions[i] = 1u;
    }
}

fn failures_advance(replica: u32, t: u64, up: ptr<function, vec4<u32>>) {
    for (var i = 0u; i < p.nodes; i++) {
        while fail_next_us[i] <= t {
            let now_up = !contains(*up, i);
            set_node(up, i, now_up);
            let w = philox_model(vec4<u32>(replica, fail_transitions[i], i, STREAM_FAILURE));
            fail_next_us[i] += exp_duration_us(w.x, select(mttr_ms(), mtbf_ms(), now_up));
            fail_transitions[i] += 1u;
        }
    }
}

fn next_recovery_us(up: vec4<u32>) -> u64 {
    var t = U64_MAX;
    for (var i = 0u; i < p.nodes; i++) {
        if is_dynamic(i) && !contains(up, i) {
            t = min(t, fail_next_us[i]);
        }
    }
    return t;
}

// ---------------------------------------------------------------- order statistics

// Streaming k-th smallest (kernels: model::OrderStat) with a buffer of B = f + 1 slots,
// enough since min(k, len - k + 1) <= f + 1 for k = 2f + 1 and len <= 3f + 1.
var<private> os_buf: array<u64, ORDER_BUF>;
var<private> os_len: u32;
var<private> os_answer: u32;
var<private> os_smallest: bool;

fn os_new(len: u32, k: u32) {
    os_len = p.makers;
    let largest = len - k + 1u;
    os_smallest = k <= largest;
    os_answer = select(os_len - largest, k - 1u, os_smallest);
    let fill = select(0lu, U64_MAX, os_smallest);
    for (var i = 0u; i < os_len; i++) {
        os_buf[i] = fill;
    }
}

fn os_push(value: u64) {
    var x = value;
    if os_smallest {
        for (var i = 0u; i < os_len; i++) {
            let v = os_buf[i];
            os_buf[i] = min(v, x);
            x = max(v, x);
        }
    } else {
        for (var i = os_len; i > 0u; i--) {
            let v = os_buf[i - 1u];
            os_buf[i - 1u] = max(v, x);
            x = min(v, x);
        }
    }
}

fn os_get() -> u64 {
    return os_buf[os_answer];
}

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

fn batch_of(replica: u32, step: u32) -> u32 {
    let seg = u32(u64(step) * u64(p.batch_segments) / u64(max(p.rounds, 1u)));
    return u32((u64(replica) * u64(p.batch_segments) + u64(seg)) % u64(BATCHES));
}

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

// ---------------------------------------------------------------- one round

struct Notarized {
    ok: bool,
    rank: u32,
    round_us: u64,
    finalized: bool,
    finalization_us: u64,
}

// Steps 3-5 of one round; ok = false when the step is stalled.
fn notarize(replica: u32, step: u32, signer_set: vec4<u32>, up: vec4<u32>, backoff_q16: u64) -> Notarized {
    var out = Notarized(false, 0u, 0lu, false, 0lu);
    var rank = p.makers;
    for (var r = 0u; r < p.makers; r++) {
        let m = ranking_at(r);
        if contains(up, m) && !is_silent(m) {
            rank = r;
            break;
        }
    }
    let signers = count(signer_set);
    if rank == p.makers || signers < p.quorum {
        return out;
    }
    let maker = ranking_at(rank);
    let u = u64(p.unit_delay_us);
    let proposal = u64(rank) * u;
    let threshold = notary_delay_us(rank, backoff_q16);

    var next = NO_NODE;
    if rank + 1u < p.makers {
        next = ranking_at(rank + 1u);
    }
    let next_proposes = next != NO_NODE && contains(up, next) && !is_silent(next);

    round_words = ws_new(replica, step, STREAM_ROUND);
    let observer = uniform_below(ws_next(&round_words), signers);
    os_new(signers, p.quorum);
    var d_next = U64_MAX;
    var rest = signer_set;
    var k = 0u;
    loop {
        let i = next_member(&rest);
        if i == NO_NODE {
            break;
        }
        var d = 0lu;
        if i != maker {
            d = delay_us(ws_next(&round_words));
        }
        if i == next {
            d_next = d;
        }
        let s = max(proposal + d, threshold);
        var e = 0lu;
        if k != observer {
            e = delay_us(ws_next(&round_words));
        }
        os_push(s + e);
        k += 1u;
    }
    let round_us = os_get() + u64(p.round_overhead_us);

    // Rule (a): an equivocating r* maker.
    var competing = is_equivocating(maker);
    // Rule (b): the rank r*+1 maker missed the r* block and its block gets an honest share.
    if !competing && next_proposes {
        if d_next == U64_MAX {
            d_next = delay_us(ws_next(&round_words));
        }
        if d_next > u {
            let proposal2 = proposal + u;
            let threshold2 = notary_delay_us(rank + 1u, backoff_q16);
            replay_words = ws_at(replica, step, STREAM_ROUND, 1u);
            var rest2 = signer_set;
            var k2 = 0u;
            loop {
                let i = next_member(&rest2);
                if i == NO_NODE {
                    break;
                }
                var d = 0lu;
                if i != maker {
                    d = delay_us(ws_next(&replay_words));
                }
                if k2 != observer {
                    ws_next(&replay_words);
                }
                k2 += 1u;
                let s = max(proposal + d, threshold);
                var d2 = 0lu;
                if i != next {
                    d2 = delay_us(ws_next(&round_words));
                }
                if max(proposal2 + d2, threshold2) < s {
                    competing = true;
                    break;
                }
            }
        }
    }
    out.ok = true;
    out.rank = rank;
    out.round_us = round_us;
    if !competing {
        // The (2f+1)-th smallest of {0} and H - 1 fresh share delays, by inverse CDF of its
        // exact distribution (one word).
        let table = p.fin_table + (signers - p.quorum) * TABLE_STRIDE;
        let share = scaled_sample_us(table, ws_next(&round_words));
        out.finalized = true;
        out.finalization_us = round_us + share + u64(p.finalization_overhead_us);
    }
    return out;
}

// ---------------------------------------------------------------- one replica

// The replica's state between slices.
var<private> sim_up: vec4<u32>;
var<private> sim_all: vec4<u32>;
var<private> sim_honest: vec4<u32>;
var<private> sim_members: vec4<u32>;
var<private> sim_t: u64;
var<private> sim_height: u32;
var<private> sim_backoff_q16: u64;
var<private> sim_step: u32;

fn sim_sets() {
    var up = vec4<u32>(0u);
    for (var i = p.crashed; i < p.nodes; i++) {
        set_node(&up, i, true);
    }
    var all = vec4<u32>(0u);
    for (var i = 0u; i < p.nodes; i++) {
        set_node(&all, i, true);
    }
    var honest = vec4<u32>(0u);
    for (var i = p.crashed + p.silent + p.equivocating; i < p.nodes; i++) {
        set_node(&honest, i, true);
    }
    sim_up = up;
    sim_all = all;
    sim_honest = honest;
}

// Step 0 of the replica.
fn sim_init(replica: u32) {
    sim_sets();
    if p.dynamic_failures != 0u {
        var up = sim_up;
        failures_init(replica, &up);
        sim_up = up;
    }
    sim_t = 0lu;
    sim_height = 0u;
    sim_backoff_q16 = u64(Q16_ONE);
    sim_step = 0u;
    sim_members = committee(sim_all, replica, 0u);
    ranking_reset(replica, 0u);
    acc_batch = batch_of(replica, 0u);
}

// Layout of a replica's state (src/gpu/layout.rs): ReplicaState (STATE_FIXED_WORDS words,
// offsets STATE_*), then with dynamic failures one NodeState per node (NODE_STATE_WORDS
// words, offsets NODE_*).

// Resumes the replica at slice.first_step from `state` word `base`. The ranking shuffle of
// the current height is redrawn: it is lazy and deterministic, so it yields the same ranks.
fn sim_load(replica: u32, base: u32) {
    sim_sets();
    sim_t = (u64(state[base + STATE_T_HI]) << 32u) | u64(state[base + STATE_T_LO]);
    sim_height = state[base + STATE_HEIGHT];
    sim_backoff_q16 = (u64(state[base + STATE_BACKOFF_Q16_HI]) << 32u) | u64(state[base + STATE_BACKOFF_Q16_LO]);
    sim_up = vec4<u32>(state[base + STATE_UP0], state[base + STATE_UP1], state[base + STATE_UP2], state[base + STATE_UP3]);
    if p.dynamic_failures != 0u {
        for (var i = 0u; i < p.nodes; i++) {
            let n = base + STATE_FIXED_WORDS + NODE_STATE_WORDS * i;
            fail_next_us[i] = (u64(state[n + NODE_NEXT_CHANGE_US_HI]) << 32u) | u64(state[n + NODE_NEXT_CHANGE_US_LO]);
            fail_transitions[i] = state[n + NODE_TRANSITIONS];
        }
    }
    sim_step = slice.first_step;
    sim_members = committee(sim_all, replica, sim_height);
    ranking_reset(replica, sim_height);
    acc_batch = batch_of(replica, sim_step);
}

fn sim_store(base: u32) {
    state[base + STATE_T_LO] = u32(sim_t);
    state[base + STATE_T_HI] = u32(sim_t >> 32u);
    state[base + STATE_HEIGHT] = sim_height;
    state[base + STATE_BACKOFF_Q16_LO] = u32(sim_backoff_q16);
    state[base + STATE_BACKOFF_Q16_HI] = u32(sim_backoff_q16 >> 32u);
    state[base + STATE_UP0] = sim_up.x;
    state[base + STATE_UP1] = sim_up.y;
    state[base + STATE_UP2] = sim_up.z;
    state[base + STATE_UP3] = sim_up.w;
    if p.dynamic_failures != 0u {
        for (var i = 0u; i < p.nodes; i++) {
            let n = base + STATE_FIXED_WORDS + NODE_STATE_WORDS * i;
            state[n + NODE_NEXT_CHANGE_US_LO] = u32(fail_next_us[i]);
            state[n + NODE_NEXT_CHANGE_US_HI] = u32(fail_next_us[i] >> 32u);
            state[n + NODE_TRANSITIONS] = fail_transitions[i];
        }
    }
}

// Steps the replica until step `end` (or the end of the run).
fn sim_steps(replica: u32, end: u32) {
    let dynamic = p.dynamic_failures != 0u;
    var up = sim_up;
    let all = sim_all;
    let honest = sim_honest;
    var members = sim_members;
    var t = sim_t;
    var height = sim_height;
    var backoff_q16 = sim_backoff_q16;
    var step = sim_step;
    while step < end {
        let batch = batch_of(replica, step);
        if dynamic {
            failures_advance(replica, t, &up);
        }
        let signers = members & up & honest;
        let r = notarize(replica, step, signers, up, backoff_q16);
        if r.ok {
            acc_add(batch, F_NOTARIZED, 1lu);
            acc_add(batch, F_ROUND_US, r.round_us);
            acc_add(batch, F_RANK_SUM, u64(r.rank));
            acc_add(batch, F_RANK0, select(0lu, 1lu, r.rank == 0u));
            hist_add(HIST_ROUND + time_bin(r.round_us));
            hist_add(HIST_RANK + min(r.rank, RANK_BINS - 1u));
            if r.finalized {
                acc_add(batch, F_FINALIZED, 1lu);
                acc_add(batch, F_FIN_US, r.finalization_us);
                hist_add(HIST_FIN + time_bin(r.finalization_us));
                backoff_q16 = u64(Q16_ONE);
            } else if p.finality_backoff != 0u {
                backoff_q16 = min(backoff_q16 * 3lu / 2lu, BACKOFF_CAP_Q16);
            }
            t += r.round_us;
            height += 1u;
            members = committee(all, replica, height);
            ranking_reset(replica, height);
            step += 1u;
        } else {
            var recovery = U64_MAX;
            if dynamic {
                recovery = next_recovery_us(up);
            }
            if recovery == U64_MAX {
                // Nothing can change: the replica is stalled for good (no histogram counts,
                // so the rest of the slice is counted at once; later slices find it stalled
                // again, since nothing changed).
                if p.batch_segments == 1u {
                    acc_add(batch, F_STALLED, u64(end - step));
                    step = end;
                }
                while step < end {
                    acc_add(batch_of(replica, step), F_STALLED, 1lu);
                    step += 1u;
                }
            } else {
                acc_add(batch, F_STALLED, 1lu);
                acc_add(batch, F_STALL_US, recovery - t);
                t = recovery;
                step += 1u;
            }
        }
    }
    sim_up = up;
    sim_members = members;
    sim_t = t;
    sim_height = height;
    sim_backoff_q16 = backoff_q16;
    sim_step = step;
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
    hist_init(lid);
    // The dispatch covers replicas [replica_offset, replica_offset + 64 x workgroups).
    if gid.x < p.replicas - p.replica_offset {
        let replica = p.replica_offset + gid.x;
        let base = gid.x * slice.state_words;
        if slice.first_step == 0u {
            sim_init(replica);
        } else {
            sim_load(replica, base);
        }
        sim_steps(replica, slice.end_step);
        if slice.end_step < p.rounds {
            sim_store(base);
        }
        acc_flush();
        if COUNT_BLOCKS {
            agg_add(AGG_LEN, u64(philox_blocks));
        }
    }
    // Uniform control flow again: every invocation reaches the barriers in hist_flush.
    hist_flush(lid);
}
