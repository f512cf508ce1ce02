//! Integration tests: the real `logwrap` binary on real child processes,
//! shipping to a real OTLP/HTTP receiver on loopback that decodes with the
//! official `opentelemetry-proto` types.

mod support;

mod console;
mod delivery;
mod destinations;
mod exit_codes;
mod lines;
mod loghub;
mod parsing;
mod passthrough;
mod shutdown;
mod signals;
