//! The `logwrap` binary: parse the command line, set up diagnostics and the
//! runtime, run, and exit with the child's code.

use std::process::ExitCode;

/// Records cross threads (built by a reader, freed by the exporter), which
/// glibc's allocator serialises on an arena lock; mimalloc frees them
/// without one.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use clap::Parser;

use logwrap::app::Config;
use logwrap::cli::Cli;
use logwrap::config::{self, ProcessEnv};
use logwrap::config_file;
use logwrap::supervise::{self, Outcome};
use logwrap::{allocator, app, footprint, resource, telemetry, trace};

fn main() -> ExitCode {
    allocator::tune();
    // Before anything can be dlopen'ed (see footprint::read_only_segments).
    let startup_segments = footprint::read_only_segments();
    // Before any thread exists, so that every thread inherits the mask and
    // only the signal thread ever sees these signals.
    let signals = match supervise::block_signals() {
        Ok(s) => s,
        Err(e) => {
            eprintln!("logwrap: cannot block signals: {e}");
            return ExitCode::from(Outcome::Failed.code());
        }
    };
    let mut argv: Vec<std::ffi::OsString> = std::env::args_os().collect();
    // `logwrap check [OPTIONS]`: test each destination instead of running.
    let check = argv.get(1).is_some_and(|a| a == "check");
    if check {
        argv.remove(1);
    }
    let (argv, from_file) = match config_file::apply(argv, &ProcessEnv) {
        Ok(applied) => applied,
        Err(errors) => {
            for line in errors.lines() {
                eprintln!("logwrap: {line}");
            }
            return ExitCode::from(Outcome::Usage.code());
        }
    };
    let cli = Cli::parse_from(&argv);
    if let Some(what) = cli.generate {
        use std::io::Write;
        return match std::io::stdout().lock().write_all(&what.render()) {
            Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => {
                eprintln!("logwrap: --generate: cannot write to stdout: {e}");
                ExitCode::from(Outcome::Failed.code())
            }
            _ => ExitCode::SUCCESS,
        };
    }
    let print_config = cli.print_config;
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
    if print_config {
        for warning in &resolved.warnings {
            eprintln!("logwrap: warn: {warning}");
        }
        print!(
            "{}",
            config_file::render(&argv, &from_file, &resolved.config)
        );
        return ExitCode::SUCCESS;
    }
    // reqwest is built without a default TLS provider; ring is the one we ship.
    let _ = rustls::crypto::ring::default_provider().install_default();
    if check {
        return logwrap::check::run_and_report(&resolved.config, &resolved.warnings);
    }

    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("logwrap: cannot start the async runtime: {e}");
            return ExitCode::from(Outcome::Failed.code());
        }
    };
    let outcome = runtime.block_on(start(
        resolved.config,
        resolved.warnings,
        signals,
        startup_segments,
    ));
    // Reader threads may still be blocked on a pipe a grandchild holds; the
    // process exit ends them. Do not wait for blocking-pool work either.
    runtime.shutdown_background();
    ExitCode::from(outcome.code())
}

/// Diagnostics (and, with `--trace`, the run's span), then the run.
async fn start(
    config: Config,
    warnings: Vec<String>,
    signals: supervise::SignalSet,
    startup_segments: footprint::Segments,
) -> Outcome {
    let provider = if config.supervise.trace {
        let service = resource::service_name(&config.resource, &config.command);
        trace::provider_for(&config.exporters, service).await
    } else {
        None
    };
    {
        use tracing_subscriber::Layer;
        let spans = provider.as_ref().map(|p| trace::layer(p).boxed());
        telemetry::init(&config.log_filter, spans);
    }
    let (purge_delay_ms, arena_purge_mult) = allocator::options();
    tracing::debug!(purge_delay_ms, arena_purge_mult, "allocator: mimalloc");
    for warning in &warnings {
        tracing::warn!("{warning}");
    }
    tokio::spawn(footprint::release_after_startup(startup_segments));
    let span = provider.map(|provider| {
        let command = config
            .command
            .first()
            .map(|c| c.to_string_lossy().into_owned())
            .unwrap_or_default();
        trace::RunSpan::start(provider, &command, config.supervise.traceparent.as_deref())
    });
    app::run(config, signals, span).await
}
