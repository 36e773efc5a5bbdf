//! Node sets (128-bit masks) and the streaming order statistic the model uses for quorums.

/// A set of node ids `0..128` as a 128-bit mask: bit i of word i / 32.
pub type NodeSet = [u32; 4];

/// The empty set.
pub const EMPTY: NodeSet = [0; 4];

/// Whether `i` is in `s`.
#[inline(always)]
pub fn contains(s: &NodeSet, i: u32) -> bool {
    (s[(i >> 5) as usize] >> (i & 31)) & 1 == 1
}

/// Adds (`on`) or removes node `i`.
#[inline(always)]
pub fn set(s: &mut NodeSet, i: u32, on: bool) {
    let w = &mut s[(i >> 5) as usize];
    if on {
        *w |= 1 << (i & 31);
    } else {
        *w &= !(1 << (i & 31));
    }
}

/// Number of nodes in `s`.
#[inline(always)]
pub fn count(s: &NodeSet) -> u32 {
    s[0].count_ones() + s[1].count_ones() + s[2].count_ones() + s[3].count_ones()
}

/// `a ∩ b`.
#[inline(always)]
pub fn and(a: &NodeSet, b: &NodeSet) -> NodeSet {
    [a[0] & b[0], a[1] & b[1], a[2] & b[2], a[3] & b[3]]
}

/// `a ∪ b`.
#[inline(always)]
pub fn or(a: &NodeSet, b: &NodeSet) -> NodeSet {
    [a[0] | b[0], a[1] | b[1], a[2] | b[2], a[3] | b[3]]
}

/// Whether `s` is empty.
#[inline(always)]
pub fn is_empty(s: &NodeSet) -> bool {
    (s[0] | s[1] | s[2] | s[3]) == 0
}

/// The 4-bit slice of `s` for ids `4g..4g+4` (a group of four senders sharing one Philox block).
#[inline(always)]
pub fn group_bits(s: &NodeSet, g: u32) -> u32 {
    (s[(g >> 3) as usize] >> ((g & 7) * 4)) & 15
}

/// Removes and returns the smallest id of `s`; `None` when empty.
#[inline(always)]
pub fn next_member(s: &mut NodeSet) -> Option<u32> {
    for (w, bits) in s.iter_mut().enumerate() {
        if *bits != 0 {
            let b = bits.trailing_zeros();
            *bits &= *bits - 1;
            return Some(w as u32 * 32 + b);
        }
    }
    None
}

/// The `k`-th smallest id of `s` (0-based); `k < count(s)`.
#[inline(always)]
pub fn nth_member(s: &NodeSet, k: u32) -> u32 {
    let mut rest = *s;
    let mut i = 0;
    let mut id = 0;
    while let Some(x) = next_member(&mut rest) {
        id = x;
        if i == k {
            break;
        }
        i += 1;
    }
    id
}

/// The `k`-th smallest (1-based, `1 <= k <= v.len()`) of `v`, reordering `v` (core's
/// introselect, linear time; 1.45 times as fast as a plain Hoare quickselect here).
#[inline(always)]
pub fn kth_smallest(v: &mut [u64], k: u32) -> u64 {
    *v.select_nth_unstable(k as usize - 1).1
}

/// Buffers above this many slots select with [`kth_smallest`] over all values instead of
/// streaming through [`OrderStat`]: at 40 nodes (14 slots) that is 1.28 times as fast, at 13
/// nodes (5 slots) 1.46 times as slow (whole runs, one thread). Both give the same value, so
/// the choice is the CPU's alone (the WGSL twin always streams).
pub const SELECT_ABOVE: usize = 10;

/// Where a selection's values go: an [`OrderStat`] or a [`Collect`].
pub trait Sink {
    /// Offers one value.
    fn put(&mut self, x: u64);
}

/// All values of a selection, for [`kth_smallest`].
pub struct Collect {
    buf: [u64; crate::params::MAX_NODES as usize],
    len: usize,
}

impl Collect {
    /// Empty.
    #[inline(always)]
    pub fn new() -> Self {
        Collect {
            buf: [0; crate::params::MAX_NODES as usize],
            len: 0,
        }
    }

    /// The `k`-th smallest (1-based) of the values put.
    #[inline(always)]
    pub fn kth(&mut self, k: u32) -> u64 {
        kth_smallest(&mut self.buf[..self.len], k)
    }
}

impl Default for Collect {
    fn default() -> Self {
        Self::new()
    }
}

impl Sink for Collect {
    #[inline(always)]
    fn put(&mut self, x: u64) {
        self.buf[self.len] = x;
        self.len += 1;
    }
}

impl<const B: usize> Sink for OrderStat<B> {
    #[inline(always)]
    fn put(&mut self, x: u64) {
        self.push(x);
    }
}

/// Streaming k-th smallest of a sequence of `len` values (known in advance), keeping only
/// B >= min(k, len - k + 1) values, sorted ascending: the B smallest (padded with u64::MAX)
/// when k <= len - k + 1, else the B largest (padded with 0). Insertion is branch-free
/// (min/max bubbling over the whole fixed-size buffer), because data-dependent branches here
/// cost more than the comparisons.
pub struct OrderStat<const B: usize> {
    buf: [u64; B],
    /// Index of the answer in `buf`.
    answer: usize,
    smallest: bool,
}

/// Largest [`OrderStat`] buffer needed: min(q, H - q + 1) <= f + 1 <= 43 for n <= 128.
pub const ORDER_BUF: usize = 48;

impl<const B: usize> OrderStat<B> {
    /// Selects the `k`-th smallest (1-based) of `len` values; min(k, len-k+1) must be <= B.
    #[inline(always)]
    pub fn new(len: u32, k: u32) -> Self {
        let largest = len - k + 1;
        let smallest = k <= largest;
        let answer = if smallest { k as usize - 1 } else { B - largest as usize };
        OrderStat {
            buf: [if smallest { u64::MAX } else { 0 }; B],
            answer,
            smallest,
        }
    }

    /// Offers one value.
    #[inline(always)]
    pub fn push(&mut self, x: u64) {
        let mut x = x;
        if self.smallest {
            // Carry the larger value upwards; the largest of B + 1 falls off the end.
            for v in self.buf.iter_mut() {
                let lo = (*v).min(x);
                x = (*v).max(x);
                *v = lo;
            }
        } else {
            // Carry the smaller value downwards; the smallest falls off the front.
            for v in self.buf.iter_mut().rev() {
                let hi = (*v).max(x);
                x = (*v).min(x);
                *v = hi;
            }
        }
    }

    /// The k-th smallest of the values pushed (all `len` of them must have been pushed).
    #[inline(always)]
    pub fn get(&self) -> u64 {
        self.buf[self.answer]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn order_stat_matches_sorting() {
        let mut x = 12345u64;
        for len in 1..=127u32 {
            for k in [1, len / 3 + 1, (2 * len) / 3 + 1, len] {
                let k = k.clamp(1, len);
                if k.min(len - k + 1) as usize > ORDER_BUF {
                    continue;
                }
                let mut v = Vec::new();
                let mut o = OrderStat::<ORDER_BUF>::new(len, k);
                for _ in 0..len {
                    x = x.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                    let val = (x >> 40) % 50; // many ties
                    v.push(val);
                    o.push(val);
                }
                let mut w = v.clone();
                v.sort();
                assert_eq!(o.get(), v[(k - 1) as usize], "len {len} k {k}");
                assert_eq!(kth_smallest(&mut w, k), v[(k - 1) as usize], "len {len} k {k}");
            }
        }
    }

    /// Every rank of short arrays: distinct values, heavy ties, all equal, sorted, reversed.
    #[test]
    fn kth_smallest_matches_sorting_at_every_rank() {
        let mut x = 99u64;
        for len in 1..=70usize {
            for pattern in 0..5 {
                let v: Vec<u64> = (0..len)
                    .map(|i| {
                        x = x.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                        match pattern {
                            0 => x >> 20,
                            1 => (x >> 40) % 3,
                            2 => 7,
                            3 => i as u64,
                            _ => (len - i) as u64,
                        }
                    })
                    .collect();
                let mut sorted = v.clone();
                sorted.sort();
                for k in 1..=len {
                    let mut w = v.clone();
                    assert_eq!(
                        kth_smallest(&mut w, k as u32),
                        sorted[k - 1],
                        "len {len} k {k} pattern {pattern}"
                    );
                }
            }
        }
    }

    #[test]
    fn set_operations() {
        let mut s = EMPTY;
        for i in [0, 5, 31, 32, 77, 127] {
            set(&mut s, i, true);
        }
        assert_eq!(count(&s), 6);
        assert_eq!(nth_member(&s, 3), 32);
        assert_eq!(group_bits(&s, 1), 0b0010); // id 5
        assert_eq!(group_bits(&s, 7), 0b1000); // id 31
        assert_eq!(group_bits(&s, 31), 0b1000); // id 127
        set(&mut s, 5, false);
        assert!(!contains(&s, 5) && contains(&s, 77));
        let mut r = s;
        let ids: Vec<u32> = core::iter::from_fn(|| next_member(&mut r)).collect();
        assert_eq!(ids, vec![0, 31, 32, 77, 127]);
    }
}
