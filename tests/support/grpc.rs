//! An OTLP/gRPC receiver: a tonic `LogsService` server on 127.0.0.1 built
//! from `opentelemetry-proto`'s generated service trait, optionally over TLS.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use opentelemetry_proto::tonic::collector::logs::v1::logs_service_server::{
    LogsService, LogsServiceServer,
};
use opentelemetry_proto::tonic::collector::logs::v1::{
    ExportLogsPartialSuccess, ExportLogsServiceRequest, ExportLogsServiceResponse,
};
use opentelemetry_proto::tonic::logs::v1::LogRecord;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpListener;
use tokio::sync::Notify;
use tonic::transport::server::Connected;

use super::TIMEOUT;
use super::otlp::records_of;

/// One scripted answer of the gRPC receiver.
#[derive(Clone, Debug)]
pub enum GrpcAnswer {
    Ok,
    Status {
        code: tonic::Code,
        message: String,
        retry_after: Option<Duration>,
    },
    PartialSuccess {
        rejected: i64,
        message: String,
    },
}

/// A call as received.
#[derive(Clone, Debug)]
pub struct Call {
    pub metadata: tonic::metadata::MetadataMap,
    pub request: ExportLogsServiceRequest,
    pub at: Instant,
    pub accepted: bool,
}

#[derive(Default)]
struct State {
    calls: Mutex<Vec<Call>>,
    script: Mutex<VecDeque<GrpcAnswer>>,
    changed: Notify,
}

struct Service(Arc<State>);

#[tonic::async_trait]
impl LogsService for Service {
    async fn export(
        &self,
        request: tonic::Request<ExportLogsServiceRequest>,
    ) -> Result<tonic::Response<ExportLogsServiceResponse>, tonic::Status> {
        let answer = self
            .0
            .script
            .lock()
            .unwrap()
            .pop_front()
            .unwrap_or(GrpcAnswer::Ok);
        let metadata = request.metadata().clone();
        let accepted = !matches!(answer, GrpcAnswer::Status { .. });
        self.0.calls.lock().unwrap().push(Call {
            metadata,
            request: request.into_inner(),
            at: Instant::now(),
            accepted,
        });
        self.0.changed.notify_waiters();
        match answer {
            GrpcAnswer::Ok => Ok(tonic::Response::new(ExportLogsServiceResponse {
                partial_success: None,
            })),
            GrpcAnswer::PartialSuccess { rejected, message } => {
                Ok(tonic::Response::new(ExportLogsServiceResponse {
                    partial_success: Some(ExportLogsPartialSuccess {
                        rejected_log_records: rejected,
                        error_message: message,
                    }),
                }))
            }
            GrpcAnswer::Status {
                code,
                message,
                retry_after,
            } => Err(match retry_after {
                Some(delay) => {
                    use tonic_types::StatusExt;
                    tonic::Status::with_error_details(
                        code,
                        message,
                        tonic_types::ErrorDetails::with_retry_info(Some(delay)),
                    )
                }
                None => tonic::Status::new(code, message),
            }),
        }
    }
}

pub struct GrpcReceiver {
    port: u16,
    state: Arc<State>,
    server: tokio::task::JoinHandle<()>,
    tls: bool,
}

impl GrpcReceiver {
    pub async fn start() -> Self {
        Self::start_with(None).await
    }

    pub async fn start_tls(config: rustls::ServerConfig) -> Self {
        Self::start_with(Some(Arc::new(config))).await
    }

    async fn start_with(tls: Option<Arc<rustls::ServerConfig>>) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let state = Arc::new(State::default());
        let service = LogsServiceServer::new(Service(state.clone()))
            .accept_compressed(tonic::codec::CompressionEncoding::Gzip);
        let is_tls = tls.is_some();
        let (tx, rx) = tokio::sync::mpsc::channel::<std::io::Result<Conn>>(16);
        let acceptor = tls.map(tokio_rustls::TlsAcceptor::from);
        tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    return;
                };
                let acceptor = acceptor.clone();
                let tx = tx.clone();
                tokio::spawn(async move {
                    let conn = match acceptor {
                        Some(a) => match a.accept(stream).await {
                            Ok(tls) => Conn::Tls(Box::new(tls)),
                            Err(_) => return,
                        },
                        None => Conn::Plain(stream),
                    };
                    let _ = tx.send(Ok(conn)).await;
                });
            }
        });
        let incoming = tokio_stream::wrappers::ReceiverStream::new(rx);
        let server = tokio::spawn(async move {
            let _ = tonic::transport::Server::builder()
                .add_service(service)
                .serve_with_incoming(incoming)
                .await;
        });
        GrpcReceiver {
            port,
            state,
            server,
            tls: is_tls,
        }
    }

    /// `http://127.0.0.1:port`, or `https://localhost:port` with TLS.
    pub fn endpoint(&self) -> String {
        if self.tls {
            format!("https://localhost:{}", self.port)
        } else {
            format!("http://127.0.0.1:{}", self.port)
        }
    }

    pub fn script(&self, answers: impl IntoIterator<Item = GrpcAnswer>) {
        self.state.script.lock().unwrap().extend(answers);
    }

    pub fn calls(&self) -> Vec<Call> {
        self.state.calls.lock().unwrap().clone()
    }

    /// Records of accepted calls.
    pub fn records(&self) -> Vec<LogRecord> {
        self.calls()
            .iter()
            .filter(|c| c.accepted)
            .flat_map(|c| records_of(&c.request))
            .filter(|r| r.event_name.is_empty())
            .collect()
    }

    pub async fn wait_for_records(&self, n: usize) -> Vec<LogRecord> {
        let deadline = Instant::now() + TIMEOUT;
        loop {
            let notified = self.state.changed.notified();
            if self.records().len() >= n {
                return self.records();
            }
            if tokio::time::timeout_at(deadline.into(), notified)
                .await
                .is_err()
            {
                panic!("timed out waiting for {n} records over gRPC");
            }
        }
    }
}

impl Drop for GrpcReceiver {
    fn drop(&mut self) {
        self.server.abort();
    }
}

/// A plain or TLS connection that tonic's server can take.
enum Conn {
    Plain(tokio::net::TcpStream),
    Tls(Box<tokio_rustls::server::TlsStream<tokio::net::TcpStream>>),
}

impl Connected for Conn {
    type ConnectInfo = ();
    fn connect_info(&self) {}
}

impl AsyncRead for Conn {
    fn poll_read(
        self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        match self.get_mut() {
            Conn::Plain(s) => std::pin::Pin::new(s).poll_read(cx, buf),
            Conn::Tls(s) => std::pin::Pin::new(s.as_mut()).poll_read(cx, buf),
        }
    }
}

impl AsyncWrite for Conn {
    fn poll_write(
        self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &[u8],
    ) -> std::task::Poll<std::io::Result<usize>> {
        match self.get_mut() {
            Conn::Plain(s) => std::pin::Pin::new(s).poll_write(cx, buf),
            Conn::Tls(s) => std::pin::Pin::new(s.as_mut()).poll_write(cx, buf),
        }
    }

    fn poll_flush(
        self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        match self.get_mut() {
            Conn::Plain(s) => std::pin::Pin::new(s).poll_flush(cx),
            Conn::Tls(s) => std::pin::Pin::new(s.as_mut()).poll_flush(cx),
        }
    }

    fn poll_shutdown(
        self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        match self.get_mut() {
            Conn::Plain(s) => std::pin::Pin::new(s).poll_shutdown(cx),
            Conn::Tls(s) => std::pin::Pin::new(s.as_mut()).poll_shutdown(cx),
        }
    }
}
