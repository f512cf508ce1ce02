//! Parser tests: realistic lines of every format, real crash output captured on
//! this machine (tests/fixtures/multiline), and properties over arbitrary bytes.

use super::*;
use crate::read::LineSplitter;
use crate::record::Split;

/// 2026-11-25T15:00:00Z
const OBSERVED: u64 = 1_795_618_800_000_000_000;

fn parser(stream: Stream) -> Parser {
    Parser::new(&ParseConfig::default(), stream)
}

/// Feeds `input` as one read (lines share the read time) and flushes.
fn records_of(stream: Stream, input: &[u8]) -> Vec<Record> {
    records_with(&ParseConfig::default(), stream, &[input])
}

fn records_with(config: &ParseConfig, stream: Stream, reads: &[&[u8]]) -> Vec<Record> {
    let mut parser = Parser::new(config, stream);
    let mut splitter = LineSplitter::new(stream, 256 * 1024);
    let mut out = Vec::new();
    for (i, read) in reads.iter().enumerate() {
        splitter.extend(read);
        let mut lines = Vec::new();
        splitter.drain(OBSERVED + i as u64, &mut |l| lines.push(l));
        for l in lines {
            parser.push(l, &mut out);
        }
    }
    let mut lines = Vec::new();
    splitter.finish(OBSERVED + reads.len() as u64, &mut |l| lines.push(l));
    for l in lines {
        parser.push(l, &mut out);
    }
    parser.flush(&mut out);
    out
}

fn one(stream: Stream, line: &str) -> Record {
    let mut out = records_of(stream, line.as_bytes());
    assert_eq!(out.len(), 1, "{line:?} → {out:?}");
    out.pop().unwrap()
}

fn body(r: &Record) -> &str {
    match &r.body {
        Value::Str(s) => s.as_str(),
        other => panic!("string body expected, got {other:?}"),
    }
}

fn sev(r: &Record) -> (u8, &str) {
    (r.severity.number.0, r.severity.text.as_str())
}

fn attr<'a>(r: &'a Record, key: &str) -> Option<&'a Value> {
    r.attributes
        .iter()
        .find(|(k, _)| k.as_str() == key)
        .map(|(_, v)| v)
}

#[test]
fn text_lines_from_real_programs() {
    // (line, severity number, severity text, has a believable timestamp)
    let cases: &[(&str, u8, &str, bool)] = &[
        (
            "2026-11-25T14:59:00.120Z INFO  [main] c.e.api.Handler - request done",
            9,
            "INFO",
            true,
        ),
        (
            "2026-11-25 14:59:00,123 WARN [main] org.apache.hadoop.Foo: slow",
            13,
            "WARN",
            true,
        ),
        (
            "2026-11-25 14:59:00,123 - root - ERROR - disk failed",
            17,
            "ERROR",
            true,
        ),
        (
            "2026-11-25 14:59:00.123 [http-nio-8080-exec-1] DEBUG o.s.web.Servlet - GET /",
            5,
            "DEBUG",
            true,
        ),
        ("WARNING:root:low memory", 13, "WARNING", false),
        (
            "2026/11/25 14:59:00 [error] 7#7: *1 connect() failed (111: Connection refused)",
            17,
            "error",
            true,
        ),
        (
            "[Wed Nov 25 14:59:00.123456 2026] [core:notice] [pid 1] AH00094: Command line",
            10,
            "notice",
            true,
        ),
        (
            "Nov 25 14:59:00 web-1 sshd[24200]: error: Received disconnect",
            17,
            "error",
            true,
        ),
        (
            "Nov 25 14:59:00 web-1 kernel: [1234.5678] oom-killer invoked",
            9,
            "INFO",
            true,
        ),
        (
            "E1125 14:59:00.123456   12345 controller.go:114] failed to sync",
            17,
            "E",
            true,
        ),
        (
            "11-25 14:59:00.123  1234  5678 W ActivityManager: slow",
            13,
            "W",
            true,
        ),
        ("<3>kernel: disk failure", 17, "3", false),
        (
            "panic: runtime error: invalid memory address",
            21,
            "panic",
            false,
        ),
        ("[notice] server started", 10, "notice", false),
        ("<warn> cache near capacity", 13, "warn", false),
        ("time is 12:00 and 0 errors so far", 9, "INFO", false),
    ];
    for (line, n, text, timed) in cases {
        let r = one(Stream::Stdout, line);
        assert_eq!(sev(&r), (*n, *text), "{line}");
        assert_eq!(r.time_unix_nano != 0, *timed, "{line}");
        assert_eq!(body(&r), *line, "text lines keep their whole text as body");
    }
}

#[test]
fn stderr_lines_without_a_level_keep_the_stream_default() {
    let r = one(
        Stream::Stderr,
        "cp: cannot stat 'x': No such file or directory",
    );
    assert_eq!(sev(&r), (17, "ERROR"));
    let r = one(Stream::Stderr, "warning: shard 3 had 12 malformed lines");
    assert_eq!(sev(&r), (13, "warning"));
}

#[test]
fn json_and_logfmt_lines() {
    let r = one(
        Stream::Stdout,
        r#"{"ts":"2026-11-25T14:59:00Z","level":"error","msg":"payment failed","order":42,"trace_id":"4bf92f3577b34da6a3ce929d0e0e4736","span_id":"00f067aa0ba902b7"}"#,
    );
    assert_eq!(body(&r), "payment failed");
    assert_eq!(sev(&r), (17, "error"));
    assert_eq!(r.time_unix_nano, OBSERVED - 60_000_000_000);
    assert_eq!(attr(&r, "order"), Some(&Value::Int(42)));
    assert_ne!(r.trace_id, [0; 16]);
    assert_ne!(r.span_id, [0; 8]);

    let r = one(
        Stream::Stdout,
        r#"time=2026-11-25T14:59:00Z level=warn msg="retrying upstream" attempt=3"#,
    );
    assert_eq!(body(&r), "retrying upstream");
    assert_eq!(sev(&r), (13, "warn"));
    assert_eq!(attr(&r, "attempt"), Some(&Value::Str(Str::from("3"))));

    // Malformed JSON is a plain line with the stream's severity.
    let r = one(Stream::Stdout, r#"{"level":"error","msg":"cut off"#);
    assert_eq!(body(&r), r#"{"level":"error","msg":"cut off"#);
    assert_eq!(sev(&r), (9, "INFO"));
}

#[test]
fn recycled_attribute_lists_start_empty() {
    let mut parser = parser(Stream::Stdout);
    let (mut out, mut kept) = (Vec::new(), Vec::new());
    let lines = [
        r#"{"msg":"a","k1":1,"k2":2,"k3":3}"#,
        "msg=b only=1",
        r#"{"msg":"c"}"#,
        r#"{"msg":"d","k1":"x"}"#,
    ];
    for (i, text) in lines.iter().enumerate() {
        let line = Line::new(
            Stream::Stdout,
            OBSERVED,
            Bytes::from(text.as_bytes().to_vec()),
            None,
        );
        parser.push(line, &mut out);
        parser.flush(&mut out);
        let r = out.last().expect("a record per line");
        let keys: Vec<&str> = r.attributes.iter().map(|(k, _)| k.as_str()).collect();
        kept.push(keys.join(","));
        if i % 2 == 1 {
            parser.recycle(&mut out);
            assert!(out.is_empty());
        }
    }
    // Each record holds its own line's fields only, whatever list it got.
    assert_eq!(kept, ["k1,k2,k3", "only", "", "k1"]);
}

#[test]
fn modes_restrict_the_formats_tried() {
    let json_line = r#"{"level":"warn","msg":"m"}"#;
    let logfmt_line = "level=warn msg=m";
    let with = |mode: ParseMode, line: &str| {
        let config = ParseConfig {
            stdout_mode: mode,
            ..ParseConfig::default()
        };
        records_with(&config, Stream::Stdout, &[line.as_bytes()])
            .pop()
            .unwrap()
    };
    assert_eq!(sev(&with(ParseMode::Json, json_line)), (13, "warn"));
    assert_eq!(sev(&with(ParseMode::Json, logfmt_line)), (9, "INFO"));
    assert_eq!(sev(&with(ParseMode::Logfmt, logfmt_line)), (13, "warn"));
    assert_eq!(sev(&with(ParseMode::Text, json_line)), (9, "INFO"));
    let none = with(ParseMode::None, "2026-11-25T14:59:00Z ERROR boom");
    assert_eq!(sev(&none), (9, "INFO"));
    assert_eq!(none.time_unix_nano, 0);
}

#[test]
fn a_time_outside_the_window_is_kept_as_an_attribute() {
    let r = one(
        Stream::Stdout,
        "2015-07-29 17:41:44,747 - INFO  [main:QuorumPeer@1] - started",
    );
    assert_eq!(r.time_unix_nano, 0);
    assert_eq!(
        attr(&r, ORIGINAL_TIME),
        Some(&Value::Str(Str::from("2015-07-29 17:41:44,747")))
    );
    assert_eq!(sev(&r), (9, "INFO"));
}

#[test]
fn ansi_colours_are_removed_from_the_body() {
    let r = one(Stream::Stdout, "\x1b[33mWARN\x1b[0m disk \x1b[1mlow\x1b[0m");
    assert_eq!(body(&r), "WARN disk low");
    assert_eq!(sev(&r), (13, "WARN"));
    let config = ParseConfig {
        strip_ansi: false,
        ..ParseConfig::default()
    };
    let r = records_with(&config, Stream::Stdout, &[b"\x1b[31mred\x1b[0m"])
        .pop()
        .unwrap();
    assert_eq!(body(&r), "\x1b[31mred\x1b[0m");
}

/// (fixture file, stream, expected records, severity of the first record)
const FIXTURES: &[(&str, &[u8], Stream, usize, u8)] = &[
    (
        "python-traceback",
        include_bytes!("../../tests/fixtures/multiline/python-traceback.txt"),
        Stream::Stderr,
        1,
        17,
    ),
    (
        "python-chained",
        include_bytes!("../../tests/fixtures/multiline/python-chained.txt"),
        Stream::Stderr,
        1,
        17,
    ),
    (
        "python-raise-from",
        include_bytes!("../../tests/fixtures/multiline/python-raise-from.txt"),
        Stream::Stderr,
        1,
        17,
    ),
    (
        "python-logging",
        include_bytes!("../../tests/fixtures/multiline/python-logging.txt"),
        Stream::Stderr,
        6,
        5,
    ),
    (
        "python-exceptiongroup",
        include_bytes!("../../tests/fixtures/multiline/python-exceptiongroup.txt"),
        Stream::Stderr,
        1,
        17,
    ),
    (
        "java-caused-by",
        include_bytes!("../../tests/fixtures/multiline/java-caused-by.txt"),
        Stream::Stderr,
        1,
        17,
    ),
    (
        "java-thread",
        include_bytes!("../../tests/fixtures/multiline/java-thread.txt"),
        Stream::Stderr,
        1,
        17,
    ),
    (
        "java-jul-logging",
        include_bytes!("../../tests/fixtures/multiline/java-jul-logging.txt"),
        Stream::Stderr,
        4,
        9,
    ),
    (
        "node-uncaught",
        include_bytes!("../../tests/fixtures/multiline/node-uncaught.txt"),
        Stream::Stderr,
        1,
        17,
    ),
    (
        "node-unhandled-rejection",
        include_bytes!("../../tests/fixtures/multiline/node-unhandled-rejection.txt"),
        Stream::Stderr,
        1,
        17,
    ),
    (
        "node-console-error",
        include_bytes!("../../tests/fixtures/multiline/node-console-error.txt"),
        Stream::Stderr,
        1,
        17,
    ),
    (
        "node-console-error.stdout",
        include_bytes!("../../tests/fixtures/multiline/node-console-error.stdout.txt"),
        Stream::Stdout,
        2,
        9,
    ),
    (
        "go-panic",
        include_bytes!("../../tests/fixtures/multiline/go-panic.txt"),
        Stream::Stderr,
        1,
        21,
    ),
    (
        "go-nil-map",
        include_bytes!("../../tests/fixtures/multiline/go-nil-map.txt"),
        Stream::Stderr,
        1,
        21,
    ),
    (
        "go-index-range",
        include_bytes!("../../tests/fixtures/multiline/go-index-range.txt"),
        Stream::Stderr,
        1,
        21,
    ),
    (
        "go-goroutine-panic",
        include_bytes!("../../tests/fixtures/multiline/go-goroutine-panic.txt"),
        Stream::Stderr,
        1,
        21,
    ),
    (
        "go-goroutine-panic-all",
        include_bytes!("../../tests/fixtures/multiline/go-goroutine-panic-all.txt"),
        Stream::Stderr,
        1,
        21,
    ),
    (
        "go-log-fatal",
        include_bytes!("../../tests/fixtures/multiline/go-log-fatal.txt"),
        Stream::Stderr,
        4,
        17,
    ),
    (
        "rust-panic-backtrace",
        include_bytes!("../../tests/fixtures/multiline/rust-panic-backtrace.txt"),
        Stream::Stderr,
        1,
        21,
    ),
    (
        "rust-panic",
        include_bytes!("../../tests/fixtures/multiline/rust-panic.txt"),
        Stream::Stderr,
        1,
        21,
    ),
    (
        "rust-thread-panic",
        include_bytes!("../../tests/fixtures/multiline/rust-thread-panic.txt"),
        Stream::Stderr,
        2,
        21,
    ),
    (
        "rust-unwrap-err",
        include_bytes!("../../tests/fixtures/multiline/rust-unwrap-err.txt"),
        Stream::Stderr,
        1,
        21,
    ),
    (
        "sh-ls-nonexistent",
        include_bytes!("../../tests/fixtures/multiline/sh-ls-nonexistent.txt"),
        Stream::Stderr,
        1,
        17,
    ),
    (
        "sh-mixed",
        include_bytes!("../../tests/fixtures/multiline/sh-mixed.txt"),
        Stream::Stderr,
        7,
        17,
    ),
];

#[test]
fn real_crash_output_becomes_the_expected_records() {
    for &(name, bytes, stream, expected, first_severity) in FIXTURES {
        let records = records_of(stream, bytes);
        assert_eq!(records.len(), expected, "{name}: {records:#?}");
        assert_eq!(records[0].severity.number.0, first_severity, "{name}");
        // Nothing is lost: every non-blank line is in some record, in order.
        let text = String::from_utf8_lossy(bytes);
        let joined: String = records.iter().map(|r| format!("{}\n", body(r))).collect();
        let mut rest = joined.as_str();
        // (JSON lines give their message, not their text, as body.)
        for line in text
            .lines()
            .filter(|l| !l.trim().is_empty() && !l.starts_with('{'))
        {
            let at = rest
                .find(line)
                .unwrap_or_else(|| panic!("{name}: {line:?} missing or out of order"));
            rest = &rest[at + line.len()..];
        }
    }
}

#[test]
fn a_traceback_joins_its_log_message_only_when_written_together() {
    let message = b"ERROR:app:failed to charge\n";
    let trace = b"Traceback (most recent call last):\n  File \"x.py\", line 1, in <module>\nZeroDivisionError: division by zero\n";
    let together = [&message[..], &trace[..]].concat();
    assert_eq!(records_of(Stream::Stderr, &together).len(), 1);
    let apart = records_with(&ParseConfig::default(), Stream::Stderr, &[message, trace]);
    assert_eq!(apart.len(), 2);
    assert_eq!(sev(&apart[1]), (17, "Traceback"));
}

#[test]
fn merged_records_keep_the_first_lines_parse() {
    let input = b"2026-11-25T14:59:00Z ERROR [main] c.e.App - charge failed\njava.lang.IllegalStateException: no card\n\tat c.e.App.charge(App.java:10)\n2026-11-25T14:59:01Z INFO [main] c.e.App - next\n";
    let records = records_of(Stream::Stdout, input);
    assert_eq!(records.len(), 2);
    assert_eq!(sev(&records[0]), (17, "ERROR"));
    assert_eq!(records[0].time_unix_nano, OBSERVED - 60_000_000_000);
    assert_eq!(
        body(&records[0]),
        "2026-11-25T14:59:00Z ERROR [main] c.e.App - charge failed\njava.lang.IllegalStateException: no card\n\tat c.e.App.charge(App.java:10)"
    );
}

#[test]
fn caps_close_a_record() {
    let config = ParseConfig {
        multiline_max_lines: 3,
        ..ParseConfig::default()
    };
    let input = b"start\n  a\n  b\n  c\n  d\n";
    let records = records_with(&config, Stream::Stdout, &[input]);
    assert_eq!(records.len(), 2);
    assert_eq!(body(&records[0]), "start\n  a\n  b");
    assert_eq!(body(&records[1]), "  c\n  d");

    let config = ParseConfig {
        multiline_max_bytes: 12,
        ..ParseConfig::default()
    };
    let records = records_with(&config, Stream::Stdout, &[input]);
    assert_eq!(body(&records[0]), "start\n  a");
}

#[test]
fn blank_lines_inside_a_record_stay_and_trailing_ones_go() {
    let records = records_of(
        Stream::Stdout,
        b"\n\nfirst\n  more\n\n  after blank\n\n\nsecond\n\n",
    );
    let bodies: Vec<&str> = records.iter().map(body).collect();
    assert_eq!(bodies, ["first\n  more\n\n  after blank", "second"]);
}

#[test]
fn multiline_off_gives_one_record_per_line() {
    let config = ParseConfig {
        multiline: false,
        ..ParseConfig::default()
    };
    let records = records_with(&config, Stream::Stdout, &[b"a\n  b\n\n"]);
    assert_eq!(records.len(), 3);
}

#[test]
fn split_pieces_stay_separate_records() {
    let mut parser = parser(Stream::Stdout);
    let mut out = Vec::new();
    for (i, piece) in ["aaaa", "bbbb", "  cc"].iter().enumerate() {
        parser.push(
            Line::new(
                Stream::Stdout,
                OBSERVED,
                Bytes::from_static(piece.as_bytes()),
                Some(Split {
                    id: 1,
                    index: i as u32,
                    last: i == 2,
                }),
            ),
            &mut out,
        );
    }
    parser.flush(&mut out);
    assert_eq!(out.len(), 3);
    assert!(out.iter().all(|r| r.split.is_some()));
}

#[test]
fn invalid_utf8_stays_bytes_even_when_joined() {
    let records = records_of(Stream::Stdout, b"bad \xff line\n  continued\n");
    assert_eq!(records.len(), 1);
    assert_eq!(
        records[0].body,
        Value::Bytes(Bytes::from_static(b"bad \xff line\n  continued"))
    );
}

mod properties {
    use super::*;
    use proptest::prelude::*;

    fn all_records(config: &ParseConfig, input: &[u8], chunk: usize) -> Vec<Record> {
        let reads: Vec<&[u8]> = input.chunks(chunk.max(1)).collect();
        records_with(config, Stream::Stderr, &reads)
    }

    fn body_bytes(r: &Record) -> Vec<u8> {
        match &r.body {
            Value::Str(s) => s.as_bytes().to_vec(),
            Value::Bytes(b) => b.to_vec(),
            _ => Vec::new(),
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]

        /// Any bytes: no panic, and every byte of every non-blank line is in
        /// some record, in order (with ANSI stripping off, so the body is the
        /// line as read; the reader drops line ends and one `\r` before them).
        #[test]
        fn any_bytes_are_accounted_for(input in proptest::collection::vec(any::<u8>(), 0..2048), chunk in 1usize..300) {
            let config = ParseConfig { strip_ansi: false, ..ParseConfig::default() };
            let records = all_records(&config, &input, chunk);
            let mut produced = Vec::new();
            for r in &records {
                produced.extend_from_slice(&body_bytes(r));
                produced.push(b'\n');
            }
            let mut expected = Vec::new();
            for line in input.split(|&b| b == b'\n') {
                let line = line.strip_suffix(b"\r").unwrap_or(line);
                if !line.trim_ascii().is_empty() {
                    expected.extend_from_slice(line);
                    expected.push(b'\n');
                }
            }
            // Joined records may carry blank lines that sat between their lines.
            let produced: Vec<u8> = produced
                .split(|&b| b == b'\n')
                .filter(|l| !l.trim_ascii().is_empty())
                .flat_map(|l| l.iter().copied().chain(std::iter::once(b'\n')))
                .collect();
            prop_assert_eq!(produced, expected);
        }

        /// Structured-looking noise never panics and always yields records.
        #[test]
        fn json_and_logfmt_noise_never_panics(
            parts in proptest::collection::vec(prop_oneof![
                Just("{".to_string()), Just("}".to_string()), Just("\"".to_string()), Just(":".to_string()),
                Just("=".to_string()), Just(" ".to_string()), Just("level".to_string()), Just("msg".to_string()),
                Just("\\u00".to_string()), Just("[".to_string()), Just("2026-11-25T".to_string()), "[a-z0-9]{1,4}",
            ], 0..40)
        ) {
            let line = parts.concat();
            let records = all_records(&ParseConfig::default(), line.as_bytes(), 4096);
            prop_assert!(records.len() <= 1);
        }
    }
}

/// A line of many distinct keys, at the top level and one level down, with
/// repeated keys past the point where the key index takes over: every key
/// once, in first-seen order, the last value of each; and time that grows
/// with the line, not with its square (a linear search per key took 12 s on
/// a 1 MiB line in release; these 60,000 keys take well under a second in a
/// debug build, so the bound only catches the quadratic case).
#[test]
fn many_keys_stay_unique_and_cost_linear_time() {
    const KEYS: usize = 60_000;
    let object = |repeat_from: usize| {
        let mut s = String::from("{");
        for i in 0..KEYS {
            s.push_str(&format!("\"k{i}\":{i},"));
        }
        // Repeats of keys on both sides of the index threshold.
        for i in [0, 5, 31, 32, 33, repeat_from, KEYS - 1] {
            s.push_str(&format!("\"k{i}\":\"again\","));
        }
        s.pop();
        s.push('}');
        s
    };
    let top = object(40_000);
    let nested = format!("{{\"msg\":\"hi\",\"inner\":{}}}", object(50_000));
    // Straight to the parser: the lines are longer than the splitter's
    // default piece.
    let started = std::time::Instant::now();
    let mut parser = parser(Stream::Stdout);
    let mut records = Vec::new();
    for text in [top, nested] {
        let line = Line::new(Stream::Stdout, OBSERVED, Bytes::from(text), None);
        parser.push(line, &mut records);
    }
    parser.flush(&mut records);
    let took = started.elapsed();
    assert!(took < std::time::Duration::from_secs(20), "took {took:?}");
    assert_eq!(records.len(), 2);
    let check = |entries: &[(Str, Value)], repeated: usize| {
        assert_eq!(entries.len(), KEYS);
        for (i, (k, v)) in entries.iter().enumerate() {
            assert_eq!(k.as_str(), format!("k{i}"));
            let again = [0, 5, 31, 32, 33, repeated, KEYS - 1].contains(&i);
            match v {
                Value::Str(s) if again => assert_eq!(s.as_str(), "again"),
                Value::Int(n) if !again => assert_eq!(*n, i as i64),
                other => panic!("k{i}: {other:?}"),
            }
        }
    };
    check(&records[0].attributes, 40_000);
    let inner = records[1]
        .attributes
        .iter()
        .find(|(k, _)| k.as_str() == "inner")
        .map(|(_, v)| v)
        .expect("inner kept");
    let Value::Map(entries) = inner else {
        panic!("inner is a map: {inner:?}")
    };
    check(entries, 50_000);
}
