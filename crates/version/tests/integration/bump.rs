use relkit_version::{Bump, BumpDecision, BumpPolicy, CommitCounts, Step, Version, decide};

use crate::v;

const ZERO_RULE: BumpPolicy = BumpPolicy {
    breaking_always_major: false,
    features_always_minor: false,
};

fn counts(breaking: usize, features: usize, fixes: usize, other: usize) -> CommitCounts {
    CommitCounts {
        breaking,
        features,
        fixes,
        other,
    }
}

fn decision(current: &str, counts: CommitCounts, policy: BumpPolicy) -> BumpDecision {
    decide(&v(current), &counts, &policy).expect("no overflow")
}

#[test]
fn bumps_are_ordered_none_patch_minor_major() {
    assert!(Bump::None < Bump::Patch);
    assert!(Bump::Patch < Bump::Minor);
    assert!(Bump::Minor < Bump::Major);
    assert_eq!(Bump::ALL.iter().max(), Some(&Bump::Major));
    assert_eq!(Bump::default(), Bump::None);
}

#[test]
fn bumps_print_and_parse_as_lowercase_words() {
    let words: Vec<String> = Bump::ALL.iter().map(Bump::to_string).collect();
    assert_eq!(words, ["none", "patch", "minor", "major"]);
    assert_eq!("minor".parse(), Ok(Bump::Minor));
    assert!("".parse::<Bump>().is_err());
    assert!(" minor".parse::<Bump>().is_err());
}

#[test]
fn the_default_policy_is_git_cliffs() {
    assert_eq!(
        BumpPolicy::default(),
        BumpPolicy {
            breaking_always_major: true,
            features_always_minor: true
        }
    );
}

#[test]
fn no_commits_call_for_no_release() {
    let d = decision("1.2.0", CommitCounts::default(), BumpPolicy::default());
    assert_eq!((d.bump, d.next), (Bump::None, v("1.2.0")));
    assert_eq!(d.reason, "none: no commits since 1.2.0");
}

#[test]
fn any_breaking_change_makes_a_major_release() {
    let d = decision("1.2.3", counts(1, 4, 2, 7), BumpPolicy::default());
    assert_eq!((d.bump, d.next), (Bump::Major, v("2.0.0")));
    assert_eq!(
        d.reason,
        "major: 1 breaking change, 4 features, 2 fixes, 7 other commits"
    );
}

#[test]
fn features_without_a_breaking_change_make_a_minor_release() {
    let d = decision("1.2.3", counts(0, 3, 0, 0), BumpPolicy::default());
    assert_eq!((d.bump, d.next), (Bump::Minor, v("1.3.0")));
    assert_eq!(d.reason, "minor: 3 features, no breaking change");
}

#[test]
fn fixes_make_a_patch_release() {
    let d = decision("1.2.3", counts(0, 0, 2, 1), BumpPolicy::default());
    assert_eq!((d.bump, d.next), (Bump::Patch, v("1.2.4")));
    assert_eq!(d.reason, "patch: 2 fixes, 1 other commit");
}

#[test]
fn other_commits_alone_make_a_patch_release() {
    let d = decision("1.2.3", counts(0, 0, 0, 1), BumpPolicy::default());
    assert_eq!((d.bump, d.next), (Bump::Patch, v("1.2.4")));
    assert_eq!(d.reason, "patch: 1 other commit");
}

#[test]
fn a_breaking_change_in_0_x_makes_1_0_0_by_default() {
    let d = decision("0.4.1", counts(1, 0, 0, 0), BumpPolicy::default());
    assert_eq!(d.next, v("1.0.0"));
    assert_eq!(d.reason, "major: 1 breaking change");
}

#[test]
fn under_the_0_x_rule_a_breaking_change_bumps_the_minor_version() {
    let d = decision("0.4.1", counts(2, 1, 0, 0), ZERO_RULE);
    assert_eq!((d.bump, d.next), (Bump::Minor, v("0.5.0")));
    assert_eq!(
        d.reason,
        "minor: 2 breaking changes, 1 feature (0.x: breaking changes bump the minor version)"
    );
}

#[test]
fn under_the_0_x_rule_a_feature_bumps_the_patch_version() {
    let d = decision("0.4.1", counts(0, 2, 1, 0), ZERO_RULE);
    assert_eq!((d.bump, d.next), (Bump::Patch, v("0.4.2")));
    assert_eq!(
        d.reason,
        "patch: 2 features, 1 fix, no breaking change (0.x: features bump the patch version)"
    );
}

#[test]
fn the_two_0_x_rules_are_chosen_separately() {
    let breaking_only = BumpPolicy {
        breaking_always_major: false,
        features_always_minor: true,
    };
    assert_eq!(
        decision("0.4.1", counts(1, 0, 0, 0), breaking_only).next,
        v("0.5.0")
    );
    assert_eq!(
        decision("0.4.1", counts(0, 1, 0, 0), breaking_only).next,
        v("0.5.0")
    );

    let features_only = BumpPolicy {
        breaking_always_major: true,
        features_always_minor: false,
    };
    assert_eq!(
        decision("0.4.1", counts(1, 0, 0, 0), features_only).next,
        v("1.0.0")
    );
    assert_eq!(
        decision("0.4.1", counts(0, 1, 0, 0), features_only).next,
        v("0.4.2")
    );
}

#[test]
fn the_0_x_rule_does_not_apply_from_1_0_0_on() {
    let d = decision("1.0.0", counts(1, 0, 0, 0), ZERO_RULE);
    assert_eq!(d.next, v("2.0.0"));
    assert_eq!(d.reason, "major: 1 breaking change");
    assert_eq!(
        decision("1.0.0", counts(0, 1, 0, 0), ZERO_RULE).next,
        v("1.1.0")
    );
}

#[test]
fn the_0_x_rule_leaves_fixes_as_they_are() {
    let d = decision("0.4.1", counts(0, 0, 3, 0), ZERO_RULE);
    assert_eq!(d.next, v("0.4.2"));
    assert_eq!(d.reason, "patch: 3 fixes");
}

#[test]
fn before_any_release_the_same_rules_apply_from_0_0_0() {
    let zero = "0.0.0";
    let default = BumpPolicy::default();
    assert_eq!(decision(zero, counts(0, 1, 0, 0), default).next, v("0.1.0"));
    assert_eq!(decision(zero, counts(0, 0, 1, 0), default).next, v("0.0.1"));
    assert_eq!(decision(zero, counts(1, 0, 0, 0), default).next, v("1.0.0"));
    assert_eq!(
        decision(zero, counts(1, 0, 0, 0), ZERO_RULE).next,
        v("0.1.0")
    );
    assert_eq!(
        decision(zero, counts(0, 1, 0, 0), ZERO_RULE).next,
        v("0.0.1")
    );
    assert_eq!(
        decision(zero, CommitCounts::default(), default).reason,
        "none: no commits since 0.0.0"
    );
}

#[test]
fn reasons_use_the_singular_for_one_and_the_plural_otherwise() {
    let reason = |c| decision("1.0.0", c, BumpPolicy::default()).reason;
    assert_eq!(reason(counts(2, 0, 0, 0)), "major: 2 breaking changes");
    assert_eq!(
        reason(counts(0, 1, 0, 0)),
        "minor: 1 feature, no breaking change"
    );
    assert_eq!(reason(counts(0, 0, 1, 0)), "patch: 1 fix");
    assert_eq!(reason(counts(0, 0, 0, 2)), "patch: 2 other commits");
}

#[test]
fn a_decision_prints_as_its_reason() {
    let d = decision("1.0.0", counts(0, 0, 1, 0), BumpPolicy::default());
    assert_eq!(d.to_string(), d.reason);
}

#[test]
fn commit_counts_add_up() {
    assert_eq!(counts(1, 2, 3, 4).total(), 10);
    assert!(CommitCounts::default().is_empty());
    assert!(!counts(0, 0, 0, 1).is_empty());
}

#[test]
fn applying_a_bump_drops_the_pre_release_part_and_build_metadata() {
    let pre = v("1.2.4-rc.1+abc");
    assert_eq!(Bump::Patch.apply(&pre), Ok(v("1.2.5")));
    assert_eq!(Bump::Minor.apply(&pre), Ok(v("1.3.0")));
    assert_eq!(Bump::Major.apply(&pre), Ok(v("2.0.0")));
}

#[test]
fn applying_no_bump_leaves_the_version_as_it_is() {
    let pre = v("1.2.4-rc.1+abc");
    assert_eq!(Bump::None.apply(&pre), Ok(pre));
}

#[test]
fn a_step_is_the_highest_number_that_changes() {
    let step = |a: &str, b: &str| Step::between(&v(a), &v(b));
    assert_eq!(step("1.2.3", "1.2.4"), Step::Up(Bump::Patch));
    assert_eq!(step("1.2.3", "1.2.9"), Step::Up(Bump::Patch));
    assert_eq!(step("1.2.3", "1.3.0"), Step::Up(Bump::Minor));
    assert_eq!(step("1.2.3", "1.3.7"), Step::Up(Bump::Minor));
    assert_eq!(step("1.2.3", "2.0.0"), Step::Up(Bump::Major));
    assert_eq!(step("0.0.0", "0.1.0"), Step::Up(Bump::Minor));
    assert_eq!(step("0.0.0", "1.0.0"), Step::Up(Bump::Major));
}

#[test]
fn a_step_to_the_same_release_line_is_same_even_from_a_pre_release() {
    let step = |a: &str, b: &str| Step::between(&v(a), &v(b));
    assert_eq!(step("1.2.3", "1.2.3"), Step::Same);
    assert_eq!(step("1.3.0-pre.4+abc1234", "1.3.0"), Step::Same);
    assert_eq!(step("1.3.0", "1.3.0+build"), Step::Same);
    assert_eq!(Step::Same.bump(), Bump::None);
}

#[test]
fn a_step_down_is_down_whatever_its_size() {
    let step = |a: &str, b: &str| Step::between(&v(a), &v(b));
    assert_eq!(step("1.2.3", "1.2.2"), Step::Down);
    assert_eq!(step("2.0.0", "1.9.9"), Step::Down);
    assert_eq!(Step::Down.bump(), Bump::None);
    assert_eq!(Step::Up(Bump::Minor).bump(), Bump::Minor);
}

#[test]
fn a_decision_from_the_largest_number_is_an_error() {
    let at_max = Version::new(1, 2, u64::MAX);
    assert!(decide(&at_max, &counts(0, 0, 1, 0), &BumpPolicy::default()).is_err());
    assert!(decide(&at_max, &CommitCounts::default(), &BumpPolicy::default()).is_ok());
}
