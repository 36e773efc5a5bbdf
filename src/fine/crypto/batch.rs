//! Batch verification of shares over one message: randomized linear combinations, with
//! fixed-base public-key tables for the 64-bit coefficients.

use super::*;

/// Random 64-bit batch-verification coefficients (odd, so never zero), little-endian bytes.
fn batch_scalars(n: usize, rng: &mut impl RngCore) -> Vec<u8> {
    let mut out = Vec::with_capacity(8 * n);
    for _ in 0..n {
        out.extend_from_slice(&(rng.next_u64() | 1).to_le_bytes());
    }
    out
}

/// Defines a multi-scalar multiplication over one group with blst's Pippenger entry points.
macro_rules! msm {
    ($(#[$doc:meta])* $name:ident, $affine:ty, $proj:ty, $scratch:ident, $mult:ident) => {
        $(#[$doc])*
        pub(super) fn $name(points: &[$affine], scalars: &[u8], nbits: usize) -> $proj {
            debug_assert_eq!(scalars.len(), points.len() * nbits.div_ceil(8));
            let mut acc = <$proj>::default();
            if points.is_empty() {
                return acc;
            }
            let pts = [points.as_ptr(), std::ptr::null()];
            let scs = [scalars.as_ptr(), std::ptr::null()];
            let mut scratch = vec![0 as limb_t; unsafe { $scratch(points.len()) } / 8];
            unsafe { $mult(&mut acc, pts.as_ptr(), points.len(), scs.as_ptr(), nbits, scratch.as_mut_ptr()) };
            acc
        }
    };
}

msm!(
    /// Sum of r_i P_i for affine G1 points and little-endian scalars of `nbits` bits, laid out
    /// back to back (`scalars.len() == points.len() * nbits.div_ceil(8)`): blst's multi-scalar
    /// multiplication (for fewer than 32 points, Straus with 4-bit Booth windows and shared
    /// doublings).
    msm_g1,
    Sig,
    blst_p1,
    blst_p1s_mult_pippenger_scratch_sizeof,
    blst_p1s_mult_pippenger
);
msm!(
    /// Sum of r_i Q_i for affine G2 points (as [`msm_g1`]).
    msm_g2,
    PublicKey,
    blst_p2,
    blst_p2s_mult_pippenger_scratch_sizeof,
    blst_p2s_mult_pippenger
);

pub(super) fn p1_affine(p: &blst_p1) -> Sig {
    let mut a = blst_p1_affine::default();
    unsafe { blst_p1_to_affine(&mut a, p) };
    a
}

fn p2_affine(p: &blst_p2) -> PublicKey {
    let mut a = blst_p2_affine::default();
    unsafe { blst_p2_to_affine(&mut a, p) };
    a
}

/// Fixed-base table of a public key for 64-bit multipliers: entry 15 w + d - 1 holds
/// d 16^w pk (w < 16 windows of 4 bits, d = 1..15), so r pk costs at most 16 additions.
#[derive(Clone, Debug)]
pub struct PkTable(Vec<blst_p2_affine>);

impl PkTable {
    pub fn new(pk: &PublicKey) -> Self {
        let mut proj = Vec::with_capacity(16 * 15);
        let mut base = blst_p2::default();
        unsafe { blst_p2_from_affine(&mut base, pk) };
        for _ in 0..16 {
            let mut acc = base;
            proj.push(acc);
            for _ in 2..=15 {
                unsafe { blst_p2_add_or_double(&mut acc, &acc, &base) };
                proj.push(acc);
            }
            for _ in 0..4 {
                unsafe { blst_p2_double(&mut base, &base) };
            }
        }
        let mut out = vec![blst_p2_affine::default(); proj.len()];
        let ptrs = [proj.as_ptr(), std::ptr::null()];
        unsafe { blst_p2s_to_affine(out.as_mut_ptr(), ptrs.as_ptr(), proj.len()) };
        PkTable(out)
    }

    /// Pushes the table entries whose sum is r pk, for a 64-bit little-endian `r`.
    fn terms(&self, r: &[u8], out: &mut Vec<*const blst_p2_affine>) {
        for (w, byte) in r.iter().enumerate().take(8) {
            for (half, d) in [(0, byte & 15), (1, byte >> 4)] {
                if d != 0 {
                    out.push(&self.0[15 * (2 * w + half) + d as usize - 1]);
                }
            }
        }
    }
}

/// Sum of r_i pk_i from fixed-base tables: at most 16 table entries per key, summed by blst's
/// batched affine addition (one shared inversion).
fn msm_g2_tables(tables: &[&PkTable], scalars: &[u8]) -> PublicKey {
    let mut terms = Vec::with_capacity(16 * tables.len());
    for (t, r) in tables.iter().zip(scalars.chunks_exact(8)) {
        t.terms(r, &mut terms);
    }
    let mut acc = blst_p2::default();
    if !terms.is_empty() {
        unsafe { blst_p2s_add(&mut acc, terms.as_ptr(), terms.len()) };
    }
    p2_affine(&acc)
}

/// [`batch_verify_same_message`] with the keys given by their fixed-base tables (faster).
pub fn batch_verify_with_tables(sigs: &[Sig], tables: &[&PkTable], h: &MsgPoint, rng: &mut impl RngCore) -> bool {
    assert_eq!(sigs.len(), tables.len());
    if sigs.is_empty() {
        return true;
    }
    let r = batch_scalars(sigs.len(), rng);
    // Two halves of about equal cost run on their own cores: the subgroup checks of the first
    // n/2 shares, sum r_i s_i and its Miller loop; the other subgroup checks, sum r_i pk_i (the
    // cheaper sum) and its Miller loop. Only the final exponentiation is shared: the same check
    // as `verify(&S, &P, h)`.
    let (checked, rest) = sigs.split_at(sigs.len() / 2);
    let (left, right) = rayon::join(
        || {
            let mut ml = blst_fp12::default();
            if !checked.iter().all(in_group) {
                return (false, ml);
            }
            let s = p1_affine(&msm_g1(sigs, &r, 64));
            let ok = unsafe { !blst_p1_affine_is_inf(&s) };
            unsafe { blst_miller_loop(&mut ml, blst_p2_affine_generator(), &s) };
            (ok, ml)
        },
        || {
            let mut ml = blst_fp12::default();
            if !rest.iter().all(in_group) {
                return (false, ml);
            }
            let p = msm_g2_tables(tables, &r);
            unsafe { blst_miller_loop(&mut ml, &p, h) };
            (true, ml)
        },
    );
    left.0 && right.0 && unsafe { blst_fp12_finalverify(&left.1, &right.1) }
}

/// Batch verification of shares over one message: with random 64-bit r_i, checks
/// e(sum r_i s_i, g2) == e(H(m), sum r_i pk_i). All shares valid => true; any invalid share
/// => false except with probability about 2^-63.
pub fn batch_verify_same_message(sigs: &[Sig], pks: &[PublicKey], h: &MsgPoint, rng: &mut impl RngCore) -> bool {
    assert_eq!(sigs.len(), pks.len());
    if sigs.is_empty() {
        return true;
    }
    if !all_in_group(sigs) {
        return false;
    }
    let r = batch_scalars(sigs.len(), rng);
    let (s, p) = rayon::join(|| p1_affine(&msm_g1(sigs, &r, 64)), || p2_affine(&msm_g2(pks, &r, 64)));
    verify(&s, &p, h)
}

/// Verifies shares over one message and returns which are valid: one batch check, and only
/// when it fails a per-share check of every share (the fallback that finds bad shares).
pub fn verify_shares(sigs: &[Sig], pks: &[PublicKey], h: &MsgPoint, rng: &mut impl RngCore) -> Vec<bool> {
    if batch_verify_same_message(sigs, pks, h, rng) {
        return vec![true; sigs.len()];
    }
    use rayon::prelude::*;
    sigs.par_iter()
        .zip(pks.par_iter())
        .map(|(s, p)| verify(s, p, h))
        .collect()
}
