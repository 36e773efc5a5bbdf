//! Delay distributions and the quantile tables the integer samplers read.
//!
//! The host evaluates each distribution's quantile function Q(p) in f64 at the probability
//! levels of `ictwin_kernels::table` and rounds to integer table units; the kernels (CPU and
//! WGSL) only interpolate, so both draw bit-identical samples.

use anyhow::{bail, Context, Result};
use ictwin_kernels::table::{L1_SEGMENTS, L2_OFFSET, L2_SEGMENTS, TABLE_STRIDE};
use serde::{Deserialize, Serialize};
use statrs::distribution::{ContinuousCDF, Normal};
use std::path::{Path, PathBuf};

/// Largest delay the engines represent, ms: the coarse kernels sample delays as u32 µs, so
/// 2^32 - 1 µs (about 71.6 minutes).
pub const MAX_DELAY_MS: f64 = u32::MAX as f64 / 1000.0;

/// Tail probability beyond which the samplers draw nothing: the quantile tables end at the
/// level 1 - 2^-32, so a distribution is representable when Q(1 - 2^-32) <= [`MAX_DELAY_MS`],
/// i.e. when at most 2^-32 of its mass lies beyond the maximum (no drawn delay is clamped).
pub const TAIL_LEVEL: f64 = 1.0 - 1.0 / 4294967296.0;

/// A one-way network delay distribution, in ms.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "dist", rename_all = "lowercase", deny_unknown_fields)]
pub enum Delay {
    /// Always `ms`.
    Constant { ms: f64 },
    /// Uniform on [min_ms, max_ms].
    Uniform { min_ms: f64, max_ms: f64 },
    /// `min_ms` plus an exponential; `mean_ms` is the mean of the whole delay (>= min_ms).
    Exponential { min_ms: f64, mean_ms: f64 },
    /// Lognormal with the given median and log-scale standard deviation `sigma`.
    Lognormal { median_ms: f64, sigma: f64 },
    /// Measured one-way delays (ms), one per line of a CSV file (optional header); path
    /// relative to the scenario file. Sampled from the empirical quantile function with
    /// linear interpolation between order statistics.
    Empirical {
        file: PathBuf,
        #[serde(skip)]
        samples_ms: Vec<f64>,
    },
}

impl Delay {
    /// Checks parameters, returning (key, problem) on error. Loads empirical files. Rejects a
    /// distribution the engines cannot represent: one whose largest drawn value,
    /// Q(1 - 2^-32) ([`TAIL_LEVEL`]), exceeds [`MAX_DELAY_MS`] (more than 2^-32 of its mass
    /// beyond the maximum); nothing is clamped silently.
    pub fn validate_and_load(&mut self, base_dir: &Path) -> std::result::Result<(), (String, String)> {
        self.check_params(base_dir)?;
        let top = self.quantile_ms(TAIL_LEVEL);
        if top > MAX_DELAY_MS {
            let key = match self {
                Delay::Constant { .. } => "ms",
                Delay::Uniform { .. } => "max_ms",
                Delay::Exponential { .. } => "mean_ms",
                Delay::Lognormal { median_ms, .. } if *median_ms > MAX_DELAY_MS => "median_ms",
                Delay::Lognormal { .. } => "sigma",
                Delay::Empirical { .. } => "file",
            };
            return Err((
                key.into(),
                format!(
                    "the delay distribution reaches {top:.4e} ms at probability 1 - 2^-32, above the \
                     largest delay the engines represent ({MAX_DELAY_MS} ms = 2^32 - 1 µs); lower it"
                ),
            ));
        }
        Ok(())
    }

    /// The parameter checks of [`Delay::validate_and_load`] (finite, ordered), loading files.
    fn check_params(&mut self, base_dir: &Path) -> std::result::Result<(), (String, String)> {
        let nonneg = |k: &str, v: f64| -> std::result::Result<(), (String, String)> {
            if !v.is_finite() || v < 0.0 {
                Err((k.to_string(), format!("must be a finite number >= 0, got {v}")))
            } else {
                Ok(())
            }
        };
        match self {
            Delay::Constant { ms } => nonneg("ms", *ms),
            Delay::Uniform { min_ms, max_ms } => {
                nonneg("min_ms", *min_ms)?;
                nonneg("max_ms", *max_ms)?;
                if max_ms < min_ms {
                    return Err(("max_ms".into(), format!("must be >= min_ms ({min_ms}), got {max_ms}")));
                }
                Ok(())
            }
            Delay::Exponential { min_ms, mean_ms } => {
                nonneg("min_ms", *min_ms)?;
                nonneg("mean_ms", *mean_ms)?;
                if mean_ms < min_ms {
                    return Err(("mean_ms".into(), format!("must be >= min_ms ({min_ms}), got {mean_ms}")));
                }
                Ok(())
            }
            Delay::Lognormal { median_ms, sigma } => {
                if !median_ms.is_finite() || *median_ms <= 0.0 {
                    return Err((
                        "median_ms".into(),
                        format!("must be a finite number > 0, got {median_ms}"),
                    ));
                }
                nonneg("sigma", *sigma)
            }
            Delay::Empirical { file, samples_ms } => {
                let path = base_dir.join(&*file);
                *samples_ms = load_empirical(&path).map_err(|e| ("file".to_string(), format!("{e:#}")))?;
                Ok(())
            }
        }
    }

    /// Quantile function, ms.
    pub fn quantile_ms(&self, p: f64) -> f64 {
        match self {
            Delay::Constant { ms } => *ms,
            Delay::Uniform { min_ms, max_ms } => min_ms + p * (max_ms - min_ms),
            Delay::Exponential { min_ms, mean_ms } => min_ms + (mean_ms - min_ms) * -(-p).ln_1p(),
            Delay::Lognormal { median_ms, sigma } => {
                if *sigma == 0.0 {
                    return *median_ms;
                }
                let z = Normal::standard().inverse_cdf(p.clamp(f64::MIN_POSITIVE, 1.0 - f64::EPSILON / 2.0));
                median_ms * (sigma * z).exp()
            }
            Delay::Empirical { samples_ms, .. } => {
                let m = samples_ms.len();
                let h = (m - 1) as f64 * p;
                let lo = h.floor() as usize;
                let hi = (lo + 1).min(m - 1);
                samples_ms[lo] + (h - lo as f64) * (samples_ms[hi] - samples_ms[lo])
            }
        }
    }

    /// Mean, ms (exact for the parametric distributions; table-based for empirical).
    pub fn mean_ms(&self) -> f64 {
        match self {
            Delay::Constant { ms } => *ms,
            Delay::Uniform { min_ms, max_ms } => (min_ms + max_ms) / 2.0,
            Delay::Exponential { mean_ms, .. } => *mean_ms,
            Delay::Lognormal { median_ms, sigma } => median_ms * (sigma * sigma / 2.0).exp(),
            Delay::Empirical { samples_ms, .. } => samples_ms.iter().sum::<f64>() / samples_ms.len() as f64,
        }
    }

    /// CDF, for tests of the samplers. Empirical: of the interpolated quantile function.
    pub fn cdf_ms(&self, x: f64) -> f64 {
        match self {
            Delay::Constant { ms } => (x >= *ms) as u8 as f64,
            Delay::Uniform { min_ms, max_ms } => {
                if max_ms == min_ms {
                    (x >= *min_ms) as u8 as f64
                } else {
                    ((x - min_ms) / (max_ms - min_ms)).clamp(0.0, 1.0)
                }
            }
            Delay::Exponential { min_ms, mean_ms } => {
                if x < *min_ms {
                    0.0
                } else if mean_ms == min_ms {
                    1.0
                } else {
                    1.0 - (-(x - min_ms) / (mean_ms - min_ms)).exp()
                }
            }
            Delay::Lognormal { median_ms, sigma } => {
                if x <= 0.0 {
                    0.0
                } else if *sigma == 0.0 {
                    (x >= *median_ms) as u8 as f64
                } else {
                    Normal::standard().cdf((x / median_ms).ln() / sigma)
                }
            }
            Delay::Empirical { samples_ms, .. } => {
                let m = samples_ms.len();
                if m == 1 || x < samples_ms[0] {
                    return (x >= samples_ms[0]) as u8 as f64;
                }
                let i = samples_ms.partition_point(|&s| s <= x);
                if i >= m {
                    return 1.0;
                }
                let (a, b) = (samples_ms[i - 1], samples_ms[i]);
                ((i - 1) as f64 + if b > a { (x - a) / (b - a) } else { 0.0 }) / (m - 1) as f64
            }
        }
    }

    /// The quantile table in µs for the integer sampler.
    pub fn table_us(&self) -> Vec<u32> {
        build_table(|p| self.quantile_ms(p) * 1000.0)
    }
}

/// Table of Exp(1) in units of 2^-16 (dynamic failure durations).
pub fn exp1_table_q16() -> Vec<u32> {
    build_table(|p| -(-p).ln_1p() * 65536.0)
}

/// The probability level of table entry `k` (layout in `ictwin_kernels::table`): `k / 4096`
/// in level 1, `1 - 2^-12 + j 2^-24` in level 2, `1 - 2^-32` for its last entry and the
/// padding after it. Host-only: the kernels never see a probability, only the table.
fn p_at(k: u32) -> f64 {
    if k < L1_SEGMENTS {
        k as f64 / L1_SEGMENTS as f64
    } else {
        let j = (k - L2_OFFSET).min(L2_SEGMENTS);
        if j == L2_SEGMENTS {
            1.0 - 2f64.powi(-32)
        } else {
            1.0 - 2f64.powi(-12) + j as f64 * 2f64.powi(-24)
        }
    }
}

/// Evaluates `q` at the table's probability levels, rounding to integers (saturating): a
/// quantile table in the unit `q` returns.
pub fn build_table(q: impl Fn(f64) -> f64) -> Vec<u32> {
    let mut t: Vec<u32> = (0..TABLE_STRIDE)
        .map(|k| q(p_at(k)).round().clamp(0.0, u32::MAX as f64) as u32)
        .collect();
    // Guard monotonicity against rounding noise in the quantile function.
    for k in 1..t.len() {
        if k != L2_OFFSET as usize && t[k] < t[k - 1] {
            t[k] = t[k - 1];
        }
    }
    t
}

/// Reads a CSV of one-way delays in ms: one value per line (first column), optional header,
/// `#` comments. Errors name the file and line.
pub fn load_empirical(path: &Path) -> Result<Vec<f64>> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read empirical delay file {}", path.display()))?;
    let mut v = Vec::new();
    let mut header_seen = false;
    for (i, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let field = line.split(',').next().unwrap_or("").trim();
        match field.parse::<f64>() {
            Ok(x) if x.is_finite() && (0.0..=MAX_DELAY_MS).contains(&x) => v.push(x),
            Ok(x) if x.is_finite() && x > MAX_DELAY_MS => bail!(
                "{}:{}: delay {x} ms is above the largest the engines represent ({MAX_DELAY_MS} ms = 2^32 - 1 µs)",
                path.display(),
                i + 1
            ),
            Ok(x) => bail!(
                "{}:{}: delay must be a finite number >= 0 ms, got {x}",
                path.display(),
                i + 1
            ),
            Err(_) if v.is_empty() && !header_seen => header_seen = true,
            Err(_) => bail!("{}:{}: not a number: {field:?}", path.display(), i + 1),
        }
    }
    if v.is_empty() {
        bail!("{}: no delay values", path.display());
    }
    v.sort_by(|a, b| a.total_cmp(b));
    Ok(v)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lognormal_median_and_tail() {
        let d = Delay::Lognormal {
            median_ms: 70.0,
            sigma: 0.5,
        };
        assert!((d.quantile_ms(0.5) - 70.0).abs() < 1e-9);
        assert!((d.cdf_ms(d.quantile_ms(0.99)) - 0.99).abs() < 1e-9);
    }

    #[test]
    fn exponential_mean_includes_minimum() {
        let d = Delay::Exponential {
            min_ms: 10.0,
            mean_ms: 50.0,
        };
        assert_eq!(d.quantile_ms(0.0), 10.0);
        assert!((d.quantile_ms(1.0 - (-1f64).exp()) - 50.0).abs() < 1e-9);
    }

    #[test]
    fn empirical_quantile_interpolates_order_statistics() {
        let d = Delay::Empirical {
            file: "x".into(),
            samples_ms: vec![10.0, 20.0, 40.0],
        };
        assert_eq!(d.quantile_ms(0.0), 10.0);
        assert_eq!(d.quantile_ms(0.25), 15.0);
        assert_eq!(d.quantile_ms(1.0), 40.0);
        assert!((d.cdf_ms(30.0) - 0.75).abs() < 1e-12);
    }

    #[test]
    fn delays_beyond_the_representable_maximum_are_refused() {
        let check = |mut d: Delay| d.validate_and_load(Path::new(".")).map_err(|(k, _)| k);
        let logn = |median_ms, sigma| Delay::Lognormal { median_ms, sigma };
        assert_eq!(check(logn(1e12, 0.5)), Err("median_ms".into()));
        assert_eq!(check(logn(70.0, 100.0)), Err("sigma".into()));
        // sigma 2 puts ~2e-8 of the mass beyond 71.6 min: more than the tables' 2^-32 tail.
        assert_eq!(check(logn(70.0, 2.0)), Err("sigma".into()));
        assert_eq!(check(logn(70.0, 1.5)), Ok(()));
        assert_eq!(check(Delay::Constant { ms: 5e6 }), Err("ms".into()));
        assert_eq!(check(Delay::Constant { ms: MAX_DELAY_MS }), Ok(()));
        let uniform = Delay::Uniform {
            min_ms: 0.0,
            max_ms: 1e7,
        };
        assert_eq!(check(uniform), Err("max_ms".into()));
        let exp = Delay::Exponential {
            min_ms: 0.0,
            mean_ms: 2e5,
        };
        assert_eq!(check(exp), Err("mean_ms".into()));
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("d.csv"), "delay_ms\n70\n1e12\n").unwrap();
        let e = load_empirical(&dir.path().join("d.csv")).unwrap_err().to_string();
        assert!(e.contains("d.csv:3:") && e.contains("above the largest"), "{e}");
    }

    #[test]
    fn tables_are_monotone_and_constant_is_exact() {
        let t = Delay::Constant { ms: 100.0 }.table_us();
        assert!(t.iter().all(|&x| x == 100_000));
        let t = Delay::Lognormal {
            median_ms: 70.0,
            sigma: 0.5,
        }
        .table_us();
        assert!(t[..4096].windows(2).all(|w| w[0] <= w[1]));
        assert!(t[4096..8193].windows(2).all(|w| w[0] <= w[1]));
    }
}
