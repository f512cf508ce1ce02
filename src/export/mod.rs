//! Export: batches → destinations, with retries, until the queue closes.
//!
//! ```text
//!  QueueReceiver ──chunks──► Batcher ──Batch──► deliver() ──► Exporter::{OtlpHttp, OtlpGrpc, Loki, Http, File, Console}
//!        ▲                                         │ retry with backoff (retry.rs)
//!        └──────────────── release(bytes) ◄────────┘ after success or giving up
//! ```
//!
//! One task per destination runs [`run`]: it fills the batcher from the queue,
//! sends a batch when it is full or its delay is up (up to `--max-in-flight`
//! at once where order does not matter), and after the last producer is gone
//! (or the app says stop) flushes what is left at once. Retries happen inside
//! `deliver`; while a batch is retried the queue keeps filling, and its byte
//! budget decides what happens to new records: dropped and counted, or, with
//! a disk buffer, written to disk. Frames on disk (an outage's overflow, or
//! what an earlier run left) are sent first, one at a time. After drops, the
//! next successful delivery is followed by a `logwrap.dropped` record saying
//! how many and when.
//!
//! Shutdown follows the data. The app sends a deadline on the `shutdown`
//! channel when the child has exited; from then on every open batch goes out
//! at once, and retries that would end after the deadline are given up:
//! moved to the disk buffer if there is one, else counted. The app bounds
//! the whole task with `--shutdown-timeout`.

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

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::sync::watch;
use tokio::task::JoinSet;

use crate::batch::{Batch, BatchConfig, Batcher};
use crate::buffer::disk::{DiskBuffer, Frame};
use crate::buffer::{Budget, Chunk, QueueReceiver};
use crate::config::ExporterConfig;
use crate::record::Record;
use crate::record::{Attributes, Str, Value};
use crate::telemetry::DestinationStats;
use otlp_proto::RequestEncoder;

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

    pub async fn export(&self, records: &[Record]) -> Result<Accepted, ExportError> {
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
}

/// A destination's disk buffer and the encoder of its frames.
#[derive(Clone)]
pub struct Spill {
    pub disk: Arc<DiskBuffer>,
    pub encoder: Arc<RequestEncoder>,
    /// Warned that the disk refused a write (once per outage).
    pub warned: Arc<std::sync::atomic::AtomicBool>,
}

impl Spill {
    /// Writes records to disk; false (with one warning) when the disk refuses.
    pub fn write(&self, name: &str, records: &[Record]) -> bool {
        if records.is_empty() {
            return true;
        }
        let payload = crate::buffer::frame::encode(&self.encoder, records);
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
    backoff: Mutex<Backoff>,
    /// Start of the current run of failures and their count, for one
    /// warning per outage and a note when it ends.
    failing: Mutex<Option<(Instant, u64)>>,
    disk: Option<Spill>,
}

/// Runs one destination until its queue closes, or until shutdown is
/// signalled and the queue is drained.
pub async fn run(dest: Destination, mut shutdown: ShutdownSignal) {
    let shared = Arc::new(Shared {
        name: dest.exporter.name(),
        exporter: dest.exporter,
        stats: dest.stats,
        backoff: Mutex::new(Backoff::new(dest.retry)),
        failing: Mutex::new(None),
        disk: dest.disk,
    });
    let queue = dest.queue;
    let mut sending = Sending {
        in_flight: JoinSet::new(),
        max: dest.max_in_flight.max(1),
        shared: shared.clone(),
        budget: queue.budget(),
        shutdown: shutdown.clone(),
        batcher: Batcher::new(dest.batch),
    };
    let mut replayer = Replayer::new(dest.config, dest.resource);
    loop {
        if shutdown.borrow().is_some() {
            // Take what is queued now; producers still blocked on a pipe
            // held by a grandchild are not waited for.
            sending.take_queued(&queue).await;
            break;
        }
        // What an earlier run (or an outage) left on disk goes first, one
        // frame at a time, when nothing else is in flight.
        if let Some(spill) = &shared.disk
            && sending.in_flight.is_empty()
            && !spill.disk.is_empty()
        {
            replayer.replay_one(&shared, spill, &shutdown).await;
            continue;
        }
        let deadline = sending.batcher.deadline();
        let sleep = tokio::time::sleep_until(deadline.unwrap_or_else(Instant::now).into());
        let room = sending.in_flight.len() < sending.max;
        let missing = sending.batcher.missing();
        tokio::select! {
            chunk = queue.recv_when(missing.0, missing.1), if room => match chunk {
                Some(chunk) => {
                    sending.offer(&queue, chunk).await;
                    if sending.budget.pressed() {
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
            Some(_) = sending.in_flight.join_next(), if !sending.in_flight.is_empty() => {}
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
        // What waits on disk (with --buffer-disk-all, the run's last
        // records) goes out until the deadline; the rest stays for the
        // next run.
        while !spill.disk.is_empty() && replayer.replay_one(&shared, spill, &shutdown).await {}
        spill.disk.sync();
    }
}

/// The open batch and the deliveries in flight of one destination.
struct Sending {
    in_flight: JoinSet<()>,
    max: usize,
    shared: Arc<Shared>,
    budget: Budget,
    shutdown: ShutdownSignal,
    batcher: Batcher,
}

impl Sending {
    /// Adds a chunk's records to the open batch, sending each batch that
    /// closes; the emptied list goes back to the producers.
    ///
    /// The queue weighed the chunk when it was pushed; its records share
    /// that weight evenly here rather than being weighed again, and the
    /// shares add up to it exactly, so the budget gets back what it lent.
    async fn offer(&mut self, queue: &QueueReceiver, chunk: Chunk) {
        let Chunk { mut records, bytes } = chunk;
        let now = Instant::now();
        let count = records.len().max(1);
        let (share, mut extra) = (bytes / count, bytes % count);
        for record in records.drain(..) {
            let weight = share + usize::from(extra > 0);
            extra = extra.saturating_sub(1);
            if let Some(batch) = self.batcher.offer(record, weight, now) {
                self.start(batch).await;
            }
        }
        queue.lists().give(records);
    }

    /// Adds every chunk queued right now.
    async fn take_queued(&mut self, queue: &QueueReceiver) {
        while let Some(chunk) = queue.try_recv() {
            self.offer(queue, chunk).await;
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
        let (shared, budget, shutdown, lists) = (
            self.shared.clone(),
            self.budget.clone(),
            self.shutdown.clone(),
            self.batcher.lists().clone(),
        );
        self.in_flight.spawn(async move {
            let bytes = batch.bytes;
            let outcome = deliver(&shared, &batch.records, &shutdown, false).await;
            if outcome == Delivered::Sent
                && let Some(opened) = batch.opened
            {
                shared
                    .stats
                    .batch_latency
                    .observe(opened.elapsed().as_secs_f64());
            }
            budget.release(bytes);
            lists.give(batch.records);
        });
    }
}

/// How one delivery ended.
#[derive(Debug, PartialEq, Eq)]
enum Delivered {
    Sent,
    /// Moved to the disk buffer (out of time).
    ToDisk,
    /// Refused for good (a permanent error): dropped and counted.
    Refused,
    /// Out of time, and nowhere to keep it: dropped and counted (replayed
    /// frames are not dropped: they stay on disk).
    OutOfTime,
}

/// Sends records, retrying as the rules allow. Out of time, they go to the
/// disk buffer when there is one, else they are counted as failed. A
/// `replay` delivery (from disk) is not counted as queued records are.
async fn deliver(
    shared: &Shared,
    records: &[Record],
    shutdown: &ShutdownSignal,
    replay: bool,
) -> Delivered {
    let count = records.len();
    let started = Instant::now();
    let max_elapsed = shared
        .backoff
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .config()
        .max_elapsed;
    loop {
        match shared.exporter.export(records).await {
            Ok(accepted) => {
                shared
                    .backoff
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .reset();
                shared
                    .stats
                    .failing
                    .store(0, std::sync::atomic::Ordering::Relaxed);
                if let Some((since, failures)) = shared
                    .failing
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .take()
                {
                    tracing::info!(
                        destination = shared.name,
                        failures,
                        outage_secs = since.elapsed().as_secs_f64(),
                        "delivery resumed"
                    );
                }
                let rejected = (accepted.rejected as usize).min(count);
                let delivered = if replay {
                    &shared.stats.replayed
                } else {
                    &shared.stats.exported
                };
                DestinationStats::add(delivered, count - rejected);
                if rejected > 0 || accepted.message.is_some() {
                    let counter = if replay {
                        &shared.stats.replay_lost
                    } else {
                        &shared.stats.rejected
                    };
                    DestinationStats::add(counter, rejected);
                    tracing::warn!(
                        destination = shared.name,
                        rejected,
                        message = accepted.message.as_deref().unwrap_or(""),
                        "the server rejected part of a batch (partial success); not retried"
                    );
                }
                report_drops(shared).await;
                return Delivered::Sent;
            }
            Err(ExportError::Discarded) => {
                let counter = if replay {
                    &shared.stats.replay_lost
                } else {
                    &shared.stats.failed
                };
                shared
                    .stats
                    .drop_records(counter, count, crate::read::now_unix_nano());
                return Delivered::Refused;
            }
            Err(ExportError::Permanent { reason }) => {
                let counter = if replay {
                    &shared.stats.replay_lost
                } else {
                    &shared.stats.failed
                };
                shared
                    .stats
                    .drop_records(counter, count, crate::read::now_unix_nano());
                tracing::error!(destination = shared.name, records = count, error = %reason, "export failed permanently; dropping the batch");
                return Delivered::Refused;
            }
            Err(ExportError::Retryable { reason, after }) => {
                shared
                    .stats
                    .failing
                    .store(1, std::sync::atomic::Ordering::Relaxed);
                let delay = after.unwrap_or_else(|| {
                    shared
                        .backoff
                        .lock()
                        .unwrap_or_else(|p| p.into_inner())
                        .next_delay(fastrand::f64())
                });
                {
                    let mut failing = shared.failing.lock().unwrap_or_else(|p| p.into_inner());
                    let (_, failures) = failing.get_or_insert((Instant::now(), 0));
                    *failures += 1;
                    if *failures == 1 {
                        tracing::warn!(destination = shared.name, error = %reason, "export failed; retrying");
                    } else {
                        tracing::debug!(destination = shared.name, error = %reason, retry_in = ?delay, "export failed again");
                    }
                }
                // Wait out the delay; a shutdown deadline set meanwhile only
                // shortens what is left, it never makes the retry come early
                // (a server's Retry-After is a promise we keep).
                let retry_at = Instant::now() + delay;
                let mut shutdown = shutdown.clone();
                loop {
                    let deadline = *shutdown.borrow_and_update();
                    let give_up_at =
                        deadline.map_or(started + max_elapsed, |d| d.min(started + max_elapsed));
                    if retry_at > give_up_at {
                        return out_of_time(shared, records, &reason, replay);
                    }
                    tokio::select! {
                        () = tokio::time::sleep_until(retry_at.into()) => break,
                        changed = shutdown.changed() => {
                            if changed.is_err() {
                                // No deadline can come any more.
                                tokio::time::sleep_until(retry_at.into()).await;
                                break;
                            }
                        }
                    }
                }
                DestinationStats::add(&shared.stats.retries, 1);
            }
        }
    }
}

/// A batch whose next retry would come too late: kept in the disk buffer when
/// there is one, left on disk when it came from there, else counted as failed.
fn out_of_time(shared: &Shared, records: &[Record], reason: &str, replay: bool) -> Delivered {
    let count = records.len();
    if !replay
        && let Some(spill) = &shared.disk
        && spill.write(shared.name, records)
    {
        DestinationStats::add(&shared.stats.moved_to_disk, count);
        tracing::warn!(destination = shared.name, records = count, error = %reason, "export still failing; kept the batch in the disk buffer");
        return Delivered::ToDisk;
    }
    if replay {
        // The frame stays on disk and is tried again.
        return Delivered::OutOfTime;
    }
    shared
        .stats
        .drop_records(&shared.stats.failed, count, crate::read::now_unix_nano());
    tracing::error!(destination = shared.name, records = count, error = %reason, "export still failing and out of time; dropping the batch");
    Delivered::OutOfTime
}

/// After a successful delivery: if records were dropped since the last
/// notice, a record says how many and when, so the gap shows in the backend.
async fn report_drops(shared: &Shared) {
    let Some(drops) = shared.stats.take_drops() else {
        return;
    };
    let notice = crate::lifecycle::dropped(shared.name, &drops);
    if let Err(e) = shared.exporter.export(std::slice::from_ref(&notice)).await {
        tracing::debug!(destination = shared.name, error = %e, "the dropped-records notice could not be sent");
    }
}

/// Sends disk frames, with an exporter for the resource that wrote them.
struct Replayer {
    config: ExporterConfig,
    resource: Attributes,
    /// Exporter for frames of an earlier run (another resource).
    other: Option<(Attributes, Arc<Shared>)>,
    /// A frame that ran out of retry time: sent again before the next one,
    /// since the disk buffer is there to outlast any outage.
    pending: Option<Frame>,
}

impl Replayer {
    fn new(config: ExporterConfig, resource: Attributes) -> Self {
        Replayer {
            config,
            resource,
            other: None,
            pending: None,
        }
    }

    /// Sends the oldest frame; false when none was left or it could not be
    /// sent before the shutdown deadline.
    async fn replay_one(
        &mut self,
        shared: &Arc<Shared>,
        spill: &Spill,
        shutdown: &ShutdownSignal,
    ) -> bool {
        let frame = match self.pending.take() {
            Some(frame) => frame,
            None => {
                let disk = spill.disk.clone();
                let Ok(Some(frame)) = tokio::task::spawn_blocking(move || disk.next()).await else {
                    return false;
                };
                frame
            }
        };
        let decoded = match crate::buffer::frame::decode(&frame.payload) {
            Ok(d) => d,
            Err(e) => {
                tracing::warn!(destination = shared.name, error = %e, "a disk buffer frame is not an OTLP request; skipping it");
                spill.disk.delivered(&frame);
                return true;
            }
        };
        let via = if same_run(&decoded.resource, &self.resource) {
            shared.clone()
        } else {
            self.for_resource(shared, decoded.resource)
        };
        match deliver(&via, &decoded.records, shutdown, true).await {
            Delivered::Sent | Delivered::Refused => {
                spill.disk.delivered(&frame);
                true
            }
            // At shutdown the frame stays on disk for the next run.
            Delivered::OutOfTime if shutdown.borrow().is_some() => false,
            Delivered::OutOfTime | Delivered::ToDisk => {
                self.pending = Some(frame);
                true
            }
        }
    }

    fn for_resource(&mut self, shared: &Arc<Shared>, resource: Attributes) -> Arc<Shared> {
        if let Some((r, s)) = &self.other
            && *r == resource
        {
            return s.clone();
        }
        match Exporter::new(&self.config, &resource) {
            Ok(exporter) => {
                let s = Arc::new(Shared {
                    name: shared.name,
                    exporter,
                    stats: shared.stats.clone(),
                    backoff: Mutex::new(Backoff::new(
                        shared
                            .backoff
                            .lock()
                            .unwrap_or_else(|p| p.into_inner())
                            .config(),
                    )),
                    failing: Mutex::new(None),
                    disk: None,
                });
                self.other = Some((resource, s.clone()));
                s
            }
            Err(e) => {
                tracing::warn!(destination = shared.name, error = %e, "cannot rebuild the exporter for an earlier run's records; sending them with this run's resource");
                shared.clone()
            }
        }
    }
}

/// Frames of this run carry this run's resource (same instance id).
fn same_run(a: &[(Str, Value)], b: &[(Str, Value)]) -> bool {
    let id = |r: &[(Str, Value)]| {
        r.iter()
            .find(|(k, _)| k.as_str() == "service.instance.id")
            .map(|(_, v)| v.clone())
    };
    id(a) == id(b)
}
