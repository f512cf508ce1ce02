//! Who is logging: the OTel resource attached to every record.
//!
//! ```text
//!  ResourceConfig (from config) + the spawned child ──build()──► Vec<(Str, Value)>
//! ```
//!
//! Attributes follow the semantic conventions: `service.name`,
//! `service.instance.id`, `process.pid`, `process.executable.name`,
//! `process.command`, optionally `process.command_args`, `host.name`, plus what
//! the user gives in `OTEL_RESOURCE_ATTRIBUTES`. The process attributes
//! describe the wrapped child, not logwrap: it is the child's output.
//!
//! Precedence for `service.name`: `OTEL_SERVICE_NAME` (the deployment's
//! setting), then `--service-name` (usually baked into an image's entrypoint),
//! then `service.name` in `OTEL_RESOURCE_ATTRIBUTES`, then the spec's fallback
//! `unknown_service:<executable name>`. Other keys given in
//! `OTEL_RESOURCE_ATTRIBUTES` override the detected ones (an operator setting
//! `host.name` to the node's name means it).

use std::ffi::OsString;
use std::os::unix::ffi::OsStrExt;

use crate::record::{Str, Value};

/// Resolved resource settings.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ResourceConfig {
    /// From `OTEL_SERVICE_NAME`.
    pub otel_service_name: Option<String>,
    /// From `--service-name` / `LOGWRAP_SERVICE_NAME`.
    pub flag_service_name: Option<String>,
    /// Parsed `OTEL_RESOURCE_ATTRIBUTES`, in the order given.
    pub env_attributes: Vec<(String, String)>,
    /// Add `process.command_args` (off by default: argv can hold secrets).
    pub include_command_args: bool,
}

/// Facts about the wrapped process.
pub struct ChildInfo<'a> {
    pub pid: u32,
    pub argv: &'a [OsString],
}

/// Parses `OTEL_RESOURCE_ATTRIBUTES`: `key=value` pairs separated by `,`,
/// with `,` `=` and anything else percent-encoded, whitespace around keys and
/// values trimmed. Any malformed pair rejects the whole value, as the spec asks
/// ("the entire environment variable value SHOULD be discarded").
pub fn parse_resource_attributes(raw: &str) -> Result<Vec<(String, String)>, String> {
    let mut out: Vec<(String, String)> = Vec::new();
    for (i, member) in raw.split(',').enumerate() {
        let member = member.trim();
        if member.is_empty() {
            continue;
        }
        let Some((key, value)) = member.split_once('=') else {
            return Err(format!("entry {} ({member:?}) has no '='", i + 1));
        };
        let key = percent_decode(key.trim())
            .ok_or_else(|| format!("entry {}: key {key:?} has a bad %-escape", i + 1))?;
        let value = percent_decode(value.trim())
            .ok_or_else(|| format!("entry {}: value of {key:?} has a bad %-escape", i + 1))?;
        if key.is_empty() {
            return Err(format!("entry {} ({member:?}) has an empty key", i + 1));
        }
        // A repeated key: the later one wins, as in a merge.
        out.retain(|(k, _)| *k != key);
        out.push((key, value));
    }
    Ok(out)
}

/// Decodes `%XX` escapes; `None` for a truncated or non-hex escape or a result
/// that is not UTF-8.
pub fn percent_decode(s: &str) -> Option<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = bytes.get(i + 1..i + 3)?;
            let hi = (hex[0] as char).to_digit(16)?;
            let lo = (hex[1] as char).to_digit(16)?;
            out.push((hi * 16 + lo) as u8);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

/// Builds the resource attributes for a run; without a child (pipe mode)
/// there are no `process.*` attributes.
pub fn build(
    config: &ResourceConfig,
    child: Option<ChildInfo<'_>>,
    host_name: Option<String>,
) -> Vec<(Str, Value)> {
    let argv: &[OsString] = child.as_ref().map_or(&[], |c| c.argv);
    let command = argv
        .first()
        .map(|a| String::from_utf8_lossy(a.as_bytes()).into_owned());
    let executable = command.as_deref().map(executable_name);

    let service_name = service_name(config, argv);

    let mut attrs: Vec<(String, Value)> = vec![
        ("service.name".into(), text(service_name)),
        (
            "service.instance.id".into(),
            text(uuid::Uuid::new_v4().to_string()),
        ),
    ];
    if let Some(child) = &child {
        attrs.push(("process.pid".into(), Value::Int(child.pid as i64)));
    }
    if let Some(exe) = executable {
        attrs.push(("process.executable.name".into(), text(exe.to_string())));
    }
    if let Some(cmd) = &command {
        attrs.push(("process.command".into(), text(cmd.clone())));
    }
    if config.include_command_args && !argv.is_empty() {
        let args = argv
            .iter()
            .map(|a| text(String::from_utf8_lossy(a.as_bytes()).into_owned()))
            .collect();
        attrs.push(("process.command_args".into(), Value::Array(args)));
    }
    if let Some(host) = host_name {
        attrs.push(("host.name".into(), text(host)));
    }
    for (k, v) in &config.env_attributes {
        if k == "service.name" {
            continue; // decided above
        }
        match attrs.iter_mut().find(|(key, _)| key == k) {
            Some(slot) => slot.1 = text(v.clone()),
            None => attrs.push((k.clone(), text(v.clone()))),
        }
    }
    attrs.into_iter().map(|(k, v)| (Str::from(k), v)).collect()
}

/// `service.name` by the precedence in the module docs.
pub fn service_name(config: &ResourceConfig, argv: &[OsString]) -> String {
    let env_service = config
        .env_attributes
        .iter()
        .find(|(k, _)| k == "service.name")
        .map(|(_, v)| v.clone());
    let command = argv
        .first()
        .map(|a| String::from_utf8_lossy(a.as_bytes()).into_owned());
    config
        .otel_service_name
        .clone()
        .or_else(|| config.flag_service_name.clone())
        .or(env_service)
        .unwrap_or_else(|| match command.as_deref().map(executable_name) {
            Some(exe) if !exe.is_empty() => format!("unknown_service:{exe}"),
            _ => "unknown_service".to_string(),
        })
}

fn text(s: String) -> Value {
    Value::Str(Str::from(s))
}

/// The base name of a command as given (`/usr/bin/python3` → `python3`).
fn executable_name(command: &str) -> &str {
    command.rsplit('/').next().unwrap_or(command)
}

/// This machine's host name, from `gethostname(2)`.
pub fn host_name() -> Option<String> {
    let mut buf = [0u8; 256];
    // SAFETY: the buffer is valid for its length; gethostname NUL-terminates
    // within it or truncates, and we stop at the first NUL either way.
    let rc = unsafe { libc::gethostname(buf.as_mut_ptr().cast(), buf.len()) };
    if rc != 0 {
        return None;
    }
    let end = buf.iter().position(|&b| b == 0).unwrap_or(buf.len());
    let name = String::from_utf8_lossy(&buf[..end]).into_owned();
    (!name.is_empty()).then_some(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn get<'a>(attrs: &'a [(Str, Value)], key: &str) -> Option<&'a Value> {
        attrs
            .iter()
            .find(|(k, _)| k.as_str() == key)
            .map(|(_, v)| v)
    }

    fn s(v: &str) -> Value {
        Value::Str(Str::from(v.to_string()))
    }

    #[test]
    fn parses_pairs_with_percent_escapes_and_whitespace() {
        let parsed =
            parse_resource_attributes(" a=1 , b = x%2Cy%3Dz ,, k8s.pod.name=web-0").unwrap();
        assert_eq!(
            parsed,
            [
                ("a".into(), "1".into()),
                ("b".into(), "x,y=z".into()),
                ("k8s.pod.name".into(), "web-0".into())
            ]
        );
    }

    #[test]
    fn a_malformed_pair_rejects_the_whole_value() {
        for bad in ["a=1,novalue", "a=%zz", "=v", "a=%4", "a=%ff"] {
            assert!(parse_resource_attributes(bad).is_err(), "{bad}");
        }
        assert_eq!(parse_resource_attributes("").unwrap(), []);
        assert_eq!(
            parse_resource_attributes("a=").unwrap(),
            [("a".into(), String::new())]
        );
    }

    #[test]
    fn service_name_precedence() {
        let argv = [OsString::from("/usr/bin/python3"), OsString::from("app.py")];
        let service_name = |c: &ResourceConfig| {
            let child = ChildInfo {
                pid: 7,
                argv: &argv,
            };
            get(&build(c, Some(child), None), "service.name").cloned()
        };
        let mut c = ResourceConfig {
            env_attributes: vec![("service.name".into(), "from-attrs".into())],
            ..Default::default()
        };
        assert_eq!(service_name(&c), Some(s("from-attrs")));
        c.flag_service_name = Some("from-flag".into());
        assert_eq!(service_name(&c), Some(s("from-flag")));
        c.otel_service_name = Some("from-otel".into());
        assert_eq!(service_name(&c), Some(s("from-otel")));
        assert_eq!(
            service_name(&ResourceConfig::default()),
            Some(s("unknown_service:python3"))
        );
    }

    #[test]
    fn process_attributes_describe_the_child_and_args_are_opt_in() {
        let argv = [
            OsString::from("/bin/sh"),
            OsString::from("-c"),
            OsString::from("secret"),
        ];
        let child = ChildInfo {
            pid: 4242,
            argv: &argv,
        };
        let attrs = build(
            &ResourceConfig::default(),
            Some(ChildInfo {
                pid: child.pid,
                argv: child.argv,
            }),
            Some("box".into()),
        );
        assert_eq!(get(&attrs, "process.pid"), Some(&Value::Int(4242)));
        assert_eq!(get(&attrs, "process.executable.name"), Some(&s("sh")));
        assert_eq!(get(&attrs, "process.command"), Some(&s("/bin/sh")));
        assert_eq!(get(&attrs, "host.name"), Some(&s("box")));
        assert!(get(&attrs, "process.command_args").is_none());
        let id = get(&attrs, "service.instance.id").unwrap();
        assert!(matches!(id, Value::Str(v) if v.len() == 36));

        let with_args = ResourceConfig {
            include_command_args: true,
            ..Default::default()
        };
        let attrs = build(
            &with_args,
            Some(ChildInfo {
                pid: child.pid,
                argv: child.argv,
            }),
            None,
        );
        assert_eq!(
            get(&attrs, "process.command_args"),
            Some(&Value::Array(vec![s("/bin/sh"), s("-c"), s("secret")]))
        );
    }

    #[test]
    fn env_attributes_override_detected_ones_and_keys_stay_unique() {
        let argv = [OsString::from("app")];
        let child = ChildInfo {
            pid: 1,
            argv: &argv,
        };
        let c = ResourceConfig {
            env_attributes: vec![
                ("host.name".into(), "node-7".into()),
                ("team".into(), "core".into()),
            ],
            ..Default::default()
        };
        let attrs = build(
            &c,
            Some(ChildInfo {
                pid: child.pid,
                argv: child.argv,
            }),
            Some("container-abc".into()),
        );
        assert_eq!(get(&attrs, "host.name"), Some(&s("node-7")));
        assert_eq!(get(&attrs, "team"), Some(&s("core")));
        let hosts = attrs
            .iter()
            .filter(|(k, _)| k.as_str() == "host.name")
            .count();
        assert_eq!(hosts, 1);
    }
}
