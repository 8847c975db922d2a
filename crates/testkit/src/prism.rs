//! Stoplight Prism (npm `@stoplight/prism-cli`) as a validating proxy in front of the forge
//! emulator, so that both a client's requests and the emulator's responses are checked against
//! the official contracts by a tool nobody here wrote: GitHub's OpenAPI description (npm
//! `@octokit/openapi`, `generated/api.github.com.json`, `generated/ghes-3.19.json`) and Gitea's
//! swagger (`../shared/specs/gitea-swagger.v1.json`).
//!
//! Prism runs `prism proxy --errors`: a request or response that breaks the contract gets an
//! error status from Prism and a `Violation` line in its log, which [`Prism::violations`] returns.
//!
//! Prism ignores Swagger 2's `basePath`, so for Gitea it gets a copy of the swagger whose path keys
//! carry the `/api/v1` prefix and whose `basePath` is `/` (see `../shared/specs/README.md`).
//!
//! The binary is `RELKIT_PRISM`, or `target/tools/node/node_modules/.bin/prism` as
//! `scripts/test` installs it.

use std::io::{BufRead, BufReader, Read};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use serde_json::Value;
use tempfile::TempDir;

/// Which contract Prism holds the emulator to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Contract {
    /// api.github.com (paths at `/`).
    GitHub,
    /// The newest GitHub Enterprise Server description in the package (paths at `/`; put the
    /// emulator's GHES URL behind it as upstream).
    Ghes,
    /// Gitea API v1, paths at `/api/v1`.
    Gitea,
}

/// A running Prism proxy; killed when dropped.
#[derive(Debug)]
pub struct Prism {
    child: Child,
    url: String,
    log: Arc<Mutex<String>>,
    _spec_dir: Option<TempDir>,
}

/// The workspace root: two levels above this crate.
fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .nth(2)
        .map_or_else(|| PathBuf::from("."), Path::to_path_buf)
}

fn node_root() -> PathBuf {
    workspace_root().join("target/tools/node")
}

/// The Prism binary, if installed.
pub fn binary() -> Option<PathBuf> {
    std::env::var_os("RELKIT_PRISM")
        .map(PathBuf::from)
        .or_else(|| Some(node_root().join("node_modules/.bin/prism")))
        .filter(|p| p.exists())
}

/// The contract's document, as a path Prism can read (a temporary copy for Gitea).
fn spec(contract: Contract) -> (PathBuf, Option<TempDir>) {
    let generated = node_root().join("node_modules/@octokit/openapi/generated");
    match contract {
        Contract::GitHub => (generated.join("api.github.com.json"), None),
        Contract::Ghes => {
            let newest = std::fs::read_dir(&generated)
                .expect("read @octokit/openapi's generated folder")
                .filter_map(Result::ok)
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .filter(|n| n.starts_with("ghes-") && n.ends_with(".json") && !n.contains("deref"))
                .max_by_key(|n| {
                    let v = n.trim_start_matches("ghes-").trim_end_matches(".json");
                    v.split('.')
                        .map(|p| p.parse::<u32>().unwrap_or(0))
                        .collect::<Vec<_>>()
                })
                .expect("a ghes-*.json in @octokit/openapi");
            (generated.join(newest), None)
        }
        Contract::Gitea => {
            let source = workspace_root().join("../shared/specs/gitea-swagger.v1.json");
            let text = std::fs::read_to_string(&source)
                .unwrap_or_else(|e| panic!("read {}: {e}", source.display()));
            let mut doc: Value = serde_json::from_str(&text).expect("the Gitea swagger is JSON");
            if let Some(paths) = doc.get_mut("paths").and_then(Value::as_object_mut) {
                let prefixed = std::mem::take(paths)
                    .into_iter()
                    .map(|(k, v)| (format!("/api/v1{k}"), v))
                    .collect();
                *paths = prefixed;
            }
            doc["basePath"] = Value::String("/".to_owned());
            let dir = tempfile::Builder::new()
                .prefix("relkit-prism-")
                .tempdir()
                .expect("create a temporary directory");
            let path = dir.path().join("gitea-swagger.v1.json");
            std::fs::write(&path, doc.to_string()).expect("write the Gitea swagger copy");
            (path, Some(dir))
        }
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("find a free port")
}

impl Prism {
    /// Starts Prism validating `contract` in front of `upstream` with `--errors` (a violation
    /// replaces the upstream's answer with Prism's error), and waits until it answers.
    pub fn start(contract: Contract, upstream: &str) -> Self {
        Self::launch(contract, upstream, true)
    }

    /// As [`Prism::start`] but without `--errors`: answers pass through and violations are only
    /// logged, for checks that must tell known deviations (Gitea's `null`s, which Swagger 2
    /// cannot declare) from real ones.
    pub fn start_logging(contract: Contract, upstream: &str) -> Self {
        Self::launch(contract, upstream, false)
    }

    fn launch(contract: Contract, upstream: &str, errors: bool) -> Self {
        let bin = binary().expect("Prism is not installed: run scripts/test or set RELKIT_PRISM");
        let (spec, spec_dir) = spec(contract);
        let port = free_port();
        let mut child = Command::new(&bin)
            .arg("proxy")
            .args(errors.then_some("--errors"))
            .args(["--host", "127.0.0.1", "--port"])
            .arg(port.to_string())
            .arg(&spec)
            .arg(upstream)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("start {}: {e}", bin.display()));
        let log = Arc::new(Mutex::new(String::new()));
        if let Some(out) = child.stdout.take() {
            collect(out, log.clone());
        }
        if let Some(err) = child.stderr.take() {
            collect(err, log.clone());
        }
        let mut prism = Self {
            child,
            url: format!("http://127.0.0.1:{port}"),
            log,
            _spec_dir: spec_dir,
        };
        prism.wait_ready(port);
        prism
    }

    /// The GitHub description is 13 MB: Prism needs several seconds to load it.
    fn wait_ready(&mut self, port: u16) {
        let deadline = Instant::now() + Duration::from_secs(120);
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!("Prism exited with {status}:\n{}", self.log());
            }
            let listening = self.log().contains("Prism is listening");
            if listening && TcpStream::connect(("127.0.0.1", port)).is_ok() {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "Prism did not start within 120 s:\n{}",
                self.log()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Where Prism listens; send the client's requests here.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Everything Prism logged so far.
    pub fn log(&self) -> String {
        self.log
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// The log lines that report a contract violation: `Violation: …` warnings, and with
    /// `--errors` every request Prism ended with an error of its own (`VIOLATIONS`,
    /// `UNPROCESSABLE_ENTITY`, `NO_PATH_MATCHED_ERROR`, …) instead of the upstream's answer.
    ///
    /// Prism may log after it has answered, so this first gives its log half a second.
    pub fn violations(&self) -> Vec<String> {
        std::thread::sleep(Duration::from_millis(500));
        self.log()
            .lines()
            .filter(|l| l.contains("Violation") || l.contains("Request terminated with error"))
            .map(str::to_owned)
            .collect()
    }
}

fn collect(stream: impl Read + Send + 'static, log: Arc<Mutex<String>>) {
    std::thread::spawn(move || {
        for line in BufReader::new(stream).lines().map_while(Result::ok) {
            // At start Prism lists every operation of the document: thousands of lines for
            // GitHub's, which would drown what a failing test shows.
            if line.contains("[CLI]") && !line.contains("Prism is listening") {
                continue;
            }
            let mut log = log.lock().unwrap_or_else(PoisonError::into_inner);
            log.push_str(&line);
            log.push('\n');
        }
    });
}

impl Drop for Prism {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
