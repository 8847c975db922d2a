//! Resolving tags to digests with HEAD, in the three auth variants.

use relkit_registry::{Digest, Reference};
use relkit_testkit::registry::{Format, Registry};

use crate::common::{client, name, reference, variants};

fn digest(text: &str) -> Digest {
    text.parse().expect("a digest")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oci_docker_v2_and_index_tags_resolve_to_their_manifest_digests() {
    for auth in variants() {
        let registry = Registry::start(auth.clone());
        let oci = registry.push_image("app/oci", "1.0.0", Format::Oci);
        let docker = registry.push_image("app/docker", "1.0.0", Format::DockerV2);
        let index = registry.push_index("app/multi", "1.0.0");
        let client = client(&registry);
        let v = name(&auth);

        let got = client.resolve(&reference(&registry, "app/oci:1.0.0")).await;
        assert_eq!(got.expect(v), digest(&oci.digest), "{v}: OCI manifest");
        let got = client
            .resolve(&reference(&registry, "app/docker:1.0.0"))
            .await;
        assert_eq!(got.expect(v), digest(&docker.digest), "{v}: Docker v2");

        // A multi-platform tag pins to its index, never to one platform's manifest.
        let head = client
            .head(&reference(&registry, "app/multi:1.0.0"))
            .await
            .expect(v);
        assert_eq!(head.digest, digest(&index.digest), "{v}: index");
        assert!(head.is_index(), "{v}: {:?}", head.media_type);

        // A digest-only reference is confirmed by the registry.
        let by_digest = reference(&registry, &format!("app/oci@{}", oci.digest));
        assert_eq!(
            client.resolve(&by_digest).await.expect(v),
            digest(&oci.digest)
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn after_auth_each_reference_costs_one_registry_request() {
    for auth in variants() {
        let registry = Registry::start(auth.clone());
        let v = name(&auth);
        let repositories: Vec<String> = (0..6).map(|i| format!("svc/app{i}")).collect();
        let mut pushed = Vec::new();
        for repository in &repositories {
            pushed.push(registry.push_image(repository, "2.0.0", Format::Oci).digest);
        }
        let client = client(&registry);
        // The first request learns how the registry wants to be asked.
        client
            .resolve(&reference(&registry, "svc/app0:2.0.0"))
            .await
            .expect(v);
        let before = client.stats()[registry.host()];

        let references: Vec<Reference> = repositories
            .iter()
            .map(|r| reference(&registry, &format!("{r}:2.0.0")))
            .collect();
        let resolved = client.resolve_all(&references).await;
        let after = client.stats()[registry.host()];

        for (got, want) in resolved.into_iter().zip(&pushed) {
            assert_eq!(got.expect(v), digest(want), "{v}");
        }
        assert_eq!(
            after.requests - before.requests,
            references.len() as u64,
            "{v}: one HEAD per reference"
        );
        assert_eq!(after.retries, 0, "{v}");
        assert_eq!(
            after.bytes_received, before.bytes_received,
            "{v}: HEAD reads no body"
        );
        let gets = registry.access_log("GET /v2/svc/");
        assert!(gets.is_empty(), "{v}: no manifest GET: {gets:?}");
        // Tokens are cached per scope: app0 needed none the second time.
        if matches!(auth, relkit_testkit::registry::Auth::Token { .. }) {
            assert_eq!(after.token_requests - before.token_requests, 5, "{v}");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resolve_all_keeps_the_order_and_reports_each_failure_on_its_own() {
    let registry = Registry::start(relkit_testkit::registry::Auth::Open);
    let a = registry.push_image("a", "1", Format::Oci);
    let b = registry.push_image("b", "1", Format::DockerV2);
    let client = client(&registry);
    let references = vec![
        reference(&registry, "a:1"),
        reference(&registry, "missing:1"),
        reference(&registry, "b:1"),
    ];
    let got = client.resolve_all(&references).await;
    assert_eq!(got[0].as_ref().expect("a"), &digest(&a.digest));
    assert!(got[1].is_err());
    assert_eq!(got[2].as_ref().expect("b"), &digest(&b.digest));
}

/// Eight lookups in one repository at once need one token between them, and one 401 to learn
/// the challenge: requests that find that work under way wait for it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_lookups_share_one_token_fetch_per_scope() {
    let registry = Registry::start(relkit_testkit::registry::Auth::token("ci", "pw"));
    let tags: Vec<String> = (0..16).map(|i| format!("1.0.{i}")).collect();
    for tag in &tags {
        registry.push_image("svc/api", tag, Format::Oci);
    }
    let client = client(&registry);
    let references: Vec<Reference> = tags
        .iter()
        .map(|t| reference(&registry, &format!("svc/api:{t}")))
        .collect();
    for got in client.resolve_all(&references).await {
        got.expect("resolved");
    }
    let stats = client.stats()[registry.host()];
    assert_eq!(stats.token_requests, 1, "{stats:?}");
    assert_eq!(
        stats.requests,
        16 + 1,
        "one HEAD each and one 401: {stats:?}"
    );
}
