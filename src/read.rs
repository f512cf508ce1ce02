//! Read: bytes from a pipe → [`Line`]s, with the raw bytes passed through.
//!
//! ```text
//!  child pipe ──read(2)──► LineSplitter ──Line──► LineSink (parse + queue, in app)
//!                  └──────► PassThrough ──write(2)──► logwrap's own stdout/stderr
//! ```
//!
//! Each stream gets its own OS thread running [`run`]: a blocking `read(2)` into
//! a reused buffer, then the same bytes written unchanged to logwrap's own fd
//! (before any parsing, so `docker logs` sees them as soon as the child wrote
//! them), then the complete lines cut out and handed to the sink. A thread
//! rather than an async task because both ends are blocking file descriptors we
//! do not own: setting `O_NONBLOCK` on an inherited stdout would change it for
//! every other process sharing it, and tokio's own stdout goes through its
//! blocking pool anyway. The thread never waits on the exporter: what the sink
//! does when the queue is full is the sink's policy.
//!
//! Lines split on `\n`; a `\r` before it is dropped; a last line without a
//! newline is kept at EOF. A line longer than `max_line_bytes` is cut into
//! pieces at UTF-8 character boundaries, each marked with a [`Split`].
//!
//! The complete lines of one read are copied once into one shared allocation
//! and every [`Line`] slices it: one allocation per read, none per line, and a
//! slow writer does not pin a whole read buffer per line.
//!
//! When logwrap's own stdout (or stderr) is closed by its reader (`logwrap
//! -- yes | head -1`), writing to it fails with EPIPE. logwrap then behaves
//! as the child would without it (issue 13): the reader of the matching
//! stream stops and closes the child's pipe, so the child's next write
//! gets EPIPE or SIGPIPE, as it would have; one warning says so. Whoever
//! writes to the descriptor notices: the pass-through here, or the console
//! exporter, which prints the records on stdout and reports it through
//! [`mark_output_closed`]. That is a fact about a descriptor, kept once for
//! the process, not a shutdown flag: the pipeline still ends by its data.
//!
//! Not here: interpreting lines (parse), timestamps other than the read time.

use std::io::{self, Read};
use std::os::fd::{AsRawFd, RawFd};

use bytes::Bytes;

use crate::record::{Line, Split, Stream};

/// How much one `read(2)` asks for. 64 KiB is the Linux pipe buffer size, so a
/// full pipe drains in one call.
const READ_CHUNK: usize = 64 * 1024;

/// Regions at least this full go into a recycled [`READ_CHUNK`] buffer; smaller
/// ones get an exact copy, so a quiet stream's records never pin 64 KiB each
/// (and the byte budget, which counts line bytes, stays within 2x of the truth).
const RECYCLE_FROM: usize = READ_CHUNK / 2;

/// Spare region buffers kept per stream: 4 x 64 KiB at most, so a burst leaves
/// little behind; in a steady flow one read frees about one region.
const SPARE_REGIONS: usize = 4;

/// Region buffers handed back by whoever drops a region's last line.
///
/// Under load a region (one read's complete lines) is built on the reader
/// thread and freed on the exporter's, one 64 KiB block per read. An
/// allocator cannot reuse such a block until its owning thread collects it,
/// so it keeps taking fresh pages while the freed ones wait to be purged:
/// that churn, not the records, was most of logwrap's peak RSS above the
/// byte budget. Handing the buffer back keeps the same few blocks in use.
/// Written here because object-pool crates pool by value on one side, and
/// this needs `Bytes` whose drop returns the buffer from any thread.
#[derive(Default)]
struct RegionPool {
    spare: std::sync::Mutex<Vec<Vec<u8>>>,
}

impl RegionPool {
    /// A region holding a copy of `bytes`.
    fn region(self: &std::sync::Arc<Self>, bytes: &[u8]) -> Bytes {
        if bytes.len() < RECYCLE_FROM || bytes.len() > READ_CHUNK {
            return Bytes::copy_from_slice(bytes);
        }
        let spare = self.lock().pop();
        let mut buf = spare.unwrap_or_else(|| Vec::with_capacity(READ_CHUNK));
        buf.extend_from_slice(bytes);
        Bytes::from_owner(Region {
            buf,
            pool: self.clone(),
        })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<Vec<u8>>> {
        // A panic while holding the lock leaves a valid list.
        self.spare.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// A recycled buffer behind a `Bytes`; goes back to its pool when dropped.
struct Region {
    buf: Vec<u8>,
    pool: std::sync::Arc<RegionPool>,
}

impl AsRef<[u8]> for Region {
    fn as_ref(&self) -> &[u8] {
        &self.buf
    }
}

impl Drop for Region {
    fn drop(&mut self) {
        let mut buf = std::mem::take(&mut self.buf);
        buf.clear();
        let mut spare = self.pool.lock();
        if spare.len() < SPARE_REGIONS {
            spare.push(buf);
        }
    }
}

/// Cuts a byte stream into [`Line`]s.
///
/// Pure: it owns a buffer and knows nothing of pipes, so it is tested on
/// byte strings directly.
pub struct LineSplitter {
    stream: Stream,
    max_line_bytes: usize,
    /// `buf[..filled]` holds the unconsumed bytes: the partial line carried
    /// over plus the latest read. The rest of `buf` is spare space, already
    /// initialised (zeroes or old bytes), so that a read need not clear
    /// 64 KiB first.
    buf: Vec<u8>,
    filled: usize,
    /// Where to resume the newline search in `buf` (everything before has none).
    scan_from: usize,
    /// Set while the pieces of an over-long line are being emitted.
    splitting: Option<Split>,
    next_split_id: u64,
    /// Reused list of cut points for one drain: (start, end, split).
    cuts: Vec<(usize, usize, Option<Split>)>,
    regions: std::sync::Arc<RegionPool>,
}

impl LineSplitter {
    pub fn new(stream: Stream, max_line_bytes: usize) -> Self {
        LineSplitter {
            stream,
            max_line_bytes: max_line_bytes.max(4),
            buf: Vec::new(),
            filled: 0,
            scan_from: 0,
            splitting: None,
            next_split_id: 0,
            cuts: Vec::new(),
            regions: Default::default(),
        }
    }

    /// Reads once from `src` into the buffer; returns the bytes just read
    /// (empty at EOF).
    pub fn read_from(&mut self, src: &mut impl Read) -> io::Result<&[u8]> {
        let start = self.filled;
        self.make_room(READ_CHUNK);
        let result = loop {
            match src.read(&mut self.buf[start..start + READ_CHUNK]) {
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                other => break other,
            }
        };
        let n = *result.as_ref().unwrap_or(&0);
        self.filled = start + n;
        result.map(|n| &self.buf[start..start + n])
    }

    /// Makes `buf` at least `filled + extra` long; new space is zeroed once
    /// and then reused.
    fn make_room(&mut self, extra: usize) {
        if self.buf.len() < self.filled + extra {
            self.buf.resize(self.filled + extra, 0);
        }
    }

    /// Bytes held that are not yet part of an emitted line.
    pub fn pending_len(&self) -> usize {
        self.filled
    }

    /// Appends bytes as if they had been read (for tests and benchmarks).
    pub fn extend(&mut self, data: &[u8]) {
        self.make_room(data.len());
        self.buf[self.filled..self.filled + data.len()].copy_from_slice(data);
        self.filled += data.len();
    }

    /// Emits every complete line (and every full piece of an over-long line)
    /// now in the buffer, keeping the incomplete rest.
    pub fn drain(&mut self, observed_unix_nano: u64, emit: &mut impl FnMut(Line)) {
        self.cuts.clear();
        let mut start = 0;
        loop {
            let pending = &self.buf[start..self.filled];
            let limit = self.max_line_bytes;
            match memchr::memchr(b'\n', &pending[self.scan_from.saturating_sub(start)..]) {
                Some(i) => {
                    let content_len = self.scan_from.saturating_sub(start) + i;
                    if content_len > limit {
                        let cut = char_boundary(pending, limit);
                        self.cut_piece(start, start + cut);
                        start += cut;
                        self.scan_from = start;
                        continue;
                    }
                    let mut end = start + content_len;
                    if end > start && self.buf[end - 1] == b'\r' {
                        end -= 1;
                    }
                    let split = self.splitting.take().map(|s| Split {
                        index: s.index + 1,
                        last: true,
                        ..s
                    });
                    self.cuts.push((start, end, split));
                    start += content_len + 1;
                    self.scan_from = start;
                }
                None if pending.len() > limit => {
                    let cut = char_boundary(pending, limit);
                    self.cut_piece(start, start + cut);
                    start += cut;
                    self.scan_from = start;
                }
                None => {
                    self.scan_from = self.filled;
                    break;
                }
            }
        }
        self.emit_cuts(start, observed_unix_nano, emit);
    }

    /// Emits whatever is left as the last line (the stream ended without a
    /// final newline).
    pub fn finish(&mut self, observed_unix_nano: u64, emit: &mut impl FnMut(Line)) {
        self.drain(observed_unix_nano, emit);
        if self.filled == 0 && self.splitting.is_none() {
            return;
        }
        let mut end = self.filled;
        if end > 0 && self.buf[end - 1] == b'\r' {
            end -= 1;
        }
        let split = self.splitting.take().map(|s| Split {
            index: s.index + 1,
            last: true,
            ..s
        });
        self.cuts.clear();
        self.cuts.push((0, end, split));
        let consumed = self.filled;
        self.emit_cuts(consumed, observed_unix_nano, emit);
    }

    fn cut_piece(&mut self, start: usize, end: usize) {
        let split = match self.splitting {
            Some(s) => Split {
                index: s.index + 1,
                ..s
            },
            None => {
                self.next_split_id += 1;
                Split {
                    id: self.next_split_id,
                    index: 0,
                    last: false,
                }
            }
        };
        self.splitting = Some(split);
        self.cuts.push((start, end, Some(split)));
    }

    /// Copies `buf[..consumed]` once, hands out slices of it, and keeps the rest.
    fn emit_cuts(&mut self, consumed: usize, observed: u64, emit: &mut impl FnMut(Line)) {
        if self.cuts.is_empty() {
            return;
        }
        let region = &self.buf[..consumed];
        // One check per read: cuts fall on '\n' or on character boundaries, so
        // when the whole region is UTF-8 every line in it is too.
        let utf8 = std::str::from_utf8(region).is_ok();
        let shared = self.regions.region(region);
        for &(start, end, split) in &self.cuts {
            emit(Line::from_checked(
                self.stream,
                observed,
                shared.slice(start..end),
                utf8,
                split,
            ));
        }
        self.buf.copy_within(consumed..self.filled, 0);
        self.filled -= consumed;
        self.scan_from -= consumed.min(self.scan_from);
    }
}

/// The largest cut ≤ `limit` that does not fall inside a UTF-8 sequence; for
/// bytes that are not UTF-8 anyway, `limit` itself.
fn char_boundary(bytes: &[u8], limit: usize) -> usize {
    let is_continuation = |b: u8| b & 0b1100_0000 == 0b1000_0000;
    (limit.saturating_sub(3)..=limit)
        .rev()
        .find(|&i| i > 0 && !is_continuation(bytes[i]))
        .unwrap_or(limit)
}

/// Receives the lines of one stream, in order.
pub trait LineSink {
    fn line(&mut self, line: Line);
    /// Called after the lines of each read; a place to hand work on in bulk.
    fn end_of_read(&mut self);
    /// Called once after the last line.
    fn end_of_stream(&mut self);
    /// When the sink wants [`LineSink::idle`] called if no bytes arrive
    /// before then (a held-back multiline record waiting for silence).
    fn idle_deadline(&self) -> Option<std::time::Instant> {
        None
    }
    /// Called when the idle deadline passed without new bytes.
    fn idle(&mut self) {}
}

/// Whether logwrap's own stdout (index 0) and stderr (index 1) were found
/// closed by their reader (EPIPE); see the module docs.
static OUTPUT_CLOSED: [std::sync::atomic::AtomicBool; 2] = [
    std::sync::atomic::AtomicBool::new(false),
    std::sync::atomic::AtomicBool::new(false),
];

fn output_index(fd: RawFd) -> Option<usize> {
    match fd {
        1 => Some(0),
        2 => Some(1),
        _ => None,
    }
}

/// Records that a write to logwrap's fd 1 or 2 met EPIPE: nobody reads it
/// any more. The reader of the matching stream then closes the child's pipe.
pub fn mark_output_closed(fd: RawFd) {
    if let Some(i) = output_index(fd) {
        OUTPUT_CLOSED[i].store(true, std::sync::atomic::Ordering::Release);
    }
}

/// Whether nobody reads logwrap's fd 1 or 2 any more.
pub fn output_closed(fd: RawFd) -> bool {
    output_index(fd).is_some_and(|i| OUTPUT_CLOSED[i].load(std::sync::atomic::Ordering::Acquire))
}

/// The descriptor of logwrap's own whose closing ends a stream: stdout for
/// the child's stdout (also where the console prints its records), stderr
/// for its stderr. Files read with `--input` have none.
fn own_output_of(stream: Stream) -> Option<RawFd> {
    match stream {
        Stream::Stdout => Some(1),
        Stream::Stderr => Some(2),
        Stream::Lifecycle | Stream::File => None,
    }
}

/// Writes the child's bytes unchanged to one of logwrap's own descriptors.
pub struct PassThrough {
    fd: RawFd,
    broken: bool,
}

impl PassThrough {
    /// Pass-through to logwrap's own fd 1 or 2.
    pub fn to(fd: &impl AsRawFd) -> Self {
        PassThrough {
            fd: fd.as_raw_fd(),
            broken: false,
        }
    }

    /// Writes all of `data`. A closed reader (EPIPE) is recorded with
    /// [`mark_output_closed`] and warned about once; the reader then closes
    /// the child's pipe (see the module docs). Any other failure (a full
    /// disk under a redirected stdout, say) turns the pass-through off for
    /// good, with one warning, and the child's lines keep being shipped:
    /// logwrap must not be why an application stops.
    pub fn write(&mut self, data: &[u8], stream: Stream) {
        if self.broken || data.is_empty() {
            return;
        }
        if let Err(error) = write_all_fd(self.fd, data) {
            self.broken = true;
            if error.kind() == io::ErrorKind::BrokenPipe {
                mark_output_closed(self.fd);
                tracing::warn!(
                    stream = stream.as_str(),
                    "logwrap's {} is closed (its reader went away); closing the child's {} too, as it would be without logwrap",
                    stream.as_str(),
                    stream.as_str(),
                );
            } else {
                tracing::warn!(
                    stream = stream.as_str(),
                    %error,
                    "cannot pass output through; lines are still shipped but no longer echoed"
                );
            }
        }
    }
}

enum Wait {
    Readable,
    Idle,
    Stop,
}

/// Waits until `src` has bytes (or EOF), `stop` becomes readable, or
/// `deadline` passes.
fn wait(src: &impl AsRawFd, stop: Option<RawFd>, deadline: Option<std::time::Instant>) -> Wait {
    loop {
        let ms = match deadline {
            Some(d) => {
                let left = d.saturating_duration_since(std::time::Instant::now());
                if left.is_zero() {
                    return Wait::Idle;
                }
                left.as_millis().clamp(1, i32::MAX as u128) as i32
            }
            None if stop.is_none() => return Wait::Readable, // nothing to wait for but data
            None => -1,
        };
        let mut fds = [
            libc::pollfd {
                fd: src.as_raw_fd(),
                events: libc::POLLIN,
                revents: 0,
            },
            libc::pollfd {
                fd: stop.unwrap_or(-1), // poll ignores negative fds
                events: libc::POLLIN,
                revents: 0,
            },
        ];
        // SAFETY: two valid pollfds.
        let n = unsafe { libc::poll(fds.as_mut_ptr(), 2, ms) };
        if n < 0 {
            if io::Error::last_os_error().kind() == io::ErrorKind::Interrupted {
                continue;
            }
            return Wait::Readable; // let the read report what is wrong
        }
        if fds[1].revents != 0 {
            return Wait::Stop;
        }
        if fds[0].revents != 0 {
            return Wait::Readable;
        }
        // Timed out: the loop re-checks the clock and returns Idle.
    }
}

/// `write(2)` until done, retrying EINTR and waiting out EAGAIN: a parent may
/// have left the inherited descriptor non-blocking (Node.js does this to its
/// stdout), and that must not lose bytes.
fn write_all_fd(fd: RawFd, mut data: &[u8]) -> io::Result<()> {
    while !data.is_empty() {
        // SAFETY: data is a valid slice; fd is one of our own standard fds.
        let n = unsafe { libc::write(fd, data.as_ptr().cast(), data.len()) };
        if n >= 0 {
            data = &data[n as usize..];
            continue;
        }
        let error = io::Error::last_os_error();
        match error.kind() {
            io::ErrorKind::Interrupted => {}
            io::ErrorKind::WouldBlock => {
                let mut pfd = libc::pollfd {
                    fd,
                    events: libc::POLLOUT,
                    revents: 0,
                };
                // SAFETY: one valid pollfd.
                unsafe { libc::poll(&mut pfd, 1, 1000) };
            }
            _ => return Err(error),
        }
    }
    Ok(())
}

/// The read stage.
#[derive(Debug, Clone, Copy)]
pub struct ReadConfig {
    /// A record held back for continuation lines goes out after this much
    /// silence. Default 500 ms: a trace arrives in one burst.
    pub multiline_timeout: std::time::Duration,
    /// Copy the child's bytes to logwrap's own stdout/stderr. Off when the
    /// console exporter owns stdout or with `--no-passthrough`.
    pub passthrough: bool,
    /// Longer lines are split. Default 256 KiB, Loki's default `max_line_size`.
    pub max_line_bytes: usize,
}

/// Default `--max-line-bytes`: Loki's default `max_line_size`.
pub const DEFAULT_MAX_LINE_BYTES: usize = 256 * 1024;
/// What the reader thread needs.
pub struct ReaderConfig {
    pub stream: Stream,
    pub max_line_bytes: usize,
    /// A descriptor that becomes readable when the reader must stop: flush
    /// what it holds and end without waiting for EOF.
    pub stop: Option<RawFd>,
}

/// Reads `src` to EOF: pass-through first, then lines to `sink`.
///
/// Returns at EOF or on a read error (logged). Runs on its own thread.
pub fn run(
    config: ReaderConfig,
    mut src: impl Read + AsRawFd,
    mut passthrough: Option<PassThrough>,
    sink: &mut impl LineSink,
) {
    let stream = config.stream;
    let own_output = own_output_of(stream);
    let mut splitter = LineSplitter::new(stream, config.max_line_bytes);
    loop {
        // Nobody reads where this stream's bytes or records go: stop, and
        // close the child's pipe below (see the module docs).
        if own_output.is_some_and(output_closed) {
            break;
        }
        match wait(&src, config.stop, sink.idle_deadline()) {
            Wait::Readable => {}
            Wait::Idle => {
                sink.idle();
                continue;
            }
            // Asked to stop (the child is gone, a grandchild holds the pipe):
            // what was read is handed on below, and the thread ends.
            Wait::Stop => break,
        }
        match splitter.read_from(&mut src) {
            Ok([]) => break,
            Ok(data) => {
                if let Some(p) = passthrough.as_mut() {
                    p.write(data, stream);
                }
            }
            // On a terminal's master side (--pty) or a hung-up terminal
            // on stdin, EIO means every writer is gone: the end, not a
            // failure (issue 13).
            Err(error) if error.raw_os_error() == Some(libc::EIO) && is_terminal(&src) => break,
            Err(error) => {
                tracing::warn!(stream = stream.as_str(), %error, "reading the child's output failed");
                break;
            }
        }
        splitter.drain(crate::record::now_unix_nano(), &mut |line| sink.line(line));
        sink.end_of_read();
    }
    // Closes the read end at once: when the loop ended because logwrap's
    // own output is closed, the child's next write must fail now.
    drop(src);
    splitter.finish(crate::record::now_unix_nano(), &mut |line| sink.line(line));
    sink.end_of_stream();
}

fn is_terminal(fd: &impl AsRawFd) -> bool {
    // SAFETY: isatty only inspects the descriptor.
    unsafe { libc::isatty(fd.as_raw_fd()) == 1 }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn full_regions_reuse_their_buffer_and_small_ones_are_exact_copies() {
        let pool = std::sync::Arc::new(RegionPool::default());
        let big = vec![b'x'; RECYCLE_FROM];
        let region = pool.region(&big);
        assert_eq!(&region[..], &big[..]);
        let line = region.slice(0..10);
        drop(region);
        // A line still holds the region: nothing is back yet.
        assert_eq!(pool.lock().len(), 0);
        drop(line);
        assert_eq!(pool.lock().len(), 1);
        let again = pool.region(&big);
        assert_eq!(pool.lock().len(), 0, "the spare buffer was taken");
        drop(again);
        // Small regions never pin a 64 KiB buffer.
        let small = pool.region(b"one line\n");
        assert_eq!(&small[..], b"one line\n");
        assert_eq!(pool.lock().len(), 1);
        // The pool keeps a bounded number of spares.
        let held: Vec<Bytes> = (0..SPARE_REGIONS + 3).map(|_| pool.region(&big)).collect();
        drop(held);
        assert_eq!(pool.lock().len(), SPARE_REGIONS);
    }

    fn split_all(max: usize, reads: &[&[u8]]) -> Vec<(Vec<u8>, Option<Split>)> {
        let mut splitter = LineSplitter::new(Stream::Stdout, max);
        let mut out = Vec::new();
        for r in reads {
            splitter.extend(r);
            splitter.drain(1, &mut |l: Line| out.push((l.bytes().to_vec(), l.split())));
        }
        splitter.finish(2, &mut |l: Line| out.push((l.bytes().to_vec(), l.split())));
        out
    }

    fn bodies(v: &[(Vec<u8>, Option<Split>)]) -> Vec<&[u8]> {
        v.iter().map(|(b, _)| b.as_slice()).collect()
    }

    #[test]
    fn reads_into_reused_space_never_show_old_bytes() {
        // A full read leaves old bytes in the spare space; later, shorter
        // reads (one without a newline, kept for finish) must yield exactly
        // what they read.
        let first: Vec<u8> = b"0123456789abcdef\n".repeat(READ_CHUNK / 17 + 1);
        let reads: [&[u8]; 4] = [&first, b"short\n", b"tail without newline", b""];
        let mut splitter = LineSplitter::new(Stream::Stdout, 1 << 20);
        let mut out = Vec::new();
        let mut pieces = Vec::new();
        // One read from each: the first fills READ_CHUNK (its last 16 bytes
        // are never read), the others return what they hold.
        for r in reads {
            let mut src = std::io::Cursor::new(r.to_vec());
            let got = splitter.read_from(&mut src).unwrap().to_vec();
            pieces.push(got);
            splitter.drain(1, &mut |l: Line| out.push(l.bytes().to_vec()));
        }
        splitter.finish(2, &mut |l: Line| out.push(l.bytes().to_vec()));
        assert_eq!(pieces[0], first[..READ_CHUNK]);
        assert_eq!(pieces[3], b"", "EOF reads nothing");
        let text = first[..READ_CHUNK].to_vec();
        let whole_lines = READ_CHUNK / 17;
        assert_eq!(
            out.len(),
            whole_lines + 2,
            "every full line, short, the tail"
        );
        assert_eq!(out[whole_lines - 1], b"0123456789abcdef");
        assert_eq!(
            out[whole_lines],
            [&text[whole_lines * 17..], &b"short"[..]].concat(),
            "the partial line from the first read joins the next"
        );
        assert_eq!(out[whole_lines + 1], b"tail without newline");
    }

    #[test]
    fn splits_on_newline_and_keeps_an_unterminated_last_line() {
        let out = split_all(100, &[b"a\nbb\n", b"cc", b"c\nlast"]);
        assert_eq!(bodies(&out), [&b"a"[..], b"bb", b"ccc", b"last"]);
        assert!(out.iter().all(|(_, s)| s.is_none()));
    }

    #[test]
    fn drops_one_carriage_return_before_the_newline_only() {
        let out = split_all(100, &[b"crlf\r\n", b"mid\rdle\n", b"\r\r\n", b"end\r"]);
        assert_eq!(bodies(&out), [&b"crlf"[..], b"mid\rdle", b"\r", b"end"]);
    }

    #[test]
    fn empty_lines_are_records_too() {
        let out = split_all(100, &[b"\n\nx\n"]);
        assert_eq!(bodies(&out), [&b""[..], b"", b"x"]);
    }

    #[test]
    fn an_empty_stream_has_no_lines() {
        assert!(split_all(100, &[]).is_empty());
    }

    #[test]
    fn long_lines_become_marked_pieces() {
        let out = split_all(4, &[b"abcdefghij\nok\n"]);
        assert_eq!(bodies(&out), [&b"abcd"[..], b"efgh", b"ij", b"ok"]);
        let splits: Vec<_> = out.iter().map(|(_, s)| *s).collect();
        assert_eq!(
            splits[..3],
            [
                Some(Split {
                    id: 1,
                    index: 0,
                    last: false
                }),
                Some(Split {
                    id: 1,
                    index: 1,
                    last: false
                }),
                Some(Split {
                    id: 1,
                    index: 2,
                    last: true
                }),
            ]
        );
        assert_eq!(splits[3], None);
    }

    #[test]
    fn a_line_of_exactly_the_limit_is_not_split() {
        let out = split_all(4, &[b"abcd\n", b"abcd"]);
        assert_eq!(bodies(&out), [&b"abcd"[..], b"abcd"]);
        assert!(out.iter().all(|(_, s)| s.is_none()));
    }

    #[test]
    fn long_line_without_newline_is_split_as_it_arrives_and_closed_at_eof() {
        let out = split_all(4, &[b"abc", b"defgh", b"ijk"]);
        assert_eq!(bodies(&out), [&b"abcd"[..], b"efgh", b"ijk"]);
        assert_eq!(
            out[2].1,
            Some(Split {
                id: 1,
                index: 2,
                last: true
            })
        );
    }

    #[test]
    fn pieces_never_cut_a_utf8_character() {
        // "é" is two bytes; a cut at 5 would fall inside the third one.
        let text = "aééé\n".as_bytes();
        let out = split_all(4, &[text]);
        for (piece, _) in &out {
            assert!(std::str::from_utf8(piece).is_ok(), "{piece:?}");
        }
        let joined: Vec<u8> = out.iter().flat_map(|(b, _)| b.clone()).collect();
        assert_eq!(joined, "aééé".as_bytes());
    }

    #[test]
    fn every_byte_is_accounted_for() {
        // Pieces plus newlines plus dropped CRs give back the input.
        let input = b"one\r\ntwo\nthree-is-long\n\xff\xfe bad\nno-end";
        for max in [4, 5, 7, 100] {
            for chunk in [1, 3, 64] {
                let reads: Vec<&[u8]> = input.chunks(chunk).collect();
                let out = split_all(max, &reads);
                let mut rebuilt = Vec::new();
                for (body, split) in &out {
                    rebuilt.extend_from_slice(body);
                    if split.is_none_or(|s| s.last) {
                        rebuilt.push(b'\n');
                    }
                }
                let expected = b"one\ntwo\nthree-is-long\n\xff\xfe bad\nno-end\n";
                assert_eq!(rebuilt, expected, "max {max} chunk {chunk}");
            }
        }
    }

    #[test]
    fn utf8_flag_is_false_only_when_the_read_has_invalid_bytes() {
        let mut splitter = LineSplitter::new(Stream::Stderr, 100);
        let mut flags = Vec::new();
        splitter.extend(b"good\n");
        splitter.drain(1, &mut |l: Line| flags.push(l.is_utf8()));
        splitter.extend(b"bad \xc3\n");
        splitter.drain(1, &mut |l: Line| flags.push(l.is_utf8()));
        assert_eq!(flags, [true, false]);
    }
}
