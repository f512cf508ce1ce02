//! Severity accuracy on real logs: ../shared/data/loghub (from the loghub
//! collection, https://github.com/logpai/loghub; see its LICENSE there).
//!
//! Every `<System>_2k.log` in the directory is measured. Where its
//! structured CSV carries the true `Level` of each line, the share of lines
//! whose severity logwrap's parser puts in the right band (TRACE, DEBUG,
//! INFO, WARN, ERROR, FATAL), per system and overall, must be at least 99%.
//! For the systems without a level column, every level found must be written
//! in the line. `LOGWRAP_LOGHUB_DIR` points the test at another copy (for
//! example all of loghub's systems). Skips, saying so, where the directory
//! is absent.
//!
//! `cargo nextest run loghub --no-capture` prints the table.

use std::path::PathBuf;

use bytes::Bytes;
use logwrap::parse::{ParseConfig, Parser, severity};
use logwrap::read::LineSplitter;
use logwrap::record::{Record, Stream};

fn data_dir() -> Option<PathBuf> {
    let dir = match std::env::var_os("LOGWRAP_LOGHUB_DIR") {
        Some(dir) => PathBuf::from(dir),
        None => PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/data/loghub"),
    };
    dir.is_dir().then_some(dir)
}

/// Every line of a raw log as one record each, severity 0 when none is found.
fn parse_log(bytes: &[u8]) -> Vec<Record> {
    let config = ParseConfig {
        stdout_severity: None,
        multiline: false,
        ..ParseConfig::default()
    };
    let mut parser = Parser::new(&config, Stream::Stdout);
    let mut splitter = LineSplitter::new(Stream::Stdout, 1 << 20);
    splitter.extend(bytes);
    let mut out = Vec::new();
    let now = 1_795_618_800_000_000_000;
    let mut lines = Vec::new();
    splitter.finish(now, &mut |l| lines.push(l));
    for l in lines {
        parser.push(l, &mut out);
    }
    parser.flush(&mut out);
    out
}

fn levels(csv_path: &PathBuf) -> Option<Vec<String>> {
    let mut reader = csv::Reader::from_path(csv_path).ok()?;
    let column = reader.headers().ok()?.iter().position(|h| h == "Level")?;
    Some(
        reader
            .records()
            .map(|r| r.expect("csv row")[column].to_string())
            .collect(),
    )
}

/// The OTel band of a number: 1 TRACE, 2 DEBUG, 3 INFO, 4 WARN, 5 ERROR, 6 FATAL.
fn band(number: u8) -> u8 {
    number.div_ceil(4)
}

/// The true level a loghub CSV gives: a word (`INFO`, `notice`, `SEVERE`)
/// or a logcat letter (`D`, `V`).
fn truth(level: &str) -> Option<u8> {
    match level.as_bytes() {
        [c] => severity::from_letter(*c),
        word => severity::from_word(word),
    }
    .map(|n| n.0)
}

#[test]
fn loghub_severity_accuracy() {
    let Some(dir) = data_dir() else {
        eprintln!("SKIPPED loghub_severity_accuracy: ../shared/data/loghub is not here");
        return;
    };
    let mut systems: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .filter_map(|e| {
            let name = e.ok()?.file_name().into_string().ok()?;
            Some(name.strip_suffix("_2k.log")?.to_string())
        })
        .collect();
    systems.sort();
    assert!(!systems.is_empty(), "no <System>_2k.log in {dir:?}");
    println!(
        "{:<12} {:>6} {:>9} {:>9}  note",
        "system", "lines", "correct", "accuracy"
    );
    let (mut all_lines, mut all_correct) = (0usize, 0usize);
    let mut failures = Vec::new();
    for system in &systems {
        let raw = std::fs::read(dir.join(format!("{system}_2k.log"))).unwrap();
        let records = parse_log(&raw);
        let truth_levels =
            levels(&dir.join(format!("{system}_2k.log_structured.csv"))).unwrap_or_default();
        let expected: Vec<Option<u8>> = truth_levels.iter().map(|l| truth(l)).collect();
        if expected.iter().any(Option::is_some) {
            assert_eq!(
                records.len(),
                expected.len(),
                "{system}: one record per line"
            );
            let right = |r: &Record, e: &Option<u8>| {
                e.is_some_and(|e| r.severity.number.0 != 0 && band(r.severity.number.0) == band(e))
            };
            let correct = records
                .iter()
                .zip(&expected)
                .filter(|(r, e)| right(r, e))
                .count();
            all_lines += records.len();
            all_correct += correct;
            let share = correct as f64 / records.len() as f64;
            println!(
                "{system:<12} {:>6} {correct:>9} {:>8.2}%",
                records.len(),
                share * 100.0
            );
            for (r, e) in records
                .iter()
                .zip(&expected)
                .filter(|(r, e)| !right(r, e))
                .take(3)
            {
                println!(
                    "    miss: expected {e:?}, got {} in {:?}",
                    r.severity.number.0,
                    body(r)
                );
            }
            if share < 0.99 {
                failures.push(format!("{system}: {:.2}% < 99%", share * 100.0));
            }
        } else {
            let with_level: Vec<&Record> = records
                .iter()
                .filter(|r| r.severity.number.0 != 0)
                .collect();
            println!(
                "{system:<12} {:>6} {:>9} {:>9}  no level column; {} lines got a level",
                records.len(),
                "-",
                "-",
                with_level.len()
            );
            for r in with_level.iter().take(2) {
                println!("    e.g. {} {:?}", r.severity.text, body(r));
            }
            // Each detected level must be written in the line.
            for r in &with_level {
                let text = body(r);
                assert!(text.contains(r.severity.text.as_str()), "{system}: {text}");
            }
        }
    }
    let overall = all_correct as f64 / all_lines.max(1) as f64;
    println!(
        "{:<12} {all_lines:>6} {all_correct:>9} {:>8.2}%",
        "overall",
        overall * 100.0
    );
    assert!(failures.is_empty(), "{failures:?}");
    assert!(overall >= 0.99, "overall {:.2}% < 99%", overall * 100.0);
}

fn body(r: &Record) -> String {
    match &r.body {
        logwrap::record::Value::Str(s) => s.as_str().chars().take(120).collect(),
        logwrap::record::Value::Bytes(b) => String::from_utf8_lossy(&Bytes::clone(b))
            .chars()
            .take(120)
            .collect(),
        _ => String::new(),
    }
}
