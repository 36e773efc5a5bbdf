//! Memory the fine engine needs, estimated before anything is allocated, so that a scenario
//! beyond the machine is refused at once with the key to change (it used to be OOM-killed
//! after minutes of key dealing, or to abort on an allocation).
//!
//! Per replica, with n nodes, c = 3f + 1 committee members and k clients (bytes):
//! - keys: n × [`KEY_BYTES_PER_NODE`] (two precomputed public-key tables of 240 G2 points
//!   each, 92 KB, plus the key pairs);
//! - messages of one height in flight: (3 c + n) (n - 1) × [`EVENT_BYTES`] (every member's
//!   notarization, finalization and beacon share and every node's certification share reach
//!   every other node, one event each);
//! - pools: n nodes × 3 heights × 3 signer sets of n bits (⌈n / 64⌉ × 8 bytes);
//! - share sets: [`SHARE_SET_HEIGHTS`] heights × 3 kinds × n × [`SHARE_BYTES`];
//! - certification (`src/fine/sim/certifier.rs`): per node, [`SHARE_SET_HEIGHTS`] heights of
//!   certification shares in flight (a signer set of n bits each) and a done flag for each of
//!   the [`KEEP_BELOW_CERTIFIED`] heights below its certified height ([`CERT_ENTRY_BYTES`]);
//! - clients: k × [`CLIENT_BYTES`] (the client and its pending request event).
//!
//! The run holds min(replicas, worker threads) replicas at once. Measured against it (13 to
//! 1000 nodes) the estimate is within a factor of about 2; it is a guard, not a budget.

use crate::fine::sim::KEEP_BELOW_CERTIFIED;
use crate::scenario::{FineConfig, Scenario};

/// Key material and public-key tables per node, bytes.
pub const KEY_BYTES_PER_NODE: f64 = 2.0 * 240.0 * 192.0 + 1024.0;
/// One queued message event, bytes.
pub const EVENT_BYTES: f64 = 64.0;
/// One share (signature, validity flag) in a share set, bytes.
pub const SHARE_BYTES: f64 = 112.0;
/// Heights whose share sets are kept (pruning lags the finalized height by 16).
pub const SHARE_SET_HEIGHTS: f64 = 20.0;
/// One certification entry (height, emptied signer set, flag) in a B-tree node, bytes.
pub const CERT_ENTRY_BYTES: f64 = 64.0;
/// One client and its pending request event, bytes.
pub const CLIENT_BYTES: f64 = 16.0 + EVENT_BYTES;

/// The estimate: total bytes, and the key whose term dominates (`subnet.nodes` or
/// `fine.clients`) with its value.
#[derive(Clone, Debug, PartialEq)]
pub struct Estimate {
    /// Bytes for the replicas held at once.
    pub bytes: f64,
    /// Replicas held at once.
    pub concurrent: u64,
    /// The dominant key, e.g. `subnet.nodes`.
    pub key: &'static str,
    /// Its value.
    pub value: u64,
}

/// Memory estimate of a fine run of `s` with `cfg` on `threads` worker threads.
pub fn estimate(s: &Scenario, cfg: &FineConfig, threads: u64) -> Estimate {
    let n = s.subnet.nodes as f64;
    let f = ((s.subnet.nodes.max(1) - 1) / 3) as f64;
    let c = (3.0 * f + 1.0).min(n);
    let set_bytes = (n / 64.0).ceil() * 8.0;
    let nodes_term = n * KEY_BYTES_PER_NODE
        + (3.0 * c + n) * (n - 1.0).max(0.0) * EVENT_BYTES
        + n * 9.0 * set_bytes
        + SHARE_SET_HEIGHTS * 3.0 * n * SHARE_BYTES
        + n * (SHARE_SET_HEIGHTS * set_bytes + KEEP_BELOW_CERTIFIED as f64 * CERT_ENTRY_BYTES);
    let clients_term = cfg.clients as f64 * CLIENT_BYTES;
    let concurrent = s.run.replicas.clamp(1, threads.max(1));
    let (key, value) = if clients_term > nodes_term {
        ("fine.clients", cfg.clients as u64)
    } else {
        ("subnet.nodes", s.subnet.nodes as u64)
    };
    Estimate {
        bytes: concurrent as f64 * (nodes_term + clients_term),
        concurrent,
        key,
        value,
    }
}

/// Memory available to a new process, bytes (`MemAvailable` of /proc/meminfo; None where
/// it cannot be read).
pub fn available_bytes() -> Option<f64> {
    let text = std::fs::read_to_string("/proc/meminfo").ok()?;
    let line = text.lines().find(|l| l.starts_with("MemAvailable:"))?;
    let kb: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024.0)
}

/// `bytes` in GB (10^9) or MB, for messages.
pub fn human(bytes: f64) -> String {
    if bytes >= 1e9 {
        format!("{:.1} GB", bytes / 1e9)
    } else {
        format!("{:.0} MB", bytes / 1e6)
    }
}

/// Refuses (Err with the message) a run whose estimate exceeds `available` bytes.
pub fn check(s: &Scenario, cfg: &FineConfig, threads: u64, available: Option<f64>) -> Result<(), String> {
    let e = estimate(s, cfg, threads);
    match available {
        Some(a) if e.bytes > a => Err(format!(
            "key `{}` = {}: the fine engine would need about {} ({} replica(s) at once; \
             estimate in src/fine/memory.rs), more than the {} of memory available",
            e.key,
            e.value,
            human(e.bytes),
            e.concurrent,
            human(a)
        )),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::parse;
    use std::path::Path;

    fn scenario(nodes: u32, fine: &str) -> (Scenario, FineConfig) {
        let text = format!(
            "name = \"m\"\n[subnet]\nnodes = {nodes}\n[network]\ndelay = {{ dist = \"constant\", ms = 100.0 }}\n\
             [run]\nreplicas = 1\nrounds = 10\nseed = 1\n[fine]\n{fine}\n"
        );
        let s = parse(&text, "m.toml", Path::new(".")).unwrap().scenario;
        let cfg = s.fine.clone().unwrap_or_default();
        (s, cfg)
    }

    /// The shipped 13-node subnet needs a few MB; 10^5 nodes about 2.8 TB (the 4 n² messages
    /// of one height); 4 × 10^9 clients 320 GB, named as the dominant key.
    #[test]
    fn estimate_names_the_dominant_key() {
        let (s, cfg) = scenario(13, "");
        let e = estimate(&s, &cfg, 8);
        assert!(e.bytes < 10e6 && e.key == "subnet.nodes", "{e:?}");
        let (s, cfg) = scenario(100_000, "gossip_fanout = 8");
        let e = estimate(&s, &cfg, 8);
        assert!((2.5e12..3e12).contains(&e.bytes), "{e:?}");
        let (s, cfg) = scenario(13, "clients = 4000000000");
        let e = estimate(&s, &cfg, 8);
        assert_eq!((e.key, e.value), ("fine.clients", 4_000_000_000));
        assert!((e.bytes - 320e9).abs() < 1e9, "{e:?}");
        let msg = check(&s, &cfg, 8, Some(64e9)).unwrap_err();
        assert!(
            msg.contains("fine.clients") && msg.contains("320.0 GB") && msg.contains("64.0 GB"),
            "{msg}"
        );
        assert!(check(&s, &cfg, 8, None).is_ok(), "unknown available memory: no check");
    }
}
