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
//! Job control (issue 13). When logwrap runs in a terminal's foreground it
//! hands the terminal to the child's process group (see `spawn`), so Ctrl-Z
//! sends SIGTSTP to the child's group, not to logwrap's, which is the shell's
//! job. The shell would then wait forever for its job to stop. So, while it
//! holds the terminal for the child, this thread also hears of the child
//! stopping (`WUNTRACED`) and stops logwrap itself (SIGSTOP), as a shell-facing
//! wrapper must (sudo does the same): the shell sees its job stopped and
//! takes the terminal back. On SIGCONT (`fg`, `bg`), the terminal goes back
//! to the child's group if logwrap is in the foreground again, and the
//! child's group is continued.
//!
//! Signals are sent by `descendants`, under its reaping lock, only to a
//! child not yet reaped or to a group one of logwrap's children is still in:
//! after the main child is reaped its number, and its group's, may already
//! belong to an unrelated process.
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
    // The child was spawned (and took the terminal, if it did) before this.
    let job_control = child > 0 && terminal_foreground_is(child);
    std::thread::Builder::new()
        .name("logwrap-signals".into())
        .stack_size(64 * 1024)
        .spawn(move || {
            run(
                set,
                Child {
                    pid: child,
                    target,
                    job_control,
                },
                exit_tx,
                received_tx,
            )
        })?;
    Ok(SignalThread { exit, received })
}

/// The main child, as the signal thread knows it.
#[derive(Clone, Copy)]
struct Child {
    /// 0 in pipe mode.
    pid: i32,
    target: SignalTarget,
    /// logwrap handed the terminal to the child's group: follow its stops
    /// (see the module docs).
    job_control: bool,
}

/// Whether fd 0 is a terminal whose foreground group is `pgid`.
fn terminal_foreground_is(pgid: i32) -> bool {
    // SAFETY: plain queries on fd 0.
    unsafe { libc::isatty(0) == 1 && libc::tcgetpgrp(0) == pgid }
}

fn run(
    set: SignalSet,
    child: Child,
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
        if signal == libc::SIGCONT && child.job_control && child_alive {
            resume(child);
        } else {
            forward(signal, child, child_alive);
        }
        tracing::debug!(signal, "forwarded signal");
        let _ = received_tx.send(signal);
    }
}

/// Sends `signal` on, through `descendants`, which checks under its reaping
/// lock that the child (or a child in the group) is still logwrap's: once
/// the main child has been reaped its pid may be reused, so only the group
/// is signalled, and only while a child of logwrap's is in it.
fn forward(signal: i32, child: Child, child_alive: bool) {
    if child.pid <= 0 {
        return; // pipe mode: no child to tell
    }
    match (child.target, child_alive) {
        (SignalTarget::Group, _) => {
            super::descendants::signal_group(child.pid, signal);
        }
        (SignalTarget::Child, true) => {
            // Not reaped: only this thread reaps, and it has not.
            // SAFETY: kill has no memory-safety preconditions.
            unsafe { libc::kill(child.pid, signal) };
        }
        (SignalTarget::Child, false) => {}
    }
}

/// SIGCONT after a stop under job control: the terminal back to the child's
/// group if logwrap is in the foreground again (`fg`; after `bg` it is not,
/// and the child runs in the background as logwrap does), then the whole
/// group continued, as the terminal's SIGTSTP stopped the whole group.
fn resume(child: Child) {
    // SAFETY: plain terminal calls on fd 0; logwrap's group is the
    // foreground one, so tcsetpgrp raises no SIGTTOU.
    unsafe {
        if libc::isatty(0) == 1 && libc::tcgetpgrp(0) == libc::getpgrp() {
            libc::tcsetpgrp(0, child.pid);
        }
    }
    super::descendants::signal_group(child.pid, libc::SIGCONT);
}

/// Collects every exited child; reports the main child's status once. Under
/// job control, a stop of the main child stops logwrap too.
fn reap(child: Child, exit_tx: &mut Option<oneshot::Sender<ChildExit>>) {
    let mut child_stopped = false;
    loop {
        let reaped = match super::descendants::reap_one(-1, child.job_control) {
            Ok(Some(reaped)) => reaped,
            Ok(None) => break, // children left, none exited
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(_) => break, // ECHILD: none left
        };
        if libc::WIFSTOPPED(reaped.status) {
            // Reported only with job control; not an end.
            child_stopped |= reaped.pid == child.pid;
            continue;
        }
        if reaped.pid == child.pid {
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
    if child_stopped && exit_tx.is_some() {
        tracing::debug!("the child stopped (job control); stopping logwrap too");
        // SAFETY: stops this process until a SIGCONT; nothing to uphold.
        unsafe { libc::kill(libc::getpid(), libc::SIGSTOP) };
    }
}
