//! The coarse ICC model: one replica is one subnet stepping `rounds` round steps, every node
//! with its own view. Pure integer arithmetic, no allocation; the WGSL engine mirrors it file
//! by file (`shaders/model.wgsl`: sets and views, `cert.wgsl`, `backlog.wgsl`, `height.wgsl`, `resolve.wgsl`,
//! `proofs.wgsl`, `late.wgsl`, `shuffle.wgsl`, `failures.wgsl`, `replica.wgsl`: this file,
//! `slice.wgsl`: state between dispatches) and produces the same
//! aggregates bit for bit. The measured quantities are defined once, in [`crate::agg`], for this
//! model and the fine engine (`src/fine/monitor.rs`) alike.
//!
//! # Nodes
//! Ids `[0, crashed)` are down for good, the next `silent` never send anything, the next
//! `equivocating` propose two blocks when they make one and sign nothing, the rest are honest
//! (with dynamic failures they alternate up and down). *Active* nodes (up, not silent) receive
//! every message, relay aggregates and make blocks; *signers* of height h are the active honest
//! members of its committee (the first 3f+1 of a uniform shuffle, stream `COMMITTEE`); the
//! block makers are the first f+1 of another shuffle (stream `RANKING`), rank 0 first.
//!
//! # One height h (heights from 1; node k entered round h at its own start T_k, µs)
//! All times are absolute µs; d(x -> k) is a fresh delay per message and receiver: with a
//! latency matrix (`[network] latency_matrix`, `Params::latency_table`) the pair's base latency
//! B[x][k] (fixed, row = sender, column = receiver; B[m][k] for a block from maker m), plus the
//! network delay (then the per-message jitter) plus, with `processing`, the receiver's
//! processing delay (`[node] processing`, [`crate::views::delay_us`]); a node's own artifacts
//! take no delay. Without a matrix B = 0 and nothing else changes.
//! 1. **Proposals.** The rank-r maker m proposes at P = T_m + r U unless, strictly before P,
//!    it holds a block of lower rank or a notarization of h. An equivocating maker proposes
//!    two blocks (each with its own delays). The block reaches k at P + d(m -> k).
//! 2. **Notarization shares.** Signer j may sign a rank-r block from E_j(r) = the first t >= T_j
//!    with t >= T_j + N(r, g_j(t)), N(r, g) = N0 + r U 1.5^g (Q16, floor, g <= 40; 1.5^0
//!    without backoff), g_j(t) = (h - 1) - the highest height j holds finalized at t (it drops
//!    as finalizations arrive). It signs block b at s = max(arrival, E_j(r)) unless, strictly
//!    before s, it holds a notarization of h or a block of lower rank; blocks of one rank are
//!    all signed (both of an equivocator).
//! 3. **Notarization.** Node k holds b notarized at the first of: the 2f+1-th arrival of
//!    shares on b at k (its own at delay 0), or a relayed notarization: every active node relays
//!    each notarization it first holds, at that time, to every other (fresh delays). notar_k =
//!    its first notarization of any block of h; the observer's round time is notar_o - T_o
//!    (+ the calibrated round overhead; 0 if it held the notarization before its own round
//!    start) and its rank that block's rank.
//!    Steps 1-3 are resolved exactly by `Height::resolve` (decisions in time order).
//! 4. **Finalization.** Signer j sends a finalization share at notar_j on its first notarized
//!    block iff it notarization-signed no other block of h. Node k finalizes h at the first of
//!    the 2f+1-th arrival of shares on one block (own at 0) or a relayed finalization. The
//!    height counts as finalized iff the observer finalizes it so (not only as an ancestor);
//!    its finalization time is fin_o - T_o (+ both calibrated overheads).
//! 5. **Beacon and next round.** Each signer sends its beacon share of h at T_j; node k holds
//!    beacon h at the f+1-th arrival (own at 0) and starts h + 1 at max(notar_k + round
//!    overhead, beacon_k).
//!
//! 6. **Equivocation proofs** (`equivocation_proofs = 1`, the default; as deployed: dfinity/ic
//!    `rs/consensus/src/consensus/validator.rs`, `notary.rs`, `block_maker.rs` and
//!    `find_lowest_ranked_non_disqualified_proposals` in `rs/consensus/utils`; see
//!    [`crate::proofs`]). An equivocator's two blocks form a proof unit. An honest active node
//!    k builds the proof when it holds both (max of the two arrivals) and relays it at once to
//!    every other honest active node (fresh delays); D_k = its first proof (shortest path;
//!    equivocating nodes neither build nor relay). Signer j never signs the second of the two
//!    blocks to reach it (the validator turns it into the proof; when both reach it at the same
//!    µs, a fair coin per node decides which came first, as the fine engine's seed-keyed order
//!    of simultaneous events does with crypto CPU time off; with it on, the fine maker signs
//!    its second block after the first, so under constant delays every node gets variant 0
//!    first there),
//!    nor either block at s when D_j < s. A unit's blocks never count as a lower-rank block
//!    in rules 1 and 2. The two proposals of a unit are decided together. Without proofs
//!    (`= 0`) both blocks of one rank are signed (step 2) and count as lower blocks.
//!    Approximation: a deployed node counts the first block of a unit as a better proposal
//!    until it holds the proof (then makes its block, or signs the higher rank, as the fine
//!    engine does); the model treats the proof as held by then, which only differs when a
//!    proof reaches a maker or signer later than its own proposal or notary time (U or more
//!    after the blocks: delays near U).
//! 7. **Dynamic block-maker delay** (`dynamic_maker_delay = 1`, the default; dfinity/ic PRs
//!    #1531, #2336, #2356, see [`crate::maker_delay`]): in rule 1 a maker of rank r > 0
//!    proposes at P = T_m + r U + U when more than 10 of the chain's last 30 heights had a
//!    notarized rank > 0 (the chain's rank at a height is the observer's notarized rank).
//! 8. **Execution and certification** (`[execution] time`; `certification_backlog = 1`, the
//!    default; as deployed: dfinity/ic `rs/consensus/src/consensus/notary.rs`, `consensus.rs`;
//!    see [`crate::cert`]). After steps 1-5, every honest active node that finalized h
//!    directly executes it (and the heights below it not yet executed) at ex_k(h) =
//!    max(ex_k(h - 1), fin_k) + X_h (X_h one draw per height, the same at every node) and
//!    sends its certification share; it holds h certified at max(ex_k(h), the (n - f)-th
//!    share arrival, its own at 0). A node that finalized h only as an ancestor executes it
//!    with the next height it finalizes directly; h is then certified again from those late
//!    shares too, and the observer's certification of h counted only then ([`crate::late`]).
//!    In step 2 the notary delay of every rank then also includes 2,000 ms x (F - C) while
//!    F - C > 1 (F, C the signer's finalized and certified heights at t; both only grow),
//!    and nothing is signed while (h - 1) - C >= 70. The
//!    condition is no longer monotone in t (a finalization raises F - C), and the notary
//!    re-checks it whenever its pool changes (`notary.rs`): j signs block b at the first
//!    t >= its arrival at which t >= T_j + N(r, g(t)) + the backlog holds (not at
//!    max(arrival, the first t at which it held)). When a finalization that would make j wait
//!    completes at j at the very µs the block arrives (constant or discrete delays), the order
//!    of the two decides, and the fine engine takes simultaneous deliveries in a seed-keyed
//!    random order: the block comes first (j signs at once) with probability need / (m + 1)
//!    when the need-th of the m finalization shares reaching j at that µs completed the
//!    quorum ([`crate::views::tie`]; a relayed finalization counts as 1 of 1; with several
//!    blocks at that µs each block's position is drawn alone). A certification at that µs
//!    cannot make j wait: the block counts first. With X = 0 and short delays the gap stays
//!    below 2 and nothing changes but the measurements.
//!
//! A step is *stalled* when no rank has an active maker or fewer than 2f+1 signers are up;
//! with equivocation proofs an equivocating maker does not count (its rank is disqualified;
//! only possible with more than f faulty nodes).
//! With static faults nothing can change: every remaining step is stalled and no time passes.
//! With dynamic failures the replica waits for the next recovery (stall time) and retries the
//! height; failures are advanced to the earliest round start of the height, a recovering node
//! rejoins at that time holding height h - 1 finalized, and after a stall every node's round
//! starts at the recovery. Stall time is added only once the replica has notarized a height
//! (a replica that starts stalled counts those steps, not their time; see [`crate::agg`]).
//!
//! Approximations, each negligible in every validated scenario: at most 16 candidate blocks
//! per height (higher ranks are dropped); a node keeps at most two finalizations in flight
//! (the oldest is taken as arrived); a height directly finalized after a later one is still
//! counted (the fine engine then drops it as below its finalized height); a block's parent is
//! taken as notarized at every node (after two blocks of h - 1 were notarized, a node whose
//! first notarized block differs from the maker's waits in the fine engine, as in the
//! replica, for the relayed notarization of the maker's parent). With dynamic failures a
//! node's state changes only at a height's earliest round start: a node that goes down within
//! a height still sends its shares of that height, and a recovering node rejoins at once,
//! without the fine engine's catch-up round trip (in `v-app-13-dynamic`, MTBF 3 min and MTTR
//! 36 s, the fine engine finalizes 99.0% of heights directly where this model finalizes all;
//! the other metrics agree: results/validation/README.md).
//!
//! # Random words (all Philox4x32-10 with the run seed as key)
//! - Step s of replica i: message words at counter (i, s, index, `MESSAGE`), word x of the
//!   block, index = ((kind 128 + b) 128 + receiver) 32 + sender / 4 and x = sender % 4, with b =
//!   2 rank + variant of the block concerned (0 for the beacon and the observer). Kinds: 0 the
//!   observer (index 0, word 0: uniform among the active honest nodes), 1 block delays (receiver
//!   field 0, "sender" = the receiver id), 2 notarization shares, 3 relayed notarizations, 4
//!   finalization shares, 5 relayed finalizations, 6 beacon shares, 7 relayed equivocation
//!   proofs (b = 2 rank of the unit; a unit's direct proof times read the kind-1 words of
//!   both blocks, four receivers per block; b = 2 rank + 1, group 0, word 0, low bit: receiver
//!   k's coin when both blocks reach it at the same µs, drawn only then), 8 certification
//!   shares (b = 0), 9 a block's position among the deliveries at the µs of a finalization
//!   (b = 2 rank + variant of the block, receiver k, group 0, word 0; drawn only at such a
//!   tie; the finalization shares' words are read again to count the shares at that µs, only
//!   where the finalization would raise the backlog). A word's value depends only
//!   on its address, so the order of computation is free (the base latency B[s][r] is added
//!   to the sample and depends on the pair only, not on the word); words whose value cannot change the
//!   outcome are not computed (a relay from a node that holds the aggregate no earlier than the
//!   receiver; beacon shares beyond the f+1-th arrival by the notarization).
//! - Height h: committee shuffle (i, h, word / 4, `COMMITTEE`), ranking shuffle
//!   (i, h, word / 4, `RANKING`), one word per shuffled position.
//! - Dynamic failures: node k's transition t at (i, t, k, `FAILURE`).
//! - Execution time of height h: word 0 of (i, h, 0, `EXECUTION`), only with `[execution]`.
//! - A height certified again from late shares ([`crate::late`]) reads the certification-share
//!   words of its own step again (the same words, so never a later certification).
//!
//! # Memory per replica
//! Node views carry 28 u32 words per node (round start, finalized height, two finalizations in
//! flight with how each completed: 11; executed height and time, certified height, four certifications in flight: 17),
//! 3 more with dynamic failures; the four late certification records ([`crate::late`]) keep
//! 2 words per node and 7 more each; a height's scratch is 5 arrays of 128 u64 plus 16
//! candidates of 15 words, and proof times of 8 units x 128 u32 (4 KiB, kept across heights
//! and written only for units): about 28 KiB per replica at n = 128, and no per-pair
//! state (pair delays are recomputed from their word address). A latency matrix is n^2 u32
//! (at most 64 KiB) appended to the read-only tables, shared by all replicas. The WGSL twin sizes its
//! arrays by a class of n (`NodeClass` in `src/gpu/shaders.rs`): 232 bytes per node (100 of
//! them execution and certification) plus about 1.8 KiB, 12.7 KiB per invocation for n <= 48
//! and 31.1 KiB for n <= 128; between dispatches it keeps 39 words per node and 36 per replica
//! in device memory.

use crate::agg::{self, batch_index, batch_of};
use crate::cert;
use crate::failures::Failures;
use crate::height::{kind, message_words, Height};
use crate::late::{self, LateCert, LateCerts, LATE};
use crate::maker_delay;
use crate::params::{Params, MAX_NODES};
use crate::philox::{stream, uniform_below, WordStream};
use crate::proofs::Proofs;
use crate::sets::{and, contains, count, nth_member, set, NodeSet, EMPTY, ORDER_BUF};
use crate::shuffle::{committee, Shuffle};
use crate::views::{NodeViews, NEVER};

/// Adds `v` to batch counter `field`.
#[inline(always)]
fn add(agg: &mut [u64], batch: u32, field: u32, v: u64) {
    agg[batch_index(batch, field)] += v;
}

/// A node set of the ids in `lo..hi`.
fn range_set(lo: u32, hi: u32) -> NodeSet {
    let mut s = EMPTY;
    for i in lo..hi {
        set(&mut s, i, true);
    }
    s
}

/// Steps the rounds of replica `replica` (global id) and adds its results to `agg`
/// (length [`agg::AGG_LEN`]). Returns the Philox blocks it computed (messages, committee and
/// ranking shuffles, failures), for the benchmark's words-per-round figure.
pub fn simulate_replica(p: &Params, tables: &[u32], replica: u32, agg: &mut [u64]) -> u64 {
    // The order-statistic buffer only needs f + 1 slots; small subnets get small buffers.
    match p.makers {
        0..=5 => simulate::<5>(p, tables, replica, agg),
        6 => simulate::<6>(p, tables, replica, agg),
        7..=8 => simulate::<8>(p, tables, replica, agg),
        9..=10 => simulate::<10>(p, tables, replica, agg),
        11..=12 => simulate::<12>(p, tables, replica, agg),
        13..=14 => simulate::<14>(p, tables, replica, agg),
        15..=16 => simulate::<16>(p, tables, replica, agg),
        17..=24 => simulate::<24>(p, tables, replica, agg),
        25..=32 => simulate::<32>(p, tables, replica, agg),
        _ => simulate::<ORDER_BUF>(p, tables, replica, agg),
    }
}

fn simulate<const B: usize>(p: &Params, tables: &[u32], replica: u32, agg: &mut [u64]) -> u64 {
    let mut blocks: u64 = 0;
    let key = [p.seed_lo, p.seed_hi];
    let all = range_set(0, p.nodes);
    let byz_lo = p.crashed + p.silent;
    let honest = range_set(byz_lo + p.equivocating, p.nodes);
    let equivocating = range_set(byz_lo, byz_lo + p.equivocating);
    let mut not_equivocating = [!0u32; 4];
    for i in byz_lo..byz_lo + p.equivocating {
        set(&mut not_equivocating, i, false);
    }
    let not_silent = [!0u32; 4];
    let not_silent = {
        let mut s = not_silent;
        for i in p.crashed..byz_lo {
            set(&mut s, i, false);
        }
        s
    };
    let mut up = range_set(p.crashed, p.nodes);
    let mut failures = if p.dynamic_failures != 0 {
        Some(Failures::init(p, tables, replica, &mut up))
    } else {
        None
    };
    let mut views = NodeViews::genesis();
    // Ranks of the chain's last heights (rule 7).
    let mut rank_history: u32 = 0;
    let mut proofs = Proofs::new();
    let mut next = [NEVER; MAX_NODES as usize];
    // A height certified again with late shares (rule 8; `crate::late`).
    let mut late = LateCerts::EMPTY;
    let mut height: u32 = 1;
    let mut step: u32 = 0;
    let mut members = committee(p, &all, replica, height);
    let mut ranking = Shuffle::new(p.nodes, WordStream::new(key, replica, height, stream::RANKING, 2));

    while step < p.rounds {
        let batch = batch_at(p, replica, step);
        let mut active = and(&up, &not_silent);
        let mut t_ref = 0;
        if let Some(f) = failures.as_mut() {
            // The replica's clock: the earliest round start of this height.
            t_ref = u64::MAX;
            for k in 0..p.nodes {
                if contains(&active, k) {
                    t_ref = t_ref.min(views.start[k as usize]);
                }
            }
            if t_ref == u64::MAX {
                t_ref = views.start[0];
            }
            let before = up;
            f.advance(p, tables, replica, t_ref, &mut up);
            for k in 0..p.nodes {
                if contains(&up, k) && !contains(&before, k) {
                    views.rejoin(k, height, t_ref);
                }
            }
            active = and(&up, &not_silent);
        }
        let signers = and(&and(&members, &up), &honest);
        // With proofs, an equivocator's rank is disqualified: it cannot carry the height.
        let proposers = if p.equivocation_proofs != 0 {
            and(&active, &not_equivocating)
        } else {
            active
        };
        let mut maker_up = false;
        for r in 0..p.makers {
            maker_up |= contains(&proposers, ranking.at(r));
        }
        if !maker_up || count(&signers) < p.quorum {
            let recovery = match failures.as_ref() {
                Some(f) => f.next_recovery_us(p, &up),
                None => u64::MAX,
            };
            if recovery == u64::MAX {
                // Nothing can change: the replica is stalled for good.
                while step < p.rounds {
                    add(
                        agg,
                        batch_of(replica, step, p.rounds, p.batch_segments),
                        agg::F_STALLED,
                        1,
                    );
                    step += 1;
                }
            } else {
                add(agg, batch, agg::F_STALLED, 1);
                // A stall the replica starts in (no height notarized yet) is left out of
                // the time: its length is length-biased (see `agg`, "time stalled").
                if height > 1 {
                    add(agg, batch, agg::F_STALL_US, recovery - t_ref);
                }
                for k in 0..p.nodes {
                    views.start[k as usize] = views.start[k as usize].max(recovery);
                }
                step += 1;
            }
            continue;
        }

        let mut h = Height::<B>::new(p, tables, replica, step, height, active, signers, &mut proofs);
        let extra = maker_delay::extra_delay_us(p, rank_history);
        h.propose(&views, &equivocating, extra, |r| ranking.at(r));
        h.resolve(&views);
        h.finalize(&views);
        let honest_active = and(&active, &honest);
        let w = message_words(p, replica, step, kind::OBSERVER, 0, 0, 0)[0];
        let observer = nth_member(&honest_active, uniform_below(w, count(&honest_active)));
        let out = h.outcome(&views, observer);
        let obs_start_us = views.start[observer as usize];

        rank_history = maker_delay::push_rank(rank_history, out.rank);
        add(agg, batch, agg::F_NOTARIZED, 1);
        add(agg, batch, agg::F_ROUND_US, out.round_us);
        add(agg, batch, agg::F_RANK_SUM, out.rank as u64);
        add(agg, batch, agg::F_RANK0, (out.rank == 0) as u64);
        agg[(agg::HIST_ROUND + agg::time_bin(out.round_us)) as usize] += 1;
        agg[(agg::HIST_RANK + out.rank.min(agg::RANK_BINS - 1)) as usize] += 1;
        if let Some(fin) = out.finalization_us {
            add(agg, batch, agg::F_FINALIZED, 1);
            add(agg, batch, agg::F_FIN_US, fin);
            agg[(agg::HIST_FIN + agg::time_bin(fin)) as usize] += 1;
        }

        for k in 0..p.nodes {
            if contains(&active, k) {
                next[k as usize] = h.next_start_us(&views, k);
            }
        }
        for k in 0..p.nodes {
            if contains(&active, k) {
                views.advance(k, height, h.fin[k as usize], h.fin_tie[k as usize], next[k as usize]);
            }
        }

        // Rule 8: the honest nodes execute the height and certify it; `next` now holds the
        // times they send their certification shares (and `late` those of its height).
        let x_us = cert::execution_us(p, tables, replica, height);
        let mut certifiers = EMPTY;
        for k in 0..p.nodes {
            if contains(&honest_active, k) {
                next[k as usize] = views.execute(p, tables, replica, k, height, h.fin[k as usize], x_us, &mut late);
                set(&mut certifiers, k, next[k as usize] != NEVER);
            }
        }
        // Earlier heights whose late shares have all been sent (oldest first), and room for
        // this one if it waits for late shares too.
        let complete = certifiers == honest_active;
        while late.len > 0 && (late.oldest_complete(&views, &honest_active, p.nodes) || (!complete && late.len == LATE))
        {
            resolve_oldest(&h, &mut late, &mut views, &honest_active, agg);
        }
        let mut cert_o = NEVER;
        for k in 0..p.nodes {
            if contains(&honest_active, k) {
                let c = if contains(&certifiers, k) {
                    h.certified_us(step, &next, &certifiers, k)
                } else {
                    NEVER
                };
                views.certified(k, height, c);
                if k == observer {
                    cert_o = c;
                }
            }
        }
        let record = LateCert {
            height,
            step,
            observer,
            obs_start_us,
            obs_fin_us: h.fin[observer as usize],
            share_us: next,
        };
        if complete {
            count_certification(p, agg, batch, &record, cert_o);
        } else {
            // Some node executes this height late: it is certified again then.
            let mut r = record;
            for k in 0..p.nodes {
                if !contains(&certifiers, k) {
                    r.share_us[k as usize] = NEVER;
                }
            }
            late.push(r);
        }
        // Messages and observer, execution, then the shuffles' words (4 per block).
        blocks += h.blocks.get() as u64
            + 1
            + p.execution as u64
            + (p.nodes - p.committee).div_ceil(4) as u64
            + ranking.drawn().div_ceil(4) as u64;
        height += 1;
        members = committee(p, &all, replica, height);
        ranking.restart(height);
        step += 1;
    }
    if late.len > 0 {
        // The run ended (or stalled for good) with records kept: the shares sent by now.
        let h = Height::<B>::new(p, tables, replica, step, height, EMPTY, EMPTY, &mut proofs);
        while late.len > 0 {
            resolve_oldest(&h, &mut late, &mut views, &EMPTY, agg);
        }
        blocks += h.blocks.get() as u64;
    }
    debug_assert_eq!(agg.len(), agg::AGG_LEN as usize);
    blocks
}

/// The batch of round step `step`: one per replica unless replicas are split into segments
/// (few replicas).
#[inline(always)]
fn batch_at(p: &Params, replica: u32, step: u32) -> u32 {
    if p.batch_segments == 1 {
        replica % agg::BATCHES
    } else {
        batch_of(replica, step, p.rounds, p.batch_segments)
    }
}

/// Resolves and drops the oldest late record ([`late::resolve`]) and counts its observer's
/// certification in the batch of its step.
fn resolve_oldest<const B: usize>(
    h: &Height<B>,
    late: &mut LateCerts,
    views: &mut NodeViews,
    receivers: &NodeSet,
    agg: &mut [u64],
) {
    let r = &late.rec[0];
    let c = late::resolve(h, r, views, receivers);
    count_certification(h.p, agg, batch_at(h.p, h.replica, r.step), r, c);
    late.pop_oldest();
}

/// Counts the observer's certification of `record`'s height at `cert_o` µs (`NEVER`: none;
/// see [`crate::agg`], "certification").
fn count_certification(p: &Params, agg: &mut [u64], batch: u32, record: &LateCert, cert_o: u64) {
    if cert_o == NEVER {
        return;
    }
    add(agg, batch, agg::F_CERTIFIED, 1);
    let overheads = p.round_overhead_us as u64 + p.finalization_overhead_us as u64;
    add(
        agg,
        batch,
        agg::F_CERT_US,
        cert_o.saturating_sub(record.obs_start_us) + overheads,
    );
    if record.obs_fin_us != NEVER {
        add(agg, batch, agg::F_CERT_LAG_US, cert_o.saturating_sub(record.obs_fin_us));
    }
}
