//! How a set of values is spread: min, median, 90th percentile and max, for effect sizes
//! (relative errors, KS distances) collected across many scenarios.

/// The q-quantile (q in [0, 1]) of `sorted` (ascending, no NaN), interpolating linearly
/// between order statistics at position q (len - 1) (Hyndman-Fan type 7, as numpy's
/// default); NaN when empty or q is outside [0, 1].
pub fn quantile(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() || !(0.0..=1.0).contains(&q) {
        return f64::NAN;
    }
    let h = (sorted.len() - 1) as f64 * q;
    let lo = h.floor() as usize;
    let hi = (lo + 1).min(sorted.len() - 1);
    sorted[lo] + (h - lo as f64) * (sorted[hi] - sorted[lo])
}

/// Spread of a set of values; every field NaN (and `count` 0) when the set is empty.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Spread {
    /// Number of finite values summarized (NaN values are left out).
    pub count: usize,
    /// Smallest value.
    pub min: f64,
    /// Median (type-7 quantile 0.5).
    pub median: f64,
    /// 90th percentile (type-7 quantile 0.9).
    pub p90: f64,
    /// Largest value.
    pub max: f64,
}

impl Spread {
    /// The spread of the finite values among `values` (NaN and infinities are left out).
    pub fn of(values: impl IntoIterator<Item = f64>) -> Self {
        let mut v: Vec<f64> = values.into_iter().filter(|x| x.is_finite()).collect();
        v.sort_by(|a, b| a.total_cmp(b));
        Spread {
            count: v.len(),
            min: v.first().copied().unwrap_or(f64::NAN),
            median: quantile(&v, 0.5),
            p90: quantile(&v, 0.9),
            max: v.last().copied().unwrap_or(f64::NAN),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantiles_interpolate_order_statistics() {
        let v = [1.0, 2.0, 3.0, 4.0, 5.0];
        assert_eq!(quantile(&v, 0.5), 3.0);
        assert!((quantile(&v, 0.9) - 4.6).abs() < 1e-12);
        assert_eq!(quantile(&v, 0.0), 1.0);
        assert_eq!(quantile(&v, 1.0), 5.0);
        assert!(quantile(&[], 0.5).is_nan());
        assert!(quantile(&v, 1.5).is_nan());
    }

    #[test]
    fn spread_skips_nan_and_sorts() {
        let s = Spread::of([3.0, f64::NAN, 1.0, 2.0]);
        assert_eq!(s.count, 3);
        assert_eq!((s.min, s.median, s.max), (1.0, 2.0, 3.0));
        assert!((s.p90 - 2.8).abs() < 1e-12);
        let e = Spread::of([]);
        assert_eq!(e.count, 0);
        assert!(e.min.is_nan() && e.median.is_nan() && e.p90.is_nan() && e.max.is_nan());
    }
}
