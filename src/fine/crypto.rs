//! Real BLS12-381 cryptography of the fine engine (blst, `min_sig`: signatures in G1, 48 B
//! compressed; public keys in G2, 96 B compressed), as ICC uses it:
//!
//! - notarization and finalization: BLS **multi-signatures**. Every node has its own key with a
//!   proof of possession (PoP, checked at setup), shares are signatures over the block digest
//!   with the PoP-scheme DST, a notarization is the sum of 2f+1 shares and is checked against
//!   the sum of the signers' public keys;
//! - random beacon (and CUPs): **threshold BLS**. A dealer Shamir-shares a group secret with
//!   threshold t at setup; shares are combined by Lagrange interpolation at x = 0 in G1 (node i
//!   holds the evaluation at x = i + 1). The deployed NIDKG that produces these keys is *not*
//!   simulated: a trusted dealer at setup stands in for it.
//!
//! Received shares are checked in batches with a randomized linear combination (one pairing
//! equation per batch of shares over one message); when a batch fails, every share of it is
//! checked on its own, so bad shares are found and excluded.
//!
//! Points are kept in memory as affine points (the simulator never serializes them over a
//! wire, so decompression and subgroup checks of received bytes are not performed; the bytes a
//! real node would send are available from [`sig_bytes`]).

use blst::*;
use rand::{Rng, RngCore};
use std::sync::atomic::{AtomicBool, Ordering};

/// DST of notarization/finalization multi-signature shares (proof-of-possession scheme).
pub const DST_MULTI: &[u8] = b"BLS_SIG_BLS12381G1_XMD:SHA-256_SSWU_RO_POP_";
/// DST of proofs of possession.
pub const DST_POP: &[u8] = b"BLS_POP_BLS12381G1_XMD:SHA-256_SSWU_RO_POP_";
/// DST of threshold signatures (beacon, CUP).
pub const DST_THRESHOLD: &[u8] = b"BLS_SIG_BLS12381G1_XMD:SHA-256_SSWU_RO_NUL_";

/// A G1 signature (share, aggregate or threshold signature).
pub type Sig = blst_p1_affine;
/// A G2 public key.
pub type PublicKey = blst_p2_affine;
/// A message hashed to G1 (hash once, sign and verify many times).
pub type MsgPoint = blst_p1_affine;

/// A secret scalar.
#[derive(Clone, Debug, Default)]
pub struct SecretKey(blst_scalar);

/// Hashes `msg` to G1 under `dst` (RFC 9380 suite BLS12381G1_XMD:SHA-256_SSWU_RO_).
pub fn hash_to_g1(msg: &[u8], dst: &[u8]) -> MsgPoint {
    let mut p = blst_p1::default();
    let mut a = blst_p1_affine::default();
    unsafe {
        blst_hash_to_g1(
            &mut p,
            msg.as_ptr(),
            msg.len(),
            dst.as_ptr(),
            dst.len(),
            std::ptr::null(),
            0,
        );
        blst_p1_to_affine(&mut a, &p);
    }
    a
}

/// SHA-256 of `msg` (blst's implementation).
pub fn sha256(msg: &[u8]) -> [u8; 32] {
    let mut out = [0u8; 32];
    unsafe { blst_sha256(out.as_mut_ptr(), msg.as_ptr(), msg.len()) };
    out
}

/// Compressed 48-byte encoding of a signature.
pub fn sig_bytes(s: &Sig) -> [u8; 48] {
    let mut out = [0u8; 48];
    unsafe { blst_p1_affine_compress(out.as_mut_ptr(), s) };
    out
}

/// Compressed 96-byte encoding of a public key.
pub fn pk_bytes(pk: &PublicKey) -> [u8; 96] {
    let mut out = [0u8; 96];
    unsafe { blst_p2_affine_compress(out.as_mut_ptr(), pk) };
    out
}

impl SecretKey {
    /// Key generation from 32 bytes of input keying material (IETF KeyGen, as blst does it).
    pub fn from_ikm(ikm: &[u8; 32]) -> Self {
        let mut sk = blst_scalar::default();
        unsafe { blst_keygen(&mut sk, ikm.as_ptr(), ikm.len(), std::ptr::null(), 0) };
        SecretKey(sk)
    }
    /// A fresh key from `rng`.
    pub fn random(rng: &mut impl RngCore) -> Self {
        let mut ikm = [0u8; 32];
        rng.fill_bytes(&mut ikm);
        Self::from_ikm(&ikm)
    }
    fn from_fr(fr: &blst_fr) -> Self {
        let mut s = blst_scalar::default();
        unsafe { blst_scalar_from_fr(&mut s, fr) };
        SecretKey(s)
    }
    /// Big-endian bytes (as `blst::min_sig::SecretKey::to_bytes`).
    pub fn to_bytes(&self) -> [u8; 32] {
        let mut out = [0u8; 32];
        unsafe { blst_bendian_from_scalar(out.as_mut_ptr(), &self.0) };
        out
    }
    /// The public key sk * g2.
    pub fn public_key(&self) -> PublicKey {
        let mut p = blst_p2::default();
        let mut a = blst_p2_affine::default();
        unsafe {
            blst_sk_to_pk_in_g2(&mut p, &self.0);
            blst_p2_to_affine(&mut a, &p);
        }
        a
    }
    /// Signature sk * H(m) on a pre-hashed message.
    pub fn sign(&self, h: &MsgPoint) -> Sig {
        let mut hp = blst_p1::default();
        let mut s = blst_p1::default();
        let mut a = blst_p1_affine::default();
        unsafe {
            blst_p1_from_affine(&mut hp, h);
            blst_sign_pk_in_g2(&mut s, &hp, &self.0);
            blst_p1_to_affine(&mut a, &s);
        }
        a
    }
    /// Proof of possession: a signature over the compressed public key under [`DST_POP`].
    pub fn proof_of_possession(&self) -> Sig {
        self.sign(&hash_to_g1(&pk_bytes(&self.public_key()), DST_POP))
    }
}

/// The pairing check e(sig, g2) == e(h, pk): one signature (or aggregate) on one message,
/// after the subgroup check a node makes on every signature it receives. The two Miller loops
/// run on their own cores when a second one is free; the final exponentiation is shared.
pub fn verify(sig: &Sig, pk: &PublicKey, h: &MsgPoint) -> bool {
    let (left, right) = rayon::join(
        || {
            let mut ml = blst_fp12::default();
            let ok = in_group(sig);
            if ok {
                unsafe { blst_miller_loop(&mut ml, blst_p2_affine_generator(), sig) };
            }
            (ok, ml)
        },
        || {
            let mut ml = blst_fp12::default();
            unsafe { blst_miller_loop(&mut ml, pk, h) };
            ml
        },
    );
    left.0 && unsafe { blst_fp12_finalverify(&left.1, &right) }
}

/// The check a node makes on a received signature: a point of the prime-order subgroup G1,
/// not the point at infinity.
fn in_group(sig: &Sig) -> bool {
    unsafe { blst_p1_affine_in_g1(sig) && !blst_p1_affine_is_inf(sig) }
}

/// [`in_group`] for every signature, spread over the cores (about 40 µs each).
fn all_in_group(sigs: &[Sig]) -> bool {
    use rayon::prelude::*;
    sigs.par_iter().with_max_len(1).all(in_group)
}

/// Checks a proof of possession of `pk`.
pub fn verify_pop(pk: &PublicKey, pop: &Sig) -> bool {
    verify(pop, pk, &hash_to_g1(&pk_bytes(pk), DST_POP))
}

/// Sum of signatures (the aggregate of a multi-signature). Empty input: the point at infinity.
pub fn aggregate_sigs<'a>(sigs: impl IntoIterator<Item = &'a Sig>) -> Sig {
    let mut acc = blst_p1::default();
    for s in sigs {
        unsafe { blst_p1_add_or_double_affine(&mut acc, &acc, s) };
    }
    let mut a = blst_p1_affine::default();
    unsafe { blst_p1_to_affine(&mut a, &acc) };
    a
}

/// Sum of public keys.
pub fn aggregate_pks<'a>(pks: impl IntoIterator<Item = &'a PublicKey>) -> PublicKey {
    let mut acc = blst_p2::default();
    for p in pks {
        unsafe { blst_p2_add_or_double_affine(&mut acc, &acc, p) };
    }
    let mut a = blst_p2_affine::default();
    unsafe { blst_p2_to_affine(&mut a, &acc) };
    a
}

/// Verifies a multi-signature aggregate against the signers' public keys (all keys have
/// been PoP-checked at setup, which makes this secure against rogue-key attacks).
pub fn verify_aggregate<'a>(agg: &Sig, pks: impl IntoIterator<Item = &'a PublicKey>, h: &MsgPoint) -> bool {
    verify(agg, &aggregate_pks(pks), h)
}

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
        fn $name(points: &[$affine], scalars: &[u8], nbits: usize) -> $proj {
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

fn p1_affine(p: &blst_p1) -> Sig {
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

/// One node's key pair for multi-signatures, with its proof of possession.
#[derive(Clone, Debug)]
pub struct MultiSigKey {
    pub sk: SecretKey,
    pub pk: PublicKey,
    pub pop: Sig,
}

impl MultiSigKey {
    pub fn generate(rng: &mut impl RngCore) -> Self {
        let sk = SecretKey::random(rng);
        MultiSigKey {
            pk: sk.public_key(),
            pop: sk.proof_of_possession(),
            sk,
        }
    }
}

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

/// Equality of signatures.
pub fn sig_eq(a: &Sig, b: &Sig) -> bool {
    unsafe { blst_p1_affine_is_equal(a, b) }
}

/// A message point prepared for many signers (every share of one message is a multiple of the
/// same point H): a fixed-base comb with 6 teeth 43 bits apart. Entry j - 1 (j = 1..=63) holds
/// the sum of 2^(43 k) H over the set bits k of j, so sk H costs 42 doublings and at most 43
/// additions instead of blst's ~255 doublings (about 3x faster, after a table that costs about
/// one signature). The result is the same point as [`SecretKey::sign`]; unlike blst, the comb
/// is not constant-time (the simulator has no side channels to protect).
pub struct SignBase(Vec<blst_p1_affine>);

impl SignBase {
    const TEETH: usize = 6;
    const SPACING: usize = 43;

    pub fn new(h: &MsgPoint) -> Self {
        let mut teeth = [blst_p1::default(); Self::TEETH];
        unsafe { blst_p1_from_affine(&mut teeth[0], h) };
        for k in 1..Self::TEETH {
            teeth[k] = teeth[k - 1];
            for _ in 0..Self::SPACING {
                unsafe { blst_p1_double(&mut teeth[k], &teeth[k]) };
            }
        }
        let size = (1 << Self::TEETH) - 1;
        let mut proj: Vec<blst_p1> = Vec::with_capacity(size);
        for j in 1..=size {
            let top = (usize::BITS - 1 - j.leading_zeros()) as usize;
            let rest = j - (1 << top);
            let mut e = teeth[top];
            if rest != 0 {
                unsafe { blst_p1_add_or_double(&mut e, &proj[rest - 1], &teeth[top]) };
            }
            proj.push(e);
        }
        let mut table = vec![blst_p1_affine::default(); size];
        let ptrs = [proj.as_ptr(), std::ptr::null()];
        unsafe { blst_p1s_to_affine(table.as_mut_ptr(), ptrs.as_ptr(), size) };
        SignBase(table)
    }

    /// The signature sk H (scalars are below 2^255, within the comb's 6 * 43 = 258 bits).
    pub fn sign(&self, sk: &SecretKey) -> Sig {
        let b = &sk.0.b;
        let bit = |i: usize| b.get(i / 8).map_or(0, |byte| usize::from(byte >> (i % 8) & 1));
        let mut acc = blst_p1::default();
        for i in (0..Self::SPACING).rev() {
            unsafe { blst_p1_double(&mut acc, &acc) };
            let idx = (0..Self::TEETH).fold(0, |idx, k| idx | bit(Self::SPACING * k + i) << k);
            if idx != 0 {
                unsafe { blst_p1_add_or_double_affine(&mut acc, &acc, &self.0[idx - 1]) };
            }
        }
        p1_affine(&acc)
    }
}

/// An invalid share as a Byzantine node makes it: a real signature over the right message
/// with a key that is not the node's (so it is a valid curve point that fails verification).
pub fn invalid_share(h: &MsgPoint, rng: &mut impl Rng) -> Sig {
    SecretKey::random(rng).sign(h)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    fn hex(b: &[u8]) -> String {
        b.iter().map(|x| format!("{x:02x}")).collect()
    }

    #[test]
    fn hash_to_g1_matches_rfc9380_vector() {
        // RFC 9380, Appendix J.9.1, BLS12381G1_XMD:SHA-256_SSWU_RO_, msg = "".
        let p = hash_to_g1(b"", b"QUUX-V01-CS02-with-BLS12381G1_XMD:SHA-256_SSWU_RO_");
        let mut out = [0u8; 96];
        unsafe { blst_p1_affine_serialize(out.as_mut_ptr(), &p) };
        assert_eq!(
            hex(&out[..48]),
            "052926add2207b76ca4fa57a8734416c8dc95e24501772c814278700eed6d1e4e8cf62d9c09db0fac349612b759e79a1"
        );
        assert_eq!(
            hex(&out[48..]),
            "08ba738453bfed09cb546dbb0783dbb3a5f1f566ed67bb6be0e8c67e2e81a4cc68ee29813bb7994998f3eae0c9c6a265"
        );
    }

    #[test]
    fn sha256_known_answer() {
        assert_eq!(
            hex(&sha256(b"abc")),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn comb_signature_equals_blst_signature() {
        let mut rng = rand::rngs::StdRng::seed_from_u64(11);
        let h = hash_to_g1(b"comb", DST_MULTI);
        let base = SignBase::new(&h);
        let mut keys: Vec<SecretKey> = (0..20).map(|_| SecretKey::random(&mut rng)).collect();
        // Edge scalars: 1, and r - 1 (all teeth of the top window in use).
        let mut one = blst_scalar::default();
        one.b[0] = 1;
        keys.push(SecretKey(one));
        let r_minus_1 = "73eda753299d7d483339d80809a1d80553bda402fffe5bfeffffffff00000000";
        let mut be = [0u8; 32];
        for (i, byte) in be.iter_mut().enumerate() {
            *byte = u8::from_str_radix(&r_minus_1[2 * i..2 * i + 2], 16).unwrap();
        }
        let mut top = blst_scalar::default();
        unsafe { blst_scalar_from_bendian(&mut top, be.as_ptr()) };
        keys.push(SecretKey(top));
        for sk in &keys {
            assert_eq!(sig_bytes(&base.sign(sk)), sig_bytes(&sk.sign(&h)));
        }
    }

    #[test]
    fn sign_matches_blst_high_level_api() {
        let mut rng = rand::rngs::StdRng::seed_from_u64(7);
        let k = MultiSigKey::generate(&mut rng);
        let msg = b"block digest";
        let ours = k.sk.sign(&hash_to_g1(msg, DST_MULTI));
        let sk = blst::min_sig::SecretKey::from_bytes(&k.sk.to_bytes()).unwrap();
        let theirs = sk.sign(msg, DST_MULTI, &[]);
        assert_eq!(sig_bytes(&ours), theirs.to_bytes());
        assert_eq!(pk_bytes(&k.pk), sk.sk_to_pk().to_bytes());
        let pk = blst::min_sig::PublicKey::from_bytes(&pk_bytes(&k.pk)).unwrap();
        assert_eq!(
            theirs.verify(true, msg, DST_MULTI, &[], &pk, true),
            BLST_ERROR::BLST_SUCCESS
        );
    }
}
