//! Retagging by manifest copy: in one repository (only the manifest moves), across repositories
//! (blobs mounted), across registries (blobs uploaded), and the refusal to move a tag.

use relkit_registry::{Digest, Error, Retagged};
use relkit_testkit::registry::{Auth, Format, Registry};

use crate::common::{client, name, reference, variants};

fn digest(text: &str) -> Digest {
    text.parse().expect("a digest")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_retag_in_one_repository_moves_only_the_manifest() {
    for auth in variants() {
        let registry = Registry::start(auth.clone());
        let v = name(&auth);
        let image = registry.push_image_with_layers(
            "app",
            Some("1.0.0-rc.1"),
            Format::Oci,
            &[256 * 1024],
            None,
        );
        let client = client(&registry);
        let source = reference(&registry, "app:1.0.0-rc.1");
        client.resolve(&source).await.expect(v); // learn the auth first
        let log_before = registry.log().len();
        let before = client.stats()[registry.host()];

        let done = client.retag(&source, "1.0.0", false).await.expect(v);
        assert_eq!(
            done,
            Retagged::Created {
                digest: digest(&image.digest)
            },
            "{v}"
        );
        let after = client.stats()[registry.host()];

        assert_eq!(
            registry.tag_digest("app", "1.0.0").as_deref(),
            Some(image.digest.as_str())
        );
        // One read of the manifest, one HEAD of the target tag, one write.
        assert_eq!(after.requests - before.requests, 3, "{v}");
        let manifest_len = image.manifest.len() as u64;
        assert_eq!(after.bytes_sent - before.bytes_sent, manifest_len, "{v}");
        assert_eq!(
            after.bytes_received - before.bytes_received,
            manifest_len,
            "{v}"
        );
        let log = registry.log();
        assert!(
            !log[log_before..].contains("/blobs/"),
            "{v}: no blob request:\n{}",
            &log[log_before..]
        );

        // The same digest again is a no-op: nothing is written.
        let again = client.retag(&source, "1.0.0", false).await.expect(v);
        assert_eq!(
            again,
            Retagged::Unchanged {
                digest: digest(&image.digest)
            },
            "{v}"
        );
        // The helper's push and the retag; the no-op wrote nothing.
        let puts = registry.access_log("PUT /v2/app/manifests/");
        assert_eq!(puts.len(), 2, "{v}: {puts:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_index_and_a_docker_v2_manifest_keep_their_digests_when_retagged() {
    let registry = Registry::start(Auth::Open);
    let index = registry.push_index("multi", "1.0.0-pre.3");
    let docker = registry.push_image("legacy", "1.0.0-pre.3", Format::DockerV2);
    let client = client(&registry);
    for (repository, want) in [("multi", &index.digest), ("legacy", &docker.digest)] {
        let source = reference(&registry, &format!("{repository}:1.0.0-pre.3"));
        let done = client
            .retag(&source, "1.0.0", false)
            .await
            .expect(repository);
        assert_eq!(done.digest(), &digest(want));
        assert_eq!(
            registry.tag_digest(repository, "1.0.0").as_deref(),
            Some(want.as_str())
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_copy_to_another_repository_mounts_the_blobs() {
    for auth in variants() {
        let registry = Registry::start(auth.clone());
        let v = name(&auth);
        let image = registry.push_image("team/build", "1.0.0", Format::Oci);
        let index = registry.push_index("team/build", "multi");
        let client = client(&registry);

        let source = reference(&registry, "team/build:1.0.0");
        let target = reference(&registry, "team/release:1.0.0");
        let done = client.copy(&source, &target, false).await.expect(v);
        assert_eq!(
            done,
            Retagged::Created {
                digest: digest(&image.digest)
            },
            "{v}"
        );
        assert_eq!(
            registry.tag_digest("team/release", "1.0.0").as_deref(),
            Some(image.digest.as_str())
        );
        for (blob, _) in &image.blobs {
            assert!(
                registry.has_blob("team/release", blob),
                "{v}: {blob} mounted"
            );
        }
        let mounts = registry.access_log("POST /v2/team/release/blobs/uploads/?mount=");
        assert_eq!(mounts.len(), image.blobs.len(), "{v}: {mounts:?}");
        assert!(
            registry.access_log("PATCH ").is_empty(),
            "{v}: nothing uploaded"
        );

        // An index brings its platform manifests along, by digest.
        let source = reference(&registry, "team/build:multi");
        let target = reference(&registry, "team/release:multi");
        let done = client.copy(&source, &target, false).await.expect(v);
        assert_eq!(done.digest(), &digest(&index.digest), "{v}");
        for (_, child) in &index.platforms {
            assert_eq!(
                registry
                    .tag_digest("team/release", &child.digest)
                    .as_deref(),
                Some(child.digest.as_str()),
                "{v}: child manifest copied"
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_copy_to_another_registry_uploads_the_blobs() {
    let from = Registry::start(Auth::Open);
    let to = Registry::start(Auth::Open);
    let image = from.push_image("app", "1.0.0", Format::DockerV2);
    let client = client(&from);
    let done = client
        .copy(
            &reference(&from, "app:1.0.0"),
            &reference(&to, "mirror/app:1.0.0"),
            false,
        )
        .await
        .expect("copy");
    assert_eq!(done.digest(), &digest(&image.digest));
    assert_eq!(
        to.tag_digest("mirror/app", "1.0.0").as_deref(),
        Some(image.digest.as_str())
    );
    for (blob, _) in &image.blobs {
        assert!(to.has_blob("mirror/app", blob));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tag_holding_another_digest_is_not_moved_unless_forced() {
    for auth in variants() {
        let registry = Registry::start(auth.clone());
        let v = name(&auth);
        let candidate = registry.push_image("app", "1.0.0-rc.2", Format::Oci);
        let released = registry.push_image("app", "1.0.0", Format::Oci);
        let client = client(&registry);
        let source = reference(&registry, "app:1.0.0-rc.2");

        let err = client.retag(&source, "1.0.0", false).await.expect_err(v);
        match &err {
            Error::TagHoldsOther {
                target,
                current,
                wanted,
            } => {
                assert_eq!(target, &format!("{}/app:1.0.0", registry.host()));
                assert_eq!(current, &digest(&released.digest));
                assert_eq!(wanted, &digest(&candidate.digest));
            }
            other => panic!("{v}: {other}"),
        }
        assert!(err.help().is_some_and(|h| h.contains("--force")));
        assert_eq!(
            registry.tag_digest("app", "1.0.0").as_deref(),
            Some(released.digest.as_str()),
            "{v}: untouched"
        );

        let forced = client.retag(&source, "1.0.0", true).await.expect(v);
        assert_eq!(
            forced,
            Retagged::Replaced {
                digest: digest(&candidate.digest),
                previous: digest(&released.digest)
            },
            "{v}"
        );
        assert_eq!(
            registry.tag_digest("app", "1.0.0").as_deref(),
            Some(candidate.digest.as_str())
        );
    }
}

/// `put_tag` writes a manifest read once to a tag only from the state the caller saw: a tag
/// moved since is left as it is, and a tag that holds the manifest is not written.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn put_tag_moves_a_tag_only_from_what_the_caller_saw() {
    let registry = Registry::start(Auth::Open);
    let old = registry.push_image("team/app", "1.0.0", Format::Oci);
    let new = registry.push_image("team/app", "1.1.0", Format::Oci);
    registry.push_image("team/app", "other", Format::Oci);
    let client = client(&registry);
    let source = reference(&registry, &format!("team/app@{}", new.digest));
    let manifest = client.manifest(&source).await.expect("read once");
    let latest = reference(&registry, "team/app:latest");
    let old_digest = digest(&old.digest);

    let made = client
        .put_tag(&latest, &manifest, None)
        .await
        .expect("created");
    assert!(matches!(made, Retagged::Created { .. }), "{made:?}");
    let again = client
        .put_tag(&latest, &manifest, None)
        .await
        .expect("no-op");
    assert!(matches!(again, Retagged::Unchanged { .. }));

    // A caller who saw 1.0.0's manifest under `other`, which holds another image by now.
    let other = reference(&registry, "team/app:other");
    let err = client
        .put_tag(&other, &manifest, Some(&old_digest))
        .await
        .expect_err("moved since");
    assert!(matches!(err, Error::TagHoldsOther { .. }), "{err}");
    assert_ne!(
        registry.tag_digest("team/app", "other").as_deref(),
        Some(new.digest.as_str()),
        "left as it was"
    );
}
