//! Problem generator and in-process timings for `benches/recon_compare.sh` (Accord vs BART and
//! pygrappa on the problems of `tests/data/provenance/bench_bart.json`).
//!
//! ```text
//! recon_bench gen DIR NAME --n 320 --coils 32 --accel 4 --acs 24 [--sigma 0.005] [--seed 1]
//! recon_bench gen3 DIR NAME --mask MASK --nx 128 --ny 128 --nz 64 --coils 16 --acs 24 [--sigma 0.005] [--seed 1]
//! recon_bench time RAW.h5 CONFIG.toml RUNS [OUT.npy]
//! ```
//!
//! `gen` synthesises a 2-D Cartesian multi-coil problem: the modified Shepp–Logan phantom
//! (`accord_phantoms`, 2× supersampled edges) on an `n × n` grid, `coils` smooth complex coil
//! maps (Gaussians on a ring around the head with a smooth phase, not normalised), k-space as
//! the centred orthonormal FFT of `S·ρ` plus complex Gaussian noise of standard deviation
//! `sigma` per sample, sampled on every `accel`-th line (`ky % accel == 0`) plus `acs` central
//! calibration lines (`n/2 − acs/2 ..`). It writes
//!
//! - `DIR/NAME.h5`: ISMRMRD raw data (one readout per sampled line; lines inside the
//!   calibration block are flagged `IS_PARALLEL_CALIBRATION(_AND_IMAGING)`), for `accord recon`;
//! - `DIR/NAME_k.cfl` + `.hdr`: the same zero-filled k-space for BART, dims `[x, y, 1, coil]`
//!   (column major, complex float32: x fastest, as the C-order array `[coil, y, x]`);
//! - `DIR/NAME_gt.npy`: the ground truth `|ρ|·sqrt(Σ_c |S_c|²)`, float32 `[y, x]` (the
//!   definition of the reference data's `gt.npy`).
//!
//! `gen3` synthesises the 3-D problem the same way: the 3-D Shepp–Logan phantom (Koay et al. 2007, as BART) on
//! `nx × ny × nz` (`[z, y, x]`), `coils` Gaussian coil maps on two rings of `coils/2` above
//! and below the centre (`z = ±0.5`), noise `sigma`, sampled where the `(ky, kz)` mask
//! `MASK.cfl` (BART's `bart poisson -Y ny -Z nz ...` output, dims `[1, ny, nz]`) is non-zero.
//! Readouts inside the central `acs × acs` block of `(ky, kz)` are flagged
//! `IS_PARALLEL_CALIBRATION_AND_IMAGING` (the mask must sample all of it). Outputs as `gen`,
//! with BART dims `[x, y, z, coil]` and the ground truth `[z, y, x]`.
//!
//! `time` reads RAW.h5 and the configuration once (not timed), then runs
//! `accord_recon::pipeline::run` RUNS times in this process and prints the seconds of every run
//! on one line (the whole pipeline: k-space assembly, every stage, crop to the recon matrix; no
//! file I/O, no process start-up). With OUT.npy it writes the magnitude of the last run.

use std::f32::consts::PI;
use std::path::Path;
use std::process::ExitCode;
use std::time::Instant;

use accord_ismrmrd::{
    Acquisition, AcquisitionFlag, AcquisitionHeader, IsmrmrdFile, IsmrmrdWriter, WriteOptions,
};
use accord_phantoms::digital::{SheppLogan2d, SheppLogan3d, SheppLoganVariant};
use accord_recon::backend::{Backend, C32, CpuBackend, FftDirection};
use accord_recon::config::ReconConfig;
use accord_recon::io::npy;
use accord_recon::pipeline;

type Error = Box<dyn std::error::Error>;

/// Settings of one synthetic 3-D problem.
struct Problem3 {
    dims: [usize; 3],
    coils: usize,
    acs: usize,
    sigma: f32,
    seed: u64,
}

/// Settings of one synthetic problem.
struct Problem {
    n: usize,
    coils: usize,
    accel: usize,
    acs: usize,
    sigma: f32,
    seed: u64,
}

/// Normalised coordinate of index `i` on an axis of length `n` (`n/2` → 0, edges → ±1).
fn coord(i: usize, n: usize) -> f32 {
    (i as f32 - (n / 2) as f32) / (n / 2) as f32
}

/// Coil maps `[coil, y, x]`: Gaussians (width 0.8) centred on a ring of radius 1.3 with a
/// smooth linear phase; not normalised, so `Σ|S|²` falls off towards the centre.
fn coil_maps(nc: usize, n: usize) -> Vec<C32> {
    let npix = n * n;
    let mut s = vec![C32::new(0.0, 0.0); nc * npix];
    for c in 0..nc {
        let t = 2.0 * PI * c as f32 / nc as f32;
        let (cy, cx) = (1.3 * t.sin(), 1.3 * t.cos());
        for y in 0..n {
            for x in 0..n {
                let (py, px) = (coord(y, n), coord(x, n));
                let d2 = (px - cx).powi(2) + (py - cy).powi(2);
                let mag = (-d2 / (2.0 * 0.8f32.powi(2))).exp();
                let ph = t + 0.8 * (px * t.cos() - py * t.sin());
                s[c * npix + y * n + x] = C32::from_polar(mag, ph);
            }
        }
    }
    s
}

/// 3-D coil maps `[coil, z, y, x]` for the grid `[z, y, x]`: Gaussians (width 0.8) on two
/// rings (radius 1.3 in the transverse plane, at `z = ±0.5`) of `nc / 2` coils each (the odd
/// one out on the lower ring), with a smooth linear phase; not normalised.
fn coil_maps_3d(nc: usize, [nz, ny, nx]: [usize; 3]) -> Vec<C32> {
    let npix = nz * ny * nx;
    let upper = nc / 2;
    let mut s = vec![C32::new(0.0, 0.0); nc * npix];
    for c in 0..nc {
        let (ring, k, m) = if c < upper {
            (0.5f32, c, upper)
        } else {
            (-0.5f32, c - upper, nc - upper)
        };
        let t = 2.0 * PI * (k as f32 + 0.5 * (ring < 0.0) as u8 as f32) / m as f32;
        let (cy, cx) = (1.3 * t.sin(), 1.3 * t.cos());
        for z in 0..nz {
            let pz = coord(z, nz);
            for y in 0..ny {
                let py = coord(y, ny);
                for x in 0..nx {
                    let px = coord(x, nx);
                    let d2 = (px - cx).powi(2) + (py - cy).powi(2) + (pz - ring).powi(2);
                    let mag = (-d2 / (2.0 * 0.8f32.powi(2))).exp();
                    let ph = t + 0.8 * (px * t.cos() - py * t.sin()) + 0.4 * pz * ring.signum();
                    s[c * npix + (z * ny + y) * nx + x] = C32::from_polar(mag, ph);
                }
            }
        }
    }
    s
}

/// Deterministic standard normal samples (xorshift64* + Box–Muller).
struct Gauss(u64);

impl Gauss {
    fn uniform(&mut self) -> f32 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        let v = self.0.wrapping_mul(0x2545_f491_4f6c_dd1d) >> 40;
        (v as f32 + 0.5) / (1u64 << 24) as f32
    }
    fn pair(&mut self) -> (f32, f32) {
        let (u, v) = (self.uniform(), self.uniform());
        let r = (-2.0 * u.ln()).sqrt();
        (r * (2.0 * PI * v).cos(), r * (2.0 * PI * v).sin())
    }
}

/// The ISMRMRD header of a problem (no readout oversampling, 300 mm field of view).
fn header_xml(p: &Problem) -> String {
    let n = p.n;
    format!(
        r#"<?xml version="1.0"?>
<ismrmrdHeader xmlns="http://www.ismrm.org/ISMRMRD">
 <experimentalConditions><H1resonanceFrequency_Hz>123200000</H1resonanceFrequency_Hz></experimentalConditions>
 <encoding>
  <encodedSpace><matrixSize><x>{n}</x><y>{n}</y><z>1</z></matrixSize>
   <fieldOfView_mm><x>300</x><y>300</y><z>5</z></fieldOfView_mm></encodedSpace>
  <reconSpace><matrixSize><x>{n}</x><y>{n}</y><z>1</z></matrixSize>
   <fieldOfView_mm><x>300</x><y>300</y><z>5</z></fieldOfView_mm></reconSpace>
  <encodingLimits>
   <kspace_encoding_step_1><minimum>0</minimum><maximum>{}</maximum><center>{}</center></kspace_encoding_step_1>
  </encodingLimits>
  <trajectory>cartesian</trajectory>
  <parallelImaging>
   <accelerationFactor><kspace_encoding_step_1>{}</kspace_encoding_step_1><kspace_encoding_step_2>1</kspace_encoding_step_2></accelerationFactor>
   <calibrationMode>embedded</calibrationMode>
  </parallelImaging>
 </encoding>
</ismrmrdHeader>
"#,
        n - 1,
        n / 2,
        p.accel
    )
}

/// The ISMRMRD header of a 3-D problem (`dims` = `[z, y, x]`, 220 mm isotropic-voxel field of
/// view along x and y, no readout oversampling).
fn header_xml_3d(dims: [usize; 3]) -> String {
    let [nz, ny, nx] = dims;
    let fz = 220.0 * nz as f64 / nx as f64;
    format!(
        r#"<?xml version="1.0"?>
<ismrmrdHeader xmlns="http://www.ismrm.org/ISMRMRD">
 <experimentalConditions><H1resonanceFrequency_Hz>123200000</H1resonanceFrequency_Hz></experimentalConditions>
 <encoding>
  <encodedSpace><matrixSize><x>{nx}</x><y>{ny}</y><z>{nz}</z></matrixSize>
   <fieldOfView_mm><x>220</x><y>220</y><z>{fz}</z></fieldOfView_mm></encodedSpace>
  <reconSpace><matrixSize><x>{nx}</x><y>{ny}</y><z>{nz}</z></matrixSize>
   <fieldOfView_mm><x>220</x><y>220</y><z>{fz}</z></fieldOfView_mm></reconSpace>
  <encodingLimits>
   <kspace_encoding_step_1><minimum>0</minimum><maximum>{}</maximum><center>{}</center></kspace_encoding_step_1>
   <kspace_encoding_step_2><minimum>0</minimum><maximum>{}</maximum><center>{}</center></kspace_encoding_step_2>
  </encodingLimits>
  <trajectory>cartesian</trajectory>
  <parallelImaging>
   <accelerationFactor><kspace_encoding_step_1>1</kspace_encoding_step_1><kspace_encoding_step_2>1</kspace_encoding_step_2></accelerationFactor>
   <calibrationMode>embedded</calibrationMode>
  </parallelImaging>
 </encoding>
</ismrmrdHeader>
"#,
        ny - 1,
        ny / 2,
        nz - 1,
        nz / 2
    )
}

/// Reads a BART `.hdr` + `.cfl` pair (`base` without extension): dims and complex samples.
fn read_cfl(base: &Path) -> Result<(Vec<usize>, Vec<C32>), Error> {
    let hdr = std::fs::read_to_string(base.with_extension("hdr"))?;
    let dims: Vec<usize> = hdr
        .lines()
        .find(|l| !l.starts_with('#'))
        .ok_or("cfl header: no dimensions line")?
        .split_whitespace()
        .map(|d| d.parse())
        .collect::<Result<_, _>>()?;
    let bytes = std::fs::read(base.with_extension("cfl"))?;
    let n: usize = dims.iter().product();
    if bytes.len() != n * 8 {
        return Err(format!("{}: {} bytes for {n} samples", base.display(), bytes.len()).into());
    }
    let data = bytes
        .chunks_exact(8)
        .map(|b| {
            C32::new(
                f32::from_le_bytes([b[0], b[1], b[2], b[3]]),
                f32::from_le_bytes([b[4], b[5], b[6], b[7]]),
            )
        })
        .collect();
    Ok((dims, data))
}

/// Writes a BART `.hdr` + `.cfl` pair (`base` without extension).
fn write_cfl(base: &Path, dims: &[usize], data: &[C32]) -> Result<(), Error> {
    let dims_text: Vec<String> = dims.iter().map(|d| d.to_string()).collect();
    std::fs::write(
        base.with_extension("hdr"),
        format!("# Dimensions\n{} \n", dims_text.join(" ")),
    )?;
    let mut bytes = Vec::with_capacity(data.len() * 8);
    for c in data {
        bytes.extend_from_slice(&c.re.to_le_bytes());
        bytes.extend_from_slice(&c.im.to_le_bytes());
    }
    std::fs::write(base.with_extension("cfl"), bytes)?;
    Ok(())
}

/// Generates problem `p` and writes its files into `dir`.
fn generate(dir: &Path, name: &str, p: &Problem) -> Result<String, Error> {
    let (n, nc) = (p.n, p.coils);
    let npix = n * n;
    let sl = SheppLogan2d::new(SheppLoganVariant::Modified);
    let grid = sl.normalised_grid(&[n, n])?;
    let rho = sl.intensity(&grid, 2)?;
    let maps = coil_maps(nc, n);
    let gt: Vec<f32> = (0..npix)
        .map(|i| {
            let s2: f32 = (0..nc).map(|c| maps[c * npix + i].norm_sqr()).sum();
            rho[i].abs() * s2.sqrt()
        })
        .collect();
    let be = CpuBackend::new();
    let img: Vec<C32> = rho.iter().map(|&v| C32::new(v, 0.0)).collect();
    let mut k = be.zeros(nc * npix);
    be.expand_coils(&mut k, &be.upload(&img), &be.upload(&maps));
    be.fft(&mut k, &[nc, n, n], &[1, 2], FftDirection::Forward);
    let mut k = be.download(&k);
    let mut g = Gauss(p.seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1);
    for v in k.iter_mut() {
        let (a, b) = g.pair();
        *v += C32::new(p.sigma * a, p.sigma * b);
    }
    let acs = (n / 2 - p.acs / 2)..(n / 2 - p.acs / 2 + p.acs);
    let sampled: Vec<bool> = (0..n)
        .map(|y| y % p.accel == 0 || acs.contains(&y))
        .collect();
    // ISMRMRD readouts, one per sampled line.
    let lines: Vec<usize> = (0..n).filter(|&y| sampled[y]).collect();
    let mut acqs = Vec::with_capacity(lines.len());
    for (i, &y) in lines.iter().enumerate() {
        let mut h = AcquisitionHeader {
            number_of_samples: n as u16,
            active_channels: nc as u16,
            available_channels: nc as u16,
            center_sample: (n / 2) as u16,
            sample_time_us: 2.0,
            scan_counter: i as u32,
            read_dir: [1.0, 0.0, 0.0],
            phase_dir: [0.0, 1.0, 0.0],
            slice_dir: [0.0, 0.0, 1.0],
            ..Default::default()
        };
        h.idx.kspace_encode_step_1 = y as u16;
        if acs.contains(&y) {
            h.set_flag(if y % p.accel == 0 {
                AcquisitionFlag::IsParallelCalibrationAndImaging
            } else {
                AcquisitionFlag::IsParallelCalibration
            });
        }
        if i == 0 {
            h.set_flag(AcquisitionFlag::FirstInSlice);
        }
        if i + 1 == lines.len() {
            h.set_flag(AcquisitionFlag::LastInSlice);
        }
        let mut a = Acquisition::new(h);
        for c in 0..nc {
            let src = &k[(c * n + y) * n..(c * n + y + 1) * n];
            a.data[c * n..(c + 1) * n].copy_from_slice(src);
        }
        acqs.push(a);
    }
    std::fs::create_dir_all(dir)?;
    let h5 = dir.join(format!("{name}.h5"));
    let mut w = IsmrmrdWriter::create(
        &h5,
        "dataset",
        WriteOptions {
            overwrite: true,
            ..WriteOptions::default()
        },
    )?;
    w.write_xml(&header_xml(p))?;
    w.append_acquisitions(&acqs)?;
    w.finish()?;
    // Zero-filled k-space for BART.
    for c in 0..nc {
        for y in (0..n).filter(|&y| !sampled[y]) {
            k[(c * n + y) * n..(c * n + y + 1) * n].fill(C32::new(0.0, 0.0));
        }
    }
    write_cfl(&dir.join(format!("{name}_k")), &[n, n, 1, nc], &k)?;
    npy::write_npy_f32(dir.join(format!("{name}_gt.npy")), &[n, n], &gt)?;
    Ok(format!(
        "{name}: {n}x{n}, {nc} coils, R={} + {} ACS lines, {} of {n} lines sampled (effective R={:.2}), sigma {}",
        p.accel,
        p.acs,
        lines.len(),
        n as f64 / lines.len() as f64,
        p.sigma
    ))
}

/// Generates the 3-D problem `p` sampled by the mask `mask` (`[kz, ky]`) into `dir`.
fn generate_3d(dir: &Path, name: &str, p: &Problem3, mask: &[bool]) -> Result<String, Error> {
    let [nz, ny, nx] = p.dims;
    let nc = p.coils;
    let npix = nz * ny * nx;
    let sl = SheppLogan3d::new();
    let grid = sl.normalised_grid(&[nx, ny, nz])?;
    let rho = sl.intensity(&grid, 2)?;
    let maps = coil_maps_3d(nc, p.dims);
    let gt: Vec<f32> = (0..npix)
        .map(|i| {
            let s2: f32 = (0..nc).map(|c| maps[c * npix + i].norm_sqr()).sum();
            rho[i].abs() * s2.sqrt()
        })
        .collect();
    let be = CpuBackend::new();
    let img: Vec<C32> = rho.iter().map(|&v| C32::new(v, 0.0)).collect();
    let mut k = be.zeros(nc * npix);
    be.expand_coils(&mut k, &be.upload(&img), &be.upload(&maps));
    drop(maps);
    be.fft(&mut k, &[nc, nz, ny, nx], &[1, 2, 3], FftDirection::Forward);
    let mut k = be.download(&k);
    let mut g = Gauss(p.seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1);
    for v in k.iter_mut() {
        let (a, b) = g.pair();
        *v += C32::new(p.sigma * a, p.sigma * b);
    }
    let acs_z = (nz / 2 - p.acs / 2)..(nz / 2 - p.acs / 2 + p.acs);
    let acs_y = (ny / 2 - p.acs / 2)..(ny / 2 - p.acs / 2 + p.acs);
    let lines: Vec<(usize, usize)> = (0..nz)
        .flat_map(|z| (0..ny).map(move |y| (z, y)))
        .filter(|&(z, y)| mask[z * ny + y])
        .collect();
    let in_acs = |z: usize, y: usize| acs_z.contains(&z) && acs_y.contains(&y);
    let acs_count = lines.iter().filter(|&&(z, y)| in_acs(z, y)).count();
    if acs_count != p.acs * p.acs {
        return Err(format!(
            "gen3: the mask samples {acs_count} of the {0}x{0} calibration lines",
            p.acs
        )
        .into());
    }
    let mut acqs = Vec::with_capacity(lines.len());
    for (i, &(z, y)) in lines.iter().enumerate() {
        let mut h = AcquisitionHeader {
            number_of_samples: nx as u16,
            active_channels: nc as u16,
            available_channels: nc as u16,
            center_sample: (nx / 2) as u16,
            sample_time_us: 2.0,
            scan_counter: i as u32,
            read_dir: [1.0, 0.0, 0.0],
            phase_dir: [0.0, 1.0, 0.0],
            slice_dir: [0.0, 0.0, 1.0],
            ..Default::default()
        };
        h.idx.kspace_encode_step_1 = y as u16;
        h.idx.kspace_encode_step_2 = z as u16;
        if in_acs(z, y) {
            h.set_flag(AcquisitionFlag::IsParallelCalibrationAndImaging);
        }
        if i == 0 {
            h.set_flag(AcquisitionFlag::FirstInSlice);
        }
        if i + 1 == lines.len() {
            h.set_flag(AcquisitionFlag::LastInSlice);
        }
        let mut a = Acquisition::new(h);
        for c in 0..nc {
            let row = ((c * nz + z) * ny + y) * nx;
            a.data[c * nx..(c + 1) * nx].copy_from_slice(&k[row..row + nx]);
        }
        acqs.push(a);
    }
    std::fs::create_dir_all(dir)?;
    let h5 = dir.join(format!("{name}.h5"));
    let mut w = IsmrmrdWriter::create(
        &h5,
        "dataset",
        WriteOptions {
            overwrite: true,
            ..WriteOptions::default()
        },
    )?;
    w.write_xml(&header_xml_3d(p.dims))?;
    w.append_acquisitions(&acqs)?;
    w.finish()?;
    drop(acqs);
    for c in 0..nc {
        for z in 0..nz {
            for y in (0..ny).filter(|&y| !mask[z * ny + y]) {
                let row = ((c * nz + z) * ny + y) * nx;
                k[row..row + nx].fill(C32::new(0.0, 0.0));
            }
        }
    }
    write_cfl(&dir.join(format!("{name}_k")), &[nx, ny, nz, nc], &k)?;
    npy::write_npy_f32(dir.join(format!("{name}_gt.npy")), &[nz, ny, nx], &gt)?;
    Ok(format!(
        "{name}: {nx}x{ny}x{nz}, {nc} coils, {} of {} (ky, kz) lines sampled (effective R={:.2}), {}x{} calibration, sigma {}",
        lines.len(),
        ny * nz,
        (ny * nz) as f64 / lines.len() as f64,
        p.acs,
        p.acs,
        p.sigma
    ))
}

/// The `(ky, kz)` sampling mask `[kz, ky]` from BART `poisson` output of dims `[1, ny, nz]`.
fn read_mask(base: &Path, ny: usize, nz: usize) -> Result<Vec<bool>, Error> {
    let (dims, data) = read_cfl(base)?;
    let n: usize = dims.iter().product();
    if dims.len() < 3 || dims[0] != 1 || dims[1] != ny || dims[2] != nz || n != ny * nz {
        return Err(format!(
            "{}: mask dims {dims:?}, expected [1, {ny}, {nz}]",
            base.display()
        )
        .into());
    }
    // Column major [1, ny, nz]: y fastest, i.e. C order [z, y].
    Ok(data.iter().map(|v| v.norm_sqr() > 0.0).collect())
}

/// Runs the pipeline `runs` times on the raw data in memory; returns the seconds of each run.
fn time(raw: &Path, config: &Path, runs: usize, out: Option<&Path>) -> Result<String, Error> {
    let text = std::fs::read_to_string(config)?;
    let cfg = ReconConfig::from_toml(&text, &config.display().to_string())?;
    let file = IsmrmrdFile::open(raw)?;
    let ds = file.dataset("dataset")?;
    let header = ds.header()?;
    let acqs = ds.read_all_acquisitions()?;
    let be = CpuBackend::new();
    let quiet = |_: &str, _: usize, _: usize| {};
    let mut times = Vec::with_capacity(runs);
    let mut last = None;
    for _ in 0..runs {
        let t0 = Instant::now();
        let r = pipeline::run(&cfg, &header, &acqs, &be, &quiet)?;
        times.push(t0.elapsed().as_secs_f64());
        last = Some(r);
    }
    if let (Some(path), Some(r)) = (out, &last) {
        npy::write_npy_f32(path, &r.shape, &r.magnitude)?;
    }
    Ok(times
        .iter()
        .map(|t| format!("{t:.4}"))
        .collect::<Vec<_>>()
        .join(" "))
}

/// The value after `--name`, parsed, or `default`.
fn opt<T: std::str::FromStr>(args: &[String], name: &str, default: T) -> Result<T, Error> {
    match args.iter().position(|a| a == name) {
        None => Ok(default),
        Some(i) => args
            .get(i + 1)
            .and_then(|v| v.parse().ok())
            .ok_or_else(|| format!("{name}: expected a value").into()),
    }
}

const USAGE: &str = "usage: recon_bench gen DIR NAME --n N --coils C --accel R --acs A [--sigma S] [--seed K]\n       recon_bench gen3 DIR NAME --mask MASK --nx NX --ny NY --nz NZ --coils C --acs A [--sigma S] [--seed K]\n       recon_bench time RAW.h5 CONFIG.toml RUNS [OUT.npy]";

fn run(args: &[String]) -> Result<String, Error> {
    match args {
        [mode, dir, name, rest @ ..] if mode == "gen" => {
            let p = Problem {
                n: opt(rest, "--n", 320)?,
                coils: opt(rest, "--coils", 32)?,
                accel: opt(rest, "--accel", 4)?,
                acs: opt(rest, "--acs", 24)?,
                sigma: opt(rest, "--sigma", 0.005)?,
                seed: opt(rest, "--seed", 1)?,
            };
            if p.n < 8 || p.n > u16::MAX as usize || p.acs > p.n || p.accel == 0 || p.coils == 0 {
                return Err("gen: need 8 <= n <= 65535, acs <= n, accel >= 1, coils >= 1".into());
            }
            generate(Path::new(dir), name, &p)
        }
        [mode, dir, name, rest @ ..] if mode == "gen3" => {
            let mask: String = opt(rest, "--mask", String::new())?;
            let p = Problem3 {
                dims: [
                    opt(rest, "--nz", 64)?,
                    opt(rest, "--ny", 128)?,
                    opt(rest, "--nx", 128)?,
                ],
                coils: opt(rest, "--coils", 16)?,
                acs: opt(rest, "--acs", 24)?,
                sigma: opt(rest, "--sigma", 0.005)?,
                seed: opt(rest, "--seed", 1)?,
            };
            let [nz, ny, _] = p.dims;
            if mask.is_empty()
                || p.dims
                    .iter()
                    .any(|&d| !(8..=u16::MAX as usize).contains(&d))
                || p.acs > ny.min(nz)
                || p.coils == 0
            {
                return Err(
                    "gen3: need --mask, 8 <= nx, ny, nz <= 65535, acs <= ny, nz, coils >= 1".into(),
                );
            }
            let m = read_mask(Path::new(&mask), ny, nz)?;
            generate_3d(Path::new(dir), name, &p, &m)
        }
        [mode, raw, config, runs, rest @ ..] if mode == "time" && rest.len() <= 1 => {
            let runs: usize = runs.parse().map_err(|_| "RUNS: expected a number")?;
            time(
                Path::new(raw),
                Path::new(config),
                runs.max(1),
                rest.first().map(Path::new),
            )
        }
        _ => Err(USAGE.into()),
    }
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match run(&args) {
        Ok(line) => {
            println!("{line}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("recon_bench: {e}");
            ExitCode::FAILURE
        }
    }
}
