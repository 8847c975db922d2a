use std::fs;
use std::path::Path;

use relkit_workflow::Error;

use crate::common::{TestResult, env, github, read_output_file, reporter};

fn with_output_file(path: &Path) -> relkit_workflow::Env {
    let mut env = github();
    env.set(
        "GITHUB_OUTPUT",
        path.to_str().expect("temp paths are UTF-8"),
    );
    env
}

#[test]
fn outputs_are_appended_to_the_github_output_file_in_heredoc_form() -> TestResult {
    let dir = tempfile::tempdir()?;
    let path = dir.path().join("output");
    fs::write(&path, "earlier=from another step\n")?;

    let mut reporter = reporter(&with_output_file(&path));
    reporter.set_output("tag", "v1.2.3")?;

    let contents = fs::read_to_string(&path)?;
    let (earlier, ours) = contents.split_once('\n').expect("the earlier line is kept");
    assert_eq!(earlier, "earlier=from another step");
    let lines: Vec<&str> = ours.lines().collect();
    let delimiter = lines[0]
        .strip_prefix("tag<<ghadelimiter_")
        .expect("a heredoc with a ghadelimiter_ delimiter");
    assert_eq!(
        delimiter.len(),
        36,
        "a UUID follows the prefix: {delimiter}"
    );
    assert_eq!(lines[1..], ["v1.2.3", &format!("ghadelimiter_{delimiter}")]);
    assert!(contents.ends_with('\n'));
    Ok(())
}

#[test]
fn a_multi_line_value_reads_back_unchanged() -> TestResult {
    let dir = tempfile::tempdir()?;
    let path = dir.path().join("output");
    let notes = "## v1.2.3\n\n- feat: a\n- fix: b\n";

    let mut reporter = reporter(&with_output_file(&path));
    reporter.set_output("notes", notes)?;
    reporter.set_output("tag", "v1.2.3")?;

    assert_eq!(
        read_output_file(&fs::read_to_string(&path)?)?,
        [
            ("notes".to_owned(), notes.to_owned()),
            ("tag".to_owned(), "v1.2.3".to_owned()),
        ]
    );
    Ok(())
}

#[test]
fn a_value_holding_delimiter_like_lines_reads_back_unchanged() -> TestResult {
    let dir = tempfile::tempdir()?;
    let path = dir.path().join("output");
    let value = "EOF\nghadelimiter_00000000-0000-4000-8000-000000000000\nx<<EOF\nevil=1";

    let mut reporter = reporter(&with_output_file(&path));
    reporter.set_output("notes", value)?;

    assert_eq!(
        read_output_file(&fs::read_to_string(&path)?)?,
        [("notes".to_owned(), value.to_owned())]
    );
    Ok(())
}

#[test]
fn every_output_gets_its_own_delimiter() -> TestResult {
    let dir = tempfile::tempdir()?;
    let path = dir.path().join("output");

    let mut reporter = reporter(&with_output_file(&path));
    reporter.set_output("a", "1")?;
    reporter.set_output("b", "2")?;

    let contents = fs::read_to_string(&path)?;
    let delimiters: Vec<&str> = contents
        .lines()
        .filter_map(|line| line.split_once("<<").map(|(_, delimiter)| delimiter))
        .collect();
    assert_eq!(delimiters.len(), 2);
    assert_ne!(delimiters[0], delimiters[1]);
    Ok(())
}

#[test]
fn an_invalid_output_name_is_refused_and_nothing_is_written() -> TestResult {
    let dir = tempfile::tempdir()?;
    let path = dir.path().join("output");

    let mut reporter = reporter(&with_output_file(&path));
    let error = reporter.set_output("image digest", "sha256:abc");

    assert!(
        matches!(&error, Err(Error::InvalidOutputName { name }) if name == "image digest"),
        "{error:?}"
    );
    assert!(!path.exists());
    assert!(reporter.outputs().is_empty());
    Ok(())
}

#[test]
fn an_unwritable_output_file_is_an_error_naming_the_variable_and_path() -> TestResult {
    let dir = tempfile::tempdir()?;
    let path = dir.path().join("missing-dir").join("output");

    let mut reporter = reporter(&with_output_file(&path));
    let error = reporter
        .set_output("tag", "v1")
        .expect_err("the directory does not exist");

    let message = error.to_string();
    assert!(message.contains("GITHUB_OUTPUT"), "{message}");
    assert!(message.contains(&path.display().to_string()), "{message}");
    Ok(())
}

#[test]
fn without_github_output_outputs_are_kept_in_memory() -> TestResult {
    let mut reporter = reporter(&env(&[]));
    reporter.set_output("tag", "v1.2.3")?;
    reporter.set_output("notes", "a\nb")?;
    reporter.set_output("tag", "v1.2.4")?;

    let outputs = reporter.outputs();
    assert_eq!(outputs.get("tag"), Some("v1.2.4"));
    assert_eq!(outputs.get("notes"), Some("a\nb"));
    assert_eq!(outputs.to_string(), "notes=\n  a\n  b\ntag=v1.2.4\n");
    Ok(())
}
