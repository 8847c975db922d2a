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

/// The subjects of `range`'s commits in walk order.
fn subjects(git: &Repository, range: &str, topo: bool) -> Vec<String> {
    git.commits(range, topo)
        .expect("a walk")
        .into_iter()
        .map(|c| c.message)
        .collect()
}

#[test]
fn a_time_ordered_walk_puts_a_parent_with_a_later_clock_before_its_child() {
    const T: i64 = 1_704_067_200;
    let repo = GitRepo::new();
    repo.set_clock(T);
    repo.commit("base");
    repo.set_clock(T + 7200);
    repo.commit("ahead");
    repo.set_clock(T + 3600);
    repo.commit("behind");
    let git = open(&repo);
    assert_eq!(subjects(&git, "HEAD", false), ["ahead", "behind", "base"]);
    assert_eq!(subjects(&git, "HEAD", true), ["behind", "ahead", "base"]);
}

#[test]
fn a_time_ordered_range_shows_what_libgit2_shows_even_where_git_does_not() {
    // `main` merged `shown` through commits whose clocks jump back and forth, so libgit2 gives
    // up before it learns that `shown` is hidden by `main`, and shows it; git knows better.
    const T: i64 = 1_704_067_200;
    let repo = GitRepo::new();
    repo.set_clock(T);
    repo.commit("base");
    repo.branch("side");
    repo.set_clock(T + 60);
    let shown = repo.commit("shown");
    for (n, offset) in [-7140, 3660, 3660, 3720, -3480, -3420, -3420]
        .iter()
        .enumerate()
    {
        repo.set_clock(T + offset);
        repo.commit(&format!("skewed {n}"));
    }
    repo.switch("main");
    repo.set_clock(T - 10_620);
    repo.merge("side", "Merge side");
    let git = open(&repo);
    let range = format!("main..{shown}");
    assert_eq!(git.count(&range).expect("count"), 0);
    assert_eq!(subjects(&git, &range, false), ["shown"]);
    assert!(subjects(&git, &range, true).is_empty());
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
