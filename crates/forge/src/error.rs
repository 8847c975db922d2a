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
    #[error("{forge}: {message}")]
    Config { forge: String, message: String },
    #[error("{forge} rejected the token from {variable}: {message}")]
    Unauthorized {
        forge: String,
        variable: String,
        message: String,
    },
    #[error("{forge} refused to {what}: {message}")]
    Forbidden {
        forge: String,
        what: String,
        message: String,
        /// The permission the request needed, where the backend knows it.
        permission: Option<Permission>,
    },
    #[error("{forge} answered {status} to {what}: {message}")]
    Http {
        forge: String,
        what: String,
        status: u16,
        message: String,
    },
    #[error("{forge} hit {limit}: relkit waited {waited} s and it asked for {needed} s more")]
    RateLimited {
        forge: String,
        limit: String,
        waited: u64,
        needed: u64,
    },
    #[error("{forge} did not answer the request to {what} after {attempts} attempts: {message}")]
    Unreachable {
        forge: String,
        what: String,
        attempts: u32,
        message: String,
    },
    #[error(
        "the answer of {forge} to {what} was lost ({message}): it may or may not have happened"
    )]
    Unanswered {
        forge: String,
        what: String,
        message: String,
    },
    #[error(
        "{forge} had not answered {what} by the run's deadline ({seconds} s, {flag}); nothing after it was sent"
    )]
    Deadline {
        forge: String,
        what: String,
        seconds: u64,
        flag: &'static str,
    },
    #[error("{forge} sent an answer to {what} that relkit cannot read: {message}")]
    Protocol {
        forge: String,
        what: String,
        message: String,
    },
}

impl From<relkit_http::Error> for Error {
    fn from(error: relkit_http::Error) -> Self {
        use relkit_http::Error as E;
        match error {
            E::Setup { message } => Self::Config {
                forge: "the forge".to_owned(),
                message,
            },
            E::Unreachable {
                peer,
                what,
                attempts,
                message,
            } => Self::Unreachable {
                forge: peer,
                what,
                attempts,
                message: crate::http::redact(&message),
            },
            E::Unanswered {
                peer,
                what,
                message,
            } => Self::Unanswered {
                forge: peer,
                what,
                message: crate::http::redact(&message),
            },
            E::RateLimited {
                peer,
                limit,
                waited,
                needed,
                ..
            } => Self::RateLimited {
                forge: peer,
                limit,
                waited,
                needed,
            },
            E::Deadline {
                peer,
                what,
                seconds,
                flag,
            } => Self::Deadline {
                forge: peer,
                what,
                seconds,
                flag,
            },
        }
    }
}

/// A permission of a token, as a workflow's `permissions:` block (or a GitHub App) names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Permission {
    ContentsRead,
    ContentsWrite,
    IssuesRead,
    IssuesWrite,
    StatusesRead,
    ChecksRead,
    /// GitHub's `workflows`: creating or moving a ref to a commit that changes
    /// `.github/workflows/`. A workflow's `GITHUB_TOKEN` never has it.
    Workflows,
}

impl Permission {
    fn hint(self) -> &'static str {
        match self {
            Self::ContentsRead => {
                "the token may not read the repository: the workflow needs `permissions: contents: read`"
            }
            Self::ContentsWrite => {
                "the token may not write tags and releases: the workflow needs `permissions: contents: write`"
            }
            Self::IssuesRead => {
                "the token may not read issues: the workflow needs `permissions: issues: read`"
            }
            Self::IssuesWrite => {
                "the token may not open issues, comment or create labels: the workflow needs `permissions: issues: write`"
            }
            Self::StatusesRead => {
                "the token may not read commit statuses: the workflow needs `permissions: statuses: read`"
            }
            Self::ChecksRead => {
                "the token may not read check runs: the workflow needs `permissions: checks: read`"
            }
            Self::Workflows => {
                "the commit changes files under .github/workflows/, and GitHub refuses a tag there without the `workflows` permission, which a workflow's GITHUB_TOKEN cannot get: use a GitHub App token with `workflows: write` or a personal access token with the `workflow` scope"
            }
        }
    }
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
            Self::Unauthorized { .. } => Some(
                "the token is missing, expired or for another forge: set the variable to a token of this forge",
            ),
            Self::Forbidden {
                permission: Some(permission),
                ..
            } => Some(permission.hint()),
            Self::Forbidden {
                permission: None, ..
            } => Some(
                "the token lacks a permission: the workflow needs `permissions: contents: write` (and `issues: write` for issues); tags on commits that change .github/workflows need a token with the `workflows` permission",
            ),
            Self::RateLimited { .. } => {
                Some("run again later, or give relkit a longer wait with --rate-limit-wait")
            }
            Self::Unreachable { .. } => {
                Some("check that the forge is up and that the runner reaches its API address")
            }
            _ => None,
        }
    }
}
