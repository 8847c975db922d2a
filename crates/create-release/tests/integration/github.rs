//! create-release on GitHub (the forge emulator's GitHub flavour, github.com and GHES layouts),
//! with each kind of fault at each write: the run either rides it out or fails, and a re-run
//! converges on one tag, one published release and each asset once.

use std::time::Duration;

use relkit_create_release::{apply, plan};
use relkit_forge::github::{self, GitHub};
use relkit_forge::http::{Policy, Token};
use relkit_testkit::emulator::{Emulator, Flavor, Matcher, Permissions};
use relkit_testkit::scenario;

use crate::interrupted::{converges, faults};
use crate::{build, config, exact};

const TOKEN: &str = "ghs_create0release0token0c4ca4238a";

fn github(api: &str) -> GitHub {
    github_with(api, TOKEN)
}

fn github_with(api: &str, token: &str) -> GitHub {
    let policy = Policy {
        attempts: 3,
        backoff: Duration::from_millis(10),
        wait_budget: Duration::from_secs(5),
        read_timeout: Duration::from_secs(5),
        connect_timeout: Duration::from_secs(5),
    };
    let client = github::client(
        "GitHub (test)",
        api,
        Some(Token::new(token)),
        "GITHUB_TOKEN",
        policy,
    )
    .expect("client");
    GitHub::new(client, "owner", "app")
}

/// Each write of a release with one asset: the tag object and its ref, the draft, three uploads
/// (to the upload host), publishing.
fn writes() -> Vec<(&'static str, Matcher)> {
    vec![
        ("create the tag object", Matcher::new("POST", "/git/tags")),
        ("create the tag's ref", Matcher::new("POST", "/git/refs")),
        ("create the release", Matcher::new("POST", "/app/releases")),
        ("upload the asset", Matcher::new("POST", "name=app.tar.gz")),
        (
            "upload the manifest",
            Matcher::new("POST", "name=release-manifest.json"),
        ),
        ("upload the sums", Matcher::new("POST", "name=SHA256SUMS")),
        ("publish", Matcher::new("PATCH", "/app/releases/")),
    ]
}

#[tokio::test]
async fn a_release_converges_whatever_fails_at_whichever_write() {
    for (n, (step, matcher)) in writes().into_iter().enumerate() {
        for fault in faults() {
            // Half the cases on each layout: the paths differ, the writes do not.
            let ghes = n % 2 == 1;
            let case = format!("{fault:?} at {step} (GHES: {ghes})");
            let repo = scenario::product();
            build(&repo, &[("app.tar.gz", "app")]);
            let emulator = Emulator::start(Flavor::GitHub, repo.path());
            emulator.add_token(TOKEN, Permissions::all());
            let api = if ghes {
                emulator.ghes_url()
            } else {
                emulator.url().to_owned()
            };
            let forge = github(&api);
            let cfg = config(&repo, exact("1.1.0"));
            converges(
                &emulator,
                &forge,
                &repo,
                &cfg,
                (matcher.clone(), fault),
                &case,
            )
            .await;
        }
    }
}

#[tokio::test]
async fn a_release_with_n_assets_takes_a_known_number_of_calls() {
    let repo = scenario::product();
    build(&repo, &[("a.tar.gz", "a"), ("b.tar.gz", "b")]);
    let emulator = Emulator::start(Flavor::GitHub, repo.path());
    emulator.add_token(TOKEN, Permissions::all());
    let forge = github(emulator.url());
    let cfg = config(&repo, exact("1.1.0"));
    let first = plan(&forge, &cfg).await.expect("plan");
    apply(&forge, &first, &mut |_| {}).await.expect("apply");
    let writes: Vec<String> = emulator
        .requests()
        .iter()
        .filter(|r| r.method != "GET")
        .map(|r| format!("{} {}", r.method, r.target))
        .collect();
    // The tag object and its ref, the draft, two assets, the manifest, the sums, publishing.
    assert_eq!(writes.len(), 8, "{writes:#?}");
    // Five reads to plan (the commit, the tag, the release by tag, the list for a draft, the
    // repository for the preflight), the writes, one read of the result: N + 12 calls for N
    // assets.
    assert_eq!(emulator.requests().len(), 14, "{:#?}", emulator.requests());
    assert_eq!(
        forge.client().calls(),
        emulator.requests().len() as u64,
        "every request counted"
    );

    // A re-run only reads.
    let before = emulator.requests().len();
    let again = plan(&forge, &cfg).await.expect("plan");
    assert!(again.is_noop());
    let rerun: Vec<String> = emulator.requests()[before..]
        .iter()
        .map(|r| format!("{} {}", r.method, r.target))
        .collect();
    assert!(
        rerun.iter().all(|r| r.starts_with("GET ")),
        "no writes on a converged re-run: {rerun:#?}"
    );
    // The commit, the tag and its tag object, the release by tag.
    assert_eq!(rerun.len(), 4, "{rerun:#?}");
}

/// A personal token (classic) that may push but lacks the `workflow` scope, or may not push at
/// all, is stopped by the preflight: nothing is written.
#[tokio::test]
async fn the_preflight_reads_what_a_personal_token_may_do() {
    // Dashes keep it from looking like a real token to secret scanners.
    const CLASSIC: &str = "ghp_classic-test-token-for-the-preflight";
    let attempt = |permissions: Permissions, workflow_change: bool| async move {
        let repo = scenario::product();
        if workflow_change {
            repo.commit_file(".github/workflows/ci.yml", "on: push\n", "ci: run on push");
        }
        build(&repo, &[("app.tar.gz", "app")]);
        let emulator = Emulator::start(Flavor::GitHub, repo.path());
        emulator.add_token(CLASSIC, permissions);
        let result = plan(
            &github_with(emulator.url(), CLASSIC),
            &config(&repo, exact("1.1.0")),
        )
        .await;
        assert!(
            emulator.requests().iter().all(|r| r.method == "GET"),
            "the preflight only reads"
        );
        assert!(
            emulator
                .requests()
                .iter()
                .any(|r| r.target == "/repos/owner/app"),
            "the repository was read: {:#?}",
            emulator.requests()
        );
        result
    };

    let read_only = attempt(Permissions::read_only(), false)
        .await
        .expect_err("a read-only token");
    assert!(
        matches!(
            read_only,
            relkit_create_release::Error::Release(relkit_release::Error::CannotWrite { .. })
        ),
        "{read_only}"
    );
    assert!(read_only.is_bad_input());

    let no_workflow = Permissions {
        workflows: false,
        ..Permissions::all()
    };
    let err = attempt(no_workflow, true)
        .await
        .expect_err("a commit that changes workflows");
    assert!(
        matches!(
            err,
            relkit_create_release::Error::Release(relkit_release::Error::CannotTagWorkflows { .. })
        ),
        "{err}"
    );
    assert!(
        err.to_string().contains(".github/workflows/ci.yml"),
        "names the file: {err}"
    );
    assert!(err.hint().expect("hint").contains("`workflow` scope"));

    // The same token may tag a commit that leaves workflows alone, and a token with the scope
    // may tag the one that changes them.
    attempt(no_workflow, false)
        .await
        .expect("no workflow change");
    attempt(Permissions::all(), true)
        .await
        .expect("the workflow scope");
}

/// An installation token (a workflow's `GITHUB_TOKEN`) reads `push: false` on any repository:
/// the preflight does not take that for a refusal, and a missing `workflows` permission is
/// named at the first write, the tag, before anything a person would see exists.
#[tokio::test]
async fn an_installation_token_is_judged_by_its_first_write() {
    let repo = scenario::product();
    repo.commit_file(".github/workflows/ci.yml", "on: push\n", "ci: run on push");
    build(&repo, &[("app.tar.gz", "app")]);
    let emulator = Emulator::start(Flavor::GitHub, repo.path());
    emulator.add_token(
        TOKEN,
        Permissions {
            workflows: false,
            ..Permissions::all()
        },
    );
    let forge = github(emulator.url());
    let planned = plan(&forge, &config(&repo, exact("1.1.0")))
        .await
        .expect("push: false is not the installation's own");
    let err = apply(&forge, &planned, &mut |_| {})
        .await
        .expect_err("GitHub refuses the tag");
    assert!(
        err.hint().expect("hint").contains("`workflows`"),
        "{err}: {:?}",
        err.hint()
    );
    let refs = emulator
        .requests()
        .iter()
        .filter(|r| r.method == "POST" && r.target.contains("/releases"))
        .count();
    assert_eq!(refs, 0, "no release was created");
    assert!(
        !repo.git(&["ls-remote", "--tags", "."]).contains("v1.1.0"),
        "no tag"
    );
}

/// Notes longer than GitHub takes are refused in the plan, before the tag is pushed; the
/// emulator refuses them as GitHub does, so the limit is the forge's.
#[tokio::test]
async fn notes_longer_than_github_takes_stop_the_plan_before_any_write() {
    let repo = scenario::product();
    build(&repo, &[("app.tar.gz", "app")]);
    let emulator = Emulator::start(Flavor::GitHub, repo.path());
    emulator.add_token(TOKEN, Permissions::all());
    let forge = github(emulator.url());
    let notes = repo.path().join(".git/NOTES.md");
    let mut cfg = config(&repo, exact("1.1.0"));
    cfg.notes = relkit_create_release::NotesChoice::File(notes.clone());

    std::fs::write(&notes, "é".repeat(github::MAX_NOTES + 1)).expect("notes");
    let err = plan(&forge, &cfg).await.expect_err("too long");
    assert!(
        matches!(err, relkit_create_release::Error::Release(relkit_release::Error::NotesTooLong { chars, max, .. }) if chars == max + 1),
        "{err}"
    );
    assert!(err.is_bad_input());
    assert!(
        emulator.requests().iter().all(|r| r.method == "GET"),
        "nothing written"
    );

    // At the limit (characters, not bytes) the release is made.
    std::fs::write(&notes, "é".repeat(github::MAX_NOTES)).expect("notes");
    let planned = plan(&forge, &cfg).await.expect("plan");
    apply(&forge, &planned, &mut |_| {}).await.expect("apply");
    assert_eq!(emulator.releases().len(), 1);
}
