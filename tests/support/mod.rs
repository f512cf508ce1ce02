//! Test support: run the real binary, and a real OTLP/HTTP receiver on
//! loopback that decodes with the official `opentelemetry-proto` types.

#![allow(dead_code)]

use std::collections::VecDeque;
use std::ffi::OsStr;
use std::net::SocketAddr;
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::{TokioExecutor, TokioIo};
use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
use opentelemetry_proto::tonic::common::v1::{AnyValue, KeyValue, any_value};
use opentelemetry_proto::tonic::logs::v1::LogRecord;
use prost::Message;
use tokio::net::TcpListener;
use tokio::sync::Notify;

/// Every await in a test is bounded by this, so a hang fails instead of blocking CI.
pub const TIMEOUT: Duration = Duration::from_secs(60);

/// The built binary, with an environment that holds nothing of the runner's
/// OTEL_* or LOGWRAP_* settings.
pub fn logwrap() -> tokio::process::Command {
    let mut cmd = tokio::process::Command::new(env!("CARGO_BIN_EXE_logwrap"));
    cmd.env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", std::env::var_os("HOME").unwrap_or_default())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    cmd
}

/// A fixture script's path.
pub fn fixture(name: &str) -> String {
    format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"))
}

/// What a finished run produced.
#[derive(Debug)]
pub struct Run {
    pub code: Option<i32>,
    pub stdout: Vec<u8>,
    pub stderr: Vec<u8>,
    pub elapsed: Duration,
}

impl Run {
    pub fn stderr_text(&self) -> String {
        String::from_utf8_lossy(&self.stderr).into_owned()
    }
    pub fn stdout_text(&self) -> String {
        String::from_utf8_lossy(&self.stdout).into_owned()
    }
}

/// Runs logwrap with `args` to the end (bounded by [`TIMEOUT`]).
pub async fn run_logwrap<I, S>(args: I) -> Run
where
    I: IntoIterator<Item = S>,
    S: AsRef<OsStr>,
{
    let mut cmd = logwrap();
    cmd.args(args);
    run_command(cmd).await
}

pub async fn run_command(mut cmd: tokio::process::Command) -> Run {
    let started = Instant::now();
    let child = cmd.spawn().expect("spawn logwrap");
    let output = tokio::time::timeout(TIMEOUT, child.wait_with_output())
        .await
        .expect("logwrap did not finish in time")
        .expect("wait for logwrap");
    Run {
        code: output.status.code(),
        stdout: output.stdout,
        stderr: output.stderr,
        elapsed: started.elapsed(),
    }
}

/// One scripted answer of the receiver.
#[derive(Clone, Debug)]
pub struct Answer {
    pub status: u16,
    pub headers: Vec<(&'static str, String)>,
    pub body: Vec<u8>,
}

impl Answer {
    pub fn status(status: u16) -> Self {
        Answer {
            status,
            headers: Vec::new(),
            body: Vec::new(),
        }
    }
}

/// A request as the receiver saw it.
#[derive(Clone, Debug)]
pub struct Received {
    pub headers: hyper::HeaderMap,
    pub request: ExportLogsServiceRequest,
    /// Size of the body on the wire.
    pub wire_bytes: usize,
}

struct State {
    received: Mutex<Vec<Received>>,
    /// Requests answered, whatever the answer.
    seen: std::sync::atomic::AtomicUsize,
    script: Mutex<VecDeque<Answer>>,
    changed: Notify,
}

/// An OTLP/HTTP receiver on 127.0.0.1 with a random port.
pub struct OtlpReceiver {
    addr: SocketAddr,
    state: Arc<State>,
    server: tokio::task::JoinHandle<()>,
}

impl OtlpReceiver {
    pub async fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().unwrap();
        let state = Arc::new(State {
            received: Mutex::new(Vec::new()),
            seen: Default::default(),
            script: Mutex::new(VecDeque::new()),
            changed: Notify::new(),
        });
        let server_state = state.clone();
        let server = tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    return;
                };
                let state = server_state.clone();
                tokio::spawn(async move {
                    let service = hyper::service::service_fn(move |req| handle(req, state.clone()));
                    let _ = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new())
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
        });
        OtlpReceiver {
            addr,
            state,
            server,
        }
    }

    /// The base URL, for `--otlp-endpoint` / `OTEL_EXPORTER_OTLP_ENDPOINT`.
    pub fn endpoint(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Answers the next requests with these, in order, then with 200.
    pub fn script(&self, answers: impl IntoIterator<Item = Answer>) {
        self.state.script.lock().unwrap().extend(answers);
    }

    /// Requests answered so far, accepted or not.
    pub fn requests_seen(&self) -> usize {
        self.state.seen.load(std::sync::atomic::Ordering::SeqCst)
    }

    pub fn requests(&self) -> Vec<Received> {
        self.state.received.lock().unwrap().clone()
    }

    /// Every record received so far, in arrival order.
    pub fn records(&self) -> Vec<LogRecord> {
        self.requests()
            .iter()
            .flat_map(|r| r.request.resource_logs.iter())
            .flat_map(|rl| rl.scope_logs.iter())
            .flat_map(|sl| sl.log_records.iter().cloned())
            .collect()
    }

    /// Waits until at least `n` records arrived (or [`TIMEOUT`]).
    pub async fn wait_for_records(&self, n: usize) -> Vec<LogRecord> {
        let deadline = Instant::now() + TIMEOUT;
        loop {
            let notified = self.state.changed.notified();
            let records = self.records();
            if records.len() >= n {
                return records;
            }
            if tokio::time::timeout_at(deadline.into(), notified)
                .await
                .is_err()
            {
                panic!("timed out waiting for {n} records; have {}", records.len());
            }
        }
    }
}

impl Drop for OtlpReceiver {
    fn drop(&mut self) {
        self.server.abort();
    }
}

async fn handle(
    req: Request<Incoming>,
    state: Arc<State>,
) -> Result<Response<Full<Bytes>>, hyper::Error> {
    let headers = req.headers().clone();
    let path = req.uri().path().to_string();
    let body = req.into_body().collect().await?.to_bytes();
    let wire_bytes = body.len();
    state.seen.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    let answer = state.script.lock().unwrap().pop_front();
    let answer = answer.unwrap_or_else(|| Answer::status(200));
    if path != "/v1/logs" {
        return Ok(reply(Answer {
            status: 404,
            headers: vec![],
            body: format!("no such path {path}").into_bytes(),
        }));
    }
    let raw = match headers.get("content-encoding").map(|v| v.to_str().unwrap()) {
        Some("gzip") => {
            let mut out = Vec::new();
            std::io::Read::read_to_end(&mut flate2::read::GzDecoder::new(&body[..]), &mut out)
                .expect("valid gzip");
            out
        }
        Some(other) => panic!("unexpected content-encoding {other}"),
        None => body.to_vec(),
    };
    assert_eq!(
        headers.get("content-type").map(|v| v.to_str().unwrap()),
        Some("application/x-protobuf")
    );
    let request = ExportLogsServiceRequest::decode(&raw[..])
        .expect("the body decodes as ExportLogsServiceRequest");
    if (200..300).contains(&answer.status) {
        state.received.lock().unwrap().push(Received {
            headers,
            request,
            wire_bytes,
        });
        state.changed.notify_waiters();
    }
    Ok(reply(answer))
}

fn reply(answer: Answer) -> Response<Full<Bytes>> {
    let mut response = Response::builder().status(StatusCode::from_u16(answer.status).unwrap());
    for (k, v) in answer.headers {
        response = response.header(k, v);
    }
    response.body(Full::new(Bytes::from(answer.body))).unwrap()
}

// ---- Reading records ---------------------------------------------------------

pub fn value(v: &Option<AnyValue>) -> Option<&any_value::Value> {
    v.as_ref()?.value.as_ref()
}

pub fn body_text(r: &LogRecord) -> String {
    match value(&r.body) {
        Some(any_value::Value::StringValue(s)) => s.clone(),
        other => panic!("expected a string body, got {other:?}"),
    }
}

pub fn attr<'a>(attrs: &'a [KeyValue], key: &str) -> Option<&'a any_value::Value> {
    attrs
        .iter()
        .find(|kv| kv.key == key)
        .and_then(|kv| value(&kv.value))
}

pub fn attr_str(attrs: &[KeyValue], key: &str) -> Option<String> {
    match attr(attrs, key)? {
        any_value::Value::StringValue(s) => Some(s.clone()),
        other => panic!("{key} is not a string: {other:?}"),
    }
}

pub fn iostream(r: &LogRecord) -> String {
    attr_str(&r.attributes, "log.iostream").expect("every record has log.iostream")
}

/// Records of one stream, in order.
pub fn stream(records: &[LogRecord], name: &str) -> Vec<LogRecord> {
    records
        .iter()
        .filter(|r| iostream(r) == name)
        .cloned()
        .collect()
}
