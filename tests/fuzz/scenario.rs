//! Scenario files: a valid base scenario with every key of every table, mutated one to three
//! times per case, parsed in process; accepted scenarios go to the coarse engine (and some
//! to the fine engine) on tiny sizes.

use crate::gen::Rng;
use crate::mutate::{base, mutate, EMPIRICAL};
use ictwin::scenario::{parse, Scenario};
use ictwin::{coarse, dist, fine, stats};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

/// Scenario cases.
const CASES: u64 = 3000;
/// Accepted cases also run on the fine engine: every k-th one with at most 7 nodes.
const FINE_EVERY: u64 = 12;

/// The value of `table.key` in the parsed scenario (as JSON), for the no-clamp check.
fn value_of(s: &Scenario, table: &str, key: &str) -> Option<serde_json::Value> {
    let v = serde_json::to_value(s).ok()?;
    let mut cur = &v;
    for part in table.split('.').filter(|p| !p.is_empty()) {
        cur = cur.get(part)?;
    }
    cur.get(key).cloned()
}

/// Whether the error message names a key: `key `a.b``, or the parser's `field `x``.
fn names_a_key(msg: &str) -> bool {
    msg.contains("key `") || msg.contains("field `") || msg.contains("duplicate key")
}

/// Checks an accepted scenario: the values as written, the engines' parameters exact, and
/// consistent aggregates of a tiny coarse run (and of a fine run every [`FINE_EVERY`]).
fn check_accepted(s: &Scenario, set: &[(String, String, String)], run_fine: bool) -> Result<(), String> {
    for (table, key, lit) in set {
        let Some(got) = value_of(s, table, key) else { continue };
        if let Ok(want) = lit.replace('_', "").parse::<f64>() {
            let g = got.as_f64().unwrap_or(f64::NAN);
            if g != want && !(g == 0.0 && want == 0.0) {
                return Err(format!("{table}.{key} = {lit} was accepted as {got}"));
            }
        }
    }
    if s.subnet.nodes > ictwin_kernels::params::MAX_NODES {
        let e = coarse::prepare(s).err().map(|e| format!("{e:#}")).unwrap_or_default();
        if !e.contains("subnet.nodes") {
            return Err(format!("coarse engine on {} nodes: {e:?}", s.subnet.nodes));
        }
    } else {
        let mut small = s.clone();
        small.run.replicas = 2;
        small.run.rounds = 3;
        let prep = coarse::prepare(&small).map_err(|e| format!("accepted, then prepare failed: {e:#}"))?;
        let p = &prep.params;
        let us = |ms: f64| (ms * 1000.0).round();
        if p.unit_delay_us as f64 != us(s.subnet.unit_delay_ms)
            || p.initial_notary_delay_us as f64 != us(s.subnet.initial_notary_delay_ms)
        {
            return Err("unit or notary delay not represented exactly".into());
        }
        if s.dynamic_failures() {
            let mtbf = ((p.mtbf_ms_hi as u64) << 32 | p.mtbf_ms_lo as u64) as f64;
            let mttr = ((p.mttr_ms_hi as u64) << 32 | p.mttr_ms_lo as u64) as f64;
            if mtbf != (s.faults.mtbf_hours * 3.6e6).round() || mttr != (s.faults.mttr_hours * 3.6e6).round() {
                return Err(format!("failure times raised or cut: mtbf {mtbf} ms, mttr {mttr} ms"));
            }
        }
        let cal = s.calibration.clone().unwrap_or_default();
        let fanout = s.fine.as_ref().map_or(0, |f| f.gossip_fanout);
        let q16 = (cal.effective_delay_scale(s.subnet.nodes, fanout) * 65536.0).round();
        if p.delay_scale_q16 as f64 != q16 || q16 >= u32::MAX as f64 {
            return Err(format!(
                "delay scale {q16} (Q16) not represented: {}",
                p.delay_scale_q16
            ));
        }
        if us(cal.round_overhead_ms) != p.round_overhead_us as f64
            || us(cal.finalization_overhead_ms) != p.finalization_overhead_us as f64
        {
            return Err("calibration overheads not represented exactly".into());
        }
        for (what, d) in [("delay", &s.network.delay), ("processing", &s.node.processing)] {
            let top = d.quantile_ms(dist::TAIL_LEVEL);
            if top.is_nan() || top > dist::MAX_DELAY_MS {
                return Err(format!("{what} reaches {top} ms, beyond the representable maximum"));
            }
        }
        let stop = AtomicBool::new(false);
        let agg = coarse::run_cpu(&prep, &|_| {}, &stop).map_err(|e| format!("coarse run: {e:#}"))?;
        consistent(&stats::from_aggregates(&agg), 6, "coarse")?;
    }
    match fine::config_of(s) {
        Err(e) => {
            let e = format!("{e:#}");
            if !names_a_key(&e) {
                return Err(format!("fine engine refused without naming a key: {e}"));
            }
        }
        Ok(_) if run_fine && s.subnet.nodes <= 7 => {
            let mut small = s.clone();
            small.run.replicas = 1;
            small.run.rounds = 3;
            let stop = AtomicBool::new(false);
            let (tx, rx) = std::sync::mpsc::channel::<()>();
            let stop_ref = &stop;
            let out = std::thread::scope(|sc| {
                sc.spawn(move || {
                    if rx.recv_timeout(Duration::from_secs(5)).is_err() {
                        stop_ref.store(true, Ordering::SeqCst);
                    }
                });
                let o = fine::run(&small, None, &stop, &|_| {});
                let _ = tx.send(());
                o
            });
            match out {
                Ok(o) => consistent(&stats::from_aggregates(&o.agg), 3, "fine")?,
                // Slow on purpose (e.g. 1 ms failures): stopped by the watchdog, not a defect.
                Err(_) if stop.load(Ordering::SeqCst) => {}
                Err(e) => return Err(format!("fine run failed: {e:#}")),
            }
        }
        Ok(_) => {}
    }
    Ok(())
}

/// The aggregates of `total` round steps add up.
fn consistent(st: &stats::RunStats, total: u64, engine: &str) -> Result<(), String> {
    let ok = st.rounds_total == total
        && st.notarized + st.stalled == total
        && st.finalized <= st.notarized
        && (0.0..=1.0).contains(&st.stalled_ratio)
        && (st.notarized == 0 || st.mean_round_ms >= 0.0);
    ok.then_some(())
        .ok_or_else(|| format!("{engine} aggregates inconsistent: {st:?}"))
}

/// The property over [`CASES`] mutated scenario files.
#[test]
fn scenario_files_are_refused_with_file_line_and_key_or_run_right() {
    let dir = tempfile::tempdir().unwrap();
    for (name, text) in EMPIRICAL {
        std::fs::write(dir.path().join(name), text).unwrap();
    }
    let mut r = Rng::new(0x5CE7_A210);
    let (mut failures, mut accepted, mut refused, mut fine_runs) = (Vec::new(), 0, 0, 0);
    for case in 0..CASES {
        let mut doc = base(&mut r);
        let mut set = Vec::new();
        for _ in 0..1 + r.below(3) {
            set.extend(mutate(&mut doc, &mut r));
        }
        // Only the literals still in the document (a later mutation may remove them).
        set.retain(|(t, k, v)| {
            doc.tables.iter().any(|(tt, e)| {
                tt == t
                    && e.iter().filter(|(kk, _)| kk == k).count() == 1
                    && e.iter().any(|(kk, vv)| kk == k && vv == v)
            })
        });
        let text = doc.render();
        let lines = text.lines().count();
        let parsed = std::panic::catch_unwind(|| parse(&text, "fz.toml", dir.path()));
        let fail = match parsed {
            Err(_) => Some("panicked".to_string()),
            Ok(Err(e)) => {
                refused += 1;
                let msg = format!("{e:#}");
                let line = msg
                    .strip_prefix("fz.toml:")
                    .and_then(|m| m.split(':').next())
                    .and_then(|l| l.parse::<usize>().ok());
                match line {
                    Some(l) if (1..=lines).contains(&l) && names_a_key(&msg) => None,
                    _ => Some(format!("error without file:line and key: {msg}")),
                }
            }
            Ok(Ok(loaded)) => {
                accepted += 1;
                let run_fine = accepted % FINE_EVERY == 0;
                fine_runs += (run_fine && loaded.scenario.subnet.nodes <= 7) as u32;
                let s = loaded.scenario;
                match std::panic::catch_unwind(|| check_accepted(&s, &set, run_fine)) {
                    Err(_) => Some("accepted, then an engine panicked".to_string()),
                    Ok(r) => r.err(),
                }
            }
        };
        if let Some(f) = fail {
            failures.push(format!("case {case}: {f}\n{text}"));
        }
    }
    eprintln!("scenario fuzz: {CASES} cases, {accepted} accepted, {refused} refused, {fine_runs} fine runs");
    assert!(
        accepted > CASES / 10 && refused > CASES / 3,
        "{accepted} accepted, {refused} refused"
    );
    crate::gen::report(&failures);
}
