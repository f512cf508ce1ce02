//! Batch: chunks of encoded records → batches that close at a count, a size
//! or a delay.
//!
//! ```text
//!  Chunk ──offer()──► Batcher ──Batch──► export
//!                       └ deadline(): when the open batch must go even if small
//! ```
//!
//! [`Batcher`] is pure: the caller passes the time in, so it is tested without
//! a runtime or a clock. The async loop that drives it lives in `export`, where
//! the batch is delivered. A chunk that would take a batch past its limits is
//! split at a record boundary, so every batch keeps to them exactly (but a
//! single record larger than `max_bytes` still travels, alone).
//!
//! The delay comes from the OTel SDK's batch log record processor
//! (`OTEL_BLRP_SCHEDULE_DELAY` 1000 ms), and so do the names of the variables
//! logwrap reads. The record count is 1024, twice the SDK's 512
//! (`OTEL_BLRP_MAX_EXPORT_BATCH_SIZE`, which still sets it): an SDK batches
//! inside one application, logwrap ships a whole program's output, and each
//! request costs both sides a fixed price (headers, an HTTP/2 stream, the
//! collector's decode and its answer). Measured with `cargo bench --bench
//! pipeline` at 512 and 1024, alternately: gRPC 1.43-1.50M → 1.46-1.62M
//! lines/s, HTTP protobuf 0.48-0.53 → 0.46-0.48 CPU-s per million lines, Loki
//! unchanged within the noise. 2048 made Loki slower and took its peak RSS
//! past 32 MiB, measured before the Loki exporter kept its push buffers
//! (3920f49). That change took Loki at 8192 from 2.1-2.3 to 1.3 CPU-s per
//! million lines; after it, three alternating rounds on loopback gave Loki
//! 489-621k lines/s at 1024 and 511-531k at 2048. The OTel Collector's batch
//! processor sends 8192. A byte cap keeps one request under the 4 MiB a gRPC server
//! accepts by default (the OTel Collector's and Loki's limit).
//!
//! Loki pushes hold up to 4096 records by default
//! (`loki::DEFAULT_BATCH_RECORDS`), unless the user sets a count: they go one
//! at a time, so a push's round trip bounds the rate. Its peak RSS in the
//! benchmark is 34 MiB at 4096 (the 2048 figure above was taken before the
//! push buffers were kept); 1024 keeps it at 29.

use std::time::{Duration, Instant};

use crate::encode::Chunk;

/// When a batch closes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BatchConfig {
    /// Records per batch at most. Default 1024, Loki 4096 (see the module
    /// docs and [`BatchConfig::records_or`]); `OTEL_BLRP_MAX_EXPORT_BATCH_SIZE`
    /// sets it too.
    pub max_records: usize,
    /// The user chose `max_records` (flag or variable): no destination's
    /// own default replaces it ([`BatchConfig::records_or`]).
    pub records_given: bool,
    /// Bytes of encoded records per batch at most (the OTLP request is these
    /// plus a header of a few hundred bytes). Default 3 MiB, under the 4 MiB
    /// default gRPC message limit.
    pub max_bytes: usize,
    /// How long the first record of a batch may wait. Default 1 s
    /// (`OTEL_BLRP_SCHEDULE_DELAY`).
    pub max_delay: Duration,
}

impl Default for BatchConfig {
    fn default() -> Self {
        BatchConfig {
            max_records: 1024,
            records_given: false,
            max_bytes: 3 * 1024 * 1024,
            max_delay: Duration::from_millis(1000),
        }
    }
}

impl BatchConfig {
    /// These limits with `records` per batch, unless the user chose a count.
    pub fn records_or(self, records: usize) -> Self {
        if self.records_given {
            self
        } else {
            BatchConfig {
                max_records: records,
                ..self
            }
        }
    }
}

/// Records ready to export.
#[derive(Debug, Default)]
pub struct Batch {
    pub chunks: Vec<Chunk>,
    pub records: usize,
    /// Encoded bytes of the records.
    pub bytes: usize,
    /// What the chunks count against the queue's budget (given back once the
    /// batch has left memory).
    pub weight: usize,
    /// When its first record arrived (for the batch latency metric).
    pub opened: Option<Instant>,
}

impl Batch {
    /// A batch of one chunk.
    pub fn of(chunk: Chunk) -> Self {
        let mut batch = Batch::default();
        batch.add(chunk);
        batch
    }

    fn add(&mut self, chunk: Chunk) {
        self.records += chunk.records;
        self.bytes += chunk.bytes.len();
        self.weight += chunk.weight;
        self.chunks.push(chunk);
    }

    pub fn is_empty(&self) -> bool {
        self.records == 0
    }

    /// The encoded records, chunk by chunk.
    pub fn slices(&self) -> impl Iterator<Item = &[u8]> + Clone {
        self.chunks.iter().map(|c| &c.bytes[..])
    }

    /// The records, read back from their wire form (for exporters of other
    /// formats than OTLP protobuf).
    pub fn read(&self) -> Result<Vec<crate::record::Record>, crate::encode::DecodeError> {
        let mut records = Vec::with_capacity(self.records);
        for chunk in &self.chunks {
            chunk.read(&mut records)?;
        }
        Ok(records)
    }
}

/// Collects chunks into batches.
pub struct Batcher {
    config: BatchConfig,
    open: Batch,
}

impl Batcher {
    pub fn new(config: BatchConfig) -> Self {
        Batcher {
            config,
            open: Batch::default(),
        }
    }

    /// Adds a chunk; every batch it closes goes to `closed`.
    pub fn offer(&mut self, mut chunk: Chunk, now: Instant, closed: &mut Vec<Batch>) {
        while !chunk.is_empty() {
            if self.open.is_empty() {
                self.open.opened = Some(now);
            }
            let room_records = self.config.max_records.saturating_sub(self.open.records);
            let room_bytes = self.config.max_bytes.saturating_sub(self.open.bytes);
            let lead = chunk.take_leading(room_records, room_bytes, self.open.is_empty());
            if !lead.is_empty() {
                self.open.add(lead);
            }
            if chunk.is_empty() {
                if self.open.records >= self.config.max_records
                    || self.open.bytes >= self.config.max_bytes
                {
                    closed.extend(self.take());
                }
                return;
            }
            closed.extend(self.take());
        }
    }

    /// When the open batch must be sent, if there is one.
    pub fn deadline(&self) -> Option<Instant> {
        self.open.opened.map(|t| t + self.config.max_delay)
    }

    /// True when the open batch has waited long enough.
    pub fn is_due(&self, now: Instant) -> bool {
        self.deadline().is_some_and(|d| now >= d)
    }

    /// Closes and returns the open batch, if it has records.
    pub fn take(&mut self) -> Option<Batch> {
        if self.open.is_empty() {
            self.open.opened = None;
            return None;
        }
        Some(std::mem::take(&mut self.open))
    }

    pub fn is_empty(&self) -> bool {
        self.open.is_empty()
    }

    /// How many more records, or encoded bytes, would close the open batch;
    /// (1, 1) when none is open (the first record starts the delay).
    pub fn missing(&self) -> (usize, usize) {
        if self.open.is_empty() {
            return (1, 1);
        }
        (
            self.config
                .max_records
                .saturating_sub(self.open.records)
                .max(1),
            self.config.max_bytes.saturating_sub(self.open.bytes).max(1),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::encode::chunk_of;
    use crate::record::{Record, Str, Stream, Value};

    fn chunk(bodies: &[&str]) -> Chunk {
        let records: Vec<Record> = bodies
            .iter()
            .map(|b| Record::new(Stream::Stdout, 1, Value::Str(Str::from(b.to_string()))))
            .collect();
        chunk_of(&records)
    }

    fn bodies(batch: &Batch) -> Vec<String> {
        batch
            .read()
            .unwrap()
            .into_iter()
            .map(|r| match r.body {
                Value::Str(s) => s.to_string(),
                other => panic!("{other:?}"),
            })
            .collect()
    }

    fn config(max_records: usize, max_bytes: usize) -> BatchConfig {
        BatchConfig {
            max_records,
            records_given: true,
            max_bytes,
            max_delay: Duration::from_millis(100),
        }
    }

    #[test]
    fn closes_at_the_record_count_splitting_a_chunk() {
        let mut b = Batcher::new(config(3, usize::MAX));
        let now = Instant::now();
        let mut closed = Vec::new();
        b.offer(chunk(&["a", "b"]), now, &mut closed);
        assert!(closed.is_empty());
        b.offer(
            chunk(&["c", "d", "e", "f", "g", "h", "i"]),
            now,
            &mut closed,
        );
        let got: Vec<Vec<String>> = closed.iter().map(bodies).collect();
        assert_eq!(
            got,
            [
                vec!["a", "b", "c"],
                vec!["d", "e", "f"],
                vec!["g", "h", "i"]
            ]
        );
        assert!(b.is_empty());
        assert_eq!(b.deadline(), None);
        // The budget weight is shared exactly among the pieces.
        let total = chunk(&["a", "b"]).weight + chunk(&["c", "d", "e", "f", "g", "h", "i"]).weight;
        assert_eq!(closed.iter().map(|b| b.weight).sum::<usize>(), total);
    }

    #[test]
    fn closes_before_a_record_that_would_overflow_the_bytes() {
        let one = chunk(&["aaaa"]).bytes.len();
        let mut b = Batcher::new(config(100, 2 * one + one / 2));
        let now = Instant::now();
        let mut closed = Vec::new();
        b.offer(chunk(&["aaaa", "bbbb"]), now, &mut closed);
        assert!(closed.is_empty());
        b.offer(chunk(&["cccc"]), now, &mut closed);
        assert_eq!(bodies(&closed[0]), ["aaaa", "bbbb"]);
        assert_eq!(closed[0].bytes, 2 * one);
        // The third record opened the next batch.
        assert_eq!(bodies(&b.take().unwrap()), ["cccc"]);
    }

    #[test]
    fn a_record_bigger_than_the_byte_limit_travels_alone() {
        let mut b = Batcher::new(config(100, 10));
        let mut closed = Vec::new();
        b.offer(
            chunk(&["much longer than ten bytes", "and another"]),
            Instant::now(),
            &mut closed,
        );
        assert_eq!(closed.len(), 2);
        assert_eq!(closed[0].records, 1);
    }

    #[test]
    fn the_delay_counts_from_the_first_record() {
        let mut b = Batcher::new(config(100, usize::MAX));
        let t0 = Instant::now();
        let mut closed = Vec::new();
        b.offer(chunk(&["a"]), t0, &mut closed);
        b.offer(chunk(&["b"]), t0 + Duration::from_millis(90), &mut closed);
        assert_eq!(b.deadline(), Some(t0 + Duration::from_millis(100)));
        assert!(!b.is_due(t0 + Duration::from_millis(99)));
        assert!(b.is_due(t0 + Duration::from_millis(100)));
        assert_eq!(b.take().unwrap().records, 2);
        assert!(b.take().is_none());
    }
}
