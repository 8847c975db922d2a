//! What a user sees when things go wrong: wrong credentials, a registry that is down, a missing
//! image, a registry that is busy; and credentials taken from a docker config.

use std::collections::HashMap;
use std::net::TcpListener;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use base64::Engine as _;
use relkit_registry::{Credential, Credentials, Error, Reference, Secret};
use relkit_testkit::registry::{Auth, Format, Front, Misbehaviour, Registry};

use crate::common::{PASSWORD, USER, client, client_with, reference, reply, serve};

const WRONG: &str = "Wr0ng-but-still-secret";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_credentials_are_a_401_naming_the_registry_and_no_secret() {
    for auth in [Auth::basic(USER, PASSWORD), Auth::token(USER, PASSWORD)] {
        let registry = Registry::start(auth);
        registry.push_image("app", "1", Format::Oci);
        let client = client_with(Credentials::none().with(
            registry.host(),
            Credential::Basic {
                username: USER.to_owned(),
                password: Secret::new(WRONG),
            },
        ));
        let err = client
            .resolve(&reference(&registry, "app:1"))
            .await
            .expect_err("wrong password");
        let text = err.to_string();
        assert!(matches!(err, Error::Unauthorized { .. }), "{text}");
        assert!(text.contains(registry.host()), "names the registry: {text}");
        assert!(text.contains("401"), "{text}");
        assert!(text.contains(USER), "names the user: {text}");
        for shown in [text, format!("{err:?}"), format!("{client:?}")] {
            assert!(!shown.contains(WRONG), "the secret leaked: {shown}");
            assert!(!shown.contains(PASSWORD), "the secret leaked: {shown}");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn anonymous_access_to_a_private_registry_says_so() {
    for auth in [Auth::basic(USER, PASSWORD), Auth::token(USER, PASSWORD)] {
        let registry = Registry::start(auth);
        registry.push_image("app", "1", Format::Oci);
        let client = client_with(Credentials::none());
        let err = client
            .resolve(&reference(&registry, "app:1"))
            .await
            .expect_err("no credentials");
        assert!(
            err.to_string().contains("refused anonymous access (401)"),
            "{err}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn anonymous_bearer_tokens_pull_where_the_token_server_allows_it() {
    let registry = Registry::start(Auth::token_with_anonymous_pull(USER, PASSWORD));
    let image = registry.push_image("public/app", "1", Format::Oci);
    let client = client_with(Credentials::none());
    let got = client
        .resolve(&reference(&registry, "public/app:1"))
        .await
        .expect("anonymous pull");
    assert_eq!(got.as_str(), image.digest);
    assert_eq!(registry.token_requests(), 1);
    // Pushing is not allowed anonymously.
    let err = client
        .retag(&reference(&registry, "public/app:1"), "2", false)
        .await
        .expect_err("no push");
    assert!(matches!(err, Error::Unauthorized { .. }), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_registry_that_is_down_fails_after_the_retries_and_says_so() {
    let mut registry = Registry::start(Auth::Open);
    let reference = reference(&registry, "app:1");
    registry.stop();
    let client = client_with(Credentials::none());
    let err = client.resolve(&reference).await.expect_err("down");
    match &err {
        Error::Unreachable {
            registry: name,
            attempts,
            ..
        } => {
            assert_eq!(name, registry.host());
            assert_eq!(*attempts, 3);
        }
        other => panic!("{other}"),
    }
    let text = err.to_string();
    assert!(text.contains("could not be reached"), "{text}");
    assert!(text.contains("after 3 attempts"), "{text}");
    assert!(err.help().is_some());
    assert_eq!(client.stats()[registry.host()].retries, 2);

    // Many lookups at once: the first tries three times, the others learn from it.
    let client = client_with(Credentials::none());
    let many: Vec<Reference> = (0..8)
        .map(|i| crate::common::reference(&registry, &format!("app:{i}")))
        .collect();
    for got in client.resolve_all(&many).await {
        assert!(
            matches!(got, Err(Error::Unreachable { attempts: 3, .. })),
            "{got:?}"
        );
    }
    assert_eq!(
        client.stats()[registry.host()].retries,
        2,
        "one request retried"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missing_image_is_a_404_naming_the_reference() {
    for auth in [Auth::Open, Auth::token(USER, PASSWORD)] {
        let registry = Registry::start(auth);
        registry.push_image("app", "1", Format::Oci);
        let client = client(&registry);
        for missing in ["app:2", "nothing/here:1"] {
            let err = client
                .resolve(&reference(&registry, missing))
                .await
                .expect_err("missing");
            assert!(matches!(err, Error::NotFound { .. }), "{err}");
            let want = format!("{}/{missing}", registry.host());
            assert!(err.to_string().starts_with(&want), "{err}");
            assert!(err.to_string().contains("404"), "{err}");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn credentials_come_from_the_docker_config_the_environment_names() {
    for auth in [Auth::basic(USER, PASSWORD), Auth::token(USER, PASSWORD)] {
        let registry = Registry::start(auth);
        let image = registry.push_image("app", "1", Format::Oci);
        let dir = tempfile::tempdir().expect("a temporary directory");
        let encoded =
            base64::engine::general_purpose::STANDARD.encode(format!("{USER}:{PASSWORD}"));
        let config = serde_json::json!({"auths": {registry.host(): {"auth": encoded}}});
        std::fs::write(dir.path().join("config.json"), config.to_string()).expect("write");
        let env = HashMap::from([
            ("DOCKER_CONFIG".to_owned(), dir.path().display().to_string()),
            ("HOME".to_owned(), "/nonexistent".to_owned()),
        ]);
        let client = client_with(Credentials::from_env(&env));
        let got = client
            .resolve(&reference(&registry, "app:1"))
            .await
            .expect("credentials from config.json");
        assert_eq!(got.as_str(), image.digest);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_broken_docker_config_is_reported_with_its_path() {
    let registry = Registry::start(Auth::basic(USER, PASSWORD));
    let dir = tempfile::tempdir().expect("a temporary directory");
    std::fs::write(dir.path().join("config.json"), "{not json").expect("write");
    let env = HashMap::from([("DOCKER_CONFIG".to_owned(), dir.path().display().to_string())]);
    let client = client_with(Credentials::from_env(&env));
    let err = client
        .resolve(&reference(&registry, "app:1"))
        .await
        .expect_err("broken config");
    assert!(matches!(err, Error::Credentials { .. }), "{err}");
    assert!(err.to_string().contains("config.json"), "{err}");
}

/// Answers the first requests with `busy` status lines (and headers), then like a registry
/// holding one manifest.
fn flaky(busy: Vec<&'static str>) -> (String, Arc<AtomicUsize>) {
    let served = Arc::new(AtomicUsize::new(0));
    let count = served.clone();
    let (host, _) = serve(move |n, _| {
        count.fetch_add(1, Ordering::SeqCst);
        match busy.get(n) {
            Some(head) => reply(head, &[], ""),
            None => reply(
                "200 OK",
                &[
                    &format!("Docker-Content-Digest: sha256:{}", "ab".repeat(32)),
                    "Content-Type: application/vnd.oci.image.manifest.v1+json",
                ],
                "",
            ),
        }
    });
    (host, served)
}

const MANIFEST: &str = r#"{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:0000000000000000000000000000000000000000000000000000000000000000","size":2},"layers":[]}"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_docker_content_digest_the_body_is_fetched_and_hashed() {
    let (host, seen) = serve(|_, line| {
        if line.starts_with("HEAD") {
            reply(
                "200 OK",
                &["Content-Type: application/vnd.oci.image.manifest.v1+json"],
                "",
            )
        } else {
            reply(
                "200 OK",
                &["Content-Type: application/vnd.oci.image.manifest.v1+json"],
                MANIFEST,
            )
        }
    });
    let client = client_with(Credentials::none());
    let got = client
        .resolve(&format!("{host}/app:1").parse().expect("valid"))
        .await
        .expect("resolved by GET");
    assert_eq!(got, relkit_registry::Digest::sha256(MANIFEST.as_bytes()));
    let seen = seen.lock().expect("log").clone();
    assert_eq!(
        seen,
        [
            "HEAD /v2/app/manifests/1 HTTP/1.1",
            "GET /v2/app/manifests/1 HTTP/1.1"
        ]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_body_that_does_not_hash_to_its_announced_digest_is_refused() {
    let wrong = format!("sha256:{}", "cd".repeat(32));
    let header = format!("Docker-Content-Digest: {wrong}");
    let (host, _) = serve(move |_, line| {
        if line.starts_with("HEAD") {
            reply("200 OK", &[], "")
        } else {
            reply("200 OK", &[&header], MANIFEST)
        }
    });
    let client = client_with(Credentials::none());
    let err = client
        .resolve(&format!("{host}/app:1").parse().expect("valid"))
        .await
        .expect_err("mismatch");
    assert!(matches!(err, Error::DigestMismatch { .. }), "{err}");
    assert!(err.to_string().contains(&wrong), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_errors_and_429_are_retried_with_backoff_and_retry_after() {
    let (host, served) = flaky(vec![
        "503 Service Unavailable",
        "429 Too Many Requests\r\nRetry-After: 1",
    ]);
    let client = client_with(Credentials::none());
    let started = std::time::Instant::now();
    let got = client
        .resolve(&format!("{host}/app:1").parse().expect("valid"))
        .await
        .expect("third time lucky");
    assert_eq!(got.hex(), "ab".repeat(32));
    assert_eq!(served.load(Ordering::SeqCst), 3);
    assert!(
        started.elapsed() >= std::time::Duration::from_secs(1),
        "Retry-After honoured"
    );
    assert_eq!(client.stats()[host.as_str()].retries, 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_registry_that_keeps_failing_gives_up_after_the_attempts() {
    let (host, served) = flaky(vec!["502 Bad Gateway"; 10]);
    let client = client_with(Credentials::none());
    let err = client
        .resolve(&format!("{host}/app:1").parse().expect("valid"))
        .await
        .expect_err("always 502");
    assert!(
        matches!(
            err,
            Error::Unavailable {
                status: 502,
                attempts: 3,
                ..
            }
        ),
        "{err}"
    );
    assert_eq!(served.load(Ordering::SeqCst), 3);
}

/// A registry whose token server cannot be reached: the first fetch tries as often as the policy
/// says, and the lookups waiting for a token fail with its error instead of trying again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreachable_token_server_is_tried_once_for_all_waiting_lookups() {
    // A port that was free a moment ago: nothing answers there.
    let closed = {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        listener.local_addr().expect("address").to_string()
    };
    let challenge =
        format!("WWW-Authenticate: Bearer realm=\"http://{closed}/token\",service=\"fake\"");
    let (host, seen) = serve(move |_, _| reply("401 Unauthorized", &[&challenge], ""));
    let client = client_with(Credentials::none());
    let many: Vec<Reference> = (0..6)
        .map(|i| format!("{host}/app:{i}").parse().expect("a reference"))
        .collect();
    for got in client.resolve_all(&many).await {
        assert!(
            matches!(got, Err(Error::Unreachable { attempts: 3, .. })),
            "{got:?}"
        );
    }
    let stats = client.stats()[host.as_str()];
    assert_eq!(
        stats.token_requests, 3,
        "one fetch, three attempts: {stats:?}"
    );
    assert_eq!(
        seen.lock().expect("log").len(),
        1,
        "one probe of the registry"
    );
}

/// A loopback registry may be reached over plain HTTP, but the token realm it names is judged by
/// its own host: credentials never go in clear text to a host that is not loopback or listed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_plain_http_token_realm_elsewhere_is_refused_before_any_token_request() {
    // TEST-NET-1 (RFC 5737): nothing answers there, and nothing may be sent there.
    let realm = "http://192.0.2.1:9/token";
    let challenge = format!("WWW-Authenticate: Bearer realm=\"{realm}\",service=\"fake\"");
    let (host, _) = serve(move |_, _| reply("401 Unauthorized", &[&challenge], ""));
    let client = client_with(Credentials::none().with(
        &host,
        Credential::Basic {
            username: USER.to_owned(),
            password: Secret::new(PASSWORD),
        },
    ));
    let started = std::time::Instant::now();
    let err = client
        .resolve(&format!("{host}/app:1").parse().expect("valid"))
        .await
        .expect_err("an http realm on another host");
    assert!(matches!(err, Error::Insecure { .. }), "{err}");
    let message = err.to_string();
    for part in [realm, "token realm", host.as_str(), "loopback", "insecure"] {
        assert!(message.contains(part), "{part:?} in {message}");
    }
    assert!(!message.contains(PASSWORD), "{message}");
    assert_eq!(client.stats()[host.as_str()].token_requests, 0);
    assert!(
        started.elapsed() < std::time::Duration::from_secs(2),
        "refused without trying to connect"
    );
}

/// A sign-in page in front of a real registry: its `200 text/html` is never hashed into a digest.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_login_page_answering_for_the_registry_gives_no_digest() {
    let registry = Registry::start(Auth::Open);
    registry.push_image("team/app", "1.0.0", Format::Oci);
    let front = Front::start(registry.host(), Misbehaviour::LoginPage);
    let client = client_with(Credentials::none());
    let app: Reference = format!("{}/team/app:1.0.0", front.host())
        .parse()
        .expect("valid");
    for err in [
        client.resolve(&app).await.expect_err("not a manifest"),
        client
            .manifest(&app)
            .await
            .map(|_| ())
            .expect_err("not a manifest"),
    ] {
        assert!(matches!(err, Error::NotAManifest { .. }), "{err}");
        let text = err.to_string();
        let registry_part = format!("the registry {}", front.host());
        for part in [
            registry_part.as_str(),
            "team/app:1.0.0",
            "200 text/html",
            "Sign in to continue",
            "no digest is taken from it",
        ] {
            assert!(text.contains(part), "{part:?} in {text}");
        }
        assert!(err.help().expect("a hint").contains("login page"));
    }
}

/// A proxy that drops the stated digest and cuts the body: the rest is not a manifest, and its
/// hash is not a digest.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_truncated_manifest_without_a_stated_digest_is_refused() {
    let registry = Registry::start(Auth::Open);
    for format in [Format::Oci, Format::DockerV2] {
        registry.push_image("team/app", "1.0.0", format);
        let front = Front::start(registry.host(), Misbehaviour::Truncated);
        let client = client_with(Credentials::none());
        let app: Reference = format!("{}/team/app:1.0.0", front.host())
            .parse()
            .expect("valid");
        let err = client.resolve(&app).await.expect_err("cut short");
        assert!(matches!(err, Error::NotAManifest { .. }), "{err}");
        assert!(err.to_string().contains("whose body is not JSON"), "{err}");
    }
    let index = registry.push_index("team/multi", "2.0.0");
    let front = Front::start(registry.host(), Misbehaviour::Truncated);
    let multi: Reference = format!("{}/team/multi:2.0.0", front.host())
        .parse()
        .expect("valid");
    let err = client_with(Credentials::none())
        .resolve(&multi)
        .await
        .expect_err("cut short");
    assert!(
        err.to_string()
            .contains("application/vnd.oci.image.index.v1+json"),
        "{err}"
    );
    assert_ne!(index.digest, "", "the index exists upstream");
}

/// What a registry states is taken only for a manifest: a `HEAD` answering `text/html` with a
/// digest header is asked again by `GET`, whose page is refused; JSON sent as `application/json`
/// is a manifest when its body says which one.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stated_digest_counts_only_with_a_manifest_media_type() {
    let stated = format!("Docker-Content-Digest: sha256:{}", "ab".repeat(32));
    let (host, seen) = serve(move |_, line| {
        if line.starts_with("HEAD") {
            reply("200 OK", &["Content-Type: text/html", &stated], "")
        } else {
            reply("200 OK", &["Content-Type: text/html"], "<html>login</html>")
        }
    });
    let client = client_with(Credentials::none());
    let err = client
        .resolve(&format!("{host}/app:1").parse().expect("valid"))
        .await
        .expect_err("a page");
    assert!(matches!(err, Error::NotAManifest { .. }), "{err}");
    assert!(err.to_string().contains("\"<html>login</html>\""), "{err}");
    assert_eq!(seen.lock().expect("log").len(), 2, "HEAD, then GET");

    let (host, _) = serve(|_, _| reply("200 OK", &["Content-Type: application/json"], MANIFEST));
    let got = client
        .resolve(&format!("{host}/app:1").parse().expect("valid"))
        .await
        .expect("a manifest by its body's mediaType");
    assert_eq!(got, relkit_registry::Digest::sha256(MANIFEST.as_bytes()));

    for (body, problem) in [
        (
            r#"{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json"}"#,
            "lacks a config and layers",
        ),
        (
            r#"{"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[]}"#,
            "schemaVersion missing",
        ),
        (
            r#"{"schemaVersion":2}"#,
            "a body without a manifest mediaType",
        ),
    ] {
        let (host, _) =
            serve(move |_, _| reply("200 OK", &["Content-Type: application/json"], body));
        let err = client
            .resolve(&format!("{host}/app:1").parse().expect("valid"))
            .await
            .expect_err("not a manifest");
        assert!(err.to_string().contains(problem), "{problem:?} in {err}");
    }
}
