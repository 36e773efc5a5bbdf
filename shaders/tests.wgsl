// Test kernels (tests/gpu/main.rs): Philox known answers and table samples computed on the device.
// Composed by the host as: generated constants + philox.wgsl + table.wgsl + this file.

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
