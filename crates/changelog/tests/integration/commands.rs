//! A configuration's shell commands (`replace_command`): a failure stops the notes, it never
//! drops the commit it failed on.

use relkit_changelog::{ConfigSource, Error, Range, generate};
use relkit_testkit::GitRepo;
use relkit_version::Bump;

use crate::request;

/// A repository released at v1.0.0, then a fix and a breaking feature, with `cliff.toml`.
fn released_with(config: &str) -> GitRepo {
    let repo = GitRepo::new();
    repo.commit("feat: first");
    repo.tag("v1.0.0");
    repo.commit("fix: a crash on empty input");
    repo.commit("feat!: drop the old API");
    repo.write("cliff.toml", config);
    repo
}

fn preprocessor(pattern: &str, command: &str) -> String {
    format!(
        "[changelog]\nbody = \"{{% for c in commits %}}{{{{ c.message }}}}\\n{{% endfor %}}\"\n\
         [git]\nconventional_commits = true\nfilter_unconventional = false\n\
         commit_preprocessors = [{{ pattern = '{pattern}', replace_command = '{command}' }}]\n"
    )
}

fn notes_of(repo: &GitRepo) -> Result<relkit_changelog::Notes, Error> {
    let mut req = request(repo.path(), Range::default());
    req.config = ConfigSource::File("cliff.toml".into());
    generate(&req)
}

#[test]
fn a_preprocessor_whose_tool_is_missing_stops_the_notes_naming_the_entry_and_commit() {
    let repo = released_with(&preprocessor(".*", "relkit-no-such-tool --write-changes -"));
    let err = notes_of(&repo).expect_err("the command cannot run");
    assert!(matches!(err, Error::CommandFailed(_)), "{err:?}");
    assert!(err.is_bad_input());
    let text = err.to_string();
    for part in [
        "git.commit_preprocessors[0] of ",
        "cliff.toml ran `relkit-no-such-tool --write-changes -`",
        "(\"fix: a crash on empty input\")",
        "exit status 127",
        "relkit-no-such-tool: not found",
        "(and it failed on 1 more commit)",
    ] {
        assert!(text.contains(part), "{part:?} in {text}");
    }
    assert!(
        err.hint()
            .expect("a hint")
            .contains("install what the command runs")
    );
}

#[test]
fn a_command_that_fails_on_the_breaking_commit_does_not_turn_major_into_patch() {
    // Fails only for the message that holds a "!": the commit that makes this release major.
    let repo = released_with(&preprocessor("!", "echo refused >&2; exit 3"));
    let err = notes_of(&repo).expect_err("the breaking commit's command fails");
    let text = err.to_string();
    assert!(text.contains("(\"feat!: drop the old API\")"), "{text}");
    assert!(text.contains("exit status 3; it said: refused"), "{text}");
    assert!(!text.contains("more commits"), "{text}");
}

#[test]
fn commands_that_succeed_still_rewrite_the_messages() {
    let repo = released_with(&preprocessor("crash", "sed s/crash/panic/"));
    let notes = notes_of(&repo).expect("the command works");
    assert_eq!(notes.decision.bump, Bump::Major);
    assert!(
        notes.markdown.contains("\na panic on empty input\n"),
        "{}",
        notes.markdown
    );
}

#[test]
fn a_command_that_never_reads_its_input_is_not_a_failure() {
    // git-cliff-core's stdin writer panicked on the broken pipe this makes.
    let big = "x".repeat(200_000);
    let repo = GitRepo::new();
    repo.commit("feat: first");
    repo.tag("v1.0.0");
    // More than a pipe holds, so the writer would block, then break, without the drain.
    let message = tempfile::NamedTempFile::new().expect("temp file");
    std::fs::write(message.path(), format!("fix: long\n\n{big}")).expect("write message");
    let file = message.path().to_str().expect("utf-8 path");
    repo.git(&["commit", "--allow-empty", "--quiet", "-F", file]);
    repo.write("cliff.toml", &preprocessor("long", "echo \"fix: short\""));
    let notes = notes_of(&repo).expect("the command succeeds");
    assert!(notes.markdown.contains("\nshort\n"), "{}", notes.markdown);
    assert_eq!(notes.commits, 1);
}

#[test]
fn a_failing_postprocessor_names_the_rendered_notes() {
    let repo = released_with(
        "[changelog]\nbody = \"{% for c in commits %}{{ c.message }}\\n{% endfor %}\"\n\
         postprocessors = [{ pattern = 'API', replace = 'api' }, \
         { pattern = '.', replace_command = 'cat >/dev/null; echo lint failed >&2; exit 1' }]\n",
    );
    let err = notes_of(&repo).expect_err("the postprocessor fails");
    let text = err.to_string();
    assert!(
        text.contains("changelog.postprocessors[1] of "),
        "the entry is counted among all postprocessors: {text}"
    );
    assert!(text.contains("on the rendered notes"), "{text}");
    assert!(text.contains("it said: lint failed"), "{text}");
}

#[test]
fn commands_run_in_the_top_directory_of_the_repository() {
    let repo = released_with(&preprocessor("crash", "cat >/dev/null; cat marker.txt"));
    repo.write("marker.txt", "fix: read from the repository");
    let notes = notes_of(&repo).expect("the file is found from the top directory");
    assert!(
        notes.markdown.contains("\nread from the repository\n"),
        "{}",
        notes.markdown
    );
}
