//! Runner I/O for relkit: everything a step tells the CI runner that runs it, or the person at
//! the terminal when there is no runner.
//!
//! [`Reporter`] is the one door out. It is built from an [`Env`] (the process environment, read
//! by `main` and nowhere else) and a log writer, detects the [`Platform`], and then speaks that
//! platform's language:
//!
//! - under **GitHub Actions** (github.com, GitHub Enterprise Server) it emits
//!   [workflow commands](https://docs.github.com/en/actions/using-workflows/workflow-commands-for-github-actions):
//!   annotations, masks, groups, and writes outputs and the step summary to the files named by
//!   `GITHUB_OUTPUT` and `GITHUB_STEP_SUMMARY`;
//! - under **[Gitea Actions](https://docs.gitea.com/usage/actions/overview)** and
//!   **[Forgejo Actions](https://forgejo.org/docs/latest/user/actions/)** it does the same, and
//!   also writes every annotation as a plain log line, because Gitea (up to 1.26) shows no
//!   file/line annotations and (before 1.27) no step summary — see Gitea's
//!   [comparison with GitHub Actions](https://docs.gitea.com/usage/actions/comparison);
//! - in a **terminal** it prints readable diagnostics (`error: …`, `  --> file:line`, `help: …`),
//!   optionally coloured, and keeps outputs and the summary in memory for the caller.
//!
//! Text relkit did not write (commit messages, issue titles, release notes) goes through
//! [`Reporter::print_untrusted`], which fences it with `::stop-commands::` and an unguessable
//! token so that a commit message can never smuggle a workflow command into the log. Data and
//! properties of the commands relkit does write are escaped exactly as `@actions/core` does.
//!
//! # Exit status
//!
//! Every relkit command ends with one of three codes, [`ExitStatus`]:
//!
//! | code | meaning |
//! | ---: | --- |
//! | 0 | done: the plan was applied, or there was nothing to do |
//! | 1 | failed: something went wrong while checking or applying; a re-run converges |
//! | 2 | bad input: an input was invalid, and nothing was changed |

mod annotation;
mod command;
mod env;
mod env_file;
mod error;
mod output;
mod platform;
mod random;
mod reporter;
mod style;
mod summary;

pub use annotation::{Annotation, Level};
pub use command::{escape_data, escape_property};
pub use env::Env;
pub use error::{Error, Result};
pub use output::Outputs;
pub use platform::Platform;
pub use reporter::Reporter;
pub use summary::STEP_SUMMARY_LIMIT;

/// How a relkit run ended, as its process exit code.
///
/// `main` maps its outcome to one of these; nothing deeper in relkit exits the process.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum ExitStatus {
    /// The run did what it was asked, or found nothing to do.
    Done = 0,
    /// Something failed while checking or applying; re-running converges.
    Failed = 1,
    /// An input was invalid; the run stopped before changing anything.
    BadInput = 2,
}

impl ExitStatus {
    /// The process exit code.
    pub const fn code(self) -> u8 {
        self as u8
    }
}

impl From<ExitStatus> for std::process::ExitCode {
    fn from(status: ExitStatus) -> Self {
        Self::from(status.code())
    }
}

#[cfg(test)]
mod tests {
    use super::ExitStatus;

    #[test]
    fn exit_codes_are_the_documented_ones() {
        assert_eq!(ExitStatus::Done.code(), 0);
        assert_eq!(ExitStatus::Failed.code(), 1);
        assert_eq!(ExitStatus::BadInput.code(), 2);
    }
}
