//! Signals and reaping: one thread, `sigwaitinfo(2)`, the one owner of `waitpid`.
//!
//! ```text
//!  main(): block_signals() before any thread exists (every thread inherits the mask)
//!  signal thread: sigwaitinfo ─┬─ SIGCHLD ──► waitpid(-1, WNOHANG) loop ──► main child's exit ──► app
//!                              └─ any other ─► kill(child or -pgid) ───────► signal number ──► app
//! ```
//!
//! Why a thread with `sigwaitinfo` rather than async signal handlers: the
//! signals are blocked in every thread, so none is ever delivered to a random
//! thread or interrupts a system call; the thread handles them one at a time,
//! in order, synchronously (tini's design). And because the same thread reaps,
//! there is exactly one caller of `waitpid`: tokio's `Child::wait` and a
//! `waitpid(-1)` reaper would race for the main child's status. Several exits
//! can share one SIGCHLD, so the reaper loops until nothing is left.
//!
//! The thread starts only after the child has been spawned: std's `spawn`
//! itself waits on a child whose `exec` failed, and a reaper running at that
//! moment could steal that status. Signals that arrive before the thread runs
//! stay pending and are handled as soon as it starts.

use std::io;
use std::mem::MaybeUninit;

use tokio::sync::{mpsc, oneshot};

use super::exit::Outcome;

/// Signals forwarded to the child: every catchable one except those that
/// describe logwrap's own faults (SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT,
/// SIGTRAP, SIGSYS), SIGCHLD (ours, for reaping), SIGPIPE (raised by our own
/// writes to a closed pipe, not meant for the child) and SIGTTIN/SIGTTOU
/// (terminal job control aimed at logwrap's own group).
pub const FORWARDED: &[i32] = &[
    libc::SIGHUP,
    libc::SIGINT,
    libc::SIGQUIT,
    libc::SIGUSR1,
    libc::SIGUSR2,
    libc::SIGALRM,
    libc::SIGTERM,
    libc::SIGSTKFLT,
    libc::SIGCONT,
    libc::SIGTSTP,
    libc::SIGURG,
    libc::SIGXCPU,
    libc::SIGXFSZ,
    libc::SIGVTALRM,
    libc::SIGPROF,
    libc::SIGWINCH,
    libc::SIGIO,
    libc::SIGPWR,
];

/// The set of signals logwrap takes over: the forwarded ones plus SIGCHLD.
#[derive(Clone, Copy)]
pub struct SignalSet(libc::sigset_t);

/// Blocks every signal logwrap handles in the calling thread; threads created
/// afterwards inherit the mask. Call first thing in `main`.
pub fn block_signals() -> io::Result<SignalSet> {
    let mut set = MaybeUninit::<libc::sigset_t>::uninit();
    // SAFETY: sigemptyset initialises the set; sigaddset and pthread_sigmask
    // get a valid, initialised set.
    unsafe {
        libc::sigemptyset(set.as_mut_ptr());
        let mut set = set.assume_init();
        libc::sigaddset(&mut set, libc::SIGCHLD);
        for &signal in FORWARDED {
            libc::sigaddset(&mut set, signal);
        }
        let rc = libc::pthread_sigmask(libc::SIG_BLOCK, &set, std::ptr::null_mut());
        if rc != 0 {
            return Err(io::Error::from_raw_os_error(rc));
        }
        Ok(SignalSet(set))
    }
}

/// The main child's end, with the kernel's resource usage for it.
#[derive(Clone, Copy)]
pub struct ChildExit {
    pub outcome: Outcome,
    pub rusage: libc::rusage,
}

impl std::fmt::Debug for ChildExit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ChildExit")
            .field("outcome", &self.outcome)
            .finish()
    }
}

/// Where forwarded signals go.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SignalTarget {
    /// The child process only.
    Child,
    /// The child's whole process group.
    Group,
}

/// What the signal thread reports to the app.
pub struct SignalThread {
    /// Resolves once with the main child's exit.
    pub exit: oneshot::Receiver<ChildExit>,
    /// Every signal logwrap received (after forwarding it).
    pub received: mpsc::UnboundedReceiver<i32>,
}

/// Starts the thread that forwards signals to `child` and reaps. With
/// `child` 0 (pipe mode) nothing is forwarded; signals are only reported.
pub fn start(set: SignalSet, child: i32, target: SignalTarget) -> io::Result<SignalThread> {
    let (exit_tx, exit) = oneshot::channel();
    let (received_tx, received) = mpsc::unbounded_channel();
    std::thread::Builder::new()
        .name("logwrap-signals".into())
        .stack_size(64 * 1024)
        .spawn(move || run(set, child, target, exit_tx, received_tx))?;
    Ok(SignalThread { exit, received })
}

fn run(
    set: SignalSet,
    child: i32,
    target: SignalTarget,
    exit_tx: oneshot::Sender<ChildExit>,
    received_tx: mpsc::UnboundedSender<i32>,
) {
    let mut exit_tx = Some(exit_tx);
    // A SIGCHLD may have been consumed before this thread existed only in the
    // sense of being pending; reap once up front to be sure.
    reap(child, &mut exit_tx);
    loop {
        let mut info = MaybeUninit::<libc::siginfo_t>::uninit();
        // SAFETY: the set is initialised; info is written by the kernel.
        let signal = unsafe { libc::sigwaitinfo(&set.0, info.as_mut_ptr()) };
        if signal < 0 {
            continue; // EINTR
        }
        if signal == libc::SIGCHLD {
            reap(child, &mut exit_tx);
            continue;
        }
        let child_alive = exit_tx.is_some();
        forward(signal, child, target, child_alive);
        tracing::debug!(signal, "forwarded signal");
        let _ = received_tx.send(signal);
    }
}

/// Sends `signal` on. Once the main child has been reaped its pid may be
/// reused, so only the group (which may still have members) is signalled.
fn forward(signal: i32, child: i32, target: SignalTarget, child_alive: bool) {
    if child <= 0 {
        return; // pipe mode: no child to tell
    }
    let pid = match (target, child_alive) {
        (SignalTarget::Group, _) => -child,
        (SignalTarget::Child, true) => child,
        (SignalTarget::Child, false) => return,
    };
    // SAFETY: kill has no memory-safety preconditions. ESRCH (already gone)
    // is expected and not an error.
    unsafe { libc::kill(pid, signal) };
}

/// Collects every exited child; reports the main child's status once.
fn reap(child: i32, exit_tx: &mut Option<oneshot::Sender<ChildExit>>) {
    loop {
        let reaped = match super::descendants::reap_one(-1) {
            Ok(Some(reaped)) => reaped,
            Ok(None) => return, // children left, none exited
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(_) => return, // ECHILD: none left
        };
        if reaped.pid == child {
            let exit = ChildExit {
                outcome: Outcome::from_wait_status(reaped.status),
                rusage: reaped.rusage,
            };
            if let Some(tx) = exit_tx.take() {
                let _ = tx.send(exit);
            }
        } else {
            tracing::debug!(pid = reaped.pid, "reaped an orphaned process");
        }
    }
}
