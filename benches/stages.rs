//! Micro-benchmarks of the hot stages, per line or record:
//!
//! ```text
//! cargo bench --bench stages
//! ```
//!
//! - `split`: cutting a 1.2 MB read of the benchmark mix into lines.
//! - `parse/*`: one line through the parser (format detection, fields,
//!   severity, timestamp, multiline check), per shape: `text` (a leading
//!   time and level), `text_deep` (the level after a file name, a date, a
//!   time and a pid), `syslog` (a level after the host and tag), `json`,
//!   `logfmt`, `plain` (no header).
//! - `encode/*`: a 512-record batch into an OTLP request, with logwrap's
//!   direct encoder and, for comparison, by building `opentelemetry-proto`'s
//!   prost structs and encoding those.

use std::hint::black_box;

use bytes::Bytes;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use logwrap::export::otlp_proto::RequestEncoder;
use logwrap::parse::{ParseConfig, Parser};
use logwrap::read::LineSplitter;
use logwrap::record::{Line, Record, Str, Stream, Value};
use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
use opentelemetry_proto::tonic::common::v1::{AnyValue, InstrumentationScope, KeyValue, any_value};
use opentelemetry_proto::tonic::logs::v1::{LogRecord, ResourceLogs, ScopeLogs};
use opentelemetry_proto::tonic::resource::v1::Resource;
use prost::Message;

const TEXT: &str = "2026-11-25T15:00:00.000123Z INFO  [main] com.example.api.Handler - request done path=/v1/orders status=200 bytes=5120";
const JSON: &str = r#"{"ts":"2026-11-25T15:00:00.000123Z","level":"warn","msg":"slow query","table":"orders","ms":812,"user":"u7","region":"eu1"}"#;
const LOGFMT: &str = r#"time=2026-11-25T15:00:00.000123Z level=error msg="upstream failed" service=billing attempt=2 err="connection reset""#;
const PLAIN: &str = "worker 3 processed batch 3 of queue emails in 3 ms; 3 retries; next poll in 250 ms; all good here, nothing to report";
const TEXT_DEEP: &str = r#"nova-api.log.1.2026-11-25_13:53:08 2026-11-25 15:00:00.008 25746 INFO nova.osapi_compute.wsgi.server [req-38101a0b-2096-447d-96ea-a692162415ae - - -] 10.11.10.1 "GET /v2/servers/detail HTTP/1.1" status: 200 len: 1893"#;
const SYSLOG: &str = "Nov 25 15:00:00 web-1 sshd[24201]: error: kex_exchange_identification: Connection closed by remote host";

/// Read time close to the lines' own timestamps, so they are believable.
const OBSERVED: u64 = 1_795_618_800_100_000_000;

/// A line as the reader makes it: a slice of a shared, reference-counted
/// buffer (not a static, whose clones would cost nothing). Checked for
/// UTF-8 once here; clone it per iteration, as the reader checks once per read.
fn line(shared: &Bytes) -> Line {
    Line::new(Stream::Stdout, OBSERVED, shared.clone(), None)
}

fn shared(text: &str) -> Bytes {
    Bytes::copy_from_slice(text.as_bytes())
}

fn mix() -> Vec<u8> {
    let mut out = Vec::new();
    for i in 0..10_000 {
        out.extend_from_slice([TEXT, JSON, LOGFMT, PLAIN][i % 4].as_bytes());
        out.push(b'\n');
    }
    out
}

fn split(c: &mut Criterion) {
    let data = mix();
    let mut group = c.benchmark_group("split");
    group.throughput(Throughput::Elements(10_000));
    group.bench_function("10k_lines", |b| {
        b.iter(|| {
            let mut splitter = LineSplitter::new(Stream::Stdout, 256 * 1024);
            splitter.extend(&data);
            let mut n = 0usize;
            splitter.drain(OBSERVED, &mut |l| n += l.bytes().len());
            black_box(n)
        })
    });
    group.finish();
}

fn parse(c: &mut Criterion) {
    let mut group = c.benchmark_group("parse");
    group.throughput(Throughput::Elements(1));
    for (name, text) in [
        ("text", TEXT),
        ("text_deep", TEXT_DEEP),
        ("syslog", SYSLOG),
        ("json", JSON),
        ("logfmt", LOGFMT),
        ("plain", PLAIN),
    ] {
        let config = ParseConfig::default();
        let mut parser = Parser::new(&config, Stream::Stdout);
        let mut out = Vec::with_capacity(1024);
        let line = line(&shared(text));
        group.bench_function(name, |b| {
            b.iter(|| {
                parser.push(line.clone(), &mut out);
                // As a reader's sink does once it has encoded them.
                if out.len() >= 32 {
                    parser.recycle(&mut out);
                }
            })
        });
    }
    group.finish();
}

fn batch() -> Vec<Record> {
    let config = ParseConfig::default();
    let mut parser = Parser::new(&config, Stream::Stdout);
    let mut out = Vec::new();
    for i in 0..512 {
        parser.push(line(&shared([TEXT, JSON, LOGFMT, PLAIN][i % 4])), &mut out);
    }
    parser.flush(&mut out);
    out
}

fn resource() -> Vec<(Str, Value)> {
    vec![
        (Str::from("service.name"), Value::Str(Str::from("bench"))),
        (Str::from("process.pid"), Value::Int(4242)),
        (Str::from("host.name"), Value::Str(Str::from("box"))),
    ]
}

/// The same request through opentelemetry-proto's prost structs.
fn prost_encode(records: &[Record], out: &mut Vec<u8>) {
    fn any(v: &Value) -> AnyValue {
        let value = match v {
            Value::Str(s) => any_value::Value::StringValue(s.as_str().to_string()),
            Value::Int(i) => any_value::Value::IntValue(*i),
            Value::Double(d) => any_value::Value::DoubleValue(*d),
            Value::Bool(b) => any_value::Value::BoolValue(*b),
            Value::Bytes(b) => any_value::Value::BytesValue(b.to_vec()),
            _ => any_value::Value::StringValue(String::new()),
        };
        AnyValue { value: Some(value) }
    }
    let kv = |k: &str, v: &Value| KeyValue {
        key: k.to_string(),
        value: Some(any(v)),
        ..Default::default()
    };
    let log_records = records
        .iter()
        .map(|r| {
            let mut attributes = vec![kv(
                "log.iostream",
                &Value::Str(Str::from(r.stream.as_str())),
            )];
            attributes.extend(r.attributes.iter().map(|(k, v)| kv(k.as_str(), v)));
            LogRecord {
                time_unix_nano: r.time_unix_nano,
                observed_time_unix_nano: r.observed_unix_nano,
                severity_number: r.severity.number.0 as i32,
                severity_text: r.severity.text.as_str().to_string(),
                body: Some(any(&r.body)),
                attributes,
                ..Default::default()
            }
        })
        .collect();
    let request = ExportLogsServiceRequest {
        resource_logs: vec![ResourceLogs {
            resource: Some(Resource {
                attributes: resource().iter().map(|(k, v)| kv(k.as_str(), v)).collect(),
                ..Default::default()
            }),
            scope_logs: vec![ScopeLogs {
                scope: Some(InstrumentationScope {
                    name: "logwrap".into(),
                    version: "0.1.0".into(),
                    ..Default::default()
                }),
                log_records,
                ..Default::default()
            }],
            ..Default::default()
        }],
    };
    request.encode(out).unwrap();
}

fn encode(c: &mut Criterion) {
    let records = batch();
    let mut group = c.benchmark_group("encode");
    group.throughput(Throughput::Elements(records.len() as u64));
    let encoder = RequestEncoder::new(&resource(), "logwrap", "0.1.0");
    let mut out = Vec::with_capacity(1 << 20);
    group.bench_function("direct_512", |b| {
        b.iter(|| {
            out.clear();
            encoder.encode(black_box(&records), &mut out);
            black_box(out.len())
        })
    });
    group.bench_function("prost_512", |b| {
        b.iter(|| {
            out.clear();
            prost_encode(black_box(&records), &mut out);
            black_box(out.len())
        })
    });
    group.finish();
}

criterion_group!(benches, split, parse, encode);
criterion_main!(benches);
