// Benchmark baseline: each invocation (one replica) only draws `blocks` Philox blocks, as many
// as the model kernel draws per replica on average (counted as the CPU bench counts them:
// messages, observer, committee and ranking shuffles), and folds them so nothing is
// optimised away. Composed by the host as: generated constants + philox.wgsl + this file.

struct BenchParams {
    replicas: u32,
    replica_offset: u32,
    blocks: u32,
    seed_lo: u32,
    seed_hi: u32,
    reserved0: u32,
    reserved1: u32,
    reserved2: u32,
}

@group(0) @binding(0) var<uniform> bp: BenchParams;
@group(0) @binding(1) var<storage, read_write> sink: array<atomic<u32>>;

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
    if gid.x >= bp.replicas - bp.replica_offset {
        return;
    }
    let replica = bp.replica_offset + gid.x;
    let key = vec2<u32>(bp.seed_lo, bp.seed_hi);
    var x = 0u;
    for (var b = 0u; b < bp.blocks; b++) {
        let w = philox4x32_10(vec4<u32>(replica, 0u, b, STREAM_MESSAGE), key);
        x ^= w.x ^ w.y ^ w.z ^ w.w;
    }
    // Almost never true, but the compiler cannot know: keeps every block alive.
    if x == 0x9E3779B9u {
        atomicAdd(&sink[0], 1u);
    }
}
