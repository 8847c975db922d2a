//! The forge's domain, independent of any backend's wire format.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::Sha256;

/// A tag and the commit it points at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tag {
    pub name: String,
    pub commit: String,
}

/// A tag to create.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewTag {
    pub name: String,
    pub commit: String,
    /// The annotated tag's message; `None` for a lightweight tag.
    pub message: Option<String>,
}

/// A release as the forge holds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Release {
    /// The backend's id: a number on GitHub and Gitea, the tag on the local forge.
    pub id: String,
    pub tag: String,
    /// The commit or branch the tag is created at when the release is published.
    pub target: String,
    pub name: String,
    pub body: String,
    pub draft: bool,
    pub prerelease: bool,
    /// A published release that can no longer change (GitHub's immutable releases).
    pub immutable: bool,
    /// Where a person sees it: a web page, or a file of the local forge.
    pub url: String,
    pub assets: Vec<Asset>,
}

/// Whether a release becomes the repository's "latest".
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MakeLatest {
    True,
    False,
    /// The forge decides: the newest by date and version (GitHub's `legacy`).
    #[default]
    Legacy,
}

/// A release to create.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewRelease {
    pub tag: String,
    pub target: String,
    pub name: String,
    pub body: String,
    pub draft: bool,
    pub prerelease: bool,
    pub make_latest: MakeLatest,
}

/// The fields of a release to change; `None` leaves a field as it is. Serialized, it is the
/// body both forges' update calls take, less `make_latest`, which only GitHub knows and which
/// depends on the release's state.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ReleasePatch {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub body: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub draft: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub prerelease: Option<bool>,
    #[serde(skip)]
    pub make_latest: Option<MakeLatest>,
}

/// A file attached to a release.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Asset {
    pub id: String,
    pub name: String,
    pub size: u64,
    /// The digest the forge reports, where it does (GitHub since 2025, the local forge).
    pub digest: Option<Sha256>,
    /// Where it is downloaded from.
    pub url: String,
}

/// A file to upload as an asset.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AssetUpload {
    pub name: String,
    pub path: PathBuf,
    pub content_type: String,
}

/// A label and how it looks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Label {
    pub name: String,
    /// Six hex digits, without `#`.
    pub color: String,
    pub description: String,
}

/// An issue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Issue {
    pub number: u64,
    pub title: String,
    /// The issue's text (its description), where a hidden marker tells relkit's issues apart.
    pub body: String,
    pub labels: Vec<String>,
    pub url: String,
}

/// An issue to open.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NewIssue {
    pub title: String,
    pub body: String,
    pub labels: Vec<String>,
    pub assignees: Vec<String>,
}

/// The state of one status or check run, or of all of them together.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CheckState {
    Success,
    Pending,
    Failure,
}

/// What the forge knows about the checks of a commit.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CommitChecks {
    /// Each status context or check run by name, with its state.
    pub checks: Vec<(String, CheckState)>,
}

/// What a forge says about the token and its limits before anything is written.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Preflight {
    /// Whether the token may push to the repository; `None` when the forge does not say.
    pub can_write: Option<bool>,
    /// Whether the token may point a tag at a commit that changes `.github/workflows/` (GitHub's
    /// `workflows` permission, the `workflow` scope of a personal token); `None` when unknown.
    pub can_write_workflows: Option<bool>,
    /// Limits on release attachments (Gitea's `[attachment]` settings).
    pub attachments: Option<AttachmentLimits>,
    /// The longest release notes the forge takes, in characters.
    pub max_notes: Option<usize>,
}

/// What an instance accepts as a release attachment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttachmentLimits {
    /// The largest file in bytes.
    pub max_size: u64,
    /// Extensions (`.zip`), MIME types (`application/gzip`) and wildcards (`image/*`, `*/*`).
    pub allowed_types: Vec<String>,
}

impl AttachmentLimits {
    /// Whether a file `name` of `content_type` is allowed, as Gitea decides it.
    pub fn allows(&self, name: &str, content_type: &str) -> bool {
        let extension = name
            .rfind('.')
            .map(|i| name[i..].to_ascii_lowercase())
            .unwrap_or_default();
        let mime = content_type.to_ascii_lowercase();
        self.allowed_types.is_empty()
            || self
                .allowed_types
                .iter()
                .map(|a| a.trim().to_ascii_lowercase())
                .any(|a| {
                    a == "*/*"
                        || (a.starts_with('.') && a == extension)
                        || a == mime
                        || a.strip_suffix("/*")
                            .is_some_and(|major| mime.split('/').next() == Some(major))
                })
    }
}
