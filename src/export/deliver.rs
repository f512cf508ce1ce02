//! One delivery: send a batch, retry it as the rules allow, and give up in
//! time (to the disk buffer, or counted), telling the queue how the
//! destination is doing.

use std::time::Instant;

use super::{ExportError, LAST_TRY, Shared, ShutdownSignal};
use crate::batch::Batch;
use crate::telemetry::DestinationStats;

/// How one delivery ended.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Delivered {
    Sent,
    /// Moved to the disk buffer (out of time).
    ToDisk,
    /// Refused for good (a permanent error): dropped and counted.
    Refused,
    /// Out of time, and nowhere to keep it: dropped and counted (replayed
    /// frames are not dropped: they stay on disk).
    OutOfTime,
}

/// Resolves at the shutdown deadline (never, while there is none); a
/// deadline brought forward (a second signal) counts from then.
async fn deadline_passed(shutdown: &ShutdownSignal) {
    let mut shutdown = shutdown.clone();
    loop {
        let deadline = *shutdown.borrow_and_update();
        let sleep = tokio::time::sleep_until(deadline.unwrap_or_else(Instant::now).into());
        tokio::select! {
            () = sleep, if deadline.is_some() => return,
            changed = shutdown.changed() => {
                if changed.is_err() {
                    // The app is gone: keep the deadline it last set.
                    match deadline {
                        Some(d) => tokio::time::sleep_until(d.into()).await,
                        None => std::future::pending().await,
                    }
                    return;
                }
            }
        }
    }
}

/// Sends a batch, retrying as the rules allow. Out of time (a retry or an
/// answer that would come after the shutdown deadline, or retries past
/// `--retry-max-elapsed`), it goes to the disk buffer when there is one,
/// else it is counted as failed. A `replay` delivery (from disk) is not
/// counted as queued records are.
pub(super) async fn deliver(
    shared: &Shared,
    batch: &Batch,
    shutdown: &ShutdownSignal,
    replay: bool,
) -> Delivered {
    let count = batch.records;
    let started = Instant::now();
    let max_elapsed = shared
        .backoff
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .config()
        .max_elapsed;
    // A request the exporter built for this batch, for its retries.
    let mut kept = None;
    loop {
        let answer = tokio::select! {
            answer = shared.exporter.send(batch, &mut kept) => answer,
            () = deadline_passed(shutdown) => {
                return out_of_time(shared, batch, "no answer before the shutdown deadline", replay);
            }
        };
        match answer {
            Ok(accepted) => {
                shared
                    .backoff
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .reset();
                shared
                    .stats
                    .failing
                    .store(0, std::sync::atomic::Ordering::Relaxed);
                let resumed = shared.budget.delivered();
                shared.resumed.notify_waiters();
                if let Some((since, failures)) = shared
                    .failing
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .take()
                {
                    tracing::info!(
                        destination = shared.name,
                        failures,
                        outage_secs = since.elapsed().as_secs_f64(),
                        "delivery resumed"
                    );
                } else if resumed {
                    tracing::info!(
                        destination = shared.name,
                        "the destination answers again; readers wait for room again instead of dropping"
                    );
                }
                let rejected = (accepted.rejected as usize).min(count);
                let delivered = if replay {
                    &shared.stats.replayed
                } else {
                    &shared.stats.exported
                };
                DestinationStats::add(delivered, count - rejected);
                if rejected > 0 || accepted.message.is_some() {
                    let counter = if replay {
                        &shared.stats.replay_lost
                    } else {
                        &shared.stats.rejected
                    };
                    DestinationStats::add(counter, rejected);
                    tracing::warn!(
                        destination = shared.name,
                        rejected,
                        message = accepted.message.as_deref().unwrap_or(""),
                        "the server rejected part of a batch (partial success); not retried"
                    );
                }
                report_drops(shared).await;
                return Delivered::Sent;
            }
            Err(ExportError::Discarded) => {
                refused(shared, replay, count);
                return Delivered::Refused;
            }
            Err(ExportError::Permanent { reason }) => {
                refused(shared, replay, count);
                tracing::error!(destination = shared.name, records = count, error = %reason, "export failed permanently; dropping the batch");
                return Delivered::Refused;
            }
            Err(ExportError::Retryable { reason, after }) => {
                shared.budget.failing();
                shared
                    .stats
                    .failing
                    .store(1, std::sync::atomic::Ordering::Relaxed);
                let delay = after.unwrap_or_else(|| {
                    shared
                        .backoff
                        .lock()
                        .unwrap_or_else(|p| p.into_inner())
                        .next_delay(fastrand::f64())
                });
                {
                    let mut failing = shared.failing.lock().unwrap_or_else(|p| p.into_inner());
                    let (_, failures) = failing.get_or_insert((Instant::now(), 0));
                    *failures += 1;
                    if *failures == 1 {
                        tracing::warn!(destination = shared.name, error = %reason, "export failed; retrying");
                    } else {
                        tracing::debug!(destination = shared.name, error = %reason, retry_in = ?delay, "export failed again");
                    }
                }
                // Wait out the delay. A server's Retry-After is a promise we
                // keep: a shutdown deadline only shortens what is left, and
                // a retry that would come after it is given up. Our own
                // backoff gives way: another delivery succeeding means the
                // destination is back, so this one is retried at once; and
                // before a deadline it is retried at halving intervals
                // rather than given up while there is time.
                let promised = after.is_some();
                let mut retry_at = Instant::now() + delay;
                let mut shutdown = shutdown.clone();
                loop {
                    let deadline = *shutdown.borrow_and_update();
                    let give_up_at =
                        deadline.map_or(started + max_elapsed, |d| d.min(started + max_elapsed));
                    if retry_at > give_up_at {
                        let left = give_up_at.saturating_duration_since(Instant::now());
                        if promised || deadline.is_none() || left < LAST_TRY {
                            return out_of_time(shared, batch, &reason, replay);
                        }
                        retry_at = Instant::now() + left / 2;
                    }
                    let resumed = shared.resumed.notified();
                    tokio::select! {
                        () = tokio::time::sleep_until(retry_at.into()) => break,
                        () = resumed, if !promised => break,
                        changed = shutdown.changed() => {
                            if changed.is_err() {
                                // No deadline can come any more.
                                tokio::time::sleep_until(retry_at.into()).await;
                                break;
                            }
                        }
                    }
                }
                DestinationStats::add(&shared.stats.retries, 1);
            }
        }
    }
}

/// A batch the destination refused for good (or we did): counted as
/// failed, or as lost to replay when it came from the disk buffer.
fn refused(shared: &Shared, replay: bool, count: usize) {
    shared.budget.answered();
    let counter = if replay {
        &shared.stats.replay_lost
    } else {
        &shared.stats.failed
    };
    shared
        .stats
        .drop_records(counter, count, crate::record::now_unix_nano());
}

/// A batch whose next retry (or answer) would come too late: kept in the
/// disk buffer when there is one, left on disk when it came from there, else
/// counted as failed.
fn out_of_time(shared: &Shared, batch: &Batch, reason: &str, replay: bool) -> Delivered {
    let count = batch.records;
    if !replay
        && let Some(spill) = &shared.disk
        && spill.write_all(shared.name, batch.slices())
    {
        DestinationStats::add(&shared.stats.moved_to_disk, count);
        tracing::warn!(destination = shared.name, records = count, error = %reason, "export still failing; kept the batch in the disk buffer");
        return Delivered::ToDisk;
    }
    if replay {
        // The frame stays on disk and is tried again.
        return Delivered::OutOfTime;
    }
    shared
        .stats
        .drop_records(&shared.stats.failed, count, crate::record::now_unix_nano());
    tracing::error!(destination = shared.name, records = count, error = %reason, "export still failing and out of time; dropping the batch");
    Delivered::OutOfTime
}

/// After a successful delivery: if records were dropped since the last
/// notice, a record says how many and when, so the gap shows in the backend.
async fn report_drops(shared: &Shared) {
    let Some(drops) = shared.stats.take_drops() else {
        return;
    };
    let notice = (shared.notice)(shared.name, &drops);
    if let Err(e) = shared.exporter.export(std::slice::from_ref(&notice)).await {
        tracing::debug!(destination = shared.name, error = %e, "the dropped-records notice could not be sent");
    }
}
