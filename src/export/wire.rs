//! The protobuf wire format's building blocks, for the encoders that write
//! messages directly (`otlp_proto`, `loki`): varints, tags, length-delimited
//! fields. Two passes per message: size first, then bytes, so no length ever
//! needs patching.

// Wire types.
pub const VARINT: u32 = 0;
pub const I64: u32 = 1;
pub const LEN: u32 = 2;
pub const I32: u32 = 5;

/// A one-byte tag: every field number we write is below 16.
pub const fn tag(field: u32, wire: u32) -> u8 {
    ((field << 3) | wire) as u8
}

pub fn varint_len(v: u64) -> usize {
    // 7 bits per byte; 0 still takes one byte.
    (64 - (v | 1).leading_zeros() as usize).div_ceil(7)
}

pub fn put_varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

/// Size of a length-delimited field (tag + length + payload) with a 1-byte tag.
pub fn field_len(payload: usize) -> usize {
    1 + varint_len(payload as u64) + payload
}

pub fn put_len_field(out: &mut Vec<u8>, tag: u8, payload: usize) {
    out.push(tag);
    put_varint(out, payload as u64);
}

pub fn put_bytes_field(out: &mut Vec<u8>, tag: u8, bytes: &[u8]) {
    put_len_field(out, tag, bytes.len());
    out.extend_from_slice(bytes);
}

#[cfg(test)]
mod tests {
    use super::*;

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
