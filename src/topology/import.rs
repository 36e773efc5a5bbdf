//! The real network as a [`Topology`]: `nodes.csv`, `subnets.csv` and `subnet_days.csv` of
//! `../shared/data/real-ic/` (30 days of mainnet, 2025-12-14 to 2026-01-12; its README says
//! where they come from) plus a table of data centers (`experiments/topology/data-centers.csv`:
//! city, coordinates, owner and their sources per `dc_id`).
//!
//! Rules (each a documented choice, checked against the data where it can be):
//! - a node belongs to the subnet it sat in on the data's **last day**: `subnet_last_day`, for
//!   nodes present in the data every day (`days_seen` equals the number of days); a node that
//!   left the network during the month keeps its last subnet in `subnet_last_day` but is a
//!   spare here (DeNoDe's nodes left on 2025-12-29, one NoviSystems node on 2026-01-02). Each
//!   subnet's count must equal its `nodes_last_day` in `subnets.csv`, else the import fails;
//! - a node is **dead** when it is in a subnet and made no block in the whole month;
//!   `dead_nodes` of a subnet is its `nodes_zero_proposed` on the last day (`subnet_days.csv`),
//!   which also counts nodes dead only recently (not identifiable per node in the data);
//! - the data-center table must agree with `nodes.csv` on region, country and continent; an
//!   empty owner (data centers missing from the owners' source) becomes `unknown (<dc_id>)`,
//!   its own owner;
//! - subnet kinds from `subnets.csv`; presets by size (13: `app-13`, 34: `fiduciary-34`,
//!   40: `nns-40` of `experiments/real-ic/`).

use super::{DataCenter, Limits, Node, NodeProvider, Subnet, SubnetKind, Topology};
use anyhow::{anyhow, bail, Context, Result};
use serde::Deserialize;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::Path;

/// One row of the data-center table (`data-centers.csv`).
#[derive(Clone, Debug, Deserialize)]
pub struct DataCenterRow {
    /// Registry id.
    pub dc_id: String,
    /// Display name.
    pub name: String,
    /// City the coordinates refer to.
    pub city: String,
    /// Region as in `nodes.csv` (`state` column).
    pub region: String,
    /// Country code as in `nodes.csv`.
    pub country: String,
    /// Continent as in `nodes.csv`.
    pub continent: String,
    /// Degrees.
    pub latitude: f64,
    /// Degrees.
    pub longitude: f64,
    /// Data center owner; empty when unknown.
    pub owner: String,
}

#[derive(Deserialize)]
struct NodeRow {
    node_id: String,
    node_provider_principal: String,
    dc_id: String,
    continent: String,
    country: String,
    state: String,
    subnet_last_day: String,
    days_seen: u32,
    blocks_proposed_total: String,
}

#[derive(Deserialize)]
struct SubnetRow {
    subnet: String,
    subnet_short: String,
    kind: String,
    nominal_size: u32,
    nodes_last_day: u32,
    n_days: u32,
}

#[derive(Deserialize)]
struct SubnetDayRow {
    subnet: String,
    day: String,
    nodes_zero_proposed: u32,
}

/// Reads every row of the CSV file at `path` as `T`; errors name the file and line.
fn read_csv<T: for<'de> Deserialize<'de>>(path: &Path) -> Result<Vec<(u64, T)>> {
    let mut rdr = csv::Reader::from_path(path).with_context(|| format!("{}: cannot read", path.display()))?;
    let mut rows = Vec::new();
    for rec in rdr.deserialize::<T>() {
        let rec = rec.map_err(|e| {
            let line = e.position().map(|p| format!(":{}", p.line())).unwrap_or_default();
            anyhow!("{}{line}: {e}", path.display())
        })?;
        rows.push(rec);
    }
    // csv's positions count from the header (line 1): the i-th record is on line i + 2.
    Ok(rows.into_iter().enumerate().map(|(i, r)| (i as u64 + 2, r)).collect())
}

/// Reads the data-center table; errors name the file and line.
pub fn read_data_centers(path: &Path) -> Result<Vec<(u64, DataCenterRow)>> {
    read_csv(path)
}

/// The subnet kind of a `subnets.csv` `kind` text.
fn kind_of(text: &str) -> Option<SubnetKind> {
    let head = text.split(" (").next().unwrap_or(text);
    Some(match head {
        "NNS" => SubnetKind::Nns,
        "SNS" => SubnetKind::Sns,
        "Fiduciary" => SubnetKind::Fiduciary,
        "Internet Identity" => SubnetKind::InternetIdentity,
        "Bitcoin" => SubnetKind::Bitcoin,
        "European" => SubnetKind::European,
        "Swiss" => SubnetKind::Swiss,
        "application" => SubnetKind::Application,
        _ => return None,
    })
}

/// The `experiments/real-ic/` preset of a subnet size, if any.
fn preset_file(size: u32) -> Option<&'static str> {
    match size {
        13 => Some("app-13.toml"),
        34 => Some("fiduciary-34.toml"),
        40 => Some("nns-40.toml"),
        _ => None,
    }
}

/// Builds the mainnet topology from the real-ic directory `dir` and the data-center table at
/// `dc_table`. `preset_dir`, when given, prefixes preset file names (relative to where the
/// topology file will be written, e.g. `../real-ic`).
pub fn import(dir: &Path, dc_table: &Path, name: &str, preset_dir: Option<&str>) -> Result<Topology> {
    let nodes_path = dir.join("nodes.csv");
    let node_rows: Vec<(u64, NodeRow)> = read_csv(&nodes_path)?;
    let subnet_rows: Vec<(u64, SubnetRow)> = read_csv(&dir.join("subnets.csv"))?;
    let day_rows: Vec<(u64, SubnetDayRow)> = read_csv(&dir.join("subnet_days.csv"))?;
    let dc_rows = read_data_centers(dc_table)?;

    let mut table: HashMap<&str, (u64, &DataCenterRow)> = HashMap::new();
    for (line, r) in &dc_rows {
        if table.insert(r.dc_id.as_str(), (*line, r)).is_some() {
            bail!("{}:{line}: duplicate dc_id \"{}\"", dc_table.display(), r.dc_id);
        }
    }
    let n_days = subnet_rows.iter().map(|(_, s)| s.n_days).max().unwrap_or(0);
    let last_day = day_rows
        .iter()
        .map(|(_, d)| d.day.as_str())
        .max()
        .unwrap_or("")
        .to_string();
    let short_to_full: HashMap<&str, &str> = subnet_rows
        .iter()
        .map(|(_, s)| (s.subnet_short.as_str(), s.subnet.as_str()))
        .collect();

    // Data centers used by nodes, checked against the table.
    let mut used: BTreeSet<&str> = BTreeSet::new();
    for (line, n) in &node_rows {
        let (tline, t) = table.get(n.dc_id.as_str()).copied().ok_or_else(|| {
            anyhow!(
                "{}:{line}: dc_id \"{}\" is not in the data-center table {}",
                nodes_path.display(),
                n.dc_id,
                dc_table.display()
            )
        })?;
        for (col, ours, theirs) in [
            ("region", &t.region, &n.state),
            ("country", &t.country, &n.country),
            ("continent", &t.continent, &n.continent),
        ] {
            if ours != theirs {
                bail!(
                    "{}:{tline}: dc_id \"{}\": {col} \"{ours}\" differs from {}:{line} (\"{theirs}\")",
                    dc_table.display(),
                    t.dc_id,
                    nodes_path.display()
                );
            }
        }
        used.insert(n.dc_id.as_str());
    }
    let data_centers: Vec<DataCenter> = used
        .iter()
        .map(|id| {
            let t = table[id].1;
            DataCenter {
                id: t.dc_id.clone(),
                name: t.name.clone(),
                city: t.city.clone(),
                region: t.region.clone(),
                country: t.country.clone(),
                continent: t.continent.clone(),
                latitude: t.latitude,
                longitude: t.longitude,
                owner: if t.owner.trim().is_empty() {
                    format!("unknown ({})", t.dc_id)
                } else {
                    t.owner.clone()
                },
            }
        })
        .collect();
    let dc_index: HashMap<&str, usize> = data_centers
        .iter()
        .enumerate()
        .map(|(i, d)| (d.id.as_str(), i))
        .collect();

    let provider_ids: BTreeSet<&str> = node_rows
        .iter()
        .map(|(_, n)| n.node_provider_principal.as_str())
        .collect();
    let providers: Vec<NodeProvider> = provider_ids
        .iter()
        .map(|id| NodeProvider {
            id: id.to_string(),
            name: String::new(),
        })
        .collect();
    let np_index: HashMap<&str, usize> = providers.iter().enumerate().map(|(i, p)| (p.id.as_str(), i)).collect();

    // Subnets, sorted by id.
    let mut dead_last_day: HashMap<&str, u32> = HashMap::new();
    for (_, d) in day_rows.iter().filter(|(_, d)| d.day == last_day) {
        dead_last_day.insert(d.subnet.as_str(), d.nodes_zero_proposed);
    }
    let mut sorted_subnets: Vec<&(u64, SubnetRow)> = subnet_rows.iter().collect();
    sorted_subnets.sort_by(|a, b| a.1.subnet.cmp(&b.1.subnet));
    let mut subnets = Vec::new();
    for (line, s) in sorted_subnets {
        let kind = kind_of(&s.kind).ok_or_else(|| {
            anyhow!(
                "{}:{line}: unknown subnet kind \"{}\"",
                dir.join("subnets.csv").display(),
                s.kind
            )
        })?;
        subnets.push(Subnet {
            id: s.subnet.clone(),
            kind,
            size: s.nominal_size,
            preset: preset_dir.and_then(|d| preset_file(s.nominal_size).map(|f| format!("{d}/{f}"))),
            dead_nodes: dead_last_day.get(s.subnet.as_str()).copied().unwrap_or(0),
            limits: Limits::target(kind, s.nominal_size),
        });
    }
    let subnet_index: HashMap<&str, usize> = subnets.iter().enumerate().map(|(i, s)| (s.id.as_str(), i)).collect();

    // Nodes, sorted by id.
    let mut sorted_nodes: Vec<&(u64, NodeRow)> = node_rows.iter().collect();
    sorted_nodes.sort_by(|a, b| a.1.node_id.cmp(&b.1.node_id));
    let mut nodes = Vec::new();
    for (line, n) in sorted_nodes {
        let present_last_day = n.days_seen == n_days;
        let subnet = if n.subnet_last_day.is_empty() || !present_last_day {
            None
        } else {
            let full = short_to_full.get(n.subnet_last_day.as_str()).ok_or_else(|| {
                anyhow!(
                    "{}:{line}: unknown subnet \"{}\"",
                    nodes_path.display(),
                    n.subnet_last_day
                )
            })?;
            Some(subnet_index[full])
        };
        let dead = subnet.is_some() && n.blocks_proposed_total.trim() == "0";
        nodes.push(Node {
            id: n.node_id.clone(),
            data_center: dc_index[n.dc_id.as_str()],
            provider: np_index[n.node_provider_principal.as_str()],
            subnet,
            dead,
        });
    }

    // Every subnet's membership must match the data's last-day count.
    let mut counts: BTreeMap<usize, u32> = BTreeMap::new();
    for n in &nodes {
        if let Some(s) = n.subnet {
            *counts.entry(s).or_default() += 1;
        }
    }
    for (_, s) in &subnet_rows {
        let i = subnet_index[s.subnet.as_str()];
        let got = counts.get(&i).copied().unwrap_or(0);
        if got != s.nodes_last_day || got != s.nominal_size {
            bail!(
                "subnet {}: {got} nodes on the last day by the membership rule, but subnets.csv says {} (nominal {})",
                s.subnet_short,
                s.nodes_last_day,
                s.nominal_size
            );
        }
    }
    drop(subnet_index);
    for (i, s) in subnets.iter_mut().enumerate() {
        let marked = nodes.iter().filter(|n| n.subnet == Some(i) && n.dead).count() as u32;
        s.dead_nodes = s.dead_nodes.max(marked);
    }

    Ok(Topology {
        name: name.to_string(),
        description: format!(
            "The Internet Computer mainnet on {last_day}, the last of {n_days} days of per-node data exported \
             from the NNS node rewards canister (../shared/data/real-ic/README.md). Memberships of the last day; \
             dead = in a subnet but no block made in {n_days} days; dead_nodes = nodes with no block on the last \
             day. Data-center coordinates are city-level and owners come from a 2025-11-09 registry snapshot \
             (experiments/topology/README.md)."
        ),
        data_centers,
        providers,
        subnets,
        nodes,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_of_the_real_ic_subnets() {
        assert_eq!(kind_of("NNS (system)"), Some(SubnetKind::Nns));
        assert_eq!(kind_of("European (application, SEV)"), Some(SubnetKind::European));
        assert_eq!(
            kind_of("Internet Identity (system)"),
            Some(SubnetKind::InternetIdentity)
        );
        assert_eq!(kind_of("application"), Some(SubnetKind::Application));
        assert_eq!(kind_of("Mystery"), None);
    }
}
