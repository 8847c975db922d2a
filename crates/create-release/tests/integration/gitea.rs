//! create-release on Gitea (the forge emulator's Gitea flavour), with each kind of fault at each
//! write: the run either rides it out or fails, and a re-run converges on one tag, one published
//! release and each asset once.

use std::time::Duration;

use relkit_create_release::{apply, plan};
use relkit_forge::gitea::Gitea;
use relkit_forge::http::{Client, Policy, Scheme, Token};
use relkit_testkit::emulator::{Emulator, Flavor, Matcher, Permissions};
use relkit_testkit::scenario;

use crate::interrupted::{converges, faults};
use crate::{build, config, exact};

const TOKEN: &str = "gitea-token-5f4dcc3b5aa765d6";

fn gitea(emulator: &Emulator) -> Gitea {
    let policy = Policy {
        attempts: 3,
        backoff: Duration::from_millis(10),
        wait_budget: Duration::from_secs(5),
        read_timeout: Duration::from_secs(5),
        connect_timeout: Duration::from_secs(5),
    };
    let client = Client::new(
        "Gitea (test)",
        &emulator.api_v1_url(),
        Some(Token::new(TOKEN)),
        "GITEA_TOKEN",
        Scheme::Token,
        policy,
    )
    .expect("client");
    Gitea::new(client, "owner", "app")
}

/// Each write of a release with one asset: the tag, the draft, three uploads, publishing.
fn writes() -> Vec<(&'static str, Matcher)> {
    vec![
        ("create the tag", Matcher::new("POST", "/app/tags")),
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
    for (step, matcher) in writes() {
        for fault in faults() {
            let case = format!("{fault:?} at {step}");
            let repo = scenario::product();
            build(&repo, &[("app.tar.gz", "app")]);
            let emulator = Emulator::start(Flavor::Gitea, repo.path());
            emulator.add_token(TOKEN, Permissions::all());
            let forge = gitea(&emulator);
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
    let emulator = Emulator::start(Flavor::Gitea, repo.path());
    emulator.add_token(TOKEN, Permissions::all());
    let forge = gitea(&emulator);
    let cfg = config(&repo, exact("1.1.0"));
    let first = plan(&forge, &cfg).await.expect("plan");
    apply(&forge, &first, &mut |_| {}).await.expect("apply");
    let writes = emulator
        .requests()
        .iter()
        .filter(|r| r.method != "GET")
        .count();
    // The tag, the draft, two assets, the manifest, the sums, publishing.
    assert_eq!(writes, 7, "{:#?}", emulator.requests());
}

#[tokio::test]
async fn the_preflight_stops_a_release_the_forge_would_refuse_before_any_write() {
    let read_only = {
        let repo = scenario::product();
        build(&repo, &[("app.tar.gz", "app")]);
        let emulator = Emulator::start(Flavor::Gitea, repo.path());
        emulator.add_token(TOKEN, Permissions::read_only());
        let err = plan(&gitea(&emulator), &config(&repo, exact("1.1.0")))
            .await
            .expect_err("read-only token");
        assert!(emulator.requests().iter().all(|r| r.method == "GET"));
        err
    };
    assert!(
        matches!(
            read_only,
            relkit_create_release::Error::Release(relkit_release::Error::CannotWrite { .. })
        ),
        "{read_only}"
    );
    assert!(read_only.is_bad_input());
    assert!(read_only.hint().expect("hint").contains("contents: write"));

    let too_large = {
        let repo = scenario::product();
        build(&repo, &[("app.tar.gz", "four")]);
        let emulator = Emulator::builder(Flavor::Gitea, repo.path())
            .attachment_max_size(3)
            .start();
        emulator.add_token(TOKEN, Permissions::all());
        plan(&gitea(&emulator), &config(&repo, exact("1.1.0")))
            .await
            .expect_err("too large")
    };
    assert!(
        too_large
            .to_string()
            .starts_with("asset app.tar.gz is 4 bytes, more than the 3 bytes"),
        "{too_large}"
    );

    let wrong_type = {
        let repo = scenario::product();
        build(&repo, &[("app.tar.gz", "app")]);
        let emulator = Emulator::builder(Flavor::Gitea, repo.path())
            .attachment_allowed_types(&[".zip", "text/plain"])
            .start();
        emulator.add_token(TOKEN, Permissions::all());
        plan(&gitea(&emulator), &config(&repo, exact("1.1.0")))
            .await
            .expect_err("type")
    };
    assert!(
        matches!(wrong_type, relkit_create_release::Error::Release(relkit_release::Error::AttachmentType { ref name, .. }) if name == "app.tar.gz"),
        "{wrong_type}"
    );
}
