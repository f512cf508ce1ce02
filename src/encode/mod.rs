//! Encode: records → their OTLP wire form, once, on the reader thread.
//!
//! ```text
//!  parse ──Record──► ChunkBuilder::append ──► Chunk (a run of `LogRecord` fields) ──► every destination's queue
//!                    (reader thread)          shared, not copied, between queues
//! ```
//!
//! Why here and not in the exporter: a queued [`Record`] weighs about 550
//! bytes for a 120-byte line (the struct, its attribute list, its slices of
//! the read buffer); the same record as OTLP protobuf weighs about the line.
//! So the memory budget holds four times the lines, the reader threads (one
//! per stream, two cores) do the per-record work instead of the one export
//! task, and the OTLP exporters only put a request header in front of the
//! chunks. Exporters of other formats read the records back
//! ([`log_record::read`]), with their text sliced from the chunk.
//!
//! A chunk is also what the disk buffer stores (inside an OTLP request with
//! its resource), so spilling and replaying copy bytes, not records.

pub mod log_record;
pub mod wire;

use bytes::Bytes;

use crate::record::Record;
use log_record::RecordEncoder;
pub use wire::DecodeError;

/// Bookkeeping a queued chunk costs beyond its bytes (the `Chunk` itself in
/// the queue, and the allocator's header of its buffer), for the budget.
pub const CHUNK_OVERHEAD: usize = 64;

/// Records in OTLP wire form: a run of `ScopeLogs.log_records` fields.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Chunk {
    /// The encoded records.
    pub bytes: Bytes,
    /// How many.
    pub records: usize,
    /// What the chunk counts against a memory budget: its bytes plus
    /// [`CHUNK_OVERHEAD`]. The parts of a split chunk share it exactly, so a
    /// budget gets back what it lent.
    pub weight: usize,
}

impl Chunk {
    /// A chunk of `records` encoded records.
    pub fn new(bytes: Bytes, records: usize) -> Self {
        let weight = bytes.len() + CHUNK_OVERHEAD;
        Chunk {
            bytes,
            records,
            weight,
        }
    }

    pub fn is_empty(&self) -> bool {
        self.records == 0
    }

    /// Splits off and returns the leading records that fit in
    /// `max_records` and `max_bytes` (at least one when `at_least_one`, so a
    /// record larger than a whole batch still travels): all of `self` when
    /// it fits whole, an empty chunk when nothing fits. The records are
    /// walked once (the batcher calls this for every batch it closes).
    pub fn take_leading(
        &mut self,
        max_records: usize,
        max_bytes: usize,
        at_least_one: bool,
    ) -> Chunk {
        if self.records <= max_records && self.bytes.len() <= max_bytes {
            return std::mem::take(self);
        }
        let (mut fit, mut end) = (0, 0);
        for range in log_record::record_ranges(&self.bytes) {
            let Ok(range) = range else { break };
            let within = fit < max_records && range.end <= max_bytes;
            if !(within || (at_least_one && fit == 0)) {
                break;
            }
            fit += 1;
            end = range.end;
        }
        if fit == 0 && at_least_one {
            // Records that cannot be walked (never ours, unless a disk frame
            // was damaged) go whole, for the exporter to report, instead of
            // holding up the batcher.
            return std::mem::take(self);
        }
        self.split_at(fit, end)
    }

    /// The first `n` records, which end at byte `end`.
    fn split_at(&mut self, n: usize, end: usize) -> Chunk {
        if n == 0 {
            return Chunk::default();
        }
        if n >= self.records {
            return std::mem::take(self);
        }
        let bytes = self.bytes.split_to(end);
        let weight = bytes.len().min(self.weight);
        self.weight -= weight;
        self.records -= n;
        Chunk {
            bytes,
            records: n,
            weight,
        }
    }

    /// The records, read back (see [`log_record::read`]).
    pub fn read(&self, out: &mut Vec<Record>) -> Result<(), DecodeError> {
        log_record::read(&self.bytes, out)
    }
}

/// Collects one reader's records into chunks.
#[derive(Default)]
pub struct ChunkBuilder {
    encoder: RecordEncoder,
    /// Encoded records since the last chunk; reused.
    pending: Vec<u8>,
    records: usize,
}

impl ChunkBuilder {
    /// A builder whose chunks also carry each structured record's original
    /// line (see [`log_record::ORIGINAL`]).
    pub fn with_original() -> Self {
        ChunkBuilder {
            encoder: RecordEncoder::with_original(),
            ..ChunkBuilder::default()
        }
    }

    pub fn append(&mut self, record: &Record) {
        self.encoder.append(record, &mut self.pending);
        self.records += 1;
    }

    /// Records appended since the last [`ChunkBuilder::take`].
    pub fn records(&self) -> usize {
        self.records
    }

    /// The records appended so far as one chunk, if any. The bytes are
    /// copied into an allocation of exactly their size, so what a queue
    /// counts is what it holds.
    pub fn take(&mut self) -> Option<Chunk> {
        if self.records == 0 {
            return None;
        }
        let chunk = Chunk::new(Bytes::copy_from_slice(&self.pending), self.records);
        self.pending.clear();
        self.records = 0;
        Some(chunk)
    }
}

/// Encodes records into one chunk (lifecycle events, tests).
pub fn chunk_of(records: &[Record]) -> Chunk {
    chunk_from(ChunkBuilder::default(), records)
}

/// [`chunk_of`], each record carrying its original line as well (the form
/// a Loki destination is fed).
pub fn chunk_with_original(records: &[Record]) -> Chunk {
    chunk_from(ChunkBuilder::with_original(), records)
}

fn chunk_from(mut builder: ChunkBuilder, records: &[Record]) -> Chunk {
    for r in records {
        builder.append(r);
    }
    builder.take().unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::{Str, Stream, Value};

    fn records(n: usize) -> Vec<Record> {
        (0..n)
            .map(|i| {
                Record::new(
                    Stream::Stdout,
                    i as u64,
                    Value::Str(Str::from(format!("line {i}"))),
                )
            })
            .collect()
    }

    #[test]
    fn records_that_cannot_be_walked_go_whole() {
        let mut chunk = Chunk::new(Bytes::from_static(b"\xff\xff\xff"), 3);
        assert!(chunk.take_leading(1, usize::MAX, false).is_empty());
        let lead = chunk.take_leading(1, usize::MAX, true);
        assert_eq!((lead.records, chunk.records), (3, 0));
    }

    #[test]
    fn take_leading_takes_what_fits_and_leaves_the_rest() {
        let all = records(10);
        let one = chunk_of(&records(1)).bytes.len();
        // (max records, max bytes, at least one) → records taken
        for (max_records, max_bytes, at_least_one, taken) in [
            (4, usize::MAX, false, 4),
            (100, usize::MAX, false, 10),
            (100, one * 2, false, 2),
            (100, 1, false, 0),
            (100, 1, true, 1),
            (0, usize::MAX, true, 1),
        ] {
            let mut chunk = chunk_of(&all);
            let (len, weight) = (chunk.bytes.len(), chunk.weight);
            let lead = chunk.take_leading(max_records, max_bytes, at_least_one);
            let case = (max_records, max_bytes, at_least_one);
            assert_eq!(
                (lead.records, chunk.records),
                (taken, 10 - taken),
                "{case:?}"
            );
            assert_eq!(lead.bytes.len() + chunk.bytes.len(), len, "{case:?}");
            assert_eq!(lead.weight + chunk.weight, weight, "{case:?}");
            let mut back = Vec::new();
            lead.read(&mut back).unwrap();
            chunk.read(&mut back).unwrap();
            assert_eq!(back, all, "{case:?}");
        }
    }
}
