//! The release version rules of relkit: which tags belong to a release stream, how pre-releases
//! and release candidates are named, which bump the commits call for, when a pre-release may be
//! promoted, which floating tags a release moves and how a version becomes an OCI image tag.
//!
//! Versions are [SemVer 2.0](https://semver.org/spec/v2.0.0.html) versions, parsed strictly by
//! the [`semver`] crate and re-exported here as [`Version`]. Everything in this crate is pure: it
//! reads no git repository, forge or registry. Callers hand over the tags, commits and counts they
//! found, and get back decisions and typed errors whose messages name the value and the rule, ready
//! to show as a runner annotation.
//!
//! The forms relkit makes, for a stream with the tag prefix `v`:
//!
//! | form | example | made by |
//! | --- | --- | --- |
//! | full release | `v1.2.3` | [`check_promotion`], a tag push |
//! | pre-release | `v1.2.0-pre.145+abc1234` | [`prerelease_version`], [`next_prerelease`] |
//! | release candidate | `v1.2.3-rc.2` | [`next_rc`] |
//! | floating tags | `v1.2`, `v1`, `latest` | [`floating_tags`] |
//! | OCI image tag | `1.2.0-pre.145-abc1234` | [`oci_tag`], [`sanitize_oci_tag`] |
//!
//! Other specifications followed here: git's ref name rules
//! ([git-check-ref-format](https://git-scm.com/docs/git-check-ref-format)) for tag prefixes and the
//! [OCI distribution spec](https://github.com/opencontainers/distribution-spec/blob/main/spec.md#pulling-manifests)
//! for image tags.

mod bump;
mod floating;
mod oci;
mod prerelease;
mod promotion;
mod stream;

pub use bump::{Bump, BumpDecision, BumpError, BumpPolicy, CommitCounts, Step, decide};
pub use floating::{FloatingLine, FloatingTag, floating_tags};
pub use oci::{OCI_TAG_MAX_LEN, OciTagError, oci_floating_tag, oci_tag, sanitize_oci_tag};
pub use prerelease::{
    PrereleaseBase, PrereleaseError, ShortSha, VersionKind, next_prerelease, next_rc,
    prerelease_base, prerelease_version,
};
pub use promotion::{
    BumpMismatch, ExistingRelease, PromotionError, PromotionReport, PromotionRequest,
    check_promotion,
};
pub use semver::Version;
pub use stream::{Stream, StreamError, TaggedVersion, VersionError, prefix_of};

/// The `X.Y.Z` of a version: the release it is, leads to or was built from.
fn core(v: &Version) -> Version {
    Version::new(v.major, v.minor, v.patch)
}

/// `1 fix`, `2 fixes`: counts in reasons and messages read as English.
fn count(n: usize, singular: &str, plural: &str) -> String {
    if n == 1 {
        format!("1 {singular}")
    } else {
        format!("{n} {plural}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn core_drops_pre_release_and_build_metadata() {
        let v = Version::parse("1.2.0-pre.145+abc1234").expect("valid version");
        assert_eq!(core(&v), Version::new(1, 2, 0));
    }

    #[test]
    fn counts_use_the_singular_only_for_one() {
        assert_eq!(count(0, "fix", "fixes"), "0 fixes");
        assert_eq!(count(1, "fix", "fixes"), "1 fix");
        assert_eq!(count(2, "fix", "fixes"), "2 fixes");
    }
}
