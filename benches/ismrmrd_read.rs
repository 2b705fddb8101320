//! Criterion benchmarks for reading ISMRMRD raw data with `accord-ismrmrd`.
//!
//! At start-up two synthetic Cartesian files of [`MEGABYTES`] MiB of samples each (32 channels ×
//! 512 samples per readout, 128 KiB a readout) are written with the library into a temporary
//! directory: one with one acquisition record per HDF5 chunk (`chunk1`, what the ISMRMRD C
//! library and the vendor converters write) and one with Accord's default of 64 (`chunk64`).
//! The groups, all on a warm page cache:
//!
//! - `read_all_acquisitions`: open + read every acquisition into memory, through the direct
//!   payload reader (`fast`) and through libhdf5's variable-length conversion (`libhdf5`,
//!   `with_fast_path(false)`); throughput in sample bytes.
//! - `read_acquisition_headers`: open + headers only (no payloads); throughput in acquisitions.
//! - `acquisitions_stream`: open + the batched streaming iterator (`acquisitions()`), one
//!   acquisition at a time, nothing kept; throughput in sample bytes.
//! - `read_acquisition_random`: 1000 single-record `read_acquisition(i)` calls at fixed
//!   pseudo-random indices on an already-open reader, `fast` and `libhdf5`; throughput in sample
//!   bytes fetched.
//!
//! Run with `cargo bench --bench ismrmrd_read` (or `make bench`).

use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::time::Duration;

use accord_ismrmrd::{Acquisition, AcquisitionHeader, IsmrmrdFile, IsmrmrdWriter, WriteOptions};
use criterion::{BenchmarkId, Criterion, Throughput};
use num_complex::Complex32;

/// Sample payload per file, in MiB.
const MEGABYTES: usize = 64;
/// Channels per readout.
const CHANNELS: u16 = 32;
/// Samples per channel per readout.
const SAMPLES: u16 = 512;
/// Single-record reads per iteration of the random-access bench.
const RANDOM_READS: usize = 1000;

const XML: &str = r#"<?xml version="1.0"?>
<ismrmrdHeader xmlns="http://www.ismrm.org/ISMRMRD">
  <experimentalConditions><H1resonanceFrequency_Hz>123200000</H1resonanceFrequency_Hz></experimentalConditions>
  <encoding>
    <encodedSpace><matrixSize><x>512</x><y>256</y><z>1</z></matrixSize><fieldOfView_mm><x>512</x><y>256</y><z>5</z></fieldOfView_mm></encodedSpace>
    <reconSpace><matrixSize><x>256</x><y>256</y><z>1</z></matrixSize><fieldOfView_mm><x>256</x><y>256</y><z>5</z></fieldOfView_mm></reconSpace>
    <encodingLimits><kspace_encoding_step_1><minimum>0</minimum><maximum>255</maximum><center>128</center></kspace_encoding_step_1></encodingLimits>
    <trajectory>cartesian</trajectory>
  </encoding>
</ismrmrdHeader>
"#;

/// A deterministic xorshift64 generator (noise-like samples, random indices).
struct XorShift(u64);

impl XorShift {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

fn bytes_per_acquisition() -> usize {
    8 * CHANNELS as usize * SAMPLES as usize
}

fn acquisition_count() -> usize {
    (MEGABYTES << 20) / bytes_per_acquisition()
}

/// Writes a synthetic file with `chunk_records` records per HDF5 chunk.
fn write_file(path: &Path, chunk_records: usize) {
    let opts = WriteOptions {
        overwrite: true,
        chunk_records,
    };
    let mut w = IsmrmrdWriter::create(path, "dataset", opts).expect("create bench file");
    w.write_xml(XML).expect("write xml");
    let mut rng = XorShift(0x2545_f491_4f6c_dd1d);
    let mut batch = Vec::with_capacity(64);
    for i in 0..acquisition_count() {
        let mut h = AcquisitionHeader {
            number_of_samples: SAMPLES,
            active_channels: CHANNELS,
            available_channels: CHANNELS,
            center_sample: SAMPLES / 2,
            scan_counter: i as u32,
            ..Default::default()
        };
        h.idx.kspace_encode_step_1 = (i % 256) as u16;
        h.idx.repetition = (i / 256) as u16;
        let mut a = Acquisition::new(h);
        for c in a.data.iter_mut() {
            let s = rng.next();
            *c = Complex32::new(
                (s as u32) as f32 / 4.3e9 - 0.5,
                (s >> 32) as f32 / 4.3e9 - 0.5,
            );
        }
        batch.push(a);
        if batch.len() == batch.capacity() {
            w.append_acquisitions(&batch).expect("append");
            batch.clear();
        }
    }
    w.append_acquisitions(&batch).expect("append");
    w.finish().expect("finish bench file");
}

/// Total sample bytes of a set of acquisitions (also keeps the result alive).
fn sample_bytes(acqs: &[Acquisition]) -> usize {
    acqs.iter().map(|a| 8 * a.data.len()).sum()
}

fn read_all(path: &Path, fast: bool) -> Vec<Acquisition> {
    let file = IsmrmrdFile::open(path).expect("open");
    file.dataset("dataset")
        .expect("dataset")
        .with_fast_path(fast)
        .read_all_acquisitions()
        .expect("read_all_acquisitions")
}

fn benches(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("temp dir");
    let files: Vec<(&str, PathBuf)> = [("chunk1", 1), ("chunk64", 64)]
        .into_iter()
        .map(|(name, chunk)| {
            let path = dir.path().join(format!("{name}.h5"));
            write_file(&path, chunk);
            (name, path)
        })
        .collect();
    let count = acquisition_count();
    let total_bytes = (count * bytes_per_acquisition()) as u64;

    // Sanity: both paths read the whole file and agree on the amount of data.
    for (_, path) in &files {
        let fast = read_all(path, true);
        let slow = read_all(path, false);
        assert_eq!(fast.len(), count);
        assert_eq!(sample_bytes(&fast) as u64, total_bytes);
        assert_eq!(fast[count - 1].data, slow[count - 1].data);
    }

    let mut g = c.benchmark_group("read_all_acquisitions");
    g.throughput(Throughput::Bytes(total_bytes));
    for (name, path) in &files {
        for (label, fast) in [("fast", true), ("libhdf5", false)] {
            g.bench_with_input(BenchmarkId::new(label, name), path, |b, path| {
                b.iter(|| black_box(read_all(path, fast)))
            });
        }
    }
    g.finish();

    let mut g = c.benchmark_group("read_acquisition_headers");
    g.throughput(Throughput::Elements(count as u64));
    for (name, path) in &files {
        g.bench_with_input(BenchmarkId::from_parameter(name), path, |b, path| {
            b.iter(|| {
                let file = IsmrmrdFile::open(path).expect("open");
                let heads = file
                    .dataset("dataset")
                    .expect("dataset")
                    .read_acquisition_headers()
                    .expect("headers");
                black_box(heads)
            })
        });
    }
    g.finish();

    let mut g = c.benchmark_group("acquisitions_stream");
    g.throughput(Throughput::Bytes(total_bytes));
    for (name, path) in &files {
        g.bench_with_input(BenchmarkId::from_parameter(name), path, |b, path| {
            b.iter(|| {
                let file = IsmrmrdFile::open(path).expect("open");
                let reader = file.dataset("dataset").expect("dataset");
                let mut n = 0usize;
                let mut checksum = 0f32;
                for a in reader.acquisitions().expect("stream") {
                    let a = a.expect("acquisition");
                    checksum += a.data[0].re;
                    n += 1;
                }
                assert_eq!(n, count);
                black_box(checksum)
            })
        });
    }
    g.finish();

    let mut rng = XorShift(0x9e37_79b9_7f4a_7c15);
    let indices: Vec<u64> = (0..RANDOM_READS)
        .map(|_| rng.next() % count as u64)
        .collect();
    let mut g = c.benchmark_group("read_acquisition_random");
    g.throughput(Throughput::Bytes(
        (RANDOM_READS * bytes_per_acquisition()) as u64,
    ));
    g.measurement_time(Duration::from_secs(5));
    for (name, path) in &files {
        let file = IsmrmrdFile::open(path).expect("open");
        for (label, fast) in [("fast", true), ("libhdf5", false)] {
            let reader = file
                .dataset("dataset")
                .expect("dataset")
                .with_fast_path(fast);
            g.bench_with_input(BenchmarkId::new(label, name), &indices, |b, indices| {
                b.iter(|| {
                    let mut checksum = 0f32;
                    for &i in indices {
                        checksum += reader.read_acquisition(i).expect("read").data[0].re;
                    }
                    black_box(checksum)
                })
            });
        }
    }
    g.finish();

    drop(dir);
}

fn main() {
    let mut c = Criterion::default()
        .sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3))
        .configure_from_args();
    benches(&mut c);
    c.final_summary();
}
