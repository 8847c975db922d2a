//! relkit-git on real repositories built by relkit-testkit.

use relkit_git::{Error, Repository};
use relkit_testkit::{GitRepo, scenario};

fn open(repo: &GitRepo) -> Repository {
    Repository::discover(repo.path()).expect("a repository")
}

#[test]
fn a_range_is_counted() {
    let repo = scenario::product();
    let git = open(&repo);
    assert_eq!(git.count("v1.0.0..HEAD").expect("count"), 3);
    assert_eq!(git.count("v0.1.0").expect("count"), 3);
}

#[test]
fn a_created_annotated_tag_points_at_the_commit_and_keeps_its_message() {
    let repo = scenario::product();
    let git = open(&repo);
    let target = git.resolve("v1.0.0").expect("resolve").expect("a commit");
    git.create_tag("v9.0.0", &target, Some("Release 9.0.0\n\nnotes"))
        .expect("tag");
    assert_eq!(git.tag_commit("v9.0.0").expect("read"), Some(target));
    assert_eq!(
        git.tag_message("v9.0.0").expect("read").as_deref(),
        Some("Release 9.0.0\n\nnotes")
    );
}

#[test]
fn a_lightweight_tag_has_no_message_and_a_missing_tag_no_commit() {
    let repo = scenario::product();
    let git = open(&repo);
    assert_eq!(git.tag_message("v0.1.0").expect("read"), None);
    assert_eq!(git.tag_commit("v7.7.7").expect("read"), None);
}

#[test]
fn an_existing_tag_is_never_moved() {
    let repo = scenario::product();
    let git = open(&repo);
    let before = git.tag_commit("v1.0.0").expect("read");
    let err = git
        .create_tag("v1.0.0", "HEAD", None)
        .expect_err("the tag exists");
    assert!(matches!(err, Error::Failed { .. }), "{err:?}");
    assert_eq!(git.tag_commit("v1.0.0").expect("read"), before);
}

#[test]
fn tag_names_follow_git_rules() {
    let repo = scenario::product();
    let git = open(&repo);
    for good in ["v1.2.3", "edge/v1.2.3", "v1.2.0-pre.3+abc1234"] {
        assert!(git.is_valid_tag_name(good).expect("check"), "{good}");
    }
    for bad in ["v1..2", "-v1", "v1 2", "v1~2", "edge//v1", "v1.lock", ""] {
        assert!(!git.is_valid_tag_name(bad).expect("check"), "{bad:?}");
    }
}

#[test]
fn a_directory_outside_a_repository_is_named() {
    let dir = tempfile::tempdir().expect("tempdir");
    let err = Repository::discover(dir.path()).expect_err("not a repository");
    assert!(matches!(err, Error::NotARepository { .. }), "{err:?}");
}
