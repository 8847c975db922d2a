use std::borrow::Cow;
use std::fmt::{self, Write as _};

use crate::command::Command;
use crate::style::{Paint, Style};

/// How serious a finding is; each is its own workflow command.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Level {
    Notice,
    Warning,
    Error,
}

impl Level {
    /// The workflow command's name, which is also the label shown in a terminal.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Notice => "notice",
            Self::Warning => "warning",
            Self::Error => "error",
        }
    }

    fn style(self) -> Style {
        match self {
            Self::Notice => Style::Notice,
            Self::Warning => Style::Warning,
            Self::Error => Style::Error,
        }
    }
}

impl fmt::Display for Level {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A finding, optionally tied to a place in a file, optionally with a hint on what to do.
///
/// Lines and columns count from 1. `file` is relative to the repository root, with `/`, which is
/// what the runner needs to attach the annotation to the file in a pull request.
///
/// ```
/// use relkit_workflow::Annotation;
///
/// let annotation = Annotation::error("`tag` is `1.2`: it must be a full version like `v1.2.3`")
///     .with_file("deploy/prod.yaml")
///     .with_line(12)
///     .with_hint("promote a pre-release with `relkit promote-prerelease`");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Annotation {
    pub level: Level,
    pub message: String,
    pub title: Option<String>,
    pub file: Option<String>,
    pub line: Option<u32>,
    pub end_line: Option<u32>,
    pub col: Option<u32>,
    pub end_col: Option<u32>,
    /// What the reader can do about it: a `help:` line in a terminal, the end of the message
    /// under a runner. Shown once, wherever it is rendered.
    pub hint: Option<String>,
}

impl Annotation {
    pub fn new(level: Level, message: impl Into<String>) -> Self {
        Self {
            level,
            message: message.into(),
            title: None,
            file: None,
            line: None,
            end_line: None,
            col: None,
            end_col: None,
            hint: None,
        }
    }

    pub fn error(message: impl Into<String>) -> Self {
        Self::new(Level::Error, message)
    }

    pub fn warning(message: impl Into<String>) -> Self {
        Self::new(Level::Warning, message)
    }

    pub fn notice(message: impl Into<String>) -> Self {
        Self::new(Level::Notice, message)
    }

    #[must_use]
    pub fn with_title(mut self, title: impl Into<String>) -> Self {
        self.title = Some(title.into());
        self
    }

    #[must_use]
    pub fn with_file(mut self, file: impl Into<String>) -> Self {
        self.file = Some(file.into());
        self
    }

    #[must_use]
    pub fn with_line(mut self, line: u32) -> Self {
        self.line = Some(line);
        self
    }

    #[must_use]
    pub fn with_end_line(mut self, end_line: u32) -> Self {
        self.end_line = Some(end_line);
        self
    }

    #[must_use]
    pub fn with_col(mut self, col: u32) -> Self {
        self.col = Some(col);
        self
    }

    #[must_use]
    pub fn with_end_col(mut self, end_col: u32) -> Self {
        self.end_col = Some(end_col);
        self
    }

    #[must_use]
    pub fn with_hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }

    /// `file`, `file:line` or `file:line:col`, as editors and terminals link them.
    fn location(&self) -> Option<String> {
        let mut location = self.file.clone()?;
        if let Some(line) = self.line {
            let _ = write!(location, ":{line}");
            if let Some(col) = self.col {
                let _ = write!(location, ":{col}");
            }
        }
        Some(location)
    }

    /// The workflow command, with the hint folded into the message since annotations have no
    /// field for it.
    pub(crate) fn to_command(&self) -> String {
        let message: Cow<'_, str> = match &self.hint {
            Some(hint) => format!("{}\nhelp: {hint}", self.message).into(),
            None => self.message.as_str().into(),
        };
        Command::new(self.level.as_str(), &message)
            .property("file", self.file.as_ref())
            .property("line", self.line)
            .property("endLine", self.end_line)
            .property("col", self.col)
            .property("endColumn", self.end_col)
            .property("title", self.title.as_ref())
            .to_string()
    }

    /// For a terminal, in the shape of compiler diagnostics:
    ///
    /// ```text
    /// error: title: message
    ///   --> file:line:col
    /// help: hint
    /// ```
    pub(crate) fn to_terminal(&self, paint: Paint) -> String {
        let mut out = format!(
            "{}: {}\n",
            paint.paint(self.level.style(), self.level.as_str()),
            paint.paint(Style::Bold, &self.headline()),
        );
        if let Some(location) = self.location() {
            let _ = writeln!(out, "  {} {location}", paint.paint(Style::Arrow, "-->"));
        }
        self.push_help(&mut out, paint);
        out
    }

    /// For a runner log that does not show annotations: one greppable line, like a compiler's
    /// short message format, then the hint.
    pub(crate) fn to_log_line(&self, paint: Paint) -> String {
        let mut out = format!("{}: ", paint.paint(self.level.style(), self.level.as_str()));
        if let Some(location) = self.location() {
            let _ = write!(out, "{location}: ");
        }
        let _ = writeln!(out, "{}", self.headline());
        self.push_help(&mut out, paint);
        out
    }

    fn headline(&self) -> Cow<'_, str> {
        match &self.title {
            Some(title) => format!("{title}: {}", self.message).into(),
            None => self.message.as_str().into(),
        }
    }

    fn push_help(&self, out: &mut String, paint: Paint) {
        if let Some(hint) = &self.hint {
            let _ = writeln!(out, "{}: {hint}", paint.paint(Style::Help, "help"));
        }
    }
}
