//! Anchors of the digital phantoms: ISMRMRD's and BART's Shepp–Logan, the reference values of
//! the statistics reference set, hazen's relaxometry template geometry, and the analytic areas
//! and volumes of the shapes.

use std::f64::consts::PI;
use std::path::{Path, PathBuf};
use std::process::Command;

use accord_phantoms::Error;
use accord_phantoms::digital::{
    Batch, FieldStrength, Grid, LabelMap, Phantom, ReferenceTable, SheppLogan2d, SheppLogan3d,
    SheppLoganVariant, SphereArray, SystemGeometry, SystemPhantom, rasterize_plate,
};

fn data(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/digital")
        .join(name)
}

fn read_f32(path: &Path) -> Vec<f32> {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    bytes
        .chunks_exact(4)
        .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
        .collect()
}

/// Number of values differing by more than `tol`, and the largest difference.
fn compare(a: &[f32], b: &[f32], tol: f32) -> (usize, f32) {
    assert_eq!(a.len(), b.len());
    let mut bad = 0;
    let mut max = 0f32;
    for (x, y) in a.iter().zip(b) {
        let d = (x - y).abs();
        max = max.max(d);
        if d > tol {
            bad += 1;
        }
    }
    (bad, max)
}

#[test]
fn digital_modified_shepp_logan_matches_ismrmrd_generator() {
    let reference = read_f32(&data("ismrmrd_shepp_logan_256.f32"));
    let sl = SheppLogan2d::new(SheppLoganVariant::Modified);
    let grid = sl.normalised_grid(&[256, 256]).unwrap();
    let image = sl.intensity(&grid, 1).unwrap();
    let (bad, max) = compare(&image, &reference, 1e-6);
    println!("ISMRMRD shepp_logan_phantom(256): {bad} pixels off by > 1e-6, max |diff| {max:e}");
    assert_eq!(bad, 0);
    assert!(max < 1e-6);

    // The labels carry the same image.
    let map = sl.rasterize_grid(&grid);
    let from_labels: Vec<f32> = map
        .labels
        .iter()
        .map(|&l| sl.region_intensity(l).unwrap() as f32)
        .collect();
    assert_eq!(compare(&from_labels, &reference, 1e-6).0, 0);

    // The convention matters: pixel centres half a pixel off (centre at (i + 1/2 - n/2))
    // disagree along every edge.
    let half = 300.0 / 256.0 / 2.0;
    let shifted = grid.clone().with_centre_mm([half, half, 0.0]).unwrap();
    let (bad_shifted, _) = compare(&sl.intensity(&shifted, 1).unwrap(), &reference, 1e-6);
    println!("with half-pixel-shifted centres: {bad_shifted} pixels differ");
    assert!(bad_shifted > 500);
}

/// Reads a BART `.hdr`/`.cfl` pair: dimensions and the real parts.
fn read_cfl(base: &Path) -> (Vec<usize>, Vec<f32>) {
    let hdr = std::fs::read_to_string(base.with_extension("hdr")).unwrap();
    let dims: Vec<usize> = hdr
        .lines()
        .skip_while(|l| !l.starts_with("# Dimensions"))
        .nth(1)
        .unwrap()
        .split_whitespace()
        .map(|d| d.parse().unwrap())
        .collect();
    let values = read_f32(&base.with_extension("cfl"));
    (dims, values.chunks_exact(2).map(|c| c[0]).collect())
}

#[test]
fn digital_shepp_logan_matches_bart_when_installed() {
    let version = match Command::new("bart").arg("version").output() {
        Ok(out) if out.status.success() => String::from_utf8_lossy(&out.stdout).trim().to_string(),
        _ => {
            println!("SKIPPED: `bart` is not installed (apt-get install bart)");
            return;
        }
    };
    let dir = tempfile::tempdir().unwrap();
    let run = |args: &[&str]| {
        let st = Command::new("bart").args(args).status().unwrap();
        assert!(st.success(), "bart {args:?}");
    };

    // 2-D: `bart phantom -x 128` (Toft intensities). BART's first axis is our -y, its second
    // our x: bart[i0, i1] = ours[x = i1, y = (n - i0) mod n].
    let n = 128;
    let b2 = dir.path().join("sl2");
    run(&["phantom", "-x", "128", b2.to_str().unwrap()]);
    let (dims, bart) = read_cfl(&b2);
    assert_eq!(&dims[..2], &[n, n]);
    let sl = SheppLogan2d::new(SheppLoganVariant::Modified);
    let grid = sl.normalised_grid(&[n, n]).unwrap();
    let ours = sl.intensity(&grid, 1).unwrap();
    let mapped: Vec<f32> = (0..n * n)
        .map(|k| {
            let (i0, i1) = (k % n, k / n);
            ours[grid.index(i1, (n - i0) % n, 0)]
        })
        .collect();
    let (bad, max) = compare(&mapped, &bart, 1e-6);
    println!("BART {version} phantom -x 128: {bad} pixels off by > 1e-6, max |diff| {max:e}");
    assert_eq!(bad, 0);

    // 3-D: `bart phantom -3 -x 64` (Koay et al.): bart[i0, i1, i2] = ours[i1, -i0, -i2].
    let n = 64;
    let b3 = dir.path().join("sl3");
    run(&["phantom", "-3", "-x", "64", b3.to_str().unwrap()]);
    let (dims, bart) = read_cfl(&b3);
    assert_eq!(&dims[..3], &[n, n, n]);
    let sl3 = SheppLogan3d::new();
    let grid = sl3.normalised_grid(&[n, n, n]).unwrap();
    let ours = sl3.intensity(&grid, 1).unwrap();
    let mapped: Vec<f32> = (0..n * n * n)
        .map(|k| {
            let (i0, i1, i2) = (k % n, (k / n) % n, k / (n * n));
            ours[grid.index(i1, (n - i0) % n, (n - i2) % n)]
        })
        .collect();
    let (bad, max) = compare(&mapped, &bart, 1e-5);
    println!("BART {version} phantom -3 -x 64: {bad} voxels off by > 1e-5, max |diff| {max:e}");
    assert_eq!(bad, 0);
}

#[test]
fn digital_supersampled_intensity_integrates_to_the_ellipse_areas() {
    // The integral of a sum of ellipses is the sum of amplitude × area (overlaps add).
    let sl = SheppLogan2d::new(SheppLoganVariant::Modified);
    let exact: f64 = sl
        .ellipses()
        .iter()
        .map(|e| e.amplitude * PI * e.semi_axes[0] * e.semi_axes[1])
        .sum();
    let n = 128;
    let grid = sl.normalised_grid(&[n, n]).unwrap();
    let pixel = (2.0 / n as f64).powi(2);
    let integral = |s: usize| -> f64 {
        sl.intensity(&grid, s)
            .unwrap()
            .iter()
            .map(|&v| v as f64)
            .sum::<f64>()
            * pixel
    };
    let (i1, i8) = (integral(1), integral(8));
    println!(
        "2-D integral: exact {exact:.6}, centre-sampled {i1:.6} ({:+.3}%), 8x8 supersampled {i8:.6} ({:+.3}%)",
        100.0 * (i1 / exact - 1.0),
        100.0 * (i8 / exact - 1.0)
    );
    assert!((i8 / exact - 1.0).abs() < 2e-3);
    assert!((i8 - exact).abs() <= (i1 - exact).abs());

    let sl3 = SheppLogan3d::new();
    let exact3: f64 = sl3
        .ellipsoids()
        .iter()
        .map(|e| e.amplitude * 4.0 / 3.0 * PI * e.semi_axes.iter().product::<f64>())
        .sum();
    let n = 48;
    let grid = sl3.normalised_grid(&[n, n, n]).unwrap();
    let voxel = (2.0 / n as f64).powi(3);
    let i3: f64 = sl3
        .intensity(&grid, 4)
        .unwrap()
        .iter()
        .map(|&v| v as f64)
        .sum::<f64>()
        * voxel;
    println!(
        "3-D integral: exact {exact3:.6}, 4x4x4 supersampled at 48^3 {i3:.6} ({:+.3}%)",
        100.0 * (i3 / exact3 - 1.0)
    );
    assert!((i3 / exact3 - 1.0).abs() < 5e-3);
}

#[test]
fn digital_shepp_logan_label_maps_have_tissues() {
    let sl = SheppLogan3d::new().with_field_t(1.5).unwrap();
    let map = sl.rasterize(&[64, 64, 64], &[300.0, 300.0, 300.0]).unwrap();
    assert_eq!(map.labels.len(), 64 * 64 * 64);
    assert_eq!(map.tissues.len(), 13);
    let wm = map.tissue(map.label_named("e").unwrap()).unwrap();
    assert_eq!(wm.kind, "white matter");
    assert!((wm.t1_ms - 583.0 * 1.5f64.powf(0.382)).abs() < 1e-9);
    for name in ["a", "b", "c", "d", "e", "f"] {
        assert!(
            map.count(map.label_named(name).unwrap()) > 0,
            "{name} missing"
        );
    }
    // The 2-D phantom on a 3-D grid is a cylinder: every slice identical.
    let sl2 = SheppLogan2d::new(SheppLoganVariant::Original);
    let vol = sl2.rasterize(&[32, 32, 3], &[300.0, 300.0, 50.0]).unwrap();
    let slice = 32 * 32;
    assert_eq!(vol.labels[..slice], vol.labels[slice..2 * slice]);
    // Radius scales the head: at 75 mm the head is half as wide on the same grid.
    let small = SheppLogan2d::new(SheppLoganVariant::Modified)
        .with_radius_mm(75.0)
        .unwrap();
    let big = SheppLogan2d::new(SheppLoganVariant::Modified);
    let grid = Grid::new(&[200, 200], &[300.0, 300.0]).unwrap();
    let inside = |m: &LabelMap| m.labels.iter().filter(|&&l| l != 0).count() as f64;
    let ratio = inside(&big.rasterize_grid(&grid)) / inside(&small.rasterize_grid(&grid));
    assert!((ratio - 4.0).abs() < 0.1, "{ratio}");
}

/// The batch-2 table of `shared/docs/phantoms.md` section 5 (3 T, 20 °C), row by row:
/// T1-k T1, T1-k T2, T2-k T1, T2-k T2.
const NOTES_BATCH2: [(f64, f64, f64, f64); 14] = [
    (1883.97, 1489.41, 3025.17, 1928.33),
    (1330.16, 1026.78, 2185.54, 379.48),
    (987.27, 736.97, 1901.28, 267.29),
    (690.08, 521.27, 1549.98, 175.05),
    (484.97, 354.38, 1510.76, 166.90),
    (341.58, 248.03, 1026.43, 88.89),
    (240.86, 174.99, 805.10, 63.42),
    (174.95, 126.33, 599.96, 44.24),
    (121.08, 86.91, 431.22, 29.88),
    (85.75, 60.86, 292.87, 19.40),
    (60.21, 42.44, 226.53, 14.74),
    (42.89, 30.66, 158.17, 10.52),
    (30.40, 21.76, 116.70, 7.27),
    (21.44, 15.30, 82.46, 5.10),
];

#[test]
fn digital_batch2_table_is_the_notes_table() {
    let t = ReferenceTable::new(Batch::Two, FieldStrength::T3).unwrap();
    for (k, &(a, b, c, d)) in NOTES_BATCH2.iter().enumerate() {
        let t1 = t.sphere(&format!("T1-{}", k + 1)).unwrap();
        let t2 = t.sphere(&format!("T2-{}", k + 1)).unwrap();
        assert_eq!(
            (t1.t1_ms, t1.t2_ms, t2.t1_ms, t2.t2_ms),
            (a, b, c, d),
            "row {}",
            k + 1
        );
    }
}

/// `(subject, site, roi, ref_value)` of a statistics reference table.
fn ref_values(name: &str) -> Vec<(String, String, String, f64)> {
    // The statistics reference tables live with the analyzer's fixtures.
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../tests/data/stats")
        .join(name);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    let col = |c: &str| header.iter().position(|h| *h == c).unwrap();
    let (s, si, r, v) = (col("subject"), col("site"), col("roi"), col("ref_value"));
    lines
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            let f: Vec<&str> = l.split(',').collect();
            (
                f[s].to_string(),
                f[si].to_string(),
                f[r].to_string(),
                f[v].parse().unwrap(),
            )
        })
        .collect()
}

#[test]
fn digital_stats_reference_values_come_from_the_tables() {
    // Synthetic 4-scanner table: the phantom's serial selects batch 2, all sites are 3 T.
    let rows = ref_values("nist_t1_4scanners_2sessions.csv");
    assert_eq!(rows.len(), 4 * 2 * 14);
    for (subject, _, roi, value) in &rows {
        let table =
            ReferenceTable::new(Batch::from_serial(subject).unwrap(), FieldStrength::T3).unwrap();
        assert_eq!(table.sphere(roi).unwrap().t1_ms, *value, "{roi}");
    }
    // Real hazen results: hazen's batch-1 table at each site's field (site5 is the 3 T one).
    let rows = ref_values("real_hazen_t1_plate5_5sites.csv");
    assert_eq!(rows.len(), 5 * 14);
    assert!(
        Batch::from_serial(&rows[0].0).is_err(),
        "no serial in hazen's subject name"
    );
    for (_, site, roi, value) in &rows {
        let field = if site.contains("3T") {
            FieldStrength::T3
        } else {
            FieldStrength::T1_5
        };
        let table = ReferenceTable::new(Batch::One, field).unwrap();
        let index: usize = roi.trim_start_matches("sphere_").parse().unwrap();
        assert_eq!(
            table.sphere(&format!("T1-{index}")).unwrap().t1_ms,
            *value,
            "{site} {roi}"
        );
    }
}

/// Sphere centres of hazen's relaxometry templates (`relaxometry_params.py`, row, col), 192 px
/// over 250 mm.
const HAZEN_PLATE5: [(f64, f64); 14] = [
    (56., 95.),
    (62., 117.),
    (81., 133.),
    (104., 134.),
    (124., 121.),
    (133., 98.),
    (127., 75.),
    (109., 61.),
    (84., 60.),
    (64., 72.),
    (80., 81.),
    (78., 111.),
    (109., 113.),
    (110., 82.),
];
const HAZEN_PLATE4: [(f64, f64); 14] = [
    (56., 94.),
    (62., 117.),
    (81., 132.),
    (105., 134.),
    (125., 120.),
    (133., 99.),
    (127., 75.),
    (108., 60.),
    (84., 59.),
    (64., 72.),
    (80., 81.),
    (78., 111.),
    (109., 113.),
    (111., 82.),
];

/// Rigid 2-D fit of `b` onto `a` (rotation + translation): RMS and max residual, angle.
fn procrustes(a: &[[f64; 2]], b: &[[f64; 2]]) -> (f64, f64, f64) {
    let mean = |p: &[[f64; 2]]| {
        let n = p.len() as f64;
        [
            p.iter().map(|q| q[0]).sum::<f64>() / n,
            p.iter().map(|q| q[1]).sum::<f64>() / n,
        ]
    };
    let (ma, mb) = (mean(a), mean(b));
    let (mut dot, mut cross) = (0.0, 0.0);
    for (p, q) in a.iter().zip(b) {
        let (ax, ay, bx, by) = (p[0] - ma[0], p[1] - ma[1], q[0] - mb[0], q[1] - mb[1]);
        dot += bx * ax + by * ay;
        cross += bx * ay - by * ax;
    }
    let th = cross.atan2(dot);
    let (s, c) = th.sin_cos();
    let res: Vec<f64> = a
        .iter()
        .zip(b)
        .map(|(p, q)| {
            let (bx, by) = (q[0] - mb[0], q[1] - mb[1]);
            let (rx, ry) = (c * bx - s * by, s * bx + c * by);
            ((p[0] - ma[0] - rx).powi(2) + (p[1] - ma[1] - ry).powi(2)).sqrt()
        })
        .collect();
    let rms = (res.iter().map(|r| r * r).sum::<f64>() / res.len() as f64).sqrt();
    (
        rms,
        res.iter().cloned().fold(0.0, f64::max),
        th.to_degrees(),
    )
}

#[test]
fn digital_plate_geometry_matches_hazen_templates() {
    let phantom = SystemPhantom::new(Batch::One, FieldStrength::T1_5).unwrap();
    let px = 250.0 / 192.0;
    for (array, template) in [
        (SphereArray::T1, &HAZEN_PLATE5),
        (SphereArray::T2, &HAZEN_PLATE4),
    ] {
        // ROI centroids of a hazen-like 192² / 250 mm plate image.
        let map = rasterize_plate(&phantom, array, &[192, 192], &[250.0, 250.0]).unwrap();
        let ours: Vec<[f64; 2]> = (1..=14)
            .map(|k| {
                let name = array.sphere_name(k);
                let label = map.label_named(&name).unwrap();
                let (mut sx, mut sy, mut n) = (0.0, 0.0, 0.0);
                for (i, &l) in map.labels.iter().enumerate() {
                    if l == label {
                        let p = map.grid.position_mm(i);
                        sx += p[0];
                        sy += p[1];
                        n += 1.0;
                    }
                }
                let c = phantom.sphere(&name).unwrap().centre_mm;
                assert!(
                    (sx / n - c[0]).abs() < 0.35 && (sy / n - c[1]).abs() < 0.35,
                    "{name}"
                );
                [sx / n, sy / n]
            })
            .collect();
        let hazen: Vec<[f64; 2]> = template.iter().map(|&(r, c)| [c * px, r * px]).collect();
        let (rms, max, angle) = procrustes(&ours, &hazen);
        println!(
            "{} array vs hazen template: RMS {rms:.2} mm, max {max:.2} mm after a {angle:+.1} deg rigid fit",
            array.prefix()
        );
        assert!(rms < 1.0 && max < 1.6, "{rms} {max}");
    }
}

#[test]
fn digital_sphere_rois_have_the_right_size() {
    let phantom = SystemPhantom::new(Batch::Two, FieldStrength::T3).unwrap();
    let grid = phantom
        .plate_grid(SphereArray::T2, &[1000, 1000], &[250.0, 250.0])
        .unwrap();
    let pixel = 0.25f64 * 0.25;
    let area = |m: &[bool]| m.iter().filter(|&&b| b).count() as f64 * pixel;
    let map = phantom.rasterize_grid(&grid);
    for k in 1..=14 {
        let name = SphereArray::T2.sphere_name(k);
        let full = phantom.roi_mask(&grid, &name, 0.0).unwrap();
        assert_eq!(full, map.roi_mask_named(&name).unwrap(), "{name}");
        assert!(
            (area(&full) / (PI * 64.0) - 1.0).abs() < 0.01,
            "{name}: {}",
            area(&full)
        );
        let eroded = phantom.roi_mask(&grid, &name, 2.0).unwrap();
        assert!((area(&eroded) / (PI * 36.0) - 1.0).abs() < 0.015, "{name}");
    }
    // Morphological erosion of the label map agrees with the analytic one.
    let coarse = phantom
        .plate_grid(SphereArray::T2, &[250, 250], &[250.0, 250.0])
        .unwrap();
    let map = phantom.rasterize_grid(&coarse);
    let label = map.label_named("T2-3").unwrap();
    let morph = map.eroded_mask(label, 2.0).unwrap();
    let analytic = phantom.roi_mask(&coarse, "T2-3", 2.0).unwrap();
    let inter = morph
        .iter()
        .zip(&analytic)
        .filter(|(a, b)| **a && **b)
        .count() as f64;
    let union = morph
        .iter()
        .zip(&analytic)
        .filter(|(a, b)| **a || **b)
        .count() as f64;
    println!(
        "T2-3 eroded by 2 mm at 1 mm pixels: morphological vs analytic IoU {:.3}",
        inter / union
    );
    assert!(inter / union > 0.85);
    // Partial-volume fraction sums to the sphere's cross-section.
    let frac = phantom.label_fraction(&coarse, label, 8).unwrap();
    let pv_area: f64 = frac.iter().map(|&f| f as f64).sum();
    assert!((pv_area / (PI * 64.0) - 1.0).abs() < 0.01, "{pv_area}");
}

#[test]
fn digital_volume_holds_every_sphere_on_its_plate() {
    let phantom = SystemPhantom::new(Batch::One, FieldStrength::T3).unwrap();
    let vol = phantom
        .rasterize(&[110, 110, 110], &[220.0, 220.0, 220.0])
        .unwrap();
    let expected = 4.0 / 3.0 * PI * 8f64.powi(3) / 8.0; // voxels of 2 mm
    for s in phantom.spheres() {
        let n = vol.count(s.label) as f64;
        assert!(
            (n / expected - 1.0).abs() < 0.1,
            "{}: {n} voxels vs {expected:.0}",
            s.name
        );
        let zs: Vec<f64> = vol
            .labels
            .iter()
            .enumerate()
            .filter(|&(_, &l)| l == s.label)
            .map(|(i, _)| vol.grid.position_mm(i)[2])
            .collect();
        assert!(
            zs.iter().all(|z| (z - s.centre_mm[2]).abs() <= 8.0),
            "{}",
            s.name
        );
    }
    // The fill is the 200 mm sphere minus the 42 spheres with their 1.5 mm walls.
    let fill = vol.count(accord_phantoms::digital::LABEL_FILL) as f64 * 8.0;
    let expected_fill = 4.0 / 3.0 * PI * (100f64.powi(3) - 42.0 * 9.5f64.powi(3));
    assert!(
        (fill / expected_fill - 1.0).abs() < 0.01,
        "{fill} vs {expected_fill}"
    );
    let t1 = vol.t1_map_ms();
    let t2_14 = phantom.sphere("T2-14").unwrap();
    let at = |c: f64| (55.0 + (c / 2.0).round()) as usize; // voxel nearest to c mm
    let c = t2_14.centre_mm;
    let i = vol.grid.index(at(c[0]), at(c[1]), at(c[2]));
    assert_eq!(t1[i], 90.9f32);
    // A rotated phantom moves the spheres, not the table.
    let turned = phantom
        .clone()
        .with_geometry(SystemGeometry {
            rotation_deg: 36.0,
            ..Default::default()
        })
        .unwrap();
    let a = turned.sphere("T1-1").unwrap().centre_mm;
    let b = phantom.sphere("T1-2").unwrap().centre_mm;
    assert!((a[0] - b[0]).abs() < 1e-9 && (a[1] - b[1]).abs() < 1e-9);
    assert_eq!(turned.sphere("T1-1").unwrap().tissue.t1_ms, 1989.0);
}

fn what(e: Error) -> String {
    match e {
        Error::Invalid { what, .. } => what,
        other => panic!("expected Error::Invalid, got {other:?}"),
    }
}

#[test]
fn digital_bad_parameters_are_named_errors() {
    let sl = SheppLogan2d::new(SheppLoganVariant::Modified);
    assert_eq!(
        what(sl.rasterize(&[0, 64], &[200.0, 200.0]).unwrap_err()),
        "matrix"
    );
    assert_eq!(
        what(sl.rasterize(&[64, 64], &[200.0, -1.0]).unwrap_err()),
        "fov_mm"
    );
    assert_eq!(
        what(sl.rasterize(&[64, 64], &[200.0, 0.0]).unwrap_err()),
        "fov_mm"
    );
    assert_eq!(
        what(sl.rasterize(&[64, 64, 64], &[200.0, 200.0]).unwrap_err()),
        "fov_mm"
    );
    let grid = Grid::new(&[8, 8], &[10.0, 10.0]).unwrap();
    assert_eq!(what(sl.intensity(&grid, 0).unwrap_err()), "supersample");
    assert_eq!(
        what(sl.rasterize_supersampled(&grid, 17).unwrap_err()),
        "supersample"
    );
    assert_eq!(
        what(sl.clone().with_radius_mm(0.0).unwrap_err()),
        "radius_mm"
    );
    assert_eq!(
        what(SheppLogan3d::new().with_field_t(-3.0).unwrap_err()),
        "field_t"
    );
    assert_eq!(what(Batch::from_name("7").unwrap_err()), "batch");
    assert_eq!(what(Batch::from_serial("abc").unwrap_err()), "serial");
    assert_eq!(what(FieldStrength::from_tesla(0.55).unwrap_err()), "field");
    assert_eq!(
        what(SystemPhantom::new(Batch::Two, FieldStrength::T1_5).unwrap_err()),
        "field"
    );
    assert_eq!(
        what(SystemPhantom::at_temperature(Batch::Two, FieldStrength::T3, 30.0).unwrap_err()),
        "temperature_c"
    );
    let phantom = SystemPhantom::new(Batch::Two, FieldStrength::T3).unwrap();
    assert_eq!(what(phantom.sphere("T3-1").unwrap_err()), "roi");
    let plate = phantom
        .plate_grid(SphereArray::Pd, &[64, 64], &[250.0, 250.0])
        .unwrap();
    assert_eq!(
        what(phantom.roi_mask(&plate, "PD-1", 9.0).unwrap_err()),
        "erode_mm"
    );
    let map = phantom.rasterize_grid(&plate);
    assert_eq!(what(map.roi_mask_named("T1-99").unwrap_err()), "roi");
    assert_eq!(what(map.eroded_mask(3, f64::NAN).unwrap_err()), "margin_mm");
}
