//! Why a forge operation failed.

use std::path::PathBuf;

/// A failed forge operation. Each variant says what was asked of which forge.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{what} already exists on {forge}")]
    AlreadyExists { forge: String, what: String },
    #[error("{what} does not exist on {forge}")]
    NotFound { forge: String, what: String },
    #[error("release {tag} on {forge} is immutable: its assets and tag can no longer change")]
    Immutable { forge: String, tag: String },
    #[error("{name:?} is not a valid name: {rule}")]
    InvalidName { name: String, rule: &'static str },
    #[error(transparent)]
    Git(#[from] relkit_git::Error),
    #[error("could not read or write {}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{} is not a record relkit can read: {message}", path.display())]
    Corrupt { path: PathBuf, message: String },
}

impl Error {
    pub(crate) fn io(path: impl Into<PathBuf>) -> impl FnOnce(std::io::Error) -> Self {
        let path = path.into();
        move |source| Self::Io { path, source }
    }

    /// What the user can do about it.
    pub fn hint(&self) -> Option<&'static str> {
        match self {
            Self::Immutable { .. } => {
                Some("publish a new release instead; immutable releases are a repository setting")
            }
            Self::Corrupt { .. } => Some(
                "the local forge's files were edited by hand: restore them or remove the release's directory",
            ),
            _ => None,
        }
    }
}
