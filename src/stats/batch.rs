//! Batch-means estimators: rounds within a replica are correlated, so confidence intervals
//! come from per-batch sums (the `BATCHES` batches of the aggregate array), which are
//! independent; plus Student's t quantile and histogram percentiles.

use ictwin_kernels::agg::{batch_index, BATCHES};
use statrs::distribution::{ContinuousCDF, StudentsT};

/// Per-batch values of aggregate field `f` (one of the `agg::F_*` offsets), one per batch.
pub fn batch_field(a: &[u64], f: u32) -> Vec<f64> {
    (0..BATCHES).map(|b| a[batch_index(b, f)] as f64).collect()
}

/// Half-width of the 95% CI of the ratio estimator sum(y)/sum(x) over batches with x > 0:
/// t_{0.975, B-1} * sqrt(sum_b (y_b - R x_b)^2 / (B (B-1) xbar^2)). NaN with fewer than 2
/// batches. Batches hold whole replicas (or consecutive segments of one), so batch means are
/// independent although rounds within a replica are correlated.
pub fn ratio_ci95(y: &[f64], x: &[f64]) -> f64 {
    let pairs: Vec<(f64, f64)> = y
        .iter()
        .zip(x)
        .filter(|(_, &x)| x > 0.0)
        .map(|(&y, &x)| (y, x))
        .collect();
    let b = pairs.len();
    if b < 2 {
        return f64::NAN;
    }
    let sy: f64 = pairs.iter().map(|p| p.0).sum();
    let sx: f64 = pairs.iter().map(|p| p.1).sum();
    let r = sy / sx;
    let xbar = sx / b as f64;
    let ss: f64 = pairs.iter().map(|(y, x)| (y - r * x).powi(2)).sum();
    let var = ss / (b as f64 * (b as f64 - 1.0) * xbar * xbar);
    t975(b - 1) * var.sqrt()
}

/// Standard error of the batch-means ratio estimate sum(y)/sum(x): the 95% CI half-width of
/// [`ratio_ci95`] over its t quantile. NaN with fewer than 2 batches with x > 0.
pub fn ratio_se(y: &[f64], x: &[f64]) -> f64 {
    let b = x.iter().filter(|&&v| v > 0.0).count();
    if b < 2 {
        return f64::NAN;
    }
    ratio_ci95(y, x) / t975(b - 1)
}

/// 0.975 quantile of Student's t with `dof` degrees of freedom.
pub fn t975(dof: usize) -> f64 {
    StudentsT::new(0.0, 1.0, dof as f64)
        .map(|t| t.inverse_cdf(0.975))
        .unwrap_or(f64::NAN)
}

/// Lower edge of the bin holding the q-quantile of a histogram (`edges(bin)` -> lower edge).
pub fn hist_quantile(counts: &[u64], q: f64, lower_edge: impl Fn(usize) -> f64) -> f64 {
    let total: u64 = counts.iter().sum();
    if total == 0 {
        return f64::NAN;
    }
    let target = ((q * total as f64).ceil() as u64).max(1);
    let mut cum = 0;
    for (i, &c) in counts.iter().enumerate() {
        cum += c;
        if cum >= target {
            return lower_edge(i);
        }
    }
    f64::NAN
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ratio_ci_matches_iid_formula_for_equal_batches() {
        // Equal x: the CI is t * sd(y)/sqrt(B).
        let y = [1.0, 2.0, 3.0, 4.0];
        let x = [1.0; 4];
        let sd = (((1.5f64.powi(2) + 0.5f64.powi(2)) * 2.0) / 3.0).sqrt();
        assert!((ratio_ci95(&y, &x) - t975(3) * sd / 2.0).abs() < 1e-12);
        assert!(ratio_ci95(&[1.0], &[1.0]).is_nan());
    }

    #[test]
    fn t_quantile_is_right() {
        assert!((t975(10) - 2.228138851964).abs() < 1e-6);
    }

    #[test]
    fn quantile_of_histogram() {
        let h = [0, 5, 0, 5];
        assert_eq!(hist_quantile(&h, 0.5, |i| i as f64), 1.0);
        assert_eq!(hist_quantile(&h, 0.51, |i| i as f64), 3.0);
        assert_eq!(hist_quantile(&h, 0.99, |i| i as f64), 3.0);
    }
}
