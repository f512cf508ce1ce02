//! The validated, resolved configuration: one sub-struct per stage.
//!
//! ```text
//!  Cli (flags + LOGWRAP_* via clap) ─┐
//!  Env (OTEL_* and LOGWRAP_LOG)  ────┴─► resolve() ──► Config + warnings, or every error at once
//! ```
//!
//! Precedence, for every setting that has a standard variable:
//! flag > `LOGWRAP_*` > `OTEL_EXPORTER_OTLP_LOGS_*` > `OTEL_EXPORTER_OTLP_*` > default
//! (clap has already merged the first two). An empty variable counts as unset.
//!
//! Errors and warnings differ on purpose. A bad flag or `LOGWRAP_*` value was
//! meant for logwrap: it is an error (exit 2), and all such errors are reported
//! together. A bad `OTEL_*` value may have been meant for an SDK in the same
//! container; the OTel spec says to warn and ignore it, and logwrap does, so a
//! stray variable never keeps an application from starting.
//!
//! Variables are read through [`Env`], so tests pass a map and never touch the
//! process environment.
//!
//! What it makes is [`crate::app::Config`]: each part is a stage's own
//! settings type (`read::ReadConfig`, `parse::ParseConfig`,
//! `buffer::QueueConfig`, `export::otlp::OtlpConfig`, `export::loki::LokiConfig`,
//! `supervise::SuperviseConfig`, …). This module only composes them; it is
//! split by area: `otlp`, `destinations` (Loki, plain HTTP, headers),
//! `parse` (parse modes, time zone, batches), `checks` (named files and
//! directories). Nothing below `app` imports it.

mod checks;
mod destinations;
mod otlp;
mod parse;
#[cfg(test)]
mod tests;

use checks::*;
use destinations::*;
use otlp::*;
use parse::*;

use std::collections::HashMap;
use std::fmt;
use std::time::Duration;

use crate::app::{Config, ShutdownConfig};
use crate::batch::BatchConfig;
use crate::buffer::QueueConfig;
use crate::buffer::disk::{DiskConfig, DiskMode};
use crate::cli::{Cli, Compression, ExporterKind};
use crate::export::ExporterConfig;
use crate::export::http::{Auth, DEFAULT_HTTP_TIMEOUT};
use crate::export::loki::{self, LabelValue, LokiConfig, LokiLabel, MAX_LOKI_LABELS};
use crate::export::ndjson::HttpConfig;
use crate::export::otlp::{
    DEFAULT_OTLP_GRPC_ENDPOINT, DEFAULT_OTLP_HTTP_ENDPOINT, DEFAULT_OTLP_TIMEOUT, OtlpConfig,
    OtlpProtocol,
};
use crate::export::secret::{Secret, mask_url};
use crate::export::tls::TlsOptions;
use crate::parse::timestamp::TimeConfig;
use crate::parse::{ParseConfig, ParseMode};
use crate::read::{DEFAULT_MAX_LINE_BYTES, ReadConfig};
use crate::resource::{self, ResourceConfig};
use crate::supervise::SuperviseConfig;
use std::path::PathBuf;

/// Reads environment variables; an empty value is `None`.
pub trait Env {
    fn var(&self, name: &str) -> Option<String>;
}

/// The real process environment.
pub struct ProcessEnv;

impl Env for ProcessEnv {
    fn var(&self, name: &str) -> Option<String> {
        std::env::var(name).ok().filter(|v| !v.is_empty())
    }
}

impl Env for HashMap<&str, &str> {
    fn var(&self, name: &str) -> Option<String> {
        self.get(name)
            .filter(|v| !v.is_empty())
            .map(|v| v.to_string())
    }
}

/// Default memory budget per destination. At ~320 accounted bytes per
/// 120-byte line this holds ~50,000 records.
pub const DEFAULT_BUFFER_MAX_BYTES: usize = 16 * 1024 * 1024;
/// One problem with the configuration: which setting and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    pub setting: String,
    pub message: String,
}

/// Every problem found, reported together.
#[derive(Debug, thiserror::Error)]
pub struct ConfigErrors(pub Vec<ConfigError>);

impl fmt::Display for ConfigErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, e) in self.0.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "invalid {}: {}", e.setting, e.message)?;
        }
        Ok(())
    }
}

/// A resolved configuration and the warnings met on the way.
#[derive(Debug)]
pub struct Resolved {
    pub config: Config,
    pub warnings: Vec<String>,
}

struct Resolver<'a, E: Env> {
    env: &'a E,
    errors: Vec<ConfigError>,
    warnings: Vec<String>,
}

impl<E: Env> Resolver<'_, E> {
    fn error(&mut self, setting: &str, message: impl Into<String>) {
        self.errors.push(ConfigError {
            setting: setting.to_string(),
            message: message.into(),
        });
    }

    fn warn_ignored(&mut self, name: &str, value: &str, why: impl fmt::Display) {
        self.warnings
            .push(format!("ignoring {name}={value:?}: {why}"));
    }

    /// The first of the logs-specific and generic OTLP variables that is set.
    fn otlp_var(&self, suffix: &str) -> Option<(String, String)> {
        [
            format!("OTEL_EXPORTER_OTLP_LOGS_{suffix}"),
            format!("OTEL_EXPORTER_OTLP_{suffix}"),
        ]
        .into_iter()
        .find_map(|name| self.env.var(&name).map(|v| (name, v)))
    }

    /// An OTel millisecond variable; invalid values are warned about and skipped.
    fn env_millis(&mut self, name: &str) -> Option<Duration> {
        let raw = self.env.var(name)?;
        match raw.trim().parse::<u64>() {
            Ok(ms) => Some(Duration::from_millis(ms)),
            Err(_) => {
                self.warn_ignored(name, &raw, "expected a whole number of milliseconds");
                None
            }
        }
    }
}

/// Resolves the command line and environment into a [`Config`]: each
/// stage's settings, then the checks that span several.
pub fn resolve(cli: Cli, env: &impl Env) -> Result<Resolved, ConfigErrors> {
    let mut r = Resolver {
        env,
        errors: Vec::new(),
        warnings: Vec::new(),
    };
    let exporters = resolve_exporters(&cli, &mut r);
    check_named_files(&cli, &mut r);
    check_destination_options(&cli, &mut r);
    check_paths(&cli, &mut r);

    let max_line_bytes = cli.max_line_bytes.unwrap_or(DEFAULT_MAX_LINE_BYTES);
    if max_line_bytes < 16 {
        r.error(
            "--max-line-bytes",
            format!("{max_line_bytes} is too small; use at least 16"),
        );
    }
    let queue = resolve_queue(&cli, max_line_bytes, &mut r);
    let batch = resolve_batch(&cli, &mut r);
    let parse = resolve_parse(&cli, max_line_bytes, &mut r);
    let resource = resolve_resource(&cli, &mut r);
    let supervise = resolve_supervise(&cli, &mut r);
    if cli.buffer_disk_all && cli.buffer_dir.is_none() {
        r.error("--buffer-disk-all", "needs --buffer-dir DIR");
    }
    let otlp_configured = exporters
        .iter()
        .any(|e| matches!(e, ExporterConfig::Otlp(_)));
    if cli.trace && !otlp_configured {
        r.error(
            "--trace",
            "the run's span goes to the OTLP destination; configure one (--otlp-endpoint)",
        );
    }
    if cli.command.is_empty() {
        // SAFETY: isatty has no preconditions.
        if unsafe { libc::isatty(0) } == 1 {
            r.error(
                "CMD",
                "give a command to run, or pipe output into logwrap (cmd | logwrap)",
            );
        }
        if cli.pty {
            r.error("--pty", "needs a command to run");
        }
    }
    if !r.errors.is_empty() {
        return Err(ConfigErrors(r.errors));
    }

    let console = exporters.contains(&ExporterConfig::Console);
    let config = Config {
        read: ReadConfig {
            multiline_timeout: cli.multiline_timeout,
            passthrough: !cli.no_passthrough && !console,
            max_line_bytes,
        },
        parse,
        resource,
        batch,
        queue,
        exporters,
        shutdown: ShutdownConfig {
            drain_timeout: cli.drain_timeout,
            shutdown_timeout: cli.shutdown_timeout,
        },
        disk: DiskConfig {
            dir: cli.buffer_dir.clone(),
            max_bytes: cli.buffer_disk_max_bytes.map_or(1 << 30, |b| b as u64),
            all: cli.buffer_disk_all || cli.buffer_disk_mode == DiskMode::All,
        },
        retry: crate::export::retry::RetryConfig {
            initial: cli.retry_initial,
            max_interval: cli.retry_max_interval.max(cli.retry_initial),
            max_elapsed: cli.retry_max_elapsed,
        },
        max_in_flight: cli.max_in_flight as usize,
        supervise,
        log_filter: log_filter(&cli, env),
        inputs: (!cli.input.is_empty()).then(|| crate::input::FileInputConfig {
            patterns: cli.input.clone(),
            positions: cli
                .buffer_dir
                .as_ref()
                .map(|d| d.join("input-positions.json")),
            max_line_bytes,
        }),
        metrics_addr: cli.metrics_addr,
        // Quiet when all is well (as tini and dumb-init are): the summary
        // only with -v; lost records are reported whatever the level.
        summary: cli.verbose > 0,
        command: cli.command,
    };
    Ok(Resolved {
        config,
        warnings: r.warnings,
    })
}

/// The destinations: `--exporter` names them exactly; otherwise every one
/// given an address, plus what `OTEL_LOGS_EXPORTER` asks for, and the
/// console when that leaves nothing.
fn resolve_exporters(cli: &Cli, r: &mut Resolver<'_, impl Env>) -> Vec<ExporterConfig> {
    // An OTLP option given to logwrap (flag, LOGWRAP_* or file), such as
    // `--otlp-protocol grpc` alone, selects OTLP at the spec's default
    // endpoint (localhost:4317 for gRPC, :4318 for HTTP): in the OTel SDKs
    // OTLP is the exporter such settings configure, and it sends to that
    // default unless told otherwise (a collector beside the application is
    // the common case). Before, such an option was silently ignored and the
    // records went to the console (issue 13). The OTEL_EXPORTER_OTLP_*
    // variables other than the endpoint do not select OTLP: they may be
    // meant for the child's SDK. With --exporter naming the destinations
    // exactly, an OTLP option without `otlp` among them is an error.
    let otlp_option = otlp_option_given(cli);
    let kinds = if !cli.exporter.is_empty() {
        if let Some(option) = otlp_option
            && !cli.exporter.contains(&ExporterKind::Otlp)
        {
            r.error(
                option,
                "is an OTLP option, but --exporter does not include otlp; add otlp to --exporter or drop the option",
            );
            // Its value is still checked, so every problem shows at once.
            let _ = resolve_otlp(cli, &TlsOptions::default(), r);
        }
        cli.exporter.clone()
    } else {
        let otel = otel_logs_exporter(r).unwrap_or_default();
        let mut kinds = Vec::new();
        if cli.otlp_endpoint.is_some()
            || otlp_option.is_some()
            || r.otlp_var("ENDPOINT").is_some()
            || otel.contains(&ExporterKind::Otlp)
        {
            kinds.push(ExporterKind::Otlp);
        }
        if cli.loki_url.is_some() {
            kinds.push(ExporterKind::Loki);
        }
        if cli.http_url.is_some() {
            kinds.push(ExporterKind::Http);
        }
        if cli.file.is_some() {
            kinds.push(ExporterKind::File);
        }
        if otel.contains(&ExporterKind::Console) {
            kinds.push(ExporterKind::Console);
        }
        if kinds.is_empty() {
            kinds.push(if otel.contains(&ExporterKind::None) {
                ExporterKind::None
            } else {
                ExporterKind::Console
            });
        }
        kinds
    };
    if kinds.contains(&ExporterKind::None) && kinds.len() > 1 {
        r.error(
            "--exporter",
            "'none' cannot be combined with other exporters",
        );
    }
    let tls = TlsOptions {
        ca_file: cli.tls_ca_file.clone(),
        client_cert: cli.tls_client_cert.clone(),
        client_key: cli.tls_client_key.clone(),
        insecure_skip_verify: cli.tls_insecure_skip_verify,
    };
    if tls.insecure_skip_verify {
        r.warnings.push(
            "--tls-insecure-skip-verify: server certificates are not checked; anyone between logwrap and \
             its destinations can read and change the logs"
                .into(),
        );
    }
    let mut exporters = Vec::new();
    for kind in dedup(kinds) {
        match kind {
            ExporterKind::Otlp => {
                if let Some(otlp) = resolve_otlp(cli, &tls, r) {
                    exporters.push(ExporterConfig::Otlp(otlp));
                }
            }
            ExporterKind::Loki => {
                if let Some(loki) = resolve_loki(cli, &tls, r) {
                    exporters.push(ExporterConfig::Loki(loki));
                }
            }
            ExporterKind::Http => {
                if let Some(http) = resolve_http(cli, &tls, r) {
                    exporters.push(ExporterConfig::Http(http));
                }
            }
            ExporterKind::File => match &cli.file {
                Some(path) => exporters.push(ExporterConfig::File(path.clone())),
                None => r.error("--exporter", "'file' needs --file PATH"),
            },
            ExporterKind::Console => exporters.push(ExporterConfig::Console),
            ExporterKind::None => {}
        }
    }

    exporters
}

/// The memory budget per destination and what a full one does.
fn resolve_queue(cli: &Cli, max_line_bytes: usize, r: &mut Resolver<'_, impl Env>) -> QueueConfig {
    let max_bytes = cli.buffer_max_bytes.unwrap_or(DEFAULT_BUFFER_MAX_BYTES);
    if max_bytes < max_line_bytes * 2 {
        r.error(
            "--buffer-max-bytes",
            format!(
                "{max_bytes} bytes cannot hold two lines of --max-line-bytes ({max_line_bytes}); \
                 raise it or lower --max-line-bytes"
            ),
        );
    }
    QueueConfig {
        max_bytes,
        when_full: cli.when_full,
        stall_timeout: cli.stall_timeout,
    }
}

/// Who is logging: `OTEL_SERVICE_NAME`, `--service-name`,
/// `OTEL_RESOURCE_ATTRIBUTES` (ignored whole, with a warning, when malformed).
fn resolve_resource(cli: &Cli, r: &mut Resolver<'_, impl Env>) -> ResourceConfig {
    let env_attributes = match r.env.var("OTEL_RESOURCE_ATTRIBUTES") {
        Some(raw) => match resource::parse_resource_attributes(&raw) {
            Ok(attrs) => attrs,
            Err(why) => {
                r.warn_ignored(
                    "OTEL_RESOURCE_ATTRIBUTES",
                    &raw,
                    format!("{why}; the whole value is discarded"),
                );
                Vec::new()
            }
        },
        None => Vec::new(),
    };
    ResourceConfig {
        otel_service_name: r.env.var("OTEL_SERVICE_NAME"),
        flag_service_name: cli.service_name.clone(),
        env_attributes,
        include_command_args: cli.resource_command_args,
    }
}

/// How the child is run, signalled and stopped.
fn resolve_supervise(cli: &Cli, r: &mut Resolver<'_, impl Env>) -> SuperviseConfig {
    let mut remap = Vec::new();
    for entry in &cli.remap_exit_codes {
        match entry
            .split_once('=')
            .map(|(a, b)| (a.trim().parse::<u8>(), b.trim().parse::<u8>()))
        {
            Some((Ok(from), Ok(to))) => remap.push((from, to)),
            _ => r.error(
                "--remap-exit-code",
                format!("{entry:?} is not FROM=TO with codes 0-255, e.g. 143=0"),
            ),
        }
    }
    SuperviseConfig {
        stop_timeout: cli.stop_timeout,
        signal_target: if cli.signal_group {
            crate::supervise::SignalTarget::Group
        } else {
            crate::supervise::SignalTarget::Child
        },
        hidden_env: crate::cli::CHILD_HIDDEN_ENV
            .iter()
            .map(|v| v.to_string())
            .collect(),
        remap,
        pty: cli.pty,
        lifecycle: !cli.no_lifecycle,
        trace: cli.trace,
        traceparent: r.env.var("TRACEPARENT"),
    }
}

/// logwrap's own diagnostics: `LOGWRAP_LOG`, else `-q`/`-v`.
fn log_filter(cli: &Cli, env: &impl Env) -> String {
    env.var("LOGWRAP_LOG").unwrap_or_else(|| {
        let level = match (cli.quiet, cli.verbose) {
            (true, _) => "error",
            (false, 0) => "warn",
            (false, 1) => "info",
            (false, 2) => "debug",
            _ => "trace",
        };
        // Dependencies stay at warn unless asked for by name: their debug
        // output is about connections, not about the user's logs.
        format!("warn,logwrap={level}")
    })
}
