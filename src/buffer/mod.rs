//! The bounded record queue between the readers and one exporter.
//!
//! ```text
//!  reader threads ──push(Vec<Record>)──► RecordQueue ──recv().await──► export task
//!        (sync, never wait unless           │ bytes held ≤ max_bytes      release(bytes) once the
//!         WhenFull::Block)                  └ drops counted               records have left memory
//! ```
//!
//! The bound is in bytes ([`Record::weight`]) and covers everything between a
//! record's push and its `release`: the queue itself, the exporter's open batch
//! and a request in flight or in retry. So the memory logwrap holds for one
//! destination stays near `max_bytes` whatever the destination does.
//!
//! When a push does not fit, [`WhenFull`] decides: drop the new records, drop
//! the oldest queued ones, or block the reader (and with it, once the pipe
//! fills, the child). Dropping is the default because an application must never
//! hang on its logs; blocking is there for users who prefer lossless delivery.
//!
//! The producers are OS threads and the consumer is a tokio task, so the state
//! is a `Mutex` (held for a few pointer moves per read, not per line) with a
//! `Condvar` for blocked producers and a `tokio::sync::Notify` for the consumer.
//!
//! Memory is also reused, not only bounded: readers fill fixed-size record
//! lists ([`CHUNK_RECORDS`]) taken from a [`RecordLists`] pool that the export
//! task hands emptied lists back to, so the big blocks that cross threads are
//! the same few blocks over and over (see [`RecordLists`] for why that matters
//! to RSS).
//!
//! Not here: batching (batch), delivery and retries (export). The disk side
//! of the buffer is [`disk`].

pub mod disk;
pub mod frame;

use std::collections::VecDeque;
use std::sync::{Arc, Condvar, Mutex, MutexGuard};

use tokio::sync::Notify;

use crate::record::Record;

/// What a push does when the records do not fit in the budget.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum WhenFull {
    /// Keep what is queued, drop the records that do not fit.
    DropNewest,
    /// Drop the oldest queued records to make room for the new ones.
    DropOldest,
    /// Wait until there is room: lossless, but the child blocks once its pipe fills.
    Block,
}

impl WhenFull {
    pub fn as_str(self) -> &'static str {
        match self {
            WhenFull::DropNewest => "drop-newest",
            WhenFull::DropOldest => "drop-oldest",
            WhenFull::Block => "block",
        }
    }
}

/// Queue settings.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct QueueConfig {
    /// Bytes of records held at most (queued, batched or in flight).
    pub max_bytes: usize,
    pub when_full: WhenFull,
}

/// Records per list handed from a reader to the queue: one read's records
/// go in lists of this many, so every list is one fixed-size block.
pub const CHUNK_RECORDS: usize = 256;

/// Spare lists kept per pool (4 x 256 records x ~240 B: about 240 KiB).
const SPARE_LISTS: usize = 4;

/// Record lists handed back once their records have moved on, for reuse.
///
/// Lists of records are built on one thread and emptied on another (reader →
/// export task, batch → delivery). Freed there, each ~60-120 KiB block sits
/// in the allocator until it is purged while fresh blocks are taken: that
/// churn kept peak RSS well above the byte budget. Reusing a few
/// fixed-capacity lists keeps the same memory in use. Hand-written: it is a
/// few lines around a mutex, and pool crates do not bound capacity per item.
#[derive(Clone)]
pub struct RecordLists {
    spare: Arc<Mutex<Vec<Vec<Record>>>>,
    capacity: usize,
}

impl RecordLists {
    /// A pool of lists with room for `capacity` records each.
    pub fn new(capacity: usize) -> Self {
        RecordLists {
            spare: Arc::default(),
            capacity: capacity.max(1),
        }
    }

    /// An empty list with room for the pool's capacity.
    pub fn take(&self) -> Vec<Record> {
        let spare = self.lock().pop();
        spare.unwrap_or_else(|| Vec::with_capacity(self.capacity))
    }

    /// Drops the records (here, on the caller's thread) and keeps the list
    /// if it is of this pool's size and the pool is not full.
    pub fn give(&self, mut list: Vec<Record>) {
        list.clear();
        if list.capacity() != self.capacity {
            return;
        }
        let mut spare = self.lock();
        if spare.len() < SPARE_LISTS {
            spare.push(list);
        }
    }

    fn lock(&self) -> MutexGuard<'_, Vec<Vec<Record>>> {
        // A panic while holding the lock leaves a valid list of lists.
        self.spare.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// Records of one push, with their accounted weight.
pub struct Chunk {
    pub records: Vec<Record>,
    pub bytes: usize,
}

struct State {
    chunks: VecDeque<Chunk>,
    /// Records in `chunks`, and their accounted bytes.
    queued: usize,
    queued_bytes: usize,
    /// Producers wake the consumer once `queued` or `queued_bytes` reaches
    /// these (or memory is half full): 1 while it has nothing open, else
    /// what its open batch still lacks. A consumer woken for every read of a
    /// steady, modest stream spent more CPU on wake-ups than on the records.
    wake_at: (usize, usize),
    /// Bytes pushed and not yet released.
    held: usize,
    producers: usize,
    consumer_gone: bool,
}

struct Shared {
    state: Mutex<State>,
    room: Condvar,
    ready: Notify,
    config: QueueConfig,
    lists: RecordLists,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        // A producer that panicked while holding the lock leaves consistent
        // state (every update is a single assignment), so poison is ignored.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }
}

impl State {
    /// The oldest chunk, taken off the queued counts.
    fn pop_chunk(&mut self) -> Option<Chunk> {
        let chunk = self.chunks.pop_front()?;
        self.queued -= chunk.records.len();
        self.queued_bytes -= chunk.bytes;
        Some(chunk)
    }
}

/// Creates a queue with one producer handle; clone it for more producers.
pub fn queue(config: QueueConfig) -> (QueueSender, QueueReceiver) {
    let shared = Arc::new(Shared {
        state: Mutex::new(State {
            chunks: VecDeque::new(),
            queued: 0,
            queued_bytes: 0,
            wake_at: (1, 1),
            held: 0,
            producers: 1,
            consumer_gone: false,
        }),
        room: Condvar::new(),
        ready: Notify::new(),
        config,
        lists: RecordLists::new(CHUNK_RECORDS),
    });
    (
        QueueSender {
            shared: shared.clone(),
        },
        QueueReceiver { shared },
    )
}

/// What happened to the records of one push. Records that did not stay are
/// handed back, so the caller can spill them to disk or count them dropped.
#[derive(Debug, Default, PartialEq)]
pub struct Pushed {
    pub accepted: usize,
    /// New records that did not fit (drop-newest, or no consumer).
    pub rejected: Vec<Record>,
    /// Queued records evicted to make room (drop-oldest).
    pub evicted: Vec<Record>,
}

/// The producer side; dropping the last one closes the queue.
pub struct QueueSender {
    shared: Arc<Shared>,
}

impl Clone for QueueSender {
    fn clone(&self) -> Self {
        self.shared.lock().producers += 1;
        QueueSender {
            shared: self.shared.clone(),
        }
    }
}

impl Drop for QueueSender {
    fn drop(&mut self) {
        let mut state = self.shared.lock();
        state.producers -= 1;
        if state.producers == 0 {
            drop(state);
            self.shared.ready.notify_one();
        }
    }
}

impl QueueSender {
    /// The list pool shared with the consumer: take lists from it to push.
    pub fn lists(&self) -> &RecordLists {
        &self.shared.lists
    }

    /// Queues records by the configured policy.
    pub fn push(&self, mut records: Vec<Record>) -> Pushed {
        if records.is_empty() {
            return Pushed::default();
        }
        let max = self.shared.config.max_bytes;
        let mut bytes: usize = records.iter().map(Record::weight).sum();
        let mut state = self.shared.lock();
        let mut outcome = Pushed::default();
        if state.consumer_gone {
            outcome.rejected = records;
            return outcome;
        }
        if state.held + bytes > max {
            match self.shared.config.when_full {
                WhenFull::Block => {
                    // Wait for room; a chunk larger than the whole budget is
                    // let in once nothing else is held, or it would wait forever.
                    while state.held + bytes > max && state.held > 0 && !state.consumer_gone {
                        state = self
                            .shared
                            .room
                            .wait(state)
                            .unwrap_or_else(|p| p.into_inner());
                    }
                    if state.consumer_gone {
                        outcome.rejected = records;
                        return outcome;
                    }
                }
                WhenFull::DropOldest => {
                    while state.held + bytes > max {
                        let Some(old) = state.pop_chunk() else {
                            break;
                        };
                        state.held -= old.bytes;
                        outcome.evicted.extend(old.records);
                    }
                    if state.held + bytes > max {
                        // What is held is in batches or in flight, not queued.
                        let kept = fit(&records, max.saturating_sub(state.held));
                        outcome.rejected = records.split_off(kept);
                        bytes = records.iter().map(Record::weight).sum();
                    }
                }
                WhenFull::DropNewest => {
                    let kept = fit(&records, max.saturating_sub(state.held));
                    outcome.rejected = records.split_off(kept);
                    bytes = records.iter().map(Record::weight).sum();
                }
            }
        }
        outcome.accepted = records.len();
        if !records.is_empty() {
            state.held += bytes;
            state.queued += records.len();
            state.queued_bytes += bytes;
            state.chunks.push_back(Chunk { records, bytes });
            let wake = state.queued >= state.wake_at.0
                || state.queued_bytes >= state.wake_at.1
                || state.held * 2 >= max;
            drop(state);
            if wake {
                self.shared.ready.notify_one();
            }
        }
        outcome
    }
}

/// How many leading records fit in `room` bytes.
fn fit(records: &[Record], room: usize) -> usize {
    let mut used = 0;
    records
        .iter()
        .take_while(|r| {
            used += r.weight();
            used <= room
        })
        .count()
}

/// The consumer side.
pub struct QueueReceiver {
    shared: Arc<Shared>,
}

impl QueueReceiver {
    /// The next chunk; `None` once every producer is gone and the queue is empty.
    pub async fn recv(&self) -> Option<Chunk> {
        self.recv_when(1, 1).await
    }

    /// The next chunk once at least `records` records or `bytes` accounted
    /// bytes are queued (or half the memory is held, or the producers are
    /// gone); `None` once every producer is gone and the queue is empty.
    /// Producers only wake the consumer at that point, so a consumer with an
    /// open batch sleeps through small reads.
    pub async fn recv_when(&self, records: usize, bytes: usize) -> Option<Chunk> {
        let wanted = (records.max(1), bytes.max(1));
        loop {
            {
                let mut state = self.shared.lock();
                let enough = state.queued >= wanted.0
                    || state.queued_bytes >= wanted.1
                    || state.held * 2 >= self.shared.config.max_bytes
                    || state.producers == 0;
                if enough && let Some(chunk) = state.pop_chunk() {
                    state.wake_at = (1, 1);
                    return Some(chunk);
                }
                if state.producers == 0 {
                    return None;
                }
                state.wake_at = wanted;
            }
            self.shared.ready.notified().await;
        }
    }

    /// Where emptied chunk lists go back to the producers.
    pub fn lists(&self) -> &RecordLists {
        &self.shared.lists
    }

    /// The next chunk if one is queued now.
    pub fn try_recv(&self) -> Option<Chunk> {
        self.shared.lock().pop_chunk()
    }

    /// A handle that gives budget back; deliveries in flight hold one.
    pub fn budget(&self) -> Budget {
        Budget {
            shared: self.shared.clone(),
        }
    }

    /// Gives back the budget of records that have left memory.
    pub fn release(&self, bytes: usize) {
        self.budget().release(bytes);
    }

    /// Bytes currently held (queued, batched or in flight).
    pub fn held_bytes(&self) -> usize {
        self.budget().held()
    }
}

/// Gives budget back from wherever records leave memory.
#[derive(Clone)]
pub struct Budget {
    shared: Arc<Shared>,
}

impl Budget {
    /// Half the memory or more is held: waiting for fuller batches would
    /// only make producers block or drop.
    pub fn pressed(&self) -> bool {
        self.shared.lock().held * 2 >= self.shared.config.max_bytes
    }

    pub fn release(&self, bytes: usize) {
        let mut state = self.shared.lock();
        state.held = state.held.saturating_sub(bytes);
        drop(state);
        self.shared.room.notify_all();
    }

    /// Bytes held now (queued, batched or in flight).
    pub fn held(&self) -> usize {
        self.shared.lock().held
    }
}

impl Drop for QueueReceiver {
    fn drop(&mut self) {
        // Blocked producers must not wait for a consumer that is gone.
        let mut state = self.shared.lock();
        state.consumer_gone = true;
        state.chunks.clear();
        state.queued = 0;
        state.queued_bytes = 0;
        drop(state);
        self.shared.room.notify_all();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

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

    fn weight(n: usize) -> usize {
        records(n).iter().map(Record::weight).sum()
    }

    fn config(max_records: usize, when_full: WhenFull) -> QueueConfig {
        QueueConfig {
            max_bytes: weight(max_records),
            when_full,
        }
    }

    #[test]
    fn record_lists_come_back_empty_with_their_room() {
        let lists = RecordLists::new(8);
        let mut list = lists.take();
        assert_eq!(list.capacity(), 8);
        list.push(Record::new(
            crate::record::Stream::Stdout,
            1,
            crate::record::Value::Empty,
        ));
        let block = list.as_ptr();
        lists.give(list);
        let again = lists.take();
        assert!(again.is_empty());
        assert_eq!(again.as_ptr(), block, "the same block is reused");
        // A list of another size (a grown one) is not kept.
        let mut grown = again;
        grown.reserve(100);
        lists.give(grown);
        assert!(lists.lock().is_empty());
        for _ in 0..SPARE_LISTS + 2 {
            lists.give(Vec::with_capacity(8));
        }
        assert_eq!(lists.lock().len(), SPARE_LISTS);
    }
    #[tokio::test]
    async fn the_consumer_wakes_when_its_batch_could_fill_or_memory_is_half_full() {
        let wait = Duration::from_millis(50);
        let (tx, rx) = queue(config(100, WhenFull::DropNewest));
        tx.push(records(1));
        // One record of the three the open batch lacks: no chunk yet.
        assert!(
            tokio::time::timeout(wait, rx.recv_when(3, usize::MAX))
                .await
                .is_err()
        );
        tx.push(records(2));
        let first = tokio::time::timeout(wait, rx.recv_when(3, usize::MAX)).await;
        assert_eq!(first.unwrap().unwrap().records.len(), 1);
        // Two are still queued; a batch lacking two takes them at once.
        assert_eq!(rx.recv_when(2, usize::MAX).await.unwrap().records.len(), 2);
        // Bytes count too: a batch that closes by size before by count.
        tx.push(records(2));
        let by_size = tokio::time::timeout(wait, rx.recv_when(1000, weight(2))).await;
        assert_eq!(by_size.unwrap().unwrap().records.len(), 2);
        // Half the memory held wakes it whatever the batch lacks.
        tx.push(records(50));
        let pressed = tokio::time::timeout(wait, rx.recv_when(1000, usize::MAX)).await;
        assert_eq!(pressed.unwrap().unwrap().records.len(), 50);
        // So does the last producer leaving.
        tx.push(records(1));
        drop(tx);
        assert_eq!(
            rx.recv_when(1000, usize::MAX).await.unwrap().records.len(),
            1
        );
        assert!(rx.recv_when(1000, usize::MAX).await.is_none());
    }

    #[tokio::test]
    async fn delivers_in_order_and_closes_when_producers_are_gone() {
        let (tx, rx) = queue(config(100, WhenFull::DropNewest));
        let tx2 = tx.clone();
        tx.push(records(2));
        tx2.push(records(3));
        drop(tx);
        drop(tx2);
        assert_eq!(rx.recv().await.unwrap().records.len(), 2);
        assert_eq!(rx.recv().await.unwrap().records.len(), 3);
        assert!(rx.recv().await.is_none());
    }

    #[test]
    fn drop_newest_keeps_the_queued_records_and_counts_the_rest() {
        let (tx, rx) = queue(config(5, WhenFull::DropNewest));
        assert_eq!(tx.push(records(3)).accepted, 3);
        let outcome = tx.push(records(4));
        assert_eq!(
            (
                outcome.accepted,
                outcome.rejected.len(),
                outcome.evicted.len()
            ),
            (2, 2, 0)
        );
        assert_eq!(
            outcome.rejected[0].observed_unix_nano, 2,
            "the newest are handed back"
        );
        let first = rx.try_recv().unwrap();
        assert_eq!(first.records[0].observed_unix_nano, 0);
        assert!(rx.held_bytes() <= weight(5));
    }

    #[test]
    fn drop_oldest_evicts_queued_chunks() {
        let (tx, rx) = queue(config(5, WhenFull::DropOldest));
        tx.push(records(3));
        let outcome = tx.push(records(4));
        assert_eq!(
            (
                outcome.accepted,
                outcome.rejected.len(),
                outcome.evicted.len()
            ),
            (4, 0, 3)
        );
        assert_eq!(rx.try_recv().unwrap().records.len(), 4);
        assert!(rx.try_recv().is_none());
    }

    #[test]
    fn released_bytes_make_room_again() {
        let (tx, rx) = queue(config(3, WhenFull::DropNewest));
        tx.push(records(3));
        let chunk = rx.try_recv().unwrap();
        // Taken but not released: still counts.
        assert_eq!(tx.push(records(1)).rejected.len(), 1);
        rx.release(chunk.bytes);
        assert_eq!(tx.push(records(1)).accepted, 1);
    }

    #[test]
    fn block_waits_for_release_then_accepts_everything() {
        let (tx, rx) = queue(config(3, WhenFull::Block));
        tx.push(records(3));
        let producer = std::thread::spawn(move || tx.push(records(2)));
        std::thread::sleep(std::time::Duration::from_millis(50));
        assert!(!producer.is_finished(), "push should wait for room");
        let chunk = rx.try_recv().unwrap();
        rx.release(chunk.bytes);
        let outcome = producer.join().unwrap();
        assert_eq!(outcome.accepted, 2);
        assert!(outcome.rejected.is_empty());
    }

    #[test]
    fn block_never_waits_for_a_consumer_that_is_gone() {
        let (tx, rx) = queue(config(1, WhenFull::Block));
        tx.push(records(1));
        drop(rx);
        assert_eq!(tx.push(records(2)).rejected.len(), 2);
    }

    #[test]
    fn an_oversized_chunk_passes_when_nothing_else_is_held() {
        let (tx, _rx) = queue(config(1, WhenFull::Block));
        assert_eq!(tx.push(records(5)).accepted, 5);
    }
}
