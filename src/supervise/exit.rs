//! The exit-code contract, written once.
//!
//! | how the run ended                         | logwrap exits with |
//! |-------------------------------------------|--------------------|
//! | the child exited with code N              | N                  |
//! | the child was killed by signal N          | 128 + N            |
//! | usage or configuration error              | 2                  |
//! | logwrap itself could not start the child  | 125                |
//! | the command was found but cannot run      | 126                |
//! | the command was not found                 | 127                |
//!
//! 126, 127 and 128+N are the shell's conventions (POSIX `sh`, "Exit Status");
//! tini and dumb-init pass them through the same way. 125 is what `docker run`
//! and `podman run` use when the wrapper itself fails, so it cannot be mistaken
//! for the child's own 1.

/// How a run ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// The child exited normally with this code.
    Exited(u8),
    /// The child was killed by this signal.
    Signaled(i32),
    /// The command line or configuration is invalid.
    Usage,
    /// logwrap failed before or while starting the child.
    Failed,
    /// The command exists but cannot be executed.
    NotExecutable,
    /// The command does not exist.
    NotFound,
}

impl Outcome {
    /// Interprets a raw `wait(2)` status.
    pub fn from_wait_status(status: i32) -> Self {
        if libc::WIFEXITED(status) {
            Outcome::Exited(libc::WEXITSTATUS(status) as u8)
        } else if libc::WIFSIGNALED(status) {
            Outcome::Signaled(libc::WTERMSIG(status))
        } else {
            // Stops are asked for only under job control, and the reaper
            // handles them before this (see signals.rs).
            Outcome::Failed
        }
    }

    /// The process exit code for this outcome.
    pub fn code(self) -> u8 {
        match self {
            Outcome::Exited(code) => code,
            Outcome::Signaled(signal) => (128 + signal).clamp(0, 255) as u8,
            Outcome::Usage => 2,
            Outcome::Failed => 125,
            Outcome::NotExecutable => 126,
            Outcome::NotFound => 127,
        }
    }
}

/// `SIGTERM` for 15, and so on; `signal N` for the unnamed.
pub fn signal_name(signal: i32) -> String {
    let name = match signal {
        libc::SIGHUP => "SIGHUP",
        libc::SIGINT => "SIGINT",
        libc::SIGQUIT => "SIGQUIT",
        libc::SIGILL => "SIGILL",
        libc::SIGTRAP => "SIGTRAP",
        libc::SIGABRT => "SIGABRT",
        libc::SIGBUS => "SIGBUS",
        libc::SIGFPE => "SIGFPE",
        libc::SIGKILL => "SIGKILL",
        libc::SIGUSR1 => "SIGUSR1",
        libc::SIGSEGV => "SIGSEGV",
        libc::SIGUSR2 => "SIGUSR2",
        libc::SIGPIPE => "SIGPIPE",
        libc::SIGALRM => "SIGALRM",
        libc::SIGTERM => "SIGTERM",
        libc::SIGXCPU => "SIGXCPU",
        libc::SIGXFSZ => "SIGXFSZ",
        libc::SIGSYS => "SIGSYS",
        _ => return format!("signal {signal}"),
    };
    name.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_follow_the_table() {
        assert_eq!(Outcome::Exited(0).code(), 0);
        assert_eq!(Outcome::Exited(42).code(), 42);
        assert_eq!(Outcome::Exited(255).code(), 255);
        assert_eq!(Outcome::Signaled(libc::SIGTERM).code(), 143);
        assert_eq!(Outcome::Signaled(libc::SIGKILL).code(), 137);
        assert_eq!(Outcome::Usage.code(), 2);
        assert_eq!(Outcome::Failed.code(), 125);
        assert_eq!(Outcome::NotExecutable.code(), 126);
        assert_eq!(Outcome::NotFound.code(), 127);
    }

    #[test]
    fn wait_statuses_decode() {
        // Linux encodes exit code N as N << 8 and death by signal S as S.
        assert_eq!(Outcome::from_wait_status(7 << 8), Outcome::Exited(7));
        assert_eq!(
            Outcome::from_wait_status(libc::SIGTERM),
            Outcome::Signaled(libc::SIGTERM)
        );
        // Core-dump bit set: still the signal.
        assert_eq!(
            Outcome::from_wait_status(libc::SIGSEGV | 0x80),
            Outcome::Signaled(libc::SIGSEGV)
        );
    }
}
