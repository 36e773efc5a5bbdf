// Committee and ranking shuffles of a height in WGSL: twin of kernels/src/shuffle.rs.

// Partial Fisher-Yates shuffle of 0..n reading one word per position (shuffle::Shuffle): the
// committee's, then the ranking's (the first `makers` positions) of the current height.
var<private> perm: array<u32, NODE_CAP>;

fn shuffle(replica: u32, height: u32, stream: u32, positions: u32) {
    for (var i = 0u; i < p.nodes; i++) {
        fuel += 1u;
        perm[i] = i;
    }
    let key = vec2<u32>(p.seed_lo, p.seed_hi);
    var w = vec4<u32>(0u);
    for (var d = 0u; d < positions; d++) {
        fuel += 1u;
        if d % 4u == 0u {
            w = philox4x32_10(vec4<u32>(replica, height, d / 4u, stream), key);
        }
        let j = d + uniform_below(w[d % 4u], p.nodes - d);
        let x = perm[d];
        perm[d] = perm[j];
        perm[j] = x;
    }
}

// Committee of `height`: all nodes except the first n - c of a uniform shuffle.
fn committee(all: vec4<u32>, replica: u32, height: u32) -> vec4<u32> {
    var c = all;
    if p.nodes > p.committee {
        shuffle(replica, height, STREAM_COMMITTEE, p.nodes - p.committee);
        for (var pos = 0u; pos < p.nodes - p.committee; pos++) {
            fuel += 1u;
            c = with_node(c, perm[pos], false);
        }
    }
    return c;
}

// The rank-r maker of the height whose ranking `shuffle` drew last.
fn ranking_at(r: u32) -> u32 {
    return perm[r];
}
