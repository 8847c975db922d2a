//! Whole steps as a release captain's workflow runs them, each kept as one snapshot of what the
//! runner would show and pass on: the log with its annotations and groups, the outputs and the
//! step summary. A change to any of them is a change to relkit's contract with its users and
//! shows up here for review (`cargo insta review`).

use std::path::Path;

use relkit_testkit::registry::{Auth, Format, Registry};
use relkit_testkit::{GitRepo, scenario};

use crate::support::{Run, Runner, run, scrub, transcript};

fn dist(repo: &GitRepo) {
    std::fs::create_dir_all(repo.path().join("dist")).expect("mkdir");
    std::fs::write(repo.path().join("dist/app.tar.gz"), "app").expect("write");
    let exclude = repo.path().join(".git/info/exclude");
    std::fs::write(exclude, "dist/\n").expect("exclude");
}

/// Runs `relkit <args>` as a step of a fresh GitHub job in `dir` and returns its transcript.
fn step(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> (Run, String) {
    let runner = Runner::github();
    let out = run(runner
        .relkit(args)
        .current_dir(dir)
        .env("RELKIT_FORGE", "local")
        .envs(env.iter().copied()));
    let text = transcript(args, &out, &runner, dir);
    (out, text)
}

#[test]
fn a_merge_to_main_mints_a_prerelease_with_its_assets() {
    let repo = scenario::product();
    dist(&repo);
    let args = [
        "create-release",
        "--prerelease",
        "auto",
        "--assets",
        "dist/*",
    ];
    let (out, text) = step(repo.path(), &args, &[("GITHUB_SHA", &repo.head())]);
    assert_eq!(out.code, Some(0), "{text}");
    scrub(&[], || insta::assert_snapshot!(text));
}

#[test]
fn a_release_run_again_changes_nothing_and_says_so() {
    let repo = scenario::product();
    dist(&repo);
    let args = ["create-release", "--bump", "auto", "--assets", "dist/*"];
    let (first, text) = step(repo.path(), &args, &[]);
    assert_eq!(first.code, Some(0), "{text}");
    let (again, text) = step(repo.path(), &args, &[]);
    assert_eq!(again.code, Some(0), "{text}");
    scrub(&[], || insta::assert_snapshot!(text));
}

#[test]
fn a_tag_that_is_no_version_is_refused_before_any_change() {
    let repo = scenario::product();
    let args = ["create-release", "--tag", "release-2"];
    let (out, text) = step(repo.path(), &args, &[]);
    assert_eq!(out.code, Some(2), "{text}");
    assert!(
        !repo.path().join(".relkit").exists(),
        "the forge was not touched"
    );
    scrub(&[], || insta::assert_snapshot!(text));
}

#[test]
fn the_notes_and_the_bump_decision_for_the_next_release() {
    let repo = scenario::product();
    let args = ["changelog"];
    let (out, text) = step(repo.path(), &args, &[]);
    assert_eq!(out.code, Some(0), "{text}");
    scrub(&[], || insta::assert_snapshot!(text));
}

#[test]
fn a_check_names_each_image_that_must_not_reach_production() {
    let registry = Registry::start(Auth::Open);
    let host = registry.host().to_owned();
    let released = registry.push_image("acme/app", "v1.2.3", Format::Oci);
    registry.push_image("acme/app", "v1.3.0-rc.2", Format::Oci);
    let dir = tempfile::tempdir().expect("project");
    let docker = tempfile::tempdir().expect("docker config");
    std::fs::write(docker.path().join("config.json"), "{}").expect("config.json");
    std::fs::create_dir(dir.path().join("deploy")).expect("mkdir");
    let compose = format!(
        "services:\n  web:\n    image: {host}/acme/app:latest\n  next:\n    image: {host}/acme/app:v1.3.0-rc.2\n  api:\n    image: {host}/acme/app:v1.2.3\n  worker:\n    image: {host}/acme/app:v1.2.3@{}\n",
        released.digest
    );
    std::fs::write(dir.path().join("deploy/prod.yml"), compose).expect("write");
    let args = ["pin-images", "check", "--production-files", "deploy/*.yml"];
    let docker = docker.path().display().to_string();
    let (out, text) = step(dir.path(), &args, &[("DOCKER_CONFIG", &docker)]);
    assert_eq!(out.code, Some(1), "{text}");
    scrub(&[(r"sha256:[0-9a-f]{64}", "sha256:[DIGEST]")], || {
        insta::assert_snapshot!(text);
    });
}
