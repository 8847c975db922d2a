//! How the runner reads what a step wrote: workflow commands in the log and the `GITHUB_OUTPUT`
//! file, after actions/runner (`ActionCommandManager.TryProcessCommand`,
//! `ActionCommand.TryParseV2` / `TryParse`, `FileCommandManager`'s `SetOutputFileCommand`).
//!
//! It is written from the runner's source, not from relkit's writer, so a test that reads a log
//! with it checks what the runner would do, not that relkit agrees with itself.

use std::collections::BTreeMap;

/// A workflow command as the runner parsed it, escapes decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Parsed {
    pub name: String,
    pub properties: BTreeMap<String, String>,
    pub data: String,
}

/// The commands the runner would act on in `log`, honouring `::stop-commands::`.
///
/// Any name counts as a command here (the runner only knows its registered ones), which makes
/// "no command ran" a stronger claim.
pub fn commands(log: &str) -> Vec<Parsed> {
    let mut stopped_by: Option<String> = None;
    let mut acted = Vec::new();
    // The runner reads output with `ReadLine`, which ends a line at `\r`, `\n` or `\r\n`.
    for line in log.split(['\r', '\n']) {
        let Some(command) = parse_v2(line).or_else(|| parse_legacy(line)) else {
            continue;
        };
        if let Some(token) = &stopped_by {
            if command.name.eq_ignore_ascii_case(token) {
                stopped_by = None;
            }
            continue;
        }
        if command.name.eq_ignore_ascii_case("stop-commands") {
            stopped_by = Some(command.data);
            continue;
        }
        acted.push(command);
    }
    acted
}

fn parse_v2(line: &str) -> Option<Parsed> {
    let rest = line.trim_start().strip_prefix("::")?;
    let (info, data) = rest.split_once("::")?;
    let (name, properties) = info.split_once(' ').unwrap_or((info, ""));
    Some(Parsed {
        name: name.to_owned(),
        properties: properties
            .trim()
            .split(',')
            .filter_map(|pair| pair.split_once('='))
            .filter(|(key, value)| !key.is_empty() && !value.is_empty())
            .map(|(key, value)| (key.to_owned(), unescape_property(value)))
            .collect(),
        data: unescape_data(data),
    })
}

fn parse_legacy(line: &str) -> Option<Parsed> {
    let start = line.find("##[")? + 3;
    let end = start + line[start..].find(']')?;
    let info = &line[start..end];
    let name = info.split_once(' ').map_or(info, |(name, _)| name);
    Some(Parsed {
        name: name.to_owned(),
        properties: BTreeMap::new(),
        data: line[end + 1..].to_owned(),
    })
}

/// The outputs the runner would read from a `GITHUB_OUTPUT` file, in order.
pub fn read_output_file(contents: &str) -> Result<Vec<(String, String)>, String> {
    let mut outputs = Vec::new();
    let mut lines = contents.lines();
    while let Some(line) = lines.next() {
        if line.is_empty() {
            continue;
        }
        let equals = line.find('=');
        let heredoc = line.find("<<");
        match (equals, heredoc) {
            (Some(e), h) if h.is_none_or(|h| e < h) => {
                outputs.push((line[..e].to_owned(), line[e + 1..].to_owned()));
            }
            (_, Some(h)) => {
                let (name, delimiter) = (&line[..h], &line[h + 2..]);
                let mut value = Vec::new();
                loop {
                    match lines.next() {
                        Some(line) if line == delimiter => break,
                        Some(line) => value.push(line),
                        None => return Err(format!("no closing `{delimiter}` for `{name}`")),
                    }
                }
                outputs.push((name.to_owned(), value.join("\n")));
            }
            _ => return Err(format!("unreadable line `{line}`")),
        }
    }
    Ok(outputs)
}

/// The token of the first `::stop-commands::` in `log`.
pub fn stop_token(log: &str) -> Option<&str> {
    log.lines()
        .find_map(|line| line.strip_prefix("::stop-commands::"))
}

/// Decodes command data as the runner does: one replacement after the other, `%25` last.
pub fn unescape_data(data: &str) -> String {
    data.replace("%0D", "\r")
        .replace("%0A", "\n")
        .replace("%25", "%")
}

/// Decodes a property value as the runner does: one replacement after the other, `%25` last.
pub fn unescape_property(value: &str) -> String {
    value
        .replace("%0D", "\r")
        .replace("%0A", "\n")
        .replace("%3A", ":")
        .replace("%2C", ",")
        .replace("%25", "%")
}
