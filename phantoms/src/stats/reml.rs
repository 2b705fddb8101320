//! Crossed random-effects model y = μ + target + rater + ε fitted by REML on every available
//! cell of a target × rater table: the ICC estimate that keeps the targets that listwise
//! deletion drops (informational; the reference is statsmodels' MixedLM, to ~1e-3).
//!
//! Method: the REML criterion profiled over the error variance, as a function of the variance
//! ratios g_t = σ²_target/σ²_e and g_r = σ²_rater/σ²_e. With Z the random-effect design and
//! D = diag(√g), H = I + Z D² Zᵀ is handled through the small q × q matrix M = I + D Zᵀ Z D
//! (Woodbury; q = targets + raters), so a fit costs O(q³) per evaluation, not O(N³).
//! The ratios are parameterised as g = t² (so the boundary g = 0 is reachable) and found by
//! Nelder–Mead from several starts.

use serde::{Deserialize, Serialize};

use super::icc::RatingTable;

/// REML variance components and the ICCs built from them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RemlFit {
    /// Between-target variance.
    pub var_target: f64,
    /// Between-rater variance.
    pub var_rater: f64,
    /// Residual variance.
    pub var_error: f64,
    /// Absolute agreement, var_target / (var_target + var_rater + var_error).
    pub icc_a1: f64,
    /// Consistency, var_target / (var_target + var_error).
    pub icc_c1: f64,
}

struct Design {
    /// Observations.
    y: Vec<f64>,
    /// Target index of each observation.
    t: Vec<usize>,
    /// Rater index (offset by the number of targets) of each observation.
    r: Vec<usize>,
    /// Number of targets + raters.
    q: usize,
}

/// Cholesky factorisation in place (lower triangle); returns log-determinant or None.
fn cholesky(a: &mut [f64], q: usize) -> Option<f64> {
    let mut logdet = 0.0;
    for j in 0..q {
        let mut d = a[j * q + j];
        for k in 0..j {
            d -= a[j * q + k] * a[j * q + k];
        }
        if d <= 0.0 || !d.is_finite() {
            return None;
        }
        let l = d.sqrt();
        a[j * q + j] = l;
        logdet += 2.0 * l.ln();
        for i in j + 1..q {
            let mut s = a[i * q + j];
            for k in 0..j {
                s -= a[i * q + k] * a[j * q + k];
            }
            a[i * q + j] = s / l;
        }
    }
    Some(logdet)
}

fn chol_solve(l: &[f64], q: usize, b: &mut [f64]) {
    for i in 0..q {
        let mut s = b[i];
        for k in 0..i {
            s -= l[i * q + k] * b[k];
        }
        b[i] = s / l[i * q + i];
    }
    for i in (0..q).rev() {
        let mut s = b[i];
        for k in i + 1..q {
            s -= l[k * q + i] * b[k];
        }
        b[i] = s / l[i * q + i];
    }
}

impl Design {
    /// −2 × profiled REML log-likelihood (up to a constant) at ratios (g_t, g_r), and σ²_e.
    fn criterion(&self, n_targets: usize, gt: f64, gr: f64) -> Option<(f64, f64)> {
        let q = self.q;
        let n = self.y.len();
        let d: Vec<f64> = (0..q)
            .map(|i| if i < n_targets { gt.sqrt() } else { gr.sqrt() })
            .collect();
        // M = I + D ZᵀZ D.
        let mut m = vec![0.0; q * q];
        for i in 0..q {
            m[i * q + i] = 1.0;
        }
        for o in 0..n {
            let (a, b) = (self.t[o], self.r[o]);
            m[a * q + a] += d[a] * d[a];
            m[b * q + b] += d[b] * d[b];
            m[a * q + b] += d[a] * d[b];
            m[b * q + a] += d[a] * d[b];
        }
        let logdet = cholesky(&mut m, q)?;
        // H⁻¹ v = v − Z D M⁻¹ D Zᵀ v; we need 1ᵀH⁻¹1, 1ᵀH⁻¹y, yᵀH⁻¹y.
        let quad = |u: &[f64], v: &[f64]| -> f64 {
            let mut zu = vec![0.0; q];
            let mut zv = vec![0.0; q];
            for o in 0..n {
                zu[self.t[o]] += u[o];
                zu[self.r[o]] += u[o];
                zv[self.t[o]] += v[o];
                zv[self.r[o]] += v[o];
            }
            for i in 0..q {
                zu[i] *= d[i];
                zv[i] *= d[i];
            }
            let mut w = zv.clone();
            chol_solve(&m, q, &mut w);
            let uv: f64 = u.iter().zip(v).map(|(a, b)| a * b).sum();
            uv - zu.iter().zip(&w).map(|(a, b)| a * b).sum::<f64>()
        };
        let ones = vec![1.0; n];
        let a11 = quad(&ones, &ones);
        let a1y = quad(&ones, &self.y);
        let ayy = quad(&self.y, &self.y);
        let rss = ayy - a1y * a1y / a11;
        if !(rss > 0.0 && a11 > 0.0) {
            return None;
        }
        let dof = (n - 1) as f64;
        let sigma2 = rss / dof;
        Some((dof * rss.ln() + logdet + a11.ln(), sigma2))
    }
}

/// Minimises `f` over R² by Nelder–Mead; returns the best point and value.
fn nelder_mead(f: &dyn Fn([f64; 2]) -> f64, start: [f64; 2], step: f64) -> ([f64; 2], f64) {
    let mut s = [
        start,
        [start[0] + step, start[1]],
        [start[0], start[1] + step],
    ];
    let mut v = s.map(f);
    for _ in 0..2000 {
        let mut idx = [0, 1, 2];
        idx.sort_by(|&a, &b| v[a].total_cmp(&v[b]));
        let (b, m, w) = (idx[0], idx[1], idx[2]);
        let spread = (v[w] - v[b]).abs();
        let size = (0..2)
            .map(|c| (s[w][c] - s[b][c]).abs().max((s[m][c] - s[b][c]).abs()))
            .fold(0.0, f64::max);
        if spread < 1e-13 * (1.0 + v[b].abs()) && size < 1e-9 {
            break;
        }
        let c = [(s[b][0] + s[m][0]) / 2.0, (s[b][1] + s[m][1]) / 2.0];
        let at = |t: f64| [c[0] + t * (s[w][0] - c[0]), c[1] + t * (s[w][1] - c[1])];
        let xr = at(-1.0);
        let fr = f(xr);
        if fr < v[b] {
            let xe = at(-2.0);
            let fe = f(xe);
            if fe < fr {
                (s[w], v[w]) = (xe, fe);
            } else {
                (s[w], v[w]) = (xr, fr);
            }
        } else if fr < v[m] {
            (s[w], v[w]) = (xr, fr);
        } else {
            let xc = if fr < v[w] { at(-0.5) } else { at(0.5) };
            let fc = f(xc);
            if fc < v[w].min(fr) {
                (s[w], v[w]) = (xc, fc);
            } else {
                for i in [m, w] {
                    s[i] = [(s[i][0] + s[b][0]) / 2.0, (s[i][1] + s[b][1]) / 2.0];
                    v[i] = f(s[i]);
                }
            }
        }
    }
    let best = (0..3).min_by(|&a, &b| v[a].total_cmp(&v[b])).unwrap_or(0);
    (s[best], v[best])
}

/// Fits the crossed model on every available cell; `None` when it is not identifiable
/// (fewer than 2 targets or raters with data, or no residual degrees of freedom).
pub fn fit_crossed(table: &RatingTable) -> Option<RemlFit> {
    let k = table.k;
    let nt = table.targets.len();
    let mut design = Design {
        y: Vec::new(),
        t: Vec::new(),
        r: Vec::new(),
        q: nt + k,
    };
    for i in 0..nt {
        for j in 0..k {
            if let Some(v) = table.cells[i * k + j] {
                design.y.push(v);
                design.t.push(i);
                design.r.push(nt + j);
            }
        }
    }
    let n = design.y.len();
    if n < 4 || nt < 2 || k < 2 {
        return None;
    }
    // Centre and scale so the ratios are O(1) whatever the units.
    let mean = design.y.iter().sum::<f64>() / n as f64;
    let sd = (design.y.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1) as f64).sqrt();
    if sd.is_nan() || sd <= 0.0 {
        return None;
    }
    for v in &mut design.y {
        *v = (*v - mean) / sd;
    }
    let objective = |p: [f64; 2]| {
        design
            .criterion(nt, p[0] * p[0], p[1] * p[1])
            .map_or(f64::INFINITY, |c| c.0)
    };
    let mut best: Option<([f64; 2], f64)> = None;
    for start in [
        [1.0, 1.0],
        [0.3, 0.3],
        [3.0, 0.3],
        [0.3, 3.0],
        [1.0, 0.05],
        [0.05, 1.0],
    ] {
        let (p, v) = nelder_mead(&objective, start, 0.2);
        // Restart once from the optimum to shake off a collapsed simplex.
        let (p, v) = {
            let (p2, v2) = nelder_mead(&objective, p, 0.05);
            if v2 <= v { (p2, v2) } else { (p, v) }
        };
        if best.is_none_or(|(_, bv)| v < bv) {
            best = Some((p, v));
        }
    }
    let (p, v) = best?;
    if !v.is_finite() {
        return None;
    }
    let (gt, gr) = (p[0] * p[0], p[1] * p[1]);
    let (_, sigma2) = design.criterion(nt, gt, gr)?;
    let scale = sd * sd;
    let var_error = sigma2 * scale;
    let var_target = gt * sigma2 * scale;
    let var_rater = gr * sigma2 * scale;
    Some(RemlFit {
        var_target,
        var_rater,
        var_error,
        icc_a1: var_target / (var_target + var_rater + var_error),
        icc_c1: var_target / (var_target + var_error),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// On a balanced table REML equals the ANOVA (method-of-moments) components when those
    /// are positive: σ²_e = MS_E, σ²_t = (MS_R − MS_E)/k, σ²_r = (MS_C − MS_E)/n.
    #[test]
    fn balanced_reml_equals_anova_components() {
        let rows: [[f64; 3]; 5] = [
            [10.0, 12.0, 11.5],
            [14.0, 15.5, 15.0],
            [9.0, 11.0, 10.2],
            [20.0, 21.5, 22.0],
            [16.0, 17.0, 18.1],
        ];
        let table = RatingTable {
            targets: (0..5).map(|i| format!("s{i}")).collect(),
            k: 3,
            cells: rows.iter().flatten().map(|&v| Some(v)).collect(),
        };
        let fit = fit_crossed(&table).unwrap();
        let b = super::super::icc::icc_block(&table, "subject", "site");
        let a = b.estimates.unwrap().anova;
        let (n, k) = (5.0, 3.0);
        let rel = |x: f64, y: f64| ((x - y) / y).abs();
        assert!(
            rel(fit.var_error, a.ms_error) < 1e-6,
            "{} {}",
            fit.var_error,
            a.ms_error
        );
        assert!(rel(fit.var_target, (a.ms_rows - a.ms_error) / k) < 1e-6);
        assert!(rel(fit.var_rater, (a.ms_cols - a.ms_error) / n) < 1e-6);
    }
}
