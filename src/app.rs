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
use std::time::{Duration, Instant};

use tokio::sync::{oneshot, watch};

use crate::buffer::{self, QueueSender};
use crate::config::Config;
use crate::export::{self, Destination, Exporter, retry::RetryConfig};
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
        let exporter = match Exporter::new(exporter_config, &resource) {
            Ok(e) => e,
            Err(why) => {
                tracing::error!(destination = ?exporter_config, error = %why, "cannot set up the exporter; its records are dropped");
                continue;
            }
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

    // Written to when the readers must stop before EOF (see the drain below).
    let stop_readers = StopPipe::new();
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
            config.read.multiline_timeout,
            clone_senders(&senders),
            read_stats.clone(),
        );
        let reader = ReaderConfig {
            stream,
            max_line_bytes: config.read.max_line_bytes,
            stop: stop_readers.as_ref().map(StopPipe::read_fd),
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

    // Readers: to EOF, or until the drain timeout (a grandchild may hold the
    // pipes). Then they are told to stop, which also releases a record held
    // for continuation lines, and get a moment to hand it on.
    let mut readers_done: Vec<_> = readers_done.into_iter().map(Some).collect();
    if tokio::time::timeout(config.shutdown.drain_timeout, all_done(&mut readers_done))
        .await
        .is_err()
    {
        tracing::warn!(
            drain_timeout = ?config.shutdown.drain_timeout,
            "the child's pipes are still open (a background process holds them?); not waiting longer"
        );
        if let Some(pipe) = &stop_readers {
            pipe.signal();
        }
        let _ = tokio::time::timeout(Duration::from_millis(200), all_done(&mut readers_done)).await;
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

/// Waits for every reader's end; a receiver that completed is cleared, so a
/// second call (after a timeout cut the first) waits only for the rest.
async fn all_done(readers: &mut [Option<oneshot::Receiver<()>>]) {
    for slot in readers.iter_mut() {
        if let Some(done) = slot.as_mut() {
            let _ = done.await;
            *slot = None;
        }
    }
}

/// A pipe whose read end becomes readable to tell the reader threads to stop.
struct StopPipe {
    read: std::os::fd::OwnedFd,
    write: std::os::fd::OwnedFd,
}

impl StopPipe {
    /// `None` if the pipe cannot be made; readers then simply run to EOF or
    /// until the process ends.
    fn new() -> Option<Self> {
        let mut fds = [0; 2];
        // SAFETY: fds has room for two descriptors; O_CLOEXEC keeps them out of children.
        if unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) } != 0 {
            tracing::warn!(error = %std::io::Error::last_os_error(), "cannot create the reader stop pipe");
            return None;
        }
        use std::os::fd::FromRawFd;
        // SAFETY: pipe2 just returned these two descriptors, owned by nobody else.
        unsafe {
            Some(StopPipe {
                read: std::os::fd::OwnedFd::from_raw_fd(fds[0]),
                write: std::os::fd::OwnedFd::from_raw_fd(fds[1]),
            })
        }
    }

    fn read_fd(&self) -> std::os::fd::RawFd {
        use std::os::fd::AsRawFd;
        self.read.as_raw_fd()
    }

    /// Makes the read end readable for every reader (nobody consumes the byte).
    fn signal(&self) {
        use std::os::fd::AsRawFd;
        // SAFETY: writing one byte from a valid buffer to our own pipe.
        unsafe { libc::write(self.write.as_raw_fd(), b"x".as_ptr().cast(), 1) };
    }
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
    multiline_timeout: Duration,
    /// When the parser last got bytes; a held record goes out after
    /// `multiline_timeout` without more.
    last_read: Instant,
    records: Vec<Record>,
    lines: u64,
    destinations: Vec<(QueueSender, Arc<DestinationStats>)>,
    read_stats: Arc<ReadStats>,
}

impl StreamSink {
    fn new(
        stream: Stream,
        parse: &ParseConfig,
        multiline_timeout: Duration,
        destinations: Vec<(QueueSender, Arc<DestinationStats>)>,
        read_stats: Arc<ReadStats>,
    ) -> Self {
        StreamSink {
            stream,
            parser: Parser::new(parse, stream),
            multiline_timeout,
            last_read: Instant::now(),
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
        self.last_read = Instant::now();
        self.hand_on();
    }

    fn idle_deadline(&self) -> Option<Instant> {
        self.parser
            .has_pending()
            .then(|| self.last_read + self.multiline_timeout)
    }

    fn idle(&mut self) {
        self.parser.flush(&mut self.records);
        self.hand_on();
    }

    fn end_of_stream(&mut self) {
        self.parser.flush(&mut self.records);
        self.hand_on();
    }
}
