use std::fmt;
use std::io::Write;

use crate::command::{self, Command};
use crate::env_file::EnvFile;
use crate::style::{Paint, Style};
use crate::summary::Summary;
use crate::{Annotation, Env, Error, Level, Outputs, Platform, Result, output};

/// Everything a step says, to its runner or to a terminal.
///
/// Built once by `main` from the environment and the log writer (stdout), then lent to whatever
/// has something to say. Under a runner it writes workflow commands; in a terminal, readable
/// text.
///
/// The writer is a type parameter only so that tests can read back what was written
/// ([`Reporter::into_log`]); the default, plain `Reporter`, boxes it, which is what the rest of
/// relkit names.
pub struct Reporter<W = Box<dyn Write + Send>> {
    platform: Platform,
    log: W,
    paint: Paint,
    output_file: Option<EnvFile>,
    outputs: Outputs,
    summary: Summary,
    group_open: bool,
    errors: usize,
    /// Where a terminal gets messages, findings and headings (stderr), when not the log.
    diagnostics: Option<Box<dyn Write + Send>>,
}

impl<W: Write> Reporter<W> {
    /// Detects the platform from `env` and remembers the output and summary files it names.
    ///
    /// `color` is `main`'s call (is the log a terminal, `NO_COLOR`, `CLICOLOR_FORCE`).
    pub fn new(env: &Env, log: W, color: bool) -> Self {
        Self {
            platform: Platform::detect(env),
            log,
            paint: Paint { color },
            output_file: EnvFile::from_env(env, "GITHUB_OUTPUT"),
            outputs: Outputs::default(),
            summary: Summary::new(EnvFile::from_env(env, "GITHUB_STEP_SUMMARY")),
            group_open: false,
            errors: 0,
            diagnostics: None,
        }
    }

    /// In a terminal, messages, findings and headings go to `diagnostics` (stderr) and only what
    /// a command produces (notes, plans, tables: [`Reporter::print_untrusted`]) to the log
    /// (stdout), so `relkit changelog > NOTES.md` holds the notes alone. A runner's log gets
    /// everything, in order.
    #[must_use]
    pub fn with_diagnostics(mut self, diagnostics: Box<dyn Write + Send>) -> Self {
        self.diagnostics = Some(diagnostics);
        self
    }

    pub fn platform(&self) -> &Platform {
        &self.platform
    }

    /// Reports a finding: a workflow command under a runner, plus a plain log line where the
    /// runner shows no annotations; a compiler-style diagnostic in a terminal.
    pub fn annotate(&mut self, annotation: &Annotation) -> Result<()> {
        if annotation.level == Level::Error {
            self.errors += 1;
        }
        if !self.platform.is_runner() {
            return self.say(&annotation.to_terminal(self.paint));
        }
        self.write(&format!("{}\n", annotation.to_command()))?;
        if !self.platform.supports_file_annotations() {
            self.write_text(&annotation.to_log_line(self.paint))?;
        }
        Ok(())
    }

    /// How many errors were reported so far, for `main` to choose the exit status.
    pub fn error_count(&self) -> usize {
        self.errors
    }

    /// Writes text relkit composed. Should it still read as a workflow command (a value it
    /// quotes may come from anywhere), it is fenced like [`Reporter::print_untrusted`].
    pub fn info(&mut self, text: &str) -> Result<()> {
        if self.platform.is_runner() {
            self.write_text(text)
        } else if text.ends_with('\n') {
            self.say(text)
        } else {
            self.say(&format!("{text}\n"))
        }
    }

    /// Writes text relkit did not write (commit messages, issue titles, release notes) so that
    /// nothing in it acts on the runner or the terminal.
    ///
    /// Under a runner it is fenced by `::stop-commands::` and a fresh random token absent from
    /// the text, so no line of it is read as a command. In a terminal, control characters other
    /// than newline and tab are shown escaped, so no escape sequence reaches the terminal.
    pub fn print_untrusted(&mut self, text: &str) -> Result<()> {
        if self.platform.is_runner() {
            let fenced = command::fence(text)?;
            self.write(&fenced)
        } else {
            self.write_lines(&defuse_controls(text))
        }
    }

    /// Opens a collapsible group; runners do not nest them, so an open group is closed first.
    pub fn begin_group(&mut self, name: &str) -> Result<()> {
        if self.platform.is_runner() {
            self.end_group()?;
            self.write(&format!("{}\n", Command::new("group", name)))?;
        } else {
            let heading = format!("==> {name}");
            self.say(&format!("{}\n", self.paint.paint(Style::Bold, &heading)))?;
        }
        self.group_open = true;
        Ok(())
    }

    /// Closes the open group, if any.
    pub fn end_group(&mut self) -> Result<()> {
        if self.group_open && self.platform.is_runner() {
            self.write(&format!("{}\n", Command::new("endgroup", "")))?;
        }
        self.group_open = false;
        Ok(())
    }

    /// Runs `f` inside a group. For async code, which cannot lend `self` to a closure across
    /// awaits, use [`Reporter::begin_group`] and [`Reporter::end_group`].
    pub fn group<T>(&mut self, name: &str, f: impl FnOnce(&mut Self) -> T) -> Result<T> {
        self.begin_group(name)?;
        let value = f(self);
        self.end_group()?;
        Ok(value)
    }

    /// Tells the runner to hide `secret` in the log from now on: call it as soon as a secret is
    /// read, before anything could print it. Does nothing in a terminal, which has no masker.
    ///
    /// Each line is masked on its own, since the runner masks the log line by line.
    pub fn mask(&mut self, secret: &str) -> Result<()> {
        if !self.platform.is_runner() {
            return Ok(());
        }
        for mask in command::masks(secret) {
            self.write(&format!("{mask}\n"))?;
        }
        Ok(())
    }

    /// Sets a step output: appended to the `GITHUB_OUTPUT` file when the runner names one, and
    /// kept in [`Reporter::outputs`] either way.
    pub fn set_output(&mut self, name: &str, value: &str) -> Result<()> {
        output::validate_name(name)?;
        if let Some(file) = &self.output_file {
            file.append(&output::heredoc(name, value)?)?;
        }
        self.outputs.insert(name, value);
        Ok(())
    }

    /// The outputs set so far.
    pub fn outputs(&self) -> &Outputs {
        &self.outputs
    }

    /// Appends markdown to the step summary (the `GITHUB_STEP_SUMMARY` file when the runner
    /// names one; kept in [`Reporter::summary_markdown`] either way).
    ///
    /// Past [`STEP_SUMMARY_LIMIT`](crate::STEP_SUMMARY_LIMIT) the summary ends with a note, and
    /// what did not fit is written to the log instead.
    pub fn append_summary(&mut self, markdown: &str) -> Result<()> {
        let rest = self.summary.append(markdown)?;
        if !rest.is_empty() {
            self.info("The step summary is full; what did not fit follows.")?;
            self.print_untrusted(rest)?;
        }
        Ok(())
    }

    /// The markdown this process appended to the step summary (after any cut).
    pub fn summary_markdown(&self) -> &str {
        self.summary.markdown()
    }

    pub fn flush(&mut self) -> Result<()> {
        if let Some(diagnostics) = &mut self.diagnostics {
            diagnostics.flush().map_err(Error::Log)?;
        }
        self.log.flush().map_err(Error::Log)
    }

    /// Gives the log writer back, for tests to read.
    pub fn into_log(self) -> W {
        self.log
    }

    fn write(&mut self, text: &str) -> Result<()> {
        self.log.write_all(text.as_bytes()).map_err(Error::Log)
    }

    /// A terminal message: to the diagnostics stream when there is one. What went to the log
    /// is flushed first, so the two read in order on one screen.
    fn say(&mut self, text: &str) -> Result<()> {
        match &mut self.diagnostics {
            Some(diagnostics) => {
                self.log.flush().map_err(Error::Log)?;
                diagnostics.write_all(text.as_bytes()).map_err(Error::Log)
            }
            None => self.write(text),
        }
    }

    /// `text`, ending in a newline.
    fn write_lines(&mut self, text: &str) -> Result<()> {
        self.write(text)?;
        if !text.ends_with('\n') {
            self.write("\n")?;
        }
        Ok(())
    }

    /// `text` for a runner log, fenced only if the runner would find a command in it.
    fn write_text(&mut self, text: &str) -> Result<()> {
        if command::looks_like_command(text) {
            let fenced = command::fence(text)?;
            self.write(&fenced)
        } else {
            self.write_lines(text)
        }
    }
}

/// Control characters shown as escapes (`\u{1b}`), except the newlines, CRLFs and tabs that lay
/// text out.
fn defuse_controls(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\n' | '\t' => out.push(c),
            '\r' if chars.peek() == Some(&'\n') => {}
            c if c.is_control() => out.extend(c.escape_default()),
            c => out.push(c),
        }
    }
    out
}

impl<W> fmt::Debug for Reporter<W> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Reporter")
            .field("platform", &self.platform)
            .field("color", &self.paint.color)
            .field("outputs", &self.outputs.len())
            .field("group_open", &self.group_open)
            .field("errors", &self.errors)
            .finish_non_exhaustive()
    }
}
