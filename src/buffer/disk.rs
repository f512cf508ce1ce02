//! The disk buffer: records kept in append-only segment files until
//! delivered. With `--buffer-dir`, every record goes through it (what logwrap
//! read survives logwrap); with `--buffer-disk-mode overflow`, only what does
//! not fit in memory and batches out of retry time.
//!
//! ```text
//!  <dir>/<destination>/segment-00000000000000000001.log   sealed, oldest: read first
//!                      segment-00000000000000000002.log   being written (and read behind the writer)
//!                      delivered                          "segment offset": everything before it was delivered
//!  frame = len:u32 LE │ crc32(payload):u32 LE │ payload (an OTLP ExportLogsServiceRequest)
//! ```
//!
//! The payload is the standard OTLP protobuf request (resource included), so a
//! segment is readable by any OTLP tool, and records of an earlier run go out
//! with that run's resource. Segments roll at 8 MiB. The reader follows the
//! writer inside the segment being written; a segment is deleted once every
//! frame in it was delivered. The position up to which frames were delivered
//! is written to `delivered` after every delivery, so a later run resumes
//! there: at-least-once, a record can arrive twice (if logwrap dies between a
//! delivery and that write, or the machine loses power before the position
//! reaches the disk), never zero times.
//!
//! Durability: every frame is written with one `write(2)` before the push
//! returns, so whatever logwrap wrote survives its own crash or `kill -9`
//! (the kernel holds it). Against power loss, the active segment is
//! `fsync`ed at most once a second while it is written, and when it is
//! sealed; so a machine crash can cost the last second of records.
//!
//! Faults never stop the agent: a frame whose checksum fails, or a segment
//! cut short, ends that segment (what follows in it is skipped, and the
//! segment counted); a write that fails (disk full) or would pass
//! `--buffer-disk-max-bytes` is refused, and the caller falls back to the
//! memory queue and its policy, with a warning.

use std::collections::VecDeque;
use std::fs::{self, File, OpenOptions};
use std::io::{self, BufReader, Read, Seek, SeekFrom, Write};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use bytes::Bytes;

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
/// The file holding the delivered position.
const DELIVERED: &str = "delivered";

/// The disk buffer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DiskConfig {
    /// Where segments go; `None`: no disk buffer.
    pub dir: Option<PathBuf>,
    /// Bytes of segments per destination at most. Default 1 GiB.
    pub max_bytes: u64,
    /// Every record through disk (the default), not only the overflow.
    pub all: bool,
}

/// What goes through the disk buffer.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum DiskMode {
    /// Every record, before it is sent: a crash of logwrap loses nothing it read.
    #[default]
    All,
    /// Only what does not fit in memory, and batches out of retry time.
    Overflow,
}

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

/// A frame read back, and where it ends.
#[derive(Debug, Clone)]
pub struct Frame {
    pub payload: Bytes,
    segment: u64,
    /// Offset just past this frame in its segment.
    end: u64,
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

/// A place in the buffer: a segment and an offset in it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
struct Position {
    segment: u64,
    offset: u64,
}

struct State {
    /// Segments on disk, oldest first (the writer's last), with their size.
    segments: VecDeque<(u64, u64)>,
    total_bytes: u64,
    writer: Option<Writer>,
    reader: Option<Reader>,
    /// The next frame to hand out.
    read: Position,
    /// Everything before this was delivered.
    delivered: Position,
    /// Where `delivered` is kept (opened on the first delivery).
    delivered_file: Option<File>,
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
            segments.push((seq, entry.metadata().map(|m| m.len()).unwrap_or(0)));
        }
        segments.sort_unstable();
        let next_seq = segments.last().map_or(1, |s| s.0 + 1);
        let first = Position {
            segment: segments.first().map_or(next_seq, |s| s.0),
            offset: 0,
        };
        let delivered = read_delivered(&dir.join(DELIVERED))
            .filter(|p| segments.iter().any(|s| s.0 == p.segment))
            .unwrap_or(first);
        let buffer = DiskBuffer {
            dir: dir.to_path_buf(),
            max_bytes,
            state: Mutex::new(State {
                total_bytes: segments.iter().map(|s| s.1).sum(),
                segments: segments.into(),
                writer: None,
                reader: None,
                read: delivered,
                delivered,
                delivered_file: None,
                next_seq,
                corrupt_segments: 0,
                refuse_until: None,
            }),
        };
        let mut state = buffer.lock();
        buffer.collect(&mut state);
        if buffer.undelivered(&state) {
            tracing::info!(dir = %dir.display(), segments = state.segments.len(), bytes = state.total_bytes, "the disk buffer holds records of an earlier run; sending them first");
        }
        drop(state);
        Ok(buffer)
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
        if state.total_bytes + frame_len > self.max_bytes
            && let Some(w) = &state.writer
            && state.delivered
                >= (Position {
                    segment: w.seq,
                    offset: w.bytes,
                })
        {
            // The segment being written was all delivered: start afresh
            // rather than count it against the cap until it rolls.
            seal(&mut state);
            self.collect(&mut state);
        }
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
            self.collect(&mut state);
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
            state.segments.push_back((seq, 0));
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
                state.segments.retain(|s| s.0 != seq);
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
        let (seq, bytes) = (writer.seq, writer.bytes);
        if let Some(last) = state.segments.back_mut()
            && last.0 == seq
        {
            last.1 = bytes;
        }
        state.total_bytes += frame_len;
        Ok(())
    }

    /// True when frames wait that were not handed out yet.
    pub fn has_unread(&self) -> bool {
        let state = self.lock();
        state.segments.iter().any(|&(seq, size)| {
            Position {
                segment: seq,
                offset: size,
            } > state.read
                && size > 0
        })
    }

    /// True when records on disk were not delivered yet.
    pub fn has_undelivered(&self) -> bool {
        let state = self.lock();
        self.undelivered(&state)
    }

    fn undelivered(&self, state: &State) -> bool {
        state.segments.iter().any(|&(seq, size)| {
            Position {
                segment: seq,
                offset: size,
            } > state.delivered
                && size > 0
        })
    }

    /// Bytes on disk, delivered frames of a segment still being read included.
    pub fn bytes(&self) -> u64 {
        self.lock().total_bytes
    }

    /// Segments skipped (from a bad frame on) as corrupt so far.
    pub fn corrupt_segments(&self) -> u64 {
        self.lock().corrupt_segments
    }

    /// The oldest frames not handed out yet, about `max_bytes` of them (at
    /// least one, if there is one), following the writer into the segment it
    /// is writing.
    pub fn next_frames(&self, max_bytes: usize) -> Vec<Frame> {
        let mut state = self.lock();
        let mut frames = Vec::new();
        let mut bytes = 0;
        while bytes < max_bytes {
            // The segment to read: the read position's, or the next one on disk.
            let Some(&(seq, size)) = state.segments.iter().find(|s| s.0 >= state.read.segment)
            else {
                break;
            };
            if seq != state.read.segment {
                state.read = Position {
                    segment: seq,
                    offset: 0,
                };
            }
            if state.read.offset >= size {
                if state.writer.as_ref().is_some_and(|w| w.seq == seq) {
                    break; // caught up with the writer
                }
                state.read = Position {
                    segment: seq + 1,
                    offset: 0,
                };
                continue;
            }
            if state.reader.as_ref().is_none_or(|r| r.seq != seq) {
                let opened = File::open(self.path(seq)).and_then(|mut file| {
                    file.seek(SeekFrom::Start(state.read.offset))?;
                    Ok(file)
                });
                match opened {
                    Ok(file) => {
                        state.reader = Some(Reader {
                            seq,
                            file: BufReader::with_capacity(256 * 1024, file),
                        })
                    }
                    Err(e) => {
                        tracing::warn!(segment = seq, error = %e, "cannot open a disk buffer segment; skipping it");
                        self.skip_segment(&mut state, seq);
                        continue;
                    }
                }
            }
            let reader = state.reader.as_mut().expect("opened above");
            match read_frame(&mut reader.file) {
                Ok(Some(payload)) => {
                    let end = state.read.offset + (HEADER + payload.len()) as u64;
                    bytes += payload.len();
                    state.read.offset = end;
                    frames.push(Frame {
                        payload: Bytes::from(payload),
                        segment: seq,
                        end,
                    });
                }
                Ok(None) => {
                    // The file ends before the size we knew: it shrank under us.
                    state.corrupt_segments += 1;
                    tracing::warn!(
                        segment = seq,
                        "a disk buffer segment is shorter than it was; skipping the rest of it"
                    );
                    self.skip_segment(&mut state, seq);
                }
                Err(why) => {
                    state.corrupt_segments += 1;
                    tracing::warn!(
                        segment = seq,
                        why,
                        "a disk buffer segment is corrupt or cut short; skipping the rest of it"
                    );
                    self.skip_segment(&mut state, seq);
                }
            }
        }
        frames
    }

    /// Gives up on the rest of a segment: reading goes on after it, and it is
    /// deleted once what was handed out of it is delivered.
    fn skip_segment(&self, state: &mut State, seq: u64) {
        state.reader = None;
        if state.writer.as_ref().is_some_and(|w| w.seq == seq) {
            seal(state);
        }
        if let Some(s) = state.segments.iter_mut().find(|s| s.0 == seq) {
            // What follows the read position does not count as waiting.
            s.1 = state.read.offset;
        }
        state.read = Position {
            segment: seq + 1,
            offset: 0,
        };
        self.collect(state);
    }

    /// This frame, and every frame handed out before it, was delivered.
    pub fn delivered(&self, frame: &Frame) {
        let mut state = self.lock();
        let position = Position {
            segment: frame.segment,
            offset: frame.end,
        };
        if position <= state.delivered {
            return;
        }
        state.delivered = position;
        self.collect(&mut state);
        if state.delivered_file.is_none() {
            state.delivered_file = OpenOptions::new()
                .create(true)
                .truncate(false)
                .write(true)
                .open(self.dir.join(DELIVERED))
                .ok();
        }
        if let Some(file) = &state.delivered_file {
            // Fixed width, written in place: one small write per delivery.
            let line = format!("{:020} {:020}\n", position.segment, position.offset);
            let _ = file.write_all_at(line.as_bytes(), 0);
        }
    }

    /// Deletes the segments whose every frame was delivered (never the one
    /// being written).
    fn collect(&self, state: &mut State) {
        let writer = state.writer.as_ref().map(|w| w.seq);
        let delivered = state.delivered;
        let done: Vec<(u64, u64)> = state
            .segments
            .iter()
            .copied()
            .filter(|&(seq, size)| {
                Some(seq) != writer
                    && (seq < delivered.segment
                        || (seq == delivered.segment && delivered.offset >= size))
            })
            .collect();
        for (seq, _) in done {
            let path = self.path(seq);
            let len = fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
            let _ = fs::remove_file(&path);
            state.segments.retain(|s| s.0 != seq);
            state.total_bytes = state.total_bytes.saturating_sub(len);
            if state.reader.as_ref().is_some_and(|r| r.seq == seq) {
                state.reader = None;
            }
        }
    }

    /// At the end of a run: seals the segment being written, deletes what
    /// was all delivered, and syncs the rest and the delivered position (an
    /// empty buffer leaves an empty directory).
    pub fn finish(&self) {
        let mut state = self.lock();
        seal(&mut state);
        self.collect(&mut state);
        if state.segments.is_empty() {
            state.delivered_file = None;
            let _ = fs::remove_file(self.dir.join(DELIVERED));
        } else if let Some(file) = &state.delivered_file {
            let _ = file.sync_data();
        }
    }
}

/// Closes the segment being written (synced).
fn seal(state: &mut State) {
    if let Some(w) = state.writer.take()
        && w.dirty
    {
        let _ = w.file.sync_data();
    }
}

/// The delivered position a run left, if it is readable.
fn read_delivered(path: &Path) -> Option<Position> {
    let text = fs::read_to_string(path).ok()?;
    let mut fields = text.split_whitespace().map(|f| f.parse::<u64>().ok());
    Some(Position {
        segment: fields.next()??,
        offset: fields.next()??,
    })
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

#[cfg(test)]
mod tests {
    use super::*;

    fn drain(disk: &DiskBuffer) -> Vec<Vec<u8>> {
        let mut out = Vec::new();
        loop {
            let frames = disk.next_frames(1);
            let Some(last) = frames.last() else {
                break;
            };
            disk.delivered(last);
            out.extend(frames.iter().map(|f| f.payload.to_vec()));
        }
        out
    }

    fn segments(dir: &Path) -> usize {
        fs::read_dir(dir)
            .unwrap()
            .filter(|e| e.as_ref().unwrap().file_name() != DELIVERED)
            .count()
    }

    #[test]
    fn frames_come_back_in_order_and_delivered_segments_go() {
        let dir = tempfile::tempdir().unwrap();
        let disk = DiskBuffer::open(dir.path(), 1 << 30).unwrap();
        for i in 0..5u8 {
            disk.append(&[i; 100]).unwrap();
        }
        assert!(disk.has_unread() && disk.has_undelivered());
        let frames = drain(&disk);
        assert_eq!(frames.len(), 5);
        assert_eq!(frames[3], vec![3u8; 100]);
        assert!(!disk.has_unread() && !disk.has_undelivered());
        // The reader follows the writer without sealing its segment.
        disk.append(b"more").unwrap();
        assert_eq!(drain(&disk), [b"more".to_vec()]);
        assert_eq!(segments(dir.path()), 1, "the segment being written stays");
        disk.finish();
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 0);
        drop(disk);
        // Everything was delivered: a new run finds nothing to send.
        let disk = DiskBuffer::open(dir.path(), 1 << 30).unwrap();
        assert!(!disk.has_undelivered());
        assert!(drain(&disk).is_empty());
    }

    #[test]
    fn several_frames_come_at_once_up_to_the_byte_budget() {
        let dir = tempfile::tempdir().unwrap();
        let disk = DiskBuffer::open(dir.path(), 1 << 30).unwrap();
        for i in 0..10u8 {
            disk.append(&[i; 100]).unwrap();
        }
        assert_eq!(disk.next_frames(350).len(), 4);
        assert_eq!(disk.next_frames(usize::MAX).len(), 6);
        assert!(disk.next_frames(usize::MAX).is_empty());
    }

    #[test]
    fn a_later_run_resumes_after_what_was_delivered() {
        let dir = tempfile::tempdir().unwrap();
        {
            let disk = DiskBuffer::open(dir.path(), 1 << 30).unwrap();
            disk.append(b"sent").unwrap();
            disk.append(b"left behind").unwrap();
            disk.append(b"also").unwrap();
            let frames = disk.next_frames(usize::MAX);
            // Only the first was confirmed: the others come again.
            disk.delivered(&frames[0]);
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
    fn segments_roll_and_go_once_delivered() {
        let dir = tempfile::tempdir().unwrap();
        let disk = DiskBuffer::open(dir.path(), 1 << 30).unwrap();
        let frame = vec![7u8; 1 << 20];
        for _ in 0..20 {
            disk.append(&frame).unwrap();
        }
        assert!(segments(dir.path()) >= 3);
        assert_eq!(drain(&disk).len(), 20);
        assert_eq!(segments(dir.path()), 1, "only the segment being written");
        assert!(disk.bytes() <= SEGMENT_BYTES);
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
        // Delivered frames make room, even in the segment being written.
        disk.append(&[0; 100]).unwrap();
        disk.append(&[0; 100]).unwrap();
    }
}
