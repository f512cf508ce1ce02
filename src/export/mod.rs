//! Export: batches → destinations, with retries, until the queue closes.
//!
//! ```text
//!  QueueReceiver ──chunks──► Batcher ──Batch──► deliver() ──► Exporter::{OtlpHttp, OtlpGrpc, Loki, Http, File, Console}
//!        ▲                                         │ retry with backoff (retry.rs)
//!        └──── release(weight), delivered()/failing() ◄┘ after success or giving up
//! ```
//!
//! One task per destination runs [`run`]: it fills the batcher from the queue,
//! sends a batch when it is full or its delay is up (up to `--max-in-flight`
//! at once where order does not matter), and after the last producer is gone
//! (or the app says stop) flushes what is left at once. Retries happen inside
//! `deliver`; while a batch is retried the queue keeps filling, and its
//! budget and `--when-full` decide what happens to new records. Every
//! delivery tells the queue how the destination is doing (delivered,
//! answered with a refusal, failing), which is what the `adaptive` policy
//! waits on. Frames on disk (everything, with `--buffer-dir`; or an outage's
//! overflow) are sent first, several frames per request. After drops, the
//! next successful delivery is followed by a `logwrap.dropped` record saying
//! how many and when.
//!
//! Shutdown follows the data. The app sends a deadline on the `shutdown`
//! channel when the child has exited; from then on every open batch goes out
//! at once, and retries that would end after the deadline are given up, as
//! are requests still waiting for an answer at the deadline: moved to the
//! disk buffer if there is one, else counted. The app bounds the whole task
//! with `--shutdown-timeout`.

mod deliver;
mod replay;

pub mod console;
pub mod http;
pub mod json;
pub mod loki;
pub mod ndjson;
pub mod otlp;
pub mod otlp_grpc;
pub mod otlp_http;
pub mod otlp_json;
pub mod otlp_proto;
pub mod retry;
pub mod secret;
pub mod tls;

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::sync::watch;
use tokio::task::JoinSet;

use crate::batch::{Batch, BatchConfig, Batcher};
use crate::buffer::disk::DiskBuffer;
use crate::buffer::{Budget, QueueReceiver};
use crate::encode::Chunk;
use crate::record::Attributes;
use crate::record::Record;
use crate::telemetry::DestinationStats;
use deliver::{Delivered, deliver};
use otlp_proto::RequestEncoder;
use replay::Replayer;

use retry::{Backoff, RetryConfig};

/// One destination.
#[derive(Debug, Clone, PartialEq)]
pub enum ExporterConfig {
    Otlp(otlp::OtlpConfig),
    Loki(loki::LokiConfig),
    Http(ndjson::HttpConfig),
    File(std::path::PathBuf),
    Console,
}

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
    /// The destination is gone for good and has said so once itself (the
    /// console when stdout's reader went away): the batch is dropped and
    /// counted without a log line per batch (issue 13).
    #[error("the destination is closed")]
    Discarded,
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
        config: &crate::export::ExporterConfig,
        resource: &[(crate::record::Str, crate::record::Value)],
    ) -> Result<Self, String> {
        use crate::export::ExporterConfig;
        use crate::export::otlp::OtlpProtocol;
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

    /// The destination has nothing open and nothing in flight: memory an
    /// exporter keeps from one request to the next can go.
    pub fn idle(&self) {
        if let Exporter::Loki(loki) = self {
            loki.release_spare();
        }
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

    /// Sends a batch. OTLP protobuf frames the encoded records as they are;
    /// the other formats read them back into records first. Loki keeps the
    /// push it built in `kept`, for the batch's retries.
    pub async fn send(
        &self,
        batch: &Batch,
        kept: &mut Option<loki::Push>,
    ) -> Result<Accepted, ExportError> {
        let records = match self {
            Exporter::Loki(e) => return e.send(batch, kept).await,
            Exporter::OtlpHttp(e) => return e.send(batch).await,
            Exporter::OtlpGrpc(e) => return e.send(batch).await,
            _ => batch.read().map_err(|e| ExportError::Permanent {
                reason: format!("the batch's encoded records cannot be read back: {e}"),
            })?,
        };
        self.export(&records).await
    }

    /// Sends records (`logwrap check`'s test record, formats other than
    /// OTLP protobuf).
    pub async fn export(&self, records: &[Record]) -> Result<Accepted, ExportError> {
        match self {
            Exporter::OtlpHttp(e) if e.is_protobuf() => {
                e.send(&Batch::of(crate::encode::chunk_of(records))).await
            }
            Exporter::OtlpGrpc(e) => e.send(&Batch::of(crate::encode::chunk_of(records))).await,
            Exporter::OtlpHttp(e) => e.export(records).await,
            Exporter::Loki(e) => e.export(records).await,
            Exporter::Http(e) => e.export(records).await,
            Exporter::File(e) => e.export(records).await,
            Exporter::Console(e) => e.export(records).await,
        }
    }
}

/// One destination: its exporter, its queue, its counters, its disk buffer.
pub struct Destination {
    pub config: ExporterConfig,
    pub exporter: Exporter,
    pub queue: QueueReceiver,
    pub batch: BatchConfig,
    pub retry: RetryConfig,
    pub stats: Arc<DestinationStats>,
    pub disk: Option<Spill>,
    /// Requests in flight at once (1 for destinations that need order).
    pub max_in_flight: usize,
    /// The run's resource, to tell this run's disk frames from older ones.
    pub resource: Attributes,
    /// Makes the record that reports drops (the owner of logwrap's own
    /// records provides it: `lifecycle::dropped`).
    pub notice: DroppedNotice,
}

/// Builds the record that says a destination dropped records.
pub type DroppedNotice = fn(&'static str, &crate::telemetry::Drops) -> Record;

/// A destination's disk buffer and the encoder of its frames.
#[derive(Clone)]
pub struct Spill {
    pub disk: Arc<DiskBuffer>,
    pub encoder: Arc<RequestEncoder>,
    /// Warned that the disk refused a write (once per outage).
    pub warned: Arc<std::sync::atomic::AtomicBool>,
}

impl Spill {
    /// Writes records to disk, as one OTLP request with the run's resource;
    /// false (with one warning) when the disk refuses.
    pub fn write(&self, name: &str, chunk: &Chunk) -> bool {
        self.write_all(name, std::iter::once(&chunk.bytes[..]))
    }

    fn write_all<'a>(&self, name: &str, chunks: impl Iterator<Item = &'a [u8]> + Clone) -> bool {
        let mut payload = Vec::new();
        self.encoder.frame(chunks, &mut payload);
        match self.disk.append(&payload) {
            Ok(()) => {
                self.warned
                    .store(false, std::sync::atomic::Ordering::Relaxed);
                true
            }
            Err(e) => {
                if !self.warned.swap(true, std::sync::atomic::Ordering::Relaxed) {
                    tracing::warn!(destination = name, error = %e, "the disk buffer refuses records; falling back to --when-full");
                }
                false
            }
        }
    }
}

/// `None` while running; the deadline for delivery once shutting down.
pub type ShutdownSignal = watch::Receiver<Option<Instant>>;

/// What the deliveries of one destination share.
struct Shared {
    name: &'static str,
    exporter: Exporter,
    stats: Arc<DestinationStats>,
    /// Told how deliveries go, so `adaptive` readers know whether to wait.
    budget: Budget,
    backoff: Mutex<Backoff>,
    /// Start of the current run of failures and their count, for one
    /// warning per outage and a note when it ends.
    failing: Mutex<Option<(Instant, u64)>>,
    /// Woken when a delivery succeeds: batches waiting out our own backoff
    /// are retried at once.
    resumed: tokio::sync::Notify,
    disk: Option<Spill>,
    notice: DroppedNotice,
}

/// Before a shutdown deadline, a failed batch is retried while at least this
/// much time is left.
const LAST_TRY: Duration = Duration::from_millis(50);

/// Runs one destination until its queue closes, or until shutdown is
/// signalled and the queue is drained.
pub async fn run(dest: Destination, mut shutdown: ShutdownSignal) {
    let queue = dest.queue;
    let shared = Arc::new(Shared {
        name: dest.exporter.name(),
        exporter: dest.exporter,
        stats: dest.stats,
        budget: queue.budget(),
        backoff: Mutex::new(Backoff::new(dest.retry)),
        failing: Mutex::new(None),
        resumed: tokio::sync::Notify::new(),
        disk: dest.disk,
        notice: dest.notice,
    });
    let mut sending = Sending {
        in_flight: JoinSet::new(),
        max: dest.max_in_flight.max(1),
        shared: shared.clone(),
        shutdown: shutdown.clone(),
        batcher: Batcher::new(dest.batch),
        closed: Vec::new(),
    };
    let mut replayer = Replayer::new(dest.config, dest.resource, dest.batch);
    loop {
        if shutdown.borrow().is_some() {
            // Take what is queued now; producers still blocked on a pipe
            // held by a grandchild are not waited for.
            sending.take_queued(&queue).await;
            break;
        }
        // What waits on disk (with --buffer-dir, every record; otherwise
        // what an earlier run or an outage left) goes first, when nothing
        // else is in flight.
        if let Some(spill) = &shared.disk
            && sending.in_flight.is_empty()
            && replayer.has_work(spill)
        {
            replayer.replay_some(&shared, spill, &shutdown).await;
            continue;
        }
        let deadline = sending.batcher.deadline();
        let sleep = tokio::time::sleep_until(deadline.unwrap_or_else(Instant::now).into());
        let room = sending.in_flight.len() < sending.max;
        let missing = sending.batcher.missing();
        // With a disk buffer, new frames may appear any time: look again
        // soon even when the queue is quiet.
        let disk_poll = tokio::time::sleep(DISK_POLL);
        tokio::select! {
            chunk = queue.recv_when(missing.0, missing.1), if room => match chunk {
                Some(chunk) => {
                    sending.offer(chunk).await;
                    if shared.budget.pressed() {
                        // Memory is filling: send what is queued now rather
                        // than wait for the batch delay.
                        sending.take_queued(&queue).await;
                        sending.flush().await;
                    }
                }
                None => break,
            },
            () = sleep, if deadline.is_some() && room => {
                // Records the producers have not woken us for yet belong in
                // this batch too.
                sending.take_queued(&queue).await;
                sending.flush().await;
            }
            Some(_) = sending.in_flight.join_next(), if !sending.in_flight.is_empty() => {
                if sending.in_flight.is_empty() && sending.batcher.is_empty() {
                    shared.exporter.idle();
                }
            }
            () = disk_poll, if shared.disk.is_some() => {}
            changed = shutdown.changed() => {
                if changed.is_err() {
                    // The app is gone without a deadline: flush and end.
                    break;
                }
            }
        }
    }
    sending.flush().await;
    while sending.in_flight.join_next().await.is_some() {}
    if let Some(spill) = &shared.disk {
        // What waits on disk (with --buffer-dir, the run's last records)
        // goes out until the deadline; the rest stays for the next run.
        while replayer.has_work(spill) && replayer.replay_some(&shared, spill, &shutdown).await {}
        spill.disk.finish();
    }
}

/// How often an export task with a disk buffer looks for new frames when
/// nothing else wakes it (the readers write frames without waking it).
const DISK_POLL: Duration = Duration::from_millis(50);

/// The open batch and the deliveries in flight of one destination.
struct Sending {
    in_flight: JoinSet<()>,
    max: usize,
    shared: Arc<Shared>,
    shutdown: ShutdownSignal,
    batcher: Batcher,
    /// Batches the batcher closed, waiting to start.
    closed: Vec<Batch>,
}

impl Sending {
    /// Adds a chunk to the open batch, sending each batch that closes.
    async fn offer(&mut self, chunk: Chunk) {
        self.batcher.offer(chunk, Instant::now(), &mut self.closed);
        for batch in std::mem::take(&mut self.closed) {
            self.start(batch).await;
        }
    }

    /// Adds every chunk queued right now.
    async fn take_queued(&mut self, queue: &QueueReceiver) {
        while let Some(chunk) = queue.try_recv() {
            self.offer(chunk).await;
        }
    }

    /// Sends the open batch, if any, now.
    async fn flush(&mut self) {
        if let Some(batch) = self.batcher.take() {
            self.start(batch).await;
        }
    }

    /// Starts delivering a batch, first waiting for a free slot.
    async fn start(&mut self, batch: Batch) {
        while self.in_flight.len() >= self.max {
            self.in_flight.join_next().await;
        }
        let (shared, shutdown) = (self.shared.clone(), self.shutdown.clone());
        // The budget comes back however the delivery ends, a panic included.
        let release = Release {
            budget: shared.budget.clone(),
            weight: batch.weight,
        };
        self.in_flight.spawn(async move {
            let _release = release;
            let outcome = deliver(&shared, &batch, &shutdown, false).await;
            if outcome == Delivered::Sent
                && let Some(opened) = batch.opened
            {
                shared
                    .stats
                    .batch_latency
                    .observe(opened.elapsed().as_secs_f64());
            }
        });
    }
}

/// Gives a batch's weight back to the budget when dropped.
struct Release {
    budget: Budget,
    weight: usize,
}

impl Drop for Release {
    fn drop(&mut self) {
        self.budget.release(self.weight);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::buffer::{QueueConfig, WhenFull, queue};
    use crate::record::{Str, Stream, Value};

    #[tokio::test]
    async fn a_delivery_that_panics_still_gives_its_budget_back() {
        let (tx, rx) = queue(QueueConfig {
            max_bytes: 1 << 20,
            when_full: WhenFull::DropNewest,
            stall_timeout: Duration::from_secs(1),
        });
        let record = Record::new(Stream::Stdout, 1, Value::Str(Str::from("x")));
        tx.push(crate::encode::chunk_of(&[record]));
        let chunk = rx.try_recv().unwrap();
        assert!(rx.budget().held() > 0);
        let release = Release {
            budget: rx.budget(),
            weight: chunk.weight,
        };
        let delivery = tokio::spawn(async move {
            let _release = release;
            panic!("a bug in delivery");
        });
        assert!(delivery.await.is_err());
        assert_eq!(rx.budget().held(), 0);
    }
}
