//! Real OCI containers for the tests: Debian's podman with runc, as root,
//! running images built `FROM scratch` here (nothing can be pulled; see
//! ../shared/containers.md).
//!
//! The image holds the binary the tests build (`CARGO_BIN_EXE_logwrap`,
//! the test profile's) with the shared libraries `ldd` names copied to the
//! same paths, and busybox as `/bin/sh` and its other applets. Not the
//! release binary: cargo guarantees this one is the current code (a
//! target/release/logwrap can be stale), what these tests check (signals,
//! reaping, exit codes, resource detection, file following) does not depend
//! on optimisation, and CI is spared a release build (about 3 minutes on its
//! 2 cores). The release image is the same final stage of deploy/Dockerfile,
//! which one test builds from this binary. Every image, container and volume gets a name unique to
//! the test process and is removed when its guard drops, so tests run in
//! parallel and leave nothing behind.
//!
//! Where podman is not installed, or cannot start a container, the tests
//! print `SKIPPED: ...` and pass, except in CI (`CI` set), where .ci/run
//! installs podman and a skip would hide a broken install.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use super::TIMEOUT;

/// What a podman command printed.
#[derive(Debug)]
pub struct Output {
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

impl Output {
    pub fn ok(self) -> Self {
        assert_eq!(self.code, Some(0), "podman failed: {}", self.stderr);
        self
    }
}

/// The busybox applets the tests' shell scripts use, linked to `/bin/busybox`.
const APPLETS: &[&str] = &[
    "sh", "sleep", "cat", "echo", "grep", "wc", "ls", "mv", "kill", "tr", "true", "touch", "seq",
    "head", "awk", "id",
];

/// Runs `podman --runtime runc ARGS` (bounded by [`TIMEOUT`]).
pub async fn podman<I, S>(args: I) -> Output
where
    I: IntoIterator<Item = S>,
    S: AsRef<std::ffi::OsStr>,
{
    let mut cmd = tokio::process::Command::new("podman");
    // runc: this host has cgroup v1 and v2 mounted side by side (hybrid),
    // which crun refuses.
    cmd.args(["--runtime", "runc"])
        .args(args)
        .env("CONTAINERS_CONF", containers_conf())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    let out = tokio::time::timeout(TIMEOUT, cmd.output())
        .await
        .expect("podman did not finish in time")
        .expect("run podman");
    Output {
        code: out.status.code(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// A containers.conf without default ulimits: runc may not raise
/// RLIMIT_NOFILE to podman's default here. Written once per machine,
/// atomically, so parallel tests never read half a file.
fn containers_conf() -> PathBuf {
    let path = std::env::temp_dir().join("logwrap-tests-containers.conf");
    if !path.exists() {
        let tmp = path.with_extension(format!("{}.tmp", std::process::id()));
        std::fs::write(&tmp, "[containers]\ndefault_ulimits = []\n").unwrap();
        std::fs::rename(&tmp, &path).unwrap();
    }
    path
}

/// A name no other test (or test process) uses.
pub fn unique(what: &str) -> String {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    format!(
        "logwrap-test-{what}-{}-{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    )
}

/// `Some(())` when podman can be used; otherwise prints why and returns
/// `None` (the test then returns), or fails under CI.
pub fn available() -> Option<()> {
    let why = if !matches!(
        std::process::Command::new("podman").arg("--version").output(),
        Ok(o) if o.status.success()
    ) {
        "podman is not installed (apt-get install podman runc busybox-static)".to_string()
    } else if !Path::new("/usr/bin/busybox").exists() {
        "/usr/bin/busybox is missing (apt-get install busybox-static)".to_string()
    // SAFETY: geteuid has no preconditions.
    } else if unsafe { libc::geteuid() } != 0 {
        "the container tests run podman as root (CI does)".to_string()
    } else {
        return Some(());
    };
    skip(&why);
    None
}

fn skip(why: &str) {
    assert!(
        std::env::var_os("CI").is_none(),
        "CI installs podman (.ci/run), yet: {why}"
    );
    eprintln!("SKIPPED: {why}");
}

/// An image the test owns; removed on drop, with the images of the stages
/// that built it.
pub struct Image {
    pub tag: String,
    stages: Vec<String>,
}

impl Image {
    /// A `FROM scratch` image with the test binary at
    /// `/usr/local/bin/logwrap` (its ENTRYPOINT), its libraries and busybox.
    /// `None` (after a visible skip) when podman cannot build or run it.
    pub async fn logwrap() -> Option<Image> {
        available()?;
        let context = tempfile::tempdir().unwrap();
        let root = context.path().join("rootfs");
        add_logwrap(&root);
        add_busybox(&root);
        std::fs::write(
            context.path().join("Dockerfile"),
            "FROM scratch\nCOPY rootfs/ /\nENTRYPOINT [\"/usr/local/bin/logwrap\"]\n",
        )
        .unwrap();
        let image = Image {
            tag: unique("image"),
            stages: Vec::new(),
        };
        let built = podman([
            "build",
            "--quiet",
            // No intermediate images or build containers left behind.
            "--layers=false",
            "--tag",
            &image.tag,
            context.path().to_str().unwrap(),
        ])
        .await;
        if built.code != Some(0) {
            skip(&format!(
                "podman cannot build an image here: {}",
                built.stderr
            ));
            return None;
        }
        // One container start proves the runtime works here.
        let probe = podman([
            "run",
            "--rm",
            "--network",
            "none",
            "--entrypoint",
            "/bin/true",
            &image.tag,
        ])
        .await;
        if probe.code != Some(0) {
            skip(&format!(
                "podman cannot start a container here: {}",
                probe.stderr
            ));
            return None;
        }
        Some(image)
    }
}

impl Image {
    /// `podman build --file DOCKERFILE --build-arg ARG... CONTEXT`, tagged
    /// with a unique name.
    ///
    /// Multi-stage: buildah 1.28 (Debian 12) fails a `--layers=false` build
    /// whose stage is named by a `FROM ${ARG} AS x` ("identifier is not an
    /// image", exit 125, after tagging), and with layers it leaves the other
    /// stages' images behind. So this builds with layers, reads the stage
    /// images' ids from the output (`--> ID`) and removes them with the
    /// image.
    pub async fn build(dockerfile: &Path, build_args: &[&str], context: &Path) -> Image {
        let mut image = Image {
            tag: unique("image"),
            stages: Vec::new(),
        };
        let mut args = vec![
            "build".to_string(),
            "--file".into(),
            dockerfile.to_str().unwrap().into(),
            "--tag".into(),
            image.tag.clone(),
        ];
        for arg in build_args {
            args.extend(["--build-arg".to_string(), arg.to_string()]);
        }
        args.push(context.to_str().unwrap().into());
        let out = podman(&args).await;
        image.stages = out
            .stdout
            .lines()
            .filter_map(|l| l.strip_prefix("--> "))
            .map(|id| id.trim().to_string())
            .filter(|id| id.len() >= 11 && id.bytes().all(|b| b.is_ascii_hexdigit()))
            .collect();
        out.ok();
        image
    }
}

impl Drop for Image {
    fn drop(&mut self) {
        remove(&["rmi", "--force", &self.tag]);
        for id in &self.stages {
            remove(&["rmi", "--force", id]);
        }
    }
}

/// Runs a podman clean-up command from a destructor (no runtime there).
fn remove(args: &[&str]) {
    let _ = std::process::Command::new("podman")
        .args(["--runtime", "runc"])
        .args(args)
        .env("CONTAINERS_CONF", containers_conf())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status();
}

/// Copies the test binary and the libraries it loads into `root`.
pub fn add_logwrap(root: &Path) {
    let binary = root.join("usr/local/bin/logwrap");
    std::fs::create_dir_all(binary.parent().unwrap()).unwrap();
    copy_logwrap(&binary);
    add_libraries(root, env!("CARGO_BIN_EXE_logwrap"));
}

/// The test binary at `to`, without its debug sections when `strip` is
/// there (150 MiB less to copy into an image; the same code).
pub fn copy_logwrap(to: &Path) {
    let source = env!("CARGO_BIN_EXE_logwrap");
    let stripped = std::process::Command::new("strip")
        .args(["--strip-debug", "-o"])
        .arg(to)
        .arg(source)
        .status()
        .is_ok_and(|s| s.success());
    if !stripped {
        std::fs::copy(source, to).unwrap();
    }
}

/// The shared libraries `ldd` lists for `binary` (and the dynamic loader),
/// copied to the same paths under `root`. Nothing for a static binary.
pub fn add_libraries(root: &Path, binary: &str) {
    let ldd = std::process::Command::new("ldd")
        .arg(binary)
        .output()
        .expect("ldd");
    for line in String::from_utf8_lossy(&ldd.stdout).lines() {
        // "libc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x...)" or
        // "/lib64/ld-linux-x86-64.so.2 (0x...)"; linux-vdso has no file.
        let Some(path) = line.split_whitespace().find(|w| w.starts_with('/')) else {
            continue;
        };
        let target = root.join(path.trim_start_matches('/'));
        std::fs::create_dir_all(target.parent().unwrap()).unwrap();
        // Following symlinks: the image gets the file under the name the
        // loader asks for.
        std::fs::copy(path, &target).unwrap_or_else(|e| panic!("copy {path}: {e}"));
    }
}

/// busybox-static as /bin/busybox with the applets the tests use.
pub fn add_busybox(root: &Path) {
    let bin = root.join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    std::fs::copy("/usr/bin/busybox", bin.join("busybox")).unwrap();
    for applet in APPLETS {
        std::os::unix::fs::symlink("busybox", bin.join(applet)).unwrap();
    }
    std::fs::create_dir_all(root.join("tmp")).unwrap();
}

/// A container the test owns; removed (killed first) on drop.
pub struct Container {
    pub name: String,
    /// The full id `podman run -d` printed.
    pub id: String,
}

impl Container {
    /// `podman run -d --name NAME ARGS...`; the args are podman's run
    /// options, the image, and the container's command.
    pub async fn start(args: &[&str]) -> Container {
        let name = unique("ctr");
        let mut all = vec!["run", "--detach", "--name", &name];
        all.extend_from_slice(args);
        let out = podman(&all).await;
        // Removed even when the start failed half way.
        let container = Container {
            name: name.clone(),
            id: out.stdout.trim().to_string(),
        };
        assert_eq!(out.code, Some(0), "podman run: {}", out.stderr);
        container
    }

    /// Waits for the container to exit and returns its exit code.
    pub async fn wait(&self) -> i32 {
        let out = podman(["wait", &self.name]).await.ok();
        out.stdout
            .trim()
            .parse()
            .expect("podman wait prints the code")
    }

    /// `podman exec NAME sh -c SCRIPT`'s stdout.
    pub async fn exec(&self, script: &str) -> String {
        podman(["exec", &self.name, "/bin/sh", "-c", script])
            .await
            .ok()
            .stdout
    }

    /// What the container wrote on stdout and stderr (`podman logs`).
    pub async fn logs(&self) -> String {
        let out = podman(["logs", &self.name]).await;
        format!("{}{}", out.stdout, out.stderr)
    }
}

impl Drop for Container {
    fn drop(&mut self) {
        remove(&["rm", "--force", "--time", "0", &self.name]);
    }
}

/// A named volume the test owns; removed on drop.
pub struct Volume {
    pub name: String,
}

impl Volume {
    pub async fn create() -> Volume {
        let volume = Volume {
            name: unique("vol"),
        };
        podman(["volume", "create", &volume.name]).await.ok();
        volume
    }
}

impl Drop for Volume {
    fn drop(&mut self) {
        remove(&["volume", "rm", "--force", &self.name]);
    }
}

/// Polls `check` every 50 ms until it returns `Some`, for at most `limit`.
pub async fn eventually<T, F, Fut>(what: &str, limit: Duration, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = tokio::time::Instant::now() + limit;
    loop {
        if let Some(v) = check().await {
            return v;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
