//! Where records go once parsed: every destination's queue, with counters.

use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::buffer::QueueSender;
use crate::export::Spill;
use crate::parse::{ParseConfig, Parser};
use crate::read::LineSink;
use crate::record::{Line, Record, Stream};
use crate::telemetry::{DestinationStats, ReadStats};

/// The trace a run's records belong to (`--trace`), for records whose line
/// names none of its own.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RunTrace {
    pub trace_id: [u8; 16],
    pub span_id: [u8; 8],
    pub flags: u32,
}

/// One destination as the readers see it.
#[derive(Clone)]
pub struct Outlet {
    pub name: &'static str,
    pub queue: QueueSender,
    pub stats: Arc<DestinationStats>,
    /// Where records that do not fit in memory go, if anywhere.
    pub spill: Option<Spill>,
    /// Every record goes through the disk buffer (`--buffer-disk-all`).
    pub disk_all: bool,
}

/// Hands records to every destination's queue.
#[derive(Clone)]
pub struct Fanout {
    pub destinations: Vec<Outlet>,
    pub trace: Option<RunTrace>,
}

impl Fanout {
    /// An empty list to collect records in, from the pool of the destination
    /// that gets the original (see [`crate::buffer::RecordLists`]).
    pub fn list(&self) -> Vec<Record> {
        self.destinations
            .last()
            .map_or_else(Vec::new, |d| d.queue.lists().take())
    }

    /// Queues `records` everywhere: clones for all destinations but the last.
    pub fn push(&self, mut records: Vec<Record>) {
        if records.is_empty() || self.destinations.is_empty() {
            return;
        }
        if let Some(t) = &self.trace {
            for r in records.iter_mut().filter(|r| r.trace_id == [0; 16]) {
                r.trace_id = t.trace_id;
                r.span_id = t.span_id;
                r.flags = t.flags;
            }
        }
        let last = self.destinations.len() - 1;
        let mut records = Some(records);
        for (i, outlet) in self.destinations.iter().enumerate() {
            let batch = if i == last {
                records.take().unwrap_or_default()
            } else {
                let mut copy = outlet.queue.lists().take();
                copy.extend(records.iter().flatten().cloned());
                copy
            };
            outlet.push(batch);
        }
    }
}

impl Outlet {
    fn push(&self, records: Vec<Record>) {
        let n = records.len();
        if self.disk_all
            && let Some(spill) = &self.spill
            && spill.write(self.name, &records)
        {
            DestinationStats::add(&self.stats.spilled, n);
            return;
        }
        let pushed = self.queue.push(records);
        DestinationStats::add(&self.stats.queued, pushed.accepted);
        // Evicted records had been counted as queued.
        if !pushed.evicted.is_empty() {
            self.stats.queued.fetch_sub(
                pushed.evicted.len() as u64,
                std::sync::atomic::Ordering::Relaxed,
            );
        }
        for overflow in [pushed.rejected, pushed.evicted] {
            if overflow.is_empty() {
                continue;
            }
            match &self.spill {
                Some(spill) if spill.write(self.name, &overflow) => {
                    DestinationStats::add(&self.stats.spilled, overflow.len());
                }
                _ => self.stats.drop_records(
                    &self.stats.dropped_full,
                    overflow.len(),
                    crate::read::now_unix_nano(),
                ),
            }
        }
    }
}

/// The reader's sink: parses lines and hands each read's records on.
pub struct StreamSink {
    stream: Stream,
    parser: Parser,
    multiline_timeout: Duration,
    /// When the parser last got bytes; a held record goes out after
    /// `multiline_timeout` without more.
    last_read: Instant,
    records: Vec<Record>,
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

    fn hand_on(&mut self) {
        let index = ReadStats::index(self.stream);
        DestinationStats::add(&self.read_stats.lines[index], self.lines as usize);
        self.lines = 0;
        if !self.extra.is_empty() {
            // Input files only: their records name the file (one small
            // allocation per record, off the child's hot path).
            for r in &mut self.records {
                r.attributes.extend(self.extra.iter().cloned());
            }
        }
        if !self.records.is_empty() {
            let next = self.out.list();
            self.out.push(std::mem::replace(&mut self.records, next));
        }
    }
}

impl LineSink for StreamSink {
    fn line(&mut self, line: Line) {
        self.lines += 1;
        if !self.out.destinations.is_empty() {
            self.parser.push(line, &mut self.records);
            if self.records.len() >= crate::buffer::CHUNK_RECORDS {
                // A full list goes now: lists stay one size, and a long
                // read does not hold all its records back.
                self.hand_on();
            }
        }
    }

    fn end_of_read(&mut self) {
        self.last_read = Instant::now();
        self.hand_on();
    }

    fn end_of_stream(&mut self) {
        self.parser.flush(&mut self.records);
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
}
