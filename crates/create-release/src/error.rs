//! Why a release could not be planned or made.

use std::path::PathBuf;

use relkit_version::Version;

/// A failed plan or step. Variants found while planning are the user's input (exit code 2):
/// nothing has been written when they are returned.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{input} {target:?} is not a commit, branch or tag on {forge}")]
    UnknownTarget {
        input: &'static str,
        target: String,
        forge: String,
    },
    #[error(
        "tag {tag} exists at commit {at}, not at the target {target}; relkit never moves a tag"
    )]
    TagElsewhere {
        tag: String,
        at: String,
        target: String,
    },
    #[error("--tag {tag:?} is not a version of the stream {prefix:?} (like {prefix}1.2.3)")]
    TagNotInStream { tag: String, prefix: String },
    #[error("tag prefix {prefix:?} matches no release tags; the repository has version tags with {}", found.iter().map(|p| format!("{p:?}")).collect::<Vec<_>>().join(", "))]
    NoTagsInStream { prefix: String, found: Vec<String> },
    #[error(
        "{target} contains no release of the stream (the newest, {newest}, is on another branch): its version would count from 0.0.0"
    )]
    NoReleaseInHistory { target: String, newest: String },
    #[error("no commits since {tag}: there is nothing to release")]
    NothingToRelease { tag: String },
    #[error(
        "the target commit is already released as {tag}; this choice would release it again as {wanted}"
    )]
    CommitReleasedAs { tag: String, wanted: String },
    #[error("the release notes are {chars} characters long; {forge} takes at most {max}")]
    NotesTooLong {
        chars: usize,
        max: usize,
        forge: String,
    },
    #[error("tag {tag:?} is not a valid git tag name")]
    InvalidTagName { tag: String },
    #[error("asset {name:?} ({}) has a name no forge keeps: {rule}", path.display())]
    AssetName {
        name: String,
        path: PathBuf,
        rule: &'static str,
    },
    #[error("could not read --notes-file {}", path.display())]
    NotesFile {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("--assets {pattern:?} matches no file")]
    NoMatch { pattern: String },
    #[error("--assets {pattern:?} matches the directory {}, not files in it", dir.display())]
    MatchesDirectory { pattern: String, dir: PathBuf },
    #[error("--assets {pattern:?} is not a valid glob: {message}")]
    BadPattern { pattern: String, message: String },
    #[error("two assets are named {name:?}: {} and {}", first.display(), second.display())]
    DuplicateAsset {
        name: String,
        first: PathBuf,
        second: PathBuf,
    },
    #[error("asset {name:?} has the name of the file relkit writes itself")]
    ReservedName { name: String },
    #[error(
        "asset {name} of release {tag} holds different bytes (sha256 {existing}) than {} (sha256 {new})",
        path.display()
    )]
    AssetDiffers {
        name: String,
        tag: String,
        path: PathBuf,
        existing: String,
        new: String,
    },
    #[error("the token may not write to the repository on {forge}")]
    CannotWrite { forge: String },
    #[error(
        "commit {commit} changes {file}, and the token may not tag a commit that changes workflows on {forge}"
    )]
    CannotTagWorkflows {
        commit: String,
        file: String,
        forge: String,
    },
    #[error(
        "asset {name} is {size} bytes, more than the {max} bytes {forge} accepts as an attachment"
    )]
    AttachmentTooLarge {
        name: String,
        size: u64,
        max: u64,
        forge: String,
    },
    #[error(
        "asset {name} ({content_type}) is not a type {forge} accepts as an attachment (allowed: {allowed})"
    )]
    AttachmentType {
        name: String,
        content_type: String,
        allowed: String,
        forge: String,
    },
    #[error("release {tag} is immutable and differs from the plan: {what}")]
    Immutable { tag: String, what: String },
    #[error("--images {value:?} is not NAME=REFERENCE@sha256:DIGEST")]
    BadImage { value: String },
    #[error("--images names {name} twice: {first} and {second}")]
    DuplicateImage {
        name: String,
        first: String,
        second: String,
    },
    #[error("{version} is a pre-release; --{input} makes full releases")]
    NotFull {
        input: &'static str,
        version: Version,
    },
    #[error(transparent)]
    Version(#[from] relkit_version::PrereleaseError),
    #[error(transparent)]
    Bump(#[from] relkit_version::BumpError),
    #[error(transparent)]
    Changelog(#[from] relkit_changelog::Error),
    #[error(transparent)]
    Forge(#[from] relkit_forge::Error),
    #[error(transparent)]
    Git(relkit_git::Error),
    #[error("the repository at {} is a shallow clone: counting commits and writing notes need its history", path.display())]
    ShallowClone { path: PathBuf },
    #[error("{} is not inside a git repository", path.display())]
    NotARepository { path: PathBuf },
    #[error("could not read {}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

impl From<relkit_git::Error> for Error {
    fn from(err: relkit_git::Error) -> Self {
        match err {
            relkit_git::Error::NotARepository { path } => Self::NotARepository { path },
            other => Self::Git(other),
        }
    }
}

impl Error {
    /// What the user can do about it.
    pub fn hint(&self) -> Option<&'static str> {
        match self {
            Self::TagElsewhere { .. } => Some(
                "release the commit the tag points at, or choose another version; delete the tag by hand only if it was never published",
            ),
            Self::MatchesDirectory { .. } => {
                Some("attach the files in it with a glob, like dist/*")
            }
            Self::NoMatch { .. } => Some(
                "check the path (globs are relative to the working directory), or pass --allow-empty",
            ),
            Self::AssetDiffers { .. } => Some(
                "pass --replace-assets to replace it, if the release may change after it was published",
            ),
            Self::ShallowClone { .. } => Some(
                "check out the full history: actions/checkout with `fetch-depth: 0`, or `git fetch --unshallow`",
            ),
            Self::NothingToRelease { .. } => Some("commit something first, or pass --tag"),
            Self::CommitReleasedAs { .. } => Some(
                "re-run with the choice that made the existing tag to resume it, or release a newer commit",
            ),
            Self::NotesTooLong { .. } => Some(
                "narrow the notes (a first release can pass --notes-file with a summary that links the changelog)",
            ),
            Self::InvalidTagName { .. } => Some(
                "git refuses names with `..`, `@{`, a `.lock` or `.` ending, spaces, control characters or any of ~^:?*[\\",
            ),
            Self::AssetName { .. } => {
                Some("rename the file, or attach it from a copy with a plain name")
            }
            Self::NoReleaseInHistory { .. } => Some(
                "release a commit that contains the stream's releases (merge them in), pass --tag, or --first-release if counting from 0.0.0 is meant",
            ),
            Self::NoTagsInStream { .. } => Some(
                "set --tag-prefix to one of the prefixes found, or pass --first-release if this stream has never been released",
            ),
            Self::CannotWrite { .. } => Some(
                "give the workflow `permissions: contents: write`, or use a token of a user who may push",
            ),
            Self::CannotTagWorkflows { .. } => Some(
                "use a token with the `workflow` scope (personal access token) or `workflows: write` (GitHub App); a workflow's GITHUB_TOKEN cannot get it",
            ),
            Self::AttachmentTooLarge { .. } | Self::AttachmentType { .. } => Some(
                "an instance admin sets these in app.ini, section [attachment] (MAX_SIZE, ALLOWED_TYPES)",
            ),
            Self::Changelog(err) => err.hint(),
            Self::Forge(err) => err.hint(),
            _ => None,
        }
    }

    /// Whether the error is the user's input (exit code 2) rather than a failure (exit code 1).
    pub fn is_bad_input(&self) -> bool {
        match self {
            Self::Changelog(err) => err.is_bad_input(),
            Self::Forge(relkit_forge::Error::InvalidName { .. }) => true,
            Self::Forge(_) | Self::Git(_) | Self::Io { .. } => false,
            _ => true,
        }
    }
}
