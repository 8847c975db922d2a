use std::fs;
use std::path::Path;

use relkit_workflow::{Env, STEP_SUMMARY_LIMIT};

use crate::common::{TestResult, commands, env, github, log, reporter};

fn with_summary_file(path: &Path) -> Env {
    let mut env = github();
    env.set(
        "GITHUB_STEP_SUMMARY",
        path.to_str().expect("temp paths are UTF-8"),
    );
    env
}

#[test]
fn the_summary_is_appended_to_the_step_summary_file() -> TestResult {
    let dir = tempfile::tempdir()?;
    let path = dir.path().join("summary.md");
    fs::write(&path, "# Build\n")?;

    let mut reporter = reporter(&with_summary_file(&path));
    reporter.append_summary("# Release v1.2.3\n")?;
    reporter.append_summary("- tag created\n")?;

    assert_eq!(
        fs::read_to_string(&path)?,
        "# Build\n# Release v1.2.3\n- tag created\n"
    );
    assert_eq!(
        reporter.summary_markdown(),
        "# Release v1.2.3\n- tag created\n"
    );
    assert_eq!(log(reporter), "");
    Ok(())
}

#[test]
fn a_summary_over_one_mebibyte_is_cut_with_a_note_and_the_rest_goes_to_the_log() -> TestResult {
    let dir = tempfile::tempdir()?;
    let path = dir.path().join("summary.md");
    let row = "| v1.2.3 | sha256:0123456789abcdef |\n";
    let rows = STEP_SUMMARY_LIMIT / row.len() + 10;

    let mut reporter = reporter(&with_summary_file(&path));
    reporter.append_summary(&row.repeat(rows))?;
    reporter.append_summary("## After the cut\n")?;

    let written = fs::read_to_string(&path)?;
    assert!(written.len() <= STEP_SUMMARY_LIMIT, "{}", written.len());
    let (kept, note) = written
        .split_once("\n\n> ")
        .expect("a note after the kept rows");
    assert!(
        kept.lines().all(|line| format!("{line}\n") == row),
        "whole rows only"
    );
    assert!(note.contains("1 MiB") && note.contains("log"), "{note}");
    assert!(!written.contains("After the cut"));

    let log = log(reporter);
    assert!(log.contains("## After the cut"));
    let logged_rows = log
        .lines()
        .filter(|line| format!("{line}\n") == row)
        .count();
    assert_eq!(kept.lines().count() + logged_rows, rows, "no row is lost");
    assert!(commands(&log).is_empty(), "the overflow is fenced");
    Ok(())
}

#[test]
fn bytes_already_in_the_summary_file_count_towards_the_limit() -> TestResult {
    let dir = tempfile::tempdir()?;
    let path = dir.path().join("summary.md");
    fs::write(&path, "x".repeat(STEP_SUMMARY_LIMIT - 100))?;

    let mut reporter = reporter(&with_summary_file(&path));
    reporter.append_summary(&"y".repeat(200))?;

    assert!(fs::metadata(&path)?.len() <= STEP_SUMMARY_LIMIT as u64);
    assert!(log(reporter).contains("yyyy"));
    Ok(())
}

#[test]
fn a_cut_never_splits_a_multibyte_character() -> TestResult {
    let dir = tempfile::tempdir()?;
    let path = dir.path().join("summary.md");

    let mut reporter = reporter(&with_summary_file(&path));
    reporter.append_summary(&"é".repeat(STEP_SUMMARY_LIMIT))?;

    let written = fs::read(&path)?;
    assert!(written.len() <= STEP_SUMMARY_LIMIT);
    assert!(String::from_utf8(written).is_ok());
    Ok(())
}

#[test]
fn in_a_terminal_the_summary_is_kept_in_memory() -> TestResult {
    let mut reporter = reporter(&env(&[]));
    reporter.append_summary("# Release v1.2.3\n")?;

    assert_eq!(reporter.summary_markdown(), "# Release v1.2.3\n");
    assert_eq!(log(reporter), "");
    Ok(())
}
