//! Fast path for acquisition payloads: reads the variable-length `data`/`traj` members straight
//! from the file instead of through libhdf5's per-element vlen conversion (one heap lookup and
//! one `malloc` per readout, then another copy). The raw record chunks are fetched with
//! `H5Dread_chunk`, their heap IDs decoded, and the samples read from the HDF5 global-heap
//! collections (HDF5 file format spec, "Global Heap") with positioned reads straight into the
//! destination buffers, in parallel.
//!
//! Anything unexpected — filters, a user block, a non-little-endian host, a heap signature or
//! size that does not match — makes the caller fall back to the libhdf5 path, and the first
//! record of every file is cross-checked against libhdf5 before the fast path is trusted.
#![allow(unsafe_code)]

use std::collections::HashMap;
use std::fs::File;
use std::os::unix::fs::FileExt;
use std::sync::Mutex;

use hdf5::Dataset;
use hdf5::types::{FloatSize, TypeDescriptor};
use num_complex::Complex32;
use rayon::prelude::*;

/// Where the vlen members sit in a record, and how the records are stored.
pub(crate) struct RawPayloads {
    file: File,
    record_size: usize,
    data_offset: usize,
    traj_offset: Option<usize>,
    sizeof_addr: usize,
    sizeof_size: usize,
    storage: Storage,
    /// Global-heap collections read so far: address → (bytes, object index → (offset, size)).
    cache: Mutex<HeapCache>,
}

enum Storage {
    Contiguous {
        addr: u64,
    },
    Chunked {
        records_per_chunk: usize,
        dataset: Dataset,
    },
}

#[derive(Default)]
struct HeapCache {
    collections: HashMap<u64, Collection>,
    order: Vec<u64>,
}

struct Collection {
    bytes: Vec<u8>,
    objects: HashMap<u16, (usize, usize)>,
}

/// Objects at least this large are read straight into their destination.
const LARGE_OBJECT: usize = 16 * 1024;

/// Collections kept in memory at once (they are read in file order, so few are live).
const CACHE_COLLECTIONS: usize = 64;

/// A vlen descriptor as stored in a record: element count and global heap ID.
struct HeapRef {
    len: usize,
    collection: u64,
    index: u16,
}

impl RawPayloads {
    /// Sets up the fast path for `<g>/data`, or `None` when the file's layout rules it out.
    pub(crate) fn new(
        path: &str,
        h5file: &hdf5::File,
        ds: &Dataset,
        file_type: &TypeDescriptor,
    ) -> Option<Self> {
        if !cfg!(target_endian = "little") || h5file.userblock() != 0 || !ds.filters().is_empty() {
            return None;
        }
        let TypeDescriptor::Compound(c) = file_type else {
            return None;
        };
        let f32_vlen = TypeDescriptor::VarLenArray(Box::new(TypeDescriptor::Float(FloatSize::U4)));
        let member = |name: &str| c.fields.iter().find(|f| f.name == name);
        let data = member("data").filter(|f| f.ty == f32_vlen)?;
        let traj_offset = match member("traj") {
            Some(t) if t.ty == f32_vlen => Some(t.offset),
            Some(_) => return None,
            None => None,
        };
        let sizes = h5file.create_plist().ok()?.get_sizes().ok()?;
        let (sizeof_addr, sizeof_size) = (sizes.sizeof_addr as usize, sizes.sizeof_size as usize);
        if !matches!(sizeof_addr, 4 | 8) || !matches!(sizeof_size, 4 | 8) {
            return None;
        }
        let storage = match ds.layout() {
            hdf5::dataset::Layout::Contiguous => Storage::Contiguous { addr: ds.offset()? },
            hdf5::dataset::Layout::Chunked => {
                let chunk = ds.chunk()?;
                Storage::Chunked {
                    records_per_chunk: *chunk.first()?,
                    dataset: ds.clone(),
                }
            }
            _ => return None,
        };
        Some(RawPayloads {
            file: File::open(path).ok()?,
            record_size: c.size,
            data_offset: data.offset,
            traj_offset,
            sizeof_addr,
            sizeof_size,
            storage,
            cache: Mutex::new(HeapCache::default()),
        })
    }

    /// Reads the raw (unfiltered) chunk whose first record is `first_record` into `buf`.
    fn read_chunk(dataset: &Dataset, first_record: usize, buf: &mut [u8]) -> Option<()> {
        let offset = [first_record as hdf5_sys::h5::hsize_t];
        let mut filter_mask: u32 = 0;
        // SAFETY: `dataset.id()` is a live dataset handle; `offset` has one element per
        // dimension of the 1-D dataset; `buf` holds a whole chunk (records_per_chunk ×
        // record_size bytes, the storage size of an unfiltered chunk). The call runs under the
        // crate-wide HDF5 lock like every other libhdf5 call.
        let status = hdf5::sync::sync(|| unsafe {
            hdf5_sys::h5d::H5Dread_chunk(
                dataset.id(),
                hdf5_sys::h5p::H5P_DEFAULT,
                offset.as_ptr(),
                &mut filter_mask,
                buf.as_mut_ptr().cast(),
            )
        });
        (status >= 0 && filter_mask == 0).then_some(())
    }

    /// The raw record bytes of records `start..end`.
    fn record_bytes(&self, start: usize, end: usize) -> Option<Vec<u8>> {
        let rs = self.record_size;
        let mut out = vec![0u8; (end - start) * rs];
        match &self.storage {
            Storage::Contiguous { addr } => {
                self.file
                    .read_exact_at(&mut out, addr + (start * rs) as u64)
                    .ok()?;
            }
            Storage::Chunked {
                records_per_chunk,
                dataset,
            } => {
                let n = *records_per_chunk;
                let mut chunk = vec![0u8; n * rs];
                let mut i = start;
                while i < end {
                    let first = i / n * n;
                    let take = (first + n).min(end) - i;
                    let dst = &mut out[(i - start) * rs..(i - start + take) * rs];
                    if take == n {
                        Self::read_chunk(dataset, first, dst)?;
                    } else {
                        Self::read_chunk(dataset, first, &mut chunk)?;
                        dst.copy_from_slice(&chunk[(i - first) * rs..(i - first + take) * rs]);
                    }
                    i += take;
                }
            }
        }
        Some(out)
    }

    fn heap_ref(&self, record: &[u8], offset: usize) -> Option<HeapRef> {
        let b = record.get(offset..offset + 4 + self.sizeof_addr + 4)?;
        let len = u32::from_le_bytes(b[0..4].try_into().ok()?) as usize;
        let collection = read_uint(&b[4..4 + self.sizeof_addr]);
        let index = u32::from_le_bytes(b[4 + self.sizeof_addr..].try_into().ok()?);
        Some(HeapRef {
            len,
            collection,
            index: u16::try_from(index).ok()?,
        })
    }

    /// Copies heap object `r` (f32 elements) into `dst` as bytes.
    fn copy_object(&self, r: &HeapRef, dst: &mut [u8]) -> Option<()> {
        if r.len == 0 {
            return dst.is_empty().then_some(());
        }
        if 4 * r.len != dst.len() {
            return None;
        }
        // Large objects sit alone at the start of their collection: read them in place.
        let hl = 8 + self.sizeof_size;
        let oh = 8 + self.sizeof_size;
        if dst.len() >= LARGE_OBJECT {
            let mut head = [0u8; 32];
            self.file
                .read_exact_at(&mut head[..hl + oh], r.collection)
                .ok()?;
            let index = u16::from_le_bytes([head[hl], head[hl + 1]]);
            let size = read_uint(&head[hl + 8..hl + oh]) as usize;
            if &head[0..4] == b"GCOL" && head[4] == 1 && index == r.index && size == dst.len() {
                return self
                    .file
                    .read_exact_at(dst, r.collection + (hl + oh) as u64)
                    .ok();
            }
        }
        let mut cache = self.cache.lock().ok()?;
        if !cache.collections.contains_key(&r.collection) {
            let col = self.read_collection(r.collection)?;
            if cache.order.len() >= CACHE_COLLECTIONS {
                let old = cache.order.remove(0);
                cache.collections.remove(&old);
            }
            cache.order.push(r.collection);
            cache.collections.insert(r.collection, col);
        }
        let col = cache.collections.get(&r.collection)?;
        let &(off, size) = col.objects.get(&r.index)?;
        if size != 4 * r.len || size != dst.len() {
            return None;
        }
        dst.copy_from_slice(col.bytes.get(off..off + size)?);
        Some(())
    }

    /// Reads and indexes one global-heap collection.
    fn read_collection(&self, addr: u64) -> Option<Collection> {
        let mut head = [0u8; 16];
        let hl = 8 + self.sizeof_size;
        self.file.read_exact_at(&mut head[..hl], addr).ok()?;
        if &head[0..4] != b"GCOL" || head[4] != 1 {
            return None;
        }
        let size = read_uint(&head[8..hl]) as usize;
        if !(hl..=1 << 31).contains(&size) {
            return None;
        }
        let mut bytes = vec![0u8; size];
        self.file.read_exact_at(&mut bytes, addr).ok()?;
        let mut objects = HashMap::new();
        let oh = 8 + self.sizeof_size;
        let mut pos = hl;
        while pos + oh <= size {
            let index = u16::from_le_bytes([bytes[pos], bytes[pos + 1]]);
            let len = read_uint(&bytes[pos + 8..pos + oh]) as usize;
            if index == 0 {
                break; // free space: the rest of the collection
            }
            let start = pos + oh;
            if start + len > size {
                return None;
            }
            objects.insert(index, (start, len));
            pos = start + len.div_ceil(8) * 8;
        }
        Some(Collection { bytes, objects })
    }

    /// Payloads (samples, trajectory) of records `start..end`; `None` means "use libhdf5
    /// instead".
    pub(crate) fn payloads(
        &self,
        start: usize,
        end: usize,
    ) -> Option<Vec<(Vec<Complex32>, Vec<f32>)>> {
        let bytes = self.record_bytes(start, end)?;
        let refs = bytes
            .chunks_exact(self.record_size)
            .map(|rec| {
                let d = self.heap_ref(rec, self.data_offset)?;
                let t = match self.traj_offset {
                    Some(off) => Some(self.heap_ref(rec, off)?),
                    None => None,
                };
                (d.len % 2 == 0).then_some((d, t))
            })
            .collect::<Option<Vec<_>>>()?;
        refs.par_iter()
            .map(|(d, t)| {
                let mut data: Vec<Complex32> = bytemuck::zeroed_vec(d.len / 2);
                self.copy_object(d, bytemuck::cast_slice_mut(&mut data))?;
                let mut traj: Vec<f32> = bytemuck::zeroed_vec(t.as_ref().map_or(0, |t| t.len));
                if let Some(t) = t {
                    self.copy_object(t, bytemuck::cast_slice_mut(&mut traj))?;
                }
                Some((data, traj))
            })
            .collect()
    }
}

/// Little-endian unsigned integer of 4 or 8 bytes.
fn read_uint(b: &[u8]) -> u64 {
    b.iter().rev().fold(0u64, |acc, &x| (acc << 8) | x as u64)
}
