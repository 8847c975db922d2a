//! Why a promotion could not be planned or made.

use std::path::PathBuf;

/// A failed plan or step. Those found while planning are the input's fault (exit code 2) unless
/// the world failed (the forge, the registry, git, the disk); [`Error::Refused`] carries every
/// check that failed at once.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("--pre-release {tag:?} is not a tag of the repository")]
    NoSuchPrerelease { tag: String },
    #[error(
        "--pre-release {tag:?} is a full release: only a pre-release or a release candidate is promoted"
    )]
    NotAPrerelease { tag: String },
    #[error(
        "--pre-release {tag:?} is not a version of the stream {prefix:?} (like {prefix}1.2.0-pre.4+abc1234)"
    )]
    NotInStream { tag: String, prefix: String },
    #[error("--pre-release latest: the stream {prefix:?} has no pre-release")]
    NoPrerelease { prefix: String },
    #[error(
        "the pre-release {tag} has no release on {forge}: relkit promotes what it released, with its manifest"
    )]
    NoPrereleaseRelease { tag: String, forge: String },
    #[error(
        "--images names {repository}, which the manifest of {tag} does not record (it records {recorded})"
    )]
    ImageNotRecorded {
        repository: String,
        tag: String,
        recorded: String,
    },
    #[error(
        "--images names {repositories}, but {tag} has no release manifest: the digests it was tested with are unknown"
    )]
    NoManifest { tag: String, repositories: String },
    #[error("could not read --notes-file {}", path.display())]
    NotesFile {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("--release-version auto: no commit since {previous} calls for a release")]
    NothingToRelease { previous: String },
    #[error("the repository at {} is a shallow clone: the promotion reads its history", path.display())]
    ShallowClone { path: PathBuf },
    #[error(
        "asset {name} of {tag} has sha256 {actual}, but the pre-release's {list} says {expected}"
    )]
    AssetSum {
        name: String,
        tag: String,
        list: &'static str,
        expected: String,
        actual: String,
    },
    #[error("{} of the promotion failed:\n{}", failures.len(), failures.iter().map(|f| format!("  - {f}")).collect::<Vec<_>>().join("\n"))]
    Refused { failures: Vec<String> },
    #[error("image {reference}: {what}, after it was written; it was not changed further")]
    ImageReadBack { reference: String, what: String },
    #[error(transparent)]
    Promotion(Box<relkit_version::PromotionError>),
    #[error(transparent)]
    Oci(#[from] relkit_version::OciTagError),
    #[error(transparent)]
    Changelog(#[from] relkit_changelog::Error),
    #[error(transparent)]
    Release(#[from] relkit_release::Error),
    #[error(transparent)]
    Forge(#[from] relkit_forge::Error),
    #[error(transparent)]
    Registry(#[from] relkit_registry::Error),
    #[error(transparent)]
    Reference(#[from] relkit_registry::ReferenceError),
    #[error(transparent)]
    Git(#[from] relkit_git::Error),
    #[error("could not read or write {}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

impl From<relkit_version::PromotionError> for Error {
    fn from(err: relkit_version::PromotionError) -> Self {
        Self::Promotion(Box::new(err))
    }
}

impl Error {
    /// What the user can do about it.
    pub fn hint(&self) -> Option<&'static str> {
        match self {
            Self::NoSuchPrerelease { .. } => Some(
                "fetch the tags (actions/checkout with `fetch-depth: 0`), or pick one with `git tag --list`",
            ),
            Self::NotAPrerelease { .. } => Some(
                "promote the pre-release that release came from, or re-deploy the release as it is",
            ),
            Self::ShallowClone { .. } => Some(
                "check out the full history: actions/checkout with `fetch-depth: 0`, or `git fetch --unshallow`",
            ),
            Self::Refused { .. } => Some(
                "fix what failed; a gate can be overridden with --override-gates and an --override-reason, which the release records",
            ),
            Self::ImageReadBack { .. } => {
                Some("something else writes to that tag: find out what before running again")
            }
            Self::Changelog(err) => err.hint(),
            Self::Release(err) => err.hint(),
            Self::Forge(err) => err.hint(),
            Self::Registry(err) => err.help(),
            _ => None,
        }
    }

    /// Whether the error is the user's input (exit code 2) rather than a failure (exit code 1).
    pub fn is_bad_input(&self) -> bool {
        match self {
            Self::Changelog(err) => err.is_bad_input(),
            Self::Release(err) => err.is_bad_input(),
            Self::ImageReadBack { .. }
            | Self::Forge(_)
            | Self::Registry(_)
            | Self::Git(_)
            | Self::Io { .. } => false,
            _ => true,
        }
    }
}
