//! What production deploy files may name, after the release playbooks: full releases only, never
//! `:latest`, a moving channel or a pre-release; with `require-digest`, nothing unpinned.

use relkit_registry::Reference;

/// Why an image may not reach production.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Rule {
    /// `:latest`, written or implied.
    Latest,
    /// No tag and no digest: the registry serves `latest`.
    NoTag,
    /// A pre-release (`-pre.`, `-rc.`, `-alpha`, `-beta`) or a channel (`pre-latest`, `edge`,
    /// `nightly`, `main`…): not a tested full release.
    Prerelease { tag: String },
    /// A bare commit hash (`abc1234`): a build, not a release.
    CommitTag { tag: String },
    /// No digest, with `require-digest`.
    NoDigest,
}

impl Rule {
    /// The rule's short name, as the summary table shows it.
    pub fn id(&self) -> &'static str {
        match self {
            Self::Latest => "latest",
            Self::NoTag => "no-tag",
            Self::Prerelease { .. } => "pre-release",
            Self::CommitTag { .. } => "commit-tag",
            Self::NoDigest => "no-digest",
        }
    }

    /// What is wrong and what to do, for the annotation.
    pub fn explain(&self) -> String {
        match self {
            Self::Latest => {
                "`:latest` moves with every push; name a full release tag (and pin its digest)"
                    .to_owned()
            }
            Self::NoTag => "no tag means `:latest`; name a full release tag".to_owned(),
            Self::Prerelease { tag } => format!(
                "`{tag}` is a pre-release or a moving channel, not a tested full release; promote it and use the release tag"
            ),
            Self::CommitTag { tag } => format!(
                "`{tag}` is a commit hash, a build that was never released; use the release tag it was promoted to"
            ),
            Self::NoDigest => {
                "no digest: pin it (`relkit pin-images resolve --write`) so the bytes cannot change"
                    .to_owned()
            }
        }
    }
}

/// Channel tags that move: never a release.
const CHANNELS: [&str; 9] = [
    "pre-latest",
    "edge",
    "nightly",
    "dev",
    "develop",
    "main",
    "master",
    "canary",
    "unstable",
];

/// Identifiers that mark a pre-release inside a tag (`1.2.0-rc.1`, `v2-beta3`, `1.0.0-pre.145_abc1234`).
const PRERELEASE: [&str; 6] = ["pre", "rc", "alpha", "beta", "snapshot", "dev"];

/// The rules `reference` breaks in a production file.
pub fn check(reference: &Reference, require_digest: bool) -> Vec<Rule> {
    let mut broken = Vec::new();
    match reference.tag() {
        None if reference.digest().is_none() => broken.push(Rule::NoTag),
        None => {}
        Some(tag) => {
            if tag.eq_ignore_ascii_case("latest") {
                broken.push(Rule::Latest);
            } else if is_prerelease(tag) {
                broken.push(Rule::Prerelease {
                    tag: tag.to_owned(),
                });
            } else if is_commit(tag) {
                broken.push(Rule::CommitTag {
                    tag: tag.to_owned(),
                });
            }
        }
    }
    if require_digest && reference.digest().is_none() {
        broken.push(Rule::NoDigest);
    }
    broken
}

/// Whether `tag` is a pre-release or a moving channel. Suffixes that name a variant
/// (`1.25.3-alpine`, `15-bookworm`) are not pre-releases.
pub fn is_prerelease(tag: &str) -> bool {
    let lower = tag.to_ascii_lowercase();
    if CHANNELS.contains(&lower.as_str()) || lower.ends_with("-latest") && lower != "latest" {
        return true;
    }
    // Identifiers after the version: `-rc.1`, `-beta3`, `-pre.145_abc1234`.
    let Some((_, suffix)) = lower.split_once('-') else {
        return false;
    };
    suffix.split(['-', '.', '_', '+']).any(|part| {
        PRERELEASE.iter().any(|p| {
            part.strip_prefix(p)
                .is_some_and(|rest| rest.chars().all(|c| c.is_ascii_digit()))
        })
    })
}

/// Whether `tag` is a bare commit hash: 7 to 40 lower-case hex digits, not all of them digits.
pub fn is_commit(tag: &str) -> bool {
    let tag = tag.strip_prefix("sha-").unwrap_or(tag);
    (7..=40).contains(&tag.len())
        && tag
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
        && tag.bytes().any(|b| b.is_ascii_alphabetic())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rules(reference: &str, require_digest: bool) -> Vec<&'static str> {
        let reference: Reference = reference.parse().expect("a reference");
        check(&reference, require_digest)
            .iter()
            .map(Rule::id)
            .collect()
    }

    const DIGEST: &str = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

    #[test]
    fn production_takes_full_releases_and_digests() {
        for ok in [
            "ghcr.io/acme/app:v1.2.3",
            "nginx:1.25.3-alpine",
            "postgres:15.4-bookworm",
            "ghcr.io/acme/app:v1.2",
            "redis:7",
            "registry.k8s.io/pause:3.9",
        ] {
            assert_eq!(rules(ok, false), Vec::<&str>::new(), "{ok}");
        }
        assert_eq!(
            rules(&format!("ghcr.io/acme/app@{DIGEST}"), true),
            Vec::<&str>::new()
        );
        assert_eq!(
            rules(&format!("ghcr.io/acme/app:v1.2.3@{DIGEST}"), true),
            Vec::<&str>::new()
        );
    }

    #[test]
    fn latest_prereleases_channels_and_commits_are_refused() {
        let cases = [
            ("nginx", "no-tag"),
            ("nginx:latest", "latest"),
            ("nginx:LATEST", "latest"),
            ("ghcr.io/power-edge/power-edge:pre-latest", "pre-release"),
            ("ghcr.io/acme/app:v1.2.0-pre.145_abc1234", "pre-release"),
            ("ghcr.io/acme/app:1.2.0-rc.1", "pre-release"),
            ("ghcr.io/acme/app:v2.0.0-beta3", "pre-release"),
            ("ghcr.io/acme/app:edge", "pre-release"),
            ("ghcr.io/acme/app:nightly", "pre-release"),
            ("ghcr.io/acme/app:abc1234", "commit-tag"),
            ("ghcr.io/acme/app:sha-4f2a9c1d", "commit-tag"),
        ];
        for (reference, rule) in cases {
            assert_eq!(rules(reference, false), vec![rule], "{reference}");
        }
        assert_eq!(rules("nginx:1.25", true), vec!["no-digest"]);
        assert_eq!(
            rules(&format!("nginx:latest@{DIGEST}"), true),
            vec!["latest"],
            "a digest does not make :latest a release"
        );
        // Digits only: a date or a build number, not a commit.
        assert!(!is_commit("20240101"));
    }
}
