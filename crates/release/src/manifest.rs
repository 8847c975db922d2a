//! The release manifest, `release-manifest.json`: the record of a release that a promotion and an
//! auditor read back. One set of types writes it and reads it; its `schema_version` says which
//! shape it has, and one this relkit does not know is refused by name rather than guessed at.
//!
//! Version 1:
//!
//! ```json
//! {
//!   "schema_version": 1,
//!   "stream": "v",
//!   "tag": "v1.3.0",
//!   "version": "1.3.0",
//!   "commit": "<40 hex digits>",
//!   "assets": [{ "name": "app.tar.gz", "size": 3, "sha256": "<64 hex digits>" }],
//!   "images": [{ "name": "API_IMAGE", "repository": "ghcr.io/acme/api",
//!                "tag": "1.3.0", "digest": "sha256:<64 hex digits>" }],
//!   "promotion": { "from": "v1.2.0-pre.145+abc1234", "rollback": { "from": "v1.3.0" },
//!                  "actor": "octocat", "run_url": "https://…", "override_reason": null }
//! }
//! ```
//!
//! `promotion` is there only on a release promote-prerelease made; `rollback` only on a rollback.
//! `tag` is an image's tag in its OCI form (`1.2.0-pre.145-abc1234`: `+` is not allowed in a tag).

use relkit_registry::{Digest, Reference};
use semver::Version;
use serde::{Deserialize, Serialize};

/// The schema this relkit writes and reads.
pub const SCHEMA_VERSION: u32 = 1;

/// A release manifest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReleaseManifest {
    pub schema_version: u32,
    /// The tag prefix of the release's stream: `v`, `edge/v`, or empty.
    pub stream: String,
    pub tag: String,
    pub version: Version,
    /// The full id of the released commit.
    pub commit: String,
    pub assets: Vec<ManifestAsset>,
    pub images: Vec<ManifestImage>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub promotion: Option<Promotion>,
}

/// A file of the release.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ManifestAsset {
    pub name: String,
    pub size: u64,
    /// 64 lower-case hex digits.
    pub sha256: String,
}

/// An image the release ships, pinned by digest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ManifestImage {
    /// The name the pins file gave it (`API_IMAGE`).
    pub name: String,
    /// `registry/repository`, normalised (`docker.io/library/nginx`).
    pub repository: String,
    /// The tag, in its OCI form; `None` for an image pinned by digest alone.
    #[serde(default)]
    pub tag: Option<String>,
    pub digest: Digest,
}

impl ManifestImage {
    /// The image of a pin, as a pins file names it.
    pub fn of(name: &str, reference: &Reference, digest: &Digest) -> Self {
        Self {
            name: name.to_owned(),
            repository: reference.name(),
            tag: reference.tag().map(str::to_owned),
            digest: digest.clone(),
        }
    }

    /// `repository:tag@digest`, or `repository@digest`.
    pub fn reference(&self) -> Result<Reference, relkit_registry::ReferenceError> {
        let text = match &self.tag {
            Some(tag) => format!("{}:{tag}@{}", self.repository, self.digest),
            None => format!("{}@{}", self.repository, self.digest),
        };
        text.parse()
    }
}

/// How a promoted release came to be.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Promotion {
    /// The pre-release's tag.
    pub from: String,
    #[serde(default)]
    pub rollback: Option<Rollback>,
    /// Who ran the promotion (`GITHUB_ACTOR`), when known.
    #[serde(default)]
    pub actor: Option<String>,
    /// The workflow run, when there was one.
    #[serde(default)]
    pub run_url: Option<String>,
    /// Why gates or guards were overridden, when they were.
    #[serde(default)]
    pub override_reason: Option<String>,
}

/// A rollback: production ran `from` before it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rollback {
    pub from: String,
}

/// A manifest that cannot be read. Each names the manifest (`origin`: a file, or an asset of a
/// release), the field and the rule.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ManifestError {
    #[error("{origin} is not a release manifest: {message}")]
    Invalid { origin: String, message: String },
    #[error(
        "{origin} has schema_version {found}; this relkit reads schema_version {SCHEMA_VERSION}"
    )]
    UnknownSchema { origin: String, found: String },
    #[error("{origin}: {field} {value:?} {rule}")]
    Field {
        origin: String,
        field: String,
        value: String,
        rule: &'static str,
    },
}

impl ManifestError {
    pub fn hint(&self) -> Option<&'static str> {
        match self {
            Self::UnknownSchema { .. } => Some(
                "the release was made by another relkit version: run the relkit that reads it, or promote a pre-release made by this one",
            ),
            _ => None,
        }
    }
}

impl ReleaseManifest {
    /// The manifest's text: the same manifest always gives the same bytes, so a re-run finds the
    /// asset it uploaded before unchanged.
    pub fn to_text(&self) -> String {
        let mut text = serde_json::to_string_pretty(self).unwrap_or_default();
        text.push('\n');
        text
    }

    /// Reads a manifest; `origin` names it in errors.
    pub fn parse(origin: &str, text: &str) -> Result<Self, ManifestError> {
        let invalid = |message: String| ManifestError::Invalid {
            origin: origin.to_owned(),
            message,
        };
        // The schema first: a newer shape is named as such, not as a list of unknown fields.
        let value: serde_json::Value =
            serde_json::from_str(text).map_err(|e| invalid(format!("not JSON: {e}")))?;
        let Some(object) = value.as_object() else {
            return Err(invalid("not a JSON object".to_owned()));
        };
        match object.get("schema_version") {
            None => return Err(invalid("it has no schema_version".to_owned())),
            Some(v) if v.as_u64() == Some(u64::from(SCHEMA_VERSION)) => {}
            Some(v) => {
                return Err(ManifestError::UnknownSchema {
                    origin: origin.to_owned(),
                    found: v.to_string(),
                });
            }
        }
        let manifest: Self = serde_json::from_str(text).map_err(|e| invalid(e.to_string()))?;
        manifest.check(origin)?;
        Ok(manifest)
    }

    /// The rules serde cannot say: ids, sums and tags of the right shape, names once.
    fn check(&self, origin: &str) -> Result<(), ManifestError> {
        let field = |field: String, value: &str, rule: &'static str| ManifestError::Field {
            origin: origin.to_owned(),
            field,
            value: value.to_owned(),
            rule,
        };
        let hex = |s: &str, n: usize| {
            s.len() == n
                && s.chars()
                    .all(|c| c.is_ascii_digit() || ('a'..='f').contains(&c))
        };
        if !hex(&self.commit, 40) {
            return Err(field(
                "commit".to_owned(),
                &self.commit,
                "is not a full commit id (40 lower-case hex digits)",
            ));
        }
        let stream = relkit_version::Stream::new(&self.stream).map_err(|_| {
            field(
                "stream".to_owned(),
                &self.stream,
                "is not a tag prefix relkit accepts",
            )
        })?;
        if stream.tag_name(&self.version) != self.tag {
            return Err(field(
                "tag".to_owned(),
                &self.tag,
                "is not the stream's tag of the manifest's version",
            ));
        }
        for (i, asset) in self.assets.iter().enumerate() {
            if !hex(&asset.sha256, 64) {
                return Err(field(
                    format!("assets[{i}].sha256"),
                    &asset.sha256,
                    "is not a SHA-256 (64 lower-case hex digits)",
                ));
            }
            if self.assets[..i].iter().any(|a| a.name == asset.name) {
                return Err(field(
                    format!("assets[{i}].name"),
                    &asset.name,
                    "names an asset listed before",
                ));
            }
        }
        for (i, image) in self.images.iter().enumerate() {
            if self.images[..i].iter().any(|o| o.name == image.name) {
                return Err(field(
                    format!("images[{i}].name"),
                    &image.name,
                    "names an image listed before",
                ));
            }
            if image.reference().is_err() {
                let shown = match &image.tag {
                    Some(tag) => format!("{}:{tag}", image.repository),
                    None => image.repository.clone(),
                };
                return Err(field(
                    format!("images[{i}]"),
                    &shown,
                    "is not a valid image repository and tag",
                ));
            }
        }
        Ok(())
    }

    /// The image named `name`, or the one of `repository`.
    pub fn image(&self, repository: &str) -> Option<&ManifestImage> {
        self.images
            .iter()
            .find(|i| i.repository == repository || i.name == repository)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> ReleaseManifest {
        let digest: Digest = format!("sha256:{}", "ab".repeat(32))
            .parse()
            .expect("digest");
        let reference: Reference = "ghcr.io/acme/api:1.2.0-pre.3-abc1234".parse().expect("ref");
        ReleaseManifest {
            schema_version: SCHEMA_VERSION,
            stream: "v".to_owned(),
            tag: "v1.2.0".to_owned(),
            version: Version::new(1, 2, 0),
            commit: "a".repeat(40),
            assets: vec![ManifestAsset {
                name: "app.tar.gz".to_owned(),
                size: 3,
                sha256: "c".repeat(64),
            }],
            images: vec![ManifestImage::of("API_IMAGE", &reference, &digest)],
            promotion: Some(Promotion {
                from: "v1.2.0-pre.3+abc1234".to_owned(),
                rollback: Some(Rollback {
                    from: "v1.3.0".to_owned(),
                }),
                actor: Some("octocat".to_owned()),
                run_url: None,
                override_reason: None,
            }),
        }
    }

    #[test]
    fn a_manifest_reads_back_as_it_was_written() {
        let manifest = sample();
        let text = manifest.to_text();
        assert_eq!(ReleaseManifest::parse("m.json", &text), Ok(manifest));
        assert!(text.starts_with("{\n  \"schema_version\": 1,\n  \"stream\": \"v\","));
    }

    #[test]
    fn another_schema_version_is_refused_by_name() {
        let text = sample()
            .to_text()
            .replace("\"schema_version\": 1", "\"schema_version\": 2");
        let err = ReleaseManifest::parse("release-manifest.json of v1.2.0", &text)
            .expect_err("unknown schema");
        assert_eq!(
            err.to_string(),
            "release-manifest.json of v1.2.0 has schema_version 2; this relkit reads schema_version 1"
        );
        assert!(err.hint().is_some());
    }

    #[test]
    fn each_broken_field_is_named_with_its_rule() {
        let text = sample().to_text();
        for (from, to, says) in [
            ("\"schema_version\": 1,", "", "it has no schema_version"),
            ("\"size\": 3", "\"size\": -3", "invalid value: integer `-3`"),
            (
                "\"stream\": \"v\",",
                "\"stream\": \"v\", \"extra\": 1,",
                "unknown field `extra`",
            ),
            (
                &"a".repeat(40),
                "string",
                "commit \"string\" is not a full commit id",
            ),
            (
                "\"tag\": \"v1.2.0\"",
                "\"tag\": \"v1.3.0\"",
                "tag \"v1.3.0\" is not the stream's tag",
            ),
            (
                &"c".repeat(64),
                "C",
                "assets[0].sha256 \"C\" is not a SHA-256",
            ),
            (
                &format!("sha256:{}", "ab".repeat(32)),
                "sha256:x",
                "not a valid digest",
            ),
            (
                "\"repository\": \"ghcr.io/acme/api\"",
                "\"repository\": \"Ghcr.io/A\"",
                "images[0] \"Ghcr.io/A:1.2.0-pre.3-abc1234\" is not a valid image",
            ),
        ] {
            let broken = text.replacen(from, to, 1);
            assert_ne!(broken, text, "{from}");
            let err = ReleaseManifest::parse("m.json", &broken).expect_err(from);
            assert!(err.to_string().contains(says), "{says:?} in {err}");
        }
    }
}
