//! A changelog file: where the coming release's section goes, and which section an earlier run
//! wrote for it.
//!
//! The file is markdown that people and other tools edit too, so nothing but the coming
//! release's own section is ever replaced, and that section ends at the next heading of its level
//! or above, a link definition or an HTML comment: never at the end of the file, where link
//! definitions and footers live. Fenced code blocks are not read for headings.

use relkit_version::{Version, prefix_of};

/// A line of the file that bounds sections.
#[derive(Debug, Clone, Copy)]
struct Mark<'t> {
    /// Byte offset of the line's start.
    at: usize,
    /// The heading's level (`##` is 2), or `None` for a link definition or an HTML comment.
    level: Option<usize>,
    text: &'t str,
}

/// Headings, link definitions and HTML comments at the start of a line, outside fenced code
/// blocks, in order.
fn marks(text: &str) -> Vec<Mark<'_>> {
    let mut marks = Vec::new();
    let mut fence: Option<&str> = None;
    let mut at = 0;
    for line in text.split_inclusive('\n') {
        let start = at;
        at += line.len();
        let line = line.trim_end_matches(['\n', '\r']);
        let opener = ["```", "~~~"].into_iter().find(|f| line.starts_with(f));
        match (fence, opener) {
            (Some(open), Some(close)) if open == close => {
                fence = None;
                continue;
            }
            (Some(_), _) => continue,
            (None, Some(open)) => {
                fence = Some(open);
                continue;
            }
            (None, None) => {}
        }
        if let Some(level) = heading_level(line) {
            marks.push(Mark {
                at: start,
                level: Some(level),
                text: line,
            });
        } else if line.starts_with("<!--") || is_link_definition(line) {
            marks.push(Mark {
                at: start,
                level: None,
                text: line,
            });
        }
    }
    marks
}

/// `2` for `## v1.2.0`; `None` for a line that is not an ATX heading.
fn heading_level(line: &str) -> Option<usize> {
    let level = line.len() - line.trim_start_matches('#').len();
    ((1..=6).contains(&level) && line[level..].starts_with(' ')).then_some(level)
}

/// `[v1.2.0]: https://…`
fn is_link_definition(line: &str) -> bool {
    line.starts_with('[') && line.contains("]: ")
}

/// The first version a heading names: `1.2.0` in `## [1.2.0](…) (2024-01-01)` and in
/// `## edge/v1.2.0 - 2024-01-01`.
fn named_version(heading: &str) -> Option<Version> {
    heading
        .split(|c: char| c.is_whitespace() || matches!(c, '[' | ']' | '(' | ')'))
        .find_map(|word| {
            let prefix = prefix_of(word)?;
            Version::parse(&word[prefix.len()..]).ok()
        })
}

/// `old` with `body` (a release's section, starting with its heading) put in as its newest
/// section:
/// - after the header marker, if the configuration has one and the file holds it;
/// - else before the first section below the header (matched by its text, whole lines) or at
///   the top, a section being a heading at `body`'s level (or between level 2 and it, so a
///   title `# Changelog` stays on top);
/// - where a section is already there whose heading names a version `is_coming` says is the
///   coming release (above the last release and not tagged), that section is replaced.
///
/// The file's line endings are kept.
pub(crate) fn prepend(
    old: &str,
    body: &str,
    header: &str,
    marker: &str,
    is_coming: impl Fn(&Version) -> bool,
) -> String {
    let crlf = old.contains("\r\n");
    let newline = if crlf { "\r\n" } else { "\n" };
    let body = body.trim_end().replace("\r\n", "\n");
    let body = if crlf {
        body.replace('\n', "\r\n")
    } else {
        body
    };
    let level = body.lines().find_map(heading_level);
    let is_section = |mark: &Mark<'_>| match (mark.level, level) {
        (Some(found), Some(level)) => found == level || (2..=level).contains(&found),
        _ => false,
    };
    let marks = marks(old);

    let header = header.trim_end();
    let after_header = (!marker.is_empty())
        .then(|| old.find(marker).map(|i| i + marker.len()))
        .flatten()
        .map(|at| (at, true))
        .or_else(|| {
            let whole_lines = old.starts_with(header)
                && old[header.len()..]
                    .chars()
                    .next()
                    .is_none_or(|c| c == '\n' || c == '\r');
            (!header.is_empty() && whole_lines).then_some((header.len(), false))
        });
    let split = match after_header {
        // git-cliff's `--prepend` puts the section right after the marker.
        Some((at, true)) => at,
        Some((at, false)) => marks
            .iter()
            .find(|m| m.at >= at && is_section(m))
            .map_or(at, |m| m.at),
        None => marks.iter().find(|m| is_section(m)).map_or(0, |m| m.at),
    };

    let (head, rest) = old.split_at(split);
    let rest_at = split + (rest.len() - rest.trim_start_matches(['\n', '\r']).len());
    let mut rest = &old[rest_at..];
    // The section an earlier run wrote for the coming release, up to the next bound.
    if let Some(first) = marks.iter().position(|m| m.at == rest_at)
        && is_section(&marks[first])
        && named_version(marks[first].text).is_some_and(|v| is_coming(&v))
    {
        let first_level = marks[first].level.unwrap_or(1);
        let end = marks[first + 1..]
            .iter()
            .find(|m| m.level.is_none_or(|l| l <= first_level))
            .map_or(old.len(), |m| m.at);
        rest = &old[end..];
    }
    let head = head.trim_end_matches(['\n', '\r']);
    let rest = rest.trim_start_matches(['\n', '\r']);
    let mut out = String::with_capacity(old.len() + body.len() + 8);
    if !head.is_empty() {
        out.push_str(head);
        out.push_str(newline);
        out.push_str(newline);
    }
    out.push_str(&body);
    out.push_str(newline);
    if !rest.is_empty() {
        out.push_str(newline);
        out.push_str(rest);
    }
    out
}

/// The body as the file would hold it: with the file's line endings.
pub(crate) fn in_file_endings(old: &str, body: &str) -> String {
    if old.contains("\r\n") {
        body.replace("\r\n", "\n").replace('\n', "\r\n")
    } else {
        body.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(s: &str) -> Version {
        Version::parse(s).expect("a version")
    }

    const BODY: &str = "## v1.1.0 - 2024-02-01\n\n### Features\n\n- New\n";

    /// Coming: above 1.0.0 and not 1.0.5 (tagged on another branch).
    fn coming(version: &Version) -> bool {
        *version > v("1.0.0") && *version != v("1.0.5")
    }

    #[test]
    fn headings_name_versions_in_the_usual_shapes() {
        for (heading, version) in [
            ("## v1.2.0 - 2024-01-01", "1.2.0"),
            (
                "## [1.2.0](https://x/compare/v1.1.0...v1.2.0) (2024-01-01)",
                "1.2.0",
            ),
            ("## edge/v1.2.0-rc.1", "1.2.0-rc.1"),
            ("## k8s/v2.0.0", "2.0.0"),
        ] {
            assert_eq!(named_version(heading), Some(v(version)), "{heading}");
        }
        assert_eq!(named_version("## Unreleased"), None);
    }

    #[test]
    fn a_section_goes_below_a_title_and_its_intro() {
        let old = "# Changelog\n\nIntro, kept.\n\n## [1.0.0](link) (2024-01-01)\n\n* a\n";
        let new = prepend(old, BODY, "# Changelog", "", coming);
        assert_eq!(
            new,
            format!(
                "# Changelog\n\nIntro, kept.\n\n{BODY}\n## [1.0.0](link) (2024-01-01)\n\n* a\n"
            )
        );
    }

    #[test]
    fn the_coming_releases_section_is_replaced_up_to_its_bound_and_no_further() {
        let old = "# Changelog\n\n## v1.0.1 - 2024-01-15\n\n```md\n## not a heading\n```\n\n- Old fix\n\n## v1.0.0 - 2024-01-01\n\n- a\n\n[v1.0.0]: https://x\n";
        let new = prepend(old, BODY, "# Changelog", "", coming);
        assert_eq!(
            new,
            format!(
                "# Changelog\n\n{BODY}\n## v1.0.0 - 2024-01-01\n\n- a\n\n[v1.0.0]: https://x\n"
            )
        );
        // The last section ends at the link definitions below it.
        let last = "# Changelog\n\n## v1.0.1 - 2024-01-15\n\n- Old fix\n\n[v1.0.1]: https://x\n";
        assert_eq!(
            prepend(last, BODY, "# Changelog", "", coming),
            format!("# Changelog\n\n{BODY}\n[v1.0.1]: https://x\n")
        );
    }

    #[test]
    fn released_versions_and_other_text_are_never_replaced() {
        // 1.0.5 was tagged (on another branch): its section stays.
        let old = "## v1.0.5 - 2024-01-15\n\n- Hotfix\n";
        assert_eq!(prepend(old, BODY, "", "", coming), format!("{BODY}\n{old}"));
        let prose = "Some intro text with no headings.\n";
        assert_eq!(
            prepend(prose, BODY, "", "", coming),
            format!("{BODY}\n{prose}")
        );
    }

    #[test]
    fn a_header_matches_whole_lines_only() {
        let old = "# Changelog and more on this line\n\n## v1.0.0\n\n- a\n";
        let new = prepend(old, BODY, "# Changelog", "", coming);
        assert!(
            new.starts_with("# Changelog and more on this line\n\n## v1.1.0"),
            "{new}"
        );
    }

    #[test]
    fn crlf_files_stay_crlf() {
        let old = "# Changelog\r\n\r\n## v1.0.0\r\n\r\n- a\r\n";
        let new = prepend(old, BODY, "# Changelog", "", coming);
        assert!(!new.replace("\r\n", "").contains('\n'), "{new:?}");
        assert!(new.starts_with("# Changelog\r\n\r\n## v1.1.0"), "{new:?}");
    }

    #[test]
    fn after_a_marker_as_git_cliff_does() {
        let old = "# Changes\n<!-- next -->\n## v1.0.0\n";
        let new = prepend(old, BODY, "", "<!-- next -->", coming);
        assert_eq!(
            new,
            format!("# Changes\n<!-- next -->\n\n{BODY}\n## v1.0.0\n")
        );
    }
}
