//! The recipes in deploy/: every file parses, the compose stack's addresses
//! agree with the services and the ports their configs listen on, and the
//! Kubernetes manifests' environment works when given to the real binary.
//! (No Docker engine or cluster runs here; see deploy/README.md.)

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use clap::CommandFactory;
use yaml_rust2::{Yaml, YamlLoader};

use crate::support::*;

fn deploy(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("deploy")
        .join(path)
}

fn yaml(path: &str) -> Vec<Yaml> {
    let text = std::fs::read_to_string(deploy(path)).unwrap();
    YamlLoader::load_from_str(&text).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn files_with(dir: &Path, suffixes: &[&str], out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            files_with(&path, suffixes, out);
        } else if suffixes
            .iter()
            .any(|s| path.file_name().unwrap().to_str().unwrap().ends_with(s))
        {
            out.push(path);
        }
    }
}

#[test]
fn every_yaml_toml_and_dockerfile_parses() {
    let root = deploy("");
    let mut yamls = Vec::new();
    files_with(&root, &[".yaml", ".yml"], &mut yamls);
    assert!(yamls.len() >= 6, "{yamls:?}");
    for path in &yamls {
        let text = std::fs::read_to_string(path).unwrap();
        let docs =
            YamlLoader::load_from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        assert!(!docs.is_empty(), "{}", path.display());
    }
    let mut dockerfiles = Vec::new();
    files_with(&root, &["Dockerfile"], &mut dockerfiles);
    assert!(dockerfiles.len() >= 3, "{dockerfiles:?}");
    for path in &dockerfiles {
        let text = std::fs::read_to_string(path).unwrap();
        let parsed =
            parse_dockerfile::parse(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        assert!(
            parsed
                .instructions
                .iter()
                .any(|i| matches!(i, parse_dockerfile::Instruction::From(..))),
            "{}",
            path.display()
        );
    }
    // The main image: multi-stage, built static, only the binary in scratch.
    let main = std::fs::read_to_string(deploy("Dockerfile")).unwrap();
    let parsed = parse_dockerfile::parse(&main).unwrap();
    let froms = parsed
        .instructions
        .iter()
        .filter(|i| matches!(i, parse_dockerfile::Instruction::From(..)))
        .count();
    assert!(froms >= 2, "multi-stage");
    assert!(main.contains("FROM scratch"));
    assert!(main.contains("ENTRYPOINT [\"/usr/local/bin/logwrap\"]"));
    let mut tomls = Vec::new();
    files_with(&root, &[".toml"], &mut tomls);
    for path in &tomls {
        let text = std::fs::read_to_string(path).unwrap();
        text.parse::<toml::Table>()
            .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    }
}

#[tokio::test]
async fn the_example_config_file_is_accepted_by_logwrap() {
    let run = run_logwrap([
        "--config",
        deploy("logwrap.example.toml").to_str().unwrap(),
        "--print-config",
    ])
    .await;
    assert_eq!(run.code, Some(0), "{}", run.stderr_text());
    let out = run.stdout_text();
    assert!(
        out.contains("loki-url = \"http://loki:3100\"  # file"),
        "{out}"
    );
}

/// `http://host:port` addresses in a YAML tree.
fn addresses(node: &Yaml, out: &mut Vec<(String, u16)>) {
    match node {
        Yaml::String(s) => {
            for part in s.split(|c: char| c.is_whitespace() || c == '"' || c == ',') {
                let Some(rest) = part
                    .strip_prefix("http://")
                    .or_else(|| part.strip_prefix("https://"))
                else {
                    continue;
                };
                let authority = rest.split('/').next().unwrap();
                if let Some((host, port)) = authority.rsplit_once(':')
                    && let Ok(port) = port.parse()
                {
                    out.push((host.to_string(), port));
                }
            }
        }
        Yaml::Array(items) => items.iter().for_each(|i| addresses(i, out)),
        Yaml::Hash(map) => map.values().for_each(|v| addresses(v, out)),
        _ => {}
    }
}

/// Ports a `0.0.0.0:PORT` endpoint setting listens on, anywhere in the tree.
fn listen_ports(node: &Yaml, out: &mut BTreeSet<u16>) {
    match node {
        Yaml::Hash(map) => {
            for (k, v) in map {
                match (k.as_str(), v) {
                    (Some("endpoint"), Yaml::String(s)) if s.starts_with("0.0.0.0:") => {
                        out.insert(s[8..].parse().unwrap());
                    }
                    (Some("http_listen_port" | "grpc_listen_port"), Yaml::Integer(p)) => {
                        out.insert(*p as u16);
                    }
                    _ => listen_ports(v, out),
                }
            }
        }
        Yaml::Array(items) => items.iter().for_each(|i| listen_ports(i, out)),
        _ => {}
    }
}

#[test]
fn the_compose_stack_points_at_the_right_services_and_ports() {
    let compose = &yaml("compose/docker-compose.yml")[0];
    let services = compose["services"].as_hash().unwrap();
    let names: BTreeSet<String> = services
        .keys()
        .map(|k| k.as_str().unwrap().to_string())
        .collect();
    for needed in ["otel-collector", "loki", "grafana", "app"] {
        assert!(names.contains(needed), "{needed} in {names:?}");
    }
    // What each service listens on, from its own config.
    let mut listening: BTreeMap<&str, BTreeSet<u16>> = BTreeMap::new();
    let mut collector = BTreeSet::new();
    listen_ports(&yaml("compose/otel-collector.yaml")[0], &mut collector);
    assert_eq!(collector, BTreeSet::from([4317, 4318]));
    let mut loki = BTreeSet::new();
    listen_ports(&yaml("compose/loki.yaml")[0], &mut loki);
    assert!(loki.contains(&3100));
    listening.insert("otel-collector", collector);
    listening.insert("loki", loki);
    // Grafana's own default port.
    listening.insert("grafana", BTreeSet::from([3000]));

    // Every address in the compose file and the configs it mounts.
    let mut found = Vec::new();
    addresses(compose, &mut found);
    addresses(&yaml("compose/otel-collector.yaml")[0], &mut found);
    addresses(&yaml("compose/grafana/datasources.yaml")[0], &mut found);
    let between_services: Vec<_> = found
        .iter()
        .filter(|(host, _)| host != "127.0.0.1" && host != "localhost")
        .collect();
    assert!(
        between_services.len() >= 4,
        "app → collector, app-loki → loki, collector → loki, grafana → loki: {between_services:?}"
    );
    for (host, port) in between_services {
        assert!(names.contains(host), "{host} is not a compose service");
        let ports = listening
            .get(host.as_str())
            .unwrap_or_else(|| panic!("nothing tells what {host} listens on"));
        assert!(
            ports.contains(port),
            "{host}:{port} but {host} listens on {ports:?}"
        );
    }
    // Published ports are ports the service listens on.
    for (name, service) in services {
        let name = name.as_str().unwrap();
        let Some(ports) = service["ports"].as_vec() else {
            continue;
        };
        for mapping in ports {
            let inside: u16 = mapping
                .as_str()
                .unwrap()
                .rsplit(':')
                .next()
                .unwrap()
                .parse()
                .unwrap();
            if let Some(listens) = listening.get(name) {
                assert!(listens.contains(&inside), "{name} publishes {inside}");
            }
        }
    }
}

/// Every variable name logwrap reads through clap (`LOGWRAP_*`).
fn logwrap_variables() -> BTreeSet<String> {
    logwrap::cli::Cli::command()
        .get_arguments()
        .filter_map(|a| a.get_env())
        .map(|e| e.to_string_lossy().into_owned())
        .collect()
}

/// A container's env as Kubernetes would give it: Downward API fields
/// filled in, `$(VAR)` expanded from earlier entries.
fn container_env(container: &Yaml, fields: &BTreeMap<&str, &str>) -> Vec<(String, String)> {
    let mut env: Vec<(String, String)> = Vec::new();
    for entry in container["env"].as_vec().cloned().unwrap_or_default() {
        let name = entry["name"].as_str().unwrap().to_string();
        let value = if let Some(v) = entry["value"].as_str() {
            let mut v = v.to_string();
            for (n, val) in &env {
                v = v.replace(&format!("$({n})"), val);
            }
            assert!(
                !v.contains("$("),
                "{name}: $(VAR) of a variable not defined above: {v}"
            );
            v
        } else {
            let path = entry["valueFrom"]["fieldRef"]["fieldPath"]
                .as_str()
                .unwrap();
            fields
                .get(path)
                .unwrap_or_else(|| panic!("{name}: unknown fieldPath {path}"))
                .to_string()
        };
        env.push((name, value));
    }
    env
}

fn containers(doc: &Yaml) -> Vec<Yaml> {
    doc["spec"]["template"]["spec"]["containers"]
        .as_vec()
        .unwrap()
        .clone()
}

fn downward_fields() -> BTreeMap<&'static str, &'static str> {
    BTreeMap::from([
        ("metadata.name", "shop-7d9f-abcde"),
        ("metadata.namespace", "prod"),
        ("spec.nodeName", "node-3"),
        ("metadata.uid", "0b4c7a1e-uid"),
    ])
}

/// Every variable a manifest sets is one logwrap reads, or one used by a
/// later `$(VAR)`.
fn assert_every_variable_is_read(env: &[(String, String)], raw: &Yaml) {
    let known = logwrap_variables();
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    let text = format!("{raw:?}");
    for (name, _) in env {
        let used_by_reference = text.contains(&format!("$({name})"));
        let read = if name.starts_with("LOGWRAP_") {
            known.contains(name)
        } else {
            // The OpenTelemetry variables logwrap reads are all in the README.
            name.starts_with("OTEL_") && readme.contains(name.as_str())
        };
        assert!(read || used_by_reference, "{name} is read by nothing");
    }
}

#[tokio::test]
async fn the_entrypoint_manifest_env_puts_kubernetes_into_the_resource() {
    let docs = yaml("kubernetes/entrypoint.yaml");
    let deployment = docs
        .iter()
        .find(|d| d["kind"].as_str() == Some("Deployment"))
        .unwrap();
    let container = containers(deployment)
        .into_iter()
        .find(|c| {
            c["command"]
                .as_vec()
                .is_some_and(|c| c[0].as_str() == Some("logwrap"))
        })
        .expect("a container whose command is logwrap");
    let env = container_env(&container, &downward_fields());
    assert_every_variable_is_read(&env, &container);

    // Run the container's command with its env, the collector address and
    // the metrics port swapped for loopback ones.
    let receiver = OtlpReceiver::start().await;
    let metrics_port = free_port().to_string();
    let mut args: Vec<String> = container["command"]
        .as_vec()
        .unwrap()
        .iter()
        .skip(1)
        .map(|a| {
            a.as_str()
                .unwrap()
                .replace("0.0.0.0:9464", &format!("127.0.0.1:{metrics_port}"))
        })
        .collect();
    args.extend(["echo".to_string(), "hello from the pod".to_string()]);
    let mut cmd = logwrap();
    for (name, value) in &env {
        let value = if name == "OTEL_EXPORTER_OTLP_ENDPOINT" {
            receiver.endpoint()
        } else {
            value.clone()
        };
        cmd.env(name, value);
    }
    cmd.args(&args);
    let run = run_command(cmd).await;
    assert_eq!(run.code, Some(0), "{}", run.stderr_text());
    let requests = receiver.requests();
    let resource = &requests[0].request.resource_logs[0]
        .resource
        .as_ref()
        .unwrap()
        .attributes;
    for (key, want) in [
        ("k8s.pod.name", "shop-7d9f-abcde"),
        ("k8s.namespace.name", "prod"),
        ("k8s.node.name", "node-3"),
        ("k8s.pod.uid", "0b4c7a1e-uid"),
        ("k8s.container.name", container["name"].as_str().unwrap()),
    ] {
        assert_eq!(attr_str(resource, key).as_deref(), Some(want), "{key}");
    }
    let service = env.iter().find(|(n, _)| n == "OTEL_SERVICE_NAME").unwrap();
    assert_eq!(
        attr_str(resource, "service.name").as_deref(),
        Some(service.1.as_str())
    );
    assert!(
        receiver
            .records()
            .iter()
            .any(|r| body_text(r) == "hello from the pod")
    );

    // The probes and scrape annotation name the port logwrap serves.
    for probe in ["livenessProbe", "readinessProbe"] {
        assert_eq!(container[probe]["httpGet"]["port"].as_i64(), Some(9464));
    }
    assert_eq!(
        deployment["spec"]["template"]["metadata"]["annotations"]["prometheus.io/port"].as_str(),
        Some("9464")
    );
}

#[test]
fn the_sidecar_manifest_shares_the_log_volume_and_reads_it() {
    let docs = yaml("kubernetes/sidecar.yaml");
    let deployment = docs
        .iter()
        .find(|d| d["kind"].as_str() == Some("Deployment"))
        .unwrap();
    let all = containers(deployment);
    let sidecar = all
        .iter()
        .find(|c| {
            c["args"]
                .as_vec()
                .is_some_and(|a| a.iter().any(|x| x.as_str() == Some("--input")))
        })
        .expect("a logwrap sidecar with --input");
    let args: Vec<&str> = sidecar["args"]
        .as_vec()
        .unwrap()
        .iter()
        .map(|a| a.as_str().unwrap())
        .collect();
    let input = args[args.iter().position(|a| *a == "--input").unwrap() + 1];
    let glob = input.strip_prefix("file:").expect("file:GLOB");
    // The glob's directory is a volume the app container writes to.
    let dir = Path::new(glob).parent().unwrap().to_str().unwrap();
    let mount_of = |c: &Yaml, path: &str| {
        c["volumeMounts"]
            .as_vec()
            .and_then(|m| m.iter().find(|m| m["mountPath"].as_str() == Some(path)))
            .and_then(|m| m["name"].as_str().map(str::to_string))
    };
    let volume = mount_of(sidecar, dir).expect("the sidecar mounts the glob's directory");
    assert!(
        all.iter()
            .filter(|c| !std::ptr::eq(*c, sidecar))
            .any(|c| mount_of(c, dir).as_deref() == Some(volume.as_str())),
        "an app container mounts {volume} at {dir}"
    );
    let buffer = args[args.iter().position(|a| *a == "--buffer-dir").unwrap() + 1];
    assert!(
        mount_of(sidecar, buffer).is_some(),
        "the buffer dir is a volume"
    );
    let env = container_env(sidecar, &downward_fields());
    assert_every_variable_is_read(&env, sidecar);
    // The options parse as logwrap's own.
    let mut argv = vec!["logwrap"];
    argv.extend(args.iter().copied());
    <logwrap::cli::Cli as clap::Parser>::try_parse_from(&argv).expect("the sidecar's args parse");
}
