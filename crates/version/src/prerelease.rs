use std::fmt;
use std::str::FromStr;

use semver::{BuildMetadata, Prerelease, Version};
use thiserror::Error;

use crate::bump::{Bump, BumpError};
use crate::core;

/// What a version is, among the forms relkit makes.
///
/// ```
/// use relkit_version::{Version, VersionKind};
///
/// let kind = |v: &str| VersionKind::of(&Version::parse(v).expect("a version"));
/// assert_eq!(kind("1.2.3"), VersionKind::Full);
/// assert_eq!(kind("1.2.0-pre.145+abc1234"), VersionKind::Prerelease { count: 145 });
/// assert_eq!(kind("1.2.3-rc.2"), VersionKind::ReleaseCandidate { number: 2 });
/// assert_eq!(kind("1.2.3-beta.1"), VersionKind::Other);
/// assert_eq!(kind("1.2.3+build.5"), VersionKind::Other);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum VersionKind {
    /// `X.Y.Z`: no pre-release part and no build metadata. Only these go to production.
    Full,
    /// `X.Y.Z-pre.N`, whatever its build metadata (relkit writes the commit there).
    Prerelease { count: u64 },
    /// `X.Y.Z-rc.N`, whatever its build metadata.
    ReleaseCandidate { number: u64 },
    /// Any other version: another pre-release scheme such as `-beta.1`, a number too large for
    /// 64 bits, or `X.Y.Z+build`, which SemVer ranks as a release but relkit never makes.
    Other,
}

impl VersionKind {
    pub fn of(version: &Version) -> Self {
        if version.pre.is_empty() {
            return if version.build.is_empty() {
                Self::Full
            } else {
                Self::Other
            };
        }
        // SemVer has refused leading zeros, and `pre.-1` (an identifier, not a number) fails the parse.
        let numbered = |label: &str| -> Option<u64> {
            let (name, number) = version.pre.as_str().split_once('.')?;
            if name != label {
                return None;
            }
            number.parse().ok()
        };
        if let Some(count) = numbered("pre") {
            Self::Prerelease { count }
        } else if let Some(number) = numbered("rc") {
            Self::ReleaseCandidate { number }
        } else {
            Self::Other
        }
    }

    pub fn is_full(self) -> bool {
        self == Self::Full
    }
}

/// Which version a pre-release is named after.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum PrereleaseBase {
    /// The newest full release of the stream, as the release playbooks write it:
    /// `1.2.0-pre.145+abc1234` is the 145th commit after 1.2.0. SemVer ranks it *below* 1.2.0.
    #[default]
    Latest,
    /// The version the commits lead to (the newest release bumped as they call for), so a
    /// pre-release ranks above the release it follows and below the release it becomes, as SemVer
    /// intends: `1.3.0-pre.145+abc1234` for features after 1.2.0.
    Next,
}

impl PrereleaseBase {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Latest => "latest",
            Self::Next => "next",
        }
    }
}

impl fmt::Display for PrereleaseBase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for PrereleaseBase {
    type Err = PrereleaseError;

    /// `latest` or `next`, in any case.
    fn from_str(value: &str) -> Result<Self, Self::Err> {
        [Self::Latest, Self::Next]
            .into_iter()
            .find(|base| base.as_str().eq_ignore_ascii_case(value))
            .ok_or_else(|| PrereleaseError::UnknownBase {
                value: value.to_owned(),
            })
    }
}

/// A commit id cut to the 7 lowercase hex digits a pre-release carries as build metadata.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ShortSha(String);

impl ShortSha {
    pub const LEN: usize = 7;

    /// Takes a full or abbreviated commit id of at least 7 hex digits, in either case. Whitespace
    /// around it is ignored, as it often comes from `git rev-parse` output.
    pub fn new(commit: &str) -> Result<Self, PrereleaseError> {
        let trimmed = commit.trim();
        if let Some(found) = trimmed.chars().find(|c| !c.is_ascii_hexdigit()) {
            return Err(PrereleaseError::ShaNotHex {
                commit: commit.to_owned(),
                found,
            });
        }
        // Only ASCII hex digits are left, so byte indices are character indices.
        match trimmed.get(..Self::LEN) {
            Some(short) => Ok(Self(short.to_ascii_lowercase())),
            None => Err(PrereleaseError::ShaTooShort {
                commit: commit.to_owned(),
            }),
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl FromStr for ShortSha {
    type Err = PrereleaseError;

    fn from_str(commit: &str) -> Result<Self, Self::Err> {
        Self::new(commit)
    }
}

impl fmt::Display for ShortSha {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A pre-release or release candidate that cannot be named.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum PrereleaseError {
    #[error(
        "commit id {commit:?} contains {found:?}: a pre-release names its commit by hex digits, \
         like abc1234"
    )]
    ShaNotHex { commit: String, found: char },

    #[error(
        "commit id {commit:?} is shorter than 7 hex digits: a pre-release names its commit by 7, \
         like abc1234"
    )]
    ShaTooShort { commit: String },

    #[error("pre-release base {value:?} is not one of latest, next")]
    UnknownBase { value: String },

    #[error(
        "cannot number a release candidate after {target}-rc.{highest}: the next number does not \
         fit in 64 bits"
    )]
    RcOverflow { target: Version, highest: u64 },

    #[error(transparent)]
    Bump(#[from] BumpError),
}

/// The pre-release `{base}-pre.{count}+{sha}`: `count` commits after `base`, at commit `sha`.
///
/// Only the `X.Y.Z` of `base` is used. Pre-releases of one base rank by their count, and the
/// commit in the build metadata keeps two pre-releases with the same count (made on two branches)
/// apart as tags.
///
/// ```
/// use relkit_version::{ShortSha, Version, prerelease_version};
///
/// let sha: ShortSha = "ABC1234def5678".parse()?;
/// let pre = prerelease_version(&Version::new(1, 2, 0), 145, &sha);
/// assert_eq!(pre.to_string(), "1.2.0-pre.145+abc1234");
/// # Ok::<(), relkit_version::PrereleaseError>(())
/// ```
pub fn prerelease_version(base: &Version, count: u64, sha: &ShortSha) -> Version {
    Version {
        pre: Prerelease::new(&format!("pre.{count}")).expect("pre.N is a valid pre-release"),
        build: BuildMetadata::new(sha.as_str()).expect("hex digits are valid build metadata"),
        ..core(base)
    }
}

/// The next pre-release of a stream, given its versions (only full releases count; `0.0.0`
/// stands for none yet), the bump the commits since the newest release call for, how many commits
/// there are and the commit to name.
///
/// With [`PrereleaseBase::Next`] and no bump called for, the base is the next patch: a pre-release
/// in that form always ranks above the release it follows.
///
/// ```
/// use relkit_version::{Bump, PrereleaseBase, Version, next_prerelease};
///
/// let releases = [Version::new(1, 1, 0), Version::new(1, 2, 0)];
/// let sha = "abc1234".parse()?;
/// let latest = next_prerelease(&releases, PrereleaseBase::Latest, Bump::Minor, 145, &sha)?;
/// assert_eq!(latest.to_string(), "1.2.0-pre.145+abc1234");
/// let next = next_prerelease(&releases, PrereleaseBase::Next, Bump::Minor, 145, &sha)?;
/// assert_eq!(next.to_string(), "1.3.0-pre.145+abc1234");
/// # Ok::<(), relkit_version::PrereleaseError>(())
/// ```
pub fn next_prerelease(
    releases: &[Version],
    base: PrereleaseBase,
    bump: Bump,
    count: u64,
    sha: &ShortSha,
) -> Result<Version, PrereleaseError> {
    let latest = releases
        .iter()
        .filter(|v| VersionKind::of(v).is_full())
        .max()
        .cloned()
        .unwrap_or_else(|| Version::new(0, 0, 0));
    let base = match base {
        PrereleaseBase::Latest => latest,
        PrereleaseBase::Next => bump.max(Bump::Patch).apply(&latest)?,
    };
    Ok(prerelease_version(&base, count, sha))
}

/// The next release candidate `X.Y.Z-rc.N` of `target` (its `X.Y.Z`), after the candidates among
/// `existing`: N is one more than the highest N so far, or 1 for the first. Gaps are not filled,
/// so a candidate number is never given twice even after a tag was deleted.
///
/// ```
/// use relkit_version::{Version, next_rc};
///
/// let v = |s: &str| Version::parse(s).expect("a version");
/// assert_eq!(next_rc(&v("1.2.3"), &[])?, v("1.2.3-rc.1"));
/// assert_eq!(next_rc(&v("1.2.3"), &[v("1.2.3-rc.1"), v("1.2.3-rc.4"), v("1.2.4-rc.9")])?, v("1.2.3-rc.5"));
/// # Ok::<(), relkit_version::PrereleaseError>(())
/// ```
pub fn next_rc(target: &Version, existing: &[Version]) -> Result<Version, PrereleaseError> {
    let target = core(target);
    let highest = existing
        .iter()
        .filter(|v| core(v) == target)
        .filter_map(|v| match VersionKind::of(v) {
            VersionKind::ReleaseCandidate { number } => Some(number),
            _ => None,
        })
        .max();
    let number = match highest {
        None => 1,
        Some(highest) => highest
            .checked_add(1)
            .ok_or_else(|| PrereleaseError::RcOverflow {
                target: target.clone(),
                highest,
            })?,
    };
    Ok(Version {
        pre: Prerelease::new(&format!("rc.{number}")).expect("rc.N is a valid pre-release"),
        ..target
    })
}

/// The `X.Y.Z` a pre-release is named after, or `None` for a version without a pre-release part.
///
/// That is the release a [`PrereleaseBase::Latest`] pre-release follows, and the release a
/// [`PrereleaseBase::Next`] pre-release or a release candidate leads to. Any pre-release scheme
/// (`1.2.0-beta.1`) has one.
pub fn prerelease_base(version: &Version) -> Option<Version> {
    (!version.pre.is_empty()).then(|| core(version))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kind_reads_only_well_formed_labels() {
        let kind = |v: &str| VersionKind::of(&Version::parse(v).expect("a version"));
        assert_eq!(kind("1.0.0-pre.0"), VersionKind::Prerelease { count: 0 });
        assert_eq!(kind("1.0.0-pre"), VersionKind::Other);
        assert_eq!(kind("1.0.0-pre.x"), VersionKind::Other);
        assert_eq!(kind("1.0.0-pre.1.2"), VersionKind::Other);
        assert_eq!(kind("1.0.0-prefix.1"), VersionKind::Other);
        assert_eq!(
            kind("1.0.0-rc.1+sha"),
            VersionKind::ReleaseCandidate { number: 1 }
        );
        assert_eq!(kind("1.0.0-RC.1"), VersionKind::Other);
        assert_eq!(kind("1.0.0-rc.99999999999999999999"), VersionKind::Other);
    }
}
