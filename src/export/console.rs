//! The console exporter: one JSON object per record on logwrap's stdout.
//!
//! The default destination when none is configured, so `logwrap -- CMD` on a
//! bare machine shows what would be shipped. It takes the place of the raw
//! pass-through (which is turned off), so stdout carries only JSON lines.
//!
//! Writes go through tokio's stdout, which hands them to its blocking pool: a
//! slow reader of logwrap's stdout stalls this exporter, never the signal
//! thread or the readers.
//!
//! When stdout's reader goes away (`logwrap -- yes | head -1`), the first
//! write meets EPIPE: one warning, the fact is handed to the readers
//! ([`crate::read::mark_output_closed`]), which close the child's stdout so
//! it gets SIGPIPE as it would without logwrap, and every batch from then on
//! is discarded without a word each ([`ExportError::Discarded`]; counted,
//! and reported once at exit). Before, each batch logged an error: tens of
//! thousands of lines (issue 13).

use tokio::io::AsyncWriteExt;

use super::{Accepted, ExportError};
use crate::export::json;
use crate::record::Record;

pub struct ConsoleExporter {
    out: tokio::sync::Mutex<tokio::io::Stdout>,
}

impl ConsoleExporter {
    pub fn new() -> Self {
        ConsoleExporter {
            out: tokio::sync::Mutex::new(tokio::io::stdout()),
        }
    }

    pub async fn export(&self, records: &[Record]) -> Result<Accepted, ExportError> {
        if crate::read::output_closed(STDOUT) {
            return Err(ExportError::Discarded);
        }
        let mut buf = Vec::with_capacity(records.len() * 200);
        for r in records {
            json::write_record(&mut buf, r);
            buf.push(b'\n');
        }
        let mut out = self.out.lock().await;
        let written = async {
            out.write_all(&buf).await?;
            out.flush().await
        };
        match written.await {
            Ok(()) => Ok(Accepted::default()),
            Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => {
                crate::read::mark_output_closed(STDOUT);
                tracing::warn!(
                    destination = "console",
                    "stdout is closed (its reader went away); records are discarded from now on, and the child's stdout is closed too, as it would be without logwrap"
                );
                Err(ExportError::Discarded)
            }
            Err(e) => Err(ExportError::Permanent {
                reason: format!("cannot write to stdout: {e}"),
            }),
        }
    }
}

/// logwrap's stdout.
const STDOUT: std::os::fd::RawFd = 1;

impl Default for ConsoleExporter {
    fn default() -> Self {
        Self::new()
    }
}
