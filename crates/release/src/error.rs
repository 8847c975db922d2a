//! Why a release could not be published, or its manifest read.

use std::path::PathBuf;

use crate::manifest::ManifestError;

/// A failed plan or step. Everything but [`Error::Stopped`] (and failures of the world: the forge,
/// git, the disk) is found before any write, and is the input's fault: exit code 2.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(
        "tag {tag} exists at commit {at}, not at the target {target}; relkit never moves a tag"
    )]
    TagElsewhere {
        tag: String,
        at: String,
        target: String,
    },
    #[error(
        "tag {tag} was made by another run since this run's plan: that run is releasing this version, so this one stopped before drafting a second release"
    )]
    TagTaken { tag: String },
    #[error("the release notes are {chars} characters long; {forge} takes at most {max}")]
    NotesTooLong {
        chars: usize,
        max: usize,
        forge: String,
    },
    #[error("asset {name:?} ({}) has a name no forge keeps: {rule}", path.display())]
    AssetName {
        name: String,
        path: PathBuf,
        rule: &'static str,
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
    #[error("--images is not a list of pins (NAME=REFERENCE@sha256:DIGEST): {}", problems.join("; "))]
    BadImages { problems: Vec<String> },
    #[error("--images names {name} twice: {first} and {second}")]
    DuplicateImage {
        name: String,
        first: String,
        second: String,
    },
    #[error(transparent)]
    Manifest(#[from] ManifestError),
    /// A failure after a write began: what was done stays done, and a re-run resumes from it.
    #[error("{error}")]
    Stopped { error: Box<Error> },
    #[error(transparent)]
    Forge(#[from] relkit_forge::Error),
    #[error(transparent)]
    Git(#[from] relkit_git::Error),
    #[error("could not read or write {}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
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
            Self::NotesTooLong { .. } => Some(
                "narrow the notes (a first release can pass --notes-file with a summary that links the changelog)",
            ),
            Self::AssetName { .. } => {
                Some("rename the file, or attach it from a copy with a plain name")
            }
            Self::CannotWrite { .. } => Some(
                "give the workflow `permissions: contents: write`, or use a token of a user who may push",
            ),
            Self::CannotTagWorkflows { .. } => Some(
                "use a token with the `workflow` scope (personal access token) or `workflows: write` (GitHub App); a workflow's GITHUB_TOKEN cannot get it",
            ),
            Self::AttachmentTooLarge { .. } | Self::AttachmentType { .. } => Some(
                "an instance admin sets these in app.ini, section [attachment] (MAX_SIZE, ALLOWED_TYPES)",
            ),
            Self::TagTaken { .. } => Some(
                "let the other run finish, then run this again: it finds the release done, or resumes it",
            ),
            Self::Manifest(err) => err.hint(),
            Self::Forge(err) => err.hint(),
            Self::Stopped { error } => error.hint().or(Some(
                "run it again: every step checks what is there, so the re-run resumes where this one stopped",
            )),
            _ => None,
        }
    }

    /// Whether the error is the user's input (exit code 2) rather than a failure (exit code 1).
    pub fn is_bad_input(&self) -> bool {
        match self {
            Self::Forge(relkit_forge::Error::InvalidName { .. }) => true,
            Self::Stopped { .. }
            | Self::TagTaken { .. }
            | Self::Forge(_)
            | Self::Git(_)
            | Self::Io { .. } => false,
            _ => true,
        }
    }
}
