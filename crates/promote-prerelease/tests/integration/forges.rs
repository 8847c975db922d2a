//! Promotion on GitHub (github.com and GHES layouts) and Gitea, through the forge emulator:
//! the gates read the emulator's statuses, check runs and issues, and a fault at any write of
//! the release, followed by a re-run, ends with one tag, one release and each asset once.

use std::time::Duration;

use relkit_forge::Forge;
use relkit_forge::gitea::Gitea;
use relkit_forge::github::{self, GitHub};
use relkit_forge::http::{Client, Policy, Scheme, Token};
use relkit_promote_prerelease::{GateOutcome, apply, plan};
use relkit_testkit::emulator::{Emulator, Fault, Flavor, Matcher, Permissions};
use relkit_testkit::registry::{Auth, Registry};

use crate::{Project, client, promotion};

const TOKEN: &str = "ghs_promote0token0c4ca4238a0b923820";

fn policy() -> Policy {
    Policy {
        attempts: 3,
        backoff: Duration::from_millis(10),
        wait_budget: Duration::from_secs(5),
        read_timeout: Duration::from_secs(5),
        connect_timeout: Duration::from_secs(5),
    }
}

fn github(api: &str) -> GitHub {
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

fn gitea(emulator: &Emulator) -> Gitea {
    let client = Client::new(
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

/// v1.2.0 and a pre-release of a feature, released on `forge`.
async fn tried<F: Forge>(project: &Project, forge: &F) -> String {
    project.repo.commit("feat: first");
    project.release_on(forge, Some("1.2.0")).await;
    project.repo.commit("feat: add the D-Bus watcher");
    project.release_on(forge, None).await.0
}

/// The gates against a forge that has them: red checks stop it, a pull request carrying a blocker
/// label is no blocker, and green checks let it through to one published release.
async fn promotes_behind_its_gates<F: Forge>(emulator: &Emulator, forge: &F, project: &Project) {
    let pre = tried(project, forge).await;
    let sha = project.repo.head();
    let config = promotion(&project.repo, &pre, "1.3.0");
    let registry = client();

    let no_checks = plan(forge, &registry, &config).await.expect("plan");
    assert!(
        no_checks
            .failures
            .iter()
            .any(|f| f.contains("no checks reported for") && f.contains("is not green")),
        "{:?}",
        no_checks.failures
    );
    emulator.add_status(&sha, "failure", "ci/test");
    let red = plan(forge, &registry, &config).await.expect("plan");
    assert!(
        red.failures
            .iter()
            .any(|f| f.contains("not green: ci/test (failure)")),
        "{:?}",
        red.failures
    );
    assert!(apply(forge, &registry, &red, &mut |_| {}).await.is_err());
    assert!(
        forge.tag("v1.3.0").await.expect("read").is_none(),
        "nothing written"
    );

    emulator.add_status(&sha, "success", "ci/test");
    emulator.add_pull_request("Revert the watcher", &["release-blocker"]);
    let green = plan(forge, &registry, &config).await.expect("plan");
    assert_eq!(green.failures, Vec::<String>::new(), "{green}");
    let blockers = green
        .gates
        .iter()
        .find(|g| g.name == "blockers")
        .expect("gate");
    assert_eq!(
        blockers.outcome,
        GateOutcome::Passed,
        "a pull request is no blocker"
    );
    apply(forge, &registry, &green, &mut |_| {})
        .await
        .expect("apply");
    let release = forge
        .release_by_tag("v1.3.0")
        .await
        .expect("read")
        .expect("published");
    assert!(!release.draft && !release.prerelease);
    assert_eq!(
        forge.tag("v1.3.0").await.expect("read").map(|t| t.commit),
        Some(sha)
    );
    assert!(
        plan(forge, &registry, &config)
            .await
            .expect("plan")
            .is_noop()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_github_the_gates_read_statuses_and_issues_and_the_release_is_published() {
    for ghes in [false, true] {
        let project = Project::new();
        let emulator = Emulator::start(Flavor::GitHub, project.repo.path());
        emulator.add_token(TOKEN, Permissions::all());
        let api = if ghes {
            emulator.ghes_url()
        } else {
            emulator.url().to_owned()
        };
        promotes_behind_its_gates(&emulator, &github(&api), &project).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_gitea_the_gates_read_statuses_and_issues_and_the_release_is_published() {
    let project = Project::new();
    let emulator = Emulator::start(Flavor::Gitea, project.repo.path());
    emulator.add_token(TOKEN, Permissions::all());
    promotes_behind_its_gates(&emulator, &gitea(&emulator), &project).await;
}

fn faults() -> Vec<Fault> {
    vec![
        Fault::Status(502),
        Fault::DropConnection,
        Fault::AfterCommit(Box::new(Fault::Status(502))),
        Fault::AfterCommit(Box::new(Fault::DropConnection)),
        Fault::SecondaryRateLimit {
            retry_after_secs: 1,
        },
    ]
}

/// A fault at `matcher` during the promotion, then a re-run: one tag at the pre-release's commit,
/// one published release with each asset once, every image tag at the tested digest.
async fn converges<F: Forge>(
    emulator: &Emulator,
    forge: &F,
    project: &Project,
    (matcher, fault): (Matcher, Fault),
    case: &str,
) {
    let pre = tried(project, forge).await;
    let sha = project.repo.head();
    emulator.add_status(&sha, "success", "ci/test");
    let config = promotion(&project.repo, &pre, "1.3.0");
    let registry = client();
    let releases_before = forge.releases().await.expect("list").len();
    emulator.fault(matcher, 3, fault);
    let first = plan(forge, &registry, &config).await.expect("plan");
    let _ = apply(forge, &registry, &first, &mut |_| {}).await;

    let again = plan(forge, &registry, &config)
        .await
        .unwrap_or_else(|e| panic!("{case}: the re-run cannot plan: {e}"));
    assert_eq!(again.failures, Vec::<String>::new(), "{case}");
    apply(forge, &registry, &again, &mut |_| {})
        .await
        .unwrap_or_else(|e| panic!("{case}: the re-run fails: {e}"));

    let releases = forge.releases().await.expect("list");
    assert_eq!(
        releases.len(),
        releases_before + 1,
        "{case}: one release more"
    );
    let release = forge
        .release_by_tag("v1.3.0")
        .await
        .expect("read")
        .unwrap_or_else(|| panic!("{case}: published"));
    // Each file once, and an audit log of each run that changed something.
    let mut names: Vec<&str> = release
        .assets
        .iter()
        .map(|a| a.name.as_str())
        .filter(|n| !n.starts_with("audit"))
        .collect();
    names.sort_unstable();
    assert_eq!(
        names,
        ["SHA256SUMS", "app.tar.gz", "release-manifest.json"],
        "{case}: each asset once"
    );
    assert!(
        release.assets.iter().any(|a| a.name == "audit.jsonl"),
        "{case}: the audit log"
    );
    assert_eq!(
        forge.tag("v1.3.0").await.expect("read").map(|t| t.commit),
        Some(sha),
        "{case}"
    );
    let tested = project
        .registry
        .tag_digest(&project.repository, &first.images[0].source_tag);
    for tag in ["1.3.0", "1.3", "1", "latest"] {
        assert_eq!(
            project.registry.tag_digest(&project.repository, tag),
            tested,
            "{case}: {tag}"
        );
    }
    assert!(
        plan(forge, &registry, &config)
            .await
            .expect("plan")
            .is_noop(),
        "{case}: converged"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_github_a_promotion_converges_whatever_fails_at_whichever_write() {
    let writes = [
        ("create the tag object", Matcher::new("POST", "/git/tags")),
        ("create the tag's ref", Matcher::new("POST", "/git/refs")),
        ("create the release", Matcher::new("POST", "/app/releases")),
        ("upload an asset", Matcher::new("POST", "name=app.tar.gz")),
        (
            "upload the manifest",
            Matcher::new("POST", "name=release-manifest.json"),
        ),
        ("publish", Matcher::new("PATCH", "/app/releases/")),
    ];
    let registry = std::sync::Arc::new(Registry::start(Auth::Open));
    for (n, (step, matcher)) in writes.into_iter().enumerate() {
        for (m, fault) in faults().into_iter().enumerate() {
            let case = format!("GitHub: {fault:?} at {step}");
            let project = Project::sharing(&registry, &format!("github/api-{n}-{m}"));
            let emulator = Emulator::start(Flavor::GitHub, project.repo.path());
            emulator.add_token(TOKEN, Permissions::all());
            let forge = github(emulator.url());
            converges(&emulator, &forge, &project, (matcher.clone(), fault), &case).await;
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_gitea_a_promotion_converges_whatever_fails_at_whichever_write() {
    let writes = [
        ("create the tag", Matcher::new("POST", "/app/tags")),
        ("create the release", Matcher::new("POST", "/app/releases")),
        (
            "upload the manifest",
            Matcher::new("POST", "name=release-manifest.json"),
        ),
        ("publish", Matcher::new("PATCH", "/app/releases/")),
    ];
    let registry = std::sync::Arc::new(Registry::start(Auth::Open));
    for (n, (step, matcher)) in writes.into_iter().enumerate() {
        for (m, fault) in faults().into_iter().enumerate() {
            let case = format!("Gitea: {fault:?} at {step}");
            let project = Project::sharing(&registry, &format!("gitea/api-{n}-{m}"));
            let emulator = Emulator::start(Flavor::Gitea, project.repo.path());
            emulator.add_token(TOKEN, Permissions::all());
            let forge = gitea(&emulator);
            converges(&emulator, &forge, &project, (matcher.clone(), fault), &case).await;
        }
    }
}

/// Two promotions of one version at once, both planned before either writes: the tag is the
/// lock, so one makes the release and the other finds the same work done (or stops cleanly);
/// the end state is one tag, one release, each asset once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_promotions_of_one_version_at_once_end_as_one() {
    let project = Project::new();
    let emulator = Emulator::start(Flavor::GitHub, project.repo.path());
    emulator.add_token(TOKEN, Permissions::all());
    let forge = github(emulator.url());
    let pre = tried(&project, &forge).await;
    let sha = project.repo.head();
    emulator.add_status(&sha, "success", "ci/test");
    let config = promotion(&project.repo, &pre, "1.3.0");
    let (one, two) = (client(), client());
    let first = plan(&forge, &one, &config).await.expect("plan");
    let second = plan(&forge, &two, &config).await.expect("plan");
    let (mut quiet_a, mut quiet_b) = (|_: &str| {}, |_: &str| {});
    let (a, b) = tokio::join!(
        apply(&forge, &one, &first, &mut quiet_a),
        apply(&forge, &two, &second, &mut quiet_b)
    );
    assert!(a.is_ok() || b.is_ok(), "{a:?} {b:?}");
    let release = forge
        .release_by_tag("v1.3.0")
        .await
        .expect("read")
        .expect("published");
    let mut names: Vec<&str> = release
        .assets
        .iter()
        .map(|a| a.name.as_str())
        .filter(|n| !n.starts_with("audit"))
        .collect();
    names.sort_unstable();
    assert_eq!(names, ["SHA256SUMS", "app.tar.gz", "release-manifest.json"]);
    let v130 = forge
        .releases()
        .await
        .expect("list")
        .into_iter()
        .filter(|r| r.tag == "v1.3.0")
        .count();
    assert_eq!(v130, 1, "one release");
    assert_eq!(
        forge.tag("v1.3.0").await.expect("read").map(|t| t.commit),
        Some(sha)
    );
    assert!(plan(&forge, &one, &config).await.expect("plan").is_noop());
}
