//! Equivocation proofs (rule 6 of [`crate::model`]): when each honest node holds the proof
//! that an equivocating maker proposed two blocks of one rank, and what that rank may no
//! longer do at that node. As deployed (dfinity/ic `rs/consensus/src/consensus/validator.rs`,
//! `validate_blocks`: the second valid proposal of a rank becomes an `EquivocationProof` in
//! the validated pool instead of being validated, and the rank is disqualified;
//! `rs/consensus/utils/src/lib.rs`, `find_lowest_ranked_non_disqualified_proposals`, read by
//! `notary.rs` and by `block_maker.rs`'s `is_better_block_proposal_available`).

use crate::height::{kind, Height, MAX_BLOCKS};
use crate::params::MAX_NODES;
use crate::sets::{contains, group_bits, set, NodeSet, EMPTY};
use crate::views::{delay_us, NEVER};

/// Most equivocating makers (proof units) a height tracks: every candidate pair fits.
pub const MAX_UNITS: usize = MAX_BLOCKS / 2;
/// A candidate without a proof unit (an honest maker's block, or proofs off).
pub const NO_UNIT: u32 = u32::MAX;
/// "Never holds the proof" in [`Proofs`].
pub const NO_PROOF: u32 = u32::MAX;

/// Per proof unit and node: when the node holds the proof, µs after the unit's proposal time
/// (at most `NO_PROOF - 1`, saturated: a proof that late only happens with delays near the
/// 71-minute limit), or [`NO_PROOF`]. Scratch kept across heights by the caller, so that a
/// height without equivocating makers costs nothing.
pub struct Proofs {
    offset: [[u32; MAX_NODES as usize]; MAX_UNITS],
    /// Per unit: the honest nodes that receive variant 1 before variant 0 (at equal times: as
    /// the node's tie word says).
    first1: [NodeSet; MAX_UNITS],
}

impl Proofs {
    /// Empty scratch (every entry is written before it is read).
    pub fn new() -> Self {
        Proofs {
            offset: [[NO_PROOF; MAX_NODES as usize]; MAX_UNITS],
            first1: [EMPTY; MAX_UNITS],
        }
    }
}

impl Default for Proofs {
    fn default() -> Self {
        Self::new()
    }
}

impl<'a, const B: usize> Height<'a, B> {
    /// Makes the candidate pair `c0`, `c0 + 1` (an equivocator's two blocks) a proof unit: an
    /// honest active node builds the proof when it holds both blocks and relays it at once to
    /// every other honest active node (message kind [`kind::EQUIV_PROOF`], block index 2 rank,
    /// one fresh delay per sender and receiver); the time it first holds one is the shortest
    /// path from those direct times ([`Height::relay`]). Equivocating nodes neither build nor
    /// relay proofs.
    pub(crate) fn build_proof_unit(&mut self, c0: usize, honest_active: &NodeSet) {
        let u = self.units as usize;
        self.units += 1;
        self.cands[c0].unit = u as u32;
        self.cands[c0 + 1].unit = u as u32;
        let (p, rank, maker) = (self.p, self.cands[c0].rank, self.cands[c0].maker);
        let propose = self.cands[c0].propose_us;
        for k in 0..p.nodes as usize {
            self.tmp[k] = NEVER;
        }
        let mut first1 = EMPTY;
        for g in 0..p.nodes.div_ceil(4) {
            let bits = group_bits(honest_active, g);
            if bits == 0 {
                continue;
            }
            let w0 = self.words(kind::BLOCK, 2 * rank, 0, g);
            let w1 = self.words(kind::BLOCK, 2 * rank + 1, 0, g);
            // The maker is not honest, so every k here receives both blocks over the network.
            for x in 0..4 {
                let k = 4 * g + x;
                if (bits >> x) & 1 == 1 {
                    let a0 = delay_us(p, self.tables, w0[x as usize], maker, k);
                    let a1 = delay_us(p, self.tables, w1[x as usize], maker, k);
                    self.tmp[k as usize] = propose + a0.max(a1);
                    set(
                        &mut first1,
                        k,
                        a1 < a0 || (a1 == a0 && self.tie_variant1_first(rank, k)),
                    );
                }
            }
        }
        self.proofs.first1[u] = first1;
        let active = self.active;
        self.active = *honest_active;
        self.relay(kind::EQUIV_PROOF, 2 * rank);
        self.active = active;
        for k in 0..p.nodes {
            let t = self.tmp[k as usize];
            self.proofs.offset[u][k as usize] = if contains(honest_active, k) && t != NEVER {
                (t - propose).min(NO_PROOF as u64 - 1) as u32
            } else {
                NO_PROOF
            };
        }
    }

    /// Whether node `k` takes variant 1 of the rank-`rank` unit first when both blocks reach it
    /// at the same µs: the low bit of word 0 of message kind [`kind::EQUIV_PROOF`], block
    /// index 2 rank + 1 (relays use the even index), receiver `k`, group 0. A fair coin per
    /// node, as in the fine engine, whose simultaneous events come out in a seed-keyed
    /// pseudo-random order (the limit of vanishing per-message jitter); computed only at a tie.
    #[inline(always)]
    fn tie_variant1_first(&self, rank: u32, k: u32) -> bool {
        self.words(kind::EQUIV_PROOF, 2 * rank + 1, k, 0)[0] & 1 == 1
    }

    /// When node `j` holds the proof against candidate `c`'s maker, µs (NEVER: no unit, or
    /// `j` never does).
    #[inline(always)]
    pub(crate) fn disq_us(&self, c: usize, j: u32) -> u64 {
        let u = self.cands[c].unit;
        if u == NO_UNIT {
            return NEVER;
        }
        let o = self.proofs.offset[u as usize][j as usize];
        if o == NO_PROOF {
            NEVER
        } else {
            self.cands[c].propose_us + o as u64
        }
    }

    /// Node `j`'s share on candidate `c` at `s` is ruled out by a proof: `c` is the second of
    /// its maker's two blocks to reach `j` (at equal times as [`Self::tie_variant1_first`]
    /// draws; the validator turns it into the proof instead of validating it), or `j` held the
    /// proof strictly before `s`.
    pub(crate) fn proof_rules_out(&self, c: usize, j: u32, s: u64) -> bool {
        let cand = self.cands[c];
        if cand.unit == NO_UNIT {
            return false;
        }
        if self.disq_us(c, j) < s {
            return true;
        }
        contains(&self.proofs.first1[cand.unit as usize], j) == (cand.variant == 0)
    }
}
