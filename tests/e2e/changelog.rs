//! `relkit changelog` on real repositories, in a terminal and under simulated runners.

use relkit_testkit::{GitRepo, scenario};

use crate::support::{Runner, TestResult, assert_bad_input, command, relkit, run};

#[test]
fn in_a_terminal_it_prints_the_decision_and_the_notes_and_no_workflow_command() {
    let repo = scenario::product();
    let out = run(relkit(&["changelog"]).current_dir(repo.path())).expect_code(0);
    // The summary is a message (stderr); the notes alone are the output, as `git cliff`'s.
    assert!(
        out.stderr
            .starts_with("v1.0.0 → v1.1.0 (minor), 3 commits, notes from relkit's built-in"),
        "{}",
        out.stderr
    );
    assert!(out.stdout.starts_with(
        "**Version decision:** minor: 1 feature, 1 fix, 1 other commit, no breaking change"
    ));
    assert!(out.stdout.contains("- Add --quiet option (#12)"));
    for stream in [&out.stdout, &out.stderr] {
        assert!(
            !stream.lines().any(|l| l.starts_with("::")),
            "no workflow commands in a terminal:\n{stream}"
        );
    }
}

#[test]
fn on_a_github_runner_every_output_reaches_the_output_file() -> TestResult {
    let repo = scenario::product();
    let runner = Runner::github();
    let out = run(runner.relkit(&["changelog"]).current_dir(repo.path())).expect_code(0);

    let names: Vec<String> = runner.outputs().into_iter().map(|(n, _)| n).collect();
    assert_eq!(
        names,
        [
            "bump",
            "next-version",
            "next-tag",
            "previous-version",
            "previous-tag",
            "reason",
            "commits",
            "notes",
            "notes-file"
        ]
    );
    assert_eq!(runner.output("bump"), "minor");
    assert_eq!(runner.output("next-version"), "1.1.0");
    assert_eq!(runner.output("next-tag"), "v1.1.0");
    assert_eq!(runner.output("previous-version"), "1.0.0");
    assert_eq!(runner.output("previous-tag"), "v1.0.0");
    assert_eq!(runner.output("commits"), "3");

    // The multi-line notes survive the heredoc, and the file under RUNNER_TEMP holds the same.
    let notes = runner.output("notes");
    let notes_file = runner.output("notes-file");
    assert_eq!(
        notes_file,
        runner.temp().join("relkit-notes.md").display().to_string()
    );
    assert_eq!(
        std::fs::read_to_string(&notes_file)?.trim_end(),
        notes.trim_end()
    );
    assert!(notes.lines().count() > 5, "{notes}");

    // Links point at the repository on github.com.
    assert!(
        notes.contains("([#12](https://github.com/owner/app/pull/12))"),
        "{notes}"
    );
    assert!(
        notes.contains("https://github.com/owner/app/commit/"),
        "{notes}"
    );

    // The notes are in the step summary and, inside a group, in the log.
    assert!(runner.summary().contains("### Features"));
    let names: Vec<String> = out.commands().into_iter().map(|c| c.name).collect();
    assert_eq!(names, ["group", "endgroup"], "{}", out.stdout);
    Ok(())
}

#[test]
fn on_a_gitea_runner_pull_request_links_use_gitea_paths() {
    let repo = scenario::product();
    let runner = Runner::gitea();
    run(runner.relkit(&["changelog"]).current_dir(repo.path())).expect_code(0);
    let notes = runner.output("notes");
    assert!(
        notes.contains("([#12](https://gitea.example.com/owner/app/pulls/12))"),
        "{notes}"
    );
}

#[test]
fn a_commit_message_cannot_run_a_workflow_command() {
    let repo = GitRepo::new();
    // A template that prints whole messages, bodies included, each line at a line start.
    repo.commit_file(
        "cliff.toml",
        "[changelog]\nbody = \"{% for commit in commits %}{{ commit.message }}\\n{% endfor %}\"\n\
         [git]\nconventional_commits = false\n",
        "Add the changelog configuration",
    );
    repo.tag("v1.0.0");
    repo.commit(
        "Quote paths\n\n::set-env name=NODE_OPTIONS::--require=/tmp/evil.js\n::add-mask::secret",
    );
    let runner = Runner::github();
    let out = run(runner.relkit(&["changelog"]).current_dir(repo.path())).expect_code(0);
    assert!(
        out.stdout
            .lines()
            .any(|l| l == "::set-env name=NODE_OPTIONS::--require=/tmp/evil.js"),
        "the message is printed as it is:\n{}",
        out.stdout
    );
    let acted: Vec<String> = out.commands().into_iter().map(|c| c.name).collect();
    assert_eq!(acted, ["group", "endgroup"], "{}", out.stdout);
}

#[test]
fn bad_input_exits_2_with_an_error_annotation_and_writes_nothing() {
    let repo = scenario::product();
    let changelog = repo.path().join("CHANGELOG.md");
    let changelog = changelog.to_str().expect("UTF-8 path");
    let cases: &[(&[&str], &str)] = &[
        (
            &["--tag-prefix", "api/v", "--write", changelog],
            "tag prefix \"api/v\" matches no release tags",
        ),
        (
            &["--next-version", "1.2", "--write", changelog],
            "--next-version \"1.2\"",
        ),
        (
            &["--next-version", "1.0.0", "--write", changelog],
            "--next-version 1.0.0 is not above v1.0.0, the release the notes follow",
        ),
        (
            &["--from", "v7.0.0"],
            "--from \"v7.0.0\" is not a commit, branch or tag",
        ),
        (
            &["--all", "--from", "v1.0.0"],
            "--all and --from (inputs `all` and `from`) exclude each other",
        ),
        (&["--no-such-flag"], "unexpected argument '--no-such-flag'"),
    ];
    assert_bad_input(repo.path(), "changelog", cases, |args, runner| {
        assert!(!runner.temp().join("relkit-notes.md").exists(), "{args:?}");
        assert!(!repo.path().join("CHANGELOG.md").exists(), "{args:?}");
    });
}

#[test]
fn a_shallow_clone_fails_with_the_checkout_fix() {
    let repo = scenario::product();
    let (_dir, clone) = repo.shallow_clone(1);
    let runner = Runner::github();
    let out = run(runner.relkit(&["changelog"]).current_dir(&clone)).expect_code(2);
    let errors = out.errors();
    assert_eq!(errors.len(), 1, "{}", out.stdout);
    assert!(errors[0].data.contains("fetch-depth: 0"), "{:?}", errors[0]);
}

#[test]
fn writing_the_changelog_twice_adds_nothing() -> TestResult {
    let repo = scenario::product();
    let write = || {
        run(relkit(&["changelog", "--write", "CHANGELOG.md"]).current_dir(repo.path()))
            .expect_code(0)
    };
    let first = write();
    assert!(
        first.stderr.contains("CHANGELOG.md: created"),
        "{}",
        first.stderr
    );
    let after_first = std::fs::read_to_string(repo.path().join("CHANGELOG.md"))?;
    let second = write();
    assert!(
        second.stderr.contains("CHANGELOG.md: already up to date"),
        "{}",
        second.stderr
    );
    assert_eq!(
        std::fs::read_to_string(repo.path().join("CHANGELOG.md"))?,
        after_first
    );
    Ok(())
}

#[test]
fn a_link_named_after_the_action_runs_it() -> TestResult {
    let repo = scenario::product();
    let dir = tempfile::tempdir()?;
    for name in ["changelog", "relkit-changelog"] {
        let link = dir.path().join(name);
        std::os::unix::fs::symlink(crate::support::binary(), &link)?;
        let out =
            run(command(&link, &["--tag-prefix", "v"]).current_dir(repo.path())).expect_code(0);
        assert!(
            out.stderr.starts_with("v1.0.0 → v1.1.0"),
            "{name}: {}",
            out.stderr
        );
    }
    Ok(())
}

#[test]
fn an_empty_tag_prefix_is_the_stream_of_bare_versions() {
    let repo = GitRepo::new();
    repo.commit("feat: first");
    repo.tag("1.0.0");
    repo.commit("fix: second");
    let out =
        run(relkit(&["changelog", "--tag-prefix", ""]).current_dir(repo.path())).expect_code(0);
    assert!(
        out.stderr.starts_with("1.0.0 → 1.0.1 (patch)"),
        "{}",
        out.stderr
    );
}

#[test]
fn in_a_clone_of_github_com_the_links_come_from_the_origin_remote() {
    let repo = scenario::product();
    repo.git(&["remote", "add", "origin", "git@github.com:owner/app.git"]);
    let out = run(relkit(&["changelog"]).current_dir(repo.path())).expect_code(0);
    assert!(
        out.stdout
            .contains("([#12](https://github.com/owner/app/pull/12))"),
        "{}",
        out.stdout
    );
}
