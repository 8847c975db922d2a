use std::io;
use std::path::PathBuf;

/// What can go wrong talking to the runner.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The log (stdout, usually) refused a write.
    #[error("cannot write to the log")]
    Log(#[source] io::Error),

    /// A file the runner named in a variable (`GITHUB_OUTPUT`, `GITHUB_STEP_SUMMARY`) could not
    /// be read or appended to.
    #[error("cannot append to `{}`, the file named by {var}", path.display())]
    EnvFile {
        var: &'static str,
        path: PathBuf,
        #[source]
        source: io::Error,
    },

    /// A step output name the runner would reject or mangle.
    #[error(
        "output name `{name}` is invalid: it must start with an ASCII letter or `_` \
         and hold only ASCII letters, digits, `_` and `-`"
    )]
    InvalidOutputName { name: String },

    /// The operating system gave no randomness for a delimiter or stop token; a guessable one
    /// would defeat its purpose, so there is no fallback.
    #[error("cannot draw random bytes for a delimiter or stop-commands token")]
    Random(#[source] getrandom::Error),
}

/// `Result` with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
