//! Writes a synthetic Cartesian ISMRMRD raw-data file of a given size, for benchmarks.
//!
//! `cargo run --release --example make_raw_file -- OUT.h5 [--megabytes 1024] [--chunk 1]
//!  [--channels 32] [--samples 512]`
//!
//! `--chunk 1` stores one acquisition per HDF5 chunk, as the ISMRMRD C library (and so
//! siemens_to_ismrmrd and most converters) do.

use accord_ismrmrd::{
    Acquisition, AcquisitionFlag, AcquisitionHeader, IsmrmrdWriter, WriteOptions,
};
use num_complex::Complex32;

fn arg(args: &[String], name: &str, default: usize) -> usize {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .map_or(default, |v| v.parse().expect("a number"))
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let out = args.first().ok_or(
        "usage: make_raw_file OUT.h5 [--megabytes N] [--chunk N] [--channels N] [--samples N]",
    )?;
    let megabytes = arg(&args, "--megabytes", 1024);
    let chunk = arg(&args, "--chunk", 1);
    let channels = arg(&args, "--channels", 32) as u16;
    let samples = arg(&args, "--samples", 512) as u16;
    let bytes_per_acq = 8 * channels as usize * samples as usize;
    let count = (megabytes << 20).div_ceil(bytes_per_acq);
    let lines = 256usize;
    let xml = format!(
        r#"<?xml version="1.0"?>
<ismrmrdHeader xmlns="http://www.ismrm.org/ISMRMRD">
  <experimentalConditions><H1resonanceFrequency_Hz>123200000</H1resonanceFrequency_Hz></experimentalConditions>
  <encoding>
    <encodedSpace><matrixSize><x>{samples}</x><y>{lines}</y><z>1</z></matrixSize><fieldOfView_mm><x>512</x><y>256</y><z>5</z></fieldOfView_mm></encodedSpace>
    <reconSpace><matrixSize><x>{}</x><y>{lines}</y><z>1</z></matrixSize><fieldOfView_mm><x>256</x><y>256</y><z>5</z></fieldOfView_mm></reconSpace>
    <encodingLimits><kspace_encoding_step_1><minimum>0</minimum><maximum>{}</maximum><center>{}</center></kspace_encoding_step_1><repetition><minimum>0</minimum><maximum>{}</maximum><center>0</center></repetition></encodingLimits>
    <trajectory>cartesian</trajectory>
  </encoding>
</ismrmrdHeader>
"#,
        samples / 2,
        lines - 1,
        lines / 2,
        count / lines
    );
    let opts = WriteOptions {
        overwrite: true,
        chunk_records: chunk,
    };
    let mut w = IsmrmrdWriter::create(out, "dataset", opts)?;
    w.write_xml(&xml)?;
    let mut state = 0x2545_f491_4f6c_dd1du64;
    let mut batch = Vec::with_capacity(256);
    for i in 0..count {
        let mut h = AcquisitionHeader {
            number_of_samples: samples,
            active_channels: channels,
            available_channels: channels,
            center_sample: samples / 2,
            sample_time_us: 2.0,
            scan_counter: i as u32,
            read_dir: [1.0, 0.0, 0.0],
            phase_dir: [0.0, 1.0, 0.0],
            slice_dir: [0.0, 0.0, 1.0],
            ..Default::default()
        };
        h.idx.kspace_encode_step_1 = (i % lines) as u16;
        h.idx.repetition = (i / lines) as u16;
        if i % lines == 0 {
            h.set_flag(AcquisitionFlag::FirstInSlice);
        }
        if i % lines == lines - 1 {
            h.set_flag(AcquisitionFlag::LastInSlice);
        }
        let mut a = Acquisition::new(h);
        for c in a.data.iter_mut() {
            // xorshift64: deterministic noise-like samples.
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            *c = Complex32::new(
                (state as u32) as f32 / 4.3e9 - 0.5,
                (state >> 32) as f32 / 4.3e9 - 0.5,
            );
        }
        batch.push(a);
        if batch.len() == batch.capacity() {
            w.append_acquisitions(&batch)?;
            batch.clear();
        }
    }
    w.append_acquisitions(&batch)?;
    w.finish()?;
    eprintln!(
        "wrote {out}: {count} acquisitions x {channels} channels x {samples} samples ({megabytes} MiB of samples), chunk {chunk}"
    );
    Ok(())
}
