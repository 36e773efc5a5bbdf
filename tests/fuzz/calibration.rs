//! `--calibration` files: a valid `[calibration]` table mutated at random, loaded in process.

use crate::gen::{literal, Rng, FLOATS};
use ictwin::coarse;
use ictwin::scenario::{load, load_calibration};

/// Calibration cases.
const CASES: u64 = 1500;

const KEYS: &[&str] = &[
    "delay_scale",
    "round_overhead_ms",
    "finalization_overhead_ms",
    "gossip_hop_scale",
];

/// The property: every file is refused naming file, line and key, or loaded exactly as written
/// and run by the coarse engine with exactly those values.
#[test]
fn calibration_files_are_refused_with_file_line_and_key_or_used_exactly() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("cal.toml");
    let mut r = Rng::new(0xCA11_B8A7);
    let (mut failures, mut accepted) = (Vec::new(), 0);
    let base = load(None).unwrap().scenario;
    for case in 0..CASES {
        let mut entries: Vec<(String, String)> = Vec::new();
        for k in KEYS {
            let v = if r.chance(0.7) {
                r.pick(FLOATS).to_string()
            } else {
                literal(&mut r)
            };
            if r.chance(0.85) {
                entries.push((k.to_string(), v));
            }
        }
        if r.chance(0.05) {
            entries.push(("delay_scael".into(), "1.0".into()));
        }
        let header = *r.pick(&[
            "[calibration]\n",
            "[calibration]\n",
            "[calibration]\n",
            "[calibraton]\n",
            "",
        ]);
        let comment = if r.chance(0.3) {
            "# fitted by ictwin calibrate\nloss = 0.5\n"
        } else {
            ""
        };
        let text = format!(
            "{comment}{header}{}",
            entries.iter().map(|(k, v)| format!("{k} = {v}\n")).collect::<String>()
        );
        std::fs::write(&path, &text).unwrap();
        let fail = match std::panic::catch_unwind(|| load_calibration(&path)) {
            Err(_) => Some("panicked".to_string()),
            Ok(Err(e)) => {
                let msg = format!("{e:#}");
                let p = path.display().to_string();
                let located = msg.starts_with(&format!("{p}:"))
                    && msg[p.len() + 1..]
                        .split(':')
                        .next()
                        .is_some_and(|l| l.parse::<usize>().is_ok());
                let keyed = msg.contains("key `") || msg.contains("field `");
                (!(located && keyed)).then(|| format!("error without file:line and key: {msg}"))
            }
            Ok(Ok(c)) => {
                accepted += 1;
                let mut bad = None;
                for (k, v) in &entries {
                    let got = match k.as_str() {
                        "delay_scale" => c.delay_scale,
                        "round_overhead_ms" => c.round_overhead_ms,
                        "finalization_overhead_ms" => c.finalization_overhead_ms,
                        "gossip_hop_scale" => c.gossip_hop_scale,
                        _ => continue,
                    };
                    if v.parse::<f64>().ok() != Some(got) {
                        bad = Some(format!("{k} = {v} accepted as {got}"));
                    }
                }
                let mut s = base.clone();
                s.run.replicas = 2;
                s.run.rounds = 2;
                s.calibration = Some(c.clone());
                match coarse::prepare(&s) {
                    Ok(p) if (p.params.delay_scale_q16 as f64) == (c.delay_scale * 65536.0).round() => bad,
                    Ok(p) => Some(format!(
                        "delay scale {} represented as {} / 65536",
                        c.delay_scale, p.params.delay_scale_q16
                    )),
                    Err(e) => Some(format!("accepted, then refused by the engine: {e:#}")),
                }
            }
        };
        if let Some(f) = fail {
            failures.push(format!("case {case}: {f}\n{text}"));
        }
    }
    eprintln!("calibration fuzz: {CASES} cases, {accepted} accepted");
    assert!(accepted > CASES / 20, "{accepted} accepted");
    crate::gen::report(&failures);
}
