//! `logwrap check`: one test record to each configured destination, and a
//! verdict per destination that says what failed (DNS, connect, TLS, auth,
//! the server's status, a timeout).
//!
//! ```text
//!  Config ─► for each destination: Exporter::new ─► export([test record]) ─► ok | why
//! ```
//!
//! It goes through the same exporters as a run, once, without retries, so
//! what it reports is what the first request of a run would meet.

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use crate::app::Config;
use crate::export::ExporterConfig;
use crate::export::secret::mask_url;
use crate::export::{ExportError, Exporter};
use crate::record::{Record, Severity, SeverityNumber, Str, Stream, Value};

/// What went wrong, for the verdict line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Problem {
    Setup,
    Dns,
    /// The server answered, but not in the protocol asked for (a gRPC call
    /// to an HTTP/1.1 port, plaintext to a TLS server).
    Protocol,
    Connect,
    Tls,
    Auth,
    Timeout,
    Status,
    Other,
}

impl Problem {
    fn as_str(self) -> &'static str {
        match self {
            Problem::Setup => "configuration",
            Problem::Dns => "DNS",
            Problem::Protocol => "protocol",
            Problem::Connect => "connect",
            Problem::Tls => "TLS",
            Problem::Auth => "auth",
            Problem::Timeout => "timeout",
            Problem::Status => "server status",
            Problem::Other => "error",
        }
    }

    fn hint(self) -> &'static str {
        match self {
            Problem::Setup => "fix the option named above",
            Problem::Dns => "check the host name in the endpoint URL",
            Problem::Protocol => "check the port and http:// vs https://",
            Problem::Connect => "is the server running, and is the port right?",
            Problem::Tls => {
                "check https vs http, the CA (--tls-ca-file / --otlp-certificate) and client certificates"
            }
            Problem::Auth => "check the token, password or headers",
            Problem::Timeout => "the server accepted the connection but did not answer in time",
            Problem::Status => "the server refused the record; its answer is above",
            Problem::Other => "",
        }
    }
}

/// Sorts an export failure into a [`Problem`] by what the error chain says.
pub fn classify(reason: &str) -> Problem {
    let r = reason.to_ascii_lowercase();
    let has = |words: &[&str]| words.iter().any(|w| r.contains(w));
    // Before TLS: these messages mention TLS as one possible cause.
    if has(&["not a grpc server", "the server closed the connection"]) {
        Problem::Protocol
    } else if has(&[
        "dns error",
        "failed to lookup",
        "name or service not known",
        "no address associated",
    ]) {
        Problem::Dns
    } else if has(&[
        "certificate",
        "tls",
        "handshake",
        "invalidcontenttype",
        "corrupt message",
    ]) {
        Problem::Tls
    } else if has(&[
        "http 401",
        "http 403",
        "unauthenticated",
        "permissiondenied",
    ]) {
        Problem::Auth
    } else if has(&["timed out", "timeout", "deadlineexceeded"]) {
        Problem::Timeout
    } else if has(&[
        "cannot connect",
        "connection refused",
        "tcp connect",
        "connect error",
    ]) {
        Problem::Connect
    } else if has(&["http ", "grpc "]) {
        Problem::Status
    } else {
        Problem::Other
    }
}

/// One destination's verdict.
#[derive(Debug)]
pub struct Verdict {
    pub destination: String,
    pub result: Result<Duration, (Problem, String)>,
}

impl std::fmt::Display for Verdict {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.result {
            Ok(took) => write!(
                f,
                "ok      {}: the test record was accepted ({} ms)",
                self.destination,
                took.as_millis()
            ),
            Err((problem, why)) => {
                write!(
                    f,
                    "FAILED  {}: {}: {why}",
                    self.destination,
                    problem.as_str()
                )?;
                if !problem.hint().is_empty() {
                    write!(f, " ({})", problem.hint())?;
                }
                Ok(())
            }
        }
    }
}

/// Sends the test record everywhere; one verdict per destination.
pub async fn run(config: &Config, resource: &[(Str, Value)]) -> Vec<Verdict> {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64);
    let mut record = Record::new(
        Stream::Lifecycle,
        now,
        Value::Str(Str::from_static("logwrap check: a test record")),
    );
    record.time_unix_nano = now;
    record.severity = Severity {
        number: SeverityNumber::INFO,
        text: Str::from_static("INFO"),
    };
    record.event_name = Str::from_static("logwrap.check");
    let mut verdicts = Vec::new();
    for exporter_config in &config.exporters {
        let destination = describe(exporter_config);
        let result = match Exporter::new(exporter_config, resource) {
            Err(why) => Err((Problem::Setup, why)),
            Ok(exporter) => {
                let started = Instant::now();
                match exporter.export(std::slice::from_ref(&record)).await {
                    Ok(_) => Ok(started.elapsed()),
                    Err(
                        ExportError::Retryable { reason, .. } | ExportError::Permanent { reason },
                    ) => Err((classify(&reason), reason)),
                    Err(e @ ExportError::Discarded) => Err((Problem::Other, e.to_string())),
                }
            }
        };
        verdicts.push(Verdict {
            destination,
            result,
        });
    }
    verdicts
}

fn describe(e: &ExporterConfig) -> String {
    match e {
        ExporterConfig::Otlp(o) => format!("otlp {}", mask_url(&o.url)),
        ExporterConfig::Loki(l) => format!("loki {}", mask_url(&l.url)),
        ExporterConfig::Http(h) => format!("http {}", mask_url(&h.url)),
        ExporterConfig::File(p) => format!("file {}", p.display()),
        ExporterConfig::Console => "console".to_string(),
    }
}

/// `logwrap check`: one verdict line per destination; exit 0 when all
/// accepted the test record, 1 otherwise.
pub fn run_and_report(config: &Config, warnings: &[String]) -> std::process::ExitCode {
    for warning in warnings {
        eprintln!("logwrap: warn: {warning}");
    }
    let Ok(runtime) = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    else {
        eprintln!("logwrap: cannot start the async runtime");
        return std::process::ExitCode::from(crate::supervise::Outcome::Failed.code());
    };
    let resource = crate::resource::build(&config.resource, None, crate::resource::host_name());
    let verdicts = runtime.block_on(run(config, &resource));
    let mut all_ok = true;
    for verdict in &verdicts {
        all_ok &= verdict.result.is_ok();
        println!("{verdict}");
    }
    std::process::ExitCode::from(if all_ok { 0 } else { 1 })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failures_are_sorted_by_what_the_chain_says() {
        for (reason, problem) in [
            (
                "cannot connect: error sending request: client error (Connect): dns error: failed to lookup address information",
                Problem::Dns,
            ),
            (
                "cannot connect: error sending request for url: tcp connect error: Connection refused (os error 111)",
                Problem::Connect,
            ),
            (
                "cannot connect: ...: invalid peer certificate: UnknownIssuer",
                Problem::Tls,
            ),
            ("HTTP 401: \"no token\"", Problem::Auth),
            ("gRPC Unauthenticated: bad token", Problem::Auth),
            ("timed out: error sending request", Problem::Timeout),
            ("HTTP 400: \"bad\"", Problem::Status),
            (
                "gRPC Unknown: \"h2 protocol error: http2 error\"; the endpoint is not a gRPC server (HTTP/2): check the port (OTLP/gRPC is usually 4317, OTLP/HTTP 4318) and that http:// or https:// matches whether the server uses TLS",
                Problem::Protocol,
            ),
        ] {
            assert_eq!(classify(reason), problem, "{reason}");
        }
    }
}
