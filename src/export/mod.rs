//! Export: batches → destinations, with retries, until the queue closes.
//!
//! ```text
//!  QueueReceiver ──chunks──► Batcher ──Batch──► deliver() ──► Exporter::{OtlpHttp, OtlpGrpc, Loki, Http, File, Console}
//!        ▲                                         │ retry with backoff (retry.rs)
//!        └──────────────── release(bytes) ◄────────┘ after success or giving up
//! ```
//!
//! One task per destination runs [`run`]: it fills the batcher from the queue,
//! sends a batch when it is full or its delay is up, and after the last
//! producer is gone (or the app says stop) flushes what is left at once.
//! Retries happen inside `deliver`; while one batch is retried the queue keeps
//! filling, and its byte budget decides what happens to new records.
//!
//! Shutdown follows the data. The app sends a deadline on the `shutdown`
//! channel when the child has exited; from then on every open batch goes out
//! at once, and retries that would end after the deadline are given up and
//! counted. The app also bounds the whole task with `--shutdown-timeout`.

pub mod console;
pub mod http;
pub mod json;
pub mod loki;
pub mod ndjson;
pub mod otlp_grpc;
pub mod otlp_http;
pub mod otlp_json;
pub mod otlp_proto;
pub mod retry;
pub mod secret;
pub mod tls;
pub mod wire;

use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::watch;

use crate::batch::{Batch, BatchConfig, Batcher};
use crate::buffer::QueueReceiver;
use crate::record::Record;
use crate::telemetry::DestinationStats;

use retry::{Backoff, RetryConfig};

/// What a destination accepted.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Accepted {
    /// Records the server rejected (OTLP partial success).
    pub rejected: u64,
    /// The server's explanation, if any.
    pub message: Option<String>,
}

/// Why an export attempt failed.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error("{reason}")]
    Retryable {
        reason: String,
        after: Option<Duration>,
    },
    #[error("{reason}")]
    Permanent { reason: String },
}

/// The closed set of destinations.
pub enum Exporter {
    OtlpHttp(Box<otlp_http::OtlpHttpExporter>),
    OtlpGrpc(Box<otlp_grpc::OtlpGrpcExporter>),
    Loki(Box<loki::LokiExporter>),
    Http(Box<ndjson::HttpExporter>),
    File(Box<ndjson::FileExporter>),
    Console(console::ConsoleExporter),
}

impl Exporter {
    /// Builds the exporter a destination's configuration describes.
    pub fn new(
        config: &crate::config::ExporterConfig,
        resource: &[(crate::record::Str, crate::record::Value)],
    ) -> Result<Self, String> {
        use crate::config::{ExporterConfig, OtlpProtocol};
        Ok(match config {
            ExporterConfig::Otlp(c) if c.protocol == OtlpProtocol::Grpc => {
                Exporter::OtlpGrpc(Box::new(otlp_grpc::OtlpGrpcExporter::new(c, resource)?))
            }
            ExporterConfig::Otlp(c) => {
                Exporter::OtlpHttp(Box::new(otlp_http::OtlpHttpExporter::new(c, resource)?))
            }
            ExporterConfig::Loki(c) => {
                Exporter::Loki(Box::new(loki::LokiExporter::new(c.clone(), resource)?))
            }
            ExporterConfig::Http(c) => {
                Exporter::Http(Box::new(ndjson::HttpExporter::new(c.clone(), resource)?))
            }
            ExporterConfig::File(path) => {
                Exporter::File(Box::new(ndjson::FileExporter::new(path.clone(), resource)))
            }
            ExporterConfig::Console => Exporter::Console(console::ConsoleExporter::new()),
        })
    }

    pub fn name(&self) -> &'static str {
        match self {
            Exporter::OtlpHttp(_) | Exporter::OtlpGrpc(_) => "otlp",
            Exporter::Loki(_) => "loki",
            Exporter::Http(_) => "http",
            Exporter::File(_) => "file",
            Exporter::Console(_) => "console",
        }
    }

    pub async fn export(&mut self, records: &[Record]) -> Result<Accepted, ExportError> {
        match self {
            Exporter::OtlpHttp(e) => e.export(records).await,
            Exporter::OtlpGrpc(e) => e.export(records).await,
            Exporter::Loki(e) => e.export(records).await,
            Exporter::Http(e) => e.export(records).await,
            Exporter::File(e) => e.export(records).await,
            Exporter::Console(e) => e.export(records).await,
        }
    }
}

/// One destination: its exporter, its queue, its counters.
pub struct Destination {
    pub exporter: Exporter,
    pub queue: QueueReceiver,
    pub batch: BatchConfig,
    pub retry: RetryConfig,
    pub stats: Arc<DestinationStats>,
}

/// `None` while running; the deadline for delivery once shutting down.
pub type ShutdownSignal = watch::Receiver<Option<Instant>>;

/// Runs one destination until its queue closes, or until shutdown is
/// signalled and the queue is drained.
pub async fn run(dest: Destination, mut shutdown: ShutdownSignal) {
    let mut runner = Runner {
        name: dest.exporter.name(),
        exporter: dest.exporter,
        queue: dest.queue,
        stats: dest.stats,
        backoff: Backoff::new(dest.retry),
        failing_since: None,
    };
    let mut batcher = Batcher::new(dest.batch);
    loop {
        let deadline = batcher.deadline();
        let sleep = tokio::time::sleep_until(deadline.unwrap_or_else(Instant::now).into());
        tokio::select! {
            chunk = runner.queue.recv() => match chunk {
                Some(chunk) => runner.add(&mut batcher, chunk.records, &shutdown).await,
                None => break,
            },
            () = sleep, if deadline.is_some() => {
                if let Some(batch) = batcher.take() {
                    runner.deliver(batch, &shutdown).await;
                }
            }
            changed = shutdown.changed(), if shutdown.borrow().is_none() => {
                if changed.is_err() || shutdown.borrow().is_some() {
                    // Take what is queued now; producers still blocked on a
                    // pipe held by a grandchild are not waited for.
                    while let Some(chunk) = runner.queue.try_recv() {
                        runner.add(&mut batcher, chunk.records, &shutdown).await;
                    }
                    break;
                }
            }
        }
    }
    if let Some(batch) = batcher.take() {
        runner.deliver(batch, &shutdown).await;
    }
}

struct Runner {
    name: &'static str,
    exporter: Exporter,
    queue: QueueReceiver,
    stats: Arc<DestinationStats>,
    backoff: Backoff,
    /// Start of the current run of failures, for one warning per outage.
    failing_since: Option<(Instant, u64)>,
}

impl Runner {
    async fn add(
        &mut self,
        batcher: &mut Batcher,
        records: Vec<Record>,
        shutdown: &ShutdownSignal,
    ) {
        let now = Instant::now();
        let shutting_down = shutdown.borrow().is_some();
        for record in records {
            if let Some(batch) = batcher.offer(record, now) {
                self.deliver(batch, shutdown).await;
            }
        }
        // Once the child is gone nothing is gained by waiting for a batch to fill.
        if shutting_down && let Some(batch) = batcher.take() {
            self.deliver(batch, shutdown).await;
        }
    }

    /// Sends one batch, retrying as the rules allow, then releases its memory.
    async fn deliver(&mut self, batch: Batch, shutdown: &ShutdownSignal) {
        let count = batch.records.len();
        let started = Instant::now();
        let max_elapsed = self.backoff.config().max_elapsed;
        loop {
            match self.exporter.export(&batch.records).await {
                Ok(accepted) => {
                    self.backoff.reset();
                    if let Some((since, failures)) = self.failing_since.take() {
                        tracing::info!(
                            destination = self.name,
                            failures,
                            outage_secs = since.elapsed().as_secs_f64(),
                            "delivery resumed"
                        );
                    }
                    let rejected = (accepted.rejected as usize).min(count);
                    DestinationStats::add(&self.stats.exported, count - rejected);
                    if rejected > 0 || accepted.message.is_some() {
                        DestinationStats::add(&self.stats.rejected, rejected);
                        tracing::warn!(
                            destination = self.name,
                            rejected,
                            message = accepted.message.as_deref().unwrap_or(""),
                            "the server rejected part of a batch (partial success); not retried"
                        );
                    }
                    break;
                }
                Err(ExportError::Permanent { reason }) => {
                    DestinationStats::add(&self.stats.failed, count);
                    tracing::error!(
                        destination = self.name,
                        records = count,
                        error = %reason,
                        "export failed permanently; dropping the batch"
                    );
                    break;
                }
                Err(ExportError::Retryable { reason, after }) => {
                    let delay = after.unwrap_or_else(|| self.backoff.next_delay(fastrand::f64()));
                    let (_, failures) = self.failing_since.get_or_insert((Instant::now(), 0));
                    *failures += 1;
                    if *failures == 1 {
                        tracing::warn!(destination = self.name, error = %reason, "export failed; retrying");
                    } else {
                        tracing::debug!(destination = self.name, error = %reason, retry_in = ?delay, "export failed again");
                    }
                    let give_up_at = (*shutdown.borrow())
                        .map_or(started + max_elapsed, |d| d.min(started + max_elapsed));
                    if Instant::now() + delay > give_up_at {
                        DestinationStats::add(&self.stats.failed, count);
                        tracing::error!(
                            destination = self.name,
                            records = count,
                            error = %reason,
                            "export still failing and out of time; dropping the batch"
                        );
                        break;
                    }
                    DestinationStats::add(&self.stats.retries, 1);
                    // A shutdown deadline may make the wait pointless: wake on a
                    // new one and re-check (the current value counts as seen).
                    let mut shutdown = shutdown.clone();
                    shutdown.borrow_and_update();
                    let deadline_set = async {
                        if shutdown.changed().await.is_err() {
                            std::future::pending::<()>().await;
                        }
                    };
                    tokio::select! {
                        () = tokio::time::sleep(delay) => {}
                        () = deadline_set => {}
                    }
                }
            }
        }
        self.queue.release(batch.bytes);
    }
}
