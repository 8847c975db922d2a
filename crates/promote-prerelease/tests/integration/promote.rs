//! The playbook's two examples, the edge stream beside the cloud one, and each check that stops
//! a promotion before anything is written.

use relkit_forge::{Forge, NewIssue};
use relkit_promote_prerelease::{Direction, GateOutcome, PrereleaseChoice, TagStep, apply, plan};
use relkit_release::{MANIFEST, ReleaseManifest};
use relkit_testkit::registry::{Format, Front, Misbehaviour};

use crate::{Project, client, promotion, stream};

async fn manifest_of(project: &Project, tag: &str) -> ReleaseManifest {
    let forge = project.forge();
    let release = forge
        .release_by_tag(tag)
        .await
        .expect("read")
        .expect("the release");
    let asset = release
        .assets
        .iter()
        .find(|a| a.name == MANIFEST)
        .expect("a manifest");
    let bytes = forge.download_asset(asset).await.expect("download");
    ReleaseManifest::parse(tag, &String::from_utf8_lossy(&bytes)).expect("a manifest")
}

/// v1.2.0 released; a feature merged and tried as a pre-release.
async fn released_then_tried(project: &Project) -> (String, String) {
    project.repo.commit("feat: first");
    project.release(Some("1.2.0")).await;
    project.repo.commit("feat: add the D-Bus watcher");
    project.release(None).await
}

/// Example 1 of the playbook: `v1.2.0-pre.N+sha` becomes v1.3.0 with the tested digest under
/// `1.3.0`, `1.3`, `1` and `latest`; a re-run changes nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tested_prerelease_becomes_the_release_with_the_same_commit_and_digest() {
    let project = Project::new();
    let (pre, digest) = released_then_tried(&project).await;
    let sha7 = &project.repo.head()[..7];
    assert_eq!(pre, format!("v1.2.0-pre.1+{sha7}"));
    let forge = project.forge();
    let registry = client();
    let config = promotion(&project.repo, &pre, "v1.3.0");

    let planned = plan(&forge, &registry, &config).await.expect("plan");
    assert_eq!(planned.failures, Vec::<String>::new(), "{planned}");
    assert_eq!(planned.direction, Direction::Forward);
    assert_eq!(planned.tag, "v1.3.0");
    let steps: Vec<(&str, TagStep)> = planned.images[0]
        .targets
        .iter()
        .map(|t| (t.tag.as_str(), t.step))
        .collect();
    assert_eq!(
        steps,
        [
            ("1.3.0", TagStep::Create),
            ("1.3", TagStep::Create),
            ("1", TagStep::Create),
            ("latest", TagStep::Create)
        ]
    );
    let gates: Vec<(&str, GateOutcome)> = planned
        .gates
        .iter()
        .map(|g| (g.name.as_str(), g.outcome))
        .collect();
    assert_eq!(
        gates,
        [
            ("rolled-back builds", GateOutcome::Passed),
            ("blockers", GateOutcome::Passed),
            ("checks", GateOutcome::Skipped),
            ("keep 2 stable", GateOutcome::Passed)
        ]
    );
    assert_eq!(planned.gates[3].detail, "v1.2.0 still has its images");
    // Planning wrote nothing: no tag, no release, no image tag.
    assert_eq!(forge.tag("v1.3.0").await.expect("read"), None);
    assert_eq!(project.registry.tag_digest("team/api", "1.3.0"), None);

    let mut log = Vec::new();
    let outcome = apply(&forge, &registry, &planned, &mut |l| log.push(l.to_owned()))
        .await
        .expect("apply");
    // Every mutation, in order, with who ran it; the file on the release has all but publishing.
    let kinds: Vec<&str> = outcome.audit.iter().map(|e| e.what).collect();
    assert_eq!(
        kinds,
        [
            "tag",
            "image tag",
            "image tag",
            "image tag",
            "image tag",
            "release",
            "asset",
            "asset",
            "asset",
            "publish"
        ]
    );
    let release = forge
        .release_by_tag("v1.3.0")
        .await
        .expect("read")
        .expect("release");
    let audit = release
        .assets
        .iter()
        .find(|a| a.name == "audit.jsonl")
        .expect("the audit log is attached");
    let text =
        String::from_utf8(forge.download_asset(audit).await.expect("download")).expect("UTF-8");
    let lines: Vec<serde_json::Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).expect("a JSON line"))
        .collect();
    assert_eq!(lines.len(), outcome.audit.len() - 1);
    assert_eq!(lines[0]["what"], "tag");
    assert_eq!(lines[0]["after"], project.repo.head().as_str());
    assert_eq!(lines[1]["after"], digest.as_str());
    assert_eq!(lines[1]["by"], "octocat");
    assert_eq!(lines[1]["run_url"], "https://example.test/runs/1");
    for tag in ["1.3.0", "1.3", "1", "latest"] {
        assert_eq!(
            project.registry.tag_digest("team/api", tag).as_deref(),
            Some(digest.as_str()),
            "{tag}"
        );
    }
    let commit = forge
        .tag("v1.3.0")
        .await
        .expect("read")
        .expect("tag")
        .commit;
    assert_eq!(commit, project.repo.head());
    let manifest = manifest_of(&project, "v1.3.0").await;
    let promotion = manifest.promotion.expect("a promotion record");
    assert_eq!(promotion.from, pre);
    assert_eq!(promotion.rollback, None);
    assert_eq!(promotion.actor.as_deref(), Some("octocat"));
    assert_eq!(manifest.images[0].tag.as_deref(), Some("1.3.0"));
    assert_eq!(manifest.images[0].digest.to_string(), digest);
    let pre_manifest = manifest_of(&project, &pre).await;
    assert_eq!(
        manifest.assets, pre_manifest.assets,
        "the tested assets, byte for byte"
    );
    let release = forge
        .release_by_tag("v1.3.0")
        .await
        .expect("read")
        .expect("release");
    assert!(release.body.contains("D-Bus watcher"), "{}", release.body);
    assert!(!release.prerelease);
    assert!(
        log.iter().any(|l| l.starts_with("created image tag")),
        "{log:?}"
    );

    let again = plan(&forge, &registry, &config).await.expect("plan again");
    assert!(again.is_noop(), "{again}");
    apply(&forge, &registry, &again, &mut |_| {})
        .await
        .expect("a re-run");
}

/// Example 2: production on v1.3.0 is broken; the pre-release of the build before it goes back
/// out as v1.3.1, same commit and digest, and `latest` follows it. The flag that got lost is
/// caught, and the bad build cannot come back without a reason.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rollback_promotes_an_older_prerelease_the_same_way_and_says_so() {
    let (project, good, good_digest, bad, bad_digest) = production_on_a_bad_build().await;
    let good_commit = project.repo.git(&["rev-list", "-n", "1", &good]);
    let forge = project.forge();
    let registry = client();
    assert_eq!(
        project.registry.tag_digest("team/api", "latest").as_deref(),
        Some(bad_digest.as_str())
    );

    // The lost boolean: the history says it goes back.
    let mut rollback = promotion(&project.repo, &good, "v1.3.1");
    let lost = plan(&forge, &registry, &rollback).await.expect("plan");
    assert!(
        lost.failures
            .iter()
            .any(|f| f.contains("is older than v1.3.0, which production runs: set is-rollback")),
        "{:?}",
        lost.failures
    );
    let err = apply(&forge, &registry, &lost, &mut |_| {})
        .await
        .expect_err("refused");
    assert!(err.is_bad_input(), "{err}");
    assert_eq!(forge.tag("v1.3.1").await.expect("read"), None);

    rollback.is_rollback = true;
    let planned = plan(&forge, &registry, &rollback).await.expect("plan");
    assert_eq!(planned.failures, Vec::<String>::new(), "{planned}");
    assert_eq!(
        planned.direction,
        Direction::Rollback {
            from: "v1.3.0".to_owned()
        }
    );
    let blockers = planned
        .gates
        .iter()
        .find(|g| g.name == "blockers")
        .expect("gate");
    assert_eq!(blockers.outcome, GateOutcome::Skipped);
    apply(&forge, &registry, &planned, &mut |_| {})
        .await
        .expect("rollback");
    for tag in ["1.3.1", "1.3", "1", "latest"] {
        assert_eq!(
            project.registry.tag_digest("team/api", tag).as_deref(),
            Some(good_digest.as_str()),
            "{tag} follows the rollback"
        );
    }
    assert_eq!(
        forge
            .tag("v1.3.1")
            .await
            .expect("read")
            .expect("tag")
            .commit,
        good_commit
    );
    let manifest = manifest_of(&project, "v1.3.1").await;
    let record = manifest.promotion.expect("record");
    assert_eq!(record.rollback.expect("a rollback").from, "v1.3.0");
    // Run again: v1.3.1 is this promotion's own release, not what production runs.
    let again = plan(&forge, &registry, &rollback)
        .await
        .expect("plan again");
    assert_eq!(again.failures, Vec::<String>::new(), "{again}");
    assert!(again.is_noop(), "{again}");

    // The bad build does not come back by accident.
    let mut again = promotion(&project.repo, &bad, "v1.3.2");
    let refused = plan(&forge, &registry, &again).await.expect("plan");
    assert!(
        refused
            .failures
            .iter()
            .any(|f| f.contains("is the build of v1.3.0 (rolled back by v1.3.1)")),
        "{:?}",
        refused.failures
    );
    again.override_reason = Some("the cache bug was in the config, fixed there".to_owned());
    let allowed = plan(&forge, &registry, &again).await.expect("plan");
    assert!(
        !allowed.failures.iter().any(|f| f.contains("rolled back")),
        "{:?}",
        allowed.failures
    );
}

/// v1.2.1 promoted from a good build, then v1.3.0 from a bad one, which production runs now.
/// Returns the project, the good pre-release and its digest, the bad one and its digest.
async fn production_on_a_bad_build() -> (Project, String, String, String, String) {
    let project = Project::new();
    let forge = project.forge();
    let registry = client();
    project.repo.commit("feat: first");
    project.release(Some("1.2.0")).await;
    project.repo.commit("fix: a crash on empty input");
    let (good, good_digest) = project.release(None).await;
    let to_121 = plan(&forge, &registry, &promotion(&project.repo, &good, "1.2.1"))
        .await
        .expect("plan");
    apply(&forge, &registry, &to_121, &mut |_| {})
        .await
        .expect("v1.2.1");
    project.repo.commit("feat: a new cache");
    let (bad, bad_digest) = project.release(None).await;
    let to_130 = plan(&forge, &registry, &promotion(&project.repo, &bad, "1.3.0"))
        .await
        .expect("plan");
    apply(&forge, &registry, &to_130, &mut |_| {})
        .await
        .expect("v1.3.0");
    (project, good, good_digest, bad, bad_digest)
}

/// The same rollback re-using v1.2.1, the version the good build had: its release stays as it
/// was published, the rollback is recorded beside it, and `latest` goes back to its digest.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rollback_may_reuse_the_version_the_build_had_before() {
    let (project, good, good_digest, bad, bad_digest) = production_on_a_bad_build().await;
    let forge = project.forge();
    let registry = client();
    let before = forge
        .release_by_tag("v1.2.1")
        .await
        .expect("read")
        .expect("the release");
    let mut rollback = promotion(&project.repo, &good, "v1.2.1");
    rollback.is_rollback = true;
    let planned = plan(&forge, &registry, &rollback).await.expect("plan");
    assert_eq!(planned.failures, Vec::<String>::new(), "{planned}");
    let reuse = planned.reuse.as_ref().expect("the release is re-used");
    assert_eq!(reuse.record.name, "rollback-from-v1.3.0.json");
    let steps: Vec<(&str, TagStep)> = planned.images[0]
        .targets
        .iter()
        .map(|t| (t.tag.as_str(), t.step))
        .collect();
    assert_eq!(
        steps,
        [
            ("1.2.1", TagStep::Keep),
            ("1.2", TagStep::Keep),
            ("1", TagStep::Hold),
            ("latest", TagStep::Move)
        ],
        "{planned}"
    );
    apply(&forge, &registry, &planned, &mut |_| {})
        .await
        .expect("rollback");
    assert_eq!(
        project.registry.tag_digest("team/api", "latest").as_deref(),
        Some(good_digest.as_str())
    );
    assert_eq!(
        project.registry.tag_digest("team/api", "1").as_deref(),
        Some(bad_digest.as_str()),
        "v1 never moves backwards"
    );
    let after = forge
        .release_by_tag("v1.2.1")
        .await
        .expect("read")
        .expect("the release");
    assert_eq!(after.body, before.body, "the release is kept as published");
    let names: Vec<&str> = after.assets.iter().map(|a| a.name.as_str()).collect();
    assert!(names.contains(&"rollback-from-v1.3.0.json"), "{names:?}");
    assert!(
        plan(&forge, &registry, &rollback)
            .await
            .expect("plan")
            .is_noop(),
        "a re-run changes nothing"
    );
    // The record guards the bad build as a manifest's would.
    let refused = plan(&forge, &registry, &promotion(&project.repo, &bad, "v1.3.1"))
        .await
        .expect("plan");
    assert!(
        refused
            .failures
            .iter()
            .any(|f| f.contains("is the build of v1.3.0 (rolled back by v1.2.1)")),
        "{:?}",
        refused.failures
    );
}

/// A promotion that stopped after its manifest was attached is resumed by another run (another
/// actor, another run URL): the manifest there records the same promotion.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_run_resumes_a_promotion_whose_manifest_is_attached() {
    let project = Project::new();
    let (pre, _) = released_then_tried(&project).await;
    let forge = project.forge();
    let registry = client();
    let first = plan(&forge, &registry, &promotion(&project.repo, &pre, "1.3.0"))
        .await
        .expect("plan");
    apply(&forge, &registry, &first, &mut |_| {})
        .await
        .expect("apply");
    let mut other = promotion(&project.repo, &pre, "1.3.0");
    other.actor = Some("someone-else".to_owned());
    other.run_url = Some("https://example.test/runs/2".to_owned());
    let again = plan(&forge, &registry, &other).await.expect("plan");
    assert!(again.is_noop(), "{again}");
}

/// What production runs must be what was tested: a pre-release tag that moved since is refused
/// with both digests, and so is an exact tag that holds another image.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_digest_that_is_not_the_tested_one_stops_the_promotion_with_both_digests() {
    let project = Project::new();
    let (pre, tested) = released_then_tried(&project).await;
    let sha7 = &project.repo.head()[..7];
    let moved =
        project
            .registry
            .push_image("team/api", &format!("1.2.0-pre.1-{sha7}"), Format::Oci);
    let other = project
        .registry
        .push_image("team/api", "1.3.0", Format::Oci);
    let forge = project.forge();
    let registry = client();
    let planned = plan(&forge, &registry, &promotion(&project.repo, &pre, "1.3.0"))
        .await
        .expect("plan");
    let text = planned.failures.join("\n");
    assert!(text.contains("image digest mismatch"), "{text}");
    assert!(
        text.contains(&moved.digest) && text.contains(&tested),
        "{text}"
    );
    assert!(
        text.contains(&format!(
            "holds {}, not {tested}: an image tag is never overwritten",
            other.digest
        )),
        "{text}"
    );
    assert!(
        apply(&forge, &registry, &planned, &mut |_| {})
            .await
            .is_err()
    );
    assert_eq!(forge.tag("v1.3.0").await.expect("read"), None);
    assert_eq!(
        project.registry.tag_digest("team/api", "1.3.0"),
        Some(other.digest),
        "left as it was"
    );
}

/// Keep two stable versions: a prior release whose image is gone fails the plan, before
/// production needs it for a rollback.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_prior_stable_release_whose_image_is_gone_fails_the_plan() {
    let project = Project::new();
    project.repo.commit("feat: first");
    let (_, first) = project.release(Some("1.1.0")).await;
    project.repo.commit("fix: second");
    project.release(Some("1.1.1")).await;
    project.repo.commit("feat: third");
    let (pre, _) = project.release(None).await;
    project.registry.delete_manifest("team/api", &first);
    let planned = plan(
        &project.forge(),
        &client(),
        &promotion(&project.repo, &pre, "1.2.0"),
    )
    .await
    .expect("plan");
    let gate = planned
        .gates
        .iter()
        .find(|g| g.name == "keep 2 stable")
        .expect("the gate");
    assert_eq!(gate.outcome, GateOutcome::Failed, "{gate:?}");
    assert!(
        gate.detail.contains(&format!(
            "v1.1.0: image {}/team/api@{first} is gone",
            project.registry.host()
        )),
        "{}",
        gate.detail
    );
}

/// An index whose platform manifest was deleted (by a retention policy, say) cannot be rolled
/// back to: the gate names the release, the image and the missing manifest.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_prior_stable_index_missing_a_platform_manifest_fails_the_plan() {
    let project = Project::new();
    let forge = project.forge();
    project.repo.commit("feat: first");
    let (_, index) = project.release_with(&forge, Some("1.1.0"), true).await;
    project.repo.commit("feat: second");
    let (pre, _) = project.release(None).await;
    let pinned: relkit_registry::Reference = format!("{}@{index}", project.image())
        .parse()
        .expect("a reference");
    let held = client().manifest(&pinned).await.expect("the index");
    let child = held.platform_manifests()[1].clone();
    project.registry.delete_manifest("team/api", child.as_str());
    let planned = plan(&forge, &client(), &promotion(&project.repo, &pre, "1.2.0"))
        .await
        .expect("plan");
    let gate = planned
        .gates
        .iter()
        .find(|g| g.name == "keep 2 stable")
        .expect("the gate");
    assert_eq!(gate.outcome, GateOutcome::Failed, "{gate:?}");
    assert!(
        gate.detail.contains(&format!(
            "v1.1.0: image {pinned} lacks its platform manifest {child}"
        )),
        "{}",
        gate.detail
    );
}

/// Open blockers stop a forward promotion; each is named, and an override records its reason.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn open_blockers_stop_a_forward_promotion_unless_overridden_with_a_reason() {
    let project = Project::new();
    let (pre, _) = released_then_tried(&project).await;
    let forge = project.forge();
    forge
        .create_issue(&NewIssue {
            title: "Data loss on upgrade".to_owned(),
            body: String::new(),
            labels: vec!["release-blocker".to_owned()],
            assignees: Vec::new(),
        })
        .await
        .expect("issue");
    let mut config = promotion(&project.repo, &pre, "1.3.0");
    let planned = plan(&forge, &client(), &config).await.expect("plan");
    assert_eq!(
        planned.failures,
        ["open blockers: #1 Data loss on upgrade (release-blocker)"]
    );
    // A reason alone overrides no gate: that takes override-gates too.
    config.override_reason = Some("fixed by a config change".to_owned());
    let planned = plan(&forge, &client(), &config).await.expect("plan");
    assert_eq!(planned.failures.len(), 1, "{:?}", planned.failures);
    config.override_gates = true;
    let planned = plan(&forge, &client(), &config).await.expect("plan");
    assert!(planned.failures.is_empty(), "{:?}", planned.failures);
    let gate = planned
        .gates
        .iter()
        .find(|g| g.name == "blockers")
        .expect("gate");
    assert_eq!(gate.outcome, GateOutcome::Overridden);
    assert!(
        gate.detail
            .ends_with("overridden: fixed by a config change"),
        "{}",
        gate.detail
    );
    apply(&forge, &client(), &planned, &mut |_| {})
        .await
        .expect("apply");
    let manifest = manifest_of(&project, "v1.3.0").await;
    assert_eq!(
        manifest
            .promotion
            .expect("record")
            .override_reason
            .as_deref(),
        Some("fixed by a config change")
    );
}

/// The edge stream beside the cloud stream: `edge/v1.4.0-rc.N` becomes `edge/v1.4.0`, its image
/// tags carry the stream (`edge-v1.4.0`, `edge-latest`), and the cloud stream is not touched.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_edge_stream_is_promoted_beside_the_cloud_stream() {
    let project = Project::with_prefix("edge/v");
    project.repo.commit("feat: first");
    project.repo.tag("v2.0.0");
    project.release(Some("1.3.0")).await;
    project.repo.commit("feat: edge sync");
    let (pre, digest) = project.release(None).await;
    let mut config = promotion(&project.repo, &pre, "1.4.0");
    config.stream = stream("edge/v");
    config.prerelease = PrereleaseChoice::Latest;
    let forge = project.forge();
    let planned = plan(&forge, &client(), &config).await.expect("plan");
    assert_eq!(planned.failures, Vec::<String>::new(), "{planned}");
    assert_eq!(planned.source.tag, pre);
    apply(&forge, &client(), &planned, &mut |_| {})
        .await
        .expect("apply");
    for tag in ["edge-v1.4.0", "edge-v1.4", "edge-v1", "edge-latest"] {
        assert_eq!(
            project.registry.tag_digest("team/api", tag).as_deref(),
            Some(digest.as_str()),
            "{tag}"
        );
    }
    assert_eq!(project.registry.tag_digest("team/api", "latest"), None);
    assert!(forge.tag("edge/v1.4.0").await.expect("read").is_some());
}

/// Notes from a file: the release says what the file says, and the commits still decide the bump.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn notes_from_a_file_are_the_release_notes() {
    let project = Project::new();
    let (pre, _) = released_then_tried(&project).await;
    let notes = project.repo.path().join(".git/NOTES.md");
    std::fs::write(&notes, "The watcher release.\n").expect("notes");
    let mut config = promotion(&project.repo, &pre, "1.3.0");
    config.notes_file = Some(notes);
    let forge = project.forge();
    let planned = plan(&forge, &client(), &config).await.expect("plan");
    assert_eq!(planned.commits_call_for, relkit_version::Bump::Minor);
    apply(&forge, &client(), &planned, &mut |_| {})
        .await
        .expect("apply");
    let release = forge
        .release_by_tag("v1.3.0")
        .await
        .expect("read")
        .expect("release");
    assert_eq!(release.body, "The watcher release.\n");
    config.notes_file = Some(project.repo.path().join("missing.md"));
    let err = plan(&forge, &client(), &config)
        .await
        .expect_err("no such file");
    assert!(
        err.to_string().contains("could not read --notes-file"),
        "{err}"
    );
    assert!(err.is_bad_input());
}

/// The registry failing at the image tags, after the release tag was made: the run stops (exit
/// 1), and the re-run converges on one release and every tag at the tested digest.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_registry_failing_at_the_image_tags_then_a_rerun_converges() {
    let plain = Project::new();
    let front = Front::start(plain.registry.host(), Misbehaviour::FailingPuts(2));
    let project = plain.through(front.host());
    let (pre, digest) = released_then_tried(&project).await;
    let forge = project.forge();
    let config = promotion(&project.repo, &pre, "1.3.0");
    let first = plan(&forge, &client(), &config).await.expect("plan");
    let err = apply(&forge, &client(), &first, &mut |_| {})
        .await
        .expect_err("the registry fails twice, the client tries twice");
    assert!(!err.is_bad_input(), "a failure after a write: {err}");
    assert!(
        forge.tag("v1.3.0").await.expect("read").is_some(),
        "the tag was made"
    );

    let again = plan(&forge, &client(), &config).await.expect("plan again");
    assert_eq!(again.failures, Vec::<String>::new(), "{again}");
    apply(&forge, &client(), &again, &mut |_| {})
        .await
        .expect("the re-run");
    for tag in ["1.3.0", "1.3", "1", "latest"] {
        assert_eq!(
            project.registry.tag_digest("team/api", tag).as_deref(),
            Some(digest.as_str()),
            "{tag}"
        );
    }
    assert!(
        forge
            .release_by_tag("v1.3.0")
            .await
            .expect("read")
            .is_some()
    );
    assert!(
        plan(&forge, &client(), &config)
            .await
            .expect("plan")
            .is_noop()
    );
}
