//! The discrete-event core: a time-ordered queue with a total, deterministic order.
//!
//! Events are ordered by (time µs, tie, seq): `seq` counts pushes, `tie` is a seed-keyed hash
//! of `seq`, so simultaneous events come out in a seed-determined pseudo-random order (no
//! systematic bias towards early pushes) and the order is total: same seed, same run.
//!
//! The queue is a calendar of time buckets of [`BUCKET_US`]: the earliest bucket is a binary
//! heap, later buckets are unsorted vectors that become a heap when their turn comes. A
//! 1000-node gossip subnet keeps millions of messages in flight; one heap over all of them
//! spends most of its time in cache misses, a heap per millisecond stays in cache. The order of
//! events is exactly that of one heap over (time, tie, seq).

use std::cmp::Ordering;
use std::collections::{BTreeMap, BinaryHeap};

/// Width of a calendar bucket (µs).
pub const BUCKET_US: u64 = 1024;

/// SplitMix64 finalizer (a bijective 64-bit mixer).
pub fn mix64(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

struct Entry<E> {
    time_us: u64,
    tie: u64,
    seq: u64,
    event: E,
}

impl<E> PartialEq for Entry<E> {
    fn eq(&self, o: &Self) -> bool {
        self.key() == o.key()
    }
}
impl<E> Eq for Entry<E> {}
impl<E> Entry<E> {
    fn key(&self) -> (u64, u64, u64) {
        (self.time_us, self.tie, self.seq)
    }
}
impl<E> PartialOrd for Entry<E> {
    fn partial_cmp(&self, o: &Self) -> Option<Ordering> {
        Some(self.cmp(o))
    }
}
impl<E> Ord for Entry<E> {
    /// Reversed, so that the max-heap pops the earliest event.
    fn cmp(&self, o: &Self) -> Ordering {
        o.key().cmp(&self.key())
    }
}

/// A min-queue of events by virtual time (µs).
pub struct EventQueue<E> {
    /// Events of bucket `current_bucket` and of any earlier time, as a heap.
    current: BinaryHeap<Entry<E>>,
    current_bucket: u64,
    /// Events of later buckets, by bucket index, unsorted.
    later: BTreeMap<u64, Vec<Entry<E>>>,
    len: usize,
    seq: u64,
    /// Pushes made with [`EventQueue::push_side`].
    side_seq: u64,
    key: u64,
    popped: u64,
}

impl<E> EventQueue<E> {
    /// An empty queue whose tie-break is keyed by `seed`.
    pub fn new(seed: u64) -> Self {
        EventQueue {
            current: BinaryHeap::new(),
            current_bucket: 0,
            later: BTreeMap::new(),
            len: 0,
            seq: 0,
            side_seq: 0,
            key: mix64(seed ^ 0x005E_ED0F_E7E4_7500),
            popped: 0,
        }
    }
    /// Schedules `event` at `time_us`.
    pub fn push(&mut self, time_us: u64, event: E) {
        let seq = self.seq;
        self.seq += 1;
        self.insert(time_us, mix64(self.key ^ seq), seq, event);
    }

    /// Schedules `event` at `time_us` in a second sequence space: side pushes do not change
    /// the (time, tie, seq) keys of [`EventQueue::push`]es, so the order among ordinary events
    /// is the same with or without them (the certification traffic uses it: it leaves the
    /// consensus events of a run untouched unless it feeds back into them).
    pub fn push_side(&mut self, time_us: u64, event: E) {
        let seq = self.side_seq | 1 << 63;
        self.side_seq += 1;
        self.insert(time_us, mix64(!self.key ^ seq), seq, event);
    }

    fn insert(&mut self, time_us: u64, tie: u64, seq: u64, event: E) {
        self.len += 1;
        let entry = Entry {
            time_us,
            tie,
            seq,
            event,
        };
        let bucket = time_us / BUCKET_US;
        if bucket <= self.current_bucket {
            self.current.push(entry);
        } else {
            self.later.entry(bucket).or_default().push(entry);
        }
    }
    /// Makes the earliest non-empty bucket the current one (when the current one is empty).
    fn refill(&mut self) {
        if self.current.is_empty() {
            if let Some((bucket, entries)) = self.later.pop_first() {
                self.current_bucket = bucket;
                self.current = BinaryHeap::from(entries);
            }
        }
    }
    /// The earliest event and its time.
    pub fn pop(&mut self) -> Option<(u64, E)> {
        self.refill();
        self.current.pop().map(|e| {
            self.popped += 1;
            self.len -= 1;
            (e.time_us, e.event)
        })
    }
    /// Time of the earliest event.
    pub fn peek_time(&mut self) -> Option<u64> {
        self.refill();
        self.current.peek().map(|e| e.time_us)
    }
    pub fn len(&self) -> usize {
        self.len
    }
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
    /// Events popped so far.
    pub fn processed(&self) -> u64 {
        self.popped
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pops_in_time_order_with_deterministic_ties() {
        let order = |seed| {
            let mut q = EventQueue::new(seed);
            for i in 0..50u32 {
                q.push(u64::from(i % 5), i);
            }
            let mut out = Vec::new();
            let mut last = 0;
            while let Some((t, e)) = q.pop() {
                assert!(t >= last);
                last = t;
                out.push(e);
            }
            out
        };
        assert_eq!(order(1), order(1));
        assert_ne!(order(1), order(2), "ties should depend on the seed");
        let o = order(3);
        assert!(o.iter().take(10).all(|e| e % 5 == 0));
    }

    /// Side pushes leave the order of ordinary events as it is without them.
    #[test]
    fn side_pushes_do_not_reorder_ordinary_events() {
        let order = |side: bool| {
            let mut q = EventQueue::new(5);
            for i in 0..60u32 {
                q.push(u64::from(i % 4), i);
                if side {
                    q.push_side(u64::from(i % 3), 1000 + i);
                }
            }
            let mut out = Vec::new();
            while let Some((_, e)) = q.pop() {
                if e < 1000 {
                    out.push(e);
                }
            }
            out
        };
        assert_eq!(order(true), order(false));
    }

    /// The calendar gives exactly the order of one heap over (time, tie, seq), with pushes
    /// interleaved with pops, into the current bucket, later buckets and far ahead.
    #[test]
    fn calendar_order_equals_single_heap_order() {
        let mut q = EventQueue::new(9);
        let mut reference = BinaryHeap::new();
        let mut rng = 0x1234_5678_u64;
        let mut next = || {
            rng = mix64(rng);
            rng
        };
        let mut now = 0;
        let mut seq = 0;
        let key = mix64(9 ^ 0x005E_ED0F_E7E4_7500);
        for step in 0..20_000u64 {
            let pushes = next() % 3;
            for _ in 0..pushes {
                let delay = match next() % 4 {
                    0 => 0,
                    1 => next() % BUCKET_US,
                    2 => next() % (5 * BUCKET_US),
                    _ => next() % (1000 * BUCKET_US),
                };
                q.push(now + delay, step);
                reference.push(Entry {
                    time_us: now + delay,
                    tie: mix64(key ^ seq),
                    seq,
                    event: step,
                });
                seq += 1;
            }
            if next() % 2 == 0 {
                let got = q.pop();
                let want = reference.pop().map(|e| (e.time_us, e.event));
                assert_eq!(got, want);
                if let Some((t, _)) = got {
                    assert!(t >= now);
                    now = t;
                }
            }
            assert_eq!(q.len(), reference.len());
        }
        while let Some(want) = reference.pop() {
            assert_eq!(q.pop(), Some((want.time_us, want.event)));
        }
        assert!(q.pop().is_none() && q.is_empty());
    }
}
