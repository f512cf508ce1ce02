//! Where records go once parsed: encoded once, on the reader thread, then
//! into every destination's queue, with counters.
//!
//! ```text
//!  Line ──Parser──► Record ──ChunkBuilder──► Chunk ──Fanout──► each Outlet: disk (--buffer-dir) or queue
//!                   (reused list, cleared       (one copy       ├ rejected / evicted: disk, else counted dropped
//!                    once encoded)              per chunk)      └ logwrap's own records: push_own, never waits
//! ```

use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::buffer::QueueSender;
use crate::encode::{Chunk, ChunkBuilder};
use crate::export::Spill;
use crate::parse::{ParseConfig, Parser};
use crate::read::LineSink;
use crate::record::{Line, Record, Stream};
use crate::telemetry::{DestinationStats, ReadStats};
use crate::trace::RunTrace;

/// One destination as the readers see it.
#[derive(Clone)]
pub struct Outlet {
    pub name: &'static str,
    pub queue: QueueSender,
    pub stats: Arc<DestinationStats>,
    /// Where records that do not fit in memory go, if anywhere.
    pub spill: Option<Spill>,
    /// Every record goes through the disk buffer first (`--buffer-dir`, unless
    /// `--buffer-disk-mode overflow`).
    pub disk_all: bool,
    /// Takes chunks that carry structured records' original lines (Loki).
    pub with_original: bool,
}

/// Hands encoded records to every destination's queue.
#[derive(Clone)]
pub struct Fanout {
    pub destinations: Vec<Outlet>,
    pub trace: Option<RunTrace>,
}

impl Fanout {
    /// Gives a record the run's trace (`--trace`) unless its line named one.
    pub fn adopt_trace(&self, record: &mut Record) {
        if let Some(t) = &self.trace
            && record.trace_id == [0; 16]
        {
            record.trace_id = t.trace_id;
            record.span_id = t.span_id;
            record.flags = t.flags;
        }
    }

    /// Which chunk variants the destinations take: [plain, with original
    /// lines].
    pub fn variants(&self) -> [bool; 2] {
        [
            self.destinations.iter().any(|d| !d.with_original),
            self.destinations.iter().any(|d| d.with_original),
        ]
    }

    /// Queues a reader's chunks everywhere, each destination the variant it
    /// takes (the bytes are shared, not copied); may wait, by each queue's
    /// policy.
    pub fn push(&self, chunks: &[Option<Chunk>; 2]) {
        for outlet in &self.destinations {
            if let Some(chunk) = &chunks[usize::from(outlet.with_original)] {
                outlet.push(chunk.clone(), false);
            }
        }
    }

    /// Queues logwrap's own records (lifecycle events) everywhere, never
    /// waiting: safe on the runtime thread.
    pub fn push_own(&self, mut records: Vec<Record>) {
        if self.destinations.is_empty() {
            return;
        }
        for r in &mut records {
            self.adopt_trace(r);
        }
        let chunk = crate::encode::chunk_of(&records);
        for outlet in &self.destinations {
            outlet.push(chunk.clone(), true);
        }
    }
}

impl Outlet {
    fn push(&self, chunk: Chunk, own: bool) {
        let n = chunk.records;
        if self.disk_all
            && let Some(spill) = &self.spill
            && spill.write(self.name, &chunk)
        {
            DestinationStats::add(&self.stats.spilled, n);
            return;
        }
        let pushed = if own {
            self.queue.push_own(chunk)
        } else {
            self.queue.push(chunk)
        };
        if pushed.stalled {
            tracing::warn!(
                destination = self.name,
                "the destination has not answered for --stall-timeout while the queue is full; dropping new records (or writing them to the disk buffer) until it delivers again"
            );
        }
        DestinationStats::add(&self.stats.queued, pushed.accepted);
        // Evicted records had been counted as queued.
        let evicted: usize = pushed.evicted.iter().map(|c| c.records).sum();
        if evicted > 0 {
            self.stats
                .queued
                .fetch_sub(evicted as u64, std::sync::atomic::Ordering::Relaxed);
        }
        for overflow in pushed.rejected.into_iter().chain(pushed.evicted) {
            match &self.spill {
                Some(spill) if spill.write(self.name, &overflow) => {
                    DestinationStats::add(&self.stats.spilled, overflow.records);
                }
                _ => self.stats.drop_records(
                    &self.stats.dropped_full,
                    overflow.records,
                    crate::record::now_unix_nano(),
                ),
            }
        }
    }
}

/// Records a reader parses before encoding them: few, so the record list
/// stays small and in cache.
const ENCODE_EVERY: usize = 32;

/// Records per chunk at most: a long read is handed on in pieces, so the
/// export task starts on it early and no chunk gets huge.
pub const CHUNK_RECORDS: usize = 256;

/// The reader's sink: parses lines and hands each read's records on.
pub struct StreamSink {
    stream: Stream,
    parser: Parser,
    multiline_timeout: Duration,
    /// When the parser last got bytes; a held record goes out after
    /// `multiline_timeout` without more.
    last_read: Instant,
    /// Parsed records not yet encoded; the list is reused.
    records: Vec<Record>,
    /// One builder per chunk variant the destinations take (see
    /// [`Fanout::variants`]).
    chunks: [Option<ChunkBuilder>; 2],
    lines: u64,
    out: Fanout,
    read_stats: Arc<ReadStats>,
    /// Attributes added to every record (an input file's path and name).
    extra: Vec<(crate::record::Str, crate::record::Value)>,
}

impl StreamSink {
    pub fn new(
        stream: Stream,
        parse: &ParseConfig,
        multiline_timeout: Duration,
        out: Fanout,
        read_stats: Arc<ReadStats>,
    ) -> Self {
        StreamSink {
            stream,
            parser: Parser::new(parse, stream),
            multiline_timeout,
            last_read: Instant::now(),
            records: Vec::new(),
            chunks: {
                let [plain, original] = out.variants();
                [
                    plain.then(ChunkBuilder::default),
                    original.then(ChunkBuilder::with_original),
                ]
            },
            lines: 0,
            out,
            read_stats,
            extra: Vec::new(),
        }
    }

    /// Adds these attributes to every record.
    pub fn with_attributes(
        mut self,
        extra: Vec<(crate::record::Str, crate::record::Value)>,
    ) -> Self {
        self.extra = extra;
        self
    }

    /// Encodes the parsed records (and drops them here, on the reader
    /// thread that made them); `send` hands the chunk on.
    fn encode(&mut self, send: bool) {
        // By reference, then recycled: a record is a few hundred bytes, and
        // moving each out of the list to encode it was a copy per line.
        for r in self.records.iter_mut() {
            self.out.adopt_trace(r);
            if !self.extra.is_empty() {
                // Input files only: their records name the file (one small
                // allocation per record, off the child's hot path).
                r.attributes.extend(self.extra.iter().cloned());
            }
            for chunk in self.chunks.iter_mut().flatten() {
                chunk.append(r);
            }
        }
        self.parser.recycle(&mut self.records);
        if send {
            let index = ReadStats::index(self.stream);
            DestinationStats::add(&self.read_stats.lines[index], self.lines as usize);
            self.lines = 0;
            let chunks = self
                .chunks
                .each_mut()
                .map(|c| c.as_mut().and_then(ChunkBuilder::take));
            if chunks.iter().any(Option::is_some) {
                self.out.push(&chunks);
            }
        }
    }
}

impl LineSink for StreamSink {
    fn line(&mut self, line: Line) {
        self.lines += 1;
        if !self.out.destinations.is_empty() {
            self.parser.push(line, &mut self.records);
            if self.records.len() >= ENCODE_EVERY {
                let encoded = self
                    .chunks
                    .iter()
                    .flatten()
                    .map(ChunkBuilder::records)
                    .max();
                let full = encoded.unwrap_or(0) + self.records.len() >= CHUNK_RECORDS;
                // A long read does not hold all its records back.
                self.encode(full);
            }
        }
    }

    fn end_of_read(&mut self) {
        self.last_read = Instant::now();
        self.encode(true);
    }

    fn end_of_stream(&mut self) {
        self.parser.flush(&mut self.records);
        self.encode(true);
    }

    fn idle_deadline(&self) -> Option<Instant> {
        self.parser
            .has_pending()
            .then(|| self.last_read + self.multiline_timeout)
    }

    fn idle(&mut self) {
        self.parser.flush(&mut self.records);
        self.encode(true);
    }
}
