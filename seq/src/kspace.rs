//! k-space trajectory at the ADC samples, integrating the piecewise-linear gradient waveforms
//! of [`crate::waveforms`] exactly (piecewise-quadratic integral) in `f64` from integer ns.
//!
//! ADC sample `i` lies at block start + ADC delay + `(i+0.5)·dwell`. RF pulses act at block
//! start + RF delay + RF centre ([`Sequence::rf_center`]): use `e` (and `u`, the only use of
//! files <1.5, which pypulseq 1.5 also treats as excitation) resets k to 0, use `r` negates it;
//! other uses leave k unchanged. k is in 1/m (gradient in Hz/m times seconds).

use crate::sequence::Sequence;
use crate::waveforms::{Waveform, gradient_waveforms};

/// k-space at the ADC samples and the RF event times of a sequence.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct KSpace {
    /// ADC sample times in seconds.
    pub t_adc: Vec<f64>,
    /// k `[kx, ky, kz]` (1/m) at each ADC sample.
    pub k_adc: Vec<[f64; 3]>,
    /// Excitation times in seconds.
    pub t_excitation: Vec<f64>,
    /// Refocusing times in seconds.
    pub t_refocusing: Vec<f64>,
    /// Largest |k| per axis over the whole trajectory (waveform corners, RF events, ADC samples).
    pub k_max_abs: [f64; 3],
}

/// What happens at an instant.
#[derive(Clone, Copy)]
enum Ev {
    Excite,
    Refocus,
    Adc,
    Corner,
}

/// Running integral of one waveform at non-decreasing query times.
struct Integrator<'a> {
    w: &'a Waveform,
    cum: Vec<f64>,
    i: usize,
}

impl<'a> Integrator<'a> {
    fn new(w: &'a Waveform) -> Self {
        Integrator {
            w,
            cum: w.cumulative(),
            i: 0,
        }
    }

    /// ∫₀ᵗ g (1/m) for `t_ns` not smaller than the previous query.
    fn at(&mut self, t_ns: f64) -> f64 {
        let (t, g) = (&self.w.t, &self.w.g);
        let n = t.len();
        if n == 0 || t_ns <= t[0] {
            return 0.0;
        }
        while self.i + 1 < n && t[self.i + 1] <= t_ns {
            self.i += 1;
        }
        let i = self.i;
        if i + 1 >= n {
            return self.cum[n - 1];
        }
        let (ta, tb, ga, gb) = (t[i], t[i + 1], g[i], g[i + 1]);
        let dt = t_ns - ta;
        let gt = ga + (gb - ga) * dt / (tb - ta);
        self.cum[i] + dt * (ga + gt) * 0.5e-9
    }
}

/// Computes k at every ADC sample with resets at excitations and negations at refocusings.
pub fn calculate_kspace(seq: &Sequence) -> KSpace {
    let waves = gradient_waveforms(seq);
    kspace_from_waveforms(seq, &waves)
}

/// As [`calculate_kspace`], with waveforms already computed by [`gradient_waveforms`].
pub fn kspace_from_waveforms(seq: &Sequence, waves: &[Waveform; 3]) -> KSpace {
    let starts = seq.block_starts();
    let mut evs: Vec<(f64, Ev)> = Vec::new();
    for (b, s) in seq.blocks.iter().zip(&starts) {
        if let Some(rf) = seq.rf.get(&b.rf) {
            let t = (*s + rf.delay + seq.rf_center(rf)).0 as f64;
            match rf.use_ {
                'e' | 'u' => evs.push((t, Ev::Excite)),
                'r' => evs.push((t, Ev::Refocus)),
                _ => {}
            }
        }
        if let Some(a) = seq.adc.get(&b.adc) {
            let t0 = (*s + a.delay).0 as f64;
            let dw = a.dwell.0 as f64;
            evs.extend((0..a.num).map(|i| (t0 + (i as f64 + 0.5) * dw, Ev::Adc)));
        }
    }
    for w in waves {
        evs.extend(w.t.iter().map(|&t| (t, Ev::Corner)));
    }
    // Stable: an RF event before an ADC sample at the same instant (block order otherwise).
    evs.sort_by(|a, b| a.0.total_cmp(&b.0));
    let mut integ = waves.each_ref().map(Integrator::new);
    let mut out = KSpace::default();
    // k at the last reference instant and the running integral there.
    let mut k_ref = [0.0f64; 3];
    let mut int_ref = [0.0f64; 3];
    for (t, ev) in evs {
        let int_t: [f64; 3] = [0, 1, 2].map(|a| integ[a].at(t));
        let k: [f64; 3] = [0, 1, 2].map(|a| k_ref[a] + (int_t[a] - int_ref[a]));
        for (m, x) in out.k_max_abs.iter_mut().zip(k) {
            *m = m.max(x.abs());
        }
        match ev {
            Ev::Excite => {
                k_ref = [0.0; 3];
                int_ref = int_t;
                out.t_excitation.push(t * 1e-9);
            }
            Ev::Refocus => {
                k_ref = k.map(|x| -x);
                int_ref = int_t;
                out.t_refocusing.push(t * 1e-9);
            }
            Ev::Adc => {
                out.t_adc.push(t * 1e-9);
                out.k_adc.push(k);
            }
            Ev::Corner => {}
        }
    }
    out
}
