//! The `logwrap` binary: parse the command line, set up diagnostics and the
//! runtime, run, and exit with the child's code.

use std::process::ExitCode;

use clap::Parser;

use logwrap::cli::Cli;
use logwrap::config::{self, ProcessEnv};
use logwrap::supervise::{self, Outcome};
use logwrap::{app, telemetry};

fn main() -> ExitCode {
    // Before any thread exists, so that every thread inherits the mask and
    // only the signal thread ever sees these signals.
    let signals = match supervise::block_signals() {
        Ok(s) => s,
        Err(e) => {
            eprintln!("logwrap: cannot block signals: {e}");
            return ExitCode::from(Outcome::Failed.code());
        }
    };
    let cli = Cli::parse();
    let resolved = match config::resolve(cli, &ProcessEnv) {
        Ok(r) => r,
        Err(errors) => {
            for line in errors.to_string().lines() {
                eprintln!("logwrap: {line}");
            }
            eprintln!("logwrap: see logwrap --help");
            return ExitCode::from(Outcome::Usage.code());
        }
    };
    telemetry::init(&resolved.config.log_filter);
    for warning in &resolved.warnings {
        tracing::warn!("{warning}");
    }
    // reqwest is built without a default TLS provider; ring is the one we ship.
    let _ = rustls::crypto::ring::default_provider().install_default();

    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            tracing::error!(error = %e, "cannot start the async runtime");
            return ExitCode::from(Outcome::Failed.code());
        }
    };
    let outcome = runtime.block_on(app::run(resolved.config, signals));
    // Reader threads may still be blocked on a pipe a grandchild holds; the
    // process exit ends them. Do not wait for blocking-pool work either.
    runtime.shutdown_background();
    ExitCode::from(outcome.code())
}
