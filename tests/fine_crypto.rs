//! Known-answer and property tests of the fine engine's BLS12-381 layer (blst, min_sig).
//! The RFC 9380 hash-to-curve vector and the cross-check against blst's high-level API are
//! unit tests in `src/fine/crypto.rs`.

use ictwin::fine::artifacts::{Artifacts, ShareKind};
use ictwin::fine::crypto::*;
use rand::rngs::StdRng;
use rand::SeedableRng;

fn rng(seed: u64) -> StdRng {
    StdRng::seed_from_u64(seed)
}

#[test]
fn proof_of_possession_round_trip_and_rejection() {
    let mut r = rng(1);
    let a = MultiSigKey::generate(&mut r);
    let b = MultiSigKey::generate(&mut r);
    assert!(verify_pop(&a.pk, &a.pop));
    assert!(
        !verify_pop(&a.pk, &b.pop),
        "b's PoP does not prove possession of a's key"
    );
    // A PoP is not a signature on the key under the message DST (domain separation).
    let wrong = a.sk.sign(&hash_to_g1(&pk_bytes(&a.pk), DST_MULTI));
    assert!(!verify_pop(&a.pk, &wrong));
}

#[test]
fn multisignature_aggregate_verifies_against_aggregated_keys_only() {
    let mut r = rng(2);
    let keys: Vec<MultiSigKey> = (0..13).map(|_| MultiSigKey::generate(&mut r)).collect();
    let h = hash_to_g1(b"block", DST_MULTI);
    let sigs: Vec<Sig> = keys.iter().map(|k| k.sk.sign(&h)).collect();
    let agg = aggregate_sigs(&sigs[..9]);
    assert!(verify_aggregate(&agg, keys[..9].iter().map(|k| &k.pk), &h));
    assert!(
        !verify_aggregate(&agg, keys[1..10].iter().map(|k| &k.pk), &h),
        "other signer set"
    );
    assert!(!verify_aggregate(
        &agg,
        keys[..9].iter().map(|k| &k.pk),
        &hash_to_g1(b"other", DST_MULTI)
    ));
}

#[test]
fn batch_verification_accepts_valid_and_finds_every_bad_share() {
    let mut r = rng(3);
    let keys: Vec<MultiSigKey> = (0..13).map(|_| MultiSigKey::generate(&mut r)).collect();
    let pks: Vec<PublicKey> = keys.iter().map(|k| k.pk).collect();
    let h = hash_to_g1(b"block", DST_MULTI);
    let mut sigs: Vec<Sig> = keys.iter().map(|k| k.sk.sign(&h)).collect();
    assert!(batch_verify_same_message(&sigs, &pks, &h, &mut r));
    assert_eq!(verify_shares(&sigs, &pks, &h, &mut r), vec![true; 13]);
    sigs[4] = invalid_share(&h, &mut r);
    sigs[11] = keys[11].sk.sign(&hash_to_g1(b"other block", DST_MULTI));
    assert!(!batch_verify_same_message(&sigs, &pks, &h, &mut r));
    let ok = verify_shares(&sigs, &pks, &h, &mut r);
    let bad: Vec<usize> = (0..13).filter(|&i| !ok[i]).collect();
    assert_eq!(bad, vec![4, 11]);
    // Two bad shares that cancel in a plain sum are still caught (randomized combination).
    let mut c = keys.iter().map(|k| k.sk.sign(&h)).collect::<Vec<_>>();
    let delta = SecretKey::random(&mut r).sign(&h);
    let neg = {
        let mut p = blst::blst_p1::default();
        let mut a = blst::blst_p1_affine::default();
        unsafe {
            blst::blst_p1_from_affine(&mut p, &delta);
            blst::blst_p1_cneg(&mut p, true);
            blst::blst_p1_to_affine(&mut a, &p);
        }
        a
    };
    c[0] = aggregate_sigs(&[c[0], delta]);
    c[1] = aggregate_sigs(&[c[1], neg]);
    assert!(
        verify_aggregate(&aggregate_sigs(&c), pks.iter(), &h),
        "the plain sum is fooled"
    );
    assert!(
        !batch_verify_same_message(&c, &pks, &h, &mut r),
        "the randomized batch is not"
    );
}

#[test]
fn threshold_combination_equals_the_group_signature_for_any_subset() {
    let mut r = rng(4);
    let (n, t) = (13, 5);
    let keys = ThresholdKeys::deal(n, t, &mut r);
    let h = hash_to_g1(b"beacon 7", DST_THRESHOLD);
    let shares: Vec<Sig> = keys.shares.iter().map(|s| s.sign(&h)).collect();
    for (i, s) in shares.iter().enumerate() {
        assert!(verify(s, &keys.public_shares[i], &h), "share {i}");
    }
    let group = keys.group_sk.sign(&h);
    assert!(verify(&group, &keys.group_pk, &h));
    for subset in [vec![0, 1, 2, 3, 4], vec![12, 3, 7, 9, 1], vec![2, 4, 6, 8, 10, 12]] {
        let c = combine_threshold(&subset.iter().map(|&i| (i, shares[i])).collect::<Vec<_>>());
        assert!(sig_eq(&c, &group), "subset {subset:?}");
    }
    // Fewer than t shares interpolate to something else.
    let c = combine_threshold(&[0, 1, 2, 3].iter().map(|&i| (i, shares[i])).collect::<Vec<_>>());
    assert!(!verify(&c, &keys.group_pk, &h));
    // The group signature verifies with blst's own API as a standard BLS signature.
    let pk = blst::min_sig::PublicKey::from_bytes(&pk_bytes(&keys.group_pk)).unwrap();
    let sig = blst::min_sig::Signature::from_bytes(&sig_bytes(&group)).unwrap();
    assert_eq!(
        sig.verify(true, b"beacon 7", DST_THRESHOLD, &[], &pk, true),
        blst::BLST_ERROR::BLST_SUCCESS
    );
}

#[test]
fn beacon_is_deterministic_and_unique() {
    let beacon_of = |seed: u64, signers: &[u32]| {
        let mut a = Artifacts::setup(13, 4, seed);
        let all: Vec<(u32, bool)> = (0..13).map(|i| (i, false)).collect();
        let subject = a.beacon_subject(1);
        a.prepare(ShareKind::Beacon, 1, &subject, &all);
        let mut set = ictwin::fine::agents::SignerSet::default();
        for &s in signers {
            set.insert(s);
        }
        assert!(a.combine_beacon(1, &set));
        sig_bytes(a.beacon(1).unwrap())
    };
    let b1 = beacon_of(9, &[0, 1, 2, 3, 4]);
    assert_eq!(b1, beacon_of(9, &[0, 1, 2, 3, 4]), "same seed, same beacon");
    assert_eq!(
        b1,
        beacon_of(9, &[8, 9, 10, 11, 12]),
        "any f+1 shares give the same beacon"
    );
    assert_ne!(b1, beacon_of(10, &[0, 1, 2, 3, 4]), "another setup, another beacon");
}

#[test]
fn invalid_shares_are_flagged_by_the_artifact_store() {
    let mut a = Artifacts::setup(7, 2, 5);
    let signers: Vec<(u32, bool)> = (0..7).map(|i| (i, i == 3 || i == 5)).collect();
    a.prepare(ShareKind::Notarization, 1, b"digest", &signers);
    let valid: Vec<bool> = (0..7).map(|i| a.share_valid(ShareKind::Notarization, 1, i)).collect();
    assert_eq!(valid, vec![true, true, true, false, true, false, true]);
    assert_eq!(a.stats.batch_failures, 1);
    let mut good = ictwin::fine::agents::SignerSet::default();
    for i in [0, 1, 2, 4, 6] {
        good.insert(i);
    }
    assert!(a.verify_aggregate(ShareKind::Notarization, 1, &good));
    good.insert(3);
    assert!(!a.verify_aggregate(ShareKind::Notarization, 1, &good));
}

#[test]
fn fixed_base_tables_give_the_same_batch_verdicts() {
    let mut r = rng(6);
    let keys: Vec<MultiSigKey> = (0..9).map(|_| MultiSigKey::generate(&mut r)).collect();
    let tables: Vec<PkTable> = keys.iter().map(|k| PkTable::new(&k.pk)).collect();
    let t: Vec<&PkTable> = tables.iter().collect();
    let h = hash_to_g1(b"block", DST_MULTI);
    let mut sigs: Vec<Sig> = keys.iter().map(|k| k.sk.sign(&h)).collect();
    assert!(batch_verify_with_tables(&sigs, &t, &h, &mut r));
    sigs[2] = invalid_share(&h, &mut r);
    assert!(!batch_verify_with_tables(&sigs, &t, &h, &mut r));
}
