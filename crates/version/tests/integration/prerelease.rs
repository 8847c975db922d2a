use relkit_version::{
    Bump, PrereleaseBase, PrereleaseError, ShortSha, Version, VersionKind, next_prerelease,
    next_rc, prerelease_base, prerelease_version,
};

use crate::{v, versions};

fn sha(commit: &str) -> ShortSha {
    commit.parse().expect("tests use valid commit ids")
}

const HEAD: &str = "abc1234def5678abc1234def5678abc1234def56";

#[test]
fn a_pre_release_is_named_base_pre_count_sha_as_in_the_playbook() {
    let pre = prerelease_version(&v("1.2.0"), 145, &sha(HEAD));
    assert_eq!(pre.to_string(), "1.2.0-pre.145+abc1234");
    assert_eq!(
        VersionKind::of(&pre),
        VersionKind::Prerelease { count: 145 }
    );
}

#[test]
fn a_pre_release_uses_only_the_x_y_z_of_its_base() {
    let pre = prerelease_version(&v("1.2.0-rc.1+old"), 3, &sha(HEAD));
    assert_eq!(pre, v("1.2.0-pre.3+abc1234"));
}

#[test]
fn a_pre_release_right_at_its_base_counts_zero_commits() {
    assert_eq!(
        prerelease_version(&v("1.2.0"), 0, &sha(HEAD)),
        v("1.2.0-pre.0+abc1234")
    );
}

#[test]
fn a_commit_id_is_cut_to_seven_lowercase_hex_digits() {
    assert_eq!(sha(HEAD).as_str(), "abc1234");
    assert_eq!(sha("ABC1234").as_str(), "abc1234");
    assert_eq!(sha("0123456789").to_string(), "0123456");
    assert_eq!(sha("abc1234\n").as_str(), "abc1234");
    assert_eq!(ShortSha::LEN, 7);
}

#[test]
fn a_commit_id_with_a_character_that_is_not_hex_is_refused() {
    let error = ShortSha::new("abc123g").expect_err("g is not hex");
    assert_eq!(
        error,
        PrereleaseError::ShaNotHex {
            commit: "abc123g".to_owned(),
            found: 'g'
        }
    );
    assert_eq!(
        error.to_string(),
        r#"commit id "abc123g" contains 'g': a pre-release names its commit by hex digits, like abc1234"#
    );
    assert!(ShortSha::new("refs/heads/main").is_err());
    assert!(ShortSha::new("abc 1234").is_err());
}

#[test]
fn a_commit_id_shorter_than_seven_hex_digits_is_refused() {
    for commit in ["", "abc123", "  abc12  "] {
        let error = ShortSha::new(commit).expect_err("too short");
        assert_eq!(
            error,
            PrereleaseError::ShaTooShort {
                commit: commit.to_owned()
            }
        );
    }
    assert_eq!(
        ShortSha::new("abc").expect_err("too short").to_string(),
        r#"commit id "abc" is shorter than 7 hex digits: a pre-release names its commit by 7, like abc1234"#
    );
}

#[test]
fn the_latest_base_is_the_newest_full_release_of_the_stream() {
    let releases = versions(&[
        "1.1.0",
        "1.2.0",
        "1.3.0-rc.1",
        "1.3.0-pre.9+abc1234",
        "1.0.5",
    ]);
    let pre = next_prerelease(
        &releases,
        PrereleaseBase::Latest,
        Bump::Minor,
        145,
        &sha(HEAD),
    );
    assert_eq!(pre, Ok(v("1.2.0-pre.145+abc1234")));
}

#[test]
fn the_next_base_is_the_newest_full_release_bumped_as_the_commits_call_for() {
    let releases = versions(&["1.1.0", "1.2.0", "1.3.0-rc.1"]);
    let next = |bump| next_prerelease(&releases, PrereleaseBase::Next, bump, 7, &sha(HEAD));
    assert_eq!(next(Bump::Patch), Ok(v("1.2.1-pre.7+abc1234")));
    assert_eq!(next(Bump::Minor), Ok(v("1.3.0-pre.7+abc1234")));
    assert_eq!(next(Bump::Major), Ok(v("2.0.0-pre.7+abc1234")));
}

#[test]
fn with_the_next_base_and_no_bump_called_for_the_base_is_the_next_patch() {
    let releases = versions(&["1.2.0"]);
    let pre = next_prerelease(&releases, PrereleaseBase::Next, Bump::None, 0, &sha(HEAD));
    assert_eq!(pre, Ok(v("1.2.1-pre.0+abc1234")));
}

#[test]
fn a_stream_without_releases_has_pre_releases_of_0_0_0() {
    let none: &[Version] = &[];
    let latest = next_prerelease(none, PrereleaseBase::Latest, Bump::Minor, 12, &sha(HEAD));
    assert_eq!(latest, Ok(v("0.0.0-pre.12+abc1234")));
    let next = next_prerelease(none, PrereleaseBase::Next, Bump::Minor, 12, &sha(HEAD));
    assert_eq!(next, Ok(v("0.1.0-pre.12+abc1234")));
    let only_candidates = versions(&["1.0.0-rc.1"]);
    let latest = next_prerelease(
        &only_candidates,
        PrereleaseBase::Latest,
        Bump::Patch,
        1,
        &sha(HEAD),
    );
    assert_eq!(latest, Ok(v("0.0.0-pre.1+abc1234")));
}

#[test]
fn with_the_latest_base_a_pre_release_ranks_below_the_release_it_follows() {
    // The playbook's form: a known SemVer quirk, and the reason the `Next` base exists.
    let pre = prerelease_version(&v("1.2.0"), 145, &sha(HEAD));
    assert!(pre < v("1.2.0"));
    assert!(pre > v("1.1.9"));
}

#[test]
fn with_the_next_base_a_pre_release_ranks_between_the_release_it_follows_and_the_one_it_leads_to() {
    let releases = versions(&["1.2.0"]);
    let pre = next_prerelease(
        &releases,
        PrereleaseBase::Next,
        Bump::Minor,
        145,
        &sha(HEAD),
    )
    .expect("no overflow");
    assert!(v("1.2.0") < pre && pre < v("1.3.0"));
}

#[test]
fn pre_releases_of_one_base_rank_by_their_commit_count_not_by_text() {
    let nine = prerelease_version(&v("1.2.0"), 9, &sha("fffffff"));
    let ten = prerelease_version(&v("1.2.0"), 10, &sha("0000000"));
    assert!(nine < ten);
}

#[test]
fn a_next_base_past_the_largest_number_is_an_error() {
    let releases = [Version::new(u64::MAX, 0, 0)];
    let error = next_prerelease(&releases, PrereleaseBase::Next, Bump::Major, 1, &sha(HEAD))
        .expect_err("overflows");
    assert!(matches!(error, PrereleaseError::Bump(_)));
}

#[test]
fn the_pre_release_base_reads_latest_or_next_in_any_case() {
    assert_eq!("latest".parse(), Ok(PrereleaseBase::Latest));
    assert_eq!("Next".parse(), Ok(PrereleaseBase::Next));
    assert_eq!(PrereleaseBase::default(), PrereleaseBase::Latest);
    assert_eq!(PrereleaseBase::Next.to_string(), "next");
    let error = "newest".parse::<PrereleaseBase>().expect_err("unknown");
    assert_eq!(
        error.to_string(),
        r#"pre-release base "newest" is not one of latest, next"#
    );
}

#[test]
fn the_first_release_candidate_is_rc_1() {
    assert_eq!(next_rc(&v("1.2.3"), &[]), Ok(v("1.2.3-rc.1")));
}

#[test]
fn the_next_release_candidate_follows_the_highest_and_leaves_gaps() {
    let existing = versions(&["1.2.3-rc.1", "1.2.3-rc.4", "1.2.3-rc.2"]);
    assert_eq!(next_rc(&v("1.2.3"), &existing), Ok(v("1.2.3-rc.5")));
}

#[test]
fn release_candidates_of_other_versions_and_other_pre_releases_do_not_count() {
    let existing = versions(&[
        "1.2.4-rc.9",
        "1.2.2-rc.9",
        "1.2.3-pre.40+abc1234",
        "1.2.3-beta.7",
        "1.2.3-rc.x",
        "1.2.3",
    ]);
    assert_eq!(next_rc(&v("1.2.3"), &existing), Ok(v("1.2.3-rc.1")));
}

#[test]
fn release_candidates_with_build_metadata_still_count() {
    let existing = versions(&["1.2.3-rc.2+abc1234"]);
    assert_eq!(next_rc(&v("1.2.3"), &existing), Ok(v("1.2.3-rc.3")));
}

#[test]
fn a_release_candidate_uses_only_the_x_y_z_of_its_target() {
    let existing = versions(&["1.2.3-rc.1"]);
    assert_eq!(
        next_rc(&v("1.2.3-rc.1+abc"), &existing),
        Ok(v("1.2.3-rc.2"))
    );
}

#[test]
fn a_release_candidate_number_past_64_bits_is_an_error() {
    let existing = [v(&format!("1.2.3-rc.{}", u64::MAX))];
    assert_eq!(
        next_rc(&v("1.2.3"), &existing),
        Err(PrereleaseError::RcOverflow {
            target: v("1.2.3"),
            highest: u64::MAX
        })
    );
}

#[test]
fn the_base_of_a_pre_release_is_its_x_y_z() {
    assert_eq!(
        prerelease_base(&v("1.2.0-pre.145+abc1234")),
        Some(v("1.2.0"))
    );
    assert_eq!(prerelease_base(&v("1.2.3-rc.2")), Some(v("1.2.3")));
    assert_eq!(prerelease_base(&v("1.2.3-beta.1")), Some(v("1.2.3")));
}

#[test]
fn a_version_without_a_pre_release_part_has_no_pre_release_base() {
    assert_eq!(prerelease_base(&v("1.2.3")), None);
    assert_eq!(prerelease_base(&v("1.2.3+build")), None);
}

#[test]
fn kinds_tell_the_forms_relkit_makes_apart() {
    let kind = |s: &str| VersionKind::of(&v(s));
    assert_eq!(kind("1.2.3"), VersionKind::Full);
    assert_eq!(kind("0.0.0"), VersionKind::Full);
    assert_eq!(
        kind("1.2.0-pre.145+abc1234"),
        VersionKind::Prerelease { count: 145 }
    );
    assert_eq!(
        kind("1.2.0-pre.145"),
        VersionKind::Prerelease { count: 145 }
    );
    assert_eq!(
        kind("1.2.3-rc.2"),
        VersionKind::ReleaseCandidate { number: 2 }
    );
    assert_eq!(kind("1.2.3-alpha"), VersionKind::Other);
    assert_eq!(kind("1.2.3-pre.-1"), VersionKind::Other);
    assert_eq!(kind("1.2.3+build"), VersionKind::Other);
    assert!(VersionKind::Full.is_full());
    assert!(!VersionKind::Other.is_full());
}
