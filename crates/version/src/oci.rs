use semver::Version;
use thiserror::Error;

use crate::floating::FloatingLine;
use crate::stream::Stream;

/// The longest tag the OCI distribution spec allows.
pub const OCI_TAG_MAX_LEN: usize = 128;

/// A name that cannot become an OCI image tag.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum OciTagError {
    #[error(
        "{value:?} cannot become an OCI image tag: nothing is left once leading '.' and '-' are \
         dropped, and a tag must start with a letter, a digit or '_'"
    )]
    Empty { value: String },

    #[error(
        "{value:?} cannot become an OCI image tag: it is {len} characters long and the OCI \
         distribution spec allows at most 128"
    )]
    TooLong { value: String, len: usize },
}

/// Turns a name into a valid OCI image tag, which matches `[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}`.
///
/// `+` becomes `-`, as docker/metadata-action writes SemVer build metadata, and so does every
/// other character a tag cannot hold (`edge/v1.2.3` gives `edge-v1.2.3`); leading `.` and `-` are
/// dropped. A name longer than 128 characters is refused rather than cut, as two long names cut
/// to the same tag would overwrite each other's image. Applying it twice changes nothing more.
///
/// ```
/// use relkit_version::sanitize_oci_tag;
///
/// assert_eq!(sanitize_oci_tag("1.2.0-pre.145+abc1234")?, "1.2.0-pre.145-abc1234");
/// assert_eq!(sanitize_oci_tag("edge/v1.2.3")?, "edge-v1.2.3");
/// assert_eq!(sanitize_oci_tag("-.x")?, "x");
/// assert!(sanitize_oci_tag("..").is_err());
/// # Ok::<(), relkit_version::OciTagError>(())
/// ```
pub fn sanitize_oci_tag(value: &str) -> Result<String, OciTagError> {
    let mapped: String = value
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-') {
                c
            } else {
                '-'
            }
        })
        .collect();
    let tag = mapped.trim_start_matches(['.', '-']);
    if tag.is_empty() {
        return Err(OciTagError::Empty {
            value: value.to_owned(),
        });
    }
    // Only ASCII is left, so the length in bytes is the length in characters.
    if tag.len() > OCI_TAG_MAX_LEN {
        return Err(OciTagError::TooLong {
            value: value.to_owned(),
            len: tag.len(),
        });
    }
    Ok(tag.to_owned())
}

/// The image tag of a version: `1.2.3`, or with the stream's prefix `v1.2.3`, `edge-v1.2.3`.
///
/// Image tags usually go without the prefix; then the images of two streams pushed to one
/// repository share tags, so include it when they do.
///
/// ```
/// use relkit_version::{Stream, Version, oci_tag};
///
/// let edge = Stream::new("edge/v").expect("a valid prefix");
/// let pre = Version::parse("1.2.0-pre.145+abc1234").expect("a version");
/// assert_eq!(oci_tag(&pre, &edge, false)?, "1.2.0-pre.145-abc1234");
/// assert_eq!(oci_tag(&pre, &edge, true)?, "edge-v1.2.0-pre.145-abc1234");
/// # Ok::<(), relkit_version::OciTagError>(())
/// ```
pub fn oci_tag(
    version: &Version,
    stream: &Stream,
    include_prefix: bool,
) -> Result<String, OciTagError> {
    if include_prefix {
        sanitize_oci_tag(&stream.tag_name(version))
    } else {
        sanitize_oci_tag(&version.to_string())
    }
}

/// The image tag of a floating line: `1.2`, `1`, `latest`, or with the stream's prefix `v1.2`,
/// `edge-v1`, `edge-latest`.
pub fn oci_floating_tag(
    line: FloatingLine,
    stream: &Stream,
    include_prefix: bool,
) -> Result<String, OciTagError> {
    if include_prefix {
        sanitize_oci_tag(&line.tag_name(stream))
    } else {
        sanitize_oci_tag(&line.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_character_outside_ascii_becomes_one_dash() {
        assert_eq!(sanitize_oci_tag("é1"), Ok("1".to_owned()));
        assert_eq!(sanitize_oci_tag("aé1"), Ok("a-1".to_owned()));
    }

    #[test]
    fn the_length_limit_applies_after_leading_characters_are_dropped() {
        let long = format!("..{}", "a".repeat(OCI_TAG_MAX_LEN));
        assert_eq!(sanitize_oci_tag(&long), Ok("a".repeat(OCI_TAG_MAX_LEN)));
    }
}
