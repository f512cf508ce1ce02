//! Batch: records → batches that close at a count, a size or a delay.
//!
//! ```text
//!  Record ──offer()──► Batcher ──Batch──► export
//!                        └ deadline(): when the open batch must go even if small
//! ```
//!
//! [`Batcher`] is pure: the caller passes the time in, so it is tested without
//! a runtime or a clock. The async loop that drives it lives in `export`, where
//! the batch is delivered.
//!
//! Defaults come from the OTel SDK's batch log record processor
//! (`OTEL_BLRP_MAX_EXPORT_BATCH_SIZE` 512, `OTEL_BLRP_SCHEDULE_DELAY` 1000 ms),
//! with a byte cap added so that one request stays under the 4 MiB a gRPC
//! server accepts by default (the OTel Collector's and Loki's limit).

use std::time::{Duration, Instant};

use crate::buffer::RecordLists;
use crate::record::Record;

/// When a batch closes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BatchConfig {
    /// Records per batch at most. Default 512 (`OTEL_BLRP_MAX_EXPORT_BATCH_SIZE`).
    pub max_records: usize,
    /// Estimated bytes per batch at most ([`Record::weight`], which errs high).
    /// Default 3 MiB, under the 4 MiB default gRPC message limit.
    pub max_bytes: usize,
    /// How long the first record of a batch may wait. Default 1 s
    /// (`OTEL_BLRP_SCHEDULE_DELAY`).
    pub max_delay: Duration,
}

impl Default for BatchConfig {
    fn default() -> Self {
        BatchConfig {
            max_records: 512,
            max_bytes: 3 * 1024 * 1024,
            max_delay: Duration::from_millis(1000),
        }
    }
}

/// Records ready to export, with their accounted weight.
#[derive(Debug, Default)]
pub struct Batch {
    pub records: Vec<Record>,
    pub bytes: usize,
    /// When its first record arrived (for the batch latency metric).
    pub opened: Option<Instant>,
}

/// Collects records into batches.
pub struct Batcher {
    config: BatchConfig,
    open: Batch,
    opened_at: Option<Instant>,
    /// Where a new batch's list comes from; give delivered batches' lists
    /// back to it ([`Batcher::lists`]).
    lists: RecordLists,
}

impl Batcher {
    pub fn new(config: BatchConfig) -> Self {
        Batcher {
            config,
            open: Batch::default(),
            opened_at: None,
            // Room for a full batch up front (capped: a huge setting should
            // not reserve megabytes for batches that close by size first).
            lists: RecordLists::new(config.max_records.min(4096)),
        }
    }

    /// The pool batch lists come from; a delivered batch's list goes back here.
    pub fn lists(&self) -> &RecordLists {
        &self.lists
    }

    /// Adds a record of the given accounted weight (what the queue counted
    /// for it, so the batch gives back exactly that); returns a batch when
    /// this record closes one.
    ///
    /// A record that would push the open batch over `max_bytes` closes the
    /// open batch first and starts the next one.
    pub fn offer(&mut self, record: Record, weight: usize, now: Instant) -> Option<Batch> {
        let mut closed = None;
        if !self.open.records.is_empty() && self.open.bytes + weight > self.config.max_bytes {
            closed = self.take();
        }
        if self.open.records.is_empty() {
            self.opened_at = Some(now);
            if self.open.records.capacity() == 0 {
                self.open.records = self.lists.take();
            }
        }
        self.open.bytes += weight;
        self.open.records.push(record);
        if closed.is_none()
            && (self.open.records.len() >= self.config.max_records
                || self.open.bytes >= self.config.max_bytes)
        {
            closed = self.take();
        }
        closed
    }

    /// When the open batch must be sent, if there is one.
    pub fn deadline(&self) -> Option<Instant> {
        self.opened_at.map(|t| t + self.config.max_delay)
    }

    /// True when the open batch has waited long enough.
    pub fn is_due(&self, now: Instant) -> bool {
        self.deadline().is_some_and(|d| now >= d)
    }

    /// Closes and returns the open batch, if it has records.
    pub fn take(&mut self) -> Option<Batch> {
        let opened = self.opened_at.take();
        if self.open.records.is_empty() {
            return None;
        }
        let mut batch = std::mem::take(&mut self.open);
        batch.opened = opened;
        Some(batch)
    }

    pub fn is_empty(&self) -> bool {
        self.open.records.is_empty()
    }

    /// How many more records, or accounted bytes, would close the open
    /// batch; (1, 1) when none is open (the first record starts the delay).
    pub fn missing(&self) -> (usize, usize) {
        if self.open.records.is_empty() {
            return (1, 1);
        }
        (
            self.config
                .max_records
                .saturating_sub(self.open.records.len())
                .max(1),
            self.config.max_bytes.saturating_sub(self.open.bytes).max(1),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::{Str, Stream, Value};

    fn record(body: &str) -> Record {
        Record::new(Stream::Stdout, 1, Value::Str(Str::from(body.to_string())))
    }

    fn offer(b: &mut Batcher, r: Record, now: Instant) -> Option<Batch> {
        let weight = r.weight();
        b.offer(r, weight, now)
    }

    fn config(max_records: usize, max_bytes: usize) -> BatchConfig {
        BatchConfig {
            max_records,
            max_bytes,
            max_delay: Duration::from_millis(100),
        }
    }

    #[test]
    fn closes_at_the_record_count() {
        let mut b = Batcher::new(config(3, usize::MAX));
        let now = Instant::now();
        assert!(offer(&mut b, record("a"), now).is_none());
        assert!(offer(&mut b, record("b"), now).is_none());
        let batch = offer(&mut b, record("c"), now).unwrap();
        assert_eq!(batch.records.len(), 3);
        assert!(b.is_empty());
        assert_eq!(b.deadline(), None);
    }

    #[test]
    fn closes_before_a_record_that_would_overflow_the_bytes() {
        let w = record("aaaa").weight();
        let mut b = Batcher::new(config(100, 2 * w + w / 2));
        let now = Instant::now();
        assert!(offer(&mut b, record("aaaa"), now).is_none());
        assert!(offer(&mut b, record("bbbb"), now).is_none());
        let batch = offer(&mut b, record("cccc"), now).unwrap();
        assert_eq!(batch.records.len(), 2);
        assert_eq!(batch.bytes, 2 * w);
        // The third record opened the next batch.
        assert_eq!(
            b.take().unwrap().records[0].body,
            Value::Str(Str::from("cccc"))
        );
    }

    #[test]
    fn a_record_bigger_than_the_byte_limit_travels_alone() {
        let mut b = Batcher::new(config(100, 10));
        let now = Instant::now();
        let batch = offer(&mut b, record("much longer than ten bytes"), now).unwrap();
        assert_eq!(batch.records.len(), 1);
    }

    #[test]
    fn the_delay_counts_from_the_first_record() {
        let mut b = Batcher::new(config(100, usize::MAX));
        let t0 = Instant::now();
        offer(&mut b, record("a"), t0);
        offer(&mut b, record("b"), t0 + Duration::from_millis(90));
        assert_eq!(b.deadline(), Some(t0 + Duration::from_millis(100)));
        assert!(!b.is_due(t0 + Duration::from_millis(99)));
        assert!(b.is_due(t0 + Duration::from_millis(100)));
        assert_eq!(b.take().unwrap().records.len(), 2);
        assert!(b.take().is_none());
    }
}
