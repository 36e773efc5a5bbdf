// Saturating 64-bit time arithmetic (µs), shared by the model and the test kernels (the device
// probe in tests/gpu checks these very functions against the CPU). Twin of u64::saturating_add
// and u64::saturating_sub in kernels/src/views.rs; NEVER is views::NEVER.
//
// Both work on 32-bit halves on purpose. The direct forms, `select(s, NEVER, s < a)` with
// s = a + b and `select(0, a - b, a > b)`, are the saturating idioms a driver's compiler
// recognises, and NVIDIA's Vulkan driver 580.159 (H200, 2026-11) lowered them to wrong 64-bit
// code: correct low words, wrong high words (sat_add(1, 0) gave 0x1_0000_0001), so every round
// time came out in the last histogram bin. Nothing here is a 64-bit add or subtract whose
// overflow is then tested.

// "Never" (views::NEVER), µs.
const NEVER: u64 = 0xFFFFFFFFFFFFFFFFlu;

// a + b, or NEVER when the sum does not fit in 64 bits.
fn sat_add(a: u64, b: u64) -> u64 {
    let lo = u32(a) + u32(b);
    let carry = select(0lu, 1lu, lo < u32(a));
    // Below 2^33: cannot wrap.
    let hi = u64(u32(a >> 32u)) + u64(u32(b >> 32u)) + carry;
    if hi > 0xFFFFFFFFlu {
        return NEVER;
    }
    return (hi << 32u) | u64(lo);
}

// a - b, or 0 when b >= a.
fn sat_sub(a: u64, b: u64) -> u64 {
    if a <= b {
        return 0lu;
    }
    let lo = u32(a) - u32(b);
    let borrow = select(0u, 1u, u32(a) < u32(b));
    let hi = u32(a >> 32u) - u32(b >> 32u) - borrow;
    return (u64(hi) << 32u) | u64(lo);
}
