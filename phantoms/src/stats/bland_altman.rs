//! Bland–Altman agreement of two sites: bias, SD of the differences, 95 % limits of agreement,
//! their t-based CIs (Bland & Altman 1986; LoA CI with the √(3 s²/n) approximation that
//! pingouin's plot uses), and the one-sample t test of the bias.

use serde::{Deserialize, Serialize};

use super::descriptive::{mean, sample_sd};
use super::dist;

/// Whether the statistics are defined.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BaStatus {
    /// At least two pairs.
    Ok,
    /// Fewer than two pairs.
    Undefined,
}

/// Statistics that need at least two pairs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BaSpread {
    /// SD of the differences (n − 1).
    pub sd_diff: f64,
    /// bias − 1.96 SD.
    pub loa_lower: f64,
    /// bias + 1.96 SD.
    pub loa_upper: f64,
    /// 95 % CI of the bias.
    pub bias_ci95: [Option<f64>; 2],
    /// 95 % CI of the lower limit.
    pub loa_lower_ci95: [Option<f64>; 2],
    /// 95 % CI of the upper limit.
    pub loa_upper_ci95: [Option<f64>; 2],
    /// bias / (SD/√n); null when SD = 0.
    pub t_bias: Option<f64>,
    /// Two-sided p-value of `t_bias`; null when SD = 0.
    pub pval_bias: Option<f64>,
}

/// Bland–Altman statistics of one set of differences.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BlandAltman {
    /// Number of pairs.
    pub n: usize,
    /// `ok` or `undefined`.
    pub status: BaStatus,
    /// Why undefined.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Mean difference (null without pairs).
    pub bias: Option<f64>,
    /// Spread statistics (absent with fewer than two pairs).
    #[serde(flatten, default, skip_serializing_if = "Option::is_none")]
    pub spread: Option<BaSpread>,
}

/// One pair of sites, with absolute and percent differences (site_a − site_b).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BaPair {
    /// The first site (byte-wise smaller).
    pub site_a: String,
    /// The second site.
    pub site_b: String,
    /// Always `site_a - site_b`.
    pub difference: String,
    /// d = x_a − x_b.
    pub absolute: BlandAltman,
    /// d = 100 (x_a − x_b) / |(x_a + x_b)/2|.
    pub percent: BlandAltman,
    /// The paired values (x_a, x_b) behind both blocks, for plots; not serialised.
    #[serde(skip)]
    pub pairs: Vec<(f64, f64)>,
}

fn finite(x: f64) -> Option<f64> {
    x.is_finite().then_some(x)
}

/// Bland–Altman statistics of the differences `d`.
pub fn bland_altman(d: &[f64]) -> BlandAltman {
    let n = d.len();
    let bias = (n > 0).then(|| mean(d));
    if n < 2 {
        return BlandAltman {
            n,
            status: BaStatus::Undefined,
            reason: Some("fewer_than_2_pairs".into()),
            bias,
            spread: None,
        };
    }
    let b = mean(d);
    let sd = sample_sd(d);
    let nf = n as f64;
    let tq = dist::t_quantile(0.975, nf - 1.0);
    let se_bias = (sd * sd / nf).sqrt();
    let se_loa = (3.0 * sd * sd / nf).sqrt();
    let lo = b - 1.96 * sd;
    let hi = b + 1.96 * sd;
    let ci = |c: f64, se: f64| [finite(c - tq * se), finite(c + tq * se)];
    let (t, p) = if sd > 0.0 {
        let t = b / se_bias;
        (finite(t), finite(dist::t_two_sided_p(t, nf - 1.0)))
    } else {
        (None, None)
    };
    BlandAltman {
        n,
        status: BaStatus::Ok,
        reason: None,
        bias: Some(b),
        spread: Some(BaSpread {
            sd_diff: sd,
            loa_lower: lo,
            loa_upper: hi,
            bias_ci95: ci(b, se_bias),
            loa_lower_ci95: ci(lo, se_loa),
            loa_upper_ci95: ci(hi, se_loa),
            t_bias: t,
            pval_bias: p,
        }),
    }
}

/// Both Bland–Altman blocks of a site pair from its paired values (x_a, x_b).
pub fn site_pair(site_a: &str, site_b: &str, pairs: Vec<(f64, f64)>) -> BaPair {
    let abs: Vec<f64> = pairs.iter().map(|(a, b)| a - b).collect();
    let pct: Vec<f64> = pairs
        .iter()
        .filter(|(a, b)| (a + b) != 0.0)
        .map(|(a, b)| 100.0 * (a - b) / ((a + b) / 2.0).abs())
        .collect();
    BaPair {
        site_a: site_a.into(),
        site_b: site_b.into(),
        difference: "site_a - site_b".into(),
        absolute: bland_altman(&abs),
        percent: bland_altman(&pct),
        pairs,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zero_spread_has_null_test() {
        let b = bland_altman(&[0.0, 0.0, 0.0]);
        let s = b.spread.unwrap();
        assert_eq!((s.sd_diff, s.t_bias, s.pval_bias), (0.0, None, None));
        assert_eq!(s.bias_ci95, [Some(0.0), Some(0.0)]);
    }

    #[test]
    fn single_pair_is_undefined_with_bias() {
        let b = bland_altman(&[2.5]);
        assert_eq!(
            (b.status, b.bias, b.spread.is_none()),
            (BaStatus::Undefined, Some(2.5), true)
        );
    }

    /// Known case: d = 1..=5: bias 3, sd √2.5, t = 3/√0.5.
    #[test]
    fn textbook_numbers() {
        let b = bland_altman(&[1.0, 2.0, 3.0, 4.0, 5.0]);
        let s = b.spread.unwrap();
        assert!((s.sd_diff - 2.5f64.sqrt()).abs() < 1e-15);
        assert!((s.t_bias.unwrap() - 3.0 / 0.5f64.sqrt()).abs() < 1e-12);
    }
}
