//! The few ANSI styles relkit uses, written by hand: SGR codes are all that is needed.

use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Style {
    Error,
    Warning,
    Notice,
    Help,
    Arrow,
    Bold,
}

impl Style {
    fn sgr(self) -> &'static str {
        match self {
            Self::Error => "1;31",
            Self::Warning => "1;33",
            Self::Notice => "1;32",
            Self::Help => "1;36",
            Self::Arrow => "1;34",
            Self::Bold => "1",
        }
    }
}

/// Whether to colour, decided by `main` (a terminal, `NO_COLOR`, `CLICOLOR_FORCE`).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Paint {
    pub(crate) color: bool,
}

impl Paint {
    pub(crate) fn paint(self, style: Style, text: &str) -> Painted<'_> {
        Painted {
            style: self.color.then_some(style),
            text,
        }
    }
}

pub(crate) struct Painted<'a> {
    style: Option<Style>,
    text: &'a str,
}

impl fmt::Display for Painted<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.style {
            Some(style) if !self.text.is_empty() => {
                write!(f, "\x1b[{}m{}\x1b[0m", style.sgr(), self.text)
            }
            _ => f.write_str(self.text),
        }
    }
}
