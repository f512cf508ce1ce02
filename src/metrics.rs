//! logwrap's own metrics and health (`--metrics-addr`): Prometheus text at
//! `/metrics`, liveness at `/healthz`, readiness at `/readyz`.
//!
//! ```text
//!  ReadStats, DestinationStats, Budget, DiskBuffer ──(read on each scrape)──► /metrics
//!  app phase (starting, running, stopping) ──────────────────────────────► /readyz
//! ```
//!
//! Every value is read from the counters the pipeline keeps anyway, so a
//! scrape costs the pipeline nothing. Readiness follows logwrap itself, not
//! its destinations: in the entrypoint pattern the probe belongs to the
//! application's container, and a collector outage must not take the
//! application out of service. Destination health is the
//! `logwrap_destination_failing` gauge instead.
//!
//! HTTP/1.1 through hyper (already in the tree for reqwest and tonic);
//! the text format is written here because it is three lines of `format!`
//! per series, where a metrics crate would add a registry to keep in sync
//! with counters that already exist.

use std::fmt::Write as _;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU8, Ordering};

use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;

use crate::buffer::Budget;
use crate::buffer::disk::DiskBuffer;
use crate::record::Stream;
use crate::telemetry::{DestinationStats, Histogram, ReadStats};

/// Where the run is, for `/readyz`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum Phase {
    Starting = 0,
    Running = 1,
    Stopping = 2,
}

/// What a scrape reads.
pub struct Sources {
    pub read: Arc<ReadStats>,
    pub destinations: Vec<DestinationSource>,
    pub phase: AtomicU8,
}

pub struct DestinationSource {
    pub name: &'static str,
    pub stats: Arc<DestinationStats>,
    pub budget: Budget,
    pub disk: Option<Arc<DiskBuffer>>,
}

impl Sources {
    pub fn set_phase(&self, phase: Phase) {
        self.phase.store(phase as u8, Ordering::Release);
    }

    fn phase(&self) -> Phase {
        match self.phase.load(Ordering::Acquire) {
            0 => Phase::Starting,
            1 => Phase::Running,
            _ => Phase::Stopping,
        }
    }
}

/// Binds `addr` and serves until the runtime ends. A bind error is
/// returned for the caller to report; the run goes on without metrics.
pub async fn serve(addr: SocketAddr, sources: Arc<Sources>) -> std::io::Result<SocketAddr> {
    let listener = tokio::net::TcpListener::bind(addr).await?;
    let bound = listener.local_addr()?;
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                continue;
            };
            let sources = sources.clone();
            tokio::spawn(async move {
                let service = hyper::service::service_fn(move |req| {
                    let sources = sources.clone();
                    async move { Ok::<_, std::convert::Infallible>(answer(&req, &sources)) }
                });
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), service)
                    .await;
            });
        }
    });
    Ok(bound)
}

fn answer(req: &Request<Incoming>, sources: &Sources) -> Response<Full<Bytes>> {
    let (status, content_type, body) = match req.uri().path() {
        "/metrics" => (
            StatusCode::OK,
            "text/plain; version=0.0.4; charset=utf-8",
            render(sources),
        ),
        "/healthz" => (StatusCode::OK, "text/plain", "ok\n".to_string()),
        "/readyz" => match sources.phase() {
            Phase::Running => (StatusCode::OK, "text/plain", "ready\n".to_string()),
            Phase::Starting => (
                StatusCode::SERVICE_UNAVAILABLE,
                "text/plain",
                "starting\n".to_string(),
            ),
            Phase::Stopping => (
                StatusCode::SERVICE_UNAVAILABLE,
                "text/plain",
                "stopping\n".to_string(),
            ),
        },
        _ => (
            StatusCode::NOT_FOUND,
            "text/plain",
            "not found: try /metrics, /healthz or /readyz\n".to_string(),
        ),
    };
    Response::builder()
        .status(status)
        .header("content-type", content_type)
        .body(Full::new(Bytes::from(body)))
        .expect("a static response is valid")
}

/// A per-destination series: name, help, and how to read it.
type Series = (&'static str, &'static str, fn(&DestinationStats) -> u64);

/// The Prometheus text exposition format, version 0.0.4.
pub fn render(sources: &Sources) -> String {
    let mut out = String::with_capacity(4096);
    let _ = writeln!(
        out,
        "# HELP logwrap_build_info logwrap's version.\n# TYPE logwrap_build_info gauge\nlogwrap_build_info{{version=\"{}\"}} 1",
        env!("CARGO_PKG_VERSION")
    );
    header(
        &mut out,
        "logwrap_lines_read_total",
        "counter",
        "Lines read, per stream (stdout, stderr, file).",
    );
    for stream in [Stream::Stdout, Stream::Stderr, Stream::File] {
        let _ = writeln!(
            out,
            "logwrap_lines_read_total{{stream=\"{}\"}} {}",
            stream.as_str(),
            sources.read.lines_of(stream)
        );
    }
    let counters: [Series; 7] = [
        (
            "logwrap_records_queued_total",
            "Records accepted into the destination's memory queue.",
            |s| DestinationStats::get(&s.queued),
        ),
        (
            "logwrap_records_exported_total",
            "Records the destination accepted.",
            |s| DestinationStats::get(&s.exported) + DestinationStats::get(&s.replayed),
        ),
        (
            "logwrap_records_spilled_total",
            "Records written to the disk buffer.",
            |s| DestinationStats::get(&s.spilled) + DestinationStats::get(&s.moved_to_disk),
        ),
        (
            "logwrap_records_replayed_total",
            "Records sent from the disk buffer.",
            |s| DestinationStats::get(&s.replayed),
        ),
        (
            "logwrap_export_retries_total",
            "Export attempts that failed and were retried.",
            |s| DestinationStats::get(&s.retries),
        ),
        (
            "logwrap_destination_failing",
            "1 while deliveries to the destination fail.",
            |s| DestinationStats::get(&s.failing),
        ),
        (
            "logwrap_records_rejected_total",
            "Records the server rejected in a partial success.",
            |s| DestinationStats::get(&s.rejected),
        ),
    ];
    for (name, help, get) in counters {
        let kind = if name.ends_with("_total") {
            "counter"
        } else {
            "gauge"
        };
        header(&mut out, name, kind, help);
        for d in &sources.destinations {
            let _ = writeln!(
                out,
                "{name}{{destination=\"{}\"}} {}",
                d.name,
                get(&d.stats)
            );
        }
    }
    header(
        &mut out,
        "logwrap_records_dropped_total",
        "counter",
        "Records lost, by reason: queue_full (memory and disk full), failed (permanent error or out of retry time).",
    );
    for d in &sources.destinations {
        let failed =
            DestinationStats::get(&d.stats.failed) + DestinationStats::get(&d.stats.replay_lost);
        let _ = writeln!(
            out,
            "logwrap_records_dropped_total{{destination=\"{}\",reason=\"queue_full\"}} {}\nlogwrap_records_dropped_total{{destination=\"{}\",reason=\"failed\"}} {}",
            d.name,
            DestinationStats::get(&d.stats.dropped_full),
            d.name,
            failed
        );
    }
    header(
        &mut out,
        "logwrap_buffer_bytes",
        "gauge",
        "Bytes of records held in memory (queued, batched or in flight), by the --buffer-max-bytes estimate.",
    );
    for d in &sources.destinations {
        let _ = writeln!(
            out,
            "logwrap_buffer_bytes{{destination=\"{}\"}} {}",
            d.name,
            d.budget.held()
        );
    }
    header(
        &mut out,
        "logwrap_disk_buffer_bytes",
        "gauge",
        "Bytes of segment files in the disk buffer.",
    );
    for d in &sources.destinations {
        if let Some(disk) = &d.disk {
            let _ = writeln!(
                out,
                "logwrap_disk_buffer_bytes{{destination=\"{}\"}} {}",
                d.name,
                disk.bytes()
            );
        }
    }
    header(
        &mut out,
        "logwrap_batch_latency_seconds",
        "histogram",
        "Seconds from a batch's first record to its delivery.",
    );
    for d in &sources.destinations {
        histogram(
            &mut out,
            "logwrap_batch_latency_seconds",
            d.name,
            &d.stats.batch_latency,
        );
    }
    out
}

fn header(out: &mut String, name: &str, kind: &str, help: &str) {
    let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}");
}

fn histogram(out: &mut String, name: &str, destination: &str, h: &Histogram) {
    let (cumulative, count, sum) = h.snapshot();
    for (bound, n) in Histogram::BOUNDS.iter().zip(cumulative) {
        let _ = writeln!(
            out,
            "{name}_bucket{{destination=\"{destination}\",le=\"{bound}\"}} {n}"
        );
    }
    let _ = writeln!(
        out,
        "{name}_bucket{{destination=\"{destination}\",le=\"+Inf\"}} {count}\n{name}_sum{{destination=\"{destination}\"}} {sum}\n{name}_count{{destination=\"{destination}\"}} {count}"
    );
}
