//! The dynamic block-maker delay (rule 7 of [`crate::model`]; `Params::dynamic_maker_delay`),
//! as merged in dfinity/ic `rs/consensus/src/consensus/block_maker.rs`: PR #1531 (2024-09: "if
//! in the past 30 rounds [more than] 5 blocks of rank greater than 0 were notarized we will
//! increase the block maker delay for high rank block makers"), PR #2336 (threshold 5 -> 10)
//! and PR #2356 (the extra delay is the unit delay U instead of a constant 10 s). A maker of
//! rank r > 0 proposes at T0 + r U + U instead of T0 + r U when more than
//! [`MAX_NON_RANK_0`] of the last [`LOOK_BACK`] blocks of its parent's chain have rank > 0;
//! rank 0 and the notary delays are unchanged.
//!
//! The chain is tracked per replica as a bit history: bit i set = the chain block i + 1
//! heights below the current height had rank > 0. The coarse model takes the observer's
//! notarized rank of each height as the chain's (the block every maker builds on whenever a
//! height has one notarized block); the fine engine walks each maker's own parent chain.

use crate::params::Params;

/// Chain blocks looked back at: the parent and the 29 below it ("in the past 30 rounds";
/// PR #2356: "at the moment 66%" rank-0 blocks are acceptable, 20 of 30).
pub const LOOK_BACK: u32 = 30;
/// More than this many blocks of rank > 0 in the look-back trigger the extra delay (PR #2336).
pub const MAX_NON_RANK_0: u32 = 10;

/// The history after a height whose chain block has rank `rank` (only the last
/// [`LOOK_BACK`] heights are kept).
#[inline(always)]
pub fn push_rank(history: u32, rank: u32) -> u32 {
    ((history << 1) | (rank > 0) as u32) & ((1u32 << LOOK_BACK) - 1)
}

/// Extra proposal delay of every maker of rank > 0 at a height with chain history `history`,
/// µs: U when the rule is on and more than [`MAX_NON_RANK_0`] of the history's blocks have
/// rank > 0, else 0.
#[inline(always)]
pub fn extra_delay_us(p: &Params, history: u32) -> u64 {
    if p.dynamic_maker_delay != 0 && history.count_ones() > MAX_NON_RANK_0 {
        p.unit_delay_us as u64
    } else {
        0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The history keeps the last 30 heights; 11 blocks of rank > 0 among them trigger U.
    #[test]
    fn eleven_non_rank_0_blocks_of_thirty_add_one_unit_delay() {
        let p = Params {
            unit_delay_us: 1_000_000,
            dynamic_maker_delay: 1,
            ..Params::default()
        };
        let mut h = 0;
        for _ in 0..10 {
            h = push_rank(h, 2);
        }
        assert_eq!(extra_delay_us(&p, h), 0, "10 is not more than 10");
        h = push_rank(h, 1);
        assert_eq!(extra_delay_us(&p, h), 1_000_000);
        for _ in 0..19 {
            h = push_rank(h, 0);
        }
        assert_eq!(h.count_ones(), 11, "30 heights kept");
        h = push_rank(h, 0);
        assert_eq!(extra_delay_us(&p, h), 0, "the oldest rank > 0 block left the window");
        let off = Params {
            dynamic_maker_delay: 0,
            ..p
        };
        assert_eq!(extra_delay_us(&off, (1 << 30) - 1), 0);
    }
}
