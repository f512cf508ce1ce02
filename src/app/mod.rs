//! Wiring and shutdown order; no stage logic lives here.
//!
//! ```text
//!  spawn child ─► signal thread (forward, reap) ──────────────────────► child's exit
//!      │                                  └─ TERM/INT to logwrap: forwarded; after --stop-timeout, SIGKILL
//!      ├─ stdout ─► reader thread: read ─► parse ─► Fanout ─┐
//!      └─ stderr ─► reader thread: read ─► parse ─► Fanout ─┼─► one queue per destination ─► export task
//!   lifecycle start/exit records ─────────────────► Fanout ─┘
//!
//!  end: child exits ─► leftover processes: TERM, ≤ --stop-timeout, KILL
//!       ─► readers drain to EOF (≤ --drain-timeout) ─► exporters flush (≤ --shutdown-timeout)
//!       ─► report what was not delivered ─► the child's exit code (remapped if asked)
//! ```
//!
//! Pipe mode (`cmd | logwrap`, no command): one reader on stdin, no child;
//! the run ends at EOF (exit 0) or on SIGTERM/SIGINT (128+N), after the same
//! drain and flush.
//!
//! Shutdown follows the data: when a reader reaches EOF it drops its queue
//! senders, and an export task whose queue has no senders left flushes and
//! ends. The deadlines only bound the waiting. A signal to logwrap is
//! forwarded to the child and nothing else; the pipeline keeps running until
//! the child is gone. A second SIGTERM/SIGINT makes every wait that follows
//! end at once: the child is killed, leftovers are killed, nothing more is
//! read or retried.

mod settings;
mod sink;
mod stop;

use std::fs::File;
use std::os::fd::AsFd;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU8, Ordering};
use std::time::{Duration, Instant, SystemTime};

use tokio::sync::{oneshot, watch};

use crate::buffer;
use crate::buffer::disk::DiskBuffer;
use crate::export::ExporterConfig;
use crate::export::otlp_proto::RequestEncoder;
use crate::export::{self, Destination, Exporter, Spill};
use crate::lifecycle;
use crate::metrics::{DestinationSource, Phase, Sources};
use crate::read::{self, PassThrough, ReaderConfig};
use crate::record::{Str, Stream, Value};
use crate::resource::{self, ChildInfo};
use crate::supervise::{
    self, ChildExit, Outcome, SignalSet, SignalTarget, SpawnError, SpawnOptions, descendants,
};
use crate::telemetry::{DestinationStats, ReadStats};
pub use settings::{Config, ShutdownConfig};
pub use sink::{CHUNK_RECORDS, Fanout, Outlet, StreamSink};
use stop::{StopPipe, StopSignals, all_done};

/// A started child.
struct Child {
    pid: i32,
    started: Instant,
}

/// Runs the child (or reads stdin in pipe mode) and the pipeline to the end;
/// returns how the run ended.
pub async fn run(
    config: Config,
    signals: SignalSet,
    trace: Option<crate::trace::RunSpan>,
) -> Outcome {
    let has_child = !config.command.is_empty();
    // Without a command: stdin (pipe mode), unless input files are given.
    let read_stdin = !has_child && config.inputs.is_none();
    if has_child && let Err(e) = descendants::become_subreaper() {
        // As PID 1 orphans come to us anyway; elsewhere they go to init.
        tracing::debug!(error = %e, "cannot become a child subreaper");
    }

    // The child, or stdin.
    // Python block-buffers a pipe; the user's own setting wins.
    let default_env = vec![("PYTHONUNBUFFERED".to_string(), "1".to_string())];
    // The child's spans nest under the run.
    let env = trace
        .as_ref()
        .map(|span| vec![("TRACEPARENT".to_string(), span.traceparent())])
        .unwrap_or_default();
    let (child, inputs) = if read_stdin {
        let stdin = match std::io::stdin().as_fd().try_clone_to_owned() {
            Ok(fd) => File::from(fd),
            Err(e) => {
                tracing::error!(error = %e, "cannot read stdin");
                return Outcome::Failed;
            }
        };
        (None, vec![(Stream::Stdout, stdin)])
    } else if !has_child {
        (None, Vec::new())
    } else {
        let options = SpawnOptions {
            default_env,
            env,
            hidden_env: config.supervise.hidden_env.clone(),
            pty: config.supervise.pty,
        };
        let spawned = match supervise::spawn(&config.command, &options) {
            Ok(s) => s,
            Err(e) => {
                tracing::error!("{e}");
                return match e {
                    SpawnError::NotFound { .. } => Outcome::NotFound,
                    SpawnError::NotExecutable { .. } => Outcome::NotExecutable,
                    SpawnError::Failed { .. } => Outcome::Failed,
                };
            }
        };
        let mut inputs = vec![(Stream::Stdout, spawned.stdout)];
        if let Some(stderr) = spawned.stderr {
            inputs.push((Stream::Stderr, stderr));
        }
        (
            Some(Child {
                pid: spawned.pid,
                started: Instant::now(),
            }),
            inputs,
        )
    };
    let child_pid = child.as_ref().map_or(0, |c| c.pid);
    let signal_thread =
        match supervise::signals::start(signals, child_pid, config.supervise.signal_target) {
            Ok(t) => t,
            Err(e) => {
                // Without it nothing reaps the child or forwards signals; the
                // child is already running, so it gets the kill it would get
                // from a container runtime.
                tracing::error!(error = %e, "cannot start the signal thread");
                if child_pid > 0 {
                    // SAFETY: kill has no memory-safety preconditions.
                    unsafe { libc::kill(child_pid, libc::SIGKILL) };
                }
                return Outcome::Failed;
            }
        };
    if let Some(c) = &child {
        // The program only: its arguments can hold secrets (issue 13), and
        // --resource-command-args is the one way to ship them.
        let program = config.command.first().map(|p| p.to_string_lossy());
        tracing::debug!(
            pid = c.pid,
            program = program.as_deref().unwrap_or(""),
            "child started"
        );
        if let Some(span) = &trace {
            span.record_pid(c.pid);
        }
    }

    let resource = resource::build(
        &config.resource,
        child.as_ref().map(|c| ChildInfo {
            pid: c.pid as u32,
            argv: &config.command,
        }),
        resource::host_name(),
    );

    // Destinations: a queue and an export task each.
    let (shutdown_tx, shutdown_rx) = watch::channel(None);
    let mut fanout = Fanout {
        destinations: Vec::new(),
        trace: trace.as_ref().map(crate::trace::RunSpan::ids),
    };
    let mut tasks = Vec::new();
    let mut all_stats = Vec::new();
    let read_stats = Arc::new(ReadStats::default());
    let mut metric_sources = Vec::new();
    let mut budgets = Vec::new();
    for exporter_config in &config.exporters {
        let exporter = match Exporter::new(exporter_config, &resource) {
            Ok(e) => e,
            Err(why) => {
                tracing::error!(destination = ?exporter_config, error = %why, "cannot set up the exporter; its records are dropped");
                continue;
            }
        };
        let name = exporter.name();
        let (tx, rx) = buffer::queue(config.queue);
        let stats = Arc::new(DestinationStats::default());
        let spill = config
            .disk
            .dir
            .as_ref()
            .and_then(|dir| open_disk(&dir.join(name), config.disk.max_bytes, &resource));
        all_stats.push((name, stats.clone(), spill.as_ref().map(|s| s.disk.clone())));
        budgets.push(rx.budget());
        metric_sources.push(DestinationSource {
            name,
            stats: stats.clone(),
            budget: rx.budget(),
            disk: spill.as_ref().map(|s| s.disk.clone()),
        });
        fanout.destinations.push(Outlet {
            name,
            queue: tx,
            stats: stats.clone(),
            spill: spill.clone(),
            disk_all: config.disk.all,
            with_original: matches!(exporter_config, ExporterConfig::Loki(_)),
        });
        // Loki wants each stream in order; a file and the console too.
        let ordered = matches!(
            exporter_config,
            ExporterConfig::Loki(_) | ExporterConfig::File(_) | ExporterConfig::Console
        );
        let destination = Destination {
            config: exporter_config.clone(),
            exporter,
            queue: rx,
            batch: match exporter_config {
                ExporterConfig::Loki(_) => {
                    config.batch.records_or(export::loki::DEFAULT_BATCH_RECORDS)
                }
                _ => config.batch,
            },
            retry: config.retry,
            stats,
            disk: spill,
            max_in_flight: if ordered { 1 } else { config.max_in_flight },
            resource: resource.clone(),
            notice: lifecycle::dropped,
        };
        tasks.push(tokio::spawn(export::run(destination, shutdown_rx.clone())));
    }

    if let Some(c) = &child
        && config.supervise.lifecycle
    {
        fanout.push_own(vec![lifecycle::started(
            &config.command,
            c.pid,
            config.resource.include_command_args,
            SystemTime::now(),
        )]);
    }

    // Readers, one thread per stream.
    let stop_readers = StopPipe::new();
    let metrics = Arc::new(Sources {
        read: read_stats.clone(),
        destinations: metric_sources,
        phase: AtomicU8::new(Phase::Starting as u8),
    });
    if let Some(addr) = config.metrics_addr {
        match crate::metrics::serve(addr, metrics.clone()).await {
            Ok(bound) => tracing::info!(%bound, "serving /metrics, /healthz and /readyz"),
            Err(e) => {
                tracing::error!(%addr, error = %e, "cannot serve metrics (--metrics-addr); running without them")
            }
        }
    }
    let mut readers_done = Vec::new();
    for (stream, file) in inputs {
        let passthrough = config.read.passthrough.then(|| match stream {
            Stream::Stderr => PassThrough::to(&std::io::stderr()),
            Stream::Stdout | Stream::Lifecycle | Stream::File => {
                PassThrough::to(&std::io::stdout())
            }
        });
        let mut sink = StreamSink::new(
            stream,
            &config.parse,
            config.read.multiline_timeout,
            fanout.clone(),
            read_stats.clone(),
        );
        let reader = ReaderConfig {
            stream,
            max_line_bytes: config.read.max_line_bytes,
            stop: stop_readers.as_ref().map(StopPipe::read_fd),
        };
        let (done_tx, done_rx) = oneshot::channel::<()>();
        readers_done.push(Some(done_rx));
        let spawned = std::thread::Builder::new()
            .name(format!("logwrap-{}", stream.as_str()))
            .spawn(move || {
                read::run(reader, file, passthrough, &mut sink);
                drop(sink);
                let _ = done_tx.send(());
            });
        if let Err(e) = spawned {
            tracing::error!(stream = stream.as_str(), error = %e, "cannot start a reader thread; this stream is not read");
        }
    }
    // Input files: one thread for all, until told to stop.
    let input_stop = Arc::new(AtomicBool::new(false));
    let mut input_done = None;
    if let Some(input) = config.inputs.clone() {
        let (parse, timeout, out, stats) = (
            config.parse.clone(),
            config.read.multiline_timeout,
            fanout.clone(),
            read_stats.clone(),
        );
        let make_sink = move |attributes| {
            StreamSink::new(Stream::File, &parse, timeout, out.clone(), stats.clone())
                .with_attributes(attributes)
        };
        let stop = input_stop.clone();
        let (done_tx, done_rx) = oneshot::channel::<()>();
        let spawned = std::thread::Builder::new()
            .name("logwrap-files".into())
            .spawn(move || {
                crate::input::run(input, make_sink, stop);
                let _ = done_tx.send(());
            });
        match spawned {
            Ok(_) => input_done = Some(done_rx),
            Err(e) => {
                tracing::error!(error = %e, "cannot start the input file thread; files are not read")
            }
        }
    }
    let lifecycle_out = config.supervise.lifecycle.then(|| fanout.clone());
    let mut exit_record = None;
    drop(fanout);
    metrics.set_phase(Phase::Running);

    let mut signals = StopSignals::new(signal_thread.received);
    let mut hurry = false;
    let outcome = match &child {
        Some(c) => {
            let exit =
                wait_for_child(c, signal_thread.exit, &mut signals, &config, &mut hurry).await;
            let Some(exit) = exit else {
                tracing::error!(
                    "the signal thread ended before the child; cannot tell how the child ended"
                );
                return Outcome::Failed;
            };
            let code = config.supervise.remap(exit.outcome.code());
            // Sent once the pipes are drained, so it follows the child's
            // last lines.
            exit_record = Some(lifecycle::exited(
                &exit,
                code,
                c.pid,
                c.started.elapsed(),
                SystemTime::now(),
            ));
            if let Some(span) = &trace {
                span.record_exit(code, &exit);
            }
            tracing::debug!(outcome = ?exit.outcome, code, "child exited");
            // The child can no longer be slowed down: readers draining the
            // rest of its pipes wait for room only on destinations that
            // deliver.
            for budget in &budgets {
                budget.closing();
            }
            // Leftover processes: TERM, grace, KILL (while the readers keep
            // reading what they write on the way out).
            let grace = if hurry {
                Duration::ZERO
            } else {
                config.supervise.stop_timeout
            };
            tokio::select! {
                _ = descendants::stop(c.pid, grace) => {}
                () = second_signal(&mut signals) => {
                    hurry = true;
                    descendants::stop(c.pid, Duration::ZERO).await;
                }
            }
            Outcome::Exited(code)
        }
        None if read_stdin => {
            // Pipe mode: until EOF, or a signal.
            tokio::select! {
                () = all_done(&mut readers_done) => Outcome::Exited(0),
                signal = signals.next() => Outcome::Signaled(signal),
            }
        }
        None => {
            // Input files only (a sidecar): SIGTERM is the normal end.
            signals.next().await;
            Outcome::Exited(0)
        }
    };
    metrics.set_phase(Phase::Stopping);
    // Input files are read to their end once more, then closed.
    input_stop.store(true, Ordering::Release);
    readers_done.push(input_done);

    // Readers: to EOF, or until the drain timeout (a process outside our
    // reach may hold the pipes). Then no reader waits for queue room any
    // more; one that still has not finished is reading a pipe someone
    // else holds open, and is told to stop, which also releases a record
    // held for continuation lines, and gets a moment to hand it on.
    let drain = if hurry {
        Duration::ZERO
    } else {
        config.shutdown.drain_timeout
    };
    let drained = tokio::select! {
        r = tokio::time::timeout(drain, all_done(&mut readers_done)) => r.is_ok(),
        () = second_signal(&mut signals) => { hurry = true; false }
    };
    if !drained {
        for budget in &budgets {
            budget.stop_waiting();
        }
        let finished =
            tokio::time::timeout(Duration::from_millis(100), all_done(&mut readers_done))
                .await
                .is_ok();
        if !finished {
            if !hurry && matches!(outcome, Outcome::Exited(_)) && child.is_some() {
                tracing::warn!(
                    drain_timeout = ?config.shutdown.drain_timeout,
                    "the child's pipes are still open (a process outside logwrap's reach holds them?); not waiting longer"
                );
            }
            if let Some(pipe) = &stop_readers {
                pipe.signal();
            }
            let _ =
                tokio::time::timeout(Duration::from_millis(200), all_done(&mut readers_done)).await;
        }
    }
    if let (Some(out), Some(record)) = (&lifecycle_out, exit_record) {
        // Never waits for room: the export task that makes room runs on
        // this thread.
        out.push_own(vec![record]);
    }
    drop(lifecycle_out);

    // Exporters: flush now, within the shutdown timeout (or at once after a
    // second signal). Past the deadline they stop waiting for answers and
    // retries and move what is left to the disk buffer (or count it).
    let timeout = if hurry {
        Duration::ZERO
    } else {
        config.shutdown.shutdown_timeout
    };
    let deadline = Instant::now() + timeout;
    let _ = shutdown_tx.send(Some(deadline));
    let mut flush = std::pin::pin!(async {
        for task in tasks {
            let _ = task.await;
        }
    });
    // The moment they get after the deadline: writing to disk, or counting.
    let grace = if config.disk.dir.is_some() {
        Duration::from_secs(2)
    } else {
        Duration::from_millis(200)
    };
    let finished = tokio::select! {
        r = tokio::time::timeout_at((deadline + grace).into(), &mut flush) => r.is_ok(),
        () = second_signal(&mut signals), if !hurry => {
            tracing::warn!("second signal: giving up on delivery now (what is left goes to the disk buffer, if there is one)");
            hurry = true;
            let _ = shutdown_tx.send(Some(Instant::now()));
            tokio::time::timeout(grace, &mut flush).await.is_ok()
        }
    };
    if !finished && !hurry {
        tracing::warn!(shutdown_timeout = ?config.shutdown.shutdown_timeout, "delivery did not finish in time");
    }
    if let Some(span) = trace {
        span.finish(timeout.max(Duration::from_secs(1))).await;
    }
    report_undelivered(&all_stats);
    if config.summary {
        eprintln!("logwrap: {}", summary(&read_stats, &all_stats, &outcome));
    }
    outcome
}

/// The one line at exit: what was read, sent, dropped and retried.
fn summary(read: &ReadStats, all_stats: &[DestinationReport], outcome: &Outcome) -> String {
    let mut line = format!(
        "summary: exit={} lines stdout={} stderr={}",
        outcome.code(),
        read.lines_of(Stream::Stdout),
        read.lines_of(Stream::Stderr),
    );
    let files = read.lines_of(Stream::File);
    if files > 0 {
        line.push_str(&format!(" files={files}"));
    }
    for (name, stats, _) in all_stats {
        let get = DestinationStats::get;
        let dropped = get(&stats.dropped_full)
            + get(&stats.failed)
            + get(&stats.rejected)
            + get(&stats.replay_lost)
            + stats.unsent();
        line.push_str(&format!(
            "; {name}: sent={} dropped={dropped} retries={}",
            get(&stats.exported) + get(&stats.replayed),
            get(&stats.retries),
        ));
        let to_disk = get(&stats.spilled) + get(&stats.moved_to_disk);
        if to_disk > 0 {
            line.push_str(&format!(" to_disk={to_disk}"));
        }
    }
    line
}

/// Opens a destination's disk buffer; without one (with an error logged)
/// the destination runs on memory alone.
fn open_disk(dir: &std::path::Path, max_bytes: u64, resource: &[(Str, Value)]) -> Option<Spill> {
    match DiskBuffer::open(dir, max_bytes) {
        Ok(disk) => Some(Spill {
            disk: Arc::new(disk),
            encoder: Arc::new(RequestEncoder::new(
                resource,
                "logwrap",
                env!("CARGO_PKG_VERSION"),
            )),
            warned: Arc::default(),
        }),
        Err(e) => {
            tracing::error!(dir = %dir.display(), error = %e, "cannot use the disk buffer; running on memory alone");
            None
        }
    }
}

/// Waits for the child; on SIGTERM/SIGINT starts `--stop-timeout`, after
/// which (or on a second such signal) the child is killed.
async fn wait_for_child(
    child: &Child,
    mut exit: oneshot::Receiver<ChildExit>,
    signals: &mut StopSignals,
    config: &Config,
    hurry: &mut bool,
) -> Option<ChildExit> {
    let mut kill_at: Option<Instant> = None;
    let mut killed = false;
    loop {
        let sleep = tokio::time::sleep_until(kill_at.unwrap_or_else(Instant::now).into());
        tokio::select! {
            exit = &mut exit => return exit.ok(),
            _ = signals.next() => {
                if kill_at.is_some() {
                    // A second stop signal: no more waiting, anywhere.
                    *hurry = true;
                    kill_at = Some(Instant::now());
                } else {
                    kill_at = Some(Instant::now() + config.supervise.stop_timeout);
                }
            }
            () = sleep, if kill_at.is_some() && !killed => {
                killed = true;
                if !*hurry {
                    tracing::warn!(stop_timeout = ?config.supervise.stop_timeout, pid = child.pid, "the child did not stop in time; killing it");
                }
                // Only while the child (or a child in its group) is still
                // logwrap's: the reaper may have just taken it (issue 13).
                let group = config.supervise.signal_target == SignalTarget::Group;
                descendants::signal_child(child.pid, group, libc::SIGKILL);
            }
        }
    }
}

/// The next stop signal that is not the first one: a request to hurry.
async fn second_signal(signals: &mut StopSignals) {
    loop {
        signals.next().await;
        if signals.count >= 2 {
            return;
        }
        tracing::info!("stop requested; finishing delivery within --shutdown-timeout");
    }
}

/// What the end-of-run report looks at for one destination.
type DestinationReport = (&'static str, Arc<DestinationStats>, Option<Arc<DiskBuffer>>);

/// One ERROR line per destination that lost records: data loss is what an
/// operator must hear about, even with `-q`.
fn report_undelivered(all_stats: &[DestinationReport]) {
    for (name, stats, disk) in all_stats {
        let waiting_on_disk = disk.as_ref().is_some_and(|d| d.has_undelivered());
        if let Some(disk) = disk
            && waiting_on_disk
        {
            tracing::info!(
                destination = name,
                bytes = disk.bytes(),
                moved_to_disk = DestinationStats::get(&stats.moved_to_disk),
                spilled = DestinationStats::get(&stats.spilled),
                "records wait in the disk buffer; the next run sends them first"
            );
        }
        let dropped_full = DestinationStats::get(&stats.dropped_full);
        let failed = DestinationStats::get(&stats.failed);
        let rejected = DestinationStats::get(&stats.rejected);
        let unsent = stats.unsent();
        let from_disk = DestinationStats::get(&stats.replay_lost);
        let lost = dropped_full + failed + rejected + unsent + from_disk;
        if lost > 0 {
            tracing::error!(
                destination = name,
                lost,
                queue_full = dropped_full,
                failed,
                rejected,
                refused_from_disk = from_disk,
                unsent_at_exit = unsent,
                "records were not delivered"
            );
        } else if !waiting_on_disk {
            tracing::debug!(
                destination = name,
                exported = DestinationStats::get(&stats.exported),
                "all records delivered"
            );
        }
    }
}
