use std::cmp::Ordering;
use std::fmt;
use std::str::FromStr;

use semver::Version;
use thiserror::Error;

use crate::{core, count};

/// How far a release moves from the one before: ordered `None < Patch < Minor < Major`.
///
/// ```
/// use relkit_version::{Bump, Version};
///
/// let v = Version::parse("1.2.3")?;
/// assert_eq!(Bump::Patch.apply(&v)?, Version::new(1, 2, 4));
/// assert_eq!(Bump::Minor.apply(&v)?, Version::new(1, 3, 0));
/// assert_eq!(Bump::Major.apply(&v)?, Version::new(2, 0, 0));
/// assert_eq!(Bump::None.apply(&v)?, v);
/// assert!(Bump::Patch < Bump::Minor && Bump::Minor < Bump::Major);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub enum Bump {
    #[default]
    None,
    Patch,
    Minor,
    Major,
}

impl Bump {
    pub const ALL: [Self; 4] = [Self::None, Self::Patch, Self::Minor, Self::Major];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::None => "none",
            Self::Patch => "patch",
            Self::Minor => "minor",
            Self::Major => "major",
        }
    }

    /// The version this bump leads to from `version`: the bumped number goes up by one, the
    /// numbers after it go to zero, and the pre-release part and build metadata are dropped.
    /// `None` leaves the version as it is.
    ///
    /// The numbers of a pre-release are bumped as they are: a patch after `1.2.4-rc.1` is 1.2.5.
    /// Pass the newest full release.
    pub fn apply(self, version: &Version) -> Result<Version, BumpError> {
        let overflow = || BumpError::Overflow {
            version: version.clone(),
            bump: self,
        };
        let (major, minor, patch) = (version.major, version.minor, version.patch);
        Ok(match self {
            Self::None => return Ok(version.clone()),
            Self::Patch => Version::new(major, minor, patch.checked_add(1).ok_or_else(overflow)?),
            Self::Minor => Version::new(major, minor.checked_add(1).ok_or_else(overflow)?, 0),
            Self::Major => Version::new(major.checked_add(1).ok_or_else(overflow)?, 0, 0),
        })
    }
}

impl fmt::Display for Bump {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Bump {
    type Err = BumpError;

    /// `none`, `patch`, `minor` or `major`, in any case.
    fn from_str(value: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|bump| bump.as_str().eq_ignore_ascii_case(value))
            .ok_or_else(|| BumpError::Unknown {
                value: value.to_owned(),
            })
    }
}

/// A bump that cannot be read or made.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum BumpError {
    #[error("bump {value:?} is not one of none, patch, minor, major")]
    Unknown { value: String },

    #[error(
        "cannot make a {bump} release after {version}: its {bump} number is already the largest possible"
    )]
    Overflow { version: Version, bump: Bump },
}

/// How breaking changes and features bump a `0.x` version, as git-cliff's `[bump]` options do.
///
/// SemVer leaves `0.x` open ("anything may change at any time"); many projects keep to `0.x` while
/// breaking things by moving the minor version, as Cargo reads it. Both default to `true`: the
/// `0.x` rule is opt-in, as in git-cliff.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct BumpPolicy {
    /// When `false`, a breaking change bumps the minor version while the major version is 0.
    pub breaking_always_major: bool,
    /// When `false`, a feature bumps the patch version while the major version is 0.
    pub features_always_minor: bool,
}

impl Default for BumpPolicy {
    fn default() -> Self {
        Self {
            breaking_always_major: true,
            features_always_minor: true,
        }
    }
}

/// The commits since the newest release, each counted once, in the first of these categories it
/// falls in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct CommitCounts {
    /// Commits with `!` after their type or a `BREAKING CHANGE` footer.
    pub breaking: usize,
    /// `feat` commits.
    pub features: usize,
    /// `fix` and `perf` commits.
    pub fixes: usize,
    /// Everything else: `docs`, `refactor`, `chore`, commits that are not conventional.
    pub other: usize,
}

impl CommitCounts {
    pub fn total(&self) -> usize {
        self.breaking + self.features + self.fixes + self.other
    }

    pub fn is_empty(&self) -> bool {
        self.total() == 0
    }
}

/// The bump the commits since `current` call for, the version it leads to and why, in words that
/// head the release notes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BumpDecision {
    pub bump: Bump,
    pub next: Version,
    pub reason: String,
}

impl fmt::Display for BumpDecision {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.reason)
    }
}

/// Decides the bump for the commits since `current`, the newest full release (`0.0.0` when there
/// is none yet): any breaking change makes a major release, else any feature a minor one, else any
/// commit at all a patch; no commit, no release.
///
/// ```
/// use relkit_version::{Bump, BumpPolicy, CommitCounts, Version, decide};
///
/// let policy = BumpPolicy::default();
/// let current = Version::new(1, 2, 3);
///
/// let fixes = CommitCounts { fixes: 2, other: 1, ..CommitCounts::default() };
/// let decision = decide(&current, &fixes, &policy)?;
/// assert_eq!(decision.next, Version::new(1, 2, 4));
/// assert_eq!(decision.reason, "patch: 2 fixes, 1 other commit");
///
/// let features = CommitCounts { features: 3, fixes: 1, ..CommitCounts::default() };
/// let decision = decide(&current, &features, &policy)?;
/// assert_eq!(decision.next, Version::new(1, 3, 0));
/// assert_eq!(decision.reason, "minor: 3 features, 1 fix, no breaking change");
///
/// let breaking = CommitCounts { breaking: 1, features: 2, ..CommitCounts::default() };
/// assert_eq!(decide(&current, &breaking, &policy)?.next, Version::new(2, 0, 0));
///
/// let decision = decide(&current, &CommitCounts::default(), &policy)?;
/// assert_eq!((decision.bump, decision.next), (Bump::None, current));
/// assert_eq!(decision.reason, "none: no commits since 1.2.3");
/// # Ok::<(), relkit_version::BumpError>(())
/// ```
///
/// While the major version is 0, a policy can keep breaking changes to the minor version and
/// features to the patch version; the reason says so.
///
/// ```
/// use relkit_version::{BumpPolicy, CommitCounts, Version, decide};
///
/// let zero = BumpPolicy { breaking_always_major: false, features_always_minor: false };
/// let breaking = CommitCounts { breaking: 1, ..CommitCounts::default() };
///
/// let decision = decide(&Version::new(0, 4, 1), &breaking, &zero)?;
/// assert_eq!(decision.next, Version::new(0, 5, 0));
/// assert_eq!(decision.reason, "minor: 1 breaking change (0.x: breaking changes bump the minor version)");
///
/// // From 1.0.0 on, the policy no longer matters.
/// assert_eq!(decide(&Version::new(1, 4, 1), &breaking, &zero)?.next, Version::new(2, 0, 0));
///
/// // The default policy makes 1.0.0 out of a breaking change in 0.x.
/// assert_eq!(decide(&Version::new(0, 4, 1), &breaking, &BumpPolicy::default())?.next, Version::new(1, 0, 0));
/// # Ok::<(), relkit_version::BumpError>(())
/// ```
pub fn decide(
    current: &Version,
    counts: &CommitCounts,
    policy: &BumpPolicy,
) -> Result<BumpDecision, BumpError> {
    let zero = current.major == 0;
    let (bump, zero_rule) = if counts.breaking > 0 {
        if zero && !policy.breaking_always_major {
            (
                Bump::Minor,
                Some("0.x: breaking changes bump the minor version"),
            )
        } else {
            (Bump::Major, None)
        }
    } else if counts.features > 0 {
        if zero && !policy.features_always_minor {
            (Bump::Patch, Some("0.x: features bump the patch version"))
        } else {
            (Bump::Minor, None)
        }
    } else if counts.is_empty() {
        (Bump::None, None)
    } else {
        (Bump::Patch, None)
    };

    let next = bump.apply(current)?;
    let reason = if bump == Bump::None {
        format!("none: no commits since {current}")
    } else {
        let mut parts: Vec<String> = [
            (counts.breaking, "breaking change", "breaking changes"),
            (counts.features, "feature", "features"),
            (counts.fixes, "fix", "fixes"),
            (counts.other, "other commit", "other commits"),
        ]
        .into_iter()
        .filter(|&(n, _, _)| n > 0)
        .map(|(n, singular, plural)| count(n, singular, plural))
        .collect();
        // Features without a breaking change: say so, as that is what makes it no major.
        if counts.breaking == 0 && counts.features > 0 {
            parts.push("no breaking change".to_owned());
        }
        let rule = zero_rule
            .map(|rule| format!(" ({rule})"))
            .unwrap_or_default();
        format!("{bump}: {}{rule}", parts.join(", "))
    };
    Ok(BumpDecision { bump, next, reason })
}

/// A step from one release line `X.Y.Z` to another; pre-release parts and build metadata are not
/// part of a line, so `1.2.0-pre.4` to `1.2.0` is [`Step::Same`].
///
/// ```
/// use relkit_version::{Bump, Step, Version};
///
/// let v = |s: &str| Version::parse(s).expect("a version");
/// assert_eq!(Step::between(&v("1.2.3"), &v("1.3.0")), Step::Up(Bump::Minor));
/// assert_eq!(Step::between(&v("1.2.3"), &v("1.3.5")), Step::Up(Bump::Minor));
/// assert_eq!(Step::between(&v("1.2.3"), &v("2.0.0")), Step::Up(Bump::Major));
/// assert_eq!(Step::between(&v("1.2.3"), &v("1.2.3")), Step::Same);
/// assert_eq!(Step::between(&v("1.2.3"), &v("1.2.2")), Step::Down);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Step {
    Down,
    Same,
    /// Up by the highest number that changes: `Patch`, `Minor` or `Major`, never `None`.
    Up(Bump),
}

impl Step {
    pub fn between(from: &Version, to: &Version) -> Self {
        let (from, to) = (core(from), core(to));
        match to.cmp(&from) {
            Ordering::Less => Self::Down,
            Ordering::Equal => Self::Same,
            Ordering::Greater if to.major != from.major => Self::Up(Bump::Major),
            Ordering::Greater if to.minor != from.minor => Self::Up(Bump::Minor),
            Ordering::Greater => Self::Up(Bump::Patch),
        }
    }

    /// The bump of an upward step; `None` for any other.
    pub fn bump(self) -> Bump {
        match self {
            Self::Up(bump) => bump,
            Self::Down | Self::Same => Bump::None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bumps_parse_in_any_case_and_print_in_lowercase() {
        for bump in Bump::ALL {
            assert_eq!(bump.to_string().parse::<Bump>(), Ok(bump));
            assert_eq!(bump.to_string().to_uppercase().parse::<Bump>(), Ok(bump));
        }
    }

    #[test]
    fn an_unknown_bump_names_the_value_and_the_allowed_ones() {
        let error = "huge".parse::<Bump>().expect_err("not a bump");
        assert_eq!(
            error.to_string(),
            r#"bump "huge" is not one of none, patch, minor, major"#
        );
    }

    #[test]
    fn a_bump_past_the_largest_number_is_an_error_not_a_wrap() {
        let v = Version::new(1, 2, u64::MAX);
        assert_eq!(
            Bump::Patch.apply(&v),
            Err(BumpError::Overflow {
                version: v.clone(),
                bump: Bump::Patch
            })
        );
        assert_eq!(Bump::Minor.apply(&v), Ok(Version::new(1, 3, 0)));
        let error = Bump::Major
            .apply(&Version::new(u64::MAX, 0, 0))
            .expect_err("overflows");
        assert_eq!(
            error.to_string(),
            "cannot make a major release after 18446744073709551615.0.0: its major number is already the largest possible"
        );
    }
}
