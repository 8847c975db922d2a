//! The pins file, as the playbooks keep it (`edge/pins/vX.Y.Z.env`) and as `pin-images resolve`
//! writes it: one `NAME=repo:tag@sha256:…` line per image, readable by a shell and by
//! `docker compose --env-file`. pin-images verifies one, create-release and promotion take one as
//! the images of a release: all read it here.

use crate::digest::Digest;
use crate::reference::Reference;

/// One line of a pins file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pin {
    /// The variable, `API_IMAGE`.
    pub name: String,
    /// Its line, from 1.
    pub line: usize,
    /// The image, with its digest.
    pub reference: Reference,
    /// The digest the reference pins.
    pub digest: Digest,
}

/// A line that is not a pin.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PinProblem {
    pub line: usize,
    pub message: String,
}

/// The pins of `text`; every line that is not one is reported, each with its line. A BOM,
/// `export`, quotes around the value, `#` comments and blank lines are shell syntax, not pins.
pub fn parse(text: &str) -> Result<Vec<Pin>, Vec<PinProblem>> {
    let mut pins = Vec::new();
    let mut problems = Vec::new();
    for (n, raw) in text.lines().enumerate() {
        let line = n + 1;
        let content = raw.trim().trim_start_matches('\u{feff}');
        let content = content.strip_prefix("export ").unwrap_or(content).trim();
        if content.is_empty() || content.starts_with('#') {
            continue;
        }
        let mut problem = |message: String| problems.push(PinProblem { line, message });
        let Some((name, value)) = content.split_once('=') else {
            problem(format!(
                "{content:?} is not `NAME=image`; a pins file holds one `NAME_IMAGE=repo:tag@sha256:…` per line"
            ));
            continue;
        };
        let name = name.trim();
        if name.is_empty() {
            problem(format!("{content:?} has no name before `=`"));
            continue;
        }
        let value = value.trim().trim_matches(|c| c == '"' || c == '\'');
        let reference: Reference = match value.parse() {
            Ok(r) => r,
            Err(e) => {
                problem(format!("{name}: {e}"));
                continue;
            }
        };
        let Some(digest) = reference.digest().cloned() else {
            problem(format!(
                "{name}={value} has no digest: a pins file holds `repo:tag@sha256:…` (or `repo@sha256:…`)"
            ));
            continue;
        };
        pins.push(Pin {
            name: name.to_owned(),
            line,
            reference,
            digest,
        });
    }
    if problems.is_empty() {
        Ok(pins)
    } else {
        Err(problems)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const D: &str = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

    #[test]
    fn a_pins_file_reads_back_with_lines_and_problems() {
        let text = format!(
            "\u{feff}# pins\nDB_IMAGE=postgres:16@{D}\n\nexport WEB_IMAGE=\"nginx:1.25@{D}\"\nBAD_IMAGE=nginx:1.25\nNOPE\n=nginx@{D}\nBY_DIGEST_IMAGE='nginx@{D}'\n"
        );
        let problems = parse(&text).expect_err("three bad lines");
        let lines: Vec<usize> = problems.iter().map(|p| p.line).collect();
        assert_eq!(lines, vec![5, 6, 7]);
        let good = format!("DB_IMAGE=postgres:16@{D}\nexport WEB_IMAGE=\"nginx:1.25@{D}\"\n");
        let pins = parse(&good).expect("parse");
        assert_eq!(pins.len(), 2);
        assert_eq!(pins[1].name, "WEB_IMAGE");
        assert_eq!(pins[1].line, 2);
        assert_eq!(
            pins[1].reference.to_string(),
            format!("docker.io/library/nginx:1.25@{D}")
        );
        assert_eq!(pins[1].digest.as_str(), D);
    }
}
