//! Registries that send manifest requests elsewhere, as registry.k8s.io does: followed by hand,
//! with credentials only on the registry's own origin, a bounded number of times, never to plain
//! HTTP on a host that is not loopback or listed.

use std::sync::{Arc, Mutex};

use relkit_registry::{Credential, Credentials, Digest, Error, Reference, Secret};
use relkit_testkit::registry::{Auth, Format, Redirect, Registry};

use crate::common::{PASSWORD, USER, client_with, reply, serve};

fn at(host: &str, rest: &str) -> Reference {
    format!("{host}/{rest}").parse().expect("a valid reference")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn manifests_are_read_through_a_redirect_to_the_registry_that_holds_them() {
    let registry = Registry::start(Auth::Open);
    let image = registry.push_image("team/app", "1.0.0", Format::Oci);
    let index = registry.push_index("team/multi", "2.0.0");
    let front = Redirect::start(registry.host());
    let client = client_with(Credentials::none());

    let got = client
        .resolve(&at(front.host(), "team/app:1.0.0"))
        .await
        .expect("HEAD through the redirect");
    assert_eq!(got, image.digest.parse::<Digest>().expect("a digest"));
    let manifest = client
        .manifest(&at(front.host(), "team/multi:2.0.0"))
        .await
        .expect("GET through the redirect");
    assert_eq!(manifest.bytes, index.manifest);
    let missing = client
        .resolve(&at(front.host(), "team/app:9.9.9"))
        .await
        .expect_err("a 404 behind the redirect");
    assert!(matches!(missing, Error::NotFound { .. }), "{missing}");
    assert_eq!(front.redirected(), 3);
}

/// The registry's credentials go with a redirect on its own origin and never to another host.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn credentials_follow_a_redirect_only_on_the_registrys_origin() {
    let digest = format!("sha256:{}", "ab".repeat(32));
    let upstream_saw: Arc<Mutex<Vec<bool>>> = Arc::default();
    let saw = upstream_saw.clone();
    let answer = digest.clone();
    let (upstream, _) = serve(move |_, request| {
        saw.lock()
            .expect("log")
            .push(request.to_ascii_lowercase().contains("\r\nauthorization:"));
        reply(
            "200 OK",
            &[
                &format!("Docker-Content-Digest: {answer}"),
                "Content-Type: application/vnd.oci.image.manifest.v1+json",
            ],
            "",
        )
    });
    let registry_saw: Arc<Mutex<Vec<(String, bool)>>> = Arc::default();
    let saw = registry_saw.clone();
    let (host, _) = serve(move |_, request| {
        let line = request.lines().next().unwrap_or_default().to_owned();
        let authorized = request.to_ascii_lowercase().contains("\r\nauthorization:");
        saw.lock().expect("log").push((line.clone(), authorized));
        if !authorized {
            reply(
                "401 Unauthorized",
                &["WWW-Authenticate: Basic realm=\"fake\""],
                "",
            )
        } else if line.contains("/manifests/1 ") {
            reply(
                "307 Temporary Redirect",
                &["Location: /v2/app/manifests/moved"],
                "",
            )
        } else {
            reply(
                "302 Found",
                &[&format!(
                    "Location: http://{upstream}/v2/app/manifests/1?signature=opaque"
                )],
                "",
            )
        }
    });
    let client = client_with(Credentials::none().with(
        &host,
        Credential::Basic {
            username: USER.to_owned(),
            password: Secret::new(PASSWORD),
        },
    ));
    let got = client
        .resolve(&at(&host, "app:1"))
        .await
        .expect("resolved through two redirects");
    assert_eq!(got.to_string(), digest);
    let seen = registry_saw.lock().expect("log").clone();
    assert_eq!(
        seen,
        [
            ("HEAD /v2/app/manifests/1 HTTP/1.1".to_owned(), false),
            ("HEAD /v2/app/manifests/1 HTTP/1.1".to_owned(), true),
            ("HEAD /v2/app/manifests/moved HTTP/1.1".to_owned(), true),
        ],
        "the same origin gets the credentials"
    );
    assert_eq!(
        *upstream_saw.lock().expect("log"),
        [false],
        "another host gets none"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_redirect_loop_stops_after_five_hops_and_says_so() {
    let (host, seen) = serve(|n, _| {
        reply(
            "307 Temporary Redirect",
            &[&format!("Location: /v2/app/manifests/hop{}", n + 1)],
            "",
        )
    });
    let err = client_with(Credentials::none())
        .resolve(&at(&host, "app:1"))
        .await
        .expect_err("endless redirects");
    assert!(matches!(err, Error::Protocol { .. }), "{err}");
    let message = err.to_string();
    assert!(message.contains("after 5 redirects"), "{message}");
    assert!(message.contains("/v2/app/manifests/hop6"), "{message}");
    assert_eq!(
        seen.lock().expect("log").len(),
        6,
        "the first request and 5 hops"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_redirect_to_plain_http_elsewhere_is_refused_without_connecting() {
    // TEST-NET-1 (RFC 5737): nothing may be sent there.
    let (host, seen) = serve(|_, _| {
        reply(
            "307 Temporary Redirect",
            &["Location: http://192.0.2.1:9/v2/app/manifests/1?X-Signature=opaque-value"],
            "",
        )
    });
    let client = client_with(Credentials::none());
    let err = client
        .resolve(&at(&host, "app:1"))
        .await
        .expect_err("plain HTTP to another host");
    assert!(matches!(err, Error::Insecure { .. }), "{err}");
    let message = err.to_string();
    assert!(
        message.contains("http://192.0.2.1:9/v2/app/manifests/1 ")
            && message.contains("a redirect for the manifest of")
            && message.contains(&host),
        "{message}"
    );
    assert!(!message.contains("opaque-value"), "{message}");
    assert_eq!(seen.lock().expect("log").len(), 1);
    assert_eq!(client.stats()[host.as_str()].requests, 1);
}

/// The registry a redirect leads to is asked as itself: its token (anonymous here) for the
/// repository its path names, and its own credentials, never the first registry's.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_registry_a_redirect_leads_to_gets_its_own_token() {
    let registry = Registry::start(Auth::Token {
        user: USER.to_owned(),
        password: PASSWORD.to_owned(),
        anonymous_pull: true,
    });
    let image = registry.push_image("team/app", "1.0.0", Format::Oci);
    let front = Redirect::start(registry.host());
    let anonymous = client_with(Credentials::none());
    let got = anonymous
        .resolve(&at(front.host(), "team/app:1.0.0"))
        .await
        .expect("an anonymous token from the registry behind the redirect");
    assert_eq!(got, image.digest.parse::<Digest>().expect("a digest"));

    let private = Registry::start(Auth::Token {
        user: USER.to_owned(),
        password: PASSWORD.to_owned(),
        anonymous_pull: false,
    });
    let image = private.push_image("team/app", "1.0.0", Format::Oci);
    let front = Redirect::start(private.host());
    let own = Credentials::none().with(
        private.host(),
        Credential::Basic {
            username: USER.to_owned(),
            password: Secret::new(PASSWORD),
        },
    );
    let got = client_with(own)
        .resolve(&at(front.host(), "team/app:1.0.0"))
        .await
        .expect("the registry's own credentials");
    assert_eq!(got, image.digest.parse::<Digest>().expect("a digest"));
    // The front's credentials are not the private registry's: nothing to pull with.
    let wrong = Credentials::none().with(
        front.host(),
        Credential::Basic {
            username: USER.to_owned(),
            password: Secret::new(PASSWORD),
        },
    );
    let err = client_with(wrong)
        .resolve(&at(front.host(), "team/app:1.0.0"))
        .await
        .expect_err("no credentials for the registry behind the redirect");
    assert!(!err.to_string().contains(PASSWORD), "{err}");
}

/// A redirect on the registry's own origin to another repository gets a token for that one.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_redirect_to_another_repository_gets_a_token_for_it() {
    let digest = format!("sha256:{}", "cd".repeat(32));
    let host: Arc<Mutex<String>> = Arc::default();
    let realm_host = host.clone();
    let answer = digest.clone();
    let (server, seen) = serve(move |_, request| {
        let line = request.lines().next().unwrap_or_default();
        let auth = request
            .lines()
            .find_map(|l| {
                l.strip_prefix("authorization: Bearer ")
                    .or_else(|| l.strip_prefix("Authorization: Bearer "))
            })
            .unwrap_or_default()
            .to_owned();
        let challenge = |repository: &str| {
            format!(
                "WWW-Authenticate: Bearer realm=\"http://{}/token\",service=\"test\",scope=\"repository:{repository}:pull\"",
                realm_host.lock().expect("host")
            )
        };
        if line.contains("/token?") {
            let scope = line
                .split(['?', '&', ' '])
                .find_map(|p| p.strip_prefix("scope="))
                .unwrap_or_default()
                .replace("%3A", ":")
                .replace("%2F", "/");
            let repository = scope.split(':').nth(1).unwrap_or_default().to_owned();
            return reply(
                "200 OK",
                &["Content-Type: application/json"],
                &format!("{{\"token\":\"t-{repository}\"}}"),
            );
        }
        if line.contains("/v2/app/manifests/1.0") {
            if auth == "t-app" {
                return reply(
                    "307 Temporary Redirect",
                    &["Location: /v2/mirror/app/manifests/1.0"],
                    "",
                );
            }
            return reply("401 Unauthorized", &[&challenge("app")], "");
        }
        if line.contains("/v2/mirror/app/manifests/1.0") {
            if auth == "t-mirror/app" {
                return reply(
                    "200 OK",
                    &[
                        &format!("Docker-Content-Digest: {answer}"),
                        "Content-Type: application/vnd.oci.image.manifest.v1+json",
                    ],
                    "",
                );
            }
            return reply("401 Unauthorized", &[&challenge("mirror/app")], "");
        }
        reply("404 Not Found", &[], "")
    });
    server.clone_into(&mut host.lock().expect("host"));
    let got = client_with(Credentials::none())
        .resolve(&at(&server, "app:1.0"))
        .await
        .expect("a token for the repository the redirect names");
    assert_eq!(got, digest.parse::<Digest>().expect("a digest"));
    let lines = seen.lock().expect("log").clone();
    assert!(
        lines
            .iter()
            .any(|l| l.contains("scope=repository%3Amirror%2Fapp%3Apull")
                || l.contains("scope=repository:mirror/app:pull")),
        "{lines:#?}"
    );
}
