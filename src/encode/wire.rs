//! The protobuf wire format's building blocks, for the encoders that write
//! messages directly (`encode::log_record`, `export::otlp_proto`,
//! `export::loki`): varints, tags, length-delimited fields. Two passes per
//! message: size first, then bytes, so no length ever needs patching.
//!
//! And the reading side, [`FieldReader`], for the one kind of message we read
//! back: our own records (chunks handed to exporters, disk buffer frames).
//! prost decodes into owned structs (a `String` per value, a `Vec` per list);
//! reading the fields in place lets a record's text stay a slice of the chunk.

use std::ops::Range;

// Wire types.
pub const VARINT: u32 = 0;
pub const I64: u32 = 1;
pub const LEN: u32 = 2;
pub const I32: u32 = 5;

/// A one-byte tag: every field number we write is below 16.
pub const fn tag(field: u32, wire: u32) -> u8 {
    ((field << 3) | wire) as u8
}

#[inline]
pub fn varint_len(v: u64) -> usize {
    // 7 bits per byte (0 still takes one): ceil(bits / 7), which for 1..=64
    // bits equals (bits * 9 + 64) / 64. The division by 7 compiled to two
    // multiplications, and the encoder's size pass asks this for every
    // field of every record (perf: the encoder's hottest instructions).
    let bits = 64 - (v | 1).leading_zeros() as usize;
    (bits * 9 + 64) >> 6
}

#[inline]
pub fn put_varint(out: &mut Vec<u8>, mut v: u64) {
    if v < 0x80 {
        out.push(v as u8);
        return;
    }
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

/// Size of a length-delimited field (tag + length + payload) with a 1-byte tag.
#[inline]
pub fn field_len(payload: usize) -> usize {
    1 + varint_len(payload as u64) + payload
}

#[inline]
pub fn put_len_field(out: &mut Vec<u8>, tag: u8, payload: usize) {
    out.push(tag);
    put_varint(out, payload as u64);
}

#[inline]
pub fn put_bytes_field(out: &mut Vec<u8>, tag: u8, bytes: &[u8]) {
    put_len_field(out, tag, bytes.len());
    out.extend_from_slice(bytes);
}

/// Bytes that are not the protobuf message they should be.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("malformed protobuf: {0}")]
pub struct DecodeError(pub &'static str);

/// One field's value as the wire format carries it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FieldValue {
    Varint(u64),
    Fixed64(u64),
    Fixed32(u32),
    /// Where the payload of a length-delimited field lies, as offsets into the
    /// buffer the reader was started on (so a caller holding it as `Bytes`
    /// can slice it without copying).
    Len(Range<usize>),
}

/// Reads the fields of one message, in order.
pub struct FieldReader<'a> {
    buf: &'a [u8],
    pos: usize,
    end: usize,
}

impl<'a> FieldReader<'a> {
    /// Reads the message in `buf[range]`; offsets in [`FieldValue::Len`]
    /// are into `buf`.
    pub fn new(buf: &'a [u8], range: Range<usize>) -> Self {
        let end = range.end.min(buf.len());
        FieldReader {
            buf,
            pos: range.start.min(end),
            end,
        }
    }

    /// Where the next field starts.
    pub fn position(&self) -> usize {
        self.pos
    }

    #[inline]
    fn varint(&mut self) -> Result<u64, DecodeError> {
        // Tags, lengths of short strings and small numbers: one byte. Every
        // exporter that reads chunks back walks them field by field, and this
        // path is most of that walk (perf, the Loki bench).
        if self.pos < self.end {
            let byte = self.buf[self.pos];
            if byte < 0x80 {
                self.pos += 1;
                return Ok(u64::from(byte));
            }
        }
        self.varint_long()
    }

    fn varint_long(&mut self) -> Result<u64, DecodeError> {
        let mut value = 0u64;
        for shift in (0..64).step_by(7) {
            let &byte = self
                .buf
                .get(self.pos)
                .filter(|_| self.pos < self.end)
                .ok_or(DecodeError("a varint runs past the end"))?;
            self.pos += 1;
            value |= u64::from(byte & 0x7f) << shift;
            if byte < 0x80 {
                return Ok(value);
            }
        }
        Err(DecodeError("a varint is longer than 10 bytes"))
    }

    fn fixed<const N: usize>(&mut self) -> Result<[u8; N], DecodeError> {
        if self.end - self.pos < N {
            return Err(DecodeError("a fixed-size field runs past the end"));
        }
        let bytes = self.buf[self.pos..self.pos + N]
            .try_into()
            .expect("length checked");
        self.pos += N;
        Ok(bytes)
    }

    #[inline]
    fn field(&mut self) -> Result<(u32, FieldValue), DecodeError> {
        let key = self.varint()?;
        let number =
            u32::try_from(key >> 3).map_err(|_| DecodeError("a field number is too large"))?;
        let value = match (key & 7) as u32 {
            VARINT => FieldValue::Varint(self.varint()?),
            I64 => FieldValue::Fixed64(u64::from_le_bytes(self.fixed::<8>()?)),
            I32 => FieldValue::Fixed32(u32::from_le_bytes(self.fixed::<4>()?)),
            LEN => {
                let len = usize::try_from(self.varint()?)
                    .map_err(|_| DecodeError("a length is too large"))?;
                if self.end - self.pos < len {
                    return Err(DecodeError("a field runs past the end of its message"));
                }
                let start = self.pos;
                self.pos += len;
                FieldValue::Len(start..self.pos)
            }
            _ => return Err(DecodeError("a wire type we never write (groups)")),
        };
        Ok((number, value))
    }
}

impl Iterator for FieldReader<'_> {
    type Item = Result<(u32, FieldValue), DecodeError>;

    #[inline]
    fn next(&mut self) -> Option<Self::Item> {
        if self.pos >= self.end {
            return None;
        }
        let field = self.field();
        if field.is_err() {
            // One error ends the message.
            self.pos = self.end;
        }
        Some(field)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_read_back_as_written() {
        let mut out = Vec::new();
        out.push(tag(1, VARINT));
        put_varint(&mut out, 300);
        put_bytes_field(&mut out, tag(2, LEN), b"abc");
        out.push(tag(3, I64));
        out.extend_from_slice(&7u64.to_le_bytes());
        out.push(tag(4, I32));
        out.extend_from_slice(&9u32.to_le_bytes());
        let fields: Vec<_> = FieldReader::new(&out, 0..out.len())
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(
            fields,
            [
                (1, FieldValue::Varint(300)),
                (2, FieldValue::Len(5..8)),
                (3, FieldValue::Fixed64(7)),
                (4, FieldValue::Fixed32(9)),
            ]
        );
        // Cut anywhere inside, it is an error, never a panic or a wrong field.
        for cut in 1..out.len() {
            let read: Result<Vec<_>, _> = FieldReader::new(&out, 0..cut).collect();
            if let Ok(fields) = read {
                assert!(fields.len() < 4, "cut at {cut}");
            }
        }
    }

    #[test]
    fn varint_len_is_the_written_length_at_every_bit_width() {
        for bits in 0..64 {
            for v in [1u64 << bits, (1u64 << bits) - 1, (1u64 << bits) | 1] {
                let mut out = Vec::new();
                put_varint(&mut out, v);
                assert_eq!(varint_len(v), out.len(), "{v}");
            }
        }
    }

    #[test]
    fn varint_lengths() {
        for (v, n) in [
            (0u64, 1),
            (127, 1),
            (128, 2),
            (16383, 2),
            (16384, 3),
            (u64::MAX, 10),
        ] {
            assert_eq!(varint_len(v), n, "{v}");
            let mut out = Vec::new();
            put_varint(&mut out, v);
            assert_eq!(out.len(), n);
        }
    }
}
