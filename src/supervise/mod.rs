//! Supervise: start the child, forward signals, reap, report how it ended.
//!
//! ```text
//!  block_signals() ──► spawn() ──► signals::start() ──► exit (oneshot) + received signals (mpsc)
//!                         └──► stdout, stderr pipes ──► read
//! ```
//!
//! - [`spawn`]: the child with stdin inherited, stdout/stderr on pipes, its own
//!   process group, a clean signal state.
//! - [`signals`]: the one thread that waits for signals, forwards them and owns
//!   `waitpid`.
//! - [`exit`]: the exit-code contract.
//!
//! Not here: what to do with the pipes (read), when to give up waiting
//! (app).

pub mod descendants;
pub mod exit;
pub mod signals;
pub mod spawn;

pub use exit::Outcome;
pub use signals::{ChildExit, SignalSet, SignalTarget, SignalThread, block_signals};
pub use spawn::{SpawnError, SpawnOptions, Spawned, spawn};

/// How the child is run and stopped.
#[derive(Debug, Clone)]
pub struct SuperviseConfig {
    /// After SIGTERM/SIGINT, how long the child has before SIGKILL; also the
    /// grace period of processes it leaves behind. Default 8 s: Docker's stop
    /// grace is 10 s, which leaves 2 s to flush.
    pub stop_timeout: std::time::Duration,
    pub signal_target: SignalTarget,
    /// logwrap's variables removed from the child's environment: those that
    /// hold or point to secrets (see `cli::CHILD_HIDDEN_ENV`).
    pub hidden_env: Vec<String>,
    /// Exit-code remapping (`--remap-exit-code FROM=TO`).
    pub remap: Vec<(u8, u8)>,
    pub pty: bool,
    /// Send lifecycle records. Default on.
    pub lifecycle: bool,
    /// Export the run as a span.
    pub trace: bool,
    /// W3C traceparent from logwrap's environment (`TRACEPARENT`).
    pub traceparent: Option<String>,
}

impl SuperviseConfig {
    /// The exit code to report for the child's `code`.
    pub fn remap(&self, code: u8) -> u8 {
        self.remap
            .iter()
            .find(|(from, _)| *from == code)
            .map_or(code, |(_, to)| *to)
    }
}
