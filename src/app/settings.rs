//! What a run needs, as the stages' own settings: `config` composes it from
//! flags, environment and file; `app::run` hands each stage its part.

use std::ffi::OsString;
use std::time::Duration;

use crate::batch::BatchConfig;
use crate::buffer::QueueConfig;
use crate::buffer::disk::DiskConfig;
use crate::export::ExporterConfig;
use crate::export::retry::RetryConfig;
use crate::input::FileInputConfig;
use crate::parse::ParseConfig;
use crate::read::ReadConfig;
use crate::resource::ResourceConfig;
use crate::supervise::SuperviseConfig;

/// Everything logwrap needs to run.
#[derive(Debug)]
pub struct Config {
    pub command: Vec<OsString>,
    pub read: ReadConfig,
    pub parse: ParseConfig,
    pub resource: ResourceConfig,
    pub batch: BatchConfig,
    pub queue: QueueConfig,
    pub disk: DiskConfig,
    pub retry: RetryConfig,
    /// Requests in flight per destination where order does not matter.
    pub max_in_flight: usize,
    pub exporters: Vec<ExporterConfig>,
    pub shutdown: ShutdownConfig,
    pub supervise: SuperviseConfig,
    /// A `tracing` targets filter for logwrap's own diagnostics.
    pub log_filter: String,
    /// Files and named pipes read beside (or instead of) a child.
    pub inputs: Option<FileInputConfig>,
    /// Where the metrics and health endpoints listen.
    pub metrics_addr: Option<std::net::SocketAddr>,
    /// Print the one-line summary at exit (with `-v`).
    pub summary: bool,
}

/// How the run ends.
#[derive(Debug, Clone, Copy)]
pub struct ShutdownConfig {
    pub drain_timeout: Duration,
    pub shutdown_timeout: Duration,
}
