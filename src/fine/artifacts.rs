//! The cryptographic artifacts of one replica: keys from setup, signature shares, aggregates,
//! beacons and CUPs, all real BLS12-381 (see [`super::crypto`]).
//!
//! Simulator shortcuts (results are pure functions of the bytes, so they are exact):
//! - the shares of one message are made together, in parallel, the first time any node signs
//!   that message (BLS signatures are deterministic: the same bytes the node would make later),
//!   with a fixed-base comb of the message point ([`crypto::SignBase`], same bytes as blst);
//! - each distinct share is verified once (batch with per-share fallback) and the result is
//!   reused by every receiver; each distinct aggregate likewise;
//! - the beacon of a height is combined once (from the first node's f+1 valid shares) and
//!   checked against the group key: Lagrange combination of any f+1 valid shares gives the same
//!   unique signature (tested in `tests/fine_crypto.rs`). Every node still pays the modeled
//!   CPU time of its own combination.

use super::agents::{BlockId, SignerSet};
use super::crypto::{self, MsgPoint, MultiSigKey, PublicKey, Sig, ThresholdKeys};
use rand::rngs::StdRng;
use rand::SeedableRng;
use rayon::prelude::*;
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// Kinds of signature shares.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ShareKind {
    Notarization,
    Finalization,
    Beacon,
    Cup,
    /// A state certification share (threshold key of the high-threshold committee, the CUP
    /// key set; key = height).
    Certification,
}

/// Counters of real crypto work.
#[derive(Clone, Debug, Default)]
pub struct CryptoStats {
    pub signatures: u64,
    pub shares_verified: u64,
    pub batches: u64,
    pub batch_failures: u64,
    pub invalid_shares: u64,
    pub aggregates_verified: u64,
    /// Aggregates accepted because every share in them had verified (no pairing needed).
    pub aggregates_derived: u64,
    pub combinations: u64,
    pub single_verifies: u64,
    /// Wall time spent in crypto.
    pub wall: Duration,
}

impl CryptoStats {
    pub fn add(&mut self, o: &CryptoStats) {
        self.signatures += o.signatures;
        self.shares_verified += o.shares_verified;
        self.batches += o.batches;
        self.batch_failures += o.batch_failures;
        self.invalid_shares += o.invalid_shares;
        self.aggregates_verified += o.aggregates_verified;
        self.aggregates_derived += o.aggregates_derived;
        self.combinations += o.combinations;
        self.single_verifies += o.single_verifies;
        self.wall += o.wall;
    }
}

/// All shares of one message.
struct ShareSet {
    /// The message hashed to G1.
    h: MsgPoint,
    sigs: Vec<Option<Sig>>,
    valid: Vec<bool>,
}

/// Keys and artifacts of one replica.
pub struct Artifacts {
    pub keys: Vec<MultiSigKey>,
    pub pks: Vec<PublicKey>,
    /// Beacon keys, threshold f + 1.
    pub beacon_keys: ThresholdKeys,
    /// CUP keys, threshold 2f + 1 (the high threshold).
    pub cup_keys: ThresholdKeys,
    /// Fixed-base tables of the multi-signature keys and of the beacon key shares.
    pk_tables: Vec<crypto::PkTable>,
    beacon_tables: Vec<crypto::PkTable>,
    sets: HashMap<(ShareKind, u64), ShareSet>,
    aggregates: HashMap<(ShareKind, u64, SignerSet), bool>,
    block_sigs: HashMap<BlockId, bool>,
    /// Beacon of each height (index 0: genesis).
    beacons: Vec<Sig>,
    cups: HashMap<u64, Sig>,
    rng: StdRng,
    pub stats: CryptoStats,
}

/// Message of a share of `kind` over `subject` bytes (block digest, or height + previous beacon).
fn message(kind: ShareKind, subject: &[u8]) -> Vec<u8> {
    let tag: &[u8] = match kind {
        ShareKind::Notarization => b"notarization",
        ShareKind::Finalization => b"finalization",
        ShareKind::Beacon => b"random_beacon",
        ShareKind::Cup => b"catch_up_package",
        ShareKind::Certification => b"certification",
    };
    [tag, subject].concat()
}

fn dst(kind: ShareKind) -> &'static [u8] {
    match kind {
        ShareKind::Notarization | ShareKind::Finalization => crypto::DST_MULTI,
        ShareKind::Beacon | ShareKind::Cup | ShareKind::Certification => crypto::DST_THRESHOLD,
    }
}

impl Artifacts {
    /// Setup for `n` nodes with fault tolerance `f`: per-node multi-signature keys (every
    /// proof of possession is checked) and two dealt threshold key sets.
    pub fn setup(n: u32, f: u32, seed: u64) -> Self {
        Self::setup_until(n, f, seed, &AtomicBool::new(false)).expect("not stopped")
    }

    /// [`Artifacts::setup`] that gives up (None) once `stop` is set (Ctrl-C): every stage
    /// polls it, per node, so that the minutes of key dealing for 10^5 nodes can be cut short.
    pub fn setup_until(n: u32, f: u32, seed: u64, stop: &AtomicBool) -> Option<Self> {
        let t0 = Instant::now();
        let go = || !stop.load(Ordering::Relaxed);
        let mut rng = StdRng::seed_from_u64(seed);
        let keys: Vec<MultiSigKey> = (0..n)
            .map(|_| go().then(|| MultiSigKey::generate(&mut rng)))
            .collect::<Option<_>>()?;
        let pops_ok = keys.par_iter().all(|k| !go() || crypto::verify_pop(&k.pk, &k.pop));
        if !go() {
            return None;
        }
        assert!(pops_ok, "proof of possession failed at setup");
        let beacon_keys = ThresholdKeys::deal_until(n as usize, f as usize + 1, &mut rng, stop)?;
        let cup_keys = ThresholdKeys::deal_until(n as usize, (2 * f + 1).min(n) as usize, &mut rng, stop)?;
        let genesis = beacon_keys.group_sk.sign(&crypto::hash_to_g1(
            &message(ShareKind::Beacon, b"genesis"),
            crypto::DST_THRESHOLD,
        ));
        let pk_tables = keys
            .par_iter()
            .map(|k| go().then(|| crypto::PkTable::new(&k.pk)))
            .collect::<Option<_>>()?;
        let beacon_tables = beacon_keys
            .public_shares
            .par_iter()
            .map(|k| go().then(|| crypto::PkTable::new(k)))
            .collect::<Option<_>>()?;
        let mut a = Artifacts {
            pk_tables,
            beacon_tables,
            pks: keys.iter().map(|k| k.pk).collect(),
            keys,
            beacon_keys,
            cup_keys,
            sets: HashMap::new(),
            aggregates: HashMap::new(),
            block_sigs: HashMap::new(),
            beacons: vec![genesis],
            cups: HashMap::new(),
            rng,
            stats: CryptoStats::default(),
        };
        a.stats.wall += t0.elapsed();
        Some(a)
    }

    fn pk_of(&self, kind: ShareKind, i: u32) -> &PublicKey {
        match kind {
            ShareKind::Notarization | ShareKind::Finalization => &self.pks[i as usize],
            ShareKind::Beacon => &self.beacon_keys.public_shares[i as usize],
            ShareKind::Cup | ShareKind::Certification => &self.cup_keys.public_shares[i as usize],
        }
    }

    /// Makes the shares of `(kind, key)` over `subject` for `signers` (node, sends an
    /// invalid share) if not made yet, and verifies them (batch, per-share fallback).
    pub fn prepare(&mut self, kind: ShareKind, key: u64, subject: &[u8], signers: &[(u32, bool)]) {
        if self.sets.contains_key(&(kind, key)) {
            return;
        }
        let t0 = Instant::now();
        let h: MsgPoint = crypto::hash_to_g1(&message(kind, subject), dst(kind));
        let n = self.pks.len();
        let bad_keys: Vec<crypto::SecretKey> = signers
            .iter()
            .filter(|s| s.1)
            .map(|_| crypto::SecretKey::random(&mut self.rng))
            .collect();
        let mut bad = bad_keys.iter();
        let jobs: Vec<(u32, crypto::SecretKey)> = signers
            .iter()
            .map(|&(i, invalid)| {
                let sk = if invalid {
                    bad.next().expect("one bad key per invalid signer").clone()
                } else {
                    match kind {
                        ShareKind::Notarization | ShareKind::Finalization => self.keys[i as usize].sk.clone(),
                        ShareKind::Beacon => self.beacon_keys.shares[i as usize].clone(),
                        ShareKind::Cup | ShareKind::Certification => self.cup_keys.shares[i as usize].clone(),
                    }
                };
                (i, sk)
            })
            .collect();
        let base = crypto::SignBase::new(&h);
        let made: Vec<Sig> = jobs.par_iter().with_max_len(1).map(|(_, sk)| base.sign(sk)).collect();
        let pks: Vec<PublicKey> = jobs.iter().map(|(i, _)| *self.pk_of(kind, *i)).collect();
        let ok = match kind {
            ShareKind::Notarization | ShareKind::Finalization | ShareKind::Beacon => {
                let tables = if kind == ShareKind::Beacon {
                    &self.beacon_tables
                } else {
                    &self.pk_tables
                };
                let t: Vec<&crypto::PkTable> = jobs.iter().map(|(i, _)| &tables[*i as usize]).collect();
                crypto::batch_verify_with_tables(&made, &t, &h, &mut self.rng)
            }
            ShareKind::Cup | ShareKind::Certification => {
                crypto::batch_verify_same_message(&made, &pks, &h, &mut self.rng)
            }
        };
        let valid = if ok {
            vec![true; made.len()]
        } else {
            self.stats.batch_failures += 1;
            made.par_iter()
                .zip(pks.par_iter())
                .map(|(s, p)| crypto::verify(s, p, &h))
                .collect()
        };
        let mut set = ShareSet {
            h,
            sigs: vec![None; n],
            valid: vec![false; n],
        };
        for (((i, _), s), v) in jobs.iter().zip(made).zip(valid) {
            set.sigs[*i as usize] = Some(s);
            set.valid[*i as usize] = v;
            self.stats.invalid_shares += u64::from(!v);
        }
        self.stats.signatures += jobs.len() as u64;
        self.stats.shares_verified += jobs.len() as u64;
        self.stats.batches += 1;
        self.sets.insert((kind, key), set);
        self.stats.wall += t0.elapsed();
    }

    /// Whether node `i`'s share of `(kind, key)` verified (false if it made none).
    pub fn share_valid(&self, kind: ShareKind, key: u64, i: u32) -> bool {
        self.sets.get(&(kind, key)).is_some_and(|s| s.valid[i as usize])
    }

    /// Verifies (once per distinct signer set) the aggregate of `signers`' shares of
    /// `(kind, key)` against the sum of their public keys.
    pub fn verify_aggregate(&mut self, kind: ShareKind, key: u64, signers: &SignerSet) -> bool {
        if let Some(&v) = self.aggregates.get(&(kind, key, signers.clone())) {
            return v;
        }
        let t0 = Instant::now();
        let Some(set) = self.sets.get(&(kind, key)) else {
            return false;
        };
        let sigs: Vec<Sig> = signers.iter().filter_map(|i| set.sigs[i as usize]).collect();
        let all_verified = signers.iter().all(|i| set.valid[i as usize]);
        if all_verified && self.aggregates.keys().any(|(k, b, _)| *k == kind && *b == key) {
            // A sum of shares that each verified is a valid aggregate (bilinearity); the
            // pairing check already ran for this block's first aggregate.
            self.aggregates.insert((kind, key, signers.clone()), true);
            self.stats.aggregates_derived += 1;
            return true;
        }
        let ok = sigs.len() == signers.len() as usize && {
            let agg = crypto::aggregate_sigs(&sigs);
            crypto::verify_aggregate(&agg, signers.iter().map(|i| &self.pks[i as usize]), &set.h)
        };
        self.stats.aggregates_verified += 1;
        self.aggregates.insert((kind, key, signers.clone()), ok);
        self.stats.wall += t0.elapsed();
        ok
    }

    /// Signs block `id` (digest) with its maker's key and verifies the signature once.
    pub fn sign_block(&mut self, id: BlockId, maker: u32, digest: &[u8; 32]) -> bool {
        let t0 = Instant::now();
        let h = crypto::hash_to_g1(&[b"block".as_slice(), digest].concat(), crypto::DST_MULTI);
        let s = self.keys[maker as usize].sk.sign(&h);
        let ok = crypto::verify(&s, &self.pks[maker as usize], &h);
        self.stats.signatures += 1;
        self.stats.single_verifies += 1;
        self.block_sigs.insert(id, ok);
        self.stats.wall += t0.elapsed();
        ok
    }

    pub fn block_valid(&self, id: BlockId) -> bool {
        self.block_sigs.get(&id).copied().unwrap_or(false)
    }

    /// Subject bytes of the beacon of height `h` (h >= 1): h and the previous beacon.
    pub fn beacon_subject(&self, h: u64) -> Vec<u8> {
        let prev = crypto::sig_bytes(&self.beacons[(h - 1) as usize]);
        [h.to_le_bytes().as_slice(), &prev].concat()
    }

    /// The beacon of height `h`, if combined.
    pub fn beacon(&self, h: u64) -> Option<&Sig> {
        self.beacons.get(h as usize)
    }

    /// Combines the beacon of height `h` from the first `threshold` valid shares of `signers`
    /// (once per height) and checks it against the group key. Returns false if it fails.
    pub fn combine_beacon(&mut self, h: u64, signers: &SignerSet) -> bool {
        if self.beacons.len() > h as usize {
            return true;
        }
        assert_eq!(self.beacons.len(), h as usize, "beacons are combined in height order");
        let t0 = Instant::now();
        let set = self.sets.get(&(ShareKind::Beacon, h)).expect("beacon shares prepared");
        let t = self.beacon_keys.threshold;
        let shares: Vec<(usize, Sig)> = signers
            .iter()
            .filter(|&i| set.valid[i as usize])
            .take(t)
            .map(|i| (i as usize, set.sigs[i as usize].expect("valid share exists")))
            .collect();
        assert_eq!(shares.len(), t, "combine needs threshold many valid shares");
        let beacon = crypto::combine_threshold(&shares);
        // A combination of verified shares is the group signature (tested in
        // tests/fine_crypto.rs); debug builds check it against the group key as well.
        let ok = !cfg!(debug_assertions) || {
            let msg = crypto::hash_to_g1(
                &message(ShareKind::Beacon, &self.beacon_subject(h)),
                crypto::DST_THRESHOLD,
            );
            self.stats.single_verifies += 1;
            crypto::verify(&beacon, &self.beacon_keys.group_pk, &msg)
        };
        self.stats.combinations += 1;
        if ok {
            self.beacons.push(beacon);
        }
        self.stats.wall += t0.elapsed();
        ok
    }

    /// The CUP signature at height `h` over the finalized block digest (made once, by
    /// threshold combination of the first 2f+1 valid shares of `signers`, and verified).
    pub fn cup(&mut self, h: u64, digest: &[u8; 32], signers: &[(u32, bool)]) -> bool {
        if self.cups.contains_key(&h) {
            return true;
        }
        let subject = [h.to_le_bytes().as_slice(), digest].concat();
        self.prepare(ShareKind::Cup, h, &subject, signers);
        let t0 = Instant::now();
        let set = &self.sets[&(ShareKind::Cup, h)];
        let t = self.cup_keys.threshold;
        let shares: Vec<(usize, Sig)> = signers
            .iter()
            .filter(|s| set.valid[s.0 as usize])
            .take(t)
            .map(|s| (s.0 as usize, set.sigs[s.0 as usize].expect("valid share exists")))
            .collect();
        let ok = shares.len() == t && {
            let sig = crypto::combine_threshold(&shares);
            let msg = crypto::hash_to_g1(&message(ShareKind::Cup, &subject), crypto::DST_THRESHOLD);
            let ok = crypto::verify(&sig, &self.cup_keys.group_pk, &msg);
            if ok {
                self.cups.insert(h, sig);
            }
            ok
        };
        self.stats.combinations += 1;
        self.stats.single_verifies += 1;
        self.stats.wall += t0.elapsed();
        ok
    }

    /// Drops share sets and aggregate results of blocks/heights below `min_key` for `kind`
    /// (memory bound for long runs).
    pub fn prune(&mut self, kind: ShareKind, min_key: u64) {
        self.sets.retain(|&(k, key), _| k != kind || key >= min_key);
        self.aggregates.retain(|(k, key, _), _| *k != kind || *key >= min_key);
    }
}
