//! Structs the model kernel shares with the host besides [`Params`]: the parameters of one
//! dispatch ([`Slice`]) and the layout of a replica's state between dispatches
//! ([`ReplicaState`], [`NodeState`]). Each is defined once, here; `shaders::model_program`
//! generates their WGSL declarations (structs, or word offsets into the `state` array) from
//! these definitions.
//!
//! [`Params`]: ictwin_kernels::Params

use ictwin_kernels::shared_struct;

shared_struct! {
    /// Parameters of one dispatch of the model kernel (`slice` in `shaders/replica.wgsl`, a
    /// read-only storage buffer): every replica of the chunk runs at most `steps` round steps
    /// from where it stopped, and fewer when its loop budget `fuel` runs out.
    pub struct Slice {
        /// 1: the first dispatch of the chunk (replicas start at genesis); 0: replicas resume
        /// from `state`.
        pub first: u32,
        /// Most round steps one replica runs in this dispatch, in `1..=MAX_SLICE_STEPS`.
        pub steps: u32,
        /// Loop iterations one invocation may start steps within (software adapters end a
        /// shader's loops after 65,535 iterations); `u32::MAX`: unbounded. A replica always
        /// runs at least one step, and starts another only while its iterations so far plus
        /// its costliest step of the dispatch stay within `fuel`.
        pub fuel: u32,
        /// u32 words of state per replica: [`STATE_FIXED_WORDS`] + [`NODE_STATE_WORDS`] per node.
        pub state_words: u32,
    }
}

shared_struct! {
    /// What a replica keeps between dispatches, as words of the `state` array from the
    /// replica's base (the shader reads them as `state[base + STATE_<FIELD>]`).
    pub struct ReplicaState {
        /// Next round step (`Params::rounds`: the replica is finished).
        pub step: u32,
        /// Height of the next round step (from 1).
        pub height: u32,
        /// Up nodes, a 128-bit node set: bit i of word `up{i / 32}` = node i.
        pub up0: u32,
        /// Nodes 32..64 of the up set.
        pub up1: u32,
        /// Nodes 64..96 of the up set.
        pub up2: u32,
        /// Nodes 96..128 of the up set.
        pub up3: u32,
        /// Ranks of the chain's last heights (`ictwin_kernels::maker_delay`).
        pub rank_history: u32,
    }
}

shared_struct! {
    /// Per-node state, node i at word `STATE_FIXED_WORDS + NODE_STATE_WORDS * i` from the
    /// replica's base (read as `NODE_<FIELD>` offsets): its view (`ictwin_kernels::views::
    /// NodeViews`) and its dynamic failures. 64-bit values are split into `_lo` / `_hi` halves.
    pub struct NodeState {
        /// Round start of the next height, µs (low half).
        pub start_lo: u32,
        /// High half of `start_lo`.
        pub start_hi: u32,
        /// Highest height the node held finalized at its round start.
        pub fin_height: u32,
        /// Height of the earlier finalization in flight.
        pub pend0_h: u32,
        /// Its arrival, µs (low half; `u64::MAX`: none).
        pub pend0_us_lo: u32,
        /// High half of `pend0_us_lo`.
        pub pend0_us_hi: u32,
        /// Height of the later finalization in flight.
        pub pend1_h: u32,
        /// Its arrival, µs (low half; `u64::MAX`: none).
        pub pend1_us_lo: u32,
        /// High half of `pend1_us_lo`.
        pub pend1_us_hi: u32,
        /// When the node next goes up or down, µs (low half; `u64::MAX`: never).
        pub next_change_us_lo: u32,
        /// High half of `next_change_us_lo`.
        pub next_change_us_hi: u32,
        /// Up/down transitions so far.
        pub transitions: u32,
    }
}

/// u32 words of [`ReplicaState`] (`STATE_FIXED_WORDS` in WGSL).
pub const STATE_FIXED_WORDS: u32 = words::<ReplicaState>();
/// u32 words of [`NodeState`] (`NODE_STATE_WORDS` in WGSL).
pub const NODE_STATE_WORDS: u32 = words::<NodeState>();

/// u32 words of state per replica for `p` (what [`Slice::state_words`] holds).
pub fn state_words(p: &ictwin_kernels::Params) -> u32 {
    STATE_FIXED_WORDS + NODE_STATE_WORDS * p.nodes
}

/// Size of `T` in u32 words.
const fn words<T>() -> u32 {
    (std::mem::size_of::<T>() / 4) as u32
}
