//! Keeps HDF5 file descriptors out of child processes. libhdf5 opens files without
//! `O_CLOEXEC`, so a program that spawns a process while a file is open would hand the child
//! the descriptor — and with it the HDF5 file lock, which then blocks other tools (the ISMRMRD
//! C++ tools fail with "unable to lock file") until the child exits.
#![allow(unsafe_code)]

use std::ffi::{c_int, c_void};

/// Marks the file's POSIX descriptor close-on-exec (sec2 driver, the default; others are left
/// alone).
pub(crate) fn set_cloexec(file: &hdf5::File) {
    let is_sec2 = file
        .access_plist()
        .is_ok_and(|p| matches!(p.driver(), hdf5::file::FileDriver::Sec2));
    if !is_sec2 {
        return;
    }
    let mut handle: *mut c_void = std::ptr::null_mut();
    // SAFETY: `file.id()` is a live file handle and `handle` a valid out-pointer; for the sec2
    // driver libhdf5 stores a pointer to the driver's `int` descriptor there, which stays valid
    // while the file is open (it is, for the duration of this call). Runs under the HDF5 lock.
    let status = hdf5::sync::sync(|| unsafe {
        hdf5_sys::h5f::H5Fget_vfd_handle(file.id(), hdf5_sys::h5p::H5P_DEFAULT, &mut handle)
    });
    if status < 0 || handle.is_null() {
        return;
    }
    // SAFETY: see above: `handle` points to the descriptor (an `int`) for the sec2 driver.
    let fd: c_int = unsafe { *(handle as *const c_int) };
    // SAFETY: fcntl on a descriptor we own through libhdf5; F_GETFD/F_SETFD only touch flags.
    unsafe {
        let flags = libc::fcntl(fd, libc::F_GETFD);
        if flags >= 0 {
            libc::fcntl(fd, libc::F_SETFD, flags | libc::FD_CLOEXEC);
        }
    }
}
