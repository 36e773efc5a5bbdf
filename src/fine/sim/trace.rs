//! The CSV trace of one replica's protocol events (`ictwin fine --trace`): one line per
//! event, `time_ms,node,height,kind,rank`; the first write error closes it and is reported.

use super::Sim;
use std::io::Write;

impl Sim {
    /// Writes one trace line `time_ms,node,height,kind,rank` (`t` in µs; node `u32::MAX`:
    /// the subnet, written empty).
    pub(super) fn trace_line(&mut self, t: u64, node: u32, h: u64, kind: &str, rank: u32) {
        if let Some(w) = self.trace.as_mut() {
            let node = if node == u32::MAX {
                String::new()
            } else {
                node.to_string()
            };
            if let Err(e) = writeln!(w, "{:.3},{node},{h},{kind},{rank}", t as f64 / 1000.0) {
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
