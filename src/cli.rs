//! The command line: what users type, parsed by clap; no defaults resolved here
//! beyond clap's own.
//!
//! ```text
//!  argv + LOGWRAP_* env ──clap──► Cli ──config::resolve (with OTEL_* env)──► Config
//! ```
//!
//! Every option has a `LOGWRAP_*` variable (clap `env`), so a container image
//! can set options without touching its entrypoint. Options that have an OTel
//! standard variable (`OTEL_EXPORTER_OTLP_*`, `OTEL_BLRP_*`, ...) are left
//! `Option` here and resolved in `config`, where the precedence chain lives.
//! Secrets (`--otlp-header`) use `hide_env_values` so `--help` never shows them.

use std::ffi::OsString;
use std::path::PathBuf;
use std::time::Duration;

use clap::{ArgAction, Parser, ValueEnum};

use crate::buffer::WhenFull;
use crate::buffer::disk::DiskMode;
pub use crate::export::http::Compression;
use crate::export::loki::LokiEncoding;
use crate::record::SeverityNumber;

/// Wraps a program: passes its output through and ships every line as an
/// OpenTelemetry log record.
#[derive(Parser, Debug)]
#[command(
    name = "logwrap",
    version,
    about,
    override_usage = "logwrap [OPTIONS] [--] CMD [ARGS]...\n       CMD | logwrap [OPTIONS]",
    after_help = "With no destination configured, records are printed as JSON lines on stdout \
                  (the console exporter). Set --otlp-endpoint or OTEL_EXPORTER_OTLP_ENDPOINT to \
                  ship them to a collector."
)]
pub struct Cli {
    // ---- Output -------------------------------------------------------------
    /// Do not copy the child's stdout/stderr to logwrap's own
    #[arg(long, env = "LOGWRAP_NO_PASSTHROUGH", help_heading = "Output")]
    pub no_passthrough: bool,

    /// Lines longer than this become several records marked logwrap.split.*
    /// [default: 256KiB, Loki's line limit]
    #[arg(long, env = "LOGWRAP_MAX_LINE_BYTES", value_name = "SIZE", value_parser = parse_size, help_heading = "Output")]
    pub max_line_bytes: Option<usize>,

    // ---- Records ------------------------------------------------------------
    /// service.name of the records (OTEL_SERVICE_NAME, when set, wins)
    #[arg(
        long,
        env = "LOGWRAP_SERVICE_NAME",
        value_name = "NAME",
        help_heading = "Records"
    )]
    pub service_name: Option<String>,

    /// Severity of stdout lines: trace, debug, info, warn, error, fatal (optionally
    /// with 2-4, e.g. info2), a number 1-24, or none
    #[arg(long, env = "LOGWRAP_STDOUT_SEVERITY", value_name = "LEVEL", default_value = "info", value_parser = parse_severity, help_heading = "Records")]
    pub stdout_severity: StreamSeverity,

    /// Severity of stderr lines (same values as --stdout-severity)
    #[arg(long, env = "LOGWRAP_STDERR_SEVERITY", value_name = "LEVEL", default_value = "error", value_parser = parse_severity, help_heading = "Records")]
    pub stderr_severity: StreamSeverity,

    /// Add the resource attribute process.command_args (off by default: argv can hold secrets)
    #[arg(long, env = "LOGWRAP_RESOURCE_COMMAND_ARGS", help_heading = "Records")]
    pub resource_command_args: bool,

    // ---- Parsing ------------------------------------------------------------
    /// How lines are read: auto (JSON, else logfmt, else text), json, logfmt,
    /// text or none; per stream with stdout=MODE,stderr=MODE [default: auto]
    #[arg(
        long,
        env = "LOGWRAP_PARSE",
        value_name = "MODE",
        value_delimiter = ',',
        help_heading = "Parsing"
    )]
    pub parse: Vec<String>,

    /// One record per line: do not join stack traces and indented continuation lines
    #[arg(long, env = "LOGWRAP_NO_MULTILINE", help_heading = "Parsing")]
    pub no_multiline: bool,

    /// A record waiting for continuation lines is sent after this much silence
    #[arg(long, env = "LOGWRAP_MULTILINE_TIMEOUT", value_name = "DURATION", default_value = "500ms", value_parser = parse_duration, help_heading = "Parsing")]
    pub multiline_timeout: Duration,

    /// Lines per joined record at most
    #[arg(long, env = "LOGWRAP_MULTILINE_MAX_LINES", value_name = "N", default_value = "1000", value_parser = clap::value_parser!(u32).range(1..), help_heading = "Parsing")]
    pub multiline_max_lines: u32,

    /// Bytes per joined record at most [default: --max-line-bytes]
    #[arg(long, env = "LOGWRAP_MULTILINE_MAX_BYTES", value_name = "SIZE", value_parser = parse_size, help_heading = "Parsing")]
    pub multiline_max_bytes: Option<usize>,

    /// Keep ANSI escape sequences (colours) in record bodies; the pass-through always keeps them
    #[arg(long, env = "LOGWRAP_KEEP_ANSI", help_heading = "Parsing")]
    pub keep_ansi: bool,

    /// Time zone of timestamps written without one: UTC, local, an IANA name
    /// (Europe/Berlin) or a fixed offset (+02:00)
    #[arg(
        long,
        env = "LOGWRAP_TIMEZONE",
        value_name = "TZ",
        default_value = "UTC",
        allow_hyphen_values = true,
        help_heading = "Parsing"
    )]
    pub timezone: String,

    /// A parsed time older than this (relative to when the line was read) is
    /// not used as the record's Timestamp (Loki rejects entries far behind)
    #[arg(long, env = "LOGWRAP_TIMESTAMP_MAX_AGE", value_name = "DURATION", default_value = "1h", value_parser = parse_duration, help_heading = "Parsing")]
    pub timestamp_max_age: Duration,

    /// A parsed time further in the future than this is not used (Loki's creation grace period)
    #[arg(long, env = "LOGWRAP_TIMESTAMP_MAX_AHEAD", value_name = "DURATION", default_value = "10m", value_parser = parse_duration, help_heading = "Parsing")]
    pub timestamp_max_ahead: Duration,

    // ---- Export -------------------------------------------------------------
    /// Where records go: otlp, loki, http, file, console or none, comma-separated
    /// [default: OTEL_LOGS_EXPORTER, else every destination given a URL or path
    /// (--otlp-endpoint, --loki-url, --http-url, --file), else console]
    #[arg(
        long,
        env = "LOGWRAP_EXPORTER",
        value_name = "LIST",
        value_delimiter = ',',
        help_heading = "Export: OTLP"
    )]
    pub exporter: Vec<ExporterKind>,

    /// OTLP protocol: grpc, http/protobuf or http/json
    /// [default: OTEL_EXPORTER_OTLP_LOGS_PROTOCOL, OTEL_EXPORTER_OTLP_PROTOCOL, http/protobuf]
    #[arg(
        long,
        env = "LOGWRAP_OTLP_PROTOCOL",
        value_name = "PROTOCOL",
        help_heading = "Export: OTLP"
    )]
    pub otlp_protocol: Option<String>,

    /// The collector's URL: for HTTP a base URL to which /v1/logs is appended,
    /// for gRPC host and port [default: OTEL_EXPORTER_OTLP_LOGS_ENDPOINT,
    /// OTEL_EXPORTER_OTLP_ENDPOINT, http://localhost:4318 (HTTP) or http://localhost:4317 (gRPC)]
    #[arg(
        long,
        env = "LOGWRAP_OTLP_ENDPOINT",
        value_name = "URL",
        help_heading = "Export: OTLP"
    )]
    pub otlp_endpoint: Option<String>,

    /// Extra request header KEY=VALUE, repeatable (LOGWRAP_OTLP_HEADERS takes
    /// k=v,k2=v2) [default: OTEL_EXPORTER_OTLP_LOGS_HEADERS, OTEL_EXPORTER_OTLP_HEADERS]
    #[arg(
        long = "otlp-header",
        env = "LOGWRAP_OTLP_HEADERS",
        value_name = "KEY=VALUE",
        value_delimiter = ',',
        hide_env_values = true,
        help_heading = "Export: OTLP"
    )]
    pub otlp_headers: Vec<String>,

    /// Request compression: gzip or none
    /// [default: OTEL_EXPORTER_OTLP_LOGS_COMPRESSION, OTEL_EXPORTER_OTLP_COMPRESSION, none]
    #[arg(
        long,
        env = "LOGWRAP_OTLP_COMPRESSION",
        value_name = "ALGO",
        help_heading = "Export: OTLP"
    )]
    pub otlp_compression: Option<Compression>,

    /// PEM file of the CA to trust for the collector's certificate
    /// [default: OTEL_EXPORTER_OTLP_LOGS_CERTIFICATE, OTEL_EXPORTER_OTLP_CERTIFICATE, --tls-ca-file]
    #[arg(
        long,
        env = "LOGWRAP_OTLP_CERTIFICATE",
        value_name = "FILE",
        help_heading = "Export: OTLP"
    )]
    pub otlp_certificate: Option<PathBuf>,

    /// PEM file of the client certificate for mTLS
    /// [default: OTEL_EXPORTER_OTLP_LOGS_CLIENT_CERTIFICATE, OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE, --tls-client-cert]
    #[arg(
        long,
        env = "LOGWRAP_OTLP_CLIENT_CERTIFICATE",
        value_name = "FILE",
        help_heading = "Export: OTLP"
    )]
    pub otlp_client_certificate: Option<PathBuf>,

    /// PEM file of the client key for mTLS
    /// [default: OTEL_EXPORTER_OTLP_LOGS_CLIENT_KEY, OTEL_EXPORTER_OTLP_CLIENT_KEY, --tls-client-key]
    #[arg(
        long,
        env = "LOGWRAP_OTLP_CLIENT_KEY",
        value_name = "FILE",
        help_heading = "Export: OTLP"
    )]
    pub otlp_client_key: Option<PathBuf>,

    /// gRPC without TLS when the endpoint has no http:// or https:// scheme
    /// [default: OTEL_EXPORTER_OTLP_LOGS_INSECURE, OTEL_EXPORTER_OTLP_INSECURE, false]
    #[arg(long, env = "LOGWRAP_OTLP_INSECURE", help_heading = "Export: OTLP")]
    pub otlp_insecure: bool,

    /// File holding a bearer token for the collector, re-read when it changes
    #[arg(
        long,
        env = "LOGWRAP_OTLP_BEARER_TOKEN_FILE",
        value_name = "FILE",
        help_heading = "Export: OTLP"
    )]
    pub otlp_bearer_token_file: Option<PathBuf>,

    /// Time allowed for one export request, e.g. 10s
    /// [default: OTEL_EXPORTER_OTLP_LOGS_TIMEOUT, OTEL_EXPORTER_OTLP_TIMEOUT (ms), 10s]
    #[arg(long, env = "LOGWRAP_OTLP_TIMEOUT", value_name = "DURATION", value_parser = parse_duration, help_heading = "Export: OTLP")]
    pub otlp_timeout: Option<Duration>,

    // ---- Loki ---------------------------------------------------------------
    /// Grafana Loki's base URL (e.g. http://loki:3100); /loki/api/v1/push is appended
    #[arg(
        long,
        env = "LOGWRAP_LOKI_URL",
        value_name = "URL",
        help_heading = "Export: Loki"
    )]
    pub loki_url: Option<String>,

    /// protobuf (snappy-compressed push.proto) or json
    #[arg(
        long,
        env = "LOGWRAP_LOKI_ENCODING",
        value_name = "ENCODING",
        default_value = "protobuf",
        help_heading = "Export: Loki"
    )]
    pub loki_encoding: LokiEncoding,

    /// Compression of JSON pushes: gzip or none (protobuf pushes are always snappy)
    #[arg(
        long,
        env = "LOGWRAP_LOKI_COMPRESSION",
        value_name = "ALGO",
        default_value = "none",
        help_heading = "Export: Loki"
    )]
    pub loki_compression: Compression,

    /// Tenant id, sent as X-Scope-OrgID
    #[arg(
        long,
        env = "LOGWRAP_LOKI_TENANT",
        value_name = "ID",
        help_heading = "Export: Loki"
    )]
    pub loki_tenant: Option<String>,

    /// A stream label NAME=VALUE, or NAME={attribute} to take an attribute's
    /// value ({severity} is the severity text); repeatable. service_name is always set
    #[arg(
        long = "loki-label",
        env = "LOGWRAP_LOKI_LABELS",
        value_name = "NAME=VALUE",
        value_delimiter = ',',
        help_heading = "Export: Loki"
    )]
    pub loki_labels: Vec<String>,

    /// Do not send structured metadata (for Loki before 2.9)
    #[arg(
        long,
        env = "LOGWRAP_NO_LOKI_STRUCTURED_METADATA",
        help_heading = "Export: Loki"
    )]
    pub no_loki_structured_metadata: bool,

    /// Without structured metadata (turned off, or refused by an older Loki),
    /// do not add the severity as a `level` label
    #[arg(
        long,
        env = "LOGWRAP_NO_LOKI_LEVEL_LABEL",
        help_heading = "Export: Loki"
    )]
    pub no_loki_level_label: bool,

    /// User name for basic auth
    #[arg(
        long,
        env = "LOGWRAP_LOKI_USERNAME",
        value_name = "NAME",
        help_heading = "Export: Loki"
    )]
    pub loki_username: Option<String>,

    /// Password for basic auth (prefer LOGWRAP_LOKI_PASSWORD or --loki-password-file)
    #[arg(
        long,
        env = "LOGWRAP_LOKI_PASSWORD",
        value_name = "PASSWORD",
        hide_env_values = true,
        help_heading = "Export: Loki"
    )]
    pub loki_password: Option<String>,

    /// File holding the basic-auth password, re-read when it changes
    #[arg(
        long,
        env = "LOGWRAP_LOKI_PASSWORD_FILE",
        value_name = "FILE",
        help_heading = "Export: Loki"
    )]
    pub loki_password_file: Option<PathBuf>,

    /// Bearer token (prefer LOGWRAP_LOKI_BEARER_TOKEN or --loki-bearer-token-file)
    #[arg(
        long,
        env = "LOGWRAP_LOKI_BEARER_TOKEN",
        value_name = "TOKEN",
        hide_env_values = true,
        help_heading = "Export: Loki"
    )]
    pub loki_bearer_token: Option<String>,

    /// File holding a bearer token, re-read when it changes
    #[arg(
        long,
        env = "LOGWRAP_LOKI_BEARER_TOKEN_FILE",
        value_name = "FILE",
        help_heading = "Export: Loki"
    )]
    pub loki_bearer_token_file: Option<PathBuf>,

    // ---- Plain HTTP and file --------------------------------------------------
    /// POST each batch as NDJSON (one JSON record per line) to this URL
    #[arg(
        long,
        env = "LOGWRAP_HTTP_URL",
        value_name = "URL",
        help_heading = "Export: HTTP and file"
    )]
    pub http_url: Option<String>,

    /// Extra request header KEY=VALUE for --http-url, repeatable
    #[arg(
        long = "http-header",
        env = "LOGWRAP_HTTP_HEADERS",
        value_name = "KEY=VALUE",
        value_delimiter = ',',
        hide_env_values = true,
        help_heading = "Export: HTTP and file"
    )]
    pub http_headers: Vec<String>,

    /// Compression of --http-url requests: gzip, zstd or none
    #[arg(
        long,
        env = "LOGWRAP_HTTP_COMPRESSION",
        value_name = "ALGO",
        default_value = "none",
        help_heading = "Export: HTTP and file"
    )]
    pub http_compression: Compression,

    /// File holding a bearer token for --http-url, re-read when it changes
    #[arg(
        long,
        env = "LOGWRAP_HTTP_BEARER_TOKEN_FILE",
        value_name = "FILE",
        help_heading = "Export: HTTP and file"
    )]
    pub http_bearer_token_file: Option<PathBuf>,

    /// Append records as NDJSON to this file
    #[arg(
        long,
        env = "LOGWRAP_FILE",
        value_name = "PATH",
        help_heading = "Export: HTTP and file"
    )]
    pub file: Option<PathBuf>,

    // ---- TLS ----------------------------------------------------------------
    /// PEM file of extra CA certificates to trust (Loki, HTTP, and OTLP unless set there)
    #[arg(
        long,
        env = "LOGWRAP_TLS_CA_FILE",
        value_name = "FILE",
        help_heading = "TLS"
    )]
    pub tls_ca_file: Option<PathBuf>,

    /// PEM file of the client certificate for mTLS
    #[arg(
        long,
        env = "LOGWRAP_TLS_CLIENT_CERT",
        value_name = "FILE",
        help_heading = "TLS"
    )]
    pub tls_client_cert: Option<PathBuf>,

    /// PEM file of the client key for mTLS
    #[arg(
        long,
        env = "LOGWRAP_TLS_CLIENT_KEY",
        value_name = "FILE",
        help_heading = "TLS"
    )]
    pub tls_client_key: Option<PathBuf>,

    /// Do not verify servers' certificates (encrypted but not authenticated; testing only)
    #[arg(long, env = "LOGWRAP_TLS_INSECURE_SKIP_VERIFY", help_heading = "TLS")]
    pub tls_insecure_skip_verify: bool,

    // ---- Batching and buffering ---------------------------------------------
    /// Records per export request at most [default: OTEL_BLRP_MAX_EXPORT_BATCH_SIZE, else 1024
    /// (Loki 4096)]
    #[arg(long, env = "LOGWRAP_BATCH_MAX_RECORDS", value_name = "N", value_parser = clap::value_parser!(u32).range(1..), help_heading = "Batching")]
    pub batch_max_records: Option<u32>,

    /// Estimated bytes per export request at most [default: 3MiB]
    #[arg(long, env = "LOGWRAP_BATCH_MAX_BYTES", value_name = "SIZE", value_parser = parse_size, help_heading = "Batching")]
    pub batch_max_bytes: Option<usize>,

    /// How long a record may wait for its batch to fill
    /// [default: OTEL_BLRP_SCHEDULE_DELAY (ms), 1s]
    #[arg(long, env = "LOGWRAP_BATCH_DELAY", value_name = "DURATION", value_parser = parse_duration, help_heading = "Batching")]
    pub batch_delay: Option<Duration>,

    /// Memory for records not yet delivered, per destination [default: 16MiB]
    #[arg(long, env = "LOGWRAP_BUFFER_MAX_BYTES", value_name = "SIZE", value_parser = parse_size, help_heading = "Batching")]
    pub buffer_max_bytes: Option<usize>,

    /// When that memory is full: adaptive (the child waits while the
    /// destination delivers, records are dropped or spilled while it fails
    /// or stalls), drop-newest, drop-oldest (the child never waits) or block
    /// (the child always waits)
    #[arg(
        long,
        env = "LOGWRAP_WHEN_FULL",
        value_name = "POLICY",
        default_value = "adaptive",
        help_heading = "Batching"
    )]
    pub when_full: WhenFull,

    /// With --when-full adaptive: how long a full queue waits without any
    /// delivery ending before the destination counts as stalled
    #[arg(long, env = "LOGWRAP_STALL_TIMEOUT", value_name = "DURATION", default_value = "1s", value_parser = parse_duration, help_heading = "Batching")]
    pub stall_timeout: Duration,

    /// Write every record to segment files here before sending it (one
    /// subdirectory per destination), so a crash or kill of logwrap loses
    /// nothing it read; an earlier run's records are sent first
    #[arg(
        long,
        env = "LOGWRAP_BUFFER_DIR",
        value_name = "DIR",
        help_heading = "Batching"
    )]
    pub buffer_dir: Option<PathBuf>,

    /// Disk space for buffered records, per destination [default: 1GiB]
    #[arg(long, env = "LOGWRAP_BUFFER_DISK_MAX_BYTES", value_name = "SIZE", value_parser = parse_size, help_heading = "Batching")]
    pub buffer_disk_max_bytes: Option<usize>,

    /// What goes through the disk buffer: all (every record, the default) or
    /// overflow (only what does not fit in memory, and batches out of retry
    /// time: cheaper, but a crash loses what memory held)
    #[arg(
        long,
        env = "LOGWRAP_BUFFER_DISK_MODE",
        value_name = "MODE",
        default_value = "all",
        help_heading = "Batching"
    )]
    pub buffer_disk_mode: DiskMode,

    /// Former name of --buffer-disk-mode all, now the default
    #[arg(
        long,
        env = "LOGWRAP_BUFFER_DISK_ALL",
        hide = true,
        help_heading = "Batching"
    )]
    pub buffer_disk_all: bool,

    /// Requests in flight at once per destination (Loki, file and console
    /// always send one at a time, to keep order)
    // 8, not 2: a collector a few milliseconds away answers each request
    // that much later, and requests one after the other cap the rate at
    // batch size / round trip. `cargo bench --bench pipeline -- --latency 3`
    // (OTLP/HTTP, answers 3 ms late): 389k lines/s at 2, 1.31M at 8; on
    // loopback no worse (five alternating rounds: 1.33-1.92M at 2,
    // 1.56-1.94M at 8). The OTel Collector's exporters
    // send from 10 consumers by default (`sending_queue.num_consumers`).
    #[arg(long, env = "LOGWRAP_MAX_IN_FLIGHT", value_name = "N", default_value = "8", value_parser = clap::value_parser!(u16).range(1..=64), help_heading = "Batching")]
    pub max_in_flight: u16,

    /// First retry delay (then x1.5 each time, with ±50% jitter)
    #[arg(long, env = "LOGWRAP_RETRY_INITIAL", value_name = "DURATION", default_value = "1s", value_parser = parse_duration, help_heading = "Batching")]
    pub retry_initial: Duration,

    /// Longest retry delay
    #[arg(long, env = "LOGWRAP_RETRY_MAX_INTERVAL", value_name = "DURATION", default_value = "30s", value_parser = parse_duration, help_heading = "Batching")]
    pub retry_max_interval: Duration,

    /// How long one batch is retried before it goes to the disk buffer, or is dropped
    #[arg(long, env = "LOGWRAP_RETRY_MAX_ELAPSED", value_name = "DURATION", default_value = "5m", value_parser = parse_duration, help_heading = "Batching")]
    pub retry_max_elapsed: Duration,

    // ---- Shutdown -----------------------------------------------------------
    /// After the child exits, how long to keep reading pipes a grandchild may hold open
    #[arg(long, env = "LOGWRAP_DRAIN_TIMEOUT", value_name = "DURATION", default_value = "2s", value_parser = parse_duration, help_heading = "Shutdown")]
    pub drain_timeout: Duration,

    /// After reading ends, how long to keep trying to deliver what is queued
    #[arg(long, env = "LOGWRAP_SHUTDOWN_TIMEOUT", value_name = "DURATION", default_value = "5s", value_parser = parse_duration, help_heading = "Shutdown")]
    pub shutdown_timeout: Duration,

    // ---- Supervision --------------------------------------------------------
    /// After SIGTERM/SIGINT to logwrap, and for processes the child leaves
    /// behind, how long to wait before SIGKILL
    #[arg(long, env = "LOGWRAP_STOP_TIMEOUT", value_name = "DURATION", default_value = "8s", value_parser = parse_duration, help_heading = "Supervision")]
    pub stop_timeout: Duration,

    /// Send forwarded signals to the child's whole process group (a `sh -c`
    /// wrapper otherwise keeps SIGTERM from what it started)
    #[arg(long, env = "LOGWRAP_SIGNAL_GROUP", help_heading = "Supervision")]
    pub signal_group: bool,

    /// Exit with TO when the child's exit code is FROM, e.g. 143=0 for
    /// runtimes that exit 143 on a normal stop (tini's -e); repeatable
    #[arg(
        long = "remap-exit-code",
        env = "LOGWRAP_REMAP_EXIT_CODES",
        value_name = "FROM=TO",
        value_delimiter = ',',
        help_heading = "Supervision"
    )]
    pub remap_exit_codes: Vec<String>,

    /// Run the child on a pseudo-terminal so it line-buffers its output;
    /// stdout and stderr then arrive merged, as stdout
    #[arg(long, env = "LOGWRAP_PTY", help_heading = "Supervision")]
    pub pty: bool,

    /// Do not send the logwrap.process.start and logwrap.process.exit records
    #[arg(long, env = "LOGWRAP_NO_LIFECYCLE", help_heading = "Supervision")]
    pub no_lifecycle: bool,

    /// Export the child's run as an OTel span (to the OTLP destination) and
    /// stamp its trace and span id on every record; honours TRACEPARENT
    #[arg(long, env = "LOGWRAP_TRACE", help_heading = "Supervision")]
    pub trace: bool,

    // ---- Diagnostics --------------------------------------------------------
    /// More of logwrap's own diagnostics on stderr (-v info, -vv debug, -vvv trace);
    /// LOGWRAP_LOG=debug or LOGWRAP_LOG=logwrap=debug,hyper=info sets them exactly
    #[arg(short, long, action = ArgAction::Count, help_heading = "Diagnostics")]
    pub verbose: u8,

    /// Only errors from logwrap itself (no exit summary)
    #[arg(short, long, conflicts_with = "verbose", help_heading = "Diagnostics")]
    pub quiet: bool,

    /// Serve Prometheus metrics at /metrics, and /healthz and /readyz, on
    /// this address; a bare port listens on 127.0.0.1 only
    #[arg(
        long,
        env = "LOGWRAP_METRICS_ADDR",
        value_name = "[HOST:]PORT",
        value_parser = parse_metrics_addr,
        help_heading = "Diagnostics"
    )]
    pub metrics_addr: Option<std::net::SocketAddr>,

    /// Read options from this TOML file (keys are the long option names:
    /// `loki-url = "http://loki:3100"`); flags and environment win over it
    #[arg(
        long,
        env = "LOGWRAP_CONFIG",
        value_name = "FILE",
        help_heading = "Diagnostics"
    )]
    pub config: Option<PathBuf>,

    /// Print the effective configuration (secrets masked) and exit
    #[arg(long, help_heading = "Diagnostics")]
    pub print_config: bool,

    /// Print a shell completion script or the man page, made from these
    /// options, and exit: complete-bash, complete-zsh, complete-fish, man
    #[arg(long, value_name = "WHAT", help_heading = "Diagnostics")]
    pub generate: Option<Generate>,

    // ---- Inputs -------------------------------------------------------------
    /// Also read lines from files or named pipes: file:PATH or file:GLOB
    /// (repeatable). Rotation and truncation are followed; positions are
    /// kept in --buffer-dir. Without CMD, logwrap reads them until SIGTERM
    #[arg(
        long,
        env = "LOGWRAP_INPUT",
        value_name = "file:GLOB",
        value_delimiter = ',',
        value_parser = crate::input::parse_input,
        help_heading = "Inputs"
    )]
    pub input: Vec<String>,

    /// The program to run and its arguments; without one, logwrap reads
    /// stdin (pipe mode: `cmd | logwrap`), or only the --input files
    #[arg(value_name = "CMD", trailing_var_arg = true, num_args = 1..)]
    pub command: Vec<OsString>,
}

/// logwrap's own variables that the child never sees (issue 13): those
/// holding secrets (header values, the Loki password and token) and those
/// naming where secrets are kept (token, password and private-key files,
/// the config file, which may hold passwords). A child has no use for them,
/// and what it inherits it may print, and logwrap then ships that line.
/// The path variables are not secrets themselves, but a program that never
/// learns where the token is cannot leak it by accident. `OTEL_*` variables
/// stay: the child's own OpenTelemetry SDK may need them. Settings without
/// secrets (`LOGWRAP_LOKI_URL`, `LOGWRAP_SERVICE_NAME`, …) stay too.
pub const CHILD_HIDDEN_ENV: &[&str] = &[
    "LOGWRAP_OTLP_HEADERS",
    "LOGWRAP_HTTP_HEADERS",
    "LOGWRAP_LOKI_PASSWORD",
    "LOGWRAP_LOKI_BEARER_TOKEN",
    "LOGWRAP_OTLP_BEARER_TOKEN_FILE",
    "LOGWRAP_HTTP_BEARER_TOKEN_FILE",
    "LOGWRAP_LOKI_PASSWORD_FILE",
    "LOGWRAP_LOKI_BEARER_TOKEN_FILE",
    "LOGWRAP_OTLP_CLIENT_KEY",
    "LOGWRAP_TLS_CLIENT_KEY",
    "LOGWRAP_CONFIG",
];

/// What `--generate` prints, as ripgrep's flag of the same name does.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Generate {
    /// bash completions (`source <(logwrap --generate complete-bash)`)
    CompleteBash,
    /// zsh completions (save as `_logwrap` in a directory on `$fpath`)
    CompleteZsh,
    /// fish completions (save as `~/.config/fish/completions/logwrap.fish`)
    CompleteFish,
    /// the man page in roff (`logwrap --generate man | man -l -`)
    Man,
}

impl Generate {
    /// The script or page for this command line's definition. Both come
    /// from clap's own description of the options (clap_complete,
    /// clap_mangen), so they cannot drift from `--help`. Made in memory:
    /// clap_complete panics on a failed write, and a closed pipe
    /// (`| head`) is not worth one.
    pub fn render(self) -> Vec<u8> {
        use clap::CommandFactory;
        use clap_complete::Shell;
        let mut command = Cli::command();
        let mut out = Vec::new();
        let shell = match self {
            Generate::CompleteBash => Shell::Bash,
            Generate::CompleteZsh => Shell::Zsh,
            Generate::CompleteFish => Shell::Fish,
            Generate::Man => {
                clap_mangen::Man::new(command)
                    .render(&mut out)
                    .expect("writing to a Vec cannot fail");
                return out;
            }
        };
        clap_complete::generate(shell, &mut command, "logwrap", &mut out);
        out
    }
}

/// A destination kind selectable with `--exporter` / `OTEL_LOGS_EXPORTER`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ExporterKind {
    Otlp,
    Loki,
    Http,
    File,
    Console,
    None,
}

/// Sizes like `256KiB`, `1MB`, `4096` (bytes). KiB/MiB/GiB are powers of
/// 1024, KB/MB/GB (and K/M/G) powers of 1000.
pub fn parse_size(s: &str) -> Result<usize, String> {
    let size: bytesize::ByteSize = s
        .trim()
        .parse()
        .map_err(|_| format!("{s:?} is not a size; use e.g. 256KiB, 4MiB or a number of bytes"))?;
    usize::try_from(size.as_u64()).map_err(|_| format!("{s:?} is too large"))
}

/// Durations like `500ms`, `10s`, `2m`, `1h 30m`.
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    humantime::parse_duration(s.trim())
        .map_err(|e| format!("{s:?} is not a duration ({e}); use e.g. 500ms, 10s or 2m"))
}

/// The severity given to a stream's lines; `None` leaves it unset.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StreamSeverity(pub Option<SeverityNumber>);

/// A severity name (`info`, `WARN2`, `warning`), a number 1-24, or `none`.
pub fn parse_severity(s: &str) -> Result<StreamSeverity, String> {
    parse_severity_number(s).map(StreamSeverity)
}

fn parse_severity_number(s: &str) -> Result<Option<SeverityNumber>, String> {
    let lower = s.trim().to_ascii_lowercase();
    if lower == "none" {
        return Ok(None);
    }
    if let Ok(n) = lower.parse::<u8>() {
        return if (1..=24).contains(&n) {
            Ok(Some(SeverityNumber(n)))
        } else {
            Err(format!("{n} is outside the OTel severity numbers 1-24"))
        };
    }
    let (name, step) = match lower.char_indices().last() {
        Some((i, c @ '2'..='4')) => (&lower[..i], c as u8 - b'1'),
        _ => (lower.as_str(), 0),
    };
    let base = match name {
        "trace" => SeverityNumber::TRACE,
        "debug" => SeverityNumber::DEBUG,
        "info" => SeverityNumber::INFO,
        "warn" | "warning" => SeverityNumber::WARN,
        "error" => SeverityNumber::ERROR,
        "fatal" => SeverityNumber::FATAL,
        _ => {
            return Err(format!(
                "{s:?} is not a severity; use trace, debug, info, warn, error, fatal, a number 1-24 or none"
            ));
        }
    };
    Ok(Some(SeverityNumber(base.0 + step)))
}

/// `--metrics-addr`: `PORT` (loopback) or `HOST:PORT`.
fn parse_metrics_addr(raw: &str) -> Result<std::net::SocketAddr, String> {
    if let Ok(port) = raw.parse::<u16>() {
        return Ok(std::net::SocketAddr::from(([127, 0, 0, 1], port)));
    }
    if raw.starts_with(':') {
        return Err(format!(
            "{raw:?} names no host: give PORT for 127.0.0.1 only, or 0.0.0.0{raw} for every interface"
        ));
    }
    raw.parse().map_err(|_| {
        format!("{raw:?} is not PORT or HOST:PORT with an IP address (e.g. 9464, 0.0.0.0:9464)")
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn clap_definition_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn every_secret_variable_and_secret_file_variable_is_hidden_from_the_child() {
        let command = Cli::command();
        for arg in command.get_arguments() {
            let Some(env) = arg.get_env().and_then(|e| e.to_str()) else {
                continue;
            };
            let names_a_secret_file = env.ends_with("_TOKEN_FILE")
                || env.ends_with("_PASSWORD_FILE")
                || env.ends_with("_KEY");
            if arg.is_hide_env_values_set() || names_a_secret_file {
                assert!(
                    CHILD_HIDDEN_ENV.contains(&env),
                    "{env} holds or names a secret but the child would inherit it"
                );
            }
        }
        for name in CHILD_HIDDEN_ENV {
            assert!(
                command
                    .get_arguments()
                    .any(|a| a.get_env().is_some_and(|e| e == *name)),
                "{name} is no option's variable"
            );
        }
    }

    #[test]
    fn sizes() {
        assert_eq!(parse_size("256KiB"), Ok(256 * 1024));
        assert_eq!(parse_size("1MB"), Ok(1_000_000));
        assert_eq!(parse_size("4 MiB"), Ok(4 << 20));
        assert_eq!(parse_size("4096"), Ok(4096));
        assert!(parse_size("lots").unwrap_err().contains("256KiB"));
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(parse_duration("2m"), Ok(Duration::from_secs(120)));
        assert!(parse_duration("10").is_err());
    }

    #[test]
    fn severities() {
        let sev = |s| parse_severity(s).map(|v| v.0);
        assert_eq!(sev("info"), Ok(Some(SeverityNumber(9))));
        assert_eq!(sev("WARN2"), Ok(Some(SeverityNumber(14))));
        assert_eq!(sev("warning"), Ok(Some(SeverityNumber(13))));
        assert_eq!(sev("fatal4"), Ok(Some(SeverityNumber(24))));
        assert_eq!(sev("17"), Ok(Some(SeverityNumber(17))));
        assert_eq!(sev("none"), Ok(None));
        assert!(sev("25").is_err());
        assert!(sev("loud").is_err());
        assert!(sev("info5").is_err());
    }

    #[test]
    fn command_takes_everything_after_it_with_or_without_double_dash() {
        let cli = Cli::try_parse_from(["logwrap", "-v", "ls", "-la", "--color"]).unwrap();
        assert_eq!(cli.command, ["ls", "-la", "--color"]);
        assert_eq!(cli.verbose, 1);
        let cli = Cli::try_parse_from(["logwrap", "--", "-weird-name", "x"]).unwrap();
        assert_eq!(cli.command, ["-weird-name", "x"]);
    }

    #[test]
    fn a_typo_in_an_option_is_an_error_not_a_command() {
        let err = Cli::try_parse_from(["logwrap", "--servce-name", "x", "--", "true"]).unwrap_err();
        assert_eq!(err.exit_code(), 2);
    }
}
