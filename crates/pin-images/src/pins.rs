//! The pins file, as the playbooks keep it (`edge/pins/vX.Y.Z.env`): one `NAME_IMAGE=` line per
//! image, `repo:tag@sha256:…`, readable by `docker compose --env-file` and by a shell.

use std::collections::HashMap;
use std::path::Path;

use relkit_registry::{Digest, Reference};

use crate::Pin;
use crate::error::Error;

/// The pins file for `pins`, in the order the images were found. An image found twice under one
/// name is written once; two images that want the same name get `_2`, `_3`….
pub fn render(pins: &[Pin]) -> String {
    let mut out = String::from(
        "# Image digests pinned by relkit pin-images. Verify with `relkit pin-images verify`.\n",
    );
    let mut taken: HashMap<String, String> = HashMap::new();
    for pin in pins {
        let mut name = pin.found.name.clone();
        let mut n = 1;
        loop {
            match taken.get(&name) {
                Some(existing) if *existing == pin.pinned => break,
                Some(_) => {
                    n += 1;
                    name = format!("{}_{n}", pin.found.name);
                }
                None => {
                    taken.insert(name.clone(), pin.pinned.clone());
                    out.push_str(&format!("{name}={}\n", pin.pinned));
                    break;
                }
            }
        }
    }
    out
}

/// One line of a pins file, and what to look up for it.
#[derive(Debug, Clone)]
pub struct Entry {
    pub name: String,
    pub line: usize,
    pub reference: Reference,
    /// What to look up: the reference by its tag alone, or by its digest when it has no tag.
    pub tagged: Reference,
    pub digest: Digest,
}

/// The entries of the pins file at `path` (read as [`relkit_registry::pins::parse`] reads every
/// pins file); every problem is reported, each with its line.
pub fn parse(path: &Path, text: &str) -> Result<Vec<Entry>, Vec<Error>> {
    let problem = |line: usize, message: String| Error::PinsFile {
        path: path.to_path_buf(),
        line,
        message,
    };
    let pins = relkit_registry::pins::parse(text).map_err(|problems| {
        problems
            .into_iter()
            .map(|p| problem(p.line, p.message))
            .collect::<Vec<_>>()
    })?;
    let mut entries = Vec::new();
    let mut problems = Vec::new();
    for pin in pins {
        // A pin by digest alone is verified by asking for that digest.
        let tagged = match pin.reference.tag() {
            Some(tag) => match pin.reference.with_tag(tag) {
                Ok(t) => t,
                Err(e) => {
                    problems.push(problem(pin.line, format!("{}: {e}", pin.name)));
                    continue;
                }
            },
            None => pin.reference.clone(),
        };
        entries.push(Entry {
            name: pin.name,
            line: pin.line,
            digest: pin.digest,
            tagged,
            reference: pin.reference,
        });
    }
    if problems.is_empty() {
        Ok(entries)
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
            "# pins\nDB_IMAGE=postgres:16@{D}\n\nexport WEB_IMAGE=\"nginx:1.25@{D}\"\nBAD_IMAGE=nginx:1.25\nNOPE\nBY_DIGEST_IMAGE=nginx@{D}\n"
        );
        let err = parse(Path::new("p.env"), &text).expect_err("two bad lines");
        let lines: Vec<usize> = err
            .iter()
            .filter_map(|e| e.location().map(|l| l.1))
            .collect();
        assert_eq!(lines, vec![5, 6]);
        let good = format!("DB_IMAGE=postgres:16@{D}\nexport WEB_IMAGE=\"nginx:1.25@{D}\"\n");
        let entries = parse(Path::new("p.env"), &good).expect("parse");
        assert_eq!(entries.len(), 2);
        assert_eq!(entries[1].name, "WEB_IMAGE");
        assert_eq!(entries[1].line, 2);
        assert_eq!(
            entries[1].tagged.to_string(),
            "docker.io/library/nginx:1.25"
        );
    }
}
