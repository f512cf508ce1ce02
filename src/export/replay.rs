//! The disk buffer's side of a destination: frames read back (several per
//! request, grouped by the resource that wrote them) and delivered before
//! new batches; an earlier run's frames go out with that run's resource.

use std::sync::{Arc, Mutex};

use bytes::Bytes;

use super::deliver::{Delivered, deliver};
use super::otlp_proto::{self, RequestEncoder};
use super::retry::Backoff;
use super::{Exporter, ExporterConfig, Shared, ShutdownSignal, Spill};
use crate::batch::{Batch, BatchConfig};
use crate::buffer::disk::Frame;
use crate::record::Attributes;

/// Sends disk frames, several per request, with an exporter for the
/// resource that wrote them.
pub(super) struct Replayer {
    config: ExporterConfig,
    /// This run's `Resource` message, as its frames carry it.
    resource: Bytes,
    batch: BatchConfig,
    /// Exporter for frames of an earlier run (another resource).
    other: Option<(Bytes, Arc<Shared>)>,
    /// Frames that ran out of retry time: sent again before the next ones,
    /// since the disk buffer is there to outlast any outage.
    pending: Vec<Frame>,
}

impl Replayer {
    pub(super) fn new(config: ExporterConfig, resource: Attributes, batch: BatchConfig) -> Self {
        let encoder = RequestEncoder::new(&resource, "", "");
        Replayer {
            config,
            resource: Bytes::copy_from_slice(encoder.resource()),
            batch,
            other: None,
            pending: Vec::new(),
        }
    }

    /// Frames wait: read and not yet delivered, or not read yet.
    pub(super) fn has_work(&self, spill: &Spill) -> bool {
        !self.pending.is_empty() || spill.disk.has_unread()
    }

    /// Sends the oldest frames of one resource as one batch; false when
    /// none was left or they could not be sent before the shutdown deadline.
    pub(super) async fn replay_some(
        &mut self,
        shared: &Arc<Shared>,
        spill: &Spill,
        shutdown: &ShutdownSignal,
    ) -> bool {
        let mut frames = std::mem::take(&mut self.pending);
        if frames.is_empty() {
            let disk = spill.disk.clone();
            let max_bytes = self.batch.max_bytes;
            match tokio::task::spawn_blocking(move || disk.next_frames(max_bytes)).await {
                Ok(read) if !read.is_empty() => frames = read,
                _ => return false,
            }
        }
        // Frames of one resource make one batch, within the batch limits;
        // the rest wait for the next call.
        let mut batch = Batch::default();
        let mut resource = None;
        let mut taken = 0;
        for frame in &frames {
            let read = match otlp_proto::read_request(&frame.payload) {
                Ok(read) => read,
                Err(e) if taken == 0 => {
                    tracing::warn!(destination = shared.name, error = %e, "a disk buffer frame is not an OTLP request we wrote; skipping it");
                    taken = 1;
                    break;
                }
                Err(_) => break,
            };
            let fits = taken == 0
                || (batch.records + read.chunk.records <= self.batch.max_records
                    && batch.bytes + read.chunk.bytes.len() <= self.batch.max_bytes);
            if !fits || resource.as_ref().is_some_and(|r| *r != read.resource) {
                break;
            }
            resource.get_or_insert(read.resource);
            batch.records += read.chunk.records;
            batch.bytes += read.chunk.bytes.len();
            batch.chunks.push(read.chunk);
            taken += 1;
        }
        if batch.is_empty() {
            // Only an unreadable frame (or frames without records): skip it.
            let rest = frames.split_off(taken);
            if let Some(last) = frames.last() {
                spill.disk.delivered(last);
            }
            self.pending = rest;
            return true;
        }
        let rest = frames.split_off(taken);
        let resource = resource.unwrap_or_default();
        let via = if resource == self.resource {
            shared.clone()
        } else {
            self.for_resource(shared, resource)
        };
        let sent = match deliver(&via, &batch, shutdown, true).await {
            Delivered::Sent | Delivered::Refused => true,
            // At shutdown the frames stay on disk for the next run.
            Delivered::OutOfTime if shutdown.borrow().is_some() => return false,
            Delivered::OutOfTime | Delivered::ToDisk => false,
        };
        if sent {
            if let Some(last) = frames.last() {
                spill.disk.delivered(last);
            }
            self.pending = rest;
        } else {
            frames.extend(rest);
            self.pending = frames;
        }
        true
    }

    fn for_resource(&mut self, shared: &Arc<Shared>, resource: Bytes) -> Arc<Shared> {
        if let Some((r, s)) = &self.other
            && *r == resource
        {
            return s.clone();
        }
        let attributes = match otlp_proto::resource_attributes(&resource) {
            Ok(a) => a,
            Err(e) => {
                tracing::warn!(destination = shared.name, error = %e, "an earlier run's resource cannot be read; sending its records with this run's resource");
                return shared.clone();
            }
        };
        match Exporter::new(&self.config, &attributes) {
            Ok(exporter) => {
                let s = Arc::new(Shared {
                    name: shared.name,
                    exporter,
                    stats: shared.stats.clone(),
                    budget: shared.budget.clone(),
                    backoff: Mutex::new(Backoff::new(
                        shared
                            .backoff
                            .lock()
                            .unwrap_or_else(|p| p.into_inner())
                            .config(),
                    )),
                    failing: Mutex::new(None),
                    resumed: tokio::sync::Notify::new(),
                    disk: None,
                    notice: shared.notice,
                });
                self.other = Some((resource, s.clone()));
                s
            }
            Err(e) => {
                tracing::warn!(destination = shared.name, error = %e, "cannot rebuild the exporter for an earlier run's records; sending them with this run's resource");
                shared.clone()
            }
        }
    }
}
