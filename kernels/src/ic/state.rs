//! The mutable state of one IC replica, carved out of three host-provided buffers (u64, u32,
//! u8) so that the kernel allocates nothing; reused from replica to replica.

use super::heap::EventHeap;
use super::IcTopology;

/// Buffer sizes of one replica's state.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct IcSizes {
    pub nodes: usize,
    pub components: usize,
    pub subnets: usize,
    pub providers: usize,
    /// Attribute values counted per subnet: providers + data centers + owners + countries.
    pub attributes: usize,
    pub years: usize,
}

impl IcSizes {
    /// The sizes for `topo` and `years` simulated years.
    pub fn of(topo: &IcTopology, years: u32) -> Self {
        IcSizes {
            nodes: topo.nodes() as usize,
            components: topo.components() as usize,
            subnets: topo.subnets() as usize,
            providers: topo.providers as usize,
            attributes: (topo.providers + topo.dcs() + topo.owners + topo.countries) as usize,
            years: years as usize,
        }
    }

    /// Event slots: one per component (its next transition), per node (its replacement
    /// pipeline), per provider (its takeover process).
    pub fn slots(&self) -> usize {
        self.components + self.nodes + self.providers
    }

    /// Length of the u64 buffer.
    pub fn u64_len(&self) -> usize {
        self.nodes + 2 * self.subnets + self.slots() + 1
    }

    /// Length of the u32 buffer.
    pub fn u32_len(&self) -> usize {
        self.components
            + 2 * self.nodes
            + 4 * self.subnets
            + self.providers
            + self.slots()
            + self.subnets * self.attributes
    }

    /// Length of the u8 buffer.
    pub fn u8_len(&self) -> usize {
        self.components + 3 * self.nodes + self.providers + self.years
    }
}

/// Node flag: Byzantine (its provider is taken over).
pub const BYZANTINE: u8 = 1;
/// Node flag: a new member still catching up.
pub const SYNCING: u8 = 2;

/// Replacement pipeline stages of a node.
pub mod stage {
    pub const IDLE: u8 = 0;
    pub const DETECT: u8 = 1;
    pub const GOVERN: u8 = 2;
    pub const CATCH_UP: u8 = 3;
}

/// One replica's state (see [`IcSizes`] for the lengths).
pub struct IcState<'a> {
    /// Per node: start of its current down period, ms.
    pub down_since: &'a mut [u64],
    /// Per subnet: start of the current stall episode, ms, or `NEVER`.
    pub stall_since: &'a mut [u64],
    /// Per subnet: start of the current safety-risk period, ms, or `NEVER`.
    pub risk_since: &'a mut [u64],
    /// Per component: transitions drawn so far.
    pub transitions: &'a mut [u32],
    /// Per node: current subnet, or `NONE`.
    pub subnet: &'a mut [u32],
    /// Per node: replacement pipelines started (its Philox counter).
    pub pipelines: &'a mut [u32],
    /// Per subnet: good members (up, honest, caught up).
    pub good: &'a mut [u32],
    /// Per subnet: Byzantine members.
    pub byzantine: &'a mut [u32],
    /// Per subnet: event slot that started the current stall (or `NONE`: at start).
    pub stall_cause: &'a mut [u32],
    /// Per subnet: years (1-based) already counted as stalled.
    pub last_year: &'a mut [u32],
    /// Per provider: takeover transitions drawn so far.
    pub takeover_transitions: &'a mut [u32],
    /// Per subnet x attribute value: members with that provider / data center / owner /
    /// country (attribute index: provider, then dcs, owners, countries).
    pub attr_count: &'a mut [u32],
    /// Per component: 1 = up.
    pub up: &'a mut [u8],
    /// Per node: number of its components that are down (0 = node up).
    pub down: &'a mut [u8],
    /// Per node: [`BYZANTINE`] | [`SYNCING`].
    pub flags: &'a mut [u8],
    /// Per node: replacement stage ([`stage`]).
    pub stage: &'a mut [u8],
    /// Per provider: 1 = taken over.
    pub taken: &'a mut [u8],
    /// Per year: 1 = some subnet had stalled time.
    pub year_stalled: &'a mut [u8],
    /// The event queue.
    pub heap: EventHeap<'a>,
}

fn take<'a, T>(buf: &mut &'a mut [T], n: usize) -> &'a mut [T] {
    let (head, tail) = core::mem::take(buf).split_at_mut(n);
    *buf = tail;
    head
}

impl<'a> IcState<'a> {
    /// Carves the state out of buffers of at least [`IcSizes::u64_len`], `u32_len`, `u8_len`.
    pub fn new(z: &IcSizes, mut w64: &'a mut [u64], mut w32: &'a mut [u32], mut w8: &'a mut [u8]) -> Self {
        let down_since = take(&mut w64, z.nodes);
        let stall_since = take(&mut w64, z.subnets);
        let risk_since = take(&mut w64, z.subnets);
        let heap_time = take(&mut w64, z.slots() + 1);
        let transitions = take(&mut w32, z.components);
        let subnet = take(&mut w32, z.nodes);
        let pipelines = take(&mut w32, z.nodes);
        let good = take(&mut w32, z.subnets);
        let byzantine = take(&mut w32, z.subnets);
        let stall_cause = take(&mut w32, z.subnets);
        let last_year = take(&mut w32, z.subnets);
        let takeover_transitions = take(&mut w32, z.providers);
        let attr_count = take(&mut w32, z.subnets * z.attributes);
        IcState {
            down_since,
            stall_since,
            risk_since,
            transitions,
            subnet,
            pipelines,
            good,
            byzantine,
            stall_cause,
            last_year,
            takeover_transitions,
            attr_count,
            up: take(&mut w8, z.components),
            down: take(&mut w8, z.nodes),
            flags: take(&mut w8, z.nodes),
            stage: take(&mut w8, z.nodes),
            taken: take(&mut w8, z.providers),
            year_stalled: take(&mut w8, z.years),
            heap: EventHeap::new(heap_time),
        }
    }
}
