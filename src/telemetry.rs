//! logwrap's own diagnostics and counters.
//!
//! Diagnostics go through `tracing` to stderr, one line per event, prefixed
//! `logwrap:` so they stand apart from the child's stderr that shares the
//! stream: `logwrap: warn: export failed destination=otlp error=...`. Quiet by
//! default (warnings and errors only); `-v`, `-q` and `LOGWRAP_LOG` change it.
//!
//! Counters are plain atomics shared by the stages; the app reads them for
//! the exit report.

use crate::record::Stream;
use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};

use tracing::{Event, Subscriber};
use tracing_subscriber::fmt::format::Writer;
use tracing_subscriber::fmt::{FmtContext, FormatEvent, FormatFields};
use tracing_subscriber::registry::LookupSpan;

/// A layer added under the stderr one (the run span's exporter, `--trace`).
pub type ExtraLayer =
    Box<dyn tracing_subscriber::Layer<tracing_subscriber::Registry> + Send + Sync>;

/// Installs the stderr subscriber. `filter` is a targets list such as
/// `warn,logwrap=debug`; an unparsable one falls back to `warn` with a note.
/// `spans`, when given, is the layer that exports the run span (`--trace`).
pub fn init(filter: &str, spans: Option<ExtraLayer>) {
    use tracing_subscriber::Layer;
    use tracing_subscriber::layer::SubscriberExt;
    let (targets, bad) = match filter.parse::<tracing_subscriber::filter::Targets>() {
        Ok(t) => (t, false),
        Err(_) => ("warn".parse().expect("valid filter"), true),
    };
    let stderr = tracing_subscriber::fmt::layer()
        .event_format(Prefixed)
        .with_writer(std::io::stderr)
        .with_filter(targets);
    let subscriber = tracing_subscriber::registry().with(spans).with(stderr);
    let _ = tracing::subscriber::set_global_default(subscriber);
    if bad {
        tracing::warn!(
            filter,
            "LOGWRAP_LOG is not a level or targets list (e.g. debug or logwrap=debug); using warn"
        );
    }
}

/// `logwrap: <level>: <message> <fields>`.
struct Prefixed;

impl<S, N> FormatEvent<S, N> for Prefixed
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
{
    fn format_event(
        &self,
        ctx: &FmtContext<'_, S, N>,
        mut writer: Writer<'_>,
        event: &Event<'_>,
    ) -> fmt::Result {
        let level = match *event.metadata().level() {
            tracing::Level::ERROR => "error",
            tracing::Level::WARN => "warn",
            tracing::Level::INFO => "info",
            tracing::Level::DEBUG => "debug",
            tracing::Level::TRACE => "trace",
        };
        write!(writer, "logwrap: {level}: ")?;
        ctx.field_format().format_fields(writer.by_ref(), event)?;
        writeln!(writer)
    }
}

/// Counters of one destination.
#[derive(Debug, Default)]
pub struct DestinationStats {
    /// Records accepted into the destination's queue.
    pub queued: AtomicU64,
    /// Records dropped because the queue (and the disk buffer) was full.
    pub dropped_full: AtomicU64,
    /// Records the destination accepted.
    pub exported: AtomicU64,
    /// Records given up on: a permanent error, or retries out of time.
    pub failed: AtomicU64,
    /// Records the server rejected in a partial success.
    pub rejected: AtomicU64,
    /// Export attempts that were retried.
    pub retries: AtomicU64,
    /// Records that went to the disk buffer instead of the memory queue.
    pub spilled: AtomicU64,
    /// Queued records the exporter moved to the disk buffer (out of time).
    pub moved_to_disk: AtomicU64,
    /// Records sent from the disk buffer.
    pub replayed: AtomicU64,
    /// 1 while deliveries fail (between a failure and the next success).
    pub failing: AtomicU64,
    /// Seconds from a batch's first record to its delivery: a histogram.
    pub batch_latency: Histogram,
    /// Records from the disk buffer the server refused for good.
    pub replay_lost: AtomicU64,
    /// Drops already reported in a dropped-records notice, by kind.
    notified_full: AtomicU64,
    notified_failed: AtomicU64,
    /// Time of the first and last drop not yet reported (ns since the epoch; 0 = none).
    first_drop: AtomicU64,
    last_drop: AtomicU64,
}

/// What a dropped-records notice reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Drops {
    pub queue_full: u64,
    pub failed: u64,
    pub first_unix_nano: u64,
    pub last_unix_nano: u64,
}

impl DestinationStats {
    pub fn add(counter: &AtomicU64, n: usize) {
        counter.fetch_add(n as u64, Ordering::Relaxed);
    }

    pub fn get(counter: &AtomicU64) -> u64 {
        counter.load(Ordering::Relaxed)
    }

    /// Records `n` drops into `counter` (queue full or failed) at `now`.
    pub fn drop_records(&self, counter: &AtomicU64, n: usize, now_unix_nano: u64) {
        if n == 0 {
            return;
        }
        Self::add(counter, n);
        let _ = self.first_drop.compare_exchange(
            0,
            now_unix_nano,
            Ordering::Relaxed,
            Ordering::Relaxed,
        );
        self.last_drop.fetch_max(now_unix_nano, Ordering::Relaxed);
    }

    /// Drops since the last notice, if any; marks them reported.
    pub fn take_drops(&self) -> Option<Drops> {
        let full = Self::get(&self.dropped_full);
        let failed = Self::get(&self.failed) + Self::get(&self.replay_lost);
        let full_before = self.notified_full.swap(full, Ordering::Relaxed);
        let failed_before = self.notified_failed.swap(failed, Ordering::Relaxed);
        if full == full_before && failed == failed_before {
            return None;
        }
        let first = self.first_drop.swap(0, Ordering::Relaxed);
        let last = self.last_drop.swap(0, Ordering::Relaxed);
        Some(Drops {
            queue_full: full - full_before,
            failed: failed - failed_before,
            first_unix_nano: first,
            last_unix_nano: last.max(first),
        })
    }

    /// Records queued but neither delivered, moved to disk nor given up on.
    pub fn unsent(&self) -> u64 {
        let done = Self::get(&self.exported)
            + Self::get(&self.failed)
            + Self::get(&self.rejected)
            + Self::get(&self.moved_to_disk);
        Self::get(&self.queued).saturating_sub(done)
    }
}

/// Counters of the read stage.
#[derive(Debug, Default)]
pub struct ReadStats {
    /// Lines read from stdout, stderr and input files (by [`ReadStats::index`]).
    pub lines: [AtomicU64; 3],
}

impl ReadStats {
    /// The slot of `stream` in `lines`.
    pub fn index(stream: Stream) -> usize {
        match stream {
            Stream::Stdout | Stream::Lifecycle => 0,
            Stream::Stderr => 1,
            Stream::File => 2,
        }
    }

    pub fn lines_of(&self, stream: Stream) -> u64 {
        self.lines[Self::index(stream)].load(Ordering::Relaxed)
    }
}

/// A Prometheus-style histogram of seconds with fixed buckets, lock-free.
#[derive(Debug, Default)]
pub struct Histogram {
    /// Observations at or below each of [`Histogram::BOUNDS`] (not cumulative).
    buckets: [AtomicU64; 10],
    count: AtomicU64,
    sum_micros: AtomicU64,
}

impl Histogram {
    /// Upper bounds in seconds (the last bucket, +Inf, is `count`).
    pub const BOUNDS: [f64; 10] = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0];

    pub fn observe(&self, seconds: f64) {
        if let Some(i) = Self::BOUNDS.iter().position(|b| seconds <= *b) {
            self.buckets[i].fetch_add(1, Ordering::Relaxed);
        }
        self.count.fetch_add(1, Ordering::Relaxed);
        self.sum_micros
            .fetch_add((seconds * 1e6) as u64, Ordering::Relaxed);
    }

    /// Cumulative counts per bound, the total count and the sum in seconds.
    pub fn snapshot(&self) -> ([u64; 10], u64, f64) {
        let mut cumulative = [0; 10];
        let mut running = 0;
        for (i, b) in self.buckets.iter().enumerate() {
            running += b.load(Ordering::Relaxed);
            cumulative[i] = running;
        }
        (
            cumulative,
            self.count.load(Ordering::Relaxed),
            self.sum_micros.load(Ordering::Relaxed) as f64 / 1e6,
        )
    }
}
