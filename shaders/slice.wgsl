// The model kernel's entry point: one invocation steps one replica through at most
// slice.steps round steps, resuming from and saving to `state` (layout: src/gpu/layout.rs,
// ReplicaState then one NodeState per node, offsets STATE_* / NODE_*), so that no dispatch
// runs unbounded: GPU watchdogs end long dispatches, and Mesa's llvmpipe ends a shader's
// loops after 65,535 iterations in total, which slice.fuel budgets (Slice in layout.rs).

fn u64_at(i: u32) -> u64 {
    return (u64(state[i + 1u]) << 32u) | u64(state[i]);
}

fn store_u64(i: u32, v: u64) {
    state[i] = u32(v);
    state[i + 1u] = u32(v >> 32u);
}

// The replica at genesis (step 0, height 1).
fn sim_init(replica: u32) {
    s_step = 0u;
    s_height = 1u;
    s_rank_history = 0u;
    s_up = range_set(p.crashed, p.nodes);
    for (var i = 0u; i < p.nodes; i++) {
        fuel += 1u;
        f_next_us[i] = NEVER;
        f_transitions[i] = 0u;
    }
    l_len = 0u;
    if p.dynamic_failures != 0u {
        s_up = failures_init(replica, s_up);
    }
    views_genesis();
}

// The node views and failures saved at `base` (the step and height are read by the caller).
fn sim_load(base: u32) {
    s_up = vec4<u32>(state[base + STATE_UP0], state[base + STATE_UP1], state[base + STATE_UP2], state[base + STATE_UP3]);
    s_rank_history = state[base + STATE_RANK_HISTORY];
    l_len = state[base + STATE_LATE_LEN];
    for (var r = 0u; r < l_len; r++) {
        fuel += 1u;
        let at = base + STATE_LATE_HEIGHT0 + 7u * r;
        l_height[r] = state[at];
        l_step[r] = state[at + 1u];
        l_observer[r] = state[at + 2u];
        l_obs_start[r] = u64_at(at + 3u);
        l_obs_fin[r] = u64_at(at + 5u);
    }
    for (var i = 0u; i < p.nodes; i++) {
        fuel += 1u;
        let n = base + STATE_FIXED_WORDS + NODE_STATE_WORDS * i;
        v_start[i] = u64_at(n + NODE_START_LO);
        v_fin_height[i] = state[n + NODE_FIN_HEIGHT];
        v_pend0_h[i] = state[n + NODE_PEND0_H];
        v_pend0_us[i] = u64_at(n + NODE_PEND0_US_LO);
        v_pend1_h[i] = state[n + NODE_PEND1_H];
        v_pend1_us[i] = u64_at(n + NODE_PEND1_US_LO);
        v_pend0_tie[i] = state[n + NODE_PEND0_TIE];
        v_pend1_tie[i] = state[n + NODE_PEND1_TIE];
        f_next_us[i] = u64_at(n + NODE_NEXT_CHANGE_US_LO);
        f_transitions[i] = state[n + NODE_TRANSITIONS];
        v_ex_h[i] = state[n + NODE_EX_H];
        v_ex_us[i] = u64_at(n + NODE_EX_US_LO);
        v_cert_h[i] = state[n + NODE_CERT_H];
        v_cw_len[i] = state[n + NODE_CW_LEN];
        for (var c = 0u; c < CERT_WINDOW; c++) {
            fuel += 1u;
            v_cw_h[i * CERT_WINDOW + c] = state[n + NODE_CW_H0 + c];
            v_cw_us[i * CERT_WINDOW + c] = u64_at(n + NODE_CW_US0_LO + 2u * c);
        }
        for (var r = 0u; r < l_len; r++) {
            fuel += 1u;
            l_share[r * NODE_CAP + i] = u64_at(n + NODE_LATE_SHARE0_LO + 2u * r);
        }
    }
}

fn sim_store(base: u32) {
    state[base + STATE_STEP] = s_step;
    state[base + STATE_HEIGHT] = s_height;
    if s_step >= p.rounds {
        return; // finished: only the step is read again
    }
    state[base + STATE_UP0] = s_up.x;
    state[base + STATE_UP1] = s_up.y;
    state[base + STATE_UP2] = s_up.z;
    state[base + STATE_UP3] = s_up.w;
    state[base + STATE_RANK_HISTORY] = s_rank_history;
    state[base + STATE_LATE_LEN] = l_len;
    for (var r = 0u; r < l_len; r++) {
        fuel += 1u;
        let at = base + STATE_LATE_HEIGHT0 + 7u * r;
        state[at] = l_height[r];
        state[at + 1u] = l_step[r];
        state[at + 2u] = l_observer[r];
        store_u64(at + 3u, l_obs_start[r]);
        store_u64(at + 5u, l_obs_fin[r]);
    }
    for (var i = 0u; i < p.nodes; i++) {
        fuel += 1u;
        let n = base + STATE_FIXED_WORDS + NODE_STATE_WORDS * i;
        store_u64(n + NODE_START_LO, v_start[i]);
        state[n + NODE_FIN_HEIGHT] = v_fin_height[i];
        state[n + NODE_PEND0_H] = v_pend0_h[i];
        store_u64(n + NODE_PEND0_US_LO, v_pend0_us[i]);
        state[n + NODE_PEND1_H] = v_pend1_h[i];
        store_u64(n + NODE_PEND1_US_LO, v_pend1_us[i]);
        state[n + NODE_PEND0_TIE] = v_pend0_tie[i];
        state[n + NODE_PEND1_TIE] = v_pend1_tie[i];
        store_u64(n + NODE_NEXT_CHANGE_US_LO, f_next_us[i]);
        state[n + NODE_TRANSITIONS] = f_transitions[i];
        state[n + NODE_EX_H] = v_ex_h[i];
        store_u64(n + NODE_EX_US_LO, v_ex_us[i]);
        state[n + NODE_CERT_H] = v_cert_h[i];
        state[n + NODE_CW_LEN] = v_cw_len[i];
        for (var c = 0u; c < CERT_WINDOW; c++) {
            fuel += 1u;
            state[n + NODE_CW_H0 + c] = v_cw_h[i * CERT_WINDOW + c];
            store_u64(n + NODE_CW_US0_LO + 2u * c, v_cw_us[i * CERT_WINDOW + c]);
        }
        for (var r = 0u; r < l_len; r++) {
            fuel += 1u;
            store_u64(n + NODE_LATE_SHARE0_LO + 2u * r, l_share[r * NODE_CAP + i]);
        }
    }
}

// Runs the replica's steps for this dispatch: at least one, at most slice.steps, and another
// only while the loop iterations so far plus the costliest step so far stay within slice.fuel.
fn sim_steps(replica: u32) {
    var costliest = 0u;
    var done = 0u;
    loop {
        if s_step >= p.rounds || done >= slice.steps {
            break;
        }
        if done > 0u && fuel + costliest > slice.fuel {
            break;
        }
        let before = fuel;
        step_once(replica);
        fuel += 1u;
        costliest = max(costliest, fuel - before);
        done += 1u;
    }
    if s_step >= p.rounds && l_len > 0u {
        // The run ended (or stalled for good) with records kept: the shares sent by now.
        h_replica = replica;
        h_blocks = 0u;
        loop {
            fuel += 1u;
            if l_len == 0u {
                break;
            }
            late_resolve_oldest(replica, vec4<u32>(0u));
        }
        philox_blocks += u64(h_blocks);
    }
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
    hist_init(lid);
    fuel = 0u;
    // The dispatch covers replicas [replica_offset, replica_offset + 64 x workgroups).
    if gid.x < p.replicas - p.replica_offset {
        let replica = p.replica_offset + gid.x;
        let base = gid.x * slice.state_words;
        var run = true;
        if slice.first != 0u {
            sim_init(replica);
        } else {
            s_step = state[base + STATE_STEP];
            s_height = state[base + STATE_HEIGHT];
            run = s_step < p.rounds;
            if run {
                sim_load(base);
            }
        }
        if run {
            acc_batch = batch_of(replica, s_step);
            sim_steps(replica);
            sim_store(base);
            acc_flush();
            if s_step < p.rounds {
                atomicAdd(&flags[0], 1u);
            }
            agg_add(AGG_LEN, philox_blocks);
        }
    }
    // A loop of two iterations that the compiler cannot unroll: on a driver with a loop limit
    // (llvmpipe) it stops after one once the limit was reached, i.e. when some loop above was
    // cut short. The dispatch's results are then void, and the host says so.
    var canary = 0u;
    loop {
        canary += 1u;
        if canary >= 2u + (p.nodes >> 31u) {
            break;
        }
    }
    if canary < 2u {
        atomicOr(&flags[1], 1u);
    }
    atomicMax(&flags[2], fuel);
    // Uniform control flow again: every invocation reaches the barriers in hist_flush.
    hist_flush(lid);
}
