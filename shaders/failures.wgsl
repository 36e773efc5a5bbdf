// Dynamic failures in WGSL: twin of kernels/src/failures.rs (Failures).

var<private> f_next_us: array<u64, NODE_CAP>;
var<private> f_transitions: array<u32, NODE_CAP>;

fn mean_ms(up: bool) -> u64 {
    if up {
        return (u64(p.mtbf_ms_hi) << 32u) | u64(p.mtbf_ms_lo);
    }
    return (u64(p.mttr_ms_hi) << 32u) | u64(p.mttr_ms_lo);
}

// One Exp(1)-distributed duration with the given mean, µs (at least 1 ms).
fn exp_duration_us(word: u32, mean: u64) -> u64 {
    let x = u64(table_sample(p.exp_table, word));
    return max(((x * mean) >> 16u) * 1000lu, 1000lu);
}

fn is_dynamic(i: u32) -> bool {
    return p.dynamic_failures != 0u && i >= p.crashed + p.silent + p.equivocating;
}

// Stationary start (Failures::init): up with probability MTBF / (MTBF + MTTR).
fn failures_init(replica: u32, up: vec4<u32>) -> vec4<u32> {
    var u = up;
    let key = vec2<u32>(p.seed_lo, p.seed_hi);
    for (var i = 0u; i < p.nodes; i++) {
        fuel += 1u;
        f_next_us[i] = NEVER;
        f_transitions[i] = 0u;
        if !is_dynamic(i) {
            continue;
        }
        let w = philox4x32_10(vec4<u32>(replica, 0u, i, STREAM_FAILURE), key);
        let is_up = w.x < p.p_up_q32;
        u = with_node(u, i, is_up);
        f_next_us[i] = exp_duration_us(w.y, mean_ms(is_up));
        f_transitions[i] = 1u;
    }
    return u;
}

// Applies every transition at or before t (Failures::advance).
fn failures_advance(replica: u32, t: u64, up: vec4<u32>) -> vec4<u32> {
    var u = up;
    let key = vec2<u32>(p.seed_lo, p.seed_hi);
    for (var i = 0u; i < p.nodes; i++) {
        fuel += 1u;
        while f_next_us[i] <= t {
            fuel += 1u;
            let now_up = !contains(u, i);
            u = with_node(u, i, now_up);
            let w = philox4x32_10(vec4<u32>(replica, f_transitions[i], i, STREAM_FAILURE), key);
            f_next_us[i] += exp_duration_us(w.x, mean_ms(now_up));
            f_transitions[i] += 1u;
        }
    }
    return u;
}

// Time of the next recovery of a down node, or NEVER.
fn next_recovery_us(up: vec4<u32>) -> u64 {
    var t = NEVER;
    for (var i = 0u; i < p.nodes; i++) {
        fuel += 1u;
        if is_dynamic(i) && !contains(up, i) {
            t = min(t, f_next_us[i]);
        }
    }
    return t;
}
