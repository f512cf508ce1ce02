//! Wiring and shutdown order; no stage logic lives here.
//!
//! ```text
//!  spawn child ─► signal thread (forward, reap) ─────────────────► child's exit
//!      │
//!      ├─ stdout ─► reader thread: read ─► parse ─► push ─┐
//!      └─ stderr ─► reader thread: read ─► parse ─► push ─┼─► one queue per destination ─► export task
//!                                                         ┘
//!  end: child exits ─► readers drain to EOF (≤ --drain-timeout) ─► exporters flush (≤ --shutdown-timeout)
//!       ─► report what was not delivered ─► the child's exit code
//! ```
//!
//! Shutdown follows the data: when a reader reaches EOF it drops its queue
//! senders, and an export task whose queue has no senders left flushes and
//! ends. The deadlines only bound the waiting: a grandchild holding a pipe
//! open, or a collector that does not answer, cannot hold logwrap's exit past
//! them. A signal to logwrap is forwarded to the child and nothing else; the
//! pipeline keeps running until the child is gone.

use std::sync::Arc;
use std::time::Instant;

use tokio::sync::{oneshot, watch};

use crate::buffer::{self, QueueSender};
use crate::config::{Config, ExporterConfig};
use crate::export::{
    self, Destination, Exporter, console::ConsoleExporter, otlp_http::OtlpHttpExporter,
    retry::RetryConfig,
};
use crate::parse::{ParseConfig, Parser};
use crate::read::{self, LineSink, PassThrough, ReaderConfig};
use crate::record::{Line, Record, Stream};
use crate::resource::{self, ChildInfo};
use crate::supervise::{self, Outcome, SignalSet, SignalTarget, SpawnError};
use crate::telemetry::{DestinationStats, ReadStats};

/// Runs the child and the pipeline to the end; returns how the run ended.
pub async fn run(config: Config, signals: SignalSet) -> Outcome {
    let spawned = match supervise::spawn(&config.command, &[]) {
        Ok(s) => s,
        Err(e) => {
            tracing::error!("{e}");
            return match e {
                SpawnError::NotFound { .. } => Outcome::NotFound,
                SpawnError::NotExecutable { .. } => Outcome::NotExecutable,
                SpawnError::Failed { .. } => Outcome::Failed,
            };
        }
    };
    let pid = spawned.pid;
    let signal_thread = match supervise::signals::start(signals, pid, SignalTarget::Child) {
        Ok(t) => t,
        Err(e) => {
            // Without it nothing reaps the child or forwards signals; the
            // child is already running, so it gets the kill it would get
            // from a container runtime.
            tracing::error!(error = %e, "cannot start the signal thread");
            // SAFETY: kill has no memory-safety preconditions.
            unsafe { libc::kill(pid, libc::SIGKILL) };
            return Outcome::Failed;
        }
    };
    tracing::debug!(pid, command = ?config.command, "child started");

    let resource = resource::build(
        &config.resource,
        &ChildInfo {
            pid: pid as u32,
            argv: &config.command,
        },
        resource::host_name(),
    );

    let (shutdown_tx, shutdown_rx) = watch::channel(None);
    let mut senders = Vec::new();
    let mut tasks = Vec::new();
    let mut all_stats = Vec::new();
    for exporter_config in &config.exporters {
        let exporter = match exporter_config {
            ExporterConfig::OtlpHttp(c) => match OtlpHttpExporter::new(c, &resource) {
                Ok(e) => Exporter::OtlpHttp(Box::new(e)),
                Err(why) => {
                    tracing::error!(destination = "otlp", error = %why, "cannot set up the exporter; its records are dropped");
                    continue;
                }
            },
            ExporterConfig::Console => Exporter::Console(ConsoleExporter::new()),
        };
        let (tx, rx) = buffer::queue(config.queue);
        let stats = Arc::new(DestinationStats::default());
        all_stats.push((exporter.name(), stats.clone()));
        senders.push((tx, stats.clone()));
        let destination = Destination {
            exporter,
            queue: rx,
            batch: config.batch,
            retry: RetryConfig::default(),
            stats,
        };
        tasks.push(tokio::spawn(export::run(destination, shutdown_rx.clone())));
    }

    let read_stats = Arc::new(ReadStats::default());
    let mut readers_done = Vec::new();
    for (stream, file) in [
        (Stream::Stdout, spawned.stdout),
        (Stream::Stderr, spawned.stderr),
    ] {
        let passthrough = config.read.passthrough.then(|| match stream {
            Stream::Stdout => PassThrough::to(&std::io::stdout()),
            Stream::Stderr => PassThrough::to(&std::io::stderr()),
        });
        let mut sink = StreamSink::new(
            stream,
            &config.parse,
            clone_senders(&senders),
            read_stats.clone(),
        );
        let reader = ReaderConfig {
            stream,
            max_line_bytes: config.read.max_line_bytes,
        };
        let (done_tx, done_rx) = oneshot::channel::<()>();
        readers_done.push(done_rx);
        let spawned = std::thread::Builder::new()
            .name(format!("logwrap-{}", stream.as_str()))
            .spawn(move || {
                read::run(reader, file, passthrough, &mut sink);
                drop(sink);
                let _ = done_tx.send(());
            });
        if let Err(e) = spawned {
            tracing::error!(stream = stream.as_str(), error = %e, "cannot start a reader thread; this stream is not read");
        }
    }
    drop(senders);

    // The child's end. The signal thread keeps forwarding and reaping meanwhile.
    let exit = match signal_thread.exit.await {
        Ok(exit) => exit,
        Err(_) => {
            tracing::error!(
                "the signal thread ended before the child; cannot tell how the child ended"
            );
            return Outcome::Failed;
        }
    };
    tracing::debug!(outcome = ?exit.outcome, "child exited");

    // Readers: to EOF, or until the drain timeout (a grandchild may hold the pipes).
    let drain = async {
        for done in readers_done {
            let _ = done.await;
        }
    };
    if tokio::time::timeout(config.shutdown.drain_timeout, drain)
        .await
        .is_err()
    {
        tracing::warn!(
            drain_timeout = ?config.shutdown.drain_timeout,
            "the child's pipes are still open (a background process holds them?); not waiting longer"
        );
    }

    // Exporters: flush now, within the shutdown timeout.
    let deadline = Instant::now() + config.shutdown.shutdown_timeout;
    let _ = shutdown_tx.send(Some(deadline));
    let flush = async {
        for task in tasks {
            let _ = task.await;
        }
    };
    if tokio::time::timeout_at(deadline.into(), flush)
        .await
        .is_err()
    {
        tracing::warn!(shutdown_timeout = ?config.shutdown.shutdown_timeout, "delivery did not finish in time");
    }
    report_undelivered(&all_stats);
    exit.outcome
}

fn clone_senders(
    senders: &[(QueueSender, Arc<DestinationStats>)],
) -> Vec<(QueueSender, Arc<DestinationStats>)> {
    senders
        .iter()
        .map(|(tx, stats)| (tx.clone(), stats.clone()))
        .collect()
}

/// One ERROR line per destination that lost records: data loss is what an
/// operator must hear about, even with `-q`.
fn report_undelivered(all_stats: &[(&'static str, Arc<DestinationStats>)]) {
    for (name, stats) in all_stats {
        let dropped_full = DestinationStats::get(&stats.dropped_full);
        let failed = DestinationStats::get(&stats.failed);
        let rejected = DestinationStats::get(&stats.rejected);
        let unsent = stats.unsent();
        let lost = dropped_full + failed + rejected + unsent;
        if lost > 0 {
            tracing::error!(
                destination = name,
                lost,
                queue_full = dropped_full,
                failed,
                rejected,
                unsent_at_exit = unsent,
                "records were not delivered"
            );
        } else {
            tracing::debug!(
                destination = name,
                exported = DestinationStats::get(&stats.exported),
                "all records delivered"
            );
        }
    }
}

/// The reader's sink: parses lines and hands each read's records to every
/// destination's queue.
struct StreamSink {
    stream: Stream,
    parser: Parser,
    records: Vec<Record>,
    lines: u64,
    destinations: Vec<(QueueSender, Arc<DestinationStats>)>,
    read_stats: Arc<ReadStats>,
}

impl StreamSink {
    fn new(
        stream: Stream,
        parse: &ParseConfig,
        destinations: Vec<(QueueSender, Arc<DestinationStats>)>,
        read_stats: Arc<ReadStats>,
    ) -> Self {
        StreamSink {
            stream,
            parser: Parser::new(parse, stream),
            records: Vec::new(),
            lines: 0,
            destinations,
            read_stats,
        }
    }

    fn hand_on(&mut self) {
        let index = match self.stream {
            Stream::Stdout => 0,
            Stream::Stderr => 1,
        };
        DestinationStats::add(&self.read_stats.lines[index], self.lines as usize);
        self.lines = 0;
        if self.records.is_empty() {
            return;
        }
        let records = std::mem::take(&mut self.records);
        let last = self.destinations.len().saturating_sub(1);
        let mut records = Some(records);
        for (i, (queue, stats)) in self.destinations.iter().enumerate() {
            let batch = if i == last {
                records.take().unwrap_or_default()
            } else {
                records.clone().unwrap_or_default()
            };
            let pushed = queue.push(batch);
            DestinationStats::add(&stats.queued, pushed.accepted);
            // Evicted records had been counted as queued: move them to dropped.
            DestinationStats::add(&stats.dropped_full, pushed.dropped_new + pushed.dropped_old);
            if pushed.dropped_old > 0 {
                stats.queued.fetch_sub(
                    pushed.dropped_old as u64,
                    std::sync::atomic::Ordering::Relaxed,
                );
            }
        }
    }
}

impl LineSink for StreamSink {
    fn line(&mut self, line: Line) {
        self.lines += 1;
        if !self.destinations.is_empty() {
            self.parser.push(line, &mut self.records);
        }
    }

    fn end_of_read(&mut self) {
        self.hand_on();
    }

    fn end_of_stream(&mut self) {
        self.parser.flush(&mut self.records);
        self.hand_on();
    }
}
