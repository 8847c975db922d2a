use relkit_workflow::Annotation;

use crate::common::{TestResult, commands, env, gitea, github, log, reporter};

fn bad_tag() -> Annotation {
    Annotation::error("`tag` is `1.2`: it must be a full version like `v1.2.3`")
        .with_file("deploy/prod.yaml")
        .with_line(12)
        .with_col(7)
        .with_hint("promote a pre-release instead")
}

#[test]
fn on_github_an_annotation_is_one_workflow_command_with_the_hint_in_its_message() -> TestResult {
    let mut reporter = reporter(&github());
    reporter.annotate(&bad_tag())?;

    assert_eq!(
        log(reporter),
        "::error file=deploy/prod.yaml,line=12,col=7::\
         `tag` is `1.2`: it must be a full version like `v1.2.3`%0Ahelp: promote a pre-release instead\n"
    );
    Ok(())
}

#[test]
fn on_gitea_every_annotation_is_also_a_plain_log_line() -> TestResult {
    let mut reporter = reporter(&gitea());
    reporter.annotate(&bad_tag())?;
    reporter.annotate(&Annotation::warning(
        "no cliff.toml; using the default template",
    ))?;

    let log = log(reporter);
    let plain: Vec<&str> = log.lines().filter(|line| !line.starts_with("::")).collect();
    assert_eq!(
        plain,
        [
            "error: deploy/prod.yaml:12:7: `tag` is `1.2`: it must be a full version like `v1.2.3`",
            "help: promote a pre-release instead",
            "warning: no cliff.toml; using the default template",
        ]
    );
    let names: Vec<String> = commands(&log).into_iter().map(|c| c.name).collect();
    assert_eq!(names, ["error", "warning"]);
    Ok(())
}

#[test]
fn on_forgejo_annotations_are_also_plain_log_lines() -> TestResult {
    let mut reporter = reporter(&env(&[
        ("GITHUB_ACTIONS", "true"),
        ("GITEA_ACTIONS", "true"),
        ("FORGEJO_ACTIONS", "true"),
    ]));
    reporter.annotate(&Annotation::notice("nothing to release"))?;

    assert_eq!(
        log(reporter),
        "::notice::nothing to release\nnotice: nothing to release\n"
    );
    Ok(())
}

#[test]
fn a_plain_line_that_would_read_as_a_command_is_fenced() -> TestResult {
    let mut reporter = reporter(&gitea());
    reporter.annotate(&Annotation::error("bad value:\n::set-env name=A::b"))?;

    let log = log(reporter);
    let names: Vec<String> = commands(&log).into_iter().map(|c| c.name).collect();
    assert_eq!(names, ["error"], "{log}");
    Ok(())
}

#[test]
fn errors_are_counted_for_the_exit_status() -> TestResult {
    let mut reporter = reporter(&github());
    reporter.annotate(&Annotation::warning("w"))?;
    assert_eq!(reporter.error_count(), 0);
    reporter.annotate(&Annotation::error("e1"))?;
    reporter.annotate(&Annotation::error("e2"))?;
    assert_eq!(reporter.error_count(), 2);
    Ok(())
}

#[test]
fn a_secret_is_masked_line_by_line() -> TestResult {
    let mut reporter = reporter(&github());
    reporter.mask("-----BEGIN KEY-----\nc2VjcmV0%\n-----END KEY-----\n")?;

    let masked: Vec<String> = commands(&log(reporter))
        .into_iter()
        .map(|c| format!("{}={}", c.name, c.data))
        .collect();
    assert_eq!(
        masked,
        [
            "add-mask=-----BEGIN KEY-----",
            "add-mask=c2VjcmV0%",
            "add-mask=-----END KEY-----",
        ]
    );
    Ok(())
}

#[test]
fn groups_are_workflow_commands_and_do_not_nest() -> TestResult {
    let mut reporter = reporter(&github());
    reporter.begin_group("plan: v1.2.3")?;
    reporter.info("tag v1.2.3 -> abc1234")?;
    reporter.begin_group("apply")?;
    reporter.end_group()?;
    reporter.end_group()?;

    assert_eq!(
        log(reporter),
        "::group::plan: v1.2.3\n\
         tag v1.2.3 -> abc1234\n\
         ::endgroup::\n\
         ::group::apply\n\
         ::endgroup::\n"
    );
    Ok(())
}

#[test]
fn a_closure_group_returns_its_value_and_closes() -> TestResult {
    let mut reporter = reporter(&github());
    let value = reporter.group("checks", |reporter| {
        reporter.info("all gates passed")?;
        Ok::<_, relkit_workflow::Error>(42)
    })??;

    assert_eq!(value, 42);
    assert_eq!(
        log(reporter),
        "::group::checks\nall gates passed\n::endgroup::\n"
    );
    Ok(())
}
