//! Step outputs, in the `GITHUB_OUTPUT` file's heredoc form.

use std::collections::BTreeMap;
use std::fmt;

use crate::{Error, Result, random};

/// Checks a name against what runners accept as an output name and can use in an expression
/// (`steps.<id>.outputs.<name>`).
pub(crate) fn validate_name(name: &str) -> Result<()> {
    let mut chars = name.chars();
    let valid = chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    if valid {
        Ok(())
    } else {
        Err(Error::InvalidOutputName {
            name: name.to_owned(),
        })
    }
}

/// `name<<DELIMITER\nvalue\nDELIMITER\n`, the form that carries any value, multi-line ones
/// included, with a delimiter the value cannot contain.
pub(crate) fn heredoc(name: &str, value: &str) -> Result<String> {
    heredoc_with(name, value, || {
        random::uuid().map(|uuid| format!("ghadelimiter_{uuid}"))
    })
}

fn heredoc_with(
    name: &str,
    value: &str,
    mut delimiter: impl FnMut() -> Result<String>,
) -> Result<String> {
    // A random delimiter practically never occurs in the value, but "practically" is not a
    // guarantee worth shipping: a value that held it could define outputs of its own.
    let delimiter = loop {
        let candidate = delimiter()?;
        if !value.contains(&candidate) {
            break candidate;
        }
    };
    Ok(format!("{name}<<{delimiter}\n{value}\n{delimiter}\n"))
}

/// The outputs a step set, by name; setting a name again replaces its value, as on a runner.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Outputs(BTreeMap<String, String>);

impl Outputs {
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0.get(name).map(String::as_str)
    }

    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.0
            .iter()
            .map(|(name, value)| (name.as_str(), value.as_str()))
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub(crate) fn insert(&mut self, name: &str, value: &str) {
        self.0.insert(name.to_owned(), value.to_owned());
    }
}

/// `name=value` lines, for people: the lines of a multi-line value follow its name, indented.
impl fmt::Display for Outputs {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (name, value) in self.iter() {
            match value.split_once('\n') {
                None => writeln!(f, "{name}={value}")?,
                Some(_) => {
                    writeln!(f, "{name}=")?;
                    for line in value.lines() {
                        writeln!(f, "  {line}")?;
                    }
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_the_identifier_rule() {
        for name in ["tag", "_x", "image-digest", "A1_b-2"] {
            assert!(validate_name(name).is_ok(), "{name}");
        }
        for name in ["", "1tag", "-x", "a b", "a=b", "a<<b", "é"] {
            assert!(validate_name(name).is_err(), "{name}");
        }
    }

    #[test]
    fn the_error_names_the_value_and_the_rule() {
        let message = validate_name("1tag").map_err(|e| e.to_string());
        assert_eq!(
            message,
            Err(
                "output name `1tag` is invalid: it must start with an ASCII letter or `_` \
                 and hold only ASCII letters, digits, `_` and `-`"
                    .to_owned()
            )
        );
    }

    #[test]
    fn a_delimiter_found_in_the_value_is_drawn_again() -> Result<()> {
        let mut candidates = ["EOF_1", "EOF_2"].into_iter();
        let heredoc = heredoc_with("notes", "ends with\nEOF_1", || {
            Ok(candidates.next().unwrap_or("EOF_3").to_owned())
        })?;
        assert_eq!(heredoc, "notes<<EOF_2\nends with\nEOF_1\nEOF_2\n");
        Ok(())
    }

    #[test]
    fn multi_line_values_display_indented_under_their_name() {
        let mut outputs = Outputs::default();
        outputs.insert("tag", "v1.2.3");
        outputs.insert("notes", "a\nb");
        assert_eq!(outputs.to_string(), "notes=\n  a\n  b\ntag=v1.2.3\n");
    }
}
