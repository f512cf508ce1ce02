//! Severity and time on the log layouts real programs write: a corpus of
//! lines in the documented formats of servers, databases, brokers, language
//! runtimes, logging libraries and system daemons (`tests/data/formats/`),
//! each format's source cited next to it, each line with its true level and
//! time.
//!
//! Corpus file syntax, one format after another:
//!
//! ```text
//! ## nginx error log
//! # where the format comes from (documentation, source file)
//! > ERROR 2026-11-28T09:14:04Z
//! 2026/11/28 09:14:04 [error] 29#29: *1 open() "/x" failed
//! ```
//!
//! `> BAND TIME` opens a record: BAND is TRACE, DEBUG, INFO, WARN, ERROR,
//! FATAL or NONE (the line names no level; logwrap must not invent one), TIME
//! is the true time in RFC 3339 or `-` (the line carries none, or one that
//! cannot be placed). The lines after it, up to the next `>`, are the
//! record's lines (a continuation line such as .NET's indented message or
//! PostgreSQL's `DETAIL:` belongs to its record). Each record is written as
//! one read, read at 2026-11-28T09:15:00Z, through one parser per format at
//! the defaults (multi-line joining on), so a record that swallows the next
//! one, or splits, is caught too.
//!
//! `cargo nextest run formats --no-capture` prints the per-format table and
//! the Markdown table the README's Parsing section shows.

use std::fmt::Write as _;

use logwrap::parse::{ParseConfig, Parser};
use logwrap::read::LineSplitter;
use logwrap::record::{Record, Stream, Value};

/// 2026-11-28T09:15:00Z: every time in the corpus is within the minute before.
const OBSERVED: u64 = 1_795_857_300_000_000_000;

const CORPUS: &[(&str, &str)] = &[
    ("web servers", include_str!("data/formats/web.txt")),
    ("databases", include_str!("data/formats/databases.txt")),
    ("brokers", include_str!("data/formats/brokers.txt")),
    ("runtimes", include_str!("data/formats/runtimes.txt")),
    ("systems", include_str!("data/formats/systems.txt")),
    ("loghub layouts", include_str!("data/formats/loghub.txt")),
];

struct Entry {
    band: Option<u8>,
    /// ns since the epoch; 0 for "no time".
    time: i128,
    lines: Vec<String>,
}

struct Format {
    group: &'static str,
    name: String,
    entries: Vec<Entry>,
}

fn band_of(name: &str) -> Option<u8> {
    match name {
        "NONE" => None,
        "TRACE" => Some(1),
        "DEBUG" => Some(2),
        "INFO" => Some(3),
        "WARN" => Some(4),
        "ERROR" => Some(5),
        "FATAL" => Some(6),
        other => panic!("unknown band {other:?}"),
    }
}

/// The OTel band of a number: 1 TRACE .. 6 FATAL.
fn band(number: u8) -> u8 {
    number.div_ceil(4)
}

fn corpus() -> Vec<Format> {
    let mut formats: Vec<Format> = Vec::new();
    for (group, text) in CORPUS {
        for (n, line) in text.lines().enumerate() {
            let at = || format!("{group} line {}", n + 1);
            if let Some(name) = line.strip_prefix("## ") {
                formats.push(Format {
                    group,
                    name: name.trim().to_string(),
                    entries: Vec::new(),
                });
            } else if line.starts_with("# ") || line == "#" || line.trim().is_empty() {
                continue;
            } else if let Some(spec) = line.strip_prefix("> ") {
                let (band, time) = spec
                    .split_once(' ')
                    .unwrap_or_else(|| panic!("{}: `> BAND TIME`", at()));
                let time = match time.trim() {
                    "-" => 0,
                    t => t
                        .parse::<jiff::Timestamp>()
                        .unwrap_or_else(|e| panic!("{}: {t}: {e}", at()))
                        .as_nanosecond(),
                };
                let format = formats.last_mut().unwrap_or_else(|| panic!("{}", at()));
                format.entries.push(Entry {
                    band: band_of(band),
                    time,
                    lines: Vec::new(),
                });
            } else {
                let entry = formats
                    .last_mut()
                    .and_then(|f| f.entries.last_mut())
                    .unwrap_or_else(|| panic!("{}: a line before any `>`", at()));
                entry.lines.push(line.to_string());
            }
        }
    }
    for f in &formats {
        assert!(!f.entries.is_empty(), "{}: no records", f.name);
        for e in &f.entries {
            assert!(!e.lines.is_empty(), "{}: a `>` without lines", f.name);
        }
    }
    formats
}

/// The records logwrap makes of a format's entries, each written as one read.
fn parse(format: &Format) -> Vec<Record> {
    let config = ParseConfig {
        stdout_severity: None,
        ..ParseConfig::default()
    };
    let mut parser = Parser::new(&config, Stream::Stdout);
    let mut out = Vec::new();
    for (i, entry) in format.entries.iter().enumerate() {
        let mut splitter = LineSplitter::new(Stream::Stdout, 1 << 20);
        let mut read = entry.lines.join("\n");
        read.push('\n');
        splitter.extend(read.as_bytes());
        let mut lines = Vec::new();
        splitter.finish(OBSERVED + i as u64, &mut |l| lines.push(l));
        for l in lines {
            parser.push(l, &mut out);
        }
    }
    parser.flush(&mut out);
    out
}

fn severity_right(r: &Record, e: &Entry) -> bool {
    match e.band {
        None => r.severity.number.0 == 0,
        Some(b) => r.severity.number.0 != 0 && band(r.severity.number.0) == b,
    }
}

fn time_right(r: &Record, e: &Entry) -> bool {
    if e.time == 0 {
        return r.time_unix_nano == 0;
    }
    // Float epochs (zap's `ts`) carry about 0.2 µs of rounding.
    r.time_unix_nano != 0 && (r.time_unix_nano as i128 - e.time).abs() <= 1_000
}

fn body(r: &Record) -> String {
    match &r.body {
        Value::Str(s) => s.as_str().to_string(),
        other => format!("{other:?}"),
    }
}

fn extracted(r: &Record) -> String {
    let level = if r.severity.number.0 == 0 {
        "no level".to_string()
    } else {
        format!(
            "`{}` → {}",
            r.severity.text.as_str(),
            r.severity.number.short_name()
        )
    };
    let time = if r.time_unix_nano == 0 {
        "no time".to_string()
    } else {
        let ts = jiff::Timestamp::from_nanosecond(r.time_unix_nano as i128).unwrap();
        ts.to_string()
    };
    format!("{level}, {time}")
}

/// A line for a Markdown cell: tabs shown, pipes escaped, long lines cut.
fn cell(line: &str) -> String {
    let mut s: String = line.replace('\t', "⇥").replace('|', "\\|");
    if s.chars().count() > 72 {
        s = s.chars().take(71).collect::<String>() + "…";
    }
    if s.contains('`') {
        format!("`` {s} ``")
    } else {
        format!("`{s}`")
    }
}

#[test]
fn corpus_of_real_formats() {
    let formats = corpus();
    let (mut records_total, mut sev_total, mut time_total) = (0usize, 0usize, 0usize);
    let mut report = String::new();
    let mut table =
        String::from("| format | example line | what logwrap extracts |\n|---|---|---|\n");
    let mut misses = Vec::new();
    writeln!(
        report,
        "{:<16} {:<44} {:>7} {:>9} {:>6}",
        "group", "format", "records", "severity", "time"
    )
    .unwrap();
    for format in &formats {
        let records = parse(format);
        let n = format.entries.len();
        if records.len() != n {
            misses.push(format!(
                "{}: {} records for {} entries: {:#?}",
                format.name,
                records.len(),
                n,
                records.iter().map(body).collect::<Vec<_>>()
            ));
            records_total += n;
            continue;
        }
        let mut sev = 0;
        let mut time = 0;
        for (r, e) in records.iter().zip(&format.entries) {
            if severity_right(r, e) {
                sev += 1;
            } else {
                misses.push(format!(
                    "{}: severity {} ({}) for {:?}: {}",
                    format.name,
                    r.severity.number.0,
                    r.severity.text.as_str(),
                    e.band,
                    e.lines[0]
                ));
            }
            if time_right(r, e) {
                time += 1;
            } else {
                misses.push(format!(
                    "{}: time {} for {}: {}",
                    format.name, r.time_unix_nano, e.time, e.lines[0]
                ));
            }
        }
        records_total += n;
        sev_total += sev;
        time_total += time;
        writeln!(
            report,
            "{:<16} {:<44} {:>7} {:>8}/{} {:>4}/{}",
            format.group,
            format.name.chars().take(44).collect::<String>(),
            n,
            sev,
            n,
            time,
            n
        )
        .unwrap();
        // The README shows the format's first line that names a level.
        let (r, e) = records
            .iter()
            .zip(&format.entries)
            .find(|(_, e)| e.band.is_some())
            .unwrap_or((&records[0], &format.entries[0]));
        writeln!(
            table,
            "| {} | {} | {} |",
            format.name,
            cell(&e.lines[0]),
            extracted(r)
        )
        .unwrap();
    }
    let sev_share = sev_total as f64 / records_total as f64;
    let time_share = time_total as f64 / records_total as f64;
    writeln!(
        report,
        "{} formats, {records_total} records: severity right on {sev_total} ({:.2}%), time right on {time_total} ({:.2}%)",
        formats.len(),
        sev_share * 100.0,
        time_share * 100.0
    )
    .unwrap();
    println!("{report}\n{table}");
    for m in &misses {
        println!("MISS {m}");
    }
    assert!(formats.len() >= 60, "{} formats < 60", formats.len());
    assert!(
        sev_share >= 0.99,
        "severity right on {:.2}% < 99%: {misses:#?}",
        sev_share * 100.0
    );
    assert!(
        time_share >= 0.99,
        "time right on {:.2}% < 99%: {misses:#?}",
        time_share * 100.0
    );
}
