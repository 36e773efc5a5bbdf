//! Structs the model kernel shares with the host besides [`Params`]: the uniforms of one
//! dispatch ([`Slice`]) and the layout of a replica's state between slices ([`ReplicaState`],
//! [`NodeState`]). Each is defined once, here; `shaders::model_program` generates their WGSL
//! declarations (structs, or word offsets into the `state` array) from these definitions.
//!
//! [`Params`]: ictwin_kernels::Params

use ictwin_kernels::shared_struct;

shared_struct! {
    /// Uniforms of one dispatch of the model kernel (`slice` in `shaders/model.wgsl`): steps
    /// `[first_step, end_step)` of the chunk's replicas, which keep `state_words` u32 of state
    /// each between slices.
    pub struct Slice {
        /// First round step of this dispatch.
        pub first_step: u32,
        /// One past the last round step of this dispatch (at most `Params::rounds`).
        pub end_step: u32,
        /// u32 words of state per replica: [`STATE_FIXED_WORDS`], plus [`NODE_STATE_WORDS`]
        /// per node with dynamic failures.
        pub state_words: u32,
        /// Pads the uniform to 16 bytes.
        pub reserved: u32,
    }
}

shared_struct! {
    /// What a replica keeps between slices, as words of the `state` array from the replica's
    /// base (the shader reads them as `state[base + STATE_<FIELD>]`). 64-bit values are split
    /// into `_lo` / `_hi` halves.
    pub struct ReplicaState {
        /// Simulated time, µs (low half).
        pub t_lo: u32,
        /// High half of `t_lo`.
        pub t_hi: u32,
        /// Height of the next round.
        pub height: u32,
        /// Finality backoff factor, Q16 (low half).
        pub backoff_q16_lo: u32,
        /// High half of `backoff_q16_lo`.
        pub backoff_q16_hi: u32,
        /// Up nodes, a 128-bit node set: bit i of word `up{i / 32}` = node i.
        pub up0: u32,
        /// Nodes 32..64 of the up set.
        pub up1: u32,
        /// Nodes 64..96 of the up set.
        pub up2: u32,
        /// Nodes 96..128 of the up set.
        pub up3: u32,
    }
}

shared_struct! {
    /// Per-node state with dynamic failures, node i at word
    /// `STATE_FIXED_WORDS + NODE_STATE_WORDS * i` from the replica's base (read as
    /// `NODE_<FIELD>` offsets).
    pub struct NodeState {
        /// When the node next goes up or down, µs (low half).
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
    STATE_FIXED_WORDS
        + if p.dynamic_failures != 0 {
            NODE_STATE_WORDS * p.nodes
        } else {
            0
        }
}

/// Size of `T` in u32 words.
const fn words<T>() -> u32 {
    (std::mem::size_of::<T>() / 4) as u32
}
