//! How a command fails: the exit status, the message and a hint, shown once.

use relkit_workflow::ExitStatus;

/// A command's failure, ready to be reported.
#[derive(Debug)]
pub struct Failure {
    pub status: ExitStatus,
    pub message: String,
    pub hint: Option<String>,
}

impl Failure {
    /// An invalid input: nothing was changed.
    pub fn bad_input(message: impl Into<String>) -> Self {
        Self {
            status: ExitStatus::BadInput,
            message: message.into(),
            hint: None,
        }
    }

    /// Something went wrong while working.
    pub fn failed(message: impl Into<String>) -> Self {
        Self {
            status: ExitStatus::Failed,
            message: message.into(),
            hint: None,
        }
    }

    pub fn with_hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }
}

/// The full message of an error and its sources: "a: b: c".
pub fn chain(err: &dyn std::error::Error) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

impl Failure {
    /// An error of a command's library, sorted by whether it was the input's fault.
    fn of(err: &dyn std::error::Error, bad_input: bool, hint: Option<&str>) -> Self {
        let failure = if bad_input {
            Self::bad_input(chain(err))
        } else {
            Self::failed(chain(err))
        };
        match hint {
            Some(hint) => failure.with_hint(hint),
            None => failure,
        }
    }
}

impl From<relkit_changelog::Error> for Failure {
    fn from(err: relkit_changelog::Error) -> Self {
        Self::of(&err, err.is_bad_input(), err.hint())
    }
}

impl From<relkit_incident_on_rollback::Error> for Failure {
    fn from(err: relkit_incident_on_rollback::Error) -> Self {
        Self::of(&err, err.is_bad_input(), err.hint())
    }
}

impl From<relkit_promote_prerelease::Error> for Failure {
    fn from(err: relkit_promote_prerelease::Error) -> Self {
        Self::of(&err, err.is_bad_input(), err.hint())
    }
}

impl From<relkit_create_release::Error> for Failure {
    fn from(err: relkit_create_release::Error) -> Self {
        Self::of(&err, err.is_bad_input(), err.hint())
    }
}

impl From<relkit_workflow::Error> for Failure {
    fn from(err: relkit_workflow::Error) -> Self {
        Self::failed(chain(&err))
    }
}
