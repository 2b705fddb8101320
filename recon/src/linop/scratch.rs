//! A small pool of backend buffers that operators reuse between calls, so that applying an
//! operator inside a solver loop allocates nothing after the first call (faer/rustfft style
//! explicit scratch, kept behind a lock because [`super::LinOp`] methods take `&self`).

use std::sync::Mutex;

use crate::backend::Backend;

/// Most buffers kept in one pool (more are dropped when returned).
const KEEP: usize = 4;

/// A pool of reusable buffers of a backend. Buffers taken from it hold arbitrary values.
pub struct Scratch<B: Backend> {
    pool: Mutex<Vec<B::Buf>>,
}

impl<B: Backend> Default for Scratch<B> {
    fn default() -> Self {
        Scratch {
            pool: Mutex::new(Vec::new()),
        }
    }
}

impl<B: Backend> std::fmt::Debug for Scratch<B> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Scratch")
    }
}

impl<B: Backend> Scratch<B> {
    /// An empty pool.
    pub fn new() -> Self {
        Self::default()
    }

    /// A buffer of `n` elements with arbitrary contents (a pooled one when available).
    pub fn take(&self, be: &B, n: usize) -> B::Buf {
        let mut pool = self.pool.lock().unwrap_or_else(|e| e.into_inner());
        match pool.iter().position(|b| be.len(b) == n) {
            Some(i) => pool.swap_remove(i),
            None => be.zeros(n),
        }
    }

    /// Returns a buffer to the pool.
    pub fn put(&self, buf: B::Buf) {
        let mut pool = self.pool.lock().unwrap_or_else(|e| e.into_inner());
        if pool.len() < KEEP {
            pool.push(buf);
        }
    }
}
