//! A topology as TOML text: deterministic (same topology, same bytes), in the order of its
//! lists, optional keys only where they say something (`name` when not empty, `subnet` for
//! assigned nodes, `dead` when true, `limits` when not the target topology's). `load` reads
//! it back to an equal [`Topology`].

use super::{Limits, Topology};
use std::fmt::Write;

/// `s` as a TOML basic string (quoted, escaped).
fn quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if (c as u32) < 0x20 || c as u32 == 0x7f => {
                let _ = write!(out, "\\u{:04X}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// `v` as a TOML float (always with a decimal point, shortest round-trip digits).
fn float(v: f64) -> String {
    let s = format!("{v}");
    if s.contains(['.', 'e', 'n', 'i']) {
        s
    } else {
        format!("{s}.0")
    }
}

/// The inline `limits` table of the fields of `l` that differ from `target`.
fn limits_table(l: &Limits, target: &Limits) -> Option<String> {
    let fields: Vec<String> = [
        ("node_provider", l.node_provider, target.node_provider),
        ("data_center", l.data_center, target.data_center),
        ("data_center_owner", l.data_center_owner, target.data_center_owner),
        ("country", l.country, target.country),
    ]
    .iter()
    .filter(|(_, v, t)| v != t)
    .map(|(k, v, _)| format!("{k} = {v}"))
    .collect();
    (!fields.is_empty()).then(|| format!("{{ {} }}", fields.join(", ")))
}

/// The topology as a topology file. `header` lines are written first as `#` comments.
pub fn to_toml(topo: &Topology, header: &[&str]) -> String {
    let mut o = String::new();
    for line in header {
        let _ = writeln!(o, "# {line}");
    }
    let _ = writeln!(o, "name = {}", quote(&topo.name));
    if !topo.description.is_empty() {
        let _ = writeln!(o, "description = {}", quote(&topo.description));
    }
    for d in &topo.data_centers {
        let _ = write!(
            o,
            "\n[[data_center]]\nid = {}\nname = {}\ncity = {}\nregion = {}\ncountry = {}\ncontinent = {}\n\
             latitude = {}\nlongitude = {}\nowner = {}\n",
            quote(&d.id),
            quote(&d.name),
            quote(&d.city),
            quote(&d.region),
            quote(&d.country),
            quote(&d.continent),
            float(d.latitude),
            float(d.longitude),
            quote(&d.owner)
        );
    }
    for p in &topo.providers {
        let _ = write!(o, "\n[[node_provider]]\nid = {}\n", quote(&p.id));
        if !p.name.is_empty() {
            let _ = writeln!(o, "name = {}", quote(&p.name));
        }
    }
    for s in &topo.subnets {
        let _ = write!(
            o,
            "\n[[subnet]]\nid = {}\nkind = {}\nsize = {}\n",
            quote(&s.id),
            quote(s.kind.as_str()),
            s.size
        );
        if let Some(p) = &s.preset {
            let _ = writeln!(o, "preset = {}", quote(p));
        }
        if s.dead_nodes > 0 {
            let _ = writeln!(o, "dead_nodes = {}", s.dead_nodes);
        }
        if let Some(t) = limits_table(&s.limits, &Limits::target(s.kind, s.size)) {
            let _ = writeln!(o, "limits = {t}");
        }
    }
    for n in &topo.nodes {
        let _ = write!(
            o,
            "\n[[node]]\nid = {}\ndata_center = {}\nprovider = {}\n",
            quote(&n.id),
            quote(&topo.data_centers[n.data_center].id),
            quote(&topo.providers[n.provider].id)
        );
        if let Some(s) = n.subnet {
            let _ = writeln!(o, "subnet = {}", quote(&topo.subnets[s].id));
        }
        if n.dead {
            let _ = writeln!(o, "dead = true");
        }
    }
    o
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quotes_and_floats_are_toml() {
        assert_eq!(quote("a\"b\\c\n"), "\"a\\\"b\\\\c\\n\"");
        assert_eq!(float(8.0), "8.0");
        assert_eq!(float(-33.92), "-33.92");
    }
}
