// Test kernels (tests/gpu/main.rs): Philox known answers and table samples computed on the device.
// Composed by the host as: generated constants + philox.wgsl + table.wgsl + arith.wgsl + this file.

@group(0) @binding(0) var<storage, read> input: array<u32>;
@group(0) @binding(1) var<storage, read_write> output: array<u32>;
@group(0) @binding(2) var<storage, read> tables: array<u32>;

// input: (ctr0..3, key0..1) per case; output: four words per case.
@compute @workgroup_size(WORKGROUP_SIZE)
fn philox_kat(@builtin(global_invocation_id) gid: vec3<u32>) {
    let i = gid.x;
    if i >= arrayLength(&input) / 6u {
        return;
    }
    let b = 6u * i;
    let w = philox4x32_10(
        vec4<u32>(input[b], input[b + 1u], input[b + 2u], input[b + 3u]),
        vec2<u32>(input[b + 4u], input[b + 5u]),
    );
    output[4u * i] = w.x;
    output[4u * i + 1u] = w.y;
    output[4u * i + 2u] = w.z;
    output[4u * i + 3u] = w.w;
}

// input: (table offset, word 0, word 1, ...); output: one sample per word, plus
// uniform_below(word, 128) in the second half.
@compute @workgroup_size(WORKGROUP_SIZE)
fn sample_table(@builtin(global_invocation_id) gid: vec3<u32>) {
    let n = arrayLength(&input) - 1u;
    let i = gid.x;
    if i >= n {
        return;
    }
    let word = input[1u + i];
    output[i] = table_sample(input[0], word);
    output[n + i] = uniform_below(word, MAX_NODES);
}

// 64-bit integer operations the model uses, one case per invocation (drivers have been seen to
// get 64-bit arithmetic wrong while 32-bit is right). input: (a_lo, a_hi, b_lo, b_hi, s) per
// case, s in 0..63; output: U64_OPS results per case, each as (lo, hi). The CPU twin is in
// tests/gpu/main.rs.
const U64_OPS: u32 = 19u;
var<private> probe_arr: array<u64, 8>;

fn probe_put(i: u32, k: u32, v: u64) {
    output[2u * (U64_OPS * i + k)] = u32(v);
    output[2u * (U64_OPS * i + k) + 1u] = u32(v >> 32u);
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn u64_ops(@builtin(global_invocation_id) gid: vec3<u32>) {
    let i = gid.x;
    if i >= arrayLength(&input) / 5u {
        return;
    }
    let a = (u64(input[5u * i + 1u]) << 32u) | u64(input[5u * i]);
    let b = (u64(input[5u * i + 3u]) << 32u) | u64(input[5u * i + 2u]);
    let s = input[5u * i + 4u] & 63u;
    probe_put(i, 0u, min(a, b));
    probe_put(i, 1u, max(a, b));
    probe_put(i, 2u, a >> s);
    probe_put(i, 3u, a << s);
    probe_put(i, 4u, u64(u32(a >> 32u)));
    probe_put(i, 5u, a + b);
    probe_put(i, 6u, a - b);
    probe_put(i, 7u, a * b);
    probe_put(i, 8u, a / (b | 1lu));
    probe_put(i, 9u, a % (b | 1lu));
    probe_put(i, 10u, select(b, a, a < b));
    probe_arr[s & 7u] = a;
    probe_arr[(s + 1u) & 7u] = b;
    probe_put(i, 11u, probe_arr[s & 7u] ^ (probe_arr[(s + 1u) & 7u] >> 1u));
    probe_put(i, 12u, (u64(u32(a)) * u64(u32(b))) >> 32u);
    probe_put(i, 13u, sat_add(a, b));
    probe_put(i, 14u, u64(a < b) + 2lu * u64(a == b) + 4lu * u64(a <= b));
    probe_put(i, 15u, sat_sub(a, b));
    // The 32-bit saturating idioms the model writes plainly (model.wgsl notary_eligible).
    let a32 = u32(a);
    let b32 = u32(b);
    probe_put(i, 16u, u64(a32 - min(b32, a32)));
    probe_put(i, 17u, u64(select(0u, a32 - b32, a32 > b32)));
    let s32 = a32 + b32;
    probe_put(i, 18u, u64(select(s32, 0xFFFFFFFFu, s32 < a32)));
}
