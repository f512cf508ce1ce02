//! An OTLP/HTTP receiver for load tests: decodes every request with the
//! official `opentelemetry-proto` types and counts how many times each
//! numbered line (`line <i> ...`) arrived, keeping nothing else (two million
//! records would not fit the other receivers' captures).
//!
//! It can take records at a limited rate (a collector that decodes at N
//! records/s across all connections), answer 503 until some time has passed,
//! or read requests and never answer.

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::{Request, Response};
use hyper_util::rt::{TokioExecutor, TokioIo};
use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
use prost::Message;
use tokio::net::TcpListener;

use super::otlp::body_text;

/// How the receiver behaves.
#[derive(Clone, Copy, Debug, Default)]
pub struct Behaviour {
    /// Records per second across all requests; `None`: as fast as it can.
    pub rate: Option<f64>,
    /// Answer 503 to every request until this long after start.
    pub unavailable_for: Duration,
    /// Read requests and never answer.
    pub hang: bool,
}

struct State {
    behaviour: Behaviour,
    started: Instant,
    /// Arrivals of `line <i>`, by i.
    counts: Mutex<Vec<u32>>,
    /// Records that were not numbered lines (lifecycle events, notices).
    others: AtomicU64,
    accepted_requests: AtomicUsize,
    refused_requests: AtomicUsize,
    /// With a rate: when the records taken so far are done "decoding".
    busy_until: Mutex<Instant>,
}

/// A counting OTLP/HTTP receiver on 127.0.0.1.
pub struct CountingReceiver {
    port: u16,
    state: Arc<State>,
    server: tokio::task::JoinHandle<()>,
}

impl CountingReceiver {
    pub async fn start(behaviour: Behaviour) -> Self {
        Self::start_on(0, behaviour).await
    }

    /// On this port (a collector that comes up late).
    pub async fn start_on(port: u16, behaviour: Behaviour) -> Self {
        let listener = TcpListener::bind(("127.0.0.1", port)).await.expect("bind");
        let port = listener.local_addr().unwrap().port();
        let state = Arc::new(State {
            behaviour,
            started: Instant::now(),
            counts: Mutex::new(Vec::new()),
            others: AtomicU64::new(0),
            accepted_requests: AtomicUsize::new(0),
            refused_requests: AtomicUsize::new(0),
            busy_until: Mutex::new(Instant::now()),
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
        CountingReceiver {
            port,
            state,
            server,
        }
    }

    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// How many times each line `0..count` arrived.
    pub fn arrivals(&self, count: usize) -> Vec<u32> {
        let mut counts = self.state.counts.lock().unwrap().clone();
        counts.resize(count.max(counts.len()), 0);
        counts
    }

    /// Distinct numbered lines received.
    pub fn distinct(&self) -> usize {
        self.state
            .counts
            .lock()
            .unwrap()
            .iter()
            .filter(|&&n| n > 0)
            .count()
    }

    pub fn accepted_requests(&self) -> usize {
        self.state.accepted_requests.load(Ordering::SeqCst)
    }

    pub fn refused_requests(&self) -> usize {
        self.state.refused_requests.load(Ordering::SeqCst)
    }

    /// Asserts each line `0..count` arrived exactly once.
    pub fn assert_exactly_once(&self, count: usize) {
        let counts = self.arrivals(count);
        let missing: Vec<usize> = (0..count).filter(|&i| counts[i] == 0).collect();
        let twice = counts.iter().filter(|&&n| n > 1).count();
        assert!(
            missing.is_empty() && twice == 0 && counts.len() == count,
            "written {count}, received {} distinct; missing {} (first {:?}), duplicated {twice}, beyond the count {}",
            count - missing.len(),
            missing.len(),
            missing.first(),
            counts.len() - count
        );
    }
}

impl Drop for CountingReceiver {
    fn drop(&mut self) {
        self.server.abort();
    }
}

async fn handle(
    req: Request<Incoming>,
    state: Arc<State>,
) -> Result<Response<Full<Bytes>>, hyper::Error> {
    let body = req.into_body().collect().await?.to_bytes();
    if state.behaviour.hang {
        std::future::pending::<()>().await;
    }
    if state.started.elapsed() < state.behaviour.unavailable_for {
        state.refused_requests.fetch_add(1, Ordering::SeqCst);
        return Ok(Response::builder()
            .status(503)
            .body(Full::new(Bytes::new()))
            .unwrap());
    }
    let request = ExportLogsServiceRequest::decode(body).expect("a valid OTLP request");
    let records: Vec<_> = request
        .resource_logs
        .iter()
        .flat_map(|rl| &rl.scope_logs)
        .flat_map(|sl| &sl.log_records)
        .collect();
    if let Some(rate) = state.behaviour.rate {
        // A collector that decodes `rate` records a second, one request
        // after the other.
        let done_at = {
            let mut busy = state.busy_until.lock().unwrap();
            let start = (*busy).max(Instant::now());
            *busy = start + Duration::from_secs_f64(records.len() as f64 / rate);
            *busy
        };
        tokio::time::sleep_until(done_at.into()).await;
    }
    {
        let mut counts = state.counts.lock().unwrap();
        for r in &records {
            let body = body_text(r);
            match body
                .strip_prefix("line ")
                .and_then(|rest| rest.split(' ').next())
                .and_then(|n| n.parse::<usize>().ok())
            {
                Some(i) => {
                    if counts.len() <= i {
                        counts.resize(i + 1, 0);
                    }
                    counts[i] += 1;
                }
                None => {
                    state.others.fetch_add(1, Ordering::SeqCst);
                }
            }
        }
    }
    state.accepted_requests.fetch_add(1, Ordering::SeqCst);
    Ok(Response::builder()
        .status(200)
        .body(Full::new(Bytes::new()))
        .unwrap())
}
