use std::error::Error as _;

use relkit_version::{Stream, TaggedVersion, Version, VersionError};

use crate::v;

fn stream(prefix: &str) -> Stream {
    Stream::new(prefix).expect("tests use valid prefixes")
}

fn tags(stream: &Stream, tags: &[&str]) -> Vec<String> {
    stream.releases(tags).into_iter().map(|r| r.tag).collect()
}

#[test]
fn the_default_stream_is_v() {
    assert_eq!(Stream::default().prefix(), "v");
    assert_eq!(Stream::default(), stream("v"));
}

#[test]
fn a_stream_reads_from_and_prints_as_its_prefix() {
    let edge: Stream = "edge/v".parse().expect("a valid prefix");
    assert_eq!(edge.to_string(), "edge/v");
    assert!("edge//v".parse::<Stream>().is_err());
}

#[test]
fn a_tag_name_is_the_prefix_followed_by_the_whole_version() {
    let pre = v("1.2.0-pre.145+abc1234");
    assert_eq!(stream("v").tag_name(&pre), "v1.2.0-pre.145+abc1234");
    assert_eq!(
        stream("edge/v").tag_name(&pre),
        "edge/v1.2.0-pre.145+abc1234"
    );
    assert_eq!(stream("").tag_name(&pre), "1.2.0-pre.145+abc1234");
    assert_eq!(stream("release-").tag_name(&v("2.0.0")), "release-2.0.0");
}

#[test]
fn a_tag_reads_as_its_version_with_pre_release_and_build_metadata() {
    assert_eq!(stream("v").parse_tag("v1.2.3"), Some(v("1.2.3")));
    assert_eq!(
        stream("v").parse_tag("v1.2.0-pre.145+abc1234"),
        Some(v("1.2.0-pre.145+abc1234"))
    );
    assert_eq!(stream("").parse_tag("0.0.1-rc.1"), Some(v("0.0.1-rc.1")));
}

#[test]
fn a_tag_of_another_stream_is_not_in_this_one() {
    assert_eq!(stream("v").parse_tag("edge/v1.0.0"), None);
    assert_eq!(stream("").parse_tag("v1.0.0"), None);
    assert_eq!(stream("").parse_tag("edge/v1.0.0"), None);
    assert_eq!(stream("edge/v").parse_tag("v1.0.0"), None);
    assert_eq!(stream("edge/v").parse_tag("cloud/v1.0.0"), None);
    assert_eq!(stream("edge/").parse_tag("edge/v1.0.0"), None);
    assert_eq!(stream("edge/v").parse_tag("edge/1.0.0"), None);
}

#[test]
fn tags_that_are_not_strict_semver_versions_are_in_no_stream() {
    for tag in [
        "v1",
        "v1.2",
        "latest",
        "vnext",
        "v",
        "v1.2.3.4",
        "v01.2.3",
        "v1.02.3",
        "v1.2.3-",
        "v1.2.3+",
        "v1.2.3-01",
        "v1.2.3-rc..1",
        "v 1.2.3",
        "v1.2.3 ",
        " v1.2.3",
        "V1.2.3",
        "vv1.2.3",
        "v=1.2.3",
        "v1.2.3\n",
        "v1.2.x",
        "v18446744073709551616.0.0",
    ] {
        assert_eq!(
            stream("v").parse_tag(tag),
            None,
            "{tag:?} read as a version"
        );
    }
}

#[test]
fn edge_and_cloud_streams_side_by_side_each_see_only_their_own_tags() {
    let all = [
        "v1.0.0",
        "edge/v2.0.0-pre.3+abc1234",
        "cloud/v1.9.2",
        "edge/v1.5.0",
        "cloud/v1.10.0",
        "1.0.0",
        "edge/latest",
        "cloud/v1",
        "latest",
    ];
    assert_eq!(tags(&stream("v"), &all), ["v1.0.0"]);
    assert_eq!(tags(&stream(""), &all), ["1.0.0"]);
    assert_eq!(
        tags(&stream("edge/v"), &all),
        ["edge/v1.5.0", "edge/v2.0.0-pre.3+abc1234"]
    );
    assert_eq!(
        tags(&stream("cloud/v"), &all),
        ["cloud/v1.9.2", "cloud/v1.10.0"]
    );
}

#[test]
fn releases_are_sorted_by_semver_precedence_not_by_text() {
    let sorted = tags(
        &stream("v"),
        &[
            "v1.10.0",
            "v1.9.0",
            "v1.0.0",
            "v1.0.0-rc.1",
            "v1.0.0-pre.10+abc1234",
            "v1.0.0-pre.9+def5678",
            "v1.0.0-alpha",
            "v0.9.12",
        ],
    );
    assert_eq!(
        sorted,
        [
            "v0.9.12",
            "v1.0.0-alpha",
            "v1.0.0-pre.9+def5678",
            "v1.0.0-pre.10+abc1234",
            "v1.0.0-rc.1",
            "v1.0.0",
            "v1.9.0",
            "v1.10.0",
        ]
    );
}

#[test]
fn releases_of_equal_precedence_are_ordered_by_build_metadata_whatever_the_input_order() {
    let expected = ["v1.0.0", "v1.0.0+a", "v1.0.0+b"];
    assert_eq!(
        tags(&stream("v"), &["v1.0.0+b", "v1.0.0", "v1.0.0+a"]),
        expected
    );
    assert_eq!(
        tags(&stream("v"), &["v1.0.0+a", "v1.0.0+b", "v1.0.0"]),
        expected
    );
}

#[test]
fn a_tag_given_twice_is_listed_once() {
    assert_eq!(tags(&stream("v"), &["v1.0.0", "v1.0.0"]), ["v1.0.0"]);
}

#[test]
fn releases_take_owned_and_borrowed_tag_names() {
    let owned = vec!["v1.0.0".to_owned()];
    assert_eq!(
        stream("v").releases(&owned),
        [TaggedVersion {
            version: v("1.0.0"),
            tag: "v1.0.0".to_owned()
        }]
    );
    assert_eq!(stream("v").releases(owned).len(), 1);
}

#[test]
fn the_latest_full_release_skips_pre_releases_candidates_and_build_metadata() {
    let all = [
        "v1.2.0",
        "v1.3.0-pre.4+abc1234",
        "v1.3.0-rc.1",
        "v1.3.0+build",
        "v1.1.9",
        "edge/v9.0.0",
    ];
    assert_eq!(
        stream("v").latest_full_release(all),
        Some(TaggedVersion {
            version: v("1.2.0"),
            tag: "v1.2.0".to_owned()
        })
    );
}

#[test]
fn a_stream_without_full_releases_has_no_latest_full_release() {
    assert_eq!(
        stream("v").latest_full_release(["v1.0.0-rc.1", "v1.0", "main"]),
        None
    );
    assert_eq!(stream("v").latest_full_release(Vec::<String>::new()), None);
}

#[test]
fn a_version_input_is_read_with_or_without_the_prefix() {
    let edge = stream("edge/v");
    assert_eq!(
        edge.parse_version("release", "1.2.3").ok(),
        Some(v("1.2.3"))
    );
    assert_eq!(
        edge.parse_version("release", "edge/v1.2.3").ok(),
        Some(v("1.2.3"))
    );
    assert_eq!(
        stream("v").parse_version("release", "v1.2.3-rc.1").ok(),
        Some(v("1.2.3-rc.1"))
    );
    assert_eq!(
        stream("").parse_version("release", "1.2.3").ok(),
        Some(v("1.2.3"))
    );
}

#[test]
fn a_version_input_may_carry_surrounding_whitespace() {
    assert_eq!(
        stream("v").parse_version("release", " v1.2.3\n").ok(),
        Some(v("1.2.3"))
    );
}

#[test]
fn a_version_input_of_another_stream_is_not_a_version_of_this_one() {
    assert!(stream("v").parse_version("release", "edge/v1.2.3").is_err());
    assert!(stream("edge/v").parse_version("release", "v1.2.3").is_err());
}

#[test]
fn a_bad_version_input_names_the_input_the_value_and_the_rule() {
    let error = stream("v")
        .parse_version("release-version", "v1.2")
        .expect_err("not a version");
    assert_eq!(
        error.to_string(),
        r#"release-version "v1.2" is not a SemVer 2.0 version like 1.2.3 or v1.2.3"#
    );
    assert!(
        error.source().is_some(),
        "the semver error is kept as the source"
    );
    let VersionError::NotSemver { input, value, .. } = error;
    assert_eq!(
        (input.as_str(), value.as_str()),
        ("release-version", "v1.2")
    );
}

#[test]
fn a_bad_version_input_of_the_bare_stream_offers_no_prefix() {
    let error = stream("")
        .parse_version("RELKIT_VERSION", "1.2.3.4")
        .expect_err("not a version");
    assert_eq!(
        error.to_string(),
        r#"RELKIT_VERSION "1.2.3.4" is not a SemVer 2.0 version like 1.2.3"#
    );
}

#[test]
fn an_empty_version_input_is_an_error_too() {
    assert!(stream("v").parse_version("release", "").is_err());
    assert!(stream("v").parse_version("release", "v").is_err());
}

#[test]
fn version_order_is_semver_precedence() {
    // The building block of every rule in this crate, pinned here so a semver upgrade that
    // changed it would be noticed.
    assert!(v("1.2.0-pre.145+abc1234") < v("1.2.0"));
    assert!(v("1.2.0-pre.9") < v("1.2.0-pre.10"));
    assert!(v("1.2.0-pre.10") < v("1.2.0-rc.1"));
    assert!(v("1.2.0") < v("1.2.0+build"));
    assert_eq!(
        v("1.2.0").cmp_precedence(&v("1.2.0+build")),
        std::cmp::Ordering::Equal
    );
    assert!(Version::new(0, 0, 0) < v("0.0.1-pre.1"));
}
