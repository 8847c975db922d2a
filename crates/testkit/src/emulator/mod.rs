//! A stateful emulator of the forge APIs relkit's backends call, for tests: the GitHub REST API
//! (github.com and the GHES `/api/v3` layout) and the Gitea API v1 (which Forgejo shares).
//!
//! Response shapes follow the official contracts: GitHub's OpenAPI description (npm
//! `@octokit/openapi`, `generated/api.github.com.json` and `ghes-3.19.json`) and Gitea's swagger
//! (`../shared/specs/gitea-swagger.v1.json`), and [`crate::prism`] holds the emulator to them.
//! Where a real forge differs from its contract (see `../shared/specs/README.md`: Gitea's
//! prefix-matching refs, 201 on tag creation, 409 on a duplicate release, capped `limit`, `Link`
//! built from the public URL), the emulator does what the forge does.
//!
//! Git state is real: refs, commits and tags are read and written with the git CLI in a
//! repository on disk, so what a backend sees through the API is what `git` sees locally.
//! Releases, assets, issues, comments, labels, statuses and check runs live in memory.
//!
//! The server runs on its own thread with its own tokio runtime, on 127.0.0.1 and a port the OS
//! picks, so synchronous and async tests can both use it; it stops when dropped. Tests arm faults
//! ([`Emulator::fault`]) to see how a client copes with gateway errors, cut connections, rate
//! limits and changes whose answer was lost, and read the request log ([`Emulator::requests`]) to
//! count calls.
//!
//! ```no_run
//! use relkit_testkit::GitRepo;
//! use relkit_testkit::emulator::{Emulator, Flavor, Permissions};
//!
//! let repo = GitRepo::new();
//! repo.commit("feat: first");
//! let forge = Emulator::start(Flavor::GitHub, repo.path());
//! forge.add_token("t-write", Permissions::all());
//! // point the client at forge.url() with `Authorization: Bearer t-write`
//! ```

mod auth;
mod faults;
mod git;
mod gitea;
mod github;
mod server;
mod state;
mod wire;

use std::collections::HashMap;
use std::path::Path;
use std::sync::atomic::AtomicU64;
use std::sync::{Arc, Mutex};

use axum::Router;

pub use auth::{Access, Permissions};
pub use faults::{Fault, Matcher};
pub use state::{Asset, CheckRun, Comment, Issue, Label, Release, Status};

use server::{Config, CuttableListener, Shared, lock};

use crate::background::Background;

/// Which forge's API the emulator speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flavor {
    /// The GitHub REST API, at `/` (github.com layout) and `/api/v3` (GHES layout).
    GitHub,
    /// The Gitea API v1 at `/api/v1` (Forgejo speaks the same).
    Gitea,
}

/// One request as the emulator saw it. Never holds a credential: the `Authorization` header is
/// not recorded and credential-like query values are redacted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestRecord {
    pub method: String,
    /// Path and query as sent.
    pub target: String,
    /// The status answered, or `None` when the connection was cut.
    pub status: Option<u16>,
}

/// Settings for an emulator, before it starts.
#[derive(Debug, Clone)]
pub struct Builder {
    flavor: Flavor,
    repo: std::path::PathBuf,
    config: Config,
}

impl Builder {
    /// The `{owner}/{repo}` the API serves (default `owner/app`); any other is 404.
    pub fn repository(mut self, owner: &str, repo: &str) -> Self {
        owner.clone_into(&mut self.config.owner);
        repo.clone_into(&mut self.config.repo);
        self
    }

    /// Gitea's `ROOT_URL`: the base of the `Link` headers and URLs it writes, which behind a proxy
    /// may not be an address the client can reach.
    pub fn public_url(mut self, url: &str) -> Self {
        self.config.public_url = Some(url.trim_end_matches('/').to_owned());
        self
    }

    /// GitHub's immutable releases: once published, a release's assets and tag cannot change.
    pub fn immutable_releases(mut self, on: bool) -> Self {
        self.config.immutable_releases = on;
        self
    }

    /// Gitea's `[attachment] MAX_SIZE`, in bytes here (Gitea counts MiB).
    pub fn attachment_max_size(mut self, bytes: u64) -> Self {
        self.config.attachment_max_size = Some(bytes);
        self
    }

    /// Gitea's `[repository.release] ALLOWED_TYPES`: extensions (`.zip`) or MIME types
    /// (`application/gzip`, `image/*`); empty allows everything.
    pub fn attachment_allowed_types(mut self, types: &[&str]) -> Self {
        self.config.attachment_allowed_types = types.iter().map(|t| (*t).to_owned()).collect();
        self
    }

    /// The emulated primary rate limit's `x-ratelimit-limit` (GitHub; default 5000).
    pub fn rate_limit(mut self, limit: u64) -> Self {
        self.config.rate_limit = limit.max(1);
        self
    }

    /// Binds 127.0.0.1 on a free port and starts serving.
    pub fn start(self) -> Emulator {
        let std_listener =
            std::net::TcpListener::bind("127.0.0.1:0").expect("bind the emulator on 127.0.0.1");
        let port = std_listener
            .local_addr()
            .expect("the emulator's local address")
            .port();
        let local_url = format!("http://127.0.0.1:{port}");
        let shared = Arc::new(Shared {
            flavor: self.flavor,
            config: self.config,
            git: git::Git::new(&self.repo),
            local_url: local_url.clone(),
            state: Mutex::default(),
            faults: Mutex::default(),
            log: Mutex::default(),
            tokens: Mutex::new(HashMap::new()),
            served: AtomicU64::new(0),
            started: wire::now_secs(),
        });
        let app = Router::new()
            .fallback(server::handle)
            .with_state(shared.clone());
        let server = Background::start(
            format!("forge-emulator-{port}"),
            2,
            std_listener,
            |listener| async {
                let app = app.into_make_service_with_connect_info::<server::Conn>();
                let _ = axum::serve(CuttableListener(listener), app).await;
            },
        );
        Emulator {
            shared,
            _server: server,
            url: local_url,
        }
    }
}

/// A running forge emulator; stops when dropped.
#[derive(Debug)]
pub struct Emulator {
    shared: Arc<Shared>,
    _server: Background,
    url: String,
}

impl Emulator {
    /// An emulator of `flavor` over the git repository at `repo`, serving `owner/app`.
    pub fn start(flavor: Flavor, repo: &Path) -> Self {
        Self::builder(flavor, repo).start()
    }

    /// Settings before starting.
    pub fn builder(flavor: Flavor, repo: &Path) -> Builder {
        Builder {
            flavor,
            repo: repo.to_path_buf(),
            config: Config {
                owner: "owner".to_owned(),
                repo: "app".to_owned(),
                public_url: None,
                immutable_releases: false,
                attachment_max_size: None,
                attachment_allowed_types: Vec::new(),
                rate_limit: 5000,
            },
        }
    }

    pub fn flavor(&self) -> Flavor {
        self.shared.flavor
    }

    /// The API base: `http://127.0.0.1:PORT` (GitHub: API at `/`, uploads at `/uploads`; Gitea:
    /// API at `/api/v1`).
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The GHES layout of the same API: `http://127.0.0.1:PORT/api/v3` (uploads at
    /// `/api/uploads`).
    pub fn ghes_url(&self) -> String {
        format!("{}/api/v3", self.url)
    }

    /// Gitea's API base, `http://127.0.0.1:PORT/api/v1`.
    pub fn api_v1_url(&self) -> String {
        format!("{}/api/v1", self.url)
    }

    /// Accepts `token` with `permissions` from now on.
    pub fn add_token(&self, token: &str, permissions: Permissions) {
        lock(&self.shared.tokens).insert(token.to_owned(), permissions);
    }

    /// Arms `fault` for the next `times` requests that `matcher` matches.
    pub fn fault(&self, matcher: Matcher, times: u32, fault: Fault) {
        lock(&self.shared.faults).arm(matcher, times, fault);
    }

    /// How many armed fault uses are left.
    pub fn pending_faults(&self) -> usize {
        lock(&self.shared.faults).pending()
    }

    /// Every request so far, in order.
    pub fn requests(&self) -> Vec<RequestRecord> {
        lock(&self.shared.log).clone()
    }

    /// How many requests so far had `method` and a target containing `path_contains`.
    pub fn count(&self, method: &str, path_contains: &str) -> usize {
        lock(&self.shared.log)
            .iter()
            .filter(|r| r.method.eq_ignore_ascii_case(method) && r.target.contains(path_contains))
            .count()
    }

    /// Every release, drafts included, oldest first.
    pub fn releases(&self) -> Vec<Release> {
        lock(&self.shared.state).releases.clone()
    }

    /// The assets of release `release_id`, in upload order, with their bytes.
    pub fn assets(&self, release_id: u64) -> Vec<Asset> {
        let state = lock(&self.shared.state);
        state
            .release_assets(release_id)
            .into_iter()
            .cloned()
            .collect()
    }

    /// Every issue and seeded pull request.
    pub fn issues(&self) -> Vec<Issue> {
        lock(&self.shared.state).issues.clone()
    }

    /// The comments on issue `number`, oldest first.
    pub fn comments(&self, number: u64) -> Vec<Comment> {
        lock(&self.shared.state)
            .comments_on(number)
            .cloned()
            .collect()
    }

    pub fn labels(&self) -> Vec<Label> {
        lock(&self.shared.state).labels.clone()
    }

    /// Creates label `name` (a no-op when it exists) and returns its id.
    pub fn add_label(&self, name: &str, color: &str) -> u64 {
        let mut state = lock(&self.shared.state);
        match state.label_named(name) {
            Some(label) => label.id,
            None => state.add_label(name, color, None).id,
        }
    }

    /// Adds a pull request, which the issues endpoints list with a `pull_request` key, and
    /// returns its number.
    pub fn add_pull_request(&self, title: &str, labels: &[&str]) -> u64 {
        self.seed_issue(title, labels, true)
    }

    /// Adds an issue as if someone had opened it, and returns its number.
    pub fn add_issue(&self, title: &str, labels: &[&str]) -> u64 {
        self.seed_issue(title, labels, false)
    }

    fn seed_issue(&self, title: &str, labels: &[&str], pull_request: bool) -> u64 {
        let mut state = lock(&self.shared.state);
        let labels = labels.iter().map(|l| state.ensure_label(l)).collect();
        let new = state::NewIssue {
            title: title.to_owned(),
            labels,
            pull_request,
            ..state::NewIssue::default()
        };
        state.add_issue(new).number
    }

    /// Adds a commit status for `sha` (`state`: pending, success, failure or error).
    pub fn add_status(&self, sha: &str, state: &str, context: &str) {
        let mut s = lock(&self.shared.state);
        let id = s.id();
        s.statuses.push(Status {
            id,
            sha: sha.to_owned(),
            state: state.to_owned(),
            context: context.to_owned(),
            description: None,
            target_url: None,
            created_at: wire::now(),
        });
    }

    /// Adds a check run for `sha`; `conclusion` `None` leaves it `in_progress`.
    pub fn add_check_run(&self, sha: &str, name: &str, conclusion: Option<&str>) {
        let mut s = lock(&self.shared.state);
        let id = s.id();
        let now = wire::now();
        s.check_runs.push(CheckRun {
            id,
            head_sha: sha.to_owned(),
            name: name.to_owned(),
            status: if conclusion.is_some() {
                "completed"
            } else {
                "in_progress"
            }
            .to_owned(),
            conclusion: conclusion.map(str::to_owned),
            started_at: now.clone(),
            completed_at: conclusion.map(|_| now),
        });
    }
}
