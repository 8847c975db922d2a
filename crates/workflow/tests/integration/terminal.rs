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

/// A `Write` the test keeps a handle on.
#[derive(Clone, Default)]
struct Shared(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

impl std::io::Write for Shared {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().expect("not poisoned").extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Shared {
    fn text(&self) -> String {
        String::from_utf8(self.0.lock().expect("not poisoned").clone()).expect("UTF-8")
    }
}

#[test]
fn in_a_terminal_messages_go_to_the_diagnostics_and_output_to_the_log() -> TestResult {
    let diagnostics = Shared::default();
    let mut reporter = reporter(&env(&[])).with_diagnostics(Box::new(diagnostics.clone()));
    reporter.begin_group("Notes")?;
    reporter.info("v1.0.0 → v1.1.0 (minor)")?;
    reporter.print_untrusted("## v1.1.0\n")?;
    reporter.annotate(&Annotation::warning("check the bump"))?;
    assert_eq!(
        diagnostics.text(),
        "==> Notes\nv1.0.0 → v1.1.0 (minor)\nwarning: check the bump\n"
    );
    assert_eq!(log(reporter), "## v1.1.0\n");
    Ok(())
}

#[test]
fn under_a_runner_everything_goes_to_the_log_in_order() -> TestResult {
    let diagnostics = Shared::default();
    let mut reporter =
        reporter(&crate::common::github()).with_diagnostics(Box::new(diagnostics.clone()));
    reporter.info("planned")?;
    reporter.print_untrusted("## v1.1.0\n")?;
    reporter.annotate(&Annotation::warning("check the bump"))?;
    assert_eq!(diagnostics.text(), "");
    let log = log(reporter);
    let planned = log.find("planned").expect("the message");
    let notes = log.find("## v1.1.0").expect("the notes");
    let warning = log
        .find("::warning::check the bump")
        .expect("the annotation");
    assert!(planned < notes && notes < warning, "{log}");
    Ok(())
}
