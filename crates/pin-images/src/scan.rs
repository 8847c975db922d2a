//! Finding image references in deploy files, with their line and the bytes that hold them.
//!
//! YAML (compose files, Kubernetes manifests, Helm values) is read twice per document: by
//! `yaml_serde` for the values (aliases and merge keys resolved, errors with a line) and by
//! `yamlpath` (tree-sitter) for where each value sits in the bytes, so a rewrite can replace that
//! span and nothing else. Documents are split at column-0 `---` (and after `...`), as
//! `yamlpath` reads one document at a time.
//!
//! An image is the string value of any `image` key (compose services, Kubernetes containers,
//! init and ephemeral containers, Helm's `image: repo:tag`), or an `image` mapping holding a
//! `repository` (Helm's `repository`/`tag`, with `registry` and `digest` when present). A value
//! reached through an alias or a merge key is found once, where its anchor defines it. `.env`
//! files contribute each `*_IMAGE=` variable.

use std::collections::{HashMap, HashSet};
use std::ops::Range;
use std::path::{Path, PathBuf};

use yaml_serde::Value;
use yamlpath::{Component, Document, Route};

use crate::error::Error;
use crate::interpolate::{self, Unresolved};

/// How a scalar is written, which decides how a new value is written in its place.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Style {
    Plain,
    Single,
    Double,
    /// A block scalar, or a quoted one with escapes or line breaks: not rewritten.
    Other,
}

/// A scalar's place in its file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scalar {
    /// The bytes of the scalar as written, quotes included.
    pub span: Range<usize>,
    pub style: Style,
    /// 1-based.
    pub line: usize,
    pub column: usize,
}

/// Where an image's value lives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Site {
    /// One string: `image: repo:tag`, or a `.env` value.
    Value(Scalar),
    /// An image in parts: Helm's `image:` mapping (`[registry/]repository[:tag][@digest]`) or a
    /// kustomization's `images:` entry (`newName` or `name`, `newTag`, `digest`).
    Pair {
        repository: Scalar,
        tag: Option<Scalar>,
        /// The `digest` key, when the entry has one (it then wins over the tag).
        digest: Option<Scalar>,
        /// Whether the pair's `tag` or `digest` already carries a digest.
        pinned: bool,
        /// A kustomize entry: a digest goes in its own `digest:` key, never in `newTag`.
        kustomize: bool,
    },
}

/// One image reference found in a file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Found {
    pub file: PathBuf,
    /// Where a person looks for it (the value, or a pair's `tag`), 1-based.
    pub line: usize,
    pub column: usize,
    /// The variable it gets in a pins file (`NGINX_IMAGE`).
    pub name: String,
    /// The reference as the file writes it (a pair joined as `repository:tag`).
    pub written: String,
    /// After compose interpolation (the written text where there are no variables).
    pub expanded: Result<String, Unresolved>,
    pub site: Site,
    /// A compose service that also has `build:`: the image is what compose builds and tags
    /// locally, not one to look up.
    pub built: bool,
}

impl Found {
    /// Whether the written value refers to variables.
    pub fn has_variables(&self) -> bool {
        interpolate::has_variables(&self.written)
    }
}

/// The kind of file, from its name: `.env` files (`.env`, `prod.env`, `.env.production`,
/// `prod.env.example`) are dotenv, YAML and JSON files (`.yml`, `.yaml`, `.json`) and anything
/// else are YAML.
fn is_env_file(path: &Path) -> bool {
    let name = path
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or_default()
        .to_ascii_lowercase();
    let yaml = [".yml", ".yaml", ".json"].iter().any(|e| name.ends_with(e));
    !yaml && name.split('.').any(|part| part == "env")
}

/// The images in `text`, the contents of `path`.
pub fn scan(path: &Path, text: &str, env: &HashMap<String, String>) -> Result<Vec<Found>, Error> {
    if is_env_file(path) {
        return Ok(scan_env(path, text, env));
    }
    scan_yaml(path, text, env)
}

/// Reads `path` and finds its images.
pub fn scan_file(
    path: &Path,
    env: &HashMap<String, String>,
) -> Result<(String, Vec<Found>), Error> {
    let bytes = std::fs::read(path).map_err(|source| Error::Read {
        path: path.to_path_buf(),
        source,
    })?;
    let text = String::from_utf8(bytes).map_err(|e| Error::NotText {
        path: path.to_path_buf(),
        line: line_of(e.as_bytes(), e.utf8_error().valid_up_to()),
    })?;
    let found = scan(path, &text, env)?;
    Ok((text, found))
}

fn line_of(bytes: &[u8], offset: usize) -> usize {
    bytes[..offset.min(bytes.len())]
        .iter()
        .filter(|b| **b == b'\n')
        .count()
        + 1
}

/// One YAML document of a file: its text and where it starts.
struct Chunk<'a> {
    text: &'a str,
    offset: usize,
    line: usize,
}

/// Splits at lines that start a document (`---`, alone or followed by a space) and after lines
/// that end one (`...`). A leading UTF-8 BOM belongs to no document: the parsers would read it as
/// content (with two top-level keys, `yaml_serde` then sees "more than one document"), so the
/// first chunk starts after it and the BOM stays in the file's bytes, outside every span.
fn documents(text: &str) -> Vec<Chunk<'_>> {
    let bom = if text.starts_with('\u{feff}') {
        '\u{feff}'.len_utf8()
    } else {
        0
    };
    let mut chunks = Vec::new();
    let mut start = bom;
    let mut start_line = 1;
    let mut offset = bom;
    let mut line = 1;
    for raw in text[bom..].split_inclusive('\n') {
        let content = raw.trim_end_matches(['\n', '\r']);
        let content = content.strip_prefix('\u{feff}').unwrap_or(content);
        let marker = |m: &str| {
            content == m
                || content
                    .strip_prefix(m)
                    .is_some_and(|r| r.starts_with([' ', '\t']))
        };
        // Directives (`%YAML 1.2`) and comments before a `---` belong to its document.
        let preamble = text[start..offset].lines().all(|l| {
            let l = l.trim().trim_start_matches('\u{feff}');
            l.is_empty() || l.starts_with('#') || l.starts_with('%')
        });
        if marker("---") && offset > start && !preamble {
            chunks.push(Chunk {
                text: &text[start..offset],
                offset: start,
                line: start_line,
            });
            start = offset;
            start_line = line;
        }
        offset += raw.len();
        line += 1;
        if marker("...") {
            chunks.push(Chunk {
                text: &text[start..offset],
                offset: start,
                line: start_line,
            });
            start = offset;
            start_line = line;
        }
    }
    if start < text.len() {
        chunks.push(Chunk {
            text: &text[start..],
            offset: start,
            line: start_line,
        });
    }
    chunks
}

fn scan_yaml(path: &Path, text: &str, env: &HashMap<String, String>) -> Result<Vec<Found>, Error> {
    let mut found = Vec::new();
    for chunk in documents(text) {
        let value: Value = match yaml_serde::from_str(chunk.text) {
            Ok(value) => value,
            Err(e) => {
                // A document of only comments or a bare `...` is empty, not an error.
                if chunk
                    .text
                    .lines()
                    .map(|l| l.trim().trim_start_matches('\u{feff}'))
                    .all(|l| l.is_empty() || l.starts_with('#') || l == "---" || l == "...")
                {
                    continue;
                }
                return Err(Error::NotYaml {
                    path: path.to_path_buf(),
                    line: chunk.line + e.location().map_or(1, |l| l.line()) - 1,
                    message: strip_location(&e.to_string()),
                });
            }
        };
        if value.is_null() {
            continue;
        }
        let doc = Document::new(chunk.text).map_err(|e| Error::NotYaml {
            path: path.to_path_buf(),
            line: chunk.line,
            message: e.to_string(),
        })?;
        let compose = value.get("services").is_some_and(Value::is_mapping);
        let kustomize = value.get("kind").and_then(Value::as_str) == Some("Kustomization")
            || path.file_name().and_then(|n| n.to_str()).is_some_and(|n| {
                ["kustomization.yaml", "kustomization.yml", "Kustomization"].contains(&n)
            });
        let mut walker = Walker {
            path,
            chunk: &chunk,
            doc: &doc,
            env,
            compose,
            kustomize,
            seen: HashSet::new(),
            found: Vec::new(),
        };
        walker.walk(&value, &mut Vec::new())?;
        found.extend(walker.found);
    }
    Ok(found)
}

/// `yaml_serde` ends its messages with ` at line L column C`; the line is reported separately.
fn strip_location(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(i) => message[..i].to_owned(),
        None => message.to_owned(),
    }
}

/// The keys of an image given in parts.
struct PairKeys {
    registry: Option<&'static str>,
    /// The first of these present names the repository.
    repository: &'static [&'static str],
    tag: &'static str,
    digest: &'static str,
    /// Whether an entry without tag or digest is still an image to judge (Helm: the chart's
    /// appVersion fills the tag in; kustomize: the base manifest's tag stays, judged there).
    tagless_is_image: bool,
    /// Whether a number is read as Helm reads it, a float rendered as Go prints it; else a
    /// number is no tag at all (kustomize's `newTag` is a string).
    helm_numbers: bool,
}

/// Helm values: `image: {registry, repository, tag, digest}`.
const HELM: PairKeys = PairKeys {
    registry: Some("registry"),
    repository: &["repository"],
    tag: "tag",
    digest: "digest",
    tagless_is_image: true,
    helm_numbers: true,
};

/// A kustomization's `images:` entries: `{name, newName, newTag, digest}`.
const KUSTOMIZE: PairKeys = PairKeys {
    registry: None,
    repository: &["newName", "name"],
    tag: "newTag",
    digest: "digest",
    tagless_is_image: false,
    helm_numbers: false,
};

struct Walker<'a> {
    path: &'a Path,
    chunk: &'a Chunk<'a>,
    doc: &'a Document,
    env: &'a HashMap<String, String>,
    compose: bool,
    /// A kustomization (by `kind` or file name): its top-level `images:` override tags.
    kustomize: bool,
    /// Spans already reported (an alias reaches its anchor's span again).
    seen: HashSet<usize>,
    found: Vec<Found>,
}

impl Walker<'_> {
    fn walk(&mut self, value: &Value, route: &mut Vec<Component<'static>>) -> Result<(), Error> {
        match value {
            Value::Mapping(map) => {
                for (key, child) in map {
                    let Some(key) = key.as_str() else { continue };
                    route.push(Component::Key(key.to_owned().into()));
                    if self.kustomize && route.len() == 1 && key == "images" {
                        for (i, entry) in child.as_sequence().into_iter().flatten().enumerate() {
                            route.push(Component::Index(i));
                            self.pair(entry, route, entry, &KUSTOMIZE)?;
                            route.pop();
                        }
                        route.pop();
                        continue;
                    }
                    if key == "image" {
                        let untagged = match child {
                            Value::Tagged(tagged) => &tagged.value,
                            other => other,
                        };
                        match untagged {
                            // A placeholder, not an image.
                            Value::String(text) if text.trim().is_empty() => {}
                            Value::String(text) => self.image(value, route, text)?,
                            Value::Mapping(pair) if pair.get("repository").is_some() => {
                                self.pair(value, route, child, &HELM)?;
                            }
                            _ => self.walk(child, route)?,
                        }
                    } else {
                        self.walk(child, route)?;
                    }
                    route.pop();
                }
            }
            Value::Sequence(items) => {
                for (i, child) in items.iter().enumerate() {
                    route.push(Component::Index(i));
                    self.walk(child, route)?;
                    route.pop();
                }
            }
            Value::Tagged(tagged) => self.walk(&tagged.value, route)?,
            _ => {}
        }
        Ok(())
    }

    fn scalar(&self, route: &[Component<'static>]) -> Result<Scalar, Error> {
        let located = self
            .doc
            .query_exact(&Route::from(route.to_vec()))
            .ok()
            .flatten()
            .ok_or_else(|| Error::NotYaml {
                path: self.path.to_path_buf(),
                line: self.chunk.line,
                message: format!("cannot locate the value at {}", display_route(route)),
            })?;
        let (mut start, end) = located.location.byte_span;
        let ((row, mut column), _) = located.location.point_span;
        // `!override nginx:1` or `!!str nginx:1`: the value is what follows the tag.
        let raw = &self.chunk.text[start..end];
        if raw.starts_with('!')
            && let Some(gap) = raw.find([' ', '\t'])
        {
            let skip = gap + raw[gap..].len() - raw[gap..].trim_start().len();
            start += skip;
            column += skip;
        }
        let raw = &self.chunk.text[start..end];
        let style = style_of(raw);
        Ok(Scalar {
            span: self.chunk.offset + start..self.chunk.offset + end,
            style,
            line: self.chunk.line + row,
            column: column + 1,
        })
    }

    fn image(
        &mut self,
        parent: &Value,
        route: &[Component<'static>],
        text: &str,
    ) -> Result<(), Error> {
        let scalar = self.scalar(route)?;
        if !self.seen.insert(scalar.span.start) {
            return Ok(());
        }
        self.push(
            parent,
            route,
            (scalar.line, scalar.column),
            text.to_owned(),
            Site::Value(scalar),
        );
        Ok(())
    }

    fn pair(
        &mut self,
        parent: &Value,
        route: &[Component<'static>],
        pair: &Value,
        keys: &PairKeys,
    ) -> Result<(), Error> {
        let field = |key: &str| -> Result<Option<(Scalar, String)>, Error> {
            match pair.get(key) {
                Some(Value::String(s)) => {
                    let mut r = route.to_vec();
                    r.push(Component::Key(key.to_owned().into()));
                    Ok(Some((self.scalar(&r)?, s.clone())))
                }
                Some(Value::Number(n)) => {
                    // `tag: 1.25` reads as a number. Helm reads every number as a float and
                    // renders it the way Go prints one: `1.10` becomes 1.1 and `1000000`
                    // 1e+06, a tag nobody wrote. Only a number Helm renders as written is one.
                    let mut r = route.to_vec();
                    r.push(Component::Key(key.to_owned().into()));
                    let scalar = self.scalar(&r)?;
                    let raw = self.chunk_text(&scalar).to_owned();
                    if !keys.helm_numbers {
                        return Err(Error::NumberTag {
                            path: self.path.to_path_buf(),
                            line: scalar.line,
                            key: key.to_owned(),
                            written: raw,
                        });
                    }
                    if let Some(rendered) = n.as_f64().map(go_float)
                        && rendered != raw
                    {
                        return Err(Error::HelmNumber {
                            path: self.path.to_path_buf(),
                            line: scalar.line,
                            key: key.to_owned(),
                            written: raw,
                            rendered,
                        });
                    }
                    Ok(Some((scalar, raw)))
                }
                _ => Ok(None),
            }
        };
        let mut repository = None;
        for key in keys.repository {
            if let Some(found) = field(key)? {
                repository = Some(found);
                break;
            }
        }
        let Some((repository, repo_text)) = repository else {
            return Ok(());
        };
        let registry = match keys.registry {
            Some(key) => field(key)?.map(|(_, s)| s).filter(|s| !s.is_empty()),
            None => None,
        };
        let tag = field(keys.tag)?;
        let digest = field(keys.digest)?;
        let given =
            |part: &Option<(Scalar, String)>| part.as_ref().is_some_and(|(_, t)| !t.is_empty());
        if !keys.tagless_is_image && !given(&tag) && !given(&digest) {
            return Ok(());
        }
        if !self.seen.insert(repository.span.start) {
            return Ok(());
        }
        let mut written = match registry {
            Some(registry) => format!("{registry}/{repo_text}"),
            None => repo_text,
        };
        if let Some((_, tag)) = &tag
            && !tag.is_empty()
        {
            written = format!("{written}:{tag}");
        }
        let digest_text = digest.as_ref().map(|(_, d)| d.clone()).unwrap_or_default();
        if !digest_text.is_empty() && !written.contains('@') {
            written = format!("{written}@{digest_text}");
        }
        let pinned = written.contains('@');
        let at = tag
            .as_ref()
            .filter(|(_, t)| !t.is_empty())
            .map(|(s, _)| s.clone())
            .unwrap_or_else(|| repository.clone());
        self.push(
            parent,
            route,
            (at.line, at.column),
            written,
            Site::Pair {
                repository,
                // An empty tag is no tag: the chart's appVersion fills it in.
                tag: tag.filter(|(_, t)| !t.is_empty()).map(|(s, _)| s),
                digest: digest.map(|(s, _)| s),
                pinned,
                kustomize: !keys.tagless_is_image,
            },
        );
        Ok(())
    }

    fn chunk_text(&self, scalar: &Scalar) -> &str {
        &self.chunk.text[scalar.span.start - self.chunk.offset..scalar.span.end - self.chunk.offset]
    }

    /// Records the image `written` at `site`, found at `route` in the mapping `parent`.
    fn push(
        &mut self,
        parent: &Value,
        route: &[Component<'static>],
        (line, column): (usize, usize),
        written: String,
        site: Site,
    ) {
        let name = pin_name(parent, route);
        let built = self.compose && parent.get("build").is_some();
        let expanded = if self.compose {
            interpolate::expand(&written, self.env)
        } else {
            Ok(written.clone())
        };
        self.found.push(Found {
            file: self.path.to_path_buf(),
            line,
            column,
            name,
            written,
            expanded,
            site,
            built,
        });
    }
}

fn display_route(route: &[Component<'_>]) -> String {
    route
        .iter()
        .map(|c| match c {
            Component::Key(k) => k.to_string(),
            Component::Index(i) => i.to_string(),
        })
        .collect::<Vec<_>>()
        .join(".")
}

fn style_of(raw: &str) -> Style {
    if raw.contains(['\n', '\r']) {
        return Style::Other;
    }
    if let Some(inner) = raw.strip_prefix('\'').and_then(|r| r.strip_suffix('\'')) {
        return if inner.contains('\'') {
            Style::Other
        } else {
            Style::Single
        };
    }
    if let Some(inner) = raw.strip_prefix('"').and_then(|r| r.strip_suffix('"')) {
        return if inner.contains(['\\', '"']) {
            Style::Other
        } else {
            Style::Double
        };
    }
    if raw.starts_with(['|', '>', '&', '!', '*']) {
        return Style::Other;
    }
    Style::Plain
}

/// The pins-file variable for an image at `route` in `parent`: a container's `name`, a compose
/// service's name, else the keys leading to it (`server.image` → `SERVER_IMAGE`).
fn pin_name(parent: &Value, route: &[Component<'_>]) -> String {
    let keys: Vec<&str> = route
        .iter()
        .filter_map(|c| match c {
            Component::Key(k) if k != "<<" => Some(k.as_ref()),
            _ => None,
        })
        .collect();
    let base = if let Some(name) = parent.get("name").and_then(Value::as_str) {
        name.to_owned()
    } else if keys.len() >= 3 && keys[0] == "services" {
        keys[1].to_owned()
    } else {
        keys[..keys.len().saturating_sub(1)].join("_")
    };
    variable_name(&base)
}

/// `base` as an environment variable ending in `_IMAGE`.
pub fn variable_name(base: &str) -> String {
    let mut name = String::new();
    for c in base.chars() {
        let c = if c.is_ascii_alphanumeric() {
            c.to_ascii_uppercase()
        } else {
            '_'
        };
        if !(c == '_' && (name.is_empty() || name.ends_with('_'))) {
            name.push(c);
        }
    }
    let name = name.trim_end_matches('_').to_owned();
    if name.is_empty() {
        "IMAGE".to_owned()
    } else if name.ends_with("_IMAGE") || name == "IMAGE" {
        name
    } else {
        format!("{name}_IMAGE")
    }
}

/// `.env` files: each `NAME_IMAGE=value` line (`export ` allowed, values quoted or not, `#`
/// comments after an unquoted value).
/// `value` as Go's `fmt` prints a float64 with `%v`, which is how Helm's templates render a
/// number from values: the shortest digits that read back as the same float (strconv's `'g'`
/// with precision -1), in `%e` form (`1.234567e+06`) when the exponent is below -4 or at least
/// 6.
fn go_float(value: f64) -> String {
    if value == 0.0 {
        return "0".to_owned();
    }
    // Rust's `{:e}` gives the shortest round-tripping digits too: `1.234567e6`.
    let sci = format!("{value:e}");
    let (mantissa, exponent) = sci.split_once('e').unwrap_or((&sci, "0"));
    let exponent: i32 = exponent.parse().unwrap_or(0);
    if !(-4..6).contains(&exponent) {
        let sign = if exponent < 0 { '-' } else { '+' };
        format!("{mantissa}e{sign}{:02}", exponent.abs())
    } else {
        format!("{value}")
    }
}

fn scan_env(path: &Path, text: &str, env: &HashMap<String, String>) -> Vec<Found> {
    let mut found = Vec::new();
    // As compose reads a `.env` file: later values may use earlier ones, and the environment
    // wins over the file.
    let mut known = env.clone();
    let mut offset = 0;
    for (n, raw) in text.split_inclusive('\n').enumerate() {
        let line_start = offset;
        offset += raw.len();
        let line = raw.trim_end_matches(['\n', '\r']);
        let line = if n == 0 {
            line.strip_prefix('\u{feff}').unwrap_or(line)
        } else {
            line
        };
        let bom = if n == 0 && raw.starts_with('\u{feff}') {
            3
        } else {
            0
        };
        let trimmed = line.trim_start();
        let mut pos = bom + (line.len() - trimmed.len());
        let body = match trimmed.strip_prefix("export ") {
            Some(rest) => {
                pos += "export ".len() + (rest.len() - rest.trim_start().len());
                rest.trim_start()
            }
            None => trimmed,
        };
        if body.starts_with('#') {
            continue;
        }
        let Some((key, value)) = body.split_once('=') else {
            continue;
        };
        let key = key.trim_end();
        if !key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            continue;
        }
        if !key.ends_with("_IMAGE") {
            if !known.contains_key(key) {
                let v = value.trim();
                let v = v
                    .strip_prefix('"')
                    .and_then(|v| v.strip_suffix('"'))
                    .or_else(|| v.strip_prefix('\'').and_then(|v| v.strip_suffix('\'')))
                    .unwrap_or_else(|| v.split(" #").next().unwrap_or(v).trim_end());
                known.insert(key.to_owned(), v.to_owned());
            }
            continue;
        }
        let value_start = pos + body.len() - value.len();
        let leading = value.len() - value.trim_start().len();
        let value = value.trim_start();
        let start = value_start + leading;
        let (span_len, style, written) = if let Some(rest) = value.strip_prefix('\'') {
            match rest.find('\'') {
                Some(end) => (end + 2, Style::Single, rest[..end].to_owned()),
                None => continue,
            }
        } else if let Some(rest) = value.strip_prefix('"') {
            match rest.find('"') {
                Some(end) if !rest[..end].contains('\\') => {
                    (end + 2, Style::Double, rest[..end].to_owned())
                }
                _ => continue,
            }
        } else {
            let end = value.find(" #").unwrap_or(value.len());
            let v = value[..end].trim_end();
            (v.len(), Style::Plain, v.to_owned())
        };
        if written.is_empty() {
            continue;
        }
        let span = line_start + start..line_start + start + span_len;
        let scalar = Scalar {
            span,
            style,
            line: n + 1,
            column: start - bom + 1,
        };
        let expanded = if style == Style::Single {
            Ok(written.clone())
        } else {
            interpolate::expand(&written, &known)
        };
        if let Ok(value) = &expanded {
            known.entry(key.to_owned()).or_insert_with(|| value.clone());
        }
        found.push(Found {
            file: path.to_path_buf(),
            line: n + 1,
            column: scalar.column,
            name: key.to_owned(),
            written,
            expanded,
            site: Site::Value(scalar),
            built: false,
        });
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_render_as_go_prints_a_float() {
        for (value, go) in [
            (1.1, "1.1"),
            (1.25, "1.25"),
            (1.0, "1"),
            (10.0, "10"),
            (123_456.0, "123456"),
            (1_000_000.0, "1e+06"),
            (1_234_567.0, "1.234567e+06"),
            (0.0001, "0.0001"),
            (0.00001, "1e-05"),
            (0.0, "0"),
        ] {
            assert_eq!(go_float(value), go, "{value}");
        }
    }

    #[test]
    fn a_helm_tag_that_renders_otherwise_than_written_is_refused() {
        let values = |tag: &str| format!("image:\n  repository: nginx\n  tag: {tag}\n");
        for tag in ["1.25", "10", "\"1.10\"", "'1.0'"] {
            assert!(
                scan(Path::new("values.yaml"), &values(tag), &HashMap::new()).is_ok(),
                "{tag}"
            );
        }
        for (tag, rendered) in [("1.10", "1.1"), ("1.0", "1"), ("1000000", "1e+06")] {
            let err =
                scan(Path::new("values.yaml"), &values(tag), &HashMap::new()).expect_err("refused");
            assert!(
                matches!(&err, Error::HelmNumber { line: 3, rendered: r, .. } if r == rendered),
                "{tag}: {err}"
            );
            assert!(err.to_string().contains("quote it"), "{err}");
        }
    }

    #[test]
    fn a_kustomize_tag_written_as_a_number_is_refused() {
        let text = "images:\n- name: nginx\n  newTag: 10\n";
        let err =
            scan(Path::new("kustomization.yaml"), text, &HashMap::new()).expect_err("refused");
        assert!(
            matches!(&err, Error::NumberTag { line: 3, written, .. } if written == "10"),
            "{err}"
        );
        let quoted = "images:\n- name: nginx\n  newTag: \"1.10\"\n";
        assert!(scan(Path::new("kustomization.yaml"), quoted, &HashMap::new()).is_ok());
    }

    fn images(name: &str, text: &str) -> Vec<(usize, String, String)> {
        scan(Path::new(name), text, &HashMap::new())
            .expect("scan")
            .into_iter()
            .map(|f| (f.line, f.name, f.written))
            .collect()
    }

    #[test]
    fn compose_services_anchors_and_merges_are_found_once() {
        let text = "x-base: &base\n  image: redis:7\nservices:\n  cache:\n    <<: *base\n  web:\n    image: &web 'nginx:1.25' # ops\n  web2:\n    image: *web\n";
        assert_eq!(
            images("compose.yml", text),
            vec![
                (2, "X_BASE_IMAGE".into(), "redis:7".into()),
                (7, "WEB_IMAGE".into(), "nginx:1.25".into()),
            ]
        );
    }

    #[test]
    fn kubernetes_documents_are_read_one_by_one() {
        let text = "apiVersion: v1\nkind: Pod\nspec:\n  containers:\n  - name: app\n    image: ghcr.io/a/app:1.0\n---\n# second\nkind: Job\nspec:\n  template:\n    spec:\n      initContainers: [{name: init, image: \"busybox:1.36\"}]\n";
        assert_eq!(
            images("k8s.yaml", text),
            vec![
                (6, "APP_IMAGE".into(), "ghcr.io/a/app:1.0".into()),
                (13, "INIT_IMAGE".into(), "busybox:1.36".into()),
            ]
        );
    }

    #[test]
    fn helm_pairs_join_registry_repository_and_tag() {
        let text = "image:\n  registry: docker.io\n  repository: bitnami/nginx\n  tag: 1.25.3\n  digest: \"\"\nserver:\n  image:\n    repository: quay.io/prom/prometheus\n    tag: \"v2.48.1\"\n";
        assert_eq!(
            images("values.yaml", text),
            vec![
                (4, "IMAGE".into(), "docker.io/bitnami/nginx:1.25.3".into()),
                (
                    9,
                    "SERVER_IMAGE".into(),
                    "quay.io/prom/prometheus:v2.48.1".into()
                ),
            ]
        );
    }

    #[test]
    fn env_files_give_their_image_variables() {
        let text = "\u{feff}# pins\r\nexport DB_IMAGE=\"postgres:16\"\r\nOTHER=1\r\nAPP_IMAGE=ghcr.io/a/app:1.0 # note\r\n";
        let found = scan(Path::new("prod.env"), text, &HashMap::new()).expect("scan");
        let got: Vec<_> = found
            .iter()
            .map(|f| match &f.site {
                Site::Value(s) => (f.line, f.name.as_str(), &text[s.span.clone()]),
                Site::Pair { .. } => unreachable!(),
            })
            .collect();
        assert_eq!(
            got,
            vec![
                (2, "DB_IMAGE", "\"postgres:16\""),
                (4, "APP_IMAGE", "ghcr.io/a/app:1.0"),
            ]
        );
    }

    #[test]
    fn block_scalars_are_text_and_tabs_are_errors() {
        let text = "data:\n  notes: |\n    image: nginx:latest\nimage: app:1\n";
        assert_eq!(
            images("x.yaml", text),
            vec![(4, "IMAGE".into(), "app:1".into())]
        );
        let err = scan(Path::new("bad.yaml"), "a:\n\tb: 1\n", &HashMap::new()).expect_err("tab");
        assert!(err.to_string().contains("bad.yaml:2"), "{err}");
    }

    #[test]
    fn kustomize_images_override_tags_and_are_found_as_images() {
        let text = "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources: [deploy.yaml]\nimages:\n  - name: nginx\n    newTag: latest\n  - name: ghcr.io/acme/api\n    newName: registry.acme.io/api\n    newTag: \"2.1.0\"\n    digest: sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\n  - name: redis\n    newName: mirror.acme.io/redis\n";
        assert_eq!(
            images("overlays/prod/kustomization.yaml", text),
            vec![
                (6, "NGINX_IMAGE".into(), "nginx:latest".into()),
                (
                    9,
                    "GHCR_IO_ACME_API_IMAGE".into(),
                    "registry.acme.io/api:2.1.0@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef".into()
                ),
            ],
            "an entry that only renames keeps the base's tag: judged in the base"
        );
        // The file name alone makes a kustomization; elsewhere `images:` is just a key.
        let bare = "images:\n  - name: nginx\n    newTag: 1.25.3\n";
        assert_eq!(images("kustomization.yml", bare).len(), 1);
        assert!(images("values.yaml", bare).is_empty());
    }

    #[test]
    fn a_bom_before_several_top_level_keys_is_not_part_of_the_document() {
        let text = "\u{feff}apiVersion: v1\nkind: Pod\nspec:\n  containers:\n  - name: a\n    image: nginx:latest\n---\nkind: Job\nspec:\n  containers: [{name: b, image: redis:7}]\n";
        let found = scan(Path::new("pod.yaml"), text, &HashMap::new()).expect("a BOM is not YAML");
        let got: Vec<_> = found
            .iter()
            .map(|f| match &f.site {
                Site::Value(s) => (f.line, f.column, &text[s.span.clone()]),
                Site::Pair { .. } => unreachable!(),
            })
            .collect();
        assert_eq!(got, vec![(6, 12, "nginx:latest"), (10, 33, "redis:7")]);
        // The first line's columns do not count the BOM.
        let one = scan(
            Path::new("c.yml"),
            "\u{feff}image: app:1\nother: 2\n",
            &HashMap::new(),
        )
        .expect("scan");
        assert_eq!((one[0].line, one[0].column), (1, 8));
    }

    #[test]
    fn env_files_are_told_by_name() {
        for env in [".env", "prod.env", ".env.production", "prod.env.example"] {
            assert!(is_env_file(Path::new(env)), "{env}");
        }
        for yaml in [
            "compose.yml",
            "values.env.yaml",
            "k8s.json",
            "environment.yml",
        ] {
            assert!(!is_env_file(Path::new(yaml)), "{yaml}");
        }
    }

    #[test]
    fn names_become_variables() {
        assert_eq!(variable_name("edge-events"), "EDGE_EVENTS_IMAGE");
        assert_eq!(variable_name("DB_IMAGE"), "DB_IMAGE");
        assert_eq!(variable_name(""), "IMAGE");
        assert_eq!(variable_name("server_image"), "SERVER_IMAGE");
    }
}
