// Execution and certification (kernels/src/cert.rs): execution times, a node's execution of
// finalized heights in order, and its window of certifications in flight.

// Execution time of `height` in `replica`, µs (0 without an execution table; cert::execution_us).
fn execution_us(replica: u32, height: u32) -> u64 {
    if p.execution == 0u {
        return 0lu;
    }
    let w = philox4x32_10(vec4<u32>(replica, height, 0u, STREAM_EXECUTION), vec2<u32>(p.seed_lo, p.seed_hi));
    return u64(table_sample(p.execution_table, w.x));
}

// Node k holds `height` finalized at fin_us (NEVER: not directly): it executes every height up
// to `height` not executed yet, in order, `height` itself in x_us. Returns when it finished
// executing `height` (when it sends its certification share), or NEVER; the share time of a
// kept late record's height is recorded there (NodeViews::execute).
fn views_execute(replica: u32, k: u32, height: u32, fin_us: u64, x_us: u64) -> u64 {
    if fin_us == NEVER || v_ex_h[k] >= height {
        return NEVER;
    }
    while v_ex_h[k] < height {
        fuel += 1u;
        let j = v_ex_h[k] + 1u;
        var x = x_us;
        if j != height {
            x = execution_us(replica, j);
        }
        v_ex_us[k] = max(v_ex_us[k], fin_us) + x;
        v_ex_h[k] = j;
        late_executed(k, j, v_ex_us[k]);
    }
    return v_ex_us[k];
}

// Node k holds `height` certified at cert_us (NEVER: not in this model): absorbs the
// certifications in flight that arrived by its round start, then keeps this one in flight
// unless a height at least as high arrives no later, dropping the entries it makes useless
// (NodeViews::certified: the window stays a staircase; a late certification may go inside).
fn views_certified(k: u32, height: u32, cert_us: u64) {
    let base = k * CERT_WINDOW;
    let start = v_start[k];
    var skip = 0u;
    let len0 = v_cw_len[k];
    while skip < len0 && v_cw_us[base + skip] <= start {
        fuel += 1u;
        v_cert_h[k] = max(v_cert_h[k], v_cw_h[base + skip]);
        skip += 1u;
    }
    for (var i = skip; i < len0; i++) {
        fuel += 1u;
        v_cw_h[base + i - skip] = v_cw_h[base + i];
        v_cw_us[base + i - skip] = v_cw_us[base + i];
    }
    var len = len0 - skip;
    v_cw_len[k] = len;
    if cert_us == NEVER || height <= v_cert_h[k] {
        return;
    }
    if len == 0u || height > v_cw_h[base + len - 1u] {
        // Above every kept height (the usual case): drop the later ones, append.
        if cert_us <= start {
            v_cert_h[k] = height;
            v_cw_len[k] = 0u;
            return;
        }
        while len > 0u && v_cw_us[base + len - 1u] >= cert_us {
            fuel += 1u;
            len -= 1u;
        }
        if len == CERT_WINDOW {
            len -= 1u; // the latest kept certification is taken to arrive with this one
        }
        v_cw_h[base + len] = height;
        v_cw_us[base + len] = cert_us;
        v_cw_len[k] = len + 1u;
        return;
    }
    for (var i = 0u; i < len; i++) {
        fuel += 1u;
        if v_cw_h[base + i] >= height && v_cw_us[base + i] <= cert_us {
            return;
        }
    }
    // Drop the entries this one makes useless; `pos` = where it goes in time order.
    var kept = 0u;
    var pos = 0u;
    for (var i = 0u; i < len; i++) {
        fuel += 1u;
        let h = v_cw_h[base + i];
        let t = v_cw_us[base + i];
        if h <= height && (t >= cert_us || cert_us <= start) {
            continue;
        }
        v_cw_h[base + kept] = h;
        v_cw_us[base + kept] = t;
        kept += 1u;
        if t < cert_us {
            pos = kept;
        }
    }
    if cert_us <= start {
        v_cert_h[k] = height;
        v_cw_len[k] = kept;
        return;
    }
    if kept == CERT_WINDOW {
        v_cw_len[k] = kept;
        return; // arrives with the next kept entry (a higher height, later)
    }
    for (var i = kept; i > pos; i--) {
        fuel += 1u;
        v_cw_h[base + i] = v_cw_h[base + i - 1u];
        v_cw_us[base + i] = v_cw_us[base + i - 1u];
    }
    v_cw_h[base + pos] = height;
    v_cw_us[base + pos] = cert_us;
    v_cw_len[k] = kept + 1u;
}
