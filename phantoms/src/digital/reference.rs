//! Reference T1/T2 of the NIST/ISMRM system phantom's relaxation arrays, by phantom batch,
//! field strength and temperature.
//!
//! Sources (see also `shared/docs/phantoms.md`, section 5):
//! - **Batch 2** (serial ≥ 130-0042): NIST NMR measurements at 3.00672 T, every 2 °C from 16 to
//!   26 °C, as redistributed by MR-BIAS (JamesCKorte/mrbias, BSD-3-Clause,
//!   `mrbias/roi_reference_values/caliber_system_phantom/batch2_sn_gte_130-0042/
//!   T{1,2}-Batch2_3T_dl-20210726.csv`). The 20 °C column is the table of phantoms.md and the
//!   `ref_value` of `shared/ref/stats/nist_t1_4scanners_2sessions.csv`. Linear interpolation
//!   between the tabulated temperatures. No 1.5 T values (MR-BIAS's 1.5 T files are
//!   extrapolations and are not included).
//! - **Batch 1** (serial ≤ 130-0041), 20 °C only, at 1.5 T and 3 T, as hazen tabulates it
//!   (GSTT-CSC/hazen `hazenlib/relaxometry_params.py`): plate 5 (T1 array) T1 and T2, plate 4
//!   (T2 array) T1 and T2. The T1-array T1 values are the `ref_value` of
//!   `shared/ref/stats/real_hazen_t1_plate5_5sites.csv`. For the T2 array, hazen's 1.5 T / 3 T
//!   labelling is kept (MR-BIAS swaps them; phantoms.md explains why hazen's is the right one).

use serde::Serialize;

use super::grid::invalid;
use crate::Result;

/// Production batch of the phantom, which fixes the reference table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Batch {
    /// Version 1: serial numbers up to 130-0041.
    One,
    /// Version 2: serial numbers 130-0042 to 130-0132.
    Two,
}

impl Batch {
    /// The batch of a phantom serial number such as `"130-0042"` or `"NIST-130-0042"`.
    ///
    /// # Errors
    /// [`crate::Error::Invalid`] naming `serial` when no `130-NNNN` number is found, or for
    /// serials from 130-0133 on (batch 2.5, whose tables are not included).
    pub fn from_serial(serial: &str) -> Result<Batch> {
        let number = serial
            .rsplit_once("130-")
            .map(|(_, n)| n.trim())
            .filter(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
            .and_then(|n| n.parse::<u32>().ok())
            .ok_or_else(|| {
                invalid(
                    "serial",
                    format!("{serial:?} is not a system-phantom serial number (130-NNNN)"),
                )
            })?;
        match number {
            0..=41 => Ok(Batch::One),
            42..=132 => Ok(Batch::Two),
            _ => Err(invalid(
                "serial",
                format!(
                    "{serial:?} is batch 2.5 (130-0133 and later), whose reference values are not tabulated here"
                ),
            )),
        }
    }

    /// The batch named `"1"` or `"2"` (also `"batch1"`, `"batch 2"`, `"v1"`, …).
    ///
    /// # Errors
    /// [`crate::Error::Invalid`] naming `batch` for anything else.
    pub fn from_name(name: &str) -> Result<Batch> {
        let n = name.trim().to_ascii_lowercase();
        let n = n
            .trim_start_matches("batch")
            .trim_start_matches("version")
            .trim_start_matches('v')
            .trim();
        match n {
            "1" => Ok(Batch::One),
            "2" => Ok(Batch::Two),
            _ => Err(invalid(
                "batch",
                format!("unknown system-phantom batch {name:?} (expected 1 or 2)"),
            )),
        }
    }
}

/// Field strength of a reference table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum FieldStrength {
    /// 1.5 T.
    T1_5,
    /// 3 T.
    T3,
}

impl FieldStrength {
    /// The table for a scanner of `tesla` (e.g. the DICOM MagneticFieldStrength): 1.4–1.6 T →
    /// 1.5 T, 2.8–3.2 T → 3 T.
    ///
    /// # Errors
    /// [`crate::Error::Invalid`] naming `field` for any other value.
    pub fn from_tesla(tesla: f64) -> Result<FieldStrength> {
        if (1.4..=1.6).contains(&tesla) {
            Ok(FieldStrength::T1_5)
        } else if (2.8..=3.2).contains(&tesla) {
            Ok(FieldStrength::T3)
        } else {
            Err(invalid(
                "field",
                format!("no reference table for {tesla} T (only 1.5 T and 3 T)"),
            ))
        }
    }

    /// Nominal value in tesla.
    pub fn tesla(self) -> f64 {
        match self {
            FieldStrength::T1_5 => 1.5,
            FieldStrength::T3 => 3.0,
        }
    }
}

/// Which array of the phantom a sphere belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub enum SphereArray {
    /// 14 NiCl2 spheres (hazen's plate 5), `T1-1` … `T1-14`.
    T1,
    /// 14 MnCl2 spheres (hazen's plate 4), `T2-1` … `T2-14`.
    T2,
    /// 14 H2O/D2O spheres (hazen's plate 3), `PD-1` … `PD-14`.
    Pd,
}

impl SphereArray {
    /// All three arrays.
    pub const ALL: [SphereArray; 3] = [SphereArray::T1, SphereArray::T2, SphereArray::Pd];

    /// Name prefix of the array's spheres (`"T1"`, `"T2"`, `"PD"`).
    pub fn prefix(self) -> &'static str {
        match self {
            SphereArray::T1 => "T1",
            SphereArray::T2 => "T2",
            SphereArray::Pd => "PD",
        }
    }

    /// Name of sphere `index` (1-based): `"T1-3"`.
    pub fn sphere_name(self, index: usize) -> String {
        format!("{}-{index}", self.prefix())
    }
}

/// Reference relaxation times of one sphere.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SphereReference {
    /// Sphere name (`"T1-1"` … `"T2-14"`).
    pub name: String,
    /// T1 in ms.
    pub t1_ms: f64,
    /// T2 in ms.
    pub t2_ms: f64,
}

/// Reference T1/T2 of the T1 and T2 arrays for one batch, field and temperature.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ReferenceTable {
    /// Phantom batch.
    pub batch: Batch,
    /// Field strength.
    pub field: FieldStrength,
    /// Temperature in °C.
    pub temperature_c: f64,
    /// Where the numbers come from.
    pub source: String,
    /// `T1-1` … `T1-14` (NiCl2).
    pub t1_array: Vec<SphereReference>,
    /// `T2-1` … `T2-14` (MnCl2).
    pub t2_array: Vec<SphereReference>,
}

impl ReferenceTable {
    /// The table at 20 °C.
    ///
    /// # Errors
    /// [`crate::Error::Invalid`] naming `field` for batch 2 at 1.5 T (only 3 T is tabulated).
    pub fn new(batch: Batch, field: FieldStrength) -> Result<Self> {
        Self::at_temperature(batch, field, 20.0)
    }

    /// The table at `temperature_c`: batch 2 at 3 T is interpolated linearly between the NIST
    /// values given every 2 °C from 16 to 26 °C; batch 1 is tabulated at 20 °C only.
    ///
    /// # Errors
    /// [`crate::Error::Invalid`] naming `field` for batch 2 at 1.5 T, or `temperature_c` when
    /// outside 16–26 °C (batch 2) or not 20 °C (batch 1).
    pub fn at_temperature(batch: Batch, field: FieldStrength, temperature_c: f64) -> Result<Self> {
        match batch {
            Batch::One => {
                if temperature_c != 20.0 {
                    return Err(invalid(
                        "temperature_c",
                        format!(
                            "batch 1 reference values are tabulated at 20 °C only, got {temperature_c} °C"
                        ),
                    ));
                }
                let (t1, t2) = match field {
                    FieldStrength::T1_5 => (&B1_T1_ARRAY_1P5, &B1_T2_ARRAY_1P5),
                    FieldStrength::T3 => (&B1_T1_ARRAY_3, &B1_T2_ARRAY_3),
                };
                Ok(ReferenceTable {
                    batch,
                    field,
                    temperature_c,
                    source: "batch 1 (serial <= 130-0041), 20 °C: hazen hazenlib/relaxometry_params.py (plate 5 = T1 array, plate 4 = T2 array)".into(),
                    t1_array: spheres(SphereArray::T1, |k| t1[k]),
                    t2_array: spheres(SphereArray::T2, |k| t2[k]),
                })
            }
            Batch::Two => {
                if field != FieldStrength::T3 {
                    return Err(invalid(
                        "field",
                        "batch 2 reference values are tabulated only at 3 T (NIST NMR, 3.00672 T); MR-BIAS's extrapolated 1.5 T values are not included",
                    ));
                }
                if !(16.0..=26.0).contains(&temperature_c) {
                    return Err(invalid(
                        "temperature_c",
                        format!("batch 2 reference values cover 16-26 °C, got {temperature_c} °C"),
                    ));
                }
                // Position between the tabulated temperatures 16, 18, …, 26.
                let x = (temperature_c - 16.0) / 2.0;
                let lo = (x.floor() as usize).min(4);
                let w = x - lo as f64;
                let lerp = |v: &[f64; 6]| {
                    if w == 0.0 {
                        v[lo]
                    } else {
                        v[lo] + w * (v[lo + 1] - v[lo])
                    }
                };
                let pick = |table: &[([f64; 6], [f64; 6]); 14], k: usize| {
                    (lerp(&table[k].0), lerp(&table[k].1))
                };
                Ok(ReferenceTable {
                    batch,
                    field,
                    temperature_c,
                    source: "batch 2 (serial 130-0042..130-0132), NIST NMR 3.00672 T, 16-26 °C: MR-BIAS caliber_system_phantom/batch2_sn_gte_130-0042/T{1,2}-Batch2_3T_dl-20210726.csv".into(),
                    t1_array: spheres(SphereArray::T1, |k| pick(&B2_T1_ARRAY_3T, k)),
                    t2_array: spheres(SphereArray::T2, |k| pick(&B2_T2_ARRAY_3T, k)),
                })
            }
        }
    }

    /// The reference of the sphere called `name` (`"T1-3"`, `"T2-14"`).
    pub fn sphere(&self, name: &str) -> Option<&SphereReference> {
        self.t1_array
            .iter()
            .chain(&self.t2_array)
            .find(|s| s.name == name)
    }
}

fn spheres(array: SphereArray, value: impl Fn(usize) -> (f64, f64)) -> Vec<SphereReference> {
    (0..14)
        .map(|k| {
            let (t1_ms, t2_ms) = value(k);
            SphereReference {
                name: array.sphere_name(k + 1),
                t1_ms,
                t2_ms,
            }
        })
        .collect()
}

/// Batch 1, 1.5 T, 20 °C, T1 array: (T1, T2) of T1-1 … T1-14 (hazen plate 5).
const B1_T1_ARRAY_1P5: [(f64, f64); 14] = [
    (2033.0, 1669.0),
    (1489.0, 1244.0),
    (1012.0, 859.3),
    (730.8, 628.5),
    (514.1, 446.3),
    (367.9, 321.2),
    (260.1, 227.7),
    (184.6, 161.9),
    (132.7, 117.1),
    (92.7, 81.9),
    (65.4, 57.7),
    (46.32, 41.0),
    (32.45, 28.7),
    (22.859, 20.2),
];

/// Batch 1, 3 T, 20 °C, T1 array (hazen plate 5).
const B1_T1_ARRAY_3: [(f64, f64); 14] = [
    (1989.0, 1465.0),
    (1454.0, 1076.0),
    (984.1, 717.9),
    (706.0, 510.1),
    (496.7, 359.6),
    (351.5, 255.5),
    (247.13, 180.8),
    (175.3, 127.3),
    (125.9, 90.3),
    (89.0, 64.3),
    (62.7, 45.7),
    (44.53, 31.86),
    (30.84, 22.38),
    (21.719, 15.83),
];

/// Batch 1, 1.5 T, 20 °C, T2 array: (T1, T2) of T2-1 … T2-14 (hazen plate 4).
const B1_T2_ARRAY_1P5: [(f64, f64); 14] = [
    (2376.0, 939.4),
    (2183.0, 594.3),
    (1870.0, 416.5),
    (1539.0, 267.0),
    (1237.0, 184.9),
    (1030.0, 140.6),
    (752.2, 91.76),
    (550.2, 64.84),
    (413.4, 45.28),
    (292.9, 30.62),
    (194.9, 19.76),
    (160.2, 15.99),
    (106.4, 10.47),
    (83.3, 8.15),
];

/// Batch 1, 3 T, 20 °C, T2 array (hazen plate 4).
const B1_T2_ARRAY_3: [(f64, f64); 14] = [
    (2480.0, 581.3),
    (2173.0, 403.5),
    (1907.0, 278.1),
    (1604.0, 190.94),
    (1332.0, 133.27),
    (1044.0, 96.89),
    (801.7, 64.07),
    (608.6, 46.42),
    (458.4, 31.97),
    (336.5, 22.56),
    (244.2, 15.813),
    (176.6, 11.237),
    (126.9, 7.911),
    (90.9, 5.592),
];

/// Batch 2, 3.00672 T, T1 array: per sphere T1-1 … T1-14, (T1 at 16, 18, 20, 22, 24, 26 °C;
/// T2 at the same temperatures) in ms, with the NiCl2 concentration.
const B2_T1_ARRAY_3T: [([f64; 6], [f64; 6]); 14] = [
    // T1-1: 0.29 mM
    (
        [1766.68, 1830.34, 1883.97, 1937.34, 1987.5, 2066.95],
        [1348.91, 1455.09, 1489.41, 1520.77, 1532.32, 1578.57],
    ),
    // T1-2: 0.6 mM
    (
        [1274.07, 1317.71, 1330.16, 1355.29, 1367.79, 1395.94],
        [990.77, 1010.28, 1026.78, 1040.25, 1048.13, 1067.14],
    ),
    // T1-3: 1.04 mM
    (
        [950.71, 963.56, 987.27, 1000.81, 1015.7, 1030.78],
        [731.7, 735.31, 736.97, 744.39, 755.94, 768.69],
    ),
    // T1-4: 1.64 mM
    (
        [675.07, 686.88, 690.08, 695.01, 701.06, 709.48],
        [519.26, 520.94, 521.27, 523.08, 528.55, 538.22],
    ),
    // T1-5: 2.52 mM
    (
        [483.91, 482.91, 484.97, 486.92, 490.24, 494.55],
        [358.92, 355.15, 354.38, 356.14, 359.8, 365.21],
    ),
    // T1-6: 3.68 mM
    (
        [343.0, 341.53, 341.58, 342.58, 344.23, 346.67],
        [252.21, 249.23, 248.03, 248.15, 250.05, 253.8],
    ),
    // T1-7: 5.43 mM
    (
        [243.77, 241.84, 240.86, 240.75, 241.31, 242.45],
        [178.68, 176.11, 174.99, 175.07, 176.15, 178.08],
    ),
    // T1-8: 7.74 mM
    (
        [177.68, 175.94, 174.95, 174.59, 174.78, 175.48],
        [129.78, 127.33, 126.33, 126.49, 126.91, 128.28],
    ),
    // T1-9: 11.3 mM
    (
        [122.99, 121.79, 121.08, 120.8, 120.9, 121.34],
        [89.01, 87.65, 86.91, 86.85, 87.27, 88.37],
    ),
    // T1-10: 16.5 mM
    (
        [87.47, 86.41, 85.75, 85.03, 85.01, 85.28],
        [62.36, 61.6, 60.86, 60.96, 61.27, 62.12],
    ),
    // T1-11: 23.3 mM
    (
        [61.49, 60.7, 60.21, 59.97, 60.0, 60.17],
        [43.57, 42.91, 42.44, 42.42, 42.67, 43.22],
    ),
    // T1-12: 32.7 mM
    (
        [43.79, 43.24, 42.89, 42.72, 42.7, 42.8],
        [31.55, 30.97, 30.66, 30.63, 30.83, 30.71],
    ),
    // T1-13: 46 mM
    (
        [31.05, 30.65, 30.4, 30.27, 30.25, 30.31],
        [22.37, 21.99, 21.76, 21.74, 21.84, 22.09],
    ),
    // T1-14: 65.3 mM
    (
        [21.94, 21.62, 21.44, 21.28, 21.26, 21.31],
        [15.8, 15.47, 15.3, 15.22, 15.33, 15.49],
    ),
];

/// Batch 2, 3.00672 T, T2 array: per sphere T2-1 … T2-14, (T1; T2) at 16–26 °C in ms, with
/// the MnCl2 concentration.
const B2_T2_ARRAY_3T: [([f64; 6], [f64; 6]); 14] = [
    // T2-1: 0.0108 mM
    (
        [2669.83, 2862.34, 3025.17, 3191.54, 3365.05, 3536.79],
        [1705.84, 1823.56, 1928.33, 2023.15, 2139.79, 2205.31],
    ),
    // T2-2: 0.0181 mM
    (
        [1874.96, 2073.94, 2185.54, 2302.78, 2424.62, 2546.04],
        [357.4, 370.54, 379.48, 392.49, 406.02, 420.75],
    ),
    // T2-3: 0.0282 mM
    (
        [1657.68, 1783.21, 1901.28, 2009.05, 2119.34, 2232.44],
        [247.93, 257.47, 267.29, 276.98, 287.48, 299.08],
    ),
    // T2-4: 0.0434 mM
    (
        [1341.07, 1466.78, 1549.98, 1626.53, 1715.06, 1801.61],
        [161.07, 169.02, 175.05, 181.48, 187.21, 192.23],
    ),
    // T2-5: 0.0626 mM
    (
        [1307.88, 1417.53, 1510.76, 1589.88, 1687.39, 1774.24],
        [154.07, 159.77, 166.9, 172.51, 180.8, 188.16],
    ),
    // T2-6: 0.0934 mM
    (
        [892.29, 972.48, 1026.43, 1083.42, 1141.5, 1202.4],
        [81.86, 85.92, 88.89, 92.3, 95.97, 99.89],
    ),
    // T2-7: 0.1353 mM
    (
        [711.11, 757.34, 805.1, 848.64, 892.41, 937.12],
        [59.45, 61.31, 63.42, 65.65, 67.82, 70.57],
    ),
    // T2-8: 0.193 mM
    (
        [531.6, 563.86, 599.96, 634.59, 669.56, 703.51],
        [41.53, 42.63, 44.24, 45.86, 47.66, 49.26],
    ),
    // T2-9: 0.2768 mM
    (
        [384.99, 408.05, 431.22, 454.82, 478.81, 503.3],
        [28.04, 28.93, 29.88, 30.92, 32.06, 33.25],
    ),
    // T2-10: 0.4276 mM
    (
        [262.14, 277.38, 292.87, 308.92, 325.23, 341.74],
        [18.22, 18.78, 19.4, 20.07, 20.78, 21.56],
    ),
    // T2-11: 0.5555 mM
    (
        [203.53, 214.8, 226.53, 238.33, 250.62, 263.09],
        [13.94, 14.28, 14.74, 15.24, 15.8, 16.39],
    ),
    // T2-12: 0.7902 mM
    (
        [141.21, 149.28, 158.17, 166.64, 175.31, 184.07],
        [9.88, 10.17, 10.52, 10.88, 11.25, 11.67],
    ),
    // T2-13: 1.1274 mM
    (
        [104.57, 110.49, 116.7, 123.22, 129.67, 136.34],
        [6.83, 7.04, 7.27, 7.49, 7.76, 8.06],
    ),
    // T2-14: 1.5996 mM
    (
        [73.65, 77.93, 82.46, 87.08, 91.82, 96.54],
        [4.79, 4.93, 5.1, 5.28, 5.48, 5.69],
    ),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn batch_two_at_20_c_is_the_notes_table() {
        let t = ReferenceTable::new(Batch::Two, FieldStrength::T3).unwrap();
        let s = |n: &str| t.sphere(n).unwrap().clone();
        assert_eq!((s("T1-1").t1_ms, s("T1-1").t2_ms), (1883.97, 1489.41));
        assert_eq!((s("T1-14").t1_ms, s("T1-14").t2_ms), (21.44, 15.30));
        assert_eq!((s("T2-1").t1_ms, s("T2-1").t2_ms), (3025.17, 1928.33));
        assert_eq!((s("T2-5").t1_ms, s("T2-5").t2_ms), (1510.76, 166.90));
        assert_eq!((s("T2-14").t1_ms, s("T2-14").t2_ms), (82.46, 5.10));
    }

    #[test]
    fn temperature_dependence_from_the_notes() {
        let at = |c| ReferenceTable::at_temperature(Batch::Two, FieldStrength::T3, c).unwrap();
        let (t16, t26) = (at(16.0), at(26.0));
        let v = |t: &ReferenceTable, n: &str| t.sphere(n).unwrap().clone();
        assert_eq!(
            (v(&t16, "T2-14").t1_ms, v(&t26, "T2-14").t1_ms),
            (73.65, 96.54)
        );
        assert_eq!(
            (v(&t16, "T2-14").t2_ms, v(&t26, "T2-14").t2_ms),
            (4.79, 5.69)
        );
        assert_eq!(
            (v(&t16, "T2-1").t2_ms, v(&t26, "T2-1").t2_ms),
            (1705.84, 2205.31)
        );
        assert_eq!(
            (v(&t16, "T1-1").t1_ms, v(&t26, "T1-1").t1_ms),
            (1766.68, 2066.95)
        );
        assert_eq!(
            (v(&t16, "T1-7").t1_ms, v(&t26, "T1-7").t1_ms),
            (243.77, 242.45)
        );
        // Halfway between 20 and 22 °C.
        let t21 = at(21.0);
        assert!((v(&t21, "T1-1").t1_ms - (1883.97 + 1937.34) / 2.0).abs() < 1e-9);
        assert!(ReferenceTable::at_temperature(Batch::Two, FieldStrength::T3, 15.9).is_err());
        assert!(ReferenceTable::at_temperature(Batch::One, FieldStrength::T3, 22.0).is_err());
        assert!(ReferenceTable::at_temperature(Batch::Two, FieldStrength::T3, f64::NAN).is_err());
    }

    #[test]
    fn batches_and_fields_parse() {
        assert_eq!(Batch::from_serial("NIST-130-0042").unwrap(), Batch::Two);
        assert_eq!(Batch::from_serial("130-0041").unwrap(), Batch::One);
        assert!(Batch::from_serial("130-0133").is_err());
        assert!(Batch::from_serial("caliber_system_phantom").is_err());
        assert_eq!(Batch::from_name("batch 2").unwrap(), Batch::Two);
        assert_eq!(Batch::from_name("1").unwrap(), Batch::One);
        assert!(Batch::from_name("3").is_err());
        assert_eq!(
            FieldStrength::from_tesla(3.00672).unwrap(),
            FieldStrength::T3
        );
        assert_eq!(FieldStrength::from_tesla(1.5).unwrap(), FieldStrength::T1_5);
        assert!(FieldStrength::from_tesla(7.0).is_err());
        assert!(FieldStrength::from_tesla(f64::NAN).is_err());
        match ReferenceTable::new(Batch::Two, FieldStrength::T1_5) {
            Err(crate::Error::Invalid { what, .. }) => assert_eq!(what, "field"),
            other => panic!("{other:?}"),
        }
    }
}
