use relkit_version::{FloatingLine, FloatingTag, Stream, floating_tags};

use crate::{v, versions};

fn stream(prefix: &str) -> Stream {
    Stream::new(prefix).expect("tests use valid prefixes")
}

/// `(name, moves)` of each floating tag.
fn moves(stream: &Stream, release: &str, releases: &[&str], rollback: bool) -> Vec<(String, bool)> {
    floating_tags(stream, &v(release), &versions(releases), rollback)
        .into_iter()
        .map(|t| (t.name, t.moves))
        .collect()
}

fn named(list: &[(&str, bool)]) -> Vec<(String, bool)> {
    list.iter().map(|&(n, m)| (n.to_owned(), m)).collect()
}

#[test]
fn a_new_highest_release_moves_its_minor_major_and_latest_tags() {
    let tags = floating_tags(
        &Stream::default(),
        &v("1.2.3"),
        &versions(&["1.2.2", "1.1.0"]),
        false,
    );
    assert_eq!(
        tags,
        [
            FloatingTag {
                name: "v1.2".to_owned(),
                line: FloatingLine::Minor { major: 1, minor: 2 },
                moves: true,
                reason: "v1.2.3 is the highest 1.2.x release".to_owned(),
            },
            FloatingTag {
                name: "v1".to_owned(),
                line: FloatingLine::Major { major: 1 },
                moves: true,
                reason: "v1.2.3 is the highest 1.x.x release".to_owned(),
            },
            FloatingTag {
                name: "latest".to_owned(),
                line: FloatingLine::Latest,
                moves: true,
                reason: "v1.2.3 is the highest release".to_owned(),
            },
        ]
    );
}

#[test]
fn the_first_release_moves_every_floating_tag() {
    assert_eq!(
        moves(&Stream::default(), "0.1.0", &[], false),
        named(&[("v0.1", true), ("v0", true), ("latest", true)])
    );
}

#[test]
fn a_patch_to_an_older_minor_line_moves_only_that_lines_tag() {
    let releases = ["1.2.3", "1.3.0"];
    assert_eq!(
        moves(&Stream::default(), "1.2.4", &releases, false),
        named(&[("v1.2", true), ("v1", false), ("latest", false)])
    );
}

#[test]
fn a_patch_to_an_older_major_line_moves_its_minor_and_major_tags() {
    let releases = ["1.5.0", "2.0.0"];
    let tags = floating_tags(&Stream::default(), &v("1.5.1"), &versions(&releases), false);
    let moved: Vec<_> = tags.iter().map(|t| (t.name.as_str(), t.moves)).collect();
    assert_eq!(moved, [("v1.5", true), ("v1", true), ("latest", false)]);
    assert_eq!(tags[2].reason, "v2.0.0 is a higher release");
}

#[test]
fn a_release_that_is_not_the_highest_of_a_line_leaves_its_tag_and_says_which_is_higher() {
    let tags = floating_tags(
        &Stream::default(),
        &v("1.2.1"),
        &versions(&["1.2.3", "1.2.5", "1.3.0"]),
        false,
    );
    let reasons: Vec<_> = tags.iter().map(|t| t.reason.as_str()).collect();
    assert_eq!(
        reasons,
        [
            "v1.2.5 is a higher 1.2.x release",
            "v1.3.0 is a higher 1.x.x release",
            "v1.3.0 is a higher release",
        ]
    );
    assert!(tags.iter().all(|t| !t.moves));
}

#[test]
fn a_rollback_moves_latest_but_not_the_lines_where_it_is_not_the_highest() {
    let releases = ["1.2.3", "1.2.4", "1.3.0"];
    let tags = floating_tags(&Stream::default(), &v("1.2.3"), &versions(&releases), true);
    let moved: Vec<_> = tags.iter().map(|t| (t.name.as_str(), t.moves)).collect();
    assert_eq!(moved, [("v1.2", false), ("v1", false), ("latest", true)]);
    assert_eq!(
        tags[2].reason,
        "rollback: production follows v1.2.3 although v1.3.0 is higher"
    );
}

#[test]
fn a_rollback_moves_the_lines_where_it_is_the_highest() {
    let releases = ["1.2.3", "1.3.0", "1.3.1"];
    assert_eq!(
        moves(&Stream::default(), "1.2.3", &releases, true),
        named(&[("v1.2", true), ("v1", false), ("latest", true)])
    );
}

#[test]
fn a_rollback_that_is_the_highest_reads_like_any_release() {
    let tags = floating_tags(&Stream::default(), &v("1.3.1"), &versions(&["1.3.0"]), true);
    assert!(tags.iter().all(|t| t.moves));
    assert_eq!(tags[2].reason, "v1.3.1 is the highest release");
}

#[test]
fn the_release_itself_in_the_list_does_not_stop_its_tags_so_a_re_run_moves_them_again() {
    assert_eq!(
        moves(&Stream::default(), "1.2.3", &["1.2.3", "1.2.2"], false),
        named(&[("v1.2", true), ("v1", true), ("latest", true)])
    );
}

#[test]
fn pre_releases_and_candidates_in_the_list_do_not_stop_a_floating_tag() {
    let releases = [
        "1.2.4-rc.1",
        "1.3.0-pre.4+abc1234",
        "2.0.0-rc.1",
        "1.2.3+build",
    ];
    assert_eq!(
        moves(&Stream::default(), "1.2.3", &releases, false),
        named(&[("v1.2", true), ("v1", true), ("latest", true)])
    );
}

#[test]
fn pre_releases_have_no_floating_tags() {
    for version in [
        "1.2.0-pre.145+abc1234",
        "1.2.3-rc.1",
        "1.2.3-beta",
        "1.2.3+build",
    ] {
        assert!(
            floating_tags(&Stream::default(), &v(version), &[], false).is_empty(),
            "{version} has floating tags"
        );
        assert!(floating_tags(&Stream::default(), &v(version), &[], true).is_empty());
    }
}

#[test]
fn floating_tags_carry_the_streams_prefix() {
    assert_eq!(
        moves(&stream("edge/v"), "2.1.0", &[], false),
        named(&[
            ("edge/v2.1", true),
            ("edge/v2", true),
            ("edge/latest", true)
        ])
    );
    assert_eq!(
        moves(&stream("cloud/v"), "1.9.2", &[], false),
        named(&[
            ("cloud/v1.9", true),
            ("cloud/v1", true),
            ("cloud/latest", true)
        ])
    );
    assert_eq!(
        moves(&stream(""), "1.9.2", &[], false),
        named(&[("1.9", true), ("1", true), ("latest", true)])
    );
}

#[test]
fn edge_and_cloud_streams_move_their_tags_independently() {
    // Each stream is judged on its own releases: the caller passes those of its stream.
    let edge = floating_tags(&stream("edge/v"), &v("2.0.0"), &versions(&["1.0.0"]), false);
    let cloud = floating_tags(
        &stream("cloud/v"),
        &v("1.0.1"),
        &versions(&["1.0.0"]),
        false,
    );
    assert!(edge.iter().chain(&cloud).all(|t| t.moves));
    assert_eq!(cloud[2].name, "cloud/latest");
    assert_eq!(cloud[2].reason, "cloud/v1.0.1 is the highest release");
}

#[test]
fn latest_is_named_after_the_prefix_without_its_version_marker() {
    let latest = |prefix: &str| FloatingLine::Latest.tag_name(&stream(prefix));
    assert_eq!(latest("v"), "latest");
    assert_eq!(latest("V"), "latest");
    assert_eq!(latest(""), "latest");
    assert_eq!(latest("edge/v"), "edge/latest");
    assert_eq!(latest("edge/"), "edge/latest");
    assert_eq!(latest("release-v"), "release-latest");
    assert_eq!(latest("release-"), "release-latest");
    assert_eq!(latest("rel_"), "rel_latest");
    assert_eq!(latest("app"), "app-latest");
    assert_eq!(latest("dev"), "dev-latest");
    assert_eq!(latest("edge/app"), "edge/app-latest");
}

#[test]
fn lines_print_without_a_prefix() {
    let [minor, major, latest] = FloatingLine::of(&v("0.4.7"));
    assert_eq!(
        [minor.to_string(), major.to_string(), latest.to_string()],
        ["0.4", "0", "latest"]
    );
    assert!(minor.contains(&v("0.4.0")) && !minor.contains(&v("0.5.0")));
    assert!(major.contains(&v("0.9.0")) && !major.contains(&v("1.0.0")));
    assert!(latest.contains(&v("9.9.9")));
}
