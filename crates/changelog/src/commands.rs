//! The shell commands a git-cliff configuration runs (`replace_command` in
//! `git.commit_preprocessors` and `changelog.postprocessors`), watched so that none fails unseen.
//!
//! git-cliff-core runs each command with `sh -c`, the commit message (or the rendered notes) on
//! stdin. When a preprocessor's command fails, it leaves that commit out of the notes with a
//! trace-level line nobody sees, so the notes and the version decision miss it (a missing `typos`
//! drops every commit; a failure on one `feat!:` turns a major release into a patch). Its stdin
//! writer also panics when a command exits without reading its input.
//!
//! relkit leaves the running to git-cliff-core, so that every processing order and
//! `split_commits` behave as the CLI's do, but hands it each command wrapped in a few lines of
//! shell: the command runs in a subshell in the repository's top directory, its stderr goes to a
//! file, its unread input is drained (no broken pipe), and a failure is recorded with its exit
//! status and the commit (`$COMMIT_SHA`, which git-cliff-core sets for preprocessors). After
//! processing and after rendering, any record stops the run with the entry, the command, the
//! commit and what the command said.
//!
//! Not covered: a command whose output is not UTF-8 is still dropped by git-cliff-core without
//! a record (the shell sees a success).

use std::collections::HashMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use git_cliff_core::config::{Config, TextProcessor};

use crate::{ConfigOrigin, Error};

/// A command of the configuration that failed, and on what.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommandFailure {
    pub origin: ConfigOrigin,
    /// The entry, as the configuration file names it: `git.commit_preprocessors[0]`.
    pub entry: String,
    pub command: String,
    /// `commit 1a2b3c4 ("feat: x")`, or `the rendered notes` for a postprocessor.
    pub on: String,
    pub status: String,
    /// What the command wrote on stderr, and on how many more it failed.
    pub said: String,
}

impl std::fmt::Display for CommandFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} of {} ran `{}` on {}, which failed with exit status {}; {}",
            self.entry, self.origin, self.command, self.on, self.status, self.said
        )
    }
}

/// The commands of a configuration, wrapped, and where their failures are recorded.
#[derive(Debug)]
pub(crate) struct Watch {
    dir: tempfile::TempDir,
    entries: Vec<Entry>,
}

#[derive(Debug)]
struct Entry {
    /// `git.commit_preprocessors[0]`, as the configuration file names it.
    name: String,
    command: String,
}

impl Watch {
    /// Wraps every `replace_command` of `config`; `None` when it has none.
    pub(crate) fn install(config: &mut Config, root: &Path) -> Result<Option<Self>, Error> {
        let has_commands = config
            .git
            .commit_preprocessors
            .iter()
            .chain(&config.changelog.postprocessors)
            .any(|p| p.replace_command.is_some());
        if !has_commands {
            return Ok(None);
        }
        let dir = tempfile::Builder::new()
            .prefix("relkit-commands-")
            .tempdir()
            .map_err(|source| Error::Io {
                path: std::env::temp_dir(),
                source,
            })?;
        let mut watch = Self {
            dir,
            entries: Vec::new(),
        };
        for (section, processors) in [
            (
                "git.commit_preprocessors",
                &mut config.git.commit_preprocessors,
            ),
            (
                "changelog.postprocessors",
                &mut config.changelog.postprocessors,
            ),
        ] {
            for (index, processor) in processors.iter_mut().enumerate() {
                watch.wrap(&format!("{section}[{index}]"), processor, root);
            }
        }
        Ok(Some(watch))
    }

    fn wrap(&mut self, name: &str, processor: &mut TextProcessor, root: &Path) {
        let Some(command) = processor.replace_command.take() else {
            return;
        };
        let n = self.entries.len();
        let file = |suffix: &str| quote(&self.dir.path().join(format!("{n}.{suffix}")));
        let (err, first, failures) = (file("err"), file("first"), file("failures"));
        let root = quote(root);
        // The newline before `)` ends a trailing comment or heredoc of the user's command.
        let wrapped = format!(
            "if cd {root}; then\n\
             (\n{command}\n) 2>{err}\n\
             status=$?\n\
             else\n\
             echo 'cannot enter the top directory of the repository' >{err}\n\
             status=1\n\
             fi\n\
             cat >/dev/null\n\
             if [ \"$status\" -ne 0 ]; then\n\
             [ -e {first} ] || mv {err} {first}\n\
             printf '%s %s\\n' \"$status\" \"${{COMMIT_SHA:-}}\" >>{failures}\n\
             fi\n\
             exit \"$status\"\n"
        );
        processor.replace_command = Some(wrapped);
        self.entries.push(Entry {
            name: name.to_owned(),
            command,
        });
    }

    /// The first recorded failure as an error; `subjects` maps commit ids to their subjects.
    pub(crate) fn check(
        &self,
        origin: &ConfigOrigin,
        subjects: &HashMap<&str, &str>,
    ) -> Result<(), Error> {
        for (n, entry) in self.entries.iter().enumerate() {
            let path = self.dir.path().join(format!("{n}.failures"));
            let Ok(text) = std::fs::read_to_string(&path) else {
                continue;
            };
            let mut records = text.lines().filter_map(|line| line.split_once(' '));
            let Some((status, sha)) = records.next() else {
                continue;
            };
            let more = records.count();
            let said = std::fs::read(self.dir.path().join(format!("{n}.first")))
                .map(|bytes| String::from_utf8_lossy(&bytes).trim().to_owned())
                .unwrap_or_default();
            let on = if sha.is_empty() {
                "the rendered notes".to_owned()
            } else {
                let short: String = sha.chars().take(7).collect();
                match subjects.get(sha) {
                    Some(subject) => format!("commit {short} (\"{subject}\")"),
                    None => format!("commit {short}"),
                }
            };
            let mut said = if said.is_empty() {
                "nothing on stderr".to_owned()
            } else {
                format!("it said: {}", first_lines(&said, 5))
            };
            if more > 0 {
                let what = match (sha.is_empty(), more) {
                    (true, 1) => "part",
                    (true, _) => "parts",
                    (false, 1) => "commit",
                    (false, _) => "commits",
                };
                let _ = write!(said, " (and it failed on {more} more {what})");
            }
            return Err(Error::CommandFailed(Box::new(CommandFailure {
                origin: origin.clone(),
                entry: entry.name.clone(),
                command: entry.command.clone(),
                on,
                status: status.to_owned(),
                said,
            })));
        }
        Ok(())
    }
}

/// The text's first `n` lines, joined, with a mark when there were more.
fn first_lines(text: &str, n: usize) -> String {
    let lines: Vec<&str> = text.lines().collect();
    let mut out = lines
        .iter()
        .take(n)
        .copied()
        .collect::<Vec<_>>()
        .join(" | ");
    if lines.len() > n {
        out.push_str(" | …");
    }
    out
}

/// A path as one single-quoted shell word.
fn quote(path: &Path) -> String {
    let text = PathBuf::from(path).to_string_lossy().into_owned();
    format!("'{}'", text.replace('\'', r"'\''"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_quoted_path_keeps_its_single_quotes() {
        assert_eq!(quote(Path::new("/tmp/it's")), r"'/tmp/it'\''s'");
    }

    #[test]
    fn long_output_is_cut_to_its_first_lines() {
        assert_eq!(first_lines("a\nb\nc", 2), "a | b | …");
        assert_eq!(first_lines("a", 2), "a");
    }
}
