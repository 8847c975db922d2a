use relkit_version::{
    Bump, BumpMismatch, ExistingRelease, PromotionError, PromotionReport, PromotionRequest, Stream,
    check_promotion,
};

use crate::v;

const TARGET: &str = "1111111111111111111111111111111111111111";
const OTHER: &str = "2222222222222222222222222222222222222222";

fn existing(version: &str, commit: Option<&str>) -> ExistingRelease {
    ExistingRelease {
        version: v(version),
        commit: commit.map(str::to_owned),
    }
}

/// Promote 1.3.0-pre.12 to 1.3.0 after 1.2.0, with features since: the plain case, which each
/// test changes in one way.
fn request() -> PromotionRequest {
    PromotionRequest {
        stream: Stream::default(),
        release: v("1.3.0"),
        prerelease: v("1.3.0-pre.12+1111111"),
        existing: vec![
            existing("1.1.0", None),
            existing("1.2.0", Some(OTHER)),
            existing("1.3.0-pre.11+2222222", Some(OTHER)),
        ],
        target_commit: TARGET.to_owned(),
        is_rollback: false,
        commits_bump: Bump::Minor,
        strict: false,
    }
}

fn passes(request: &PromotionRequest) -> PromotionReport {
    check_promotion(request).expect("the promotion passes its checks")
}

fn refused(request: &PromotionRequest) -> PromotionError {
    check_promotion(request).expect_err("the promotion is refused")
}

#[test]
fn a_minor_release_after_features_passes_with_nothing_to_report() {
    assert_eq!(
        passes(&request()),
        PromotionReport {
            tag: "v1.3.0".to_owned(),
            previous: Some(v("1.2.0")),
            highest: Some(v("1.2.0")),
            bump_kind: Bump::Minor,
            commits_call_for: Bump::Minor,
            mismatch: None,
            reuses_tag: false,
            is_rollback: false,
        }
    );
}

#[test]
fn a_release_with_a_pre_release_part_is_refused() {
    let request = PromotionRequest {
        release: v("1.2.3-pre.1"),
        prerelease: v("1.2.3-pre.1"),
        ..request()
    };
    let error = refused(&request);
    assert_eq!(
        error,
        PromotionError::HasPrerelease {
            release: v("1.2.3-pre.1")
        }
    );
    assert_eq!(
        error.to_string(),
        r#"release version "1.2.3-pre.1" has a pre-release part: a release must be a full version like 1.2.3"#
    );
}

#[test]
fn a_release_with_build_metadata_is_refused() {
    let request = PromotionRequest {
        release: v("1.3.0+abc1234"),
        ..request()
    };
    assert_eq!(
        refused(&request).to_string(),
        r#"release version "1.3.0+abc1234" has build metadata: a release must be a full version like 1.3.0"#
    );
}

#[test]
fn a_release_below_the_pre_releases_base_is_refused() {
    let request = PromotionRequest {
        release: v("1.2.9"),
        ..request()
    };
    let error = refused(&request);
    assert_eq!(
        error,
        PromotionError::BelowPrereleaseBase {
            release: v("1.2.9"),
            prerelease: v("1.3.0-pre.12+1111111"),
            base: v("1.3.0"),
        }
    );
    assert_eq!(
        error.to_string(),
        "release 1.2.9 is below 1.3.0, the base of pre-release 1.3.0-pre.12+1111111: a pre-release can only be promoted to its base version or above"
    );
}

#[test]
fn a_rollback_below_the_pre_releases_base_is_refused_too() {
    let request = PromotionRequest {
        release: v("1.1.5"),
        is_rollback: true,
        ..request()
    };
    assert!(matches!(
        refused(&request),
        PromotionError::BelowPrereleaseBase { .. }
    ));
}

#[test]
fn a_release_above_the_pre_releases_base_passes() {
    // The playbook's pre-releases are named after the release they follow.
    let request = PromotionRequest {
        prerelease: v("1.2.0-pre.145+1111111"),
        ..request()
    };
    assert_eq!(passes(&request).bump_kind, Bump::Minor);
}

#[test]
fn a_release_below_the_highest_release_is_refused_unless_it_is_a_rollback() {
    let request = PromotionRequest {
        release: v("1.1.5"),
        prerelease: v("1.1.5-pre.3+1111111"),
        commits_bump: Bump::Patch,
        ..request()
    };
    let error = refused(&request);
    assert_eq!(
        error,
        PromotionError::NotAboveHighest {
            release: v("1.1.5"),
            highest: v("1.2.0"),
            highest_tag: "v1.2.0".to_owned(),
        }
    );
    assert_eq!(
        error.to_string(),
        "release 1.1.5 is below v1.2.0, the highest release of the stream: a release must be newer than every release, unless it is a rollback"
    );

    let rollback = PromotionRequest {
        is_rollback: true,
        ..request
    };
    let report = passes(&rollback);
    assert_eq!(report.previous, Some(v("1.1.0")));
    assert_eq!(report.highest, Some(v("1.2.0")));
    assert!(report.is_rollback);
    assert!(!report.reuses_tag);
}

#[test]
fn a_release_whose_tag_points_at_another_commit_is_refused_even_for_a_rollback() {
    for is_rollback in [false, true] {
        let request = PromotionRequest {
            release: v("1.2.0"),
            prerelease: v("1.2.0-pre.3+1111111"),
            is_rollback,
            ..request()
        };
        let error = refused(&request);
        assert_eq!(
            error,
            PromotionError::TagAtOtherCommit {
                tag: "v1.2.0".to_owned(),
                commit: OTHER.to_owned(),
                target_commit: TARGET.to_owned(),
            }
        );
        assert_eq!(
            error.to_string(),
            format!(
                "tag v1.2.0 already points at commit {OTHER}, not at {TARGET}: a release tag is never moved to another commit"
            )
        );
    }
}

#[test]
fn a_re_run_reuses_the_tag_it_made_at_the_same_commit() {
    let mut request = request();
    request.existing.push(existing("1.3.0", Some(TARGET)));
    let report = passes(&request);
    assert!(report.reuses_tag);
    // Measured as on the first run, so a re-run reports the same.
    assert_eq!(report.previous, Some(v("1.2.0")));
    assert_eq!(report.highest, Some(v("1.2.0")));
    assert_eq!(report.bump_kind, Bump::Minor);
}

#[test]
fn commit_ids_match_whatever_their_case() {
    let mut request = request();
    request.target_commit = "ABCDEF1234ABCDEF1234ABCDEF1234ABCDEF1234".to_owned();
    request.existing.push(existing(
        "1.3.0",
        Some("abcdef1234abcdef1234abcdef1234abcdef1234"),
    ));
    assert!(passes(&request).reuses_tag);
}

#[test]
fn a_reused_tag_whose_commit_is_unknown_is_refused() {
    let mut request = request();
    request.existing.push(existing("1.3.0", None));
    let error = refused(&request);
    assert_eq!(
        error,
        PromotionError::TagCommitUnknown {
            tag: "v1.3.0".to_owned(),
            target_commit: TARGET.to_owned(),
        }
    );
    assert_eq!(
        error.to_string(),
        format!(
            "tag v1.3.0 already exists and the commit it points at is unknown: cannot tell whether releasing {TARGET} reuses it or would move it"
        )
    );
}

#[test]
fn a_tag_listed_twice_must_point_at_the_target_both_times() {
    let mut request = request();
    request.existing.push(existing("1.3.0", Some(TARGET)));
    request.existing.push(existing("1.3.0", Some(OTHER)));
    assert!(matches!(
        refused(&request),
        PromotionError::TagAtOtherCommit { .. }
    ));
}

#[test]
fn unknown_commits_of_other_tags_do_not_matter() {
    // request() has 1.1.0 with an unknown commit.
    assert!(check_promotion(&request()).is_ok());
}

#[test]
fn a_rollback_to_an_existing_release_at_its_own_commit_reuses_its_tag() {
    let request = PromotionRequest {
        release: v("1.1.0"),
        prerelease: v("1.1.0-pre.2+1111111"),
        existing: vec![
            existing("1.1.0", Some(TARGET)),
            existing("1.2.0", Some(OTHER)),
        ],
        is_rollback: true,
        commits_bump: Bump::None,
        strict: true,
        ..request()
    };
    let report = passes(&request);
    assert!(report.reuses_tag);
    assert_eq!(report.highest, Some(v("1.2.0")));
    assert_eq!(report.previous, None);
    assert_eq!(report.mismatch, None);
}

#[test]
fn a_rollback_that_goes_back_is_not_judged_by_the_commits() {
    let request = PromotionRequest {
        release: v("1.1.1"),
        prerelease: v("1.1.1-pre.2+1111111"),
        is_rollback: true,
        commits_bump: Bump::Major,
        strict: true,
        ..request()
    };
    let report = passes(&request);
    assert_eq!(report.bump_kind, Bump::Patch);
    assert_eq!(report.commits_call_for, Bump::Major);
    assert_eq!(report.mismatch, None);
}

#[test]
fn a_rollback_that_goes_forward_is_judged_like_any_release() {
    let request = PromotionRequest {
        release: v("1.2.1"),
        prerelease: v("1.2.1-pre.1+1111111"),
        is_rollback: true,
        commits_bump: Bump::Patch,
        strict: true,
        ..request()
    };
    assert_eq!(passes(&request).mismatch, None);
    let minor = PromotionRequest {
        commits_bump: Bump::Minor,
        ..request
    };
    assert!(matches!(
        refused(&minor),
        PromotionError::BumpMismatch { .. }
    ));
}

#[test]
fn a_patch_where_the_commits_call_for_a_minor_is_reported() {
    let request = PromotionRequest {
        release: v("1.2.1"),
        prerelease: v("1.2.0-pre.4+1111111"),
        ..request()
    };
    let report = passes(&request);
    assert_eq!(report.bump_kind, Bump::Patch);
    let mismatch = report.mismatch.expect("a mismatch is reported");
    assert_eq!(
        mismatch.to_string(),
        "release 1.2.1 is a patch but the commits call for a minor"
    );
}

#[test]
fn strict_mode_refuses_a_bump_the_commits_do_not_call_for() {
    let request = PromotionRequest {
        release: v("1.2.1"),
        prerelease: v("1.2.0-pre.4+1111111"),
        strict: true,
        ..request()
    };
    let error = refused(&request);
    assert_eq!(
        error,
        PromotionError::BumpMismatch {
            mismatch: BumpMismatch {
                release: v("1.2.1"),
                bump: Bump::Patch,
                commits_call_for: Bump::Minor,
            }
        }
    );
    assert_eq!(
        error.to_string(),
        "release 1.2.1 is a patch but the commits call for a minor, and strict mode refuses a release whose bump differs from the commits'"
    );
}

#[test]
fn a_bigger_bump_than_the_commits_call_for_is_a_mismatch_too() {
    let request = PromotionRequest {
        release: v("2.0.0"),
        ..request()
    };
    let mismatch = passes(&request).mismatch.expect("a mismatch is reported");
    assert_eq!(
        mismatch.to_string(),
        "release 2.0.0 is a major but the commits call for a minor"
    );
    assert!(
        check_promotion(&PromotionRequest {
            strict: true,
            ..request
        })
        .is_err()
    );
}

#[test]
fn a_release_when_no_commit_calls_for_one_is_a_mismatch() {
    let request = PromotionRequest {
        commits_bump: Bump::None,
        ..request()
    };
    let mismatch = passes(&request).mismatch.expect("a mismatch is reported");
    assert_eq!(
        mismatch.to_string(),
        "release 1.3.0 is a minor but no commit calls for one"
    );
}

#[test]
fn the_first_release_of_a_stream_is_measured_from_0_0_0() {
    let request = PromotionRequest {
        release: v("0.1.0"),
        prerelease: v("0.0.0-pre.30+1111111"),
        existing: vec![],
        ..request()
    };
    let report = passes(&request);
    assert_eq!((report.previous, report.highest), (None, None));
    assert_eq!(report.bump_kind, Bump::Minor);
    assert_eq!(report.mismatch, None);

    let one = PromotionRequest {
        release: v("1.0.0"),
        ..request
    };
    assert_eq!(passes(&one).bump_kind, Bump::Major);
}

#[test]
fn pre_releases_and_candidates_in_the_stream_do_not_count_as_releases() {
    let mut request = request();
    request.existing.push(existing("2.0.0-rc.1", Some(OTHER)));
    request
        .existing
        .push(existing("1.4.0-pre.1+2222222", Some(OTHER)));
    let report = passes(&request);
    assert_eq!(report.highest, Some(v("1.2.0")));
}

#[test]
fn a_release_in_a_prefixed_stream_is_named_with_its_prefix() {
    let request = PromotionRequest {
        stream: Stream::new("edge/v").expect("a valid prefix"),
        ..request()
    };
    assert_eq!(passes(&request).tag, "edge/v1.3.0");

    let below = PromotionRequest {
        release: v("1.1.5"),
        prerelease: v("1.1.5-pre.1+1111111"),
        ..request
    };
    assert!(matches!(
        refused(&below),
        PromotionError::NotAboveHighest { highest_tag, .. } if highest_tag == "edge/v1.2.0"
    ));
}

#[test]
fn the_release_rules_are_checked_before_the_tag_rules() {
    // A release version that is not full is the first thing to fix, whatever else is wrong.
    let request = PromotionRequest {
        release: v("1.0.0-rc.1"),
        prerelease: v("1.3.0-pre.1+1111111"),
        ..request()
    };
    assert!(matches!(
        refused(&request),
        PromotionError::HasPrerelease { .. }
    ));
}
