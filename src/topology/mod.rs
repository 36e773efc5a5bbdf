//! The Internet Computer as a whole: data centers, node providers, nodes and subnets, read
//! from a topology file (TOML, format in the README's "Topology files" section).
//!
//! - this module: the validated model ([`Topology`]) and the decentralization limits a
//!   subnet's membership must respect ([`Limits`]);
//! - `load`: reading and validating a topology file, errors naming file, line and key;
//! - [`check`]: per subnet, its Nakamoto coefficients per attribute and its violations of the
//!   limits;
//! - [`import`]: the real network from `../shared/data/real-ic/` and the data-center table;
//! - [`generate`]: synthetic topologies that obey the limits, seeded;
//! - [`latency`]: one-way base latency between data centers from their coordinates, and a
//!   subnet's latency matrix;
//! - `write`: a topology as TOML text, deterministic (the inverse of `load`).
//!
//! The decentralization limits are those of the NNS's "IC target topology" (motion proposal
//! adopted on 2023-11-12, adjusted later; sources in [`Limits`]).

pub mod check;
pub mod generate;
pub mod import;
pub mod latency;
mod load;
mod write;

pub use load::{load, parse};
pub use write::to_toml;

use serde::{Deserialize, Serialize};

/// A whole network: data centers, node providers, subnets and nodes. Built only by the
/// loader, the importer or the generator, which guarantee the invariants below.
///
/// Invariants: ids are unique within each list; every node's data center, provider and
/// subnet index points into its list; every subnet has exactly `size` nodes.
#[derive(Clone, Debug, PartialEq)]
pub struct Topology {
    /// Name of the topology (e.g. `mainnet-2025-12`).
    pub name: String,
    /// Free text: where it comes from, what is approximate.
    pub description: String,
    /// The data centers, in file order.
    pub data_centers: Vec<DataCenter>,
    /// The node providers, in file order.
    pub providers: Vec<NodeProvider>,
    /// The subnets, in file order.
    pub subnets: Vec<Subnet>,
    /// The nodes, in file order.
    pub nodes: Vec<Node>,
}

/// A data center (a registry `DataCenterRecord` plus its owner).
#[derive(Clone, Debug, PartialEq)]
pub struct DataCenter {
    /// Registry id, e.g. `zh2`.
    pub id: String,
    /// Display name, e.g. `Zurich 2`.
    pub name: String,
    /// City the coordinates refer to.
    pub city: String,
    /// Region as the registry gives it: a state, province, canton or city.
    pub region: String,
    /// Country code as the registry writes it (ISO 3166-1 alpha-2, `UK` for Great Britain).
    pub country: String,
    /// Continent (`Europe`, `North America`, ...).
    pub continent: String,
    /// Latitude in degrees, -90..=90 (city-level, not the building).
    pub latitude: f64,
    /// Longitude in degrees, -180..=180.
    pub longitude: f64,
    /// The company owning the data center (the registry's "data center provider").
    pub owner: String,
}

/// A node provider (the entity rewarded for a set of nodes).
#[derive(Clone, Debug, PartialEq)]
pub struct NodeProvider {
    /// Principal id (or a synthetic id).
    pub id: String,
    /// Display name, empty when unknown.
    pub name: String,
}

/// What a subnet is for; it sets the subnet's default [`Limits`] (only `swiss` differs).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SubnetKind {
    /// The NNS subnet (`tdb26`).
    Nns,
    /// The SNS subnet.
    Sns,
    /// The fiduciary subnet (threshold ECDSA/Schnorr keys).
    Fiduciary,
    /// The Internet Identity subnet.
    InternetIdentity,
    /// The Bitcoin canister subnet.
    Bitcoin,
    /// The European subnet (nodes in the EU only).
    European,
    /// The Swiss subnet (nodes in Switzerland only: no country limit).
    Swiss,
    /// Any other system subnet.
    System,
    /// An application subnet.
    Application,
}

impl SubnetKind {
    /// The name used in topology files.
    pub fn as_str(self) -> &'static str {
        match self {
            SubnetKind::Nns => "nns",
            SubnetKind::Sns => "sns",
            SubnetKind::Fiduciary => "fiduciary",
            SubnetKind::InternetIdentity => "internet_identity",
            SubnetKind::Bitcoin => "bitcoin",
            SubnetKind::European => "european",
            SubnetKind::Swiss => "swiss",
            SubnetKind::System => "system",
            SubnetKind::Application => "application",
        }
    }
}

/// A subnet.
#[derive(Clone, Debug, PartialEq)]
pub struct Subnet {
    /// Subnet id (principal, or a synthetic id).
    pub id: String,
    /// What it is for.
    pub kind: SubnetKind,
    /// Number of nodes (equal to the nodes assigned to it).
    pub size: u32,
    /// Scenario preset for its protocol parameters, as written in the file (relative to the
    /// topology file's directory); checked to load with `subnet.nodes == size`.
    pub preset: Option<String>,
    /// Nodes of the subnet that made no block on the last day of the source data (treated as
    /// crashed); at least the nodes marked [`Node::dead`], at most `size`.
    pub dead_nodes: u32,
    /// Decentralization limits of its membership.
    pub limits: Limits,
}

/// A node (a replica machine).
#[derive(Clone, Debug, PartialEq)]
pub struct Node {
    /// Node id (principal, or a synthetic id).
    pub id: String,
    /// Index into [`Topology::data_centers`].
    pub data_center: usize,
    /// Index into [`Topology::providers`].
    pub provider: usize,
    /// Index into [`Topology::subnets`]; `None` for an unassigned spare.
    pub subnet: Option<usize>,
    /// Made no block at all while in its subnet in the source data: crashed.
    pub dead: bool,
}

/// The attributes whose concentration the NNS limits, in report order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Attribute {
    /// The node provider.
    NodeProvider,
    /// The data center.
    DataCenter,
    /// The data center's owner.
    DataCenterOwner,
    /// The data center's country.
    Country,
}

impl Attribute {
    /// All attributes, in report order.
    pub const ALL: [Attribute; 4] = [
        Attribute::NodeProvider,
        Attribute::DataCenter,
        Attribute::DataCenterOwner,
        Attribute::Country,
    ];

    /// Column-name stem (`node_provider`, `data_center`, `data_center_owner`, `country`).
    pub fn as_str(self) -> &'static str {
        match self {
            Attribute::NodeProvider => "node_provider",
            Attribute::DataCenter => "data_center",
            Attribute::DataCenterOwner => "data_center_owner",
            Attribute::Country => "country",
        }
    }

    /// The attribute's value for `node` (an id, an owner name or a country code).
    pub fn value_of<'a>(self, topo: &'a Topology, node: &Node) -> &'a str {
        let dc = &topo.data_centers[node.data_center];
        match self {
            Attribute::NodeProvider => &topo.providers[node.provider].id,
            Attribute::DataCenter => &dc.id,
            Attribute::DataCenterOwner => &dc.owner,
            Attribute::Country => &dc.country,
        }
    }
}

/// The most nodes of one subnet that may share a node provider, data center, data center
/// owner or country ("subnet limits"). All at least 1.
///
/// Sources: the IC target topology motion proposal (adopted 2023-11-12; text as committed in
/// `dfinity/decentralization`, forum post "IC topology: node diversification part II",
/// <https://forum.dfinity.org/t/ic-topology-node-diversification-part-ii/23553>): "subnet
/// limit = 1" for node provider, data center and data center provider (owner); country limit
/// 3 for subnets of 28 or more nodes and 2 for 13-node subnets. The later adjustment (II and
/// fiduciary to 34 nodes,
/// <https://forum.dfinity.org/t/adjustment-of-ic-target-topology-to-increase-subnet-size-of-fiduciary-and-ii-subnets/34210>)
/// set the Swiss subnet's country limit to 13, i.e. none. The limits
/// per subnet as DFINITY's optimizer uses them: `dfinity/decentralization`,
/// `data/topology/target_topology.csv` and `prod_topology.csv` (every mainnet subnet: 1, 1,
/// 1, and 3 for the 34- and 40-node subnets, 2 for the 13-node ones). Not verified: the
/// limits for sizes between 14 and 27 (none exist; we use 2) and the 2025 "US subnet"
/// (motion 137147, data center owner limit 2 per forum reviews), which is not modelled.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Limits {
    /// Most nodes per node provider.
    pub node_provider: u32,
    /// Most nodes per data center.
    pub data_center: u32,
    /// Most nodes per data center owner.
    pub data_center_owner: u32,
    /// Most nodes per country.
    pub country: u32,
}

/// Smallest subnet size whose country limit is 3 rather than 2 (target topology).
pub const LARGE_SUBNET_NODES: u32 = 28;

impl Limits {
    /// The target topology's limits for a subnet of `kind` with `size` nodes.
    pub fn target(kind: SubnetKind, size: u32) -> Limits {
        let country = match kind {
            SubnetKind::Swiss => size.max(1),
            _ if size >= LARGE_SUBNET_NODES => 3,
            _ => 2,
        };
        Limits {
            node_provider: 1,
            data_center: 1,
            data_center_owner: 1,
            country,
        }
    }

    /// The limit on `attr`.
    pub fn of(&self, attr: Attribute) -> u32 {
        match attr {
            Attribute::NodeProvider => self.node_provider,
            Attribute::DataCenter => self.data_center,
            Attribute::DataCenterOwner => self.data_center_owner,
            Attribute::Country => self.country,
        }
    }
}

/// f, the Byzantine nodes a subnet of `n` nodes tolerates: floor((n - 1) / 3) (0 for n = 0).
pub fn faults_tolerated(n: usize) -> usize {
    n.saturating_sub(1) / 3
}

impl Topology {
    /// Indices of the nodes of subnet `s`, in file order.
    pub fn members(&self, s: usize) -> Vec<usize> {
        (0..self.nodes.len())
            .filter(|&i| self.nodes[i].subnet == Some(s))
            .collect()
    }

    /// Short form of an id for tables: the first dash-separated group of a principal
    /// (`tdb26-jop6k-...` -> `tdb26`), the id itself otherwise.
    pub fn short_id(id: &str) -> &str {
        match id.split_once('-') {
            Some((head, _)) if id.len() > 20 => head,
            _ => id,
        }
    }
}
