//! Input from files and named pipes (`--input file:GLOB`), for sidecars that
//! do not own the application's stdout.
//!
//! ```text
//!  inotify: a file written ─► that file read at once ─► LineSplitter ─► StreamSink (parse, log.file.*) ─► Fanout
//!           a file created, renamed or deleted in a watched directory ─► glob now ─► new files opened
//!  every 250 ms: every open file read to EOF (the fallback, and rotated files draining)
//!  every 1 s: glob ─► new files opened (at the saved position, else the start)
//!                 size < position (copytruncate) ─► back to the start
//!                 no longer matched or deleted (rename + create) ─► read on, closed after 5 s without growth
//!  every 1 s and at the end: positions ─► <buffer-dir>/input-positions.json
//! ```
//!
//! One thread follows every file. It waits on inotify(7) for the directories
//! the files live in (the base directory of each pattern and the directory
//! of each file found), so a write is read as it happens and a new file is
//! opened as it is created: a file that exists for less than the glob period
//! (an application rotating every 0.7 s) is not missed, and a copytruncate
//! loses only what was written after the last event was handled. Polling
//! stays underneath, at the old periods (250 ms reads, 1 s globs): where
//! inotify says nothing (NFS and other network filesystems, FUSE, a file
//! moved to another directory, a full event queue) or cannot be had (the
//! per-user instance or watch limits), files are still found and read, only
//! later. Idle, the thread sleeps in poll(2) and costs one `fstat` per file
//! per 250 ms as before.
//!
//! Directories are watched, not files: one watch covers every file in it
//! (the kernel reports a write to a file in a watched directory with the
//! file's name), survives rotation, and keeps the watch count low against
//! `fs.inotify.max_user_watches`.
//!
//! A file is known by its device and inode, not its name, so a rotated file
//! that is still matched under its new name is read on without a second
//! copy, and a file renamed away is drained before it is closed (the
//! application may write its last lines to it after the rename). Positions
//! are saved by device, inode and a checksum of the file's first bytes (an
//! inode can be reused by a new file), and point just after the last complete
//! line handed on, so a restart neither repeats nor skips a line that was
//! queued. Records still in memory when logwrap is killed are lost unless
//! `--buffer-disk-all` put them on disk.
//!
//! Named pipes are opened non-blocking and read whenever a writer writes;
//! they have no position. Files found at start are read from the beginning
//! (as Vector's file source does by default), so a sidecar that starts after
//! the application misses nothing; files created later are read from their
//! beginning too.

use std::collections::{HashMap, HashSet};
use std::ffi::OsStr;
use std::fs::File;
use std::io::{self, Seek, SeekFrom};
use std::os::fd::AsRawFd;
use std::os::unix::fs::{FileTypeExt, MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use inotify::{EventMask, Inotify, WatchDescriptor, WatchMask};
use opentelemetry_semantic_conventions::attribute::{LOG_FILE_NAME, LOG_FILE_PATH};

use crate::read::{LineSink, LineSplitter};
use crate::record::now_unix_nano;
use crate::record::{Str, Stream, Value};

/// How often every open file is read, whatever inotify says.
const READ_EVERY: Duration = Duration::from_millis(250);
/// How often the globs are expanded again, whatever inotify says.
const GLOB_EVERY: Duration = Duration::from_secs(1);
/// How often positions are saved while running.
const SAVE_EVERY: Duration = Duration::from_secs(1);
/// After a read that inotify woke, the next one waits at least this long, so
/// the writes in between are read together. An application writing a line
/// per write(2) would otherwise wake this thread, and the export task behind
/// it, once per line. `benches/rotation.py` at 30,000 lines/s, logwrap's CPU
/// over 10 s: 1.50 s without the pause, 0.56 s with it, 0.25 s polling every
/// 250 ms. It is also the most a copytruncate can catch unread, beside the
/// scheduling delay: 50 lines at 10,000 lines/s.
const COALESCE: Duration = Duration::from_millis(5);
/// A file no longer matched is read on until it has not grown for this long
/// (Fluent Bit's `Rotate_Wait` default).
const ROTATE_WAIT: Duration = Duration::from_secs(5);
/// Bytes of a file's start that identify it beside its inode.
const FINGERPRINT_BYTES: usize = 256;
/// At most this much is read from one file per tick, so one busy file
/// cannot starve the others.
const MAX_READ_PER_TICK: usize = 16 * 1024 * 1024;

/// What the file input reads and where it keeps positions.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FileInputConfig {
    /// Glob patterns (`*`, `?`, `[...]`, `**`).
    pub patterns: Vec<String>,
    /// Where positions survive a restart (in the buffer directory), if anywhere.
    pub positions: Option<PathBuf>,
    pub max_line_bytes: usize,
}

/// Parses an `--input` value: `file:GLOB`.
pub fn parse_input(raw: &str) -> Result<String, String> {
    match raw.split_once(':') {
        Some(("file", pattern)) if !pattern.is_empty() => {
            glob::Pattern::new(pattern)
                .map_err(|e| format!("{pattern:?} is not a valid glob: {e}"))?;
            Ok(pattern.to_string())
        }
        Some(("file", _)) => Err("file: needs a path or glob, e.g. file:/var/log/app/*.log".into()),
        _ => Err(format!(
            "{raw:?}: an input is file:PATH or file:GLOB (e.g. file:/var/log/app/*.log)"
        )),
    }
}

/// A file's identity: device, inode.
type FileId = (u64, u64);

/// A saved position.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
struct Position {
    path: String,
    dev: u64,
    ino: u64,
    /// CRC-32 of the first `min(offset, FINGERPRINT_BYTES)` bytes.
    fingerprint: u32,
    fingerprint_len: usize,
    offset: u64,
}

struct Tracked<S> {
    path: PathBuf,
    id: FileId,
    file: File,
    fifo: bool,
    /// Bytes read so far (regular files).
    read_to: u64,
    splitter: LineSplitter,
    sink: S,
    /// Set when no pattern matches the file any more (renamed away, deleted).
    unmatched: bool,
    last_growth: Instant,
    fingerprint: (u32, usize),
    /// inotify reported a write since the last read.
    written: bool,
}

impl<S> Tracked<S> {
    /// Where a restart should resume: after the last complete line.
    fn position(&self) -> u64 {
        self.read_to - self.splitter.pending_len() as u64
    }
}

/// Reads the inputs until `stop` is set, then drains every file to its end,
/// hands on what is held and saves positions.
/// `make_sink` makes the sink of one file's lines, given the attributes its
/// records get (the file's path and name).
pub fn run<S: LineSink>(
    config: FileInputConfig,
    make_sink: impl Fn(Vec<(Str, Value)>) -> S,
    stop: Arc<AtomicBool>,
) {
    let mut saved = config
        .positions
        .as_deref()
        .map(load_positions)
        .unwrap_or_default();
    let mut tracked: Vec<Tracked<S>> = Vec::new();
    let mut changes = Changes::new(&config.patterns);
    let mut last_glob: Option<Instant> = None;
    let mut last_save = Instant::now();
    let mut next_tick = Instant::now();
    let mut warned_empty = false;
    loop {
        let stopping = stop.load(Ordering::Acquire);
        let now = Instant::now();
        let tick = stopping || now >= next_tick;
        if last_glob.is_none_or(|t| t.elapsed() >= GLOB_EVERY)
            || stopping
            || changes.take_rediscover()
        {
            last_glob = Some(now);
            discover(&config, &mut tracked, &mut saved, &make_sink);
            changes.watch_directories(&tracked);
            if tracked.is_empty() && !warned_empty {
                warned_empty = true;
                tracing::warn!(patterns = ?config.patterns, "no input file matches yet; looking again every second");
            }
        }
        if !tick {
            // Woken by inotify: read what was written, and the rotated
            // files still draining (written to under a name no longer
            // tracked).
            for t in tracked.iter_mut().filter(|t| t.written || t.unmatched) {
                t.written = false;
                read_available(t);
            }
            changes.wait(
                next_tick.saturating_duration_since(Instant::now()),
                &mut tracked,
            );
            continue;
        }
        next_tick = now + READ_EVERY;
        for t in &mut tracked {
            t.written = false;
            read_available(t);
        }
        let now = Instant::now();
        tracked.retain_mut(|t| {
            if let Some(deadline) = t.sink.idle_deadline()
                && now >= deadline
            {
                t.sink.idle();
            }
            if t.unmatched && t.last_growth.elapsed() >= ROTATE_WAIT && !stopping {
                close(t);
                tracing::debug!(path = %t.path.display(), "closed a rotated input file");
                return false;
            }
            true
        });
        if stopping {
            for t in &mut tracked {
                close(t);
            }
            save(&config, &tracked, &mut saved);
            return;
        }
        if last_save.elapsed() >= SAVE_EVERY {
            last_save = Instant::now();
            save(&config, &tracked, &mut saved);
        }
        changes.wait(
            next_tick.saturating_duration_since(Instant::now()),
            &mut tracked,
        );
    }
}

/// What a directory watch reports: writes, and names appearing or going.
const DIRECTORY_EVENTS: WatchMask = WatchMask::MODIFY
    .union(WatchMask::CREATE)
    .union(WatchMask::MOVED_FROM)
    .union(WatchMask::MOVED_TO)
    .union(WatchMask::DELETE);

/// Change events from inotify(7) on the directories of the inputs, or
/// nothing where inotify cannot be had (then the loop polls).
///
/// The `inotify` crate rather than `notify`: this is one Linux thread that
/// already keeps its own timers, so what it needs is the file descriptor to
/// wait on with a deadline and the raw events; `notify` brings its own
/// thread, channels and cross-platform layers on top of the same calls.
/// Hand-written `libc::inotify_*` would mean parsing the kernel's
/// variable-length event records ourselves, which the crate does.
struct Changes {
    inotify: Option<Inotify>,
    /// The patterns' base directories (the part before the first wildcard),
    /// watched even before anything in them matches.
    bases: Vec<PathBuf>,
    patterns: Vec<glob::Pattern>,
    /// Watched directories, by watch.
    directories: HashMap<WatchDescriptor, PathBuf>,
    watched: HashSet<PathBuf>,
    /// A name appeared or went in a watched directory: glob again now.
    rediscover: bool,
    /// Warned that the watch limit was reached.
    warned_limit: bool,
    events: Vec<u8>,
    /// When events last woke the thread (see [`COALESCE`]).
    woke: Option<Instant>,
}

impl Changes {
    fn new(patterns: &[String]) -> Self {
        let inotify = match Inotify::init() {
            Ok(i) => Some(i),
            Err(e) => {
                tracing::info!(error = %e, "inotify is not available; input files are polled every 250 ms");
                None
            }
        };
        Changes {
            inotify,
            bases: patterns.iter().map(|p| base_directory(p)).collect(),
            patterns: patterns
                .iter()
                .filter_map(|p| glob::Pattern::new(p).ok())
                .collect(),
            directories: HashMap::new(),
            watched: HashSet::new(),
            rediscover: false,
            warned_limit: false,
            // Room for many events per read(2): each is 16 bytes plus the
            // name padded.
            events: vec![0; 64 * 1024],
            woke: None,
        }
    }

    fn take_rediscover(&mut self) -> bool {
        std::mem::take(&mut self.rediscover)
    }

    /// Watches the patterns' base directories and every tracked file's
    /// directory not watched yet. A directory that does not exist yet is
    /// tried again at the next glob.
    fn watch_directories<S>(&mut self, tracked: &[Tracked<S>]) {
        let Some(inotify) = &mut self.inotify else {
            return;
        };
        let parents = tracked.iter().map(|t| directory_of(&t.path));
        let wanted: Vec<PathBuf> = self
            .bases
            .iter()
            .map(PathBuf::as_path)
            .chain(parents)
            .filter(|dir| !self.watched.contains(*dir))
            .map(Path::to_path_buf)
            .collect();
        for dir in wanted {
            if self.watched.contains(&dir) {
                continue;
            }
            match inotify.watches().add(&dir, DIRECTORY_EVENTS) {
                Ok(wd) => {
                    tracing::debug!(directory = %dir.display(), "watching an input directory");
                    self.directories.insert(wd, dir.clone());
                    self.watched.insert(dir);
                }
                Err(e) if e.kind() == io::ErrorKind::NotFound => {}
                Err(e) => {
                    if !self.warned_limit {
                        self.warned_limit = true;
                        tracing::warn!(directory = %dir.display(), error = %e, "cannot watch an input directory (raise fs.inotify.max_user_watches?); its files are polled every 250 ms");
                    }
                    // Not tried again every second: polling covers it.
                    self.watched.insert(dir);
                }
            }
        }
    }

    /// Waits up to `timeout` for events and marks what they name: files
    /// written, or a rediscovery. Without inotify, sleeps.
    fn wait<S>(&mut self, timeout: Duration, tracked: &mut [Tracked<S>]) {
        let Some(inotify) = &mut self.inotify else {
            std::thread::sleep(timeout);
            return;
        };
        let mut pollfd = libc::pollfd {
            fd: inotify.as_raw_fd(),
            events: libc::POLLIN,
            revents: 0,
        };
        // Rounded up, so a wait never ends just before its deadline.
        let ms = timeout.as_micros().div_ceil(1000).min(i32::MAX as u128) as i32;
        // SAFETY: one valid pollfd, its count 1.
        let ready = unsafe { libc::poll(&mut pollfd, 1, ms) };
        if ready <= 0 {
            return; // timed out, or EINTR: the loop looks again
        }
        if let Some(woke) = self.woke {
            let pause = COALESCE.saturating_sub(woke.elapsed()).min(timeout);
            if !pause.is_zero() {
                std::thread::sleep(pause);
            }
        }
        self.woke = Some(Instant::now());
        loop {
            let events = match inotify.read_events(&mut self.events) {
                Ok(events) => events,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return,
                Err(e) => {
                    tracing::warn!(error = %e, "reading inotify events failed; input files are polled every 250 ms");
                    self.inotify = None;
                    return;
                }
            };
            for event in events {
                if event.mask.contains(EventMask::Q_OVERFLOW) {
                    // Events were lost: look at everything.
                    self.rediscover = true;
                    tracked.iter_mut().for_each(|t| t.written = true);
                    continue;
                }
                if event.mask.contains(EventMask::IGNORED) {
                    // The directory is gone (or unmounted): watch it again
                    // if it comes back.
                    if let Some(dir) = self.directories.remove(&event.wd) {
                        self.watched.remove(&dir);
                    }
                    continue;
                }
                let (Some(dir), Some(name)) = (self.directories.get(&event.wd), event.name) else {
                    continue;
                };
                if event.mask.contains(EventMask::MODIFY) {
                    mark_written(tracked, dir, name);
                } else if !self.rediscover {
                    // Created, renamed or deleted: glob again if it is, or
                    // was, an input.
                    let path = dir.join(name);
                    self.rediscover = self.patterns.iter().any(|p| p.matches_path(&path))
                        || tracked.iter().any(|t| t.path == path);
                }
            }
        }
    }
}

/// Flags the tracked files at `dir/name` as written.
fn mark_written<S>(tracked: &mut [Tracked<S>], dir: &Path, name: &OsStr) {
    for t in tracked {
        if t.path.file_name() == Some(name) && directory_of(&t.path) == dir {
            t.written = true;
        }
    }
}

/// The directory a file is in, `.` for a bare name.
fn directory_of(path: &Path) -> &Path {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    }
}

/// The directory part of a pattern before its first wildcard:
/// `/var/log/app/*.log` → `/var/log/app`, `/logs/**/x.log` → `/logs`,
/// `app.log` → `.`.
fn base_directory(pattern: &str) -> PathBuf {
    let literal_end = pattern.find(['*', '?', '[']).unwrap_or(pattern.len());
    let literal = &pattern[..literal_end];
    // Up to the last separator of the literal part: what follows it is (the
    // start of) a file name.
    match literal.rfind('/') {
        Some(0) => PathBuf::from("/"),
        Some(i) => PathBuf::from(&literal[..i]),
        None => PathBuf::from("."),
    }
}

/// Finds files the patterns match now: opens new ones, marks the ones no
/// longer matched.
fn discover<S: LineSink>(
    config: &FileInputConfig,
    tracked: &mut Vec<Tracked<S>>,
    saved: &mut HashMap<FileId, Position>,
    make_sink: &impl Fn(Vec<(Str, Value)>) -> S,
) {
    let mut seen: Vec<FileId> = Vec::new();
    for pattern in &config.patterns {
        let Ok(paths) = glob::glob(pattern) else {
            continue;
        };
        for path in paths.flatten() {
            let Ok(meta) = std::fs::metadata(&path) else {
                continue;
            };
            let fifo = meta.file_type().is_fifo();
            if !meta.is_file() && !fifo {
                continue;
            }
            let id = (meta.dev(), meta.ino());
            if seen.contains(&id) {
                continue;
            }
            seen.push(id);
            if let Some(t) = tracked.iter_mut().find(|t| t.id == id) {
                t.path = path;
                t.unmatched = false;
                continue;
            }
            match open(&path, id, fifo, config, saved, make_sink) {
                Ok(t) => tracked.push(t),
                Err(e) => {
                    tracing::warn!(path = %path.display(), error = %e, "cannot open an input file; trying again shortly")
                }
            }
        }
    }
    for t in tracked.iter_mut() {
        if !seen.contains(&t.id) && !t.unmatched {
            t.unmatched = true;
            t.last_growth = Instant::now();
        }
    }
}

fn open<S: LineSink>(
    path: &Path,
    id: FileId,
    fifo: bool,
    config: &FileInputConfig,
    saved: &mut HashMap<FileId, Position>,
    make_sink: &impl Fn(Vec<(Str, Value)>) -> S,
) -> io::Result<Tracked<S>> {
    let mut options = std::fs::OpenOptions::new();
    options.read(true);
    if fifo {
        // Without O_NONBLOCK, opening waits for a writer.
        options.custom_flags(libc::O_NONBLOCK);
    }
    let mut file = options.open(path)?;
    let fingerprint = if fifo {
        (0, 0)
    } else {
        fingerprint(&file, FINGERPRINT_BYTES)?
    };
    let mut start = 0;
    if let Some(p) = saved.remove(&id) {
        let size = file.metadata()?.len();
        let same =
            !fifo && p.offset <= size && starts_with(&file, p.fingerprint, p.fingerprint_len);
        if same {
            start = p.offset;
        } else {
            tracing::info!(path = %path.display(), "an input file's saved position belongs to another file; reading it from the start");
        }
    }
    if start > 0 {
        file.seek(SeekFrom::Start(start))?;
    } else if !fifo {
        file.seek(SeekFrom::Start(0))?;
    }
    tracing::debug!(path = %path.display(), offset = start, "reading an input file");
    let display = path.to_string_lossy().into_owned();
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let sink = make_sink(vec![
        (
            Str::from_static(LOG_FILE_PATH),
            Value::Str(Str::from(display)),
        ),
        (Str::from_static(LOG_FILE_NAME), Value::Str(Str::from(name))),
    ]);
    Ok(Tracked {
        path: path.to_path_buf(),
        id,
        file,
        fifo,
        read_to: start,
        splitter: LineSplitter::new(Stream::File, config.max_line_bytes),
        sink,
        unmatched: false,
        last_growth: Instant::now(),
        fingerprint,
        written: false,
    })
}

/// CRC-32 of a file's first `len` bytes (fewer if it is shorter), and how
/// many that was. Positional reads: the file's offset is not touched.
fn fingerprint(file: &File, len: usize) -> io::Result<(u32, usize)> {
    use std::os::unix::fs::FileExt;
    let mut head = vec![0u8; len];
    let mut filled = 0;
    while filled < len {
        match file.read_at(&mut head[filled..], filled as u64) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok((crc32fast::hash(&head[..filled]), filled))
}

/// Whether the file's first `len` bytes still have checksum `crc`.
fn starts_with(file: &File, crc: u32, len: usize) -> bool {
    matches!(fingerprint(file, len), Ok((c, got)) if got == len && c == crc)
}

/// Reads what the file has now and hands complete lines on.
fn read_available<S: LineSink>(t: &mut Tracked<S>) {
    if !t.fifo
        && let Ok(meta) = t.file.metadata()
        && (meta.len() < t.read_to || (meta.len() != t.read_to && !same_start(t)))
    {
        // copytruncate: the file was emptied under us (and perhaps written
        // past our position again before we looked: its start changed).
        tracing::info!(path = %t.path.display(), "an input file was truncated; reading it from the start");
        t.splitter
            .finish(now_unix_nano(), &mut |line| t.sink.line(line));
        t.sink.end_of_read();
        if t.file.seek(SeekFrom::Start(0)).is_ok() {
            t.read_to = 0;
            t.fingerprint = (0, 0);
        }
    }
    let mut total = 0;
    while total < MAX_READ_PER_TICK {
        let n = match t.splitter.read_from(&mut t.file) {
            Ok([]) => break,
            Ok(data) => data.len(),
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
            Err(e) => {
                tracing::warn!(path = %t.path.display(), error = %e, "reading an input file failed");
                break;
            }
        };
        total += n;
        t.read_to += n as u64;
        t.last_growth = Instant::now();
        t.splitter
            .drain(now_unix_nano(), &mut |line| t.sink.line(line));
        t.sink.end_of_read();
    }
    if t.fingerprint.1 < FINGERPRINT_BYTES
        && !t.fifo
        && total > 0
        && let Ok(fp) = fingerprint(&t.file, FINGERPRINT_BYTES)
    {
        t.fingerprint = fp;
    }
}

/// Whether the file still starts with the bytes it started with (shorter
/// than that counts as truncated).
fn same_start<S>(t: &Tracked<S>) -> bool {
    let (crc, len) = t.fingerprint;
    len == 0 || starts_with(&t.file, crc, len)
}

/// Reads to the end and hands on everything held, the last line included.
fn close<S: LineSink>(t: &mut Tracked<S>) {
    read_available(t);
    t.splitter
        .finish(now_unix_nano(), &mut |line| t.sink.line(line));
    t.sink.end_of_stream();
}

fn load_positions(path: &Path) -> HashMap<FileId, Position> {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return HashMap::new(),
        Err(e) => {
            tracing::warn!(path = %path.display(), error = %e, "cannot read the saved input positions; reading input files from the start");
            return HashMap::new();
        }
    };
    match serde_json::from_str::<Vec<Position>>(&text) {
        Ok(list) => list.into_iter().map(|p| ((p.dev, p.ino), p)).collect(),
        Err(e) => {
            tracing::warn!(path = %path.display(), error = %e, "the saved input positions are damaged; reading input files from the start");
            HashMap::new()
        }
    }
}

/// Writes the positions of open files (and keeps saved ones of files not
/// seen this run), atomically: a temporary file renamed over the old one.
fn save<S>(
    config: &FileInputConfig,
    tracked: &[Tracked<S>],
    saved: &mut HashMap<FileId, Position>,
) {
    let Some(path) = &config.positions else {
        return;
    };
    for t in tracked.iter().filter(|t| !t.fifo) {
        let offset = t.position();
        let len = (offset as usize).min(t.fingerprint.1);
        // The fingerprint covers bytes before the position only.
        let fingerprint = if len == t.fingerprint.1 {
            t.fingerprint.0
        } else {
            match fingerprint(&t.file, len) {
                Ok((crc, _)) => crc,
                Err(_) => continue,
            }
        };
        saved.insert(
            t.id,
            Position {
                path: t.path.to_string_lossy().into_owned(),
                dev: t.id.0,
                ino: t.id.1,
                fingerprint,
                fingerprint_len: len,
                offset,
            },
        );
    }
    // Forget files that are gone or replaced.
    saved.retain(|id, p| {
        tracked.iter().any(|t| t.id == *id)
            || std::fs::metadata(&p.path).is_ok_and(|m| (m.dev(), m.ino()) == *id)
    });
    let list: Vec<&Position> = saved.values().collect();
    let Ok(json) = serde_json::to_string_pretty(&list) else {
        return;
    };
    let tmp = path.with_extension("json.tmp");
    let written = std::fs::create_dir_all(path.parent().unwrap_or(Path::new(".")))
        .and_then(|()| std::fs::write(&tmp, json))
        .and_then(|()| std::fs::rename(&tmp, path));
    if let Err(e) = written {
        tracing::warn!(path = %path.display(), error = %e, "cannot save input positions");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base_directories_of_patterns() {
        for (pattern, base) in [
            ("/var/log/app/*.log", "/var/log/app"),
            ("/var/log/app/app.log", "/var/log/app"),
            ("/logs/**/x.log", "/logs"),
            ("/logs/a?/x.log", "/logs"),
            ("/srv/[ab]/x.log", "/srv"),
            ("/x.log", "/"),
            ("app.log", "."),
            ("*.log", "."),
            ("logs/*.log", "logs"),
        ] {
            assert_eq!(base_directory(pattern), Path::new(base), "{pattern}");
        }
    }

    #[test]
    fn input_values() {
        assert_eq!(
            parse_input("file:/var/log/*.log").unwrap(),
            "/var/log/*.log"
        );
        assert!(
            parse_input("/var/log/app.log")
                .unwrap_err()
                .contains("file:PATH")
        );
        assert!(parse_input("file:").is_err());
        assert!(
            parse_input("file:/x/[")
                .unwrap_err()
                .contains("not a valid glob")
        );
    }
}
