//! Deciding a height's proposals and notarization shares in time order, then its
//! finalization, beacon and next round starts (see [`crate::model`] for the rules).

use crate::height::{kind, status, Candidate, Height, Outcome, MAX_BLOCKS};
use crate::proofs::NO_UNIT;
use crate::sets::{self, contains, count, group_bits, next_member, NodeSet, OrderStat, Sink, EMPTY};
use crate::views::{delay_us, tie, NodeViews, NEVER};

impl<'a, const B: usize> Height<'a, B> {
    /// Candidate blocks of ranks `0..makers` (`maker_of(r)` = the rank-r maker), in rank
    /// order. A maker that is not active, or that already holds a block of lower rank that
    /// happens and counts ([`Height::lower_arrival_us`]) by its proposal time, is left out; a
    /// candidate is decided `YES` at once when every lower candidate is decided and no
    /// notarization can exist by its proposal time (every notarization needs a quorum of
    /// signers past their notary delay). With equivocation proofs, an equivocator's pair
    /// becomes a proof unit as soon as it is a candidate. Makers of rank > 0 propose `extra_us`
    /// later (the dynamic block-maker delay, [`crate::maker_delay`]).
    pub fn propose(
        &mut self,
        views: &NodeViews,
        equivocating: &NodeSet,
        extra_us: u64,
        mut maker_of: impl FnMut(u32) -> u32,
    ) {
        let p = self.p;
        let mut honest_active = self.active;
        for (w, e) in honest_active.iter_mut().zip(equivocating) {
            *w &= !e;
        }
        // q-th smallest round start among the signers: no rank-r share exists before it + N0 + rU.
        let mut os = OrderStat::<B>::new(count(&self.signers), p.quorum);
        let mut rest = self.signers;
        while let Some(j) = next_member(&mut rest) {
            os.push(views.start[j as usize]);
        }
        let tq = os.get();
        let u = p.unit_delay_us as u64;
        let n0 = p.initial_notary_delay_us as u64;
        let mut undecided = false;
        for r in 0..p.makers {
            let m = maker_of(r);
            if !contains(&self.active, m) {
                continue;
            }
            let propose_us = views.start[m as usize] + r as u64 * u + if r > 0 { extra_us } else { 0 };
            // Every candidate so far has a lower rank; a proof unit's blocks never count.
            let mut seen = NEVER;
            for x in 0..self.ncand {
                if self.cands[x].status == status::YES && self.cands[x].unit == NO_UNIT {
                    seen = seen.min(self.arrival_us(x, m));
                }
            }
            if seen < propose_us {
                continue;
            }
            let variants = if contains(equivocating, m) { 2 } else { 1 };
            if self.ncand + variants > MAX_BLOCKS {
                break;
            }
            // Earliest possible notarization of any other block (candidate or later rank).
            let mut bound = tq.saturating_add(n0 + (r as u64 + 1) * u);
            for x in 0..self.ncand {
                let c = &self.cands[x];
                if c.status != status::NO {
                    bound = bound.min(c.propose_us.max(tq.saturating_add(n0 + c.rank as u64 * u)));
                }
            }
            let decided = !undecided && propose_us < bound;
            for v in 0..variants {
                self.cands[self.ncand] = Candidate {
                    maker: m,
                    rank: r,
                    variant: v as u32,
                    propose_us,
                    status: if decided { status::YES } else { status::UNKNOWN },
                    yes: EMPTY,
                    unknown: self.signers,
                    unit: NO_UNIT,
                };
                self.ncand += 1;
            }
            if variants == 2 && p.equivocation_proofs != 0 {
                self.build_proof_unit(self.ncand - 2, &honest_active);
            }
            undecided |= !decided;
        }
    }

    /// Decides every proposal and notarization share in time order, then leaves the
    /// notarization times of what happens in `notar`/`first`. An action is suppressed when, strictly before its
    /// time, its node holds a notarization of the height or (shares, proposals) a block of
    /// lower rank that counts ([`Height::lower_arrival_us`]); a share also when a proof rules it
    /// out ([`Height::proof_rules_out`]; fixed once its unit happens). An equivocator's two
    /// proposals are decided together. Bounds: the world with every undecided action gives the earliest
    /// notarizations (an action not suppressed there happens); the world with only decided
    /// ones the latest (an action suppressed there is suppressed). The earliest undecided
    /// action left after both passes depends only on decided ones, so it happens.
    pub fn resolve(&mut self, views: &NodeViews) {
        loop {
            self.evaluate(views, true);
            for c in 0..self.ncand {
                let cand = self.cands[c];
                if cand.status == status::UNKNOWN
                    && self.lower_arrival_us(c, cand.maker, true) >= cand.propose_us
                    && self.notar[cand.maker as usize] >= cand.propose_us
                {
                    self.cands[c].status = status::YES;
                }
                if self.cands[c].status == status::YES {
                    self.fill_sigma(views, c, &cand.unknown);
                    let mut rest = cand.unknown;
                    while let Some(j) = next_member(&mut rest) {
                        let s = self.sigma[j as usize];
                        if self.notar[j as usize] >= s
                            && self.lower_arrival_us(c, j, true) >= s
                            && !self.proof_rules_out(c, j, s)
                        {
                            sets::set(&mut self.cands[c].unknown, j, false);
                            sets::set(&mut self.cands[c].yes, j, true);
                        }
                    }
                }
            }
            if !self.any_unknown() {
                return; // the optimistic world was the real one
            }
            self.evaluate(views, false);
            for c in 0..self.ncand {
                let cand = self.cands[c];
                if cand.status == status::UNKNOWN
                    && (self.lower_arrival_us(c, cand.maker, false) < cand.propose_us
                        || self.notar[cand.maker as usize] < cand.propose_us)
                {
                    self.cands[c].status = status::NO;
                }
                if self.cands[c].status == status::NO {
                    self.cands[c].unknown = EMPTY;
                    continue;
                }
                if self.cands[c].status == status::YES {
                    self.fill_sigma(views, c, &cand.unknown);
                    let mut rest = cand.unknown;
                    while let Some(j) = next_member(&mut rest) {
                        let s = self.sigma[j as usize];
                        if self.notar[j as usize] < s
                            || self.lower_arrival_us(c, j, false) < s
                            || self.proof_rules_out(c, j, s)
                        {
                            sets::set(&mut self.cands[c].unknown, j, false);
                        }
                    }
                }
            }
            if !self.any_unknown() {
                return; // `notar` was evaluated with exactly the actions that happen
            }
            self.decide_earliest(views);
        }
    }

    fn any_unknown(&self) -> bool {
        (0..self.ncand).any(|c| self.cands[c].status == status::UNKNOWN || !sets::is_empty(&self.cands[c].unknown))
    }

    /// Marks the earliest undecided action as happening (proposals before shares at equal
    /// times, then candidate order, then node id). Shares of undecided proposals wait for it.
    fn decide_earliest(&mut self, views: &NodeViews) {
        let mut best = NEVER;
        let mut best_c = 0;
        let mut best_j = NO_SHARE;
        for c in 0..self.ncand {
            let cand = self.cands[c];
            if cand.status == status::UNKNOWN && cand.propose_us < best {
                best = cand.propose_us;
                best_c = c;
                best_j = NO_SHARE;
            }
        }
        for c in 0..self.ncand {
            if self.cands[c].status != status::YES {
                continue;
            }
            let unknown = self.cands[c].unknown;
            self.fill_sigma(views, c, &unknown);
            let mut rest = unknown;
            while let Some(j) = next_member(&mut rest) {
                let s = self.sigma[j as usize];
                if s < best {
                    best = s;
                    best_c = c;
                    best_j = j;
                }
            }
        }
        if best_j == NO_SHARE {
            self.cands[best_c].status = status::YES;
            // A proof unit happens as a whole (its proof times assume both blocks).
            let unit = self.cands[best_c].unit;
            if unit != NO_UNIT {
                for c in 0..self.ncand {
                    if self.cands[c].unit == unit {
                        self.cands[c].status = status::YES;
                    }
                }
            }
        } else {
            sets::set(&mut self.cands[best_c].unknown, best_j, false);
            sets::set(&mut self.cands[best_c].yes, best_j, true);
        }
    }

    /// Finalization: a signer sends its finalization share when it first holds a
    /// notarization (at `notar`), on that block, iff it notarization-signed no other block.
    /// `fin[k]` = the first finalization of a block of this height at active node k (a quorum
    /// of shares, its own at delay 0, or a relayed finalization); `fin_tie[k]` how it completed
    /// ([`Height::count_ties`]). At most one block gets a quorum (two would need 2(2f + 1)
    /// honest senders, each signing one block).
    pub fn finalize(&mut self, views: &NodeViews) {
        let mut rest = self.active;
        while let Some(k) = next_member(&mut rest) {
            self.fin[k as usize] = NEVER;
            self.fin_tie[k as usize] = tie::ONE;
        }
        for c in 0..self.ncand {
            if self.cands[c].status != status::YES {
                continue;
            }
            let mut senders = EMPTY;
            let mut rest = self.signers;
            while let Some(j) = next_member(&mut rest) {
                if self.notar[j as usize] == NEVER || self.first[j as usize] != c as u32 {
                    continue;
                }
                let other = (0..self.ncand).any(|x| x != c && contains(&self.cands[x].yes, j));
                if !other {
                    sets::set(&mut senders, j, true);
                }
            }
            if count(&senders) < self.p.quorum {
                continue;
            }
            let b = self.cands[c].word_block();
            self.quorum_arrivals(kind::FIN_SHARE, b, &senders, true);
            self.count_ties(views, b, &senders);
            self.relay(kind::FIN_RELAY, b);
            let mut rest = self.active;
            while let Some(k) = next_member(&mut rest) {
                self.fin[k as usize] = self.fin[k as usize].min(self.tmp[k as usize]);
            }
        }
    }

    /// `fin_tie[k]` for each active node k whose quorum of finalization shares (at `tmp[k]`)
    /// could make it wait if a block arrived at that µs: with the certification backlog on,
    /// when the finalized height would then lead the height k holds certified before that µs
    /// by more than 1. Counts the shares that reach k before and at `tmp[k]`, reading their
    /// words again (the rare case; elsewhere `fin_tie` keeps [`tie::ONE`], which cannot change
    /// an outcome: a finalization that does not raise the backlog never makes a node wait).
    fn count_ties(&mut self, views: &NodeViews, b: u32, senders: &NodeSet) {
        if self.p.certification_backlog == 0 {
            return;
        }
        let mut mask = 0u32;
        for g in 0..self.p.nodes.div_ceil(4) {
            if group_bits(senders, g) != 0 {
                mask |= 1 << g;
            }
        }
        let mut words = [[0u32; 4]; 32];
        let mut rest = self.active;
        while let Some(k) = next_member(&mut rest) {
            let t = self.tmp[k as usize];
            if t == NEVER || views.certified_before(k, t) + 1 >= self.height {
                continue;
            }
            self.group_words(kind::FIN_SHARE, b, k, mask, &mut words);
            let mut c = TieCount { t, below: 0, at: 0 };
            self.share_arrivals(&mut c, &words, senders, k, &self.notar);
            self.fin_tie[k as usize] = tie::pack(self.p.quorum - c.below, c.at);
        }
    }

    /// Node k's next round start, µs: when it holds both its notarization (plus the
    /// calibrated round overhead) and the beacon of this height, combined from the first
    /// f + 1 beacon shares to arrive (sent by the signers at their round starts; its own at
    /// delay 0). Shares are read in id order and the count stops at f + 1 arrivals by the
    /// notarization, since the exact beacon time is needed only when it comes later.
    pub fn next_start_us(&self, views: &NodeViews, k: u32) -> u64 {
        let p = self.p;
        let target = self.notar[k as usize] + p.round_overhead_us as u64;
        let need = p.makers; // f + 1
        let groups = p.nodes.div_ceil(4);
        let mut arrived = 0;
        for g in 0..groups {
            let bits = group_bits(&self.signers, g);
            if bits == 0 {
                continue;
            }
            let w = self.words(kind::BEACON, 0, k, g);
            for x in 0..4 {
                let j = 4 * g + x;
                if (bits >> x) & 1 == 1 {
                    let d = if j == k {
                        0
                    } else {
                        delay_us(p, self.tables, w[x as usize], j, k)
                    };
                    if views.start[j as usize] + d <= target {
                        arrived += 1;
                    }
                }
            }
            if arrived >= need {
                return target;
            }
        }
        // The beacon comes after the notarization: its exact time.
        let mut os = OrderStat::<B>::new(count(&self.signers), need);
        for g in 0..groups {
            let bits = group_bits(&self.signers, g);
            if bits == 0 {
                continue;
            }
            let w = self.words(kind::BEACON, 0, k, g);
            for x in 0..4 {
                let j = 4 * g + x;
                if (bits >> x) & 1 == 1 {
                    let d = if j == k {
                        0
                    } else {
                        delay_us(p, self.tables, w[x as usize], j, k)
                    };
                    os.push(views.start[j as usize] + d);
                }
            }
        }
        target.max(os.get())
    }

    /// The observer's outcome: `observer` is an honest active node.
    pub fn outcome(&self, views: &NodeViews, observer: u32) -> Outcome {
        let o = observer as usize;
        let t0 = views.start[o];
        let round_us = self.notar[o].saturating_sub(t0) + self.p.round_overhead_us as u64;
        let finalization_us = if self.fin[o] == NEVER {
            None
        } else {
            Some(
                self.fin[o].saturating_sub(t0)
                    + self.p.round_overhead_us as u64
                    + self.p.finalization_overhead_us as u64,
            )
        };
        Outcome {
            rank: self.cands[self.first[o] as usize].rank,
            round_us,
            finalization_us,
        }
    }
}

/// "No share" in [`Height::decide_earliest`].
const NO_SHARE: u32 = u32::MAX;

/// Counts the values below and at `t` ([`Height::count_ties`]).
struct TieCount {
    t: u64,
    below: u32,
    at: u32,
}

impl Sink for TieCount {
    #[inline(always)]
    fn put(&mut self, x: u64) {
        self.below += (x < self.t) as u32;
        self.at += (x == self.t) as u32;
    }
}
