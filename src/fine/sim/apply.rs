//! The one place where roles' decisions take effect: [`Sim::apply`] charges CPU time, sends
//! messages (on the consensus or the certification network) and schedules timers.

use super::{Emit, Ev, Msg, Sim};

impl Sim {
    /// Node i is up and still in `epoch` (no crash or recovery since the timer was set).
    pub(super) fn alive(&self, i: u32, epoch: u32) -> bool {
        let n = &self.nodes[i as usize];
        n.up && n.epoch == epoch
    }

    /// Reserves `cost_us` of node i's CPU from `t` (µs); returns when the work is done
    /// (`t` itself when crypto time is off or the cost is 0).
    pub(super) fn cpu(&mut self, i: u32, t: u64, cost_us: f64) -> u64 {
        if !self.p.cfg.crypto_time || cost_us <= 0.0 {
            return t;
        }
        let n = &mut self.nodes[i as usize];
        let done = n.busy_until_us.max(t) + cost_us.round() as u64;
        n.busy_until_us = done;
        done
    }

    /// Sends `msg` from node `from` at `t` (µs) to every other up node that relays; one
    /// network sample per receiver, pushed in the network's order (certification shares on
    /// `cert_net`).
    pub(super) fn broadcast(&mut self, from: u32, t: u64, msg: Msg) {
        let nodes = &self.nodes;
        let net = if matches!(msg, Msg::CertShare(..)) {
            &mut self.cert_net
        } else {
            &mut self.net
        };
        net.broadcast(
            from,
            t,
            |j| nodes[j as usize].up && nodes[j as usize].role.relays(),
            &mut self.scratch,
        );
        for k in 0..self.scratch.len() {
            let (j, arr) = self.scratch[k];
            self.push_ev(
                arr,
                Ev::Deliver {
                    to: j,
                    msg: msg.clone(),
                },
            );
        }
    }

    /// Pushes `ev` at `at_us` (µs): certification traffic in the queue's side sequence.
    pub(super) fn push_ev(&mut self, at_us: u64, ev: Ev) {
        if ev.is_side() {
            self.q.push_side(at_us, ev)
        } else {
            self.q.push(at_us, ev)
        }
    }

    /// Schedules `ev` at `at_us` (µs): node timers and the subnet's own events (failures,
    /// requests, stall checks). Messages are pushed by [`Sim::broadcast`] and delivery.
    pub(super) fn schedule(&mut self, at_us: u64, ev: Ev) {
        self.push_ev(at_us, ev);
    }

    /// Applies, in order, what a role of node i decided at `t` (µs). A signed message costs
    /// `sign_us`, is traced and broadcast when signed, then takes effect at the node itself.
    pub(super) fn apply(&mut self, i: u32, t: u64, emits: impl IntoIterator<Item = Emit>) {
        for e in emits {
            match e {
                Emit::Signed(msg) => {
                    let t1 = self.cpu(i, t, self.p.cfg.costs.sign_us);
                    if let Some((kind, rank)) = self.signed_trace(&msg) {
                        let h = self.msg_height(&msg);
                        self.trace_line(t1, i, h, kind, rank);
                    }
                    self.broadcast(i, t1, msg.clone());
                    self.push_ev(t1, Ev::Process { to: i, msg });
                }
                Emit::Relay(msg) => self.broadcast(i, t, msg),
                Emit::Timer { at_us, ev } => self.schedule(at_us, ev),
            }
        }
    }
}
