//! One height of the coarse model with per-node views: the candidate blocks, notarization
//! (shares and relays), finalization, beacon and each node's next round start. The rules,
//! and the words each message draws, are in the doc comment of [`crate::model`];
//! [`crate::resolve`] decides proposals and shares in time order.

use crate::params::{Params, MAX_NODES};
use crate::philox::{philox4x32_10, stream};
use crate::proofs::{Proofs, NO_UNIT};
use crate::sets::{self, count, group_bits, next_member, Collect, NodeSet, OrderStat, Sink, EMPTY};
use crate::views::{delay_us, tie, NodeViews, TieKey, NEVER};

/// Most candidate blocks (proposals not ruled out up front) one height considers.
pub const MAX_BLOCKS: usize = 16;
/// Word spaces of stream [`stream::MESSAGE`] (see the model's doc comment).
pub mod kind {
    /// The observer choice.
    pub const OBSERVER: u32 = 0;
    /// A block's delay to each receiver.
    pub const BLOCK: u32 = 1;
    /// Notarization shares.
    pub const NOTAR_SHARE: u32 = 2;
    /// Relayed notarizations.
    pub const NOTAR_RELAY: u32 = 3;
    /// Finalization shares.
    pub const FIN_SHARE: u32 = 4;
    /// Relayed finalizations.
    pub const FIN_RELAY: u32 = 5;
    /// Random-beacon shares.
    pub const BEACON: u32 = 6;
    /// Relayed equivocation proofs (block index 2 rank).
    pub const EQUIV_PROOF: u32 = 7;
    /// Certification shares (rule 8, [`crate::cert`]).
    pub const CERT_SHARE: u32 = 8;
    /// A block's position among simultaneous deliveries (rule 8, [`crate::views::tie`]).
    pub const TIE: u32 = 9;
}

/// Status of a proposal or of a share action while a height is resolved.
pub mod status {
    /// Not decided yet.
    pub const UNKNOWN: u32 = 0;
    /// Happens.
    pub const YES: u32 = 1;
    /// Suppressed.
    pub const NO: u32 = 2;
}

/// A block that may be proposed at this height.
#[derive(Clone, Copy)]
pub struct Candidate {
    /// Its maker's id.
    pub maker: u32,
    /// Its rank.
    pub rank: u32,
    /// 0, or 1 for an equivocating maker's second block.
    pub variant: u32,
    /// Proposal time: the maker's round start + rank U, µs.
    pub propose_us: u64,
    /// [`status`] of the proposal.
    pub status: u32,
    /// Signers whose notarization share on it happens.
    pub yes: NodeSet,
    /// Signers whose share is not decided yet.
    pub unknown: NodeSet,
    /// Its equivocation-proof unit ([`crate::proofs`]), or [`NO_UNIT`].
    pub unit: u32,
}

impl Candidate {
    const NONE: Candidate = Candidate {
        maker: 0,
        rank: 0,
        variant: 0,
        propose_us: 0,
        status: status::NO,
        yes: EMPTY,
        unknown: EMPTY,
        unit: NO_UNIT,
    };
    /// Index of its words (2 rank + variant).
    #[inline(always)]
    pub(crate) fn word_block(&self) -> u32 {
        2 * self.rank + self.variant
    }
}

/// The outcome of one height at the observer.
pub struct Outcome {
    /// Rank of the first block the observer saw notarized.
    pub rank: u32,
    /// Observer's notarization time - its round start, µs (with the round overhead).
    pub round_us: u64,
    /// Observer's finalization time - its round start, µs, if it finalized the height directly.
    pub finalization_us: Option<u64>,
}

/// One height of one replica: its context and scratch (times in µs, absolute).
pub struct Height<'a, const B: usize> {
    /// Model parameters.
    pub p: &'a Params,
    /// Quantile tables.
    pub tables: &'a [u32],
    /// Replica id (counter word 0).
    pub replica: u32,
    /// Round step (counter word 1).
    pub step: u32,
    /// Height (from 1).
    pub height: u32,
    /// Up nodes that receive, relay and propose: honest and equivocating.
    pub active: NodeSet,
    /// Committee members that sign: honest, up, in the committee of this height.
    pub signers: NodeSet,
    /// Candidate blocks (the first `ncand`).
    pub cands: [Candidate; MAX_BLOCKS],
    /// Number of candidates.
    pub ncand: usize,
    /// Each node's first notarization of the height (NEVER: none).
    pub notar: [u64; MAX_NODES as usize],
    /// The candidate it first saw notarized.
    pub first: [u32; MAX_NODES as usize],
    /// Each node's direct finalization of the height (NEVER: none).
    pub fin: [u64; MAX_NODES as usize],
    /// How each node's finalization completed ([`crate::views::tie`]; meaningful where `fin`
    /// is not NEVER).
    pub fin_tie: [u32; MAX_NODES as usize],
    pub(crate) tmp: [u64; MAX_NODES as usize],
    pub(crate) sigma: [u64; MAX_NODES as usize],
    /// Proof units so far (the first `units` rows of `proofs`).
    pub units: u32,
    /// Proof times per unit and node (caller's scratch, see [`crate::proofs`]).
    pub(crate) proofs: &'a mut Proofs,
    /// Philox blocks computed for this height's messages (benchmark bookkeeping).
    pub blocks: core::cell::Cell<u32>,
}

/// Philox words `4 group .. 4 group + 4` of message kind `kind`, block `b`, `receiver`.
#[inline(always)]
pub fn message_words(p: &Params, replica: u32, step: u32, kind: u32, b: u32, receiver: u32, group: u32) -> [u32; 4] {
    let index = ((kind * 128 + b) * MAX_NODES + receiver) * 32 + group;
    philox4x32_10([replica, step, index, stream::MESSAGE], [p.seed_lo, p.seed_hi])
}

impl<'a, const B: usize> Height<'a, B> {
    /// A height with the given node sets and no candidates yet; `proofs` is scratch.
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        p: &'a Params,
        tables: &'a [u32],
        replica: u32,
        step: u32,
        height: u32,
        active: NodeSet,
        signers: NodeSet,
        proofs: &'a mut Proofs,
    ) -> Self {
        Height {
            p,
            tables,
            replica,
            step,
            height,
            active,
            signers,
            cands: [Candidate::NONE; MAX_BLOCKS],
            ncand: 0,
            notar: [NEVER; MAX_NODES as usize],
            first: [0; MAX_NODES as usize],
            fin: [NEVER; MAX_NODES as usize],
            fin_tie: [tie::ONE; MAX_NODES as usize],
            tmp: [NEVER; MAX_NODES as usize],
            sigma: [NEVER; MAX_NODES as usize],
            units: 0,
            proofs,
            blocks: core::cell::Cell::new(0),
        }
    }

    #[inline(always)]
    pub(crate) fn words(&self, kind: u32, b: u32, receiver: u32, group: u32) -> [u32; 4] {
        self.blocks.set(self.blocks.get() + 1);
        message_words(self.p, self.replica, self.step, kind, b, receiver, group)
    }

    /// The Philox blocks of the groups in `mask` (bit g: senders 4g..4g+4) of message kind
    /// `kind`, block `b`, `receiver`, into `out[g]`: computed in one loop, so that independent
    /// blocks overlap in the pipeline.
    #[inline(always)]
    pub(crate) fn group_words(&self, kind: u32, b: u32, receiver: u32, mask: u32, out: &mut [[u32; 4]; 32]) {
        self.group_words_at(self.step, kind, b, receiver, mask, out);
    }

    /// [`Self::group_words`] of round step `step` (an earlier height's messages).
    #[inline(always)]
    pub(crate) fn group_words_at(
        &self,
        step: u32,
        kind: u32,
        b: u32,
        receiver: u32,
        mask: u32,
        out: &mut [[u32; 4]; 32],
    ) {
        let base = ((kind * 128 + b) * MAX_NODES + receiver) * 32;
        let key = [self.p.seed_lo, self.p.seed_hi];
        self.blocks.set(self.blocks.get() + mask.count_ones());
        let mut m = mask;
        while m != 0 {
            let g = m.trailing_zeros();
            m &= m - 1;
            out[g as usize] = philox4x32_10([self.replica, step, base + g, stream::MESSAGE], key);
        }
    }

    /// When candidate `c`'s block reaches node `j`, µs (its maker holds it at once).
    #[inline(always)]
    pub fn arrival_us(&self, c: usize, j: u32) -> u64 {
        let cand = &self.cands[c];
        if j == cand.maker {
            return cand.propose_us;
        }
        let w = self.words(kind::BLOCK, cand.word_block(), 0, j >> 2);
        cand.propose_us + delay_us(self.p, self.tables, w[(j & 3) as usize], cand.maker, j)
    }

    /// Earliest arrival at node `j` of a block of rank below candidate `c`'s that counts as a
    /// better proposal, among the candidates that happen (`with_unknown`: or may happen), µs.
    /// A proof unit's blocks never count (see [`crate::proofs`]).
    pub(crate) fn lower_arrival_us(&self, c: usize, j: u32, with_unknown: bool) -> u64 {
        let mut t = NEVER;
        for x in 0..self.ncand {
            let s = self.cands[x].status;
            if self.cands[x].rank < self.cands[c].rank
                && self.cands[x].unit == NO_UNIT
                && (s == status::YES || (with_unknown && s == status::UNKNOWN))
            {
                t = t.min(self.arrival_us(x, j));
            }
        }
        t
    }

    /// Fills `sigma[j]` for the signers in `who`: max(arrival of candidate `c`, eligibility).
    /// Arrivals are read four receivers per Philox block.
    pub(crate) fn fill_sigma(&mut self, views: &NodeViews, c: usize, who: &NodeSet) {
        let cand = self.cands[c];
        let groups = self.p.nodes.div_ceil(4);
        for g in 0..groups {
            let bits = group_bits(who, g);
            if bits == 0 {
                continue;
            }
            let w = self.words(kind::BLOCK, cand.word_block(), 0, g);
            for x in 0..4 {
                let j = 4 * g + x;
                if (bits >> x) & 1 == 1 {
                    let d = if j == cand.maker {
                        0
                    } else {
                        delay_us(self.p, self.tables, w[x as usize], cand.maker, j)
                    };
                    let key = TieKey {
                        replica: self.replica,
                        step: self.step,
                        block: cand.word_block(),
                    };
                    self.sigma[j as usize] =
                        views.eligible_us(self.p, j, cand.rank, self.height, cand.propose_us + d, key);
                }
            }
        }
    }

    /// `tmp[k]` for every active k: the quorum-th smallest arrival at k of shares sent by
    /// `senders` at `send[j]` (its own at delay 0), or NEVER with fewer than a quorum.
    /// Selection as [`sets::SELECT_ABOVE`] says (the value, not the algorithm, is the model;
    /// the WGSL twin streams through an order statistic).
    pub(crate) fn quorum_arrivals(&mut self, kind: u32, b: u32, senders: &NodeSet, use_notar: bool) {
        let n = count(senders);
        let q = self.p.quorum;
        let groups = self.p.nodes.div_ceil(4);
        let mut words = [[0u32; 4]; 32];
        let mut mask = 0u32;
        for g in 0..groups {
            if group_bits(senders, g) != 0 {
                mask |= 1 << g;
            }
        }
        let mut rest = self.active;
        while let Some(k) = next_member(&mut rest) {
            if n < q {
                self.tmp[k as usize] = NEVER;
                continue;
            }
            self.group_words(kind, b, k, mask, &mut words);
            let send = if use_notar { &self.notar } else { &self.sigma };
            let t = self.kth_arrival(n, q, &words, senders, k, send);
            self.tmp[k as usize] = t;
        }
    }

    /// The `q`-th smallest arrival at `k` of the shares sent at `send[j]` by the `n` nodes of
    /// `senders` (its own at delay 0), delays from `words` (groups of four senders).
    /// Selection as [`sets::SELECT_ABOVE`] says.
    #[inline(always)]
    pub(crate) fn kth_arrival(
        &self,
        n: u32,
        q: u32,
        words: &[[u32; 4]; 32],
        senders: &NodeSet,
        k: u32,
        send: &[u64; MAX_NODES as usize],
    ) -> u64 {
        if B > sets::SELECT_ABOVE {
            let mut c = Collect::new();
            self.share_arrivals(&mut c, words, senders, k, send);
            c.kth(q)
        } else {
            let mut os = OrderStat::<B>::new(n, q);
            self.share_arrivals(&mut os, words, senders, k, send);
            os.get()
        }
    }

    /// Puts into `sink` the arrival at `k` of each share sent at `send[j]` by `senders`.
    #[inline(always)]
    pub(crate) fn share_arrivals<S: Sink>(
        &self,
        sink: &mut S,
        words: &[[u32; 4]; 32],
        senders: &NodeSet,
        k: u32,
        send: &[u64; MAX_NODES as usize],
    ) {
        for g in 0..self.p.nodes.div_ceil(4) {
            let bits = group_bits(senders, g);
            for x in 0..4 {
                if (bits >> x) & 1 == 1 {
                    let j = 4 * g + x;
                    let d = if j == k {
                        0
                    } else {
                        delay_us(self.p, self.tables, words[g as usize][x as usize], j, k)
                    };
                    sink.put(send[j as usize] + d);
                }
            }
        }
    }

    /// Relays: every active node forwards the aggregate when it first holds it, one fresh
    /// delay per (sender, receiver). `tmp` becomes the earliest time each active node holds it:
    /// the shortest paths from the direct times, a unique fixed point whatever the order of
    /// the updates (so the WGSL twin may sweep differently and still match). Sweeps until
    /// nothing improves; a sweep offers each receiver only the senders that improved during
    /// the previous sweep (the first sweep all), and of those only the ones that held the
    /// aggregate before the receiver's current best (the others cannot improve it), found
    /// as a prefix of the offered senders sorted by their time at the start of the sweep (a
    /// sender improved later in the sweep is offered again in the next one).
    pub(crate) fn relay(&mut self, kind: u32, b: u32) {
        let mut words = [[0u32; 4]; 32];
        let mut offer = self.active;
        let mut order = [0u8; MAX_NODES as usize];
        let mut snap = [0u64; MAX_NODES as usize];
        let mut useful = [0u8; MAX_NODES as usize];
        while !sets::is_empty(&offer) {
            // Offered senders by their time at the start of the sweep (insertion sort).
            let mut len = 0;
            let mut rest = offer;
            while let Some(m) = next_member(&mut rest) {
                let t = self.tmp[m as usize];
                let mut i = len;
                while i > 0 && snap[i - 1] > t {
                    snap[i] = snap[i - 1];
                    order[i] = order[i - 1];
                    i -= 1;
                }
                snap[i] = t;
                order[i] = m as u8;
                len += 1;
            }
            let mut improved = EMPTY;
            let mut rest = self.active;
            while let Some(k) = next_member(&mut rest) {
                let tk = self.tmp[k as usize];
                let (mut nu, mut mask) = (0, 0u32);
                for i in 0..len {
                    if snap[i] >= tk {
                        break;
                    }
                    let m = order[i] as u32;
                    if m != k && self.tmp[m as usize] < tk {
                        useful[nu] = m as u8;
                        nu += 1;
                        mask |= 1 << (m >> 2);
                    }
                }
                if mask == 0 {
                    continue;
                }
                self.group_words(kind, b, k, mask, &mut words);
                let mut best = tk;
                for &m in &useful[..nu] {
                    let d = delay_us(
                        self.p,
                        self.tables,
                        words[(m >> 2) as usize][(m & 3) as usize],
                        m as u32,
                        k,
                    );
                    best = best.min(self.tmp[m as usize].saturating_add(d));
                }
                if best < tk {
                    self.tmp[k as usize] = best;
                    // A relayed finalization is one delivery (for a notarization unused).
                    self.fin_tie[k as usize] = tie::ONE;
                    sets::set(&mut improved, k, true);
                }
            }
            offer = improved;
        }
    }

    /// Notarization times `notar`/`first` in the world of the candidates and shares that
    /// happen (`with_unknown`: or are undecided).
    pub(crate) fn evaluate(&mut self, views: &NodeViews, with_unknown: bool) {
        let mut rest = self.active;
        while let Some(k) = next_member(&mut rest) {
            self.notar[k as usize] = NEVER;
        }
        for c in 0..self.ncand {
            let cand = self.cands[c];
            if !(cand.status == status::YES || (with_unknown && cand.status == status::UNKNOWN)) {
                continue;
            }
            let senders = if with_unknown {
                sets::or(&cand.yes, &cand.unknown)
            } else {
                cand.yes
            };
            if count(&senders) < self.p.quorum {
                continue;
            }
            self.fill_sigma(views, c, &senders);
            self.quorum_arrivals(kind::NOTAR_SHARE, cand.word_block(), &senders, false);
            self.relay(kind::NOTAR_RELAY, cand.word_block());
            let mut rest = self.active;
            while let Some(k) = next_member(&mut rest) {
                if self.tmp[k as usize] < self.notar[k as usize] {
                    self.notar[k as usize] = self.tmp[k as usize];
                    self.first[k as usize] = c as u32;
                }
            }
        }
    }
}
