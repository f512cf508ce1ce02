//! logwrap in real containers: podman with runc runs a `FROM scratch` image
//! holding the binary these tests built (see support/podman.rs for why the
//! test profile's binary and not the release one) plus busybox, as PID 1,
//! shipping to a receiver on the host (`--network host`, 127.0.0.1, port 0).
//! Skipped, saying so, where podman is missing or cannot run containers.
//!
//! Figures (zombies, exit codes, time from `podman stop` to exit, lines
//! shipped) are printed on stderr: `cargo nextest run --no-capture -E
//! 'test(container::)'`.

use std::path::Path;
use std::time::{Duration, Instant};

use crate::support::podman::{
    Container, Image, Volume, add_busybox, add_libraries, copy_logwrap, podman,
};
use crate::support::*;

/// Counts, in the container's /proc: processes still running `sleep 0.3`
/// (a zombie has an empty cmdline) and zombies of any kind.
const COUNT_ORPHANS_AND_ZOMBIES: &str = r#"live=0; zombies=0
for p in /proc/[0-9]*; do
  case "$(grep '^State:' $p/status 2>/dev/null)" in *Z*) zombies=$((zombies+1));; esac
  [ "$(tr -d '\000' < $p/cmdline 2>/dev/null)" = "sleep0.3" ] && live=$((live+1))
done
echo "$live $zombies""#;

/// Three orphans: each subshell starts `sleep 0.3` and exits at once, so
/// the sleeps are reparented to PID 1; then the script becomes `sleep 30`.
const MAKE_ORPHANS: &str = "for i in 1 2 3; do (sleep 0.3 &); done; exec sleep 30";

/// Waits until the orphans have exited and returns how many zombies stayed.
async fn zombies_once_the_orphans_exited(container: &Container) -> u32 {
    let start = Instant::now();
    loop {
        let out = container.exec(COUNT_ORPHANS_AND_ZOMBIES).await;
        let mut counts = out.split_whitespace().map(|n| n.parse::<u32>().unwrap());
        let (live, zombies) = (counts.next().unwrap(), counts.next().unwrap());
        if live == 0 {
            return zombies;
        }
        assert!(start.elapsed() < TIMEOUT, "the orphans never exited");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn as_pid_1_logwrap_reaps_orphans_where_a_plain_pid_1_leaves_zombies() {
    let Some(image) = Image::logwrap().await else {
        return;
    };
    // Without a reaper: the script execs `sleep 30`, which becomes PID 1
    // and never waits. This shows the count can see zombies.
    let plain =
        Container::start(&["--entrypoint", "/bin/sh", &image.tag, "-c", MAKE_ORPHANS]).await;
    let zombies_without = zombies_once_the_orphans_exited(&plain).await;
    assert_eq!(zombies_without, 3, "a PID 1 that never waits keeps them");

    let wrapped = Container::start(&[
        "--network",
        "none",
        &image.tag,
        "--no-lifecycle",
        "--exporter",
        "none",
        "--",
        "sh",
        "-c",
        MAKE_ORPHANS,
    ])
    .await;
    assert_eq!(
        wrapped.exec("cat /proc/1/comm").await.trim(),
        "logwrap",
        "logwrap is PID 1"
    );
    let zombies_with = zombies_once_the_orphans_exited(&wrapped).await;
    eprintln!(
        "zombies after 3 orphans exited: plain PID 1 {zombies_without}, logwrap {zombies_with}"
    );
    assert_eq!(zombies_with, 0);
}

/// The exit codes `podman run` reports, with logwrap as the entrypoint.
#[tokio::test]
async fn the_container_exits_with_the_childs_code() {
    let Some(image) = Image::logwrap().await else {
        return;
    };
    let mut seen = Vec::new();
    for (script, want) in [
        ("exit 0", 0),
        ("exit 1", 1),
        ("kill -KILL $$", 137),
        ("kill -TERM $$", 143),
    ] {
        let run = podman([
            "run",
            "--rm",
            "--network",
            "none",
            &image.tag,
            "--exporter",
            "none",
            "-q",
            "--",
            "sh",
            "-c",
            script,
        ])
        .await;
        seen.push((script, run.code));
        assert_eq!(run.code, Some(want), "{script}: {}", run.stderr);
    }
    eprintln!("exit codes: {seen:?}");
}

/// The child's lines, shipped from the container to a receiver on the host.
fn ship_to(receiver: &OtlpReceiver) -> Vec<String> {
    vec![
        "--otlp-endpoint".into(),
        receiver.endpoint(),
        "--batch-delay".into(),
        "100ms".into(),
    ]
}

fn start_args<'a>(image: &'a Image, logwrap: &'a [String], script: &'a str) -> Vec<&'a str> {
    let mut args = vec!["--network", "host", image.tag.as_str()];
    args.extend(logwrap.iter().map(String::as_str));
    args.extend(["--", "sh", "-c", script]);
    args
}

fn exit_event(receiver: &OtlpReceiver) -> Option<i64> {
    receiver
        .events()
        .iter()
        .find(|e| e.event_name == "logwrap.process.exit")
        .and_then(|e| match attr(&e.attributes, "process.exit.code") {
            Some(opentelemetry_proto::tonic::common::v1::any_value::Value::IntValue(c)) => Some(*c),
            _ => None,
        })
}

#[tokio::test]
async fn podman_stop_reaches_the_childs_trap_and_its_last_lines_are_shipped() {
    let Some(image) = Image::logwrap().await else {
        return;
    };
    let receiver = OtlpReceiver::start().await;
    let logwrap = ship_to(&receiver);
    // The child's own answer to SIGTERM: last words, exit 7.
    let script = "trap 'echo shutting down cleanly; exit 7' TERM; echo ready; while true; do sleep 0.05; done";
    let container = Container::start(&start_args(&image, &logwrap, script)).await;
    receiver.wait_for_records(1).await;

    let started = Instant::now();
    let stop = podman(["stop", "--time", "10", &container.name]).await.ok();
    let took = started.elapsed();
    let code = container.wait().await;
    assert!(stop.stderr.is_empty(), "{}", stop.stderr);
    let bodies: Vec<String> = receiver.records().iter().map(body_text).collect();
    eprintln!(
        "podman stop -t 10 → exit {code} after {:.0} ms; {} lines shipped: {bodies:?}",
        took.as_secs_f64() * 1000.0,
        bodies.len()
    );
    assert_eq!(code, 7, "{}", container.logs().await);
    assert!(
        took < Duration::from_secs(5),
        "SIGTERM reached the trap, not podman's SIGKILL after 10 s: {took:?}"
    );
    assert_eq!(bodies, ["ready", "shutting down cleanly"]);
    assert_eq!(exit_event(&receiver), Some(7));

    // A child without a trap dies of the forwarded SIGTERM: 143.
    let plain = Container::start(&start_args(
        &image,
        &logwrap,
        "echo ready again; while true; do sleep 0.05; done",
    ))
    .await;
    receiver.wait_for_records(3).await;
    let started = Instant::now();
    podman(["stop", "--time", "10", &plain.name]).await.ok();
    let took = started.elapsed();
    let code = plain.wait().await;
    eprintln!(
        "no trap: podman stop -t 10 → exit {code} after {:.0} ms",
        took.as_secs_f64() * 1000.0
    );
    assert_eq!(code, 143);
}

#[tokio::test]
async fn stop_timeout_kills_a_child_that_ignores_sigterm_before_podman_does() {
    let Some(image) = Image::logwrap().await else {
        return;
    };
    let receiver = OtlpReceiver::start().await;
    let mut logwrap = ship_to(&receiver);
    logwrap.extend(["--stop-timeout".into(), "1s".into()]);
    let script = "trap '' TERM; echo ready; while true; do sleep 0.05; done";
    let container = Container::start(&start_args(&image, &logwrap, script)).await;
    receiver.wait_for_records(1).await;

    let started = Instant::now();
    podman(["stop", "--time", "10", &container.name]).await.ok();
    let took = started.elapsed();
    let code = container.wait().await;
    eprintln!(
        "--stop-timeout 1s under podman stop -t 10 → exit {code} after {:.0} ms",
        took.as_secs_f64() * 1000.0
    );
    // logwrap's SIGKILL after 1 s, not podman's after 10: and logwrap was
    // alive to report it and ship the exit event.
    assert_eq!(code, 137, "{}", container.logs().await);
    assert!(
        took >= Duration::from_millis(900) && took < Duration::from_secs(5),
        "{took:?}"
    );
    receiver
        .http
        .wait_until("the exit event", |_| exit_event(&receiver).is_some())
        .await;
    assert_eq!(exit_event(&receiver), Some(137));
}

#[tokio::test]
async fn container_id_is_the_one_podman_printed() {
    let Some(image) = Image::logwrap().await else {
        return;
    };
    // With the host's cgroup namespace the id is in /proc/self/cgroup; with
    // a private one only /proc/self/mountinfo shows it.
    for cgroupns in ["host", "private"] {
        let receiver = OtlpReceiver::start().await;
        let logwrap = ship_to(&receiver);
        let mut args = vec!["--cgroupns", cgroupns];
        args.extend(start_args(&image, &logwrap, "echo hello from a container"));
        let container = Container::start(&args).await;
        assert_eq!(container.wait().await, 0, "{}", container.logs().await);
        let requests = receiver.requests();
        assert!(!requests.is_empty());
        for request in &requests {
            let resource = request.request.resource_logs[0].resource.as_ref().unwrap();
            assert_eq!(
                attr_str(&resource.attributes, "container.id").as_deref(),
                Some(container.id.as_str()),
                "--cgroupns {cgroupns}: the id podman run -d printed"
            );
            assert_eq!(
                attr_str(&resource.attributes, "os.type").as_deref(),
                Some("linux")
            );
            assert!(attr_str(&resource.attributes, "host.arch").is_some());
        }
        eprintln!(
            "--cgroupns {cgroupns}: container.id {} = the id podman run -d printed",
            container.id
        );
    }
}

/// Two containers sharing a volume: the application writes log files
/// (rotating one by rename), the logwrap sidecar follows them.
#[tokio::test]
async fn a_sidecar_container_follows_the_files_another_container_writes() {
    let Some(image) = Image::logwrap().await else {
        return;
    };
    let receiver = OtlpReceiver::start().await;
    let volume = Volume::create().await;
    let mount = format!("{}:/var/log/app", volume.name);
    let endpoint = receiver.endpoint();
    let sidecar = Container::start(&[
        "--network",
        "host",
        "--volume",
        &mount,
        &image.tag,
        "--input",
        "file:/var/log/app/*.log",
        "--otlp-endpoint",
        &endpoint,
        "--batch-delay",
        "100ms",
        "--no-lifecycle",
    ])
    .await;
    // The application: 500 lines, a rename-and-create rotation, 500 more.
    let app = Container::start(&[
        "--network",
        "none",
        "--volume",
        &mount,
        "--entrypoint",
        "/bin/sh",
        &image.tag,
        "-c",
        "for i in $(seq 0 499); do echo \"line $i\" >> /var/log/app/app.log; done; \
         mv /var/log/app/app.log /var/log/app/app.log.1; \
         for i in $(seq 500 999); do echo \"line $i\" >> /var/log/app/app.log; done",
    ])
    .await;
    assert_eq!(app.wait().await, 0, "{}", app.logs().await);
    receiver.wait_for_records(1000).await;
    let started = Instant::now();
    podman(["stop", "--time", "10", &sidecar.name]).await.ok();
    let code = sidecar.wait().await;
    let records = receiver.records();
    eprintln!(
        "sidecar: {} records from the shared volume; podman stop → exit {code} after {:.0} ms",
        records.len(),
        started.elapsed().as_secs_f64() * 1000.0
    );
    assert_eq!(code, 0, "SIGTERM is a sidecar's normal end");
    let mut numbers: Vec<u32> = records
        .iter()
        .filter_map(|r| body_text(r).strip_prefix("line ")?.parse().ok())
        .collect();
    numbers.sort();
    assert_eq!(numbers, (0..1000).collect::<Vec<_>>());
    let paths: std::collections::BTreeSet<String> = records
        .iter()
        .filter_map(|r| attr_str(&r.attributes, "log.file.path"))
        .collect();
    assert!(paths.contains("/var/log/app/app.log"), "{paths:?}");
    let resource = receiver.requests()[0].request.resource_logs[0]
        .resource
        .clone()
        .unwrap();
    assert_eq!(
        attr_str(&resource.attributes, "container.id").as_deref(),
        Some(sidecar.id.as_str()),
        "the sidecar's own id"
    );
}

/// deploy/Dockerfile's final stage, built from the binary the tests built
/// (`--build-arg BINARY=context`), runs as its USER with its ENTRYPOINT.
#[tokio::test]
async fn the_deploy_dockerfile_builds_from_a_local_binary() {
    if crate::support::podman::available().is_none() {
        return;
    }
    let context = tempfile::tempdir().unwrap();
    copy_logwrap(&context.path().join("logwrap"));
    let dockerfile = concat!(env!("CARGO_MANIFEST_DIR"), "/deploy/Dockerfile");
    let deploy = Image::build(Path::new(dockerfile), &["BINARY=context"], context.path()).await;
    let config = podman([
        "image",
        "inspect",
        "--format",
        "{{.Config.User}} {{json .Config.Entrypoint}}",
        &deploy.tag,
    ])
    .await
    .ok();
    assert_eq!(
        config.stdout.trim(),
        "65532:65532 [\"/usr/local/bin/logwrap\"]"
    );
    let files = podman([
        "image",
        "inspect",
        "--format",
        "{{len .RootFS.Layers}}",
        &deploy.tag,
    ])
    .await
    .ok();
    assert_eq!(files.stdout.trim(), "1", "one layer: the binary");

    // The test binary is linked against glibc; the released one is static.
    // Its libraries (and a shell for the child) go in a layer on top.
    let extra = tempfile::tempdir().unwrap();
    let root = extra.path().join("rootfs");
    add_libraries(&root, env!("CARGO_BIN_EXE_logwrap"));
    add_busybox(&root);
    std::fs::write(
        extra.path().join("Dockerfile"),
        format!("FROM {}\nCOPY rootfs/ /\n", deploy.tag),
    )
    .unwrap();
    let runnable = Image::build(&extra.path().join("Dockerfile"), &[], extra.path()).await;
    let version = podman(["run", "--rm", &runnable.tag, "--version"])
        .await
        .ok();
    assert_eq!(
        version.stdout.trim(),
        format!("logwrap {}", env!("CARGO_PKG_VERSION"))
    );
    let run = podman([
        "run",
        "--rm",
        "--network",
        "none",
        &runnable.tag,
        "--exporter",
        "none",
        "-q",
        "--",
        "sh",
        "-c",
        "echo uid=$(cat /proc/self/status | grep '^Uid:' | awk '{print $2}'); exit 3",
    ])
    .await;
    assert_eq!(run.code, Some(3), "{}", run.stderr);
    assert_eq!(run.stdout.trim(), "uid=65532", "the image's USER");
}
