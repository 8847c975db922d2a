//! Workflow commands: `::name key=value,key=value::data` lines the runner picks out of a step's
//! output.
//!
//! Escaping follows `@actions/core` (`escapeData`, `escapeProperty` in `command.ts`), and the
//! unescaping below is the runner's own (`ActionCommand.UnescapeData` / `UnescapeProperty` in
//! actions/runner), so a round trip through both is what the runner will actually see.

use std::fmt;

use crate::{Result, random};

/// Escapes a command's data (the part after the second `::`) so that it stays on one line.
pub fn escape_data(data: &str) -> String {
    escape(data, false)
}

/// Escapes a command property's value: like [`escape_data`], plus `:` and `,`, which would
/// otherwise end the value or the property list.
pub fn escape_property(value: &str) -> String {
    escape(value, true)
}

fn escape(text: &str, property: bool) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '%' => out.push_str("%25"),
            '\r' => out.push_str("%0D"),
            '\n' => out.push_str("%0A"),
            ':' if property => out.push_str("%3A"),
            ',' if property => out.push_str("%2C"),
            c => out.push(c),
        }
    }
    out
}

/// One workflow command, rendered (escaped) by its `Display`.
#[derive(Debug)]
pub(crate) struct Command<'a> {
    name: &'a str,
    properties: Vec<(&'static str, String)>,
    data: &'a str,
}

impl<'a> Command<'a> {
    pub(crate) fn new(name: &'a str, data: &'a str) -> Self {
        Self {
            name,
            properties: Vec::new(),
            data,
        }
    }

    /// Adds `key=value`, unless there is no value: the runner drops an empty property anyway.
    pub(crate) fn property(mut self, key: &'static str, value: Option<impl fmt::Display>) -> Self {
        if let Some(value) = value.map(|value| value.to_string())
            && !value.is_empty()
        {
            self.properties.push((key, value));
        }
        self
    }
}

impl fmt::Display for Command<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "::{}", self.name)?;
        for (i, (key, value)) in self.properties.iter().enumerate() {
            let separator = if i == 0 { ' ' } else { ',' };
            write!(f, "{separator}{key}={}", escape_property(value))?;
        }
        write!(f, "::{}", escape_data(self.data))
    }
}

/// Whether the runner would read a command somewhere in `text`.
///
/// The runner splits output into lines at `\r` as well as `\n`, looks for `::` after leading
/// whitespace, and still honours the legacy `##[name]` form anywhere in a line.
pub(crate) fn looks_like_command(text: &str) -> bool {
    text.split(['\r', '\n'])
        .any(|line| line.trim_start().starts_with("::") || line.contains("##["))
}

/// `text` fenced by `::stop-commands::TOKEN` and `::TOKEN::`, so that the runner reads none of
/// it as a command. The runner compares the token without regard to case, and so does the check
/// that the text cannot end the fence early.
pub(crate) fn fence(text: &str) -> Result<String> {
    let haystack = text.to_ascii_lowercase();
    let token = loop {
        let token = random::token()?;
        if !haystack.contains(&token) {
            break token;
        }
    };
    let newline = if text.ends_with('\n') { "" } else { "\n" };
    Ok(format!(
        "{}\n{text}{newline}{}\n",
        Command::new("stop-commands", &token),
        Command::new(&token, ""),
    ))
}

/// One `::add-mask::` per line of `secret`: the runner masks log lines one at a time, so a
/// multi-line secret masked whole would never match. Blank lines are skipped, since masking them
/// would blank out every empty or indented line of the log.
pub(crate) fn masks(secret: &str) -> impl Iterator<Item = String> {
    secret
        .split(['\r', '\n'])
        .filter(|line| !line.trim().is_empty())
        .map(|line| Command::new("add-mask", line).to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn data_escaping_matches_actions_core() {
        assert_eq!(
            escape_data("50% done\r\nnext: a,b"),
            "50%25 done%0D%0Anext: a,b"
        );
    }

    #[test]
    fn property_escaping_also_covers_colon_and_comma() {
        assert_eq!(escape_property("C:\\a,b%\n"), "C%3A\\a%2Cb%25%0A");
    }

    #[test]
    fn a_command_lists_properties_with_commas_and_skips_missing_ones() {
        let command = Command::new("error", "it broke")
            .property("file", Some("src/a,b.rs"))
            .property("line", Some(3))
            .property("col", None::<u32>)
            .property("title", Some(""));
        assert_eq!(
            command.to_string(),
            "::error file=src/a%2Cb.rs,line=3::it broke"
        );
    }

    #[test]
    fn a_command_without_properties_has_no_space() {
        assert_eq!(Command::new("endgroup", "").to_string(), "::endgroup::");
    }

    #[test]
    fn indented_and_legacy_commands_are_recognised() {
        assert!(looks_like_command("ok\n   ::set-env name=A::b"));
        assert!(looks_like_command("ok\r::add-mask::x"));
        assert!(looks_like_command("text ##[set-env name=A;]b"));
        assert!(!looks_like_command("a: b :: c"));
    }

    #[test]
    fn a_multi_line_secret_is_masked_line_by_line() {
        let masks: Vec<String> = masks("line one\r\n\n  \nline%two").collect();
        assert_eq!(masks, ["::add-mask::line one", "::add-mask::line%25two"]);
    }
}
