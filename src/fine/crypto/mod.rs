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

mod batch;
mod sign_base;
mod threshold;

pub use batch::*;
pub use sign_base::SignBase;
pub use threshold::*;

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

/// Equality of signatures.
pub fn sig_eq(a: &Sig, b: &Sig) -> bool {
    unsafe { blst_p1_affine_is_equal(a, b) }
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
