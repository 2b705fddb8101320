//! Shapes and the Pulseq run-length-of-derivative compression (decoding as the toolboxes do).

/// A decompressed shape.
#[derive(Debug, Clone, PartialEq)]
pub struct Shape {
    /// The samples (decompressed).
    pub samples: Vec<f64>,
}

/// Decompresses a packed shape to `num_samples` values; `force` decodes even when the packed
/// length equals `num_samples` (files before 1.4). Errors describe the inconsistency.
pub fn decompress(packed: &[f64], num_samples: usize, force: bool) -> Result<Vec<f64>, String> {
    if !force && packed.len() == num_samples {
        return Ok(packed.to_vec());
    }
    let mut deriv = Vec::with_capacity(num_samples);
    let mut r = 0usize;
    let mut i = 0usize;
    while i + 1 < packed.len() {
        if i >= r && packed[i] == packed[i + 1] {
            let count = *packed
                .get(i + 2)
                .ok_or_else(|| "compressed shape ends inside a run (missing count)".to_string())?;
            if !(count >= 0.0 && count.fract() == 0.0) || count > 1e9 {
                return Err(format!("run count {count} is not a non-negative integer"));
            }
            deriv.extend_from_slice(&packed[r..i]);
            let n = count as usize + 2;
            if deriv.len() + n > num_samples {
                return Err(format!(
                    "decompressed shape exceeds num_samples {num_samples}"
                ));
            }
            deriv.extend(std::iter::repeat_n(packed[i], n));
            r = i + 3;
            i = r;
            continue;
        }
        i += 1;
    }
    if r < packed.len() {
        deriv.extend_from_slice(&packed[r..]);
    }
    if deriv.len() != num_samples {
        return Err(format!(
            "decompressed shape has {} samples, num_samples says {num_samples}",
            deriv.len()
        ));
    }
    let mut acc = 0.0;
    for v in &mut deriv {
        acc += *v;
        *v = acc;
    }
    Ok(deriv)
}

/// Indices of the samples whose magnitude is at least 0.99999 of the peak magnitude: the
/// toolboxes' RF-centre rule takes the mid-point of the first and last of them (the plateau
/// centre for block pulses).
pub fn peak_plateau(magnitudes: &[f64]) -> Vec<usize> {
    let peak = magnitudes.iter().fold(0.0f64, |m, x| m.max(x.abs()));
    (0..magnitudes.len())
        .filter(|&i| magnitudes[i].abs() >= 0.99999 * peak)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spec_examples() {
        assert_eq!(
            decompress(&[0.0, 0.0, 98.0], 100, true).unwrap(),
            vec![0.0; 100]
        );
        assert_eq!(
            decompress(&[1.0, 0.0, 0.0, 97.0], 100, true).unwrap(),
            vec![1.0; 100]
        );
        assert_eq!(
            decompress(&[1.0, 1.0, 3.0], 5, true).unwrap(),
            vec![1.0, 2.0, 3.0, 4.0, 5.0]
        );
        let t = decompress(&[0.5, 1.0, 1.0, 7.0], 10, true).unwrap();
        assert_eq!(t, (0..10).map(|k| k as f64 + 0.5).collect::<Vec<_>>());
        let p = [0.0, 0.1, 0.15, 0.25, 0.5, 0.0, 0.0, 4.0, -0.25, -0.25, 2.0];
        let w = decompress(&p, 15, true).unwrap();
        let e = [
            0.0, 0.1, 0.25, 0.5, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 0.75, 0.5, 0.25, 0.0,
        ];
        for (a, b) in w.iter().zip(e) {
            assert!((a - b).abs() < 1e-12);
        }
        assert_eq!(decompress(&[1.0, 2.0], 2, false).unwrap(), vec![1.0, 2.0]);
        assert!(decompress(&[1.0, 1.0], 5, true).is_err());
        assert!(decompress(&[1.0, 1.0, 3.0], 4, true).is_err());
    }
}
