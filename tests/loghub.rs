//! Severity accuracy on real logs: ../shared/data/loghub (from the loghub
//! collection, https://github.com/logpai/loghub; see its LICENSE there).
//!
//! For every system whose structured CSV carries the true `Level` of each
//! line, the share of lines whose severity logwrap's parser detects exactly.
//! For the systems without a level column, how many lines got a level at all
//! (each should be a real level word in the line, such as sshd's `error:`).
//! Skips, saying so, where ../shared is absent.
//!
//! `cargo nextest run loghub --no-capture` prints the table.

use std::path::PathBuf;

use bytes::Bytes;
use logwrap::parse::{ParseConfig, Parser, severity};
use logwrap::read::LineSplitter;
use logwrap::record::{Record, Stream};

fn data_dir() -> Option<PathBuf> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/data/loghub");
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

#[test]
fn loghub_severity_accuracy() {
    let Some(dir) = data_dir() else {
        eprintln!("SKIPPED loghub_severity_accuracy: ../shared/data/loghub is not here");
        return;
    };
    println!(
        "{:<10} {:>6} {:>9} {:>9}  note",
        "system", "lines", "correct", "accuracy"
    );
    for system in [
        "Apache",
        "HDFS",
        "Hadoop",
        "Zookeeper",
        "Linux",
        "OpenSSH",
        "HealthApp",
        "Proxifier",
    ] {
        let raw = std::fs::read(dir.join(format!("{system}_2k.log"))).unwrap();
        let records = parse_log(&raw);
        let truth =
            levels(&dir.join(format!("{system}_2k.log_structured.csv"))).unwrap_or_default();
        let expected: Vec<Option<u8>> = truth
            .iter()
            .map(|level| severity::from_word(level.as_bytes()).map(|n| n.0))
            .collect();
        if expected.iter().any(Option::is_some) {
            assert_eq!(
                records.len(),
                expected.len(),
                "{system}: one record per line"
            );
            let correct = records
                .iter()
                .zip(&expected)
                .filter(|(r, e)| Some(r.severity.number.0) == **e)
                .count();
            let share = correct as f64 / records.len() as f64;
            println!(
                "{system:<10} {:>6} {correct:>9} {:>8.2}%",
                records.len(),
                share * 100.0
            );
            for (r, e) in records
                .iter()
                .zip(&expected)
                .filter(|(r, e)| Some(r.severity.number.0) != **e)
                .take(3)
            {
                println!(
                    "    miss: expected {e:?}, got {} in {:?}",
                    r.severity.number.0,
                    body(r)
                );
            }
            assert!(share >= 0.99, "{system}: {:.2}% < 99%", share * 100.0);
        } else {
            let with_level: Vec<&Record> = records
                .iter()
                .filter(|r| r.severity.number.0 != 0)
                .collect();
            println!(
                "{system:<10} {:>6} {:>9} {:>9}  no level column; {} lines got a level",
                records.len(),
                "-",
                "-",
                with_level.len()
            );
            for r in with_level.iter().take(2) {
                println!("    e.g. {} {:?}", r.severity.text, body(r));
            }
            // Each detected level must be a level word that is in the line.
            for r in &with_level {
                let text = body(r);
                assert!(text.contains(r.severity.text.as_str()), "{system}: {text}");
            }
        }
    }
}

fn body(r: &Record) -> String {
    match &r.body {
        logwrap::record::Value::Str(s) => s.as_str().chars().take(100).collect(),
        logwrap::record::Value::Bytes(b) => String::from_utf8_lossy(&Bytes::clone(b))
            .chars()
            .take(100)
            .collect(),
        _ => String::new(),
    }
}
