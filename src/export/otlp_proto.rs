//! Frames chunks of encoded records as `ExportLogsServiceRequest`s, in the
//! protobuf wire format, directly.
//!
//! ```text
//!  [Chunk] (LogRecord fields, encoded on the reader threads) + pre-encoded Resource and Scope ──frame()──► one request
//! ```
//!
//! Why not build `opentelemetry-proto`'s prost structs and call `encode`? Those
//! structs own a `String` for every body, key and value and a `Vec` for every
//! attribute list, so each record would cost several allocations and copies
//! before prost walks it twice (length, then bytes). The records arrive
//! already in wire form ([`crate::encode`]); a request is a header in front of
//! them: three length-delimited fields (ResourceLogs, its Resource, its
//! ScopeLogs with the Scope) whose lengths are known from the chunks'. The
//! field numbers are those of `opentelemetry/proto/{collector/logs,logs,
//! common,resource}/v1/*.proto`; the tests decode our output with the prost
//! types of the `opentelemetry-proto` crate.
//!
//! The same module reads a request back into its resource and its records'
//! bytes: disk buffer frames are requests.
//!
//! Pure and synchronous: no I/O, no clock.

use bytes::Bytes;

use crate::encode::log_record;
use crate::encode::wire::{
    DecodeError, FieldReader, FieldValue, LEN, field_len, put_bytes_field, put_len_field, tag,
};
use crate::encode::{CHUNK_OVERHEAD, Chunk};
use crate::record::{Record, Str, Value};

pub use crate::encode::log_record::{SPLIT_ID, SPLIT_INDEX, SPLIT_LAST};

// ExportLogsServiceRequest / ResourceLogs / ScopeLogs
const REQUEST_RESOURCE_LOGS: u8 = tag(1, LEN);
const RESOURCE_LOGS_RESOURCE: u8 = tag(1, LEN);
const RESOURCE_LOGS_SCOPE_LOGS: u8 = tag(2, LEN);
const SCOPE_LOGS_SCOPE: u8 = tag(1, LEN);
// Resource, InstrumentationScope
const RESOURCE_ATTRIBUTES: u8 = tag(1, LEN);
const SCOPE_NAME: u8 = tag(1, LEN);
const SCOPE_VERSION: u8 = tag(2, LEN);

/// Frames chunks of records for one resource and scope.
pub struct RequestEncoder {
    /// `Resource` message body.
    resource: Vec<u8>,
    /// `InstrumentationScope` message body.
    scope: Vec<u8>,
}

impl RequestEncoder {
    pub fn new(
        resource_attributes: &[(Str, Value)],
        scope_name: &str,
        scope_version: &str,
    ) -> Self {
        let mut resource = Vec::new();
        for (k, v) in resource_attributes {
            log_record::put_key_value(&mut resource, RESOURCE_ATTRIBUTES, k.as_bytes(), v);
        }
        let mut scope = Vec::new();
        put_bytes_field(&mut scope, SCOPE_NAME, scope_name.as_bytes());
        put_bytes_field(&mut scope, SCOPE_VERSION, scope_version.as_bytes());
        RequestEncoder { resource, scope }
    }

    /// The `Resource` message this encoder writes.
    pub fn resource(&self) -> &[u8] {
        &self.resource
    }

    /// Appends one `ExportLogsServiceRequest` holding the chunks' records.
    pub fn frame<'a>(&self, chunks: impl Iterator<Item = &'a [u8]> + Clone, out: &mut Vec<u8>) {
        let records: usize = chunks.clone().map(<[u8]>::len).sum();
        out.reserve(self.header_len(records) + records);
        self.header(records, out);
        for chunk in chunks {
            out.extend_from_slice(chunk);
        }
    }

    /// Bytes [`header`](Self::header) writes in front of `records` bytes.
    pub fn header_len(&self, records: usize) -> usize {
        let scope_logs_len = field_len(self.scope.len()) + records;
        let resource_logs_len = field_len(self.resource.len()) + field_len(scope_logs_len);
        field_len(resource_logs_len) - records
    }

    /// The start of a request whose encoded records (`records` bytes of
    /// them) follow: for senders that write the chunks themselves.
    pub fn header(&self, records: usize, out: &mut Vec<u8>) {
        let scope_logs_len = field_len(self.scope.len()) + records;
        let resource_logs_len = field_len(self.resource.len()) + field_len(scope_logs_len);
        put_len_field(out, REQUEST_RESOURCE_LOGS, resource_logs_len);
        put_bytes_field(out, RESOURCE_LOGS_RESOURCE, &self.resource);
        put_len_field(out, RESOURCE_LOGS_SCOPE_LOGS, scope_logs_len);
        put_bytes_field(out, SCOPE_LOGS_SCOPE, &self.scope);
    }

    /// Appends one `ExportLogsServiceRequest` holding `records`.
    pub fn encode(&self, records: &[Record], out: &mut Vec<u8>) {
        let chunk = crate::encode::chunk_of(records);
        self.frame(std::iter::once(&chunk.bytes[..]), out);
    }
}

/// A request read back: the `Resource` message and the records as a chunk.
pub struct ReadRequest {
    pub resource: Bytes,
    pub chunk: Chunk,
}

/// Reads a request we wrote (a disk buffer frame). Requests of several
/// resources or scopes are refused: we never write them.
pub fn read_request(request: &Bytes) -> Result<ReadRequest, DecodeError> {
    let mut resource = Bytes::new();
    let mut records: Option<std::ops::Range<usize>> = None;
    let mut count = 0;
    let mut resource_logs_seen = false;
    for field in FieldReader::new(request, 0..request.len()) {
        let (1, FieldValue::Len(rl)) = field? else {
            continue;
        };
        if std::mem::replace(&mut resource_logs_seen, true) {
            return Err(DecodeError("a request with more than one resource"));
        }
        for field in FieldReader::new(request, rl) {
            match field? {
                (1, FieldValue::Len(r)) => resource = request.slice(r),
                (2, FieldValue::Len(sl)) => {
                    for field in FieldReader::new(request, sl) {
                        if let (2, FieldValue::Len(lr)) = field? {
                            // The field (tag and length) precedes its payload.
                            let field_start = lr.end - field_len(lr.len());
                            records = match records {
                                None => Some(field_start..lr.end),
                                Some(run) if run.end == field_start => Some(run.start..lr.end),
                                Some(_) => {
                                    return Err(DecodeError("log records are not contiguous"));
                                }
                            };
                            count += 1;
                        }
                    }
                }
                _ => {}
            }
        }
    }
    let bytes = records.map_or_else(Bytes::new, |r| request.slice(r));
    Ok(ReadRequest {
        resource,
        chunk: Chunk {
            weight: bytes.len() + CHUNK_OVERHEAD,
            bytes,
            records: count,
        },
    })
}

/// A `Resource` message's attributes.
pub fn resource_attributes(resource: &Bytes) -> Result<Vec<(Str, Value)>, DecodeError> {
    log_record::read_key_values(resource, 0..resource.len(), 1)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::{Severity, SeverityNumber, Split, Stream};
    use bytes::Bytes;
    use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
    use opentelemetry_proto::tonic::common::v1::{AnyValue, KeyValue, any_value};
    use prost::Message;

    fn decode(bytes: &[u8]) -> ExportLogsServiceRequest {
        ExportLogsServiceRequest::decode(bytes).expect("valid protobuf")
    }

    fn string_value(v: &Option<AnyValue>) -> Option<&str> {
        match v.as_ref()?.value.as_ref()? {
            any_value::Value::StringValue(s) => Some(s),
            _ => None,
        }
    }

    fn attr<'a>(attrs: &'a [KeyValue], key: &str) -> Option<&'a any_value::Value> {
        attrs
            .iter()
            .find(|kv| kv.key == key)
            .and_then(|kv| kv.value.as_ref()?.value.as_ref())
    }

    #[test]
    fn a_plain_record_decodes_with_the_official_types() {
        let resource = vec![
            (Str::from("service.name"), Value::Str(Str::from("svc"))),
            (Str::from("process.pid"), Value::Int(4242)),
        ];
        let enc = RequestEncoder::new(&resource, "logwrap", "9.9.9");
        let mut r = Record::new(
            Stream::Stderr,
            1_700_000_000_123_456_789,
            Value::Str(Str::from("boom")),
        );
        r.severity = Severity {
            number: SeverityNumber::ERROR,
            text: Str::from("ERROR"),
        };
        let mut out = Vec::new();
        enc.encode(&[r], &mut out);

        let req = decode(&out);
        assert_eq!(req.resource_logs.len(), 1);
        let rl = &req.resource_logs[0];
        let res = rl.resource.as_ref().unwrap();
        assert_eq!(string_value(&res.attributes[0].value), Some("svc"));
        assert_eq!(
            attr(&res.attributes, "process.pid"),
            Some(&any_value::Value::IntValue(4242))
        );
        let sl = &rl.scope_logs[0];
        let scope = sl.scope.as_ref().unwrap();
        assert_eq!(
            (scope.name.as_str(), scope.version.as_str()),
            ("logwrap", "9.9.9")
        );
        let lr = &sl.log_records[0];
        assert_eq!(lr.observed_time_unix_nano, 1_700_000_000_123_456_789);
        assert_eq!(lr.time_unix_nano, 0);
        assert_eq!(lr.severity_number, 17);
        assert_eq!(lr.severity_text, "ERROR");
        assert_eq!(string_value(&lr.body), Some("boom"));
        assert_eq!(
            attr(&lr.attributes, "log.iostream"),
            Some(&any_value::Value::StringValue("stderr".into()))
        );
        assert!(lr.trace_id.is_empty() && lr.span_id.is_empty());
    }

    #[test]
    fn every_value_kind_and_field_round_trips() {
        let enc = RequestEncoder::new(&[], "s", "v");
        let nested = crate::encode::log_record::every_kind_of_value();
        let mut r = Record::new(
            Stream::Stdout,
            5,
            Value::Bytes(Bytes::from_static(b"\xff\x00")),
        );
        r.time_unix_nano = 4;
        r.attributes.push((Str::from("nested"), nested));
        r.split = Some(Split {
            id: 3,
            index: 1,
            last: true,
        });
        r.trace_id = [0xab; 16];
        r.span_id = [0xcd; 8];
        r.flags = 1;
        r.event_name = Str::from("process.exit");
        let mut out = Vec::new();
        enc.encode(&[r.clone(), r], &mut out);

        let req = decode(&out);
        let records = &req.resource_logs[0].scope_logs[0].log_records;
        assert_eq!(records.len(), 2);
        let lr = &records[1];
        assert_eq!(lr.time_unix_nano, 4);
        assert_eq!(lr.observed_time_unix_nano, 5);
        assert_eq!(lr.severity_number, 0);
        assert_eq!(lr.severity_text, "");
        assert_eq!(
            lr.body.as_ref().unwrap().value,
            Some(any_value::Value::BytesValue(vec![0xff, 0]))
        );
        assert_eq!(lr.trace_id, vec![0xab; 16]);
        assert_eq!(lr.span_id, vec![0xcd; 8]);
        assert_eq!(lr.flags, 1);
        assert_eq!(lr.event_name, "process.exit");
        assert_eq!(
            attr(&lr.attributes, SPLIT_ID),
            Some(&any_value::Value::IntValue(3))
        );
        assert_eq!(
            attr(&lr.attributes, SPLIT_INDEX),
            Some(&any_value::Value::IntValue(1))
        );
        assert_eq!(
            attr(&lr.attributes, SPLIT_LAST),
            Some(&any_value::Value::BoolValue(true))
        );
        let Some(any_value::Value::KvlistValue(kv)) = attr(&lr.attributes, "nested") else {
            panic!("nested map expected");
        };
        assert_eq!(
            attr(&kv.values, "neg"),
            Some(&any_value::Value::IntValue(-5))
        );
        assert_eq!(
            attr(&kv.values, "pi"),
            Some(&any_value::Value::DoubleValue(3.25))
        );
        assert_eq!(
            attr(&kv.values, "yes"),
            Some(&any_value::Value::BoolValue(true))
        );
        let empty = kv.values.iter().find(|e| e.key == "nothing").unwrap();
        assert_eq!(empty.value.as_ref().unwrap().value, None);
        let Some(any_value::Value::ArrayValue(list)) = attr(&kv.values, "list") else {
            panic!("array expected");
        };
        assert_eq!(
            list.values[0].value,
            Some(any_value::Value::StringValue(String::new()))
        );
        assert_eq!(
            list.values[1].value,
            Some(any_value::Value::IntValue(i64::MIN))
        );
    }

    #[test]
    fn output_is_byte_identical_to_prost() {
        // Same message through prost: our encoder writes fields in the same order.
        let enc = RequestEncoder::new(&[(Str::from("k"), Value::Str(Str::from("v")))], "s", "1");
        let mut r = Record::new(Stream::Stdout, 99, Value::Str(Str::from("hello")));
        r.severity = Severity {
            number: SeverityNumber::INFO,
            text: Str::from("INFO"),
        };
        r.attributes.push((Str::from("a"), Value::Int(300)));
        let mut ours = Vec::new();
        enc.encode(&[r], &mut ours);
        let theirs = decode(&ours).encode_to_vec();
        assert_eq!(ours, theirs);
    }

    #[test]
    fn a_request_reads_back_into_its_resource_and_chunk() {
        let resource = vec![(Str::from("service.name"), Value::Str(Str::from("svc")))];
        let enc = RequestEncoder::new(&resource, "logwrap", "1");
        let records: Vec<Record> = (0..3)
            .map(|i| Record::new(Stream::Stdout, i, Value::Str(Str::from(format!("l{i}")))))
            .collect();
        let chunks = [
            crate::encode::chunk_of(&records[..1]),
            crate::encode::chunk_of(&records[1..]),
        ];
        let mut out = Vec::new();
        enc.frame(chunks.iter().map(|c| &c.bytes[..]), &mut out);
        assert_eq!(
            decode(&out).resource_logs[0].scope_logs[0]
                .log_records
                .len(),
            3
        );
        let read = read_request(&Bytes::from(out)).unwrap();
        assert_eq!(resource_attributes(&read.resource).unwrap(), resource);
        assert_eq!(read.chunk.records, 3);
        let mut back = Vec::new();
        read.chunk.read(&mut back).unwrap();
        assert_eq!(back, records);
    }

    #[test]
    fn empty_batch_is_still_a_valid_request() {
        let enc = RequestEncoder::new(&[], "s", "v");
        let mut out = Vec::new();
        enc.encode(&[], &mut out);
        assert!(
            decode(&out).resource_logs[0].scope_logs[0]
                .log_records
                .is_empty()
        );
    }
}
