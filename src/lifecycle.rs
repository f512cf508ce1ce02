//! Lifecycle records: one when the child starts, one when it ends.
//!
//! "Why did my container restart" should be one query away, so the run's
//! start and end travel with the logs as OTel events (records with an
//! `EventName`):
//!
//! | event | attributes |
//! |---|---|
//! | `logwrap.process.start` | `process.pid`, `process.command`, `process.creation.time`, `process.command_args` (only with `--resource-command-args`) |
//! | `logwrap.dropped` | `logwrap.dropped.count`, `.queue_full`, `.failed`, `.first_time`, `.last_time`, `logwrap.destination` (sent after records were lost, once delivery works again) |
//! | `logwrap.process.exit` | `process.pid`, `process.exit.code` (logwrap's own exit code: 128+N for signal N), `process.exit.time`, `logwrap.process.signal` and `logwrap.process.signal_number` (when killed by a signal), `logwrap.process.duration_ms`, `logwrap.process.max_rss_bytes`, `logwrap.process.cpu.user_seconds`, `logwrap.process.cpu.system_seconds` (the kernel's rusage) |
//!
//! Standard names where the semantic conventions have them, `logwrap.*`
//! otherwise (the conventions define no process events or signal, duration
//! or rusage attributes). Semantic conventions say events should carry no
//! body; these carry a one-line summary anyway, because Loki and the console
//! show only the body. Severity: INFO for a start and a zero exit, ERROR
//! otherwise.

use std::ffi::OsString;
use std::os::unix::ffi::OsStrExt;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::record::{Record, Severity, SeverityNumber, Str, Stream, Value};
use crate::supervise::{ChildExit, Outcome};

pub const START: &str = "logwrap.process.start";
pub const EXIT: &str = "logwrap.process.exit";

fn unix_nanos(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(0)
}

fn text(s: impl Into<String>) -> Value {
    Value::Str(Str::from(s.into()))
}

fn attr(key: &'static str, value: Value) -> (Str, Value) {
    (Str::from_static(key), value)
}

fn iso(t: SystemTime) -> Value {
    text(humantime::format_rfc3339_nanos(t).to_string())
}

fn event(
    name: &'static str,
    at: SystemTime,
    severity: SeverityNumber,
    body: String,
    attributes: Vec<(Str, Value)>,
) -> Record {
    let mut r = Record::new(Stream::Lifecycle, unix_nanos(at), text(body));
    r.time_unix_nano = unix_nanos(at);
    r.severity = Severity {
        number: severity,
        text: Str::from_static(severity.short_name()),
    };
    r.event_name = Str::from_static(name);
    r.attributes = attributes;
    r
}

/// The child has started.
pub fn started(argv: &[OsString], pid: i32, include_args: bool, at: SystemTime) -> Record {
    let command = argv
        .first()
        .map(|a| String::from_utf8_lossy(a.as_bytes()).into_owned())
        .unwrap_or_default();
    let mut attributes = vec![
        attr("process.pid", Value::Int(pid as i64)),
        attr("process.command", text(command.clone())),
        attr("process.creation.time", iso(at)),
    ];
    if include_args {
        let args = argv
            .iter()
            .map(|a| text(String::from_utf8_lossy(a.as_bytes()).into_owned()))
            .collect();
        attributes.push(attr("process.command_args", Value::Array(args)));
    }
    event(
        START,
        at,
        SeverityNumber::INFO,
        format!("started {command} (pid {pid})"),
        attributes,
    )
}

/// The child has ended; `code` is the exit code logwrap reports for it.
pub fn exited(exit: &ChildExit, code: u8, pid: i32, ran_for: Duration, at: SystemTime) -> Record {
    let seconds = |tv: libc::timeval| tv.tv_sec as f64 + tv.tv_usec as f64 / 1e6;
    let mut attributes = vec![
        attr("process.pid", Value::Int(pid as i64)),
        attr("process.exit.code", Value::Int(code as i64)),
        attr("process.exit.time", iso(at)),
        attr(
            "logwrap.process.duration_ms",
            Value::Int(ran_for.as_millis() as i64),
        ),
        // ru_maxrss is in KiB on Linux.
        attr(
            "logwrap.process.max_rss_bytes",
            Value::Int(exit.rusage.ru_maxrss * 1024),
        ),
        attr(
            "logwrap.process.cpu.user_seconds",
            Value::Double(seconds(exit.rusage.ru_utime)),
        ),
        attr(
            "logwrap.process.cpu.system_seconds",
            Value::Double(seconds(exit.rusage.ru_stime)),
        ),
    ];
    let took = format!("{:.3} s", ran_for.as_secs_f64());
    let body = match exit.outcome {
        Outcome::Signaled(signal) => {
            let name = crate::supervise::exit::signal_name(signal);
            attributes.push(attr("logwrap.process.signal", text(name.clone())));
            attributes.push(attr(
                "logwrap.process.signal_number",
                Value::Int(signal as i64),
            ));
            format!("killed by {name} after {took} (exit code {code})")
        }
        _ => format!("exited with code {code} after {took}"),
    };
    let severity = if code == 0 {
        SeverityNumber::INFO
    } else {
        SeverityNumber::ERROR
    };
    event(EXIT, at, severity, body, attributes)
}

pub const DROPPED: &str = "logwrap.dropped";

/// Records were lost for a destination: how many, why, and over which time,
/// sent once delivery works again so the gap is visible in the backend.
pub fn dropped(destination: &str, drops: &crate::telemetry::Drops) -> Record {
    let at = SystemTime::now();
    let from = UNIX_EPOCH + Duration::from_nanos(drops.first_unix_nano);
    let to = UNIX_EPOCH + Duration::from_nanos(drops.last_unix_nano);
    let total = drops.queue_full + drops.failed;
    let attributes = vec![
        attr("logwrap.dropped.count", Value::Int(total as i64)),
        attr(
            "logwrap.dropped.queue_full",
            Value::Int(drops.queue_full as i64),
        ),
        attr("logwrap.dropped.failed", Value::Int(drops.failed as i64)),
        attr("logwrap.dropped.first_time", iso(from)),
        attr("logwrap.dropped.last_time", iso(to)),
        attr("logwrap.destination", text(destination.to_string())),
    ];
    let body = format!(
        "logwrap dropped {total} records for {destination} between {} and {} (queue full: {}, delivery failed: {})",
        humantime::format_rfc3339_millis(from),
        humantime::format_rfc3339_millis(to),
        drops.queue_full,
        drops.failed
    );
    event(DROPPED, at, SeverityNumber::WARN, body, attributes)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn get<'a>(r: &'a Record, key: &str) -> Option<&'a Value> {
        r.attributes
            .iter()
            .find(|(k, _)| k.as_str() == key)
            .map(|(_, v)| v)
    }

    #[test]
    fn a_start_event() {
        let argv = [OsString::from("/app/server"), OsString::from("--port=1")];
        let r = started(&argv, 42, false, SystemTime::now());
        assert_eq!(r.event_name.as_str(), START);
        assert_eq!(get(&r, "process.pid"), Some(&Value::Int(42)));
        assert!(get(&r, "process.command_args").is_none());
        assert_eq!(r.stream, Stream::Lifecycle);
        let r = started(&argv, 42, true, SystemTime::now());
        assert!(matches!(get(&r, "process.command_args"), Some(Value::Array(a)) if a.len() == 2));
    }

    #[test]
    fn an_exit_by_signal_names_it() {
        // SAFETY: an all-zero rusage is a valid value.
        let mut rusage: libc::rusage = unsafe { std::mem::zeroed() };
        rusage.ru_maxrss = 2048;
        rusage.ru_utime.tv_sec = 1;
        rusage.ru_utime.tv_usec = 500_000;
        let exit = ChildExit {
            outcome: Outcome::Signaled(libc::SIGTERM),
            rusage,
        };
        let r = exited(
            &exit,
            143,
            7,
            Duration::from_millis(1500),
            SystemTime::now(),
        );
        assert_eq!(r.event_name.as_str(), EXIT);
        assert_eq!(r.severity.number, SeverityNumber::ERROR);
        assert_eq!(get(&r, "process.exit.code"), Some(&Value::Int(143)));
        assert_eq!(
            get(&r, "logwrap.process.signal"),
            Some(&Value::Str(Str::from("SIGTERM")))
        );
        assert_eq!(
            get(&r, "logwrap.process.max_rss_bytes"),
            Some(&Value::Int(2048 * 1024))
        );
        assert_eq!(
            get(&r, "logwrap.process.cpu.user_seconds"),
            Some(&Value::Double(1.5))
        );
        assert_eq!(
            get(&r, "logwrap.process.duration_ms"),
            Some(&Value::Int(1500))
        );
        let exit = ChildExit {
            outcome: Outcome::Exited(0),
            rusage,
        };
        let r = exited(&exit, 0, 7, Duration::from_secs(1), SystemTime::now());
        assert_eq!(r.severity.number, SeverityNumber::INFO);
        assert!(get(&r, "logwrap.process.signal").is_none());
    }
}
