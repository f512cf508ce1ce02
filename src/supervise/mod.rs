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
