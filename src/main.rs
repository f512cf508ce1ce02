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
use logwrap::export::ExporterConfig;
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
        return run_check(&resolved.config, &resolved.warnings);
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
        tracer_provider(&config).await
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
    tokio::spawn(release_startup_pages(startup_segments));
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

/// By this time start-up is over: the child runs, destinations are set up
/// and the first batch (the start event, after the 1 s batch delay) has
/// normally gone out. Code needed later comes back on its first use.
const STARTUP_SETTLE: std::time::Duration = std::time::Duration::from_secs(3);

/// Drops the resident pages of logwrap's code and constants (see
/// `footprint`); what runs from then on is mapped again on its first use.
/// `cargo bench --bench pipeline`: RSS 8.2-8.8 MiB 1.5 s in, 2.2-2.5 MiB
/// idle at 7 s.
/// It takes well under a millisecond, so it runs on the runtime's thread
/// rather than on a blocking-pool thread that would outlive it.
async fn release_startup_pages(segments: footprint::Segments) {
    tokio::time::sleep(STARTUP_SETTLE).await;
    match footprint::plan_release(&segments) {
        Ok(release) => {
            // Logged before, since anything run after the release maps its
            // code again.
            tracing::debug!(
                ranges = release.len(),
                rss_file_kib_before = release.rss_file_kib_before.unwrap_or(0),
                "releasing start-up pages"
            );
            let refused = release.apply();
            if refused > 0 {
                tracing::debug!(refused, "madvise refused some ranges");
            }
        }
        Err(e) => tracing::debug!(error = %e, "cannot release start-up pages"),
    }
}

async fn tracer_provider(config: &Config) -> Option<opentelemetry_sdk::trace::SdkTracerProvider> {
    let otlp = config.exporters.iter().find_map(|e| match e {
        ExporterConfig::Otlp(o) => Some(o.clone()),
        _ => None,
    })?;
    let service = resource::service_name(&config.resource, &config.command);
    // reqwest's blocking client must be built off the runtime's thread.
    let built = tokio::task::spawn_blocking(move || {
        let handle = tokio::runtime::Handle::current();
        let _guard = handle.enter();
        trace::provider(&otlp, &service)
    })
    .await;
    match built {
        Ok(Ok(provider)) => Some(provider),
        Ok(Err(e)) => {
            eprintln!("logwrap: --trace: cannot set up span export: {e}; continuing without it");
            None
        }
        Err(e) => {
            eprintln!("logwrap: --trace: {e}; continuing without it");
            None
        }
    }
}

/// `logwrap check`: one verdict line per destination; exit 0 when all
/// accepted the test record, 1 otherwise.
fn run_check(config: &Config, warnings: &[String]) -> ExitCode {
    for warning in warnings {
        eprintln!("logwrap: warn: {warning}");
    }
    let Ok(runtime) = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    else {
        eprintln!("logwrap: cannot start the async runtime");
        return ExitCode::from(Outcome::Failed.code());
    };
    let resource = resource::build(&config.resource, None, resource::host_name());
    let verdicts = runtime.block_on(logwrap::check::run(config, &resource));
    let mut all_ok = true;
    for verdict in &verdicts {
        all_ok &= verdict.result.is_ok();
        println!("{verdict}");
    }
    ExitCode::from(if all_ok { 0 } else { 1 })
}
