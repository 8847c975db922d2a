//! A real OCI registry for tests: Debian's `docker-registry` (CNCF distribution 2.8) on
//! 127.0.0.1, with its storage in a temporary directory, in three variants: open, htpasswd Basic
//! auth, and token auth, whose realm is a small token server here.
//!
//! Install it with `apt-get install -y --no-install-recommends docker-registry` (`scripts/test`
//! does), or point `RELKIT_DOCKER_REGISTRY` at the binary.
//!
//! The registry listens on `127.0.0.1:0` and logs the port the OS gave it, so parallel tests never
//! race for a port; nothing else listens (no debug server). Tests push their images through the
//! registry API with the helpers here (random blobs, OCI and Docker v2 manifests, a two-platform
//! OCI index); those requests are not part of what a client under test counts.
//!
//! Token auth follows distribution's token spec
//! (<https://distribution.github.io/distribution/spec/auth/jwt/>): the token server signs ES256
//! JWTs whose header carries the signing certificate in `x5c`; the registry trusts that
//! certificate because it is the `rootcertbundle`. Distribution 2.8 reads `aud` as a string.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use axum::Router;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use ring::rand::SystemRandom;
use ring::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair};
use serde_json::json;
use sha2::{Digest as _, Sha256};
use tempfile::TempDir;

use crate::background::Background;

pub const OCI_INDEX: &str = "application/vnd.oci.image.index.v1+json";
pub const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
pub const OCI_CONFIG: &str = "application/vnd.oci.image.config.v1+json";
pub const OCI_LAYER: &str = "application/vnd.oci.image.layer.v1.tar+gzip";
pub const DOCKER_MANIFEST: &str = "application/vnd.docker.distribution.manifest.v2+json";
pub const DOCKER_LIST: &str = "application/vnd.docker.distribution.manifest.list.v2+json";
pub const DOCKER_CONFIG: &str = "application/vnd.docker.container.image.v1+json";
pub const DOCKER_LAYER: &str = "application/vnd.docker.image.rootfs.diff.tar.gzip";

/// The apt line that installs the registry.
pub const INSTALL: &str = "apt-get install -y --no-install-recommends docker-registry";

/// The `service` the token-auth registry expects in tokens' `aud`.
pub const TOKEN_SERVICE: &str = "relkit-test-registry";
const TOKEN_ISSUER: &str = "relkit-testkit";

/// How the registry wants clients to authenticate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Auth {
    /// No auth at all.
    Open,
    /// htpasswd: `Basic` with this user and password.
    Basic { user: String, password: String },
    /// Bearer tokens from the testkit token server, which grants everything asked for to this
    /// user and password; anonymous clients get pull access when `anonymous_pull`, else none.
    Token {
        user: String,
        password: String,
        anonymous_pull: bool,
    },
}

impl Auth {
    pub fn basic(user: &str, password: &str) -> Self {
        Self::Basic {
            user: user.to_owned(),
            password: password.to_owned(),
        }
    }

    pub fn token(user: &str, password: &str) -> Self {
        Self::Token {
            user: user.to_owned(),
            password: password.to_owned(),
            anonymous_pull: false,
        }
    }

    /// Token auth where anonymous clients may pull (as on Docker Hub and ghcr.io).
    pub fn token_with_anonymous_pull(user: &str, password: &str) -> Self {
        Self::Token {
            user: user.to_owned(),
            password: password.to_owned(),
            anonymous_pull: true,
        }
    }

    /// The user and password, when there are any.
    pub fn credentials(&self) -> Option<(&str, &str)> {
        match self {
            Self::Open => None,
            Self::Basic { user, password } | Self::Token { user, password, .. } => {
                Some((user, password))
            }
        }
    }
}

/// The binary, if installed: `RELKIT_DOCKER_REGISTRY`, else `docker-registry` on PATH.
pub fn binary() -> Option<PathBuf> {
    if let Some(path) = std::env::var_os("RELKIT_DOCKER_REGISTRY") {
        return Some(PathBuf::from(path)).filter(|p| p.exists());
    }
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join("docker-registry"))
        .find(|p| p.is_file())
}

/// An image pushed by the helpers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Image {
    /// `sha256:…` of the manifest.
    pub digest: String,
    pub media_type: String,
    pub manifest: Vec<u8>,
    /// The config and the layers, as `(digest, size)`.
    pub blobs: Vec<(String, usize)>,
}

/// A multi-platform index pushed by the helpers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Index {
    pub digest: String,
    pub manifest: Vec<u8>,
    /// `("linux/amd64", image)`, `("linux/arm64", image)`.
    pub platforms: Vec<(String, Image)>,
}

/// The manifest format of a pushed image.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Oci,
    DockerV2,
}

/// A running registry; stopped (and its storage removed) when dropped.
#[derive(Debug)]
pub struct Registry {
    child: Option<Child>,
    host: String,
    auth: Auth,
    log: Arc<Mutex<String>>,
    token: Option<TokenServer>,
    _dir: TempDir,
}

impl Registry {
    /// Starts a registry with `auth` on 127.0.0.1 and waits until `GET /v2/` answers.
    ///
    /// Panics with the install command when `docker-registry` is missing.
    pub fn start(auth: Auth) -> Self {
        let bin = binary().unwrap_or_else(|| {
            panic!(
                "docker-registry (CNCF distribution 2.8) is not installed: run `{INSTALL}` \
                 (scripts/test does) or set RELKIT_DOCKER_REGISTRY"
            )
        });
        let dir = tempfile::Builder::new()
            .prefix("relkit-registry-")
            .tempdir()
            .expect("create a temporary directory");
        let storage = dir.path().join("data");
        let mut auth_section = String::new();
        let mut token = None;
        match &auth {
            Auth::Open => {}
            Auth::Basic { user, password } => {
                let hash = bcrypt::hash(password, 4).expect("bcrypt the password");
                let file = dir.path().join("htpasswd");
                std::fs::write(&file, format!("{user}:{hash}\n")).expect("write htpasswd");
                auth_section = format!(
                    "auth:\n  htpasswd:\n    realm: relkit-test\n    path: {}\n",
                    file.display()
                );
            }
            Auth::Token {
                user,
                password,
                anonymous_pull,
            } => {
                let server = TokenServer::start(user, password, *anonymous_pull);
                let bundle = dir.path().join("token.crt");
                std::fs::write(&bundle, &server.shared.signer.cert_pem)
                    .expect("write the root bundle");
                auth_section = format!(
                    "auth:\n  token:\n    realm: {}/token\n    service: {TOKEN_SERVICE}\n    \
                     issuer: {TOKEN_ISSUER}\n    rootcertbundle: {}\n",
                    server.url,
                    bundle.display()
                );
                token = Some(server);
            }
        }
        let config = format!(
            "version: 0.1\n\
             log:\n  level: info\n  formatter: text\n  accesslog:\n    disabled: false\n\
             storage:\n  filesystem:\n    rootdirectory: {}\n  delete:\n    enabled: true\n\
             http:\n  addr: 127.0.0.1:0\n\
             {auth_section}",
            storage.display()
        );
        let config_path = dir.path().join("config.yml");
        std::fs::write(&config_path, config).expect("write the registry config");

        let mut command = Command::new(&bin);
        command
            .arg("serve")
            .arg(&config_path)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        // distribution reads REGISTRY_* variables as config overrides: none may leak in.
        for (name, _) in std::env::vars_os() {
            if name.to_string_lossy().starts_with("REGISTRY_") {
                command.env_remove(name);
            }
        }
        let mut child = command
            .spawn()
            .unwrap_or_else(|e| panic!("start {}: {e}", bin.display()));
        let log = Arc::new(Mutex::new(String::new()));
        if let Some(out) = child.stdout.take() {
            collect(out, log.clone());
        }
        if let Some(err) = child.stderr.take() {
            collect(err, log.clone());
        }
        let mut registry = Self {
            child: Some(child),
            host: String::new(),
            auth,
            log,
            token,
            _dir: dir,
        };
        registry.wait_ready();
        registry
    }

    fn wait_ready(&mut self) {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Some(child) = self.child.as_mut()
                && let Ok(Some(status)) = child.try_wait()
            {
                panic!("docker-registry exited with {status}:\n{}", self.log());
            }
            if self.host.is_empty()
                && let Some(addr) = listening_address(&self.log())
            {
                self.host = addr;
            }
            if !self.host.is_empty()
                && let Ok(answer) = http(&self.host, "GET", "/v2/", &[], &[])
                && (answer.status == 200 || answer.status == 401)
            {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "docker-registry did not answer within 30 s:\n{}",
                self.log()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Every file of the registry's storage with its bytes, sorted: two snapshots are equal when
    /// nothing was written, not a tag, a manifest or a blob.
    pub fn storage_snapshot(&self) -> Vec<(String, Vec<u8>)> {
        let mut files = Vec::new();
        let mut stack = vec![self._dir.path().join("data")];
        while let Some(dir) = stack.pop() {
            let Ok(entries) = std::fs::read_dir(&dir) else {
                continue;
            };
            for entry in entries.flatten() {
                let path = entry.path();
                if path.is_dir() {
                    stack.push(path);
                } else if let Ok(bytes) = std::fs::read(&path) {
                    files.push((path.display().to_string(), bytes));
                }
            }
        }
        files.sort();
        files
    }

    /// `127.0.0.1:PORT`, the registry's name in image references.
    pub fn host(&self) -> &str {
        &self.host
    }

    /// `http://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("http://{}", self.host)
    }

    pub fn auth(&self) -> &Auth {
        &self.auth
    }

    /// Requests the token server answered (token auth only; 0 otherwise).
    pub fn token_requests(&self) -> u64 {
        self.token
            .as_ref()
            .map_or(0, |t| t.shared.requests.load(Ordering::Relaxed))
    }

    /// Everything the registry logged, access log included.
    pub fn log(&self) -> String {
        self.log
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Stops the registry process (the port is then closed), for tests of a registry that is down.
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Uploads `bytes` as a blob of `repository` (monolithic upload) and returns its digest.
    pub fn push_blob(&self, repository: &str, bytes: &[u8]) -> String {
        let digest = sha256(bytes);
        let auth = self.authorization(repository);
        let start = self.call(
            "POST",
            &format!("/v2/{repository}/blobs/uploads/"),
            &auth,
            &[],
            &[],
        );
        assert_eq!(start.status, 202, "start an upload: {}", start.text());
        let location = start.header("location").expect("an upload Location");
        let path = location
            .strip_prefix(&self.url())
            .unwrap_or(&location)
            .to_owned();
        let separator = if path.contains('?') { '&' } else { '?' };
        let put = self.call(
            "PUT",
            &format!("{path}{separator}digest={}", digest.replace(':', "%3A")),
            &auth,
            &[("content-type", "application/octet-stream")],
            bytes,
        );
        assert_eq!(put.status, 201, "finish an upload: {}", put.text());
        digest
    }

    /// Writes `manifest` as `reference` (a tag or its digest) in `repository` and returns its
    /// digest.
    pub fn push_manifest(
        &self,
        repository: &str,
        reference: &str,
        media_type: &str,
        manifest: &[u8],
    ) -> String {
        let auth = self.authorization(repository);
        let put = self.call(
            "PUT",
            &format!("/v2/{repository}/manifests/{reference}"),
            &auth,
            &[("content-type", media_type)],
            manifest,
        );
        assert_eq!(put.status, 201, "push a manifest: {}", put.text());
        let digest = sha256(manifest);
        assert_eq!(
            put.header("docker-content-digest").as_deref(),
            Some(digest.as_str()),
            "the registry stored the manifest under another digest"
        );
        digest
    }

    /// Pushes an image of random blobs (a config and two 1 KiB layers) tagged `tag`.
    pub fn push_image(&self, repository: &str, tag: &str, format: Format) -> Image {
        self.push_image_with_layers(repository, Some(tag), format, &[1024, 1024], None)
    }

    /// Pushes an image with random layers of `layer_sizes` bytes, tagged `tag` (or by digest
    /// only), for `platform` (`linux/amd64`) if given.
    pub fn push_image_with_layers(
        &self,
        repository: &str,
        tag: Option<&str>,
        format: Format,
        layer_sizes: &[usize],
        platform: Option<&str>,
    ) -> Image {
        let (os, arch) = platform
            .and_then(|p| p.split_once('/'))
            .unwrap_or(("linux", "amd64"));
        let (manifest_type, config_type, layer_type) = match format {
            Format::Oci => (OCI_MANIFEST, OCI_CONFIG, OCI_LAYER),
            Format::DockerV2 => (DOCKER_MANIFEST, DOCKER_CONFIG, DOCKER_LAYER),
        };
        let layers: Vec<Vec<u8>> = layer_sizes.iter().map(|n| random_bytes(*n)).collect();
        let diff_ids: Vec<String> = layers.iter().map(|l| sha256(l)).collect();
        let config = serde_json::to_vec(&json!({
            "architecture": arch,
            "os": os,
            "config": {"Labels": {"relkit.test.nonce": hex::encode(random_bytes(8))}},
            "rootfs": {"type": "layers", "diff_ids": diff_ids},
        }))
        .expect("serialise a config");
        let config_digest = self.push_blob(repository, &config);
        let mut blobs = vec![(config_digest.clone(), config.len())];
        let mut layer_descriptors = Vec::new();
        for layer in &layers {
            let digest = self.push_blob(repository, layer);
            blobs.push((digest.clone(), layer.len()));
            layer_descriptors.push(json!({
                "mediaType": layer_type, "digest": digest, "size": layer.len(),
            }));
        }
        let manifest = serde_json::to_vec_pretty(&json!({
            "schemaVersion": 2,
            "mediaType": manifest_type,
            "config": {"mediaType": config_type, "digest": config_digest, "size": config.len()},
            "layers": layer_descriptors,
        }))
        .expect("serialise a manifest");
        let digest = sha256(&manifest);
        let digest =
            self.push_manifest(repository, tag.unwrap_or(&digest), manifest_type, &manifest);
        Image {
            digest,
            media_type: manifest_type.to_owned(),
            manifest,
            blobs,
        }
    }

    /// Pushes an OCI index of two images, linux/amd64 and linux/arm64, tagged `tag`.
    pub fn push_index(&self, repository: &str, tag: &str) -> Index {
        let platforms: Vec<(String, Image)> = ["linux/amd64", "linux/arm64"]
            .into_iter()
            .map(|platform| {
                let image = self.push_image_with_layers(
                    repository,
                    None,
                    Format::Oci,
                    &[512],
                    Some(platform),
                );
                (platform.to_owned(), image)
            })
            .collect();
        let manifests: Vec<_> = platforms
            .iter()
            .map(|(platform, image)| {
                let (os, arch) = platform.split_once('/').unwrap_or(("linux", "amd64"));
                json!({
                    "mediaType": image.media_type,
                    "digest": image.digest,
                    "size": image.manifest.len(),
                    "platform": {"architecture": arch, "os": os},
                })
            })
            .collect();
        let manifest = serde_json::to_vec_pretty(&json!({
            "schemaVersion": 2,
            "mediaType": OCI_INDEX,
            "manifests": manifests,
        }))
        .expect("serialise an index");
        let digest = self.push_manifest(repository, tag, OCI_INDEX, &manifest);
        Index {
            digest,
            manifest,
            platforms,
        }
    }

    /// The digest `tag` holds in `repository` now, or `None` when it does not exist.
    pub fn tag_digest(&self, repository: &str, tag: &str) -> Option<String> {
        let auth = self.authorization(repository);
        let answer = self.call(
            "HEAD",
            &format!("/v2/{repository}/manifests/{tag}"),
            &auth,
            &[(
                "accept",
                "application/vnd.oci.image.index.v1+json, \
                 application/vnd.docker.distribution.manifest.list.v2+json, \
                 application/vnd.oci.image.manifest.v1+json, \
                 application/vnd.docker.distribution.manifest.v2+json",
            )],
            &[],
        );
        match answer.status {
            200 => answer.header("docker-content-digest"),
            404 => None,
            other => panic!("HEAD {repository}:{tag} answered {other}"),
        }
    }

    /// Deletes the manifest `digest` from `repository` (and so every tag that held it), as a
    /// registry's garbage collection or a retention policy does.
    pub fn delete_manifest(&self, repository: &str, digest: &str) {
        let auth = self.authorization(repository);
        let answer = self.call(
            "DELETE",
            &format!("/v2/{repository}/manifests/{digest}"),
            &auth,
            &[],
            &[],
        );
        assert_eq!(
            answer.status,
            202,
            "DELETE {repository}@{digest}: {}",
            answer.text()
        );
    }

    /// Whether blob `digest` exists in `repository`.
    pub fn has_blob(&self, repository: &str, digest: &str) -> bool {
        let auth = self.authorization(repository);
        let answer = self.call(
            "HEAD",
            &format!("/v2/{repository}/blobs/{digest}"),
            &auth,
            &[],
            &[],
        );
        answer.status == 200
    }

    /// The access log lines of requests whose method and path start with `prefix`
    /// (`"HEAD /v2/app/manifests/"`), for counting what a client sent.
    pub fn access_log(&self, prefix: &str) -> Vec<String> {
        self.log()
            .lines()
            .filter(|line| line.contains(&format!("\"{prefix}")))
            .map(str::to_owned)
            .collect()
    }

    /// The `Authorization` header the helpers send: Basic, or a token minted here with push and
    /// pull on `repository`.
    fn authorization(&self, repository: &str) -> Option<String> {
        match &self.auth {
            Auth::Open => None,
            Auth::Basic { user, password } => Some(format!(
                "Basic {}",
                STANDARD.encode(format!("{user}:{password}"))
            )),
            Auth::Token { user, .. } => {
                let token = self.token.as_ref().map(|t| {
                    t.shared.signer.token(
                        user,
                        &[format!("repository:{repository}:pull,push")],
                        true,
                    )
                })?;
                Some(format!("Bearer {token}"))
            }
        }
    }

    fn call(
        &self,
        method: &str,
        path: &str,
        auth: &Option<String>,
        headers: &[(&str, &str)],
        body: &[u8],
    ) -> Answer {
        let mut all: Vec<(&str, &str)> = headers.to_vec();
        if let Some(auth) = auth {
            all.push(("authorization", auth));
        }
        http(&self.host, method, path, &all, body)
            .unwrap_or_else(|e| panic!("{method} {path} on the test registry: {e}"))
    }
}

impl Drop for Registry {
    fn drop(&mut self) {
        self.stop();
    }
}

/// A front on 127.0.0.1 that answers every `/v2/…` request with a `307 Temporary Redirect` to
/// the same path and query on `upstream`, as registry.k8s.io sends each manifest request to the
/// registry that holds it. Stopped when dropped.
#[derive(Debug)]
pub struct Redirect {
    host: String,
    redirected: Arc<AtomicU64>,
    _server: Background,
}

impl Redirect {
    /// Starts a front for `upstream` (`127.0.0.1:PORT`) on a free port.
    pub fn start(upstream: &str) -> Self {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind the redirect");
        let port = listener.local_addr().expect("its address").port();
        let redirected = Arc::new(AtomicU64::new(0));
        let count = redirected.clone();
        let upstream = upstream.to_owned();
        let app = Router::new().fallback(move |uri: axum::http::Uri| {
            let count = count.clone();
            let upstream = upstream.clone();
            async move {
                if !uri.path().starts_with("/v2/") {
                    return StatusCode::NOT_FOUND.into_response();
                }
                count.fetch_add(1, Ordering::Relaxed);
                let to = match uri.path_and_query() {
                    Some(pq) => format!("http://{upstream}{pq}"),
                    None => format!("http://{upstream}{}", uri.path()),
                };
                (StatusCode::TEMPORARY_REDIRECT, [(header::LOCATION, to)]).into_response()
            }
        });
        let server = Background::start(
            format!("registry-redirect-{port}"),
            1,
            listener,
            |l| async {
                let _ = axum::serve(l, app).await;
            },
        );
        Self {
            host: format!("127.0.0.1:{port}"),
            redirected,
            _server: server,
        }
    }

    /// `127.0.0.1:PORT`, the name references use to reach the upstream through it.
    pub fn host(&self) -> &str {
        &self.host
    }

    /// How many requests it redirected.
    pub fn redirected(&self) -> u64 {
        self.redirected.load(Ordering::Relaxed)
    }
}

/// How a [`Front`] answers manifest requests in the registry's place.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Misbehaviour {
    /// `200 text/html`, a sign-in page, as a captive portal or an SSO proxy answers.
    LoginPage,
    /// The upstream's answer without `Docker-Content-Digest`, and its body cut short by one byte,
    /// as a broken proxy passes it on.
    Truncated,
    /// `502 Bad Gateway` to the first this many manifest writes (`PUT`), then each one passed on
    /// to the upstream; reads pass through too.
    FailingPuts(u32),
}

/// A front on 127.0.0.1 for a real registry that misbehaves on manifest requests, as a login page
/// or a broken proxy in front of a registry does; every other request is redirected to
/// `upstream`. Stopped when dropped.
#[derive(Debug)]
pub struct Front {
    host: String,
    _server: Background,
}

impl Front {
    /// Starts a front for `upstream` (`127.0.0.1:PORT`) on a free port.
    pub fn start(upstream: &str, how: Misbehaviour) -> Self {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind the front");
        let port = listener.local_addr().expect("its address").port();
        let upstream = upstream.to_owned();
        let failures = Arc::new(AtomicU64::new(match how {
            Misbehaviour::FailingPuts(n) => u64::from(n),
            _ => 0,
        }));
        let app = Router::new().fallback(
            move |method: axum::http::Method,
                  uri: axum::http::Uri,
                  headers: HeaderMap,
                  body: axum::body::Bytes| {
                let upstream = upstream.clone();
                let failures = failures.clone();
                async move {
                    let path = uri
                        .path_and_query()
                        .map_or_else(|| uri.path().to_owned(), |pq| pq.to_string());
                    if !path.contains("/manifests/") {
                        let to = format!("http://{upstream}{path}");
                        return (StatusCode::TEMPORARY_REDIRECT, [(header::LOCATION, to)])
                            .into_response();
                    }
                    match how {
                        Misbehaviour::FailingPuts(_) => {
                            if method == axum::http::Method::PUT
                                && failures
                                    .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| {
                                        n.checked_sub(1)
                                    })
                                    .is_ok()
                            {
                                return StatusCode::BAD_GATEWAY.into_response();
                            }
                            let header = |name: header::HeaderName| {
                                headers
                                    .get(&name)
                                    .and_then(|v| v.to_str().ok())
                                    .unwrap_or_default()
                                    .to_owned()
                            };
                            let (accept, content_type) =
                                (header(header::ACCEPT), header(header::CONTENT_TYPE));
                            let verb = method.as_str().to_owned();
                            let answer = tokio::task::spawn_blocking(move || {
                                let mut sent = vec![("Accept", accept.as_str())];
                                if !content_type.is_empty() {
                                    sent.push(("Content-Type", content_type.as_str()));
                                }
                                http(&upstream, &verb, &path, &sent, &body)
                            })
                            .await;
                            let Ok(Ok(answer)) = answer else {
                                return StatusCode::BAD_GATEWAY.into_response();
                            };
                            let status = StatusCode::from_u16(answer.status)
                                .unwrap_or(StatusCode::BAD_GATEWAY);
                            let mut response = (status, answer.body.clone()).into_response();
                            for name in ["content-type", "docker-content-digest"] {
                                if let Some(value) = answer.header(name)
                                    && let Ok(value) = value.parse()
                                {
                                    response.headers_mut().insert(name, value);
                                }
                            }
                            response
                        }
                        Misbehaviour::LoginPage => (
                            StatusCode::OK,
                            [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
                            "<html><body>Sign in to continue</body></html>",
                        )
                            .into_response(),
                        Misbehaviour::Truncated => {
                            let accept = headers
                                .get(header::ACCEPT)
                                .and_then(|v| v.to_str().ok())
                                .unwrap_or(OCI_MANIFEST)
                                .to_owned();
                            // Always a GET upstream: a HEAD has no body to cut.
                            let answer = tokio::task::spawn_blocking(move || {
                                http(&upstream, "GET", &path, &[("Accept", &accept)], b"")
                            })
                            .await;
                            let Ok(Ok(answer)) = answer else {
                                return StatusCode::BAD_GATEWAY.into_response();
                            };
                            let content_type = answer.header("content-type").unwrap_or_default();
                            let mut body = answer.body;
                            body.pop();
                            let body = if method == axum::http::Method::HEAD {
                                Vec::new()
                            } else {
                                body
                            };
                            let status = StatusCode::from_u16(answer.status)
                                .unwrap_or(StatusCode::BAD_GATEWAY);
                            (status, [(header::CONTENT_TYPE, content_type)], body).into_response()
                        }
                    }
                }
            },
        );
        let server = Background::start(format!("registry-front-{port}"), 1, listener, |l| async {
            let _ = axum::serve(l, app).await;
        });
        Self {
            host: format!("127.0.0.1:{port}"),
            _server: server,
        }
    }

    /// `127.0.0.1:PORT`, the name references use to reach the upstream through it.
    pub fn host(&self) -> &str {
        &self.host
    }
}

/// The address in distribution's `listening on 127.0.0.1:PORT` log line.
fn listening_address(log: &str) -> Option<String> {
    let at = log.find("listening on ")? + "listening on ".len();
    let rest = &log[at..];
    let end = rest
        .find(|c: char| !(c.is_ascii_digit() || c == '.' || c == ':'))
        .unwrap_or(rest.len());
    let addr = &rest[..end];
    addr.rsplit_once(':')
        .filter(|(_, port)| !port.is_empty())
        .map(|_| addr.to_owned())
}

fn collect(stream: impl Read + Send + 'static, log: Arc<Mutex<String>>) {
    std::thread::spawn(move || {
        for line in BufReader::new(stream).lines().map_while(Result::ok) {
            let mut log = log.lock().unwrap_or_else(PoisonError::into_inner);
            log.push_str(&line);
            log.push('\n');
        }
    });
}

fn sha256(bytes: &[u8]) -> String {
    format!("sha256:{}", hex::encode(Sha256::digest(bytes)))
}

/// `n` random bytes (incompressible, so each layer is unique and its size is what it says).
pub fn random_bytes(n: usize) -> Vec<u8> {
    let mut bytes = vec![0u8; n];
    getrandom::fill(&mut bytes).expect("random bytes");
    bytes
}

/// An HTTP answer from [`http`].
#[derive(Debug)]
struct Answer {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Answer {
    fn header(&self, name: &str) -> Option<String> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.clone())
    }

    fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// One HTTP/1.1 request on its own connection (`Connection: close`), synchronous, so the helpers
/// work the same from sync and async tests. The registry API answers small bodies with a
/// `Content-Length`; the helpers read only status, headers and short error texts.
fn http(
    host: &str,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> std::io::Result<Answer> {
    let mut stream = TcpStream::connect(host)?;
    stream.set_read_timeout(Some(Duration::from_secs(60)))?;
    let mut head = format!(
        "{method} {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes())?;
    stream.write_all(body)?;
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw)?;
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or_else(|| std::io::Error::other("no end of headers in the answer"))?;
    let head = String::from_utf8_lossy(&raw[..split]).into_owned();
    let mut lines = head.lines();
    let status = lines
        .next()
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| std::io::Error::other("no status line in the answer"))?;
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_owned(), v.trim().to_owned()))
        .collect();
    Ok(Answer {
        status,
        headers,
        body: raw[split + 4..].to_vec(),
    })
}

/// The token auth signing key and its self-signed certificate.
#[derive(Debug)]
struct Signer {
    key: EcdsaKeyPair,
    cert_der: Vec<u8>,
    cert_pem: String,
}

impl Signer {
    fn new() -> Self {
        let key_pair = rcgen::KeyPair::generate().expect("generate a P-256 key");
        let params = rcgen::CertificateParams::new(vec!["relkit-testkit-token".to_owned()])
            .expect("certificate parameters");
        let cert = params
            .self_signed(&key_pair)
            .expect("self-sign a certificate");
        let key = EcdsaKeyPair::from_pkcs8(
            &ECDSA_P256_SHA256_FIXED_SIGNING,
            &key_pair.serialize_der(),
            &SystemRandom::new(),
        )
        .expect("load the key for signing");
        Self {
            key,
            cert_der: cert.der().to_vec(),
            cert_pem: cert.pem(),
        }
    }

    /// A JWT for `subject` granting `scopes` (`repository:NAME:ACTIONS`); pull only unless
    /// `all_actions`.
    fn token(&self, subject: &str, scopes: &[String], all_actions: bool) -> String {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        let access: Vec<_> = scopes
            .iter()
            .filter_map(|scope| {
                // `type:name:actions`; the actions are split off the end.
                let (kind, rest) = scope.split_once(':')?;
                let (name, actions) = rest.rsplit_once(':')?;
                let actions: Vec<&str> = actions
                    .split(',')
                    .filter(|a| all_actions || *a == "pull")
                    .collect();
                Some(json!({"type": kind, "name": name, "actions": actions}))
            })
            .collect();
        let header = json!({
            "typ": "JWT",
            "alg": "ES256",
            "x5c": [STANDARD.encode(&self.cert_der)],
        });
        let claims = json!({
            "iss": TOKEN_ISSUER,
            "sub": subject,
            "aud": TOKEN_SERVICE,
            "exp": now + 300,
            "nbf": now.saturating_sub(10),
            "iat": now,
            "jti": hex::encode(random_bytes(8)),
            "access": access,
        });
        let signing_input = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(header.to_string()),
            URL_SAFE_NO_PAD.encode(claims.to_string())
        );
        let signature = self
            .key
            .sign(&SystemRandom::new(), signing_input.as_bytes())
            .expect("sign a token");
        format!(
            "{signing_input}.{}",
            URL_SAFE_NO_PAD.encode(signature.as_ref())
        )
    }
}

#[derive(Debug)]
struct TokenShared {
    signer: Signer,
    user: String,
    password: String,
    anonymous_pull: bool,
    requests: AtomicU64,
}

/// The token server: `GET /token?service=…&scope=…` with optional Basic credentials.
#[derive(Debug)]
struct TokenServer {
    shared: Arc<TokenShared>,
    url: String,
    _server: Background,
}

impl TokenServer {
    fn start(user: &str, password: &str, anonymous_pull: bool) -> Self {
        let shared = Arc::new(TokenShared {
            signer: Signer::new(),
            user: user.to_owned(),
            password: password.to_owned(),
            anonymous_pull,
            requests: AtomicU64::new(0),
        });
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind the token server");
        let port = listener.local_addr().expect("its address").port();
        let app = Router::new()
            .route("/token", get(issue))
            .with_state(shared.clone());
        let server = Background::start(format!("registry-token-{port}"), 1, listener, |l| async {
            let _ = axum::serve(l, app).await;
        });
        Self {
            shared,
            url: format!("http://127.0.0.1:{port}"),
            _server: server,
        }
    }
}

async fn issue(
    State(shared): State<Arc<TokenShared>>,
    Query(query): Query<Vec<(String, String)>>,
    headers: HeaderMap,
) -> Response {
    shared.requests.fetch_add(1, Ordering::Relaxed);
    let service = query.iter().find(|(k, _)| k == "service").map(|(_, v)| v);
    if service.is_some_and(|s| s != TOKEN_SERVICE) {
        return (
            StatusCode::BAD_REQUEST,
            axum::Json(json!({"details": "unknown service"})),
        )
            .into_response();
    }
    let scopes: Vec<String> = query
        .iter()
        .filter(|(k, _)| k == "scope")
        .flat_map(|(_, v)| v.split(' ').map(str::to_owned))
        .collect();
    let given = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Basic "))
        .and_then(|b| STANDARD.decode(b).ok())
        .and_then(|b| String::from_utf8(b).ok());
    let (subject, all_actions) = match given {
        Some(pair) => {
            let Some((user, password)) = pair.split_once(':') else {
                return denied();
            };
            if user != shared.user || password != shared.password {
                return denied();
            }
            (user.to_owned(), true)
        }
        None => (String::new(), false),
    };
    let scopes = if subject.is_empty() && !shared.anonymous_pull {
        Vec::new()
    } else {
        scopes
    };
    let token = shared.signer.token(&subject, &scopes, all_actions);
    axum::Json(json!({
        "token": token,
        "access_token": token,
        "expires_in": 300,
    }))
    .into_response()
}

fn denied() -> Response {
    (
        StatusCode::UNAUTHORIZED,
        [(header::WWW_AUTHENTICATE, "Basic realm=\"relkit-testkit\"")],
        axum::Json(json!({"details": "incorrect username or password"})),
    )
        .into_response()
}
