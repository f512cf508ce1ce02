//! Checks made at start on the files and directories options name, so a bad
//! value is an error before anything runs, not at the first export.

#[allow(unused_imports)]
use super::*;

/// `--file` and `--buffer-dir` are checked at start: a directory given as
/// the output file, a file given as the buffer directory, or a parent that
/// does not exist or cannot be written would otherwise only show at the
/// first export, after the run had started (issue 13). Nothing is created
/// here; the exporter and the disk buffer create what is missing.
pub(super) fn check_paths(cli: &Cli, r: &mut Resolver<'_, impl Env>) {
    use std::path::Path;
    let writable = |path: &Path, mode: libc::c_int| {
        let Ok(c) = std::ffi::CString::new(path.as_os_str().as_encoded_bytes()) else {
            return false;
        };
        // SAFETY: a valid NUL-terminated path; access has no other preconditions.
        unsafe { libc::access(c.as_ptr(), mode) == 0 }
    };
    let parent_of = |path: &Path| match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    if let Some(file) = &cli.file {
        let shown = file.display();
        match std::fs::metadata(file) {
            Ok(m) if m.is_dir() => r.error(
                "--file",
                format!("{shown} is a directory; give a file path in it"),
            ),
            Ok(m) if !m.is_file() => r.error(
                "--file",
                format!("{shown} is not a regular file (a FIFO or a device); give a file path"),
            ),
            Ok(_) if !writable(file, libc::W_OK) => r.error(
                "--file",
                format!("{shown} cannot be written (permissions or a read-only filesystem)"),
            ),
            Ok(_) => {}
            Err(_) => {
                let parent = parent_of(file);
                if !parent.is_dir() {
                    r.error(
                        "--file",
                        format!(
                            "the directory of {shown} ({}) does not exist",
                            parent.display()
                        ),
                    );
                } else if !writable(&parent, libc::W_OK | libc::X_OK) {
                    r.error(
                        "--file",
                        format!(
                            "{shown} cannot be created: {} is not writable",
                            parent.display()
                        ),
                    );
                }
            }
        }
    }
    if let Some(dir) = &cli.buffer_dir {
        let shown = dir.display();
        // The directory, or the nearest ancestor that exists (the disk
        // buffer creates the rest).
        let mut existing = dir.clone();
        while std::fs::symlink_metadata(&existing).is_err() {
            let up = parent_of(&existing);
            if up == existing {
                break; // "." itself is gone
            }
            existing = up;
        }
        if !existing.is_dir() {
            let what = if existing == *dir {
                format!("{shown} is not a directory")
            } else {
                format!(
                    "{} (on the way to {shown}) is not a directory",
                    existing.display()
                )
            };
            r.error("--buffer-dir", what);
        } else if !writable(&existing, libc::W_OK | libc::X_OK) {
            r.error(
                "--buffer-dir",
                format!("{} is not writable", existing.display()),
            );
        }
    }
}

/// The files the options name for logwrap to read (tokens, passwords, PEM
/// files) are read once here, so that a wrong path, a FIFO, a device or a
/// huge file is a usage error at start (exit 2) instead of a hang or a
/// failure at the first export (issue 13). The same bounded, non-blocking
/// read is used when they are read again later. Paths that come from
/// `OTEL_*` variables are not checked here: a bad OTel value is warned
/// about where it is used, never fatal.
pub(super) fn check_named_files(cli: &Cli, r: &mut Resolver<'_, impl Env>) {
    use crate::export::secret::{MAX_SECRET_FILE, read_small_file};
    use crate::export::tls::MAX_PEM_FILE;
    let files = [
        (
            "--otlp-bearer-token-file",
            &cli.otlp_bearer_token_file,
            MAX_SECRET_FILE,
        ),
        (
            "--loki-password-file",
            &cli.loki_password_file,
            MAX_SECRET_FILE,
        ),
        (
            "--loki-bearer-token-file",
            &cli.loki_bearer_token_file,
            MAX_SECRET_FILE,
        ),
        (
            "--http-bearer-token-file",
            &cli.http_bearer_token_file,
            MAX_SECRET_FILE,
        ),
        ("--otlp-certificate", &cli.otlp_certificate, MAX_PEM_FILE),
        (
            "--otlp-client-certificate",
            &cli.otlp_client_certificate,
            MAX_PEM_FILE,
        ),
        ("--otlp-client-key", &cli.otlp_client_key, MAX_PEM_FILE),
        ("--tls-ca-file", &cli.tls_ca_file, MAX_PEM_FILE),
        ("--tls-client-cert", &cli.tls_client_cert, MAX_PEM_FILE),
        ("--tls-client-key", &cli.tls_client_key, MAX_PEM_FILE),
    ];
    for (setting, path, max) in files {
        let Some(path) = path else { continue };
        if let Err(e) = read_small_file(path, max) {
            r.error(setting, format!("cannot read {}: {e}", path.display()));
        }
    }
}

pub(super) fn check_tls(tls: &TlsOptions, setting: &str, r: &mut Resolver<'_, impl Env>) {
    if tls.client_cert.is_some() != tls.client_key.is_some() {
        r.error(
            setting,
            "a client certificate needs a client key and the other way round",
        );
    }
}
