//! `relkit promote-prerelease` as a workflow step runs it: a pre-release made by
//! `relkit create-release`, its image in a real registry, promoted by digest; a dry run that
//! changes nothing; and bad input refused before any write.

use std::path::Path;

use relkit_testkit::GitRepo;
use relkit_testkit::registry::{Auth, Format, Registry};

use crate::support::{Runner, relkit, run};

/// Every file under `dir`, with its bytes: the local forge's whole state.
fn snapshot(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut files = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else {
                let bytes = std::fs::read(&path).expect("read a forge file");
                files.push((path.display().to_string(), bytes));
            }
        }
    }
    files.sort();
    files
}

/// v1.2.0 released, then a pre-release of a feature with its image pushed and pinned.
fn tried(registry: &Registry) -> (GitRepo, String, String) {
    let repo = GitRepo::new();
    repo.commit("feat: first");
    run(relkit(&["create-release", "--tag", "v1.2.0", "--first-release"]).current_dir(repo.path()))
        .expect_code(0);
    repo.commit("feat: add the D-Bus watcher");
    let sha7 = repo.head()[..7].to_owned();
    let image = registry.push_image("team/api", &format!("1.2.0-pre.1-{sha7}"), Format::Oci);
    let pins = format!(
        "API_IMAGE={}/team/api:1.2.0-pre.1-{sha7}@{}",
        registry.host(),
        image.digest
    );
    run(
        relkit(&["create-release", "--prerelease", "auto", "--images", &pins])
            .current_dir(repo.path()),
    )
    .expect_code(0);
    (repo, format!("v1.2.0-pre.1+{sha7}"), image.digest)
}

#[test]
fn a_dry_run_changes_nothing_then_the_promotion_moves_every_tag_by_digest() {
    let registry = Registry::start(Auth::Open);
    let (repo, pre, digest) = tried(&registry);
    let forge_dir = repo.path().join(".relkit/forge");
    let before = snapshot(&forge_dir);
    let tags_before = repo.git(&["tag", "--list"]);
    let storage_before = registry.storage_snapshot();

    let runner = Runner::github();
    let args = [
        "promote-prerelease",
        "--forge",
        "local",
        "--pre-release",
        pre.as_str(),
        "--release-version",
        "v1.3.0",
    ];
    let mut dry = args.to_vec();
    dry.push("--dry-run");
    let out = run(runner.relkit(&dry).current_dir(repo.path())).expect_code(0);
    assert!(
        out.stdout.contains("--dry-run: nothing was changed"),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout.contains("  tag    1.3.0 → create"),
        "{}",
        out.stdout
    );
    assert_eq!(
        snapshot(&forge_dir),
        before,
        "the forge is byte for byte the same"
    );
    assert!(
        registry.storage_snapshot() == storage_before,
        "the registry's storage is byte for byte the same"
    );
    assert_eq!(repo.git(&["tag", "--list"]), tags_before);
    for tag in ["1.3.0", "1.3", "1", "latest"] {
        assert_eq!(registry.tag_digest("team/api", tag), None, "{tag}");
    }
    assert_eq!(runner.output("release-tag"), "v1.3.0");
    assert!(
        runner
            .summary()
            .contains("(dry run: planned, nothing changed)")
    );

    let runner = Runner::github();
    let out = run(runner.relkit(&args).current_dir(repo.path())).expect_code(0);
    assert!(out.errors().is_empty(), "{}", out.stdout);
    for tag in ["1.3.0", "1.3", "1", "latest"] {
        assert_eq!(
            registry.tag_digest("team/api", tag).as_deref(),
            Some(digest.as_str()),
            "{tag}"
        );
    }
    assert_eq!(
        repo.git(&["rev-list", "-n", "1", "v1.3.0"]),
        repo.git(&["rev-list", "-n", "1", &pre])
    );
    assert!(
        registry.storage_snapshot() != storage_before,
        "the promotion wrote tags: the snapshot sees writes"
    );
    assert_eq!(runner.output("is-rollback"), "false");
    assert_eq!(runner.output("bump"), "minor");
    let images: serde_json::Value =
        serde_json::from_str(&runner.output("images")).expect("JSON images");
    let api = &images[format!("{}/team/api", registry.host())];
    assert_eq!(api["digest"], digest.as_str());
    assert_eq!(api["tags"][0], "1.3.0");
    let summary = runner.summary();
    assert!(summary.contains("```mermaid"), "{summary}");
    assert!(summary.contains("#### Audit log"), "{summary}");
    assert!(summary.contains("\"what\":\"image tag\""), "{summary}");

    // Again: nothing changes, and it says so.
    let out = run(Runner::github().relkit(&args).current_dir(repo.path())).expect_code(0);
    assert!(
        out.stdout.contains("v1.3.0 is already promoted as planned"),
        "{}",
        out.stdout
    );
}

#[test]
fn bad_input_exits_2_naming_the_input_before_any_write() {
    let registry = Registry::start(Auth::Open);
    let (repo, pre, _) = tried(&registry);
    let forge_dir = repo.path().join(".relkit/forge");
    let before = snapshot(&forge_dir);
    let cases: &[(&[&str], &str)] = &[
        (
            &["--release-version", "1.3.0"],
            "say which pre-release to promote",
        ),
        (&["--pre-release", &pre], "say which version to release"),
        (
            &[
                "--pre-release",
                &pre,
                "--release-version",
                "1.3.0",
                "--is-rollback",
                "maybe",
            ],
            "--is-rollback (RELKIT_IS_ROLLBACK) \"maybe\" is not true or false",
        ),
        (
            &[
                "--pre-release",
                &pre,
                "--release-version",
                "1.3.0",
                "--override-gates",
            ],
            "--override-gates needs --override-reason",
        ),
        (
            &["--pre-release", &pre, "--release-version", "1.3.0-rc.1"],
            "has a pre-release part",
        ),
        (
            &["--pre-release", "v1.2.0", "--release-version", "1.3.0"],
            "is a full release",
        ),
        (
            &[
                "--pre-release",
                "v9.9.9-pre.1+abcdef0",
                "--release-version",
                "9.9.9",
            ],
            "is not a tag of the repository",
        ),
        (
            &[
                "--pre-release",
                &pre,
                "--release-version",
                "1.3.0",
                "--is-rollback",
                "true",
            ],
            "is-rollback is set, but",
        ),
        (
            &[
                "--pre-release",
                &pre,
                "--release-version",
                "1.3.0",
                "--floating-tags",
                "minr",
            ],
            "\"minr\" is not one of latest, minor, major, none",
        ),
        (
            &["--pre-release", &pre, "--release-version", "1.1.0"],
            "release 1.1.0 is below 1.2.0, the base of pre-release",
        ),
        (
            &["--pre-release", &pre, "--release-version", "1.2.0"],
            "tag v1.2.0 already points at commit",
        ),
    ];
    for (args, message) in cases {
        let runner = Runner::github();
        let mut all = vec!["promote-prerelease", "--forge", "local"];
        all.extend_from_slice(args);
        let out = run(runner.relkit(&all).current_dir(repo.path())).expect_code(2);
        let errors = out.errors();
        assert!(
            errors.iter().any(|e| e.data.contains(message)),
            "{args:?}: no error with {message:?}:\n{}",
            out.stdout
        );
        assert_eq!(snapshot(&forge_dir), before, "{args:?} wrote nothing");
        assert_eq!(registry.tag_digest("team/api", "latest"), None);
    }
}

/// The playbook's "incident issue auto-created by workflow": a rollback promoted by the action
/// opens its incident, running it again comments on it, and the next forward promotion closes it.
#[test]
fn a_rollback_opens_its_incident_and_the_next_forward_promotion_closes_it() {
    let registry = Registry::start(Auth::Open);
    let (repo, good, _) = tried(&registry);
    let promote = |pre: &str, version: &str, rollback: bool| {
        let runner = Runner::github();
        let mut args = vec![
            "promote-prerelease",
            "--forge",
            "local",
            "--pre-release",
            pre,
            "--release-version",
            version,
        ];
        if rollback {
            args.extend(["--is-rollback", "true"]);
        }
        run(runner.relkit(&args).current_dir(repo.path())).expect_code(0);
        runner
    };
    let forward = promote(&good, "1.3.0", false);
    assert_eq!(forward.output("incident-action"), "none");

    repo.commit("feat: a new cache");
    let sha7 = repo.head()[..7].to_owned();
    let bad = format!("v1.3.0-pre.1+{sha7}");
    run(relkit(&["create-release", "--prerelease", "auto"]).current_dir(repo.path()))
        .expect_code(0);
    promote(&bad, "1.4.0", false);

    let rollback = promote(&good, "1.4.1", true);
    assert_eq!(rollback.output("is-rollback"), "true");
    assert_eq!(rollback.output("rolled-back-from"), "v1.4.0");
    assert_eq!(rollback.output("incident-action"), "created");
    assert_eq!(rollback.output("incident-number"), "1");
    let issue = std::fs::read_to_string(repo.path().join(".relkit/forge/issues/1.json"))
        .expect("the incident on the local forge");
    assert!(issue.contains("Investigate rollback to v1.4.1"), "{issue}");
    assert!(
        issue.contains("relkit:incident stream=v rollback=v1.4.1"),
        "{issue}"
    );

    let again = promote(&good, "1.4.1", true);
    assert_eq!(again.output("incident-action"), "updated");
    assert_eq!(again.output("incident-number"), "1");

    repo.commit("fix: the cache keeps its entries");
    let sha7 = repo.head()[..7].to_owned();
    run(relkit(&["create-release", "--prerelease", "auto"]).current_dir(repo.path()))
        .expect_code(0);
    let fixed = promote(&format!("v1.4.1-pre.2+{sha7}"), "1.4.2", false);
    assert_eq!(fixed.output("incident-action"), "closed");
    let issue = std::fs::read_to_string(repo.path().join(".relkit/forge/issues/1.json"))
        .expect("the incident");
    assert!(
        issue.contains("\"open\": false") || issue.contains("\"open\":false"),
        "{issue}"
    );
}
