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

// ---------------------------------------------------------------- the notary's backlog rule

// The notary's backlog delay at certification gap `gap`, µs (cert::backlog_us).
fn backlog_us(gap: u32) -> u64 {
    if gap > ACCEPTABLE_FINALIZATION_CERTIFICATION_GAP {
        return BACKLOG_DELAY_US * u64(gap);
    }
    return 0lu;
}

// Node k's finalized height once every finalization in flight has arrived.
fn final_fin_height(k: u32) -> u32 {
    var f = v_fin_height[k];
    if v_pend0_us[k] != NEVER {
        f = max(f, v_pend0_h[k]);
    }
    if v_pend1_us[k] != NEVER {
        f = max(f, v_pend1_h[k]);
    }
    return f;
}

// True when neither the backlog delay nor the hard limit can apply to node k in round
// `height` (NodeViews::backlog_free).
fn backlog_free(k: u32, height: u32) -> bool {
    let c = v_cert_h[k];
    return sat_sub32(final_fin_height(k), c) <= ACCEPTABLE_FINALIZATION_CERTIFICATION_GAP
        && sat_sub32(height - 1u, c) < ACCEPTABLE_NOTARIZATION_CERTIFICATION_GAP;
}

// Earliest time from `arrival_us` on (the block's arrival) at which node k may sign a rank-`rank`
// block at `height` with the backlog rules, µs (NEVER: the hard limit holds for good;
// NodeViews::eligible_with_backlog_us): a sweep over the arrivals that change its finalized
// height f or certified height c, in time order. A finalization at the block's own µs after
// which the rule fails comes after the block by block_first; a certification there cannot
// make the node wait.
fn eligible_with_backlog_us(k: u32, rank: u32, height: u32, arrival_us: u64, block: u32) -> u64 {
    let t0 = v_start[k];
    let last = height - 1u;
    let base = k * CERT_WINDOW;
    var f = v_fin_height[k];
    var c = v_cert_h[k];
    var a = t0;
    var next_pend = 0u; // 0: pend0, 1: pend1, 2: none left
    var next_cert = 0u;
    var result = NEVER;
    loop {
        fuel += 1u;
        var tp = NEVER;
        if next_pend == 0u {
            tp = v_pend0_us[k];
        } else if next_pend == 1u {
            tp = v_pend1_us[k];
        }
        var tc = NEVER;
        if next_cert < v_cw_len[k] {
            tc = v_cw_us[base + next_cert];
        }
        let b = min(tp, tc);
        if sat_sub32(last, c) < ACCEPTABLE_NOTARIZATION_CERTIFICATION_GAP {
            let need = t0 + notary_delay_us(rank, last - min(f, last)) + backlog_us(sat_sub32(f, c));
            let e = max(max(a, need), arrival_us);
            if e < b || (e == b && e == arrival_us && a < b && (tp != b || block_first(k, next_pend, block))) {
                result = e;
                break;
            }
        }
        if b == NEVER {
            break;
        }
        a = max(a, b);
        if tp <= tc {
            f = max(f, select(v_pend1_h[k], v_pend0_h[k], next_pend == 0u));
            next_pend += 1u;
        } else {
            c = max(c, v_cw_h[base + next_cert]);
            next_cert += 1u;
        }
    }
    return result;
}

// Whether a block reaching the node at a finalization's µs comes first: its position among
// the m + 1 simultaneous deliveries is uniform, so it precedes the need-th share with
// probability need / (m + 1) (views::tie::block_first).
fn tie_block_first(tie: u32, word: u32) -> bool {
    let need = u64(tie & 0xffu);
    let m = u64((tie >> 8u) & 0xffu);
    return ((u64(word) * (m + 1lu)) >> 32u) < need;
}

// Whether block `block` of this height's step, reaching node k at the µs of its finalization
// in flight `slot`, is delivered before it (NodeViews::block_first: word 0 of kind TIE).
fn block_first(k: u32, slot: u32, block: u32) -> bool {
    let t = select(v_pend1_tie[k], v_pend0_tie[k], slot == 0u);
    return tie_block_first(t, message_words(KIND_TIE, block, k, 0u).x);
}

// Highest height node k holds certified strictly before t µs, certifications in flight
// included (NodeViews::certified_before).
fn certified_before(k: u32, t: u64) -> u32 {
    var c = v_cert_h[k];
    for (var i = 0u; i < v_cw_len[k]; i++) {
        fuel += 1u;
        if v_cw_us[k * CERT_WINDOW + i] < t {
            c = max(c, v_cw_h[k * CERT_WINDOW + i]);
        }
    }
    return c;
}
