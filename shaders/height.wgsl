// The coarse ICC model in WGSL, part 2 of 4: one height's candidates and messages. Twin of
// kernels/src/height.rs (Height<B>): message word addresses, block arrivals, notarization
// share times (sigma), quorum arrivals, relays and the evaluation of notarization times.
//
// Node loops run over groups of four ids (one Philox block of senders) with an inner loop of
// constant trip count 4, which the compilers unroll: a software adapter counts one loop
// iteration per group, not per node. Every function is inlined at each call site, so heavy
// ones have few call sites (one `evaluate` in `resolve`) and cold inner loops stay loops.

// A candidate block (height::Candidate).
struct Candidate {
    maker: u32,
    rank: u32,
    // 0, or 1 for an equivocating maker's second block.
    variant: u32,
    // Proposal time, µs.
    propose_us: u64,
    // ST_UNKNOWN, ST_YES or ST_NO.
    status: u32,
    // Signers whose notarization share on it happens.
    yes: vec4<u32>,
    // Signers whose share is not decided yet.
    unknown: vec4<u32>,
    // Its equivocation-proof unit (proofs.wgsl), or NO_UNIT.
    unit: u32,
}

const ST_UNKNOWN: u32 = 0u;
const ST_YES: u32 = 1u;
const ST_NO: u32 = 2u;

var<private> cands: array<Candidate, MAX_BLOCKS>;
var<private> ncand: u32;
// Per node (µs, NEVER: none): first notarization of the height, the candidate it first saw
// notarized, direct finalization, scratch of quorum arrivals and relays, share times.
var<private> h_notar: array<u64, NODE_CAP>;
var<private> h_first: array<u32, NODE_CAP>;
var<private> h_fin: array<u64, NODE_CAP>;
// How each node's finalization completed (Height::fin_tie; views::tie).
var<private> h_fin_tie: array<u32, NODE_CAP>;
var<private> h_tmp: array<u64, NODE_CAP>;
var<private> h_sigma: array<u64, NODE_CAP>;
// The height's context: counter words, height, active nodes and signers.
var<private> h_replica: u32;
var<private> h_step: u32;
var<private> h_height: u32;
var<private> h_active: vec4<u32>;
var<private> h_signers: vec4<u32>;
// Philox blocks of this height's messages (benchmark bookkeeping, Height::blocks).
var<private> h_blocks: u32;

// A height with no candidates: Height::new.
fn height_new(replica: u32, step: u32, height: u32, act: vec4<u32>, signers: vec4<u32>) {
    h_replica = replica;
    h_step = step;
    h_height = height;
    h_active = act;
    h_signers = signers;
    h_blocks = 0u;
    ncand = 0u;
    h_units = 0u;
    cands[0] = Candidate(0u, 0u, 0u, 0lu, ST_NO, vec4<u32>(0u), vec4<u32>(0u), NO_UNIT);
    for (var k = 0u; k < p.nodes; k++) {
        fuel += 1u;
        h_notar[k] = NEVER;
        h_first[k] = 0u;
        h_fin[k] = NEVER;
        h_fin_tie[k] = TIE_ONE;
        h_tmp[k] = NEVER;
        h_sigma[k] = NEVER;
    }
}

// Philox words 4 group .. 4 group + 4 of message kind `kind`, block b, receiver.
fn message_words(kind: u32, b: u32, receiver: u32, group: u32) -> vec4<u32> {
    let index = ((kind * 128u + b) * MAX_NODES + receiver) * 32u + group;
    return philox4x32_10(vec4<u32>(h_replica, h_step, index, STREAM_MESSAGE), vec2<u32>(p.seed_lo, p.seed_hi));
}

// message_words, counted in h_blocks (Height::words).
fn words(kind: u32, b: u32, receiver: u32, group: u32) -> vec4<u32> {
    h_blocks += 1u;
    return message_words(kind, b, receiver, group);
}

// Index of a candidate's words (2 rank + variant).
fn word_block(c: u32) -> u32 {
    return 2u * cands[c].rank + cands[c].variant;
}

// When candidate c's block reaches node j, µs (its maker holds it at once).
fn arrival_us(c: u32, j: u32) -> u64 {
    if j == cands[c].maker {
        return cands[c].propose_us;
    }
    let w = words(KIND_BLOCK, word_block(c), 0u, j >> 2u);
    return cands[c].propose_us + delay_us(w[j & 3u], cands[c].maker, j);
}

fn happens(s: u32, with_unknown: bool) -> bool {
    return s == ST_YES || (with_unknown && s == ST_UNKNOWN);
}

// Earliest arrival at node j of a block of rank below candidate c's that counts as a better
// proposal (not a proof unit's), among the candidates that happen (with_unknown: or may
// happen), µs.
fn lower_arrival_us(c: u32, j: u32, with_unknown: bool) -> u64 {
    var t = NEVER;
    for (var x = 0u; x < ncand; x++) {
        fuel += 1u;
        if cands[x].rank < cands[c].rank && cands[x].unit == NO_UNIT && happens(cands[x].status, with_unknown) {
            t = min(t, arrival_us(x, j));
        }
    }
    return t;
}

// h_sigma[j] for the signers j in `who`: max(arrival of candidate c, eligibility).
fn fill_sigma(c: u32, who: vec4<u32>) {
    let maker = cands[c].maker;
    let rank = cands[c].rank;
    let propose = cands[c].propose_us;
    let b = word_block(c);
    for (var g = 0u; g < groups(); g++) {
        fuel += 1u;
        let bits = group_bits(who, g);
        if bits == 0u {
            continue;
        }
        let w = words(KIND_BLOCK, b, 0u, g);
        // Not unrolled: eligible_us is heavy and fill_sigma has several call sites.
        for (var x = 0u; x < four(); x++) {
            fuel += 1u;
            let j = 4u * g + x;
            if ((bits >> x) & 1u) == 1u {
                var d = 0lu;
                if j != maker {
                    d = delay_us(w[x], maker, j);
                }
                h_sigma[j] = eligible_us(j, rank, h_height, propose + d, b);
            }
        }
    }
}

// h_tmp[k] for every active k: the quorum-th smallest arrival at k of the shares sent by
// `senders` at h_notar[j] (use_notar) or h_sigma[j] (its own at delay 0), or NEVER with
// fewer senders than a quorum.
fn quorum_arrivals(kind: u32, b: u32, senders: vec4<u32>, use_notar: bool) {
    let n = count(senders);
    for (var gk = 0u; gk < groups(); gk++) {
        fuel += 1u;
        let kbits = group_bits(h_active, gk);
        for (var xk = 0u; xk < 4u; xk++) {
            if ((kbits >> xk) & 1u) == 0u {
                continue;
            }
            let k = 4u * gk + xk;
            if n < p.quorum {
                h_tmp[k] = NEVER;
                continue;
            }
            os_new(n, p.quorum);
            for (var g = 0u; g < groups(); g++) {
                fuel += 1u;
                let bits = group_bits(senders, g);
                if bits == 0u {
                    continue;
                }
                let w = words(kind, b, k, g);
                for (var x = 0u; x < 4u; x++) {
                    let j = 4u * g + x;
                    if ((bits >> x) & 1u) == 1u {
                        let send = select(h_sigma[j], h_notar[j], use_notar);
                        var d = 0lu;
                        if j != k {
                            d = delay_us(w[x], j, k);
                        }
                        os_push(send + d);
                    }
                }
            }
            h_tmp[k] = os_get();
        }
    }
}

// h_fin_tie[k] for each active node k whose quorum of finalization shares (at h_tmp[k]) could
// make it wait if a block arrived at that µs: with the backlog on, when the finalized height
// would lead the height it holds certified before that µs by more than 1 (Height::count_ties).
fn count_ties(b: u32, senders: vec4<u32>) {
    if p.certification_backlog == 0u {
        return;
    }
    for (var k = 0u; k < p.nodes; k++) {
        fuel += 1u;
        let t = h_tmp[k];
        if !contains(h_active, k) || t == NEVER || certified_before(k, t) + 1u >= h_height {
            continue;
        }
        var below = 0u;
        var at = 0u;
        for (var g = 0u; g < groups(); g++) {
            fuel += 1u;
            let bits = group_bits(senders, g);
            if bits == 0u {
                continue;
            }
            let w = words(KIND_FIN_SHARE, b, k, g);
            for (var x = 0u; x < four(); x++) {
                let j = 4u * g + x;
                if ((bits >> x) & 1u) == 1u {
                    var d = 0lu;
                    if j != k {
                        d = delay_us(w[x], j, k);
                    }
                    let a = h_notar[j] + d;
                    below += select(0u, 1u, a < t);
                    at += select(0u, 1u, a == t);
                }
            }
        }
        h_fin_tie[k] = (p.quorum - below) | (at << 8u);
    }
}

// Relays: h_tmp becomes the earliest time each active node holds the aggregate, every active
// node forwarding it when it first holds it (sweeps in id order until nothing improves; a
// sweep offers each receiver the senders improved in the previous sweep, the first all; a
// sender's words are drawn only when it held the aggregate before the receiver).
fn relay(kind: u32, b: u32) {
    var offer = h_active;
    while !is_empty(offer) {
        fuel += 1u;
        var improved = vec4<u32>(0u);
        for (var gk = 0u; gk < groups(); gk++) {
            fuel += 1u;
            let kbits = group_bits(h_active, gk);
            for (var xk = 0u; xk < 4u; xk++) {
                if ((kbits >> xk) & 1u) == 0u {
                    continue;
                }
                let k = 4u * gk + xk;
                let tk0 = h_tmp[k];
                for (var g = 0u; g < groups(); g++) {
                    fuel += 1u;
                    let bits = group_bits(offer, g);
                    var useful = 0u;
                    for (var x = 0u; x < 4u; x++) {
                        let m = 4u * g + x;
                        if ((bits >> x) & 1u) == 1u && m != k && h_tmp[m] < tk0 {
                            useful |= 1u << x;
                        }
                    }
                    if useful == 0u {
                        continue;
                    }
                    let w = words(kind, b, k, g);
                    for (var x = 0u; x < 4u; x++) {
                        if ((useful >> x) & 1u) == 1u {
                            let t = sat_add(h_tmp[4u * g + x], delay_us(w[x], 4u * g + x, k));
                            if t < h_tmp[k] {
                                h_tmp[k] = t;
                                // A relayed finalization is one delivery (unused for notarizations).
                                h_fin_tie[k] = TIE_ONE;
                                improved = with_node(improved, k, true);
                            }
                        }
                    }
                }
            }
        }
        offer = improved;
    }
}

// What `evaluate` computes: notarization times in the world of the actions that happen or
// are undecided (resolve's optimistic world), of those that happen (its decided world), or
// the finalization times once every action is decided.
const EVAL_OPTIMISTIC: u32 = 0u;
const EVAL_DECIDED: u32 = 1u;
const EVAL_FINALIZE: u32 = 2u;

// Signers that send a finalization share on candidate c (Height::finalize): c is the first
// block they hold notarized (they send at h_notar) and they notarization-signed no other.
fn fin_senders(c: u32) -> vec4<u32> {
    var senders = vec4<u32>(0u);
    for (var j = 0u; j < p.nodes; j++) {
        fuel += 1u;
        if !contains(h_signers, j) || h_notar[j] == NEVER || h_first[j] != c {
            continue;
        }
        var other = false;
        for (var x = 0u; x < ncand; x++) {
            fuel += 1u;
            other = other || (x != c && contains(cands[x].yes, j));
        }
        if !other {
            senders = with_node(senders, j, true);
        }
    }
    return senders;
}

// EVAL_OPTIMISTIC / EVAL_DECIDED: h_notar / h_first in that world (Height::evaluate).
// EVAL_FINALIZE: h_fin[k], the first finalization of a block of this height at active node k
// (a quorum of finalization shares, its own at delay 0, or a relayed finalization;
// Height::finalize). One function for both, as its quorum arrivals and relays are the
// heaviest code of the kernel and every call site is a copy.
fn evaluate(mode: u32) {
    let fin = mode == EVAL_FINALIZE;
    for (var k = 0u; k < p.nodes; k++) {
        fuel += 1u;
        if contains(h_active, k) {
            if fin {
                h_fin[k] = NEVER;
                h_fin_tie[k] = TIE_ONE;
            } else {
                h_notar[k] = NEVER;
            }
        }
    }
    for (var c = 0u; c < ncand; c++) {
        fuel += 1u;
        var senders = cands[c].yes;
        if fin {
            if cands[c].status != ST_YES {
                continue;
            }
            senders = fin_senders(c);
        } else {
            if !happens(cands[c].status, mode == EVAL_OPTIMISTIC) {
                continue;
            }
            if mode == EVAL_OPTIMISTIC {
                senders |= cands[c].unknown;
            }
        }
        if count(senders) < p.quorum {
            continue;
        }
        if !fin {
            fill_sigma(c, senders);
        }
        quorum_arrivals(select(KIND_NOTAR_SHARE, KIND_FIN_SHARE, fin), word_block(c), senders, fin);
        if fin {
            count_ties(word_block(c), senders);
        }
        relay(select(KIND_NOTAR_RELAY, KIND_FIN_RELAY, fin), word_block(c));
        for (var k = 0u; k < p.nodes; k++) {
            fuel += 1u;
            if !contains(h_active, k) {
                continue;
            }
            if fin {
                h_fin[k] = min(h_fin[k], h_tmp[k]);
            } else if h_tmp[k] < h_notar[k] {
                h_notar[k] = h_tmp[k];
                h_first[k] = c;
            }
        }
    }
}
