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
use crate::cli::{Cli, Compression, ExporterKind};
use crate::parse::timestamp::TimeConfig;
use crate::parse::{ParseConfig, ParseMode};
use crate::resource::{self, ResourceConfig};

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
    pub exporters: Vec<ExporterConfig>,
    pub shutdown: ShutdownConfig,
    /// A `tracing` targets filter for logwrap's own diagnostics.
    pub log_filter: String,
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

/// One destination.
#[derive(Debug, Clone, PartialEq)]
pub enum ExporterConfig {
    OtlpHttp(OtlpConfig),
    Console,
}

/// OTLP/HTTP protobuf settings.
#[derive(Clone, PartialEq)]
pub struct OtlpConfig {
    /// The full URL requests go to (already ending in `/v1/logs` where the
    /// rules say so).
    pub url: String,
    /// Extra headers; values may be secrets and are never logged.
    pub headers: Vec<(String, String)>,
    pub compression: Compression,
    pub timeout: Duration,
}

impl fmt::Debug for OtlpConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let header_names: Vec<&str> = self.headers.iter().map(|(k, _)| k.as_str()).collect();
        f.debug_struct("OtlpConfig")
            .field("url", &self.url)
            .field("headers", &header_names)
            .field("compression", &self.compression)
            .field("timeout", &self.timeout)
            .finish()
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

    // Exporters: --exporter > OTEL_LOGS_EXPORTER > otlp if an endpoint is set > console.
    let endpoint_set = cli.otlp_endpoint.is_some() || r.otlp_var("ENDPOINT").is_some();
    let kinds = if !cli.exporter.is_empty() {
        cli.exporter.clone()
    } else if let Some(kinds) = otel_logs_exporter(&mut r) {
        kinds
    } else if endpoint_set {
        vec![ExporterKind::Otlp]
    } else {
        vec![ExporterKind::Console]
    };
    if kinds.contains(&ExporterKind::None) && kinds.len() > 1 {
        r.error(
            "--exporter",
            "'none' cannot be combined with other exporters",
        );
    }
    let mut exporters = Vec::new();
    for kind in dedup(kinds) {
        match kind {
            ExporterKind::Otlp => {
                if let Some(otlp) = resolve_otlp(&cli, &mut r) {
                    exporters.push(ExporterConfig::OtlpHttp(otlp));
                }
            }
            ExporterKind::Console => exporters.push(ExporterConfig::Console),
            ExporterKind::None => {}
        }
    }

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
        },
        exporters,
        shutdown: ShutdownConfig {
            drain_timeout: cli.drain_timeout,
            shutdown_timeout: cli.shutdown_timeout,
        },
        log_filter,
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

fn resolve_otlp(cli: &Cli, r: &mut Resolver<'_, impl Env>) -> Option<OtlpConfig> {
    // Endpoint: the flag and the generic variable are base URLs that get
    // `v1/logs` appended; the logs-specific variable is used as-is (OTLP
    // exporter spec, "Endpoint URLs for OTLP/HTTP").
    let url = match &cli.otlp_endpoint {
        Some(flag) => match logs_url_from_base(flag) {
            Ok(url) => url,
            Err(why) => {
                r.error("--otlp-endpoint", format!("{flag:?} {why}"));
                return None;
            }
        },
        None => otlp_endpoint_from_env(r),
    };

    let headers = if !cli.otlp_headers.is_empty() {
        let mut headers = Vec::new();
        for h in &cli.otlp_headers {
            match parse_header(h) {
                Ok(kv) => headers.push(kv),
                Err(why) => r.error("--otlp-header", why),
            }
        }
        headers
    } else if let Some((name, raw)) = r.otlp_var("HEADERS") {
        match parse_header_list(&raw) {
            Ok(headers) => headers,
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
        Some(c) => c,
        None => match r.otlp_var("COMPRESSION") {
            Some((name, raw)) => match raw.trim().to_ascii_lowercase().as_str() {
                "gzip" => Compression::Gzip,
                "none" => Compression::None,
                _ => {
                    r.warn_ignored(&name, &raw, "expected gzip or none");
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

    Some(OtlpConfig {
        url,
        headers,
        compression,
        timeout,
    })
}

fn otlp_endpoint_from_env(r: &mut Resolver<'_, impl Env>) -> String {
    if let Some(raw) = r.env.var("OTEL_EXPORTER_OTLP_LOGS_ENDPOINT") {
        match check_http_url(&raw) {
            Ok(mut url) => {
                // As-is, except that an empty path is the root path.
                if url.path().is_empty() {
                    url.set_path("/");
                }
                return url.to_string();
            }
            Err(why) => r.warn_ignored("OTEL_EXPORTER_OTLP_LOGS_ENDPOINT", &raw, why),
        }
    }
    if let Some(raw) = r.env.var("OTEL_EXPORTER_OTLP_ENDPOINT") {
        match logs_url_from_base(&raw) {
            Ok(url) => return url,
            Err(why) => r.warn_ignored("OTEL_EXPORTER_OTLP_ENDPOINT", &raw, why),
        }
    }
    logs_url_from_base(DEFAULT_OTLP_HTTP_ENDPOINT).expect("the default endpoint is valid")
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
            [ExporterConfig::OtlpHttp(o)] => o,
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
        // A header flag alone does not select OTLP; console stays the default.
        assert_eq!(r.config.exporters, [ExporterConfig::Console]);
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
