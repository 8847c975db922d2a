//! `relkit create-release` on the local forge, in a terminal and under a simulated runner.

use relkit_testkit::emulator::{Emulator, Flavor, Permissions};
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
        pre.stderr
            .contains(&format!("published release v1.0.0-pre.3+{sha7}")),
        "{}",
        pre.stderr
    );
    let full = run(
        relkit(&["create-release", "--bump", "auto", "--assets", "dist/*"])
            .current_dir(repo.path()),
    )
    .expect_code(0);
    assert!(
        full.stderr.contains("created tag v1.1.0 at"),
        "{}",
        full.stderr
    );
    let again = run(
        relkit(&["create-release", "--bump", "auto", "--assets", "dist/*"])
            .current_dir(repo.path()),
    )
    .expect_code(0);
    assert!(
        again
            .stderr
            .contains("v1.1.0 is already released as planned"),
        "{}",
        again.stderr
    );
    assert!(!again.stderr.contains("uploaded"), "{}", again.stderr);
    assert_eq!(repo.git(&["tag", "--points-at", "HEAD"]).lines().count(), 2);
    assert_eq!(
        repo.git(&["status", "--porcelain"]),
        "",
        "the forge's files are ignored"
    );
}

const API: &str =
    "ghcr.io/acme/api:1.0@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

#[test]
fn on_a_tag_push_the_pushed_tag_is_released_with_its_outputs_and_summary() -> TestResult {
    let repo = scenario::product();
    dist(&repo);
    let runner = Runner::github();
    run(runner
        .relkit(&["create-release"])
        .env("GITHUB_REF", "refs/tags/v1.1.0")
        .env("RELKIT_FORGE", "local")
        .env("GITHUB_SHA", repo.head())
        .env("RELKIT_ASSETS", "dist/*\n")
        // pin-images' pins file, as its `pins` output passes it.
        .env(
            "RELKIT_IMAGES",
            format!("# Image digests pinned by relkit\n\nAPI_IMAGE={API}\n"),
        )
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
    assert_eq!(manifest["images"][0]["name"], "API_IMAGE");
    assert_eq!(manifest["images"][0]["repository"], "ghcr.io/acme/api");
    assert_eq!(manifest["images"][0]["tag"], "1.0");
    assert_eq!(
        format!(
            "ghcr.io/acme/api:1.0@{}",
            manifest["images"][0]["digest"].as_str().unwrap_or_default()
        ),
        API
    );
    assert_eq!(manifest["schema_version"], 1);
    assert_eq!(manifest["stream"], "v");
    assert_eq!(manifest["images"].as_array().map(Vec::len), Some(1));
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
    assert!(out.stderr.contains("nothing was changed"), "{}", out.stderr);
    assert_eq!(repo.git(&["tag", "--list", "v1.1.0"]), "");
    assert!(!repo.path().join(".relkit").exists());
}

#[test]
fn bad_input_exits_2_with_an_error_annotation_before_any_write() {
    let repo = scenario::product();
    dist(&repo);
    let cases: &[(&[&str], &str)] = &[
        (
            &["--forge", "local", "--bump", "sideways"],
            "--bump \"sideways\" is not one of patch, minor, major, auto",
        ),
        (
            &["--forge", "local", "--tag", "v1.2"],
            "\"v1.2\" is not a SemVer 2.0 version",
        ),
        (
            &["--forge", "local", "--tag", "v1.0.0"],
            "tag v1.0.0 exists at commit",
        ),
        (
            &["--forge", "local", "--tag", "v1.1.0", "--assets", "nope/*"],
            "--assets \"nope/*\" matches no file",
        ),
        (
            &["--forge", "local", "--tag", "v1.1.0", "--bump", "auto"],
            "--tag and --bump exclude each other",
        ),
        (
            &[
                "--forge",
                "local",
                "--tag",
                "v1.1.0",
                "--target",
                "no-such-branch",
            ],
            "--target \"no-such-branch\" is not a commit",
        ),
        (
            &["--tag", "v1.1.0", "--forge", "bitbucket"],
            "--forge \"bitbucket\" is not one of local, github, gitea",
        ),
        (
            &[
                "--tag",
                "v1.1.0",
                "--forge",
                "gitea",
                "--repository",
                "owner/app",
                "--api-url",
                "http://forge.internal:8080/api/v1",
            ],
            "is plain HTTP to forge.internal:8080: the token would cross the network unencrypted",
        ),
        (
            &[
                "--forge",
                "local",
                "--tag",
                "v1.1.0",
                "--images",
                "api=ghcr.io/acme/api:1.0",
            ],
            "--images is not a list of pins (NAME=REFERENCE@sha256:DIGEST): line 1: api=ghcr.io/acme/api:1.0 has no digest",
        ),
        (
            &[
                "--forge",
                "local",
                "--tag",
                "v1.1.0",
                "--images",
                &format!("API_IMAGE={API}\nAPI_IMAGE={API}"),
            ],
            "--images names API_IMAGE twice",
        ),
        (
            &[
                "--forge",
                "local",
                "--tag",
                "v1.1.0",
                "--notes-file",
                "nope.md",
            ],
            "--notes-file nope.md",
        ),
        (&["--forge", "local"], "say which version to release"),
        (
            &["--forge", "local", "--prerelease", "bogus"],
            "--prerelease \"bogus\" is not one of auto, latest, next",
        ),
        (
            &["--forge", "local", "--tag", "edge/v1.1.0"],
            "--tag \"edge/v1.1.0\" is a tag of the stream \"edge/v\", not of \"v\": set --tag-prefix edge/v",
        ),
        (
            &["--forge", "local", "--tag", "v1.1.0", "--assets", "dist"],
            "--assets \"dist\" matches the directory",
        ),
    ];
    assert_bad_input(repo.path(), "create-release", cases, |args, _| {
        assert!(
            !repo.path().join(".relkit").exists(),
            "{args:?}: nothing written"
        );
        assert_eq!(repo.git(&["tag", "--list", "v1.1.0"]), "", "{args:?}");
    });
}

/// The token the emulated forges accept in these tests; it must show in nothing relkit writes.
const TOKEN: &str = "e2e-forge-token-0f6e3c2d9b";

#[test]
fn on_a_gitea_runner_the_release_is_made_on_gitea_and_the_token_shows_nowhere() -> TestResult {
    let repo = scenario::product();
    dist(&repo);
    let emulator = Emulator::start(Flavor::Gitea, repo.path());
    emulator.add_token(TOKEN, Permissions::all());
    let runner = Runner::gitea();
    let out = run(runner
        .relkit(&["create-release", "--tag", "v1.1.0", "--assets", "dist/*"])
        .env("GITHUB_SERVER_URL", emulator.url())
        .env("GITHUB_TOKEN", TOKEN)
        .current_dir(repo.path()))
    .expect_code(0);
    assert_eq!(emulator.releases().len(), 1);
    assert_eq!(runner.output("tag"), "v1.1.0");
    assert!(
        out.stdout.contains("published release v1.1.0"),
        "{}",
        out.stdout
    );

    // The token is masked first, and nowhere else: not in the log, the outputs, the summary,
    // or any file relkit wrote.
    let masks: Vec<String> = out
        .commands()
        .into_iter()
        .filter(|c| c.name == "add-mask")
        .map(|c| c.data)
        .collect();
    assert_eq!(masks, [TOKEN]);
    let log_without_mask = out.stdout.replace(&format!("::add-mask::{TOKEN}"), "");
    assert!(!log_without_mask.contains(TOKEN), "{}", out.stdout);
    assert!(!out.stderr.contains(TOKEN));
    let outputs = format!("{:?}", runner.outputs());
    assert!(!outputs.contains(TOKEN));
    assert!(!runner.summary().contains(TOKEN));
    for entry in walk(repo.path()) {
        let bytes = std::fs::read(&entry)?;
        assert!(
            !bytes.windows(TOKEN.len()).any(|w| w == TOKEN.as_bytes()),
            "{} holds the token",
            entry.display()
        );
    }
    Ok(())
}

#[test]
fn a_gitea_token_is_never_sent_to_github_and_a_missing_one_is_named() {
    let repo = scenario::product();
    dist(&repo);
    let runner = Runner::gitea();
    let out = run(runner
        .relkit(&[
            "create-release",
            "--tag",
            "v1.1.0",
            "--api-url",
            "https://api.github.com",
        ])
        .env("GITHUB_TOKEN", TOKEN)
        .current_dir(repo.path()))
    .expect_code(2);
    assert!(
        out.errors()[0]
            .data
            .contains("never sends a Gitea token to GitHub"),
        "{}",
        out.stdout
    );

    let out = run(runner
        .relkit(&["create-release", "--tag", "v1.1.0"])
        .current_dir(repo.path()))
    .expect_code(2);
    assert!(
        out.errors()[0]
            .data
            .contains("no token: set RELKIT_TOKEN or GITEA_TOKEN or GITHUB_TOKEN"),
        "{}",
        out.stdout
    );
}

#[test]
fn a_wrong_token_is_reported_with_the_variable_and_without_the_value() {
    let repo = scenario::product();
    dist(&repo);
    let emulator = Emulator::start(Flavor::Gitea, repo.path());
    let runner = Runner::gitea();
    let out = run(runner
        .relkit(&["create-release", "--tag", "v1.1.0"])
        .env("GITHUB_SERVER_URL", emulator.url())
        .env("GITEA_TOKEN", "wrong-token-77aa")
        .current_dir(repo.path()))
    .expect_code(1);
    let error = &out.errors()[0].data;
    assert!(
        error.contains("rejected the token from GITEA_TOKEN"),
        "{error}"
    );
    assert!(
        !out.stdout
            .replace("::add-mask::wrong-token-77aa", "")
            .contains("wrong-token-77aa")
    );
    assert!(emulator.releases().is_empty());
}

/// Every file under `dir`, `.git` included.
fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut files = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(next) = stack.pop() {
        for entry in std::fs::read_dir(&next).expect("read dir").flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else {
                files.push(path);
            }
        }
    }
    files
}

#[test]
fn on_a_github_enterprise_runner_the_release_is_made_through_its_api() -> TestResult {
    let repo = scenario::product();
    dist(&repo);
    let emulator = Emulator::start(Flavor::GitHub, repo.path());
    emulator.add_token(TOKEN, Permissions::all());
    let runner = Runner::github();
    let out = run(runner
        .relkit(&["create-release", "--tag", "v1.1.0", "--assets", "dist/*"])
        .env("GITHUB_API_URL", emulator.url())
        .env("GITHUB_TOKEN", TOKEN)
        .current_dir(repo.path()))
    .expect_code(0);
    assert!(
        out.stdout.contains("published release v1.1.0"),
        "{}",
        out.stdout
    );
    let releases = emulator.releases();
    assert_eq!(releases.len(), 1);
    assert!(!releases[0].draft);
    let log_without_mask = out.stdout.replace(&format!("::add-mask::{TOKEN}"), "");
    assert!(!log_without_mask.contains(TOKEN));
    assert_eq!(runner.output("tag"), "v1.1.0");
    Ok(())
}

#[test]
fn a_gitea_runners_github_token_is_never_sent_to_github() {
    let repo = scenario::product();
    dist(&repo);
    let out = run(Runner::gitea()
        .relkit(&["create-release", "--tag", "v1.1.0", "--forge", "github"])
        .env("GITHUB_TOKEN", TOKEN)
        .current_dir(repo.path()))
    .expect_code(2);
    assert!(
        out.errors()[0]
            .data
            .contains("GITHUB_TOKEN holds the Gitea token"),
        "{}",
        out.stdout
    );
}

#[test]
fn an_unknown_workflow_commit_is_named_as_github_sha() {
    let repo = scenario::product();
    let runner = Runner::github();
    let out = run(runner
        .relkit(&["create-release", "--forge", "local", "--prerelease", "auto"])
        .env("GITHUB_SHA", "deadbeefdeadbeefdeadbeefdeadbeefdeadbeef")
        .current_dir(repo.path()))
    .expect_code(2);
    let errors = out.errors();
    assert_eq!(errors.len(), 1, "{}", out.stdout);
    assert!(
        errors[0]
            .data
            .starts_with("the workflow's commit (GITHUB_SHA) \"deadbeef"),
        "{:?}",
        errors[0].data
    );
}

#[test]
fn a_dry_run_under_a_runner_sets_the_outputs_as_planned() {
    let repo = scenario::product();
    dist(&repo);
    let runner = Runner::github();
    run(runner
        .relkit(&["create-release", "--forge", "local", "--bump", "auto"])
        .env("RELKIT_ASSETS", "dist/*")
        .env("RELKIT_DRY_RUN", "true")
        .env("GITHUB_SHA", repo.head())
        .current_dir(repo.path()))
    .expect_code(0);
    assert_eq!(runner.output("tag"), "v1.1.0");
    assert_eq!(runner.output("version"), "1.1.0");
    assert_eq!(runner.output("commit"), repo.head());
    assert_eq!(runner.output("release-url"), "", "no release exists yet");
    assert!(runner.output("manifest").contains("app.tar.gz"));
    assert!(
        runner
            .summary()
            .contains("### Release v1.1.0 (dry run: planned, nothing changed)"),
        "{}",
        runner.summary()
    );
    assert_eq!(repo.git(&["tag", "--list", "v1.1.0"]), "");
}

#[test]
fn a_cliff_command_that_cannot_run_stops_the_release_before_the_tag_and_panics_nowhere() {
    // git-cliff's own configuration runs `typos` on every commit; here it is not installed.
    let repo = scenario::product();
    repo.write(
        "cliff.toml",
        "[git]\ncommit_preprocessors = [{ pattern = '.*', replace_command = 'relkit-no-typos --write-changes -' }]\n",
    );
    repo.git(&["add", "cliff.toml"]);
    repo.commit_staged("feat!: a breaking change");
    let tags = repo.git(&["tag", "--list"]);
    let out =
        run(relkit(&["create-release", "--bump", "auto"]).current_dir(repo.path())).expect_code(2);
    assert!(
        out.stderr
            .contains("cliff.toml ran `relkit-no-typos --write-changes -` on commit "),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.contains("relkit-no-typos: not found"),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.contains("(and it failed on 3 more commits)"),
        "{}",
        out.stderr
    );
    assert!(!out.stderr.contains("panicked"), "{}", out.stderr);
    assert_eq!(repo.git(&["tag", "--list"]), tags, "no tag was created");
    assert!(!repo.path().join(".relkit").exists(), "no release was made");

    // A command that exits without reading a message longer than a pipe holds.
    repo.write(
        "cliff.toml",
        "[git]\ncommit_preprocessors = [{ pattern = '.*', replace_command = 'echo \"feat: short\"' }]\n",
    );
    let message = format!("fix: long\n\n{}", "x".repeat(200_000));
    let file = repo.path().join(".git/long-message");
    std::fs::write(&file, message).expect("write message");
    repo.git(&[
        "commit",
        "--quiet",
        "--allow-empty",
        "-F",
        ".git/long-message",
    ]);
    let out = run(relkit(&["changelog"]).current_dir(repo.path())).expect_code(0);
    assert!(!out.stderr.contains("panicked"), "{}", out.stderr);
    assert!(out.stdout.contains("- Short"), "{}", out.stdout);
}
