//! Properties that hold for every version, prefix and name, not just the ones written down.

use std::cmp::Ordering;

use proptest::prelude::*;
use proptest::sample::subsequence;
use relkit_version::{
    Bump, BumpPolicy, CommitCounts, FloatingLine, OCI_TAG_MAX_LEN, PrereleaseBase, ShortSha, Step,
    Stream, Version, VersionKind, decide, floating_tags, next_prerelease, next_rc, oci_tag,
    prerelease_base, prerelease_version, sanitize_oci_tag,
};

/// The OCI distribution spec's tag grammar, `[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}`, written out.
fn is_oci_tag(tag: &str) -> bool {
    let mut chars = tag.chars();
    let first_ok = chars
        .next()
        .is_some_and(|c| c.is_ascii_alphanumeric() || c == '_');
    first_ok
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'))
        && tag.len() <= 128
}

/// Mostly small numbers, where versions collide and order matters, and now and then any.
fn number() -> impl Strategy<Value = u64> {
    prop_oneof![8 => 0u64..4, 1 => any::<u64>()]
}

fn identifiers(
    element: impl Strategy<Value = String> + 'static,
    max: usize,
) -> BoxedStrategy<String> {
    proptest::collection::vec(element, 0..max)
        .prop_map(|ids| ids.join("."))
        .boxed()
}

fn pre_release() -> BoxedStrategy<String> {
    let numeric = prop_oneof!["0", "[1-9][0-9]{0,3}"];
    let alphanumeric = "[0-9A-Za-z-]{0,3}[A-Za-z-][0-9A-Za-z-]{0,3}";
    let relkit = prop_oneof![Just("pre".to_owned()), Just("rc".to_owned())];
    identifiers(prop_oneof![numeric, alphanumeric, relkit], 4)
}

fn build_metadata() -> BoxedStrategy<String> {
    identifiers("[0-9A-Za-z-]{1,8}".prop_map(String::from), 3)
}

fn version() -> impl Strategy<Value = Version> {
    (
        number(),
        number(),
        number(),
        pre_release(),
        build_metadata(),
    )
        .prop_map(|(major, minor, patch, pre, build)| {
            let mut text = format!("{major}.{minor}.{patch}");
            if !pre.is_empty() {
                text = format!("{text}-{pre}");
            }
            if !build.is_empty() {
                text = format!("{text}+{build}");
            }
            Version::parse(&text).expect("the strategy writes valid versions")
        })
}

fn full_version() -> impl Strategy<Value = Version> {
    (number(), number(), number()).prop_map(|(a, b, c)| Version::new(a, b, c))
}

/// A small full version: bumps from it never overflow.
fn small_full_version() -> impl Strategy<Value = Version> {
    (0u64..4, 0u64..4, 0u64..4).prop_map(|(a, b, c)| Version::new(a, b, c))
}

/// Prefixes that are accepted, weighted towards ones that end close to a version.
fn stream() -> impl Strategy<Value = Stream> {
    prop_oneof![
        prop_oneof![
            Just(""),
            Just("v"),
            Just("edge/v"),
            Just("cloud/v"),
            Just("release-")
        ]
        .prop_map(String::from),
        "[a-z]{0,3}[/_+-]?[v0-9.+-]{0,6}[a-z/_+-]?",
        "[a-zA-Z0-9._/+@{}-]{0,10}",
    ]
    .prop_filter_map("an accepted prefix", |prefix| Stream::new(&prefix).ok())
}

fn short_sha() -> impl Strategy<Value = ShortSha> {
    "[0-9a-fA-F]{7,40}".prop_map(|s| s.parse().expect("hex of 7 or more is a commit id"))
}

fn bump() -> impl Strategy<Value = Bump> {
    prop::sample::select(Bump::ALL.to_vec())
}

fn counts() -> impl Strategy<Value = CommitCounts> {
    (0usize..3, 0usize..3, 0usize..3, 0usize..3).prop_map(|(breaking, features, fixes, other)| {
        CommitCounts {
            breaking,
            features,
            fixes,
            other,
        }
    })
}

fn policy() -> impl Strategy<Value = BumpPolicy> {
    (any::<bool>(), any::<bool>()).prop_map(|(breaking_always_major, features_always_minor)| {
        BumpPolicy {
            breaking_always_major,
            features_always_minor,
        }
    })
}

proptest! {
    #[test]
    fn a_tag_reads_back_as_the_version_it_was_made_from(stream in stream(), version in version()) {
        prop_assert_eq!(stream.parse_tag(&stream.tag_name(&version)), Some(version));
    }

    #[test]
    fn a_tag_belongs_to_one_stream_only(a in stream(), b in stream(), version in version()) {
        if a != b {
            prop_assert_eq!(b.parse_tag(&a.tag_name(&version)), None);
        }
    }

    #[test]
    fn a_tag_belongs_to_one_stream_only_even_when_one_prefix_extends_the_other(
        shorter in stream(),
        // The start of a version, cut anywhere, is what a prefix must not end with.
        (start, cut) in (version(), any::<prop::sample::Index>()),
        tail in "[a-z/_+-]?",
        version in version(),
    ) {
        let start = start.to_string();
        let extension = &start[..=cut.index(start.len())];
        let longer = format!("{}{extension}{tail}", shorter.prefix());
        if let Ok(longer) = Stream::new(&longer) {
            prop_assert_eq!(shorter.parse_tag(&longer.tag_name(&version)), None);
        }
    }

    #[test]
    fn a_version_input_reads_with_or_without_the_prefix(stream in stream(), version in version()) {
        let with = stream.parse_version("release", &stream.tag_name(&version)).ok();
        let without = stream.parse_version("release", &version.to_string()).ok();
        prop_assert_eq!(with.as_ref(), Some(&version));
        prop_assert_eq!(without.as_ref(), Some(&version));
    }

    #[test]
    fn releases_are_in_semver_order_whatever_the_input_order(
        stream in stream(),
        versions in proptest::collection::vec(version(), 0..12),
        noise in proptest::collection::vec("[a-z0-9./+-]{0,12}", 0..4),
    ) {
        let mut tags: Vec<String> = versions.iter().map(|v| stream.tag_name(v)).collect();
        tags.extend(noise);
        let releases = stream.releases(&tags);
        for pair in releases.windows(2) {
            prop_assert!(pair[0].version.cmp_precedence(&pair[1].version) != Ordering::Greater);
            prop_assert!(pair[0].version < pair[1].version);
        }
        tags.reverse();
        prop_assert_eq!(stream.releases(&tags), releases);
    }

    #[test]
    fn the_latest_full_release_is_the_highest_full_version(
        stream in stream(),
        versions in proptest::collection::vec(version(), 0..12),
    ) {
        let tags: Vec<String> = versions.iter().map(|v| stream.tag_name(v)).collect();
        let expected = versions.iter().filter(|v| VersionKind::of(v).is_full()).max();
        let latest = stream.latest_full_release(&tags).map(|t| t.version);
        prop_assert_eq!(latest.as_ref(), expected);
    }

    #[test]
    fn a_latest_based_pre_release_ranks_just_below_its_base(
        base in full_version(),
        count in any::<u64>(),
        sha in short_sha(),
    ) {
        let pre = prerelease_version(&base, count, &sha);
        prop_assert!(pre < base);
        prop_assert_eq!(pre.cmp_precedence(&base), Ordering::Less);
        prop_assert_eq!(prerelease_base(&pre), Some(base));
        prop_assert_eq!(VersionKind::of(&pre), VersionKind::Prerelease { count });
    }

    #[test]
    fn a_next_based_pre_release_ranks_between_the_release_it_follows_and_the_one_it_leads_to(
        releases in proptest::collection::vec(small_full_version(), 0..5),
        bump in bump(),
        count in any::<u64>(),
        sha in short_sha(),
    ) {
        let latest = releases.iter().max().cloned().unwrap_or(Version::new(0, 0, 0));
        let pre = next_prerelease(&releases, PrereleaseBase::Next, bump, count, &sha)
            .expect("small versions do not overflow");
        let leads_to = bump.max(Bump::Patch).apply(&latest).expect("no overflow");
        prop_assert!(latest < pre && pre < leads_to);
        prop_assert_eq!(pre.cmp_precedence(&leads_to), Ordering::Less);
        prop_assert_eq!(prerelease_base(&pre), Some(leads_to));
    }

    #[test]
    fn more_commits_make_a_higher_pre_release_of_the_same_base(
        base in full_version(),
        a in any::<u64>(),
        b in any::<u64>(),
        sha_a in short_sha(),
        sha_b in short_sha(),
    ) {
        prop_assume!(a != b);
        let order = prerelease_version(&base, a, &sha_a)
            .cmp_precedence(&prerelease_version(&base, b, &sha_b));
        prop_assert_eq!(order, a.cmp(&b));
    }

    #[test]
    fn a_bump_always_goes_up_by_exactly_its_kind(version in full_version(), bump in bump()) {
        let Ok(next) = bump.apply(&version) else {
            // Only at the largest number, where it is refused rather than wrapped.
            prop_assert!([version.major, version.minor, version.patch].contains(&u64::MAX));
            return Ok(());
        };
        if bump == Bump::None {
            prop_assert_eq!(next, version);
        } else {
            prop_assert!(next > version);
            prop_assert_eq!(Step::between(&version, &next), Step::Up(bump));
        }
    }

    #[test]
    fn a_decision_leads_above_the_current_release_exactly_when_it_bumps(
        current in small_full_version(),
        counts in counts(),
        policy in policy(),
    ) {
        let decision = decide(&current, &counts, &policy).expect("small versions do not overflow");
        prop_assert_eq!(decision.bump == Bump::None, counts.is_empty());
        if decision.bump == Bump::None {
            prop_assert_eq!(&decision.next, &current);
        } else {
            prop_assert!(decision.next > current);
            prop_assert_eq!(Step::between(&current, &decision.next), Step::Up(decision.bump));
        }
        let label = format!("{}: ", decision.bump);
        prop_assert!(decision.reason.starts_with(&label));
    }

    #[test]
    fn more_commits_never_call_for_a_smaller_bump(
        current in small_full_version(),
        counts in counts(),
        more in counts(),
        policy in policy(),
    ) {
        let sum = CommitCounts {
            breaking: counts.breaking + more.breaking,
            features: counts.features + more.features,
            fixes: counts.fixes + more.fixes,
            other: counts.other + more.other,
        };
        let before = decide(&current, &counts, &policy).expect("no overflow").bump;
        let after = decide(&current, &sum, &policy).expect("no overflow").bump;
        prop_assert!(after >= before);
    }

    #[test]
    fn the_next_release_candidate_is_above_every_candidate_of_its_target(
        target in small_full_version(),
        existing in proptest::collection::vec(
            (small_full_version(), 0u64..20).prop_map(|(v, n)| {
                Version::parse(&format!("{v}-rc.{n}")).expect("a candidate")
            }),
            0..8,
        ),
    ) {
        let rc = next_rc(&target, &existing).expect("small numbers do not overflow");
        prop_assert_eq!(prerelease_base(&rc), Some(target.clone()));
        let is_candidate = matches!(VersionKind::of(&rc), VersionKind::ReleaseCandidate { .. });
        prop_assert!(is_candidate);
        prop_assert!(rc < target);
        for candidate in existing.iter().filter(|c| prerelease_base(c).as_ref() == Some(&target)) {
            prop_assert!(rc > *candidate);
        }
    }

    #[test]
    fn a_sanitised_name_is_a_valid_oci_tag_and_stays_as_it_is(value in "\\PC{0,140}") {
        if let Ok(tag) = sanitize_oci_tag(&value) {
            prop_assert!(is_oci_tag(&tag), "{:?} from {:?}", tag, value);
            prop_assert!(tag.len() <= OCI_TAG_MAX_LEN);
            prop_assert_eq!(sanitize_oci_tag(&tag), Ok(tag));
        }
    }

    #[test]
    fn a_sanitised_name_of_allowed_characters_is_refused_only_when_too_long_or_empty(
        value in "[a-zA-Z0-9._+/-]{0,140}",
    ) {
        let kept = value.trim_start_matches(['.', '-', '+', '/']);
        match sanitize_oci_tag(&value) {
            Ok(tag) => prop_assert_eq!(tag.len(), kept.len()),
            Err(_) => prop_assert!(kept.is_empty() || kept.len() > OCI_TAG_MAX_LEN),
        }
    }

    #[test]
    fn every_image_tag_of_a_version_is_a_valid_oci_tag(
        stream in stream(),
        version in version(),
        include_prefix in any::<bool>(),
    ) {
        if let Ok(tag) = oci_tag(&version, &stream, include_prefix) {
            prop_assert!(is_oci_tag(&tag), "{:?}", tag);
        }
    }

    #[test]
    fn exactly_the_lines_a_release_tops_move_and_latest_also_on_rollback(
        releases in subsequence(
            (0u64..3).flat_map(|a| (0u64..3).flat_map(move |b| (0u64..3).map(move |c| Version::new(a, b, c)))).collect::<Vec<_>>(),
            0..10,
        ),
        release in small_full_version(),
        is_rollback in any::<bool>(),
    ) {
        for tag in floating_tags(&Stream::default(), &release, &releases, is_rollback) {
            let tops = releases.iter().filter(|v| tag.line.contains(v)).all(|v| *v <= release);
            let expected = tops || (is_rollback && tag.line == FloatingLine::Latest);
            prop_assert_eq!(tag.moves, expected, "{:?}", tag);
        }
    }

    #[test]
    fn a_version_that_is_not_a_full_release_has_no_floating_tags(
        version in version(),
        is_rollback in any::<bool>(),
    ) {
        let tags = floating_tags(&Stream::default(), &version, &[], is_rollback);
        prop_assert_eq!(tags.is_empty(), !VersionKind::of(&version).is_full());
    }
}
