// The notary's certification backlog (kernels/src/backlog.rs): the backlog delay, the hard
// limit, and the earliest time a node may sign under both (a sweep over the finalizations and
// certifications in flight, with the tie of a block and a finalization at one µs).

// The notary's backlog delay at certification gap `gap`, µs (backlog::backlog_us).
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
