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
    #[error("tag {tag:?} is not a valid git tag name")]
    InvalidTagName { tag: String },
    #[error("could not read --notes-file {}", path.display())]
    NotesFile {
        path: PathBuf,
        #[source]
        source: std::io::Error,
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
    Release(#[from] relkit_release::Error),
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
            Self::ShallowClone { .. } => Some(
                "check out the full history: actions/checkout with `fetch-depth: 0`, or `git fetch --unshallow`",
            ),
            Self::NothingToRelease { .. } => Some("commit something first, or pass --tag"),
            Self::CommitReleasedAs { .. } => Some(
                "re-run with the choice that made the existing tag to resume it, or release a newer commit",
            ),
            Self::InvalidTagName { .. } => Some(
                "git refuses names with `..`, `@{`, a `.lock` or `.` ending, spaces, control characters or any of ~^:?*[\\",
            ),
            Self::NoReleaseInHistory { .. } => Some(
                "release a commit that contains the stream's releases (merge them in), pass --tag, or --first-release if counting from 0.0.0 is meant",
            ),
            Self::NoTagsInStream { .. } => Some(
                "set --tag-prefix to one of the prefixes found, or pass --first-release if this stream has never been released",
            ),
            Self::Changelog(err) => err.hint(),
            Self::Forge(err) => err.hint(),
            Self::Release(err) => err.hint(),
            _ => None,
        }
    }

    /// Whether the error is the user's input (exit code 2) rather than a failure (exit code 1).
    pub fn is_bad_input(&self) -> bool {
        match self {
            Self::Changelog(err) => err.is_bad_input(),
            Self::Release(err) => err.is_bad_input(),
            Self::Forge(relkit_forge::Error::InvalidName { .. }) => true,
            Self::Forge(_) | Self::Git(_) | Self::Io { .. } => false,
            _ => true,
        }
    }
}
