//! Retry decisions and backoff, as pure functions.
//!
//! ```text
//!  HTTP status + Retry-After ──classify_http()──► Success | Retry(after?) | Permanent
//!  Backoff::next_delay() ──► exponential, capped, with ±50% jitter
//! ```
//!
//! The OTLP/HTTP rules (opentelemetry-proto `docs/specification.md`, "Failures"
//! and "Throttling"): 429, 502, 503 and 504 are retryable, honouring a
//! `Retry-After` header in seconds or as an HTTP-date; every other 4xx/5xx is
//! permanent and the data is dropped. Connection failures and timeouts are
//! retried with exponential backoff and jitter (OTLP exporter spec, "Retry").
//! The gRPC table is in [`classify_grpc`].

use std::time::{Duration, SystemTime};

/// What to do after one attempt.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Disposition {
    Success,
    /// Try again, after the server's delay when it gave one.
    Retry {
        after: Option<Duration>,
    },
    /// Drop the data; retrying cannot help.
    Permanent,
}

/// Classifies an OTLP/HTTP response status.
pub fn classify_http(status: u16, retry_after: Option<&str>, now: SystemTime) -> Disposition {
    match status {
        200..=299 => Disposition::Success,
        429 | 502 | 503 | 504 => Disposition::Retry {
            after: retry_after.and_then(|v| parse_retry_after(v, now)),
        },
        _ => Disposition::Permanent,
    }
}

/// Classifies the answer of a non-OTLP HTTP destination (Loki, a plain HTTP
/// endpoint): 408, 429 and every 5xx are retryable, as Loki, Vector's and
/// Fluent Bit's HTTP outputs treat them; other 4xx are permanent.
pub fn classify_http_generic(
    status: u16,
    retry_after: Option<&str>,
    now: SystemTime,
) -> Disposition {
    match status {
        200..=299 => Disposition::Success,
        408 | 429 | 500..=599 => Disposition::Retry {
            after: retry_after.and_then(|v| parse_retry_after(v, now)),
        },
        _ => Disposition::Permanent,
    }
}

/// Classifies an OTLP/gRPC status (OTLP spec, "Failures" for gRPC):
/// CANCELLED, DEADLINE_EXCEEDED, ABORTED, OUT_OF_RANGE, UNAVAILABLE and
/// DATA_LOSS are retryable; RESOURCE_EXHAUSTED only when the server sent
/// `RetryInfo` (it can recover), whose delay is honoured; all else is
/// permanent.
pub fn classify_grpc(code: tonic::Code, retry_delay: Option<Duration>) -> Disposition {
    use tonic::Code;
    match code {
        Code::Ok => Disposition::Success,
        Code::Cancelled
        | Code::DeadlineExceeded
        | Code::Aborted
        | Code::OutOfRange
        | Code::Unavailable
        | Code::DataLoss => Disposition::Retry { after: retry_delay },
        Code::ResourceExhausted if retry_delay.is_some() => {
            Disposition::Retry { after: retry_delay }
        }
        _ => Disposition::Permanent,
    }
}

/// `Retry-After`: delay-seconds or an HTTP-date (RFC 9110 §10.2.3). A date in
/// the past means "now".
pub fn parse_retry_after(value: &str, now: SystemTime) -> Option<Duration> {
    let value = value.trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let date = httpdate::parse_http_date(value).ok()?;
    Some(date.duration_since(now).unwrap_or(Duration::ZERO))
}

/// Backoff settings.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RetryConfig {
    /// First delay. Default 1 s.
    pub initial: Duration,
    /// Largest delay. Default 30 s (the OTel Collector's `max_interval`).
    pub max_interval: Duration,
    /// After this long retrying one batch, it is dropped. Default 5 min (the
    /// Collector's `max_elapsed_time`).
    pub max_elapsed: Duration,
}

impl Default for RetryConfig {
    fn default() -> Self {
        RetryConfig {
            initial: Duration::from_secs(1),
            max_interval: Duration::from_secs(30),
            max_elapsed: Duration::from_secs(300),
        }
    }
}

/// Exponential backoff state for one destination; reset on success.
#[derive(Debug)]
pub struct Backoff {
    config: RetryConfig,
    next: Duration,
}

impl Backoff {
    pub fn new(config: RetryConfig) -> Self {
        Backoff {
            config,
            next: config.initial,
        }
    }

    pub fn config(&self) -> RetryConfig {
        self.config
    }

    /// The next delay: the current interval with ±50% jitter (so that many
    /// sidecars restarted together do not retry in step), then the interval
    /// grows by 1.5x up to the cap. `unit` is a random number in [0, 1).
    pub fn next_delay(&mut self, unit: f64) -> Duration {
        let base = self.next;
        self.next = base.mul_f64(1.5).min(self.config.max_interval);
        base.mul_f64(0.5 + unit).min(self.config.max_interval)
    }

    pub fn reset(&mut self) {
        self.next = self.config.initial;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn http_status_table() {
        let now = SystemTime::UNIX_EPOCH;
        let cases = [
            (200, Disposition::Success),
            (204, Disposition::Success),
            (400, Disposition::Permanent),
            (401, Disposition::Permanent),
            (404, Disposition::Permanent),
            (413, Disposition::Permanent),
            (429, Disposition::Retry { after: None }),
            (500, Disposition::Permanent),
            (502, Disposition::Retry { after: None }),
            (503, Disposition::Retry { after: None }),
            (504, Disposition::Retry { after: None }),
        ];
        for (status, expected) in cases {
            assert_eq!(classify_http(status, None, now), expected, "{status}");
        }
    }

    #[test]
    fn generic_http_table() {
        let now = SystemTime::UNIX_EPOCH;
        assert_eq!(classify_http_generic(204, None, now), Disposition::Success);
        for status in [408, 429, 500, 502, 503, 504] {
            assert_eq!(
                classify_http_generic(status, None, now),
                Disposition::Retry { after: None },
                "{status}"
            );
        }
        for status in [400, 401, 403, 404, 413] {
            assert_eq!(
                classify_http_generic(status, None, now),
                Disposition::Permanent,
                "{status}"
            );
        }
    }

    #[test]
    fn grpc_status_table() {
        use tonic::Code;
        let retryable = [
            Code::Cancelled,
            Code::DeadlineExceeded,
            Code::Aborted,
            Code::OutOfRange,
            Code::Unavailable,
            Code::DataLoss,
        ];
        for code in retryable {
            assert_eq!(
                classify_grpc(code, None),
                Disposition::Retry { after: None },
                "{code:?}"
            );
        }
        let permanent = [
            Code::Unknown,
            Code::InvalidArgument,
            Code::NotFound,
            Code::AlreadyExists,
            Code::PermissionDenied,
            Code::Unauthenticated,
            Code::FailedPrecondition,
            Code::Unimplemented,
            Code::Internal,
        ];
        for code in permanent {
            assert_eq!(
                classify_grpc(code, None),
                Disposition::Permanent,
                "{code:?}"
            );
        }
        assert_eq!(
            classify_grpc(Code::ResourceExhausted, None),
            Disposition::Permanent
        );
        let delay = Some(Duration::from_secs(2));
        assert_eq!(
            classify_grpc(Code::ResourceExhausted, delay),
            Disposition::Retry { after: delay }
        );
        assert_eq!(
            classify_grpc(Code::Unavailable, delay),
            Disposition::Retry { after: delay }
        );
        assert_eq!(classify_grpc(Code::Ok, None), Disposition::Success);
    }

    #[test]
    fn retry_after_seconds_and_dates() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_445_412_480);
        assert_eq!(
            classify_http(429, Some("7"), now),
            Disposition::Retry {
                after: Some(Duration::from_secs(7))
            }
        );
        // Wed, 21 Oct 2015 07:28:00 GMT is 1445412480.
        assert_eq!(
            parse_retry_after("Wed, 21 Oct 2015 07:28:10 GMT", now),
            Some(Duration::from_secs(10))
        );
        assert_eq!(
            parse_retry_after("Wed, 21 Oct 2015 07:27:00 GMT", now),
            Some(Duration::ZERO)
        );
        assert_eq!(parse_retry_after("soon", now), None);
        // A 400 with Retry-After is still permanent.
        assert_eq!(classify_http(400, Some("1"), now), Disposition::Permanent);
    }

    #[test]
    fn backoff_grows_with_jitter_caps_and_resets() {
        let config = RetryConfig {
            initial: Duration::from_secs(1),
            max_interval: Duration::from_secs(4),
            max_elapsed: Duration::from_secs(60),
        };
        let mut b = Backoff::new(config);
        // unit 0.5 → no jitter
        assert_eq!(b.next_delay(0.5), Duration::from_secs(1));
        assert_eq!(b.next_delay(0.5), Duration::from_millis(1500));
        assert_eq!(b.next_delay(0.5), Duration::from_millis(2250));
        assert_eq!(b.next_delay(0.5), Duration::from_millis(3375));
        assert_eq!(b.next_delay(0.5), Duration::from_secs(4));
        assert_eq!(b.next_delay(0.5), Duration::from_secs(4));
        // jitter spans ±50%
        b.reset();
        assert_eq!(b.next_delay(0.0), Duration::from_millis(500));
        b.reset();
        assert_eq!(b.next_delay(0.999_999), Duration::from_micros(1_499_999));
    }
}
