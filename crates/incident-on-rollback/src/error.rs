//! Why an incident could not be planned or opened.

use std::path::PathBuf;

/// A failed plan or step. Those found while planning are the input's fault (exit code 2) unless
/// the world failed (the forge, git, the disk).
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{input} {value:?} is not a full release of the stream {prefix:?}")]
    UnknownRelease {
        input: &'static str,
        value: String,
        prefix: String,
    },
    #[error(
        "--bad-version {tag} is the rollback itself: name the release production ran before it"
    )]
    SameRelease { tag: String },
    #[error("--template {}: the file cannot be read", path.display())]
    TemplateUnreadable {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("--template {}:{line}: {{{name}}} is not a placeholder; there are {}", path.display(), crate::Facts::NAMES.iter().map(|n| format!("{{{n}}}")).collect::<Vec<_>>().join(", "))]
    UnknownPlaceholder {
        path: PathBuf,
        line: usize,
        name: String,
    },
    #[error("--template {}: its front matter is not an issue template's: {message}", path.display())]
    FrontMatter { path: PathBuf, message: String },
    #[error(transparent)]
    Release(#[from] relkit_release::Error),
    #[error(transparent)]
    Forge(#[from] relkit_forge::Error),
    #[error(transparent)]
    Git(#[from] relkit_git::Error),
}

impl Error {
    /// What the user can do about it.
    pub fn hint(&self) -> Option<&'static str> {
        match self {
            Self::UnknownRelease { .. } => Some(
                "fetch the tags (actions/checkout with `fetch-depth: 0`), and check --tag-prefix",
            ),
            Self::UnknownPlaceholder { .. } => {
                Some("write a literal brace as {{ or }}, or use one of the placeholders listed")
            }
            Self::Release(err) => err.hint(),
            Self::Forge(err) => err.hint(),
            _ => None,
        }
    }

    /// Whether the error is the user's input (exit code 2) rather than a failure (exit code 1).
    pub fn is_bad_input(&self) -> bool {
        match self {
            Self::Release(err) => err.is_bad_input(),
            Self::Forge(relkit_forge::Error::InvalidName { .. }) => true,
            Self::Forge(_) | Self::Git(_) => false,
            _ => true,
        }
    }
}
