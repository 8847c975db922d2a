//! The Gitea backend against the forge emulator's Gitea flavour: the calls, Gitea's
//! differences, and what the shared HTTP client does with faults, rate limits and bad tokens.

use std::time::Duration;

use crate::{file, policy, release};
use relkit_forge::gitea::Gitea;
use relkit_forge::http::{Client, Scheme, Token};
use relkit_forge::{Error, Forge, NewTag, ReleasePatch};
use relkit_testkit::emulator::{Emulator, Fault, Flavor, Matcher, Permissions};
use relkit_testkit::{GitRepo, scenario};

pub const TOKEN: &str = "gitea-token-d41d8cd98f00b204";

pub fn gitea(emulator: &Emulator, token: &str) -> Gitea {
    let client = Client::new(
        "Gitea (test)",
        &emulator.api_v1_url(),
        Some(Token::new(token)),
        "GITEA_TOKEN",
        Scheme::Token,
        policy(),
    )
    .expect("client");
    Gitea::new(client, "owner", "app")
}

pub fn start(repo: &GitRepo) -> (Emulator, Gitea) {
    let emulator = Emulator::start(Flavor::Gitea, repo.path());
    emulator.add_token(TOKEN, Permissions::all());
    let forge = gitea(&emulator, TOKEN);
    (emulator, forge)
}

#[tokio::test]
async fn tags_commits_and_comparisons_come_from_the_repository() {
    let repo = scenario::product();
    let (_emulator, forge) = start(&repo);
    assert_eq!(
        forge.resolve("main").await.expect("resolve"),
        Some(repo.head())
    );
    assert_eq!(
        forge.resolve("no-such-branch").await.expect("resolve"),
        None
    );
    let v1 = forge.tag("v1.0.0").await.expect("read").expect("tag");
    assert_eq!(
        Some(v1.commit.clone()),
        forge.resolve("v1.0.0").await.expect("resolve")
    );
    // Gitea's ref lookup would also match v1.0.0-rc.1 by prefix; the tag lookup does not.
    assert_eq!(forge.tag("v1.0").await.expect("read"), None);
    assert_eq!(forge.ahead_by("v1.0.0", "main").await.expect("compare"), 3);

    let tag = NewTag {
        name: "edge/v1.1.0".to_owned(),
        commit: repo.head(),
        message: Some("Release edge/v1.1.0".to_owned()),
    };
    forge.create_tag(&tag).await.expect("create");
    assert_eq!(
        repo.git(&["rev-parse", "edge/v1.1.0^{commit}"]),
        repo.head()
    );
    let err = forge.create_tag(&tag).await.expect_err("exists");
    assert!(matches!(err, Error::AlreadyExists { .. }), "{err:?}");
}

#[tokio::test]
async fn a_draft_gets_assets_and_is_found_by_tag_only_once_published() {
    let repo = scenario::product();
    let (_emulator, forge) = start(&repo);
    let draft = forge
        .create_release(&release("v1.1.0"))
        .await
        .expect("create");
    assert!(draft.draft);
    assert_eq!(forge.release_by_tag("v1.1.0").await.expect("read"), None);
    let asset = forge
        .upload_asset(&draft, &file(&repo, "app.tar.gz", "bytes"))
        .await
        .expect("upload");
    assert_eq!(asset.size, 5);
    assert_eq!(
        forge.download_asset(&asset).await.expect("download"),
        b"bytes"
    );

    let patch = ReleasePatch {
        draft: Some(false),
        ..ReleasePatch::default()
    };
    forge.update_release(&draft, &patch).await.expect("publish");
    let published = forge
        .release_by_tag("v1.1.0")
        .await
        .expect("read")
        .expect("found");
    assert_eq!(published.assets.len(), 1);
    forge
        .delete_asset(&published.assets[0])
        .await
        .expect("delete");
    let after = forge
        .release_by_tag("v1.1.0")
        .await
        .expect("read")
        .expect("found");
    assert!(after.assets.is_empty());

    let err = forge
        .create_release(&release("v1.1.0"))
        .await
        .expect_err("exists");
    assert!(matches!(err, Error::AlreadyExists { .. }), "{err:?}");
}

#[tokio::test]
async fn listings_are_read_page_by_page() {
    let repo = scenario::product();
    let (emulator, forge) = start(&repo);
    for n in 0..53 {
        forge
            .create_release(&release(&format!("v2.0.{n}")))
            .await
            .expect("create");
    }
    assert_eq!(forge.releases().await.expect("list").len(), 53);
    assert_eq!(emulator.count("GET", "/releases?"), 2, "two pages of 50");
}

#[tokio::test]
async fn labels_issues_and_comments() {
    let repo = scenario::product();
    let (emulator, forge) = start(&repo);
    crate::issues::labels_issues_and_comments(&emulator, &forge).await;
}

#[tokio::test]
async fn labels_and_issues_whose_answer_was_lost_are_read_back() {
    let repo = scenario::product();
    let (emulator, forge) = start(&repo);
    crate::issues::lost_answers_are_read_back(&emulator, &forge).await;
}

#[tokio::test]
async fn reads_are_retried_through_gateway_errors_and_dropped_connections() {
    let repo = scenario::product();
    let (emulator, forge) = start(&repo);
    emulator.fault(Matcher::new("GET", "/tags/v1.0.0"), 2, Fault::Status(502));
    emulator.fault(Matcher::new("GET", "/compare/"), 1, Fault::DropConnection);
    assert!(forge.tag("v1.0.0").await.expect("read").is_some());
    assert_eq!(forge.ahead_by("v1.0.0", "main").await.expect("compare"), 3);
    assert_eq!(emulator.pending_faults(), 0);
}

#[tokio::test]
async fn a_forge_that_keeps_failing_is_reported_after_the_attempts() {
    let repo = scenario::product();
    let (emulator, forge) = start(&repo);
    emulator.fault(Matcher::new("GET", "/tags/v1.0.0"), 10, Fault::Status(503));
    let err = forge.tag("v1.0.0").await.expect_err("gives up");
    assert!(matches!(err, Error::Http { status: 503, .. }), "{err:?}");
    assert_eq!(
        emulator.count("GET", "/tags/v1.0.0"),
        4,
        "policy: 4 attempts"
    );
}

#[tokio::test]
async fn a_create_whose_answer_was_lost_is_read_back_not_repeated() {
    let repo = scenario::product();
    let (emulator, forge) = start(&repo);
    emulator.fault(
        Matcher::new("POST", "/releases"),
        1,
        Fault::AfterCommit(Box::new(Fault::Status(502))),
    );
    let created = forge
        .create_release(&release("v1.1.0"))
        .await
        .expect("create");
    assert_eq!(created.tag, "v1.1.0");
    assert_eq!(emulator.releases().len(), 1, "one release, not two");
    assert_eq!(emulator.count("POST", "/releases"), 1);

    emulator.fault(
        Matcher::new("POST", "/assets"),
        1,
        Fault::AfterCommit(Box::new(Fault::DropConnection)),
    );
    forge
        .upload_asset(&created, &file(&repo, "app.tar.gz", "bytes"))
        .await
        .expect("upload");
    let id: u64 = created.id.parse().expect("numeric id");
    assert_eq!(emulator.assets(id).len(), 1, "one attachment, not two");
}

#[tokio::test]
async fn a_create_that_never_arrived_is_sent_again() {
    let repo = scenario::product();
    let (emulator, forge) = start(&repo);
    emulator.fault(Matcher::new("POST", "/releases"), 1, Fault::Status(502));
    forge
        .create_release(&release("v1.1.0"))
        .await
        .expect("create");
    assert_eq!(emulator.releases().len(), 1);
    assert_eq!(emulator.count("POST", "/releases"), 2);
}

#[tokio::test]
async fn a_rate_limit_is_waited_out_within_the_budget() {
    let repo = scenario::product();
    let (emulator, forge) = start(&repo);
    emulator.fault(
        Matcher::new("POST", "/releases"),
        1,
        Fault::SecondaryRateLimit {
            retry_after_secs: 1,
        },
    );
    let started = std::time::Instant::now();
    forge
        .create_release(&release("v1.1.0"))
        .await
        .expect("create");
    assert!(
        started.elapsed() >= Duration::from_secs(1),
        "waited as told"
    );
    assert_eq!(emulator.releases().len(), 1);

    emulator.fault(
        Matcher::new("GET", "/tags/"),
        1,
        Fault::SecondaryRateLimit {
            retry_after_secs: 30,
        },
    );
    let err = forge.tag("v1.0.0").await.expect_err("over budget");
    assert!(
        matches!(err, Error::RateLimited { needed: 30, .. }),
        "{err:?}"
    );
    assert!(err.to_string().contains("secondary rate limit"), "{err}");
}

#[tokio::test]
async fn a_bad_token_and_a_missing_permission_say_what_to_fix_and_never_show_the_token() {
    let repo = scenario::product();
    let (emulator, _) = start(&repo);
    let wrong = gitea(&emulator, "not-a-token-1234");
    let err = wrong.tag("v1.0.0").await.expect_err("401");
    assert!(
        matches!(err, Error::Unauthorized { ref variable, .. } if variable == "GITEA_TOKEN"),
        "{err:?}"
    );
    let shown = format!("{err} {err:?} {}", err.hint().unwrap_or_default());
    assert!(!shown.contains("not-a-token-1234"), "{shown}");

    emulator.add_token("read-only-token", Permissions::read_only());
    let reader = gitea(&emulator, "read-only-token");
    let err = reader
        .create_release(&release("v1.1.0"))
        .await
        .expect_err("403");
    assert!(matches!(err, Error::Forbidden { .. }), "{err:?}");
    assert!(err.hint().expect("a hint").contains("contents: write"));
    assert!(!format!("{err} {err:?}").contains("read-only-token"));
}
