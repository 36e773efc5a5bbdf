//! The CSV trace of one replica's protocol events (`ictwin fine --trace`): one line per
//! event, `time_ms,node,height,kind,rank`, in time order; the first write error closes it and
//! is reported.

use super::Sim;
use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::io::Write;

/// The trace writer. A node's action is traced when it completes (its event time plus the CPU
/// time it is charged), which can be later than events handled after it; lines wait here
/// until the simulation clock passes their time (no later line can be earlier than the
/// clock), so the file is in time order (it had rows out of order, issue 14 item 8).
pub(super) struct Trace {
    w: Box<dyn Write>,
    /// (time µs, sequence, line) not yet written.
    pending: BinaryHeap<Reverse<(u64, u64, String)>>,
    seq: u64,
}

impl Trace {
    pub(super) fn new(w: Box<dyn Write>) -> Trace {
        Trace {
            w,
            pending: BinaryHeap::new(),
            seq: 0,
        }
    }

    /// Queues `line` at `t` µs and writes every line at or before `now` µs.
    fn push(&mut self, t: u64, line: String, now: u64) -> std::io::Result<()> {
        self.pending.push(Reverse((t, self.seq, line)));
        self.seq += 1;
        while let Some(Reverse((t, _, _))) = self.pending.peek() {
            if *t > now {
                break;
            }
            let Some(Reverse((_, _, l))) = self.pending.pop() else {
                break;
            };
            self.w.write_all(l.as_bytes())?;
        }
        Ok(())
    }

    /// Writes every queued line and flushes.
    pub(super) fn finish(&mut self) -> std::io::Result<()> {
        while let Some(Reverse((_, _, l))) = self.pending.pop() {
            self.w.write_all(l.as_bytes())?;
        }
        self.w.flush()
    }
}

impl Sim {
    /// Writes one trace line `time_ms,node,height,kind,rank` (`t` in µs; node `u32::MAX`:
    /// the subnet, written empty).
    pub(super) fn trace_line(&mut self, t: u64, node: u32, h: u64, kind: &str, rank: u32) {
        let now = self.now;
        if let Some(w) = self.trace.as_mut() {
            let node = if node == u32::MAX {
                String::new()
            } else {
                node.to_string()
            };
            let line = format!("{:.3},{node},{h},{kind},{rank}\n", t as f64 / 1000.0);
            if let Err(e) = w.push(t, line, now) {
                self.close_trace(e);
            }
        }
    }

    /// Records the first trace write error and stops tracing (a later write would only
    /// produce a trace with a hole in it).
    pub(super) fn close_trace(&mut self, e: std::io::Error) {
        self.trace = None;
        self.trace_error.get_or_insert(e);
    }

    /// The error that ended the trace, if writing (or flushing) it failed.
    pub fn trace_error(&mut self) -> Option<std::io::Error> {
        self.trace_error.take()
    }
}
