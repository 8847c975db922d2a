use proptest::prelude::*;

use crate::common::{TestResult, commands, env, gitea, github, log, reporter, stop_token};

const HOSTILE_COMMIT: &str = "fix: harmless\n\n::set-env name=LD_PRELOAD::/tmp/evil.so\n\
                              ::add-mask::v1.2.3\n  ::endgroup::\r::set-output name=tag::v9\n\
                              ##[set-env name=X;]y\n";

#[test]
fn untrusted_text_is_fenced_by_stop_commands_with_a_fresh_token() -> TestResult {
    let mut reporter = reporter(&github());
    reporter.print_untrusted("feat: add promotion")?;

    let log = log(reporter);
    let token = stop_token(&log).expect("a stop-commands line");
    assert_eq!(token.len(), 32);
    assert!(token.bytes().all(|b| b.is_ascii_hexdigit()));
    assert_eq!(
        log,
        format!("::stop-commands::{token}\nfeat: add promotion\n::{token}::\n")
    );
    Ok(())
}

#[test]
fn a_commit_message_with_set_env_stays_inert() -> TestResult {
    for env in [github(), gitea()] {
        let mut reporter = reporter(&env);
        reporter.print_untrusted(HOSTILE_COMMIT)?;
        reporter.info("after the notes")?;

        let log = log(reporter);
        assert_eq!(commands(&log), [], "{log}");
        assert!(
            log.contains("::set-env name=LD_PRELOAD::/tmp/evil.so"),
            "shown, not run"
        );
        assert!(log.ends_with("after the notes\n"));
    }
    Ok(())
}

#[test]
fn commands_work_again_after_the_fence() -> TestResult {
    let mut reporter = reporter(&github());
    reporter.print_untrusted(HOSTILE_COMMIT)?;
    reporter.mask("s3cret")?;

    let names: Vec<String> = commands(&log(reporter))
        .into_iter()
        .map(|c| c.name)
        .collect();
    assert_eq!(names, ["add-mask"]);
    Ok(())
}

#[test]
fn the_token_appears_nowhere_in_the_text() -> TestResult {
    let mut reporter = reporter(&github());
    reporter.print_untrusted(HOSTILE_COMMIT)?;

    let log = log(reporter);
    let token = stop_token(&log).expect("a stop-commands line");
    assert!(!HOSTILE_COMMIT.to_ascii_lowercase().contains(token));
    assert_eq!(log.matches(token).count(), 2, "only in the fence");
    Ok(())
}

#[test]
fn every_fence_gets_a_new_token() -> TestResult {
    let mut first = reporter(&github());
    first.print_untrusted("a")?;
    let mut second = reporter(&github());
    second.print_untrusted("a")?;

    assert_ne!(stop_token(&log(first)), stop_token(&log(second)));
    Ok(())
}

#[test]
fn info_is_fenced_only_when_it_would_read_as_a_command() -> TestResult {
    let mut reporter = reporter(&github());
    reporter.info("tag v1.2.3: created")?;
    reporter.info("notes:\n   ::set-env name=A::b")?;

    let log = log(reporter);
    assert!(
        log.starts_with("tag v1.2.3: created\n::stop-commands::"),
        "{log}"
    );
    assert_eq!(commands(&log), []);
    Ok(())
}

#[test]
fn in_a_terminal_untrusted_text_sends_no_escape_sequences() -> TestResult {
    let mut reporter = reporter(&env(&[]));
    reporter.print_untrusted("fix: \x1b]0;pwned\x07title\r\nline two\tok\rover")?;

    assert_eq!(
        log(reporter),
        "fix: \\u{1b}]0;pwned\\u{7}title\nline two\tok\\rover\n"
    );
    Ok(())
}

proptest! {
    #[test]
    fn no_untrusted_text_runs_a_command(text in any::<String>()) {
        let mut reporter = reporter(&github());
        reporter.print_untrusted(&text).expect("the log takes writes");
        prop_assert_eq!(commands(&log(reporter)), []);
    }

    #[test]
    fn no_info_text_runs_a_command(text in "(\\PC|::|##\\[|[\r\n ])*") {
        let mut reporter = reporter(&gitea());
        reporter.info(&text).expect("the log takes writes");
        prop_assert_eq!(commands(&log(reporter)), []);
    }
}
