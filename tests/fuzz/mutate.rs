//! Mutations of a scenario file: a valid base document with every key of every table, and
//! the random changes applied to it (values of any type, delay tables (network and node
//! processing), removed keys and
//! tables, unknown and duplicate keys, fault mixes with dynamic failures).

use crate::gen::{literal, Doc, Rng, FLOATS, INTS};

/// Every key of every table (the delays are mutated as a whole, see [`delay`]).
const KEYS: &[(&str, &str)] = &[
    ("", "name"),
    ("", "description"),
    ("subnet", "nodes"),
    ("subnet", "unit_delay_ms"),
    ("subnet", "initial_notary_delay_ms"),
    ("subnet", "finality_backoff"),
    ("faults", "crashed"),
    ("faults", "silent"),
    ("faults", "equivocating"),
    ("faults", "mtbf_hours"),
    ("faults", "mttr_hours"),
    ("run", "replicas"),
    ("run", "rounds"),
    ("run", "seed"),
    ("calibration", "delay_scale"),
    ("calibration", "round_overhead_ms"),
    ("calibration", "finalization_overhead_ms"),
    ("calibration", "gossip_hop_scale"),
    ("fine", "crypto_time"),
    ("fine", "gossip_fanout"),
    ("fine", "clients"),
    ("fine", "request_rate_per_s"),
    ("fine", "boundary_nodes"),
    ("fine", "stall_horizon_ms"),
    ("fine", "invalid_share"),
    ("fine", "notarize_all"),
    ("fine", "cup_interval"),
    ("fine.costs", "sign_us"),
    ("fine.costs", "verify_us"),
    ("fine.costs", "verify_share_us"),
    ("fine.costs", "aggregate_verify_us"),
    ("fine.costs", "combine_us"),
    ("network", "delay"),
    ("node", "processing"),
    ("protocol", "equivocation_proofs"),
    ("protocol", "dynamic_block_maker_delay"),
    ("protocol", "certification_backlog"),
    ("execution", "time"),
];

/// The valid base scenario: every key present, small sizes.
pub fn base(r: &mut Rng) -> Doc {
    let t = |k: &str, v: &str| (k.to_string(), v.to_string());
    Doc {
        tables: vec![
            ("".into(), vec![t("name", "\"fz\""), t("description", "\"fuzz\"")]),
            (
                "subnet".into(),
                vec![
                    t("nodes", &(1 + r.below(7)).to_string()),
                    t("unit_delay_ms", "1000.0"),
                    t("initial_notary_delay_ms", "300.0"),
                    t("finality_backoff", "true"),
                ],
            ),
            (
                "network".into(),
                vec![t("delay", "{ dist = \"lognormal\", median_ms = 70.0, sigma = 0.5 }")],
            ),
            (
                "node".into(),
                vec![t("processing", "{ dist = \"uniform\", min_ms = 0.0, max_ms = 20.0 }")],
            ),
            (
                "protocol".into(),
                vec![
                    t("equivocation_proofs", "true"),
                    t("dynamic_block_maker_delay", "true"),
                    t("certification_backlog", "true"),
                ],
            ),
            (
                "execution".into(),
                vec![t("time", "{ dist = \"uniform\", min_ms = 0.0, max_ms = 50.0 }")],
            ),
            (
                "faults".into(),
                vec![
                    t("crashed", "0"),
                    t("silent", "0"),
                    t("equivocating", "0"),
                    t("mtbf_hours", "0.0"),
                    t("mttr_hours", "0.0"),
                ],
            ),
            ("run".into(), vec![t("replicas", "2"), t("rounds", "3"), t("seed", "1")]),
            (
                "calibration".into(),
                vec![
                    t("delay_scale", "1.0"),
                    t("round_overhead_ms", "0.0"),
                    t("finalization_overhead_ms", "0.0"),
                    t("gossip_hop_scale", "0.0"),
                ],
            ),
            (
                "fine".into(),
                vec![
                    t("crypto_time", "false"),
                    t("gossip_fanout", "0"),
                    t("clients", "2"),
                    t("request_rate_per_s", "5.0"),
                    t("boundary_nodes", "0"),
                    t("stall_horizon_ms", "0.0"),
                    t("invalid_share", "0"),
                    t("notarize_all", "0"),
                    t("cup_interval", "500"),
                ],
            ),
            (
                "fine.costs".into(),
                vec![
                    t("sign_us", "110.0"),
                    t("verify_us", "600.0"),
                    t("verify_share_us", "230.0"),
                    t("aggregate_verify_us", "650.0"),
                    t("combine_us", "450.0"),
                ],
            ),
        ],
    }
}

/// Empirical delay files the fuzzer points at (written by [`run`]): name and contents.
pub const EMPIRICAL: &[(&str, &str)] = &[
    ("ok.csv", "delay_ms\n10\n70\n300\n"),
    ("one.csv", "5\n"),
    ("empty.csv", ""),
    ("header.csv", "delay_ms\n"),
    ("nan.csv", "delay_ms\n10\nnan\n"),
    ("neg.csv", "delay_ms\n10\n-3\n"),
    ("huge.csv", "delay_ms\n10\n1e12\n"),
    ("inf.csv", "delay_ms\n10\ninf\n"),
    ("text.csv", "delay_ms\nfast\n"),
    ("two.csv", "a,b\n1,2\n"),
];

/// A random `delay = {...}` inline table: any family (or an unknown one), any subset of
/// fields (some foreign), random values; empirical files from [`EMPIRICAL`] or missing.
fn delay(r: &mut Rng) -> String {
    let dist = *r.pick(&["constant", "uniform", "exponential", "lognormal", "empirical", "pareto"]);
    let fields: &[&str] = match dist {
        "constant" => &["ms"],
        "uniform" => &["min_ms", "max_ms"],
        "exponential" => &["min_ms", "mean_ms"],
        "lognormal" => &["median_ms", "sigma"],
        _ => &["file"],
    };
    let mut parts = vec![format!("dist = \"{dist}\"")];
    if r.chance(0.05) {
        parts.clear();
    }
    for f in fields {
        if r.chance(0.08) {
            continue; // missing field
        }
        let v = if *f == "file" {
            match r.below(6) {
                0 => "\"missing.csv\"".to_string(),
                1 => literal(r),
                _ => format!("\"{}\"", r.pick(EMPIRICAL).0),
            }
        } else if r.chance(0.6) {
            r.pick(FLOATS).to_string()
        } else {
            literal(r)
        };
        parts.push(format!("{f} = {v}"));
    }
    if r.chance(0.05) {
        parts.push("sigma2 = 1.0".into());
    }
    format!("{{ {} }}", parts.join(", "))
}

/// Applies one random mutation; returns the (table, key) it set to a literal, if any.
pub fn mutate(doc: &mut Doc, r: &mut Rng) -> Option<(String, String, String)> {
    let (table, key) = *r.pick(KEYS);
    match r.below(20) {
        0..=10 => {
            let v = match (key, r.chance(0.5)) {
                ("delay" | "processing" | "time", _) => delay(r),
                (_, true)
                    if !matches!(
                        key,
                        "name"
                            | "description"
                            | "finality_backoff"
                            | "crypto_time"
                            | "equivocation_proofs"
                            | "dynamic_block_maker_delay"
                            | "certification_backlog"
                    ) =>
                {
                    let float_key = key.ends_with("_ms") || key.ends_with("_us") || key.ends_with("hours");
                    let float_key = float_key || key.contains("scale") || key.contains("rate");
                    if float_key { r.pick(FLOATS) } else { r.pick(INTS) }.to_string()
                }
                _ => literal(r),
            };
            doc.set(table, key, v.clone());
            return Some((table.into(), key.into(), v));
        }
        11..=13 => {
            let v = delay(r);
            let (t, k) = *r.pick(&[("network", "delay"), ("node", "processing")]);
            doc.set(t, k, v.clone());
            return Some((t.into(), k.into(), v));
        }
        14..=15 => {
            if let Some(e) = doc.table_mut(table) {
                e.retain(|(k, _)| k != key);
            }
        }
        16 => doc.tables.retain(|(t, _)| t != table || t.is_empty()),
        17 => doc.set(table, "surplus_key", "1".into()),
        18 => {
            if let Some(e) = doc.table_mut(table) {
                if let Some(first) = e.first().cloned() {
                    e.push(first);
                }
            }
        }
        _ => {
            let (t, k) = *r.pick(&[("faults", "crashed"), ("faults", "silent"), ("faults", "equivocating")]);
            doc.set(t, k, r.below(9).to_string());
            doc.set(
                "faults",
                "mtbf_hours",
                r.pick(&["0.0", "0.01", "1e-6", "2.0"]).to_string(),
            );
            doc.set(
                "faults",
                "mttr_hours",
                r.pick(&["0.0", "0.001", "1e-6", "0.5"]).to_string(),
            );
        }
    }
    None
}
