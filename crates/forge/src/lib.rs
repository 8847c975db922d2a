//! One [`Forge`] trait for what relkit's actions do on a forge: tags, releases and their assets,
//! issues, and the checks of a commit. Backends keep their wire formats private and speak in the
//! types of this module.
//!
//! - [`github::GitHub`]: GitHub.com and GitHub Enterprise Server, through the REST API.
//! - [`gitea::Gitea`]: Gitea and Forgejo, through their API v1.
//! - [`local::Local`]: tags are real tags of the local repository; releases, assets and issues
//!   are files under a directory (default `.relkit/forge/`), readable by people. It is the
//!   default when no forge is configured, so every command runs from a laptop.
//!
//! The semantics follow GitHub's REST API (<https://docs.github.com/rest/releases>), which the
//! other backends are mapped onto: a draft release has no tag until it is published and is not
//! found by tag; publishing a release creates its tag when it is missing.

mod digest;
mod error;
pub mod gitea;
pub mod github;
pub mod http;
pub mod local;
mod types;

pub use digest::Sha256;
pub use error::{Error, Permission};
pub use types::{
    Asset, AssetUpload, AttachmentLimits, CheckState, CommitChecks, Issue, Label, MakeLatest,
    NewIssue, NewRelease, NewTag, Preflight, Release, ReleasePatch, Tag,
};

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// What relkit's actions need from a forge.
///
/// Methods that look something up return `Ok(None)` when it does not exist; an `Err` is a
/// failure to ask. Creating something that exists is [`Error::AlreadyExists`], never a silent
/// replacement.
// relkit drives a forge from one task at a time on a current-thread runtime, so the futures
// need not be `Send`.
#[allow(async_fn_in_trait)]
pub trait Forge {
    /// Where this forge is, for messages: "the local forge in /repo/.relkit/forge".
    fn describe(&self) -> String;

    /// The full id of the commit `rev` (a commit id, branch or tag) names.
    async fn resolve(&self, rev: &str) -> Result<Option<String>>;

    /// The tag `name` and the commit it points at.
    async fn tag(&self, name: &str) -> Result<Option<Tag>>;

    /// Creates a tag; annotated with its message where the forge allows.
    async fn create_tag(&self, tag: &NewTag) -> Result<Tag>;

    /// How many commits `head` has that `base` has not.
    async fn ahead_by(&self, base: &str, head: &str) -> Result<u64>;

    /// The published release of `tag` (drafts have no tag yet and are not found).
    async fn release_by_tag(&self, tag: &str) -> Result<Option<Release>>;

    /// Every release, drafts included, newest first.
    async fn releases(&self) -> Result<Vec<Release>>;

    async fn create_release(&self, release: &NewRelease) -> Result<Release>;

    async fn update_release(&self, release: &Release, patch: &ReleasePatch) -> Result<Release>;

    /// Uploads a file as an asset of `release`; an asset of that name already there is
    /// [`Error::AlreadyExists`].
    async fn upload_asset(&self, release: &Release, upload: &AssetUpload) -> Result<Asset>;

    async fn download_asset(&self, asset: &Asset) -> Result<Vec<u8>>;

    async fn delete_asset(&self, asset: &Asset) -> Result<()>;

    /// Creates the labels that do not exist yet.
    async fn ensure_labels(&self, labels: &[Label]) -> Result<()>;

    /// Open issues (not pull requests) that carry `label`.
    async fn open_issues_with_label(&self, label: &str) -> Result<Vec<Issue>>;

    async fn create_issue(&self, issue: &NewIssue) -> Result<Issue>;

    async fn comment(&self, issue: &Issue, body: &str) -> Result<()>;

    /// Closes an issue; closing a closed one changes nothing.
    async fn close_issue(&self, issue: &Issue) -> Result<()>;

    /// The statuses and check runs of `commit`.
    async fn checks(&self, commit: &str) -> Result<CommitChecks>;

    /// Whether the forge runs checks at all: the local forge has no CI, so "no checks" there
    /// means nothing.
    fn reports_checks(&self) -> bool {
        true
    }

    /// What the token may do and what the forge accepts, for checks before any write. A forge
    /// that cannot tell answers with the default: nothing known, nothing refused.
    async fn preflight(&self) -> Result<Preflight> {
        Ok(Preflight::default())
    }
}

/// An issue create made safe as [`http::found_or_again`] makes any create: an open issue with
/// the new one's first label and its title is the one a lost answer opened. Without a label
/// nothing tells them apart, and the lost answer stays the error.
pub(crate) async fn issue_found_or_again<Again>(
    forge: &impl Forge,
    issue: &NewIssue,
    sent: Result<Issue>,
    again: impl FnOnce() -> Again,
) -> Result<Issue>
where
    Again: Future<Output = Result<Issue>>,
{
    let Some(label) = issue.labels.first() else {
        return sent;
    };
    let find = || async {
        let open = forge.open_issues_with_label(label).await?;
        Ok(open.into_iter().find(|i| i.title == issue.title))
    };
    http::found_or_again(sent, find, again).await
}
