//! Secrets: given on the command line or in the environment, or read from a
//! file that is read again whenever it changes.
//!
//! Kubernetes rotates projected service-account tokens by swapping the file
//! under a symlink; a shipper that read it once at start sends an expired
//! token an hour later. So a file secret is checked (one `stat`) before every
//! use and re-read when its modification time, size or inode changed.
//!
//! Files named by the user are read with [`read_small_file`]: a regular file
//! only (a FIFO would block the read forever, `/dev/zero` would never end)
//! and bounded in size, checked before the file is opened and again on the
//! open descriptor, which is opened without blocking (issue 13).
//!
//! Values never reach logs, errors or `Debug` output, and [`mask_url`] is
//! how every URL logwrap prints loses the secrets it may carry (issue 13).

use std::io::Read;
use std::os::unix::fs::{FileTypeExt, MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// A token or password file holds a few hundred bytes (a Kubernetes
/// service-account token about 1 KiB); 64 KiB is room to spare and still
/// nothing to hold in memory.
pub const MAX_SECRET_FILE: u64 = 64 * 1024;

/// What a file that must be regular is instead, for the error message.
fn kind_of(file_type: std::fs::FileType) -> Option<&'static str> {
    if file_type.is_file() {
        None
    } else if file_type.is_dir() {
        Some("a directory")
    } else if file_type.is_fifo() {
        Some("a named pipe")
    } else if file_type.is_char_device() {
        Some("a character device")
    } else if file_type.is_block_device() {
        Some("a block device")
    } else if file_type.is_socket() {
        Some("a socket")
    } else {
        Some("not a file")
    }
}

fn refuse(why: String) -> std::io::Error {
    std::io::Error::new(std::io::ErrorKind::InvalidInput, why)
}

/// The contents of a regular file of at most `max` bytes. Anything else
/// (a FIFO, a device, a directory, a bigger file) is an error that says
/// what the path is, and nothing blocks: the type is checked before the
/// open, the open does not wait for a FIFO's writer (`O_NONBLOCK`), and the
/// open descriptor is checked again (the path may have changed between).
pub fn read_small_file(path: &Path, max: u64) -> std::io::Result<Vec<u8>> {
    let check = |meta: &std::fs::Metadata| match kind_of(meta.file_type()) {
        Some(kind) => Err(refuse(format!(
            "not a regular file ({kind}); give a regular file"
        ))),
        None if meta.len() > max => Err(refuse(format!(
            "larger than {} KiB ({} bytes); is it the right file?",
            max / 1024,
            meta.len()
        ))),
        None => Ok(()),
    };
    check(&std::fs::metadata(path)?)?;
    let file = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK)
        .open(path)?;
    check(&file.metadata()?)?;
    let mut contents = Vec::new();
    file.take(max + 1).read_to_end(&mut contents)?;
    if contents.len() as u64 > max {
        return Err(refuse(format!("larger than {} KiB", max / 1024)));
    }
    Ok(contents)
}

/// A secret value.
pub enum Secret {
    Literal(String),
    File(FileSecret),
}

impl Secret {
    pub fn file(path: PathBuf) -> Self {
        Secret::File(FileSecret {
            path,
            cache: Mutex::new(None),
        })
    }

    /// The current value; for a file, re-read if it changed. Trailing
    /// newlines (as `echo` writes them) are not part of the value.
    pub fn value(&self) -> Result<String, String> {
        match self {
            Secret::Literal(v) => Ok(v.clone()),
            Secret::File(f) => f.value(),
        }
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Secret::Literal(_) => f.write_str("Secret(<literal>)"),
            Secret::File(s) => write!(f, "Secret(file {})", s.path.display()),
        }
    }
}

impl Clone for Secret {
    fn clone(&self) -> Self {
        match self {
            Secret::Literal(v) => Secret::Literal(v.clone()),
            Secret::File(f) => Secret::file(f.path.clone()),
        }
    }
}

impl PartialEq for Secret {
    fn eq(&self, other: &Self) -> bool {
        match (self, other) {
            (Secret::Literal(a), Secret::Literal(b)) => a == b,
            (Secret::File(a), Secret::File(b)) => a.path == b.path,
            _ => false,
        }
    }
}

/// What identifies a version of a file: modification time (s, ns), size, inode.
type FileStamp = (i64, i64, u64, u64);

/// A secret kept in a file.
pub struct FileSecret {
    path: PathBuf,
    /// The stamp of the file when read, and the value.
    cache: Mutex<Option<(FileStamp, String)>>,
}

impl FileSecret {
    fn value(&self) -> Result<String, String> {
        let meta = std::fs::metadata(&self.path)
            .map_err(|e| format!("cannot read the secret file {}: {e}", self.path.display()))?;
        let stamp = (meta.mtime(), meta.mtime_nsec(), meta.size(), meta.ino());
        let mut cache = self.cache.lock().unwrap_or_else(|p| p.into_inner());
        if let Some((seen, value)) = cache.as_ref()
            && *seen == stamp
        {
            return Ok(value.clone());
        }
        // Bounded and never blocking, also when the file was swapped for a
        // FIFO or a device since start.
        let raw = read_small_file(&self.path, MAX_SECRET_FILE)
            .map_err(|e| format!("cannot read the secret file {}: {e}", self.path.display()))?;
        let raw = String::from_utf8(raw)
            .map_err(|_| format!("the secret file {} is not UTF-8 text", self.path.display()))?;
        let value = raw.trim_end_matches(['\n', '\r']).to_string();
        if value.is_empty() {
            return Err(format!("the secret file {} is empty", self.path.display()));
        }
        if cache.is_some() {
            tracing::info!(path = %self.path.display(), "secret file changed; using the new value");
        }
        *cache = Some((stamp, value.clone()));
        Ok(value)
    }
}

/// A URL as logwrap prints it: userinfo (`user:password@`) becomes `****@`,
/// every query value `****` (names stay, so one can still tell `?api_key=`
/// from `?tenant=`), and a fragment `#****`. Works on text that is not a
/// valid URL too (a usage error quotes what the user typed), since that is
/// exactly where a password can sit next to a typo.
pub fn mask_url(raw: &str) -> String {
    let authority_start = raw.find("://").map_or(0, |i| i + 3);
    let after = &raw[authority_start..];
    let authority_len = after.find(['/', '?', '#']).unwrap_or(after.len());
    let (authority, rest) = after.split_at(authority_len);
    let mut out = String::with_capacity(raw.len());
    out.push_str(&raw[..authority_start]);
    match authority.rfind('@') {
        Some(at) => {
            out.push_str("****");
            out.push_str(&authority[at..]);
        }
        None => out.push_str(authority),
    }
    let (before_fragment, fragment) = match rest.find('#') {
        Some(i) => rest.split_at(i),
        None => (rest, ""),
    };
    match before_fragment.split_once('?') {
        Some((path, query)) => {
            out.push_str(path);
            out.push('?');
            for (i, pair) in query.split('&').enumerate() {
                if i > 0 {
                    out.push('&');
                }
                match pair.split_once('=') {
                    Some((name, _)) => {
                        out.push_str(name);
                        out.push_str("=****");
                    }
                    None if pair.is_empty() => {}
                    None => out.push_str("****"),
                }
            }
        }
        None => out.push_str(before_fragment),
    }
    if fragment.len() > 1 {
        out.push_str("#****");
    } else {
        out.push_str(fragment);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_secret_is_re_read_when_it_changes() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("token");
        std::fs::write(&path, "first\n").unwrap();
        let secret = Secret::file(path.clone());
        assert_eq!(secret.value().unwrap(), "first");
        // Kubernetes swaps the file; a new inode (and size) is a change.
        let next = dir.path().join("token.new");
        std::fs::write(&next, "second-token\n").unwrap();
        std::fs::rename(&next, &path).unwrap();
        assert_eq!(secret.value().unwrap(), "second-token");
    }

    #[test]
    fn problems_and_debug_never_show_the_value() {
        let dir = tempfile::tempdir().unwrap();
        let missing = Secret::file(dir.path().join("absent"));
        assert!(missing.value().unwrap_err().contains("absent"));
        let empty_path = dir.path().join("empty");
        std::fs::write(&empty_path, "\n").unwrap();
        assert!(
            Secret::file(empty_path)
                .value()
                .unwrap_err()
                .contains("empty")
        );
        assert!(!format!("{:?}", Secret::Literal("s3cr3t".into())).contains("s3cr3t"));
    }

    #[test]
    fn urls_lose_userinfo_query_values_and_fragments() {
        for (raw, shown) in [
            ("http://collector:4318", "http://collector:4318"),
            (
                "https://u:pw@loki:3100/push?token=abc&x=1#frag",
                "https://****@loki:3100/push?token=****&x=****#****",
            ),
            ("http://u@h/?bare", "http://****@h/?****"),
            // Not a URL (a port out of range): masked all the same.
            ("http://u:pw@h:99999/", "http://****@h:99999/"),
            ("h:4317", "h:4317"),
            ("http://h/p?", "http://h/p?"),
        ] {
            assert_eq!(mask_url(raw), shown, "{raw}");
        }
    }

    #[test]
    fn only_small_regular_files_are_read_and_nothing_blocks() {
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("fifo");
        let c = std::ffi::CString::new(fifo.as_os_str().as_encoded_bytes()).unwrap();
        // SAFETY: a valid NUL-terminated path.
        assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
        for (path, why) in [
            (fifo.as_path(), "named pipe"),
            (Path::new("/dev/zero"), "character device"),
            (dir.path(), "directory"),
        ] {
            let e = read_small_file(path, 10).unwrap_err().to_string();
            assert!(e.contains(why), "{path:?}: {e}");
        }
        let big = dir.path().join("big");
        std::fs::write(&big, "x".repeat(11)).unwrap();
        assert!(
            read_small_file(&big, 10)
                .unwrap_err()
                .to_string()
                .contains("larger than")
        );
        std::fs::write(&big, "0123456789").unwrap();
        assert_eq!(read_small_file(&big, 10).unwrap(), b"0123456789");
        // A secret file swapped for a FIFO is an error, not a hang.
        let secret = Secret::file(fifo);
        assert!(secret.value().unwrap_err().contains("named pipe"));
    }
}
