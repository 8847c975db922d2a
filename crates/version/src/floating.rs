use std::fmt;

use semver::Version;

use crate::prerelease::VersionKind;
use crate::stream::Stream;

/// The releases a floating tag follows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FloatingLine {
    /// `v1.2`: the 1.2.x releases.
    Minor { major: u64, minor: u64 },
    /// `v1`: the 1.x.x releases.
    Major { major: u64 },
    /// `latest`: all releases, or the release production rolled back to.
    Latest,
}

impl FloatingLine {
    /// The lines a release is in, narrowest first.
    pub fn of(release: &Version) -> [Self; 3] {
        [
            Self::Minor {
                major: release.major,
                minor: release.minor,
            },
            Self::Major {
                major: release.major,
            },
            Self::Latest,
        ]
    }

    pub fn contains(self, version: &Version) -> bool {
        match self {
            Self::Minor { major, minor } => version.major == major && version.minor == minor,
            Self::Major { major } => version.major == major,
            Self::Latest => true,
        }
    }

    /// The floating tag of this line in `stream`: `v1.2`, `edge/v1`, `latest`, `edge/latest`.
    ///
    /// `latest` takes the stream's prefix without its version marker `v`, so each stream has its
    /// own: `edge/v` gives `edge/latest`, `release-` gives `release-latest`, `app` gives
    /// `app-latest`. The streams `v` and `""` both use plain `latest`.
    pub fn tag_name(self, stream: &Stream) -> String {
        let prefix = stream.prefix();
        match self {
            Self::Minor { major, minor } => format!("{prefix}{major}.{minor}"),
            Self::Major { major } => format!("{prefix}{major}"),
            Self::Latest => {
                let ends_open = |s: &str| s.is_empty() || s.ends_with(['/', '-', '_', '+']);
                let stem = prefix
                    .strip_suffix(['v', 'V'])
                    .filter(|stem| ends_open(stem))
                    .unwrap_or(prefix);
                let joint = if ends_open(stem) { "" } else { "-" };
                format!("{stem}{joint}latest")
            }
        }
    }
}

/// The line without a stream prefix: `1.2`, `1`, `latest`.
impl fmt::Display for FloatingLine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Minor { major, minor } => write!(f, "{major}.{minor}"),
            Self::Major { major } => write!(f, "{major}"),
            Self::Latest => f.write_str("latest"),
        }
    }
}

/// How a release of a line reads in a reason: `1.2.x release`, `1.x.x release`, `release`.
fn release_of(line: FloatingLine) -> String {
    match line {
        FloatingLine::Minor { major, minor } => format!("{major}.{minor}.x release"),
        FloatingLine::Major { major } => format!("{major}.x.x release"),
        FloatingLine::Latest => "release".to_owned(),
    }
}

/// A floating tag a release may move, and whether it does.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct FloatingTag {
    pub name: String,
    pub line: FloatingLine,
    pub moves: bool,
    pub reason: String,
}

/// The floating tags of a release, narrowest first: `v1.2`, `v1`, `latest`.
///
/// Each moves to the release when it is the highest full release of its line among
/// `full_releases` (which may include the release itself; versions that are not full releases are
/// left out). A rollback also moves `latest`, as production follows it, but moves `v1.2` and `v1`
/// only where it is the highest of their line: those tags promise the newest release of a line.
///
/// A version that is not a full release has no floating tags (the list is empty): `latest`, `v1`
/// and `v1.2` only ever name production releases.
///
/// ```
/// use relkit_version::{Stream, Version, floating_tags};
///
/// let v = |s: &str| Version::parse(s).expect("a version");
/// let releases = [v("1.2.3"), v("1.3.0")];
/// let tags = floating_tags(&Stream::default(), &v("1.2.4"), &releases, false);
/// let moved: Vec<_> = tags.iter().map(|t| (t.name.as_str(), t.moves)).collect();
/// assert_eq!(moved, [("v1.2", true), ("v1", false), ("latest", false)]);
/// assert_eq!(tags[1].reason, "v1.3.0 is a higher 1.x.x release");
/// ```
pub fn floating_tags(
    stream: &Stream,
    release: &Version,
    full_releases: &[Version],
    is_rollback: bool,
) -> Vec<FloatingTag> {
    if !VersionKind::of(release).is_full() {
        return Vec::new();
    }
    let tag = stream.tag_name(release);
    FloatingLine::of(release)
        .into_iter()
        .map(|line| {
            let higher = full_releases
                .iter()
                .filter(|v| VersionKind::of(v).is_full() && line.contains(v) && *v > release)
                .max();
            let (moves, reason) = match higher {
                None => (true, format!("{tag} is the highest {}", release_of(line))),
                Some(higher) if is_rollback && line == FloatingLine::Latest => (
                    true,
                    format!(
                        "rollback: production follows {tag} although {} is higher",
                        stream.tag_name(higher)
                    ),
                ),
                Some(higher) => (
                    false,
                    format!(
                        "{} is a higher {}",
                        stream.tag_name(higher),
                        release_of(line)
                    ),
                ),
            };
            FloatingTag {
                name: line.tag_name(stream),
                line,
                moves,
                reason,
            }
        })
        .collect()
}
