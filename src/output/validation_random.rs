//! The files of `ictwin validate --random` besides `validation.csv`: `scenarios.csv` (the drawn
//! scenarios' parameters, one row each) and `summary.md` (effect sizes across scenarios,
//! metric by metric, and the disagreements).

use super::{build_info, fmt_f, utc_datetime};
use crate::dist::Delay;
use crate::scenario::Scenario;
use crate::validate::summary::{disagreeing_scenarios, summarize};
use crate::validate::{fast_network, Comparison, Thresholds, Verdict, MIN_SAMPLES};
use anyhow::Result;
use std::fmt::Write as _;

/// Columns of `scenarios.csv`, in order: name, `[run] seed` of the fine engine (the coarse
/// one is derived from it), n, f, U and N0 (ms), delay family, median and 99.9% quantile of
/// the delay (ms), the faults, whether it is a stall check (more than f faulty), whether the
/// network is fast against U (exact rank and finalization claims), the fine run size, the
/// number of disagreeing metrics and the one-line description.
pub const SCENARIO_COLUMNS: &[&str] = &[
    "scenario",
    "seed",
    "nodes",
    "f",
    "unit_delay_ms",
    "initial_notary_delay_ms",
    "delay",
    "delay_median_ms",
    "delay_p999_ms",
    "crashed",
    "silent",
    "equivocating",
    "stall_check",
    "fast_network",
    "fine_replicas",
    "fine_rounds",
    "disagreements",
    "description",
];

/// The family name of a delay distribution, as in scenario files (`lognormal`, ...).
pub fn delay_family(d: &Delay) -> &'static str {
    match d {
        Delay::Constant { .. } => "constant",
        Delay::Uniform { .. } => "uniform",
        Delay::Exponential { .. } => "exponential",
        Delay::Lognormal { .. } => "lognormal",
        Delay::Empirical { .. } => "empirical",
    }
}

/// `scenarios.csv` text: one row per scenario (as run: shrink applied), see
/// [`SCENARIO_COLUMNS`]; `rows` gives each scenario's disagreement count.
pub fn scenarios_csv(scenarios: &[Scenario], rows: &[Comparison]) -> Result<String> {
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(SCENARIO_COLUMNS)?;
    for s in scenarios {
        let faulty = s.faults.crashed + s.faults.silent + s.faults.equivocating;
        let disagreements = rows.iter().filter(|r| r.scenario == s.name && r.disagrees()).count();
        w.write_record([
            s.name.clone(),
            s.run.seed.to_string(),
            s.subnet.nodes.to_string(),
            s.f().to_string(),
            fmt_f(s.subnet.unit_delay_ms),
            fmt_f(s.subnet.initial_notary_delay_ms),
            delay_family(&s.network.delay).into(),
            fmt_f(s.network.delay.quantile_ms(0.5)),
            fmt_f(s.network.delay.quantile_ms(0.999)),
            s.faults.crashed.to_string(),
            s.faults.silent.to_string(),
            s.faults.equivocating.to_string(),
            (faulty > s.f()).to_string(),
            fast_network(s).to_string(),
            s.run.replicas.to_string(),
            s.run.rounds.to_string(),
            disagreements.to_string(),
            s.description.clone().unwrap_or_default(),
        ])?;
    }
    Ok(String::from_utf8(w.into_inner()?)?)
}

/// What `summary.md` reports besides the rows: how the set was drawn and judged.
#[derive(Clone, Copy, Debug)]
pub struct RandomRun<'a> {
    /// `--seed`.
    pub seed: u64,
    /// `--shrink`.
    pub shrink: u64,
    /// `--coarse-replicas`.
    pub coarse_replicas: u64,
    /// The thresholds of the verdicts.
    pub thresholds: Thresholds,
    /// The scenarios as run, in order.
    pub scenarios: &'a [Scenario],
}

/// A number for a Markdown table: 4 significant decimals, `-` when undefined.
fn cell(x: f64) -> String {
    if x.is_nan() {
        "-".into()
    } else if x != 0.0 && x.abs() < 1e-3 {
        format!("{x:.2e}")
    } else {
        format!("{x:.4}")
    }
}

/// `summary.md` text: the command and thresholds, how many scenarios disagree, then per metric
/// the rows, exact claims, disagreements, rows with too few samples and the spread (min,
/// median, p90, max) of its effect size across the judged rows, then tables of every
/// disagreeing row and every row with too few samples.
pub fn summary_md(run: &RandomRun, rows: &[Comparison]) -> String {
    let th = run.thresholds;
    let n = run.scenarios.len();
    let stall_checks = run
        .scenarios
        .iter()
        .filter(|s| s.faults.crashed + s.faults.silent + s.faults.equivocating > s.f())
        .count();
    let heights = |s: &Scenario| s.run.replicas * s.run.rounds;
    let min_heights = run.scenarios.iter().map(heights).min().unwrap_or(0);
    let mut md = String::from("# Randomized validation: coarse model vs fine engine\n\n");
    let _ = writeln!(
        md,
        "`ictwin validate --random {n} --seed {} --shrink {} --coarse-replicas {}` (ictwin {}, commit {}, {}).\n",
        run.seed,
        run.shrink,
        run.coarse_replicas,
        build_info()["version"].as_str().unwrap_or("?"),
        build_info()["git_commit"].as_str().unwrap_or("unknown"),
        utc_datetime()
    );
    let _ = writeln!(
        md,
        "{n} scenarios drawn uniformly from the envelope the coarse model claims (`src/scenario/random.rs`; \
         parameters in `scenarios.csv`, files in `scenarios/`), {stall_checks} of them stall checks \
         (f + 1 faulty), each validated uncalibrated; fine engine with crypto CPU time off, runs of at \
         least {min_heights} heights per scenario (replicas x rounds; a stall ends a replica early). Verdicts: exact claims by their test at level {}; means and \
         rates within {} relative, proportions within {} absolute, distributions within KS distance {}.\n",
        th.alpha, th.tolerance, th.tolerance, th.ks_tolerance
    );
    let bad = disagreeing_scenarios(rows);
    let too_few: Vec<&Comparison> = rows.iter().filter(|r| r.too_few()).collect();
    if bad.is_empty() && too_few.is_empty() {
        md.push_str("**Every metric agrees in every scenario.**\n\n");
    } else if bad.is_empty() {
        let _ = writeln!(
            md,
            "**No metric disagrees; {} {} too few samples to judge** (fewer than {} heights at a \
             level for an approximate metric, none for an exact one; listed below).\n",
            too_few.len(),
            if too_few.len() == 1 { "row has" } else { "rows have" },
            MIN_SAMPLES
        );
    } else {
        let _ = writeln!(
            md,
            "**{} of {n} scenarios disagree on at least one metric** ({} rows): {}.\n",
            bad.len(),
            rows.iter().filter(|r| r.disagrees()).count(),
            bad.join(", ")
        );
    }
    md.push_str("| metric | rows | exact | disagree | too few | effect size | min | median | p90 | max | min p |\n");
    md.push_str("|---|---:|---:|---:|---:|---|---:|---:|---:|---:|---:|\n");
    for m in summarize(rows) {
        let _ = writeln!(
            md,
            "| {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} |",
            m.metric,
            m.rows,
            m.exact,
            m.disagreements,
            m.too_few,
            m.effect.unwrap_or("(test only)"),
            cell(m.spread.min),
            cell(m.spread.median),
            cell(m.spread.p90),
            cell(m.spread.max),
            cell(m.min_p)
        );
    }
    md.push_str(
        "\nEffect sizes: relative error (abs) = |fine - coarse| / max(|fine|, |coarse|) (`rel_error` \
         in `validation.csv`); ks distance = two-sample Kolmogorov-Smirnov distance (about 0.03 is \
         the noise floor with 4,000 fine heights); difference (abs) = |fine - coarse| of a \
         proportion. Quantiles interpolate between scenarios (type 7) and leave out the rows with \
         too few samples.\n",
    );
    for (title, outcome) in [
        ("Disagreements", Verdict::Disagree),
        ("Too few samples to judge", Verdict::TooFew),
    ] {
        let of: Vec<&Comparison> = rows.iter().filter(|r| r.outcome == outcome).collect();
        if of.is_empty() {
            continue;
        }
        let _ = writeln!(
            md,
            "\n## {title}\n\n| scenario | metric | claim | coarse | fine | samples (coarse / fine) | statistic | p |"
        );
        md.push_str("|---|---|---|---:|---:|---:|---:|---:|\n");
        for r in of {
            let _ = writeln!(
                md,
                "| {} | {} | {} | {} | {} | {} / {} | {} {} | {} |",
                r.scenario,
                r.metric,
                r.claim.label(),
                cell(r.coarse),
                cell(r.fine),
                r.samples.0,
                r.samples.1,
                r.statistic_kind,
                cell(r.statistic),
                cell(r.p_value)
            );
        }
    }
    md
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::random::draw;
    use crate::validate::{Claim, Effect};

    #[test]
    fn files_list_every_scenario_and_disagreement() {
        let dir = tempfile::tempdir().unwrap();
        let scenarios: Vec<Scenario> = (0..3)
            .map(|k| draw(1, k).load_in(dir.path()).unwrap().scenario)
            .collect();
        let row = |s: &Scenario, agree: bool| Comparison {
            scenario: s.name.clone(),
            metric: "mean_round_ms",
            claim: Claim::Approximate,
            effect: Effect::Relative,
            coarse: 831.0,
            fine: if agree { 840.0 } else { 6674.0 },
            rel_error: 0.0,
            statistic: 1.0,
            statistic_kind: "ci95 of difference",
            p_value: 0.4,
            samples: (1e6, 4000.0),
            outcome: if agree { Verdict::Agree } else { Verdict::Disagree },
        };
        let rows = vec![
            row(&scenarios[0], true),
            row(&scenarios[1], false),
            row(&scenarios[2], true),
        ];
        let csv = scenarios_csv(&scenarios, &rows).unwrap();
        let mut r = csv::Reader::from_reader(csv.as_bytes());
        assert_eq!(r.headers().unwrap().len(), SCENARIO_COLUMNS.len());
        let recs: Vec<csv::StringRecord> = r.records().map(|x| x.unwrap()).collect();
        assert_eq!(recs.len(), 3);
        assert_eq!(&recs[1][0], "random-1-1");
        assert_eq!(&recs[1][16], "1");
        let th = Thresholds {
            alpha: 0.001,
            tolerance: 0.1,
            ks_tolerance: 0.25,
        };
        let run = RandomRun {
            seed: 1,
            shrink: 1,
            coarse_replicas: 20_000,
            thresholds: th,
            scenarios: &scenarios,
        };
        let md = summary_md(&run, &rows);
        assert!(md.contains("1 of 3 scenarios disagree"), "{md}");
        assert!(
            md.contains("| mean_round_ms | 3 | 0 | 1 | 0 | relative error (abs) |"),
            "{md}"
        );
        assert!(md.contains("| random-1-1 | mean_round_ms |"), "{md}");
        let ok = summary_md(&run, &[row(&scenarios[0], true)]);
        assert!(ok.contains("Every metric agrees"), "{ok}");
        // A row with too few samples is neither agreement nor disagreement, and is listed.
        let few = Comparison {
            samples: (1e6, 6.0),
            outcome: Verdict::TooFew,
            ..row(&scenarios[1], false)
        };
        let md = summary_md(&run, &[row(&scenarios[0], true), few]);
        assert!(md.contains("No metric disagrees; 1 row has too few samples"), "{md}");
        assert!(
            md.contains("| mean_round_ms | 2 | 0 | 0 | 1 | relative error (abs) |"),
            "{md}"
        );
        assert!(md.contains("## Too few samples to judge"), "{md}");
        assert!(md.contains("| 1000000 / 6 |"), "{md}");
    }
}
