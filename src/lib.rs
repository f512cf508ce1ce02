//! logwrap wraps a program, passes its output through untouched, and ships
//! every line as an OpenTelemetry log record.
//!
//! # Architecture
//!
//! Data flows one way, one module per stage:
//!
//! ```text
//!  argv + env (+ config_file) ─► cli ─► config ─► app::Config ─► app::run (spawns the stages, wires queues, orders shutdown)
//!
//!  supervise ─pipes─► read ─Line─► parse ─Record─► encode ─Chunk─► buffer ─► batch ─Batch─► export ─► OTLP gRPC/HTTP, Loki, HTTP, file, console
//!  spawn, signals,    tee to own   pure, total     OTLP wire form, bounded    count, bytes,  retry + backoff,
//!  one waitpid owner  stdout/err                   once per record in bytes,  delay          disk buffer
//!                   input ─Line─┘  (reader threads ─────────────┘ adaptive
//!                   (files, pipes)                               when full
//!  └─► exit status ─► main ─► the child's exit code (128+N for signal N, 126/127 exec failure, 2 usage)
//! ```
//!
//! - [`supervise`] starts the child (stdin inherited, stdout/stderr on pipes,
//!   own process group) and runs the one thread that waits for signals,
//!   forwards them and reaps with `waitpid`; [`supervise::exit`] is the
//!   exit-code contract.
//! - [`read`] runs one OS thread per stream: `read(2)`, write the same bytes to
//!   logwrap's own stdout/stderr, cut lines ([`record::Line`]). Threads,
//!   because both ends are blocking descriptors shared with other processes.
//! - [`parse`] turns lines into [`record::Record`]s on the OTel Logs Data
//!   Model; it is total (never fails) and runs on the reader thread, so the two
//!   streams are parsed on two cores.
//! - [`encode`] writes each record, once, on the reader thread, as the OTLP
//!   `LogRecord` protobuf it will be sent as: a [`encode::Chunk`] weighs about
//!   its lines' bytes (a queued `Record` weighed four times as much), every
//!   destination shares it, and an OTLP exporter only frames it. Not in
//!   `../shared/design.md`'s table: it is the step that lets the queue be
//!   compact and the per-record work happen on the readers' cores.
//! - [`buffer`] is the bounded queue per destination, bounded in bytes, with a
//!   policy when full (`adaptive` by default: wait while the destination
//!   delivers, drop or spill while it fails or stalls), and the disk buffer
//!   ([`buffer::disk`]).
//! - [`batch`] closes batches at a count, a size or a delay (a pure
//!   [`batch::Batcher`] driven by the export task).
//! - [`input`] is the read stage for files and named pipes (`--input`):
//!   one thread woken by inotify (polling underneath), rotation by inode,
//!   positions kept on disk.
//! - [`export`] delivers batches: OTLP protobuf framed from the chunks
//!   ([`export::otlp_proto`]) over HTTP or gRPC; OTLP/JSON, Loki, NDJSON and
//!   the console read the chunks back into records; retry classification and
//!   backoff ([`export::retry`]); what is out of retry time at shutdown goes
//!   to the disk buffer and comes back first next time.
//! - [`resource`] says who is logging (service, process, host, container).
//! - [`telemetry`] is logwrap's own diagnostics (`tracing` to stderr) and
//!   counters; [`metrics`] serves them (`--metrics-addr`); [`lifecycle`]
//!   makes the start/exit/dropped records (the export task gets the dropped
//!   notice's maker as data, [`export::DroppedNotice`]); [`trace`] the run's
//!   span.
//! - [`footprint`] keeps the idle process small: a few seconds in, it drops
//!   the resident pages of logwrap's code and constants, most of which only
//!   start-up used; what runs later is mapped again on use. [`allocator`]
//!   tunes mimalloc (the binary's allocator).
//! - [`app`] wires the stages and orders the shutdown: the child exits, its
//!   pipes reach EOF (bounded by `--drain-timeout`), readers drop their
//!   senders, exporters flush what is queued (bounded by `--shutdown-timeout`),
//!   undelivered records are reported, and logwrap exits with the child's code.
//!
//! # Settings
//!
//! Each stage owns its settings type beside its code (`read::ReadConfig`,
//! `parse::ParseConfig`, `buffer::QueueConfig`, `buffer::disk::DiskConfig`,
//! `batch::BatchConfig`, `export::otlp::OtlpConfig`, `export::loki::LokiConfig`,
//! `export::ndjson::HttpConfig`, `supervise::SuperviseConfig`, …), and
//! [`app::Config`] gathers them for a run. [`cli`] is the flag surface (clap);
//! [`config`] composes flags, environment and [`config_file`] into an
//! `app::Config`, with the OpenTelemetry variables' precedence; [`check`] is
//! `logwrap check`. The imports follow the data: nothing below `config`
//! imports `config` or `cli`, and no two modules import each other, directly
//! or through others (the module graph has no circle).
//!
//! Threads: the main thread runs a current-thread tokio runtime (export tasks,
//! HTTP, metrics); two reader threads; one signal thread; with `--input`, one
//! file thread. Records are built and encoded on reader threads; chunks are
//! freed on the main one, hence mimalloc.

pub mod allocator;
pub mod app;
pub mod batch;
pub mod buffer;
pub mod check;
pub mod cli;
pub mod config;
pub mod config_file;
pub mod encode;
pub mod export;
pub mod footprint;
pub mod input;
pub mod lifecycle;
pub mod metrics;
pub mod parse;
pub mod read;
pub mod record;
pub mod resource;
pub mod supervise;
pub mod telemetry;
pub mod trace;
