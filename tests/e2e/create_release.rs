//! `relkit create-release` on the local forge, in a terminal and under a simulated runner.

use relkit_testkit::{GitRepo, scenario};

use crate::support::{Runner, TestResult, assert_bad_input, relkit, run};

fn dist(repo: &GitRepo) {
    std::fs::create_dir_all(repo.path().join("dist")).expect("mkdir");
    std::fs::write(repo.path().join("dist/app.tar.gz"), "app").expect("write");
    let exclude = repo.path().join(".git/info/exclude");
    std::fs::write(exclude, "dist/\n").expect("exclude");
}

#[test]
fn a_prerelease_then_a_release_then_a_rerun_that_changes_nothing() {
    let repo = scenario::product();
    dist(&repo);
    let sha7 = &repo.head()[..7];
    let pre = run(relkit(&[
        "create-release",
        "--prerelease",
        "auto",
        "--assets",
        "dist/*",
    ])
    .current_dir(repo.path()))
    .expect_code(0);
    assert!(
        pre.stdout
            .contains(&format!("published release v1.0.0-pre.3+{sha7}")),
        "{}",
        pre.stdout
    );
    let full = run(
        relkit(&["create-release", "--bump", "auto", "--assets", "dist/*"])
            .current_dir(repo.path()),
    )
    .expect_code(0);
    assert!(
        full.stdout.contains("created tag v1.1.0 at"),
        "{}",
        full.stdout
    );
    let again = run(
        relkit(&["create-release", "--bump", "auto", "--assets", "dist/*"])
            .current_dir(repo.path()),
    )
    .expect_code(0);
    assert!(
        again
            .stdout
            .contains("v1.1.0 is already released as planned"),
        "{}",
        again.stdout
    );
    assert!(!again.stdout.contains("uploaded"), "{}", again.stdout);
    assert_eq!(repo.git(&["tag", "--points-at", "HEAD"]).lines().count(), 2);
    assert_eq!(
        repo.git(&["status", "--porcelain"]),
        "",
        "the forge's files are ignored"
    );
}

#[test]
fn on_a_tag_push_the_pushed_tag_is_released_with_its_outputs_and_summary() -> TestResult {
    let repo = scenario::product();
    dist(&repo);
    let runner = Runner::github();
    run(runner
        .relkit(&["create-release"])
        .env("GITHUB_REF", "refs/tags/v1.1.0")
        .env("GITHUB_SHA", repo.head())
        .env("RELKIT_ASSETS", "dist/*\n")
        .current_dir(repo.path()))
    .expect_code(0);
    assert_eq!(runner.output("tag"), "v1.1.0");
    assert_eq!(runner.output("version"), "1.1.0");
    assert_eq!(runner.output("commit"), repo.head());
    assert_eq!(runner.output("prerelease"), "false");
    assert_eq!(runner.output("release-id"), "v1.1.0");
    let manifest: serde_json::Value = serde_json::from_str(&runner.output("manifest"))?;
    assert_eq!(manifest["tag"], "v1.1.0");
    assert_eq!(manifest["assets"][0]["name"], "app.tar.gz");
    let summary = runner.summary();
    assert!(summary.contains("### Release v1.1.0"), "{summary}");
    assert!(summary.contains("| `app.tar.gz` | 3 |"), "{summary}");
    Ok(())
}

#[test]
fn a_dry_run_prints_the_plan_and_changes_nothing() {
    let repo = scenario::product();
    dist(&repo);
    let out = run(relkit(&[
        "create-release",
        "--tag",
        "v1.1.0",
        "--assets",
        "dist/*",
        "--dry-run",
    ])
    .current_dir(repo.path()))
    .expect_code(0);
    assert!(
        out.stdout.contains("tag      v1.1.0 → create at"),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout.contains("asset    app.tar.gz (3 bytes"),
        "{}",
        out.stdout
    );
    assert!(out.stdout.contains("nothing was changed"), "{}", out.stdout);
    assert_eq!(repo.git(&["tag", "--list", "v1.1.0"]), "");
    assert!(!repo.path().join(".relkit").exists());
}

#[test]
fn bad_input_exits_2_with_an_error_annotation_before_any_write() {
    let repo = scenario::product();
    dist(&repo);
    let cases: &[(&[&str], &str)] = &[
        (
            &["--bump", "sideways"],
            "--bump \"sideways\" is not one of patch, minor, major, auto",
        ),
        (&["--tag", "v1.2"], "\"v1.2\" is not a SemVer 2.0 version"),
        (&["--tag", "v1.0.0"], "tag v1.0.0 exists at commit"),
        (
            &["--tag", "v1.1.0", "--assets", "nope/*"],
            "--assets \"nope/*\" matches no file",
        ),
        (
            &["--tag", "v1.1.0", "--bump", "auto"],
            "--tag and --bump exclude each other",
        ),
        (
            &["--tag", "v1.1.0", "--target", "no-such-branch"],
            "--target \"no-such-branch\" is not a commit",
        ),
        (
            &["--tag", "v1.1.0", "--forge", "github"],
            "--forge \"github\" is not available",
        ),
        (
            &["--tag", "v1.1.0", "--images", "api=ghcr.io/acme/api:1.0"],
            "--images \"api=ghcr.io/acme/api:1.0\"",
        ),
        (&[], "say which version to release"),
    ];
    assert_bad_input(repo.path(), "create-release", cases, |args, _| {
        assert!(
            !repo.path().join(".relkit").exists(),
            "{args:?}: nothing written"
        );
        assert_eq!(repo.git(&["tag", "--list", "v1.1.0"]), "", "{args:?}");
    });
}
