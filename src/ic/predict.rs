//! Each real subnet's block rate and rank predicted from its own configuration: the coarse
//! engine on the subnet's scenario preset (from the topology file), its dead nodes as crashed
//! nodes, its geography (base latencies between its members' data centers, [`subnet_scenario`]),
//! and one global parameter, the per-artifact processing time (`[node] processing`,
//! constant), fitted on a declared half of the subnets and reported on the other half.
//!
//! - **Split** (declared, not chosen by outcome): subnets sorted by short id; every second
//!   one (odd positions) is held out.
//! - **Fit**: the processing time P in [0, [`MAX_PROCESSING_MS`]] minimising the mean absolute
//!   log error of the block rate over the fit half's subnets whose observed mean rank is below
//!   [`LOW_RANK`] (the population of the goal: subnets whose makers rarely fail, which
//!   the model with all live nodes up describes; a robust loss, so that a few deliberately
//!   slower subnets do not drag the fit), by golden-section search (the predicted rate falls
//!   monotonically with P).
//! - **Observed**: `subnets.csv` of the real-IC data directory: the 30-day median of the daily
//!   finalized-block rate and the mean finalized rank (failed / proposed).

use crate::coarse;
use crate::dist::Delay;
use crate::scenario::latency::LatencyMatrix;
use crate::scenario::{self, Scenario};
use crate::stats::{self, RunStats};
use crate::topology::latency::LatencyModel;
use crate::topology::{DataCenter, SubnetKind, Topology};
use anyhow::{anyhow, bail, Context, Result};
use std::collections::HashMap;
use std::path::Path;
use std::sync::atomic::AtomicBool;

/// Observed mean finalized rank below which a subnet's makers "rarely fail": the fit and the
/// goal population.
pub const LOW_RANK: f64 = 0.02;

/// Upper end of the processing-time search, ms.
pub const MAX_PROCESSING_MS: f64 = 400.0;

/// What the real network showed for one subnet.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Observed {
    /// Median of the 30 daily finalized-block rates, blocks/s.
    pub block_rate_per_s: f64,
    /// Mean rank of finalized blocks (failed / proposed over the 30 days).
    pub mean_rank: f64,
}

/// Reads `subnets.csv` of the real-IC data directory: short id -> observed figures.
pub fn read_observed(dir: &Path) -> Result<HashMap<String, Observed>> {
    let path = dir.join("subnets.csv");
    let mut r = csv::Reader::from_path(&path).with_context(|| format!("cannot read {}", path.display()))?;
    let h = r.headers()?.clone();
    let col = |name: &str| {
        h.iter()
            .position(|c| c == name)
            .ok_or_else(|| anyhow!("{}: no column `{name}`", path.display()))
    };
    let (short, rate, rank) = (
        col("subnet_short")?,
        col("block_rate_median_per_s")?,
        col("failed_per_proposed")?,
    );
    let mut out = HashMap::new();
    for (i, rec) in r.records().enumerate() {
        let rec = rec?;
        let num = |c: usize| -> Result<f64> {
            rec[c]
                .parse::<f64>()
                .map_err(|_| anyhow!("{}:{}: `{}` is not a number", path.display(), i + 2, &rec[c]))
        };
        out.insert(
            rec[short].to_string(),
            Observed {
                block_rate_per_s: num(rate)?,
                mean_rank: num(rank)?,
            },
        );
    }
    Ok(out)
}

/// Run size of each subnet's coarse run.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct PredictSize {
    pub replicas: u64,
    pub rounds: u64,
    pub seed: u64,
}

/// One subnet's prediction.
#[derive(Clone, Debug)]
pub struct SubnetPrediction {
    /// Short id.
    pub subnet: String,
    pub kind: SubnetKind,
    pub nodes: u32,
    /// Dead nodes in the source data (run as crashed nodes).
    pub dead_nodes: u32,
    pub observed: Option<Observed>,
    /// In the held-out half.
    pub held_out: bool,
    /// The coarse run's statistics at the fitted processing time.
    pub stats: RunStats,
}

/// The subnets that can be predicted (those with a preset), in topology order, with their
/// held-out flag by the declared split.
fn predictable(topo: &Topology) -> Vec<(usize, bool)> {
    let mut ids: Vec<(String, usize)> = topo
        .subnets
        .iter()
        .enumerate()
        .filter(|(_, s)| s.preset.is_some())
        .map(|(i, s)| (Topology::short_id(&s.id).to_string(), i))
        .collect();
    ids.sort();
    let mut held: Vec<(usize, bool)> = ids.iter().enumerate().map(|(k, (_, i))| (*i, k % 2 == 1)).collect();
    held.sort();
    held
}

/// Per-message jitter on top of a subnet's base latencies (queueing, retransmission): an
/// **assumption** (no per-pair measurement of the IC's links is published), lognormal with a
/// median of 5 ms and sigma 0.5.
pub const GEO_JITTER: Delay = Delay::Lognormal {
    median_ms: 5.0,
    sigma: 0.5,
};

/// Subnet `s`'s scenario: its preset, its dead nodes crashed, its own geography (the base
/// latencies between its members' data centers, [`LatencyModel::default`], plus
/// [`GEO_JITTER`] per message instead of the preset's delay distribution), processing time
/// `processing_ms` (`None`: the preset's own). Node order: the members marked dead first
/// (node ids below `crashed` are the crashed ones), then the others in file order; when the
/// data counts more dead nodes than it marks, the first live members in file order stand in
/// (the data does not say which node was dead on the last day).
pub fn subnet_scenario(
    topo: &Topology,
    topo_dir: &Path,
    s: usize,
    processing_ms: Option<f64>,
    size: PredictSize,
) -> Result<Scenario> {
    let sub = &topo.subnets[s];
    let preset = sub
        .preset
        .as_ref()
        .ok_or_else(|| anyhow!("subnet {} has no preset", sub.id))?;
    let mut sc = scenario::load(Some(&topo_dir.join(preset)))?.scenario;
    sc.name = Topology::short_id(&sub.id).to_string();
    sc.faults.crashed = sub.dead_nodes;
    let mut members = topo.members(s);
    members.sort_by_key(|&i| !topo.nodes[i].dead);
    let dcs: Vec<&DataCenter> = members
        .iter()
        .map(|&i| &topo.data_centers[topo.nodes[i].data_center])
        .collect();
    let m = LatencyModel::default().matrix(&dcs);
    sc.network.latency = Some(LatencyMatrix {
        n: m.len() as u32,
        ms: m.into_iter().flatten().collect(),
    });
    sc.network.latency_matrix = Some(format!("<geography of {} in {}>", sc.name, topo.name));
    sc.network.delay = GEO_JITTER;
    if let Some(ms) = processing_ms {
        sc.node.processing = Delay::Constant { ms };
    }
    sc.run.replicas = size.replicas;
    sc.run.rounds = size.rounds;
    sc.run.seed = size.seed;
    Ok(sc)
}

fn run_stats(sc: &Scenario, stop: &AtomicBool) -> Result<RunStats> {
    let prep = coarse::prepare(sc)?;
    let agg = coarse::run_cpu(&prep, &|_| {}, stop)?;
    Ok(stats::from_aggregates(&agg))
}

/// Mean absolute log error of the block rate over the fit half at processing time `p`.
fn fit_loss(
    topo: &Topology,
    dir: &Path,
    fit: &[(usize, Observed)],
    p: f64,
    size: PredictSize,
    stop: &AtomicBool,
) -> Result<f64> {
    let mut loss = 0.0;
    for &(s, obs) in fit {
        let st = run_stats(&subnet_scenario(topo, dir, s, Some(p), size)?, stop)?;
        loss += (st.block_rate_per_s.ln() - obs.block_rate_per_s.ln()).abs();
    }
    Ok(loss / fit.len() as f64)
}

/// Fits the processing time on the fit half (golden section, to 1 ms) and predicts every
/// subnet with a preset. `topo_dir` resolves the presets; `observed` keys are short ids.
/// Returns the fitted processing time (ms; `None` when no subnet of the fit half has
/// observed data: every subnet then runs with its preset's own processing time) and the
/// predictions.
pub fn predict(
    topo: &Topology,
    topo_dir: &Path,
    observed: &HashMap<String, Observed>,
    size: PredictSize,
    stop: &AtomicBool,
) -> Result<(Option<f64>, Vec<SubnetPrediction>)> {
    let subnets = predictable(topo);
    if subnets.is_empty() {
        bail!("no subnet of the topology has a scenario preset: nothing to predict");
    }
    let short = |s: usize| Topology::short_id(&topo.subnets[s].id).to_string();
    let fit: Vec<(usize, Observed)> = subnets
        .iter()
        .filter(|(_, held)| !held)
        .filter_map(|&(s, _)| observed.get(&short(s)).map(|o| (s, *o)))
        .filter(|(_, o)| o.mean_rank < LOW_RANK)
        .collect();
    let p = if fit.is_empty() {
        None
    } else {
        Some(fit_processing(topo, topo_dir, &fit, size, stop)?)
    };
    let mut out = Vec::new();
    for (s, held_out) in subnets {
        let sub = &topo.subnets[s];
        let stats = run_stats(&subnet_scenario(topo, topo_dir, s, p, size)?, stop)?;
        out.push(SubnetPrediction {
            subnet: short(s),
            kind: sub.kind,
            nodes: sub.size,
            dead_nodes: sub.dead_nodes,
            observed: observed.get(&short(s)).copied(),
            held_out,
            stats,
        });
    }
    Ok((p, out))
}

/// Golden-section search of the processing time (to 1 ms, rounded) minimising [`fit_loss`].
fn fit_processing(
    topo: &Topology,
    topo_dir: &Path,
    fit: &[(usize, Observed)],
    size: PredictSize,
    stop: &AtomicBool,
) -> Result<f64> {
    let fit = fit.to_vec();
    let (mut a, mut b) = (0.0, MAX_PROCESSING_MS);
    let g = (5f64.sqrt() - 1.0) / 2.0;
    let (mut c, mut d) = (b - g * (b - a), a + g * (b - a));
    let (mut fc, mut fd) = (
        fit_loss(topo, topo_dir, &fit, c, size, stop)?,
        fit_loss(topo, topo_dir, &fit, d, size, stop)?,
    );
    while b - a > 1.0 {
        if fc < fd {
            (b, d, fd) = (d, c, fc);
            c = b - g * (b - a);
            fc = fit_loss(topo, topo_dir, &fit, c, size, stop)?;
        } else {
            (a, c, fc) = (c, d, fd);
            d = a + g * (b - a);
            fd = fit_loss(topo, topo_dir, &fit, d, size, stop)?;
        }
    }
    Ok(((a + b) / 2.0).round())
}

/// Spearman rank correlation of paired values (average ranks for ties); NaN below 3 pairs.
pub fn spearman(pairs: &[(f64, f64)]) -> f64 {
    if pairs.len() < 3 {
        return f64::NAN;
    }
    let ranks = |v: Vec<f64>| -> Vec<f64> {
        let mut idx: Vec<usize> = (0..v.len()).collect();
        idx.sort_by(|&i, &j| v[i].total_cmp(&v[j]));
        let mut r = vec![0.0; v.len()];
        let mut k = 0;
        while k < idx.len() {
            let mut e = k;
            while e + 1 < idx.len() && v[idx[e + 1]] == v[idx[k]] {
                e += 1;
            }
            for &i in &idx[k..=e] {
                r[i] = (k + e) as f64 / 2.0 + 1.0;
            }
            k = e + 1;
        }
        r
    };
    let a = ranks(pairs.iter().map(|p| p.0).collect());
    let b = ranks(pairs.iter().map(|p| p.1).collect());
    let n = a.len() as f64;
    let (ma, mb) = (a.iter().sum::<f64>() / n, b.iter().sum::<f64>() / n);
    let cov: f64 = a.iter().zip(&b).map(|(x, y)| (x - ma) * (y - mb)).sum();
    let va: f64 = a.iter().map(|x| (x - ma).powi(2)).sum();
    let vb: f64 = b.iter().map(|y| (y - mb).powi(2)).sum();
    cov / (va * vb).sqrt()
}

#[cfg(test)]
mod tests {
    use super::spearman;

    #[test]
    fn spearman_known_values() {
        assert!((spearman(&[(1.0, 2.0), (2.0, 4.0), (3.0, 9.0)]) - 1.0).abs() < 1e-12);
        assert!((spearman(&[(1.0, 3.0), (2.0, 2.0), (3.0, 1.0)]) + 1.0).abs() < 1e-12);
        // Ties take average ranks: x ranks 1, 2.5, 2.5, 4 against 1..4.
        let r = spearman(&[(1.0, 1.0), (2.0, 2.0), (2.0, 3.0), (3.0, 4.0)]);
        assert!((r - 0.948_683_298).abs() < 1e-6, "{r}");
    }
}
