//! What production deploy files may name, after the release playbooks: full releases only, never
//! `:latest`, a moving channel or a pre-release; with `require-digest`, nothing unpinned.

use relkit_registry::Reference;

/// Why an image may not reach production.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Rule {
    /// `:latest`, written or implied, or `latest` leading a tag (`latest-ubuntu`).
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

/// Channel tags that move: never a release, alone or leading a tag (`main-abc1234`,
/// `nightly-2024-01-15`, `pr-42`, `edge-alpine`).
const CHANNELS: [&str; 15] = [
    "edge", "nightly", "dev", "develop", "main", "master", "canary", "unstable", "stable", "lts",
    "rolling", "current", "testing", "pr", "snapshot",
];

/// Channels that name builds, never a release stream, even before a version (`main-v1.2.3`).
const BUILD_CHANNELS: [&str; 10] = [
    "dev", "develop", "main", "master", "pr", "nightly", "canary", "unstable", "snapshot",
    "testing",
];

/// Identifiers that mark a pre-release (`1.2.0-rc.1`, `v2-beta3`, `1.0.0-pre.145_abc1234`,
/// `9.0-preview.7`, `3.0.0-M1`, `15.0.0-canary.3`, `5.0.0-next.1`). A bare `dev` is left out:
/// it names a variant with a shell in some images (`1.25-dev`), while `dev1` is a pre-release.
const PRERELEASE: [&str; 13] = [
    "pre",
    "prerelease",
    "preview",
    "rc",
    "alpha",
    "beta",
    "snapshot",
    "m",
    "canary",
    "next",
    "nightly",
    "unstable",
    "experimental",
];

/// What a team's production rules demand beyond full releases.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Policy {
    /// Every image pinned by digest.
    pub require_digest: bool,
    /// `:latest` (and no tag) is allowed, for teams whose pipeline moves `latest` only on full
    /// releases (one of the playbooks does); `latest-ubuntu` and pre-release channels such as
    /// `pre-latest` are not.
    pub allow_latest: bool,
}

/// The rules `reference` breaks in a production file.
pub fn check(reference: &Reference, policy: Policy) -> Vec<Rule> {
    let mut broken = Vec::new();
    match reference.tag() {
        None if reference.digest().is_none() && !policy.allow_latest => broken.push(Rule::NoTag),
        None => {}
        Some(tag) => {
            if tag.eq_ignore_ascii_case("latest") {
                if !policy.allow_latest {
                    broken.push(Rule::Latest);
                }
            } else if leads_with_latest(tag) {
                // `allow-latest` trusts a pipeline's own `latest`, not every `latest-*` variant.
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
    if policy.require_digest && reference.digest().is_none() {
        broken.push(Rule::NoDigest);
    }
    broken
}

/// Whether `tag` is `latest` followed by a variant (`latest-ubuntu`, `latest_alpine`): it moves
/// like `latest`.
fn leads_with_latest(tag: &str) -> bool {
    let lower = tag.to_ascii_lowercase();
    lower
        .strip_prefix("latest")
        .is_some_and(|rest| rest.starts_with(['-', '.', '_', '+']))
}

/// Whether `tag` is a pre-release or a moving channel. Suffixes that name a variant
/// (`1.25.3-alpine`, `15-bookworm`, `1.2.3-alpine3.19`) are not pre-releases.
pub fn is_prerelease(tag: &str) -> bool {
    let lower = tag.to_ascii_lowercase();
    if (lower.ends_with("-latest") && lower != "latest") || leads_with_latest(&lower) {
        return true;
    }
    let parts: Vec<&str> = lower.split(['-', '.', '_', '+']).collect();
    let first = parts[0];
    // A stream's release as relkit tags its images (`edge-v1.2.0` for the stream `edge/v`): the
    // version after the stream's name decides. A pre-release word or a build channel before it
    // (`rc-v1.2.0`, `nightly-v1.0.0`, `main-v1.2.3`) is no stream.
    if let Some((stream, version)) = lower.split_once('-')
        && stream.bytes().all(|b| b.is_ascii_lowercase())
        && !PRERELEASE.contains(&stream)
        && !BUILD_CHANNELS.contains(&stream)
        && version
            .strip_prefix('v')
            .is_some_and(|v| v.starts_with(|c: char| c.is_ascii_digit()))
    {
        return is_prerelease(version);
    }
    // A channel alone or first: `edge`, `main-abc1234`, `pr-42`, `beta-1.2`.
    if CHANNELS.contains(&first) || (PRERELEASE.contains(&first) && first != "m") {
        return true;
    }
    let numbered = |part: &str, p: &str| {
        part.strip_prefix(p).is_some_and(|rest| {
            rest.chars().all(|c| c.is_ascii_digit()) && (p != "m" || !rest.is_empty())
        })
    };
    let dev_numbered = |part: &str| {
        part.len() > 3
            && part
                .strip_prefix("dev")
                .is_some_and(|r| r.chars().all(|c| c.is_ascii_digit()))
    };
    let digits = |part: &str| !part.is_empty() && part.chars().all(|c| c.is_ascii_digit());
    // A numbered pre-release as the whole tag or its start: `rc1`, `beta2`, `alpha3`, `dev4`
    // (`m1` alone is left out: it names Apple's chip as often as a milestone).
    if PRERELEASE.iter().any(|p| *p != "m" && numbered(first, p)) || dev_numbered(first) {
        return true;
    }
    parts.iter().enumerate().skip(1).any(|(i, part)| {
        // `-rc.1`, `-beta3`, `-M1`, `-dev1`, `-dev.3` (a bare `-dev` is a variant), and PEP
        // 440's `0rc1` (`2.8.0rc1`).
        PRERELEASE.iter().any(|p| numbered(part, p))
            || dev_numbered(part)
            || (*part == "dev" && parts.get(i + 1).is_some_and(|next| digits(next)))
            || pep440(part)
    }) || pep440(first)
}

/// A version component with a pre-release attached, as PEP 440 writes it: `0rc1`, `1a2`,
/// `3b1`, `0.dev3`'s `dev3` is handled by the caller.
fn pep440(part: &str) -> bool {
    let digits = part.len() - part.trim_start_matches(|c: char| c.is_ascii_digit()).len();
    if digits == 0 {
        return false;
    }
    let rest = &part[digits..];
    ["rc", "a", "b", "alpha", "beta", "pre"].iter().any(|p| {
        rest.strip_prefix(p)
            .is_some_and(|n| !n.is_empty() && n.chars().all(|c| c.is_ascii_digit()))
    })
}

/// Whether `tag` is a bare commit hash, alone or leading a variant (`abc1234`, `sha-4f2a9c1`,
/// `cafe123-amd64`): 7 to 40 lower-case hex digits, not all of them digits.
pub fn is_commit(tag: &str) -> bool {
    let tag = tag.strip_prefix("sha-").unwrap_or(tag);
    let first = tag.split(['-', '_']).next().unwrap_or(tag);
    (7..=40).contains(&first.len())
        && first
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
        && first.bytes().any(|b| b.is_ascii_alphabetic())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rules(reference: &str, require_digest: bool) -> Vec<&'static str> {
        let reference: Reference = reference.parse().expect("a reference");
        let policy = Policy {
            require_digest,
            allow_latest: false,
        };
        check(&reference, policy).iter().map(Rule::id).collect()
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
            "alpine:3.19",
            "nginx:1.2.3-alpine3.19",
            "ghcr.io/acme/app:2024.01.15",
            "cgr.dev/chainguard/nginx:1.25-dev",
            "ghcr.io/acme/app:1.2.3-dev-amd64",
            "ghcr.io/acme/app:latestversion-1.0",
            "python:3.12-slim-bookworm",
            "eclipse-temurin:21-jdk-jammy",
            "ghcr.io/acme/app:v1.2.3-amd64",
            "mariadb:11.2",
            "rabbitmq:3.13-management",
            // relkit's own image tag of a release of the stream `edge/v`.
            "ghcr.io/acme/edge-events:edge-v1.2.0",
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
            ("ghcr.io/acme/app:cafe123-amd64", "commit-tag"),
            ("nginx:stable", "pre-release"),
            ("node:lts", "pre-release"),
            ("ubuntu:rolling", "pre-release"),
            ("ghcr.io/acme/app:main-abc1234", "pre-release"),
            ("ghcr.io/acme/app:pr-42", "pre-release"),
            ("ghcr.io/acme/app:nightly-2024-01-15", "pre-release"),
            ("ghcr.io/acme/app:edge-alpine", "pre-release"),
            ("mcr.microsoft.com/dotnet/sdk:9.0-preview.7", "pre-release"),
            ("apache/airflow:2.8.0rc1", "pre-release"),
            ("ghcr.io/acme/app:1.0.0-prerelease", "pre-release"),
            ("ghcr.io/acme/app:3.0.0-M1", "pre-release"),
            ("ghcr.io/acme/app:beta-1.2", "pre-release"),
            ("ghcr.io/acme/app:1.0.0-dev1", "pre-release"),
            ("ghcr.io/acme/app:15.0.0-canary.3", "pre-release"),
            ("ghcr.io/acme/app:5.0.0-next.1", "pre-release"),
            ("ghcr.io/acme/app:1.0.0-nightly-2024", "pre-release"),
            (
                "ghcr.io/acme/app:edge-v1.2.0-pre.145-abc1234",
                "pre-release",
            ),
            ("ghcr.io/acme/app:edge-latest", "pre-release"),
            ("ghcr.io/acme/app:rc-v1.2.0", "pre-release"),
            ("ghcr.io/acme/app:beta-v2.0.0", "pre-release"),
            ("ghcr.io/acme/app:nightly-v1.0.0", "pre-release"),
            ("ghcr.io/acme/app:main-v1.2.3", "pre-release"),
            ("ghcr.io/acme/app:pr-v1.2.3", "pre-release"),
            ("ghcr.io/acme/app:dev-v1.2.3", "pre-release"),
            ("ghcr.io/acme/app:1.0.0-dev.3", "pre-release"),
            ("ghcr.io/acme/app:1.0.0-dev-3", "pre-release"),
            ("ghcr.io/acme/app:rc1", "pre-release"),
            ("ghcr.io/acme/app:beta2", "pre-release"),
            ("ghcr.io/acme/app:alpha3", "pre-release"),
            ("ghcr.io/acme/app:RC1", "pre-release"),
            ("ghcr.io/acme/app:dev4", "pre-release"),
            ("ghcr.io/acme/app:rc1-alpine", "pre-release"),
            ("ubuntu:latest-ubuntu", "latest"),
            ("ghcr.io/acme/app:latest-alpine", "latest"),
            ("ghcr.io/acme/app:LATEST_arm64", "latest"),
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
        // A team that moves `latest` only on full releases may allow it, never `pre-latest`.
        let allow = Policy {
            require_digest: false,
            allow_latest: true,
        };
        for (reference, want) in [
            ("nginx:latest", 0),
            ("nginx", 0),
            ("ghcr.io/acme/app:pre-latest", 1),
            ("ghcr.io/acme/app:latest-ubuntu", 1),
        ] {
            let reference: Reference = reference.parse().expect("a reference");
            assert_eq!(check(&reference, allow).len(), want, "{reference}");
        }
        // Digits only: a date or a build number, not a commit.
        assert!(!is_commit("20240101"));
    }
}
