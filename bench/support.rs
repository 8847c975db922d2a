//! What the benchmarks share: skopeo, sandboxed (an accept-anything policy and empty
//! configuration in a temporary directory, so it never reads `/etc/containers` or `$HOME`), found
//! or installed, a byte-counting TCP proxy to put in front of a registry, and the printing of
//! figures. Each benchmark includes it with `#[path]`.

// A benchmark uses what it needs of it.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};

/// Debian's skopeo with a configuration of its own: an accept-anything policy, an empty auth
/// file and registries configuration, and a scratch `$HOME`, all in a temporary directory.
#[derive(Debug)]
pub(crate) struct Skopeo {
    pub(crate) bin: PathBuf,
    pub(crate) version: String,
    pub(crate) dir: tempfile::TempDir,
}

impl Skopeo {
    pub(crate) fn new(bin: PathBuf) -> Result<Self, String> {
        let dir = tempfile::Builder::new()
            .prefix("relkit-bench-skopeo-")
            .tempdir()
            .map_err(|e| format!("create a temporary directory: {e}"))?;
        let write = |name: &str, text: &str| {
            std::fs::write(dir.path().join(name), text)
                .map_err(|e| format!("write {name} for skopeo: {e}"))
        };
        write(
            "policy.json",
            r#"{"default":[{"type":"insecureAcceptAnything"}]}"#,
        )?;
        write("auth.json", r#"{"auths":{}}"#)?;
        write("registries.conf", "")?;
        for sub in ["registries.d", "home", "tmp"] {
            std::fs::create_dir(dir.path().join(sub))
                .map_err(|e| format!("create {sub} for skopeo: {e}"))?;
        }
        let mut skopeo = Self {
            bin,
            version: String::new(),
            dir,
        };
        let output = skopeo
            .command()
            .arg("--version")
            .output()
            .map_err(|e| format!("run {} --version: {e}", skopeo.bin.display()))?;
        if !output.status.success() {
            return Err(format!(
                "{} --version: {}",
                skopeo.bin.display(),
                output.status
            ));
        }
        skopeo.version = String::from_utf8_lossy(&output.stdout).trim().to_owned();
        Ok(skopeo)
    }

    pub(crate) fn command(&self) -> Command {
        let dir = self.dir.path();
        let mut command = Command::new(&self.bin);
        command
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", dir.join("home"))
            .env("XDG_RUNTIME_DIR", dir.join("home"))
            .env("XDG_CONFIG_HOME", dir.join("home"))
            .env("TMPDIR", dir.join("tmp"))
            .env("CONTAINERS_REGISTRIES_CONF", dir.join("registries.conf"))
            .arg("--policy")
            .arg(dir.join("policy.json"))
            .arg("--registries.d")
            .arg(dir.join("registries.d"))
            .stdin(Stdio::null());
        command
    }

    pub(crate) fn copy(&self, source: &str, target: &str) -> Result<(), String> {
        let output = self
            .command()
            .args([
                "copy",
                "--quiet",
                "--src-tls-verify=false",
                "--dest-tls-verify=false",
            ])
            .arg("--authfile")
            .arg(self.dir.path().join("auth.json"))
            .arg(format!("docker://{source}"))
            .arg(format!("docker://{target}"))
            .output()
            .map_err(|e| format!("run skopeo copy: {e}"))?;
        if !output.status.success() {
            return Err(format!(
                "skopeo copy docker://{source} docker://{target}: {}: {}",
                output.status,
                String::from_utf8_lossy(&output.stderr).trim()
            ));
        }
        Ok(())
    }
}

/// `--skopeo`/`$RELKIT_SKOPEO`, else `skopeo` on PATH, else Debian's package, installed now.
pub(crate) fn find_skopeo(given: Option<&Path>) -> Result<PathBuf, String> {
    if let Some(path) = given {
        return if path.is_file() {
            Ok(path.to_owned())
        } else {
            Err(format!("skopeo {}: no such file", path.display()))
        };
    }
    if let Some(found) = on_path("skopeo") {
        return Ok(found);
    }
    apt_install("skopeo", "RELKIT_SKOPEO")?;
    on_path("skopeo").ok_or_else(|| "apt-get installed skopeo, but it is not on PATH".to_owned())
}

pub(crate) fn on_path(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(name))
        .find(|p| p.is_file())
}

/// Installs a Debian package as `scripts/test` does: apt-get, through sudo unless root. `instead`
/// names the variable that points at an installed binary.
pub(crate) fn apt_install(package: &str, instead: &str) -> Result<(), String> {
    eprintln!("==> apt-get install {package} (once)");
    let root = Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| o.stdout.trim_ascii() == b"0");
    let apt = |args: &[&str]| -> Result<(), String> {
        let mut command = if root {
            Command::new("apt-get")
        } else {
            let mut sudo = Command::new("sudo");
            sudo.arg("apt-get");
            sudo
        };
        let status = command
            .args(args)
            .env("DEBIAN_FRONTEND", "noninteractive")
            .stdout(Stdio::null())
            .status()
            .map_err(|e| format!("run apt-get: {e}"))?;
        if status.success() {
            Ok(())
        } else {
            Err(format!(
                "apt-get {} failed ({status}); install {package} or set {instead}",
                args.join(" ")
            ))
        }
    };
    apt(&["update", "-qq"])?;
    apt(&["install", "-y", "-qq", "--no-install-recommends", package])
}

pub(crate) fn show(d: Duration) -> String {
    if d >= Duration::from_secs(1) {
        format!("{:.2} s", d.as_secs_f64())
    } else {
        format!("{:.1} ms", d.as_secs_f64() * 1000.0)
    }
}

pub(crate) fn bytes(n: u64) -> String {
    if n >= 1 << 20 {
        format!("{:.1} MiB", n as f64 / f64::from(1u32 << 20))
    } else if n >= 1 << 10 {
        format!("{:.1} KiB", n as f64 / 1024.0)
    } else {
        format!("{n} B")
    }
}

pub(crate) fn verdict(pass: bool) -> &'static str {
    if pass { "PASS" } else { "FAIL" }
}

#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Wire {
    /// Client to registry.
    pub(crate) sent: u64,
    /// Registry to client.
    pub(crate) received: u64,
}

impl Wire {
    pub(crate) fn total(self) -> u64 {
        self.sent + self.received
    }
}

#[derive(Debug, Default)]
struct Counters {
    sent: AtomicU64,
    received: AtomicU64,
    open: AtomicU64,
}

/// A TCP proxy on 127.0.0.1 in front of the registry that counts the bytes each way.
#[derive(Debug)]
pub(crate) struct Proxy {
    pub(crate) addr: String,
    counters: Arc<Counters>,
    _runtime: tokio::runtime::Runtime,
}

impl Proxy {
    pub(crate) fn start(upstream: &str) -> Result<Self, String> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .map_err(|e| format!("start the proxy's runtime: {e}"))?;
        let listener = runtime
            .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
            .map_err(|e| format!("bind the proxy: {e}"))?;
        let addr = listener
            .local_addr()
            .map_err(|e| format!("the proxy's address: {e}"))?
            .to_string();
        let counters = Arc::new(Counters::default());
        let upstream = upstream.to_owned();
        let shared = counters.clone();
        runtime.spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                let Ok(server) = tokio::net::TcpStream::connect(&upstream).await else {
                    continue;
                };
                shared.open.fetch_add(1, Ordering::SeqCst);
                let shared = shared.clone();
                tokio::spawn(async move {
                    let (client_read, client_write) = client.into_split();
                    let (server_read, server_write) = server.into_split();
                    tokio::join!(
                        forward(client_read, server_write, &shared.sent),
                        forward(server_read, client_write, &shared.received),
                    );
                    shared.open.fetch_sub(1, Ordering::SeqCst);
                });
            }
        });
        Ok(Self {
            addr,
            counters,
            _runtime: runtime,
        })
    }

    /// The bytes counted since the last [`Proxy::take`], connections open or not.
    pub(crate) fn counted(&self) -> Wire {
        Wire {
            sent: self.counters.sent.load(Ordering::SeqCst),
            received: self.counters.received.load(Ordering::SeqCst),
        }
    }

    /// The bytes counted since the last call, once every connection has closed.
    pub(crate) fn take(&self) -> Result<Wire, String> {
        let deadline = Instant::now() + Duration::from_secs(10);
        while self.counters.open.load(Ordering::SeqCst) > 0 {
            if Instant::now() > deadline {
                return Err("a connection through the proxy stayed open for 10 s".to_owned());
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        Ok(Wire {
            sent: self.counters.sent.swap(0, Ordering::SeqCst),
            received: self.counters.received.swap(0, Ordering::SeqCst),
        })
    }
}

async fn forward(mut from: OwnedReadHalf, mut to: OwnedWriteHalf, counted: &AtomicU64) {
    let mut buffer = vec![0u8; 64 << 10];
    loop {
        match from.read(&mut buffer).await {
            Ok(0) | Err(_) => break,
            Ok(n) => {
                // Counted before it is passed on, so a count read after an answer arrived
                // includes that answer.
                counted.fetch_add(n as u64, Ordering::SeqCst);
                if to.write_all(&buffer[..n]).await.is_err() {
                    break;
                }
            }
        }
    }
    let _ = to.shutdown().await;
}
