//! Uniform shuffles of the node ids, read lazily from a Philox word stream: the committee of
//! a height (stream `COMMITTEE`) and its block-maker ranking (stream `RANKING`; rule 1 of
//! [`crate::model`]). The WGSL twin is `shaders/shuffle.wgsl`.

use crate::params::{Params, MAX_NODES};
use crate::philox::{stream, uniform_below, WordStream};
use crate::sets::{set, NodeSet};

/// Lazy partial Fisher-Yates shuffle of `0..n` reading one word per position.
pub struct Shuffle {
    perm: [u8; MAX_NODES as usize],
    drawn: u32,
    n: u32,
    words: WordStream,
}

impl Shuffle {
    /// Restarts the shuffle for another counter `c1` (another height), reusing the buffers.
    #[inline(always)]
    pub fn restart(&mut self, c1: u32) {
        for (i, x) in self.perm.iter_mut().enumerate().take(self.n as usize) {
            *x = i as u8;
        }
        self.drawn = 0;
        self.words.restart(c1, 2);
    }

    /// A shuffle of `0..n` reading `words`.
    pub fn new(n: u32, words: WordStream) -> Self {
        let mut perm = [0u8; MAX_NODES as usize];
        for (i, x) in perm.iter_mut().enumerate().take(n as usize) {
            *x = i as u8;
        }
        Shuffle {
            perm,
            drawn: 0,
            n,
            words,
        }
    }

    /// Positions drawn so far (one word each).
    pub fn drawn(&self) -> u32 {
        self.drawn
    }

    /// Element at shuffled position `pos`.
    #[inline(always)]
    pub fn at(&mut self, pos: u32) -> u32 {
        while self.drawn <= pos {
            let d = self.drawn;
            let j = d + uniform_below(self.words.next_u32(), self.n - d);
            self.perm.swap(d as usize, j as usize);
            self.drawn += 1;
        }
        self.perm[pos as usize] as u32
    }
}

/// Committee of height `height`: all nodes except the first n - c of a uniform shuffle
/// (the same set as the first c of that shuffle read from the other end).
pub fn committee(p: &Params, all: &NodeSet, replica: u32, height: u32) -> NodeSet {
    let mut c = *all;
    if p.nodes > p.committee {
        let key = [p.seed_lo, p.seed_hi];
        let mut sh = Shuffle::new(
            p.nodes,
            WordStream::new(key, replica, height, stream::COMMITTEE, p.nodes - p.committee),
        );
        for pos in 0..p.nodes - p.committee {
            set(&mut c, sh.at(pos), false);
        }
    }
    c
}
