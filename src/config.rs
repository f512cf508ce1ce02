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

use std::collections::HashMap;
use std::ffi::OsString;
use std::fmt;
use std::time::Duration;

use crate::batch::BatchConfig;
use crate::buffer::QueueConfig;
use crate::buffer::disk::DiskMode;
use crate::cli::{Cli, Compression, ExporterKind};
use crate::export::http::Auth;
use crate::export::loki::{self, LabelValue, LokiConfig, LokiLabel};
use crate::export::ndjson::HttpConfig;
use crate::export::secret::{Secret, mask_url};
use crate::export::tls::TlsOptions;
use crate::parse::timestamp::TimeConfig;
use crate::parse::{ParseConfig, ParseMode};
use crate::resource::{self, ResourceConfig};
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

/// Everything logwrap needs to run.
#[derive(Debug)]
pub struct Config {
    pub command: Vec<OsString>,
    pub read: ReadConfig,
    pub parse: ParseConfig,
    pub resource: ResourceConfig,
    pub batch: BatchConfig,
    pub queue: QueueConfig,
    pub disk: DiskConfig,
    pub retry: crate::export::retry::RetryConfig,
    /// Requests in flight per destination where order does not matter.
    pub max_in_flight: usize,
    pub exporters: Vec<ExporterConfig>,
    pub shutdown: ShutdownConfig,
    pub supervise: SuperviseConfig,
    /// A `tracing` targets filter for logwrap's own diagnostics.
    pub log_filter: String,
    /// Files and named pipes read beside (or instead of) a child.
    pub inputs: Option<crate::input::FileInputConfig>,
    /// Where the metrics and health endpoints listen.
    pub metrics_addr: Option<std::net::SocketAddr>,
    /// Print the one-line summary at exit (with `-v`).
    pub summary: bool,
}

/// The read stage.
#[derive(Debug, Clone, Copy)]
pub struct ReadConfig {
    /// A record held back for continuation lines goes out after this much
    /// silence. Default 500 ms: a trace arrives in one burst.
    pub multiline_timeout: Duration,
    /// Copy the child's bytes to logwrap's own stdout/stderr. Off when the
    /// console exporter owns stdout or with `--no-passthrough`.
    pub passthrough: bool,
    /// Longer lines are split. Default 256 KiB, Loki's default `max_line_size`.
    pub max_line_bytes: usize,
}

pub const DEFAULT_MAX_LINE_BYTES: usize = 256 * 1024;
/// Default memory budget per destination. At ~320 accounted bytes per
/// 120-byte line this holds ~50,000 records.
pub const DEFAULT_BUFFER_MAX_BYTES: usize = 16 * 1024 * 1024;
/// The OTLP spec's default per-request timeout (10 s).
pub const DEFAULT_OTLP_TIMEOUT: Duration = Duration::from_secs(10);
pub const DEFAULT_OTLP_HTTP_ENDPOINT: &str = "http://localhost:4318";

pub const DEFAULT_OTLP_GRPC_ENDPOINT: &str = "http://localhost:4317";
/// Timeout of Loki and plain-HTTP requests (the OTLP default, for symmetry).
pub const DEFAULT_HTTP_TIMEOUT: Duration = Duration::from_secs(10);
/// Loki's default `max_label_names_per_series` (15 in Loki 3).
pub const MAX_LOKI_LABELS: usize = 15;

/// One destination.
#[derive(Debug, Clone, PartialEq)]
pub enum ExporterConfig {
    Otlp(OtlpConfig),
    Loki(LokiConfig),
    Http(HttpConfig),
    File(PathBuf),
    Console,
}

/// How OTLP travels.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OtlpProtocol {
    Grpc,
    HttpProtobuf,
    HttpJson,
}

impl OtlpProtocol {
    fn parse(s: &str) -> Option<Self> {
        match s.trim().to_ascii_lowercase().as_str() {
            "grpc" => Some(OtlpProtocol::Grpc),
            "http/protobuf" => Some(OtlpProtocol::HttpProtobuf),
            "http/json" => Some(OtlpProtocol::HttpJson),
            _ => None,
        }
    }
}

/// OTLP settings.
#[derive(Clone, PartialEq)]
pub struct OtlpConfig {
    pub protocol: OtlpProtocol,
    /// HTTP: the full URL requests go to (ending in `/v1/logs` where the rules
    /// say so). gRPC: `scheme://host:port`.
    pub url: String,
    /// Extra headers (gRPC metadata); values may be secrets and are never logged.
    pub headers: Vec<(String, String)>,
    pub compression: Compression,
    pub timeout: Duration,
    pub tls: TlsOptions,
    pub bearer_token: Option<Secret>,
}

impl fmt::Debug for OtlpConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let header_names: Vec<&str> = self.headers.iter().map(|(k, _)| k.as_str()).collect();
        f.debug_struct("OtlpConfig")
            .field("protocol", &self.protocol)
            .field("url", &mask_url(&self.url))
            .field("headers", &header_names)
            .field("compression", &self.compression)
            .field("timeout", &self.timeout)
            .field("tls", &self.tls)
            .field("bearer_token", &self.bearer_token)
            .finish()
    }
}

/// The disk buffer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DiskConfig {
    /// Where segments go; `None`: no disk buffer.
    pub dir: Option<PathBuf>,
    /// Bytes of segments per destination at most. Default 1 GiB.
    pub max_bytes: u64,
    /// Every record through disk (the default), not only the overflow.
    pub all: bool,
}

/// How the child is run and stopped.
#[derive(Debug, Clone)]
pub struct SuperviseConfig {
    /// After SIGTERM/SIGINT, how long the child has before SIGKILL; also the
    /// grace period of processes it leaves behind. Default 8 s: Docker's stop
    /// grace is 10 s, which leaves 2 s to flush.
    pub stop_timeout: Duration,
    pub signal_target: crate::supervise::SignalTarget,
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

/// How the run ends.
#[derive(Debug, Clone, Copy)]
pub struct ShutdownConfig {
    pub drain_timeout: Duration,
    pub shutdown_timeout: Duration,
}

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

/// Resolves the command line and environment into a [`Config`].
pub fn resolve(cli: Cli, env: &impl Env) -> Result<Resolved, ConfigErrors> {
    let mut r = Resolver {
        env,
        errors: Vec::new(),
        warnings: Vec::new(),
    };

    // Exporters: --exporter names them exactly; otherwise every destination
    // that was given an address, plus what OTEL_LOGS_EXPORTER asks for, and
    // the console when that leaves nothing.
    //
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
    let otlp_option = otlp_option_given(&cli);
    let kinds = if !cli.exporter.is_empty() {
        if let Some(option) = otlp_option
            && !cli.exporter.contains(&ExporterKind::Otlp)
        {
            r.error(
                option,
                "is an OTLP option, but --exporter does not include otlp; add otlp to --exporter or drop the option",
            );
            // Its value is still checked, so every problem shows at once.
            let _ = resolve_otlp(&cli, &TlsOptions::default(), &mut r);
        }
        cli.exporter.clone()
    } else {
        let otel = otel_logs_exporter(&mut r).unwrap_or_default();
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
                if let Some(otlp) = resolve_otlp(&cli, &tls, &mut r) {
                    exporters.push(ExporterConfig::Otlp(otlp));
                }
            }
            ExporterKind::Loki => {
                if let Some(loki) = resolve_loki(&cli, &tls, &mut r) {
                    exporters.push(ExporterConfig::Loki(loki));
                }
            }
            ExporterKind::Http => {
                if let Some(http) = resolve_http(&cli, &tls, &mut r) {
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
    let buffer_max_bytes = cli.buffer_max_bytes.unwrap_or(DEFAULT_BUFFER_MAX_BYTES);
    if buffer_max_bytes < max_line_bytes * 2 {
        r.error(
            "--buffer-max-bytes",
            format!(
                "{buffer_max_bytes} bytes cannot hold two lines of --max-line-bytes ({max_line_bytes}); \
                 raise it or lower --max-line-bytes"
            ),
        );
    }

    let batch = resolve_batch(&cli, &mut r);
    let (stdout_mode, stderr_mode) = resolve_parse_modes(&cli.parse, &mut r);
    let zone = resolve_timezone(&cli.timezone, &mut r);

    let env_attributes = match env.var("OTEL_RESOURCE_ATTRIBUTES") {
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

    let console = exporters.contains(&ExporterConfig::Console);
    let log_filter = env.var("LOGWRAP_LOG").unwrap_or_else(|| {
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
    });

    if !r.errors.is_empty() {
        return Err(ConfigErrors(r.errors));
    }
    let config = Config {
        command: cli.command,
        read: ReadConfig {
            multiline_timeout: cli.multiline_timeout,
            passthrough: !cli.no_passthrough && !console,
            max_line_bytes,
        },
        parse: ParseConfig {
            stdout_severity: cli.stdout_severity.0,
            stderr_severity: cli.stderr_severity.0,
            stdout_mode,
            stderr_mode,
            multiline: !cli.no_multiline,
            multiline_max_lines: cli.multiline_max_lines as usize,
            multiline_max_bytes: cli.multiline_max_bytes.unwrap_or(max_line_bytes),
            strip_ansi: !cli.keep_ansi,
            time: TimeConfig {
                zone: zone.unwrap_or(jiff::tz::TimeZone::UTC),
                max_past_nanos: cli.timestamp_max_age.as_nanos().min(u64::MAX as u128) as u64,
                max_future_nanos: cli.timestamp_max_ahead.as_nanos().min(u64::MAX as u128) as u64,
            },
        },
        resource: ResourceConfig {
            otel_service_name: env.var("OTEL_SERVICE_NAME"),
            flag_service_name: cli.service_name,
            env_attributes,
            include_command_args: cli.resource_command_args,
        },
        batch,
        queue: QueueConfig {
            max_bytes: buffer_max_bytes,
            when_full: cli.when_full,
            stall_timeout: cli.stall_timeout,
        },
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
        supervise: SuperviseConfig {
            stop_timeout: cli.stop_timeout,
            signal_target: if cli.signal_group {
                crate::supervise::SignalTarget::Group
            } else {
                crate::supervise::SignalTarget::Child
            },
            remap,
            pty: cli.pty,
            lifecycle: !cli.no_lifecycle,
            trace: cli.trace,
            traceparent: env.var("TRACEPARENT"),
        },
        log_filter,
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
    };
    Ok(Resolved {
        config,
        warnings: r.warnings,
    })
}

/// `--parse auto` or `--parse stdout=json,stderr=text`.
fn resolve_parse_modes(
    entries: &[String],
    r: &mut Resolver<'_, impl Env>,
) -> (ParseMode, ParseMode) {
    use clap::ValueEnum;
    let (mut stdout, mut stderr) = (ParseMode::Auto, ParseMode::Auto);
    for entry in entries {
        let (streams, mode) = match entry.split_once('=') {
            Some(("stdout", m)) => ((true, false), m),
            Some(("stderr", m)) => ((false, true), m),
            Some((other, _)) => {
                r.error(
                    "--parse",
                    format!("unknown stream {other:?}; use stdout=MODE or stderr=MODE"),
                );
                continue;
            }
            None => ((true, true), entry.as_str()),
        };
        match ParseMode::from_str(mode.trim(), true) {
            Ok(m) => {
                if streams.0 {
                    stdout = m;
                }
                if streams.1 {
                    stderr = m;
                }
            }
            Err(_) => r.error(
                "--parse",
                format!("unknown mode {mode:?}; use auto, json, logfmt, text or none"),
            ),
        }
    }
    (stdout, stderr)
}

/// `UTC`, `local`, an IANA name or a fixed offset like `+02:00`.
fn resolve_timezone(raw: &str, r: &mut Resolver<'_, impl Env>) -> Option<jiff::tz::TimeZone> {
    let raw = raw.trim();
    if raw.eq_ignore_ascii_case("utc") || raw == "Z" {
        return Some(jiff::tz::TimeZone::UTC);
    }
    if raw.eq_ignore_ascii_case("local") {
        return match jiff::tz::TimeZone::try_system() {
            Ok(tz) => Some(tz),
            Err(e) => {
                r.error(
                    "--timezone",
                    format!("cannot find the system time zone ({e}); name one, e.g. Europe/Berlin"),
                );
                None
            }
        };
    }
    if let Some(offset) = parse_offset(raw) {
        return jiff::tz::Offset::from_seconds(offset)
            .ok()
            .map(jiff::tz::TimeZone::fixed);
    }
    match jiff::tz::TimeZone::get(raw) {
        Ok(tz) => Some(tz),
        Err(e) => {
            r.error(
                "--timezone",
                format!("{raw:?} is not a known time zone ({e}); use UTC, local, +02:00 or an IANA name like Europe/Berlin"),
            );
            None
        }
    }
}

/// `+02:00`, `-0530`, `+2` → seconds east of UTC.
fn parse_offset(raw: &str) -> Option<i32> {
    let (sign, rest) = match raw.as_bytes().first()? {
        b'+' => (1, &raw[1..]),
        b'-' => (-1, &raw[1..]),
        _ => return None,
    };
    let digits: String = rest.chars().filter(|c| *c != ':').collect();
    if digits.is_empty() || digits.len() > 4 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let (h, m) = if digits.len() <= 2 {
        (digits.parse::<i32>().ok()?, 0)
    } else {
        let split = digits.len() - 2;
        (
            digits[..split].parse::<i32>().ok()?,
            digits[split..].parse::<i32>().ok()?,
        )
    };
    (h <= 23 && m <= 59).then_some(sign * (h * 3600 + m * 60))
}

fn dedup(kinds: Vec<ExporterKind>) -> Vec<ExporterKind> {
    let mut out = Vec::new();
    for k in kinds {
        if !out.contains(&k) {
            out.push(k);
        }
    }
    out
}

fn otel_logs_exporter(r: &mut Resolver<'_, impl Env>) -> Option<Vec<ExporterKind>> {
    let raw = r.env.var("OTEL_LOGS_EXPORTER")?;
    let mut kinds = Vec::new();
    for part in raw.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        match part.to_ascii_lowercase().as_str() {
            "otlp" => kinds.push(ExporterKind::Otlp),
            "console" => kinds.push(ExporterKind::Console),
            "none" => kinds.push(ExporterKind::None),
            other => {
                r.warn_ignored(
                    "OTEL_LOGS_EXPORTER",
                    &raw,
                    format!("unknown exporter {other:?}; known: otlp, console, none"),
                );
                return None;
            }
        }
    }
    if kinds.contains(&ExporterKind::None) && kinds.len() > 1 {
        r.warn_ignored(
            "OTEL_LOGS_EXPORTER",
            &raw,
            "'none' cannot be combined with other exporters",
        );
        return None;
    }
    (!kinds.is_empty()).then_some(kinds)
}

fn resolve_otlp(cli: &Cli, tls: &TlsOptions, r: &mut Resolver<'_, impl Env>) -> Option<OtlpConfig> {
    let protocol = match &cli.otlp_protocol {
        Some(flag) => match OtlpProtocol::parse(flag) {
            Some(p) => p,
            None => {
                r.error(
                    "--otlp-protocol",
                    format!("{flag:?} is not a protocol; use grpc, http/protobuf or http/json"),
                );
                return None;
            }
        },
        None => match r.otlp_var("PROTOCOL") {
            Some((name, raw)) => OtlpProtocol::parse(&raw).unwrap_or_else(|| {
                r.warn_ignored(&name, &raw, "expected grpc, http/protobuf or http/json");
                OtlpProtocol::HttpProtobuf
            }),
            None => OtlpProtocol::HttpProtobuf,
        },
    };
    let grpc = protocol == OtlpProtocol::Grpc;
    let insecure = cli.otlp_insecure || otel_bool(r, "INSECURE");

    // Endpoint. HTTP: the flag and the generic variable are base URLs that
    // get `v1/logs` appended, the logs-specific variable is used as is (OTLP
    // exporter spec, "Endpoint URLs for OTLP/HTTP"). gRPC: never a path; a
    // URL without a scheme takes http:// when insecure, else https://.
    let url = match &cli.otlp_endpoint {
        Some(flag) => match endpoint_url(flag, grpc, insecure, true) {
            Ok(url) => url,
            Err(why) => {
                r.error("--otlp-endpoint", format!("{:?} {why}", mask_url(flag)));
                return None;
            }
        },
        None => otlp_endpoint_from_env(r, grpc, insecure),
    };

    let bearer_file = cli.otlp_bearer_token_file.is_some();
    let headers = if !cli.otlp_headers.is_empty() {
        let mut headers = Vec::new();
        for h in &cli.otlp_headers {
            match parse_header(h).and_then(|kv| not_owned(kv, grpc, bearer_file)) {
                Ok(kv) => headers.push(kv),
                Err(why) => r.error("--otlp-header", why),
            }
        }
        headers
    } else if let Some((name, raw)) = r.otlp_var("HEADERS") {
        match parse_header_list(&raw) {
            // A header logwrap owns is dropped alone, with a warning: the
            // variable may be meant for an SDK too (see the module docs).
            Ok(headers) => headers
                .into_iter()
                .filter_map(|kv| match not_owned(kv, grpc, bearer_file) {
                    Ok(kv) => Some(kv),
                    Err(why) => {
                        r.warnings
                            .push(format!("ignoring a header of {name}: {why}"));
                        None
                    }
                })
                .collect(),
            Err(why) => {
                // The value may hold a secret: name the problem, not the value.
                r.warnings.push(format!("ignoring {name}: {why}"));
                Vec::new()
            }
        }
    } else {
        Vec::new()
    };

    let compression = match cli.otlp_compression {
        Some(Compression::Zstd) if grpc => {
            r.error(
                "--otlp-compression",
                "gRPC supports gzip or none; zstd is for OTLP/HTTP",
            );
            Compression::None
        }
        Some(c) => c,
        None => match r.otlp_var("COMPRESSION") {
            Some((name, raw)) => match raw.trim().to_ascii_lowercase().as_str() {
                "gzip" => Compression::Gzip,
                "zstd" if !grpc => Compression::Zstd,
                "none" => Compression::None,
                _ => {
                    r.warn_ignored(
                        &name,
                        &raw,
                        if grpc {
                            "expected gzip or none"
                        } else {
                            "expected gzip, zstd or none"
                        },
                    );
                    Compression::None
                }
            },
            None => Compression::None,
        },
    };

    let timeout = match cli.otlp_timeout {
        Some(t) => t,
        None => {
            let from_env = [
                "OTEL_EXPORTER_OTLP_LOGS_TIMEOUT",
                "OTEL_EXPORTER_OTLP_TIMEOUT",
            ]
            .into_iter()
            .find_map(|name| r.env_millis(name));
            from_env.unwrap_or(DEFAULT_OTLP_TIMEOUT)
        }
    };
    // The spec reads a timeout of 0 as "no limit"; a day stands in for it.
    let timeout = if timeout.is_zero() {
        Duration::from_secs(86_400)
    } else {
        timeout
    };

    let path_var =
        |r: &Resolver<'_, _>, flag: &Option<PathBuf>, suffix: &str, fallback: &Option<PathBuf>| {
            flag.clone()
                .or_else(|| r.otlp_var(suffix).map(|(_, v)| PathBuf::from(v)))
                .or_else(|| fallback.clone())
        };
    let tls = TlsOptions {
        ca_file: path_var(r, &cli.otlp_certificate, "CERTIFICATE", &tls.ca_file),
        client_cert: path_var(
            r,
            &cli.otlp_client_certificate,
            "CLIENT_CERTIFICATE",
            &tls.client_cert,
        ),
        client_key: path_var(r, &cli.otlp_client_key, "CLIENT_KEY", &tls.client_key),
        insecure_skip_verify: tls.insecure_skip_verify,
    };
    check_tls(&tls, "--otlp-client-certificate", r);

    Some(OtlpConfig {
        protocol,
        url,
        headers,
        compression,
        timeout,
        tls,
        bearer_token: cli.otlp_bearer_token_file.clone().map(Secret::file),
    })
}

/// The first OTLP option given to logwrap itself (not through `OTEL_*`),
/// other than the endpoint.
fn otlp_option_given(cli: &Cli) -> Option<&'static str> {
    [
        ("--otlp-protocol", cli.otlp_protocol.is_some()),
        ("--otlp-header", !cli.otlp_headers.is_empty()),
        ("--otlp-compression", cli.otlp_compression.is_some()),
        ("--otlp-timeout", cli.otlp_timeout.is_some()),
        ("--otlp-certificate", cli.otlp_certificate.is_some()),
        (
            "--otlp-client-certificate",
            cli.otlp_client_certificate.is_some(),
        ),
        ("--otlp-client-key", cli.otlp_client_key.is_some()),
        ("--otlp-insecure", cli.otlp_insecure),
        (
            "--otlp-bearer-token-file",
            cli.otlp_bearer_token_file.is_some(),
        ),
    ]
    .into_iter()
    .find_map(|(option, given)| given.then_some(option))
}

/// Loki and plain-HTTP options need their destination's URL: there is no
/// default address to send to, so without it they would be silently unused
/// (issue 13). The defaults of `--loki-encoding` and the compressions
/// count as not given.
fn check_destination_options(cli: &Cli, r: &mut Resolver<'_, impl Env>) {
    if cli.loki_url.is_none() {
        let loki = [
            ("--loki-tenant", cli.loki_tenant.is_some()),
            ("--loki-label", !cli.loki_labels.is_empty()),
            (
                "--no-loki-structured-metadata",
                cli.no_loki_structured_metadata,
            ),
            ("--loki-username", cli.loki_username.is_some()),
            ("--loki-password", cli.loki_password.is_some()),
            ("--loki-password-file", cli.loki_password_file.is_some()),
            ("--loki-bearer-token", cli.loki_bearer_token.is_some()),
            (
                "--loki-bearer-token-file",
                cli.loki_bearer_token_file.is_some(),
            ),
            (
                "--loki-encoding",
                cli.loki_encoding != loki::LokiEncoding::default(),
            ),
            (
                "--loki-compression",
                cli.loki_compression != Compression::None,
            ),
        ];
        for (option, _) in loki.into_iter().filter(|(_, given)| *given) {
            r.error(
                option,
                "needs --loki-url URL (there is no Loki destination)",
            );
        }
    }
    if cli.http_url.is_none() {
        let http = [
            ("--http-header", !cli.http_headers.is_empty()),
            (
                "--http-compression",
                cli.http_compression != Compression::None,
            ),
            (
                "--http-bearer-token-file",
                cli.http_bearer_token_file.is_some(),
            ),
        ];
        for (option, _) in http.into_iter().filter(|(_, given)| *given) {
            r.error(
                option,
                "needs --http-url URL (there is no HTTP destination)",
            );
        }
    }
}

/// `--file` and `--buffer-dir` are checked at start: a directory given as
/// the output file, a file given as the buffer directory, or a parent that
/// does not exist or cannot be written would otherwise only show at the
/// first export, after the run had started (issue 13). Nothing is created
/// here; the exporter and the disk buffer create what is missing.
fn check_paths(cli: &Cli, r: &mut Resolver<'_, impl Env>) {
    use std::path::Path;
    let writable = |path: &Path, mode: libc::c_int| {
        let Ok(c) = std::ffi::CString::new(path.as_os_str().as_encoded_bytes()) else {
            return false;
        };
        // SAFETY: a valid NUL-terminated path; access has no other preconditions.
        unsafe { libc::access(c.as_ptr(), mode) == 0 }
    };
    let parent_of = |path: &Path| match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    if let Some(file) = &cli.file {
        let shown = file.display();
        match std::fs::metadata(file) {
            Ok(m) if m.is_dir() => r.error(
                "--file",
                format!("{shown} is a directory; give a file path in it"),
            ),
            Ok(m) if !m.is_file() => r.error(
                "--file",
                format!("{shown} is not a regular file (a FIFO or a device); give a file path"),
            ),
            Ok(_) if !writable(file, libc::W_OK) => r.error(
                "--file",
                format!("{shown} cannot be written (permissions or a read-only filesystem)"),
            ),
            Ok(_) => {}
            Err(_) => {
                let parent = parent_of(file);
                if !parent.is_dir() {
                    r.error(
                        "--file",
                        format!(
                            "the directory of {shown} ({}) does not exist",
                            parent.display()
                        ),
                    );
                } else if !writable(&parent, libc::W_OK | libc::X_OK) {
                    r.error(
                        "--file",
                        format!(
                            "{shown} cannot be created: {} is not writable",
                            parent.display()
                        ),
                    );
                }
            }
        }
    }
    if let Some(dir) = &cli.buffer_dir {
        let shown = dir.display();
        // The directory, or the nearest ancestor that exists (the disk
        // buffer creates the rest).
        let mut existing = dir.clone();
        while std::fs::symlink_metadata(&existing).is_err() {
            let up = parent_of(&existing);
            if up == existing {
                break; // "." itself is gone
            }
            existing = up;
        }
        if !existing.is_dir() {
            let what = if existing == *dir {
                format!("{shown} is not a directory")
            } else {
                format!(
                    "{} (on the way to {shown}) is not a directory",
                    existing.display()
                )
            };
            r.error("--buffer-dir", what);
        } else if !writable(&existing, libc::W_OK | libc::X_OK) {
            r.error(
                "--buffer-dir",
                format!("{} is not writable", existing.display()),
            );
        }
    }
}

/// The files the options name for logwrap to read (tokens, passwords, PEM
/// files) are read once here, so that a wrong path, a FIFO, a device or a
/// huge file is a usage error at start (exit 2) instead of a hang or a
/// failure at the first export (issue 13). The same bounded, non-blocking
/// read is used when they are read again later. Paths that come from
/// `OTEL_*` variables are not checked here: a bad OTel value is warned
/// about where it is used, never fatal.
fn check_named_files(cli: &Cli, r: &mut Resolver<'_, impl Env>) {
    use crate::export::secret::{MAX_SECRET_FILE, read_small_file};
    use crate::export::tls::MAX_PEM_FILE;
    let files = [
        (
            "--otlp-bearer-token-file",
            &cli.otlp_bearer_token_file,
            MAX_SECRET_FILE,
        ),
        (
            "--loki-password-file",
            &cli.loki_password_file,
            MAX_SECRET_FILE,
        ),
        (
            "--loki-bearer-token-file",
            &cli.loki_bearer_token_file,
            MAX_SECRET_FILE,
        ),
        (
            "--http-bearer-token-file",
            &cli.http_bearer_token_file,
            MAX_SECRET_FILE,
        ),
        ("--otlp-certificate", &cli.otlp_certificate, MAX_PEM_FILE),
        (
            "--otlp-client-certificate",
            &cli.otlp_client_certificate,
            MAX_PEM_FILE,
        ),
        ("--otlp-client-key", &cli.otlp_client_key, MAX_PEM_FILE),
        ("--tls-ca-file", &cli.tls_ca_file, MAX_PEM_FILE),
        ("--tls-client-cert", &cli.tls_client_cert, MAX_PEM_FILE),
        ("--tls-client-key", &cli.tls_client_key, MAX_PEM_FILE),
    ];
    for (setting, path, max) in files {
        let Some(path) = path else { continue };
        if let Err(e) = read_small_file(path, max) {
            r.error(setting, format!("cannot read {}: {e}", path.display()));
        }
    }
}

/// OTel booleans: true only for "true" (any case); other non-empty values
/// are warned about (configuration spec, "Boolean").
fn otel_bool(r: &mut Resolver<'_, impl Env>, suffix: &str) -> bool {
    match r.otlp_var(suffix) {
        Some((_, v)) if v.trim().eq_ignore_ascii_case("true") => true,
        Some((_, v)) if v.trim().eq_ignore_ascii_case("false") => false,
        Some((name, v)) => {
            r.warn_ignored(&name, &v, "expected true or false");
            false
        }
        None => false,
    }
}

fn check_tls(tls: &TlsOptions, setting: &str, r: &mut Resolver<'_, impl Env>) {
    if tls.client_cert.is_some() != tls.client_key.is_some() {
        r.error(
            setting,
            "a client certificate needs a client key and the other way round",
        );
    }
}

fn otlp_endpoint_from_env(r: &mut Resolver<'_, impl Env>, grpc: bool, insecure: bool) -> String {
    if let Some(raw) = r.env.var("OTEL_EXPORTER_OTLP_LOGS_ENDPOINT") {
        match endpoint_url(&raw, grpc, insecure, false) {
            Ok(url) => return url,
            Err(why) => r.warn_ignored("OTEL_EXPORTER_OTLP_LOGS_ENDPOINT", &mask_url(&raw), why),
        }
    }
    if let Some(raw) = r.env.var("OTEL_EXPORTER_OTLP_ENDPOINT") {
        match endpoint_url(&raw, grpc, insecure, true) {
            Ok(url) => return url,
            Err(why) => r.warn_ignored("OTEL_EXPORTER_OTLP_ENDPOINT", &mask_url(&raw), why),
        }
    }
    let default = if grpc {
        DEFAULT_OTLP_GRPC_ENDPOINT
    } else {
        DEFAULT_OTLP_HTTP_ENDPOINT
    };
    endpoint_url(default, grpc, insecure, true).expect("the default endpoints are valid")
}

/// The URL to use for an endpoint setting. HTTP: `base` ones get `/v1/logs`
/// appended, others only get `/` for an empty path. gRPC: scheme, host and
/// port; a missing scheme follows `insecure`.
fn endpoint_url(raw: &str, grpc: bool, insecure: bool, base: bool) -> Result<String, String> {
    if grpc {
        let raw = raw.trim();
        let with_scheme = if raw.contains("://") {
            raw.to_string()
        } else {
            format!("{}://{raw}", if insecure { "http" } else { "https" })
        };
        let url = check_http_url(&with_scheme)?;
        let host = url.host_str().ok_or("has no host")?;
        let port = url.port_or_known_default().unwrap_or(4317);
        return Ok(format!("{}://{host}:{port}", url.scheme()));
    }
    if base {
        return logs_url_from_base(raw);
    }
    let mut url = check_http_url(raw)?;
    if url.path().is_empty() {
        url.set_path("/");
    }
    Ok(url.to_string())
}

fn resolve_loki(cli: &Cli, tls: &TlsOptions, r: &mut Resolver<'_, impl Env>) -> Option<LokiConfig> {
    let Some(raw) = &cli.loki_url else {
        r.error("--exporter", "'loki' needs --loki-url URL");
        return None;
    };
    let url = match loki::push_url(raw) {
        Ok(url) => url,
        Err(why) => {
            r.error("--loki-url", format!("{:?} {why}", mask_url(raw)));
            return None;
        }
    };
    if cli.loki_compression == Compression::Zstd {
        r.error("--loki-compression", "Loki accepts gzip or none");
    }
    let mut labels: Vec<LokiLabel> = Vec::new();
    for entry in &cli.loki_labels {
        let Some((name, value)) = entry.split_once('=') else {
            r.error(
                "--loki-label",
                format!("{entry:?} has no '='; use NAME=VALUE or NAME={{attribute}}"),
            );
            continue;
        };
        let name = name.trim();
        if loki::label_name(name) != name {
            r.error(
                "--loki-label",
                format!(
                    "{name:?} is not a Loki label name; use letters, digits and _ (e.g. {:?})",
                    loki::label_name(name)
                ),
            );
            continue;
        }
        if name == "service_name" {
            r.error(
                "--loki-label",
                "service_name is set from service.name; use --service-name",
            );
            continue;
        }
        let value = value.trim();
        let value = match value.strip_prefix('{').and_then(|v| v.strip_suffix('}')) {
            Some(attribute) => LabelValue::Attribute(attribute.to_string()),
            None => LabelValue::Static(value.to_string()),
        };
        labels.retain(|l| l.name != name);
        labels.push(LokiLabel {
            name: name.to_string(),
            value,
        });
    }
    if labels.len() + 1 > MAX_LOKI_LABELS {
        r.error(
            "--loki-label",
            format!(
                "{} labels with service_name; Loki allows {MAX_LOKI_LABELS} per stream by default",
                labels.len() + 1
            ),
        );
    }
    let password = match (&cli.loki_password, &cli.loki_password_file) {
        (Some(p), None) => Some(Secret::Literal(p.clone())),
        (None, Some(f)) => Some(Secret::file(f.clone())),
        (None, None) => None,
        (Some(_), Some(_)) => {
            r.error(
                "--loki-password-file",
                "give the password or a password file, not both",
            );
            None
        }
    };
    let bearer = match (&cli.loki_bearer_token, &cli.loki_bearer_token_file) {
        (Some(t), None) => Some(Secret::Literal(t.clone())),
        (None, Some(f)) => Some(Secret::file(f.clone())),
        (None, None) => None,
        (Some(_), Some(_)) => {
            r.error(
                "--loki-bearer-token-file",
                "give the token or a token file, not both",
            );
            None
        }
    };
    let basic = match (&cli.loki_username, password) {
        (Some(user), Some(p)) => Some((user.clone(), p)),
        (Some(_), None) => {
            r.error(
                "--loki-username",
                "basic auth needs a password (LOGWRAP_LOKI_PASSWORD or --loki-password-file)",
            );
            None
        }
        (None, Some(_)) => {
            r.error("--loki-password", "a password needs --loki-username");
            None
        }
        (None, None) => None,
    };
    if basic.is_some() && bearer.is_some() {
        r.error(
            "--loki-bearer-token",
            "use basic auth or a bearer token, not both",
        );
    }
    check_tls(tls, "--tls-client-cert", r);
    Some(LokiConfig {
        url,
        encoding: cli.loki_encoding,
        compression: cli.loki_compression,
        tenant: cli.loki_tenant.clone(),
        auth: Auth { bearer, basic },
        labels,
        structured_metadata: !cli.no_loki_structured_metadata,
        level_label: !cli.no_loki_level_label,
        timeout: DEFAULT_HTTP_TIMEOUT,
        tls: tls.clone(),
    })
}

fn resolve_http(cli: &Cli, tls: &TlsOptions, r: &mut Resolver<'_, impl Env>) -> Option<HttpConfig> {
    let Some(raw) = &cli.http_url else {
        r.error("--exporter", "'http' needs --http-url URL");
        return None;
    };
    let url = match check_http_url(raw) {
        Ok(url) => url.to_string(),
        Err(why) => {
            r.error("--http-url", format!("{:?} {why}", mask_url(raw)));
            return None;
        }
    };
    let mut headers = Vec::new();
    let bearer_file = cli.http_bearer_token_file.is_some();
    for h in &cli.http_headers {
        match parse_header(h).and_then(|kv| not_owned(kv, false, bearer_file)) {
            Ok(kv) => headers.push(kv),
            Err(why) => r.error("--http-header", why),
        }
    }
    check_tls(tls, "--tls-client-cert", r);
    Some(HttpConfig {
        url,
        headers,
        compression: cli.http_compression,
        auth: Auth {
            bearer: cli.http_bearer_token_file.clone().map(Secret::file),
            basic: None,
        },
        timeout: DEFAULT_HTTP_TIMEOUT,
        tls: tls.clone(),
    })
}

fn check_http_url(raw: &str) -> Result<reqwest::Url, String> {
    let url = reqwest::Url::parse(raw.trim())
        .map_err(|e| format!("is not a URL ({e}); use e.g. http://collector:4318"))?;
    match url.scheme() {
        "http" | "https" => Ok(url),
        other => Err(format!("has scheme {other:?}; use http:// or https://")),
    }
}

/// A base URL plus `v1/logs`, with exactly one `/` between them.
fn logs_url_from_base(raw: &str) -> Result<String, String> {
    let mut url = check_http_url(raw)?;
    let path = url.path().trim_end_matches('/').to_string();
    url.set_path(&format!("{path}/v1/logs"));
    Ok(url.to_string())
}

/// `KEY=VALUE` from `--otlp-header`; the value is taken literally.
fn parse_header(raw: &str) -> Result<(String, String), String> {
    let Some((k, v)) = raw.split_once('=') else {
        // The text may be a token pasted without its name: do not echo it.
        return Err("a header has no '='; use KEY=VALUE".to_string());
    };
    validate_header(k.trim(), v.trim())?;
    Ok((k.trim().to_string(), v.trim().to_string()))
}

/// The W3C-baggage-like list of `OTEL_EXPORTER_OTLP_HEADERS`: `k=v,k2=v2`,
/// values percent-decoded.
fn parse_header_list(raw: &str) -> Result<Vec<(String, String)>, String> {
    let mut out = Vec::new();
    for (i, member) in raw.split(',').map(str::trim).enumerate() {
        if member.is_empty() {
            continue;
        }
        let Some((k, v)) = member.split_once('=') else {
            return Err(format!(
                "entry {} has no '=' (expected key=value,key2=value2)",
                i + 1
            ));
        };
        let value = resource::percent_decode(v.trim())
            .ok_or_else(|| format!("the value of {:?} has a bad %-escape", k.trim()))?;
        validate_header(k.trim(), &value)?;
        out.push((k.trim().to_string(), value));
    }
    Ok(out)
}

/// Headers logwrap sets itself, which a user header would contradict
/// (issue 13): `Host` comes from the URL (another value sends the request
/// to one virtual host and its TLS name to another), the body headers
/// describe the body logwrap encodes (`Content-Encoding: gzip` on an
/// uncompressed body makes the server refuse or misread it), the hop-by-hop
/// headers belong to the HTTP client, and gRPC's own headers frame the
/// call. `Authorization` is the user's, unless a bearer token file sets it
/// too, where one of the two would be silently lost.
fn owned_header(name: &str, grpc: bool, bearer_file: bool) -> Option<&'static str> {
    let name = name.to_ascii_lowercase();
    match name.as_str() {
        "host" => Some("logwrap sets it from the URL; change the URL instead"),
        "content-type" | "content-length" => Some("logwrap sets it for the body it sends"),
        "content-encoding" => Some("logwrap sets it from the compression option"),
        "transfer-encoding" | "connection" | "keep-alive" | "proxy-connection" | "upgrade"
        | "te" | "trailer" => Some("the HTTP client manages the connection and sets it"),
        "authorization" if bearer_file => {
            Some("the bearer token file sets it; give one or the other")
        }
        _ if grpc && name.starts_with("grpc-") => {
            Some("it is part of gRPC's framing, set by the gRPC client")
        }
        _ => None,
    }
}

/// `kv` unless logwrap owns that header; the error names it and says why.
fn not_owned(
    kv: (String, String),
    grpc: bool,
    bearer_file: bool,
) -> Result<(String, String), String> {
    match owned_header(&kv.0, grpc, bearer_file) {
        Some(why) => Err(format!("cannot set header {:?}: {why}", kv.0)),
        None => Ok(kv),
    }
}

fn validate_header(name: &str, value: &str) -> Result<(), String> {
    reqwest::header::HeaderName::from_bytes(name.as_bytes())
        .map_err(|_| format!("{name:?} is not a valid HTTP header name"))?;
    reqwest::header::HeaderValue::from_str(value)
        .map_err(|_| format!("the value of {name:?} is not a valid HTTP header value"))?;
    Ok(())
}

fn resolve_batch(cli: &Cli, r: &mut Resolver<'_, impl Env>) -> BatchConfig {
    let defaults = BatchConfig::default();
    let max_records = match cli.batch_max_records {
        Some(n) => n as usize,
        None => match r.env.var("OTEL_BLRP_MAX_EXPORT_BATCH_SIZE") {
            Some(raw) => match raw.trim().parse::<usize>() {
                Ok(n) if n > 0 => n,
                _ => {
                    r.warn_ignored(
                        "OTEL_BLRP_MAX_EXPORT_BATCH_SIZE",
                        &raw,
                        "expected a positive whole number",
                    );
                    defaults.max_records
                }
            },
            None => defaults.max_records,
        },
    };
    let max_delay = match cli.batch_delay {
        Some(d) => d,
        None => r
            .env_millis("OTEL_BLRP_SCHEDULE_DELAY")
            .unwrap_or(defaults.max_delay),
    };
    let max_bytes = cli.batch_max_bytes.unwrap_or(defaults.max_bytes);
    if max_bytes == 0 {
        r.error("--batch-max-bytes", "must be more than 0");
    }
    BatchConfig {
        max_records,
        max_bytes,
        max_delay,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    /// A real, small file for an option that names a file logwrap reads
    /// (those are read at start); leaked, as the tables hold &'static str.
    fn real_file(name: &str) -> &'static str {
        let dir = Box::leak(Box::new(tempfile::tempdir().unwrap()));
        let path = dir.path().join(name);
        std::fs::write(&path, "x").unwrap();
        Box::leak(path.to_str().unwrap().to_string().into_boxed_str())
    }

    #[test]
    fn headers_logwrap_owns_are_refused_from_flags_and_dropped_from_otel_variables() {
        for (args, setting) in [
            (
                &["--exporter", "otlp", "--otlp-header", "Host=x"][..],
                "--otlp-header",
            ),
            (
                &[
                    "--exporter",
                    "otlp",
                    "--otlp-header",
                    "content-encoding=gzip",
                ],
                "--otlp-header",
            ),
            (
                &[
                    "--exporter",
                    "otlp",
                    "--otlp-protocol",
                    "grpc",
                    "--otlp-header",
                    "grpc-encoding=gzip",
                ],
                "--otlp-header",
            ),
            (
                &["--http-url", "http://h", "--http-header", "te=trailers"],
                "--http-header",
            ),
        ] {
            let e = resolve_with(args, &[]).unwrap_err();
            assert_eq!(e.0[0].setting, setting, "{args:?}");
        }
        // Allowed: grpc-* over HTTP means nothing special; authorization
        // without a token file is the user's.
        let r = resolve_with(
            &[
                "--exporter",
                "otlp",
                "--otlp-header",
                "authorization=Basic x",
                "--otlp-header",
                "grpc-x=1",
            ],
            &[],
        )
        .unwrap();
        assert_eq!(otlp(&r).headers.len(), 2);
        let r = resolve_with(
            &["--exporter", "otlp"],
            &[(
                "OTEL_EXPORTER_OTLP_HEADERS",
                "api-key=1,content-type=text/plain",
            )],
        )
        .unwrap();
        assert_eq!(otlp(&r).headers, [("api-key".to_string(), "1".to_string())]);
        assert!(
            r.warnings.iter().any(|w| w.contains("content-type")),
            "{:?}",
            r.warnings
        );
    }

    fn cli(args: &[&str]) -> Cli {
        let mut argv = vec!["logwrap"];
        argv.extend_from_slice(args);
        argv.extend_from_slice(&["--", "true"]);
        Cli::try_parse_from(argv).unwrap()
    }

    fn resolve_with(
        args: &[&str],
        env: &[(&'static str, &'static str)],
    ) -> Result<Resolved, ConfigErrors> {
        let env: HashMap<&str, &str> = env.iter().copied().collect();
        resolve(cli(args), &env)
    }

    fn otlp(resolved: &Resolved) -> &OtlpConfig {
        match resolved.config.exporters.as_slice() {
            [ExporterConfig::Otlp(o)] => o,
            other => panic!("expected one OTLP exporter, got {other:?}"),
        }
    }

    #[test]
    fn console_is_the_default_and_turns_the_passthrough_off() {
        let r = resolve_with(&[], &[]).unwrap();
        assert_eq!(r.config.exporters, [ExporterConfig::Console]);
        assert!(!r.config.read.passthrough);
    }

    #[test]
    fn an_endpoint_anywhere_selects_otlp_and_keeps_the_passthrough() {
        let r = resolve_with(&[], &[("OTEL_EXPORTER_OTLP_ENDPOINT", "http://c:4318")]).unwrap();
        assert_eq!(otlp(&r).url, "http://c:4318/v1/logs");
        assert!(r.config.read.passthrough);
        let r = resolve_with(&["--otlp-endpoint", "http://flag:1/base/"], &[]).unwrap();
        assert_eq!(otlp(&r).url, "http://flag:1/base/v1/logs");
    }

    #[test]
    fn endpoint_precedence_and_path_rules() {
        let env = [
            ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://generic:4318/prefix"),
            (
                "OTEL_EXPORTER_OTLP_LOGS_ENDPOINT",
                "http://logs:4318/custom/path",
            ),
        ];
        // Logs-specific beats generic and is used as-is.
        let r = resolve_with(&[], &env).unwrap();
        assert_eq!(otlp(&r).url, "http://logs:4318/custom/path");
        // The flag beats both.
        let r = resolve_with(&["--otlp-endpoint", "https://flag"], &env).unwrap();
        assert_eq!(otlp(&r).url, "https://flag/v1/logs");
        // Generic: v1/logs appended to the path, one slash.
        let r = resolve_with(&[], &[("OTEL_EXPORTER_OTLP_ENDPOINT", "http://g:1/prefix")]).unwrap();
        assert_eq!(otlp(&r).url, "http://g:1/prefix/v1/logs");
        // Logs-specific without a path gets the root path, nothing appended.
        let r = resolve_with(
            &[],
            &[("OTEL_EXPORTER_OTLP_LOGS_ENDPOINT", "http://l:4318")],
        )
        .unwrap();
        assert_eq!(otlp(&r).url, "http://l:4318/");
        // OTEL_LOGS_EXPORTER=otlp with no endpoint: the spec's default.
        let r = resolve_with(&[], &[("OTEL_LOGS_EXPORTER", "otlp")]).unwrap();
        assert_eq!(otlp(&r).url, "http://localhost:4318/v1/logs");
    }

    #[test]
    fn a_bad_flag_is_an_error_but_a_bad_otel_variable_is_a_warning() {
        let errs = resolve_with(&["--otlp-endpoint", "collector:4318"], &[]).unwrap_err();
        assert_eq!(errs.0[0].setting, "--otlp-endpoint");
        assert!(errs.to_string().contains("http://"), "{errs}");

        let r = resolve_with(
            &["--exporter", "otlp"],
            &[
                ("OTEL_EXPORTER_OTLP_ENDPOINT", "not a url"),
                ("OTEL_EXPORTER_OTLP_TIMEOUT", "5s"),
                ("OTEL_EXPORTER_OTLP_COMPRESSION", "brotli"),
            ],
        )
        .unwrap();
        assert_eq!(otlp(&r).url, "http://localhost:4318/v1/logs");
        assert_eq!(otlp(&r).timeout, DEFAULT_OTLP_TIMEOUT);
        assert_eq!(otlp(&r).compression, Compression::None);
        assert_eq!(r.warnings.len(), 3, "{:?}", r.warnings);
    }

    #[test]
    fn all_errors_are_reported_together() {
        let errs = resolve_with(
            &[
                "--max-line-bytes",
                "8",
                "--otlp-endpoint",
                "ftp://x",
                "--exporter",
                "none,console",
            ],
            &[],
        )
        .unwrap_err();
        let settings: Vec<&str> = errs.0.iter().map(|e| e.setting.as_str()).collect();
        assert!(settings.contains(&"--max-line-bytes"), "{settings:?}");
        assert!(settings.contains(&"--exporter"), "{settings:?}");
    }

    #[test]
    fn headers_from_flags_or_env_with_percent_decoding() {
        let r = resolve_with(
            &["--exporter", "otlp"],
            &[
                ("OTEL_EXPORTER_OTLP_HEADERS", "generic=1"),
                (
                    "OTEL_EXPORTER_OTLP_LOGS_HEADERS",
                    "Authorization=Basic%20abc, x-tenant = t1 ",
                ),
            ],
        )
        .unwrap();
        assert_eq!(
            otlp(&r).headers,
            [
                ("Authorization".into(), "Basic abc".into()),
                ("x-tenant".into(), "t1".into())
            ]
        );
        let r = resolve_with(&["--otlp-header", "a=b=c", "--otlp-header", "d=e"], &[]).unwrap();
        // An OTLP option alone selects OTLP at the default endpoint (issue
        // 13; it used to leave the console, silently ignoring the header).
        assert_eq!(otlp(&r).url, "http://localhost:4318/v1/logs");
        assert!(!r.config.exporters.contains(&ExporterConfig::Console));
        let r = resolve_with(&["--exporter", "otlp", "--otlp-header", "a=b=c"], &[]).unwrap();
        assert_eq!(otlp(&r).headers, [("a".into(), "b=c".into())]);
        let errs =
            resolve_with(&["--exporter", "otlp", "--otlp-header", "token"], &[]).unwrap_err();
        assert!(errs.to_string().contains("KEY=VALUE"));
    }

    #[test]
    fn header_values_never_appear_in_messages() {
        let r = resolve_with(
            &["--exporter", "otlp"],
            &[(
                "OTEL_EXPORTER_OTLP_HEADERS",
                "Authorization=Bearer%20s3cr3t,broken",
            )],
        )
        .unwrap();
        assert!(!r.warnings.join(" ").contains("s3cr3t"), "{:?}", r.warnings);
        let debug = format!(
            "{:?}",
            resolve_with(&["--exporter", "otlp", "--otlp-header", "k=s3cr3t"], &[])
                .unwrap()
                .config
        );
        assert!(!debug.contains("s3cr3t"), "{debug}");
    }

    #[test]
    fn timeout_and_compression_precedence() {
        let env = [
            ("OTEL_EXPORTER_OTLP_TIMEOUT", "3000"),
            ("OTEL_EXPORTER_OTLP_LOGS_TIMEOUT", "2000"),
            ("OTEL_EXPORTER_OTLP_COMPRESSION", "gzip"),
        ];
        let r = resolve_with(&["--exporter", "otlp"], &env).unwrap();
        assert_eq!(otlp(&r).timeout, Duration::from_secs(2));
        assert_eq!(otlp(&r).compression, Compression::Gzip);
        let r = resolve_with(
            &[
                "--exporter",
                "otlp",
                "--otlp-timeout",
                "1s",
                "--otlp-compression",
                "none",
            ],
            &env,
        )
        .unwrap();
        assert_eq!(otlp(&r).timeout, Duration::from_secs(1));
        assert_eq!(otlp(&r).compression, Compression::None);
    }

    #[test]
    fn batch_settings_honour_the_blrp_variables() {
        let env = [
            ("OTEL_BLRP_MAX_EXPORT_BATCH_SIZE", "100"),
            ("OTEL_BLRP_SCHEDULE_DELAY", "250"),
        ];
        let r = resolve_with(&[], &env).unwrap();
        assert_eq!(r.config.batch.max_records, 100);
        assert_eq!(r.config.batch.max_delay, Duration::from_millis(250));
        let r = resolve_with(&["--batch-max-records", "7", "--batch-delay", "2s"], &env).unwrap();
        assert_eq!(r.config.batch.max_records, 7);
        assert_eq!(r.config.batch.max_delay, Duration::from_secs(2));
    }

    #[test]
    fn resource_attributes_are_parsed_or_discarded_whole() {
        let r = resolve_with(
            &[],
            &[
                ("OTEL_RESOURCE_ATTRIBUTES", "a=1,b=2"),
                ("OTEL_SERVICE_NAME", "svc"),
            ],
        )
        .unwrap();
        assert_eq!(r.config.resource.env_attributes.len(), 2);
        assert_eq!(r.config.resource.otel_service_name.as_deref(), Some("svc"));
        let r = resolve_with(&[], &[("OTEL_RESOURCE_ATTRIBUTES", "a=1,oops")]).unwrap();
        assert!(r.config.resource.env_attributes.is_empty());
        assert!(r.warnings[0].contains("OTEL_RESOURCE_ATTRIBUTES"));
    }

    #[test]
    fn verbosity_sets_the_log_filter_unless_logwrap_log_is_set() {
        assert_eq!(
            resolve_with(&[], &[]).unwrap().config.log_filter,
            "warn,logwrap=warn"
        );
        assert_eq!(
            resolve_with(&["-vv"], &[]).unwrap().config.log_filter,
            "warn,logwrap=debug"
        );
        assert_eq!(
            resolve_with(&["-q"], &[]).unwrap().config.log_filter,
            "warn,logwrap=error"
        );
        let r = resolve_with(&["-v"], &[("LOGWRAP_LOG", "trace")]).unwrap();
        assert_eq!(r.config.log_filter, "trace");
    }

    #[test]
    fn protocol_precedence_and_grpc_endpoints() {
        let env = [
            ("OTEL_EXPORTER_OTLP_PROTOCOL", "http/json"),
            ("OTEL_EXPORTER_OTLP_LOGS_PROTOCOL", "grpc"),
        ];
        let r = resolve_with(&["--exporter", "otlp"], &env).unwrap();
        assert_eq!(otlp(&r).protocol, OtlpProtocol::Grpc);
        assert_eq!(
            otlp(&r).url,
            "http://localhost:4317",
            "gRPC default: no path"
        );
        let r = resolve_with(
            &["--exporter", "otlp", "--otlp-protocol", "http/protobuf"],
            &env,
        )
        .unwrap();
        assert_eq!(otlp(&r).protocol, OtlpProtocol::HttpProtobuf);
        let r = resolve_with(
            &["--exporter", "otlp"],
            &[("OTEL_EXPORTER_OTLP_PROTOCOL", "http/json")],
        )
        .unwrap();
        assert_eq!(otlp(&r).protocol, OtlpProtocol::HttpJson);
        assert_eq!(otlp(&r).url, "http://localhost:4318/v1/logs");
        // An unknown protocol in OTEL_* is a warning, in a flag an error.
        let r = resolve_with(
            &["--exporter", "otlp"],
            &[("OTEL_EXPORTER_OTLP_PROTOCOL", "thrift")],
        )
        .unwrap();
        assert_eq!(otlp(&r).protocol, OtlpProtocol::HttpProtobuf);
        assert_eq!(r.warnings.len(), 1);
        assert!(resolve_with(&["--otlp-protocol", "thrift", "--exporter", "otlp"], &[]).is_err());

        // gRPC endpoints: scheme decides TLS; no scheme follows INSECURE.
        let grpc = |endpoint: &'static str, insecure: &'static str| {
            let env = [
                ("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc"),
                ("OTEL_EXPORTER_OTLP_ENDPOINT", endpoint),
                ("OTEL_EXPORTER_OTLP_INSECURE", insecure),
            ];
            otlp(&resolve_with(&[], &env).unwrap()).url.clone()
        };
        assert_eq!(grpc("collector:4317", "true"), "http://collector:4317");
        assert_eq!(grpc("collector:4317", "false"), "https://collector:4317");
        assert_eq!(
            grpc("https://collector:4317/ignored/path", "true"),
            "https://collector:4317"
        );
        assert_eq!(grpc("http://collector", "false"), "http://collector:80");
        let e = resolve_with(
            &[
                "--otlp-protocol",
                "grpc",
                "--otlp-compression",
                "zstd",
                "--exporter",
                "otlp",
            ],
            &[],
        )
        .unwrap_err();
        assert_eq!(e.0[0].setting, "--otlp-compression");
    }

    /// Every OTEL_EXPORTER_OTLP_* variable that applies to logs: the
    /// logs-specific one beats the generic one, and the flag beats both.
    #[test]
    fn every_otlp_variable_follows_the_precedence() {
        // (suffix, generic value, logs value, flag, flag value, what the config shows)
        type Show = fn(&OtlpConfig) -> String;
        let cases: &[(&str, &str, &str, &str, &str, Show)] = &[
            (
                "ENDPOINT",
                "http://g:1",
                "http://l:2/x",
                "--otlp-endpoint",
                "http://f:3",
                |c| c.url.clone(),
            ),
            (
                "HEADERS",
                "a=generic",
                "a=logs",
                "--otlp-header",
                "a=flag",
                |c| c.headers[0].1.clone(),
            ),
            (
                "COMPRESSION",
                "none",
                "gzip",
                "--otlp-compression",
                "zstd",
                |c| format!("{:?}", c.compression),
            ),
            ("TIMEOUT", "1000", "2000", "--otlp-timeout", "3s", |c| {
                format!("{:?}", c.timeout)
            }),
            (
                "PROTOCOL",
                "http/json",
                "grpc",
                "--otlp-protocol",
                "http/protobuf",
                |c| format!("{:?}", c.protocol),
            ),
            (
                "CERTIFICATE",
                "/g.pem",
                "/l.pem",
                "--otlp-certificate",
                real_file("f.pem"),
                |c| format!("{:?}", c.tls.ca_file),
            ),
        ];
        for (suffix, generic, logs, flag, flag_value, show) in cases {
            let generic_name: &'static str =
                Box::leak(format!("OTEL_EXPORTER_OTLP_{suffix}").into_boxed_str());
            let logs_name: &'static str =
                Box::leak(format!("OTEL_EXPORTER_OTLP_LOGS_{suffix}").into_boxed_str());
            let only_generic = show(otlp(
                &resolve_with(&["--exporter", "otlp"], &[(generic_name, generic)]).unwrap(),
            ));
            let both = show(otlp(
                &resolve_with(
                    &["--exporter", "otlp"],
                    &[(generic_name, generic), (logs_name, logs)],
                )
                .unwrap(),
            ));
            let with_flag = show(otlp(
                &resolve_with(
                    &["--exporter", "otlp", flag, flag_value],
                    &[(generic_name, generic), (logs_name, logs)],
                )
                .unwrap(),
            ));
            assert_ne!(
                only_generic, both,
                "{suffix}: the logs variable must beat the generic one"
            );
            assert_ne!(
                both, with_flag,
                "{suffix}: the flag must beat the variables"
            );
            assert_ne!(only_generic, with_flag, "{suffix}");
        }
        // Pairs: client certificate and key travel together.
        for suffix in ["CLIENT_CERTIFICATE", "CLIENT_KEY"] {
            let other = if suffix == "CLIENT_KEY" {
                "CLIENT_CERTIFICATE"
            } else {
                "CLIENT_KEY"
            };
            let env = [
                (
                    Box::leak(format!("OTEL_EXPORTER_OTLP_{suffix}").into_boxed_str()) as &str,
                    "/generic",
                ),
                (
                    Box::leak(format!("OTEL_EXPORTER_OTLP_LOGS_{suffix}").into_boxed_str()) as &str,
                    "/logs",
                ),
                (
                    Box::leak(format!("OTEL_EXPORTER_OTLP_{other}").into_boxed_str()) as &str,
                    "/other",
                ),
            ];
            let r = resolve_with(&["--exporter", "otlp"], &env).unwrap();
            let tls = &otlp(&r).tls;
            let got = if suffix == "CLIENT_KEY" {
                &tls.client_key
            } else {
                &tls.client_cert
            };
            assert_eq!(
                got.as_deref(),
                Some(std::path::Path::new("/logs")),
                "{suffix}"
            );
        }
        // INSECURE: logs-specific "false" beats generic "true".
        let env = [
            ("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc"),
            ("OTEL_EXPORTER_OTLP_ENDPOINT", "collector:4317"),
            ("OTEL_EXPORTER_OTLP_INSECURE", "true"),
        ];
        assert_eq!(
            otlp(&resolve_with(&[], &env).unwrap()).url,
            "http://collector:4317"
        );
        let mut with_logs = env.to_vec();
        with_logs.push(("OTEL_EXPORTER_OTLP_LOGS_INSECURE", "false"));
        assert_eq!(
            otlp(&resolve_with(&[], &with_logs).unwrap()).url,
            "https://collector:4317"
        );
        assert_eq!(
            otlp(&resolve_with(&["--otlp-insecure"], &with_logs).unwrap()).url,
            "http://collector:4317"
        );
    }

    #[test]
    fn tls_file_precedence() {
        let (shared, flag) = (real_file("shared.pem"), real_file("flag.pem"));
        let env = [
            ("OTEL_EXPORTER_OTLP_CERTIFICATE", "/generic/ca.pem"),
            ("OTEL_EXPORTER_OTLP_LOGS_CERTIFICATE", "/logs/ca.pem"),
            ("OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE", "/c.pem"),
            ("OTEL_EXPORTER_OTLP_CLIENT_KEY", "/c.key"),
        ];
        let r = resolve_with(&["--exporter", "otlp", "--tls-ca-file", shared], &env).unwrap();
        assert_eq!(otlp(&r).tls.ca_file, Some(PathBuf::from("/logs/ca.pem")));
        assert_eq!(otlp(&r).tls.client_cert, Some(PathBuf::from("/c.pem")));
        let r = resolve_with(&["--exporter", "otlp", "--otlp-certificate", flag], &env).unwrap();
        assert_eq!(otlp(&r).tls.ca_file, Some(PathBuf::from(flag)));
        let r = resolve_with(&["--exporter", "otlp", "--tls-ca-file", shared], &[]).unwrap();
        assert_eq!(
            otlp(&r).tls.ca_file,
            Some(PathBuf::from(shared)),
            "the shared flag is the fallback"
        );
        let e = resolve_with(
            &["--exporter", "otlp"],
            &[("OTEL_EXPORTER_OTLP_CLIENT_KEY", "/only.key")],
        )
        .unwrap_err();
        assert!(e.to_string().contains("client certificate"), "{e}");
        let r = resolve_with(
            &["--exporter", "otlp"],
            &[("OTEL_EXPORTER_OTLP_INSECURE", "yes")],
        )
        .unwrap();
        assert!(
            r.warnings[0].contains("true or false"),
            "only 'true' is true"
        );
    }

    #[test]
    fn every_addressed_destination_is_used() {
        let r = resolve_with(
            &[
                "--loki-url",
                "http://loki:3100",
                "--http-url",
                "http://v:8080/logs",
                "--file",
                "/tmp/x.ndjson",
            ],
            &[("OTEL_EXPORTER_OTLP_ENDPOINT", "http://c:4318")],
        )
        .unwrap();
        let kinds: Vec<&str> = r
            .config
            .exporters
            .iter()
            .map(|e| match e {
                ExporterConfig::Otlp(_) => "otlp",
                ExporterConfig::Loki(_) => "loki",
                ExporterConfig::Http(_) => "http",
                ExporterConfig::File(_) => "file",
                ExporterConfig::Console => "console",
            })
            .collect();
        assert_eq!(kinds, ["otlp", "loki", "http", "file"]);
        let r = resolve_with(&[], &[("OTEL_LOGS_EXPORTER", "none")]).unwrap();
        assert!(r.config.exporters.is_empty());
        let e = resolve_with(&["--exporter", "loki"], &[]).unwrap_err();
        assert!(e.to_string().contains("--loki-url"), "{e}");
    }

    #[test]
    fn loki_settings_and_their_errors() {
        let r = resolve_with(
            &[
                "--loki-url",
                "http://loki:3100",
                "--loki-label",
                "env=prod",
                "--loki-label",
                "level={severity}",
                "--loki-tenant",
                "team-a",
                "--loki-username",
                "u",
                "--loki-password",
                "p",
            ],
            &[],
        )
        .unwrap();
        let [ExporterConfig::Loki(loki)] = r.config.exporters.as_slice() else {
            panic!()
        };
        assert_eq!(loki.url, "http://loki:3100/loki/api/v1/push");
        assert_eq!(
            loki.labels[1].value,
            LabelValue::Attribute("severity".into())
        );
        assert_eq!(loki.tenant.as_deref(), Some("team-a"));
        assert!(loki.auth.basic.is_some() && loki.auth.bearer.is_none());
        assert!(loki.structured_metadata);

        for (args, setting) in [
            (&["--loki-url", "loki:3100"][..], "--loki-url"),
            (
                &["--loki-url", "http://l", "--loki-label", "k8s.ns=x"][..],
                "--loki-label",
            ),
            (
                &["--loki-url", "http://l", "--loki-label", "novalue"][..],
                "--loki-label",
            ),
            (
                &["--loki-url", "http://l", "--loki-label", "service_name=x"][..],
                "--loki-label",
            ),
            (
                &["--loki-url", "http://l", "--loki-username", "u"][..],
                "--loki-username",
            ),
            (
                &["--loki-url", "http://l", "--loki-compression", "zstd"][..],
                "--loki-compression",
            ),
        ] {
            let e = resolve_with(args, &[]).unwrap_err();
            assert!(e.0.iter().any(|e| e.setting == setting), "{args:?}: {e}");
        }
    }

    #[test]
    fn parse_modes_per_stream_and_errors() {
        let r = resolve_with(&["--parse", "stdout=json,stderr=text"], &[]).unwrap();
        assert_eq!(
            (r.config.parse.stdout_mode, r.config.parse.stderr_mode),
            (ParseMode::Json, ParseMode::Text)
        );
        let r = resolve_with(&["--parse", "none"], &[]).unwrap();
        assert_eq!(
            (r.config.parse.stdout_mode, r.config.parse.stderr_mode),
            (ParseMode::None, ParseMode::None)
        );
        let errs = resolve_with(&["--parse", "xml"], &[]).unwrap_err();
        assert!(
            errs.to_string()
                .contains("auto, json, logfmt, text or none"),
            "{errs}"
        );
        let errs = resolve_with(&["--parse", "stdin=json"], &[]).unwrap_err();
        assert_eq!(errs.0[0].setting, "--parse");
    }

    #[test]
    fn time_zones() {
        let zone =
            |tz: &str| resolve_with(&["--timezone", tz], &[]).map(|r| r.config.parse.time.zone);
        // An offset that starts with '-' is taken as the value, not a flag.
        assert_eq!(zone("UTC").unwrap(), jiff::tz::TimeZone::UTC);
        assert!(zone("Europe/Berlin").is_ok());
        let fixed = zone("+02:00").unwrap();
        assert_eq!(fixed.to_fixed_offset().unwrap().seconds(), 7200);
        assert_eq!(
            zone("-0530").unwrap().to_fixed_offset().unwrap().seconds(),
            -19800
        );
        let errs = zone("Mars/Olympus").unwrap_err();
        assert!(errs.to_string().contains("IANA"), "{errs}");
    }

    #[test]
    fn buffer_must_hold_long_lines() {
        let errs = resolve_with(&["--buffer-max-bytes", "100KiB"], &[]).unwrap_err();
        assert_eq!(errs.0[0].setting, "--buffer-max-bytes");
    }
}
