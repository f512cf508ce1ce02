//! Removing ANSI escape sequences (colours, cursor moves) from a record's body.
//!
//! Programs that believe they write to a terminal colour their output; in
//! Grafana those bytes show as `\x1b[31m` noise and break searches. The
//! pass-through is never touched: only the record's copy is cleaned.
//!
//! Recognised (ECMA-48): CSI `ESC [ params intermediates final`, OSC
//! `ESC ] ... (BEL | ESC \)`, DCS/SOS/PM/APC strings ending in `ESC \`, and
//! other escapes `ESC intermediates* final`. A lone ESC at the end is
//! dropped. A line without ESC is returned as is, without a copy.

use bytes::Bytes;

/// The line without escape sequences; the same `Bytes` when there are none.
pub fn strip(line: Bytes) -> Bytes {
    if memchr::memchr(0x1b, &line).is_none() {
        return line;
    }
    let b = &line[..];
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let Some(esc) = memchr::memchr(0x1b, &b[i..]) else {
            out.extend_from_slice(&b[i..]);
            break;
        };
        out.extend_from_slice(&b[i..i + esc]);
        i += esc + 1;
        match b.get(i) {
            Some(b'[') => {
                // Parameters 0x30-0x3F, intermediates 0x20-0x2F, final 0x40-0x7E.
                i += 1;
                while i < b.len() && (0x20..=0x3f).contains(&b[i]) {
                    i += 1;
                }
                if i < b.len() && (0x40..=0x7e).contains(&b[i]) {
                    i += 1;
                }
            }
            Some(b']') | Some(b'P') | Some(b'X') | Some(b'^') | Some(b'_') => {
                let osc = b[i] == b']';
                i += 1;
                while i < b.len() {
                    if osc && b[i] == 0x07 {
                        i += 1;
                        break;
                    }
                    if b[i] == 0x1b && b.get(i + 1) == Some(&b'\\') {
                        i += 2;
                        break;
                    }
                    i += 1;
                }
            }
            Some(_) => {
                // nF escapes: intermediates 0x20-0x2F, then one final byte.
                while i < b.len() && (0x20..=0x2f).contains(&b[i]) {
                    i += 1;
                }
                i += 1;
            }
            None => {}
        }
    }
    Bytes::from(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(input: &[u8]) -> Vec<u8> {
        strip(Bytes::copy_from_slice(input)).to_vec()
    }

    #[test]
    fn colours_and_cursor_moves_go() {
        assert_eq!(s(b"\x1b[31mred\x1b[0m plain"), b"red plain");
        assert_eq!(s(b"\x1b[1;38;5;208mbold orange\x1b[m"), b"bold orange");
        assert_eq!(s(b"\x1b[2K\x1b[1Gprogress 50%"), b"progress 50%");
        assert_eq!(s(b"\x1b]0;title\x07text"), b"text");
        assert_eq!(s(b"\x1b]8;;http://x\x1b\\link\x1b]8;;\x1b\\"), b"link");
        assert_eq!(s(b"\x1b(Bcharset"), b"charset");
        assert_eq!(s(b"\x1bMreverse"), b"reverse");
    }

    #[test]
    fn text_without_escapes_is_not_copied() {
        let line = Bytes::from_static(b"plain text");
        let out = strip(line.clone());
        assert_eq!(out.as_ptr(), line.as_ptr());
    }

    #[test]
    fn truncated_sequences_do_not_panic() {
        assert_eq!(s(b"end\x1b"), b"end");
        assert_eq!(s(b"end\x1b["), b"end");
        assert_eq!(s(b"end\x1b[12;"), b"end");
        assert_eq!(s(b"\x1b]unterminated osc"), b"");
    }
}
