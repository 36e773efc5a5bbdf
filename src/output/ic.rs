//! Files of `ictwin ic`: `availability.csv` (one row per subnet), `ic.csv` (IC-wide),
//! `stall-durations.csv` (episode-duration histogram), the printed table, and the manifest.
//! Every mean comes with a 95% confidence interval over replicas (t quantile); proportions
//! with a Wilson interval.

use super::{build_info, csv_line, fmt_f, host_info};
use crate::ic::{IcInput, IcTotals};
use crate::scenario::ic_faults::IcFaults;
use crate::stats::wilson95;
use crate::topology::Topology;
use anyhow::Result;
use ictwin_kernels::ic::{cause, duration_bin_lower_s, faults_tolerated, DURATION_BINS, YEAR_MS};

const MS_PER_HOUR: f64 = 3.6e6;

/// Names of the causes of a stall episode ([`cause`]), as written in the CSVs.
pub const CAUSE_NAMES: [&str; cause::CAUSES] = [
    "node",
    "data_center",
    "owner",
    "provider",
    "country",
    "takeover",
    "replacement",
    "start",
];

/// One subnet's availability figures (per year where it says so).
#[derive(Clone, Debug, PartialEq)]
pub struct SubnetRow {
    pub subnet: String,
    pub nodes: u32,
    /// Fraction of time live, and its 95% CI half-width.
    pub availability: (f64, f64),
    /// Stalled hours per year, CI.
    pub stalled_hours_per_year: (f64, f64),
    /// Stall episodes per year, CI.
    pub episodes_per_year: (f64, f64),
    /// Mean episode length, hours (NaN without episodes).
    pub mean_episode_hours: f64,
    /// Probability of some stalled time within a year, Wilson interval.
    pub p_stall_year: (f64, f64, f64),
    /// Hours per year with more than f Byzantine members, CI.
    pub risk_hours_per_year: (f64, f64),
    /// Members replaced per year.
    pub replacements_per_year: f64,
    /// Stalled hours per year by cause ([`CAUSE_NAMES`]).
    pub cause_hours_per_year: [f64; cause::CAUSES],
    /// The single event source (component, takeover or replacement) whose events started the
    /// episodes holding most of the stalled time: (kind, short name, share of the stalled
    /// time): the event that tipped the subnet into a stall; other failures were already there.
    pub dominant: (String, String, f64),
}

/// Per-subnet rows of a run.
pub fn subnet_rows(input: &IcInput, t: &IcTotals) -> Vec<SubnetRow> {
    let n = t.replicas as f64;
    let years = t.years as f64;
    let per_year_h = |ms: f64| ms / MS_PER_HOUR / years;
    let slots = (input.topology().components() + input.nodes.len() + input.providers.len()) as usize;
    let horizon = years * YEAR_MS as f64;
    t.subnets
        .iter()
        .enumerate()
        .map(|(s, st)| {
            let (stall, stall_ci) = st.stall_ms.mean_ci95(n);
            let (ep, ep_ci) = st.episodes.mean_ci95(n);
            let (risk, risk_ci) = st.risk_ms.mean_ci95(n);
            let (lo, hi) = wilson95(st.years_stalled as f64, n * years);
            let mut cause_hours = [0.0; cause::CAUSES];
            for (h, &ms) in cause_hours.iter_mut().zip(&st.cause_ms) {
                *h = per_year_h(ms as f64 / n);
            }
            let row = &t.agg[DURATION_BINS + s * slots..DURATION_BINS + (s + 1) * slots];
            let (best, best_ms) = row
                .iter()
                .enumerate()
                .max_by_key(|(_, &v)| v)
                .map(|(i, &v)| (i, v))
                .unwrap_or((0, 0));
            let dominant = if best_ms == 0 {
                ("none".into(), String::new(), 0.0)
            } else {
                let share = best_ms as f64 / st.stall_ms.sum as f64;
                let comps = input.topology().components() as usize;
                let (kind, name) = if best < comps {
                    let (k, nm) = input.component_name(best as u32);
                    (k.to_string(), Topology::short_id(nm).to_string())
                } else if best < comps + input.nodes.len() as usize {
                    (
                        "replacement".into(),
                        Topology::short_id(&input.nodes.names[best - comps]).to_string(),
                    )
                } else {
                    let p = &input.providers.names[best - comps - input.nodes.len() as usize];
                    ("takeover".into(), Topology::short_id(p).to_string())
                };
                (kind, name, share)
            };
            SubnetRow {
                subnet: input.subnets.names[s].clone(),
                nodes: input.subnet_size[s],
                availability: (1.0 - stall / horizon, stall_ci / horizon),
                stalled_hours_per_year: (per_year_h(stall), per_year_h(stall_ci)),
                episodes_per_year: (ep / years, ep_ci / years),
                mean_episode_hours: if st.episodes.sum > 0 {
                    st.stall_ms.sum as f64 / st.episodes.sum as f64 / MS_PER_HOUR
                } else {
                    f64::NAN
                },
                p_stall_year: (st.years_stalled as f64 / (n * years), lo, hi),
                risk_hours_per_year: (per_year_h(risk), per_year_h(risk_ci)),
                replacements_per_year: st.replaced as f64 / (n * years),
                cause_hours_per_year: cause_hours,
                dominant,
            }
        })
        .collect()
}

/// `availability.csv`: one row per subnet.
pub fn availability_csv(rows: &[SubnetRow]) -> String {
    let mut head: Vec<String> = [
        "subnet",
        "nodes",
        "f",
        "availability",
        "availability_ci95",
        "stalled_hours_per_year",
        "stalled_hours_per_year_ci95",
        "stall_episodes_per_year",
        "stall_episodes_per_year_ci95",
        "mean_episode_hours",
        "p_stall_within_year",
        "p_stall_within_year_lo95",
        "p_stall_within_year_hi95",
        "safety_risk_hours_per_year",
        "safety_risk_hours_per_year_ci95",
        "replacements_per_year",
        "dominant_kind",
        "dominant_component",
        "dominant_share",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    head.extend(CAUSE_NAMES.iter().map(|c| format!("stalled_hours_per_year_{c}")));
    let mut out = csv_line(&head) + "\n";
    for r in rows {
        let mut f = vec![
            r.subnet.clone(),
            r.nodes.to_string(),
            faults_tolerated(r.nodes).to_string(),
            fmt_f(r.availability.0),
            fmt_f(r.availability.1),
            fmt_f(r.stalled_hours_per_year.0),
            fmt_f(r.stalled_hours_per_year.1),
            fmt_f(r.episodes_per_year.0),
            fmt_f(r.episodes_per_year.1),
            fmt_f(r.mean_episode_hours),
            fmt_f(r.p_stall_year.0),
            fmt_f(r.p_stall_year.1),
            fmt_f(r.p_stall_year.2),
            fmt_f(r.risk_hours_per_year.0),
            fmt_f(r.risk_hours_per_year.1),
            fmt_f(r.replacements_per_year),
            r.dominant.0.clone(),
            r.dominant.1.clone(),
            fmt_f(r.dominant.2),
        ];
        f.extend(r.cause_hours_per_year.iter().map(|&h| fmt_f(h)));
        out += &(csv_line(&f) + "\n");
    }
    out
}

/// IC-wide figures: (column, value) pairs of `ic.csv`.
pub fn ic_fields(t: &IcTotals, rows: &[SubnetRow]) -> Vec<(&'static str, String)> {
    let n = t.replicas as f64;
    let years = t.years as f64;
    let ic_years = n * years;
    let (p_lo, p_hi) = wilson95(t.years_any_stall as f64, ic_years);
    let (stall, stall_ci) = t.ic_stall_ms.mean_ci95(n);
    let mut worst: Vec<&SubnetRow> = rows.iter().collect();
    worst.sort_by(|a, b| b.stalled_hours_per_year.0.total_cmp(&a.stalled_hours_per_year.0));
    let worst = worst
        .iter()
        .take(5)
        .filter(|r| r.stalled_hours_per_year.0 > 0.0)
        .map(|r| format!("{} ({} {})", r.subnet, r.dominant.0, r.dominant.1))
        .collect::<Vec<_>>()
        .join("; ");
    vec![
        ("replicas", t.replicas.to_string()),
        ("years_per_replica", t.years.to_string()),
        (
            "p_any_subnet_stalls_within_year",
            fmt_f(t.years_any_stall as f64 / ic_years),
        ),
        ("p_any_subnet_stalls_within_year_lo95", fmt_f(p_lo)),
        ("p_any_subnet_stalls_within_year_hi95", fmt_f(p_hi)),
        ("stalled_subnet_hours_per_year", fmt_f(stall / MS_PER_HOUR / years)),
        (
            "stalled_subnet_hours_per_year_ci95",
            fmt_f(stall_ci / MS_PER_HOUR / years),
        ),
        (
            "replacements_per_year",
            fmt_f(rows.iter().map(|r| r.replacements_per_year).sum::<f64>()),
        ),
        (
            "replacements_without_spare_per_year",
            fmt_f(t.no_spare as f64 / ic_years),
        ),
        ("events_per_ic_year", fmt_f(t.events as f64 / ic_years)),
        ("worst_subnets", worst),
    ]
}

/// `ic.csv`: a header and one row.
pub fn ic_csv(fields: &[(&'static str, String)]) -> String {
    let head: Vec<String> = fields.iter().map(|(k, _)| k.to_string()).collect();
    let vals: Vec<String> = fields.iter().map(|(_, v)| v.clone()).collect();
    csv_line(&head) + "\n" + &csv_line(&vals) + "\n"
}

/// `stall-durations.csv`: episodes per duration bin (all subnets), with bin edges in hours.
pub fn durations_csv(t: &IcTotals) -> String {
    let mut out = String::from("bin,lower_hours,upper_hours,episodes\n");
    for b in 0..DURATION_BINS {
        let count = t.agg[b];
        if count == 0 {
            continue;
        }
        let lo = duration_bin_lower_s(b) / 3600.0;
        let hi = if b + 1 < DURATION_BINS {
            fmt_f(duration_bin_lower_s(b + 1) / 3600.0)
        } else {
            "inf".into()
        };
        out += &format!("{b},{},{hi},{count}\n", fmt_f(lo));
    }
    out
}

/// The printed table: the ten least available subnets, then the IC-wide figures.
pub fn render(rows: &[SubnetRow], ic: &[(&'static str, String)]) -> String {
    let mut sorted: Vec<&SubnetRow> = rows.iter().collect();
    sorted.sort_by(|a, b| a.availability.0.total_cmp(&b.availability.0));
    let mut out = format!(
        "  {:<14} {:>5} {:>14} {:>18} {:>12}  {}\n",
        "subnet", "nodes", "availability", "stalled h/year", "episodes/yr", "driven by"
    );
    for r in sorted.iter().take(10) {
        out += &format!(
            "  {:<14} {:>5} {:>14} {:>18} {:>12}  {} {}\n",
            r.subnet.chars().take(14).collect::<String>(),
            r.nodes,
            format!("{:.6}", r.availability.0),
            format!("{:.3} ± {:.3}", r.stalled_hours_per_year.0, r.stalled_hours_per_year.1),
            format!("{:.3}", r.episodes_per_year.0),
            r.dominant.0,
            r.dominant.1
        );
    }
    for (k, v) in ic {
        out += &format!("  {k:<40} {v}\n");
    }
    out
}

/// `manifest.json` of an `ictwin ic` run: build, host, inputs, faults, seed, time.
pub fn manifest_json(topology: &str, faults_origin: &str, faults: &IcFaults) -> Result<String> {
    let json = serde_json::json!({
        "ictwin": build_info(),
        "command": "ic",
        "topology": topology,
        "faults_origin": faults_origin,
        "faults": faults,
        "seed": faults.run.seed,
        "host": host_info(),
        "created_unix_s": std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0),
    });
    Ok(serde_json::to_string_pretty(&json)? + "\n")
}
