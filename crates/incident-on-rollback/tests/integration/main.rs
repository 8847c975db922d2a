//! incident-on-rollback on real repositories whose releases, promotions and rollbacks are made
//! by create-release and promote-prerelease, on the local forge and the GitHub and Gitea
//! emulators.

mod incident;

use std::time::Duration;

use relkit_changelog::ConfigSource;
use relkit_create_release::{NotesChoice, VersionChoice};
use relkit_forge::gitea::Gitea;
use relkit_forge::github::{self, GitHub};
use relkit_forge::http::{Client as ForgeClient, Policy, Scheme, Token};
use relkit_forge::local::Local;
use relkit_forge::{Forge, MakeLatest};
use relkit_git::Repository;
use relkit_incident_on_rollback::Config;
use relkit_promote_prerelease::{Floating, PrereleaseChoice, ReleaseChoice};
use relkit_testkit::GitRepo;
use relkit_testkit::emulator::Emulator;
use relkit_version::{PrereleaseBase, Stream, Version};

pub const TOKEN: &str = "ghs_incident0token0c4ca4238a0b9238";

pub fn local(repo: &GitRepo) -> Local {
    Local::in_repository(Repository::discover(repo.path()).expect("a repository"))
}

fn policy() -> Policy {
    Policy {
        attempts: 3,
        backoff: Duration::from_millis(10),
        wait_budget: Duration::from_secs(5),
        read_timeout: Duration::from_secs(5),
        connect_timeout: Duration::from_secs(5),
    }
}

pub fn github(api: &str) -> GitHub {
    let client = github::client(
        "GitHub (test)",
        api,
        Some(Token::new(TOKEN)),
        "GITHUB_TOKEN",
        policy(),
    )
    .expect("client");
    GitHub::new(client, "owner", "app")
}

pub fn gitea(emulator: &Emulator) -> Gitea {
    let client = ForgeClient::new(
        "Gitea (test)",
        &emulator.api_v1_url(),
        Some(Token::new(TOKEN)),
        "GITEA_TOKEN",
        Scheme::Token,
        policy(),
    )
    .expect("client");
    Gitea::new(client, "owner", "app")
}

pub fn stream() -> Stream {
    Stream::new("v").expect("a prefix")
}

/// The incident of the release `tag`, with the action's defaults.
pub fn incident(repo: &GitRepo, tag: &str) -> Config {
    Config {
        repo: repo.path().to_path_buf(),
        stream: stream(),
        release: tag.to_owned(),
        bad_version: None,
        source: None,
        labels: vec!["incident".to_owned(), "rollback".to_owned()],
        severity: None,
        assignees: Vec::new(),
        template: None,
        run_url: Some("https://example.test/runs/7".to_owned()),
        actor: Some("octocat".to_owned()),
        close_on_recovery: true,
        links: None,
    }
}

/// Makes the pre-release of HEAD (or the full release `version`) with create-release.
pub async fn release<F: Forge>(forge: &F, repo: &GitRepo, version: Option<&str>) -> String {
    let config = relkit_create_release::Config {
        repo: repo.path().to_path_buf(),
        stream: stream(),
        version: match version {
            Some(v) => VersionChoice::Exact(Version::parse(v).expect("a version")),
            None => VersionChoice::Prerelease(PrereleaseBase::Latest),
        },
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
        assets: Vec::new(),
        base: repo.path().to_path_buf(),
        allow_empty: true,
        replace_assets: false,
        images: Vec::new(),
    };
    let plan = relkit_create_release::plan(forge, &config)
        .await
        .expect("plan");
    relkit_create_release::apply(forge, &plan, &mut |_| {})
        .await
        .expect("release");
    plan.tag.clone()
}

/// Promotes `pre` to `version` with promote-prerelease, gates off.
pub async fn promote<F: Forge>(
    forge: &F,
    repo: &GitRepo,
    pre: &str,
    version: &str,
    rollback: bool,
) {
    let config = relkit_promote_prerelease::Config {
        repo: repo.path().to_path_buf(),
        stream: stream(),
        include_paths: Vec::new(),
        exclude_paths: Vec::new(),
        prerelease: PrereleaseChoice::Tag(pre.to_owned()),
        release: ReleaseChoice::Version(Version::parse(version).expect("a version")),
        is_rollback: rollback,
        images: None,
        floating: Floating::default(),
        blocker_labels: Vec::new(),
        require_checks: false,
        allow_no_checks: true,
        keep_stable: 0,
        override_gates: false,
        override_reason: None,
        strict_bump: false,
        notes_config: ConfigSource::Builtin,
        notes_file: None,
        links: None,
        actor: Some("octocat".to_owned()),
        run_url: None,
    };
    let registry =
        relkit_registry::Client::new(relkit_registry::Options::default()).expect("client");
    let plan = relkit_promote_prerelease::plan(forge, &registry, &config)
        .await
        .expect("plan the promotion");
    assert_eq!(plan.failures, Vec::<String>::new(), "{plan}");
    relkit_promote_prerelease::apply(forge, &registry, &plan, &mut |_| {})
        .await
        .expect("promote");
}

/// Production on v1.3.0 rolled back to the build of v1.2.1 as v1.3.1, on `forge`.
pub async fn rolled_back<F: Forge>(forge: &F, repo: &GitRepo) {
    repo.commit("feat: first");
    release(forge, repo, Some("1.2.0")).await;
    repo.commit("fix: a crash on empty input");
    let good = release(forge, repo, None).await;
    promote(forge, repo, &good, "1.2.1", false).await;
    repo.commit("feat: a new cache (#42)");
    let bad = release(forge, repo, None).await;
    promote(forge, repo, &bad, "1.3.0", false).await;
    promote(forge, repo, &good, "1.3.1", true).await;
}
