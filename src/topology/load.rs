//! Reading a topology file: TOML parsing (unknown keys and wrong types are errors naming the
//! line and key, as for scenario files), then the checks the parser cannot make: unique ids,
//! references to known data centers, providers and subnets, coordinates in range, subnet
//! sizes equal to their membership, presets that load. Every error names the file, the line
//! and the key.

use super::{DataCenter, Limits, Node, NodeProvider, Subnet, SubnetKind, Topology};
use crate::scenario::{toml_error_location, toml_error_message};
use anyhow::{anyhow, bail, Result};
use serde::Deserialize;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use toml::Spanned;

/// Loads and validates the topology file at `path`.
pub fn load(path: &Path) -> Result<Topology> {
    let text = std::fs::read_to_string(path).map_err(|e| anyhow!("{}: cannot read topology: {e}", path.display()))?;
    let dir = path
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."));
    parse(&text, &path.display().to_string(), &dir)
}

/// Parses and validates topology text; `origin` names it in errors, `base_dir` resolves
/// subnet presets.
pub fn parse(text: &str, origin: &str, base_dir: &Path) -> Result<Topology> {
    let raw: RawTopology = match toml::from_str(text) {
        Ok(r) => r,
        Err(e) => bail!(
            "{origin}{}: {}",
            toml_error_location(text, &e),
            toml_error_message(text, &e)
        ),
    };
    let cx = Cx { text, origin };
    validate(raw, &cx, base_dir)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTopology {
    name: Spanned<String>,
    #[serde(default)]
    description: String,
    #[serde(default, rename = "data_center")]
    data_centers: Vec<RawDataCenter>,
    #[serde(default, rename = "node_provider")]
    providers: Vec<RawProvider>,
    #[serde(default, rename = "subnet")]
    subnets: Vec<RawSubnet>,
    #[serde(default, rename = "node")]
    nodes: Vec<RawNode>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawDataCenter {
    id: Spanned<String>,
    #[serde(default)]
    name: String,
    city: String,
    region: String,
    country: Spanned<String>,
    continent: String,
    latitude: Spanned<f64>,
    longitude: Spanned<f64>,
    owner: Spanned<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawProvider {
    id: Spanned<String>,
    #[serde(default)]
    name: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSubnet {
    id: Spanned<String>,
    kind: SubnetKind,
    size: Spanned<u32>,
    preset: Option<Spanned<String>>,
    dead_nodes: Option<Spanned<u32>>,
    limits: Option<Spanned<RawLimits>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawLimits {
    node_provider: Option<u32>,
    data_center: Option<u32>,
    data_center_owner: Option<u32>,
    country: Option<u32>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawNode {
    id: Spanned<String>,
    data_center: Spanned<String>,
    provider: Spanned<String>,
    subnet: Option<Spanned<String>>,
    #[serde(default)]
    dead: bool,
}

/// Where errors point: the text (for line numbers) and its name.
struct Cx<'a> {
    text: &'a str,
    origin: &'a str,
}

impl Cx<'_> {
    /// 1-based line of byte `offset`.
    fn line(&self, offset: usize) -> usize {
        self.text[..offset.min(self.text.len())].matches('\n').count() + 1
    }

    /// `origin:line: key `key`: msg`, the line being that of `span`.
    fn err<T>(&self, span: &Spanned<T>, key: &str, msg: impl std::fmt::Display) -> anyhow::Error {
        anyhow!("{}:{}: key `{key}`: {msg}", self.origin, self.line(span.span().start))
    }
}

/// Index of each id in `ids`, or an error naming the duplicate and its first line.
fn index_ids<'a>(
    cx: &Cx,
    table: &str,
    ids: impl Iterator<Item = &'a Spanned<String>>,
) -> Result<HashMap<String, usize>> {
    let mut index: HashMap<String, usize> = HashMap::new();
    let mut first_line: Vec<usize> = Vec::new();
    for (i, id) in ids.enumerate() {
        let key = format!("{table}[{i}].id");
        if id.get_ref().trim().is_empty() {
            return Err(cx.err(id, &key, "must be a non-empty id"));
        }
        if let Some(&j) = index.get(id.get_ref()) {
            let msg = format!(
                "duplicate {table} id \"{}\" (first at line {})",
                id.get_ref(),
                first_line[j]
            );
            return Err(cx.err(id, &key, msg));
        }
        index.insert(id.get_ref().clone(), i);
        first_line.push(cx.line(id.span().start));
    }
    Ok(index)
}

/// The index `reference` names in `index`, or an error naming the unknown id.
fn resolve(
    cx: &Cx,
    index: &HashMap<String, usize>,
    reference: &Spanned<String>,
    key: &str,
    what: &str,
) -> Result<usize> {
    index
        .get(reference.get_ref())
        .copied()
        .ok_or_else(|| cx.err(reference, key, format!("unknown {what} \"{}\"", reference.get_ref())))
}

fn validate(raw: RawTopology, cx: &Cx, base_dir: &Path) -> Result<Topology> {
    if raw.name.get_ref().trim().is_empty() || raw.name.get_ref().contains(['/', '\\']) {
        return Err(cx.err(&raw.name, "name", "must be a non-empty name without path separators"));
    }
    let dc_index = index_ids(cx, "data_center", raw.data_centers.iter().map(|d| &d.id))?;
    let np_index = index_ids(cx, "node_provider", raw.providers.iter().map(|p| &p.id))?;
    let subnet_index = index_ids(cx, "subnet", raw.subnets.iter().map(|s| &s.id))?;
    index_ids(cx, "node", raw.nodes.iter().map(|n| &n.id))?;
    let data_centers = raw
        .data_centers
        .into_iter()
        .enumerate()
        .map(|(i, d)| data_center(cx, i, d))
        .collect::<Result<Vec<_>>>()?;
    let providers = raw
        .providers
        .into_iter()
        .map(|p| NodeProvider {
            id: p.id.into_inner(),
            name: p.name,
        })
        .collect();
    let mut nodes = Vec::with_capacity(raw.nodes.len());
    for (i, n) in raw.nodes.iter().enumerate() {
        let key = |k: &str| format!("node[{i}].{k}");
        nodes.push(Node {
            id: n.id.get_ref().clone(),
            data_center: resolve(cx, &dc_index, &n.data_center, &key("data_center"), "data center")?,
            provider: resolve(cx, &np_index, &n.provider, &key("provider"), "node provider")?,
            subnet: match &n.subnet {
                Some(s) => Some(resolve(cx, &subnet_index, s, &key("subnet"), "subnet")?),
                None => None,
            },
            dead: n.dead,
        });
    }
    let mut presets = HashMap::new();
    let mut subnets = Vec::with_capacity(raw.subnets.len());
    for (i, s) in raw.subnets.into_iter().enumerate() {
        let members: Vec<&Node> = nodes.iter().filter(|n| n.subnet == Some(i)).collect();
        let dead_marked = members.iter().filter(|n| n.dead).count() as u32;
        subnets.push(subnet(cx, i, s, members.len(), dead_marked, base_dir, &mut presets)?);
    }
    Ok(Topology {
        name: raw.name.into_inner(),
        description: raw.description,
        data_centers,
        providers,
        subnets,
        nodes,
    })
}

fn data_center(cx: &Cx, i: usize, d: RawDataCenter) -> Result<DataCenter> {
    let key = |k: &str| format!("data_center[{i}].{k}");
    let (lat, lon) = (*d.latitude.get_ref(), *d.longitude.get_ref());
    if !(-90.0..=90.0).contains(&lat) {
        return Err(cx.err(
            &d.latitude,
            &key("latitude"),
            format!("must be between -90 and 90 degrees, got {lat}"),
        ));
    }
    if !(-180.0..=180.0).contains(&lon) {
        let msg = format!("must be between -180 and 180 degrees, got {lon}");
        return Err(cx.err(&d.longitude, &key("longitude"), msg));
    }
    for (field, v) in [("country", &d.country), ("owner", &d.owner)] {
        if v.get_ref().trim().is_empty() {
            return Err(cx.err(v, &key(field), "must not be empty"));
        }
    }
    Ok(DataCenter {
        id: d.id.into_inner(),
        name: d.name,
        city: d.city,
        region: d.region,
        country: d.country.into_inner(),
        continent: d.continent,
        latitude: lat,
        longitude: lon,
        owner: d.owner.into_inner(),
    })
}

/// Validates subnet `i` given its membership count and the members marked dead.
fn subnet(
    cx: &Cx,
    i: usize,
    s: RawSubnet,
    members: usize,
    dead_marked: u32,
    base_dir: &Path,
    presets: &mut HashMap<PathBuf, u32>,
) -> Result<Subnet> {
    let key = |k: &str| format!("subnet[{i}].{k}");
    let size = *s.size.get_ref();
    if size == 0 {
        return Err(cx.err(&s.size, &key("size"), "must be at least 1"));
    }
    if members != size as usize {
        let msg = format!(
            "subnet \"{}\" has size {size} but {members} nodes name it",
            s.id.get_ref()
        );
        return Err(cx.err(&s.size, &key("size"), msg));
    }
    let dead_nodes = match &s.dead_nodes {
        Some(d) if *d.get_ref() > size => {
            return Err(cx.err(
                d,
                &key("dead_nodes"),
                format!("{} is more than the {size} nodes", d.get_ref()),
            ))
        }
        Some(d) if *d.get_ref() < dead_marked => {
            let msg = format!("{} is fewer than the {dead_marked} nodes marked dead", d.get_ref());
            return Err(cx.err(d, &key("dead_nodes"), msg));
        }
        Some(d) => *d.get_ref(),
        None => dead_marked,
    };
    let mut limits = Limits::target(s.kind, size);
    if let Some(l) = &s.limits {
        let r = l.get_ref();
        for (field, v, slot) in [
            ("node_provider", r.node_provider, &mut limits.node_provider),
            ("data_center", r.data_center, &mut limits.data_center),
            ("data_center_owner", r.data_center_owner, &mut limits.data_center_owner),
            ("country", r.country, &mut limits.country),
        ] {
            match v {
                Some(0) => return Err(cx.err(l, &key(&format!("limits.{field}")), "must be at least 1")),
                Some(v) => *slot = v,
                None => {}
            }
        }
    }
    if let Some(p) = &s.preset {
        let path = base_dir.join(p.get_ref());
        let nodes = match presets.get(&path) {
            Some(&n) => n,
            None => {
                let loaded = crate::scenario::load(Some(&path))
                    .map_err(|e| cx.err(p, &key("preset"), format!("cannot load the preset: {e:#}")))?;
                presets.insert(path.clone(), loaded.scenario.subnet.nodes);
                loaded.scenario.subnet.nodes
            }
        };
        if nodes != size {
            let msg = format!(
                "preset {} has subnet.nodes = {nodes}, not the subnet's size {size}",
                path.display()
            );
            return Err(cx.err(p, &key("preset"), msg));
        }
    }
    Ok(Subnet {
        id: s.id.into_inner(),
        kind: s.kind,
        size,
        preset: s.preset.map(Spanned::into_inner),
        dead_nodes,
        limits,
    })
}
