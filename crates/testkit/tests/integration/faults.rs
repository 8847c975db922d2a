//! Every fault kind, and the request log.

use std::path::Path;
use std::time::{Duration, Instant};

use reqwest::Method;
use serde_json::json;

use relkit_testkit::emulator::{Emulator, Fault, Flavor, Matcher};

use crate::common::{Api, REPOS, has_tag, repo, serve};

fn start(flavor: Flavor, repo: &Path) -> (Emulator, Api) {
    serve(Emulator::start(flavor, repo), "t")
}

/// Makes the next request to a `/releases` path meet `fault`.
fn once_on_releases(forge: &Emulator, fault: Fault) {
    forge.fault(Matcher::any("/releases"), 1, fault);
}

#[tokio::test]
async fn a_status_fault_fails_the_matching_requests_then_clears() {
    let (repo, _, _) = repo();
    let (forge, api) = start(Flavor::GitHub, repo.path());
    forge.fault(Matcher::new("POST", "/releases"), 2, Fault::Status(502));

    assert_eq!(
        api.get(&format!("{REPOS}/releases")).await.status,
        200,
        "GET does not match"
    );
    for _ in 0..2 {
        let failed = api.create_release(json!({ "tag_name": "v1" })).await;
        assert_eq!(failed.status, 502);
    }
    assert!(
        forge.releases().is_empty(),
        "a failed request has no effect"
    );
    assert_eq!(
        api.create_release(json!({ "tag_name": "v1" })).await.status,
        201
    );
    assert_eq!(forge.pending_faults(), 0);
    let statuses: Vec<Option<u16>> = forge
        .requests()
        .iter()
        .filter(|r| r.method == "POST")
        .map(|r| r.status)
        .collect();
    assert_eq!(statuses, vec![Some(502), Some(502), Some(201)]);
    assert_eq!(forge.count("POST", "/releases"), 3);
}

#[tokio::test]
async fn a_dropped_connection_is_an_error_without_a_response() {
    let (repo, _, _) = repo();
    let (forge, api) = start(Flavor::GitHub, repo.path());
    once_on_releases(&forge, Fault::DropConnection);

    let err = api
        .request(Method::POST, &format!("{REPOS}/releases"), |r| {
            r.json(&json!({ "tag_name": "v1" }))
        })
        .await
        .expect_err("the connection is cut");
    assert!(!err.is_status(), "{err}");
    assert!(forge.releases().is_empty());
    assert_eq!(
        forge.requests().last().expect("a logged request").status,
        None
    );
    assert_eq!(
        api.create_release(json!({ "tag_name": "v1" })).await.status,
        201
    );
}

#[tokio::test]
async fn github_rate_limits_look_like_githubs() {
    let (repo, _, _) = repo();
    let (forge, api) = start(Flavor::GitHub, repo.path());
    once_on_releases(
        &forge,
        Fault::SecondaryRateLimit {
            retry_after_secs: 7,
        },
    );
    once_on_releases(&forge, Fault::PrimaryRateLimit { reset_in_secs: 60 });

    let secondary = api.get(&format!("{REPOS}/releases")).await;
    assert_eq!(secondary.status, 403);
    assert_eq!(secondary.header("retry-after"), Some("7"));
    assert!(secondary.str("message").contains("secondary rate limit"));

    let primary = api.get(&format!("{REPOS}/releases")).await;
    assert_eq!(primary.status, 403);
    assert_eq!(primary.header("x-ratelimit-remaining"), Some("0"));
    let reset: i64 = primary
        .header("x-ratelimit-reset")
        .expect("the header")
        .parse()
        .expect("a number");
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("a clock after 1970")
        .as_secs() as i64;
    assert!(
        (now + 50..=now + 70).contains(&reset),
        "reset {reset} vs now {now}"
    );
    assert!(primary.str("message").contains("API rate limit exceeded"));

    let fine = api.get(&format!("{REPOS}/releases")).await;
    assert_eq!(fine.status, 200);
    assert_ne!(fine.header("x-ratelimit-remaining"), Some("0"));
}

#[tokio::test]
async fn gitea_rate_limits_are_429_with_retry_after() {
    let (repo, _, _) = repo();
    let (forge, api) = start(Flavor::Gitea, repo.path());
    once_on_releases(
        &forge,
        Fault::SecondaryRateLimit {
            retry_after_secs: 3,
        },
    );
    let limited = api.get(&format!("{REPOS}/releases")).await;
    assert_eq!(limited.status, 429);
    assert_eq!(limited.header("retry-after"), Some("3"));
}

#[tokio::test]
async fn a_delay_holds_the_answer_back() {
    let (repo, _, _) = repo();
    let (forge, api) = start(Flavor::GitHub, repo.path());
    once_on_releases(&forge, Fault::Delay(Duration::from_millis(400)));
    let started = Instant::now();
    assert_eq!(api.get(&format!("{REPOS}/releases")).await.status, 200);
    assert!(started.elapsed() >= Duration::from_millis(400));

    // With a client timeout shorter than the delay, the client gives up.
    once_on_releases(&forge, Fault::Delay(Duration::from_millis(800)));
    let err = api
        .request(Method::GET, &format!("{REPOS}/releases"), |r| {
            r.timeout(Duration::from_millis(100))
        })
        .await
        .expect_err("timed out");
    assert!(err.is_timeout(), "{err}");
}

#[tokio::test]
async fn after_commit_applies_the_change_and_then_fails_the_answer() {
    let (repo, _, _) = repo();
    let (forge, api) = start(Flavor::GitHub, repo.path());
    forge.fault(
        Matcher::new("POST", "/releases"),
        1,
        Fault::AfterCommit(Box::new(Fault::Status(502))),
    );
    let failed = api.create_release(json!({ "tag_name": "v1.0.0" })).await;
    assert_eq!(failed.status, 502);
    assert_eq!(
        forge.releases().len(),
        1,
        "the release exists although the client saw 502"
    );
    assert!(has_tag(&repo, "v1.0.0"));
    // A naive retry now meets the release the first try made.
    let retry = api.create_release(json!({ "tag_name": "v1.0.0" })).await;
    assert_eq!(retry.status, 422);

    forge.fault(
        Matcher::new("POST", "/releases"),
        1,
        Fault::AfterCommit(Box::new(Fault::DropConnection)),
    );
    let cut = api
        .request(Method::POST, &format!("{REPOS}/releases"), |r| {
            r.json(&json!({ "tag_name": "v2.0.0" }))
        })
        .await;
    assert!(cut.is_err(), "no answer");
    assert_eq!(forge.releases().len(), 2);
    assert_eq!(
        api.get(&format!("{REPOS}/releases/tags/v2.0.0"))
            .await
            .status,
        200
    );
}

#[tokio::test]
async fn after_commit_on_a_gitea_upload_stores_the_attachment() {
    let (repo, _, _) = repo();
    let (forge, api) = start(Flavor::Gitea, repo.path());
    let release = api.create_release(json!({ "tag_name": "v1.0.0" })).await;
    let id = release.u64("id");
    forge.fault(
        Matcher::new("POST", "/assets"),
        1,
        Fault::AfterCommit(Box::new(Fault::Status(504))),
    );
    let failed = api
        .upload(
            &format!("{REPOS}/releases/{id}/assets?name=app.tar.gz"),
            "application/octet-stream",
            b"abc",
        )
        .await;
    assert_eq!(failed.status, 504);
    assert_eq!(forge.assets(id).len(), 1);
}

#[test]
fn the_emulator_serves_synchronous_callers_and_stops_when_dropped() {
    let (repo, _, _) = repo();
    let forge = Emulator::start(Flavor::GitHub, repo.path());
    let addr = forge.url().trim_start_matches("http://").to_owned();
    let mut stream = std::net::TcpStream::connect(&addr).expect("connect");
    use std::io::{Read, Write};
    stream
        .write_all(
            b"GET /repos/owner/app/releases HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
        )
        .expect("write");
    let mut answer = String::new();
    stream.read_to_string(&mut answer).expect("read");
    assert!(answer.starts_with("HTTP/1.1 401"), "{answer}");
    drop(forge);
    assert!(
        std::net::TcpStream::connect(&addr).is_err(),
        "stopped on drop"
    );
}
