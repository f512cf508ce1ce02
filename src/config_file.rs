//! The configuration file (`--config FILE`, TOML) and `--print-config`.
//!
//! ```text
//!  argv ──clap──► (flags, env) ──► --config FILE? ──TOML──► `--key=value` for each key
//!                                                            that neither a flag, a LOGWRAP_*
//!                                                            nor an OTel variable sets
//!  argv0 + file args + argv ──clap──► Cli          (so: flags > env > file > defaults)
//! ```
//!
//! The file's keys are the long option names (`loki-url = "http://loki:3100"`,
//! `otlp-header = ["a=1", "b=2"]`, `no-passthrough = true`, `verbose = 2`).
//! Each value goes through clap's own parser for that option, so a file
//! accepts exactly what the command line accepts and its errors say the
//! same, prefixed with the file and line. The file is flat: no tables.
//!
//! Written by hand over the `toml` crate because the mapping is to clap's
//! arguments, which no config-layering crate knows about without a second
//! description of every option.

use std::collections::BTreeSet;
use std::ffi::OsString;
use std::fmt::Write as _;

use clap::{ArgAction, CommandFactory, parser::ValueSource};

use crate::app::Config;
use crate::cli::Cli;
use crate::config::Env;
use crate::export::ExporterConfig;
use crate::export::secret::mask_url;

/// A configuration file is a few KiB of TOML; 4 MiB is far beyond any
/// real one and still quick to read and parse.
pub const MAX_CONFIG_FILE: u64 = 4 * 1024 * 1024;

/// Options a file may not set: they are about the file or the invocation.
const NOT_IN_FILE: &[&str] = &["config", "print-config", "generate", "help", "version"];

/// OTel variables that outrank a file's value for these options.
fn otel_vars(key: &str) -> &'static [&'static str] {
    match key {
        "otlp-endpoint" => &[
            "OTEL_EXPORTER_OTLP_LOGS_ENDPOINT",
            "OTEL_EXPORTER_OTLP_ENDPOINT",
        ],
        "otlp-protocol" => &[
            "OTEL_EXPORTER_OTLP_LOGS_PROTOCOL",
            "OTEL_EXPORTER_OTLP_PROTOCOL",
        ],
        "otlp-header" => &[
            "OTEL_EXPORTER_OTLP_LOGS_HEADERS",
            "OTEL_EXPORTER_OTLP_HEADERS",
        ],
        "otlp-compression" => &[
            "OTEL_EXPORTER_OTLP_LOGS_COMPRESSION",
            "OTEL_EXPORTER_OTLP_COMPRESSION",
        ],
        "otlp-timeout" => &[
            "OTEL_EXPORTER_OTLP_LOGS_TIMEOUT",
            "OTEL_EXPORTER_OTLP_TIMEOUT",
        ],
        "otlp-certificate" => &[
            "OTEL_EXPORTER_OTLP_LOGS_CERTIFICATE",
            "OTEL_EXPORTER_OTLP_CERTIFICATE",
        ],
        "otlp-client-certificate" => &[
            "OTEL_EXPORTER_OTLP_LOGS_CLIENT_CERTIFICATE",
            "OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE",
        ],
        "otlp-client-key" => &[
            "OTEL_EXPORTER_OTLP_LOGS_CLIENT_KEY",
            "OTEL_EXPORTER_OTLP_CLIENT_KEY",
        ],
        "otlp-insecure" => &[
            "OTEL_EXPORTER_OTLP_LOGS_INSECURE",
            "OTEL_EXPORTER_OTLP_INSECURE",
        ],
        "batch-max-records" => &["OTEL_BLRP_MAX_EXPORT_BATCH_SIZE"],
        "batch-delay" => &["OTEL_BLRP_SCHEDULE_DELAY"],
        "exporter" => &["OTEL_LOGS_EXPORTER"],
        "service-name" => &["OTEL_SERVICE_NAME"],
        _ => &[],
    }
}

/// The command line with the file's settings added, and the keys the file
/// set. Without `--config` (or when clap will reject the command line
/// anyway, which the caller reports), `argv` comes back unchanged.
pub fn apply(
    argv: Vec<OsString>,
    env: &impl Env,
) -> Result<(Vec<OsString>, BTreeSet<String>), String> {
    // The common case costs nothing: no file named anywhere.
    let named = env.var("LOGWRAP_CONFIG").is_some()
        || argv
            .iter()
            .any(|a| a.as_encoded_bytes().starts_with(b"--config"));
    if !named {
        return Ok((argv, BTreeSet::new()));
    }
    let command = Cli::command();
    let Ok(matches) = command.clone().try_get_matches_from(&argv) else {
        return Ok((argv, BTreeSet::new()));
    };
    let Some(path) = matches.get_one::<std::path::PathBuf>("config").cloned() else {
        return Ok((argv, BTreeSet::new()));
    };
    // Bounded, regular files only, and never blocking on a FIFO (issue 13).
    let text = crate::export::secret::read_small_file(&path, MAX_CONFIG_FILE)
        .map_err(|e| format!("--config {}: cannot read it: {e}", path.display()))?;
    let text = String::from_utf8(text).map_err(|_| {
        format!(
            "--config {}: not UTF-8 text (TOML is UTF-8)",
            path.display()
        )
    })?;
    let table: toml::Table = text.parse().map_err(|e: toml::de::Error| {
        let line = e
            .span()
            .map(|s| format!(":{}", line_of_offset(&text, s.start)))
            .unwrap_or_default();
        format!("{}{line}: not valid TOML: {}", path.display(), e.message())
    })?;
    let mut errors: Vec<(usize, String)> = Vec::new();
    let mut file_args: Vec<OsString> = Vec::new();
    let mut from_file = BTreeSet::new();
    for (key, value) in &table {
        let line = line_of_key(&text, key);
        let at = format!("{}:{line}", path.display());
        let Some(arg) = command
            .get_arguments()
            .find(|a| a.get_long() == Some(key.as_str()))
            .filter(|_| !NOT_IN_FILE.contains(&key.as_str()))
        else {
            let what = if value.is_table() {
                format!(
                    "{at}: `[{key}]`: the file has no sections; keys are the long option names of logwrap --help"
                )
            } else {
                format!(
                    "{at}: unknown key `{key}`; keys are the long option names of logwrap --help{}",
                    suggestion(key, &command)
                )
            };
            errors.push((line, what));
            continue;
        };
        let id = arg.get_id().as_str();
        let outranked = matches!(
            matches.value_source(id),
            Some(ValueSource::CommandLine | ValueSource::EnvVariable)
        ) || otel_vars(key).iter().any(|v| env.var(v).is_some());
        let args = match to_args(key, value, arg.get_action()) {
            Ok(a) => a,
            Err(why) => {
                errors.push((line, format!("{at}: `{key}`: {why}")));
                continue;
            }
        };
        // The value must be one the command line would accept.
        let mut probe = vec![OsString::from("logwrap")];
        probe.extend(args.iter().cloned());
        if let Err(e) = command.clone().try_get_matches_from(&probe) {
            let first = e.to_string();
            let first = first
                .lines()
                .next()
                .unwrap_or("")
                .trim_start_matches("error: ");
            errors.push((line, format!("{at}: `{key}`: {first}")));
            continue;
        }
        if !outranked {
            file_args.extend(args);
            from_file.insert(key.clone());
        }
    }
    if !errors.is_empty() {
        errors.sort();
        let lines: Vec<String> = errors.into_iter().map(|(_, e)| e).collect();
        return Err(lines.join("\n"));
    }
    let mut out = Vec::with_capacity(argv.len() + file_args.len());
    let mut rest = argv.into_iter();
    out.extend(rest.next());
    out.extend(file_args);
    out.extend(rest);
    Ok((out, from_file))
}

/// One option's value as command-line arguments.
fn to_args(key: &str, value: &toml::Value, action: &ArgAction) -> Result<Vec<OsString>, String> {
    let flag = || OsString::from(format!("--{key}"));
    match (action, value) {
        (ArgAction::SetTrue, toml::Value::Boolean(true)) => Ok(vec![flag()]),
        (ArgAction::SetTrue, toml::Value::Boolean(false)) => Ok(Vec::new()),
        (ArgAction::SetTrue, _) => Err("takes true or false".into()),
        (ArgAction::Count, toml::Value::Integer(n)) if (0..=3).contains(n) => {
            Ok((0..*n).map(|_| flag()).collect())
        }
        (ArgAction::Count, _) => Err("takes a number from 0 to 3".into()),
        (_, toml::Value::Table(_)) => Err("takes a value, not a table".into()),
        (ArgAction::Append, toml::Value::Array(items)) => items
            .iter()
            .map(|v| scalar(v).map(|s| OsString::from(format!("--{key}={s}"))))
            .collect(),
        (_, toml::Value::Array(_)) => Err("takes one value, not a list".into()),
        (_, v) => Ok(vec![OsString::from(format!("--{key}={}", scalar(v)?))]),
    }
}

fn scalar(v: &toml::Value) -> Result<String, String> {
    match v {
        toml::Value::String(s) => Ok(s.clone()),
        toml::Value::Integer(i) => Ok(i.to_string()),
        toml::Value::Float(f) => Ok(f.to_string()),
        toml::Value::Boolean(b) => Ok(b.to_string()),
        toml::Value::Datetime(d) => Ok(d.to_string()),
        toml::Value::Array(_) | toml::Value::Table(_) => Err("takes a plain value".into()),
    }
}

fn line_of_offset(text: &str, offset: usize) -> usize {
    text[..offset.min(text.len())].matches('\n').count() + 1
}

/// The line where `key` is set (a flat file: `key =` or `"key" =` at a line start).
fn line_of_key(text: &str, key: &str) -> usize {
    text.lines()
        .position(|line| {
            let l = line.trim_start();
            let rest = l
                .strip_prefix(key)
                .or_else(|| l.strip_prefix(&format!("\"{key}\"")))
                .or_else(|| l.strip_prefix(&format!("'{key}'")));
            rest.is_some_and(|r| r.trim_start().starts_with('='))
                || l.strip_prefix('[')
                    .and_then(|r| r.strip_suffix(']'))
                    .is_some_and(|r| r.trim() == key)
        })
        .map_or(1, |i| i + 1)
}

/// ` (did you mean `x`?)` for a key close to a real option.
fn suggestion(key: &str, command: &clap::Command) -> String {
    command
        .get_arguments()
        .filter_map(|a| a.get_long())
        .map(|long| (edit_distance(key, long), long))
        .filter(|(d, _)| *d <= 2)
        .min()
        .map(|(_, long)| format!(" (did you mean `{long}`?)"))
        .unwrap_or_default()
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut prev = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let cur = row[j + 1];
            row[j + 1] = (prev + usize::from(ca != *cb)).min(row[j] + 1).min(cur + 1);
            prev = cur;
        }
    }
    row[b.len()]
}

/// Options whose values are secrets, masked by `--print-config`.
const SECRET_OPTIONS: &[&str] = &[
    "otlp-header",
    "http-header",
    "loki-password",
    "loki-bearer-token",
];

/// Options whose values are URLs, shown with userinfo and query values
/// masked (a token often rides in `?api_key=`; issue 13).
const URL_OPTIONS: &[&str] = &["otlp-endpoint", "loki-url", "http-url"];

/// The effective configuration as TOML a `--config` file accepts, each
/// option with where its value came from, then the destinations as resolved.
pub fn render(argv: &[OsString], from_file: &BTreeSet<String>, config: &Config) -> String {
    let command = Cli::command();
    let matches = command.clone().get_matches_from(argv);
    let mut out = String::from(
        "# logwrap's effective configuration (secrets masked)\n# Options, with where each value came from:\n",
    );
    for arg in command.get_arguments() {
        let Some(long) = arg.get_long() else { continue };
        if NOT_IN_FILE.contains(&long) {
            continue;
        }
        let id = arg.get_id().as_str();
        let source = match matches.value_source(id) {
            Some(ValueSource::CommandLine) if from_file.contains(long) => "file",
            Some(ValueSource::CommandLine) => "flag",
            Some(ValueSource::EnvVariable) => "environment",
            Some(ValueSource::DefaultValue) => "default",
            _ => continue,
        };
        let raw: Vec<String> = matches
            .get_raw(id)
            .map(|vals| vals.map(|v| v.to_string_lossy().into_owned()).collect())
            .unwrap_or_default();
        let secret = SECRET_OPTIONS.contains(&long);
        let url = URL_OPTIONS.contains(&long);
        let shown: Vec<String> = raw
            .iter()
            .map(|v| if url { mask_url(v) } else { mask(v, secret) })
            .collect();
        let value = match arg.get_action() {
            ArgAction::SetTrue => matches.get_flag(id).to_string(),
            ArgAction::Count => matches.get_count(id).to_string(),
            ArgAction::Append => format!(
                "[{}]",
                shown
                    .iter()
                    .map(|v| quote(v))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            _ => shown.first().map(|v| quote(v)).unwrap_or_default(),
        };
        let _ = writeln!(out, "{long} = {value}  # {source}");
    }
    out.push_str("\n# Destinations, as resolved (OTEL_* variables included):\n");
    for e in &config.exporters {
        let line = match e {
            ExporterConfig::Otlp(o) => format!(
                "otlp: {:?} {} compression={:?} timeout={:?} headers={:?}",
                o.protocol,
                mask_url(&o.url),
                o.compression,
                o.timeout,
                o.headers
                    .iter()
                    .map(|(k, _)| k.as_str())
                    .collect::<Vec<_>>()
            ),
            ExporterConfig::Loki(l) => format!(
                "loki: {} encoding={:?} tenant={}",
                mask_url(&l.url),
                l.encoding,
                l.tenant.as_deref().unwrap_or("-")
            ),
            ExporterConfig::Http(h) => format!(
                "http: {} headers={:?}",
                mask_url(&h.url),
                h.headers
                    .iter()
                    .map(|(k, _)| k.as_str())
                    .collect::<Vec<_>>()
            ),
            ExporterConfig::File(p) => format!("file: {}", p.display()),
            ExporterConfig::Console => "console: stdout".to_string(),
        };
        let _ = writeln!(out, "#   {line}");
    }
    out
}

/// A header `name=value` keeps its name; any other secret is masked whole.
fn mask(value: &str, secret: bool) -> String {
    if !secret {
        return value.to_string();
    }
    match value.split_once('=') {
        Some((name, _)) => format!("{name}=****"),
        None => "****".to_string(),
    }
}

fn quote(v: &str) -> String {
    format!("{v:?}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_found_on_their_line() {
        let text = "# c\nloki-url = \"x\"\n  \"verbose\" = 2\n";
        assert_eq!(line_of_key(text, "loki-url"), 2);
        assert_eq!(line_of_key(text, "verbose"), 3);
    }

    #[test]
    fn near_misses_get_a_suggestion() {
        assert_eq!(edit_distance("loki-ulr", "loki-url"), 2);
        assert!(suggestion("loki-ulr", &Cli::command()).contains("loki-url"));
        assert_eq!(suggestion("zzzzzzzz", &Cli::command()), "");
    }
}
