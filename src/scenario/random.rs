//! Scenarios drawn at random from the envelope the coarse model claims (`ictwin validate
//! --random`), so that validation covers scenarios nobody tuned the model to.
//!
//! # Envelope
//! Full mesh (`[fine] gossip_fanout = 0`), no dynamic failures, finality backoff on, fine
//! engine with crypto CPU time off (`[fine] crypto_time = false`), and uniformly:
//! - nodes n in [`NODES`] (4..=40), f = (n - 1) / 3;
//! - U in [`UNIT_DELAYS_MS`] (1000 or 3000 ms), N0 an integer in [`N0_MS`] (200..=1000 ms);
//! - the delay family among [`FAMILIES`], each with a median m log-uniform in [`MEDIAN_MS`]
//!   (5-300 ms, rounded to 0.1 ms; log-uniform so that fast and slow networks are equally
//!   represented):
//!   - `constant`: m;
//!   - `uniform`: [m (1 - w), m (1 + w)], w uniform in [0, 1];
//!   - `exponential`: min_ms = a m with a uniform in [0, 0.9], mean_ms = min + (m - min) / ln 2
//!     (so that the median is m);
//!   - `lognormal`: median m, sigma uniform in [`SIGMA`] (0.1-1.0, rounded to 0.01);
//!   - `empirical`: [`EMPIRICAL_SAMPLES`] delays (0.001 ms) of a mixture of near pairs
//!     (lognormal, median m) and far pairs (median r m, r uniform in [1.5, 4], share uniform
//!     in [0.1, 0.5]), both sigmas uniform in [0.1, 0.5]; written next to the scenario as
//!     `<name>-delays.csv`;
//! - faults: with probability [`STALL_CHECK_PROBABILITY`] (0.1) a *stall check* of f + 1
//!   faulty nodes, split uniformly between crashed and silent (a committee holding all of them
//!   cannot notarize); otherwise a total uniform in 0..=f split uniformly among the
//!   compositions (crashed, silent, equivocating).
//!
//! The fine run is [`FINE_REPLICAS`] x [`FINE_ROUNDS`] (8 x 500 = 4000 heights).
//!
//! # Determinism
//! Scenario k of set seed S is a function of (S, k) only, so adding scenarios never changes
//! earlier ones: its words come from Philox4x32-10 with key (S low, S high) on counter
//! (k low, k high, block, [`STREAM`]), read in a fixed order (documented in [`draw`]); its
//! name is `random-<S>-<k>` and its `[run] seed` is words 0 and 1 (high word masked to 31
//! bits: TOML integers are signed 64-bit).

use super::{load, Loaded};
use anyhow::{Context, Result};
use ictwin_kernels::params::faults_tolerated;
use ictwin_kernels::philox::{uniform_below, WordStream};
use statrs::distribution::{ContinuousCDF, Normal};
use std::fmt::Write as _;
use std::path::Path;

/// Node counts drawn (inclusive).
pub const NODES: (u32, u32) = (4, 40);
/// Unit delays U drawn, ms.
pub const UNIT_DELAYS_MS: [f64; 2] = [1000.0, 3000.0];
/// Initial notary delays N0 drawn (inclusive, whole ms).
pub const N0_MS: (u32, u32) = (200, 1000);
/// Median one-way delays drawn (log-uniform), ms.
pub const MEDIAN_MS: (f64, f64) = (5.0, 300.0);
/// Lognormal sigmas drawn (uniform).
pub const SIGMA: (f64, f64) = (0.1, 1.0);
/// Delay families drawn, uniformly (every family of [`crate::dist::Delay`]).
pub const FAMILIES: [&str; 5] = ["constant", "uniform", "exponential", "lognormal", "empirical"];
/// Delays in a drawn empirical delay file.
pub const EMPIRICAL_SAMPLES: usize = 1000;
/// Probability that a scenario is a stall check (f + 1 crashed or silent nodes).
pub const STALL_CHECK_PROBABILITY: f64 = 0.1;
/// Fine-engine replicas of a drawn scenario.
pub const FINE_REPLICAS: u64 = 8;
/// Fine-engine heights per replica of a drawn scenario.
pub const FINE_ROUNDS: u64 = 500;
/// Philox stream id (fourth counter word) of the draws: "RAND".
pub const STREAM: u32 = 0x5241_4E44;

/// One drawn scenario: its files (text), ready to be written and loaded.
#[derive(Clone, Debug, PartialEq)]
pub struct Draw {
    /// `random-<S>-<k>`.
    pub name: String,
    /// The scenario file (TOML).
    pub toml: String,
    /// The empirical delay file (`<name>-delays.csv`, ms), for the `empirical` family.
    pub delays_csv: Option<String>,
}

impl Draw {
    /// The files of this scenario (name, contents): `<name>.toml` and, for an empirical
    /// delay, `<name>-delays.csv`, which the scenario names relative to itself.
    pub fn files(&self) -> Vec<(String, String)> {
        let mut v = vec![(format!("{}.toml", self.name), self.toml.clone())];
        if let Some(csv) = &self.delays_csv {
            v.push((format!("{}-delays.csv", self.name), csv.clone()));
        }
        v
    }

    /// Writes [`Draw::files`] into `dir` (created when missing) and loads the scenario file
    /// through [`load`], as a user rerunning it would: same parsing and checks.
    pub fn load_in(&self, dir: &Path) -> Result<Loaded> {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
        for (name, text) in self.files() {
            let path = dir.join(name);
            std::fs::write(&path, text).with_context(|| format!("cannot write {}", path.display()))?;
        }
        load(Some(&dir.join(format!("{}.toml", self.name))))
    }
}

/// Sequential uniform draws on one scenario's Philox counter.
struct Words(WordStream);

impl Words {
    fn u32(&mut self) -> u32 {
        self.0.next_u32()
    }
    /// Uniform in [0, 1) with 53 bits (two words).
    fn unit(&mut self) -> f64 {
        let w = ((self.u32() as u64) << 32) | self.u32() as u64;
        (w >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }
    /// Uniform integer in lo..=hi (one word, multiply-shift).
    fn int(&mut self, lo: u32, hi: u32) -> u32 {
        lo + uniform_below(self.u32(), hi - lo + 1)
    }
    fn between(&mut self, lo: f64, hi: f64) -> f64 {
        lo + (hi - lo) * self.unit()
    }
    /// Log-uniform in [lo, hi].
    fn log_between(&mut self, lo: f64, hi: f64) -> f64 {
        (lo.ln() + (hi.ln() - lo.ln()) * self.unit()).exp()
    }
    /// Standard normal by inverse CDF of one `unit`.
    fn normal(&mut self) -> f64 {
        let u = self.unit().clamp(f64::EPSILON, 1.0 - f64::EPSILON);
        Normal::standard().inverse_cdf(u)
    }
}

/// A uniform composition of `total` into three parts (crashed, silent, equivocating): two
/// distinct bar positions among `total + 2`, uniform over the pairs (two words).
fn composition(w: &mut Words, total: u32) -> (u32, u32, u32) {
    let i = w.int(0, total + 1);
    let mut j = w.int(0, total);
    if j >= i {
        j += 1;
    }
    let (i, j) = (i.min(j), i.max(j));
    (i, j - i - 1, total + 1 - j)
}

/// `x` rounded to a multiple of 10^-`digits`.
fn round_to(x: f64, digits: i32) -> f64 {
    let s = 10f64.powi(digits);
    (x * s).round() / s
}

/// The name of scenario `k` of set seed `seed`.
pub fn name(seed: u64, k: u64) -> String {
    format!("random-{seed}-{k}")
}

/// Draws scenario `k` of the set with seed `seed` (see the module doc for the envelope).
/// Words in order: the `[run]` seed (2), n (1), U (1), N0 (1), family (1), stall check (2);
/// faults: crashed (1) for a stall check, else the total (1) and two bar positions (2); then
/// the family's parameters: m (2), then uniform w (2) / exponential a (2) / lognormal sigma
/// (2) / empirical r, share, two sigmas (8) and per delay the component (2) and a normal (2).
pub fn draw(seed: u64, k: u64) -> Draw {
    let mut w = Words(WordStream::new(
        [seed as u32, (seed >> 32) as u32],
        k as u32,
        (k >> 32) as u32,
        STREAM,
        64,
    ));
    let run_seed = (((w.u32() & 0x7FFF_FFFF) as u64) << 32) | w.u32() as u64;
    let n = w.int(NODES.0, NODES.1);
    let f = faults_tolerated(n);
    let u = UNIT_DELAYS_MS[w.int(0, UNIT_DELAYS_MS.len() as u32 - 1) as usize];
    let n0 = w.int(N0_MS.0, N0_MS.1);
    let family = FAMILIES[w.int(0, FAMILIES.len() as u32 - 1) as usize];
    let (crashed, silent, equivocating) = if w.unit() < STALL_CHECK_PROBABILITY {
        let crashed = w.int(0, f + 1);
        (crashed, f + 1 - crashed, 0)
    } else {
        let total = w.int(0, f);
        composition(&mut w, total)
    };
    let m = round_to(w.log_between(MEDIAN_MS.0, MEDIAN_MS.1), 1);
    let mut delays_csv = None;
    let (delay, about) = match family {
        "constant" => (
            format!("{{ dist = \"constant\", ms = {m:?} }}"),
            format!("constant {m} ms"),
        ),
        "uniform" => {
            let h = w.unit();
            let (lo, hi) = (round_to(m * (1.0 - h), 1), round_to(m * (1.0 + h), 1));
            (
                format!("{{ dist = \"uniform\", min_ms = {lo:?}, max_ms = {hi:?} }}"),
                format!("uniform {lo}-{hi} ms"),
            )
        }
        "exponential" => {
            let min = round_to(m * w.between(0.0, 0.9), 1);
            let mean = round_to(min + (m - min) / std::f64::consts::LN_2, 1);
            (
                format!("{{ dist = \"exponential\", min_ms = {min:?}, mean_ms = {mean:?} }}"),
                format!("exponential min {min} ms, mean {mean} ms"),
            )
        }
        "lognormal" => {
            let sigma = round_to(w.between(SIGMA.0, SIGMA.1), 2);
            (
                format!("{{ dist = \"lognormal\", median_ms = {m:?}, sigma = {sigma:?} }}"),
                format!("lognormal median {m} ms, sigma {sigma}"),
            )
        }
        _ => {
            let (r, share) = (w.between(1.5, 4.0), w.between(0.1, 0.5));
            let (s_near, s_far) = (w.between(0.1, 0.5), w.between(0.1, 0.5));
            let mut csv = format!(
                "# Drawn by `ictwin validate --random` for {}: {EMPIRICAL_SAMPLES} one-way delays (ms) of\n\
                 # near pairs (lognormal median {m} ms, sigma {s_near:.2}) and, with share {share:.2}, far\n\
                 # pairs (median {:.1} ms, sigma {s_far:.2}). Synthetic, not a measurement.\ndelay_ms\n",
                name(seed, k),
                r * m
            );
            for _ in 0..EMPIRICAL_SAMPLES {
                let far = w.unit() < share;
                let (med, sigma) = if far { (r * m, s_far) } else { (m, s_near) };
                let _ = writeln!(csv, "{:.3}", med * (sigma * w.normal()).exp());
            }
            delays_csv = Some(csv);
            (
                format!("{{ dist = \"empirical\", file = \"{}-delays.csv\" }}", name(seed, k)),
                format!(
                    "empirical near {m} ms / far {:.1} ms ({:.0}% far)",
                    r * m,
                    100.0 * share
                ),
            )
        }
    };
    let description = format!(
        "{n} nodes (f = {f}), U {u} ms, N0 {n0} ms, {about}; faults {crashed} crashed + {silent} silent + {equivocating} equivocating{}",
        if crashed + silent + equivocating > f { " (stall check)" } else { "" }
    );
    let toml = format!(
        "# Scenario {k} of `ictwin validate --random N --seed {seed}` (N > {k}); rerun it alone with\n\
         # `ictwin validate <this file>` (add the same --shrink and --coarse-replicas).\n\
         name = \"{name}\"\n\
         description = \"{description}\"\n\
         [subnet]\nnodes = {n}\nunit_delay_ms = {u:?}\ninitial_notary_delay_ms = {n0}.0\nfinality_backoff = true\n\
         [network]\ndelay = {delay}\n\
         [faults]\ncrashed = {crashed}\nsilent = {silent}\nequivocating = {equivocating}\n\
         [run]\nreplicas = {FINE_REPLICAS}\nrounds = {FINE_ROUNDS}\nseed = {run_seed}\n\
         [fine]\ncrypto_time = false\ngossip_fanout = 0\n",
        name = name(seed, k),
    );
    Draw {
        name: name(seed, k),
        toml,
        delays_csv,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dist::Delay;

    #[test]
    fn a_scenario_depends_on_seed_and_index_only() {
        let later = draw(7, 3);
        let _ = (0..3).map(|k| draw(7, k)).collect::<Vec<_>>();
        assert_eq!(draw(7, 3), later);
        assert_eq!(later.name, "random-7-3");
        assert_ne!(draw(7, 4).toml, later.toml);
        assert_ne!(draw(8, 3).toml, later.toml);
        // Seeds and indices beyond 32 bits are distinct keys and counters.
        let run_seed = |d: Draw| d.toml.lines().find(|l| l.starts_with("seed =")).unwrap().to_string();
        assert_ne!(run_seed(draw(1 << 32, 0)), run_seed(draw(0, 0)));
        assert_ne!(run_seed(draw(0, 1 << 32)), run_seed(draw(0, 0)));
    }

    #[test]
    fn drawn_scenarios_load_and_stay_in_the_envelope() {
        let dir = tempfile::tempdir().unwrap();
        let draws = 300;
        let (mut stall_checks, mut families, mut units) = (0, Vec::new(), Vec::new());
        let mut nodes = Vec::new();
        for k in 0..draws {
            let d = draw(11, k);
            let l = d
                .load_in(dir.path())
                .unwrap_or_else(|e| panic!("{}: {e:#}\n{}", d.name, d.toml));
            let s = l.scenario;
            assert_eq!(s.name, d.name);
            let (n, f) = (s.subnet.nodes, s.f());
            nodes.push(n);
            assert!((NODES.0..=NODES.1).contains(&n));
            assert!(UNIT_DELAYS_MS.contains(&s.subnet.unit_delay_ms));
            units.push(s.subnet.unit_delay_ms as u32);
            let n0 = s.subnet.initial_notary_delay_ms;
            assert!(n0 >= N0_MS.0 as f64 && n0 <= N0_MS.1 as f64 && n0.fract() == 0.0);
            assert!(s.subnet.finality_backoff && !s.dynamic_failures());
            let fine = s.fine.clone().unwrap();
            assert!(!fine.crypto_time && fine.gossip_fanout == 0);
            assert_eq!((s.run.replicas, s.run.rounds), (FINE_REPLICAS, FINE_ROUNDS));
            let total = s.faults.crashed + s.faults.silent + s.faults.equivocating;
            if total > f {
                assert_eq!(total, f + 1, "{}", d.toml);
                assert_eq!(s.faults.equivocating, 0);
                stall_checks += 1;
            }
            assert_eq!(l.warnings.is_empty(), total <= f);
            let median = s.network.delay.quantile_ms(0.5);
            match &s.network.delay {
                Delay::Empirical { .. } => families.push("empirical"),
                Delay::Lognormal { sigma, .. } => {
                    assert!((SIGMA.0..=SIGMA.1).contains(sigma));
                    families.push("lognormal")
                }
                Delay::Constant { .. } => families.push("constant"),
                Delay::Uniform { .. } => families.push("uniform"),
                Delay::Exponential { .. } => families.push("exponential"),
            }
            if !matches!(s.network.delay, Delay::Empirical { .. }) {
                assert!(median >= MEDIAN_MS.0 - 0.1 && median <= MEDIAN_MS.1 + 0.1, "{}", d.toml);
            }
        }
        for fam in FAMILIES {
            assert!(families.contains(&fam), "{fam} never drawn");
        }
        assert!(units.contains(&1000) && units.contains(&3000));
        assert!(nodes.contains(&NODES.0) && nodes.contains(&NODES.1));
        // Stall checks: 0.1 of the draws, within 4 binomial standard errors.
        let rate = stall_checks as f64 / draws as f64;
        let se = (0.1f64 * 0.9 / draws as f64).sqrt();
        assert!((rate - 0.1).abs() <= 4.0 * se, "stall-check rate {rate}");
    }

    #[test]
    fn fault_compositions_are_uniform() {
        // Total 2: six compositions, each 1/6 of 6000 draws, within 4 binomial standard errors.
        let mut w = Words(WordStream::new([5, 0], 0, 0, STREAM, 64));
        let mut counts = std::collections::BTreeMap::new();
        let reps = 6000;
        for _ in 0..reps {
            let c = composition(&mut w, 2);
            assert_eq!(c.0 + c.1 + c.2, 2);
            *counts.entry(c).or_insert(0u32) += 1;
        }
        assert_eq!(counts.len(), 6, "{counts:?}");
        let (p, n) = (1.0 / 6.0, reps as f64);
        let se = (n * p * (1.0 - p)).sqrt();
        for c in counts.values() {
            assert!((*c as f64 - n * p).abs() <= 4.0 * se, "{counts:?}");
        }
        assert_eq!(composition(&mut w, 0), (0, 0, 0));
    }
}
