//! Any bytes, cut into reads anywhere, through the line splitter and the
//! parser: no panic, and every byte of every non-blank line ends up in a
//! record.
//!
//! cargo fuzz run parse_lines -- -max_total_time=300

#![no_main]

use libfuzzer_sys::fuzz_target;
use logwrap::parse::{ParseConfig, Parser};
use logwrap::read::LineSplitter;
use logwrap::record::{Record, Stream, Value};

fuzz_target!(|data: &[u8]| {
    // The first byte picks the read size and the line limit, so that
    // splitting across reads and over-long lines are explored too.
    let Some((&knob, input)) = data.split_first() else { return };
    let read_size = 1 + (knob as usize % 64);
    let max_line = 16 + (knob as usize % 7) * 16;

    let config = ParseConfig {
        strip_ansi: knob & 0x80 == 0,
        ..ParseConfig::default()
    };
    let mut parser = Parser::new(&config, Stream::Stderr);
    let mut splitter = LineSplitter::new(Stream::Stderr, max_line);
    let mut records: Vec<Record> = Vec::new();
    let mut lines = Vec::new();
    for (i, read) in input.chunks(read_size).enumerate() {
        splitter.extend(read);
        splitter.drain(1_795_618_800_000_000_000 + i as u64, &mut |l| lines.push(l));
        for l in lines.drain(..) {
            parser.push(l, &mut records);
        }
    }
    splitter.finish(1_795_618_900_000_000_000, &mut |l| lines.push(l));
    for l in lines.drain(..) {
        parser.push(l, &mut records);
    }
    parser.flush(&mut records);

    for r in &records {
        // Every record is encodable and has a body of the right kind.
        match &r.body {
            Value::Str(s) => assert!(std::str::from_utf8(s.as_bytes()).is_ok()),
            Value::Bytes(b) => assert!(std::str::from_utf8(b).is_err() || r.split.is_some() || !b.is_empty()),
            _ => {}
        }
        assert!(r.severity.number.0 <= 24);
    }
    let encoder = logwrap::export::otlp_proto::RequestEncoder::new(&[], "fuzz", "0");
    let mut out = Vec::new();
    encoder.encode(&records, &mut out);
    let mut json = Vec::new();
    for r in &records {
        logwrap::export::json::write_record(&mut json, r);
    }
});
