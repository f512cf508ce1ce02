//! The disk buffer: records that do not fit in memory (or all records, with
//! `--buffer-disk-all`) kept in append-only segment files until delivered.
//!
//! ```text
//!  <dir>/<destination>/segment-00000000000000000001.log   sealed, oldest: read first
//!                      segment-00000000000000000002.log   being written
//!  frame = len:u32 LE │ crc32(payload):u32 LE │ payload (an OTLP ExportLogsServiceRequest)
//! ```
//!
//! The payload is the standard OTLP protobuf request (resource included), so a
//! segment is readable by any OTLP tool, and records of an earlier run go out
//! with that run's resource. Segments roll at 8 MiB. A segment is deleted
//! once every frame in it was delivered; a run that ends earlier leaves it to
//! be sent again by the next one, whole (at-least-once: a record can arrive
//! twice, never zero times).
//!
//! Durability: every frame is written with one `write(2)` before the push
//! returns, so whatever logwrap wrote survives its own crash or `kill -9`
//! (the kernel holds it). Against power loss, the active segment is
//! `fsync`ed at most once a second while it is written, and when it is
//! sealed; so a machine crash can cost the last second of spilled records.
//!
//! Faults never stop the agent: a frame whose checksum fails, or a segment
//! cut short, ends that segment (what follows in it is skipped, and the
//! segment counted);
//! a write that fails (disk full) or would pass `--buffer-disk-max-bytes`
//! is refused, and the caller falls back to the memory policy with a warning.

use std::collections::VecDeque;
use std::fs::{self, File, OpenOptions};
use std::io::{self, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Segments roll at this size.
const SEGMENT_BYTES: u64 = 8 * 1024 * 1024;
/// Frame header: length and checksum.
const HEADER: usize = 8;
/// A frame larger than this is corrupt (no push is this big).
const MAX_FRAME: usize = 64 * 1024 * 1024;
/// Longest time a written frame stays un-synced.
const SYNC_EVERY: Duration = Duration::from_secs(1);
/// After a write fails, how long writes are refused before the next try.
const RETRY_WRITE_AFTER: Duration = Duration::from_secs(1);

/// Why a frame was not written.
#[derive(Debug, thiserror::Error)]
pub enum SpillError {
    #[error("the disk buffer is full ({max} bytes, --buffer-disk-max-bytes)")]
    Full { max: u64 },
    #[error("cannot write the disk buffer {path}: {source}")]
    Io { path: PathBuf, source: io::Error },
    #[error("the disk buffer is not writable (the last write failed); trying again shortly")]
    Resting,
}

/// A frame read back, and whether it completes its segment.
pub struct Frame {
    pub payload: Vec<u8>,
    segment: u64,
    last_in_segment: bool,
}

struct Writer {
    seq: u64,
    file: File,
    bytes: u64,
    synced: Instant,
    dirty: bool,
}

struct Reader {
    seq: u64,
    file: BufReader<File>,
}

struct State {
    /// Sequence numbers of segments on disk, oldest first (the writer's last).
    segments: VecDeque<u64>,
    total_bytes: u64,
    writer: Option<Writer>,
    reader: Option<Reader>,
    next_seq: u64,
    /// Segments (partly) skipped because they were corrupt or cut short.
    corrupt_segments: u64,
    /// After a failed write (disk full), writes are refused without trying
    /// until then: a full disk costs no syscalls per record.
    refuse_until: Option<Instant>,
}

/// One destination's disk buffer.
pub struct DiskBuffer {
    dir: PathBuf,
    max_bytes: u64,
    state: Mutex<State>,
}

fn segment_name(seq: u64) -> String {
    format!("segment-{seq:020}.log")
}

impl DiskBuffer {
    /// Opens (creating) the directory and finds what earlier runs left.
    pub fn open(dir: &Path, max_bytes: u64) -> io::Result<Self> {
        fs::create_dir_all(dir)?;
        let mut segments = Vec::new();
        let mut total_bytes = 0;
        for entry in fs::read_dir(dir)?.flatten() {
            let name = entry.file_name();
            let Some(seq) = name
                .to_str()
                .and_then(|n| n.strip_prefix("segment-"))
                .and_then(|n| n.strip_suffix(".log"))
                .and_then(|n| n.parse::<u64>().ok())
            else {
                continue;
            };
            total_bytes += entry.metadata().map(|m| m.len()).unwrap_or(0);
            segments.push(seq);
        }
        segments.sort_unstable();
        let next_seq = segments.last().map_or(1, |s| s + 1);
        if !segments.is_empty() {
            tracing::info!(dir = %dir.display(), segments = segments.len(), bytes = total_bytes, "the disk buffer holds records of an earlier run; sending them first");
        }
        Ok(DiskBuffer {
            dir: dir.to_path_buf(),
            max_bytes,
            state: Mutex::new(State {
                segments: segments.into(),
                total_bytes,
                writer: None,
                reader: None,
                next_seq,
                corrupt_segments: 0,
                refuse_until: None,
            }),
        })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn path(&self, seq: u64) -> PathBuf {
        self.dir.join(segment_name(seq))
    }

    /// Appends one frame.
    pub fn append(&self, payload: &[u8]) -> Result<(), SpillError> {
        let mut state = self.lock();
        let frame_len = (HEADER + payload.len()) as u64;
        if state.total_bytes + frame_len > self.max_bytes {
            return Err(SpillError::Full {
                max: self.max_bytes,
            });
        }
        if state.refuse_until.is_some_and(|t| Instant::now() < t) {
            return Err(SpillError::Resting);
        }
        if state
            .writer
            .as_ref()
            .is_some_and(|w| w.bytes + frame_len > SEGMENT_BYTES && w.bytes > 0)
        {
            seal(&mut state);
        }
        if state.writer.is_none() {
            let seq = state.next_seq;
            let path = self.path(seq);
            let file = match OpenOptions::new().create(true).append(true).open(&path) {
                Ok(file) => file,
                Err(source) => {
                    state.refuse_until = Some(Instant::now() + RETRY_WRITE_AFTER);
                    return Err(SpillError::Io { path, source });
                }
            };
            state.next_seq += 1;
            state.segments.push_back(seq);
            state.writer = Some(Writer {
                seq,
                file,
                bytes: 0,
                synced: Instant::now(),
                dirty: false,
            });
        }
        let mut frame = Vec::with_capacity(HEADER + payload.len());
        frame.extend_from_slice(&(payload.len() as u32).to_le_bytes());
        frame.extend_from_slice(&crc32fast::hash(payload).to_le_bytes());
        frame.extend_from_slice(payload);
        let path = self.path(state.writer.as_ref().expect("opened above").seq);
        let writer = state.writer.as_mut().expect("opened above");
        if let Err(source) = writer.file.write_all(&frame) {
            // Cut off the part of the frame that was written, so the segment
            // stays whole; a segment left empty goes. (If even that fails,
            // the reader skips the torn frame by its checksum.)
            let _ = writer.file.set_len(writer.bytes);
            let (seq, empty) = (writer.seq, writer.bytes == 0);
            seal(&mut state);
            if empty {
                let _ = fs::remove_file(&path);
                state.segments.retain(|&s| s != seq);
            }
            state.refuse_until = Some(Instant::now() + RETRY_WRITE_AFTER);
            return Err(SpillError::Io { path, source });
        }
        state.refuse_until = None;
        let writer = state.writer.as_mut().expect("opened above");
        writer.bytes += frame_len;
        writer.dirty = true;
        if writer.synced.elapsed() >= SYNC_EVERY {
            let _ = writer.file.sync_data();
            writer.synced = Instant::now();
            writer.dirty = false;
        }
        state.total_bytes += frame_len;
        Ok(())
    }

    /// True when nothing is waiting on disk.
    pub fn is_empty(&self) -> bool {
        self.lock().segments.is_empty()
    }

    /// Bytes on disk, delivered frames of a segment still being read included.
    pub fn bytes(&self) -> u64 {
        self.lock().total_bytes
    }

    /// Segments skipped (from a bad frame on) as corrupt so far.
    pub fn corrupt_segments(&self) -> u64 {
        self.lock().corrupt_segments
    }

    /// The oldest undelivered frame. The segment being written is sealed
    /// first when it is the only one left, so it can be read.
    pub fn next(&self) -> Option<Frame> {
        let mut state = self.lock();
        loop {
            if state.reader.is_none() {
                let &seq = state.segments.front()?;
                if state.writer.as_ref().is_some_and(|w| w.seq == seq) {
                    seal(&mut state);
                }
                match File::open(self.path(seq)) {
                    Ok(file) => {
                        state.reader = Some(Reader {
                            seq,
                            file: BufReader::new(file),
                        })
                    }
                    Err(e) => {
                        tracing::warn!(segment = seq, error = %e, "cannot open a disk buffer segment; skipping it");
                        self.remove(&mut state, seq);
                        continue;
                    }
                }
            }
            let reader = state.reader.as_mut().expect("opened above");
            let seq = reader.seq;
            match read_frame(&mut reader.file) {
                Ok(Some(payload)) => {
                    let last = matches!(reader.file.fill_buf_is_empty(), Ok(true));
                    return Some(Frame {
                        payload,
                        segment: seq,
                        last_in_segment: last,
                    });
                }
                Ok(None) => {
                    // A clean end: every frame of it was handed out before.
                    state.reader = None;
                    self.remove(&mut state, seq);
                }
                Err(why) => {
                    state.corrupt_segments += 1;
                    tracing::warn!(
                        segment = seq,
                        why,
                        "a disk buffer segment is corrupt or cut short; skipping the rest of it"
                    );
                    state.reader = None;
                    self.remove(&mut state, seq);
                }
            }
        }
    }

    /// The frame was delivered: a segment whose last frame it was is deleted.
    pub fn delivered(&self, frame: &Frame) {
        if frame.last_in_segment {
            let mut state = self.lock();
            if state
                .reader
                .as_ref()
                .is_some_and(|r| r.seq == frame.segment)
            {
                state.reader = None;
            }
            self.remove(&mut state, frame.segment);
        }
    }

    fn remove(&self, state: &mut State, seq: u64) {
        let path = self.path(seq);
        let len = fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
        let _ = fs::remove_file(&path);
        state.segments.retain(|&s| s != seq);
        state.total_bytes = state.total_bytes.saturating_sub(len);
    }

    /// Syncs what was written (at shutdown).
    pub fn sync(&self) {
        let mut state = self.lock();
        if let Some(w) = state.writer.as_mut()
            && w.dirty
        {
            let _ = w.file.sync_data();
            w.dirty = false;
        }
    }
}

/// Closes the segment being written (synced), so it can be read.
fn seal(state: &mut State) {
    if let Some(w) = state.writer.take()
        && w.dirty
    {
        let _ = w.file.sync_data();
    }
}

/// One frame: `Ok(None)` at a clean end of the segment.
fn read_frame(file: &mut BufReader<File>) -> Result<Option<Vec<u8>>, &'static str> {
    let mut header = [0u8; HEADER];
    match read_full(file, &mut header) {
        Ok(0) => return Ok(None),
        Ok(n) if n < HEADER => return Err("the segment ends inside a frame header"),
        Ok(_) => {}
        Err(_) => return Err("the segment cannot be read"),
    }
    let len = u32::from_le_bytes(header[..4].try_into().expect("4 bytes")) as usize;
    let crc = u32::from_le_bytes(header[4..].try_into().expect("4 bytes"));
    if len > MAX_FRAME {
        return Err("a frame length is impossible");
    }
    let mut payload = vec![0u8; len];
    match read_full(file, &mut payload) {
        Ok(n) if n == len => {}
        _ => return Err("the segment ends inside a frame"),
    }
    if crc32fast::hash(&payload) != crc {
        return Err("a frame's checksum does not match");
    }
    Ok(Some(payload))
}

fn read_full(file: &mut impl Read, buf: &mut [u8]) -> io::Result<usize> {
    let mut filled = 0;
    while filled < buf.len() {
        match file.read(&mut buf[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(filled)
}

trait FillBufIsEmpty {
    fn fill_buf_is_empty(&mut self) -> io::Result<bool>;
}

impl FillBufIsEmpty for BufReader<File> {
    fn fill_buf_is_empty(&mut self) -> io::Result<bool> {
        use std::io::BufRead;
        Ok(self.fill_buf()?.is_empty())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn drain(disk: &DiskBuffer) -> Vec<Vec<u8>> {
        let mut out = Vec::new();
        while let Some(frame) = disk.next() {
            out.push(frame.payload.clone());
            disk.delivered(&frame);
        }
        out
    }

    #[test]
    fn frames_come_back_in_order_and_segments_are_deleted() {
        let dir = tempfile::tempdir().unwrap();
        let disk = DiskBuffer::open(dir.path(), 1 << 30).unwrap();
        for i in 0..5u8 {
            disk.append(&[i; 100]).unwrap();
        }
        assert!(!disk.is_empty());
        let frames = drain(&disk);
        assert_eq!(frames.len(), 5);
        assert_eq!(frames[3], vec![3u8; 100]);
        assert!(disk.is_empty());
        assert_eq!(
            fs::read_dir(dir.path()).unwrap().count(),
            0,
            "delivered segments are deleted"
        );
    }

    #[test]
    fn an_earlier_runs_segments_are_found() {
        let dir = tempfile::tempdir().unwrap();
        {
            let disk = DiskBuffer::open(dir.path(), 1 << 30).unwrap();
            disk.append(b"left behind").unwrap();
            disk.append(b"also").unwrap();
            // Read one frame but never confirm delivery: the whole segment stays.
            let _ = disk.next().unwrap();
        }
        let disk = DiskBuffer::open(dir.path(), 1 << 30).unwrap();
        disk.append(b"new run").unwrap();
        assert_eq!(
            drain(&disk),
            [
                b"left behind".to_vec(),
                b"also".to_vec(),
                b"new run".to_vec()
            ]
        );
    }

    #[test]
    fn a_corrupt_or_truncated_segment_is_skipped_and_counted() {
        let dir = tempfile::tempdir().unwrap();
        {
            let disk = DiskBuffer::open(dir.path(), 1 << 30).unwrap();
            disk.append(b"good one").unwrap();
            disk.append(b"will be damaged").unwrap();
        }
        let path = dir.path().join(segment_name(1));
        let mut bytes = fs::read(&path).unwrap();
        let last = bytes.len() - 3;
        bytes[last] ^= 0xff; // flip a payload byte of the second frame
        fs::write(&path, &bytes).unwrap();
        // A second segment, cut short inside its header.
        fs::write(dir.path().join(segment_name(2)), [1, 0]).unwrap();
        // A third, fine.
        let disk = DiskBuffer::open(dir.path(), 1 << 30).unwrap();
        disk.append(b"after").unwrap();
        assert_eq!(drain(&disk), [b"good one".to_vec(), b"after".to_vec()]);
        assert_eq!(disk.corrupt_segments(), 2);
    }

    #[test]
    fn the_size_cap_refuses_writes() {
        let dir = tempfile::tempdir().unwrap();
        let disk = DiskBuffer::open(dir.path(), 250).unwrap();
        disk.append(&[0; 100]).unwrap();
        disk.append(&[0; 100]).unwrap();
        assert!(matches!(
            disk.append(&[0; 100]),
            Err(SpillError::Full { .. })
        ));
        drain(&disk);
        disk.append(&[0; 100]).unwrap();
    }
}
