//! The event queue of one IC replica: a binary min-heap of (time, slot) over caller-provided
//! storage, at most one entry per slot (no allocation, no deletion: stale events are
//! recognised by their handler).

/// A binary min-heap of `(time_ms, slot)` ordered by time, then slot (so that ties resolve
/// the same way on every machine).
pub struct EventHeap<'a> {
    time: &'a mut [u64],
    slot: &'a mut [u32],
    len: usize,
}

impl<'a> EventHeap<'a> {
    /// An empty heap over storage for `time.len()` entries (`slot` at least as long).
    pub fn new(time: &'a mut [u64], slot: &'a mut [u32]) -> Self {
        EventHeap { time, slot, len: 0 }
    }

    /// Empties the heap (a new replica).
    pub fn clear(&mut self) {
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

    #[inline(always)]
    fn less(&self, a: usize, b: usize) -> bool {
        (self.time[a], self.slot[a]) < (self.time[b], self.slot[b])
    }

    #[inline(always)]
    fn swap(&mut self, a: usize, b: usize) {
        self.time.swap(a, b);
        self.slot.swap(a, b);
    }

    /// Queues `slot` at `time_ms`. The caller guarantees capacity (one entry per slot).
    #[inline]
    pub fn push(&mut self, time_ms: u64, slot: u32) {
        let mut i = self.len;
        self.time[i] = time_ms;
        self.slot[i] = slot;
        self.len += 1;
        while i > 0 {
            let parent = (i - 1) / 2;
            if !self.less(i, parent) {
                break;
            }
            self.swap(i, parent);
            i = parent;
        }
    }

    /// The earliest event's time, if any.
    #[inline]
    pub fn peek_time(&self) -> Option<u64> {
        (self.len > 0).then(|| self.time[0])
    }

    /// Removes and returns the earliest `(time_ms, slot)`.
    #[inline]
    pub fn pop(&mut self) -> Option<(u64, u32)> {
        if self.len == 0 {
            return None;
        }
        let top = (self.time[0], self.slot[0]);
        self.len -= 1;
        if self.len > 0 {
            self.time[0] = self.time[self.len];
            self.slot[0] = self.slot[self.len];
            let mut i = 0;
            loop {
                let (l, r) = (2 * i + 1, 2 * i + 2);
                let mut m = i;
                if l < self.len && self.less(l, m) {
                    m = l;
                }
                if r < self.len && self.less(r, m) {
                    m = r;
                }
                if m == i {
                    break;
                }
                self.swap(i, m);
                i = m;
            }
        }
        Some(top)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pops_in_time_then_slot_order() {
        let (mut t, mut s) = ([0u64; 16], [0u32; 16]);
        let mut h = EventHeap::new(&mut t, &mut s);
        for (time, slot) in [(50, 1), (10, 7), (30, 2), (10, 3), (70, 0), (30, 9)] {
            h.push(time, slot);
        }
        assert_eq!(h.len(), 6);
        let mut got = [(0u64, 0u32); 6];
        for g in got.iter_mut() {
            *g = h.pop().unwrap();
        }
        assert_eq!(got, [(10, 3), (10, 7), (30, 2), (30, 9), (50, 1), (70, 0)]);
        assert!(h.pop().is_none() && h.is_empty());
    }
}
