//! The agents and artifacts, after the position paper's class diagram: [`IcNode`] (subnet,
//! data center, P2P neighbours, block pool, boundary-node flag, current round/height),
//! [`Client`], [`Request`] and [`Block`].

use std::collections::BTreeMap;
use std::rc::Rc;

/// What a node does. Roles are fixed node ids (see [`crate::scenario::FineConfig`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    Honest,
    /// Down for the whole run.
    Crashed,
    /// Byzantine: never proposes, signs or relays.
    Silent,
    /// Byzantine block maker: proposes two blocks at its rank; signs nothing.
    Equivocating,
    /// Byzantine: behaves honestly but every share it sends is an invalid signature.
    InvalidShare,
    /// Byzantine notary: signs every block on receipt and finalizes every notarized block.
    NotarizeAll,
}

impl Role {
    /// Sends signature shares (valid or not).
    pub fn signs(self) -> bool {
        matches!(self, Role::Honest | Role::InvalidShare | Role::NotarizeAll)
    }
    /// Proposes blocks when it is a ranked block maker.
    pub fn proposes(self) -> bool {
        !matches!(self, Role::Crashed | Role::Silent)
    }
    /// Relays gossip.
    pub fn relays(self) -> bool {
        !matches!(self, Role::Crashed | Role::Silent)
    }
}

/// Role of node `id` given the fault counts, in the fixed id order.
pub fn role_of(id: u32, counts: [u32; 5]) -> Role {
    let roles = [
        Role::Crashed,
        Role::Silent,
        Role::Equivocating,
        Role::InvalidShare,
        Role::NotarizeAll,
    ];
    let mut lo = 0;
    for (c, r) in counts.iter().zip(roles) {
        if id < lo + c {
            return r;
        }
        lo += c;
    }
    Role::Honest
}

/// Block id = index into the simulation's block arena (0 = genesis).
pub type BlockId = u32;

/// A block proposal.
#[derive(Clone, Debug)]
pub struct Block {
    pub id: BlockId,
    pub parent: BlockId,
    pub height: u64,
    /// Rank of its maker at this height (0 = leader).
    pub rank: u32,
    pub maker: u32,
    /// Equivocation variant (0 for honest blocks).
    pub variant: u8,
    /// Requests in the payload (ids into the request table).
    pub payload: Vec<u32>,
    /// SHA-256 over the header and payload: the message that shares sign.
    pub digest: [u8; 32],
}

impl Block {
    /// The digest of a block with these fields.
    pub fn compute_digest(
        parent: &[u8; 32],
        height: u64,
        rank: u32,
        maker: u32,
        variant: u8,
        payload: &[u32],
    ) -> [u8; 32] {
        let mut m = Vec::with_capacity(32 + 17 + 4 * payload.len());
        m.extend_from_slice(b"ictwin-block");
        m.extend_from_slice(parent);
        m.extend_from_slice(&height.to_le_bytes());
        m.extend_from_slice(&rank.to_le_bytes());
        m.extend_from_slice(&maker.to_le_bytes());
        m.push(variant);
        for r in payload {
            m.extend_from_slice(&r.to_le_bytes());
        }
        super::crypto::sha256(&m)
    }
}

/// A client request (ingress message).
#[derive(Clone, Debug)]
pub struct Request {
    pub id: u32,
    pub client: u32,
    /// Subnet the target canister lives on (this subnet: 0).
    pub target_subnet: u32,
    /// Other subnets the request needs (cross-subnet calls; recorded, not simulated).
    pub cross_subnet_targets: Vec<u32>,
    /// Submission time at the client, µs.
    pub submitted_us: u64,
    /// The boundary node it was sent through.
    pub boundary_node: u32,
    /// Time it is in the ingress pools of the subnet's nodes, µs.
    pub ingress_us: u64,
    /// Finalization time (first honest node), µs.
    pub finalized_us: Option<u64>,
}

/// A client: submits requests as a Poisson process through one boundary node.
#[derive(Clone, Debug)]
pub struct Client {
    pub id: u32,
    pub boundary_node: u32,
    /// Requests per second.
    pub rate_per_s: f64,
}

/// A set of node ids.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct SignerSet {
    words: Vec<u64>,
    count: u32,
}

impl SignerSet {
    /// Adds `i`; false if it was already there.
    pub fn insert(&mut self, i: u32) -> bool {
        let w = (i / 64) as usize;
        if self.words.len() <= w {
            self.words.resize(w + 1, 0);
        }
        let bit = 1u64 << (i % 64);
        if self.words[w] & bit != 0 {
            return false;
        }
        self.words[w] |= bit;
        self.count += 1;
        true
    }
    pub fn contains(&self, i: u32) -> bool {
        self.words
            .get((i / 64) as usize)
            .is_some_and(|w| w >> (i % 64) & 1 == 1)
    }
    pub fn len(&self) -> u32 {
        self.count
    }
    pub fn is_empty(&self) -> bool {
        self.count == 0
    }
    /// Members in increasing order.
    pub fn iter(&self) -> impl Iterator<Item = u32> + '_ {
        self.words.iter().enumerate().flat_map(|(w, &bits)| {
            (0..64)
                .filter(move |b| bits >> b & 1 == 1)
                .map(move |b| w as u32 * 64 + b)
        })
    }
}

/// Per-block state in a node's pool.
#[derive(Clone, Debug, Default)]
pub struct BlockState {
    /// The proposal itself has been received and checked.
    pub received: bool,
    pub notar_shares: SignerSet,
    pub notarized: bool,
    pub final_shares: SignerSet,
    pub finalized: bool,
    /// This node signed a notarization share for it.
    pub signed_notar: bool,
    /// Signers of the notarization this node holds (None: none, or adopted in a catch-up).
    pub notarization: Option<Rc<SignerSet>>,
    /// Signers of the finalization this node holds (None: none, or finalized as an ancestor).
    pub finalization: Option<Rc<SignerSet>>,
}

/// A node's pool at one height.
#[derive(Clone, Debug, Default)]
pub struct HeightPool {
    pub blocks: BTreeMap<BlockId, BlockState>,
    /// Notarized blocks in the order this node saw them notarized.
    pub notarized: Vec<BlockId>,
    /// Lowest rank this node signed at this height.
    pub min_signed_rank: Option<u32>,
    pub final_signed: bool,
    pub beacon_shares: SignerSet,
    /// Time of the notary timer scheduled for this height, µs.
    pub notary_timer_us: Option<u64>,
    /// Ranks whose maker this node holds an equivocation proof against.
    pub disqualified: Vec<u32>,
    /// This node proposed at this height (it proposes once).
    pub proposed: bool,
}

/// A subnet node.
#[derive(Clone, Debug)]
pub struct IcNode {
    pub id: u32,
    pub subnet: u32,
    /// One node per data center (deployed rule).
    pub data_center: u32,
    /// Gossip neighbours (empty in full mesh).
    pub neighbours: Vec<u32>,
    pub is_boundary: bool,
    pub role: Role,
    pub up: bool,
    /// Incremented on each crash/recovery; timers of older epochs are ignored.
    pub epoch: u32,
    /// The node's CPU is busy with crypto until this time, µs.
    pub busy_until_us: u64,
    /// Current round (height being agreed on); the node holds notarization and beacon of
    /// `height - 1`.
    pub height: u64,
    /// Start of the current round in this node's view, µs.
    pub round_start_us: u64,
    pub notarized_height: u64,
    pub finalized_height: u64,
    /// Highest height whose beacon this node holds (all lower ones too).
    pub beacon_height: u64,
    /// Artifact pool by height (pruned below the finalized height).
    pub pools: BTreeMap<u64, HeightPool>,
}

impl IcNode {
    pub fn pool(&mut self, h: u64) -> &mut HeightPool {
        self.pools.entry(h).or_default()
    }
    /// Finality gap g = notarized - finalized height.
    pub fn finality_gap(&self) -> u64 {
        self.notarized_height.saturating_sub(self.finalized_height)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_follow_the_fixed_id_order() {
        let c = [1, 2, 1, 1, 1];
        let roles: Vec<Role> = (0..8).map(|i| role_of(i, c)).collect();
        assert_eq!(
            roles,
            [
                Role::Crashed,
                Role::Silent,
                Role::Silent,
                Role::Equivocating,
                Role::InvalidShare,
                Role::NotarizeAll,
                Role::Honest,
                Role::Honest
            ]
        );
    }

    #[test]
    fn signer_set_counts_distinct_members() {
        let mut s = SignerSet::default();
        assert!(s.insert(3));
        assert!(s.insert(130));
        assert!(!s.insert(3));
        assert_eq!(s.len(), 2);
        assert!(s.contains(130) && !s.contains(4));
        assert_eq!(s.iter().collect::<Vec<_>>(), vec![3, 130]);
    }
}
