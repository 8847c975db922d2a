use std::fs::{self, OpenOptions};
use std::io::{self, Write};
use std::path::PathBuf;

use crate::{Env, Error, Result};

/// A file the runner names in a variable for the step to append to (`GITHUB_OUTPUT`,
/// `GITHUB_STEP_SUMMARY`).
///
/// Opened anew for each write, in append mode, as `@actions/core` does: other processes of the
/// same step append to it too.
#[derive(Debug, Clone)]
pub(crate) struct EnvFile {
    var: &'static str,
    path: PathBuf,
}

impl EnvFile {
    pub(crate) fn from_env(env: &Env, var: &'static str) -> Option<Self> {
        env.get(var).map(|path| Self {
            var,
            path: PathBuf::from(path),
        })
    }

    /// How many bytes the file holds, from any writer; a file not yet created holds none.
    pub(crate) fn len(&self) -> Result<u64> {
        match fs::metadata(&self.path) {
            Ok(metadata) => Ok(metadata.len()),
            Err(error) if error.kind() == io::ErrorKind::NotFound => Ok(0),
            Err(error) => Err(self.error(error)),
        }
    }

    pub(crate) fn append(&self, text: &str) -> Result<()> {
        OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.path)
            .and_then(|mut file| file.write_all(text.as_bytes()))
            .map_err(|error| self.error(error))
    }

    fn error(&self, source: io::Error) -> Error {
        Error::EnvFile {
            var: self.var,
            path: self.path.clone(),
            source,
        }
    }
}
