//! The event queue of one IC replica: a binary min-heap of events over caller-provided
//! storage, at most one entry per slot (no allocation, no deletion: stale events are
//! recognised by their handler). An event is one u64 key, time << [`SLOT_BITS`] | slot, so
//! that ordering is one integer comparison (time, then slot: ties resolve the same way on
//! every machine).

/// Bits of the slot in a key: at most 2^20 slots (components + nodes + providers).
pub const SLOT_BITS: u32 = 20;
/// Largest event time, ms: 2^44 (557 years; horizons are checked against it).
pub const MAX_TIME_MS: u64 = (1 << (64 - SLOT_BITS)) - 1;

/// A binary min-heap of `(time_ms, slot)` keys.
pub struct EventHeap<'a> {
    keys: &'a mut [u64],
    len: usize,
}

impl<'a> EventHeap<'a> {
    /// An empty heap over storage for `keys.len() - 1` entries (one more key is a sentinel).
    pub fn new(keys: &'a mut [u64]) -> Self {
        keys.fill(u64::MAX);
        EventHeap { keys, len: 0 }
    }

    /// Empties the heap (a new replica).
    pub fn clear(&mut self) {
        self.keys[..=self.len].fill(u64::MAX);
        self.len = 0;
    }

    /// Entries in the heap.
    pub fn len(&self) -> usize {
        self.len
    }

    /// True when no event is queued.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Queues `slot` (< 2^[`SLOT_BITS`]) at `time_ms` (<= [`MAX_TIME_MS`]). The caller
    /// guarantees capacity (one entry per slot).
    #[inline]
    pub fn push(&mut self, time_ms: u64, slot: u32) {
        let key = (time_ms << SLOT_BITS) | slot as u64;
        let mut i = self.len;
        self.len += 1;
        while i > 0 {
            let parent = (i - 1) / 2;
            if self.keys[parent] <= key {
                break;
            }
            self.keys[i] = self.keys[parent];
            i = parent;
        }
        self.keys[i] = key;
    }

    /// The earliest event's time, if any.
    #[inline]
    pub fn peek_time(&self) -> Option<u64> {
        (self.len > 0).then(|| self.keys[0] >> SLOT_BITS)
    }

    /// Removes and returns the earliest `(time_ms, slot)`.
    #[inline]
    pub fn pop(&mut self) -> Option<(u64, u32)> {
        if self.len == 0 {
            return None;
        }
        let top = self.keys[0];
        self.len -= 1;
        let n = self.len;
        let last = self.keys[n];
        // Every key at index >= len is u64::MAX (a sentinel), so the right child can be read
        // without a bounds branch and the smaller child picked without a jump.
        self.keys[n] = u64::MAX;
        if n > 0 {
            let mut i = 0;
            loop {
                let l = 2 * i + 1;
                if l >= n {
                    break;
                }
                let c = l + (self.keys[l + 1] < self.keys[l]) as usize;
                if self.keys[c] >= last {
                    break;
                }
                self.keys[i] = self.keys[c];
                i = c;
            }
            self.keys[i] = last;
        }
        Some((top >> SLOT_BITS, (top & ((1 << SLOT_BITS) - 1)) as u32))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pops_in_time_then_slot_order() {
        let mut keys = [0u64; 17];
        let mut h = EventHeap::new(&mut keys);
        for (time, slot) in [(50, 1), (10, 7), (30, 2), (10, 3), (70, 0), (30, 9), (MAX_TIME_MS, 5)] {
            h.push(time, slot);
        }
        assert_eq!(h.len(), 7);
        let mut got = [(0u64, 0u32); 7];
        for g in got.iter_mut() {
            *g = h.pop().unwrap();
        }
        assert_eq!(
            got,
            [(10, 3), (10, 7), (30, 2), (30, 9), (50, 1), (70, 0), (MAX_TIME_MS, 5)]
        );
        assert!(h.pop().is_none() && h.is_empty());
    }

    /// Against a sorted reference on pseudo-random keys with interleaved pops.
    #[test]
    fn agrees_with_sorting() {
        let mut keys = [0u64; 257];
        let mut h = EventHeap::new(&mut keys);
        let mut reference: Vec<(u64, u32)> = Vec::new();
        let mut x: u64 = 12345;
        let mut popped = Vec::new();
        let mut expected = Vec::new();
        for i in 0..200u32 {
            x = x.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            let t = (x >> 40) % 1000;
            h.push(t, i);
            reference.push((t, i));
            if i % 3 == 2 {
                reference.sort();
                expected.push(reference.remove(0));
                popped.push(h.pop().unwrap());
            }
        }
        reference.sort();
        expected.extend(reference);
        while let Some(e) = h.pop() {
            popped.push(e);
        }
        assert_eq!(popped, expected);
    }
}
