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
    out: tokio::io::Stdout,
    buf: Vec<u8>,
}

impl ConsoleExporter {
    pub fn new() -> Self {
        ConsoleExporter {
            out: tokio::io::stdout(),
            buf: Vec::new(),
        }
    }

    pub async fn export(&mut self, records: &[Record]) -> Result<Accepted, ExportError> {
        self.buf.clear();
        for r in records {
            json::write_record(&mut self.buf, r);
            self.buf.push(b'\n');
        }
        let written = async {
            self.out.write_all(&self.buf).await?;
            self.out.flush().await
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
