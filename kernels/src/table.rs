//! Integer inverse-CDF sampling from two-level quantile tables built on the host.
//!
//! A table holds `TABLE_STRIDE` u32 entries (in the table's own unit, e.g. µs):
//! - level 1, entries `0..4096`: `L1[i] = Q(i / 4096)`;
//! - level 2 (the upper tail), entries `4096..8193`: `L2[j] = Q(1 - 2^-12 + j * 2^-24)` for
//!   `j < 4096`, and `L2[4096] = Q(1 - 2^-32)`.
//!
//! A uniform 32-bit word `u` maps to `i = u >> 20`. For `i < 4095` the sample is the linear
//! interpolation between `L1[i]` and `L1[i+1]` at the 20-bit fraction; for `i = 4095` (the top
//! 2^-12 of probability) the remaining 20 bits index level 2 (12 bits) and interpolate
//! (8 bits). The result is monotone in `u`; the only truncation is above `1 - 2^-32`.
//! Integer arithmetic only, so the WGSL twin returns identical samples. The host builds the
//! tables (`src/dist.rs`, which evaluates the quantile function at these levels).

/// Level-1 segments (12 bits of the word).
pub const L1_SEGMENTS: u32 = 4096;
/// Level-2 segments over the top 2^-12 of probability.
pub const L2_SEGMENTS: u32 = 4096;
/// Offset of level 2 inside a table.
pub const L2_OFFSET: u32 = L1_SEGMENTS;
/// u32 entries per table (4096 + 4097, padded to a multiple of 4).
pub const TABLE_STRIDE: u32 = 8196;

#[inline(always)]
fn lerp(a: u32, b: u32, frac: u32, bits: u32) -> u32 {
    // Tables are monotone, so b >= a; the product needs 52 bits.
    a + ((((b - a) as u64) * (frac as u64)) >> bits) as u32
}

/// Inverse-CDF sample from the table starting at `offset` in `tables`, for uniform word `u`.
#[inline(always)]
pub fn sample(tables: &[u32], offset: u32, u: u32) -> u32 {
    let i = u >> 20;
    let frac = u & 0xF_FFFF;
    if i < L1_SEGMENTS - 1 {
        let base = (offset + i) as usize;
        lerp(tables[base], tables[base + 1], frac, 20)
    } else {
        let j = frac >> 8;
        let base = (offset + L2_OFFSET + j) as usize;
        lerp(tables[base], tables[base + 1], frac & 0xFF, 8)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn identity_table() -> Vec<u32> {
        // Q(p) = p * 2^32 (saturating): the uniform distribution on the word itself, at the
        // levels of the module doc (padding repeats the last level).
        (0..TABLE_STRIDE)
            .map(|k| match k {
                k if k < L1_SEGMENTS => k << 20,
                k if k - L2_OFFSET < L2_SEGMENTS => 0xFFF0_0000 + ((k - L2_OFFSET) << 8),
                _ => u32::MAX,
            })
            .collect()
    }

    #[test]
    fn uniform_table_reproduces_the_word() {
        let t = identity_table();
        for u in [0u32, 1, 12345, 1 << 20, 0xFFEF_FFFF, 0xFFF0_0000, 0xFFFF_FF00, u32::MAX] {
            let s = sample(&t, 0, u) as i64;
            assert!((s - u as i64).abs() <= 256, "u={u:#x} sample={s:#x}");
        }
    }

    #[test]
    fn sample_is_monotone() {
        let t = identity_table();
        let mut last = 0;
        for k in 0..100_000u64 {
            let u = (k * 42_949) as u32;
            let s = sample(&t, 0, u);
            assert!(s >= last);
            last = s;
        }
    }
}
