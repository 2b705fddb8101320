//! `accord recon RAW.h5 --config CONFIG.toml -o OUT [--backend cpu] [--complex] [--preview P.png]
//! [--force] [--quiet]` and `accord recon --explain --config CONFIG.toml`: the reconstruction
//! of ISMRMRD raw data by one configuration. The output format follows the extension: `.npy`
//! (float32 magnitude, complex64 with `--complex`), `.nii` / `.nii.gz` (NIfTI-1 with the
//! scanner geometry) or `.h5` (ISMRMRD images); a JSON provenance sidecar goes beside it.

use std::io::Read;
use std::path::{Path, PathBuf};

use accord_ismrmrd::{IsmrmrdFile, IsmrmrdWriter};
use accord_phantoms::output::write_atomic;
use accord_recon::config::{CombineMethod, ReconConfig, Stage};
use accord_recon::io::nifti::{self, NiftiData, NiftiGeometry};
use accord_recon::io::npy;
use accord_recon::pipeline::{self, ReconOutput};
use accord_recon::provenance::Provenance;
use accord_recon::{C32, CpuBackend, Device};
use clap::Args;
use sha2::Digest;

/// Arguments of `accord recon`.
#[derive(Args)]
pub struct ReconArgs {
    /// ISMRMRD raw-data file (HDF5, group `dataset`).
    pub raw: Option<PathBuf>,
    /// Reconstruction configuration (TOML); see `examples/recon/`.
    #[arg(long)]
    pub config: PathBuf,
    /// Output file: `.npy`, `.nii`, `.nii.gz` or `.h5` (ISMRMRD images).
    #[arg(short, long)]
    pub output: Option<PathBuf>,
    /// Backend: `cpu`, `cuda` or `cuda:N` (overrides `[backend] device` of the config).
    #[arg(long)]
    pub backend: Option<String>,
    /// Write complex images instead of magnitude.
    #[arg(long)]
    pub complex: bool,
    /// Also write a PNG preview (the middle image of the first volume).
    #[arg(long)]
    pub preview: Option<PathBuf>,
    /// Print the resolved pipeline with every default, then exit.
    #[arg(long)]
    pub explain: bool,
    /// Replace existing output files.
    #[arg(long)]
    pub force: bool,
    /// No progress bar.
    #[arg(long)]
    pub quiet: bool,
}

type Error = Box<dyn std::error::Error>;

/// Output formats by extension.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Format {
    Npy,
    Nifti { gzip: bool },
    Ismrmrd,
}

fn format_of(path: &Path) -> Result<Format, Error> {
    let name = path.to_string_lossy().to_ascii_lowercase();
    Ok(if name.ends_with(".npy") {
        Format::Npy
    } else if name.ends_with(".nii.gz") {
        Format::Nifti { gzip: true }
    } else if name.ends_with(".nii") {
        Format::Nifti { gzip: false }
    } else if name.ends_with(".h5") {
        Format::Ismrmrd
    } else {
        return Err(format!(
            "{}: unknown output format; use .npy, .nii, .nii.gz or .h5",
            path.display()
        )
        .into());
    })
}

/// `out.nii.gz` → `out.json` (the provenance sidecar).
fn sidecar_path(output: &Path) -> PathBuf {
    let name = output
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let stem = [".nii.gz", ".npy", ".nii", ".h5"]
        .iter()
        .find_map(|ext| {
            name.to_ascii_lowercase()
                .ends_with(ext)
                .then(|| name[..name.len() - ext.len()].to_string())
        })
        .unwrap_or(name);
    output.with_file_name(format!("{stem}.json"))
}

fn sha256_file(path: &Path) -> Result<String, Error> {
    let mut f = std::fs::File::open(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let mut h = sha2::Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = f
            .read(&mut buf)
            .map_err(|e| format!("{}: {e}", path.display()))?;
        if n == 0 {
            break;
        }
        h.update(&buf[..n]);
    }
    Ok(h.finalize().iter().map(|b| format!("{b:02x}")).collect())
}

/// Whether the configured pipeline ends with complex images.
fn gives_complex(cfg: &ReconConfig) -> bool {
    cfg.stages.iter().any(|s| {
        matches!(
            s,
            Stage::Sense { .. }
                | Stage::Cs { .. }
                | Stage::Combine {
                    method: CombineMethod::Sensitivity
                }
        )
    })
}

/// Runs the subcommand.
pub fn run(args: &ReconArgs) -> Result<(), Error> {
    let text = std::fs::read_to_string(&args.config)
        .map_err(|e| format!("{}: {e}", args.config.display()))?;
    let mut cfg = ReconConfig::from_toml(&text, &args.config.display().to_string())?;
    if let Some(b) = &args.backend {
        cfg.backend.device = b.clone();
        cfg.check()?;
    }
    if args.complex {
        cfg.output.complex = true;
    }
    if args.explain {
        print!("{}", cfg.explain());
        return Ok(());
    }
    let raw = args.raw.as_ref().ok_or("give the raw-data file (RAW.h5)")?;
    let output = args.output.as_ref().ok_or("give the output file with -o")?;
    let format = format_of(output)?;
    let sidecar = sidecar_path(output);
    if cfg.output.complex && !gives_complex(&cfg) {
        return Err(format!(
            "{}: --complex needs a stage that keeps the phase (sense, cs, or combine with method = \"sensitivity\"); RSS gives magnitude only",
            args.config.display()
        )
        .into());
    }
    if !args.force {
        for p in [Some(output), Some(&sidecar), args.preview.as_ref()]
            .into_iter()
            .flatten()
        {
            if p.exists() {
                return Err(format!("{}: exists (use --force to replace it)", p.display()).into());
            }
        }
    }
    let device = Device::parse(&cfg.backend.device)?;
    device.check_available()?;
    let be = CpuBackend::new();

    let file = IsmrmrdFile::open(raw)?;
    let ds = file.dataset("dataset")?;
    let header = ds.header()?;
    let acquisitions = ds.read_all_acquisitions()?;
    let bar = progress_bar(args.quiet);
    let report = |what: &str, done: usize, total: usize| {
        if let Some(b) = &bar {
            b.set_length(total as u64);
            b.set_position(done as u64);
            b.set_message(what.to_string());
        }
    };
    let out =
        pipeline::run(&cfg, &header, &acquisitions, &be, &report).map_err(|e| e.with_file(raw))?;
    if let Some(b) = &bar {
        b.finish_and_clear();
    }

    let mut prov = Provenance::new(
        &cfg,
        &device.to_string(),
        &raw.display().to_string(),
        &sha256_file(raw)?,
    );
    prov.stages = out.stages.clone();
    prov.output_shape = out.shape.clone();
    prov.output_axes = out.axes.clone();
    prov.output_dtype = if cfg.output.complex {
        "complex64"
    } else {
        "float32"
    }
    .into();

    let complex = if cfg.output.complex {
        out.complex.as_deref()
    } else {
        None
    };
    match format {
        Format::Npy => {
            let data = match complex {
                Some(c) => npy::NpyData::C64(c.to_vec()),
                None => npy::NpyData::F32(out.magnitude.clone()),
            };
            let bytes = npy::encode_npy(&npy::NpyArray {
                shape: out.shape.clone(),
                data,
            })?;
            write_atomic(output, &bytes, args.force)?;
        }
        Format::Nifti { gzip } => {
            let (shape, data) = nifti_order(&out, complex);
            let geometry = nifti_geometry(&out);
            let bytes = match &data {
                Voxels::F32(v) => nifti::encode(NiftiData::F32(v), &shape, &geometry, gzip)?,
                Voxels::C32(v) => nifti::encode(NiftiData::C64(v), &shape, &geometry, gzip)?,
            };
            write_atomic(output, &bytes, args.force)?;
        }
        Format::Ismrmrd => write_ismrmrd(output, &ds.xml_text()?, &out, complex, args.force)?,
    }
    write_atomic(&sidecar, prov.to_json().as_bytes(), args.force)?;
    if let Some(p) = &args.preview {
        write_atomic(p, &preview_png(&out)?, args.force)?;
    }
    if !args.quiet {
        eprintln!(
            "accord recon: {} {:?} ({}) → {}",
            raw.display(),
            out.shape,
            out.axes.join(", "),
            output.display()
        );
    }
    Ok(())
}

fn progress_bar(quiet: bool) -> Option<indicatif::ProgressBar> {
    use std::io::IsTerminal;
    if quiet || !std::io::stderr().is_terminal() {
        return None;
    }
    let b = indicatif::ProgressBar::new(1);
    if let Ok(style) = indicatif::ProgressStyle::with_template("{msg} [{bar:30}] {pos}/{len}") {
        b.set_style(style);
    }
    Some(b)
}

enum Voxels {
    F32(Vec<f32>),
    C32(Vec<C32>),
}

/// The array for NIfTI: a `slice` axis of 2-D data becomes z (moved next to y), so that
/// slices stack in space and the other counters become the 4th and later dimensions.
fn nifti_order(out: &ReconOutput, complex: Option<&[C32]>) -> (Vec<usize>, Voxels) {
    let data = match complex {
        Some(c) => Voxels::C32(c.to_vec()),
        None => Voxels::F32(out.magnitude.clone()),
    };
    let Some(s) = out.axes.iter().position(|a| a == "slice") else {
        return (out.shape.clone(), data);
    };
    if out.axes.iter().any(|a| a == "z") || s + 3 == out.shape.len() {
        return (out.shape.clone(), data);
    }
    // Move axis s to position len-3 (just before y).
    let d = out.shape.len();
    let mut perm: Vec<usize> = (0..d).filter(|&k| k != s).collect();
    perm.insert(d - 3, s);
    let new_shape: Vec<usize> = perm.iter().map(|&k| out.shape[k]).collect();
    let strides: Vec<usize> = (0..d)
        .map(|k| out.shape[k + 1..].iter().product())
        .collect();
    let n: usize = out.shape.iter().product();
    let src_index = |flat: usize| {
        let mut rem = flat;
        let mut src = 0;
        for (pos, &k) in perm.iter().enumerate() {
            let inner: usize = new_shape[pos + 1..].iter().product();
            let i = rem / inner;
            rem %= inner;
            src += i * strides[k];
        }
        src
    };
    let data = match data {
        Voxels::F32(v) => Voxels::F32((0..n).map(|f| v[src_index(f)]).collect()),
        Voxels::C32(v) => Voxels::C32((0..n).map(|f| v[src_index(f)]).collect()),
    };
    (new_shape, data)
}

fn nifti_geometry(out: &ReconOutput) -> NiftiGeometry {
    let g = &out.geometry;
    let n = |name: &str| {
        out.axes
            .iter()
            .position(|a| a == name)
            .map_or(1, |k| out.shape[k])
    };
    let (nx, ny) = (n("x"), n("y"));
    let f = |v: [f32; 3]| v.map(f64::from);
    if g.slice_positions.is_empty() || g.read_dir == [0.0; 3] {
        return NiftiGeometry::identity();
    }
    let slices = &g.slice_positions;
    let (nz, dz) = if out.axes.iter().any(|a| a == "z") {
        let nz = n("z");
        (nz, f64::from(g.fov_mm[2]) / nz.max(1) as f64)
    } else if slices.len() > 1 {
        let d: f64 = (0..3)
            .map(|k| f64::from(slices[1][k] - slices[0][k]).powi(2))
            .sum::<f64>()
            .sqrt();
        (slices.len(), d)
    } else {
        (1, f64::from(g.fov_mm[2]))
    };
    // Voxel N/2 is the geometry's centre: the middle slice of a 2-D stack (slices ascend by
    // `idx.slice`), the position of a 3-D volume.
    let centre = f(slices[(nz / 2).min(slices.len() - 1)]);
    NiftiGeometry {
        voxel_mm: [
            f64::from(g.fov_mm[0]) / nx as f64,
            f64::from(g.fov_mm[1]) / ny as f64,
            dz,
        ],
        centre_lps_mm: centre,
        read_dir: f(g.read_dir),
        phase_dir: f(g.phase_dir),
        slice_dir: f(g.slice_dir),
    }
}

/// One ISMRMRD image per `[(z), y, x]` image of the output, with the counters and geometry.
fn write_ismrmrd(
    path: &Path,
    xml: &str,
    out: &ReconOutput,
    complex: Option<&[C32]>,
    force: bool,
) -> Result<(), Error> {
    use accord_ismrmrd::image::{Image, ImageHeader};
    use accord_ismrmrd::{ArrayData, WriteOptions};
    let spatial = out
        .axes
        .iter()
        .filter(|a| matches!(a.as_str(), "z" | "y" | "x"))
        .count();
    let lead = out.shape.len() - spatial;
    let dims: Vec<usize> = out.shape[lead..].to_vec();
    let (nz, ny, nx) = match dims.as_slice() {
        [z, y, x] => (*z, *y, *x),
        [y, x] => (1, *y, *x),
        _ => return Err("the output has no [y, x] image axes".into()),
    };
    let per = nz * ny * nx;
    let n_images = out.magnitude.len() / per.max(1);
    let mut images = Vec::with_capacity(n_images);
    for i in 0..n_images {
        let mut h = ImageHeader {
            matrix_size: [nx as u16, ny as u16, nz as u16],
            field_of_view: out.geometry.fov_mm,
            read_dir: out.geometry.read_dir,
            phase_dir: out.geometry.phase_dir,
            slice_dir: out.geometry.slice_dir,
            image_index: (i + 1) as u16,
            image_series_index: 1,
            image_type: if complex.is_some() { 5 } else { 1 },
            ..ImageHeader::default()
        };
        // Counters from the leading axes.
        let mut rem = i;
        for k in (0..lead).rev() {
            let v = (rem % out.shape[k]) as u16;
            rem /= out.shape[k];
            match out.axes[k].as_str() {
                "slice" => h.slice = v,
                "contrast" => h.contrast = v,
                "repetition" => h.repetition = v,
                "average" => h.average = v,
                "set" => h.set = v,
                "phase" => h.phase = v,
                _ => {}
            }
        }
        if let Some(p) = out
            .geometry
            .slice_positions
            .get(usize::from(h.slice))
            .or(out.geometry.slice_positions.first())
        {
            h.position = *p;
        }
        let shape = ndarray::Ix4(1, nz, ny, nx);
        let data = match complex {
            Some(c) => ArrayData::C32(ndarray::Array4::from_shape_vec(
                shape,
                c[i * per..(i + 1) * per].to_vec(),
            )?),
            None => ArrayData::F32(ndarray::Array4::from_shape_vec(
                shape,
                out.magnitude[i * per..(i + 1) * per].to_vec(),
            )?),
        };
        images.push(Image::new(h, String::new(), data));
    }
    let mut w = IsmrmrdWriter::create(
        path,
        "dataset",
        WriteOptions {
            overwrite: force,
            ..WriteOptions::default()
        },
    )?;
    w.write_xml(xml)?;
    w.append_images("image_0", &images)?;
    w.finish()?;
    Ok(())
}

/// An 8-bit PNG of the middle `[y, x]` image of the first volume, scaled to the 99.5th
/// percentile.
fn preview_png(out: &ReconOutput) -> Result<Vec<u8>, Error> {
    let d = out.shape.len();
    let (ny, nx) = (out.shape[d - 2], out.shape[d - 1]);
    let nz = if out.axes.iter().any(|a| a == "z") {
        out.shape[d - 3]
    } else {
        1
    };
    let start = (nz / 2) * ny * nx;
    let img = &out.magnitude[start..start + ny * nx];
    let mut sorted: Vec<f32> = img.iter().copied().filter(|v| v.is_finite()).collect();
    sorted.sort_by(f32::total_cmp);
    let top = sorted
        .get(((sorted.len() as f64) * 0.995) as usize)
        .or(sorted.last())
        .copied()
        .unwrap_or(1.0)
        .max(f32::MIN_POSITIVE);
    let pixels: Vec<u8> = img
        .iter()
        .map(|v| ((v / top).clamp(0.0, 1.0) * 255.0).round() as u8)
        .collect();
    let gray = image::GrayImage::from_raw(nx as u32, ny as u32, pixels)
        .ok_or("preview: image size mismatch")?;
    let mut bytes = std::io::Cursor::new(Vec::new());
    gray.write_to(&mut bytes, image::ImageFormat::Png)?;
    Ok(bytes.into_inner())
}
