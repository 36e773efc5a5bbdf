//! NNS node replacement in one IC replica: a member that stays down is detected after the
//! detection time, the replacement proposal passes governance after a drawn delay, and the
//! first eligible spare from a uniform start (within the subnet's attribute limits) replaces
//! it and catches up before it counts (the model is in the module doc of [`super`]).

use super::run::Run;
use super::state::{stage, BYZANTINE, SYNCING};
use super::{field, NONE};
use crate::philox::{stream, uniform_below};

impl Run<'_, '_, '_> {
    /// Node `n`'s replacement pipeline at `t` (ms): detection of a member still down, the
    /// governance delay, the replacement itself (or a retry when no spare is eligible), and
    /// the end of the new member's catch-up.
    pub(super) fn pipeline_event(&mut self, n: u32, t: u64) {
        let nu = n as usize;
        let slot = self.comps + n;
        match self.st.stage[nu] {
            stage::DETECT => {
                if self.st.subnet[nu] == NONE || self.st.down[nu] == 0 {
                    self.st.stage[nu] = stage::IDLE;
                    return;
                }
                let due = self.st.down_since[nu].saturating_add(self.p.detect_ms);
                if due > t {
                    self.schedule(due, slot);
                    return;
                }
                self.st.stage[nu] = stage::GOVERN;
                let w = self.words(self.st.pipelines[nu], n, stream::IC_REPLACEMENT);
                let delay = self.table_ms(self.p.governance_table, w[0]);
                self.schedule(t.saturating_add(delay), slot);
            }
            stage::GOVERN => {
                let k = self.st.pipelines[nu];
                self.st.pipelines[nu] += 1;
                self.st.stage[nu] = stage::IDLE;
                if self.st.subnet[nu] == NONE {
                    return;
                }
                let w = self.words(k, n, stream::IC_REPLACEMENT);
                if !self.replace(n, t, w[1]) {
                    let i = self.ic(field::NO_SPARE);
                    self.rec[i] += 1;
                    if self.st.down[nu] > 0 {
                        self.st.stage[nu] = stage::DETECT;
                        self.schedule(t.saturating_add(self.p.detect_ms), slot);
                    }
                }
            }
            stage::CATCH_UP => {
                self.st.stage[nu] = stage::IDLE;
                let was = self.good(n);
                self.st.flags[nu] &= !SYNCING;
                self.node_changed(n, was, t, slot);
                if self.st.subnet[nu] != NONE && self.st.down[nu] > 0 {
                    self.member_down(n, t);
                }
            }
            _ => {}
        }
    }

    /// Whether spare `m` may replace member `n` of subnet `s` within the limits.
    fn eligible(&self, m: u32, s: u32, n: u32) -> bool {
        let mu = m as usize;
        if self.st.subnet[mu] != NONE
            || self.st.down[mu] != 0
            || self.st.flags[mu] & BYZANTINE != 0
            || self.st.stage[mu] != stage::IDLE
        {
            return false;
        }
        let (am, an) = (self.attributes(m), self.attributes(n));
        for a in 0..4 {
            let limit = self.topo.subnet_limits[s as usize * 4 + a];
            if limit == 0 {
                continue;
            }
            let count = self.st.attr_count[(s * self.attrs + am[a]) as usize] - (am[a] == an[a]) as u32 + 1;
            if count > limit {
                return false;
            }
        }
        true
    }

    /// The NNS replaces member `n` at `t` by the first eligible spare from a uniform start
    /// (`word`); false if there is none.
    fn replace(&mut self, n: u32, t: u64, word: u32) -> bool {
        let s = self.st.subnet[n as usize];
        let start = uniform_below(word, self.nodes);
        let mut found = NONE;
        for i in 0..self.nodes {
            let m = (start + i) % self.nodes;
            if self.eligible(m, s, n) {
                found = m;
                break;
            }
        }
        if found == NONE {
            return false;
        }
        let m = found;
        let (nu, mu, su) = (n as usize, m as usize, s as usize);
        if self.good(n) {
            self.st.good[su] -= 1;
        }
        if self.st.flags[nu] & BYZANTINE != 0 {
            self.st.byzantine[su] -= 1;
        }
        self.count_member(n, s, false);
        self.st.subnet[nu] = NONE;
        self.st.subnet[mu] = s;
        self.count_member(m, s, true);
        if self.p.catch_up_ms == 0 {
            self.st.good[su] += 1;
        } else {
            self.st.flags[mu] |= SYNCING;
            self.st.stage[mu] = stage::CATCH_UP;
            self.schedule(t.saturating_add(self.p.catch_up_ms), self.comps + m);
        }
        let i = self.sub(s, field::REPLACED);
        self.rec[i] += 1;
        self.check(s, t, self.comps + n);
        true
    }
}
