//! `ictwin topology check`: per subnet, how concentrated its nodes are per attribute (node
//! provider, data center, data center owner, country), its Nakamoto coefficients and its
//! violations of the NNS's subnet limits.
//!
//! **Nakamoto coefficient** of a subnet of n nodes for an attribute and a threshold t: the
//! fewest values of the attribute (providers, data centers, owners, countries) that together
//! hold more than t of its nodes; reported for t = f (enough to break safety assumptions: more
//! than f Byzantine nodes) and t = 2f (enough to also finalize alone), f = floor((n-1)/3).
//! DFINITY's DRE tooling computes the first with t = floor(n/3), the same for n = 3f+1 (every
//! mainnet size): `dfinity/dre`, `rs/decentralization/src/nakamoto/mod.rs`, `fn nakamoto`.

use super::{faults_tolerated, Attribute, Topology};
use std::collections::HashMap;
use std::fmt::Write;

/// The smallest number of the largest `counts` whose sum exceeds `threshold`; `None` when
/// all of them together do not (e.g. an empty subnet).
pub fn nakamoto(counts: &[usize], threshold: usize) -> Option<usize> {
    let mut sorted = counts.to_vec();
    sorted.sort_unstable_by(|a, b| b.cmp(a));
    let mut sum = 0usize;
    for (k, c) in sorted.iter().enumerate() {
        sum += c;
        if sum > threshold {
            return Some(k + 1);
        }
    }
    None
}

/// One value of an attribute holding more of a subnet's nodes than its limit allows.
#[derive(Clone, Debug, PartialEq)]
pub struct Violation {
    /// The attribute.
    pub attribute: Attribute,
    /// Its value (provider id, data center id, owner, country).
    pub value: String,
    /// Nodes of the subnet with that value.
    pub count: usize,
    /// The subnet's limit for the attribute.
    pub limit: u32,
}

impl std::fmt::Display for Violation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} {} has {} nodes (limit {})",
            self.attribute.as_str(),
            Topology::short_id(&self.value),
            self.count,
            self.limit
        )
    }
}

/// One attribute of one subnet.
#[derive(Clone, Debug, PartialEq)]
pub struct AttributeReport {
    /// The attribute.
    pub attribute: Attribute,
    /// Distinct values among the subnet's nodes.
    pub distinct: usize,
    /// Nodes sharing the most common value.
    pub max_count: usize,
    /// The subnet's limit for the attribute.
    pub limit: u32,
    /// Fewest values holding more than f nodes.
    pub nakamoto_f: Option<usize>,
    /// Fewest values holding more than 2f nodes.
    pub nakamoto_2f: Option<usize>,
}

/// The check of one subnet.
#[derive(Clone, Debug, PartialEq)]
pub struct SubnetReport {
    /// Index into [`Topology::subnets`].
    pub subnet: usize,
    /// Its nodes.
    pub nodes: usize,
    /// floor((nodes - 1) / 3).
    pub f: usize,
    /// Nodes that made no block on the data's last day ([`super::Subnet::dead_nodes`]).
    pub dead_nodes: u32,
    /// One report per [`Attribute::ALL`], in that order.
    pub attributes: Vec<AttributeReport>,
    /// Limit violations, by attribute then by decreasing count then value.
    pub violations: Vec<Violation>,
}

/// Nodes of `members` per value of `attr`, sorted by decreasing count then value.
pub fn value_counts(topo: &Topology, members: &[usize], attr: Attribute) -> Vec<(String, usize)> {
    let mut counts: HashMap<&str, usize> = HashMap::new();
    for &i in members {
        *counts.entry(attr.value_of(topo, &topo.nodes[i])).or_default() += 1;
    }
    let mut v: Vec<(String, usize)> = counts.into_iter().map(|(k, c)| (k.to_string(), c)).collect();
    v.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    v
}

/// Checks subnet `s` of `topo`.
pub fn check_subnet(topo: &Topology, s: usize) -> SubnetReport {
    let subnet = &topo.subnets[s];
    let members = topo.members(s);
    let n = members.len();
    let f = faults_tolerated(n);
    let mut attributes = Vec::new();
    let mut violations = Vec::new();
    for attr in Attribute::ALL {
        let counts = value_counts(topo, &members, attr);
        let only: Vec<usize> = counts.iter().map(|c| c.1).collect();
        let limit = subnet.limits.of(attr);
        violations.extend(
            counts
                .iter()
                .filter(|c| c.1 > limit as usize)
                .map(|(value, count)| Violation {
                    attribute: attr,
                    value: value.clone(),
                    count: *count,
                    limit,
                }),
        );
        attributes.push(AttributeReport {
            attribute: attr,
            distinct: counts.len(),
            max_count: only.first().copied().unwrap_or(0),
            limit,
            nakamoto_f: nakamoto(&only, f),
            nakamoto_2f: nakamoto(&only, 2 * f),
        });
    }
    SubnetReport {
        subnet: s,
        nodes: n,
        f,
        dead_nodes: subnet.dead_nodes,
        attributes,
        violations,
    }
}

/// Checks every subnet of `topo`, in file order.
pub fn check(topo: &Topology) -> Vec<SubnetReport> {
    (0..topo.subnets.len()).map(|s| check_subnet(topo, s)).collect()
}

fn opt(v: Option<usize>) -> String {
    v.map(|v| v.to_string()).unwrap_or_default()
}

/// The reports as CSV: one row per subnet, columns `subnet, subnet_short, kind, nodes, f,
/// dead_nodes`, then per attribute `<attr>_distinct, <attr>_max, <attr>_limit,
/// <attr>_nakamoto_f, <attr>_nakamoto_2f`, then `violations` (count) and `violation_list`
/// (`;`-separated, values shortened to their first principal group).
pub fn to_csv(topo: &Topology, reports: &[SubnetReport]) -> String {
    let mut o = String::from("subnet,subnet_short,kind,nodes,f,dead_nodes");
    for a in Attribute::ALL {
        let s = a.as_str();
        let _ = write!(o, ",{s}_distinct,{s}_max,{s}_limit,{s}_nakamoto_f,{s}_nakamoto_2f");
    }
    o.push_str(",violations,violation_list\n");
    for r in reports {
        let s = &topo.subnets[r.subnet];
        let _ = write!(
            o,
            "{},{},{},{},{},{}",
            s.id,
            Topology::short_id(&s.id),
            s.kind.as_str(),
            r.nodes,
            r.f,
            r.dead_nodes
        );
        for a in &r.attributes {
            let _ = write!(
                o,
                ",{},{},{},{},{}",
                a.distinct,
                a.max_count,
                a.limit,
                opt(a.nakamoto_f),
                opt(a.nakamoto_2f)
            );
        }
        let list: Vec<String> = r.violations.iter().map(|v| v.to_string().replace(',', " ")).collect();
        let _ = writeln!(o, ",{},{}", r.violations.len(), list.join("; "));
    }
    o
}

/// The reports as a table for the terminal: per subnet its size, f, dead nodes, and per
/// attribute `distinct/max<=limit NC_f/NC_2f`, then its violations.
pub fn render_table(topo: &Topology, reports: &[SubnetReport]) -> String {
    let mut o = String::new();
    let _ = writeln!(
        o,
        "{:<8} {:<17} {:>5} {:>3} {:>4}  {:<16} {:<16} {:<16} {:<16}  violations",
        "subnet", "kind", "nodes", "f", "dead", "provider", "data center", "dc owner", "country"
    );
    let _ = writeln!(
        o,
        "{:<8} {:<17} {:>5} {:>3} {:>4}  {:<16} {:<16} {:<16} {:<16}",
        "", "", "", "", "", "n/max<=lim NC", "n/max<=lim NC", "n/max<=lim NC", "n/max<=lim NC"
    );
    for r in reports {
        let s = &topo.subnets[r.subnet];
        let _ = write!(
            o,
            "{:<8} {:<17} {:>5} {:>3} {:>4} ",
            Topology::short_id(&s.id),
            s.kind.as_str(),
            r.nodes,
            r.f,
            r.dead_nodes
        );
        for a in &r.attributes {
            let cell = format!(
                "{}/{}<={} {}/{}",
                a.distinct,
                a.max_count,
                a.limit,
                opt(a.nakamoto_f),
                opt(a.nakamoto_2f)
            );
            let _ = write!(o, " {cell:<16}");
        }
        let list: Vec<String> = r.violations.iter().map(ToString::to_string).collect();
        let _ = writeln!(o, "  {}", if list.is_empty() { "-".into() } else { list.join("; ") });
    }
    let bad = reports.iter().filter(|r| !r.violations.is_empty()).count();
    let _ = writeln!(
        o,
        "{} subnets, {} violating a limit; NC = Nakamoto coefficients (values holding > f / > 2f nodes)",
        reports.len(),
        bad
    );
    o
}

#[cfg(test)]
mod tests {
    use super::nakamoto;

    #[test]
    fn nakamoto_counts_the_largest_first() {
        // 13 nodes, f = 4: one value with 5 nodes alone exceeds f.
        assert_eq!(nakamoto(&[1, 5, 1, 1, 1, 1, 1, 1, 1], 4), Some(1));
        // all distinct: f + 1 values exceed f, 2f + 1 exceed 2f.
        assert_eq!(nakamoto(&[1; 13], 4), Some(5));
        assert_eq!(nakamoto(&[1; 13], 8), Some(9));
        // 2 + 2 + 1 > 4.
        assert_eq!(nakamoto(&[2, 1, 2, 1, 1, 1, 1, 1, 1, 1, 1], 4), Some(3));
        assert_eq!(nakamoto(&[], 0), None);
        assert_eq!(nakamoto(&[1, 1], 2), None);
    }
}
