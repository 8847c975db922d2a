use std::fmt;

use semver::Version;
use thiserror::Error;

use crate::bump::{Bump, Step};
use crate::core;
use crate::prerelease::VersionKind;
use crate::stream::Stream;

/// A tag of the stream as it stands before the promotion.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ExistingRelease {
    pub version: Version,
    /// The full id of the commit the tag points at (peeled, for an annotated tag), when known. It
    /// matters only for a tag the promotion would reuse.
    pub commit: Option<String>,
}

/// A pre-release to promote to a release, and what the stream looks like now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PromotionRequest {
    pub stream: Stream,
    /// The version to release.
    pub release: Version,
    /// The tested pre-release being promoted.
    pub prerelease: Version,
    /// The stream's tags; those that are not full releases are not considered.
    pub existing: Vec<ExistingRelease>,
    /// The full id of the commit the release tag is to point at: the pre-release's commit.
    pub target_commit: String,
    pub is_rollback: bool,
    /// The bump the commits since the previous release call for (see [`crate::decide`]).
    pub commits_bump: Bump,
    /// Refuse a release whose bump differs from the one the commits call for.
    pub strict: bool,
}

/// What a promotion that passed its checks will do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PromotionReport {
    /// The release tag, such as `v1.2.3`.
    pub tag: String,
    /// The highest full release below the release, that its bump is measured from.
    pub previous: Option<Version>,
    /// The highest full release of the stream other than the release: above it for a rollback
    /// that goes back, which production rolls back from.
    pub highest: Option<Version>,
    /// The step from `previous` (or 0.0.0) to the release.
    pub bump_kind: Bump,
    pub commits_call_for: Bump,
    /// Set when the release's bump differs from the commits'. Not judged for a rollback that goes
    /// back: it restores a release rather than following the commits.
    pub mismatch: Option<BumpMismatch>,
    /// The release tag already points at the target commit: a re-run after a partial failure, or
    /// a rollback to an existing release. Creating the tag is then a no-op.
    pub reuses_tag: bool,
    pub is_rollback: bool,
}

/// A release whose bump is not the one the commits call for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BumpMismatch {
    pub release: Version,
    pub bump: Bump,
    pub commits_call_for: Bump,
}

impl fmt::Display for BumpMismatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let Self {
            release,
            bump,
            commits_call_for,
        } = self;
        match commits_call_for {
            Bump::None => write!(
                f,
                "release {release} is a {bump} but no commit calls for one"
            ),
            commits => write!(
                f,
                "release {release} is a {bump} but the commits call for a {commits}"
            ),
        }
    }
}

/// A promotion refused before anything was changed.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum PromotionError {
    #[error(
        "release version \"{release}\" has a pre-release part: a release must be a full version \
         like {}", core(.release)
    )]
    HasPrerelease { release: Version },

    #[error(
        "release version \"{release}\" has build metadata: a release must be a full version like {}",
        core(.release)
    )]
    HasBuildMetadata { release: Version },

    #[error(
        "release {release} is below {base}, the base of pre-release {prerelease}: a pre-release \
         can only be promoted to its base version or above"
    )]
    BelowPrereleaseBase {
        release: Version,
        prerelease: Version,
        base: Version,
    },

    #[error(
        "tag {tag} already points at commit {commit}, not at {target_commit}: a release tag is \
         never moved to another commit"
    )]
    TagAtOtherCommit {
        tag: String,
        commit: String,
        target_commit: String,
    },

    #[error(
        "tag {tag} already exists and the commit it points at is unknown: cannot tell whether \
         releasing {target_commit} reuses it or would move it"
    )]
    TagCommitUnknown { tag: String, target_commit: String },

    #[error(
        "release {release} is below {highest_tag}, the highest release of the stream: a release \
         must be newer than every release, unless it is a rollback"
    )]
    NotAboveHighest {
        release: Version,
        highest: Version,
        highest_tag: String,
    },

    #[error("{mismatch}, and strict mode refuses a release whose bump differs from the commits'")]
    BumpMismatch { mismatch: BumpMismatch },
}

/// Checks that a pre-release may be promoted to the release version, and reports what the
/// promotion will do.
///
/// The rules, in the order they are checked:
/// 1. The release is a full version `X.Y.Z`: no pre-release part, no build metadata.
/// 2. It is not below the pre-release's base ([`crate::prerelease_base`]).
/// 3. If its tag exists, the tag points at the target commit: a release tag never moves. Reusing
///    it at the same commit is how a re-run after a partial failure converges.
/// 4. It is not below the highest full release of the stream, unless it is a rollback; equal is
///    the re-run of rule 3.
/// 5. In strict mode, its bump from the release below it is the one the commits call for (not for
///    a rollback that goes back).
///
/// ```
/// use relkit_version::{Bump, ExistingRelease, PromotionRequest, Stream, Version, check_promotion};
///
/// let v = |s: &str| Version::parse(s).expect("a version");
/// let request = PromotionRequest {
///     stream: Stream::default(),
///     release: v("1.3.0"),
///     prerelease: v("1.3.0-pre.12+abc1234"),
///     existing: vec![ExistingRelease { version: v("1.2.0"), commit: None }],
///     target_commit: "abc1234def5678abc1234def5678abc1234def56".to_owned(),
///     is_rollback: false,
///     commits_bump: Bump::Minor,
///     strict: true,
/// };
/// let report = check_promotion(&request)?;
/// assert_eq!(report.tag, "v1.3.0");
/// assert_eq!((report.bump_kind, report.mismatch), (Bump::Minor, None));
/// # Ok::<(), relkit_version::PromotionError>(())
/// ```
pub fn check_promotion(request: &PromotionRequest) -> Result<PromotionReport, PromotionError> {
    let PromotionRequest {
        stream,
        release,
        prerelease,
        existing,
        target_commit,
        is_rollback,
        commits_bump,
        strict,
    } = request;

    if !release.pre.is_empty() {
        return Err(PromotionError::HasPrerelease {
            release: release.clone(),
        });
    }
    if !release.build.is_empty() {
        return Err(PromotionError::HasBuildMetadata {
            release: release.clone(),
        });
    }

    let base = core(prerelease);
    if *release < base {
        return Err(PromotionError::BelowPrereleaseBase {
            release: release.clone(),
            prerelease: prerelease.clone(),
            base,
        });
    }

    let full: Vec<&ExistingRelease> = existing
        .iter()
        .filter(|e| VersionKind::of(&e.version).is_full())
        .collect();
    let tag = stream.tag_name(release);

    // The same tag listed twice must agree with itself, so every entry for it is checked.
    let mut reuses_tag = false;
    for existing in full.iter().filter(|e| e.version == *release) {
        match &existing.commit {
            None => {
                return Err(PromotionError::TagCommitUnknown {
                    tag,
                    target_commit: target_commit.clone(),
                });
            }
            Some(commit) if !same_commit(commit, target_commit) => {
                return Err(PromotionError::TagAtOtherCommit {
                    tag,
                    commit: commit.clone(),
                    target_commit: target_commit.clone(),
                });
            }
            Some(_) => reuses_tag = true,
        }
    }

    let others = || full.iter().map(|e| &e.version).filter(|v| *v != release);
    let highest = others().max().cloned();
    let previous = others().filter(|v| *v < release).max().cloned();

    let goes_back = match &highest {
        Some(highest) if release < highest => {
            if !is_rollback {
                return Err(PromotionError::NotAboveHighest {
                    release: release.clone(),
                    highest: highest.clone(),
                    highest_tag: stream.tag_name(highest),
                });
            }
            true
        }
        _ => false,
    };

    let bump_kind =
        Step::between(previous.as_ref().unwrap_or(&Version::new(0, 0, 0)), release).bump();
    let mismatch = (!goes_back && bump_kind != *commits_bump).then(|| BumpMismatch {
        release: release.clone(),
        bump: bump_kind,
        commits_call_for: *commits_bump,
    });
    if *strict && let Some(mismatch) = &mismatch {
        return Err(PromotionError::BumpMismatch {
            mismatch: mismatch.clone(),
        });
    }

    Ok(PromotionReport {
        tag,
        previous,
        highest,
        bump_kind,
        commits_call_for: *commits_bump,
        mismatch,
        reuses_tag,
        is_rollback: *is_rollback,
    })
}

/// Commit ids from git and from forge APIs differ only in case, if at all.
fn same_commit(a: &str, b: &str) -> bool {
    a.trim().eq_ignore_ascii_case(b.trim())
}
