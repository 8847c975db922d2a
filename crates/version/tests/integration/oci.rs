use relkit_version::{
    FloatingLine, OCI_TAG_MAX_LEN, OciTagError, Stream, oci_floating_tag, oci_tag, sanitize_oci_tag,
};

use crate::v;

fn stream(prefix: &str) -> Stream {
    Stream::new(prefix).expect("tests use valid prefixes")
}

fn sanitized(value: &str) -> String {
    sanitize_oci_tag(value).expect("a valid tag comes out")
}

#[test]
fn build_metadata_plus_becomes_a_dash_as_in_docker_metadata_action() {
    assert_eq!(sanitized("1.2.0-pre.145+abc1234"), "1.2.0-pre.145-abc1234");
}

#[test]
fn letters_digits_underscores_dots_and_dashes_are_kept() {
    assert_eq!(sanitized("Release_1.2-RC.3"), "Release_1.2-RC.3");
    assert_eq!(sanitized("_hidden"), "_hidden");
}

#[test]
fn every_other_character_becomes_a_dash() {
    assert_eq!(sanitized("edge/v1.2.3"), "edge-v1.2.3");
    assert_eq!(sanitized("a b:c@d"), "a-b-c-d");
}

#[test]
fn leading_dots_and_dashes_are_dropped() {
    assert_eq!(sanitized(".hidden"), "hidden");
    assert_eq!(sanitized("-.-x"), "x");
    assert_eq!(sanitized("/v1"), "v1");
    assert_eq!(sanitized("+build"), "build");
}

#[test]
fn a_name_with_nothing_left_is_refused() {
    for value in ["", ".", "-", "/", ".-/+"] {
        assert_eq!(
            sanitize_oci_tag(value),
            Err(OciTagError::Empty {
                value: value.to_owned()
            })
        );
    }
    assert_eq!(
        sanitize_oci_tag("..")
            .expect_err("nothing left")
            .to_string(),
        r#"".." cannot become an OCI image tag: nothing is left once leading '.' and '-' are dropped, and a tag must start with a letter, a digit or '_'"#
    );
}

#[test]
fn a_tag_of_128_characters_is_kept_and_one_of_129_refused() {
    let longest = "a".repeat(OCI_TAG_MAX_LEN);
    assert_eq!(sanitized(&longest), longest);
    let too_long = "a".repeat(OCI_TAG_MAX_LEN + 1);
    let error = sanitize_oci_tag(&too_long).expect_err("too long");
    assert_eq!(
        error,
        OciTagError::TooLong {
            value: too_long.clone(),
            len: 129
        }
    );
    assert_eq!(
        error.to_string(),
        format!(
            "{too_long:?} cannot become an OCI image tag: it is 129 characters long and the OCI distribution spec allows at most 128"
        )
    );
}

#[test]
fn an_image_tag_leaves_the_stream_prefix_out_unless_asked() {
    let edge = stream("edge/v");
    assert_eq!(oci_tag(&v("1.2.3"), &edge, false).as_deref(), Ok("1.2.3"));
    assert_eq!(
        oci_tag(&v("1.2.3"), &edge, true).as_deref(),
        Ok("edge-v1.2.3")
    );
    assert_eq!(
        oci_tag(&v("1.2.3"), &Stream::default(), true).as_deref(),
        Ok("v1.2.3")
    );
    assert_eq!(
        oci_tag(&v("1.2.3"), &stream(""), true).as_deref(),
        Ok("1.2.3")
    );
}

#[test]
fn a_pre_release_image_tag_carries_its_commit_after_a_dash() {
    let pre = v("1.2.0-pre.145+abc1234");
    assert_eq!(
        oci_tag(&pre, &Stream::default(), false).as_deref(),
        Ok("1.2.0-pre.145-abc1234")
    );
    assert_eq!(
        oci_tag(&pre, &stream("cloud/v"), true).as_deref(),
        Ok("cloud-v1.2.0-pre.145-abc1234")
    );
}

#[test]
fn a_version_too_long_for_an_image_tag_is_refused() {
    let long = v(&format!("1.2.3+{}", "a".repeat(130)));
    assert!(matches!(
        oci_tag(&long, &Stream::default(), false),
        Err(OciTagError::TooLong { len: 136, .. })
    ));
}

#[test]
fn floating_image_tags_follow_the_same_prefix_choice() {
    let edge = stream("edge/v");
    let [minor, major, latest] = FloatingLine::of(&v("1.2.3"));
    let tags = |include| {
        [minor, major, latest].map(|line| {
            oci_floating_tag(line, &edge, include).expect("floating tags are valid image tags")
        })
    };
    assert_eq!(tags(false), ["1.2", "1", "latest"]);
    assert_eq!(tags(true), ["edge-v1.2", "edge-v1", "edge-latest"]);
}
