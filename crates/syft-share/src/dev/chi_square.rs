//! Chi-square tests on byte histograms, for statistical privacy tests.
//!
//! The privacy claim "a party's view is independent of the secret" is tested by
//! collecting the bytes a party sees (its shares, the messages it receives) for two
//! different secrets, histogramming them, and running a two-sample chi-square test of
//! homogeneity ([`chi_square_homogeneity`]); [`chi_square_uniform`] tests one histogram
//! against the uniform distribution. Histograms can be *positional*
//! ([`positional_byte_histogram`]): the cell is (byte position within a word, byte value),
//! so a leak confined to, say, the top byte of each `u64` is not diluted by the others.
//!
//! P-values come from the regularized upper incomplete gamma function,
//! `p = Q(df/2, χ²/2)`, accurate to about 1e-12 for the sizes used here.

use crate::error::{Result, ShareError};

/// The outcome of a chi-square test.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ChiSquare {
    /// The statistic Σ (observed − expected)² / expected.
    pub statistic: f64,
    /// Degrees of freedom.
    pub degrees_of_freedom: usize,
    /// Probability of a statistic at least this large under the null hypothesis.
    pub p_value: f64,
}

impl ChiSquare {
    /// Whether the data are consistent with the null hypothesis at significance `alpha`
    /// (i.e. `p_value ≥ alpha`).
    #[must_use]
    pub fn accepts(&self, alpha: f64) -> bool {
        self.p_value >= alpha
    }
}

/// Counts of each byte value (256 cells).
#[must_use]
pub fn byte_histogram(bytes: &[u8]) -> Vec<u64> {
    positional_byte_histogram(bytes, 1)
}

/// Counts per (position within a `width`-byte word, byte value): cell
/// `(i % width) · 256 + bytes[i]`, `256 · width` cells. Use `width = 8` for `u64` data.
/// A `width` of 0 is treated as 1.
#[must_use]
pub fn positional_byte_histogram(bytes: &[u8], width: usize) -> Vec<u64> {
    let width = width.max(1);
    let mut h = vec![0u64; 256 * width];
    for (i, &b) in bytes.iter().enumerate() {
        h[(i % width) * 256 + usize::from(b)] += 1;
    }
    h
}

/// Goodness of fit of `counts` to the uniform distribution over its cells
/// (`cells − 1` degrees of freedom).
pub fn chi_square_uniform(counts: &[u64]) -> Result<ChiSquare> {
    let total: u64 = counts.iter().sum();
    if counts.len() < 2 || total == 0 {
        return Err(ShareError::InvalidArgument {
            op: "chi_square_uniform",
            reason: format!(
                "need at least 2 cells and 1 observation, got {} cells, {total} observations",
                counts.len()
            ),
        });
    }
    let expected = total as f64 / counts.len() as f64;
    let statistic = counts.iter().map(|&c| (c as f64 - expected).powi(2) / expected).sum();
    Ok(finish(statistic, counts.len() - 1))
}

/// Two-sample test of homogeneity: were histograms `a` and `b` (same cells) drawn from the
/// same distribution? Cells empty in both are dropped; `cells − 1` degrees of freedom.
pub fn chi_square_homogeneity(a: &[u64], b: &[u64]) -> Result<ChiSquare> {
    let invalid = |reason: String| ShareError::InvalidArgument { op: "chi_square_homogeneity", reason };
    if a.len() != b.len() {
        return Err(invalid(format!("histograms have {} and {} cells", a.len(), b.len())));
    }
    let (na, nb): (u64, u64) = (a.iter().sum(), b.iter().sum());
    if na == 0 || nb == 0 {
        return Err(invalid("a histogram is empty".into()));
    }
    let n = (na + nb) as f64;
    let (fa, fb) = (na as f64 / n, nb as f64 / n);
    let mut statistic = 0.0;
    let mut cells = 0usize;
    for (&x, &y) in a.iter().zip(b) {
        let col = (x + y) as f64;
        if col == 0.0 {
            continue;
        }
        cells += 1;
        let (ea, eb) = (col * fa, col * fb);
        statistic += (x as f64 - ea).powi(2) / ea + (y as f64 - eb).powi(2) / eb;
    }
    if cells < 2 {
        return Err(invalid(format!("only {cells} non-empty cells")));
    }
    Ok(finish(statistic, cells - 1))
}

/// Compares two byte streams (e.g. a party's view under two secrets) with a positional
/// histogram of `width`-byte words (8 for `u64`) and [`chi_square_homogeneity`].
pub fn views_indistinguishable(a: &[u8], b: &[u8], width: usize) -> Result<ChiSquare> {
    chi_square_homogeneity(&positional_byte_histogram(a, width), &positional_byte_histogram(b, width))
}

fn finish(statistic: f64, degrees_of_freedom: usize) -> ChiSquare {
    let p_value = gamma_q(degrees_of_freedom as f64 / 2.0, statistic / 2.0);
    ChiSquare { statistic, degrees_of_freedom, p_value }
}

/// `ln Γ(x)` for `x > 0` (Lanczos, g = 7, n = 9).
fn ln_gamma(x: f64) -> f64 {
    const G: f64 = 7.0;
    const C: [f64; 9] = [
        0.999_999_999_999_809_9,
        676.520_368_121_885_1,
        -1_259.139_216_722_402_8,
        771.323_428_777_653_1,
        -176.615_029_162_140_6,
        12.507_343_278_686_905,
        -0.138_571_095_265_720_12,
        9.984_369_578_019_572e-6,
        1.505_632_735_149_311_6e-7,
    ];
    if x < 0.5 {
        // Reflection: Γ(x) Γ(1 − x) = π / sin(πx).
        return (std::f64::consts::PI / (std::f64::consts::PI * x).sin()).ln() - ln_gamma(1.0 - x);
    }
    let x = x - 1.0;
    let mut a = C[0];
    let t = x + G + 0.5;
    for (i, &c) in C.iter().enumerate().skip(1) {
        a += c / (x + i as f64);
    }
    0.5 * (2.0 * std::f64::consts::PI).ln() + (x + 0.5) * t.ln() - t + a.ln()
}

/// The regularized upper incomplete gamma function `Q(a, x) = Γ(a, x) / Γ(a)`.
fn gamma_q(a: f64, x: f64) -> f64 {
    if x <= 0.0 {
        return 1.0;
    }
    let log_prefactor = -x + a * x.ln() - ln_gamma(a);
    if x < a + 1.0 {
        // Series for P(a, x).
        let (mut ap, mut del) = (a, 1.0 / a);
        let mut sum = del;
        for _ in 0..10_000 {
            ap += 1.0;
            del *= x / ap;
            sum += del;
            if del.abs() < sum.abs() * 1e-16 {
                break;
            }
        }
        (1.0 - sum * log_prefactor.exp()).clamp(0.0, 1.0)
    } else {
        // Continued fraction for Q(a, x) (modified Lentz).
        const TINY: f64 = 1e-300;
        let mut b = x + 1.0 - a;
        let mut c = 1.0 / TINY;
        let mut d = 1.0 / b;
        let mut h = d;
        for i in 1..10_000 {
            let an = -(i as f64) * (i as f64 - a);
            b += 2.0;
            d = an * d + b;
            if d.abs() < TINY {
                d = TINY;
            }
            c = b + an / c;
            if c.abs() < TINY {
                c = TINY;
            }
            d = 1.0 / d;
            let del = d * c;
            h *= del;
            if (del - 1.0).abs() < 1e-16 {
                break;
            }
        }
        (log_prefactor.exp() * h).clamp(0.0, 1.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn p_values_match_known_quantiles() {
        // df = 2: Q(1, x/2) = exp(−x/2).
        assert!((finish(2.0, 2).p_value - (-1.0f64).exp()).abs() < 1e-12);
        // Tabulated critical values: df = 1 at α = 0.05 is 3.841459; df = 255 at α = 0.001 is 330.519;
        // df = 2047 at α = 0.001 is about 2250.45 (Wilson–Hilferty, relative error < 1e-4 there).
        assert!((finish(3.841_459, 1).p_value - 0.05).abs() < 1e-6);
        assert!((finish(330.519, 255).p_value - 0.001).abs() < 2e-5);
        let p = finish(2250.45, 2047).p_value;
        assert!((p - 0.001).abs() < 5e-5, "{p}");
        assert!((finish(255.0, 256).p_value - 0.5).abs() < 0.03);
        assert!((ln_gamma(5.0) - 24f64.ln()).abs() < 1e-12);
        assert!((ln_gamma(0.5) - std::f64::consts::PI.sqrt().ln()).abs() < 1e-12);
    }

    #[test]
    fn tests_detect_and_accept() {
        let flat = vec![100u64; 256];
        let c = chi_square_uniform(&flat).unwrap();
        assert_eq!(c.statistic, 0.0);
        assert!(c.accepts(0.999));
        let mut skewed = flat.clone();
        skewed[0] += 2000;
        assert!(!chi_square_uniform(&skewed).unwrap().accepts(0.001));
        assert!(!chi_square_homogeneity(&flat, &skewed).unwrap().accepts(0.001));
        assert!(chi_square_homogeneity(&flat, &flat).unwrap().accepts(0.999));
        assert!(chi_square_uniform(&[]).is_err());
        assert!(chi_square_homogeneity(&[1, 2], &[1]).is_err());
        assert!(chi_square_homogeneity(&[0, 0], &[0, 0]).is_err());
        assert_eq!(positional_byte_histogram(&[1, 2, 1, 2], 2)[256 + 2], 2);
    }
}
