//! The run as a trace (`--trace`): one span from the child's start to its
//! end, through `tracing`, `tracing-opentelemetry` and `opentelemetry-otlp`.
//!
//! ```text
//!  TRACEPARENT (logwrap's env) ─► parent ─► span "run <command>" ─► ids ─► TRACEPARENT of the child
//!                                                │                   └──► every record without its own ids
//!                                                └─ ends at exit (process.exit.code, status) ─► OTLP /v1/traces
//! ```
//!
//! The span goes to the same collector as the logs, over the same protocol
//! (HTTP protobuf, HTTP JSON or gRPC), with the same headers, TLS and
//! timeout; for HTTP, to the logs URL with `/v1/logs` replaced by
//! `/v1/traces`. Only this span is exported: the OpenTelemetry layer of the
//! `tracing` subscriber is filtered to the target `logwrap::run`, so
//! logwrap's own diagnostics stay on stderr.
//!
//! Export is synchronous (`SimpleSpanProcessor`: one span per run, sent when
//! it ends), and happens on a blocking thread while the runtime keeps
//! driving I/O, bounded by the shutdown timeout.

use std::collections::HashMap;
use std::time::Duration;

use opentelemetry::propagation::TextMapPropagator;
use opentelemetry::trace::{Status, TraceContextExt, TracerProvider as _};
use opentelemetry_otlp::{WithExportConfig, WithHttpConfig, WithTonicConfig};
use opentelemetry_sdk::propagation::TraceContextPropagator;
use opentelemetry_sdk::trace::SdkTracerProvider;
use tracing_opentelemetry::OpenTelemetrySpanExt;

use crate::export::otlp::{OtlpConfig, OtlpProtocol};
use crate::export::{http::Compression, tls};
use crate::supervise::{ChildExit, Outcome};

/// The trace a run's records belong to (`--trace`), for records whose line
/// names none of its own.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RunTrace {
    pub trace_id: [u8; 16],
    pub span_id: [u8; 8],
    pub flags: u32,
}

/// The `tracing` target of the run span; the only one exported as a span.
pub const TARGET: &str = "logwrap::run";

/// Builds the tracer provider (call on a blocking thread: the HTTP client is
/// reqwest's blocking one).
pub fn provider(otlp: &OtlpConfig, service_name: &str) -> Result<SdkTracerProvider, String> {
    let headers: HashMap<String, String> = otlp.headers.iter().cloned().collect();
    let exporter = match otlp.protocol {
        OtlpProtocol::Grpc => {
            let channel = crate::export::otlp_grpc::channel(otlp)?;
            let mut metadata = tonic::metadata::MetadataMap::new();
            for (k, v) in &headers {
                if let (Ok(key), Ok(value)) = (
                    tonic::metadata::MetadataKey::from_bytes(k.to_ascii_lowercase().as_bytes()),
                    tonic::metadata::MetadataValue::try_from(v.as_str()),
                ) {
                    metadata.insert(key, value);
                }
            }
            let mut builder = opentelemetry_otlp::SpanExporter::builder()
                .with_tonic()
                .with_channel(channel)
                .with_metadata(metadata)
                .with_timeout(otlp.timeout);
            if otlp.compression == Compression::Gzip {
                builder = builder.with_compression(opentelemetry_otlp::Compression::Gzip);
            }
            builder.build().map_err(|e| e.to_string())?
        }
        protocol => {
            let tls =
                tls::client_config(&otlp.tls, &[b"h2", b"http/1.1"]).map_err(|e| e.to_string())?;
            let client = reqwest::blocking::Client::builder()
                .tls_backend_preconfigured(tls)
                .timeout(otlp.timeout)
                // As for the logs (export::http): a redirect is an error,
                // never followed to another origin with the headers.
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .map_err(|e| e.to_string())?;
            let wire = if protocol == OtlpProtocol::HttpJson {
                opentelemetry_otlp::Protocol::HttpJson
            } else {
                opentelemetry_otlp::Protocol::HttpBinary
            };
            opentelemetry_otlp::SpanExporter::builder()
                .with_http()
                .with_http_client(client)
                .with_protocol(wire)
                .with_endpoint(traces_url(&otlp.url))
                .with_headers(headers)
                .with_timeout(otlp.timeout)
                .build()
                .map_err(|e| e.to_string())?
        }
    };
    let resource = opentelemetry_sdk::Resource::builder_empty()
        .with_service_name(service_name.to_string())
        .build();
    Ok(SdkTracerProvider::builder()
        .with_simple_exporter(exporter)
        .with_resource(resource)
        .build())
}

/// `…/v1/logs` → `…/v1/traces`; any other path gets `/v1/traces` appended
/// to its directory, as the generic endpoint rule would.
fn traces_url(logs_url: &str) -> String {
    match logs_url.strip_suffix("/v1/logs") {
        Some(base) => format!("{base}/v1/traces"),
        None => format!("{}/v1/traces", logs_url.trim_end_matches('/')),
    }
}

/// The `tracing` layer that turns the run span into an OTel span.
pub fn layer<S>(provider: &SdkTracerProvider) -> impl tracing_subscriber::Layer<S>
where
    S: tracing::Subscriber + for<'a> tracing_subscriber::registry::LookupSpan<'a>,
{
    use tracing_subscriber::Layer;
    let targets =
        tracing_subscriber::filter::Targets::new().with_target(TARGET, tracing::Level::INFO);
    tracing_opentelemetry::layer()
        .with_tracer(provider.tracer("logwrap"))
        .with_filter(targets)
}

/// The span of one run.
pub struct RunSpan {
    span: tracing::Span,
    provider: SdkTracerProvider,
    ids: RunTrace,
}

impl RunSpan {
    /// Starts the span, as a child of `traceparent` when given.
    pub fn start(provider: SdkTracerProvider, command: &str, traceparent: Option<&str>) -> Self {
        let span = tracing::info_span!(
            target: TARGET,
            "run",
            otel.name = %format!("run {command}"),
            process.command = %command,
            process.pid = tracing::field::Empty,
            process.exit.code = tracing::field::Empty,
        );
        if let Some(parent) = traceparent {
            let carrier: HashMap<String, String> =
                [("traceparent".to_string(), parent.to_string())].into();
            let cx = TraceContextPropagator::new().extract(&carrier);
            if cx.span().span_context().is_valid() {
                let _ = span.set_parent(cx);
            } else {
                tracing::warn!(
                    traceparent = parent,
                    "TRACEPARENT is not a W3C traceparent; the run starts a new trace"
                );
            }
        }
        let cx = span.context();
        let sc = cx.span().span_context().clone();
        let ids = RunTrace {
            trace_id: sc.trace_id().to_bytes(),
            span_id: sc.span_id().to_bytes(),
            flags: sc.trace_flags().to_u8() as u32,
        };
        RunSpan {
            span,
            provider,
            ids,
        }
    }

    pub fn ids(&self) -> RunTrace {
        self.ids
    }

    /// The W3C `traceparent` that makes the child's spans children of the run.
    pub fn traceparent(&self) -> String {
        let hex = |b: &[u8]| b.iter().map(|x| format!("{x:02x}")).collect::<String>();
        format!(
            "00-{}-{}-{:02x}",
            hex(&self.ids.trace_id),
            hex(&self.ids.span_id),
            self.ids.flags
        )
    }

    pub fn record_pid(&self, pid: i32) {
        self.span.record("process.pid", pid as i64);
    }

    /// Notes how the child ended; a non-zero code marks the span as an error.
    pub fn record_exit(&self, code: u8, exit: &ChildExit) {
        self.span.record("process.exit.code", code as i64);
        if code != 0 {
            let why = match exit.outcome {
                Outcome::Signaled(s) => {
                    format!("killed by {}", crate::supervise::exit::signal_name(s))
                }
                _ => format!("exited with code {code}"),
            };
            self.span.set_status(Status::error(why));
        }
    }

    /// Ends the span and sends it, within `timeout`.
    pub async fn finish(self, timeout: Duration) {
        let RunSpan { span, provider, .. } = self;
        let handle = tokio::runtime::Handle::current();
        let send = tokio::task::spawn_blocking(move || {
            let _guard = handle.enter();
            drop(span);
            let _ = provider.force_flush();
            provider.shutdown()
        });
        match tokio::time::timeout(timeout, send).await {
            Ok(Ok(Ok(()))) => {}
            Ok(Ok(Err(e))) => tracing::warn!(error = %e, "the run's span could not be sent"),
            Ok(Err(e)) => tracing::warn!(error = %e, "the run's span could not be sent"),
            Err(_) => tracing::warn!(?timeout, "sending the run's span did not finish in time"),
        }
    }
}

/// The tracer provider for the run's span, sending to the first OTLP
/// destination; `None` (with a message) when it cannot be set up: the run
/// goes on without its span.
pub async fn provider_for(
    exporters: &[crate::export::ExporterConfig],
    service: String,
) -> Option<SdkTracerProvider> {
    let otlp = exporters.iter().find_map(|e| match e {
        crate::export::ExporterConfig::Otlp(o) => Some(o.clone()),
        _ => None,
    })?;
    // reqwest's blocking client must be built off the runtime's thread.
    let built = tokio::task::spawn_blocking(move || {
        let handle = tokio::runtime::Handle::current();
        let _guard = handle.enter();
        provider(&otlp, &service)
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn traces_go_next_to_logs() {
        assert_eq!(
            traces_url("http://c:4318/v1/logs"),
            "http://c:4318/v1/traces"
        );
        assert_eq!(
            traces_url("http://c:4318/custom/"),
            "http://c:4318/custom/v1/traces"
        );
    }
}
