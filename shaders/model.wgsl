// The coarse ICC model in WGSL, part 1 of 4: bindings, 64-bit helpers, node sets, the node
// views and the order statistic. Twin of kernels/src/{sets,views}.rs; the rules, and the
// address of every Philox word, are in the doc comment of kernels/src/model.rs. Parts 2-4:
// height.wgsl (one height's messages), resolve.wgsl (decisions, finalization, next round),
// replica.wgsl (shuffles, failures, the step loop and the entry point).
//
// Composed by the host (src/gpu/shaders.rs) as: generated constants (from the kernels crate,
// with this pipeline's NODE_CAP and ORDER_CAP) + generated shared structs (Params, Slice, the
// STATE_* / NODE_* offsets) + philox.wgsl + table.wgsl + arith.wgsl + model.wgsl + height.wgsl +
// resolve.wgsl + replica.wgsl + one accum_*.wgsl (hist_init/hist_add/hist_flush).
//
// Times are absolute µs in u64 (SHADER_INT64). Plain + and - wrap, as the kernel's release
// build does; sat_add/sat_sub (arith.wgsl) mirror its saturating_add/saturating_sub. Private arrays hold
// NODE_CAP entries (>= p.nodes), so memory per invocation grows with the pipeline's class.

@group(0) @binding(0) var<storage, read> p: Params;
@group(0) @binding(1) var<storage, read> tables: array<u32>;
// AGG_LEN (+1 for the Philox block count) u64 counters as (lo, hi) pairs of u32.
@group(0) @binding(2) var<storage, read_write> agg: array<atomic<u32>>;
@group(0) @binding(3) var<storage, read> slice: Slice;
// state_words u32 per replica of the chunk (layout: src/gpu/layout.rs).
@group(0) @binding(4) var<storage, read_write> state: array<u32>;
// [0]: replicas of this dispatch not finished yet; [1]: nonzero when the driver's loop limit
// cut a dispatch short (its results are void); [2]: the most loop iterations (fuel) one
// invocation counted in a dispatch.
@group(0) @binding(5) var<storage, read_write> flags: array<atomic<u32>>;

// Adds v to u64 counter `index`: 64-bit-safe with two u32 atomics (the carry of the low word
// is decided by the value the atomic add saw, so concurrent adds stay exact).
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

// Loop iterations this invocation ran in this dispatch (see Slice::fuel).
var<private> fuel: u32;

// ---------------------------------------------------------------- node sets (sets.rs)

fn contains(s: vec4<u32>, i: u32) -> bool {
    return ((s[i >> 5u] >> (i & 31u)) & 1u) == 1u;
}

// `s` with node i added (on) or removed.
fn with_node(s: vec4<u32>, i: u32, on: bool) -> vec4<u32> {
    var r = s;
    let bit = 1u << (i & 31u);
    r[i >> 5u] = select(s[i >> 5u] & ~bit, s[i >> 5u] | bit, on);
    return r;
}

fn count(s: vec4<u32>) -> u32 {
    return countOneBits(s.x) + countOneBits(s.y) + countOneBits(s.z) + countOneBits(s.w);
}

fn is_empty(s: vec4<u32>) -> bool {
    return (s.x | s.y | s.z | s.w) == 0u;
}

// Ids 4g..4g+4 of s as 4 bits (senders sharing one Philox block).
fn group_bits(s: vec4<u32>, g: u32) -> u32 {
    return (s[g >> 3u] >> ((g & 7u) * 4u)) & 15u;
}

// Groups of four ids covering 0..p.nodes.
fn groups() -> u32 {
    return (p.nodes + 3u) / 4u;
}

fn bits_below(x: u32) -> u32 {
    return select((1u << x) - 1u, 0xFFFFFFFFu, x >= 32u);
}

// The ids lo..hi (empty when hi <= lo).
fn range_set(lo: u32, hi: u32) -> vec4<u32> {
    var s = vec4<u32>(0u);
    for (var w = 0u; w < 4u; w++) {
        let a = clamp(lo, 32u * w, 32u * w + 32u) - 32u * w;
        let b = clamp(hi, 32u * w, 32u * w + 32u) - 32u * w;
        s[w] = bits_below(b) & ~bits_below(a);
    }
    return s;
}

// The k-th smallest id of s (0-based), k < count(s).
fn nth_member(s: vec4<u32>, k: u32) -> u32 {
    var rest = k;
    for (var w = 0u; w < 4u; w++) {
        var bits = s[w];
        let c = countOneBits(bits);
        if rest < c {
            for (var i = 0u; i < rest; i++) {
                fuel += 1u;
                bits &= bits - 1u;
            }
            return 32u * w + countTrailingZeros(bits);
        }
        rest -= c;
    }
    return 0u;
}

// ---------------------------------------------------------------- delays (views.rs)

// N0 + rank U 1.5^gap, µs (factor 1 without backoff; gap capped at 40; the rank term at 2^40).
// views::notary_delay_us saturates when b > 2^56 / ru, i.e. when ru b > 2^56; that product
// (up to 2^79) is compared in two halves, b = bh 2^20 + bl, instead of dividing.
fn notary_delay_us(rank: u32, gap: u32) -> u64 {
    var b = u64(Q16_ONE);
    if p.finality_backoff != 0u {
        b = BACKOFF_Q16[min(gap, 40u)];
    }
    let ru = u64(rank) * u64(p.unit_delay_us);
    let high = ru * (b >> 20u);
    var extra = MAX_NOTARY_DELAY_US;
    if high <= (1lu << 36u) {
        let prod = (high << 20u) + ru * (b & 0xFFFFFlu);
        if prod <= (MAX_NOTARY_DELAY_US << 16u) {
            extra = min(prod >> 16u, MAX_NOTARY_DELAY_US);
        }
    }
    return u64(p.initial_notary_delay_us) + extra;
}

// The chain's rank history after a height of rank `rank` (maker_delay::push_rank).
fn push_rank(history: u32, rank: u32) -> u32 {
    return ((history << 1u) | select(0u, 1u, rank > 0u)) & ((1u << MAKER_DELAY_LOOK_BACK) - 1u);
}

// Extra proposal delay of makers of rank > 0, µs (maker_delay::extra_delay_us).
fn extra_delay_us(history: u32) -> u64 {
    if p.dynamic_maker_delay != 0u && countOneBits(history) > MAKER_DELAY_MAX_NON_RANK_0 {
        return u64(p.unit_delay_us);
    }
    return 0lu;
}

// A bijective mixer of 32-bit words (views::mix32; u32 products wrap in WGSL).
fn mix32(w: u32) -> u32 {
    var x = w;
    x ^= x >> 16u;
    x *= 0x7feb352du;
    x ^= x >> 15u;
    x *= 0x846ca68bu;
    return x ^ (x >> 16u);
}

// One message's delay from `sender` to `receiver`, µs: the network delay times the calibrated
// delay scale, plus the pair's base latency when p.latency_table is not 0 (not scaled), plus
// the processing delay from the mixed word (views::delay_us).
fn delay_us(word: u32, sender: u32, receiver: u32) -> u64 {
    var d = u64(table_sample(p.delay_table, word));
    if p.delay_scale_q16 != Q16_ONE {
        d = (d * u64(p.delay_scale_q16)) >> 16u;
    }
    if p.latency_table != 0u {
        d += u64(tables[p.latency_table + sender * p.nodes + receiver]);
    }
    if p.processing != 0u {
        d += u64(table_sample(p.processing_table, mix32(word)));
    }
    return d;
}

// ---------------------------------------------------------------- node views (views.rs)

var<private> v_start: array<u64, NODE_CAP>;
var<private> v_fin_height: array<u32, NODE_CAP>;
var<private> v_pend0_h: array<u32, NODE_CAP>;
var<private> v_pend0_us: array<u64, NODE_CAP>;
var<private> v_pend1_h: array<u32, NODE_CAP>;
var<private> v_pend1_us: array<u64, NODE_CAP>;
// How each finalization in flight completed at its µs (views::tie, TIE_ONE: alone).
var<private> v_pend0_tie: array<u32, NODE_CAP>;
var<private> v_pend1_tie: array<u32, NODE_CAP>;
// Execution and certification (cert.rs): highest height executed and when, highest height
// certified at the round start, and the certifications in flight at the round start, node k's
// v_cw_len[k] entries at k CERT_WINDOW .. (heights and arrivals increasing).
var<private> v_ex_h: array<u32, NODE_CAP>;
var<private> v_ex_us: array<u64, NODE_CAP>;
var<private> v_cert_h: array<u32, NODE_CAP>;
var<private> v_cw_len: array<u32, NODE_CAP>;
var<private> v_cw_h: array<u32, CERT_CAP>;
var<private> v_cw_us: array<u64, CERT_CAP>;

fn views_genesis() {
    for (var k = 0u; k < p.nodes; k++) {
        fuel += 1u;
        v_start[k] = 0lu;
        v_fin_height[k] = 0u;
        v_pend0_h[k] = 0u;
        v_pend0_us[k] = NEVER;
        v_pend1_h[k] = 0u;
        v_pend1_us[k] = NEVER;
        v_pend0_tie[k] = TIE_ONE;
        v_pend1_tie[k] = TIE_ONE;
        v_ex_h[k] = 0u;
        v_ex_us[k] = 0lu;
        v_cert_h[k] = 0u;
        v_cw_len[k] = 0u;
        for (var i = 0u; i < CERT_WINDOW; i++) {
            fuel += 1u;
            v_cw_h[k * CERT_WINDOW + i] = 0u;
            v_cw_us[k * CERT_WINDOW + i] = NEVER;
        }
    }
}

fn views_rejoin(k: u32, height: u32, t: u64) {
    v_start[k] = t;
    v_fin_height[k] = height - 1u;
    v_pend0_us[k] = NEVER;
    v_pend1_us[k] = NEVER;
    v_ex_h[k] = height - 1u;
    v_ex_us[k] = t;
    v_cert_h[k] = height - 1u;
    v_cw_len[k] = 0u;
}

// a - b, or 0 when b >= a (u32::saturating_sub).
fn sat_sub32(a: u32, b: u32) -> u32 {
    return a - min(a, b);
}

// Earliest time from `arrival_us` on (the block's arrival) at which node k may
// notarization-sign a rank-`rank` block at `height`, µs (NodeViews::eligible_us; `block`:
// the block's word index, for a tie in this height's step).
fn eligible_us(k: u32, rank: u32, height: u32, arrival_us: u64, block: u32) -> u64 {
    if p.certification_backlog != 0u && !backlog_free(k, height) {
        return eligible_with_backlog_us(k, rank, height, arrival_us, block);
    }
    let t0 = v_start[k];
    if rank == 0u || p.finality_backoff == 0u {
        return max(t0 + notary_delay_us(rank, 0u), arrival_us);
    }
    let last = height - 1u;
    var e = t0 + notary_delay_us(rank, last - min(v_fin_height[k], last));
    if v_pend0_us[k] != NEVER {
        let d = t0 + notary_delay_us(rank, last - min(v_pend0_h[k], last));
        e = min(e, max(d, v_pend0_us[k]));
    }
    if v_pend1_us[k] != NEVER {
        let d = t0 + notary_delay_us(rank, last - min(v_pend1_h[k], last));
        e = min(e, max(d, v_pend1_us[k]));
    }
    return max(e, arrival_us);
}

// Node k finalized `height` at fin_us (or never; completed as fin_tie says) and starts the
// next round at next_us (NodeViews::advance).
fn views_advance(k: u32, height: u32, fin_us: u64, fin_tie: u32, next_us: u64) {
    if fin_us != NEVER {
        if v_pend1_us[k] >= fin_us {
            v_pend1_us[k] = NEVER;
        }
        if v_pend0_us[k] >= fin_us {
            shift_pending(k);
        }
        if v_pend0_us[k] == NEVER {
            v_pend0_h[k] = height;
            v_pend0_us[k] = fin_us;
            v_pend0_tie[k] = fin_tie;
        } else if v_pend1_us[k] == NEVER {
            v_pend1_h[k] = height;
            v_pend1_us[k] = fin_us;
            v_pend1_tie[k] = fin_tie;
        } else {
            v_fin_height[k] = max(v_fin_height[k], v_pend0_h[k]);
            shift_pending(k);
            v_pend1_h[k] = height;
            v_pend1_us[k] = fin_us;
            v_pend1_tie[k] = fin_tie;
        }
    }
    while v_pend0_us[k] != NEVER && v_pend0_us[k] <= next_us {
        fuel += 1u;
        v_fin_height[k] = max(v_fin_height[k], v_pend0_h[k]);
        shift_pending(k);
    }
    v_start[k] = next_us;
}

// Drops node k's earlier finalization in flight: the later one takes its slot.
fn shift_pending(k: u32) {
    v_pend0_h[k] = v_pend1_h[k];
    v_pend0_us[k] = v_pend1_us[k];
    v_pend0_tie[k] = v_pend1_tie[k];
    v_pend1_us[k] = NEVER;
}

// ---------------------------------------------------------------- order statistic (sets.rs)

// Streaming k-th smallest of `len` values, sets::OrderStat with B = ORDER_CAP >= f + 1 >=
// min(k, len - k + 1) (the value does not depend on B). When k is nearer the top, the
// (len - k + 1)-th largest is kept as the smallest of the complements !x (an order-reversing
// bijection of u64), so one direction serves both. Pushes are loops of constant trip count
// (16 at a time), which the compilers unroll: no loop iterations at run time.
var<private> os_buf: array<u64, ORDER_CAP>;
var<private> os_answer: u32;
// All ones when the complements are kept, else 0.
var<private> os_flip: u64;

fn os_new(len: u32, k: u32) {
    let largest = len - k + 1u;
    let smallest = k <= largest;
    os_answer = select(largest - 1u, k - 1u, smallest);
    os_flip = select(NEVER, 0lu, smallest);
    for (var c = 0u; c < ORDER_CAP; c += 16u) {
        for (var i = 0u; i < 16u; i++) {
            os_buf[c + i] = NEVER;
        }
    }
}

fn os_push(value: u64) {
    // Carry the larger value upwards; the largest of B + 1 falls off the end.
    var x = value ^ os_flip;
    for (var c = 0u; c < ORDER_CAP; c += 16u) {
        for (var i = 0u; i < 16u; i++) {
            let v = os_buf[c + i];
            os_buf[c + i] = min(v, x);
            x = max(v, x);
        }
    }
}

fn os_get() -> u64 {
    return os_buf[os_answer] ^ os_flip;
}

// 4, in a form the compilers cannot see as a constant: an inner loop `x < four()` over the
// ids of a group stays a loop (one copy of its body, 4 iterations at run time), where code
// size matters more than loop iterations (rarely run bodies with heavy code).
fn four() -> u32 {
    return 4u + (p.nodes >> 31u);
}
