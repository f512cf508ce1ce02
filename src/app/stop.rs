//! Ending the readers: waiting for them, and telling them to stop early.

use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};

use tokio::sync::oneshot;

/// Waits for every reader's end; a receiver that completed is cleared, so a
/// second call (after a timeout cut the first) waits only for the rest.
pub async fn all_done(readers: &mut [Option<oneshot::Receiver<()>>]) {
    for slot in readers.iter_mut() {
        if let Some(done) = slot.as_mut() {
            let _ = done.await;
            *slot = None;
        }
    }
}

/// A pipe whose read end becomes readable to tell the reader threads to stop.
pub struct StopPipe {
    read: OwnedFd,
    write: OwnedFd,
}

impl StopPipe {
    /// `None` if the pipe cannot be made; readers then simply run to EOF or
    /// until the process ends.
    pub fn new() -> Option<Self> {
        let mut fds = [0; 2];
        // SAFETY: fds has room for two descriptors; O_CLOEXEC keeps them out of children.
        if unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) } != 0 {
            tracing::warn!(error = %std::io::Error::last_os_error(), "cannot create the reader stop pipe");
            return None;
        }
        // SAFETY: pipe2 just returned these two descriptors, owned by nobody else.
        unsafe {
            Some(StopPipe {
                read: OwnedFd::from_raw_fd(fds[0]),
                write: OwnedFd::from_raw_fd(fds[1]),
            })
        }
    }

    pub fn read_fd(&self) -> RawFd {
        self.read.as_raw_fd()
    }

    /// Makes the read end readable for every reader (nobody consumes the byte).
    pub fn signal(&self) {
        // SAFETY: writing one byte from a valid buffer to our own pipe.
        unsafe { libc::write(self.write.as_raw_fd(), b"x".as_ptr().cast(), 1) };
    }
}
