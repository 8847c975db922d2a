use relkit_workflow::{Annotation, Reporter};

use crate::common::{TestResult, env, log, reporter};

#[test]
fn an_error_reads_like_a_compiler_diagnostic() -> TestResult {
    let mut reporter = reporter(&env(&[]));
    reporter.annotate(
        &Annotation::error("`tag` is `1.2`: it must be a full version like `v1.2.3`")
            .with_file("deploy/prod.yaml")
            .with_line(12)
            .with_col(7)
            .with_hint("promote a pre-release instead"),
    )?;

    assert_eq!(
        log(reporter),
        "error: `tag` is `1.2`: it must be a full version like `v1.2.3`\n  \
         --> deploy/prod.yaml:12:7\n\
         help: promote a pre-release instead\n"
    );
    Ok(())
}

#[test]
fn a_title_leads_the_message_and_a_bare_file_is_still_located() -> TestResult {
    let mut reporter = reporter(&env(&[]));
    reporter.annotate(
        &Annotation::warning("uses `:latest`")
            .with_title("unpinned image")
            .with_file("compose.yaml"),
    )?;

    assert_eq!(
        log(reporter),
        "warning: unpinned image: uses `:latest`\n  --> compose.yaml\n"
    );
    Ok(())
}

#[test]
fn colours_are_used_only_when_asked() -> TestResult {
    let annotation = Annotation::notice("nothing to release").with_hint("push a commit");

    let mut plain = reporter(&env(&[]));
    plain.annotate(&annotation)?;
    assert!(!log(plain).contains('\x1b'));

    let mut coloured = Reporter::new(&env(&[]), Vec::new(), true);
    coloured.annotate(&annotation)?;
    assert_eq!(
        log(coloured),
        "\x1b[1;32mnotice\x1b[0m: \x1b[1mnothing to release\x1b[0m\n\
         \x1b[1;36mhelp\x1b[0m: push a commit\n"
    );
    Ok(())
}

#[test]
fn groups_are_headings_in_a_terminal() -> TestResult {
    let mut reporter = reporter(&env(&[]));
    reporter.group("plan", |reporter| reporter.info("tag v1.2.3"))??;

    assert_eq!(log(reporter), "==> plan\ntag v1.2.3\n");
    Ok(())
}

#[test]
fn masks_are_silent_in_a_terminal() -> TestResult {
    let mut reporter = reporter(&env(&[]));
    reporter.mask("hunter2")?;

    assert_eq!(log(reporter), "");
    Ok(())
}

#[test]
fn info_is_printed_as_is_in_a_terminal() -> TestResult {
    let mut reporter = reporter(&env(&[]));
    reporter.info("::not a command here::")?;

    assert_eq!(log(reporter), "::not a command here::\n");
    Ok(())
}
