//! The incident's text from the team's own template: a markdown file with `{placeholders}`, or an
//! issue template (`.github/ISSUE_TEMPLATE/*.md`, `.gitea/ISSUE_TEMPLATE/*.md`) whose front
//! matter gives the title and labels.

use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::{Error, Facts};

/// A loaded template.
#[derive(Debug, Clone)]
pub struct Template {
    path: PathBuf,
    title: Option<(String, usize)>,
    labels: Vec<String>,
    /// The body and the line of the file it starts on.
    body: (String, usize),
}

#[derive(Debug, Deserialize)]
struct FrontMatter {
    #[serde(default)]
    title: Option<String>,
    #[serde(default)]
    labels: Option<Labels>,
    // Issue templates carry `name`, `about` and `assignees` too; the incident does not use them.
}

#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum Labels {
    List(Vec<String>),
    Text(String),
}

impl Template {
    /// Reads the template at `path`; its placeholders are checked now, before anything is asked.
    pub fn load(path: &Path) -> Result<Self, Error> {
        let text = std::fs::read_to_string(path).map_err(|source| Error::TemplateUnreadable {
            path: path.to_path_buf(),
            source,
        })?;
        let text = text.trim_start_matches('\u{feff}');
        let mut template = Self {
            path: path.to_path_buf(),
            title: None,
            labels: Vec::new(),
            body: (text.to_owned(), 1),
        };
        if let Some(rest) = text
            .strip_prefix("---\n")
            .or_else(|| text.strip_prefix("---\r\n"))
            && let Some(end) = rest.find("\n---")
        {
            let front = &rest[..end];
            let after = &rest[end + 4..];
            let after = after.strip_prefix('\r').unwrap_or(after);
            let after = after.strip_prefix('\n').unwrap_or(after);
            let matter: FrontMatter =
                yaml_serde::from_str(front).map_err(|e| Error::FrontMatter {
                    path: path.to_path_buf(),
                    message: e.to_string(),
                })?;
            let front_lines = front.lines().count() + 2;
            template.title = matter.title.map(|t| {
                let line = front
                    .lines()
                    .position(|l| l.trim_start().starts_with("title:"))
                    .map_or(2, |n| n + 2);
                (t, line)
            });
            template.labels = match matter.labels {
                Some(Labels::List(list)) => list,
                Some(Labels::Text(text)) => text
                    .split(',')
                    .map(str::trim)
                    .filter(|l| !l.is_empty())
                    .map(str::to_owned)
                    .collect(),
                None => Vec::new(),
            };
            template.body = (after.to_owned(), front_lines + 1);
        }
        let empty = Facts::default();
        template.render(&empty)?;
        Ok(template)
    }

    /// The title, body and labels with the facts in place.
    pub fn render(&self, facts: &Facts) -> Result<(String, String, Vec<String>), Error> {
        let title = match &self.title {
            Some((title, line)) => self.fill(title, *line, facts)?,
            None => format!("Investigate rollback to {}", facts.rollback_tag),
        };
        let body = self.fill(&self.body.0, self.body.1, facts)?;
        Ok((title, body, self.labels.clone()))
    }

    /// `text` (starting at `line` of the file) with each `{name}` replaced; `{{` and `}}` are
    /// literal braces, and other braces (code, JSON) are left alone.
    fn fill(&self, text: &str, line: usize, facts: &Facts) -> Result<String, Error> {
        let mut out = String::with_capacity(text.len());
        for (n, row) in text.split_inclusive('\n').enumerate() {
            let mut rest = row;
            while let Some(at) = rest.find(['{', '}']) {
                out.push_str(&rest[..at]);
                let tail = &rest[at..];
                if tail.starts_with("{{") || tail.starts_with("}}") {
                    out.push_str(&tail[..1]);
                    rest = &tail[2..];
                    continue;
                }
                if let Some(close) = tail.find('}')
                    && tail.starts_with('{')
                {
                    let name = &tail[1..close];
                    if !name.is_empty() && name.chars().all(|c| c.is_ascii_lowercase() || c == '_')
                    {
                        let value = facts.get(name).ok_or_else(|| Error::UnknownPlaceholder {
                            path: self.path.clone(),
                            line: line + n,
                            name: name.to_owned(),
                        })?;
                        out.push_str(value);
                        rest = &tail[close + 1..];
                        continue;
                    }
                }
                out.push_str(&tail[..1]);
                rest = &tail[1..];
            }
            out.push_str(rest);
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(text: &str) -> Result<Template, Error> {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("incident.md");
        std::fs::write(&path, text).expect("write");
        Template::load(&path)
    }

    #[test]
    fn placeholders_are_filled_and_other_braces_kept() {
        let template = load("Back to {rollback_tag} from {bad_tag}.\n`{\"a\": 1}` {{literal}}\n")
            .expect("a template");
        let facts = Facts {
            rollback_tag: "v1.3.1".to_owned(),
            bad_tag: "v1.3.0".to_owned(),
            ..Facts::default()
        };
        let (title, body, labels) = template.render(&facts).expect("render");
        assert_eq!(title, "Investigate rollback to v1.3.1");
        assert_eq!(
            body,
            "Back to v1.3.1 from v1.3.0.\n`{\"a\": 1}` {literal}\n"
        );
        assert!(labels.is_empty());
    }

    #[test]
    fn an_unknown_placeholder_is_named_with_its_line() {
        let err = load("---\nname: Incident\ntitle: \"Rollback to {rollback_tag}\"\n---\nfine\n{rollback_tga}\n")
            .expect_err("a typo");
        let text = err.to_string();
        assert!(
            text.contains("incident.md:6: {rollback_tga} is not a placeholder"),
            "{text}"
        );
        assert!(text.contains("{rollback_tag}"), "{text}");
    }

    #[test]
    fn an_issue_template_gives_the_title_and_labels() {
        let template = load(
            "---\nname: Incident\nabout: A rollback\ntitle: \"Rollback to {rollback_tag}\"\nlabels: incident, sev-1\nassignees: ''\n---\n\nWhat happened?\n",
        )
        .expect("a template");
        let facts = Facts {
            rollback_tag: "v1.3.1".to_owned(),
            ..Facts::default()
        };
        let (title, body, labels) = template.render(&facts).expect("render");
        assert_eq!(title, "Rollback to v1.3.1");
        assert_eq!(body, "\nWhat happened?\n");
        assert_eq!(labels, ["incident", "sev-1"]);
    }
}
