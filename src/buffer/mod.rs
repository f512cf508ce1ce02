//! The bounded queue between the readers and one exporter.
//!
//! ```text
//!  reader threads ──push(Chunk)──► RecordQueue ──recv().await──► export task
//!   (sync; wait only while the       │ bytes held ≤ max_bytes       release(bytes) once the records
//!    destination delivers)           └ drops counted                 have left memory; delivered() /
//!                                                                    failing() say how delivery goes
//! ```
//!
//! What is queued are [`Chunk`]s: records already in their OTLP wire form,
//! about the size of the lines they came from (see [`crate::encode`]).
//!
//! The bound is in bytes ([`Chunk::weight`]) and covers everything between a
//! chunk's push and its `release`: the queue itself, the exporter's open batch
//! and a request in flight or in retry. So the memory logwrap holds for one
//! destination stays near `max_bytes` whatever the destination does. A small
//! part of it ([`reserve`]) is kept for logwrap's own records (start, exit,
//! drop notices), which are pushed from the runtime thread and so must never
//! wait: they fit even when the readers' share is full.
//!
//! When a push does not fit, [`WhenFull`] decides. The default, `adaptive`,
//! keeps both halves of the user's promise: every line reaches a collector
//! that is accepting, and the application never hangs on its logs:
//!
//! ```text
//!            a delivery succeeds                      a delivery fails (retryable), or a full queue
//!   ┌────────────────────────────────┐              has seen no delivery for --stall-timeout
//!   ▼                                │             ┌───────────────────────────────────┐
//!  DELIVERING: full → the reader waits for room ───┘                                   ▼
//!  (the child waits on its pipe: backpressure)                     FAILING: full → drop (or spill to disk)
//! ```
//!
//! A reader never waits once the app has said stop ([`Budget::stop_waiting`]:
//! at the drain deadline, on a second signal), nor for a consumer that is gone.
//!
//! The producers are OS threads and the consumer is a tokio task, so the state
//! is a `Mutex` (held for a few pointer moves per read, not per line) with a
//! `Condvar` for waiting producers and a `tokio::sync::Notify` for the consumer.
//!
//! Not here: batching (batch), delivery and retries (export). The disk side
//! of the buffer is [`disk`].

pub mod disk;

use std::collections::VecDeque;
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use tokio::sync::Notify;

pub use crate::encode::Chunk;

/// What a push does when the records do not fit in the budget.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum WhenFull {
    /// Wait for room while the destination delivers (backpressure); drop
    /// (or spill to disk) while it fails or stalls.
    #[default]
    Adaptive,
    /// Keep what is queued, drop the records that do not fit.
    DropNewest,
    /// Drop the oldest queued records to make room for the new ones.
    DropOldest,
    /// Always wait for room: lossless, but the child blocks once its pipe
    /// fills, for as long as the destination is down (until stop).
    Block,
}

impl WhenFull {
    pub fn as_str(self) -> &'static str {
        match self {
            WhenFull::Adaptive => "adaptive",
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
    /// Default 16 MiB.
    pub max_bytes: usize,
    pub when_full: WhenFull,
    /// `adaptive`: a full queue that has seen no delivery end for this long
    /// counts the destination as stalled, and readers stop waiting. Default
    /// 1 s: a healthy collector answers in milliseconds, and the child should
    /// not wait on one that does not answer for longer than a blink.
    pub stall_timeout: Duration,
}

/// Default `--stall-timeout`.
pub const DEFAULT_STALL_TIMEOUT: Duration = Duration::from_secs(1);

/// The part of `max_bytes` only logwrap's own records may use: 16 KiB (a
/// lifecycle record is under 1 KiB), at most an eighth of a tiny budget.
pub fn reserve(max_bytes: usize) -> usize {
    (16 * 1024).min(max_bytes / 8)
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
    /// The destination is delivering (or nothing has failed yet): a full
    /// queue makes `adaptive` readers wait.
    delivering: bool,
    /// When a delivery last ended with an answer (success or refusal).
    progress_at: Instant,
    /// No producer may wait any more (shutdown).
    no_waiting: bool,
    /// The child has exited: no producer waits on a destination that is
    /// failing, whatever the policy (`block` included).
    closing: bool,
}

struct Shared {
    state: Mutex<State>,
    room: Condvar,
    ready: Notify,
    config: QueueConfig,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        // Every update is a few assignments that leave the state consistent,
        // so a panic elsewhere while holding the lock is no reason to stop.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Bytes the readers may fill.
    fn readers_limit(&self) -> usize {
        self.config.max_bytes - reserve(self.config.max_bytes)
    }
}

impl State {
    /// The oldest chunk, taken off the queued counts.
    fn pop_chunk(&mut self) -> Option<Chunk> {
        let chunk = self.chunks.pop_front()?;
        self.queued -= chunk.records;
        self.queued_bytes -= chunk.weight;
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
            delivering: true,
            progress_at: Instant::now(),
            no_waiting: false,
            closing: false,
        }),
        room: Condvar::new(),
        ready: Notify::new(),
        config,
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
    /// The new records, when they did not fit.
    pub rejected: Option<Chunk>,
    /// Queued records evicted to make room (drop-oldest).
    pub evicted: Vec<Chunk>,
    /// The push found the destination stalled and said so (adaptive): the
    /// caller logs it once.
    pub stalled: bool,
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
    /// Queues a reader's records by the configured policy; may wait (see
    /// [`WhenFull`]), so never call it from the runtime thread.
    pub fn push(&self, chunk: Chunk) -> Pushed {
        self.push_within(chunk, self.shared.readers_limit(), true)
    }

    /// Queues logwrap's own records without ever waiting: they may use the
    /// reserve; rejected only when even that is full.
    pub fn push_own(&self, chunk: Chunk) -> Pushed {
        self.push_within(chunk, self.shared.config.max_bytes, false)
    }

    fn push_within(&self, chunk: Chunk, limit: usize, may_wait: bool) -> Pushed {
        let mut outcome = Pushed::default();
        if chunk.is_empty() {
            return outcome;
        }
        let shared = &self.shared;
        let mut state = shared.lock();
        // A chunk larger than the whole budget is let in once nothing else
        // is held, or it could never go anywhere.
        let fits = |s: &State| s.held == 0 || s.held + chunk.weight <= limit;
        if !state.consumer_gone && !fits(&state) {
            let policy = if may_wait {
                shared.config.when_full
            } else {
                WhenFull::DropNewest
            };
            match policy {
                WhenFull::Block | WhenFull::Adaptive => {
                    let adaptive = policy == WhenFull::Adaptive;
                    let waiting_since = Instant::now();
                    loop {
                        if fits(&state) || state.consumer_gone || state.no_waiting {
                            break;
                        }
                        if (adaptive || state.closing) && !state.delivering {
                            break;
                        }
                        let timeout = if adaptive {
                            let since = state.progress_at.max(waiting_since);
                            let stall_at = since + shared.config.stall_timeout;
                            let now = Instant::now();
                            if now >= stall_at {
                                // No delivery ended for a whole stall
                                // timeout while the queue was full.
                                state.delivering = false;
                                outcome.stalled = true;
                                break;
                            }
                            stall_at - now
                        } else {
                            Duration::from_secs(3600)
                        };
                        state = shared
                            .room
                            .wait_timeout(state, timeout)
                            .unwrap_or_else(|p| p.into_inner())
                            .0;
                    }
                }
                WhenFull::DropOldest => {
                    while !fits(&state) {
                        let Some(old) = state.pop_chunk() else {
                            break;
                        };
                        state.held -= old.weight;
                        outcome.evicted.push(old);
                    }
                }
                WhenFull::DropNewest => {}
            }
        }
        if state.consumer_gone || !fits(&state) {
            outcome.rejected = Some(chunk);
            return outcome;
        }
        outcome.accepted = chunk.records;
        state.held += chunk.weight;
        state.queued += chunk.records;
        state.queued_bytes += chunk.weight;
        state.chunks.push_back(chunk);
        let wake = state.queued >= state.wake_at.0
            || state.queued_bytes >= state.wake_at.1
            || state.held * 2 >= shared.config.max_bytes;
        drop(state);
        if wake {
            shared.ready.notify_one();
        }
        outcome
    }
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

    /// The next chunk if one is queued now.
    pub fn try_recv(&self) -> Option<Chunk> {
        self.shared.lock().pop_chunk()
    }

    /// A handle that gives budget back and reports how delivery goes;
    /// deliveries in flight hold one.
    pub fn budget(&self) -> Budget {
        Budget {
            shared: self.shared.clone(),
        }
    }
}

/// Gives budget back from wherever records leave memory, and tells waiting
/// producers how the destination is doing.
#[derive(Clone)]
pub struct Budget {
    shared: Arc<Shared>,
}

impl Budget {
    /// Half the memory or more is held: waiting for fuller batches would
    /// only make producers wait or drop.
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

    /// A delivery succeeded: the destination is delivering (again); returns
    /// true when it was not before.
    pub fn delivered(&self) -> bool {
        let mut state = self.shared.lock();
        let resumed = !state.delivering;
        state.delivering = true;
        state.progress_at = Instant::now();
        drop(state);
        self.shared.room.notify_all();
        resumed
    }

    /// A delivery was answered with a refusal (a permanent error): the
    /// destination is answering, so this is progress, not an outage.
    pub fn answered(&self) {
        self.shared.lock().progress_at = Instant::now();
        self.shared.room.notify_all();
    }

    /// A delivery failed in a way that is retried (the destination is down,
    /// refusing for now, or timing out): waiting producers stop waiting.
    pub fn failing(&self) {
        self.shared.lock().delivering = false;
        self.shared.room.notify_all();
    }

    /// True while `adaptive` readers would wait on a full queue.
    pub fn is_delivering(&self) -> bool {
        self.shared.lock().delivering
    }

    /// The child has exited: from now on producers wait for room only while
    /// the destination delivers (`block` becomes `adaptive`), so a reader
    /// draining the last of a pipe never waits on a destination that is down.
    pub fn closing(&self) {
        self.shared.lock().closing = true;
        self.shared.room.notify_all();
    }

    /// From now on no producer waits for room: shutdown.
    pub fn stop_waiting(&self) {
        self.shared.lock().no_waiting = true;
        self.shared.room.notify_all();
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

    use crate::encode::chunk_of;
    use crate::record::{Record, Str, Stream, Value};

    fn chunk(n: usize) -> Chunk {
        let records: Vec<Record> = (0..n)
            .map(|i| {
                Record::new(
                    Stream::Stdout,
                    i as u64,
                    Value::Str(Str::from(format!("line {i:04}"))),
                )
            })
            .collect();
        chunk_of(&records)
    }

    /// A budget whose readers' share holds one chunk of `records` records.
    fn config(records: usize, when_full: WhenFull) -> QueueConfig {
        // reserve() is an eighth of a small budget: the readers get 7/8.
        let readers = chunk(records).weight;
        QueueConfig {
            max_bytes: readers * 8 / 7 + 7,
            when_full,
            stall_timeout: Duration::from_millis(200),
        }
    }

    #[tokio::test]
    async fn the_consumer_wakes_when_its_batch_could_fill_or_memory_is_half_full() {
        let wait = Duration::from_millis(50);
        let (tx, rx) = queue(config(100, WhenFull::DropNewest));
        tx.push(chunk(1));
        // One record of the three the open batch lacks: no chunk yet.
        assert!(
            tokio::time::timeout(wait, rx.recv_when(3, usize::MAX))
                .await
                .is_err()
        );
        tx.push(chunk(2));
        let first = tokio::time::timeout(wait, rx.recv_when(3, usize::MAX)).await;
        assert_eq!(first.unwrap().unwrap().records, 1);
        // Two are still queued; a batch lacking two takes them at once.
        assert_eq!(rx.recv_when(2, usize::MAX).await.unwrap().records, 2);
        // Bytes count too: a batch that closes by size before by count.
        tx.push(chunk(2));
        let by_size = tokio::time::timeout(wait, rx.recv_when(1000, chunk(2).weight)).await;
        assert_eq!(by_size.unwrap().unwrap().records, 2);
        // Half the memory held wakes it whatever the batch lacks.
        for _ in 0..60 {
            tx.push(chunk(1));
        }
        let pressed = tokio::time::timeout(wait, rx.recv_when(1000, usize::MAX)).await;
        assert_eq!(pressed.unwrap().unwrap().records, 1);
        // So does the last producer leaving.
        while let Some(taken) = rx.try_recv() {
            rx.budget().release(taken.weight);
        }
        tx.push(chunk(1));
        drop(tx);
        assert_eq!(rx.recv_when(1000, usize::MAX).await.unwrap().records, 1);
        assert!(rx.recv_when(1000, usize::MAX).await.is_none());
    }

    #[tokio::test]
    async fn delivers_in_order_and_closes_when_producers_are_gone() {
        let (tx, rx) = queue(config(100, WhenFull::DropNewest));
        let tx2 = tx.clone();
        tx.push(chunk(2));
        tx2.push(chunk(3));
        drop(tx);
        drop(tx2);
        assert_eq!(rx.recv().await.unwrap().records, 2);
        assert_eq!(rx.recv().await.unwrap().records, 3);
        assert!(rx.recv().await.is_none());
    }

    #[test]
    fn drop_newest_keeps_the_queued_records_and_hands_back_the_rest() {
        let (tx, rx) = queue(config(5, WhenFull::DropNewest));
        assert_eq!(tx.push(chunk(5)).accepted, 5);
        let outcome = tx.push(chunk(1));
        assert_eq!(outcome.accepted, 0);
        assert_eq!(outcome.rejected.unwrap().records, 1);
        assert!(rx.budget().held() <= config(5, WhenFull::DropNewest).max_bytes);
        assert_eq!(rx.try_recv().unwrap().records, 5);
    }

    #[test]
    fn drop_oldest_evicts_queued_chunks() {
        let (tx, rx) = queue(config(5, WhenFull::DropOldest));
        tx.push(chunk(3));
        let outcome = tx.push(chunk(3));
        assert_eq!((outcome.accepted, outcome.evicted.len()), (3, 1));
        assert_eq!(outcome.evicted[0].records, 3);
        assert_eq!(rx.try_recv().unwrap().records, 3);
        assert!(rx.try_recv().is_none());
    }

    #[test]
    fn released_bytes_make_room_again() {
        let (tx, rx) = queue(config(3, WhenFull::DropNewest));
        tx.push(chunk(3));
        let taken = rx.try_recv().unwrap();
        // Taken but not released: still counts.
        assert!(tx.push(chunk(1)).rejected.is_some());
        rx.budget().release(taken.weight);
        assert_eq!(tx.push(chunk(1)).accepted, 1);
    }

    #[test]
    fn own_records_use_the_reserve_and_never_wait() {
        // A reserve (an eighth) of one chunk's weight: the readers get seven.
        let one = chunk(1).weight;
        let (tx, _rx) = queue(QueueConfig {
            max_bytes: one * 8 + 8,
            when_full: WhenFull::Block,
            stall_timeout: Duration::from_secs(1),
        });
        for _ in 0..7 {
            assert_eq!(tx.push(chunk(1)).accepted, 1);
        }
        let started = Instant::now();
        assert_eq!(tx.push_own(chunk(1)).accepted, 1);
        assert!(started.elapsed() < Duration::from_millis(100));
    }

    #[test]
    fn block_waits_for_release_then_accepts() {
        let (tx, rx) = queue(config(3, WhenFull::Block));
        tx.push(chunk(3));
        let producer = std::thread::spawn(move || tx.push(chunk(2)));
        std::thread::sleep(Duration::from_millis(50));
        assert!(!producer.is_finished(), "push should wait for room");
        let taken = rx.try_recv().unwrap();
        rx.budget().release(taken.weight);
        let outcome = producer.join().unwrap();
        assert_eq!(outcome.accepted, 2);
        assert!(outcome.rejected.is_none());
    }

    #[test]
    fn block_ends_its_wait_when_told_to_stop() {
        let (tx, rx) = queue(config(3, WhenFull::Block));
        tx.push(chunk(3));
        let producer = std::thread::spawn(move || tx.push(chunk(2)));
        std::thread::sleep(Duration::from_millis(50));
        assert!(!producer.is_finished());
        rx.budget().stop_waiting();
        assert!(producer.join().unwrap().rejected.is_some());
    }

    #[test]
    fn block_stops_waiting_on_a_failing_destination_once_closing() {
        let (tx, rx) = queue(config(3, WhenFull::Block));
        tx.push(chunk(3));
        rx.budget().failing();
        let producer = std::thread::spawn(move || tx.push(chunk(2)));
        std::thread::sleep(Duration::from_millis(50));
        assert!(!producer.is_finished(), "block waits even while failing");
        rx.budget().closing();
        assert!(producer.join().unwrap().rejected.is_some());
    }

    #[test]
    fn block_never_waits_for_a_consumer_that_is_gone() {
        let (tx, rx) = queue(config(1, WhenFull::Block));
        tx.push(chunk(1));
        drop(rx);
        assert!(tx.push(chunk(2)).rejected.is_some());
    }

    #[test]
    fn adaptive_waits_while_delivering_and_drops_once_failing() {
        let (tx, rx) = queue(config(3, WhenFull::Adaptive));
        let budget = rx.budget();
        tx.push(chunk(3));
        let tx = Arc::new(tx);
        let producer = {
            let tx = tx.clone();
            std::thread::spawn(move || tx.push(chunk(1)))
        };
        std::thread::sleep(Duration::from_millis(50));
        assert!(!producer.is_finished(), "delivering: the reader waits");
        budget.failing();
        let outcome = producer.join().unwrap();
        assert!(outcome.rejected.is_some(), "failing: dropped at once");
        // While failing, no wait at all.
        let started = Instant::now();
        assert!(tx.push(chunk(1)).rejected.is_some());
        assert!(started.elapsed() < Duration::from_millis(50));
        // A success: waiting again, and the release lets it in.
        assert!(budget.delivered(), "resumed");
        let producer = {
            let tx = tx.clone();
            std::thread::spawn(move || tx.push(chunk(1)))
        };
        std::thread::sleep(Duration::from_millis(50));
        assert!(!producer.is_finished());
        let taken = rx.try_recv().unwrap();
        budget.release(taken.weight);
        budget.delivered();
        assert_eq!(producer.join().unwrap().accepted, 1);
    }

    #[test]
    fn adaptive_stops_waiting_on_a_destination_that_stalls() {
        let (tx, rx) = queue(config(3, WhenFull::Adaptive));
        tx.push(chunk(3));
        let started = Instant::now();
        let outcome = tx.push(chunk(1));
        let waited = started.elapsed();
        assert!(outcome.rejected.is_some() && outcome.stalled);
        assert!(
            waited >= Duration::from_millis(200) && waited < Duration::from_secs(2),
            "{waited:?}"
        );
        assert!(!rx.budget().is_delivering());
        // Progress (an answer) restarts the clock, and success the waiting.
        rx.budget().delivered();
        assert!(rx.budget().is_delivering());
    }

    #[test]
    fn an_oversized_chunk_passes_when_nothing_else_is_held() {
        let (tx, _rx) = queue(config(1, WhenFull::Block));
        assert_eq!(tx.push(chunk(5)).accepted, 5);
    }
}
