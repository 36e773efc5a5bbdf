// Philox4x32-10 (Salmon et al., SC'11), exactly as Random123's philox4x32_R(10, ctr, key).
// WGSL twin of kernels/src/philox.rs. Needs SHADER_INT64 (the 32x32 -> 64-bit products).

const PHILOX_M0: u32 = 0xD2511F53u;
const PHILOX_M1: u32 = 0xCD9E8D57u;
const PHILOX_W0: u32 = 0x9E3779B9u;
const PHILOX_W1: u32 = 0xBB67AE85u;

fn philox_round(c: vec4<u32>, k: vec2<u32>) -> vec4<u32> {
    let p0 = u64(PHILOX_M0) * u64(c.x);
    let p1 = u64(PHILOX_M1) * u64(c.z);
    return vec4<u32>(u32(p1 >> 32u) ^ c.y ^ k.x, u32(p1), u32(p0 >> 32u) ^ c.w ^ k.y, u32(p0));
}

// Four independent uniform 32-bit words per (counter, key).
fn philox4x32_10(ctr: vec4<u32>, key: vec2<u32>) -> vec4<u32> {
    var c = philox_round(ctr, key);
    var k = key;
    for (var i = 1u; i < 10u; i++) {
        k = k + vec2<u32>(PHILOX_W0, PHILOX_W1);
        c = philox_round(c, k);
    }
    return c;
}

// Uniform integer in 0..bound by multiply-shift (kernels: philox::uniform_below).
fn uniform_below(word: u32, bound: u32) -> u32 {
    return u32((u64(word) * u64(bound)) >> 32u);
}
