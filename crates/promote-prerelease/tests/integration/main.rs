//! promote-prerelease on real repositories, the local forge and a real registry
//! (Debian's docker-registry on loopback): the playbook's promotion and rollback, end to end.

mod forges;
mod promote;

use relkit_changelog::ConfigSource;
use relkit_create_release::{Config as ReleaseConfig, NotesChoice, VersionChoice};
use relkit_forge::local::Local;
use relkit_forge::{Forge, MakeLatest};
use relkit_git::Repository;
use relkit_promote_prerelease::{Config, Floating, PrereleaseChoice, ReleaseChoice};
use relkit_registry::{Client, Credentials, Options, Policy};
use relkit_testkit::GitRepo;
use relkit_testkit::registry::{Format, Registry};
use relkit_version::{PrereleaseBase, Stream, Version};

pub fn forge(repo: &GitRepo) -> Local {
    Local::in_repository(Repository::discover(repo.path()).expect("a repository"))
}

pub fn client() -> Client {
    Client::new(Options {
        policy: Policy {
            attempts: 2,
            backoff: std::time::Duration::from_millis(20),
            ..Policy::default()
        },
        credentials: Credentials::none(),
        ..Options::default()
    })
    .expect("a client")
}

pub fn stream(prefix: &str) -> Stream {
    Stream::new(prefix).expect("a prefix")
}

/// A promotion of `pre` to `release` in the `v` stream, gates at their defaults.
pub fn promotion(repo: &GitRepo, pre: &str, release: &str) -> Config {
    Config {
        repo: repo.path().to_path_buf(),
        stream: stream("v"),
        include_paths: Vec::new(),
        exclude_paths: Vec::new(),
        prerelease: PrereleaseChoice::Tag(pre.to_owned()),
        release: match release {
            "auto" => ReleaseChoice::Auto,
            v => ReleaseChoice::Version(
                Version::parse(v.trim_start_matches('v')).expect("a version"),
            ),
        },
        is_rollback: false,
        images: None,
        floating: Floating::default(),
        blocker_labels: vec!["release-blocker".to_owned()],
        require_checks: true,
        allow_no_checks: false,
        keep_stable: 2,
        override_gates: false,
        override_reason: None,
        strict_bump: false,
        notes_config: ConfigSource::Builtin,
        notes_file: None,
        links: None,
        actor: Some("octocat".to_owned()),
        run_url: Some("https://example.test/runs/1".to_owned()),
    }
}

/// A project whose releases and pre-releases are made by create-release, with an image each
/// in the registry.
#[derive(Debug)]
pub struct Project {
    pub repo: GitRepo,
    pub registry: std::sync::Arc<Registry>,
    pub prefix: String,
    /// The image's repository in the registry: `team/api`, or one of its own on a shared one.
    pub repository: String,
    /// The host references name the registry by, when it is reached through a front.
    pub via: Option<String>,
}

impl Default for Project {
    fn default() -> Self {
        Self::with_prefix("v")
    }
}

impl Project {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn with_prefix(prefix: &str) -> Self {
        let registry = Registry::start(relkit_testkit::registry::Auth::Open);
        Self {
            repo: GitRepo::new(),
            registry: std::sync::Arc::new(registry),
            prefix: prefix.to_owned(),
            repository: "team/api".to_owned(),
            via: None,
        }
    }

    /// A project of its own whose image lives in `repository` of a registry others share: one
    /// registry serves a whole matrix of cases.
    pub fn sharing(registry: &std::sync::Arc<Registry>, repository: &str) -> Self {
        Self {
            repo: GitRepo::new(),
            registry: registry.clone(),
            prefix: "v".to_owned(),
            repository: repository.to_owned(),
            via: None,
        }
    }

    /// The same project, its images named through `host` (a front of the registry).
    pub fn through(mut self, host: &str) -> Self {
        self.via = Some(host.to_owned());
        self
    }

    pub fn forge(&self) -> Local {
        forge(&self.repo)
    }

    /// The repository of the image, as references name it.
    pub fn image(&self) -> String {
        let host = self.via.as_deref().unwrap_or(self.registry.host());
        format!("{host}/{}", self.repository)
    }

    /// Makes a release of HEAD with create-release: `version` a full one, or `pre` for the next
    /// pre-release; an image is pushed with the release's tag in its OCI form, and pinned in
    /// the manifest. Returns the tag and the image's digest.
    pub async fn release(&self, version: Option<&str>) -> (String, String) {
        self.release_on(&self.forge(), version).await
    }

    /// [`Project::release`] on `forge`.
    pub async fn release_on<F: Forge>(&self, forge: &F, version: Option<&str>) -> (String, String) {
        self.release_with(forge, version, false).await
    }

    /// [`Project::release_on`], the image a two-platform index when `index`.
    pub async fn release_with<F: Forge>(
        &self,
        forge: &F,
        version: Option<&str>,
        index: bool,
    ) -> (String, String) {
        let stream = stream(&self.prefix);
        let choice = match version {
            Some(v) => VersionChoice::Exact(Version::parse(v).expect("a version")),
            None => VersionChoice::Prerelease(PrereleaseBase::Latest),
        };
        let dist = self.repo.path().join("dist");
        std::fs::create_dir_all(&dist).expect("dist");
        std::fs::write(dist.join("app.tar.gz"), self.repo.head()).expect("asset");
        let exclude = self.repo.path().join(".git/info/exclude");
        std::fs::write(exclude, "dist/\n").expect("exclude");
        let mut config = ReleaseConfig {
            repo: self.repo.path().to_path_buf(),
            stream: stream.clone(),
            version: choice,
            target: "HEAD".to_owned(),
            target_input: "--target",
            first_release: true,
            include_paths: Vec::new(),
            exclude_paths: Vec::new(),
            name: None,
            notes: NotesChoice::Changelog(ConfigSource::Builtin),
            links: None,
            draft: false,
            make_latest: MakeLatest::Legacy,
            assets: vec!["dist/*".to_owned()],
            base: self.repo.path().to_path_buf(),
            allow_empty: false,
            replace_assets: false,
            images: Vec::new(),
        };
        // The version first, for the image's tag.
        let planned = relkit_create_release::plan(forge, &config)
            .await
            .expect("plan the release");
        let tag = relkit_version::oci_tag(&planned.version, &stream, self.prefix != "v")
            .expect("an OCI tag");
        let digest = if index {
            self.registry.push_index(&self.repository, &tag).digest
        } else {
            self.registry
                .push_image(&self.repository, &tag, Format::Oci)
                .digest
        };
        let pins = format!("API_IMAGE={}:{tag}@{digest}\n", self.image());
        config.images = relkit_create_release::images(&pins).expect("pins");
        let plan = relkit_create_release::plan(forge, &config)
            .await
            .expect("plan the release");
        relkit_create_release::apply(forge, &plan, &mut |_| {})
            .await
            .expect("release");
        (plan.tag.clone(), digest)
    }
}
