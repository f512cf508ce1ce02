//! Ending the run: waiting for the readers, telling them to stop early, and
//! counting the stop signals logwrap receives.

use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::time::{Duration, Instant};

use tokio::sync::{mpsc, oneshot};

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

/// The same stop signal repeated within this window counts once: `timeout`
/// sends SIGTERM to logwrap and then to its whole process group (logwrap
/// included) within microseconds, and a runtime may do the same; that is one
/// request to stop, not an operator's second, impatient one.
pub const REPEAT_WINDOW: Duration = Duration::from_millis(250);

/// SIGTERM/SIGINT as the run's stop requests: the first asks the child to
/// stop (with `--stop-timeout`), a second one (a distinct one, see
/// [`REPEAT_WINDOW`]) says hurry.
pub struct StopSignals {
    received: mpsc::UnboundedReceiver<i32>,
    /// The last stop signal counted, and when.
    last: Option<(i32, Instant)>,
    /// Stop signals counted so far.
    pub count: usize,
}

impl StopSignals {
    pub fn new(received: mpsc::UnboundedReceiver<i32>) -> Self {
        StopSignals {
            received,
            last: None,
            count: 0,
        }
    }

    /// The next stop signal that counts (a repeat within the window does
    /// not); never, if the signal thread is gone.
    pub async fn next(&mut self) -> i32 {
        loop {
            let signal = match self.received.recv().await {
                Some(s) if is_stop_signal(s) => s,
                Some(_) => continue,
                None => std::future::pending().await,
            };
            let now = Instant::now();
            if self
                .last
                .is_some_and(|(s, at)| s == signal && now.duration_since(at) < REPEAT_WINDOW)
            {
                tracing::debug!(
                    signal,
                    "the same stop signal again within 250 ms; counted once"
                );
                continue;
            }
            self.last = Some((signal, now));
            self.count += 1;
            return signal;
        }
    }
}

pub fn is_stop_signal(signal: i32) -> bool {
    signal == libc::SIGTERM || signal == libc::SIGINT
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_repeat_within_the_window_counts_once() {
        let (tx, rx) = mpsc::unbounded_channel();
        let mut signals = StopSignals::new(rx);
        tx.send(libc::SIGTERM).unwrap();
        tx.send(libc::SIGUSR1).unwrap();
        tx.send(libc::SIGTERM).unwrap();
        assert_eq!(signals.next().await, libc::SIGTERM);
        let again = tokio::time::timeout(Duration::from_millis(50), signals.next()).await;
        assert!(again.is_err(), "the repeat and SIGUSR1 do not count");
        // Another signal, or the same one later, does.
        tx.send(libc::SIGINT).unwrap();
        assert_eq!(signals.next().await, libc::SIGINT);
        tokio::time::sleep(REPEAT_WINDOW).await;
        tx.send(libc::SIGINT).unwrap();
        assert_eq!(signals.next().await, libc::SIGINT);
        assert_eq!(signals.count, 3);
    }
}
