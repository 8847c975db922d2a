//! The GitHub and Gitea backends held to the official contracts: a whole release (tag, release,
//! assets, listing, update, issues, labels, checks) driven through Stoplight Prism in front of the
//! forge emulator, which validates every request relkit sends and every answer it reads against
//! GitHub's OpenAPI description (api.github.com and GitHub Enterprise Server) and Gitea's swagger.
//!
//! Uploads go to the host the API names in `upload_url`, which is not part of the REST
//! description, so they reach the emulator directly, as they would reach `uploads.github.com`.
//! GitHub's asset downloads bypass Prism too: `GET …/releases/assets/{id}` with
//! `Accept: application/octet-stream` answers 302 to storage, which Prism's proxy follows itself,
//! and the description declares only JSON for the 200 it then sees.
//!
//! Needs Prism: `scripts/test` installs it and runs these.

use relkit_forge::gitea::Gitea;
use relkit_forge::http::{Client, Scheme, Token};
use relkit_forge::{
    CheckState, Error, Forge, Label, MakeLatest, NewIssue, NewRelease, NewTag, ReleasePatch, Sha256,
};
use relkit_testkit::emulator::{Emulator, Flavor, Permissions};
use relkit_testkit::prism::{Contract, Prism};
use relkit_testkit::{GitRepo, scenario};

use crate::github::{TOKEN, github_at};
use crate::{file, policy};

/// Fails with Prism's log when it saw a violation that `known` does not excuse; `known` gets the
/// request (`post /api/v1/repos/owner/app/tags`) and the violation.
fn assert_no_violations(prism: &Prism, known: impl Fn(&str, &str) -> bool) {
    let reported = prism.violations();
    // Which request each violation is about: the last one Prism received before it.
    let mut request = String::new();
    let mut violations = Vec::new();
    for line in prism.log().lines() {
        if let Some((_, rest)) = line.split_once("[HTTP SERVER] ")
            && line.contains("Request received")
        {
            request = rest.split(" ℹ").next().unwrap_or(rest).trim().to_owned();
        } else if reported.iter().any(|r| r == line) && !known(&request, line) {
            violations.push(format!("{request}: {line}"));
        }
    }
    assert!(
        violations.is_empty(),
        "contract violations:\n{}\n\nfull log:\n{}",
        violations.join("\n"),
        prism.log()
    );
}

/// Shows Prism's log when the test fails before its violations are checked: a backend that
/// stumbles on Prism's error answer fails first.
struct ShowLogOnPanic<'a>(&'a Prism);

impl Drop for ShowLogOnPanic<'_> {
    #[allow(clippy::print_stderr)]
    fn drop(&mut self) {
        if std::thread::panicking() {
            eprintln!("Prism's log:\n{}", self.0.log());
        }
    }
}

/// Everything create-release, promote-prerelease and incident-on-rollback ask of a forge.
/// Downloads go through `downloads`, the same backend: see the GitHub tests for why not Prism.
async fn whole_release<F: Forge>(forge: &F, downloads: &F, repo: &GitRepo) {
    let head = repo.head();
    forge.preflight().await.expect("preflight");
    assert_eq!(
        forge.resolve("main").await.expect("resolve"),
        Some(head.clone())
    );
    assert_eq!(
        forge.resolve("no-such-branch").await.expect("resolve"),
        None
    );
    let v1 = forge.tag("v1.0.0").await.expect("tag").expect("v1.0.0");
    assert_eq!(v1.commit, repo.git(&["rev-parse", "v1.0.0^{commit}"]));
    assert_eq!(forge.tag("v1.0").await.expect("tag"), None);
    assert_eq!(forge.ahead_by("v1.0.0", "main").await.expect("compare"), 3);

    let tag = NewTag {
        name: "v1.1.0".to_owned(),
        commit: head.clone(),
        message: Some("Release 1.1.0".to_owned()),
    };
    forge.create_tag(&tag).await.expect("create the tag");
    let err = forge.create_tag(&tag).await.expect_err("exists");
    assert!(matches!(err, Error::AlreadyExists { .. }), "{err:?}");

    let new = NewRelease {
        tag: "v1.1.0".to_owned(),
        target: head.clone(),
        name: "v1.1.0".to_owned(),
        body: "notes".to_owned(),
        draft: true,
        prerelease: false,
        make_latest: MakeLatest::True,
    };
    let draft = forge.create_release(&new).await.expect("draft");
    assert_eq!(forge.release_by_tag("v1.1.0").await.expect("by tag"), None);
    let app = forge
        .upload_asset(&draft, &file(repo, "app.tar.gz", "app"))
        .await
        .expect("upload");
    forge
        .upload_asset(&draft, &file(repo, "SHA256SUMS", "sums"))
        .await
        .expect("upload");
    assert_eq!(
        downloads.download_asset(&app).await.expect("download"),
        b"app"
    );
    if let Some(digest) = app.digest {
        assert_eq!(digest, Sha256::of(b"app"));
    }
    let listed = forge.releases().await.expect("list");
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].assets.len(), 2);

    let published = forge
        .update_release(
            &draft,
            &ReleasePatch {
                draft: Some(false),
                body: Some("final notes".to_owned()),
                make_latest: Some(MakeLatest::True),
                ..ReleasePatch::default()
            },
        )
        .await
        .expect("publish");
    assert!(!published.draft);
    let found = forge
        .release_by_tag("v1.1.0")
        .await
        .expect("by tag")
        .expect("published");
    assert_eq!(found.body, "final notes");
    let sums = found
        .assets
        .iter()
        .find(|a| a.name == "SHA256SUMS")
        .expect("the sums");
    forge.delete_asset(sums).await.expect("delete");
    let err = forge.create_release(&new).await.expect_err("exists");
    assert!(matches!(err, Error::AlreadyExists { .. }), "{err:?}");

    forge
        .ensure_labels(&[Label {
            name: "incident".to_owned(),
            color: "d73a4a".to_owned(),
            description: "Something went wrong in production".to_owned(),
        }])
        .await
        .expect("labels");
    let issue = forge
        .create_issue(&NewIssue {
            title: "Rollback to v1.0.0".to_owned(),
            body: "v1.1.0 was rolled back".to_owned(),
            labels: vec!["incident".to_owned()],
            assignees: Vec::new(),
        })
        .await
        .expect("issue");
    let open = forge
        .open_issues_with_label("incident")
        .await
        .expect("issues");
    assert_eq!(open.len(), 1, "{open:?}");
    assert_eq!(open[0].body, "v1.1.0 was rolled back");
    forge
        .comment(&issue, "still on v1.0.0")
        .await
        .expect("comment");
    forge.close_issue(&issue).await.expect("close");
    let open = forge
        .open_issues_with_label("incident")
        .await
        .expect("issues");
    assert!(open.is_empty(), "{open:?}");

    let checks = forge.checks(&head).await.expect("checks");
    assert!(
        checks
            .checks
            .iter()
            .any(|(name, state)| name == "ci/build" && *state == CheckState::Success),
        "{checks:?}"
    );
}

/// A repository and a GitHub emulator with a status and a check run on HEAD.
fn github_emulator() -> (GitRepo, Emulator) {
    let repo = scenario::product();
    let emulator = Emulator::start(Flavor::GitHub, repo.path());
    emulator.add_token(TOKEN, Permissions::all());
    emulator.add_pull_request("a pull request", &["incident"]);
    emulator.add_status(&repo.head(), "success", "ci/build");
    emulator.add_check_run(&repo.head(), "test", Some("success"));
    (repo, emulator)
}

#[tokio::test]
#[ignore = "needs Prism: run scripts/test"]
async fn the_github_backend_keeps_to_the_api_github_com_description() {
    let (repo, emulator) = github_emulator();
    let prism = Prism::start(Contract::GitHub, emulator.url());
    let forge = github_at(prism.url(), TOKEN);
    let _log = ShowLogOnPanic(&prism);
    whole_release(&forge, &github_at(emulator.url(), TOKEN), &repo).await;
    assert_no_violations(&prism, |_, _| false);
}

#[tokio::test]
#[ignore = "needs Prism: run scripts/test"]
async fn the_github_backend_keeps_to_the_ghes_description() {
    let (repo, emulator) = github_emulator();
    let prism = Prism::start(Contract::Ghes, &emulator.ghes_url());
    let forge = github_at(prism.url(), TOKEN);
    let _log = ShowLogOnPanic(&prism);
    whole_release(&forge, &github_at(&emulator.ghes_url(), TOKEN), &repo).await;
    assert_no_violations(&prism, |_, _| false);
}

#[tokio::test]
#[ignore = "needs Prism: run scripts/test"]
async fn the_gitea_backend_keeps_to_the_gitea_swagger() {
    let repo = scenario::product();
    let emulator = Emulator::start(Flavor::Gitea, repo.path());
    emulator.add_token(crate::gitea::TOKEN, Permissions::all());
    emulator.add_status(&repo.head(), "success", "ci/build");
    // Without --errors: Gitea's own deviations (below) must pass through to be told apart.
    let prism = Prism::start_logging(Contract::Gitea, emulator.url());
    let client = Client::new(
        "Gitea (test)",
        &format!("{}/api/v1", prism.url()),
        Some(Token::new(crate::gitea::TOKEN)),
        "GITEA_TOKEN",
        Scheme::Token,
        policy(),
    )
    .expect("client");
    let forge = Gitea::new(client, "owner", "app");
    let _log = ShowLogOnPanic(&prism);
    // Gitea's attachments download from `browser_download_url`, on the emulator itself.
    whole_release(&forge, &forge, &repo).await;
    assert_no_violations(&prism, is_known_gitea_deviation);
}

/// What Gitea does that its swagger does not say (`../shared/specs/README.md`): 201 where the
/// swagger says 200 on tag creation, and `null` for an unset pointer field, which Swagger 2 cannot
/// declare.
fn is_known_gitea_deviation(request: &str, violation: &str) -> bool {
    if request == "post /api/v1/repos/owner/app/tags"
        && violation.contains("Unable to match the returned status code")
    {
        return true;
    }
    const NULLS: &[&str] = &[
        "assignee",
        "closed_at",
        "due_date",
        "milestone",
        "pull_request",
    ];
    if let Some((_, rest)) = violation.split_once("Response body property ")
        && let Some((path, kind)) = rest.split_once(" must be ")
    {
        let field = path.rsplit('.').next().unwrap_or(path);
        return NULLS.contains(&field) && (kind == "object" || kind == "string");
    }
    false
}
