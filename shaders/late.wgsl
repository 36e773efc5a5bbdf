// Late certification records (kernels/src/late.rs): heights whose certification waits for the
// late shares of nodes that finalized them only as ancestors, oldest first (heights increase).

var<private> l_len: u32;
var<private> l_height: array<u32, LATE>;
var<private> l_step: array<u32, LATE>;
var<private> l_observer: array<u32, LATE>;
var<private> l_obs_start: array<u64, LATE>;
var<private> l_obs_fin: array<u64, LATE>;
// Record i's share time of node k at i NODE_CAP + k, µs (NEVER: not sent yet).
var<private> l_share: array<u64, LATE_CAP>;

// Node k executed `height` at ex_us: its share time, if the height is kept (LateCerts::executed).
fn late_executed(k: u32, height: u32, ex_us: u64) {
    for (var i = 0u; i < l_len; i++) {
        fuel += 1u;
        if l_height[i] == height {
            l_share[i * NODE_CAP + k] = ex_us;
        }
    }
}

// True when every node of honest_active has executed the oldest record's height
// (LateCerts::oldest_complete).
fn late_oldest_complete(honest_active: vec4<u32>) -> bool {
    let h = l_height[0];
    for (var k = 0u; k < p.nodes; k++) {
        fuel += 1u;
        if contains(honest_active, k) && v_ex_h[k] < h {
            return false;
        }
    }
    return true;
}

// Drops the oldest record (LateCerts::pop_oldest).
fn late_pop_oldest() {
    for (var i = 1u; i < l_len; i++) {
        fuel += 1u;
        l_height[i - 1u] = l_height[i];
        l_step[i - 1u] = l_step[i];
        l_observer[i - 1u] = l_observer[i];
        l_obs_start[i - 1u] = l_obs_start[i];
        l_obs_fin[i - 1u] = l_obs_fin[i];
        for (var k = 0u; k < p.nodes; k++) {
            fuel += 1u;
            l_share[(i - 1u) * NODE_CAP + k] = l_share[i * NODE_CAP + k];
        }
    }
    l_len -= 1u;
}

// Keeps the current height (h_height, h_step) with the share times h_tmp of `certifiers`
// (model::simulate's record; there must be room).
fn late_push(observer: u32, obs_start_us: u64, obs_fin_us: u64, certifiers: vec4<u32>) {
    let i = l_len;
    l_height[i] = h_height;
    l_step[i] = h_step;
    l_observer[i] = observer;
    l_obs_start[i] = obs_start_us;
    l_obs_fin[i] = obs_fin_us;
    for (var k = 0u; k < p.nodes; k++) {
        fuel += 1u;
        l_share[i * NODE_CAP + k] = select(NEVER, h_tmp[k], contains(certifiers, k));
    }
    l_len += 1u;
}

// Counts the observer's certification at cert_o, µs (NEVER: none; model::count_certification).
fn count_certification(batch: u32, obs_start_us: u64, obs_fin_us: u64, cert_o: u64) {
    if cert_o == NEVER {
        return;
    }
    acc_add(batch, F_CERTIFIED, 1lu);
    let overheads = u64(p.round_overhead_us) + u64(p.finalization_overhead_us);
    acc_add(batch, F_CERT_US, sat_sub(cert_o, obs_start_us) + overheads);
    if obs_fin_us != NEVER {
        acc_add(batch, F_CERT_LAG_US, sat_sub(cert_o, obs_fin_us));
    }
}

// Resolves and drops the oldest record: every node that sent a share of its height certifies it
// again from all the shares sent so far (the words of its step); those in `receivers` take it
// into their views; its observer's certification is counted in its step's batch
// (late::resolve, model::resolve_oldest). Needs h_replica set.
fn late_resolve_oldest(replica: u32, receivers: vec4<u32>) {
    var certifiers = vec4<u32>(0u);
    for (var k = 0u; k < p.nodes; k++) {
        fuel += 1u;
        certifiers = with_node(certifiers, k, l_share[k] != NEVER);
    }
    let step_now = h_step;
    h_step = l_step[0];
    var cert_o = NEVER;
    for (var k = 0u; k < p.nodes; k++) {
        fuel += 1u;
        if contains(certifiers, k) {
            let c = certified_us(certifiers, k, true);
            if contains(receivers, k) {
                views_certified(k, l_height[0], c);
            }
            if k == l_observer[0] {
                cert_o = c;
            }
        }
    }
    h_step = step_now;
    count_certification(batch_at(replica, l_step[0]), l_obs_start[0], l_obs_fin[0], cert_o);
    late_pop_oldest();
}
