//! The whole-IC level: every subnet of a real or synthetic topology at once, under failures
//! correlated through shared data centers, owners, providers and countries, Byzantine
//! provider takeovers and NNS node replacement (`ictwin ic`). The per-replica model is the
//! integer kernel `ictwin_kernels::ic`; this module flattens the topology ([`input`]), builds
//! the kernel's parameters from a fault file and runs replicas in parallel ([`run`]).

pub mod bench;
pub mod input;
pub mod predict;
pub mod run;

pub use input::{DataCenterRow, IcInput, NodeRow};
pub use run::{prepare, run, IcPrepared, IcTotals, Moments, SubnetTotals};
