use std::fmt;
use std::str::FromStr;

use semver::Version;
use thiserror::Error;

use crate::prerelease::VersionKind;

/// A release stream: the tags made of one fixed prefix followed by a SemVer version.
///
/// A repository can carry several streams side by side, such as `v1.4.0`, `edge/v2.0.0-rc.1` and
/// `cloud/v1.9.2`. A tag belongs to a stream when it starts with exactly the stream's prefix and the
/// rest is a strict SemVer 2.0 version, so `edge/v1.0.0` is not in the stream `v`, `v1.0.0` is not
/// in the stream without a prefix, and `v1.2` or `vnext` are in no stream at all. [`Stream::new`]
/// refuses prefixes that would let one tag read as a version of two streams.
///
/// The default stream is `v`, the prefix most projects use.
///
/// ```
/// use relkit_version::{Stream, Version};
///
/// let edge = Stream::new("edge/v")?;
/// assert_eq!(edge.tag_name(&Version::new(1, 2, 3)), "edge/v1.2.3");
/// assert_eq!(edge.parse_tag("edge/v1.2.3"), Some(Version::new(1, 2, 3)));
/// assert_eq!(Stream::default().parse_tag("edge/v1.2.3"), None);
/// # Ok::<(), relkit_version::StreamError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Stream {
    prefix: String,
}

/// A tag of a stream and the version it names.
// `version` comes first so that the derived order is SemVer order, with the tag as tie-breaker.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TaggedVersion {
    pub version: Version,
    pub tag: String,
}

/// A tag prefix that cannot start the tags of a stream.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum StreamError {
    #[error(
        "tag prefix {prefix:?} contains {character:?}: git tag names cannot contain spaces, \
         control characters or any of ~ ^ : ? * [ \\"
    )]
    Character { prefix: String, character: char },

    #[error(
        "tag prefix {prefix:?} contains {sequence:?}: git tag names cannot contain \"..\", \"//\" or \"@{{\""
    )]
    Sequence {
        prefix: String,
        sequence: &'static str,
    },

    #[error("tag prefix {prefix:?} starts with '/': git tag names cannot start with a slash")]
    LeadingSlash { prefix: String },

    #[error(
        "tag prefix {prefix:?} starts with '-': tags that start with a dash read as options to git"
    )]
    LeadingDash { prefix: String },

    #[error(
        "tag prefix {prefix:?} has the part {part:?}: no '/'-separated part of a git tag name can \
         start with '.'"
    )]
    DotPart { prefix: String, part: String },

    #[error(
        "tag prefix {prefix:?} has the part {part:?}: no '/'-separated part of a git tag name can \
         end with \".lock\""
    )]
    LockPart { prefix: String, part: String },

    #[error(
        "tag prefix {prefix:?} ends with {end:?}: the version would run into it \
         ({prefix:?} + \"2.3.4\" is \"{prefix}2.3.4\")"
    )]
    RunsIntoVersion { prefix: String, end: char },

    #[error(
        "tag prefix {prefix:?} ends like the start of a version: its tags would also read as \
         versions of the stream {shorter:?} (\"{prefix}1.0.0\" is {shorter:?} + \"{}1.0.0\")",
        &.prefix[.shorter.len()..]
    )]
    ReadsAsVersion { prefix: String, shorter: String },
}

/// A value given for a version input that is not a SemVer version.
#[derive(Debug, Error)]
pub enum VersionError {
    #[error("{input} {value:?} is not a SemVer 2.0 version like {}", example(.prefix))]
    NotSemver {
        input: String,
        value: String,
        prefix: String,
        #[source]
        source: semver::Error,
    },
}

fn example(prefix: &str) -> String {
    if prefix.is_empty() {
        "1.2.3".to_owned()
    } else {
        format!("1.2.3 or {prefix}1.2.3")
    }
}

impl Stream {
    /// The stream whose tags are `prefix` followed by a version; `""` is the stream of bare
    /// versions.
    ///
    /// The prefix must be usable at the start of a git tag name, and must not end in a way that
    /// runs into the version: `v1` would make `v12.3.4` out of 2.3.4, and `x1.2.3-` would make tags
    /// that the stream `x` reads as its own pre-releases.
    pub fn new(prefix: &str) -> Result<Self, StreamError> {
        check_prefix(prefix)?;
        Ok(Self {
            prefix: prefix.to_owned(),
        })
    }

    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    pub fn tag_name(&self, version: &Version) -> String {
        format!("{}{version}", self.prefix)
    }

    /// The version a tag names, or `None` when the tag is not in this stream.
    pub fn parse_tag(&self, tag: &str) -> Option<Version> {
        Version::parse(tag.strip_prefix(&self.prefix)?).ok()
    }

    /// Reads a version given by a user as `input` (a flag or variable name, used in the error),
    /// written with or without the stream's prefix: `1.2.3` and `v1.2.3` both give 1.2.3.
    ///
    /// Whitespace around the value is ignored, as values often come from files and command output
    /// with a trailing newline.
    pub fn parse_version(&self, input: &str, value: &str) -> Result<Version, VersionError> {
        let trimmed = value.trim();
        let bare = trimmed.strip_prefix(&self.prefix).unwrap_or(trimmed);
        Version::parse(bare).map_err(|source| VersionError::NotSemver {
            input: input.to_owned(),
            value: value.to_owned(),
            prefix: self.prefix.clone(),
            source,
        })
    }

    /// The tags of this stream among `tags`, in ascending SemVer order.
    ///
    /// Versions of equal precedence (`1.0.0+a`, `1.0.0+b`) are ordered by their build metadata, so
    /// the order is total and the same for every input order. Tags of other streams and tags that
    /// are not versions are left out; a tag given twice is listed once.
    pub fn releases<I>(&self, tags: I) -> Vec<TaggedVersion>
    where
        I: IntoIterator,
        I::Item: AsRef<str>,
    {
        let mut releases: Vec<TaggedVersion> = tags
            .into_iter()
            .filter_map(|tag| {
                let tag = tag.as_ref();
                let version = self.parse_tag(tag)?;
                Some(TaggedVersion {
                    version,
                    tag: tag.to_owned(),
                })
            })
            .collect();
        releases.sort();
        releases.dedup();
        releases
    }

    /// The highest full release (`X.Y.Z`, no pre-release part, no build metadata) among `tags`.
    pub fn latest_full_release<I>(&self, tags: I) -> Option<TaggedVersion>
    where
        I: IntoIterator,
        I::Item: AsRef<str>,
    {
        tags.into_iter()
            .filter_map(|tag| {
                let tag = tag.as_ref();
                let version = self.parse_tag(tag)?;
                VersionKind::of(&version).is_full().then(|| TaggedVersion {
                    version,
                    tag: tag.to_owned(),
                })
            })
            .max()
    }
}

impl Default for Stream {
    fn default() -> Self {
        Self {
            prefix: "v".to_owned(),
        }
    }
}

impl FromStr for Stream {
    type Err = StreamError;

    fn from_str(prefix: &str) -> Result<Self, Self::Err> {
        Self::new(prefix)
    }
}

impl fmt::Display for Stream {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.prefix)
    }
}

/// git's ref name rules (git-check-ref-format) for the start of a tag name, and our own rule that a
/// tag reads as a version of one stream only.
fn check_prefix(prefix: &str) -> Result<(), StreamError> {
    let owned = || prefix.to_owned();

    if let Some(character) = prefix
        .chars()
        .find(|&c| c.is_ascii_control() || " ~^:?*[\\".contains(c))
    {
        return Err(StreamError::Character {
            prefix: owned(),
            character,
        });
    }
    if let Some(sequence) = ["..", "//", "@{"].into_iter().find(|s| prefix.contains(s)) {
        return Err(StreamError::Sequence {
            prefix: owned(),
            sequence,
        });
    }
    if prefix.starts_with('/') {
        return Err(StreamError::LeadingSlash { prefix: owned() });
    }
    if prefix.starts_with('-') {
        return Err(StreamError::LeadingDash { prefix: owned() });
    }

    let parts: Vec<&str> = prefix.split('/').collect();
    if let Some(part) = parts.iter().find(|part| part.starts_with('.')) {
        return Err(StreamError::DotPart {
            prefix: owned(),
            part: (*part).to_owned(),
        });
    }
    // The last part is followed by the version, so only the parts before a slash end there.
    if let Some(part) = parts[..parts.len() - 1]
        .iter()
        .find(|part| part.ends_with(".lock"))
    {
        return Err(StreamError::LockPart {
            prefix: owned(),
            part: (*part).to_owned(),
        });
    }

    if let Some(end) = prefix
        .chars()
        .next_back()
        .filter(|&c| c.is_ascii_digit() || c == '.')
    {
        return Err(StreamError::RunsIntoVersion {
            prefix: owned(),
            end,
        });
    }

    // A tag is `prefix + version`. If some tail of the prefix followed by a version is itself a
    // version (the tail `1.2.3-` in `x1.2.3-`), the stream named by the rest of the prefix (`x`)
    // would read this stream's tags as its own. Any such tail shows with the version 1.0.0: the
    // version can only continue a numeric part or a pre-release or build identifier.
    let shorter = prefix
        .char_indices()
        .map(|(at, _)| at)
        .find(|&at| Version::parse(&format!("{}1.0.0", &prefix[at..])).is_ok());
    if let Some(at) = shorter {
        return Err(StreamError::ReadsAsVersion {
            prefix: owned(),
            shorter: prefix[..at].to_owned(),
        });
    }

    Ok(())
}

/// The prefix of a tag whose rest, from the start of a run of digits, is a version: `edge/v`
/// for `edge/v1.2.0`, `k8s/v` for `k8s/v1.2.0`, `""` for `1.2.0`; `None` for a tag that names
/// no version.
///
/// ```
/// use relkit_version::prefix_of;
///
/// assert_eq!(prefix_of("edge/v1.2.0-pre.3+abc1234"), Some("edge/v"));
/// assert_eq!(prefix_of("k8s/v1.0.0"), Some("k8s/v"));
/// assert_eq!(prefix_of("1.0.0"), Some(""));
/// assert_eq!(prefix_of("nightly"), None);
/// assert_eq!(prefix_of("v1.2"), None);
/// ```
pub fn prefix_of(tag: &str) -> Option<&str> {
    let bytes = tag.as_bytes();
    (0..bytes.len())
        .filter(|&i| bytes[i].is_ascii_digit() && (i == 0 || !bytes[i - 1].is_ascii_digit()))
        .find(|&i| Version::parse(&tag[i..]).is_ok())
        .map(|i| &tag[..i])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rejects(prefix: &str) -> StreamError {
        match Stream::new(prefix) {
            Ok(stream) => panic!("prefix {prefix:?} was accepted as {stream:?}"),
            Err(error) => error,
        }
    }

    #[test]
    fn usual_prefixes_are_accepted() {
        for prefix in [
            "", "v", "edge/v", "cloud/v", "edge/", "release-", "rel_", "app+", "cloud2/v", "V",
        ] {
            assert!(Stream::new(prefix).is_ok(), "{prefix:?} was refused");
        }
    }

    #[test]
    fn characters_git_forbids_are_refused() {
        for (prefix, character) in [
            ("my v", ' '),
            ("v~", '~'),
            ("v^", '^'),
            ("v:", ':'),
            ("v?", '?'),
            ("v*", '*'),
            ("v[", '['),
            ("v\\", '\\'),
            ("v\n", '\n'),
            ("v\u{7f}", '\u{7f}'),
        ] {
            assert_eq!(
                rejects(prefix),
                StreamError::Character {
                    prefix: prefix.to_owned(),
                    character
                }
            );
        }
    }

    #[test]
    fn sequences_git_forbids_are_refused() {
        for (prefix, sequence) in [("a..b/v", ".."), ("edge//v", "//"), ("a@{b/v", "@{")] {
            assert_eq!(
                rejects(prefix),
                StreamError::Sequence {
                    prefix: prefix.to_owned(),
                    sequence
                }
            );
        }
    }

    #[test]
    fn a_leading_slash_or_dash_is_refused() {
        assert!(matches!(rejects("/v"), StreamError::LeadingSlash { .. }));
        assert!(matches!(rejects("-v"), StreamError::LeadingDash { .. }));
    }

    #[test]
    fn a_part_starting_with_a_dot_is_refused_wherever_it_is() {
        assert!(matches!(rejects(".v"), StreamError::DotPart { part, .. } if part == ".v"));
        assert!(matches!(rejects("edge/.v"), StreamError::DotPart { part, .. } if part == ".v"));
        assert!(matches!(rejects(".edge/v"), StreamError::DotPart { .. }));
    }

    #[test]
    fn a_part_ending_in_dot_lock_is_refused_before_a_slash() {
        assert!(
            matches!(rejects("edge.lock/v"), StreamError::LockPart { part, .. } if part == "edge.lock")
        );
        // The last part runs into the version, so "x.lock" + "1.2.3" never ends in ".lock".
        assert!(Stream::new("x.lock").is_ok());
    }

    #[test]
    fn a_prefix_ending_in_a_digit_or_a_dot_is_refused() {
        assert_eq!(
            rejects("v1"),
            StreamError::RunsIntoVersion {
                prefix: "v1".to_owned(),
                end: '1'
            }
        );
        assert_eq!(
            rejects("v."),
            StreamError::RunsIntoVersion {
                prefix: "v.".to_owned(),
                end: '.'
            }
        );
    }

    #[test]
    fn a_prefix_ending_like_a_version_is_refused() {
        assert_eq!(
            rejects("x1.2.3-"),
            StreamError::ReadsAsVersion {
                prefix: "x1.2.3-".to_owned(),
                shorter: "x".to_owned()
            }
        );
        assert_eq!(
            rejects("1.2.3+b"),
            StreamError::ReadsAsVersion {
                prefix: "1.2.3+b".to_owned(),
                shorter: String::new()
            }
        );
        assert!(matches!(
            rejects("v2.0.0-rc"),
            StreamError::ReadsAsVersion { .. }
        ));
    }

    #[test]
    fn error_messages_name_the_prefix_and_the_rule() {
        assert_eq!(
            rejects("v1").to_string(),
            r#"tag prefix "v1" ends with '1': the version would run into it ("v1" + "2.3.4" is "v12.3.4")"#
        );
        assert_eq!(
            rejects("x1.2.3-").to_string(),
            r#"tag prefix "x1.2.3-" ends like the start of a version: its tags would also read as versions of the stream "x" ("x1.2.3-1.0.0" is "x" + "1.2.3-1.0.0")"#
        );
        assert_eq!(
            rejects("my v").to_string(),
            r#"tag prefix "my v" contains ' ': git tag names cannot contain spaces, control characters or any of ~ ^ : ? * [ \"#
        );
    }
}
