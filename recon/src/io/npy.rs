//! A small `.npy` reader and writer: little-endian float32 (`<f4`) and complex64 (`<c8`),
//! C order (`fortran_order: False`). Reads format versions 1.0, 2.0 and 3.0; writes 1.0
//! (2.0 when the header does not fit 1.0's 16-bit length). Writes are atomic: a temporary file
//! in the same folder, then a rename. Every error names the file.

use std::io::Write;
use std::path::{Path, PathBuf};

use crate::backend::C32;
use crate::error::{ReconError, Result};

const MAGIC: &[u8; 6] = b"\x93NUMPY";

/// The element data of an `.npy` array.
#[derive(Debug, Clone, PartialEq)]
pub enum NpyData {
    /// `<f4`
    F32(Vec<f32>),
    /// `<c8`
    C64(Vec<C32>),
}

/// An `.npy` array: shape (C order) and data.
#[derive(Debug, Clone, PartialEq)]
pub struct NpyArray {
    /// The shape; `[]` for a scalar.
    pub shape: Vec<usize>,
    /// The elements.
    pub data: NpyData,
}

fn format_error(path: &Path, what: impl Into<String>) -> ReconError {
    ReconError::data(what).with_file(path)
}

fn io_error(path: &Path, source: std::io::Error) -> ReconError {
    ReconError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// Parses the bytes of an `.npy` file (`path` only names it in errors).
pub fn parse_npy(bytes: &[u8], path: &Path) -> Result<NpyArray> {
    if bytes.len() < 10 || &bytes[..6] != MAGIC {
        return Err(format_error(path, "not an .npy file (no \\x93NUMPY magic)"));
    }
    let (major, minor) = (bytes[6], bytes[7]);
    let (hlen, start) = match major {
        1 => (usize::from(u16::from_le_bytes([bytes[8], bytes[9]])), 10),
        2 | 3 if bytes.len() >= 12 => (
            u32::from_le_bytes([bytes[8], bytes[9], bytes[10], bytes[11]]) as usize,
            12,
        ),
        _ => {
            return Err(format_error(
                path,
                format!(".npy format version {major}.{minor} is not supported"),
            ));
        }
    };
    let header = bytes
        .get(start..start + hlen)
        .ok_or_else(|| format_error(path, "truncated .npy header"))?;
    let header =
        std::str::from_utf8(header).map_err(|_| format_error(path, ".npy header is not text"))?;
    let descr = dict_value(header, "descr")
        .ok_or_else(|| format_error(path, format!("no 'descr' in the .npy header {header:?}")))?;
    let descr = descr.trim_matches(|c| c == '\'' || c == '"');
    let fortran = dict_value(header, "fortran_order").ok_or_else(|| {
        format_error(
            path,
            format!("no 'fortran_order' in the .npy header {header:?}"),
        )
    })?;
    if fortran != "False" {
        return Err(format_error(
            path,
            "Fortran-order .npy arrays are not supported (save with C order)",
        ));
    }
    let shape_text = dict_value(header, "shape")
        .ok_or_else(|| format_error(path, format!("no 'shape' in the .npy header {header:?}")))?;
    let shape = parse_shape(shape_text)
        .ok_or_else(|| format_error(path, format!("bad .npy shape {shape_text:?}")))?;
    let count = shape
        .iter()
        .try_fold(1usize, |a, &b| a.checked_mul(b))
        .ok_or_else(|| format_error(path, format!("shape {shape:?} overflows")))?;
    let body = &bytes[start + hlen..];
    let elem = match descr {
        "<f4" => 4,
        "<c8" => 8,
        other => {
            return Err(format_error(
                path,
                format!("dtype '{other}' is not supported (float32 '<f4' or complex64 '<c8')"),
            ));
        }
    };
    let need = count
        .checked_mul(elem)
        .ok_or_else(|| format_error(path, format!("shape {shape:?} overflows")))?;
    if body.len() < need {
        return Err(format_error(
            path,
            format!(
                "truncated .npy data: shape {shape:?} of '{descr}' needs {need} bytes, the file has {}",
                body.len()
            ),
        ));
    }
    let f = |c: &[u8]| f32::from_le_bytes([c[0], c[1], c[2], c[3]]);
    let data = if elem == 4 {
        NpyData::F32(body[..need].chunks_exact(4).map(f).collect())
    } else {
        NpyData::C64(
            body[..need]
                .chunks_exact(8)
                .map(|c| C32::new(f(&c[..4]), f(&c[4..])))
                .collect(),
        )
    };
    Ok(NpyArray { shape, data })
}

/// The text of `key`'s value in the header dictionary (up to the next top-level comma).
fn dict_value<'a>(header: &'a str, key: &str) -> Option<&'a str> {
    let pos = header
        .find(&format!("'{key}'"))
        .or_else(|| header.find(&format!("\"{key}\"")))?;
    let rest = &header[pos + key.len() + 2..];
    let rest = rest.trim_start().strip_prefix(':')?.trim_start();
    let mut depth = 0i32;
    for (i, ch) in rest.char_indices() {
        match ch {
            '(' | '[' => depth += 1,
            ')' | ']' => depth -= 1,
            ',' | '}' if depth == 0 => return Some(rest[..i].trim()),
            _ => {}
        }
        if depth < 0 {
            return None;
        }
    }
    None
}

fn parse_shape(s: &str) -> Option<Vec<usize>> {
    let inner = s.strip_prefix('(')?.strip_suffix(')')?;
    inner
        .split(',')
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .map(|t| t.trim_end_matches('L').parse().ok())
        .collect()
}

/// Reads an `.npy` file of float32 or complex64.
pub fn read_npy(path: impl AsRef<Path>) -> Result<NpyArray> {
    let path = path.as_ref();
    let bytes = std::fs::read(path).map_err(|e| io_error(path, e))?;
    parse_npy(&bytes, path)
}

/// Reads a float32 `.npy` file: `(shape, data)`.
pub fn read_npy_f32(path: impl AsRef<Path>) -> Result<(Vec<usize>, Vec<f32>)> {
    let path = path.as_ref();
    match read_npy(path)? {
        NpyArray {
            shape,
            data: NpyData::F32(d),
        } => Ok((shape, d)),
        _ => Err(format_error(
            path,
            "expected a float32 ('<f4') array, found complex64",
        )),
    }
}

/// Reads a complex64 `.npy` file: `(shape, data)`.
pub fn read_npy_c64(path: impl AsRef<Path>) -> Result<(Vec<usize>, Vec<C32>)> {
    let path = path.as_ref();
    match read_npy(path)? {
        NpyArray {
            shape,
            data: NpyData::C64(d),
        } => Ok((shape, d)),
        _ => Err(format_error(
            path,
            "expected a complex64 ('<c8') array, found float32",
        )),
    }
}

/// The bytes of an `.npy` file (format 1.0, or 2.0 for a header over 65535 bytes).
pub fn encode_npy(array: &NpyArray) -> Result<Vec<u8>> {
    let (descr, n) = match &array.data {
        NpyData::F32(d) => ("<f4", d.len()),
        NpyData::C64(d) => ("<c8", d.len()),
    };
    if array.shape.iter().product::<usize>() != n {
        return Err(ReconError::shape(
            "encode_npy",
            format!("shape {:?} for {n} elements", array.shape),
        ));
    }
    let shape = match array.shape.as_slice() {
        [one] => format!("({one},)"),
        s => format!(
            "({})",
            s.iter()
                .map(usize::to_string)
                .collect::<Vec<_>>()
                .join(", ")
        ),
    };
    let mut dict = format!("{{'descr': '{descr}', 'fortran_order': False, 'shape': {shape}, }}");
    // Pad with spaces + '\n' so that the data start on a 64-byte boundary.
    let v1 = dict.len() + 1 + 63 <= usize::from(u16::MAX);
    let pre = if v1 { 10 } else { 12 };
    let pad = (64 - (pre + dict.len() + 1) % 64) % 64;
    dict.push_str(&" ".repeat(pad));
    dict.push('\n');
    let mut out = Vec::with_capacity(pre + dict.len() + n * 8);
    out.extend_from_slice(MAGIC);
    if v1 {
        out.extend_from_slice(&[1, 0]);
        out.extend_from_slice(&(dict.len() as u16).to_le_bytes());
    } else {
        out.extend_from_slice(&[2, 0]);
        out.extend_from_slice(&(dict.len() as u32).to_le_bytes());
    }
    out.extend_from_slice(dict.as_bytes());
    match &array.data {
        NpyData::F32(d) => d
            .iter()
            .for_each(|v| out.extend_from_slice(&v.to_le_bytes())),
        NpyData::C64(d) => d.iter().for_each(|v| {
            out.extend_from_slice(&v.re.to_le_bytes());
            out.extend_from_slice(&v.im.to_le_bytes());
        }),
    }
    Ok(out)
}

/// Writes `array` to `path` atomically (temporary file in the same folder, then rename).
pub fn write_npy(path: impl AsRef<Path>, array: &NpyArray) -> Result<()> {
    let path = path.as_ref();
    let bytes = encode_npy(array).map_err(|e| match e {
        ReconError::Shape { what, .. } => format_error(path, what),
        e => e,
    })?;
    let tmp = temp_path(path);
    let result = (|| {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(&bytes)?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    result.map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        io_error(path, e)
    })
}

fn temp_path(path: &Path) -> PathBuf {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "array.npy".into());
    path.with_file_name(format!(".{name}.tmp{}", std::process::id()))
}

/// Writes a float32 array of shape `shape` to `path` (atomic).
pub fn write_npy_f32(path: impl AsRef<Path>, shape: &[usize], data: &[f32]) -> Result<()> {
    write_npy(
        path,
        &NpyArray {
            shape: shape.to_vec(),
            data: NpyData::F32(data.to_vec()),
        },
    )
}

/// Writes a complex64 array of shape `shape` to `path` (atomic).
pub fn write_npy_c64(path: impl AsRef<Path>, shape: &[usize], data: &[C32]) -> Result<()> {
    write_npy(
        path,
        &NpyArray {
            shape: shape.to_vec(),
            data: NpyData::C64(data.to_vec()),
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_f32_and_c64() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("a.npy");
        let d: Vec<f32> = (0..24).map(|i| i as f32 * 0.5 - 3.0).collect();
        write_npy_f32(&p, &[2, 3, 4], &d).unwrap();
        assert_eq!(read_npy_f32(&p).unwrap(), (vec![2, 3, 4], d.clone()));
        // Header is 64-byte aligned, version 1.0.
        let bytes = std::fs::read(&p).unwrap();
        assert_eq!(&bytes[6..8], &[1, 0]);
        assert_eq!((bytes.len() - 24 * 4) % 64, 0);

        let q = dir.path().join("b.npy");
        let c: Vec<C32> = (0..5)
            .map(|i| C32::new(i as f32, -(i as f32) * 2.0))
            .collect();
        write_npy_c64(&q, &[5], &c).unwrap();
        assert_eq!(read_npy_c64(&q).unwrap(), (vec![5], c));
        // Wrong type and no temporary files left behind.
        assert!(read_npy_f32(&q).unwrap_err().to_string().contains("b.npy"));
        let names: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
        assert_eq!(names.len(), 2);
        // Scalar shape.
        write_npy_f32(&p, &[], &[7.0]).unwrap();
        assert_eq!(read_npy_f32(&p).unwrap(), (vec![], vec![7.0]));
    }

    #[test]
    fn parses_numpy_headers_and_names_the_file_in_errors() {
        let p = Path::new("x.npy");
        let mut b = MAGIC.to_vec();
        let h = "{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }          \n";
        b.extend_from_slice(&[1, 0]);
        b.extend_from_slice(&(h.len() as u16).to_le_bytes());
        b.extend_from_slice(h.as_bytes());
        b.extend_from_slice(&1.5f32.to_le_bytes());
        b.extend_from_slice(&2.5f32.to_le_bytes());
        let a = parse_npy(&b, p).unwrap();
        assert_eq!(a.shape, vec![2]);
        assert_eq!(a.data, NpyData::F32(vec![1.5, 2.5]));
        let e = parse_npy(&b[..b.len() - 2], p).unwrap_err().to_string();
        assert!(e.contains("x.npy") && e.contains("truncated"), "{e}");
        let e = parse_npy(b"hello world", p).unwrap_err().to_string();
        assert!(e.contains("x.npy") && e.contains("magic"), "{e}");
        let e = read_npy("/nonexistent/y.npy").unwrap_err().to_string();
        assert!(e.contains("y.npy"), "{e}");
        let f = String::from_utf8_lossy(&b).replace("False", "True ");
        let e = parse_npy(f.as_bytes(), p);
        assert!(e.is_err());
    }
}
