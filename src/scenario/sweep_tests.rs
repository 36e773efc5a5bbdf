use super::*;

fn ints(a: &Axis) -> Vec<i64> {
    a.values.iter().map(|v| v.as_integer().unwrap()).collect()
}

#[test]
fn lists_ranges_and_steps_expand_in_order() {
    assert_eq!(ints(&Axis::parse("faults.crashed=0..4").unwrap()), [0, 1, 2, 3, 4]);
    assert_eq!(
        ints(&Axis::parse("subnet.nodes=13,28, 34 ,40").unwrap()),
        [13, 28, 34, 40]
    );
    assert_eq!(ints(&Axis::parse("x.y=0..10:5,12").unwrap()), [0, 5, 10, 12]);
    assert_eq!(ints(&Axis::parse("x.y=-2..2:2").unwrap()), [-2, 0, 2]);
    let f = Axis::parse("network.delay.sigma=0.1..0.5:0.1").unwrap();
    let got: Vec<f64> = f.values.iter().map(|v| v.as_float().unwrap()).collect();
    assert_eq!(got, [0.1, 0.2, 0.3, 0.4, 0.5], "decimal steps are exact");
    let s = Axis::parse("network.delay.dist=constant,\"uniform\"").unwrap();
    assert_eq!(
        s.values,
        [Value::String("constant".into()), Value::String("uniform".into())]
    );
    assert_eq!(
        Axis::parse("subnet.finality_backoff=true,false").unwrap().values.len(),
        2
    );
}

#[test]
fn malformed_axes_say_what_is_wrong() {
    let e = |s: &str| Axis::parse(s).unwrap_err();
    assert!(e("faults.crashed").contains("expected KEY=VALUES"));
    assert!(e("faults..crashed=1").contains("not a dotted scenario key"));
    assert!(e("faults.crashed=1,,2").contains("empty value"));
    assert!(e("faults.crashed=1,1").contains("appears twice"));
    assert!(e("faults.crashed=0..3,2").contains("appears twice"));
    assert!(e("faults.crashed=5..1").contains("A must not exceed B"));
    assert!(e("faults.crashed=0..4:0").contains("STEP must be above 0"));
    assert!(e("faults.crashed=0..1e3").contains("not a plain decimal"));
    assert!(e("faults.crashed=0..100000").contains("more than"));
    assert!(e("a.b=[1,2]").contains("value"));
    assert!(e("a.b=1x").contains("not a TOML"));
}

#[test]
fn grid_is_first_key_slowest_zip_aligns() {
    let axes = [Axis::parse("a.x=1,2").unwrap(), Axis::parse("a.y=7,8,9").unwrap()];
    let g = points(&axes, false).unwrap();
    let text = |p: &Vec<(String, Value)>| p.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join(" ");
    let g: Vec<String> = g.iter().map(text).collect();
    assert_eq!(
        g,
        [
            "a.x=1 a.y=7",
            "a.x=1 a.y=8",
            "a.x=1 a.y=9",
            "a.x=2 a.y=7",
            "a.x=2 a.y=8",
            "a.x=2 a.y=9"
        ]
    );
    assert!(points(&axes, true).unwrap_err().contains("equal length"));
    let axes = [Axis::parse("a.x=1,2").unwrap(), Axis::parse("a.y=7,8").unwrap()];
    let z: Vec<String> = points(&axes, true).unwrap().iter().map(text).collect();
    assert_eq!(z, ["a.x=1 a.y=7", "a.x=2 a.y=8"]);
    let twice = [Axis::parse("a.x=1").unwrap(), Axis::parse("a.x=2").unwrap()];
    assert!(points(&twice, false).unwrap_err().contains("swept twice"));
}

#[test]
fn derived_seed_depends_on_base_and_own_values_only() {
    let p = |kv: &[(&str, i64)]| -> Vec<(String, Value)> {
        kv.iter().map(|(k, v)| (k.to_string(), Value::Integer(*v))).collect()
    };
    let a = derived_seed(1, &p(&[("a.x", 1), ("a.y", 2)]));
    assert_eq!(
        a,
        derived_seed(1, &p(&[("a.y", 2), ("a.x", 1)])),
        "order of axes is irrelevant"
    );
    assert_ne!(a, derived_seed(2, &p(&[("a.x", 1), ("a.y", 2)])));
    assert_ne!(a, derived_seed(1, &p(&[("a.x", 2), ("a.y", 1)])));
    // The documented rule, computed by hand: text "1\na.x=1\na.y=2".
    let mut h: u64 = 0xcbf29ce484222325;
    for b in "1\na.x=1\na.y=2".bytes() {
        h = (h ^ b as u64).wrapping_mul(0x100000001b3);
    }
    assert_eq!(a, splitmix64(h));
    assert_eq!(splitmix64(0), 0xe220a8397b1dcdaf, "SplitMix64 reference value");
}

#[test]
fn point_dirs_are_readable_and_safe() {
    let v = vec![
        ("network.delay.median_ms".to_string(), Value::Float(20.5)),
        ("network.delay.dist".to_string(), Value::String("a/b c".into())),
    ];
    assert_eq!(point_dir(3, &v), "points/3-median_ms-20.5_dist-a_b_c");
}

#[test]
fn apply_keeps_lines_and_adds_missing_keys() {
    let text = "name = \"a\"\n[subnet]\nnodes = 4 # four\n[network]\ndelay = { dist = \"lognormal\", median_ms = 70.0, sigma = 0.5 }\n";
    let mut doc: toml_edit::DocumentMut = text.parse().unwrap();
    assert!(!apply(&mut doc, "subnet.nodes", &Value::Integer(7)).unwrap());
    assert!(!apply(&mut doc, "network.delay.median_ms", &Value::Integer(20)).unwrap());
    assert!(apply(&mut doc, "faults.crashed", &Value::Integer(1)).unwrap(), "added");
    let out = doc.to_string();
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines[2], "nodes = 7 # four");
    assert!(lines[4].contains("median_ms = 20"), "{out}");
    assert!(out.contains("[faults]\ncrashed = 1"), "{out}");
    assert!(apply(&mut doc, "subnet.nodes.x", &Value::Integer(1))
        .unwrap_err()
        .contains("`subnet.nodes` is a value"));
    assert!(apply(&mut doc, "subnet", &Value::Integer(1))
        .unwrap_err()
        .contains("is a table"));
}
