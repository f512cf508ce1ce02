//! Who is logging: the OTel resource attached to every record.
//!
//! ```text
//!  ResourceConfig (from config) + the spawned child + Environment::detect() ──build()──► Vec<(Str, Value)>
//!                                                      /proc/self/cgroup, /proc/self/mountinfo, uname(2)
//! ```
//!
//! Attributes follow the semantic conventions (names from the
//! `opentelemetry-semantic-conventions` crate): `service.name`,
//! `service.instance.id`, `process.pid`, `process.executable.name`,
//! `process.command`, optionally `process.command_args`, `host.name`,
//! `host.arch`, `os.type`, `container.id` when logwrap runs in a container,
//! plus what the user gives in `OTEL_RESOURCE_ATTRIBUTES`. The process
//! attributes describe the wrapped child, not logwrap: it is the child's
//! output.
//!
//! Precedence for `service.name`: `OTEL_SERVICE_NAME` (the deployment's
//! setting), then `--service-name` (usually baked into an image's entrypoint),
//! then `service.name` in `OTEL_RESOURCE_ATTRIBUTES`, then the spec's fallback
//! `unknown_service:<executable name>`. Other keys given in
//! `OTEL_RESOURCE_ATTRIBUTES` override the detected ones (an operator setting
//! `host.name` to the node's name means it).
//!
//! Detection never fails a run: a file that cannot be read or says nothing
//! recognisable leaves its attribute out. It reads two small files under
//! /proc and calls uname(2), tens of microseconds (see [`container_id`]).

use std::ffi::OsString;
use std::os::unix::ffi::OsStrExt;

use opentelemetry_semantic_conventions::resource as semconv;

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
/// there are no `process.*` attributes. Detects the rest of the environment
/// (see [`Environment::detect`]).
pub fn build(
    config: &ResourceConfig,
    child: Option<ChildInfo<'_>>,
    host_name: Option<String>,
) -> Vec<(Str, Value)> {
    build_in(config, child, Environment::detect(host_name))
}

/// [`build`] with the environment given, for tests.
pub fn build_in(
    config: &ResourceConfig,
    child: Option<ChildInfo<'_>>,
    environment: Environment,
) -> Vec<(Str, Value)> {
    let argv: &[OsString] = child.as_ref().map_or(&[], |c| c.argv);
    let command = argv
        .first()
        .map(|a| String::from_utf8_lossy(a.as_bytes()).into_owned());
    let executable = command.as_deref().map(executable_name);

    let service_name = service_name(config, argv);

    let mut attrs: Vec<(&str, Value)> = vec![
        (semconv::SERVICE_NAME, text(service_name)),
        (
            semconv::SERVICE_INSTANCE_ID,
            text(uuid::Uuid::new_v4().to_string()),
        ),
    ];
    if let Some(child) = &child {
        attrs.push((semconv::PROCESS_PID, Value::Int(child.pid as i64)));
    }
    if let Some(exe) = executable {
        attrs.push((semconv::PROCESS_EXECUTABLE_NAME, text(exe.to_string())));
    }
    if let Some(cmd) = &command {
        attrs.push((semconv::PROCESS_COMMAND, text(cmd.clone())));
    }
    if config.include_command_args && !argv.is_empty() {
        let args = argv
            .iter()
            .map(|a| text(String::from_utf8_lossy(a.as_bytes()).into_owned()))
            .collect();
        attrs.push((semconv::PROCESS_COMMAND_ARGS, Value::Array(args)));
    }
    let Environment {
        host_name,
        host_arch,
        os_type,
        container_id,
    } = environment;
    for (key, value) in [
        (semconv::HOST_NAME, host_name),
        (semconv::HOST_ARCH, host_arch),
        (semconv::OS_TYPE, os_type.map(str::to_string)),
        (semconv::CONTAINER_ID, container_id),
    ] {
        if let Some(value) = value {
            attrs.push((key, text(value)));
        }
    }
    let mut attrs: Vec<(Str, Value)> = attrs
        .into_iter()
        .map(|(k, v)| (Str::from_static(k), v))
        .collect();
    for (k, v) in &config.env_attributes {
        if k == semconv::SERVICE_NAME {
            continue; // decided above
        }
        match attrs.iter_mut().find(|(key, _)| key.as_str() == k) {
            Some(slot) => slot.1 = text(v.clone()),
            None => attrs.push((Str::from(k.clone()), text(v.clone()))),
        }
    }
    attrs
}

/// Where logwrap runs, as far as the resource is concerned.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Environment {
    /// `host.name`: `gethostname(2)` (in a container, usually the first 12
    /// characters of its id unless the runtime was given a name).
    pub host_name: Option<String>,
    /// `host.arch`, in the semantic conventions' words (see [`arch_name`]).
    pub host_arch: Option<String>,
    /// `os.type`.
    pub os_type: Option<&'static str>,
    /// `container.id`, see [`container_id`].
    pub container_id: Option<String>,
}

impl Environment {
    /// Looks around. Never fails: what cannot be found is left out.
    pub fn detect(host_name: Option<String>) -> Self {
        Environment {
            host_name,
            host_arch: machine().map(|m| arch_name(&m).to_string()),
            // The only system logwrap builds for (it supervises with Linux
            // APIs); the conventions' value is the same word.
            os_type: Some(std::env::consts::OS),
            container_id: container_id(),
        }
    }
}

/// The kernel's name for the CPU (`uname -m`): what the host runs, which for
/// a 32-bit build on a 64-bit kernel differs from the binary's own target.
fn machine() -> Option<String> {
    // SAFETY: utsname is plain old data; uname fills it and NUL-terminates
    // each field within its length.
    let mut uts: libc::utsname = unsafe { std::mem::zeroed() };
    if unsafe { libc::uname(&mut uts) } != 0 {
        return None;
    }
    let bytes: Vec<u8> = uts
        .machine
        .iter()
        .take_while(|&&c| c != 0)
        .map(|&c| c as u8)
        .collect();
    let machine = String::from_utf8(bytes).ok()?;
    (!machine.is_empty()).then_some(machine)
}

/// `host.arch` for a `uname -m` name: the conventions' well-known values
/// (`amd64`, `arm32`, `arm64`, `ia64`, `ppc32`, `ppc64`, `s390x`, `x86`),
/// else the kernel's word as it is (the conventions allow other values).
pub fn arch_name(machine: &str) -> &str {
    match machine {
        "x86_64" | "amd64" => "amd64",
        "aarch64" | "aarch64_be" | "arm64" | "armv8b" | "armv8l" => "arm64",
        "i386" | "i486" | "i586" | "i686" | "x86" => "x86",
        "ppc64" | "ppc64le" => "ppc64",
        "ppc" | "ppcle" => "ppc32",
        "s390x" => "s390x",
        "ia64" => "ia64",
        m if m.starts_with("arm") => "arm32",
        m => m,
    }
}

/// The id of the container logwrap runs in, the way the OpenTelemetry SDKs'
/// container detectors find it: first from the cgroup path in
/// `/proc/self/cgroup`, then from the per-container files the runtime
/// bind-mounts, in `/proc/self/mountinfo`. `None` outside a container and
/// where neither shows an id (containerd under Kubernetes with a private
/// cgroup namespace shows only the pod sandbox's id, which is not ours).
///
/// Cost: one read of /proc/self/cgroup (a few hundred bytes); mountinfo (a
/// few KiB in a container, more on a busy host) only when the cgroup path
/// has no id.
pub fn container_id() -> Option<String> {
    if let Ok(cgroup) = std::fs::read_to_string("/proc/self/cgroup")
        && let Some(id) = container_id_from_cgroup(&cgroup)
    {
        return Some(id.to_string());
    }
    let mountinfo = std::fs::read_to_string("/proc/self/mountinfo").ok()?;
    container_id_from_mountinfo(&mountinfo).map(str::to_string)
}

/// A full container id as Docker, containerd, CRI-O and podman write it:
/// 64 lowercase hexadecimal digits (a SHA-256).
fn is_container_id(s: &str) -> bool {
    s.len() == 64 && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

/// The container id in a `/proc/self/cgroup` text: lines are
/// `hierarchy:controllers:path` (cgroup v1, one per hierarchy; v2 is the
/// `0::` line). Runtimes name the container's cgroup after its id:
///
/// - Docker: `/docker/<id>`, `/system.slice/docker-<id>.scope`
/// - podman: `/libpod_parent/libpod-<id>`, `/machine.slice/libpod-<id>.scope`
/// - Kubernetes (containerd, CRI-O): `/kubepods/burstable/pod<uid>/<id>`,
///   `.../kubepods-burstable-pod<uid>.slice/cri-containerd-<id>.scope`,
///   `...slice:cri-containerd:<id>`, `.../crio-<id>.scope`
///
/// so the innermost path segment holding a token of 64 hex digits between
/// `-`, `:` and `.` is taken. With a private cgroup namespace (the default
/// with cgroup v2) the path is `/` and nothing is found here.
pub fn container_id_from_cgroup(text: &str) -> Option<&str> {
    text.lines().find_map(|line| {
        let path = line.splitn(3, ':').nth(2)?;
        path.rsplit('/').find_map(|segment| {
            segment
                .split(['-', ':', '.'])
                .find(|token| is_container_id(token))
        })
    })
}

/// Mount points a Kubernetes runtime fills from the pod's sandbox (shared by
/// all its containers) rather than from the container's own directory.
const POD_LEVEL_MOUNTS: [&str; 4] = [
    "/etc/hostname",
    "/etc/hosts",
    "/etc/resolv.conf",
    "/run/.containerenv",
];

/// The container id in a `/proc/self/mountinfo` text. Runtimes bind-mount
/// per-container files (`/etc/hostname`, `/etc/resolv.conf`, ...) from a
/// directory named after the container; the mount's root (the fourth field)
/// shows it:
///
/// - Docker: `/var/lib/docker/containers/<id>/hostname`
/// - podman, CRI-O: `.../storage/overlay-containers/<id>/userdata/hostname`
///
/// Only the root field is read (the options can hold other containers'
/// paths, an overlay's layers are 64 hex digits too), and only a 64-hex
/// segment right after a `containers` or `overlay-containers` segment counts
/// (containerd's `.../sandboxes/<id>/hostname` is the pod's sandbox). Under
/// Kubernetes the hostname and resolv.conf come from the sandbox while
/// `/run/secrets` or `/dev/termination-log` come from the container, so an
/// id seen on other mounts wins over one seen only on [`POD_LEVEL_MOUNTS`].
pub fn container_id_from_mountinfo(text: &str) -> Option<&str> {
    // (id, whether the mount is a pod-level one), in mount order.
    let mut found: Vec<(&str, bool)> = Vec::new();
    for line in text.lines() {
        let mut fields = line.split(' ');
        let (Some(root), Some(mount_point)) = (fields.nth(3), fields.next()) else {
            continue;
        };
        if let Some(id) = id_in_runtime_dir(root) {
            found.push((id, POD_LEVEL_MOUNTS.contains(&mount_point)));
        }
    }
    let on_pod_level = |id: &str| found.iter().any(|&(i, pod)| pod && i == id);
    found
        .iter()
        .rev()
        .find(|&&(id, pod)| !pod && !on_pod_level(id))
        .or_else(|| found.first())
        .map(|&(id, _)| id)
}

/// `<id>` in `.../containers/<id>/...` or `.../overlay-containers/<id>/...`.
fn id_in_runtime_dir(root: &str) -> Option<&str> {
    let mut segments = root.split('/');
    while let Some(segment) = segments.next() {
        if matches!(segment, "containers" | "overlay-containers") {
            let next = segments.clone().next()?;
            if is_container_id(next) {
                return Some(next);
            }
        }
    }
    None
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

    #[test]
    fn detected_attributes_are_added_and_otel_resource_attributes_win() {
        let id = "e377553d35c5b74a4bb00a2731305e35039c8051e76c47058543e8135b85e823";
        let environment = Environment {
            host_name: Some("e377553d35c5".into()),
            host_arch: Some("amd64".into()),
            os_type: Some("linux"),
            container_id: Some(id.into()),
        };
        let attrs = build_in(&ResourceConfig::default(), None, environment.clone());
        assert_eq!(get(&attrs, "container.id"), Some(&s(id)));
        assert_eq!(get(&attrs, "host.arch"), Some(&s("amd64")));
        assert_eq!(get(&attrs, "os.type"), Some(&s("linux")));
        assert_eq!(get(&attrs, "host.name"), Some(&s("e377553d35c5")));

        let operator = ResourceConfig {
            env_attributes: vec![
                ("container.id".into(), "from-the-operator".into()),
                ("host.arch".into(), "arm64".into()),
            ],
            ..Default::default()
        };
        let attrs = build_in(&operator, None, environment);
        assert_eq!(get(&attrs, "container.id"), Some(&s("from-the-operator")));
        assert_eq!(get(&attrs, "host.arch"), Some(&s("arm64")));
        let ids = attrs
            .iter()
            .filter(|(k, _)| k.as_str() == "container.id")
            .count();
        assert_eq!(ids, 1);

        let nothing = build_in(&ResourceConfig::default(), None, Environment::default());
        for key in ["container.id", "host.arch", "os.type", "host.name"] {
            assert!(get(&nothing, key).is_none(), "{key}");
        }
    }

    #[test]
    fn detection_on_this_machine_never_fails() {
        let found = Environment::detect(host_name());
        assert_eq!(found.os_type, Some("linux"));
        let arch = found.host_arch.expect("uname names the machine");
        assert!(!arch.is_empty());
        if let Some(id) = found.container_id {
            assert!(is_container_id(&id), "{id}");
        }
    }

    #[test]
    fn arch_names_follow_the_conventions() {
        for (machine, arch) in [
            ("x86_64", "amd64"),
            ("aarch64", "arm64"),
            ("armv7l", "arm32"),
            ("armv6l", "arm32"),
            ("i686", "x86"),
            ("ppc64le", "ppc64"),
            ("ppc", "ppc32"),
            ("s390x", "s390x"),
            ("ia64", "ia64"),
            ("riscv64", "riscv64"),
            ("loongarch64", "loongarch64"),
        ] {
            assert_eq!(arch_name(machine), arch, "{machine}");
        }
    }

    const ID: &str = "4e5f1c0d9b8a7f6e5d4c3b2a190817263544536271809a8b7c6d5e4f3a2b1c0d";
    const SANDBOX: &str = "9f0e1d2c3b4a59687766554433221100ffeeddccbbaa99887766554433221100";

    /// cgroup files as each runtime writes them (the id swapped for `ID`).
    #[test]
    fn container_id_from_each_runtimes_cgroup_path() {
        let samples = [
            // Docker, cgroup v1, cgroupfs driver.
            "12:pids:/docker/ID\n11:memory:/docker/ID\n1:name=systemd:/docker/ID\n",
            // Docker, cgroup v1, systemd driver.
            "11:devices:/system.slice/docker-ID.scope\n2:cpu,cpuacct:/system.slice/docker-ID.scope\n",
            // Docker, cgroup v2 with the host's cgroup namespace.
            "0::/system.slice/docker-ID.scope\n",
            // Docker in Docker: the inner container is ours.
            "0::/docker/SANDBOX/docker/ID\n",
            // podman as root, cgroupfs manager (this machine, hybrid v1 + v2).
            "9:name=systemd:/libpod_parent/libpod-ID\n1:cpu:/libpod_parent/libpod-ID\n0::/libpod_parent/libpod-ID\n",
            // podman with systemd, cgroup v2.
            "0::/machine.slice/libpod-ID.scope/container\n",
            // Kubernetes + containerd, cgroup v1, cgroupfs driver.
            "11:memory:/kubepods/besteffort/pod0b4c7a1e-3f2d-4c5b-9a8e-7d6c5b4a3f2e/ID\n",
            // Kubernetes + containerd, cgroup v2, systemd driver, host cgroup namespace.
            "0::/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod0b4c7a1e_3f2d_4c5b_9a8e_7d6c5b4a3f2e.slice/cri-containerd-ID.scope\n",
            // containerd's systemd cgroupsPath form, slice:prefix:name.
            "1:name=systemd:/kubepods-besteffort-pod0b4c7a1e_3f2d_4c5b_9a8e_7d6c5b4a3f2e.slice:cri-containerd:ID\n",
            // Kubernetes + CRI-O, cgroup v1.
            "10:memory:/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod0b4c7a1e_3f2d_4c5b_9a8e_7d6c5b4a3f2e.slice/crio-ID.scope\n",
            // Amazon ECS on EC2: task id (32 hex), then the container.
            "9:perf_event:/ecs/4a1b2c3d4e5f60718293a4b5c6d7e8f9/ID\n",
        ];
        for sample in samples {
            let text = sample.replace("SANDBOX", SANDBOX).replace("ID", ID);
            assert_eq!(container_id_from_cgroup(&text), Some(ID), "{text}");
        }
        let not_containers = [
            // A host: systemd services and sessions.
            "0::/user.slice/user-1000.slice/session-3.scope\n",
            "0::/system.slice/sshd.service\n",
            // A private cgroup namespace (Docker's default on cgroup v2).
            "0::/\n",
            // This development machine: a 32-digit id that is not a container's.
            "4:memory:/process_api/3b7e4eb27ff1143316a0762415a14664\n0::/\n",
            // 63 and 65 digits, upper case.
            "0::/docker/4e5f1c0d9b8a7f6e5d4c3b2a190817263544536271809a8b7c6d5e4f3a2b1c0\n",
            "0::/docker/4e5f1c0d9b8a7f6e5d4c3b2a190817263544536271809a8b7c6d5e4f3a2b1c0d0\n",
            "0::/docker/4E5F1C0D9B8A7F6E5D4C3B2A190817263544536271809A8B7C6D5E4F3A2B1C0D\n",
            "",
            "garbage without colons\n",
        ];
        for text in not_containers {
            assert_eq!(container_id_from_cgroup(text), None, "{text}");
        }
    }

    /// mountinfo lines as each runtime writes them (ids swapped).
    #[test]
    fn container_id_from_each_runtimes_mountinfo() {
        let root_overlay = "1425 1390 0:312 / / rw,relatime master:1 - overlay overlay rw,lowerdir=/var/lib/docker/overlay2/l/QX7Y:/var/lib/docker/overlay2/l/ZW3K,upperdir=/var/lib/docker/overlay2/SANDBOX/diff,workdir=/var/lib/docker/overlay2/SANDBOX/work\n";
        let docker = format!(
            "{root_overlay}\
             1430 1425 0:318 / /proc rw,nosuid,nodev,noexec,relatime - proc proc rw\n\
             1441 1425 254:1 /var/lib/docker/containers/ID/resolv.conf /etc/resolv.conf rw,relatime - ext4 /dev/vda1 rw\n\
             1442 1425 254:1 /var/lib/docker/containers/ID/hostname /etc/hostname rw,relatime - ext4 /dev/vda1 rw\n\
             1443 1425 254:1 /var/lib/docker/containers/ID/hosts /etc/hosts rw,relatime - ext4 /dev/vda1 rw\n"
        );
        // Docker's data root on its own filesystem: the root is relative to it.
        let docker_own_fs = "871 860 259:5 /docker/containers/ID/hostname /etc/hostname rw,relatime - ext4 /dev/nvme1n1p3 rw\n";
        // podman as root (this machine), everything from the container's own
        // directory.
        let podman = "84 78 254:0 /run/containers/storage/overlay-containers/ID/userdata/resolv.conf /etc/resolv.conf rw,relatime - ext4 /dev/vda rw\n\
             85 78 254:0 /run/containers/storage/overlay-containers/ID/userdata/hosts /etc/hosts rw,relatime - ext4 /dev/vda rw\n\
             87 78 254:0 /run/containers/storage/overlay-containers/ID/userdata/.containerenv /run/.containerenv rw,relatime - ext4 /dev/vda rw\n\
             88 78 254:0 /run/containers/storage/overlay-containers/ID/userdata/hostname /etc/hostname rw,relatime - ext4 /dev/vda rw\n\
             90 89 0:29 / /sys/fs/cgroup/cpu ro,nosuid,nodev,noexec,relatime - cgroup cgroup rw,cpu\n";
        // Rootless podman: relative to the user's runtime tmpfs.
        let podman_rootless = "981 961 0:56 /containers/overlay-containers/ID/userdata/hostname /etc/hostname rw,nosuid,nodev,relatime - tmpfs tmpfs rw,size=783888k,mode=700,uid=1000,gid=1000\n";
        // Kubernetes + CRI-O: hostname, resolv.conf and .containerenv from
        // the pod's sandbox, secrets from the container; kubelet's files.
        let crio = "10311 10303 0:25 /containers/storage/overlay-containers/SANDBOX/userdata/resolv.conf /etc/resolv.conf rw,nosuid,nodev,noexec master:15 - tmpfs tmpfs rw,size=6416204k,mode=755\n\
             10312 10303 0:25 /containers/storage/overlay-containers/SANDBOX/userdata/hostname /etc/hostname rw,nosuid,nodev master:15 - tmpfs tmpfs rw\n\
             10313 10303 0:25 /containers/storage/overlay-containers/SANDBOX/userdata/.containerenv /run/.containerenv rw,nosuid,nodev master:15 - tmpfs tmpfs rw\n\
             10314 10303 252:4 /var/lib/kubelet/pods/0b4c7a1e-3f2d-4c5b-9a8e-7d6c5b4a3f2e/etc-hosts /etc/hosts rw,relatime - xfs /dev/vda4 rw\n\
             10315 10305 252:4 /var/lib/kubelet/pods/0b4c7a1e-3f2d-4c5b-9a8e-7d6c5b4a3f2e/containers/app/354653d0 /dev/termination-log rw,relatime - xfs /dev/vda4 rw\n\
             10316 10303 0:25 /containers/storage/overlay-containers/ID/userdata/run/secrets /run/secrets rw,nosuid,nodev - tmpfs tmpfs rw\n";
        // The container's own mount listed first does not change the answer.
        let crio_reordered = crio.lines().rev().collect::<Vec<_>>().join("\n");
        for sample in [
            docker.as_str(),
            docker_own_fs,
            podman,
            podman_rootless,
            crio,
            &crio_reordered,
        ] {
            let text = sample.replace("SANDBOX", SANDBOX).replace("ID", ID);
            assert_eq!(container_id_from_mountinfo(&text), Some(ID), "{text}");
        }

        // containerd under Kubernetes: only the sandbox's directory shows,
        // and that is not this container's id.
        let containerd = "2023 2002 253:1 /var/lib/containerd/io.containerd.grpc.v1.cri/sandboxes/SANDBOX/hostname /etc/hostname rw,relatime - xfs /dev/mapper/vg-root rw\n\
             2024 2002 253:1 /var/lib/kubelet/pods/0b4c7a1e-3f2d-4c5b-9a8e-7d6c5b4a3f2e/etc-hosts /etc/hosts rw,relatime - xfs /dev/mapper/vg-root rw\n";
        // Paths in the options or the overlay's layer ids are not mounts'
        // roots; a short id is no id.
        let misleading = "9408 9397 259:5 /tmp/x /etc/resolv.conf rw,namespace=/docker/containers/ID/resolv.conf - ext4 /dev/nvme1n1p3 rw\n\
             9409 9397 259:5 /docker/containers/4e5f1c0d9b8a/hostname /etc/hostname rw - ext4 /dev/sda1 rw\n";
        for sample in [containerd, misleading, root_overlay, "", "1 2 3\n"] {
            let text = sample.replace("SANDBOX", SANDBOX).replace("ID", ID);
            assert_eq!(container_id_from_mountinfo(&text), None, "{text}");
        }
    }
}
