//! Hardening (issue 13): what an attacker, a broken pipe and a hurried
//! operator can do to logwrap, each checked against the real binary.
//!
//! Redirects and secrets (receivers and redirect targets on 127.0.0.1 only),
//! files that are not what they claim to be, headers logwrap owns, a closed
//! stdout, the death of logwrap itself, job control on a terminal, signals
//! that must not reach a recycled process group, `--pty`'s descriptors,
//! options checked at start, names that must not collide, and a gRPC
//! endpoint that does not speak gRPC.

use std::process::Stdio;
use std::time::{Duration, Instant};

use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};

use crate::support::loki::LokiReceiver;
use crate::support::*;

/// A bound for runs that must end quickly: a hang fails the test in
/// seconds instead of after [`TIMEOUT`].
const QUICK: Duration = Duration::from_secs(15);

/// Runs `cmd` to the end within `limit`, or fails the test (and kills it).
async fn run_within(mut cmd: tokio::process::Command, limit: Duration) -> Run {
    let started = Instant::now();
    let child = cmd.spawn().expect("spawn logwrap");
    let output = tokio::time::timeout(limit, child.wait_with_output())
        .await
        .unwrap_or_else(|_| panic!("logwrap did not finish within {limit:?}"))
        .expect("wait for logwrap");
    Run {
        code: output.status.code(),
        stdout: output.stdout,
        stderr: output.stderr,
        elapsed: started.elapsed(),
    }
}

fn command(args: &[&str]) -> tokio::process::Command {
    let mut cmd = logwrap();
    cmd.args(args);
    cmd
}

// ---- 1. Redirects ---------------------------------------------------------

/// A redirecting server and the target it points at: logwrap must not
/// follow, so the target sees nothing (no body, no header, no secret), the
/// records are not counted as sent, and the log names the Location with its
/// secrets masked.
#[tokio::test]
async fn redirects_are_not_followed_by_any_http_destination() {
    for destination in ["otlp", "loki", "http"] {
        let target = HttpReceiver::start(Answer::status(200)).await;
        let location = format!("{}/elsewhere?token=loc-s3cret", target.url());
        let redirector = HttpReceiver::start(Answer {
            status: 307,
            headers: vec![("location", location.clone())],
            body: Vec::new(),
        })
        .await;
        let mut cmd = logwrap();
        match destination {
            "otlp" => cmd.args([
                "--otlp-endpoint",
                &redirector.url(),
                "--otlp-header",
                "api-key=hdr-s3cret",
            ]),
            "loki" => cmd
                .args([
                    "--loki-url",
                    &redirector.url(),
                    "--loki-tenant",
                    "tenant-1",
                    "--loki-username",
                    "u",
                ])
                .env("LOGWRAP_LOKI_PASSWORD", "pw-s3cret"),
            _ => cmd.args([
                "--http-url",
                &redirector.url(),
                "--http-header",
                "x-api-key=hdr-s3cret",
            ]),
        };
        cmd.args(["--shutdown-timeout", "3s", "--", "sh", "-c", "echo hello"]);
        let run = run_within(cmd, QUICK).await;
        let stderr = run.stderr_text();
        assert_eq!(run.code, Some(0), "{destination}: {stderr}");
        assert!(
            redirector.requests_seen() >= 1,
            "{destination}: the redirector was asked"
        );
        assert_eq!(
            target.requests_seen(),
            0,
            "{destination}: the redirect target got a request: {:?}",
            target.captured().first().map(|c| &c.headers)
        );
        assert!(
            stderr.contains("redirect") && stderr.contains(&target.url()),
            "{destination}: the log names the redirect and where it pointed: {stderr}"
        );
        assert!(
            !stderr.contains("s3cret"),
            "{destination}: a secret reached the log: {stderr}"
        );
        assert!(
            undelivered(&stderr, "failed") > 0,
            "{destination}: the records count as failed, not sent: {stderr}"
        );
    }
}

// ---- 2. The child's environment ---------------------------------------------

#[tokio::test]
async fn the_child_does_not_inherit_logwraps_secrets() {
    let otlp = OtlpReceiver::start().await;
    let loki = LokiReceiver::start().await;
    let dir = tempfile::tempdir().unwrap();
    let token = dir.path().join("token");
    std::fs::write(&token, "file-s3cret\n").unwrap();
    let mut cmd = logwrap();
    cmd.env("LOGWRAP_OTLP_ENDPOINT", otlp.endpoint())
        .env("LOGWRAP_OTLP_HEADERS", "api-key=hdr-s3cret")
        .env("LOGWRAP_OTLP_BEARER_TOKEN_FILE", &token)
        .env("LOGWRAP_LOKI_URL", loki.url())
        .env("LOGWRAP_LOKI_USERNAME", "u")
        .env("LOGWRAP_LOKI_PASSWORD", "pw-s3cret")
        .env("OTEL_EXPORTER_OTLP_HEADERS", "sdk-key=for-the-child")
        .args(["--", "sh", "-c", "env | sort"]);
    let run = run_within(cmd, QUICK).await;
    assert_eq!(run.code, Some(0), "{}", run.stderr_text());
    let env = run.stdout_text();
    for gone in [
        "LOGWRAP_OTLP_HEADERS",
        "LOGWRAP_LOKI_PASSWORD",
        "LOGWRAP_OTLP_BEARER_TOKEN_FILE",
        "s3cret",
    ] {
        assert!(!env.contains(gone), "{gone} reached the child:\n{env}");
    }
    // What the child's own SDK may need stays, and so do logwrap's
    // settings that are not secrets.
    assert!(
        env.contains("OTEL_EXPORTER_OTLP_HEADERS=sdk-key=for-the-child"),
        "{env}"
    );
    assert!(env.contains("LOGWRAP_LOKI_USERNAME=u"), "{env}");
    let shipped: Vec<String> = otlp.records().iter().map(body_text).collect();
    assert!(
        shipped.iter().any(|b| b.starts_with("PATH=")),
        "{shipped:?}"
    );
    assert!(!shipped.iter().any(|b| b.contains("s3cret")), "{shipped:?}");
}

// ---- 3. Secrets in output ---------------------------------------------------

#[tokio::test]
async fn print_config_masks_userinfo_and_query_values_everywhere() {
    let run = run_within(
        command(&[
            "--print-config",
            "--loki-url",
            "http://user:pw-s3cret@127.0.0.1:3100/?token=q-s3cret",
            "--otlp-endpoint",
            "http://127.0.0.1:4318/?api_key=k-s3cret",
            "--http-url",
            "https://127.0.0.1:9/in?sig=h-s3cret&x=1",
            "--",
            "true",
        ]),
        QUICK,
    )
    .await;
    let out = run.stdout_text();
    assert_eq!(run.code, Some(0), "{}", run.stderr_text());
    assert!(!out.contains("s3cret"), "{out}");
    assert!(
        out.contains("127.0.0.1:3100") && out.contains("api_key=") && out.contains("sig="),
        "hosts and parameter names stay readable: {out}"
    );
}

#[tokio::test]
async fn errors_and_debug_logs_carry_no_url_secret_and_no_argv() {
    let endpoint = format!("http://127.0.0.1:{}/?api_key=k-s3cret", free_port());
    let run = run_within(
        command(&[
            "-vv",
            "--otlp-endpoint",
            &endpoint,
            "--retry-initial",
            "100ms",
            "--retry-max-elapsed",
            "300ms",
            "--shutdown-timeout",
            "1s",
            "--",
            "sh",
            "-c",
            "echo hello",
            "argv-s3cret",
        ]),
        QUICK,
    )
    .await;
    let stderr = run.stderr_text();
    assert_eq!(run.code, Some(0), "{stderr}");
    assert!(
        stderr.contains("export failed") || stderr.contains("not delivered"),
        "the failure is reported: {stderr}"
    );
    assert!(!stderr.contains("s3cret"), "{stderr}");

    // A malformed URL is quoted in the usage error, its password masked.
    let run = run_within(
        command(&[
            "--otlp-endpoint",
            "http://u:pw-s3cret@127.0.0.1:99999/",
            "--",
            "true",
        ]),
        QUICK,
    )
    .await;
    assert_eq!(run.code, Some(2), "{}", run.stderr_text());
    assert!(
        run.stderr_text().contains("--otlp-endpoint") && !run.stderr_text().contains("s3cret"),
        "{}",
        run.stderr_text()
    );
}

// ---- 4. Files named by the user -------------------------------------------------

fn mkfifo(path: &std::path::Path) {
    let c = std::ffi::CString::new(path.as_os_str().as_encoded_bytes()).unwrap();
    // SAFETY: a valid NUL-terminated path.
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
}

#[tokio::test]
async fn a_config_file_that_is_not_a_small_regular_file_is_refused_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("config.fifo");
    mkfifo(&fifo);
    let big = dir.path().join("big.toml");
    std::fs::write(&big, format!("# {}\n", "x".repeat(8 << 20))).unwrap();
    for (path, why) in [
        ("/dev/zero", "not a regular file"),
        (fifo.to_str().unwrap(), "not a regular file"),
        (big.to_str().unwrap(), "larger than"),
    ] {
        let run = run_within(command(&["--config", path, "--", "true"]), QUICK).await;
        let stderr = run.stderr_text();
        assert_eq!(run.code, Some(2), "--config {path}: {stderr}");
        assert!(
            stderr.contains(path) && stderr.contains(why),
            "--config {path}: {stderr}"
        );
    }
}

#[tokio::test]
async fn a_token_file_that_is_not_a_small_regular_file_is_refused_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("token.fifo");
    mkfifo(&fifo);
    let big = dir.path().join("big-token");
    std::fs::write(&big, "t".repeat(65 * 1024)).unwrap();
    for (option, path, why) in [
        (
            "--otlp-bearer-token-file",
            "/dev/zero",
            "not a regular file",
        ),
        (
            "--otlp-bearer-token-file",
            fifo.to_str().unwrap(),
            "not a regular file",
        ),
        ("--loki-password-file", big.to_str().unwrap(), "larger than"),
        ("--http-bearer-token-file", "/nonexistent/token", "cannot"),
    ] {
        let mut args = vec![
            "--otlp-endpoint",
            "http://127.0.0.1:9",
            "--loki-url",
            "http://127.0.0.1:9",
            "--http-url",
            "http://127.0.0.1:9",
            option,
            path,
        ];
        if option == "--loki-password-file" {
            args.extend(["--loki-username", "u"]);
        }
        args.extend(["--", "true"]);
        let run = run_within(command(&args), QUICK).await;
        let stderr = run.stderr_text();
        assert_eq!(run.code, Some(2), "{option} {path}: {stderr}");
        assert!(
            stderr.contains(option) && stderr.contains(why),
            "{option} {path}: {stderr}"
        );
    }
}

#[tokio::test]
async fn a_token_file_swapped_for_a_fifo_at_runtime_does_not_hang_logwrap() {
    let receiver = OtlpReceiver::start().await;
    let dir = tempfile::tempdir().unwrap();
    let token = dir.path().join("token");
    std::fs::write(&token, "first\n").unwrap();
    let mut cmd = command(&[
        "--otlp-endpoint",
        &receiver.endpoint(),
        "--otlp-bearer-token-file",
        token.to_str().unwrap(),
        "--no-lifecycle",
        "--shutdown-timeout",
        "2s",
        "--",
        "sh",
        "-c",
        "echo ready; read go; echo after-swap",
    ]);
    cmd.stdin(Stdio::piped());
    let mut child = cmd.spawn().unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    tokio::time::timeout(QUICK, stdout.read_line(&mut line))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(line, "ready\n");
    std::fs::remove_file(&token).unwrap();
    mkfifo(&token);
    stdin.write_all(b"go\n").await.unwrap();
    drop(stdin);
    let mut rest = Vec::new();
    let status = tokio::time::timeout(QUICK, async {
        stdout.read_to_end(&mut rest).await.unwrap();
        child.wait().await.unwrap()
    })
    .await
    .expect("logwrap hung on a FIFO token file");
    assert_eq!(status.code(), Some(0));
}

// ---- 5. Headers logwrap owns -------------------------------------------------

#[tokio::test]
async fn headers_logwrap_sets_itself_cannot_be_overridden() {
    for (option, header) in [
        ("--otlp-header", "host=evil.example"),
        ("--otlp-header", "Content-Encoding=gzip"),
        ("--otlp-header", "content-type=text/plain"),
        ("--otlp-header", "content-length=1"),
        ("--http-header", "transfer-encoding=chunked"),
        ("--http-header", "Host=evil.example"),
    ] {
        let run = run_within(
            command(&[
                "--otlp-endpoint",
                "http://127.0.0.1:9",
                "--http-url",
                "http://127.0.0.1:9",
                option,
                header,
                "--",
                "true",
            ]),
            QUICK,
        )
        .await;
        let name = header.split('=').next().unwrap();
        let stderr = run.stderr_text();
        assert_eq!(run.code, Some(2), "{option} {header}: {stderr}");
        assert!(
            stderr.contains(option) && stderr.contains(name),
            "{option} {header}: {stderr}"
        );
    }
    let run = run_within(
        command(&[
            "--otlp-protocol",
            "grpc",
            "--otlp-endpoint",
            "http://127.0.0.1:9",
            "--otlp-header",
            "grpc-timeout=1S",
            "--",
            "true",
        ]),
        QUICK,
    )
    .await;
    assert_eq!(run.code, Some(2), "{}", run.stderr_text());
}

// ---- 10. A closed stdout -----------------------------------------------------

/// logwrap's stdout is read for one line and closed, as `| head -1` does:
/// the child must get SIGPIPE (exit 141) soon, with at most one warning.
async fn closed_stdout(args: &[&str]) {
    let mut child = command(args).spawn().unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut stderr = child.stderr.take().unwrap();
    let mut line = String::new();
    tokio::time::timeout(QUICK, stdout.read_line(&mut line))
        .await
        .unwrap()
        .unwrap();
    assert!(!line.is_empty());
    drop(stdout);
    let mut errors = Vec::new();
    let status = tokio::time::timeout(QUICK, async {
        stderr.read_to_end(&mut errors).await.unwrap();
        child.wait().await.unwrap()
    })
    .await
    .unwrap_or_else(|_| panic!("{args:?}: the child kept running after stdout closed"));
    let errors = String::from_utf8_lossy(&errors);
    assert_eq!(
        status.code(),
        Some(128 + libc::SIGPIPE),
        "{args:?}: {errors}"
    );
    // The end-of-run report of records that went nowhere is not a
    // complaint about the pipe; it is one line per destination.
    let complaints = errors
        .lines()
        .filter(|l| !l.contains("summary:") && !l.contains("records were not delivered"))
        .filter(|l| l.contains("WARN") || l.contains("ERROR"))
        .count();
    assert!(
        complaints <= 1,
        "{args:?}: {complaints} warnings:\n{errors}"
    );
}

#[tokio::test]
async fn a_closed_stdout_ends_the_child_like_a_pipe_with_the_console_exporter() {
    closed_stdout(&["--", "yes"]).await;
}

#[tokio::test]
async fn a_closed_stdout_ends_the_child_like_a_pipe_with_the_pass_through() {
    let receiver = OtlpReceiver::start().await;
    closed_stdout(&["--otlp-endpoint", &receiver.endpoint(), "--", "yes"]).await;
}

#[tokio::test]
async fn a_closed_stderr_ends_the_child_like_a_pipe() {
    let receiver = OtlpReceiver::start().await;
    let mut child = command(&[
        "--otlp-endpoint",
        &receiver.endpoint(),
        "-q",
        "--",
        "sh",
        "-c",
        "echo ready; yes >&2",
    ])
    .spawn()
    .unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    tokio::time::timeout(QUICK, stdout.read_line(&mut line))
        .await
        .unwrap()
        .unwrap();
    drop(child.stderr.take());
    let status = tokio::time::timeout(QUICK, child.wait())
        .await
        .expect("the child kept running after stderr closed")
        .unwrap();
    // sh passes on the status of its last command, yes, killed by SIGPIPE.
    assert_eq!(status.code(), Some(128 + libc::SIGPIPE));
}

// ---- 11. logwrap's own death -----------------------------------------------------

fn alive(pid: i32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .ok()
        .and_then(|s| {
            s.rfind(')')
                .map(|i| s[i + 1..].split_whitespace().next() != Some("Z"))
        })
        .unwrap_or(false)
}

#[tokio::test]
async fn sigkill_to_logwrap_does_not_orphan_the_child() {
    let running = spawn_logwrap(["--exporter", "none", "--", "sleep", "300"]);
    let pid = running.pid();
    let deadline = Instant::now() + QUICK;
    let child = loop {
        if let Some(&c) = children_of(pid).first()
            && std::fs::read_to_string(format!("/proc/{c}/comm")).is_ok_and(|n| n == "sleep\n")
        {
            break c;
        }
        assert!(Instant::now() < deadline, "the child never started");
        tokio::time::sleep(Duration::from_millis(10)).await;
    };
    // SAFETY: kill has no memory-safety preconditions.
    unsafe { libc::kill(pid, libc::SIGKILL) };
    let _ = running.finish().await;
    let deadline = Instant::now() + Duration::from_secs(5);
    while alive(child) && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let orphaned = alive(child);
    if orphaned {
        // SAFETY: as above; the test's own leftover.
        unsafe { libc::kill(child, libc::SIGKILL) };
    }
    assert!(!orphaned, "the child outlived logwrap's SIGKILL");
}

// ---- 14. Ctrl-Z on a terminal ----------------------------------------------------

/// Runs logwrap on a new pseudo-terminal (python3's pty module makes it a
/// session leader there, as a shell's job would be in the foreground),
/// types Ctrl-Z, and expects logwrap to stop as a shell job does; SIGCONT
/// (the shell's `fg`) resumes it and the child, which then finishes.
const JOB_CONTROL: &str = r#"
import os, pty, signal, sys, time
logwrap = sys.argv[1]
pid, fd = pty.fork()
if pid == 0:
    os.execv(logwrap, [logwrap, "--exporter", "none", "-q", "--", "sh", "-c",
                       "echo ready; read line; echo resumed-$line"])
seen = b""
def wait_for(token, limit):
    global seen
    deadline = time.time() + limit
    while token not in seen:
        if time.time() > deadline:
            print("timeout waiting for", token, seen); os.kill(pid, 9); sys.exit(1)
        try:
            import select
            r, _, _ = select.select([fd], [], [], 0.1)
            if r:
                seen += os.read(fd, 4096)
        except OSError:
            break
wait_for(b"ready", 10)
os.write(fd, b"\x1a")
deadline = time.time() + 10
while True:
    p, status = os.waitpid(pid, os.WUNTRACED | os.WNOHANG)
    if p == pid and os.WIFSTOPPED(status):
        print("stopped")
        break
    if p == pid:
        print("ended instead of stopping", status); sys.exit(1)
    if time.time() > deadline:
        print("logwrap did not stop on Ctrl-Z"); os.kill(pid, 9); sys.exit(1)
    time.sleep(0.02)
os.kill(pid, signal.SIGCONT)
os.write(fd, b"go\n")
wait_for(b"resumed-go", 10)
deadline = time.time() + 10
while True:
    p, status = os.waitpid(pid, os.WNOHANG)
    if p == pid:
        print("exit", os.waitstatus_to_exitcode(status))
        break
    if time.time() > deadline:
        print("logwrap did not end"); os.kill(pid, 9); sys.exit(1)
    time.sleep(0.02)
"#;

#[tokio::test]
async fn ctrl_z_stops_logwrap_like_a_shell_job_and_sigcont_resumes_it() {
    let mut cmd = tokio::process::Command::new("python3");
    cmd.args(["-c", JOB_CONTROL, env!("CARGO_BIN_EXE_logwrap")])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    let run = run_within(cmd, Duration::from_secs(40)).await;
    let out = run.stdout_text();
    assert_eq!(run.code, Some(0), "{out}{}", run.stderr_text());
    assert_eq!(out, "stopped\nexit 0\n");
}

// ---- 15. Signals and recycled process groups ------------------------------------

/// Inside a new PID namespace (so the next PID can be chosen through
/// ns_last_pid): the child starts a process in a session of its own that
/// ignores SIGTERM, and exits. Its process group is then empty, but logwrap
/// waits out the grace period for the leftover; meanwhile an unrelated
/// process is started with the group's old number as its own new group.
/// logwrap must not SIGKILL that group at the end of the grace period: the
/// group it meant is gone.
const RECYCLED_GROUP: &str = r#"
import os, subprocess, sys, time
logwrap = sys.argv[1]
lw = subprocess.Popen([logwrap, "--exporter", "none", "-q", "--stop-timeout", "4s", "--",
                       "sh", "-c", 'echo $$; setsid sh -c "trap \\"\\" TERM; exec sleep 2" & exit 0'],
                      stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
pgid = int(lw.stdout.readline())
def group_members():
    n = 0
    for p in os.listdir("/proc"):
        if p.isdigit():
            try:
                stat = open(f"/proc/{p}/stat").read()
            except OSError:
                continue
            fields = stat[stat.rfind(")") + 2:].split()
            if int(fields[2]) == pgid and fields[0] != "Z":
                n += 1
    return n
deadline = time.time() + 3
while group_members() > 0:
    if time.time() > deadline:
        print("the group never emptied"); sys.exit(1)
    time.sleep(0.01)
with open("/proc/sys/kernel/ns_last_pid", "w") as f:
    f.write(str(pgid - 1))
victim = subprocess.Popen(["sleep", "30"], start_new_session=True)
if victim.pid != pgid:
    print("SKIP: pid", victim.pid, "not", pgid); victim.kill(); lw.wait(); sys.exit(0)
lw.wait(timeout=20)
print("victim alive" if victim.poll() is None else f"victim killed {victim.returncode}")
victim.kill()
"#;

#[tokio::test]
async fn no_signal_reaches_a_process_group_that_took_a_dead_groups_number() {
    // SAFETY: geteuid has no preconditions.
    let root = unsafe { libc::geteuid() } == 0;
    if !root
        || !std::process::Command::new("unshare")
            .args(["--pid", "--fork", "--mount-proc", "true"])
            .status()
            .is_ok_and(|s| s.success())
    {
        eprintln!("SKIPPED: the recycled-group test needs root and unshare(1) (ns_last_pid)");
        return;
    }
    let mut cmd = tokio::process::Command::new("unshare");
    cmd.args(["--pid", "--fork", "--mount-proc", "python3", "-c"])
        .arg(RECYCLED_GROUP)
        .arg(env!("CARGO_BIN_EXE_logwrap"))
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    let run = run_within(cmd, Duration::from_secs(40)).await;
    let out = run.stdout_text();
    if out.starts_with("SKIP") {
        eprintln!("SKIPPED: {out}");
        return;
    }
    assert_eq!(run.code, Some(0), "{out}{}", run.stderr_text());
    assert_eq!(out, "victim alive\n");
}

// ---- 16. --pty -----------------------------------------------------------------------

#[tokio::test]
async fn pty_gives_the_child_only_its_standard_descriptors_and_ends_quietly() {
    let run = run_within(
        command(&[
            "--pty",
            "--exporter",
            "none",
            "--",
            "sh",
            "-c",
            "for f in /proc/$$/fd/*; do echo \"$f -> $(readlink $f)\"; done",
        ]),
        QUICK,
    )
    .await;
    let out = run.stdout_text();
    let stderr = run.stderr_text();
    assert_eq!(run.code, Some(0), "{stderr}");
    let on_terminal: Vec<&str> = out.lines().filter(|l| l.contains("/dev/pts/")).collect();
    assert_eq!(
        on_terminal.len(),
        2,
        "only stdout and stderr are the terminal: {out}"
    );
    assert!(
        !stderr.contains("failed") && !stderr.contains("WARN"),
        "{stderr}"
    );
}

// ---- 17. Options checked at start ------------------------------------------------------

#[tokio::test]
async fn bad_values_are_found_at_start_even_where_unused() {
    let dir = tempfile::tempdir().unwrap();
    let regular = dir.path().join("regular");
    std::fs::write(&regular, "x").unwrap();
    let dir_path = dir.path().to_str().unwrap();
    for (args, setting) in [
        (vec!["--otlp-protocol", "foo"], "--otlp-protocol"),
        (
            vec!["--exporter", "console", "--otlp-protocol", "foo"],
            "--otlp-protocol",
        ),
        (vec!["--file", dir_path], "--file"),
        (vec!["--file", "/nonexistent/x"], "--file"),
        (
            vec!["--buffer-dir", regular.to_str().unwrap()],
            "--buffer-dir",
        ),
        (
            vec!["--exporter", "console", "--otlp-protocol", "grpc"],
            "--otlp-protocol",
        ),
        (vec!["--loki-label", "env=prod"], "--loki-label"),
        (vec!["--http-header", "a=b"], "--http-header"),
    ] {
        let mut all = args.clone();
        all.extend(["--", "sh", "-c", "echo ran"]);
        let run = run_within(command(&all), QUICK).await;
        let stderr = run.stderr_text();
        assert_eq!(run.code, Some(2), "{args:?}: {stderr}");
        assert!(stderr.contains(setting), "{args:?}: {stderr}");
        assert!(
            !run.stdout_text().contains("ran"),
            "{args:?}: the child ran"
        );
    }
}

#[tokio::test]
async fn an_otlp_option_alone_selects_otlp_at_its_default_endpoint() {
    let run = run_within(
        command(&["--print-config", "--otlp-protocol", "grpc", "--", "true"]),
        QUICK,
    )
    .await;
    let out = run.stdout_text();
    assert_eq!(run.code, Some(0), "{}", run.stderr_text());
    assert!(
        out.contains("#   otlp: Grpc http://localhost:4317") && !out.contains("#   console"),
        "{out}"
    );
}

// ---- 18. Ambiguities -------------------------------------------------------------------

#[tokio::test]
async fn bytes_bodies_are_marked_in_json_output() {
    let run = run_within(
        command(&[
            "--no-lifecycle",
            "--",
            "sh",
            "-c",
            "printf 'aGVsbG8=\\n'; printf 'bad \\377\\n'",
        ]),
        QUICK,
    )
    .await;
    assert_eq!(run.code, Some(0), "{}", run.stderr_text());
    let records: Vec<serde_json::Value> = run
        .stdout_text()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(records.len(), 2, "{records:?}");
    let text = records.iter().find(|r| r["body"] == "aGVsbG8=").unwrap();
    assert!(text.get("body_encoding").is_none(), "{text}");
    let bytes = records.iter().find(|r| r["body"] != "aGVsbG8=").unwrap();
    assert_eq!(bytes["body_encoding"], "base64", "{bytes}");
    assert_eq!(bytes["body"], "YmFkIP8=");
}

#[tokio::test]
async fn a_childs_fields_never_overwrite_logwraps_in_loki_metadata() {
    let loki = LokiReceiver::start().await;
    let line = r#"{"msg":"m","level":"error","severity_number":"high","trace_id":"not-hex","service.name":"evil","observed_timestamp":"then","a.b":"dot","a_b":"under","log.iostream":"fake"}"#;
    let run = run_within(
        command(&[
            "--loki-url",
            &loki.url(),
            "--loki-label",
            "team=core",
            "--service-name",
            "svc",
            "--no-lifecycle",
            "--",
            "printf",
            &format!("{line}\n{{\"msg\":\"m2\",\"team\":\"other\"}}\n"),
        ]),
        QUICK,
    )
    .await;
    assert_eq!(run.code, Some(0), "{}", run.stderr_text());
    let entries = loki.wait_for_entries(2).await;
    let e = entries.iter().find(|e| e.line == "m").unwrap();
    let meta = |n: &str| e.meta(n).map(str::to_string);
    assert_eq!(meta("level").as_deref(), Some("error"), "{:?}", e.metadata);
    assert_eq!(meta("severity_number").as_deref(), Some("17"));
    assert_eq!(meta("severity_number_2").as_deref(), Some("high"));
    assert_eq!(meta("trace_id"), None, "the record has no trace id");
    assert_eq!(meta("trace_id_2").as_deref(), Some("not-hex"));
    assert_eq!(meta("service_name_2").as_deref(), Some("evil"));
    assert!(e.labels.contains("service_name=\"svc\""), "{}", e.labels);
    assert_eq!(meta("observed_timestamp_2").as_deref(), Some("then"));
    assert_eq!(meta("a_b").as_deref(), Some("dot"));
    assert_eq!(meta("a_b_2").as_deref(), Some("under"));
    assert_eq!(meta("log_iostream").as_deref(), Some("stdout"));
    let names: Vec<&str> = e.metadata.iter().map(|(n, _)| n.as_str()).collect();
    let mut unique = names.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), names.len(), "one value per name: {names:?}");
    // A field named like a stream label is kept apart from the label.
    let e2 = entries.iter().find(|e| e.line == "m2").unwrap();
    assert_eq!(e2.meta("team"), None, "{:?}", e2.metadata);
    assert_eq!(e2.meta("team_2"), Some("other"));
}

// ---- 19. An endpoint that does not speak gRPC ------------------------------------------

#[tokio::test]
async fn a_grpc_endpoint_that_is_not_grpc_is_named_as_such() {
    // An HTTP/1.1 server on the port, as when the OTLP/HTTP port (4318) or
    // some other service is given for gRPC.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let server = tokio::spawn(async move {
        loop {
            let Ok((mut stream, _)) = listener.accept().await else {
                return;
            };
            tokio::spawn(async move {
                let mut buf = [0u8; 1024];
                let _ = stream.read(&mut buf).await;
                let _ = stream
                    .write_all(b"HTTP/1.1 400 Bad Request\r\ncontent-length: 11\r\n\r\nbad request")
                    .await;
                // Keeps the connection until the client hangs up, as an
                // HTTP/1.1 server with keep-alive does.
                while matches!(stream.read(&mut buf).await, Ok(n) if n > 0) {}
            });
        }
    });
    let run = run_within(
        command(&[
            "--otlp-protocol",
            "grpc",
            "--otlp-endpoint",
            &format!("http://127.0.0.1:{port}"),
            "--retry-initial",
            "100ms",
            "--retry-max-elapsed",
            "500ms",
            "--shutdown-timeout",
            "2s",
            "--",
            "echo",
            "hi",
        ]),
        QUICK,
    )
    .await;
    server.abort();
    let stderr = run.stderr_text();
    assert_eq!(run.code, Some(0), "{stderr}");
    assert!(
        stderr.contains("not a gRPC server") && stderr.contains("port"),
        "the message names the likely cause: {stderr}"
    );

    // A gRPC server with TLS, addressed with http://: the same hint.
    let pki = crate::support::certs::Pki::new();
    let tls_server = crate::support::grpc::GrpcReceiver::start_tls(pki.server(&[b"h2"])).await;
    let plain = tls_server.endpoint().replace("https://", "http://");
    let run = run_within(
        command(&[
            "--otlp-protocol",
            "grpc",
            "--otlp-endpoint",
            &plain,
            "--retry-initial",
            "100ms",
            "--retry-max-elapsed",
            "500ms",
            "--shutdown-timeout",
            "2s",
            "--",
            "echo",
            "hi",
        ]),
        QUICK,
    )
    .await;
    let stderr = run.stderr_text();
    assert!(
        stderr.contains("not a gRPC server") && stderr.contains("https://"),
        "the message names the likely cause: {stderr}"
    );
}

// ---- 13. The public API keeps its promises ---------------------------------------------

/// Compiles two small programs against the built library: one that reads a
/// line through its getters (must compile) and one that writes invalid
/// UTF-8 into a line the parser trusts (must not).
#[test]
fn code_outside_the_crate_cannot_put_invalid_utf8_into_a_checked_line() {
    let deps = std::env::current_exe()
        .unwrap()
        .parent()
        .unwrap()
        .to_path_buf();
    let Some(rlib) = std::fs::read_dir(&deps)
        .unwrap()
        .flatten()
        .filter(|e| {
            let name = e.file_name();
            let name = name.to_string_lossy();
            name.starts_with("liblogwrap-") && name.ends_with(".rlib")
        })
        .max_by_key(|e| e.metadata().and_then(|m| m.modified()).ok())
    else {
        eprintln!("SKIPPED: no liblogwrap rlib beside the test binary");
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let compile = |name: &str, body: &str| {
        let src = dir.path().join(format!("{name}.rs"));
        std::fs::write(
            &src,
            format!(
                "use logwrap::record::{{Line, Stream}};\n\
                 pub fn probe() {{\n\
                 let mut line = Line::new(Stream::Stdout, 0, \"ok\".into(), None);\n\
                 {body}\n}}\n"
            ),
        )
        .unwrap();
        std::process::Command::new(std::env::var("RUSTC").unwrap_or_else(|_| "rustc".into()))
            .args([
                "--edition",
                "2024",
                "--crate-type",
                "lib",
                "--emit",
                "metadata",
            ])
            .arg("-L")
            .arg(format!("dependency={}", deps.display()))
            .arg("--extern")
            .arg(format!("logwrap={}", rlib.path().display()))
            .arg("--out-dir")
            .arg(dir.path())
            .arg(&src)
            .output()
            .unwrap()
    };
    let reads = compile(
        "reads",
        "let _ = (line.bytes().len(), line.stream(), line.observed_unix_nano(), line.split()); let _ = &mut line;",
    );
    assert!(
        reads.status.success(),
        "the getters compile: {}",
        String::from_utf8_lossy(&reads.stderr)
    );
    let writes = compile("writes", "line.bytes = (&b\"\\xff\"[..]).into();");
    let errors = String::from_utf8_lossy(&writes.stderr);
    assert!(
        !writes.status.success() && errors.contains("private"),
        "writing the bytes of a checked line must not compile: {errors}"
    );
}
