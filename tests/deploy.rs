//! The recipes in deploy/: every file parses, the compose stack's addresses
//! agree with the services and the ports their configs listen on, the
//! Grafana dashboard queries only series logwrap serves and labels it sends,
//! and the Kubernetes manifests' environment works when given to the real
//! binary. (The image itself is built and run in tests/container.rs; no
//! compose stack or cluster runs here, see deploy/README.md.)

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
    // Prometheus: the address its command names.
    let prometheus_listen = services[&Yaml::String("prometheus".into())]["command"]
        .as_vec()
        .unwrap()
        .iter()
        .find_map(|a| a.as_str()?.strip_prefix("--web.listen-address="))
        .expect("prometheus names its listen address");
    listening.insert(
        "prometheus",
        BTreeSet::from([prometheus_listen
            .rsplit(':')
            .next()
            .unwrap()
            .parse()
            .unwrap()]),
    );
    // The apps: logwrap's --metrics-addr, from their environment.
    for (name, service) in services {
        if let Some(addr) = service["environment"]["LOGWRAP_METRICS_ADDR"].as_str() {
            let port: u16 = addr.rsplit(':').next().unwrap().parse().unwrap();
            listening.insert(name.as_str().unwrap(), BTreeSet::from([port]));
        }
    }
    // Prometheus scrapes host:port targets that are logwrap metrics ports.
    let prometheus = &yaml("compose/prometheus.yaml")[0];
    let mut targets = 0;
    for job in prometheus["scrape_configs"].as_vec().unwrap() {
        for config in job["static_configs"].as_vec().unwrap() {
            for target in config["targets"].as_vec().unwrap() {
                let (host, port) = target.as_str().unwrap().rsplit_once(':').unwrap();
                let port: u16 = port.parse().unwrap();
                let service = &services[&Yaml::String(host.into())];
                let addr = service["environment"]["LOGWRAP_METRICS_ADDR"]
                    .as_str()
                    .unwrap_or_else(|| panic!("{host} serves no logwrap metrics"));
                assert!(
                    addr.starts_with("0.0.0.0:") && addr.ends_with(&format!(":{port}")),
                    "{host}:{port} but its logwrap listens on {addr}"
                );
                targets += 1;
            }
        }
    }
    assert!(targets >= 2, "both apps are scraped");

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
        between_services.len() >= 5,
        "app → collector, app-loki → loki, collector → loki, grafana → loki and prometheus: {between_services:?}"
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

/// Every query of the Grafana dashboard, by data source uid.
fn dashboard_queries() -> (serde_json::Value, Vec<(String, String)>) {
    let text = std::fs::read_to_string(deploy("compose/grafana/dashboards/logwrap.json")).unwrap();
    let dashboard: serde_json::Value = serde_json::from_str(&text).unwrap();
    let mut queries = Vec::new();
    let mut panels: Vec<&serde_json::Value> =
        dashboard["panels"].as_array().unwrap().iter().collect();
    while let Some(panel) = panels.pop() {
        if let Some(nested) = panel["panels"].as_array() {
            panels.extend(nested);
        }
        for target in panel["targets"].as_array().into_iter().flatten() {
            let source = target["datasource"]["uid"]
                .as_str()
                .or(panel["datasource"]["uid"].as_str())
                .unwrap_or_else(|| panic!("{}: no data source", panel["title"]));
            let expr = target["expr"].as_str().expect("a query");
            queries.push((source.to_string(), expr.to_string()));
        }
    }
    (dashboard, queries)
}

/// Words made of `[a-zA-Z0-9_]` starting with `prefix`.
fn words_starting(text: &str, prefix: &str) -> BTreeSet<String> {
    text.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .filter(|w| w.starts_with(prefix))
        .map(str::to_string)
        .collect()
}

/// Label names a query uses: matchers (`name=`, `name=~`, `name!=`,
/// `name!~`) and `by (...)` groupings.
fn labels_used(expr: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let bytes = expr.as_bytes();
    let mut in_string = false;
    for (i, &b) in bytes.iter().enumerate() {
        if b == b'"' && (i == 0 || bytes[i - 1] != b'\\') {
            in_string = !in_string;
        }
        if in_string {
            continue;
        }
        let operator = (b == b'=' && bytes.get(i + 1) != Some(&b'='))
            || (b == b'!' && matches!(bytes.get(i + 1), Some(b'=' | b'~')));
        if !operator || (i > 0 && matches!(bytes[i - 1], b'=' | b'!' | b'<' | b'>')) {
            continue;
        }
        let name: String = expr[..i]
            .trim_end()
            .chars()
            .rev()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect::<Vec<_>>()
            .into_iter()
            .rev()
            .collect();
        if !name.is_empty() {
            out.insert(name);
        }
    }
    for group in expr.split(" by (").skip(1) {
        let list = group.split(')').next().unwrap();
        out.extend(list.split(',').map(|l| l.trim().to_string()));
    }
    out
}

#[test]
fn label_extraction_reads_matchers_and_groupings() {
    assert_eq!(
        labels_used(r#"sum by (destination, le) (rate(x_bucket{instance=~"$i", a!="b=c"}[5m]))"#),
        BTreeSet::from([
            "destination".into(),
            "le".into(),
            "instance".into(),
            "a".into()
        ])
    );
    assert_eq!(
        labels_used(r#"sum by (level) (count_over_time({service_name=~"$s"} | level=~".+" [1m]))"#),
        BTreeSet::from(["level".into(), "service_name".into()])
    );
}

/// The dashboard the compose stack provisions asks Prometheus only for
/// series a running logwrap serves on /metrics, by labels they have, and
/// Loki only for labels and structured metadata logwrap sends.
#[tokio::test]
async fn the_grafana_dashboard_queries_what_logwrap_serves_and_sends() {
    // Provisioned: the compose file mounts the provider and the folder it
    // names, and every data source a panel names is provisioned.
    let compose = &yaml("compose/docker-compose.yml")[0];
    let mounts: Vec<String> = compose["services"]["grafana"]["volumes"]
        .as_vec()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_string())
        .collect();
    let provider = &yaml("compose/grafana/dashboards.yaml")[0];
    let folder = provider["providers"][0]["options"]["path"]
        .as_str()
        .unwrap();
    assert!(
        mounts.contains(
            &"./grafana/dashboards.yaml:/etc/grafana/provisioning/dashboards/dashboards.yaml:ro"
                .to_string()
        ),
        "{mounts:?}"
    );
    assert!(
        mounts.contains(&format!("./grafana/dashboards:{folder}:ro")),
        "{mounts:?}"
    );
    let sources: BTreeSet<String> = yaml("compose/grafana/datasources.yaml")[0]["datasources"]
        .as_vec()
        .unwrap()
        .iter()
        .map(|d| d["uid"].as_str().unwrap().to_string())
        .collect();
    let (dashboard, queries) = dashboard_queries();
    assert!(queries.len() >= 15, "{queries:?}");
    for (source, _) in &queries {
        assert!(
            sources.contains(source),
            "{source} is not provisioned: {sources:?}"
        );
    }

    // A real logwrap with every kind of series: two destinations, a disk
    // buffer, lines on both streams with levels.
    let loki = crate::support::loki::LokiReceiver::start().await;
    let otlp = OtlpReceiver::start().await;
    let buffer = tempfile::tempdir().unwrap();
    let port = free_port();
    let mut cmd = logwrap();
    cmd.args([
        "--metrics-addr",
        &format!("127.0.0.1:{port}"),
        "--loki-url",
        &loki.url(),
        "--loki-label",
        "env=demo",
        "--otlp-endpoint",
        &otlp.endpoint(),
        "--buffer-dir",
        buffer.path().to_str().unwrap(),
        "--batch-delay",
        "50ms",
        "--service-name",
        "demo-app-loki",
        "--",
        "sh",
        "-c",
        "echo ready; echo 'INFO request served'; echo '{\"level\":\"warn\",\"msg\":\"slow\"}'; echo oops >&2; sleep 30",
    ]);
    let (mut child, _stdout) = spawn_until_ready(cmd).await;
    let entries = loki.wait_for_entries(3).await;
    otlp.wait_for_records(3).await;
    let metrics = scrape(port).await;
    // SAFETY: kill has no memory-safety preconditions.
    unsafe { libc::kill(child.id().unwrap() as i32, libc::SIGTERM) };
    let _ = tokio::time::timeout(TIMEOUT, child.wait()).await;

    // Prometheus: series names and their labels, as served.
    let mut served: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for line in metrics
        .lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
    {
        let name_end = line.find(['{', ' ']).unwrap();
        let labels = served.entry(line[..name_end].to_string()).or_default();
        if let Some(inner) = line[name_end..].strip_prefix('{') {
            for pair in inner.split('}').next().unwrap().split(',') {
                labels.insert(pair.split('=').next().unwrap().to_string());
            }
        }
    }
    // What Prometheus adds to every scraped series, and its own grouping.
    let target_labels = ["instance", "job"];
    let mut queried = BTreeSet::new();
    for (source, expr) in queries.iter().filter(|(s, _)| s == "prometheus") {
        let names = words_starting(expr, "logwrap_");
        assert!(!names.is_empty(), "{expr}");
        let mut allowed: BTreeSet<String> = target_labels.iter().map(|l| l.to_string()).collect();
        for name in &names {
            let labels = served
                .get(name)
                .unwrap_or_else(|| panic!("{source}: {name} is not served:\n{metrics}"));
            allowed.extend(labels.iter().cloned());
        }
        for label in labels_used(expr) {
            assert!(
                allowed.contains(&label),
                "{expr}: label {label} is not on {names:?}"
            );
        }
        queried.extend(names);
    }
    // The variable's query, too.
    for variable in dashboard["templating"]["list"].as_array().unwrap() {
        if variable["datasource"]["uid"] == "prometheus" {
            let query = variable["definition"].as_str().unwrap();
            for name in words_starting(query, "logwrap_") {
                assert!(served.contains_key(&name), "variable {query}: {name}");
            }
        }
    }
    // Every series logwrap serves is on the dashboard (the histogram by its
    // buckets, sum and count; build_info by the instance variable).
    for name in served.keys() {
        assert!(
            queried.contains(name) || name == "logwrap_build_info",
            "{name} is on no panel"
        );
    }

    // Loki: stream labels from the stream selector, structured metadata
    // after it.
    let mut stream_labels = BTreeSet::new();
    let mut metadata = BTreeSet::new();
    for e in &entries {
        for pair in e.labels.trim_matches(['{', '}']).split(',') {
            stream_labels.insert(pair.split('=').next().unwrap().trim().to_string());
        }
        metadata.extend(e.metadata.iter().map(|(k, _)| k.clone()));
    }
    assert!(metadata.contains("level"), "{metadata:?}");
    let levels: BTreeSet<&str> = entries.iter().filter_map(|e| e.meta("level")).collect();
    assert!(levels.len() >= 2, "lines of several severities: {levels:?}");
    let mut loki_queries = 0;
    for (_, expr) in queries.iter().filter(|(s, _)| s == "loki") {
        loki_queries += 1;
        let open = expr.find('{').unwrap();
        let close = open + expr[open..].find('}').unwrap();
        let selector = &expr[open..=close];
        for label in labels_used(selector) {
            assert!(
                stream_labels.contains(&label),
                "{expr}: {label} is not a stream label logwrap sends ({stream_labels:?})"
            );
        }
        let rest = format!("{}{}", &expr[..open], &expr[close + 1..]);
        for name in labels_used(&rest) {
            assert!(
                metadata.contains(&name) || stream_labels.contains(&name),
                "{expr}: {name} is neither a label nor structured metadata logwrap sends"
            );
        }
    }
    assert!(loki_queries >= 2, "a panel by severity and the lines");
    for variable in dashboard["templating"]["list"].as_array().unwrap() {
        if variable["datasource"]["uid"] == "loki" {
            let label = variable["query"]["label"].as_str().unwrap();
            assert!(stream_labels.contains(label), "variable on {label}");
        }
    }
}

/// `GET /metrics`, once the server answers (it binds as logwrap starts).
async fn scrape(port: u16) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let deadline = std::time::Instant::now() + TIMEOUT;
    loop {
        if let Ok(mut stream) = tokio::net::TcpStream::connect(("127.0.0.1", port)).await {
            stream
                .write_all(b"GET /metrics HTTP/1.0\r\nHost: x\r\n\r\n")
                .await
                .unwrap();
            let mut answer = String::new();
            stream.read_to_string(&mut answer).await.unwrap();
            if answer.starts_with("HTTP/1.1 200") || answer.starts_with("HTTP/1.0 200") {
                return answer.split_once("\r\n\r\n").unwrap().1.to_string();
            }
        }
        assert!(std::time::Instant::now() < deadline, "no metrics on {port}");
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}
