//! Multiline: which lines continue the record before them.
//!
//! A record opens with a start line and takes every continuation line that
//! follows; it closes at the next start line, at EOF, after
//! `--multiline-timeout` of silence, or at the line and byte caps. The rules
//! come from what the runtimes on this machine really print (captured in
//! `tests/fixtures/multiline/`):
//!
//! | context (set by the first line) | continues with |
//! |---|---|
//! | any | indented lines; `Caused by:`, `Suppressed:`, `... N more`, Elixir's `** (Error) ...`; a lone closing bracket |
//! | a line that named a level of WARN or worse, same read | Python's `Traceback (most recent call last):`, a Java exception line (`java.lang.X: msg`): a logger printing the message then the trace writes both at once |
//! | Python traceback | its frames, then the `Name: message` line; after it, `During handling of the above exception…` / `The above exception was the direct cause…` and the next traceback |
//! | Go `panic:` / `fatal error:` | everything (`goroutine N [...]:`, frames, blank lines) until a line with its own timestamp or level |
//! | Rust `thread '…' panicked at` | the message, `stack backtrace:`, frames, up to and including the closing `note:` line |
//! | Node.js crash (`/path/file.js:N`) | the source line, the caret, the error line, its `at` frames, and the `Node.js vX` footer |
//! | java.util.logging header (`Nov 25, 2026 3:53:01 PM Class method`) | the `LEVEL: message` line, which also gives the record its severity |
//!
//! Blank lines are held: they join the record if another of its lines
//! follows, and are dropped otherwise (a blank line alone makes no record).

/// Where inside a multi-line construct the pending record is.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Context {
    #[default]
    Plain,
    PythonTraceback,
    PythonAfterException,
    GoPanic,
    RustPanic,
    /// Lines seen since the `file.js:N` header (source, caret, error line).
    NodeCrash(u8),
    NodeStack,
    JulHeader,
}

/// The context a record starts in, from its first line.
pub fn context_of_start(line: &[u8]) -> Context {
    let trimmed = line.trim_ascii_start();
    if trimmed.starts_with(b"Traceback (most recent call last):")
        || trimmed.starts_with(b"+ Exception Group Traceback (most recent call last):")
    {
        return Context::PythonTraceback;
    }
    if line.starts_with(b"panic: ") || line.starts_with(b"fatal error: ") {
        return Context::GoPanic;
    }
    if line.starts_with(b"thread '") && memchr::memmem::find(line, b"panicked at ").is_some() {
        return Context::RustPanic;
    }
    if is_node_crash_header(line) {
        return Context::NodeCrash(0);
    }
    if crate::parse::timestamp::is_jul_header(line) {
        return Context::JulHeader;
    }
    Context::Plain
}

/// Whether `line` (not blank) continues a record in `context`; the new
/// context if it does. `looks_like_start` tells whether the line carries its
/// own timestamp or level; `same_read` whether it arrived in the same read as
/// the record's last line and that record reports a problem (WARN or worse).
pub fn continues(
    context: Context,
    line: &[u8],
    looks_like_start: impl FnOnce() -> bool,
    same_read: bool,
) -> Option<Context> {
    let indented = matches!(line.first(), Some(b' ' | b'\t'));
    match context {
        Context::Plain => {
            if indented || is_marker(line) {
                Some(Context::Plain)
            } else if same_read && line.starts_with(b"Traceback (most recent call last):") {
                Some(Context::PythonTraceback)
            } else if same_read && is_java_exception(line) {
                Some(Context::Plain)
            } else {
                None
            }
        }
        Context::PythonTraceback => {
            if indented {
                Some(Context::PythonTraceback)
            } else if is_python_exception_line(line) {
                Some(Context::PythonAfterException)
            } else {
                None
            }
        }
        Context::PythonAfterException => {
            if indented
                || line.starts_with(b"During handling of the above exception")
                || line.starts_with(b"The above exception was the direct cause")
            {
                Some(Context::PythonAfterException)
            } else if line.starts_with(b"Traceback (most recent call last):") {
                Some(Context::PythonTraceback)
            } else {
                None
            }
        }
        Context::GoPanic => (indented || !looks_like_start()).then_some(Context::GoPanic),
        Context::RustPanic => {
            if line.starts_with(b"note: ") {
                Some(Context::Plain)
            } else if indented || line.starts_with(b"stack backtrace:") || !looks_like_start() {
                Some(Context::RustPanic)
            } else {
                None
            }
        }
        Context::NodeCrash(seen) => {
            if line.starts_with(b"Node.js v") {
                Some(Context::Plain)
            } else if seen >= 2 {
                // Source line and caret are behind us: this is the error line.
                Some(Context::NodeStack)
            } else {
                Some(Context::NodeCrash(seen + 1))
            }
        }
        Context::NodeStack => {
            if line.starts_with(b"Node.js v") {
                Some(Context::Plain)
            } else if indented || is_marker(line) {
                Some(Context::NodeStack)
            } else {
                None
            }
        }
        Context::JulHeader => is_jul_level_line(line).then_some(Context::Plain),
    }
}

/// Java/Kotlin trace markers and closing brackets of pretty-printed values.
fn is_marker(line: &[u8]) -> bool {
    // Elixir's and Erlang's `** (RuntimeError) boom` under a crash report.
    if line.starts_with(b"Caused by: ")
        || line.starts_with(b"Suppressed: ")
        || line.starts_with(b"** (")
    {
        return true;
    }
    if line.starts_with(b"... ") && line.ends_with(b" more") {
        return true;
    }
    let t = line.trim_ascii();
    !t.is_empty()
        && t.len() <= 3
        && t.iter()
            .all(|b| matches!(b, b'}' | b']' | b')' | b',' | b';'))
}

/// `java.lang.IllegalStateException: msg`, `com.x.MyError`, `kotlin.NotImplementedError`.
fn is_java_exception(line: &[u8]) -> bool {
    let name_end = line
        .iter()
        .position(|&b| b == b':' || b == b' ')
        .unwrap_or(line.len());
    let name = &line[..name_end];
    if !name.contains(&b'.') || name.first().is_none_or(|b| !b.is_ascii_alphabetic()) {
        return false;
    }
    if !name
        .iter()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'$'))
    {
        return false;
    }
    let last = name.rsplit(|&b| b == b'.').next().unwrap_or(name);
    let typed =
        last.ends_with(b"Exception") || last.ends_with(b"Error") || last.ends_with(b"Throwable");
    typed && (name_end == line.len() || line[name_end] == b':')
}

/// The last line of a Python traceback: `ValueError: bad`, `KeyboardInterrupt`,
/// `json.decoder.JSONDecodeError: Expecting value`.
fn is_python_exception_line(line: &[u8]) -> bool {
    let name_end = line.iter().position(|&b| b == b':').unwrap_or(line.len());
    let name = &line[..name_end];
    !name.is_empty()
        && name
            .first()
            .is_some_and(|b| b.is_ascii_alphabetic() || *b == b'_')
        && name
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_'))
}

/// `/app/server.js:12`, `file:///app/x.mjs:3`, `node:internal/x:10`: the first
/// line Node.js prints for an uncaught error.
fn is_node_crash_header(line: &[u8]) -> bool {
    let starts =
        line.starts_with(b"/") || line.starts_with(b"file://") || line.starts_with(b"node:");
    if !starts || line.contains(&b' ') {
        return false;
    }
    let Some(colon) = memchr::memrchr(b':', line) else {
        return false;
    };
    let digits = &line[colon + 1..];
    !digits.is_empty()
        && digits.iter().all(u8::is_ascii_digit)
        && (line.contains(&b'.') || line.starts_with(b"node:"))
}

/// `SEVERE: msg`, `INFO: msg`: the second line of a java.util.logging record.
pub fn is_jul_level_line(line: &[u8]) -> bool {
    const LEVELS: [&[u8]; 7] = [
        b"SEVERE: ",
        b"WARNING: ",
        b"INFO: ",
        b"CONFIG: ",
        b"FINE: ",
        b"FINER: ",
        b"FINEST: ",
    ];
    LEVELS.iter().any(|l| line.starts_with(l))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn join(context: Context, line: &str) -> Option<Context> {
        continues(context, line.as_bytes(), || false, false)
    }

    #[test]
    fn plain_records_take_indented_lines_and_markers() {
        assert_eq!(
            join(Context::Plain, "\tat com.x.Y.z(Y.java:1)"),
            Some(Context::Plain)
        );
        assert_eq!(
            join(Context::Plain, "    at f (/x.js:1:1)"),
            Some(Context::Plain)
        );
        assert_eq!(
            join(Context::Plain, "Caused by: java.io.IOException: eof"),
            Some(Context::Plain)
        );
        assert_eq!(join(Context::Plain, "... 12 more"), Some(Context::Plain));
        assert_eq!(join(Context::Plain, "}"), Some(Context::Plain));
        assert_eq!(join(Context::Plain, "next log line"), None);
        // A trace header joins only when it came with the message.
        assert_eq!(
            join(Context::Plain, "Traceback (most recent call last):"),
            None
        );
        assert_eq!(
            continues(
                Context::Plain,
                b"Traceback (most recent call last):",
                || false,
                true
            ),
            Some(Context::PythonTraceback)
        );
        assert_eq!(
            continues(
                Context::Plain,
                b"java.lang.IllegalStateException: x",
                || false,
                true
            ),
            Some(Context::Plain)
        );
        assert_eq!(
            continues(
                Context::Plain,
                b"java.lang.IllegalStateException: x",
                || false,
                false
            ),
            None
        );
        assert_eq!(
            continues(Context::Plain, b"not.an exception", || false, true),
            None
        );
    }

    #[test]
    fn python_tracebacks_and_chains() {
        let c = context_of_start(b"Traceback (most recent call last):");
        assert_eq!(c, Context::PythonTraceback);
        let c = join(c, "  File \"x.py\", line 1, in <module>").unwrap();
        let c = join(c, "ValueError: bad").unwrap();
        assert_eq!(c, Context::PythonAfterException);
        let c = join(
            c,
            "During handling of the above exception, another exception occurred:",
        )
        .unwrap();
        let c = join(c, "Traceback (most recent call last):").unwrap();
        assert_eq!(c, Context::PythonTraceback);
        let c = join(
            c,
            "json.decoder.JSONDecodeError: Expecting value: line 1 column 1 (char 0)",
        )
        .unwrap();
        assert_eq!(join(c, "INFO:next:record"), None);
    }

    #[test]
    fn go_panics_run_until_a_timestamped_line() {
        let c = context_of_start(b"panic: boom");
        assert_eq!(c, Context::GoPanic);
        for line in [
            "goroutine 1 [running]:",
            "main.main()",
            "\t/x/main.go:5 +0x1d",
            "exit status 2",
        ] {
            assert_eq!(join(c, line), Some(Context::GoPanic), "{line}");
        }
        assert_eq!(
            continues(c, b"2026/11/25 15:00:00 restarted", || true, false),
            None
        );
    }

    #[test]
    fn rust_panics_end_at_the_note() {
        let c = context_of_start(b"thread 'main' (30557) panicked at src/main.rs:4:9:");
        assert_eq!(c, Context::RustPanic);
        let c = join(c, "batch size out of range").unwrap();
        let c = join(c, "stack backtrace:").unwrap();
        let c = join(c, "   0: __rustc::rust_begin_unwind").unwrap();
        let c = join(c, "note: Some details are omitted").unwrap();
        assert_eq!(c, Context::Plain);
        assert_eq!(
            continues(Context::RustPanic, b"error: shutting down", || true, false),
            None
        );
    }

    #[test]
    fn node_crash_layout() {
        let c = context_of_start(b"/tmp/app/uncaught.js:10");
        assert_eq!(c, Context::NodeCrash(0));
        let c = join(c, "  throw new Error('x');").unwrap();
        let c = join(c, "  ^").unwrap();
        let c = join(c, "Error: x").unwrap();
        assert_eq!(c, Context::NodeStack);
        let c = join(c, "    at f (/tmp/app/uncaught.js:10:9)").unwrap();
        assert_eq!(join(c, "Node.js v20.20.2"), Some(Context::Plain));
        assert_eq!(join(Context::NodeStack, "next"), None);
        assert_eq!(
            context_of_start(b"/usr/bin/thing: not found"),
            Context::Plain
        );
    }

    #[test]
    fn jul_header_takes_the_level_line() {
        let c = context_of_start(b"Nov 25, 2026 3:53:01 PM JulLogging main");
        assert_eq!(c, Context::JulHeader);
        assert_eq!(join(c, "SEVERE: flush failed"), Some(Context::Plain));
        assert_eq!(join(c, "something else"), None);
    }
}
