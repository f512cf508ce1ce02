//! The console exporter: one JSON object per record on logwrap's stdout.
//!
//! The default destination when none is configured, so `logwrap -- CMD` on a
//! bare machine shows what would be shipped. It takes the place of the raw
//! pass-through (which is turned off), so stdout carries only JSON lines.
//!
//! Writes go through tokio's stdout, which hands them to its blocking pool: a
//! slow reader of logwrap's stdout stalls this exporter, never the signal
//! thread or the readers.

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
        written.await.map_err(|e| ExportError::Permanent {
            reason: format!("cannot write to stdout: {e}"),
        })?;
        Ok(Accepted::default())
    }
}

impl Default for ConsoleExporter {
    fn default() -> Self {
        Self::new()
    }
}
