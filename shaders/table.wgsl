// Integer inverse-CDF sampling from two-level quantile tables: twin of kernels/src/table.rs.
// Reads the module-scope storage array `tables` declared by the program that includes it.

fn table_lerp(a: u32, b: u32, frac: u32, bits: u32) -> u32 {
    // Tables are monotone, so b >= a; the product needs 52 bits.
    return a + u32((u64(b - a) * u64(frac)) >> bits);
}

// Sample of the table starting at `offset` in `tables` for the uniform word `u`.
fn table_sample(offset: u32, u: u32) -> u32 {
    let i = u >> 20u;
    let frac = u & 0xFFFFFu;
    if i < TABLE_L1_SEGMENTS - 1u {
        let base = offset + i;
        return table_lerp(tables[base], tables[base + 1u], frac, 20u);
    }
    let j = frac >> 8u;
    let base = offset + TABLE_L2_OFFSET + j;
    return table_lerp(tables[base], tables[base + 1u], frac & 0xFFu, 8u);
}
