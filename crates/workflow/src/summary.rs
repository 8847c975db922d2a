//! The step summary: markdown appended to the file named by `GITHUB_STEP_SUMMARY`.

use crate::Result;
use crate::env_file::EnvFile;

/// The most a step's summary file may hold. A runner that finds more drops the whole summary,
/// so relkit cuts its own writes short instead.
pub const STEP_SUMMARY_LIMIT: usize = 1024 * 1024;

const CUT_NOTE: &str =
    "\n\n> The summary stops here, at the runner's 1 MiB limit; the rest is in the step log.\n";

#[derive(Debug)]
pub(crate) struct Summary {
    file: Option<EnvFile>,
    /// Everything this process appended, whether or not there is a file.
    markdown: String,
    cut: bool,
}

impl Summary {
    pub(crate) fn new(file: Option<EnvFile>) -> Self {
        Self {
            file,
            markdown: String::new(),
            cut: false,
        }
    }

    pub(crate) fn markdown(&self) -> &str {
        &self.markdown
    }

    /// Appends what fits under [`STEP_SUMMARY_LIMIT`] and returns what did not, for the log.
    ///
    /// The file's own size counts, not just this process's writes: other steps of a composite
    /// action may have written to it before.
    pub(crate) fn append<'a>(&mut self, markdown: &'a str) -> Result<&'a str> {
        if self.cut {
            return Ok(markdown);
        }
        let used = match &self.file {
            Some(file) => usize::try_from(file.len()?).unwrap_or(usize::MAX),
            None => self.markdown.len(),
        };
        // The note's room is kept free from the start, so that a cut can always say so.
        let room = (STEP_SUMMARY_LIMIT - CUT_NOTE.len()).saturating_sub(used);
        if markdown.len() <= room {
            self.write(markdown)?;
            return Ok("");
        }
        let (head, rest) = split_within(markdown, room);
        let mut text = head.to_owned();
        // Unless other writers already filled the file: then the runner drops it anyway.
        if used.saturating_add(head.len() + CUT_NOTE.len()) <= STEP_SUMMARY_LIMIT {
            text.push_str(CUT_NOTE);
        }
        self.write(&text)?;
        self.cut = true;
        Ok(rest)
    }

    fn write(&mut self, text: &str) -> Result<()> {
        if let Some(file) = &self.file {
            file.append(text)?;
        }
        self.markdown.push_str(text);
        Ok(())
    }
}

/// Splits `text` so that the head is at most `max` bytes, ends on a char boundary, and, when it
/// can, at the end of a line, so that no table row or link is cut in half.
fn split_within(text: &str, max: usize) -> (&str, &str) {
    if text.len() <= max {
        return (text, "");
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    if let Some(newline) = text[..end].rfind('\n') {
        end = newline + 1;
    }
    text.split_at(end)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_split_never_cuts_a_char() {
        assert_eq!(split_within("aé", 2), ("a", "é"));
    }

    #[test]
    fn a_split_prefers_the_end_of_a_line() {
        assert_eq!(split_within("one\ntwo\nthree", 10), ("one\ntwo\n", "three"));
    }

    #[test]
    fn text_that_fits_is_not_split() {
        assert_eq!(split_within("short", 5), ("short", ""));
    }

    #[test]
    fn summaries_are_kept_in_memory_without_a_file() -> Result<()> {
        let mut summary = Summary::new(None);
        assert_eq!(summary.append("# Release\n")?, "");
        assert_eq!(summary.append("done\n")?, "");
        assert_eq!(summary.markdown(), "# Release\ndone\n");
        Ok(())
    }

    #[test]
    fn after_the_cut_everything_goes_back_to_the_caller() -> Result<()> {
        let mut summary = Summary::new(None);
        let room = STEP_SUMMARY_LIMIT - CUT_NOTE.len();
        assert_eq!(summary.append(&"x".repeat(room))?, "");
        let rest = summary.append("yz")?;
        assert_eq!(rest, "yz");
        assert_eq!(summary.markdown().len(), STEP_SUMMARY_LIMIT);
        assert!(summary.markdown().ends_with(CUT_NOTE));
        assert_eq!(summary.append("more")?, "more");
        Ok(())
    }
}
