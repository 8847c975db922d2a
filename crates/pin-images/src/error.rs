use std::path::PathBuf;

use thiserror::Error;

/// What stops pin-images. Each names the file and line, the value and the rule; none carries a
/// credential (registry errors never hold one).
#[derive(Debug, Error)]
pub enum Error {
    #[error("cannot read {path}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    /// The pins file `verify` was given: the user named it, so it is bad input.
    #[error("--pins-file {path}: cannot read the pins file to verify")]
    PinsFileRead {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}:{line}: the file is not UTF-8 text")]
    NotText { path: PathBuf, line: usize },
    #[error("{path}:{line}: not valid YAML: {message}")]
    NotYaml {
        path: PathBuf,
        line: usize,
        message: String,
    },
    #[error("{path}:{line}: the image {value:?} is not a valid reference: {error}")]
    Reference {
        path: PathBuf,
        line: usize,
        value: String,
        error: Box<relkit_registry::ReferenceError>,
    },
    #[error("{path}:{line}: the image {value:?} cannot be expanded: {reason}")]
    Unresolvable {
        path: PathBuf,
        line: usize,
        value: String,
        reason: String,
    },
    #[error("{path}:{line}: {reference}: {error}")]
    Registry {
        path: PathBuf,
        line: usize,
        reference: String,
        error: Box<relkit_registry::Error>,
    },
    #[error(
        "{path}:{line}: `{key}: {written}` is a number to Helm, which renders it as {rendered}: quote it (`{key}: \"{written}\"`) so the tag deployed is the tag written"
    )]
    HelmNumber {
        path: PathBuf,
        line: usize,
        key: String,
        written: String,
        rendered: String,
    },
    #[error(
        "{path}:{line}: `{key}: {written}` is a YAML number, not the string a kustomize tag is: quote it (`{key}: \"{written}\"`)"
    )]
    NumberTag {
        path: PathBuf,
        line: usize,
        key: String,
        written: String,
    },
    #[error("cannot set up the registry client: {0}")]
    Client(Box<relkit_registry::Error>),
    #[error("{path}:{line}: cannot rewrite the image {value:?} in place: {why}")]
    CannotRewrite {
        path: PathBuf,
        line: usize,
        value: String,
        why: String,
    },
    #[error(
        "{path}:{line}: with the digests written in, the file would no longer parse ({message}); \
         nothing was written: pin it with --pins-file alone, and report the file's shape"
    )]
    RewriteBroke {
        path: PathBuf,
        line: usize,
        message: String,
    },
    #[error("the pattern {pattern:?} ({input}) is not a valid glob: {message}")]
    Glob {
        input: &'static str,
        pattern: String,
        message: String,
    },
    #[error("the pattern {pattern:?} ({input}) matches no file")]
    NoFiles {
        input: &'static str,
        pattern: String,
    },
    #[error("{path}:{line}: {message}")]
    PinsFile {
        path: PathBuf,
        line: usize,
        message: String,
    },
    #[error("cannot write {path}")]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
}

impl Error {
    /// The file and line an annotation points at.
    pub fn location(&self) -> Option<(&std::path::Path, usize)> {
        match self {
            Self::NotText { path, line }
            | Self::NotYaml { path, line, .. }
            | Self::Reference { path, line, .. }
            | Self::Unresolvable { path, line, .. }
            | Self::Registry { path, line, .. }
            | Self::CannotRewrite { path, line, .. }
            | Self::RewriteBroke { path, line, .. }
            | Self::PinsFile { path, line, .. } => Some((path, *line)),
            _ => None,
        }
    }

    /// Whether the input is wrong (exit 2) rather than the world (exit 1).
    pub fn is_bad_input(&self) -> bool {
        match self {
            Self::Registry { error, .. } => matches!(
                **error,
                relkit_registry::Error::NotFound { .. }
                    | relkit_registry::Error::Unauthorized { .. }
                    | relkit_registry::Error::Forbidden { .. }
                    | relkit_registry::Error::Reference(_)
            ),
            Self::Read { .. } | Self::Write { .. } => false,
            _ => true,
        }
    }
}

/// Every problem found, in file order: a run reports them all at once, and stops before writing.
#[derive(Debug)]
pub struct Problems(pub Vec<Error>);

impl std::fmt::Display for Problems {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.0.as_slice() {
            [one] => write!(f, "{one}"),
            many => {
                write!(f, "{} problems:", many.len())?;
                for e in many {
                    write!(f, "\n  {e}")?;
                }
                Ok(())
            }
        }
    }
}

impl std::error::Error for Problems {}

impl From<Error> for Problems {
    fn from(e: Error) -> Self {
        Self(vec![e])
    }
}
