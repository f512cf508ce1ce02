//! End-to-end benchmark: generator child → logwrap → OTLP/HTTP receiver on loopback.
//!
//! ```text
//! cargo bench --bench pipeline -- [--lines N] [--runs R] [--protocol P] [--compression C] [--when-full W] [--disk] [--latency MS] [--quick]
//! ```
//!
//! A Python generator (`benches/gen_lines.py`) writes N lines of a realistic
//! mix (text with levels, JSON, logfmt, plain; ~120 bytes each) through the
//! release `logwrap`, which ships them to a receiver in this process that
//! decodes every request with the server side's schema and counts the
//! records. logwrap runs at its defaults: whatever its default `--when-full`
//! policy does to a receiver this fast is what the run reports (lines lost
//! included); `--when-full W` passes a policy explicitly, `--disk` adds a
//! disk buffer (`--buffer-dir`, every record written first) in a fresh
//! temporary directory per run. Pass-through goes
//! to /dev/null. Protocols: `http/protobuf`
//! (default), `http/json`, `grpc` (a tonic LogsService), `loki` (push.proto
//! over snappy), `loki-json`. Compression: `none` (default), `gzip`, `zstd`.
//! `--latency MS` holds each HTTP answer back that long after the request
//! is read (at least: the timer ticks in whole milliseconds), as a
//! collector across a network would; loopback answers in microseconds,
//! which hides what a sender does while it waits.
//!
//! Reported, as medians over the runs:
//! - lines/s and MB/s end to end (spawn to exit; every record has arrived by then),
//! - lines lost (written by the generator, never received),
//! - logwrap's own CPU seconds per million lines (user+sys of the logwrap
//!   process alone, read from /proc/<pid>/stat while it is a zombie, so the
//!   generator's CPU is not included),
//! - logwrap's peak RSS (VmHWM),
//! - the generator's wall time through logwrap relative to writing to /dev/null.
//!
//! Unless `--quick`: idle RSS (logwrap around a quiet child, sending to the
//! same receiver), the start-up overhead of `logwrap -- true` against
//! `true`, and the binary's size.

use std::io::Read;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
use prost::Message;

const LOGWRAP: &str = env!("CARGO_BIN_EXE_logwrap");

/// The receiver shares the 2 cores with logwrap and decodes every record
/// into prost structs; with glibc malloc that decoding took about as much
/// CPU as logwrap itself and capped lines/s. The allocator logwrap uses
/// keeps the harness out of the way (measured: see README, Benchmark).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

struct Options {
    lines: u64,
    runs: usize,
    protocol: String,
    compression: String,
    /// `--when-full` for logwrap; `None` runs its default.
    when_full: Option<String>,
    /// Run with `--buffer-dir`.
    disk: bool,
    quick: bool,
}

fn options() -> Options {
    let mut o = Options {
        lines: 1_000_000,
        runs: 5,
        protocol: "http/protobuf".into(),
        compression: "none".into(),
        when_full: None,
        disk: false,
        quick: false,
    };
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--lines" => o.lines = args.next().and_then(|v| v.parse().ok()).expect("--lines N"),
            "--runs" => o.runs = args.next().and_then(|v| v.parse().ok()).expect("--runs R"),
            "--gzip" => o.compression = "gzip".into(),
            "--protocol" => o.protocol = args.next().expect("--protocol P"),
            "--compression" => o.compression = args.next().expect("--compression C"),
            "--when-full" => o.when_full = Some(args.next().expect("--when-full W")),
            "--disk" => o.disk = true,
            "--latency" => {
                let ms: u64 = args
                    .next()
                    .and_then(|v| v.parse().ok())
                    .expect("--latency MS");
                // 0 is no delay at all: even a zero sleep waits for the
                // timer's next 1 ms tick.
                if ms > 0 {
                    LATENCY
                        .set(std::time::Duration::from_millis(ms))
                        .expect("--latency given once");
                }
            }
            "--quick" => o.quick = true,
            "--bench" => {} // passed by cargo bench
            other => panic!("unknown option {other}; see the header of benches/pipeline.rs"),
        }
    }
    o
}

/// How long the HTTP receiver holds each answer back (`--latency`).
static LATENCY: std::sync::OnceLock<std::time::Duration> = std::sync::OnceLock::new();

#[derive(Default)]
struct Counts {
    records: AtomicU64,
    wire_bytes: AtomicU64,
    requests: AtomicU64,
}

#[path = "../tests/support/loki_proto.rs"]
#[allow(dead_code)] // fields only read by the decoder
mod loki_proto;

/// A LogsService that counts records.
struct GrpcCounter(Arc<Counts>);

#[tonic::async_trait]
impl opentelemetry_proto::tonic::collector::logs::v1::logs_service_server::LogsService
    for GrpcCounter
{
    async fn export(
        &self,
        request: tonic::Request<ExportLogsServiceRequest>,
    ) -> Result<
        tonic::Response<opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceResponse>,
        tonic::Status,
    > {
        let request = request.into_inner();
        self.0
            .records
            .fetch_add(count_records(&request) as u64, Ordering::Relaxed);
        self.0.requests.fetch_add(1, Ordering::Relaxed);
        Ok(tonic::Response::new(Default::default()))
    }
}

/// The generator's records in a request: logwrap's own events (the
/// `logwrap.dropped` notice after drops) are not lines that were written.
fn count_records(request: &ExportLogsServiceRequest) -> usize {
    request
        .resource_logs
        .iter()
        .flat_map(|rl| &rl.scope_logs)
        .flat_map(|sl| &sl.log_records)
        .filter(|r| r.event_name.is_empty())
        .count()
}

/// Runs `serve` on a listener on 127.0.0.1, on its own thread with its own
/// runtime (so the receiver's work is never scheduled with the benchmark's);
/// returns the base URL.
fn serve_on_thread<F, Fut>(serve: F) -> String
where
    F: FnOnce(tokio::net::TcpListener) -> Fut + Send + 'static,
    Fut: std::future::Future<Output = ()>,
{
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async move {
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            tx.send(listener.local_addr().unwrap()).unwrap();
            serve(listener).await;
        });
    });
    format!("http://{}", rx.recv().unwrap())
}

/// Starts a gRPC LogsService; returns its URL.
///
/// Its connections have TCP_NODELAY, as a collector's do (Go's net package
/// sets it on every TCP connection): without it, the small frames of each
/// answer wait for the client's delayed ACK, and every call took milliseconds
/// of idle time whatever logwrap did.
fn start_grpc_receiver(counts: Arc<Counts>) -> String {
    serve_on_thread(|listener| async move {
        use tokio_stream::StreamExt;
        let service = opentelemetry_proto::tonic::collector::logs::v1::logs_service_server::LogsServiceServer::new(GrpcCounter(counts))
            .accept_compressed(tonic::codec::CompressionEncoding::Gzip)
            .max_decoding_message_size(64 << 20);
        let incoming = tokio_stream::wrappers::TcpListenerStream::new(listener).map(|stream| {
            stream.inspect(|s| {
                let _ = s.set_nodelay(true);
            })
        });
        tonic::transport::Server::builder()
            .add_service(service)
            .serve_with_incoming(incoming)
            .await
            .unwrap();
    })
}

/// Starts the HTTP receiver; returns its base URL.
fn start_receiver(counts: Arc<Counts>) -> String {
    serve_on_thread(|listener| async move {
        loop {
            let (stream, _) = listener.accept().await.unwrap();
            let _ = stream.set_nodelay(true);
            let counts = counts.clone();
            tokio::spawn(async move {
                let service = hyper::service::service_fn(move |req| handle(req, counts.clone()));
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), service)
                    .await;
            });
        }
    })
}

async fn handle(
    req: Request<Incoming>,
    counts: Arc<Counts>,
) -> Result<Response<Full<Bytes>>, hyper::Error> {
    let header = |name: &str| {
        req.headers()
            .get(name)
            .map(|v| v.to_str().unwrap().to_string())
    };
    let encoding = header("content-encoding");
    let content_type = header("content-type").unwrap_or_default();
    let path = req.uri().path().to_string();
    let body = req.into_body().collect().await?.to_bytes();
    counts
        .wire_bytes
        .fetch_add(body.len() as u64, Ordering::Relaxed);
    let raw = match encoding.as_deref() {
        Some("gzip") => {
            let mut out = Vec::new();
            flate2::read::GzDecoder::new(&body[..])
                .read_to_end(&mut out)
                .unwrap();
            Bytes::from(out)
        }
        Some("zstd") => Bytes::from(zstd::stream::decode_all(&body[..]).unwrap()),
        _ => body,
    };
    let n = if path.starts_with("/loki/") {
        if content_type == "application/json" {
            let v: serde_json::Value = serde_json::from_slice(&raw).expect("Loki JSON push");
            v["streams"]
                .as_array()
                .unwrap()
                .iter()
                .map(|s| s["values"].as_array().unwrap().len())
                .sum()
        } else {
            let unpacked = snap::raw::Decoder::new()
                .decompress_vec(&raw)
                .expect("raw snappy");
            let push = loki_proto::PushRequest::decode(&unpacked[..]).expect("push.proto");
            push.streams.iter().map(|s| s.entries.len()).sum()
        }
    } else if content_type == "application/json" {
        count_records(&serde_json::from_slice::<ExportLogsServiceRequest>(&raw).expect("OTLP/JSON"))
    } else {
        count_records(&ExportLogsServiceRequest::decode(raw).expect("valid request"))
    };
    counts.records.fetch_add(n as u64, Ordering::Relaxed);
    counts.requests.fetch_add(1, Ordering::Relaxed);
    let status = if path.starts_with("/loki/") { 204 } else { 200 };
    if let Some(latency) = LATENCY.get() {
        tokio::time::sleep(*latency).await;
    }
    Ok(Response::builder()
        .status(status)
        .body(Full::new(Bytes::new()))
        .unwrap())
}

/// The Python interpreter itself, resolved once: a version manager's shim
/// in front of `python3` (pyenv's is a bash script, about 60 ms per start
/// on the development machine) would otherwise be timed as part of every
/// run, and it is no part of logwrap.
fn python() -> &'static str {
    static PYTHON: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    PYTHON.get_or_init(|| {
        let out = Command::new("python3")
            .args(["-c", "import sys; print(sys.executable)"])
            .output()
            .expect("python3 runs the generator");
        let path = String::from_utf8_lossy(&out.stdout).trim().to_owned();
        if path.is_empty() {
            "python3".into()
        } else {
            path
        }
    })
}

fn generator_path() -> String {
    format!("{}/benches/gen_lines.py", env!("CARGO_MANIFEST_DIR"))
}

/// `VmHWM` (peak RSS) or `VmRSS` of a process, in KiB.
fn proc_status_kib(pid: u32, field: &str) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    logwrap::footprint::status_kib(&status, field)
}

/// Waits for `pid` to exit without reaping it, reads its own CPU time from
/// /proc (children excluded), then reaps it. Returns (cpu seconds, exit code).
fn wait_own_cpu(pid: u32) -> (f64, i32) {
    // SAFETY: plain syscalls on our own child.
    unsafe {
        let mut info: libc::siginfo_t = std::mem::zeroed();
        let rc = libc::waitid(libc::P_PID, pid, &mut info, libc::WEXITED | libc::WNOWAIT);
        assert_eq!(rc, 0, "waitid");
    }
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    // Fields after the command name (which is in parentheses): state is field 3,
    // utime 14 and stime 15 (1-based), so 11 and 12 after the ')'.
    let after = &stat[stat.rfind(')').unwrap() + 2..];
    let fields: Vec<&str> = after.split_whitespace().collect();
    // SAFETY: sysconf has no preconditions.
    let ticks = unsafe { libc::sysconf(libc::_SC_CLK_TCK) } as f64;
    let cpu = (fields[11].parse::<f64>().unwrap() + fields[12].parse::<f64>().unwrap()) / ticks;
    let mut status = 0;
    // SAFETY: reaping our own child.
    unsafe { libc::waitpid(pid as i32, &mut status, 0) };
    (cpu, libc::WEXITSTATUS(status))
}

fn read_wall(path: &std::path::Path) -> f64 {
    std::fs::read_to_string(path)
        .unwrap()
        .trim()
        .parse()
        .unwrap()
}

struct RunResult {
    /// Lines the generator wrote that never reached the receiver.
    lost: u64,
    wall: f64,
    cpu: f64,
    peak_rss_kib: u64,
    child_wall: f64,
    wire_bytes: u64,
}

/// The flags that send to this run's receiver.
fn destination_args(o: &Options, endpoint: &str) -> Vec<String> {
    let args: Vec<&str> = match o.protocol.as_str() {
        "loki" => vec!["--loki-url", endpoint],
        "loki-json" => vec![
            "--loki-url",
            endpoint,
            "--loki-encoding",
            "json",
            "--loki-compression",
            &o.compression,
        ],
        protocol => vec![
            "--otlp-endpoint",
            endpoint,
            "--otlp-protocol",
            protocol,
            "--otlp-compression",
            &o.compression,
        ],
    };
    args.into_iter().map(String::from).collect()
}

fn run_once(o: &Options, endpoint: &str, counts: &Counts, dir: &std::path::Path) -> RunResult {
    let before = counts.records.load(Ordering::SeqCst);
    let bytes_before = counts.wire_bytes.load(Ordering::SeqCst);
    let wall_file = dir.join("wall");
    let mut cmd = Command::new(LOGWRAP);
    // Lifecycle events would add two records; -q keeps logwrap's own
    // report of lost records out of the output (they are counted below).
    cmd.args(["--no-lifecycle", "-q"]);
    if let Some(policy) = &o.when_full {
        cmd.args(["--when-full", policy]);
    }
    let disk = tempfile::tempdir_in(dir).unwrap();
    if o.disk {
        cmd.arg("--buffer-dir").arg(disk.path());
    }
    cmd.args(destination_args(o, endpoint));
    cmd.args(["--", python(), &generator_path(), &o.lines.to_string()])
        .env("LOGWRAP_BENCH_WALL", &wall_file)
        .stdout(Stdio::null())
        .stderr(Stdio::inherit());
    let started = Instant::now();
    let child = cmd.spawn().expect("spawn logwrap");
    let pid = child.id();
    let peak = Arc::new(AtomicU64::new(0));
    let done = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let sampler = {
        let (peak, done) = (peak.clone(), done.clone());
        std::thread::spawn(move || {
            while !done.load(Ordering::Relaxed) {
                if let Some(kib) = proc_status_kib(pid, "VmHWM") {
                    peak.fetch_max(kib, Ordering::Relaxed);
                }
                std::thread::sleep(Duration::from_millis(5));
            }
        })
    };
    let (cpu, code) = wait_own_cpu(pid);
    let wall = started.elapsed().as_secs_f64();
    done.store(true, Ordering::Relaxed);
    sampler.join().unwrap();
    std::mem::forget(child); // already reaped
    assert_eq!(code, 0, "logwrap failed");
    let received = counts.records.load(Ordering::SeqCst) - before;
    assert!(received <= o.lines, "more records than lines: {received}");
    RunResult {
        lost: o.lines - received,
        wall,
        cpu,
        peak_rss_kib: peak.load(Ordering::Relaxed),
        child_wall: read_wall(&wall_file),
        wire_bytes: counts.wire_bytes.load(Ordering::SeqCst) - bytes_before,
    }
}

fn direct_child_wall(o: &Options, dir: &std::path::Path) -> f64 {
    let wall_file = dir.join("wall-direct");
    let status = Command::new(python())
        .args([&generator_path(), &o.lines.to_string()])
        .env("LOGWRAP_BENCH_WALL", &wall_file)
        .stdout(Stdio::null())
        .status()
        .unwrap();
    assert!(status.success());
    read_wall(&wall_file)
}

/// Bytes of the memory budget one queued line of the mix costs: the
/// generator's lines parsed and encoded as a reader thread does, in chunks of
/// the size a reader hands on, weighed as the queue weighs them. Returns
/// (budget bytes per line, line bytes per line).
fn budget_per_line() -> (f64, f64) {
    let out = Command::new(python())
        .args([&generator_path(), "10000"])
        .output()
        .expect("run the generator");
    let mut parser = logwrap::parse::Parser::new(
        &logwrap::parse::ParseConfig::default(),
        logwrap::record::Stream::Stdout,
    );
    let mut builder = logwrap::encode::ChunkBuilder::default();
    let (mut weight, mut lines, mut records) = (0usize, 0usize, Vec::new());
    for line in out.stdout.split(|&b| b == b'\n').filter(|l| !l.is_empty()) {
        lines += 1;
        parser.push(
            logwrap::record::Line::new(
                logwrap::record::Stream::Stdout,
                logwrap::record::now_unix_nano(),
                Bytes::copy_from_slice(line),
                None,
            ),
            &mut records,
        );
        for r in records.drain(..) {
            builder.append(&r);
        }
        if builder.records() >= logwrap::app::CHUNK_RECORDS {
            weight += builder.take().map_or(0, |c| c.weight);
        }
    }
    parser.flush(&mut records);
    for r in records.drain(..) {
        builder.append(&r);
    }
    weight += builder.take().map_or(0, |c| c.weight);
    let text: usize = out.stdout.len() - lines;
    (weight as f64 / lines as f64, text as f64 / lines as f64)
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

/// RSS of logwrap around a quiet child, sending to this run's receiver (its
/// start event goes out after the 1 s batch delay): 1.5 s after the start,
/// and 7 s after, once it has released its start-up pages (at 3 s; see
/// src/footprint.rs).
fn idle_rss_kib(o: &Options, endpoint: &str) -> (u64, u64) {
    let mut child = Command::new(LOGWRAP)
        .args(destination_args(o, endpoint))
        .args(["-q", "--", "sleep", "8"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let started = Instant::now();
    let rss_at = |seconds: f64| {
        std::thread::sleep(Duration::from_secs_f64(seconds).saturating_sub(started.elapsed()));
        proc_status_kib(child.id(), "VmRSS").unwrap_or(0)
    };
    let after_start = rss_at(1.5);
    let idle = rss_at(7.0);
    child.wait().unwrap();
    (after_start, idle)
}

fn startup_overhead_ms(runs: usize) -> (f64, f64) {
    let time = |program: &str, args: &[&str]| {
        let samples: Vec<f64> = (0..runs)
            .map(|_| {
                let t = Instant::now();
                let status = Command::new(program)
                    .args(args)
                    .stdout(Stdio::null())
                    .status()
                    .unwrap();
                assert!(status.success());
                t.elapsed().as_secs_f64() * 1000.0
            })
            .collect();
        median(samples)
    };
    let bare = time("true", &[]);
    let wrapped = time(LOGWRAP, &["--exporter", "none", "-q", "--", "true"]);
    (bare, wrapped)
}

fn main() {
    let o = options();
    let counts = Arc::new(Counts::default());
    let endpoint = if o.protocol == "grpc" {
        start_grpc_receiver(counts.clone())
    } else {
        start_receiver(counts.clone())
    };
    let dir = tempfile::tempdir().unwrap();
    let mb = |lines: u64| lines as f64 * 120.36 / 1e6;

    println!(
        "logwrap pipeline benchmark: {} lines x {} runs, {} with compression {}{}, pass-through to /dev/null",
        o.lines,
        o.runs,
        o.protocol,
        o.compression,
        if o.disk { ", disk buffer" } else { "" }
    );
    let direct: Vec<f64> = (0..o.runs)
        .map(|_| direct_child_wall(&o, dir.path()))
        .collect();
    let results: Vec<RunResult> = (0..o.runs)
        .map(|_| run_once(&o, &endpoint, &counts, dir.path()))
        .collect();
    for (i, r) in results.iter().enumerate() {
        println!(
            "  run {}: {:.3} s, {:.0} lines/s, lost {}, cpu {:.3} s, peak rss {:.1} MiB, wire {:.1} MB",
            i + 1,
            r.wall,
            o.lines as f64 / r.wall,
            r.lost,
            r.cpu,
            r.peak_rss_kib as f64 / 1024.0,
            r.wire_bytes as f64 / 1e6
        );
    }
    let wall = median(results.iter().map(|r| r.wall).collect());
    let cpu = median(results.iter().map(|r| r.cpu).collect());
    let peak = median(results.iter().map(|r| r.peak_rss_kib as f64).collect());
    let child = median(results.iter().map(|r| r.child_wall).collect());
    let direct = median(direct);
    let wire = median(results.iter().map(|r| r.wire_bytes as f64).collect());
    println!(
        "median lines/s:                 {:.0}",
        o.lines as f64 / wall
    );
    println!("median MB/s:                    {:.1}", mb(o.lines) / wall);
    let lost = median(results.iter().map(|r| r.lost as f64).collect());
    println!(
        "median lines lost:              {:.0} ({:.2}%; runs: {:?})",
        lost,
        100.0 * lost / o.lines as f64,
        results.iter().map(|r| r.lost).collect::<Vec<_>>()
    );
    println!(
        "median CPU s per million lines: {:.3}",
        cpu / (o.lines as f64 / 1e6)
    );
    println!("median peak RSS:                {:.1} MiB", peak / 1024.0);
    if o.protocol == "grpc" {
        println!(
            "bytes on the wire:              not measured for gRPC (tonic decodes before the service sees it)"
        );
    } else {
        println!(
            "median bytes on the wire:       {:.1} MB ({:.1} bytes/line)",
            wire / 1e6,
            wire / o.lines as f64
        );
    }
    // Writing to /dev/null takes ~1 ms, so a ratio would say little; the
    // child's time through logwrap is bounded by logwrap's throughput.
    let (budget, text) = budget_per_line();
    println!(
        "memory budget per queued line:  {budget:.0} bytes for {text:.0} bytes of text ({:.2}x)",
        budget / text
    );
    println!(
        "child wall time:                {:.1} ms through logwrap vs {:.1} ms to /dev/null",
        child * 1e3,
        direct * 1e3,
    );
    if !o.quick {
        let (after_start, idle) = idle_rss_kib(&o, &endpoint);
        println!(
            "idle RSS:                       {:.1} MiB (7 s in; {:.1} MiB 1.5 s in, before start-up pages are released)",
            idle as f64 / 1024.0,
            after_start as f64 / 1024.0
        );
        let (bare, wrapped) = startup_overhead_ms(51);
        println!(
            "start-up: `true` {:.2} ms, `logwrap -- true` {:.2} ms, overhead {:.2} ms (median of 51)",
            bare,
            wrapped,
            wrapped - bare
        );
        let size = std::fs::metadata(LOGWRAP).map(|m| m.len()).unwrap_or(0);
        println!(
            "binary size:                    {:.2} MiB ({LOGWRAP})",
            size as f64 / 1048576.0
        );
    }
}
