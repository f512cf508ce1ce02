//! Starting the child: stdin inherited, stdout and stderr on pipes, its own
//! process group, a clean signal state.
//!
//! The child gets its own process group so that logwrap can signal the group
//! (a `sh -c` wrapper and what it started) and so that a terminal's Ctrl-C
//! reaches it exactly once. When logwrap runs in the terminal's foreground, the
//! child's group is made the foreground group, as tini does, so that an
//! interactive child can still read the terminal instead of being stopped by
//! SIGTTIN. A background logwrap never takes the terminal from the shell.
//!
//! The child's environment is logwrap's, minus logwrap's own secrets
//! (`SpawnOptions::hidden_env`, from `cli::CHILD_HIDDEN_ENV`: header values, passwords, tokens and
//! the files that hold them): what a child inherits it may print, and
//! logwrap would ship that line.
//!
//! If logwrap dies without the chance to stop the child (SIGKILL, the OOM
//! killer, a crash), the child gets SIGTERM from the kernel
//! (`PR_SET_PDEATHSIG`) instead of running on unsupervised with its output
//! going nowhere (issue 13). SIGTERM rather than SIGKILL: it is the stop
//! signal the child already handles for `docker stop` or a Kubernetes
//! shutdown, so it can finish its work and exit cleanly; one that ignores
//! SIGTERM still meets SIGPIPE at its next write, its pipes' reader being
//! gone (logwrap resets SIGPIPE to its default for the child). The kernel
//! sends it when the *thread* that forked ends, so it is set only when the
//! spawn runs on the main thread (it does: the runtime is current-thread and
//! `app::run` runs on it), whose end is the process's end; from another
//! thread it would fire when that thread exits, killing a healthy child. The
//! classic race (logwrap dying between fork and prctl) is closed by checking
//! the parent again after the prctl. Not covered: the child's own children
//! (only the direct child has a parent-death signal), and set-user-ID or
//! file-capability programs, for which the kernel clears the setting at
//! exec.
//!
//! The `pre_exec` hook empties the signal mask (std passes the parent's mask
//! on, and logwrap blocks every signal it forwards) and resets every
//! disposition to its default, so a signal that logwrap's own parent ignored
//! (say SIGINT under `nohup`) is not silently ignored by the application too.

use std::ffi::OsString;
use std::fs::File;
use std::io;
use std::os::fd::OwnedFd;
use std::os::unix::process::CommandExt;
use std::process::{Command, Stdio};

/// A started child.
pub struct Spawned {
    pub pid: i32,
    /// Its stdout, or with `--pty` the terminal carrying stdout and stderr.
    pub stdout: File,
    /// Its stderr; `None` with `--pty`, where it shares the terminal.
    pub stderr: Option<File>,
}

/// How to start the child.
#[derive(Clone, Debug, Default)]
pub struct SpawnOptions {
    /// Variables added to the child's environment unless already set.
    pub default_env: Vec<(String, String)>,
    /// Variables set in the child's environment, replacing inherited ones.
    pub env: Vec<(String, String)>,
    /// logwrap's own variables the child must not inherit (secrets).
    pub hidden_env: Vec<String>,
    /// Run the child on a pseudo-terminal: programs that buffer a pipe
    /// line-buffer a terminal. stdout and stderr then arrive merged.
    pub pty: bool,
}

/// Why the child could not be started.
#[derive(Debug, thiserror::Error)]
pub enum SpawnError {
    #[error("cannot run {program:?}: {reason}")]
    NotFound { program: String, reason: String },
    #[error("cannot run {program:?}: {reason}")]
    NotExecutable { program: String, reason: String },
    #[error("cannot start {program:?}: {source}")]
    Failed { program: String, source: io::Error },
}

/// Spawns `argv`.
pub fn spawn(argv: &[OsString], options: &SpawnOptions) -> Result<Spawned, SpawnError> {
    let program = argv.first().cloned().unwrap_or_default();
    let failed = |source: io::Error| SpawnError::Failed {
        program: program.to_string_lossy().into_owned(),
        source,
    };
    let mut command = Command::new(&program);
    command.args(&argv[1..]).stdin(Stdio::inherit());
    for key in &options.hidden_env {
        command.env_remove(key);
    }
    for (key, value) in &options.default_env {
        if std::env::var_os(key).is_none() {
            command.env(key, value);
        }
    }
    for (key, value) in &options.env {
        command.env(key, value);
    }
    let master = if options.pty {
        let (master, slave) = open_pty().map_err(failed)?;
        let slave_too = slave.try_clone().map_err(failed)?;
        command
            .stdout(Stdio::from(slave))
            .stderr(Stdio::from(slave_too));
        Some(master)
    } else {
        command.stdout(Stdio::piped()).stderr(Stdio::piped());
        None
    };
    let take_terminal = stdin_is_our_foreground_terminal();
    // SAFETY: getpid and gettid have no preconditions.
    let (parent, on_main_thread) = unsafe {
        let pid = libc::getpid();
        (
            pid,
            libc::syscall(libc::SYS_gettid) == libc::c_long::from(pid),
        )
    };
    let death_signal = on_main_thread.then_some(Parent { pid: parent });
    if !on_main_thread {
        tracing::debug!("spawning from a thread other than the main one; no parent-death signal");
    }
    // SAFETY: the hook runs between fork and exec and only makes
    // async-signal-safe system calls (signal, setpgid, tcsetpgrp,
    // sigprocmask, prctl, getppid, raise).
    unsafe {
        command.pre_exec(move || prepare_child(take_terminal, death_signal));
    }
    let mut child = command.spawn().map_err(|e| classify(&program, e))?;
    // Dropping `command` closed our copies of the terminal's slave side, so
    // reading the master ends (EIO) once the child and its heirs close theirs.
    drop(command);
    let pid = child.id() as i32;
    // `Child` is dropped without waiting: the reaper owns waitpid.
    match master {
        Some(master) => Ok(Spawned {
            pid,
            stdout: File::from(master),
            stderr: None,
        }),
        None => {
            let stdout = child.stdout.take().map(OwnedFd::from).map(File::from);
            let stderr = child.stderr.take().map(OwnedFd::from).map(File::from);
            let (Some(stdout), Some(stderr)) = (stdout, stderr) else {
                unreachable!("both streams were configured as pipes");
            };
            Ok(Spawned {
                pid,
                stdout,
                stderr: Some(stderr),
            })
        }
    }
}

/// A pseudo-terminal pair; both descriptors are close-on-exec (the child
/// gets the slave as its fds 1 and 2 through dup2, which clears the flag on
/// those copies, and no other: openpty's own slave fd would otherwise
/// outlive the exec as an extra descriptor in the child and everything it
/// starts, issue 13), and the terminal does no output processing (no `\n` →
/// `\r\n`), so bytes pass unchanged.
fn open_pty() -> io::Result<(OwnedFd, OwnedFd)> {
    use std::os::fd::FromRawFd;
    let (mut master, mut slave) = (0, 0);
    // SAFETY: openpty writes two descriptors; the other arguments may be null.
    let rc = unsafe {
        libc::openpty(
            &mut master,
            &mut slave,
            std::ptr::null_mut(),
            std::ptr::null(),
            std::ptr::null(),
        )
    };
    if rc != 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: both descriptors were just returned to us and are owned by nobody else.
    let (master, slave) = unsafe { (OwnedFd::from_raw_fd(master), OwnedFd::from_raw_fd(slave)) };
    use std::os::fd::AsRawFd;
    // SAFETY: plain fcntl/termios calls on descriptors we own.
    unsafe {
        libc::fcntl(master.as_raw_fd(), libc::F_SETFD, libc::FD_CLOEXEC);
        libc::fcntl(slave.as_raw_fd(), libc::F_SETFD, libc::FD_CLOEXEC);
        let mut attrs = std::mem::zeroed::<libc::termios>();
        if libc::tcgetattr(slave.as_raw_fd(), &mut attrs) == 0 {
            attrs.c_oflag &= !libc::OPOST;
            attrs.c_lflag &= !libc::ECHO;
            libc::tcsetattr(slave.as_raw_fd(), libc::TCSANOW, &attrs);
        }
    }
    Ok((master, slave))
}

fn stdin_is_our_foreground_terminal() -> bool {
    // SAFETY: plain queries on fd 0 and our own process group.
    unsafe { libc::isatty(0) == 1 && libc::tcgetpgrp(0) == libc::getpgrp() }
}

/// The process whose death the child must not outlive.
#[derive(Clone, Copy)]
struct Parent {
    pid: i32,
}

/// What the child gets when logwrap dies; see the module docs.
const PARENT_DEATH_SIGNAL: i32 = libc::SIGTERM;

/// Runs in the child between fork and exec.
fn prepare_child(take_terminal: bool, death_signal: Option<Parent>) -> io::Result<()> {
    // SAFETY: async-signal-safe calls only; all arguments are valid.
    unsafe {
        if libc::setpgid(0, 0) != 0 {
            return Err(io::Error::last_os_error());
        }
        if take_terminal {
            // tcsetpgrp from a background group raises SIGTTOU unless it is
            // ignored; the loop below restores the default afterwards.
            libc::signal(libc::SIGTTOU, libc::SIG_IGN);
            libc::tcsetpgrp(0, libc::getpid());
        }
        for signal in 1..32 {
            if signal != libc::SIGKILL && signal != libc::SIGSTOP {
                libc::signal(signal, libc::SIG_DFL);
            }
        }
        // std lets the child inherit the parent's mask, and logwrap blocks
        // every signal it forwards: unblock them all, or the child could never
        // be stopped by SIGTERM.
        let mut empty = std::mem::MaybeUninit::<libc::sigset_t>::uninit();
        libc::sigemptyset(empty.as_mut_ptr());
        libc::pthread_sigmask(libc::SIG_SETMASK, empty.as_ptr(), std::ptr::null_mut());
        if let Some(parent) = death_signal {
            // After the mask and dispositions are clean, so the signal acts
            // at once. If logwrap died before the prctl, nothing will send
            // it: the parent is someone else by now, so act as if it came.
            libc::prctl(libc::PR_SET_PDEATHSIG, PARENT_DEATH_SIGNAL as libc::c_ulong);
            if libc::getppid() != parent.pid {
                libc::raise(PARENT_DEATH_SIGNAL);
            }
        }
    }
    Ok(())
}

/// Maps an exec failure to the shell's 126/127 distinction with a message
/// that says what to do.
fn classify(program: &OsString, error: io::Error) -> SpawnError {
    let name = program.to_string_lossy().into_owned();
    let has_path = name.contains('/');
    match error.raw_os_error() {
        Some(libc::ENOENT) if has_path && std::path::Path::new(&name).exists() => {
            SpawnError::NotFound {
                program: name,
                reason: "the file exists but its interpreter (the #! line) was not found".into(),
            }
        }
        Some(libc::ENOENT) if has_path => SpawnError::NotFound {
            program: name,
            reason: "no such file".into(),
        },
        Some(libc::ENOENT) => SpawnError::NotFound {
            program: name,
            reason: "command not found in PATH".into(),
        },
        Some(libc::EACCES) => SpawnError::NotExecutable {
            program: name,
            reason:
                "permission denied (is it a directory, or missing the executable bit? try chmod +x)"
                    .into(),
        },
        Some(libc::ENOEXEC) => SpawnError::NotExecutable {
            program: name,
            reason:
                "exec format error (not a program for this machine, or a script without a #! line)"
                    .into(),
        },
        Some(libc::EAGAIN) | Some(libc::ENOMEM) | Some(libc::EMFILE) | Some(libc::ENFILE) => {
            SpawnError::Failed {
                program: name,
                source: error,
            }
        }
        _ => SpawnError::NotExecutable {
            program: name,
            reason: error.to_string(),
        },
    }
}
