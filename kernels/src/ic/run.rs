//! One IC replica, event by event (the model is in the module doc of [`super`]).

use super::state::{stage, IcState, BYZANTINE, SYNCING};
use super::{
    cause, duration_bin, faults_tolerated, field, level, IcParams, IcTopology, DURATION_BINS, NEVER, NONE, YEAR_MS,
};
use crate::philox::{philox4x32_10, stream};
use crate::table;

/// Simulates replica `replica` over `p.years` years: fills `rec` (one replica record,
/// [`super::record_len`]) and adds its histogram and per-slot stall time into `agg`
/// ([`super::agg_len`]). `st` must be carved for this topology and `p.years`; it is reset
/// here. Returns the Philox blocks computed.
pub fn simulate_ic_replica(
    p: &IcParams,
    topo: &IcTopology,
    tables: &[u32],
    replica: u32,
    st: &mut IcState,
    rec: &mut [u64],
    agg: &mut [u64],
) -> u64 {
    let nodes = topo.nodes();
    let mut bounds = [0u32; level::LEVELS];
    let counts = [nodes, topo.dcs(), topo.owners, topo.providers, topo.countries];
    let mut acc = 0;
    for (b, c) in bounds.iter_mut().zip(counts) {
        acc += c;
        *b = acc;
    }
    let mut run = Run {
        p,
        topo,
        tables,
        replica,
        st,
        rec,
        agg,
        bounds,
        nodes,
        comps: topo.components(),
        subnets: topo.subnets(),
        attrs: topo.providers + topo.dcs() + topo.owners + topo.countries,
        horizon: p.horizon_ms(),
        blocks: 0,
    };
    run.init();
    while let Some(t) = run.st.heap.peek_time() {
        if t >= run.horizon {
            break;
        }
        let (t, slot) = run.st.heap.pop().unwrap_or((t, 0));
        run.rec[run.ic(field::EVENTS)] += 1;
        if slot < run.comps {
            run.component_event(slot, t);
        } else if slot < run.comps + nodes {
            run.pipeline_event(slot - run.comps, t);
        } else {
            run.takeover_event(slot - run.comps - nodes, t);
        }
    }
    run.finish();
    run.blocks
}

pub(super) struct Run<'r, 'a, 't> {
    pub(super) p: &'r IcParams,
    pub(super) topo: &'r IcTopology<'t>,
    pub(super) tables: &'r [u32],
    pub(super) replica: u32,
    pub(super) st: &'r mut IcState<'a>,
    pub(super) rec: &'r mut [u64],
    pub(super) agg: &'r mut [u64],
    /// Exclusive upper component id of each level.
    pub(super) bounds: [u32; level::LEVELS],
    pub(super) nodes: u32,
    pub(super) comps: u32,
    pub(super) subnets: u32,
    pub(super) attrs: u32,
    pub(super) horizon: u64,
    pub(super) blocks: u64,
}

impl Run<'_, '_, '_> {
    pub(super) fn words(&mut self, k: u32, id: u32, stream: u32) -> [u32; 4] {
        self.blocks += 1;
        philox4x32_10([self.replica, k, id, stream], self.p.key)
    }

    /// Exponential duration with mean `mean_ms`, ms (at least 1).
    pub(super) fn exp_ms(&self, word: u32, mean_ms: u64) -> u64 {
        let x = table::sample(self.tables, self.p.exp_table, word) as u128;
        (((x * mean_ms as u128) >> 16) as u64).max(1)
    }

    /// A sample of the table at `offset` (seconds), ms (may be 0: a governance delay).
    pub(super) fn table_ms(&self, offset: u32, word: u32) -> u64 {
        table::sample(self.tables, offset, word) as u64 * 1000
    }

    /// A down time or takeover duration from the table at `offset`, ms (at least 1, so that
    /// a component never flips twice at one instant).
    pub(super) fn span_ms(&self, offset: u32, word: u32) -> u64 {
        self.table_ms(offset, word).max(1)
    }

    /// Queues `slot` at `t` unless that is at or past the horizon (it would never be
    /// processed; keeping it out keeps the heap small: most components do not change within
    /// a year).
    #[inline]
    pub(super) fn schedule(&mut self, t: u64, slot: u32) {
        if t < self.horizon {
            self.st.heap.push(t, slot);
        }
    }

    pub(super) fn level_of(&self, c: u32) -> usize {
        self.bounds.iter().position(|&b| c < b).unwrap_or(level::LEVELS)
    }

    pub(super) fn ic(&self, f: usize) -> usize {
        self.subnets as usize * field::SUBNET_FIELDS + f
    }

    pub(super) fn sub(&self, s: u32, f: usize) -> usize {
        s as usize * field::SUBNET_FIELDS + f
    }

    pub(super) fn quorum(&self, s: u32) -> u32 {
        2 * faults_tolerated(self.topo.subnet_size[s as usize]) + 1
    }

    pub(super) fn good(&self, n: u32) -> bool {
        let n = n as usize;
        self.st.subnet[n] != NONE && self.st.down[n] == 0 && self.st.flags[n] & (BYZANTINE | SYNCING) == 0
    }

    /// Attribute indices of node `n` in a subnet's counts: provider, data center, owner,
    /// country.
    pub(super) fn attributes(&self, n: u32) -> [u32; 4] {
        let t = self.topo;
        let dc = t.node_dc[n as usize];
        let p = t.providers;
        [
            t.node_provider[n as usize],
            p + dc,
            p + t.dcs() + t.dc_owner[dc as usize],
            p + t.dcs() + t.owners + t.dc_country[dc as usize],
        ]
    }

    pub(super) fn count_member(&mut self, n: u32, s: u32, add: bool) {
        for a in self.attributes(n) {
            let i = (s * self.attrs + a) as usize;
            if add {
                self.st.attr_count[i] += 1;
            } else {
                self.st.attr_count[i] -= 1;
            }
        }
    }

    pub(super) fn init(&mut self) {
        self.rec.fill(0);
        self.st.heap.clear();
        self.st.subnet.copy_from_slice(self.topo.node_subnet);
        for x in [&mut *self.st.transitions, &mut *self.st.pipelines, &mut *self.st.good] {
            x.fill(0);
        }
        for x in [
            &mut *self.st.byzantine,
            &mut *self.st.last_year,
            &mut *self.st.takeover_transitions,
        ] {
            x.fill(0);
        }
        self.st.attr_count.fill(0);
        self.st.stall_cause.fill(NONE);
        self.st.stall_since.fill(NEVER);
        self.st.risk_since.fill(NEVER);
        for x in [&mut *self.st.down, &mut *self.st.flags, &mut *self.st.stage] {
            x.fill(0);
        }
        self.st.taken.fill(0);
        self.st.year_stalled.fill(0);
        self.st.up.fill(1);
        for c in 0..self.comps {
            let l = self.level_of(c);
            if self.p.mtbf_ms[l] == 0 {
                continue;
            }
            let w = self.words(0, c, stream::IC_COMPONENT);
            let is_up = w[0] < self.p.p_up_q32[l];
            let dur = if is_up {
                self.exp_ms(w[1], self.p.mtbf_ms[l])
            } else {
                self.span_ms(self.p.repair_table[l], w[1])
            };
            self.st.transitions[c as usize] = 1;
            self.schedule(dur, c);
            if !is_up {
                self.st.up[c as usize] = 0;
                if c < self.nodes {
                    self.st.down[c as usize] += 1;
                } else {
                    let g = (c - self.nodes) as usize;
                    for i in self.topo.group_start[g]..self.topo.group_start[g + 1] {
                        self.st.down[self.topo.group_nodes[i as usize] as usize] += 1;
                    }
                }
            }
        }
        if self.p.takeover_mtbf_ms > 0 {
            for q in 0..self.topo.providers {
                let w = self.words(0, q, stream::IC_TAKEOVER);
                let honest = w[0] < self.p.p_honest_q32;
                let dur = if honest {
                    self.exp_ms(w[1], self.p.takeover_mtbf_ms)
                } else {
                    self.span_ms(self.p.takeover_table, w[1])
                };
                self.st.takeover_transitions[q as usize] = 1;
                self.schedule(dur, self.comps + self.nodes + q);
                if !honest {
                    self.st.taken[q as usize] = 1;
                    let c = self.topo.component(level::PROVIDER, q);
                    let g = (c - self.nodes) as usize;
                    for i in self.topo.group_start[g]..self.topo.group_start[g + 1] {
                        self.st.flags[self.topo.group_nodes[i as usize] as usize] |= BYZANTINE;
                    }
                }
            }
        }
        for n in 0..self.nodes {
            let s = self.st.subnet[n as usize];
            if s == NONE {
                continue;
            }
            self.count_member(n, s, true);
            if self.st.flags[n as usize] & BYZANTINE != 0 {
                self.st.byzantine[s as usize] += 1;
            }
            if self.good(n) {
                self.st.good[s as usize] += 1;
            }
        }
        for s in 0..self.subnets {
            if self.st.good[s as usize] < self.quorum(s) {
                self.st.stall_since[s as usize] = 0;
            }
            if self.st.byzantine[s as usize] > faults_tolerated(self.topo.subnet_size[s as usize]) {
                self.st.risk_since[s as usize] = 0;
            }
        }
        for n in 0..self.nodes {
            if self.st.subnet[n as usize] != NONE && self.st.down[n as usize] > 0 {
                self.member_down(n, 0);
            }
        }
    }

    /// Subnet `s` may have changed at `t` because of the event in `slot`: opens or closes
    /// its stall episode and safety-risk period.
    pub(super) fn check(&mut self, s: u32, t: u64, slot: u32) {
        let su = s as usize;
        let stalled = self.st.good[su] < self.quorum(s);
        if stalled && self.st.stall_since[su] == NEVER {
            self.st.stall_since[su] = t;
            self.st.stall_cause[su] = slot;
        } else if !stalled && self.st.stall_since[su] != NEVER {
            self.close_stall(s, t);
        }
        let risk = self.st.byzantine[su] > faults_tolerated(self.topo.subnet_size[su]);
        if risk && self.st.risk_since[su] == NEVER {
            self.st.risk_since[su] = t;
        } else if !risk && self.st.risk_since[su] != NEVER {
            let i = self.sub(s, field::RISK_MS);
            self.rec[i] += t - self.st.risk_since[su];
            self.st.risk_since[su] = NEVER;
        }
    }

    pub(super) fn cause_of(&self, slot: u32) -> usize {
        if slot == NONE {
            cause::START
        } else if slot < self.comps {
            self.level_of(slot)
        } else if slot < self.comps + self.nodes {
            cause::REPLACEMENT
        } else {
            cause::TAKEOVER
        }
    }

    /// Ends subnet `s`'s stall episode at `end` and books it.
    pub(super) fn close_stall(&mut self, s: u32, end: u64) {
        let su = s as usize;
        let since = self.st.stall_since[su];
        self.st.stall_since[su] = NEVER;
        let dur = end - since;
        if dur == 0 {
            return;
        }
        let slot = self.st.stall_cause[su];
        let c = self.cause_of(slot);
        for (f, v) in [(field::STALL_MS, dur), (field::EPISODES, 1), (field::CAUSE_MS + c, dur)] {
            let i = self.sub(s, f);
            self.rec[i] += v;
        }
        self.agg[duration_bin(dur)] += 1;
        if slot != NONE {
            let slots = (self.comps + self.nodes + self.topo.providers) as usize;
            self.agg[DURATION_BINS + su * slots + slot as usize] += dur;
        }
        let last = (self.p.years as u64 - 1) as usize;
        let (y0, y1) = ((since / YEAR_MS) as usize, (((end - 1) / YEAR_MS) as usize).min(last));
        for y in y0..=y1 {
            self.st.year_stalled[y] = 1;
            if (self.st.last_year[su] as usize) < y + 1 {
                self.st.last_year[su] = y as u32 + 1;
                let i = self.sub(s, field::YEARS_STALLED);
                self.rec[i] += 1;
            }
        }
    }

    /// Node `n`'s goodness may have changed from `was_good` at `t` (event `slot`).
    pub(super) fn node_changed(&mut self, n: u32, was_good: bool, t: u64, slot: u32) {
        let s = self.st.subnet[n as usize];
        if s == NONE {
            return;
        }
        let now = self.good(n);
        if now != was_good {
            if now {
                self.st.good[s as usize] += 1;
            } else {
                self.st.good[s as usize] -= 1;
            }
            self.check(s, t, slot);
        }
    }

    /// Member `n` went down at `t`: start (or restart) the NNS's clock on it.
    pub(super) fn member_down(&mut self, n: u32, t: u64) {
        if self.p.detect_ms == NEVER {
            return;
        }
        let nu = n as usize;
        self.st.down_since[nu] = t;
        if self.st.stage[nu] == stage::IDLE {
            self.st.stage[nu] = stage::DETECT;
            self.schedule(t.saturating_add(self.p.detect_ms), self.comps + n);
        }
    }

    pub(super) fn set_node_down(&mut self, n: u32, went_down: bool, t: u64, slot: u32) {
        let was = self.good(n);
        let nu = n as usize;
        if went_down {
            self.st.down[nu] += 1;
        } else {
            self.st.down[nu] -= 1;
        }
        self.node_changed(n, was, t, slot);
        if went_down && self.st.down[nu] == 1 && self.st.subnet[nu] != NONE {
            self.member_down(n, t);
        }
    }

    pub(super) fn component_event(&mut self, c: u32, t: u64) {
        let cu = c as usize;
        let l = self.level_of(c);
        let now_up = self.st.up[cu] == 0;
        self.st.up[cu] = now_up as u8;
        let k = self.st.transitions[cu];
        self.st.transitions[cu] += 1;
        let w = self.words(k, c, stream::IC_COMPONENT);
        let dur = if now_up {
            self.exp_ms(w[0], self.p.mtbf_ms[l])
        } else {
            self.span_ms(self.p.repair_table[l], w[0])
        };
        self.schedule(t.saturating_add(dur), c);
        if c < self.nodes {
            self.set_node_down(c, !now_up, t, c);
        } else {
            let (lo, hi) = {
                let g = (c - self.nodes) as usize;
                (self.topo.group_start[g], self.topo.group_start[g + 1])
            };
            for i in lo..hi {
                let n = self.topo.group_nodes[i as usize];
                self.set_node_down(n, !now_up, t, c);
            }
        }
    }

    pub(super) fn takeover_event(&mut self, q: u32, t: u64) {
        let qu = q as usize;
        let taken = self.st.taken[qu] == 0;
        self.st.taken[qu] = taken as u8;
        let k = self.st.takeover_transitions[qu];
        self.st.takeover_transitions[qu] += 1;
        let w = self.words(k, q, stream::IC_TAKEOVER);
        let dur = if taken {
            self.span_ms(self.p.takeover_table, w[0])
        } else {
            self.exp_ms(w[0], self.p.takeover_mtbf_ms)
        };
        let slot = self.comps + self.nodes + q;
        self.schedule(t.saturating_add(dur), slot);
        let c = self.topo.component(level::PROVIDER, q);
        let g = (c - self.nodes) as usize;
        for i in self.topo.group_start[g]..self.topo.group_start[g + 1] {
            let n = self.topo.group_nodes[i as usize];
            let was = self.good(n);
            self.st.flags[n as usize] ^= BYZANTINE;
            let s = self.st.subnet[n as usize];
            if s != NONE {
                if taken {
                    self.st.byzantine[s as usize] += 1;
                } else {
                    self.st.byzantine[s as usize] -= 1;
                }
                self.node_changed(n, was, t, slot);
                self.check(s, t, slot);
            }
        }
    }

    pub(super) fn finish(&mut self) {
        for s in 0..self.subnets {
            if self.st.stall_since[s as usize] != NEVER {
                self.close_stall(s, self.horizon);
            }
            let since = self.st.risk_since[s as usize];
            if since != NEVER {
                let i = self.sub(s, field::RISK_MS);
                self.rec[i] += self.horizon - since;
            }
        }
        let years = self.st.year_stalled.iter().map(|&y| y as u64).sum();
        let i = self.ic(field::YEARS_ANY_STALL);
        self.rec[i] = years;
    }
}
