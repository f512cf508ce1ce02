//! Integration tests: the real `logwrap` binary on real child processes,
//! shipping to a real OTLP/HTTP receiver on loopback that decodes with the
//! official `opentelemetry-proto` types.

mod support;

mod backpressure;
mod console;
mod container;
mod delivery;
mod deploy;
mod destinations;
mod edges;
mod entrypoint;
mod examples;
mod exit_codes;
mod faults;
mod follow;
mod formats;
mod generate;
mod hardening;
mod lines;
mod loghub;
mod memory;
mod operations;
mod parsing;
mod passthrough;
mod pid1;
mod shutdown;
mod sidecar;
mod signals;
