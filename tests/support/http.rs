//! A plain HTTP(S) receiver on 127.0.0.1: records every request (body
//! decompressed per Content-Encoding) and answers from a script.

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::{TokioExecutor, TokioIo};
use tokio::net::TcpListener;
use tokio::sync::Notify;

use super::TIMEOUT;

/// One scripted answer.
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

    pub fn text(status: u16, body: &str) -> Self {
        Answer {
            status,
            headers: vec![("content-type", "text/plain".into())],
            body: body.as_bytes().to_vec(),
        }
    }
}

/// A request as received.
#[derive(Clone, Debug)]
pub struct Captured {
    pub path: String,
    pub headers: hyper::HeaderMap,
    /// The body after undoing Content-Encoding (gzip, zstd; not snappy).
    pub body: Vec<u8>,
    /// Size of the body on the wire.
    pub wire_bytes: usize,
    /// The status it was answered with.
    pub status: u16,
    pub at: Instant,
}

struct State {
    captured: Mutex<Vec<Captured>>,
    seen: AtomicUsize,
    script: Mutex<VecDeque<Answer>>,
    default_answer: Mutex<Answer>,
    changed: Notify,
    /// Wait before answering each request (a slow receiver).
    delay: Mutex<std::time::Duration>,
    /// The next this many requests are read and never answered.
    hang: AtomicUsize,
    /// Every connection's task, to cut them all in `kill`.
    connections: Mutex<Vec<tokio::task::AbortHandle>>,
}

/// An HTTP(S) receiver on a random loopback port.
pub struct HttpReceiver {
    addr: SocketAddr,
    state: Arc<State>,
    server: tokio::task::JoinHandle<()>,
    tls: bool,
}

impl HttpReceiver {
    /// Plain HTTP; `default` answers every request not scripted.
    pub async fn start(default: Answer) -> Self {
        Self::start_with(default, None).await
    }

    /// HTTPS with this server configuration (from `certs`).
    pub async fn start_tls(default: Answer, tls: rustls::ServerConfig) -> Self {
        Self::start_with(default, Some(Arc::new(tls))).await
    }

    /// Plain HTTP on this port (a receiver that comes up late, or again).
    pub async fn start_on(port: u16, default: Answer) -> Self {
        Self::start_at(port, default, None).await
    }

    async fn start_with(default: Answer, tls: Option<Arc<rustls::ServerConfig>>) -> Self {
        Self::start_at(0, default, tls).await
    }

    async fn start_at(port: u16, default: Answer, tls: Option<Arc<rustls::ServerConfig>>) -> Self {
        let listener = TcpListener::bind(("127.0.0.1", port)).await.expect("bind");
        let addr = listener.local_addr().unwrap();
        let state = Arc::new(State {
            captured: Mutex::new(Vec::new()),
            seen: AtomicUsize::new(0),
            script: Mutex::new(VecDeque::new()),
            default_answer: Mutex::new(default),
            changed: Notify::new(),
            delay: Mutex::new(std::time::Duration::ZERO),
            hang: AtomicUsize::new(0),
            connections: Mutex::new(Vec::new()),
        });
        let server_state = state.clone();
        let is_tls = tls.is_some();
        let acceptor = tls.map(tokio_rustls::TlsAcceptor::from);
        let server = tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    return;
                };
                let state = server_state.clone();
                let acceptor = acceptor.clone();
                let connections = server_state.clone();
                let task = tokio::spawn(async move {
                    let service = hyper::service::service_fn(move |req| handle(req, state.clone()));
                    let builder =
                        hyper_util::server::conn::auto::Builder::new(TokioExecutor::new());
                    match acceptor {
                        Some(acceptor) => {
                            // A failed handshake (wrong CA, no client cert) just ends the connection.
                            if let Ok(tls) = acceptor.accept(stream).await {
                                let _ = builder.serve_connection(TokioIo::new(tls), service).await;
                            }
                        }
                        None => {
                            let _ = builder
                                .serve_connection(TokioIo::new(stream), service)
                                .await;
                        }
                    }
                });
                connections
                    .connections
                    .lock()
                    .unwrap()
                    .push(task.abort_handle());
            }
        });
        HttpReceiver {
            addr,
            state,
            server,
            tls: is_tls,
        }
    }

    /// `http://127.0.0.1:port` (or https).
    pub fn url(&self) -> String {
        let scheme = if self.tls { "https" } else { "http" };
        format!("{scheme}://{}", self.addr)
    }

    /// `https://localhost:port`, for certificates issued to localhost.
    pub fn localhost_url(&self) -> String {
        format!("https://localhost:{}", self.addr.port())
    }

    /// Answers the next requests with these, in order, then with the default.
    pub fn script(&self, answers: impl IntoIterator<Item = Answer>) {
        self.state.script.lock().unwrap().extend(answers);
    }

    /// Every request waits this long for its answer.
    pub fn set_delay(&self, delay: std::time::Duration) {
        *self.state.delay.lock().unwrap() = delay;
    }

    /// The next `n` requests are read and never answered.
    pub fn hang_next(&self, n: usize) {
        self.state.hang.store(n, Ordering::SeqCst);
    }

    /// Stops like a killed process: the port closes and every open
    /// connection is cut, answered or not.
    pub fn kill(&self) {
        self.server.abort();
        for c in self.state.connections.lock().unwrap().drain(..) {
            c.abort();
        }
    }

    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    pub fn set_default(&self, answer: Answer) {
        *self.state.default_answer.lock().unwrap() = answer;
    }

    /// Every request so far, whatever it was answered.
    pub fn captured(&self) -> Vec<Captured> {
        self.state.captured.lock().unwrap().clone()
    }

    /// The requests answered with a 2xx.
    pub fn accepted(&self) -> Vec<Captured> {
        self.captured()
            .into_iter()
            .filter(|c| (200..300).contains(&c.status))
            .collect()
    }

    pub fn requests_seen(&self) -> usize {
        self.state.seen.load(Ordering::SeqCst)
    }

    /// Waits until `done` holds for the accepted requests (or [`TIMEOUT`]).
    pub async fn wait_until(&self, what: &str, mut done: impl FnMut(&[Captured]) -> bool) {
        let deadline = Instant::now() + TIMEOUT;
        loop {
            let notified = self.state.changed.notified();
            if done(&self.accepted()) {
                return;
            }
            if tokio::time::timeout_at(deadline.into(), notified)
                .await
                .is_err()
            {
                panic!("timed out waiting for {what}");
            }
        }
    }
}

impl Drop for HttpReceiver {
    fn drop(&mut self) {
        self.kill();
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
    state.seen.fetch_add(1, Ordering::SeqCst);
    let hang = state
        .hang
        .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
        .is_ok();
    if hang {
        std::future::pending::<()>().await;
    }
    let delay = *state.delay.lock().unwrap();
    if !delay.is_zero() {
        tokio::time::sleep(delay).await;
    }
    let answer = state.script.lock().unwrap().pop_front();
    let answer = answer.unwrap_or_else(|| state.default_answer.lock().unwrap().clone());
    let decoded = match headers.get("content-encoding").map(|v| v.to_str().unwrap()) {
        Some("gzip") => {
            let mut out = Vec::new();
            std::io::Read::read_to_end(&mut flate2::read::GzDecoder::new(&body[..]), &mut out)
                .expect("valid gzip");
            out
        }
        Some("zstd") => zstd::stream::decode_all(&body[..]).expect("valid zstd"),
        Some(other) => panic!("unexpected content-encoding {other}"),
        None => body.to_vec(),
    };
    state.captured.lock().unwrap().push(Captured {
        path,
        headers,
        body: decoded,
        wire_bytes,
        status: answer.status,
        at: Instant::now(),
    });
    state.changed.notify_waiters();
    let mut response = Response::builder().status(StatusCode::from_u16(answer.status).unwrap());
    for (k, v) in answer.headers {
        response = response.header(k, v);
    }
    Ok(response.body(Full::new(Bytes::from(answer.body))).unwrap())
}
