//! WGSL sources of the GPU engine (`shaders/*.wgsl`, embedded with `include_str!`) and how
//! they are composed into programs. WGSL has no includes, so a program is the concatenation
//! of a generated header (every constant the shaders share with the kernels crate, taken
//! from that crate so that both sides cannot drift apart) and the files it needs. The model
//! program also starts with the declarations of the structs it shares with the host
//! ([`ictwin_kernels::shared::SharedStruct`]), generated from their Rust definitions.
//!
//! The model is split by role like its Rust twin (`kernels/src/`): `model.wgsl` (bindings,
//! node sets, node views, order statistic), `cert.wgsl` (execution, certification),
//! `backlog.wgsl` (the notary's backlog rule), `height.wgsl` (one height's messages),
//! `resolve.wgsl` (decisions, finalization, next round), `proofs.wgsl`, `late.wgsl`, `shuffle.wgsl` (committee and
//! ranking), `failures.wgsl` (dynamic failures), `replica.wgsl` (one round step),
//! `slice.wgsl` (state between dispatches, entry point). Its private arrays
//! are sized by a [`NodeClass`], one pipeline per class.

use super::layout::{NodeState, ReplicaState, Slice, NODE_STATE_WORDS, STATE_FIXED_WORDS};
use ictwin_kernels::agg;
use ictwin_kernels::height::{kind, MAX_BLOCKS};
use ictwin_kernels::late;
use ictwin_kernels::maker_delay;
use ictwin_kernels::params::{faults_tolerated, Params, MAX_NODES, Q16_ONE};
use ictwin_kernels::philox::stream;
use ictwin_kernels::proofs::MAX_UNITS;
use ictwin_kernels::sets::ORDER_BUF;
use ictwin_kernels::shared::SharedStruct;
use ictwin_kernels::table::{L1_SEGMENTS, L2_OFFSET, TABLE_STRIDE};
use ictwin_kernels::views::{tie, BACKOFF_Q16, MAX_NOTARY_DELAY_US};
use ictwin_kernels::{backlog, cert};

pub const PHILOX: &str = include_str!("../../shaders/philox.wgsl");
pub const TABLE: &str = include_str!("../../shaders/table.wgsl");
/// Saturating 64-bit time arithmetic (in the model and the test kernels).
pub const ARITH: &str = include_str!("../../shaders/arith.wgsl");
pub const MODEL: &str = include_str!("../../shaders/model.wgsl");
pub const HEIGHT: &str = include_str!("../../shaders/height.wgsl");
pub const RESOLVE: &str = include_str!("../../shaders/resolve.wgsl");
pub const PROOFS: &str = include_str!("../../shaders/proofs.wgsl");
/// Execution and the certification window (`kernels/src/cert.rs`).
pub const CERT: &str = include_str!("../../shaders/cert.wgsl");
/// The notary's certification backlog (`kernels/src/backlog.rs`).
pub const BACKLOG: &str = include_str!("../../shaders/backlog.wgsl");
/// Late certification records (`kernels/src/late.rs`).
pub const LATE: &str = include_str!("../../shaders/late.wgsl");
/// Committee and ranking shuffles (`kernels/src/shuffle.rs`).
pub const SHUFFLE: &str = include_str!("../../shaders/shuffle.wgsl");
/// Dynamic failures (`kernels/src/failures.rs`).
pub const FAILURES: &str = include_str!("../../shaders/failures.wgsl");
pub const REPLICA: &str = include_str!("../../shaders/replica.wgsl");
pub const SLICE: &str = include_str!("../../shaders/slice.wgsl");
pub const ACCUM_WORKGROUP: &str = include_str!("../../shaders/accum_workgroup.wgsl");
pub const ACCUM_GLOBAL: &str = include_str!("../../shaders/accum_global.wgsl");
pub const PHILOX_ONLY: &str = include_str!("../../shaders/philox_only.wgsl");
pub const TESTS: &str = include_str!("../../shaders/tests.wgsl");

/// Invocations per workgroup (one replica each).
pub const WORKGROUP_SIZE: u32 = 64;

/// Where the model kernel accumulates its histograms.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Accumulation {
    /// Per-workgroup 16-bit counters in workgroup memory, flushed at the end of each dispatch.
    Workgroup,
    /// Straight into the global u64 counters.
    Global,
}

/// Sizes of the model kernel's private arrays: a pipeline per class, the smallest class whose
/// `node_cap` holds the subnet ([`node_class`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NodeClass {
    /// Entries of every per-node array (`NODE_CAP` in WGSL): the largest n of the class.
    pub node_cap: u32,
    /// Slots of the order-statistic buffer (`ORDER_CAP`), a multiple of 16 (pushes are then
    /// fully unrolled) and at least f + 1 for every n of the class.
    pub order_cap: u32,
}

/// The classes, smallest first; the last holds `MAX_NODES`.
pub const NODE_CLASSES: [NodeClass; 3] = [
    NodeClass {
        node_cap: 48,
        order_cap: 16,
    },
    NodeClass {
        node_cap: 96,
        order_cap: 32,
    },
    NodeClass {
        node_cap: MAX_NODES,
        order_cap: 48,
    },
];
const _: () = assert!(NODE_CLASSES[2].node_cap == MAX_NODES);
const _: () = assert!(classes_hold_their_quorums());

/// Every class: order_cap a multiple of 16, at least f + 1 of its largest n (f grows with n).
const fn classes_hold_their_quorums() -> bool {
    let mut i = 0;
    while i < NODE_CLASSES.len() {
        let c = NODE_CLASSES[i];
        if !c.order_cap.is_multiple_of(16) || faults_tolerated(c.node_cap) + 1 > c.order_cap {
            return false;
        }
        i += 1;
    }
    true
}

/// The class of an `nodes`-node subnet (`nodes` <= `MAX_NODES`).
pub fn node_class(nodes: u32) -> NodeClass {
    *NODE_CLASSES
        .iter()
        .find(|c| nodes <= c.node_cap)
        .unwrap_or(&NODE_CLASSES[2])
}

impl NodeClass {
    /// Bytes of private memory one invocation of the model kernel holds: per node 232 (node
    /// views 112: round start and finalizations in flight with how they completed 44,
    /// execution and certification 68 with a window of 4 certifications in flight; share
    /// times of 4 late certification records 32; height scratch 40, shuffle 4, failures 12,
    /// equivocation-proof times 4 per proof unit, 8 units), 16 candidates of 80 (68 bytes of
    /// members padded to the 16-byte alignment of their node sets), 8 proof units of 16, 4
    /// late records of 28, the order-statistic buffer, the batch counters and 112 bytes of
    /// scalars and node sets. 12.7 KiB for the class of 48 nodes, 23.7 KiB for 96, 31.1 KiB
    /// for 128; `tests/shader_contract.rs` checks the sum against naga's layout of every
    /// private variable of each class's program.
    pub fn private_bytes(&self) -> u32 {
        (168 + 8 * late::LATE as u32 + 4 * MAX_UNITS as u32) * self.node_cap
            + 80 * MAX_BLOCKS as u32
            + 16 * MAX_UNITS as u32
            + (28 * late::LATE as u32 + 4)
            + 8 * self.order_cap
            + 8 * agg::BATCH_FIELDS
            + 112
    }
}

/// Most steps one dispatch runs (a slice): a 16-bit workgroup histogram counter, flushed at
/// the end of each dispatch, then holds at most `WORKGROUP_SIZE * MAX_SLICE_STEPS` < 2^16.
pub const MAX_SLICE_STEPS: u32 = 1000;
const _: () = assert!(WORKGROUP_SIZE * MAX_SLICE_STEPS < 1 << 16);

/// Histogram bins (round time, finalization time, rank) and the u32 words holding them in
/// workgroup memory (two 16-bit counters per word).
pub const HIST_BINS: u32 = agg::AGG_LEN - agg::HIST_ROUND;
pub const HIST_WORDS: u32 = HIST_BINS.div_ceil(2);
/// Bytes of workgroup memory the [`Accumulation::Workgroup`] variant needs.
pub const WORKGROUP_HIST_BYTES: u32 = HIST_WORDS * 4;

/// The generated constants every program starts with (`class`: the model's array sizes).
pub fn header(class: NodeClass) -> String {
    let u32s: &[(&str, u32)] = &[
        ("WORKGROUP_SIZE", WORKGROUP_SIZE),
        ("MAX_NODES", MAX_NODES),
        ("Q16_ONE", Q16_ONE),
        ("MAX_BLOCKS", MAX_BLOCKS as u32),
        ("MAKER_DELAY_LOOK_BACK", maker_delay::LOOK_BACK),
        ("MAKER_DELAY_MAX_NON_RANK_0", maker_delay::MAX_NON_RANK_0),
        ("KIND_OBSERVER", kind::OBSERVER),
        ("KIND_BLOCK", kind::BLOCK),
        ("KIND_NOTAR_SHARE", kind::NOTAR_SHARE),
        ("KIND_NOTAR_RELAY", kind::NOTAR_RELAY),
        ("KIND_FIN_SHARE", kind::FIN_SHARE),
        ("KIND_FIN_RELAY", kind::FIN_RELAY),
        ("KIND_BEACON", kind::BEACON),
        ("KIND_EQUIV_PROOF", kind::EQUIV_PROOF),
        ("KIND_CERT_SHARE", kind::CERT_SHARE),
        ("KIND_TIE", kind::TIE),
        ("TIE_ONE", tie::ONE),
        ("ORDER_BUF", ORDER_BUF as u32),
        ("TABLE_L1_SEGMENTS", L1_SEGMENTS),
        ("TABLE_L2_OFFSET", L2_OFFSET),
        ("TABLE_STRIDE", TABLE_STRIDE),
        ("STREAM_MESSAGE", stream::MESSAGE),
        ("STREAM_COMMITTEE", stream::COMMITTEE),
        ("STREAM_RANKING", stream::RANKING),
        ("STREAM_FAILURE", stream::FAILURE),
        ("STREAM_EXECUTION", stream::EXECUTION),
        ("BATCHES", agg::BATCHES),
        ("BATCH_FIELDS", agg::BATCH_FIELDS),
        ("F_NOTARIZED", agg::F_NOTARIZED),
        ("F_STALLED", agg::F_STALLED),
        ("F_FINALIZED", agg::F_FINALIZED),
        ("F_ROUND_US", agg::F_ROUND_US),
        ("F_FIN_US", agg::F_FIN_US),
        ("F_RANK_SUM", agg::F_RANK_SUM),
        ("F_RANK0", agg::F_RANK0),
        ("F_STALL_US", agg::F_STALL_US),
        ("F_CERTIFIED", agg::F_CERTIFIED),
        ("F_CERT_US", agg::F_CERT_US),
        ("F_CERT_LAG_US", agg::F_CERT_LAG_US),
        ("CERT_WINDOW", cert::WINDOW as u32),
        (
            "ACCEPTABLE_FINALIZATION_CERTIFICATION_GAP",
            backlog::ACCEPTABLE_FINALIZATION_CERTIFICATION_GAP,
        ),
        (
            "ACCEPTABLE_NOTARIZATION_CERTIFICATION_GAP",
            backlog::ACCEPTABLE_NOTARIZATION_CERTIFICATION_GAP,
        ),
        ("TIME_BINS", agg::TIME_BINS),
        ("RANK_BINS", agg::RANK_BINS),
        ("HIST_ROUND", agg::HIST_ROUND),
        ("HIST_FIN", agg::HIST_FIN),
        ("HIST_RANK", agg::HIST_RANK),
        ("HIST_BINS", HIST_BINS),
        ("HIST_WORDS", HIST_WORDS),
        ("MAX_SLICE_STEPS", MAX_SLICE_STEPS),
        ("STATE_FIXED_WORDS", STATE_FIXED_WORDS),
        ("NODE_STATE_WORDS", NODE_STATE_WORDS),
        ("AGG_LEN", agg::AGG_LEN),
        ("NODE_CAP", class.node_cap),
        ("ORDER_CAP", class.order_cap),
        ("MAX_UNITS", MAX_UNITS as u32),
        ("PROOF_CAP", MAX_UNITS as u32 * class.node_cap),
        ("CERT_CAP", cert::WINDOW as u32 * class.node_cap),
        ("LATE", late::LATE as u32),
        ("LATE_CAP", late::LATE as u32 * class.node_cap),
    ];
    let mut s = String::from("// generated by src/gpu/shaders.rs from the ictwin-kernels constants\n");
    for (name, v) in u32s {
        s.push_str(&format!("const {name}: u32 = {v}u;\n"));
    }
    let backoff: Vec<String> = BACKOFF_Q16.iter().map(|b| format!("{b}lu")).collect();
    s.push_str(&format!(
        "const BACKOFF_Q16 = array<u64, {}>({});\n",
        BACKOFF_Q16.len(),
        backoff.join(", ")
    ));
    s.push_str(&format!("const MAX_NOTARY_DELAY_US: u64 = {MAX_NOTARY_DELAY_US}lu;\n"));
    s.push_str(&format!(
        "const BACKLOG_DELAY_US: u64 = {}lu;\n",
        backlog::BACKLOG_DELAY_US
    ));
    s
}

/// The WGSL declaration of `T`: a struct of the same name with the same u32 fields in the
/// same order, hence the same layout (all members 4-byte aligned, no padding).
pub fn struct_declaration<T: SharedStruct>() -> String {
    let fields: String = T::FIELDS
        .iter()
        .map(|(name, _)| format!("    {name}: u32,\n"))
        .collect();
    format!("struct {} {{\n{fields}}}\n", T::WGSL_NAME)
}

/// Word offsets of `T`'s fields as WGSL constants `{prefix}_{FIELD}`: for layouts the
/// shader reads from a plain `array<u32>`.
fn word_offsets<T: SharedStruct>(prefix: &str) -> String {
    T::FIELDS
        .iter()
        .map(|(name, offset)| format!("const {prefix}_{}: u32 = {}u;\n", name.to_uppercase(), (offset / 4)))
        .collect()
}

/// The generated declarations of everything the model kernel shares with the host besides
/// constants: the [`Params`] and [`Slice`] storage structs and the replica state layout.
pub fn model_interface() -> String {
    [
        "// generated by src/gpu/shaders.rs from the host's shared structs\n".to_string(),
        struct_declaration::<Params>(),
        struct_declaration::<Slice>(),
        word_offsets::<ReplicaState>("STATE"),
        word_offsets::<NodeState>("NODE"),
    ]
    .concat()
}

/// The model kernel (entry point `main`) for subnets of `class`. It also counts the Philox
/// blocks it draws, into u64 counter `AGG_LEN` (benchmark bookkeeping).
pub fn model_program(acc: Accumulation, class: NodeClass) -> String {
    let accum = match acc {
        Accumulation::Workgroup => ACCUM_WORKGROUP,
        Accumulation::Global => ACCUM_GLOBAL,
    };
    [
        header(class).as_str(),
        &model_interface(),
        PHILOX,
        TABLE,
        ARITH,
        MODEL,
        CERT,
        BACKLOG,
        HEIGHT,
        PROOFS,
        RESOLVE,
        LATE,
        SHUFFLE,
        FAILURES,
        REPLICA,
        SLICE,
        accum,
    ]
    .join("\n")
}

/// The Philox-only baseline kernel (entry point `main`).
pub fn philox_only_program() -> String {
    [header(NODE_CLASSES[0]).as_str(), PHILOX, PHILOX_ONLY].join("\n")
}

/// The test kernels (entry points `philox_kat`, `sample_table`).
pub fn tests_program() -> String {
    [header(NODE_CLASSES[0]).as_str(), PHILOX, TABLE, ARITH, TESTS].join("\n")
}

/// Every program the engine can build, by name (for validation): the model in every class
/// and variant, the baseline and the test kernels.
pub fn all_programs() -> Vec<(String, String)> {
    let mut v = Vec::new();
    for class in NODE_CLASSES {
        for (acc, name) in [
            (Accumulation::Workgroup, "workgroup histograms"),
            (Accumulation::Global, "global histograms"),
        ] {
            v.push((
                format!("model ({name}, {} nodes)", class.node_cap),
                model_program(acc, class),
            ));
        }
    }
    v.push(("philox-only baseline".into(), philox_only_program()));
    v.push(("tests".into(), tests_program()));
    v
}
