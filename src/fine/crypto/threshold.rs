//! Threshold BLS from a trusted dealer (stand-in for the NIDKG): Shamir shares and their
//! Lagrange combination at x = 0.

use super::batch::{msm_g1, p1_affine};
use super::*;

/// A threshold key set from a trusted dealer (stand-in for the NIDKG): any `threshold` of the
/// `n` shares combine into the unique signature under `group_pk`.
#[derive(Clone, Debug)]
pub struct ThresholdKeys {
    pub threshold: usize,
    pub group_pk: PublicKey,
    /// Secret share of node i = p(i + 1).
    pub shares: Vec<SecretKey>,
    /// Public share of node i = p(i + 1) * g2.
    pub public_shares: Vec<PublicKey>,
    /// The dealer's secret p(0) (kept only so tests can sign with the group key).
    pub group_sk: SecretKey,
}

fn random_fr(rng: &mut impl RngCore) -> blst_fr {
    let mut wide = [0u8; 64];
    rng.fill_bytes(&mut wide);
    let mut s = blst_scalar::default();
    let mut fr = blst_fr::default();
    unsafe {
        blst_scalar_from_le_bytes(&mut s, wide.as_ptr(), wide.len());
        blst_fr_from_scalar(&mut fr, &s);
    }
    fr
}

fn fr_from_u64(x: u64) -> blst_fr {
    let mut fr = blst_fr::default();
    let limbs = [x, 0, 0, 0];
    unsafe { blst_fr_from_uint64(&mut fr, limbs.as_ptr()) };
    fr
}

/// Evaluates the polynomial with coefficients `coef` (constant first) at x (Horner).
fn poly_eval(coef: &[blst_fr], x: u64) -> blst_fr {
    let xf = fr_from_u64(x);
    let mut acc = blst_fr::default();
    for c in coef.iter().rev() {
        unsafe {
            blst_fr_mul(&mut acc, &acc, &xf);
            blst_fr_add(&mut acc, &acc, c);
        }
    }
    acc
}

impl ThresholdKeys {
    /// Shamir-shares a random secret among `n` nodes with threshold `threshold` (1..=n).
    pub fn deal(n: usize, threshold: usize, rng: &mut impl RngCore) -> Self {
        Self::deal_until(n, threshold, rng, &AtomicBool::new(false)).expect("not stopped")
    }

    /// [`ThresholdKeys::deal`] that gives up (None) once `stop` is set: dealing is O(n t)
    /// field multiplications, minutes for 10^5 nodes.
    pub fn deal_until(n: usize, threshold: usize, rng: &mut impl RngCore, stop: &AtomicBool) -> Option<Self> {
        assert!(threshold >= 1 && threshold <= n, "threshold {threshold} of {n}");
        let coef: Vec<blst_fr> = (0..threshold).map(|_| random_fr(rng)).collect();
        let group_sk = SecretKey::from_fr(&coef[0]);
        let shares: Vec<SecretKey> = (0..n)
            .map(|i| (!stop.load(Ordering::Relaxed)).then(|| SecretKey::from_fr(&poly_eval(&coef, i as u64 + 1))))
            .collect::<Option<_>>()?;
        let public_shares = shares
            .iter()
            .map(|k| (!stop.load(Ordering::Relaxed)).then(|| k.public_key()))
            .collect::<Option<_>>()?;
        Some(ThresholdKeys {
            threshold,
            group_pk: group_sk.public_key(),
            public_shares,
            shares,
            group_sk,
        })
    }
}

/// Lagrange coefficients at x = 0 for the evaluation points x_i = index_i + 1.
pub fn lagrange_at_zero(indices: &[usize]) -> Vec<blst_fr> {
    let xs: Vec<blst_fr> = indices.iter().map(|&i| fr_from_u64(i as u64 + 1)).collect();
    let mut out = Vec::with_capacity(xs.len());
    for (i, xi) in xs.iter().enumerate() {
        let mut num = fr_from_u64(1);
        let mut den = fr_from_u64(1);
        for (j, xj) in xs.iter().enumerate() {
            if i == j {
                continue;
            }
            let mut d = blst_fr::default();
            unsafe {
                blst_fr_mul(&mut num, &num, xj);
                blst_fr_sub(&mut d, xj, xi);
                blst_fr_mul(&mut den, &den, &d);
            }
        }
        let mut inv = blst_fr::default();
        let mut l = blst_fr::default();
        unsafe {
            blst_fr_eucl_inverse(&mut inv, &den);
            blst_fr_mul(&mut l, &num, &inv);
        }
        out.push(l);
    }
    out
}

/// Combines threshold signature shares `(node index, share)` (distinct indices, at least the
/// threshold many, all valid) by Lagrange interpolation in G1: sum lambda_i s_i.
pub fn combine_threshold(shares: &[(usize, Sig)]) -> Sig {
    let idx: Vec<usize> = shares.iter().map(|s| s.0).collect();
    let mut scalars = Vec::with_capacity(32 * shares.len());
    for l in lagrange_at_zero(&idx) {
        let mut sc = blst_scalar::default();
        unsafe { blst_scalar_from_fr(&mut sc, &l) };
        scalars.extend_from_slice(&sc.b);
    }
    let points: Vec<Sig> = shares.iter().map(|s| s.1).collect();
    p1_affine(&msm_g1(&points, &scalars, 255))
}
