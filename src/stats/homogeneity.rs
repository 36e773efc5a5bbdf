//! Two-sample tests on aggregates of the same layout: chi-square homogeneity of counts,
//! Kolmogorov-Smirnov on shared histogram bins, and normal p-values.

use statrs::distribution::{ChiSquared, ContinuousCDF, Normal};

/// Two-sided p-value of a standard normal statistic.
pub fn normal_p(z: f64) -> f64 {
    if z.is_nan() {
        return f64::NAN;
    }
    2.0 * Normal::standard().sf(z.abs())
}

/// Chi-square test of homogeneity of two count vectors over the same categories. Categories
/// are pooled from the top until each pooled cell expects at least 5 in both samples.
/// Returns (statistic, degrees of freedom, p-value).
pub fn chi_square_homogeneity(a: &[u64], b: &[u64]) -> (f64, usize, f64) {
    let (na, nb) = (a.iter().sum::<u64>() as f64, b.iter().sum::<u64>() as f64);
    if na == 0.0 || nb == 0.0 {
        return (f64::NAN, 0, f64::NAN);
    }
    let mut cells: Vec<(f64, f64)> = Vec::new();
    let (mut ca, mut cb) = (0.0, 0.0);
    for (x, y) in a.iter().zip(b) {
        ca += *x as f64;
        cb += *y as f64;
        let tot = ca + cb;
        if tot * na / (na + nb) >= 5.0 && tot * nb / (na + nb) >= 5.0 {
            cells.push((ca, cb));
            ca = 0.0;
            cb = 0.0;
        }
    }
    if ca + cb > 0.0 {
        match cells.last_mut() {
            Some(last) => {
                last.0 += ca;
                last.1 += cb;
            }
            None => cells.push((ca, cb)),
        }
    }
    if cells.len() < 2 {
        return (0.0, 0, 1.0);
    }
    let n = na + nb;
    let mut chi2 = 0.0;
    for (x, y) in &cells {
        let t = x + y;
        let (ea, eb) = (t * na / n, t * nb / n);
        chi2 += (x - ea).powi(2) / ea + (y - eb).powi(2) / eb;
    }
    let dof = cells.len() - 1;
    let p = ChiSquared::new(dof as f64).map(|c| c.sf(chi2)).unwrap_or(f64::NAN);
    (chi2, dof, p)
}

/// Two-sample Kolmogorov-Smirnov on histograms over the same bins: (distance, p-value with
/// the asymptotic Kolmogorov distribution at n = n_a n_b / (n_a + n_b)).
pub fn ks_binned(a: &[u64], b: &[u64]) -> (f64, f64) {
    let (na, nb) = (a.iter().sum::<u64>() as f64, b.iter().sum::<u64>() as f64);
    if na == 0.0 || nb == 0.0 {
        return (f64::NAN, f64::NAN);
    }
    let (mut fa, mut fb, mut d) = (0.0, 0.0, 0.0f64);
    for (x, y) in a.iter().zip(b) {
        fa += *x as f64 / na;
        fb += *y as f64 / nb;
        d = d.max((fa - fb).abs());
    }
    let ne = na * nb / (na + nb);
    (d, kolmogorov_sf((ne.sqrt() + 0.12 + 0.11 / ne.sqrt()) * d))
}

/// P(K > x) for the Kolmogorov distribution.
pub fn kolmogorov_sf(x: f64) -> f64 {
    if x < 0.2 {
        return 1.0;
    }
    let mut s = 0.0;
    for k in 1..=100 {
        let term = (-2.0 * (k * k) as f64 * x * x).exp();
        s += if k % 2 == 1 { term } else { -term };
        if term < 1e-16 {
            break;
        }
    }
    (2.0 * s).clamp(0.0, 1.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kolmogorov_distribution_known_values() {
        // Q_KS(1.36) ~ 0.049, Q_KS(1.63) ~ 0.0098.
        assert!((kolmogorov_sf(1.358) - 0.05).abs() < 1e-3);
        assert!((kolmogorov_sf(1.628) - 0.01).abs() < 5e-4);
        assert_eq!(kolmogorov_sf(0.1), 1.0);
    }

    #[test]
    fn chi_square_detects_difference_and_accepts_equal() {
        let a = [500u64, 300, 150, 50];
        let (_, dof, p) = chi_square_homogeneity(&a, &a);
        assert_eq!(dof, 3);
        assert!(p > 0.99);
        let b = [400u64, 300, 200, 100];
        assert!(chi_square_homogeneity(&a, &b).2 < 1e-6);
    }

    #[test]
    fn binned_ks_distance() {
        let (d, p) = ks_binned(&[10, 0, 0], &[0, 0, 10]);
        assert_eq!(d, 1.0);
        assert!(p < 0.01);
        let (d, p) = ks_binned(&[5, 5], &[50, 50]);
        assert_eq!(d, 0.0);
        assert_eq!(p, 1.0);
    }
}
