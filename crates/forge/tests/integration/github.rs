//! The GitHub backend against the forge emulator's GitHub flavour, in the github.com layout (API
//! at the root, uploads at `/uploads`) and the GitHub Enterprise Server layout (`/api/v3`,
//! uploads at `/api/uploads`): the calls, GitHub's ways, and what the shared HTTP client does with
//! faults, rate limits, bad tokens and redirects.

use std::io::{Read, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use crate::{file, policy, release};
use relkit_forge::github::{self, GitHub};
use relkit_forge::http::Token;
use relkit_forge::{
    Asset, AssetUpload, CheckState, Error, Forge, MakeLatest, NewIssue, NewRelease, NewTag,
    ReleasePatch, Sha256,
};
use relkit_testkit::emulator::{Access, Emulator, Fault, Flavor, Matcher, Permissions};
use relkit_testkit::{GitRepo, scenario};

pub const TOKEN: &str = "ghs_testtoken0123456789abcdefABCDEF";

/// Where the API is: github.com's layout or a GitHub Enterprise Server's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Layout {
    DotCom,
    Ghes,
}

impl Layout {
    pub const ALL: [Self; 2] = [Self::DotCom, Self::Ghes];

    pub fn api(self, emulator: &Emulator) -> String {
        match self {
            Self::DotCom => emulator.url().to_owned(),
            Self::Ghes => emulator.ghes_url(),
        }
    }

    /// The path prefix of the upload host.
    fn uploads(self) -> &'static str {
        match self {
            Self::DotCom => "/uploads/repos/owner/app/releases/",
            Self::Ghes => "/api/uploads/repos/owner/app/releases/",
        }
    }
}

pub fn github_at(api: &str, token: &str) -> GitHub {
    let client = github::client(
        "GitHub (test)",
        api,
        Some(Token::new(token)),
        "GITHUB_TOKEN",
        policy(),
    )
    .expect("client");
    GitHub::new(client, "owner", "app")
}

pub fn start(repo: &GitRepo, layout: Layout) -> (Emulator, GitHub) {
    let emulator = Emulator::start(Flavor::GitHub, repo.path());
    emulator.add_token(TOKEN, Permissions::all());
    let forge = github_at(&layout.api(&emulator), TOKEN);
    (emulator, forge)
}

fn publish() -> ReleasePatch {
    ReleasePatch {
        draft: Some(false),
        make_latest: Some(MakeLatest::True),
        ..ReleasePatch::default()
    }
}

#[tokio::test]
async fn tags_commits_and_comparisons_come_from_the_repository() {
    for layout in Layout::ALL {
        let repo = scenario::product();
        let (_emulator, forge) = start(&repo, layout);
        assert_eq!(
            forge.resolve("main").await.expect("resolve"),
            Some(repo.head())
        );
        assert_eq!(
            forge.resolve("no-such-branch").await.expect("resolve"),
            None
        );
        // v1.0.0 is annotated: its ref names a tag object, peeled to the commit.
        let v1 = forge.tag("v1.0.0").await.expect("read").expect("tag");
        assert_eq!(v1.commit, repo.git(&["rev-parse", "v1.0.0^{commit}"]));
        let pre = forge.tag("v1.0.0-rc.1").await.expect("read").expect("tag");
        assert_eq!(pre.commit, repo.git(&["rev-parse", "v1.0.0-rc.1"]));
        // The ref lookup is exact: no v1.0.0 for v1.0.
        assert_eq!(forge.tag("v1.0").await.expect("read"), None, "{layout:?}");
        assert_eq!(forge.ahead_by("v1.0.0", "main").await.expect("compare"), 3);

        let annotated = NewTag {
            name: "edge/v1.1.0-pre.1+abc1234".to_owned(),
            commit: repo.head(),
            message: Some("Release edge/v1.1.0-pre.1".to_owned()),
        };
        let made = forge.create_tag(&annotated).await.expect("create");
        assert_eq!(made.commit, repo.head());
        assert_eq!(
            repo.git(&["cat-file", "-t", "edge/v1.1.0-pre.1+abc1234"]),
            "tag"
        );
        assert_eq!(
            forge
                .tag("edge/v1.1.0-pre.1+abc1234")
                .await
                .expect("read")
                .map(|t| t.commit),
            Some(repo.head())
        );
        let err = forge.create_tag(&annotated).await.expect_err("exists");
        assert!(matches!(err, Error::AlreadyExists { .. }), "{err:?}");

        // A lightweight tag, at a commit given by name.
        let light = NewTag {
            name: "v1.1.0".to_owned(),
            commit: "main".to_owned(),
            message: None,
        };
        forge.create_tag(&light).await.expect("create");
        assert_eq!(repo.git(&["cat-file", "-t", "v1.1.0"]), "commit");
    }
}

#[tokio::test]
async fn a_draft_gets_assets_and_is_found_by_tag_only_once_published() {
    for layout in Layout::ALL {
        let repo = scenario::product();
        let (emulator, forge) = start(&repo, layout);
        let draft = forge
            .create_release(&release("v1.1.0"))
            .await
            .expect("create");
        assert!(draft.draft);
        assert_eq!(forge.release_by_tag("v1.1.0").await.expect("read"), None);
        let asset = forge
            .upload_asset(&draft, &file(&repo, "app 1+2.tar.gz", "bytes"))
            .await
            .expect("upload");
        // The name travels encoded (a raw `+` would arrive as a space), and GitHub stores the
        // space as a dot, as the emulator does.
        assert_eq!(asset.name, "app.1+2.tar.gz", "the name travels encoded");
        assert_eq!(asset.size, 5);
        assert_eq!(asset.digest, Some(Sha256::of(b"bytes")), "GitHub's digest");
        let uploads: Vec<_> = emulator
            .requests()
            .into_iter()
            .filter(|r| r.method == "POST" && r.target.contains("/assets"))
            .collect();
        assert_eq!(uploads.len(), 1);
        assert!(
            uploads[0].target.starts_with(layout.uploads()),
            "{layout:?}: {uploads:?}"
        );
        assert_eq!(
            forge.download_asset(&asset).await.expect("download"),
            b"bytes"
        );
        let err = forge
            .upload_asset(&draft, &file(&repo, "app 1+2.tar.gz", "other"))
            .await
            .expect_err("one name once");
        assert!(matches!(err, Error::AlreadyExists { .. }), "{err:?}");

        let published = forge
            .update_release(&draft, &publish())
            .await
            .expect("publish");
        assert!(!published.draft);
        assert!(!published.immutable);
        let found = forge
            .release_by_tag("v1.1.0")
            .await
            .expect("read")
            .expect("found");
        assert_eq!(found.id, draft.id);
        assert_eq!(found.assets.len(), 1);
        assert_eq!(
            forge.tag("v1.1.0").await.expect("read").map(|t| t.commit),
            Some(repo.head()),
            "publishing made the tag"
        );
        forge.delete_asset(&found.assets[0]).await.expect("delete");
        let after = forge
            .release_by_tag("v1.1.0")
            .await
            .expect("read")
            .expect("found");
        assert!(after.assets.is_empty());

        let err = forge
            .create_release(&NewRelease {
                draft: false,
                ..release("v1.1.0")
            })
            .await
            .expect_err("exists");
        assert!(matches!(err, Error::AlreadyExists { .. }), "{err:?}");
        // GitHub keeps several drafts of one tag, as long as none is published.
        for _ in 0..2 {
            forge
                .create_release(&release("v1.2.0"))
                .await
                .expect("a draft");
        }
        let all = forge.releases().await.expect("list");
        assert_eq!(all.iter().filter(|r| r.tag == "v1.2.0").count(), 2);
    }
}

#[tokio::test]
async fn an_immutable_release_says_so_and_takes_no_more_assets() {
    let repo = scenario::product();
    let emulator = Emulator::builder(Flavor::GitHub, repo.path())
        .immutable_releases(true)
        .start();
    emulator.add_token(TOKEN, Permissions::all());
    let forge = github_at(emulator.url(), TOKEN);
    let draft = forge
        .create_release(&release("v1.1.0"))
        .await
        .expect("create");
    assert!(!draft.immutable, "a draft can still change");
    let published = forge
        .update_release(&draft, &publish())
        .await
        .expect("publish");
    assert!(published.immutable);
    let err = forge
        .upload_asset(&published, &file(&repo, "late.tar.gz", "late"))
        .await
        .expect_err("immutable");
    assert!(matches!(err, Error::Immutable { .. }), "{err:?}");
}

#[tokio::test]
async fn listings_follow_the_link_header_page_by_page() {
    let repo = scenario::product();
    let (emulator, forge) = start(&repo, Layout::Ghes);
    for n in 0..103 {
        forge
            .create_release(&release(&format!("v2.0.{n}")))
            .await
            .expect("create");
    }
    let all = forge.releases().await.expect("list");
    assert_eq!(all.len(), 103);
    assert_eq!(all[0].tag, "v2.0.102", "newest first");
    let pages: Vec<String> = emulator
        .requests()
        .into_iter()
        .filter(|r| r.method == "GET" && r.target.contains("/releases?"))
        .map(|r| r.target)
        .collect();
    assert_eq!(pages.len(), 2, "two pages of 100: {pages:?}");
    assert!(pages[0].starts_with("/api/v3/"), "{pages:?}");
    assert!(pages[1].contains("page=2"), "{pages:?}");
}

#[tokio::test]
async fn issues_labels_and_checks() {
    let repo = scenario::product();
    let (emulator, forge) = start(&repo, Layout::DotCom);
    crate::issues::labels_issues_and_comments(&emulator, &forge).await;

    let head = repo.head();
    emulator.add_status(&head, "success", "ci/build");
    emulator.add_status(&head, "pending", "ci/deploy");
    emulator.add_check_run(&head, "test", Some("success"));
    emulator.add_check_run(&head, "lint", Some("skipped"));
    emulator.add_check_run(&head, "audit", Some("failure"));
    emulator.add_check_run(&head, "e2e", None);
    let checks = forge.checks(&head).await.expect("checks").checks;
    assert_eq!(
        checks,
        [
            ("ci/build".to_owned(), CheckState::Success),
            ("ci/deploy".to_owned(), CheckState::Pending),
            ("test".to_owned(), CheckState::Success),
            ("lint".to_owned(), CheckState::Success),
            ("audit".to_owned(), CheckState::Failure),
            ("e2e".to_owned(), CheckState::Pending),
        ]
    );
}

#[tokio::test]
async fn labels_and_issues_whose_answer_was_lost_are_read_back() {
    for layout in Layout::ALL {
        let repo = scenario::product();
        let (emulator, forge) = start(&repo, layout);
        crate::issues::lost_answers_are_read_back(&emulator, &forge).await;
    }
}

#[tokio::test]
async fn reads_are_retried_through_gateway_errors_and_dropped_connections() {
    let repo = scenario::product();
    let (emulator, forge) = start(&repo, Layout::DotCom);
    emulator.fault(Matcher::new("GET", "/git/ref/tags"), 2, Fault::Status(502));
    emulator.fault(Matcher::new("GET", "/compare/"), 1, Fault::DropConnection);
    assert!(forge.tag("v1.0.0").await.expect("read").is_some());
    assert_eq!(forge.ahead_by("v1.0.0", "main").await.expect("compare"), 3);
    assert_eq!(emulator.pending_faults(), 0);
}

#[tokio::test]
async fn a_forge_that_keeps_failing_is_reported_after_the_attempts() {
    let repo = scenario::product();
    let (emulator, forge) = start(&repo, Layout::DotCom);
    emulator.fault(Matcher::new("GET", "/git/ref/"), 10, Fault::Status(503));
    let err = forge.tag("v1.0.0").await.expect_err("gives up");
    assert!(matches!(err, Error::Http { status: 503, .. }), "{err:?}");
    assert_eq!(emulator.count("GET", "/git/ref/"), 4, "policy: 4 attempts");
}

#[tokio::test]
async fn a_create_whose_answer_was_lost_is_read_back_not_repeated() {
    for layout in Layout::ALL {
        let repo = scenario::product();
        let (emulator, forge) = start(&repo, layout);
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
            Matcher::new("POST", "name=app.tar.gz"),
            1,
            Fault::AfterCommit(Box::new(Fault::DropConnection)),
        );
        let asset = forge
            .upload_asset(&created, &file(&repo, "app.tar.gz", "bytes"))
            .await
            .expect("upload");
        assert_eq!(asset.size, 5);
        let id: u64 = created.id.parse().expect("numeric id");
        assert_eq!(emulator.assets(id).len(), 1, "one asset, not two");
        assert_eq!(emulator.count("POST", "name=app.tar.gz"), 1);

        emulator.fault(
            Matcher::new("POST", "/git/refs"),
            1,
            Fault::AfterCommit(Box::new(Fault::Status(504))),
        );
        let tag = NewTag {
            name: "v1.1.0".to_owned(),
            commit: repo.head(),
            message: Some("Release 1.1.0".to_owned()),
        };
        let made = forge.create_tag(&tag).await.expect("tag");
        assert_eq!(made.commit, repo.head());
        assert_eq!(emulator.count("POST", "/git/refs"), 1, "{layout:?}");
    }
}

#[tokio::test]
async fn a_create_that_never_arrived_is_sent_again() {
    let repo = scenario::product();
    let (emulator, forge) = start(&repo, Layout::DotCom);
    emulator.fault(Matcher::new("POST", "/releases"), 1, Fault::Status(502));
    let created = forge
        .create_release(&release("v1.1.0"))
        .await
        .expect("create");
    assert_eq!(emulator.releases().len(), 1);
    assert_eq!(emulator.count("POST", "/releases"), 2);

    emulator.fault(Matcher::new("POST", "/assets"), 1, Fault::DropConnection);
    forge
        .upload_asset(&created, &file(&repo, "app.tar.gz", "bytes"))
        .await
        .expect("upload");
    let id: u64 = created.id.parse().expect("numeric id");
    assert_eq!(emulator.assets(id).len(), 1);
    assert_eq!(
        emulator.assets(id)[0].bytes,
        b"bytes",
        "streamed again whole"
    );
}

#[tokio::test]
async fn rate_limits_are_waited_out_within_the_budget_and_named_beyond_it() {
    let repo = scenario::product();
    let (emulator, forge) = start(&repo, Layout::DotCom);
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
        Matcher::new("GET", "/git/ref/"),
        1,
        Fault::PrimaryRateLimit { reset_in_secs: 1 },
    );
    assert!(forge.tag("v1.0.0").await.expect("read").is_some());

    emulator.fault(
        Matcher::new("GET", "/git/ref/"),
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

    emulator.fault(
        Matcher::new("GET", "/releases"),
        1,
        Fault::PrimaryRateLimit {
            reset_in_secs: 3600,
        },
    );
    let err = forge.releases().await.expect_err("over budget");
    assert!(matches!(err, Error::RateLimited { .. }), "{err:?}");
    assert!(err.to_string().contains("primary rate limit"), "{err}");
}

#[tokio::test]
async fn a_bad_token_and_a_missing_permission_say_what_to_fix_and_never_show_the_token() {
    let repo = scenario::product();
    let (emulator, _) = start(&repo, Layout::Ghes);
    let wrong = github_at(&emulator.ghes_url(), "ghp_notatoken1234");
    let err = wrong.tag("v1.0.0").await.expect_err("401");
    assert!(
        matches!(err, Error::Unauthorized { ref variable, .. } if variable == "GITHUB_TOKEN"),
        "{err:?}"
    );
    let shown = format!("{err} {err:?} {} {wrong:?}", err.hint().unwrap_or_default());
    assert!(!shown.contains("ghp_notatoken1234"), "{shown}");

    emulator.add_token("ghs_readonly5678", Permissions::read_only());
    let reader = github_at(&emulator.ghes_url(), "ghs_readonly5678");
    let err = reader
        .create_release(&release("v1.1.0"))
        .await
        .expect_err("403");
    assert!(matches!(err, Error::Forbidden { .. }), "{err:?}");
    assert!(err.hint().expect("a hint").contains("contents: write"));
    assert!(!format!("{err} {err:?} {reader:?}").contains("ghs_readonly5678"));

    let err = reader
        .create_issue(&NewIssue {
            title: "t".to_owned(),
            ..NewIssue::default()
        })
        .await
        .expect_err("403");
    assert!(
        err.hint().expect("a hint").contains("issues: write"),
        "{err:?}"
    );

    emulator.add_token(
        "ghs_nochecks",
        Permissions {
            checks: Access::None,
            ..Permissions::read_only()
        },
    );
    let blind = github_at(&emulator.ghes_url(), "ghs_nochecks");
    let err = blind.checks(&repo.head()).await.expect_err("403");
    assert!(
        err.hint().expect("a hint").contains("checks: read"),
        "{err:?}"
    );
}

#[tokio::test]
async fn a_tag_on_a_commit_that_changes_workflows_needs_the_workflows_permission() {
    let repo = scenario::product();
    repo.commit_file(
        ".github/workflows/ci.yml",
        "on: push\n",
        "ci: add a workflow",
    );
    let emulator = Emulator::start(Flavor::GitHub, repo.path());
    emulator.add_token(
        "ghs_actions",
        Permissions {
            workflows: false,
            ..Permissions::all()
        },
    );
    let forge = github_at(emulator.url(), "ghs_actions");
    let tag = NewTag {
        name: "v1.1.0".to_owned(),
        commit: repo.head(),
        message: Some("Release 1.1.0".to_owned()),
    };
    let err = forge.create_tag(&tag).await.expect_err("refused");
    assert!(matches!(err, Error::Forbidden { .. }), "{err:?}");
    let hint = err.hint().expect("a hint");
    assert!(hint.contains("`workflows` permission"), "{hint}");
    assert!(hint.contains(".github/workflows/"), "{hint}");

    emulator.add_token(TOKEN, Permissions::all());
    let app = github_at(emulator.url(), TOKEN);
    app.create_tag(&tag).await.expect("a token with workflows");
}

/// The upload host is another origin (uploads.github.com): the token goes there because the API
/// named it in `upload_url`, and the upload only works with it.
#[tokio::test]
async fn the_token_goes_to_the_upload_origin_the_api_named() {
    let repo = scenario::product();
    let emulator = Emulator::start(Flavor::GitHub, repo.path());
    emulator.add_token(TOKEN, Permissions::all());
    // The API as `localhost`; the emulator names its upload host `127.0.0.1`.
    let api = emulator.url().replace("127.0.0.1", "localhost");
    let forge = github_at(&api, TOKEN);
    let draft = forge
        .create_release(&release("v1.1.0"))
        .await
        .expect("create");
    let asset = forge
        .upload_asset(&draft, &file(&repo, "app.tar.gz", "bytes"))
        .await
        .expect("upload with the token");
    assert_eq!(asset.size, 5);
}

/// A plain HTTP/1.1 server on loopback that records each request's head, reads its body, and
/// answers with `respond(head)`: for what the emulator cannot show, the headers as sent.
struct Recorder {
    url: String,
    heads: Arc<Mutex<Vec<String>>>,
}

impl Recorder {
    fn start(respond: impl Fn(&str) -> String + Send + 'static) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let url = format!("http://{}", listener.local_addr().expect("address"));
        let heads = Arc::new(Mutex::new(Vec::new()));
        let seen = heads.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { continue };
                let mut head = Vec::new();
                let mut byte = [0u8; 1];
                while !head.ends_with(b"\r\n\r\n") && stream.read(&mut byte).unwrap_or(0) == 1 {
                    head.push(byte[0]);
                }
                let head = String::from_utf8_lossy(&head).into_owned();
                let length = head
                    .lines()
                    .find_map(|l| {
                        let (name, value) = l.split_once(':')?;
                        name.eq_ignore_ascii_case("content-length")
                            .then(|| value.trim().parse::<usize>().ok())?
                    })
                    .unwrap_or(0);
                let mut body = vec![0; length];
                let _ = stream.read_exact(&mut body);
                let answer = respond(&head);
                seen.lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .push(head);
                let _ = stream.write_all(answer.as_bytes());
            }
        });
        Self { url, heads }
    }

    fn heads(&self) -> Vec<String> {
        self.heads
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }
}

/// GitHub redirects an asset download to signed storage on another host: that host must never
/// see the token, while the API must.
#[tokio::test]
async fn the_download_redirect_to_storage_never_carries_the_token() {
    let storage = Recorder::start(|_| {
        "HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nContent-Length: 5\r\nConnection: close\r\n\r\nbytes"
            .to_owned()
    });
    let location = format!(
        "{}/github-production-release-asset/7?X-Amz-Signature=abc",
        storage.url
    );
    let api = Recorder::start(move |_| {
        format!(
            "HTTP/1.1 302 Found\r\nLocation: {location}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
        )
    });
    let forge = github_at(&api.url, TOKEN);
    let asset = Asset {
        id: "7".to_owned(),
        name: "app.tar.gz".to_owned(),
        size: 5,
        digest: None,
        url: format!("{}/owner/app/releases/download/v1.0.0/app.tar.gz", api.url),
    };
    assert_eq!(
        forge.download_asset(&asset).await.expect("download"),
        b"bytes"
    );

    let asked = api.heads();
    assert_eq!(asked.len(), 1, "{asked:?}");
    let lower = asked[0].to_ascii_lowercase();
    assert!(
        asked[0].starts_with("GET /repos/owner/app/releases/assets/7 "),
        "{asked:?}"
    );
    assert!(
        lower.contains("accept: application/octet-stream"),
        "{asked:?}"
    );
    assert!(
        lower.contains("x-github-api-version: 2022-11-28"),
        "{asked:?}"
    );
    assert!(
        asked[0].contains(&format!("Bearer {TOKEN}")),
        "the API gets the token"
    );

    let fetched = storage.heads();
    assert_eq!(fetched.len(), 1, "{fetched:?}");
    assert!(!fetched[0].contains(TOKEN), "{fetched:?}");
    assert!(
        !fetched[0].to_ascii_lowercase().contains("authorization"),
        "{fetched:?}"
    );
}

#[tokio::test]
async fn every_api_request_carries_githubs_headers() {
    let api = Recorder::start(|_| {
        "HTTP/1.1 404 Not Found\r\nContent-Type: application/json\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}"
            .to_owned()
    });
    let forge = github_at(&format!("{}/api/v3", api.url), TOKEN);
    assert_eq!(forge.tag("v1.0.0").await.expect("read"), None);
    let heads = api.heads();
    let lower = heads[0].to_ascii_lowercase();
    assert!(
        heads[0].starts_with("GET /api/v3/repos/owner/app/git/ref/tags%2Fv1.0.0 "),
        "{heads:?}"
    );
    assert!(
        lower.contains("accept: application/vnd.github+json"),
        "{heads:?}"
    );
    assert!(
        lower.contains("x-github-api-version: 2022-11-28"),
        "{heads:?}"
    );
}

fn json_answer(status: &str, body: &str) -> String {
    format!(
        "HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
}

/// The upload goes to the host the release's `upload_url` names, streamed with its length and
/// type, the name encoded, and with the token: the API named that host.
#[tokio::test]
async fn an_upload_goes_to_the_named_host_with_its_length_type_and_the_token() {
    let uploads = Recorder::start(|_| {
        json_answer(
            "201 Created",
            r#"{"id":9,"name":"app 1.tar.gz","size":5,"state":"uploaded","digest":null,"browser_download_url":"https://example.invalid/d"}"#,
        )
    });
    let upload_url = format!(
        "{}/repos/owner/app/releases/1/assets{{?name,label}}",
        uploads.url
    );
    let api = Recorder::start(move |_| {
        json_answer(
            "200 OK",
            &format!(
                r#"{{"id":1,"tag_name":"v1.0.0","draft":true,"prerelease":false,"upload_url":"{upload_url}","assets":[]}}"#
            ),
        )
    });
    let forge = github_at(&format!("{}/api/v3", api.url), TOKEN);
    let release = relkit_forge::Release {
        id: "1".to_owned(),
        tag: "v1.0.0".to_owned(),
        target: "main".to_owned(),
        name: String::new(),
        body: String::new(),
        draft: true,
        prerelease: false,
        immutable: false,
        url: String::new(),
        assets: Vec::new(),
    };
    let dir = tempfile::tempdir().expect("a temporary directory");
    let path = dir.path().join("app.tar.gz");
    std::fs::write(&path, "bytes").expect("write");
    let upload = AssetUpload {
        name: "app 1.tar.gz".to_owned(),
        path,
        content_type: "application/gzip".to_owned(),
    };
    let asset = forge.upload_asset(&release, &upload).await.expect("upload");
    assert_eq!(asset.id, "9");

    // The upload address came from the API, asked once.
    let asked = api.heads();
    assert_eq!(asked.len(), 1, "{asked:?}");
    assert!(
        asked[0].starts_with("GET /api/v3/repos/owner/app/releases/1 "),
        "{asked:?}"
    );
    let sent = uploads.heads();
    assert_eq!(sent.len(), 1, "{sent:?}");
    let lower = sent[0].to_ascii_lowercase();
    assert!(
        sent[0].starts_with("POST /repos/owner/app/releases/1/assets?name=app%201.tar.gz "),
        "{sent:?}"
    );
    assert!(lower.contains("content-length: 5\r\n"), "{sent:?}");
    assert!(
        lower.contains("content-type: application/gzip\r\n"),
        "{sent:?}"
    );
    assert!(!lower.contains("transfer-encoding"), "{sent:?}");
    assert!(sent[0].contains(&format!("Bearer {TOKEN}")), "{sent:?}");
}

/// A 403 that says "rate limit" without Retry-After or a spent primary limit is still a rate
/// limit: GitHub asks for a minute's wait, which a small budget does not have.
#[tokio::test]
async fn a_rate_limit_without_headers_is_not_taken_for_a_missing_permission() {
    let api = Recorder::start(|_| {
        json_answer(
            "403 Forbidden",
            r#"{"message":"You have exceeded a secondary rate limit and have been temporarily blocked from content creation.","documentation_url":"https://docs.github.com/rest"}"#,
        )
    });
    let forge = github_at(&api.url, TOKEN);
    let err = forge.tag("v1.0.0").await.expect_err("limited");
    assert!(
        matches!(err, Error::RateLimited { needed: 60, .. }),
        "{err:?}"
    );
    assert_eq!(api.heads().len(), 1, "not sent again beyond the budget");
}
