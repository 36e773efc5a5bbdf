//! A topology flattened for the IC-year kernel: dense ids per kind, names kept for output.

use crate::topology::Topology;
use anyhow::{bail, Result};
use ictwin_kernels::ic::{IcTopology, NONE};
use std::collections::HashMap;

/// One node as the IC level needs it.
#[derive(Clone, Debug, PartialEq)]
pub struct NodeRow {
    /// Node id (principal or name).
    pub id: String,
    /// Its data center's id.
    pub data_center: String,
    /// Its provider's id.
    pub provider: String,
    /// Its subnet's id; `None` = unassigned spare.
    pub subnet: Option<String>,
}

/// One data center as the IC level needs it.
#[derive(Clone, Debug, PartialEq)]
pub struct DataCenterRow {
    /// Data-center id.
    pub id: String,
    /// Owner id (a data-center operator; the data center itself when unknown).
    pub owner: String,
    /// Country (ISO code).
    pub country: String,
}

/// Interned names of one kind: id -> dense index.
#[derive(Clone, Debug, Default)]
pub struct Names {
    /// Index -> name.
    pub names: Vec<String>,
    index: HashMap<String, u32>,
}

impl Names {
    fn intern(&mut self, name: &str) -> u32 {
        if let Some(&i) = self.index.get(name) {
            return i;
        }
        let i = self.names.len() as u32;
        self.names.push(name.to_string());
        self.index.insert(name.to_string(), i);
        i
    }

    /// Index of `name`, if known.
    pub fn get(&self, name: &str) -> Option<u32> {
        self.index.get(name).copied()
    }

    /// Number of names.
    pub fn len(&self) -> u32 {
        self.names.len() as u32
    }

    /// True when empty.
    pub fn is_empty(&self) -> bool {
        self.names.is_empty()
    }
}

/// The flattened topology (owns what [`IcTopology`] borrows).
#[derive(Clone, Debug)]
pub struct IcInput {
    pub nodes: Names,
    pub data_centers: Names,
    pub owners: Names,
    pub providers: Names,
    pub countries: Names,
    pub subnets: Names,
    pub node_dc: Vec<u32>,
    pub node_provider: Vec<u32>,
    pub node_subnet: Vec<u32>,
    pub dc_owner: Vec<u32>,
    pub dc_country: Vec<u32>,
    pub subnet_size: Vec<u32>,
    /// Per subnet: limits per provider, data center, owner, country (0 = unlimited).
    pub subnet_limits: Vec<[u32; 4]>,
    /// Flattened `subnet_limits` for the kernel.
    limits_flat: Vec<u32>,
    group_start: Vec<u32>,
    group_nodes: Vec<u32>,
}

impl IcInput {
    /// Flattens nodes and data centers. Errors: no node, a duplicate id, a node in an unknown
    /// data center (the topology loader checks the file itself).
    pub fn new(nodes: &[NodeRow], data_centers: &[DataCenterRow]) -> Result<Self> {
        if nodes.is_empty() {
            bail!("the topology has no node");
        }
        let mut input = IcInput {
            nodes: Names::default(),
            data_centers: Names::default(),
            owners: Names::default(),
            providers: Names::default(),
            countries: Names::default(),
            subnets: Names::default(),
            node_dc: Vec::new(),
            node_provider: Vec::new(),
            node_subnet: Vec::new(),
            dc_owner: Vec::new(),
            dc_country: Vec::new(),
            subnet_size: Vec::new(),
            subnet_limits: Vec::new(),
            limits_flat: Vec::new(),
            group_start: Vec::new(),
            group_nodes: Vec::new(),
        };
        for d in data_centers {
            if input.data_centers.get(&d.id).is_some() {
                bail!("data center `{}` is listed twice", d.id);
            }
            input.data_centers.intern(&d.id);
            input.dc_owner.push(input.owners.intern(&d.owner));
            input.dc_country.push(input.countries.intern(&d.country));
        }
        for n in nodes {
            if input.nodes.get(&n.id).is_some() {
                bail!("node `{}` is listed twice", n.id);
            }
            let Some(dc) = input.data_centers.get(&n.data_center) else {
                bail!("node `{}`: unknown data center `{}`", n.id, n.data_center);
            };
            input.nodes.intern(&n.id);
            input.node_dc.push(dc);
            input.node_provider.push(input.providers.intern(&n.provider));
            let s = match &n.subnet {
                Some(s) => {
                    let i = input.subnets.intern(s);
                    if i as usize == input.subnet_size.len() {
                        input.subnet_size.push(0);
                    }
                    input.subnet_size[i as usize] += 1;
                    i
                }
                None => NONE,
            };
            input.node_subnet.push(s);
        }
        input.subnet_limits = vec![[0; 4]; input.subnet_size.len()];
        input.limits_flat = vec![0; 4 * input.subnet_size.len()];
        input.build_groups();
        Ok(input)
    }

    /// Flattens a topology file's network: subnets named by their short id, each with its
    /// limits when `keep_limits` (else unlimited). Nodes marked dead in the source data are
    /// ordinary members here: the fault model's stationary start accounts for down nodes.
    pub fn from_topology(t: &Topology, keep_limits: bool) -> Result<Self> {
        let short = |s: usize| Topology::short_id(&t.subnets[s].id).to_string();
        let dcs: Vec<DataCenterRow> = t
            .data_centers
            .iter()
            .map(|d| DataCenterRow {
                id: d.id.clone(),
                owner: d.owner.clone(),
                country: d.country.clone(),
            })
            .collect();
        let nodes: Vec<NodeRow> = t
            .nodes
            .iter()
            .map(|n| NodeRow {
                id: n.id.clone(),
                data_center: t.data_centers[n.data_center].id.clone(),
                provider: t.providers[n.provider].id.clone(),
                subnet: n.subnet.map(short),
            })
            .collect();
        let mut input = IcInput::new(&nodes, &dcs)?;
        if keep_limits {
            for (i, sub) in t.subnets.iter().enumerate() {
                let Some(s) = input.subnets.get(&short(i)) else {
                    continue;
                };
                let l = &sub.limits;
                input.set_limits(s, [l.node_provider, l.data_center, l.data_center_owner, l.country]);
            }
        }
        Ok(input)
    }

    /// Sets subnet `s`'s limits (provider, data center, owner, country; 0 = unlimited).
    pub fn set_limits(&mut self, s: u32, limits: [u32; 4]) {
        self.subnet_limits[s as usize] = limits;
        self.limits_flat[4 * s as usize..4 * s as usize + 4].copy_from_slice(&limits);
    }

    /// CSR member lists of every non-node component, in kernel order (data centers, owners,
    /// providers, countries).
    fn build_groups(&mut self) {
        let n = self.node_dc.len();
        // Each node's data center, owner, provider and country, in kernel order.
        let of = |kind: usize, i: usize| -> u32 {
            let dc = self.node_dc[i] as usize;
            match kind {
                0 => dc as u32,
                1 => self.dc_owner[dc],
                2 => self.node_provider[i],
                _ => self.dc_country[dc],
            }
        };
        let counts = [
            self.data_centers.len(),
            self.owners.len(),
            self.providers.len(),
            self.countries.len(),
        ];
        let mut start = vec![0u32];
        let mut members = Vec::with_capacity(4 * n);
        for (kind, &count) in counts.iter().enumerate() {
            let mut lists = vec![Vec::new(); count as usize];
            for i in 0..n {
                lists[of(kind, i) as usize].push(i as u32);
            }
            for l in lists {
                members.extend(l);
                start.push(members.len() as u32);
            }
        }
        self.group_start = start;
        self.group_nodes = members;
    }

    /// The kernel's view.
    pub fn topology(&self) -> IcTopology<'_> {
        IcTopology {
            node_dc: &self.node_dc,
            node_provider: &self.node_provider,
            node_subnet: &self.node_subnet,
            dc_owner: &self.dc_owner,
            dc_country: &self.dc_country,
            owners: self.owners.len(),
            providers: self.providers.len(),
            countries: self.countries.len(),
            subnet_size: &self.subnet_size,
            subnet_limits: &self.limits_flat,
            group_start: &self.group_start,
            group_nodes: &self.group_nodes,
        }
    }

    /// Name of component `c` in the kernel's numbering, with its level's name.
    pub fn component_name(&self, c: u32) -> (&'static str, &str) {
        let kinds: [(&'static str, &Names); 5] = [
            ("node", &self.nodes),
            ("data_center", &self.data_centers),
            ("owner", &self.owners),
            ("provider", &self.providers),
            ("country", &self.countries),
        ];
        let mut base = 0;
        for (kind, names) in kinds {
            if c < base + names.len() {
                return (kind, &names.names[(c - base) as usize]);
            }
            base += names.len();
        }
        ("", "")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn groups_list_each_components_nodes() {
        let dcs = [
            DataCenterRow {
                id: "a1".into(),
                owner: "o".into(),
                country: "CH".into(),
            },
            DataCenterRow {
                id: "b1".into(),
                owner: "o".into(),
                country: "DE".into(),
            },
        ];
        let node = |id: &str, dc: &str, p: &str, s: Option<&str>| NodeRow {
            id: id.into(),
            data_center: dc.into(),
            provider: p.into(),
            subnet: s.map(Into::into),
        };
        let nodes = [
            node("n0", "a1", "p", Some("s")),
            node("n1", "b1", "q", None),
            node("n2", "a1", "q", Some("s")),
        ];
        let i = IcInput::new(&nodes, &dcs).unwrap();
        let t = i.topology();
        assert_eq!(t.components(), 3 + 2 + 1 + 2 + 2);
        assert_eq!(i.subnet_size, [2]);
        // dc a1: n0, n2; dc b1: n1; owner o: all; provider p: n0; q: n1, n2; CH: n0, n2; DE: n1.
        assert_eq!(i.group_start, [0, 2, 3, 6, 7, 9, 11, 12]);
        assert_eq!(i.group_nodes, [0, 2, 1, 0, 1, 2, 0, 1, 2, 0, 2, 1]);
        assert_eq!(i.component_name(3 + 1), ("data_center", "b1"));
        let bad = [node("n0", "zz", "p", None)];
        assert!(IcInput::new(&bad, &dcs)
            .unwrap_err()
            .to_string()
            .contains("unknown data center `zz`"));
    }
}
