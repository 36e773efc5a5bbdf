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
        /// Late certification records kept (`ictwin_kernels::late`, at most `late::LATE`,
        /// oldest first; record i at `STATE_LATE_HEIGHT0 + 7 i`, its share times in the
        /// nodes' `late_share{i}`).
        pub late_len: u32,
        /// Late record 0: height (from 1).
        pub late_height0: u32,
        /// Late record 0: round step.
        pub late_step0: u32,
        /// Late record 0: observer.
        pub late_observer0: u32,
        /// Late record 0: observer's round start, µs (low half).
        pub late_obs_start0_lo: u32,
        /// Late record 0: high half of the observer's round start.
        pub late_obs_start0_hi: u32,
        /// Late record 0: observer's direct finalization, µs (low half; `u64::MAX`: none).
        pub late_obs_fin0_lo: u32,
        /// Late record 0: high half of the observer's finalization.
        pub late_obs_fin0_hi: u32,
        /// Late record 1: height (from 1).
        pub late_height1: u32,
        /// Late record 1: round step.
        pub late_step1: u32,
        /// Late record 1: observer.
        pub late_observer1: u32,
        /// Late record 1: observer's round start, µs (low half).
        pub late_obs_start1_lo: u32,
        /// Late record 1: high half of the observer's round start.
        pub late_obs_start1_hi: u32,
        /// Late record 1: observer's direct finalization, µs (low half; `u64::MAX`: none).
        pub late_obs_fin1_lo: u32,
        /// Late record 1: high half of the observer's finalization.
        pub late_obs_fin1_hi: u32,
        /// Late record 2: height (from 1).
        pub late_height2: u32,
        /// Late record 2: round step.
        pub late_step2: u32,
        /// Late record 2: observer.
        pub late_observer2: u32,
        /// Late record 2: observer's round start, µs (low half).
        pub late_obs_start2_lo: u32,
        /// Late record 2: high half of the observer's round start.
        pub late_obs_start2_hi: u32,
        /// Late record 2: observer's direct finalization, µs (low half; `u64::MAX`: none).
        pub late_obs_fin2_lo: u32,
        /// Late record 2: high half of the observer's finalization.
        pub late_obs_fin2_hi: u32,
        /// Late record 3: height (from 1).
        pub late_height3: u32,
        /// Late record 3: round step.
        pub late_step3: u32,
        /// Late record 3: observer.
        pub late_observer3: u32,
        /// Late record 3: observer's round start, µs (low half).
        pub late_obs_start3_lo: u32,
        /// Late record 3: high half of the observer's round start.
        pub late_obs_start3_hi: u32,
        /// Late record 3: observer's direct finalization, µs (low half; `u64::MAX`: none).
        pub late_obs_fin3_lo: u32,
        /// Late record 3: high half of the observer's finalization.
        pub late_obs_fin3_hi: u32,
    }
}

shared_struct! {
    /// Per-node state, node i at word `STATE_FIXED_WORDS + NODE_STATE_WORDS * i` from the
    /// replica's base (read as `NODE_<FIELD>` offsets): its view (`ictwin_kernels::views::
    /// NodeViews`, certification included), its dynamic failures and its share times of the late
    /// certification records: 39 words (156 bytes).
    /// 64-bit values are split into `_lo` / `_hi` halves.
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
        /// How the earlier finalization in flight completed at its µs
        /// (`ictwin_kernels::views::tie`).
        pub pend0_tie: u32,
        /// How the later one completed.
        pub pend1_tie: u32,
        /// When the node next goes up or down, µs (low half; `u64::MAX`: never).
        pub next_change_us_lo: u32,
        /// High half of `next_change_us_lo`.
        pub next_change_us_hi: u32,
        /// Up/down transitions so far.
        pub transitions: u32,
        /// Highest height the node executed (`ictwin_kernels::cert`).
        pub ex_h: u32,
        /// When it finished executing `ex_h`, µs (low half).
        pub ex_us_lo: u32,
        /// High half of `ex_us_lo`.
        pub ex_us_hi: u32,
        /// Highest height it held certified at its round start.
        pub cert_h: u32,
        /// Certifications in flight (entries of `cw_h*` / `cw_us*`, at most `cert::WINDOW`).
        pub cw_len: u32,
        /// Height of certification in flight 0 (entries 0..`cw_len` are valid, heights and
        /// times increasing; the shader reads `cw_h{i}` as `NODE_CW_H0 + i`).
        pub cw_h0: u32,
        /// Height of certification in flight 1.
        pub cw_h1: u32,
        /// Height of certification in flight 2.
        pub cw_h2: u32,
        /// Height of certification in flight 3.
        pub cw_h3: u32,
        /// Arrival of certification 0, µs (low half; the shader reads entry i at
        /// `NODE_CW_US0_LO + 2 i`).
        pub cw_us0_lo: u32,
        /// High half of `cw_us0_lo`.
        pub cw_us0_hi: u32,
        /// Arrival of certification 1, µs (low half).
        pub cw_us1_lo: u32,
        /// High half of `cw_us1_lo`.
        pub cw_us1_hi: u32,
        /// Arrival of certification 2, µs (low half).
        pub cw_us2_lo: u32,
        /// High half of `cw_us2_lo`.
        pub cw_us2_hi: u32,
        /// Arrival of certification 3, µs (low half).
        pub cw_us3_lo: u32,
        /// High half of `cw_us3_lo`.
        pub cw_us3_hi: u32,
        /// When the node sent its certification share of late record 0's height, µs (low
        /// half; `u64::MAX`: not yet; entry i at `NODE_LATE_SHARE0_LO + 2 i`).
        pub late_share0_lo: u32,
        /// High half of `late_share0_lo`.
        pub late_share0_hi: u32,
        /// When the node sent its certification share of late record 1's height, µs (low
        /// half; `u64::MAX`: not yet; entry i at `NODE_LATE_SHARE0_LO + 2 i`).
        pub late_share1_lo: u32,
        /// High half of `late_share1_lo`.
        pub late_share1_hi: u32,
        /// When the node sent its certification share of late record 2's height, µs (low
        /// half; `u64::MAX`: not yet; entry i at `NODE_LATE_SHARE0_LO + 2 i`).
        pub late_share2_lo: u32,
        /// High half of `late_share2_lo`.
        pub late_share2_hi: u32,
        /// When the node sent its certification share of late record 3's height, µs (low
        /// half; `u64::MAX`: not yet; entry i at `NODE_LATE_SHARE0_LO + 2 i`).
        pub late_share3_lo: u32,
        /// High half of `late_share3_lo`.
        pub late_share3_hi: u32,
    }
}

// The shader indexes the certification window from its first entry: one field per entry of
// `cert::WINDOW`, contiguous.
const _: () = assert!(ictwin_kernels::cert::WINDOW == 4);
const _: () = assert!(std::mem::offset_of!(NodeState, cw_h3) == std::mem::offset_of!(NodeState, cw_h0) + 4 * 3);
const _: () = assert!(std::mem::offset_of!(NodeState, cw_us3_lo) == std::mem::offset_of!(NodeState, cw_us0_lo) + 8 * 3);
// Likewise the late certification records (`late::LATE` of them, 7 words each).
const _: () = assert!(ictwin_kernels::late::LATE == 4);
const _: () = assert!(
    std::mem::offset_of!(ReplicaState, late_height3) == std::mem::offset_of!(ReplicaState, late_height0) + 28 * 3
);
const _: () =
    assert!(std::mem::offset_of!(NodeState, late_share3_lo) == std::mem::offset_of!(NodeState, late_share0_lo) + 8 * 3);

/// u32 words of [`ReplicaState`] (`STATE_FIXED_WORDS` in WGSL).
pub const STATE_FIXED_WORDS: u32 = words::<ReplicaState>();
/// u32 words of [`NodeState`] (`NODE_STATE_WORDS` in WGSL).
pub const NODE_STATE_WORDS: u32 = words::<NodeState>();
const _: () = assert!(NODE_STATE_WORDS == 39);

/// u32 words of state per replica for `p` (what [`Slice::state_words`] holds).
pub fn state_words(p: &ictwin_kernels::Params) -> u32 {
    STATE_FIXED_WORDS + NODE_STATE_WORDS * p.nodes
}

/// Size of `T` in u32 words.
const fn words<T>() -> u32 {
    (std::mem::size_of::<T>() / 4) as u32
}
