// The coarse ICC model in WGSL: equivocation proofs (rule 6 of the model). Twin of
// kernels/src/proofs.rs: when each honest node holds the proof against an equivocating
// maker (a proof unit: its two candidate blocks), and which shares that rules out.

// A candidate without a proof unit; "never holds the proof".
const NO_UNIT: u32 = 0xFFFFFFFFu;
const NO_PROOF: u32 = 0xFFFFFFFFu;

// Proof units so far, and per unit u and node k at u * NODE_CAP + k: when k holds the proof,
// µs after the unit's proposal time (saturated at NO_PROOF - 1), or NO_PROOF. Only the
// first h_units rows are read.
var<private> h_units: u32;
var<private> proof_offset: array<u32, PROOF_CAP>;
// Per unit: the honest nodes that receive variant 1 before variant 0 (ties: the node's coin).
var<private> proof_first1: array<vec4<u32>, MAX_UNITS>;

// Makes candidates c0, c0 + 1 (an equivocator's pair) a proof unit (Height::build_proof_unit):
// an honest active node builds the proof when it holds both blocks and relays it at once to
// the other honest active nodes; h_tmp holds the shortest paths while it runs.
fn build_proof_unit(c0: u32, honest_active: vec4<u32>) {
    let u = h_units;
    h_units += 1u;
    cands[c0].unit = u;
    cands[c0 + 1u].unit = u;
    let rank = cands[c0].rank;
    let propose = cands[c0].propose_us;
    let maker = cands[c0].maker;
    for (var k = 0u; k < p.nodes; k++) {
        fuel += 1u;
        h_tmp[k] = NEVER;
    }
    var first1 = vec4<u32>(0u);
    for (var g = 0u; g < groups(); g++) {
        fuel += 1u;
        let bits = group_bits(honest_active, g);
        if bits == 0u {
            continue;
        }
        let w0 = words(KIND_BLOCK, 2u * rank, 0u, g);
        let w1 = words(KIND_BLOCK, 2u * rank + 1u, 0u, g);
        for (var x = 0u; x < 4u; x++) {
            if ((bits >> x) & 1u) == 1u {
                let a0 = delay_us(w0[x], maker, 4u * g + x);
                let a1 = delay_us(w1[x], maker, 4u * g + x);
                h_tmp[4u * g + x] = propose + max(a0, a1);
                var v1_first = a1 < a0;
                if a1 == a0 {
                    // Tie: node's fair coin (the kernel's tie_variant1_first).
                    v1_first = (words(KIND_EQUIV_PROOF, 2u * rank + 1u, 4u * g + x, 0u).x & 1u) == 1u;
                }
                first1 = with_node(first1, 4u * g + x, v1_first);
            }
        }
    }
    proof_first1[u] = first1;
    let act = h_active;
    h_active = honest_active;
    relay(KIND_EQUIV_PROOF, 2u * rank);
    h_active = act;
    for (var k = 0u; k < p.nodes; k++) {
        fuel += 1u;
        let t = h_tmp[k];
        var o = NO_PROOF;
        if contains(honest_active, k) && t != NEVER {
            o = u32(min(t - propose, u64(NO_PROOF - 1u)));
        }
        proof_offset[u * NODE_CAP + k] = o;
    }
}

// When node j holds the proof against candidate c's maker, µs (NEVER: none).
fn disq_us(c: u32, j: u32) -> u64 {
    let u = cands[c].unit;
    if u == NO_UNIT {
        return NEVER;
    }
    let o = proof_offset[u * NODE_CAP + j];
    if o == NO_PROOF {
        return NEVER;
    }
    return cands[c].propose_us + u64(o);
}

// Node j's share on candidate c at s is ruled out by a proof (Height::proof_rules_out): c is
// the second of its pair to reach j (at equal times the node's coin), or j held the proof strictly
// before s.
fn proof_rules_out(c: u32, j: u32, s: u64) -> bool {
    if cands[c].unit == NO_UNIT {
        return false;
    }
    if disq_us(c, j) < s {
        return true;
    }
    return contains(proof_first1[cands[c].unit], j) == (cands[c].variant == 0u);
}
