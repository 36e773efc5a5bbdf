// The coarse ICC model in WGSL, part 3 of 4: deciding a height's proposals and notarization
// shares in time order, then its finalization, each node's next round start and the
// observer's outcome; the certification of the height (certified_us, twin of
// kernels/src/cert.rs). Twin of kernels/src/resolve.rs.

// Candidate blocks of ranks 0..makers in rank order (Height::propose); ranking_at(r) is the
// rank-r maker, `equivocating` the equivocating nodes, `extra_us` the dynamic block-maker
// delay of ranks > 0.
fn propose(equivocating: vec4<u32>, extra_us: u64) {
    let honest_active = h_active & ~equivocating;
    // q-th smallest round start among the signers: no rank-r share exists before it + N0 + rU.
    os_new(count(h_signers), p.quorum);
    for (var j = 0u; j < p.nodes; j++) {
        fuel += 1u;
        if contains(h_signers, j) {
            os_push(v_start[j]);
        }
    }
    let tq = os_get();
    let u = u64(p.unit_delay_us);
    let n0 = u64(p.initial_notary_delay_us);
    var undecided = false;
    for (var r = 0u; r < p.makers; r++) {
        fuel += 1u;
        let m = ranking_at(r);
        if !contains(h_active, m) {
            continue;
        }
        let propose_us = v_start[m] + u64(r) * u + select(0lu, extra_us, r > 0u);
        // Every candidate so far has a lower rank; a proof unit's blocks never count.
        var seen = NEVER;
        for (var x = 0u; x < ncand; x++) {
            fuel += 1u;
            if cands[x].status == ST_YES && cands[x].unit == NO_UNIT {
                seen = min(seen, arrival_us(x, m));
            }
        }
        if seen < propose_us {
            continue;
        }
        let variants = select(1u, 2u, contains(equivocating, m));
        if ncand + variants > MAX_BLOCKS {
            break;
        }
        // Earliest possible notarization of any other block (candidate or later rank).
        var bound = sat_add(tq, n0 + u64(r + 1u) * u);
        for (var x = 0u; x < ncand; x++) {
            fuel += 1u;
            if cands[x].status != ST_NO {
                bound = min(bound, max(cands[x].propose_us, sat_add(tq, n0 + u64(cands[x].rank) * u)));
            }
        }
        let decided = !undecided && propose_us < bound;
        for (var v = 0u; v < variants; v++) {
            fuel += 1u;
            cands[ncand] = Candidate(m, r, v, propose_us, select(ST_UNKNOWN, ST_YES, decided), vec4<u32>(0u), h_signers, NO_UNIT);
            ncand += 1u;
        }
        if variants == 2u && p.equivocation_proofs != 0u {
            build_proof_unit(ncand - 2u, honest_active);
        }
        undecided = undecided || !decided;
    }
}

fn any_unknown() -> bool {
    for (var c = 0u; c < ncand; c++) {
        fuel += 1u;
        if cands[c].status == ST_UNKNOWN || !is_empty(cands[c].unknown) {
            return true;
        }
    }
    return false;
}

// Decides every proposal and share in time order (Height::resolve), then finalizes
// (Height::finalize): leaves h_notar / h_first and h_fin. Each round evaluates the world
// with every undecided action (optimistic: an action not suppressed there happens), then the
// world with only decided ones (an action suppressed there is suppressed), then decides the
// earliest undecided action. Every evaluation, the finalization included, is one call of
// `evaluate` (code size).
fn resolve() {
    var mode = EVAL_OPTIMISTIC;
    loop {
        fuel += 1u;
        evaluate(mode);
        if mode == EVAL_FINALIZE {
            return;
        }
        let optimistic = mode == EVAL_OPTIMISTIC;
        for (var c = 0u; c < ncand; c++) {
            fuel += 1u;
            let maker = cands[c].maker;
            let propose_us = cands[c].propose_us;
            if cands[c].status == ST_UNKNOWN {
                let lower = lower_arrival_us(c, maker, optimistic);
                if optimistic {
                    if lower >= propose_us && h_notar[maker] >= propose_us {
                        cands[c].status = ST_YES;
                    }
                } else if lower < propose_us || h_notar[maker] < propose_us {
                    cands[c].status = ST_NO;
                }
            }
            if cands[c].status == ST_NO && !optimistic {
                cands[c].unknown = vec4<u32>(0u);
                continue;
            }
            if cands[c].status != ST_YES {
                continue;
            }
            let unknown = cands[c].unknown;
            fill_sigma(c, unknown);
            for (var j = 0u; j < p.nodes; j++) {
                fuel += 1u;
                if !contains(unknown, j) {
                    continue;
                }
                // Held: no notarization strictly before the share; then no lower block either.
                let s = h_sigma[j];
                var free = h_notar[j] >= s;
                if free {
                    free = lower_arrival_us(c, j, optimistic) >= s;
                }
                if free {
                    free = !proof_rules_out(c, j, s);
                }
                if optimistic && free {
                    cands[c].unknown = with_node(cands[c].unknown, j, false);
                    cands[c].yes = with_node(cands[c].yes, j, true);
                }
                if !optimistic && !free {
                    cands[c].unknown = with_node(cands[c].unknown, j, false);
                }
            }
        }
        if !any_unknown() {
            mode = EVAL_FINALIZE; // every action decided, h_notar is the real world's
            continue;
        }
        if optimistic {
            mode = EVAL_DECIDED;
            continue;
        }
        decide_earliest();
        mode = EVAL_OPTIMISTIC;
    }
}

// Marks the earliest undecided action as happening (proposals before shares at equal times,
// then candidate order, then node id).
fn decide_earliest() {
    var best = NEVER;
    var best_c = 0u;
    var best_j = NO_SHARE;
    for (var c = 0u; c < ncand; c++) {
        fuel += 1u;
        if cands[c].status == ST_UNKNOWN && cands[c].propose_us < best {
            best = cands[c].propose_us;
            best_c = c;
            best_j = NO_SHARE;
        }
    }
    for (var c = 0u; c < ncand; c++) {
        fuel += 1u;
        if cands[c].status != ST_YES {
            continue;
        }
        let unknown = cands[c].unknown;
        fill_sigma(c, unknown);
        for (var j = 0u; j < p.nodes; j++) {
            fuel += 1u;
            if contains(unknown, j) && h_sigma[j] < best {
                best = h_sigma[j];
                best_c = c;
                best_j = j;
            }
        }
    }
    if best_j == NO_SHARE {
        cands[best_c].status = ST_YES;
        // A proof unit happens as a whole (its proof times assume both blocks).
        let unit = cands[best_c].unit;
        if unit != NO_UNIT {
            for (var c = 0u; c < ncand; c++) {
                fuel += 1u;
                if cands[c].unit == unit {
                    cands[c].status = ST_YES;
                }
            }
        }
    } else {
        cands[best_c].unknown = with_node(cands[best_c].unknown, best_j, false);
        cands[best_c].yes = with_node(cands[best_c].yes, best_j, true);
    }
}

// "No share" in decide_earliest.
const NO_SHARE: u32 = 0xFFFFFFFFu;

// Node k's next round start, µs (Height::next_start_us): when it holds its notarization
// (plus the round overhead) and the beacon (the f + 1-th beacon share to arrive, sent by the
// signers at their round starts, its own at delay 0). Arrivals are counted by group until
// f + 1 are in by the notarization; only otherwise is the exact beacon time needed: the
// arrivals, kept in h_sigma (free after the height's notarizations), then go through the
// order statistic in one loop.
fn next_start_us(k: u32) -> u64 {
    let goal = h_notar[k] + u64(p.round_overhead_us);
    let need = p.makers;
    var arrived = 0u;
    for (var g = 0u; g < groups(); g++) {
        fuel += 1u;
        let bits = group_bits(h_signers, g);
        if bits == 0u {
            continue;
        }
        let w = words(KIND_BEACON, 0u, k, g);
        for (var x = 0u; x < 4u; x++) {
            let j = 4u * g + x;
            if ((bits >> x) & 1u) == 1u {
                var d = 0lu;
                if j != k {
                    d = delay_us(w[x], j, k);
                }
                h_sigma[j] = v_start[j] + d;
                if h_sigma[j] <= goal {
                    arrived += 1u;
                }
            }
        }
        if arrived >= need {
            return goal;
        }
    }
    // The beacon comes after the notarization: its exact time. The kernel draws the words of
    // every group again; so does the count here, the values are the same.
    h_blocks += (p.nodes + 3u) / 4u - count_empty_groups(h_signers);
    os_new(count(h_signers), need);
    for (var j = 0u; j < p.nodes; j++) {
        fuel += 1u;
        if contains(h_signers, j) {
            os_push(h_sigma[j]);
        }
    }
    return max(goal, os_get());
}

// When node k holds the height of step h_step certified, µs (Height::certified_us): max(its own
// share time, the cert_quorum-th arrival of the shares sent at h_tmp[j] (late: at the oldest
// late record's l_share[j]) by the nodes `certifiers`, its own at delay 0), or NEVER with fewer
// certifiers than the quorum. k is one of `certifiers`.
fn certified_us(certifiers: vec4<u32>, k: u32, late: bool) -> u64 {
    let m = count(certifiers);
    if m < p.cert_quorum {
        return NEVER;
    }
    os_new(m, p.cert_quorum);
    for (var g = 0u; g < groups(); g++) {
        fuel += 1u;
        let bits = group_bits(certifiers, g);
        if bits == 0u {
            continue;
        }
        // The receiver's own share takes no delay: no words for a group of itself alone.
        var w = vec4<u32>(0u);
        if bits != (1u << (k & 3u)) || (k >> 2u) != g {
            w = words(KIND_CERT_SHARE, 0u, k, g);
        }
        // Counted as iterations: the driver may keep it a loop (the budget stays an upper bound).
        for (var x = 0u; x < 4u; x++) {
            fuel += 1u;
            let j = 4u * g + x;
            if ((bits >> x) & 1u) == 1u {
                var d = 0lu;
                if j != k {
                    d = delay_us(w[x], j, k);
                }
                os_push(select(h_tmp[j], l_share[j], late) + d);
            }
        }
    }
    return max(os_get(), select(h_tmp[k], l_share[k], late));
}

// Groups of four ids (0..p.nodes) with no member of s.
fn count_empty_groups(s: vec4<u32>) -> u32 {
    var empty = 0u;
    for (var g = 0u; g < groups(); g++) {
        fuel += 1u;
        empty += select(0u, 1u, group_bits(s, g) == 0u);
    }
    return empty;
}

// The observer's outcome (Height::outcome).
struct Outcome {
    rank: u32,
    // Observer's notarization - its round start (+ round overhead), µs.
    round_us: u64,
    finalized: bool,
    // Observer's finalization - its round start (+ both overheads), µs.
    finalization_us: u64,
}

fn outcome(o: u32) -> Outcome {
    let t0 = v_start[o];
    let round_us = sat_sub(h_notar[o], t0) + u64(p.round_overhead_us);
    var out = Outcome(cands[h_first[o]].rank, round_us, false, 0lu);
    if h_fin[o] != NEVER {
        out.finalized = true;
        out.finalization_us = sat_sub(h_fin[o], t0) + u64(p.round_overhead_us) + u64(p.finalization_overhead_us);
    }
    return out;
}
