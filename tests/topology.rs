//! Topology files: the loader's errors, Nakamoto coefficients and limit violations on small
//! hand-made topologies with known answers, `generate` (obeys the limits, reproducible,
//! clear when infeasible), and the committed mainnet file (regenerates byte for byte from
//! `../shared/data/real-ic/`, 1,462 nodes in 47 subnets).

use ictwin::topology::check::{check, check_subnet};
use ictwin::topology::generate::{generate, GenerateParams};
use ictwin::topology::{self, Attribute, Topology};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn ictwin(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_ictwin"))
        .args(args)
        .output()
        .expect("run ictwin")
}

fn tmp(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("ictwin-topology-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn parse(text: &str) -> anyhow::Result<Topology> {
    topology::parse(text, "x.toml", Path::new("."))
}

fn parse_err(text: &str) -> String {
    format!("{:#}", parse(text).unwrap_err())
}

/// A data center table entry.
fn dc(id: &str, country: &str, owner: &str) -> String {
    format!(
        "[[data_center]]\nid = \"{id}\"\ncity = \"c\"\nregion = \"r\"\ncountry = \"{country}\"\ncontinent = \"Europe\"\n\
         latitude = 47.0\nlongitude = 8.0\nowner = \"{owner}\"\n\n"
    )
}

/// A node assigned to subnet `s`.
fn node(id: &str, dc: &str, np: &str, s: &str) -> String {
    format!("[[node]]\nid = \"{id}\"\ndata_center = \"{dc}\"\nprovider = \"{np}\"\nsubnet = \"{s}\"\n\n")
}

/// One 4-node subnet `s1` on four data centers of four providers in two countries.
fn small() -> String {
    let mut t = String::from("name = \"small\"\n\n");
    for (d, c, o) in [
        ("d1", "CH", "o1"),
        ("d2", "CH", "o2"),
        ("d3", "DE", "o3"),
        ("d4", "DE", "o4"),
    ] {
        t += &dc(d, c, o);
    }
    for p in ["p1", "p2", "p3", "p4"] {
        t += &format!("[[node_provider]]\nid = \"{p}\"\n\n");
    }
    t += "[[subnet]]\nid = \"s1\"\nkind = \"application\"\nsize = 4\n\n";
    for i in 1..=4 {
        t += &node(&format!("n{i}"), &format!("d{i}"), &format!("p{i}"), "s1");
    }
    t
}

/// Line (1-based) of the first occurrence of `needle` in `text`.
fn line_of(text: &str, needle: &str) -> usize {
    text[..text.find(needle).expect("needle")].matches('\n').count() + 1
}

#[test]
fn small_topology_loads() {
    let t = parse(&small()).unwrap();
    assert_eq!(
        (t.data_centers.len(), t.providers.len(), t.subnets.len(), t.nodes.len()),
        (4, 4, 1, 4)
    );
    assert_eq!(t.subnets[0].limits.country, 2);
    assert_eq!(check(&t)[0].violations, vec![]);
}

#[test]
fn loader_errors_name_file_line_and_key() {
    // An unknown key.
    let text = small().replacen("subnet = \"s1\"\n", "subnet = \"s1\"\ncolour = \"red\"\n", 1);
    let e = parse_err(&text);
    assert!(e.starts_with(&format!("x.toml:{}:", line_of(&text, "colour"))), "{e}");
    assert!(e.contains("colour"), "{e}");
    // A wrong type.
    let text = small().replace("size = 4", "size = \"four\"");
    let e = parse_err(&text);
    assert!(
        e.starts_with(&format!("x.toml:{}: key `subnet", line_of(&text, "size ="))),
        "{e}"
    );
    // An unknown data center.
    let text = small().replace("data_center = \"d3\"", "data_center = \"d9\"");
    let e = parse_err(&text);
    let want = format!(
        "x.toml:{}: key `node[2].data_center`: unknown data center \"d9\"",
        line_of(&text, "\"d9\"")
    );
    assert!(e.starts_with(&want), "{e}");
    // Unknown provider and subnet.
    let e = parse_err(&small().replace("provider = \"p2\"", "provider = \"px\""));
    assert!(
        e.contains("key `node[1].provider`: unknown node provider \"px\""),
        "{e}"
    );
    let e = parse_err(&small().replace(
        "subnet = \"s1\"\n\n[[node]]\nid = \"n4\"",
        "subnet = \"s2\"\n\n[[node]]\nid = \"n4\"",
    ));
    assert!(e.contains("unknown subnet \"s2\""), "{e}");
    // A duplicate node.
    let text = small().replace("id = \"n4\"", "id = \"n1\"");
    let e = parse_err(&text);
    let want = format!(
        "x.toml:{}: key `node[3].id`: duplicate node id \"n1\" (first at line {})",
        text.rfind("id = \"n1\"")
            .map(|i| text[..i].matches('\n').count() + 1)
            .unwrap(),
        line_of(&text, "id = \"n1\"")
    );
    assert!(e.starts_with(&want), "{e}\nwant {want}");
    // Duplicate data center.
    let e = parse_err(&small().replace("id = \"d4\"", "id = \"d1\""));
    assert!(e.contains("duplicate data_center id \"d1\""), "{e}");
    // Coordinates out of range.
    let text = small().replacen("latitude = 47.0", "latitude = 91.5", 1);
    let e = parse_err(&text);
    let want = format!(
        "x.toml:{}: key `data_center[0].latitude`: must be between -90 and 90",
        line_of(&text, "91.5")
    );
    assert!(e.starts_with(&want), "{e}");
    let e = parse_err(&small().replacen("longitude = 8.0", "longitude = -180.5", 1));
    assert!(
        e.contains("key `data_center[0].longitude`: must be between -180 and 180"),
        "{e}"
    );
    // Size not matching the membership.
    let e = parse_err(&small().replace("size = 4", "size = 5"));
    assert!(
        e.contains("key `subnet[0].size`: subnet \"s1\" has size 5 but 4 nodes name it"),
        "{e}"
    );
    // An unknown kind, a zero limit, too many dead nodes, an unloadable preset.
    let e = parse_err(&small().replace("kind = \"application\"", "kind = \"galactic\""));
    assert!(e.contains("galactic") && e.contains("subnet"), "{e}");
    let e = parse_err(&small().replace("size = 4\n", "size = 4\nlimits = { country = 0 }\n"));
    assert!(e.contains("key `subnet[0].limits.country`: must be at least 1"), "{e}");
    let e = parse_err(&small().replace("size = 4\n", "size = 4\ndead_nodes = 5\n"));
    assert!(
        e.contains("key `subnet[0].dead_nodes`: 5 is more than the 4 nodes"),
        "{e}"
    );
    let e = parse_err(&small().replace("size = 4\n", "size = 4\npreset = \"nowhere.toml\"\n"));
    assert!(e.contains("key `subnet[0].preset`: cannot load the preset"), "{e}");
}

#[test]
fn preset_must_match_the_size() {
    let dir = repo().join("experiments/topology");
    let text = small().replace("size = 4\n", "size = 4\npreset = \"../real-ic/app-13.toml\"\n");
    let e = format!("{:#}", topology::parse(&text, "x.toml", &dir).unwrap_err());
    assert!(e.contains("has subnet.nodes = 13, not the subnet's size 4"), "{e}");
}

/// A hand-made 7-node subnet (f = 2): providers A A B B C D E, data centers all distinct,
/// owners O1 x4 (d1..d4) then distinct, countries X x3, Y x2, Z x2.
fn seven() -> Topology {
    let mut t = String::from("name = \"seven\"\n\n");
    let countries = ["X", "X", "X", "Y", "Y", "Z", "Z"];
    let owners = ["O1", "O1", "O1", "O1", "O5", "O6", "O7"];
    for (i, (country, owner)) in countries.iter().zip(owners).enumerate() {
        t += &dc(&format!("d{}", i + 1), country, owner);
    }
    for p in ["A", "B", "C", "D", "E"] {
        t += &format!("[[node_provider]]\nid = \"{p}\"\n\n");
    }
    t += "[[subnet]]\nid = \"s\"\nkind = \"application\"\nsize = 7\n\n";
    let providers = ["A", "A", "B", "B", "C", "D", "E"];
    for (i, p) in providers.iter().enumerate() {
        t += &node(&format!("n{i}"), &format!("d{}", i + 1), p, "s");
    }
    parse(&t).unwrap()
}

#[test]
fn nakamoto_coefficients_of_a_hand_made_subnet() {
    let t = seven();
    let r = check_subnet(&t, 0);
    assert_eq!((r.nodes, r.f), (7, 2));
    let get = |a: Attribute| r.attributes.iter().find(|x| x.attribute == a).unwrap();
    // Providers 2,2,1,1,1: 2+2 > 2; 2+2+1 > 4.
    let p = get(Attribute::NodeProvider);
    assert_eq!(
        (p.distinct, p.max_count, p.nakamoto_f, p.nakamoto_2f),
        (5, 2, Some(2), Some(3))
    );
    // Data centers all distinct: 3 > 2, 5 > 4.
    let d = get(Attribute::DataCenter);
    assert_eq!(
        (d.distinct, d.max_count, d.nakamoto_f, d.nakamoto_2f),
        (7, 1, Some(3), Some(5))
    );
    // Owners 4,1,1,1: 4 > 2; 4+1 > 4.
    let o = get(Attribute::DataCenterOwner);
    assert_eq!(
        (o.distinct, o.max_count, o.nakamoto_f, o.nakamoto_2f),
        (4, 4, Some(1), Some(2))
    );
    // Countries 3,2,2: 3 > 2; 3+2 > 4.
    let c = get(Attribute::Country);
    assert_eq!(
        (c.distinct, c.max_count, c.nakamoto_f, c.nakamoto_2f),
        (3, 3, Some(1), Some(2))
    );
}

#[test]
fn violations_of_a_hand_made_bad_subnet() {
    let t = seven();
    let r = check_subnet(&t, 0);
    let got: Vec<(Attribute, &str, usize, u32)> = r
        .violations
        .iter()
        .map(|v| (v.attribute, v.value.as_str(), v.count, v.limit))
        .collect();
    assert_eq!(
        got,
        vec![
            (Attribute::NodeProvider, "A", 2, 1),
            (Attribute::NodeProvider, "B", 2, 1),
            (Attribute::DataCenterOwner, "O1", 4, 1),
            (Attribute::Country, "X", 3, 2),
        ]
    );
    // Raising the limits in the file removes them.
    let mut relaxed = t.clone();
    relaxed.subnets[0].limits = ictwin::topology::Limits {
        node_provider: 2,
        data_center: 1,
        data_center_owner: 4,
        country: 3,
    };
    assert!(check_subnet(&relaxed, 0).violations.is_empty());
}

#[test]
fn written_topologies_read_back_equal() {
    let t = seven();
    let text = topology::to_toml(&t, &["a header"]);
    assert!(text.starts_with("# a header\n"));
    assert_eq!(parse(&text).unwrap(), t);
}

fn params(seed: u64) -> GenerateParams {
    GenerateParams {
        subnets: 20,
        subnet_size: 13,
        data_centers: 30,
        providers: 25,
        countries: 9,
        owners: 24,
        spares: 10,
        seed,
    }
}

#[test]
fn generated_topologies_obey_the_limits_and_are_reproducible() {
    for seed in [1, 2, 3, 42, 1234] {
        let t = generate(&params(seed)).unwrap();
        for r in check(&t) {
            assert!(r.violations.is_empty(), "seed {seed}: {:?}", r.violations);
            assert_eq!(r.nodes, 13);
        }
        let text = topology::to_toml(&t, &[]);
        assert_eq!(parse(&text).unwrap(), t, "seed {seed} does not read back");
        assert_eq!(
            topology::to_toml(&generate(&params(seed)).unwrap(), &[]),
            text,
            "seed {seed}"
        );
    }
    assert_ne!(generate(&params(1)).unwrap(), generate(&params(2)).unwrap());
    // Large subnets: country limit 3.
    let big = GenerateParams {
        subnets: 4,
        subnet_size: 40,
        data_centers: 60,
        providers: 50,
        countries: 20,
        owners: 60,
        spares: 0,
        seed: 5,
    };
    let t = generate(&big).unwrap();
    assert!(check(&t)
        .iter()
        .all(|r| r.violations.is_empty() && r.attributes[3].limit == 3));
}

#[test]
fn generate_command_is_reproducible_and_clear_when_infeasible() {
    let d = tmp("generate");
    let run = |out: &Path, countries: &str| {
        ictwin(&[
            "topology",
            "generate",
            "--subnets",
            "5",
            "--data-centers",
            "20",
            "--providers",
            "15",
            "--countries",
            countries,
            "--seed",
            "9",
            "--out",
            out.to_str().unwrap(),
        ])
    };
    let (a, b) = (d.join("a.toml"), d.join("b.toml"));
    for p in [&a, &b] {
        let o = run(p, "8");
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    }
    assert_eq!(std::fs::read(&a).unwrap(), std::fs::read(&b).unwrap());
    let o = ictwin(&["topology", "check", a.to_str().unwrap(), "--fail-on-violation"]);
    assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stdout));
    // 6 countries over 20 data centers hold at most 12 nodes of a 13-node subnet.
    let o = run(&d.join("c.toml"), "6");
    assert_eq!(o.status.code(), Some(1));
    let e = String::from_utf8_lossy(&o.stderr);
    assert!(e.contains("infeasible topology") && e.contains("countries"), "{e}");
    assert!(!d.join("c.toml").exists());
}

/// The real-IC data directory, or `None` (with the reason printed) when it is absent.
fn real_ic() -> Option<PathBuf> {
    let d = repo().join("../shared/data/real-ic");
    if d.join("nodes.csv").is_file() {
        Some(d)
    } else {
        eprintln!(
            "skipped: {} is absent (the real-IC data is not on this machine)",
            d.display()
        );
        None
    }
}

#[test]
fn mainnet_file_regenerates_byte_identically() {
    let Some(data) = real_ic() else { return };
    // The presets are written relative to the output file: give it the repository's layout.
    let d = tmp("import");
    std::fs::create_dir_all(d.join("topology")).unwrap();
    std::os::unix::fs::symlink(repo().join("experiments/real-ic"), d.join("real-ic")).unwrap();
    let out = d.join("topology/mainnet-2025-12.toml");
    let o = ictwin(&[
        "topology",
        "import",
        data.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--data-centers",
        repo().join("experiments/topology/data-centers.csv").to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let committed = std::fs::read(repo().join("experiments/topology/mainnet-2025-12.toml")).unwrap();
    assert!(
        std::fs::read(&out).unwrap() == committed,
        "the committed mainnet file is stale: regenerate it"
    );
}

#[test]
fn mainnet_file_has_the_real_network() {
    let t = topology::load(&repo().join("experiments/topology/mainnet-2025-12.toml")).unwrap();
    assert_eq!(t.nodes.len(), 1462);
    assert_eq!(t.subnets.len(), 47);
    assert_eq!(t.providers.len(), 81);
    assert_eq!(t.data_centers.len(), 106);
    assert_eq!(t.nodes.iter().filter(|n| n.subnet.is_some()).count(), 701);
    // opn46 and vcpt7 had one node without a block all month.
    let dead: Vec<&str> = t
        .nodes
        .iter()
        .filter(|n| n.dead)
        .map(|n| Topology::short_id(&t.subnets[n.subnet.unwrap()].id))
        .collect();
    assert_eq!(dead, vec!["opn46", "vcpt7"]);
    let nns = t.subnets.iter().position(|s| s.id.starts_with("tdb26")).unwrap();
    assert_eq!(t.subnets[nns].size, 40);
    assert_eq!(t.subnets[nns].limits.country, 3);
}

#[test]
fn check_command_writes_the_csv() {
    let d = tmp("check");
    let csv = d.join("check.csv");
    let file = repo().join("experiments/topology/mainnet-2025-12.toml");
    let o = ictwin(&[
        "topology",
        "check",
        file.to_str().unwrap(),
        "--csv",
        csv.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let text = std::fs::read_to_string(&csv).unwrap();
    assert_eq!(text.lines().count(), 48);
    assert!(text.starts_with("subnet,subnet_short,kind,nodes,f,dead_nodes,node_provider_distinct,"));
    // The committed result is this command's output.
    let committed = std::fs::read_to_string(repo().join("results/topology/mainnet-check.csv")).unwrap();
    assert_eq!(text, committed, "results/topology/mainnet-check.csv is stale");
    // --fail-on-violation: the NNS subnet holds three DFINITY nodes.
    let o = ictwin(&["topology", "check", file.to_str().unwrap(), "--fail-on-violation"]);
    assert_eq!(o.status.code(), Some(2));
}
