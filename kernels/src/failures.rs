//! Dynamic failures (`[faults] dynamic`): each honest node alternates up and down with
//! exponential times of means MTBF and MTTR, from a stationary start; node k's transition t
//! reads counter (replica, t, k, `FAILURE`) (see [`crate::model`], "Random words"). The WGSL
//! twin is `shaders/failures.wgsl`.

use crate::params::{Params, MAX_NODES};
use crate::philox::{philox4x32_10, stream};
use crate::sets::{contains, set, NodeSet};
use crate::table;

/// Per-node state of dynamic failures.
pub struct Failures {
    next_change_us: [u64; MAX_NODES as usize],
    transitions: [u32; MAX_NODES as usize],
}

/// One Exp(1)-distributed duration with the given mean, µs (at least 1 ms).
#[inline(always)]
fn exp_duration_us(p: &Params, tables: &[u32], word: u32, mean_ms: u64) -> u64 {
    let x = table::sample(tables, p.exp_table, word) as u64; // Q16
    (((x * mean_ms) >> 16) * 1000).max(1000)
}

/// Nodes subject to dynamic failures: honest ones.
#[inline(always)]
fn is_dynamic(p: &Params, i: u32) -> bool {
    p.dynamic_failures != 0 && i >= p.crashed + p.silent + p.equivocating
}

impl Failures {
    /// Stationary start: up with probability MTBF/(MTBF+MTTR), residual time exponential.
    pub fn init(p: &Params, tables: &[u32], replica: u32, up: &mut NodeSet) -> Self {
        let mut f = Failures {
            next_change_us: [u64::MAX; MAX_NODES as usize],
            transitions: [0; MAX_NODES as usize],
        };
        let key = [p.seed_lo, p.seed_hi];
        for i in 0..p.nodes {
            if !is_dynamic(p, i) {
                continue;
            }
            let w = philox4x32_10([replica, 0, i, stream::FAILURE], key);
            let is_up = w[0] < p.p_up_q32;
            set(up, i, is_up);
            let mean = if is_up { p.mtbf_ms() } else { p.mttr_ms() };
            f.next_change_us[i as usize] = exp_duration_us(p, tables, w[1], mean);
            f.transitions[i as usize] = 1;
        }
        f
    }

    /// Applies every transition at or before `t`.
    pub fn advance(&mut self, p: &Params, tables: &[u32], replica: u32, t: u64, up: &mut NodeSet) {
        let key = [p.seed_lo, p.seed_hi];
        for i in 0..p.nodes {
            let iu = i as usize;
            while self.next_change_us[iu] <= t {
                let now_up = !contains(up, i);
                set(up, i, now_up);
                let w = philox4x32_10([replica, self.transitions[iu], i, stream::FAILURE], key);
                let mean = if now_up { p.mtbf_ms() } else { p.mttr_ms() };
                self.next_change_us[iu] += exp_duration_us(p, tables, w[0], mean);
                self.transitions[iu] += 1;
            }
        }
    }

    /// Time of the next recovery of a down node, or u64::MAX if no node will recover.
    pub fn next_recovery_us(&self, p: &Params, up: &NodeSet) -> u64 {
        let mut t = u64::MAX;
        for i in 0..p.nodes {
            if is_dynamic(p, i) && !contains(up, i) {
                t = t.min(self.next_change_us[i as usize]);
            }
        }
        t
    }
}
