//! logwrap wraps a program, passes its output through untouched, and ships
//! every line as an OpenTelemetry log record.
//!
//! # Architecture
//!
//! Data flows one way, one module per stage:
//!
//! ```text
//!  argv + env (+ config_file) ─► cli ─► config ─► app::run (spawns the stages, wires channels, orders shutdown)
//!
//!  supervise ─pipes─► read ─Line─► parse ─Record─► buffer ─► batch ─Batch─► export ─► OTLP gRPC/HTTP, Loki, HTTP, file, console
//!  spawn, signals,    tee to own   pure, total     bounded     count, bytes,  retry + backoff,
//!  one waitpid owner  stdout/err                   in bytes,   delay          disk buffer
//!                   input ─Line─┘                  disk spill
//!                   (files, pipes)
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
//! - [`buffer`] is the bounded queue per destination, bounded in bytes, with a
//!   drop or block policy when full. Each read's records go in as one chunk.
//! - [`batch`] closes batches at a count, a size or a delay (a pure
//!   [`batch::Batcher`] driven by the export task).
//! - [`input`] is the read stage for files and named pipes (`--input`):
//!   one thread woken by inotify (polling underneath), rotation by inode,
//!   positions kept on disk.
//! - [`export`] delivers batches: OTLP protobuf written against the wire
//!   format ([`export::otlp_proto`]) over HTTP or gRPC, OTLP/JSON, Loki,
//!   NDJSON, the console; retry classification and backoff
//!   ([`export::retry`]); batches out of retry time and memory overflow go to
//!   the disk buffer ([`buffer::disk`]) and come back first.
//! - [`resource`] says who is logging (service, process, host, container).
//! - [`telemetry`] is logwrap's own diagnostics (`tracing` to stderr) and
//!   counters; [`metrics`] serves them (`--metrics-addr`); [`lifecycle`]
//!   makes the start/exit/dropped records; [`trace`] the run's span.
//! - [`config_file`] layers a TOML file under flags and environment;
//!   [`check`] is `logwrap check`.
//! - [`footprint`] keeps the idle process small: a few seconds in, main.rs
//!   has it drop the resident pages of logwrap's code and constants, most of
//!   which only start-up used; what runs later is mapped again on use.
//! - [`app`] wires the stages and orders the shutdown: the child exits, its
//!   pipes reach EOF (bounded by `--drain-timeout`), readers drop their
//!   senders, exporters flush what is queued (bounded by `--shutdown-timeout`),
//!   undelivered records are reported, and logwrap exits with the child's code.
//!
//! Threads: the main thread runs a current-thread tokio runtime (export tasks,
//! HTTP, metrics); two reader threads; one signal thread; with `--input`, one
//! file thread. Records are built on reader threads and freed on the main
//! one, hence mimalloc (see main.rs).

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
