//! Bad input gets an error that names the input, the value and the rule, before anything is
//! written.

use relkit_changelog::{ConfigSource, Error, Range, generate};
use relkit_testkit::{GitRepo, scenario};
use relkit_version::Stream;

use crate::{head, request};

#[test]
fn a_directory_outside_any_repository_is_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    let err = generate(&request(dir.path(), Range::default())).expect_err("not a repo");
    assert!(matches!(err, Error::NotARepository { .. }), "{err:?}");
    assert!(err.to_string().contains("is not inside a git repository"));
    assert!(err.is_bad_input());
}

#[test]
fn a_shallow_clone_is_refused_with_the_checkout_fix() {
    let repo = scenario::product();
    let (_dir, clone) = repo.shallow_clone(2);
    let err = generate(&request(&clone, Range::default())).expect_err("shallow");
    assert!(matches!(err, Error::ShallowClone { .. }), "{err:?}");
    assert!(err.hint().expect("a hint").contains("fetch-depth: 0"));
}

#[test]
fn a_from_tag_that_does_not_exist_is_named() {
    let repo = scenario::product();
    let range = Range::Between {
        from: "v9.9.9".to_owned(),
        to: head(),
    };
    let err = generate(&request(repo.path(), range)).expect_err("unknown tag");
    assert_eq!(
        err.to_string(),
        "--from \"v9.9.9\" is not a commit, branch or tag of this repository"
    );
}

#[test]
fn a_revision_that_looks_like_an_option_is_not_passed_to_git() {
    let repo = scenario::product();
    let range = Range::Between {
        from: "--output=/tmp/x".to_owned(),
        to: head(),
    };
    let err = generate(&request(repo.path(), range)).expect_err("refused");
    assert!(matches!(
        err,
        Error::UnknownRevision {
            input: "--from",
            ..
        }
    ));
}

#[test]
fn a_tag_prefix_with_no_tags_lists_the_prefixes_found() {
    let repo = scenario::two_streams();
    let mut req = request(repo.path(), Range::default());
    req.stream = Stream::new("edge/").expect("valid prefix");
    let err = generate(&req).expect_err("no tags");
    assert_eq!(
        err.to_string(),
        "tag prefix \"edge/\" matches no release tags; the repository has version tags with \"cloud/v\", \"edge/v\", \"v\""
    );
    req.first_release = true;
    assert!(
        generate(&req).is_ok(),
        "a stream's first release is allowed"
    );
}

#[test]
fn an_invalid_cliff_toml_is_named_with_its_problem() {
    let repo = scenario::product();
    repo.write("cliff.toml", "[changelog\nbody = 1\n");
    let err = generate(&request(repo.path(), Range::default())).expect_err("invalid");
    let Error::InvalidConfig { path, message } = &err else {
        panic!("expected an invalid configuration, got {err:?}");
    };
    assert!(path.ends_with("cliff.toml"));
    assert!(!message.is_empty());
}

#[test]
fn a_template_that_does_not_compile_is_a_configuration_error() {
    let repo = scenario::product();
    repo.write("cliff.toml", "[changelog]\nbody = \"{% for x in %}\"\n");
    let err = generate(&request(repo.path(), Range::default())).expect_err("invalid");
    assert!(matches!(err, Error::InvalidConfig { .. }), "{err:?}");
}

#[test]
fn a_configuration_file_that_does_not_exist_is_named() {
    let repo = scenario::product();
    let mut req = request(repo.path(), Range::default());
    req.config = ConfigSource::File("missing.toml".into());
    let err = generate(&req).expect_err("missing");
    assert!(err.to_string().contains("missing.toml"), "{err}");
}

#[test]
fn an_invalid_path_pattern_is_named() {
    let repo = scenario::product();
    let mut req = request(repo.path(), Range::default());
    req.include_paths = vec!["src/[".to_owned()];
    let err = generate(&req).expect_err("bad glob");
    assert!(
        err.to_string().starts_with("--include-path \"src/[\""),
        "{err}"
    );
}

#[test]
fn a_repository_without_commits_is_refused() {
    let repo = GitRepo::new();
    let err = generate(&request(repo.path(), Range::default())).expect_err("empty");
    assert!(matches!(err, Error::NoCommits { .. }), "{err:?}");
}

#[test]
fn a_version_that_is_not_semver_is_refused_with_the_rule() {
    let stream = Stream::new("v").expect("valid prefix");
    let err = stream
        .parse_version("--next-version", "1.2")
        .expect_err("not semver");
    let text = err.to_string();
    assert!(
        text.contains("--next-version") && text.contains("1.2"),
        "{text}"
    );
}

#[test]
fn a_configuration_that_is_not_a_regular_file_is_named_as_such() {
    let repo = scenario::product();
    let mut req = request(repo.path(), Range::default());
    req.config = ConfigSource::File("/dev/null".into());
    let err = generate(&req).expect_err("not a file");
    assert_eq!(
        err.to_string(),
        "git-cliff configuration /dev/null is not a regular file (a directory, a device?)"
    );
    assert!(err.is_bad_input());
}
