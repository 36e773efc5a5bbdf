//! The unit tests' subnet: 4 nodes (f = 1, quorum 3, beacon threshold 2, 2 makers), constant
//! 100 ms delays, U = 1 s, N0 = 300 ms, no modeled crypto time and no clients unless asked.
//! [`fixture`] returns it right after construction: every node is in round 1 at T0 = 0 and
//! nothing in the queue has run.

use super::{Sim, SimParams};
use crate::fine::agents::{Block, BlockId, SignerSet};
use crate::fine::artifacts::ShareKind;
use crate::scenario::parse;
use std::path::Path;

/// No faults.
pub const HONEST: &str = "";
/// Node 0 equivocates.
pub const EQUIVOCATING: &str = "equivocating = 1";

/// The fixture subnet with `faults` (the `[faults]` table's lines) and extra `[fine]` lines.
pub fn fixture(faults: &str, fine: &str) -> Sim {
    fixture_with(faults, fine, "")
}

/// [`fixture`] with extra scenario tables (`[execution]`, `[protocol]`, ...).
pub fn fixture_with(faults: &str, fine: &str, tables: &str) -> Sim {
    let clients = if fine.contains("clients") { "" } else { "clients = 0\n" };
    let crypto_time = if fine.contains("crypto_time") {
        ""
    } else {
        "crypto_time = false\n"
    };
    let text = format!(
        "name = \"unit\"\n[subnet]\nnodes = 4\nunit_delay_ms = 1000\ninitial_notary_delay_ms = 300\n\
         [network]\ndelay = {{ dist = \"constant\", ms = 100.0 }}\n[faults]\n{faults}\n{tables}\n\
         [run]\nreplicas = 1\nrounds = 20\nseed = 1\n[fine]\n{crypto_time}{clients}{fine}\n"
    );
    let s = parse(&text, "unit.toml", Path::new("."))
        .expect("fixture scenario")
        .scenario;
    let cfg = crate::fine::config_of(&s).expect("fixture [fine] table");
    let p = SimParams::from_scenario(&s, &cfg, s.run.rounds);
    Sim::new(&s, p, 42, None, &Default::default()).expect("not stopped")
}

impl Sim {
    /// A validly signed block at height h (h = 1: on genesis) by the rank-`rank` maker,
    /// with notarization and finalization shares prepared for all signers.
    pub fn block(&mut self, h: u64, rank: u32) -> BlockId {
        assert_eq!(h, 1, "use block_on above height 1");
        self.block_on(h, rank, 0)
    }

    /// Like [`Sim::block`] on `parent` (needs the ranking of h: see [`Sim::advance_beacon`]).
    pub fn block_on(&mut self, h: u64, rank: u32, parent: BlockId) -> BlockId {
        let maker = self.rankings[h as usize][rank as usize];
        let id = self.blocks.len() as BlockId;
        let digest = Block::compute_digest(&self.blocks[parent as usize].digest, h, rank, maker, 0, &[]);
        self.blocks.push(Block {
            id,
            parent,
            height: h,
            rank,
            maker,
            variant: 0,
            payload: Vec::new(),
            digest,
        });
        assert!(self.art.sign_block(id, maker, &digest));
        let signers = self.share_signers(h);
        for kind in [ShareKind::Notarization, ShareKind::Finalization] {
            self.art.prepare(kind, id as u64, &digest, &signers);
        }
        id
    }

    /// Combines the beacon of height h in the replica (not in any node's view), its shares
    /// prepared here if no node made them, and derives the makers and committee of h + 1.
    pub fn advance_beacon(&mut self, h: u64) {
        let signers = self.share_signers(h);
        let subject = self.art.beacon_subject(h);
        self.art.prepare(ShareKind::Beacon, h, &subject, &signers);
        let mut set = SignerSet::default();
        for (s, _) in signers {
            set.insert(s);
        }
        assert!(self.art.combine_beacon(h, &set));
        self.ensure_ranking(h + 1);
    }
}
