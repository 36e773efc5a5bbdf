//! Effect sizes across many validated scenarios, metric by metric: how far the coarse model is
//! from the fine engine over a whole envelope of scenarios, not only on the shipped ones.

use super::Comparison;
use crate::stats::Spread;

/// One metric across scenarios.
#[derive(Clone, Debug, PartialEq)]
pub struct MetricSummary {
    /// Metric name (as in `validation.csv`).
    pub metric: &'static str,
    /// Rows (scenarios) compared on this metric.
    pub rows: usize,
    /// Of them, rows whose claim was exact (judged by a test).
    pub exact: usize,
    /// Rows that disagree.
    pub disagreements: usize,
    /// Rows with too few samples to judge ([`super::Verdict::TooFew`]); their effect sizes are left
    /// out of `spread`.
    pub too_few: usize,
    /// Name of the effect size summarized (see [`Comparison::effect_size`]); `None` when no
    /// row has one (e.g. only chi-square rows).
    pub effect: Option<&'static str>,
    /// Spread of that effect size over the rows that have one (NaN rows left out).
    pub spread: Spread,
    /// Smallest p-value over the rows (NaN rows left out; NaN when none).
    pub min_p: f64,
}

/// Per-metric summaries of `rows`, metrics in order of first appearance.
pub fn summarize(rows: &[Comparison]) -> Vec<MetricSummary> {
    let mut metrics: Vec<&'static str> = Vec::new();
    for r in rows {
        if !metrics.contains(&r.metric) {
            metrics.push(r.metric);
        }
    }
    metrics
        .into_iter()
        .map(|metric| {
            let of: Vec<&Comparison> = rows.iter().filter(|r| r.metric == metric).collect();
            let effects: Vec<(&'static str, f64)> = of
                .iter()
                .filter(|r| !r.too_few())
                .filter_map(|r| r.effect_size())
                .collect();
            MetricSummary {
                metric,
                rows: of.len(),
                exact: of.iter().filter(|r| r.claim == super::Claim::Exact).count(),
                disagreements: of.iter().filter(|r| r.disagrees()).count(),
                too_few: of.iter().filter(|r| r.too_few()).count(),
                effect: effects.first().map(|e| e.0),
                spread: Spread::of(effects.iter().map(|e| e.1)),
                min_p: of
                    .iter()
                    .map(|r| r.p_value)
                    .filter(|p| !p.is_nan())
                    .fold(f64::NAN, f64::min),
            }
        })
        .collect()
}

/// Scenarios with at least one disagreeing metric, in order of first appearance.
pub fn disagreeing_scenarios(rows: &[Comparison]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for r in rows.iter().filter(|r| r.disagrees()) {
        if !out.contains(&r.scenario) {
            out.push(r.scenario.clone());
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::validate::{Claim, Effect, Verdict, KS_KIND};

    fn row(
        scenario: &str,
        metric: &'static str,
        effect: Effect,
        coarse: f64,
        fine: f64,
        stat: f64,
        agree: bool,
    ) -> Comparison {
        Comparison {
            scenario: scenario.into(),
            metric,
            claim: if effect == Effect::Absolute {
                Claim::Exact
            } else {
                Claim::Approximate
            },
            effect,
            coarse,
            fine,
            rel_error: if effect == Effect::Relative {
                crate::validate::relative_error(coarse, fine)
            } else {
                f64::NAN
            },
            statistic: stat,
            statistic_kind: if effect == Effect::Distance { KS_KIND } else { "z" },
            p_value: 0.5,
            samples: (1e6, 4000.0),
            outcome: if agree { Verdict::Agree } else { Verdict::Disagree },
        }
    }

    #[test]
    fn summaries_per_metric() {
        let rows = vec![
            row("a", "mean_round_ms", Effect::Relative, 100.0, 101.0, 1.0, true),
            row("a", "round_ms_distribution", Effect::Distance, 100.0, 100.0, 0.04, true),
            row("a", "stalled_ratio", Effect::Absolute, 0.0, 0.0, 0.0, true),
            row("b", "mean_round_ms", Effect::Relative, 100.0, 80.0, 1.0, false),
            row("b", "round_ms_distribution", Effect::Distance, 100.0, 90.0, 0.30, false),
            row("b", "stalled_ratio", Effect::Absolute, 0.1, 0.12, 1.0, true),
        ];
        let s = summarize(&rows);
        assert_eq!(s.len(), 3);
        assert_eq!(s[0].metric, "mean_round_ms");
        assert_eq!((s[0].rows, s[0].exact, s[0].disagreements), (2, 0, 1));
        assert_eq!(s[0].effect, Some("relative error (abs)"));
        assert!((s[0].spread.min - 1.0 / 101.0).abs() < 1e-12);
        assert!((s[0].spread.max - 0.2).abs() < 1e-12);
        assert_eq!(s[1].effect, Some("ks distance"));
        assert_eq!((s[1].spread.min, s[1].spread.max), (0.04, 0.30));
        assert_eq!((s[2].exact, s[2].disagreements), (2, 0));
        assert!((s[2].spread.max - 0.02).abs() < 1e-12);
        assert_eq!(s[2].min_p, 0.5);
        assert_eq!(disagreeing_scenarios(&rows), vec!["b".to_string()]);
    }
}
