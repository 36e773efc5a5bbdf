//! Philox4x32-10, the counter-based generator of Salmon et al., "Parallel random numbers: as
//! easy as 1, 2, 3" (SC'11), exactly as in Random123 (`philox4x32_R(10, ctr, key)`).
//!
//! A draw is a pure function of (counter, key): replicas, rounds and nodes get their own
//! counters, so results depend neither on thread count nor on chunking, and the WGSL twin in
//! `shaders/philox.wgsl` produces the same words.

const M0: u32 = 0xD251_1F53;
const M1: u32 = 0xCD9E_8D57;
const W0: u32 = 0x9E37_79B9;
const W1: u32 = 0xBB67_AE85;

/// High and low halves of the 64-bit product `a * b`.
#[inline(always)]
fn mulhilo(a: u32, b: u32) -> (u32, u32) {
    let p = (a as u64) * (b as u64);
    ((p >> 32) as u32, p as u32)
}

#[inline(always)]
fn round(c: [u32; 4], k: [u32; 2]) -> [u32; 4] {
    let (hi0, lo0) = mulhilo(M0, c[0]);
    let (hi1, lo1) = mulhilo(M1, c[2]);
    [hi1 ^ c[1] ^ k[0], lo1, hi0 ^ c[3] ^ k[1], lo0]
}

/// Philox4x32 with 10 rounds: four independent uniform 32-bit words per counter.
#[inline(always)]
pub fn philox4x32_10(ctr: [u32; 4], key: [u32; 2]) -> [u32; 4] {
    let mut c = ctr;
    let mut k = key;
    for i in 0..10 {
        if i > 0 {
            k = [k[0].wrapping_add(W0), k[1].wrapping_add(W1)];
        }
        c = round(c, k);
    }
    c
}

/// Stream ids (the fourth counter word): each kind of randomness has its own counter space.
pub mod stream {
    /// Per round step: observer choice and every message delay. Counter (replica, step,
    /// message index, 0); see `model`'s doc comment for the index of each message.
    pub const MESSAGE: u32 = 0;
    /// Per height: committee sampling shuffle. Counter (replica, height, block, 1).
    pub const COMMITTEE: u32 = 1;
    /// Per height: block-maker ranking shuffle. Counter (replica, height, block, 2).
    pub const RANKING: u32 = 2;
    /// Per node transition of dynamic failures. Counter (replica, transition, node, 3).
    pub const FAILURE: u32 = 3;
    /// IC-year kernel: component c's transition k. Counter (replica, k, c, 4).
    pub const IC_COMPONENT: u32 = 4;
    /// IC-year kernel: provider p's takeover transition k. Counter (replica, k, p, 5).
    pub const IC_TAKEOVER: u32 = 5;
    /// IC-year kernel: node n's replacement pipeline k. Counter (replica, k, n, 6).
    pub const IC_REPLACEMENT: u32 = 6;
    /// Per height: execution time of its block. Counter (replica, height, 0, 7).
    pub const EXECUTION: u32 = 7;
}

/// Blocks a [`WordStream`] computes at most per refill.
const BATCH_BLOCKS: usize = 12;

/// A sequential reader of Philox words on counter (c0, c1, block, stream), block = 0, 1, ...
/// Words are consumed in order, four per block; the WGSL twin consumes them in the same order.
///
/// On the CPU, blocks are computed in batches sized by a hint of how many words the caller
/// will read, so that independent Philox blocks overlap in the pipeline instead of being
/// computed one at a time on demand. The words read do not depend on the hint.
#[derive(Clone, Copy, Debug)]
pub struct WordStream {
    key: [u32; 2],
    c0: u32,
    c1: u32,
    stream: u32,
    /// Next block to compute.
    block: u32,
    buf: [u32; 4 * BATCH_BLOCKS],
    len: u32,
    pos: u32,
    /// Words the caller still expects to read (refill size hint).
    want: u32,
}

impl WordStream {
    /// A reader at word 0 that expects to read about `want` words.
    pub fn new(key: [u32; 2], c0: u32, c1: u32, stream: u32, want: u32) -> Self {
        WordStream {
            key,
            c0,
            c1,
            stream,
            block: 0,
            buf: [0; 4 * BATCH_BLOCKS],
            len: 0,
            pos: 0,
            want,
        }
    }

    /// Restarts this reader at word 0 of counter (c0, c1, block, stream), reusing its buffer.
    #[inline(always)]
    pub fn restart(&mut self, c1: u32, want: u32) {
        self.c1 = c1;
        self.block = 0;
        self.len = 0;
        self.pos = 0;
        self.want = want;
    }

    /// A reader positioned at word `index`.
    pub fn at(key: [u32; 2], c0: u32, c1: u32, stream: u32, index: u32, want: u32) -> Self {
        let mut s = WordStream::new(key, c0, c1, stream, want + index % 4);
        s.block = index / 4;
        if !index.is_multiple_of(4) {
            s.refill();
            s.pos = index % 4;
            s.want = want;
        }
        s
    }

    #[inline(always)]
    fn refill(&mut self) {
        let blocks = (self.want.div_ceil(4) as usize).clamp(1, BATCH_BLOCKS);
        for b in 0..blocks {
            let w = philox4x32_10(
                [self.c0, self.c1, self.block.wrapping_add(b as u32), self.stream],
                self.key,
            );
            self.buf[4 * b..4 * b + 4].copy_from_slice(&w);
        }
        self.block = self.block.wrapping_add(blocks as u32);
        self.len = 4 * blocks as u32;
        self.pos = 0;
    }

    /// Next uniform 32-bit word.
    #[inline(always)]
    pub fn next_u32(&mut self) -> u32 {
        if self.pos == self.len {
            self.refill();
        }
        let w = self.buf[self.pos as usize];
        self.pos += 1;
        self.want = self.want.saturating_sub(1);
        w
    }
}

/// Uniform integer in `0..bound` from one 32-bit word by multiply-shift (Lemire without the
/// rejection step). Bias: each outcome's probability is off by at most `bound / 2^32`
/// (3e-8 for 128 nodes), far below any Monte Carlo resolution.
#[inline(always)]
pub fn uniform_below(word: u32, bound: u32) -> u32 {
    (((word as u64) * (bound as u64)) >> 32) as u32
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Known-answer vectors from Random123 `kat_vectors` (philox4x32_10).
    #[test]
    fn random123_known_answers() {
        assert_eq!(
            philox4x32_10([0, 0, 0, 0], [0, 0]),
            [0x6627_e8d5, 0xe169_c58d, 0xbc57_ac4c, 0x9b00_dbd8]
        );
        assert_eq!(
            philox4x32_10([u32::MAX; 4], [u32::MAX; 2]),
            [0x408f_276d, 0x41c8_3b0e, 0xa20b_c7c6, 0x6d54_51fd]
        );
        assert_eq!(
            philox4x32_10(
                [0x243f_6a88, 0x85a3_08d3, 0x1319_8a2e, 0x0370_7344],
                [0xa409_3822, 0x299f_31d0]
            ),
            [0xd16c_fe09, 0x94fd_cceb, 0x5001_e420, 0x2412_6ea1]
        );
    }

    #[test]
    fn word_stream_reads_blocks_in_order() {
        let blocks: Vec<u32> = (0..40).flat_map(|b| philox4x32_10([3, 5, b, 0], [7, 9])).collect();
        for want in [0, 1, 5, 37, 1000] {
            let mut s = WordStream::new([7, 9], 3, 5, stream::MESSAGE, want);
            let got: Vec<u32> = (0..150).map(|_| s.next_u32()).collect();
            assert_eq!(got, blocks[..150], "want {want}");
            let mut r = WordStream::new([7, 9], 3, 99, stream::MESSAGE, 3);
            r.next_u32();
            r.restart(5, want);
            assert_eq!((0..150).map(|_| r.next_u32()).collect::<Vec<_>>(), blocks[..150]);
            for skip in 0..9 {
                let mut t = WordStream::at([7, 9], 3, 5, stream::MESSAGE, skip, want);
                let got: Vec<u32> = (0..100).map(|_| t.next_u32()).collect();
                assert_eq!(
                    got,
                    blocks[skip as usize..skip as usize + 100],
                    "skip {skip} want {want}"
                );
            }
        }
    }

    #[test]
    fn uniform_below_covers_range() {
        assert_eq!(uniform_below(0, 13), 0);
        assert_eq!(uniform_below(u32::MAX, 13), 12);
        assert_eq!(uniform_below(0x8000_0000, 2), 1);
    }
}
