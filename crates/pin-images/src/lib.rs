//! The pin-images action: find the images deploy files name, pin them to digests (a pins file
//! and/or the files rewritten in place), check production files against the release rules, and
//! verify a pins file against the registries.
//!
//! Each mode reads and judges everything before it writes anything: a reference that does not
//! parse, a variable that does not expand, an image the registry does not have or a value that
//! cannot be rewritten in place stops the run with every such problem listed, and no file
//! changes. Files are replaced whole (written beside, then renamed), never half-written.

mod error;
pub mod interpolate;
pub mod pins;
pub mod rules;
pub mod scan;

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

use futures_util::StreamExt as _;
use relkit_registry::{Client, Digest, Reference};

pub use error::{Error, Problems};
pub use rules::{Policy, Rule};
pub use scan::{Found, Scalar, Site, Style};

/// Where pin-images looks and how it reaches registries.
#[derive(Debug, Clone)]
pub struct Options {
    /// The directory globs are relative to.
    pub base: PathBuf,
    /// Variables for compose interpolation.
    pub env: HashMap<String, String>,
    pub registry: relkit_registry::Options,
}

/// The files `patterns` match under `base`, in order, each once. A pattern that matches nothing
/// is an error: a mistyped pattern must not check nothing.
pub fn files(patterns: &[String], base: &Path, input: &'static str) -> Result<Vec<PathBuf>, Error> {
    let mut out: Vec<PathBuf> = Vec::new();
    for pattern in patterns {
        let full = if Path::new(pattern).is_absolute() {
            pattern.clone()
        } else {
            base.join(pattern).to_string_lossy().into_owned()
        };
        let paths = glob::glob(&full).map_err(|e| Error::Glob {
            input,
            pattern: pattern.clone(),
            message: e.msg.to_owned(),
        })?;
        let mut matched = false;
        for path in paths.flatten() {
            if !path.is_file() {
                continue;
            }
            matched = true;
            let shown = path
                .strip_prefix(base)
                .map(Path::to_path_buf)
                .unwrap_or(path);
            if !out.contains(&shown) {
                out.push(shown);
            }
        }
        if !matched {
            return Err(Error::NoFiles {
                input,
                pattern: pattern.clone(),
            });
        }
    }
    Ok(out)
}

/// The first of `patterns` (as [`files`] reads them under `base`) that matches `path`, whether
/// or not `path` exists yet: a pins file inside the `--files` globs would be written on one run
/// and read as a deploy file on the next.
pub fn pattern_matching<'a>(patterns: &'a [String], base: &Path, path: &Path) -> Option<&'a str> {
    // `./pins.env`, `deploy/./*.env` and `other/../deploy/*.env` name what `pins.env` and
    // `deploy/*.env` do (lexically: a link is not followed).
    let normal = |p: &Path| {
        let mut normal = PathBuf::new();
        for component in base.join(p).components() {
            match component {
                std::path::Component::ParentDir => {
                    normal.pop();
                }
                std::path::Component::CurDir => {}
                other => normal.push(other),
            }
        }
        normal
    };
    let path = normal(path);
    // As `glob::glob` walks folders: `*` stays within one, `**` crosses them.
    let options = glob::MatchOptions {
        require_literal_separator: true,
        ..glob::MatchOptions::new()
    };
    patterns.iter().map(String::as_str).find(|pattern| {
        glob::Pattern::new(&normal(Path::new(pattern)).to_string_lossy())
            .is_ok_and(|p| p.matches_path_with(&path, options))
    })
}

/// A file's text and the images in it.
#[derive(Debug)]
struct Scanned {
    path: PathBuf,
    text: String,
    found: Vec<(Found, Result<Reference, Error>)>,
}

/// Every file read and scanned, and the problems of those that could not be: one file's
/// problem does not hide another's.
fn scan_all(files: &[PathBuf], options: &Options) -> (Vec<Scanned>, Vec<Error>) {
    let mut scanned = Vec::new();
    let mut problems = Vec::new();
    for file in files {
        match scan::scan_file(&options.base.join(file), &options.env) {
            Ok((text, found)) => {
                let found = found
                    .into_iter()
                    .map(|mut f| {
                        f.file.clone_from(file);
                        let reference = parse(&f);
                        (f, reference)
                    })
                    .collect();
                scanned.push(Scanned {
                    path: file.clone(),
                    text,
                    found,
                });
            }
            Err(mut e) => {
                relocate(&mut e, file);
                problems.push(e);
            }
        }
    }
    (scanned, problems)
}

/// Errors name the file as given, not as joined to the base.
fn relocate(error: &mut Error, file: &Path) {
    match error {
        Error::NotText { path, .. }
        | Error::NotYaml { path, .. }
        | Error::Read { path, .. }
        | Error::HelmNumber { path, .. }
        | Error::NumberTag { path, .. } => {
            file.clone_into(path);
        }
        _ => {}
    }
}

fn parse(found: &Found) -> Result<Reference, Error> {
    let expanded = found
        .expanded
        .as_ref()
        .map_err(|reason| Error::Unresolvable {
            path: found.file.clone(),
            line: found.line,
            value: found.written.clone(),
            reason: reason.to_string(),
        })?;
    expanded
        .parse::<Reference>()
        .map_err(|error| Error::Reference {
            path: found.file.clone(),
            line: found.line,
            value: expanded.clone(),
            error: Box::new(error),
        })
}

/// What happens to an image's text in its file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Rewrite {
    /// Not asked for.
    None,
    /// Written as `pinned`.
    Pinned,
    /// The file already names this digest.
    AlreadyPinned,
    /// Left as written, because of `why` (the pins file still has it).
    Left { why: String },
}

/// One image and its digest.
#[derive(Debug, Clone)]
pub struct Pin {
    pub found: Found,
    pub reference: Reference,
    pub digest: Digest,
    /// The reference as the file spells it, with the digest: `nginx:1.25@sha256:…`.
    pub pinned: String,
    pub rewrite: Rewrite,
}

/// A file's new text.
#[derive(Debug, Clone)]
pub struct Change {
    pub path: PathBuf,
    pub before: String,
    pub after: String,
}

/// What `resolve` would write.
#[derive(Debug, Clone)]
pub struct Resolution {
    pub pins: Vec<Pin>,
    /// Images left alone, and why (a compose service's own build).
    pub skipped: Vec<(Found, String)>,
    /// The rewritten files (only those that change).
    pub changes: Vec<Change>,
    /// The pins file's text.
    pub pins_file: String,
    /// Requests sent, by registry.
    pub requests: BTreeMap<String, u64>,
}

/// Why a Helm `image:` pair cannot be pinned: without a tag (or with an empty one) the chart's
/// appVersion names it, which the values do not say.
fn tagless_pair(found: &Found) -> Option<&'static str> {
    match &found.site {
        Site::Pair {
            tag: None,
            pinned: false,
            ..
        } => Some(
            "the image has no `tag` (the chart's appVersion decides it); set `tag` or `digest`",
        ),
        _ => None,
    }
}

/// The reference as written, without a digest, then `@digest`.
fn with_digest(spelled: &str, digest: &Digest) -> String {
    let name = spelled.split_once('@').map_or(spelled, |(n, _)| n);
    format!("{name}@{digest}")
}

/// Resolves every image of `files` and computes the pins file and, with `write`, the files'
/// new text. Writes nothing: see [`apply`].
pub async fn resolve(
    files: &[PathBuf],
    options: &Options,
    write: bool,
) -> Result<Resolution, Problems> {
    // Every problem in the files is reported in one run, and stops it before any request.
    let (scanned, mut problems) = scan_all(files, options);
    let mut wanted: Vec<Reference> = Vec::new();
    let mut index: HashMap<String, usize> = HashMap::new();
    for file in &scanned {
        for (found, reference) in &file.found {
            if found.built {
                continue;
            }
            if let Some(why) = tagless_pair(found) {
                problems.push(Error::CannotRewrite {
                    path: found.file.clone(),
                    line: found.line,
                    value: found.written.clone(),
                    why: why.to_owned(),
                });
                continue;
            }
            match reference {
                Ok(r) if r.digest().is_none() => {
                    if let std::collections::hash_map::Entry::Vacant(slot) =
                        index.entry(r.to_string())
                    {
                        slot.insert(wanted.len());
                        wanted.push(r.clone());
                    }
                }
                Ok(_) => {}
                // `Error` holds I/O errors and is not `Clone`: parsing again gives an owned one.
                Err(_) => problems.extend(parse(found).err()),
            }
        }
    }
    if !problems.is_empty() {
        return Err(Problems(problems));
    }
    let client = Client::new(options.registry.clone())
        .map_err(|e| Problems(vec![Error::Client(Box::new(e))]))?;
    let digests = client.resolve_all(&wanted).await;
    let requests = client
        .stats()
        .into_iter()
        .map(|(registry, s)| (registry, s.requests))
        .collect();
    let mut digests: Vec<Option<Result<Digest, relkit_registry::Error>>> =
        digests.into_iter().map(Some).collect();
    let mut resolved: HashMap<usize, Digest> = HashMap::new();
    let mut pins = Vec::new();
    let mut skipped = Vec::new();
    for file in &scanned {
        for (found, reference) in &file.found {
            let Ok(reference) = reference else { continue };
            if found.built {
                skipped.push((
                    found.clone(),
                    "built by compose (`build:`), not pulled".to_owned(),
                ));
                continue;
            }
            let digest = match reference.digest() {
                Some(d) => d.clone(),
                None => {
                    let i = index[&reference.to_string()];
                    if let Some(d) = resolved.get(&i) {
                        d.clone()
                    } else {
                        match digests[i].take() {
                            Some(Ok(d)) => {
                                resolved.insert(i, d.clone());
                                d
                            }
                            Some(Err(error)) => {
                                problems.push(Error::Registry {
                                    path: found.file.clone(),
                                    line: found.line,
                                    reference: found.written.clone(),
                                    error: Box::new(error),
                                });
                                continue;
                            }
                            // Reported at its first use.
                            None => continue,
                        }
                    }
                }
            };
            let spelled = found.expanded.as_deref().unwrap_or(&found.written);
            pins.push(Pin {
                found: found.clone(),
                reference: reference.clone(),
                pinned: with_digest(spelled, &digest),
                digest,
                rewrite: Rewrite::None,
            });
        }
    }
    if !problems.is_empty() {
        return Err(Problems(problems));
    }
    let mut changes = Vec::new();
    if write {
        for file in &scanned {
            let mut pins_here: Vec<&mut Pin> = pins
                .iter_mut()
                .filter(|p| p.found.file == file.path)
                .collect();
            match rewrite(&file.text, &mut pins_here) {
                Ok(Some(after)) => match reparses(&file.path, &after, &options.env) {
                    Ok(()) => changes.push(Change {
                        path: file.path.clone(),
                        before: file.text.clone(),
                        after,
                    }),
                    Err(e) => problems.push(e),
                },
                Ok(None) => {}
                Err(mut e) => problems.append(&mut e),
            }
        }
    }
    if !problems.is_empty() {
        return Err(Problems(problems));
    }
    let pins_file = pins::render(&pins);
    Ok(Resolution {
        pins,
        skipped,
        changes,
        pins_file,
        requests,
    })
}

/// A safety net under [`rewrite`]: the new text of `path` must still read as YAML (or as a
/// `.env` file), else the run stops before anything is written.
fn reparses(path: &Path, after: &str, env: &HashMap<String, String>) -> Result<(), Error> {
    match scan::scan(path, after, env) {
        Ok(_) => Ok(()),
        Err(e) => Err(Error::RewriteBroke {
            path: path.to_path_buf(),
            line: e.location().map_or(1, |(_, line)| line),
            message: match e {
                Error::NotYaml { message, .. } => message,
                other => other.to_string(),
            },
        }),
    }
}

/// `text` with each of `pins` (images found in it) written with its digest, changing nothing but
/// those values; `None` when nothing changes. Sets each pin's [`Pin::rewrite`].
pub fn rewrite(text: &str, pins: &mut [&mut Pin]) -> Result<Option<String>, Vec<Error>> {
    let mut edits: Vec<(std::ops::Range<usize>, String)> = Vec::new();
    let mut problems = Vec::new();
    for pin in pins.iter_mut() {
        match edit(text, pin) {
            Ok(Some(e)) => {
                pin.rewrite = Rewrite::Pinned;
                edits.push(e);
            }
            Ok(None) => {}
            Err(e) => problems.push(e),
        }
    }
    if !problems.is_empty() {
        return Err(problems);
    }
    if edits.is_empty() {
        return Ok(None);
    }
    edits.sort_by_key(|(span, _)| std::cmp::Reverse(span.start));
    let mut after = text.to_owned();
    for (span, new) in edits {
        after.replace_range(span, &new);
    }
    Ok(Some(after))
}

/// The text to put where, so that `pin`'s file names its digest; `None` when it does already or
/// cannot (then [`Pin::rewrite`] says why).
fn edit(text: &str, pin: &mut Pin) -> Result<Option<(std::ops::Range<usize>, String)>, Error> {
    let found = &pin.found;
    let cannot = |why: &str| Error::CannotRewrite {
        path: found.file.clone(),
        line: found.line,
        value: found.written.clone(),
        why: why.to_owned(),
    };
    if found.has_variables() {
        pin.rewrite = Rewrite::Left {
            why: "it has variables; the pins file holds the expanded reference".to_owned(),
        };
        return Ok(None);
    }
    if pin.reference.digest().is_some() {
        pin.rewrite = Rewrite::AlreadyPinned;
        return Ok(None);
    }
    let digest = &pin.digest;
    match &found.site {
        Site::Value(scalar) => {
            let new = with_digest(&found.written, digest);
            Ok(Some((
                scalar.span.clone(),
                quoted(text, scalar, &new).map_err(|w| cannot(&w))?,
            )))
        }
        Site::Pair { tag: None, .. } => Err(cannot(tagless_pair(found).unwrap_or_default())),
        Site::Pair {
            digest: Some(slot), ..
        } => Ok(Some((
            slot.span.clone(),
            quoted(text, slot, digest.as_str()).map_err(|w| cannot(&w))?,
        ))),
        Site::Pair {
            tag: Some(tag),
            kustomize: true,
            ..
        } => digest_line(text, tag, digest).map(Some).ok_or_else(|| {
            cannot("the entry is in flow style; write it as a block, or add `digest:` to it")
        }),
        Site::Pair { tag: Some(tag), .. } => {
            let current = unquote(&text[tag.span.clone()]);
            let new = format!("{current}@{digest}");
            Ok(Some((
                tag.span.clone(),
                quoted(text, tag, &new).map_err(|w| cannot(&w))?,
            )))
        }
    }
}

/// A `digest:` line for a block-style kustomize entry, inserted after the line of its `newTag`
/// with the same indentation and line ending: nothing else moves.
fn digest_line(
    text: &str,
    tag: &Scalar,
    digest: &Digest,
) -> Option<(std::ops::Range<usize>, String)> {
    let line_start = text[..tag.span.start].rfind('\n').map_or(0, |i| i + 1);
    let line_end = text[tag.span.end..]
        .find('\n')
        .map_or(text.len(), |i| tag.span.end + i);
    let before = &text[line_start..tag.span.start];
    let key = before.trim_start();
    // `newTag: 1.2`, possibly after the entry's `-` and any number of spaces: a block entry.
    let key = match key.strip_prefix('-') {
        Some(rest) if rest.starts_with([' ', '\t']) => rest.trim_start(),
        _ => key,
    };
    if !key.starts_with("newTag") || key.contains(['{', ',']) {
        return None;
    }
    // The entry's keys line up with `newTag` itself, wherever the `-` left it.
    let indent = before.len() - key.len();
    let (at, eol) = match text[line_start..line_end].strip_suffix('\r') {
        Some(_) => (line_end - 1, "\r\n"),
        None => (line_end, "\n"),
    };
    Some((
        at..at,
        format!("{eol}{}digest: {digest}", " ".repeat(indent)),
    ))
}

fn unquote(raw: &str) -> &str {
    raw.trim_matches(|c| c == '"' || c == '\'')
}

/// `new` written the way `scalar` was.
fn quoted(text: &str, scalar: &Scalar, new: &str) -> Result<String, String> {
    match scalar.style {
        Style::Plain => Ok(new.to_owned()),
        Style::Single => Ok(format!("'{new}'")),
        Style::Double => Ok(format!("\"{new}\"")),
        Style::Other => Err(format!(
            "the value is written as `{}`; write it on one line, plain or quoted without escapes",
            text[scalar.span.clone()].lines().next().unwrap_or_default()
        )),
    }
}

/// Writes the new files and the pins file (when `pins_path` is given). Each file is written
/// beside its target and renamed over it, keeping its permissions; all are written, and every
/// target checked to be no directory, before the first rename. The pins file is renamed first:
/// a pins file that cannot be written leaves the deploy files as they were.
pub fn apply(
    resolution: &Resolution,
    base: &Path,
    pins_path: Option<&Path>,
) -> Result<Vec<PathBuf>, Error> {
    let mut writes: Vec<(PathBuf, &str)> = Vec::new();
    if let Some(path) = pins_path {
        let target = base.join(path);
        let target = std::fs::canonicalize(&target).unwrap_or(target);
        let same = std::fs::read_to_string(&target).is_ok_and(|t| t == resolution.pins_file);
        if !same {
            writes.push((target, resolution.pins_file.as_str()));
        }
    }
    // A deploy file that is a link is updated where it points, and the link stays.
    writes.extend(resolution.changes.iter().map(|c| {
        let path = base.join(&c.path);
        (
            std::fs::canonicalize(&path).unwrap_or(path),
            c.after.as_str(),
        )
    }));
    if let Some((path, _)) = writes.iter().find(|(path, _)| path.is_dir()) {
        return Err(Error::Write {
            path: path.clone(),
            source: std::io::Error::other("it is a directory"),
        });
    }
    let mut staged = Vec::new();
    for (path, text) in &writes {
        let dir = path
            .parent()
            .filter(|d| !d.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        std::fs::create_dir_all(dir).map_err(|source| Error::Write {
            path: path.clone(),
            source,
        })?;
        let mut temp = tempfile::NamedTempFile::new_in(dir).map_err(|source| Error::Write {
            path: path.clone(),
            source,
        })?;
        use std::io::Write as _;
        temp.write_all(text.as_bytes())
            .and_then(|()| temp.as_file().sync_all())
            .map_err(|source| Error::Write {
                path: path.clone(),
                source,
            })?;
        if let Ok(meta) = std::fs::metadata(path) {
            let _ = std::fs::set_permissions(temp.path(), meta.permissions());
        } else {
            // A new pins file gets the usual mode, not the temporary file's 0600.
            #[cfg(unix)]
            {
                use std::os::unix::fs::PermissionsExt as _;
                let _ =
                    std::fs::set_permissions(temp.path(), std::fs::Permissions::from_mode(0o644));
            }
        }
        staged.push((temp, path.clone()));
    }
    let mut written = Vec::new();
    for (temp, path) in staged {
        temp.persist(&path).map_err(|e| Error::Write {
            path: path.clone(),
            source: e.error,
        })?;
        written.push(path);
    }
    Ok(written)
}

/// How bad a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    Error,
    Warning,
}

/// One thing `check` found.
#[derive(Debug, Clone)]
pub struct Finding {
    pub file: PathBuf,
    pub line: usize,
    pub column: usize,
    /// The image as the file writes it.
    pub image: String,
    pub level: Level,
    /// A short rule name: `latest`, `pre-release`, `platform-manifest`…
    pub rule: &'static str,
    pub message: String,
}

/// What `check` saw.
#[derive(Debug, Clone)]
pub struct Report {
    pub files: Vec<PathBuf>,
    pub images: usize,
    pub findings: Vec<Finding>,
}

impl Report {
    pub fn errors(&self) -> usize {
        self.findings
            .iter()
            .filter(|f| f.level == Level::Error)
            .count()
    }
}

/// Checks the images of `files` (production deploy files) against the release rules. With
/// `inspect`, each `repo:tag@digest` is looked up: a digest that is one platform's manifest
/// inside the tag's multi-platform index is a warning (nodes of other architectures cannot run
/// it), and so is a tag that now names another digest.
pub async fn check(
    files: &[PathBuf],
    options: &Options,
    policy: Policy,
    inspect: bool,
) -> Result<Report, Problems> {
    let (scanned, problems) = scan_all(files, options);
    if !problems.is_empty() {
        return Err(Problems(problems));
    }
    let mut findings = Vec::new();
    let mut images = 0;
    let mut to_inspect = Vec::new();
    for file in &scanned {
        for (found, reference) in &file.found {
            images += 1;
            let finding = |level, rule, message: String| Finding {
                file: found.file.clone(),
                line: found.line,
                column: found.column,
                image: found.written.clone(),
                level,
                rule,
                message,
            };
            match reference {
                Err(e @ Error::Unresolvable { .. }) => {
                    findings.push(finding(Level::Error, "unresolvable", e.to_string()));
                }
                Err(e) => findings.push(finding(Level::Error, "invalid", e.to_string())),
                Ok(reference) => {
                    for rule in rules::check(reference, policy) {
                        findings.push(finding(
                            Level::Error,
                            rule.id(),
                            format!("{}: {}", found.written, rule.explain()),
                        ));
                    }
                    if inspect && reference.digest().is_some() {
                        to_inspect.push((found.clone(), reference.clone()));
                    }
                }
            }
        }
    }
    if !to_inspect.is_empty() {
        let client = Client::new(options.registry.clone())
            .map_err(|e| Problems(vec![Error::Client(Box::new(e))]))?;
        // As many lookups at once as resolve makes, each answer in the files' order.
        let inspected: Vec<Option<Finding>> = futures_util::stream::iter(&to_inspect)
            .map(|(found, reference)| inspect_pinned(&client, found, reference))
            .buffered(options.registry.concurrency.max(1))
            .collect()
            .await;
        findings.extend(inspected.into_iter().flatten());
    }
    Ok(Report {
        files: scanned.into_iter().map(|s| s.path).collect(),
        images,
        findings,
    })
}

/// What the registry says of a pinned image: nothing when its tag still names the digest (or,
/// without a tag, the digest is there); an error when the digest is not in the repository, which
/// no node could pull; a warning when the tag moved, or the digest is one platform's manifest.
async fn inspect_pinned(client: &Client, found: &Found, reference: &Reference) -> Option<Finding> {
    let pinned = reference.digest()?;
    let finding = |level, rule, message: String| Finding {
        file: found.file.clone(),
        line: found.line,
        column: found.column,
        image: found.written.clone(),
        level,
        rule,
        message,
    };
    // A check that could not ask is no pass: it fails, unless the run said --offline.
    let not_inspected = |e: relkit_registry::Error| {
        finding(
            Level::Error,
            "not-inspected",
            format!(
                "{}: could not look it up: {e}; pass --offline to check the rules alone",
                found.written
            ),
        )
    };
    // What the tag names now: `Some(None)` when it was deleted since.
    let now = match reference.tag() {
        Some(tag) => {
            let by_tag = reference.with_tag(tag).ok()?;
            match client.head(&by_tag).await {
                Ok(head) if head.digest == *pinned => return None,
                Ok(head) => Some((tag, Some((by_tag, head)))),
                // Whether the digest is still there says more than the missing tag.
                Err(relkit_registry::Error::NotFound { .. }) => Some((tag, None)),
                Err(e) => return Some(not_inspected(e)),
            }
        }
        None => None,
    };
    match client.head(&reference.at_digest(pinned.clone())).await {
        Ok(_) => {}
        Err(relkit_registry::Error::NotFound { .. }) => {
            return Some(finding(
                Level::Error,
                "digest-missing",
                format!(
                    "{}: the registry has no manifest {pinned} in {}: nothing can pull it; pin a digest the registry holds",
                    found.written,
                    reference.name()
                ),
            ));
        }
        Err(e) => return Some(not_inspected(e)),
    }
    let (tag, named) = now?;
    let Some((by_tag, head)) = named else {
        return Some(finding(
            Level::Warning,
            "tag-moved",
            format!(
                "{}: :{tag} is no longer in the registry (the pinned digest is)",
                found.written
            ),
        ));
    };
    if head.is_index()
        && let Ok(index) = client
            .manifest(&by_tag.at_digest(head.digest.clone()))
            .await
        && index.platform_manifests().contains(pinned)
    {
        return Some(finding(
            Level::Warning,
            "platform-manifest",
            format!(
                "{}: the digest is one platform's manifest inside the multi-platform index {} of :{tag}; nodes of other architectures cannot run it: pin the index",
                found.written, head.digest
            ),
        ));
    }
    Some(finding(
        Level::Warning,
        "tag-moved",
        format!(
            "{}: :{tag} now names {}, not the pinned digest",
            found.written, head.digest
        ),
    ))
}

/// One line of a pins file, checked against its registry.
#[derive(Debug)]
pub struct Verified {
    pub name: String,
    pub line: usize,
    pub reference: Reference,
    pub pinned: Digest,
    /// What the tag names now.
    pub now: Result<Digest, relkit_registry::Error>,
}

impl Verified {
    pub fn drifted(&self) -> bool {
        !matches!(&self.now, Ok(d) if *d == self.pinned)
    }
}

/// Resolves each tag of the pins file at `path` and compares it with its pinned digest.
pub async fn verify(path: &Path, options: &Options) -> Result<Vec<Verified>, Problems> {
    let full = options.base.join(path);
    let text = std::fs::read_to_string(&full).map_err(|source| Error::PinsFileRead {
        path: path.to_path_buf(),
        source,
    })?;
    let entries = pins::parse(path, &text).map_err(Problems)?;
    let client = Client::new(options.registry.clone())
        .map_err(|e| Problems(vec![Error::Client(Box::new(e))]))?;
    let tags: Vec<Reference> = entries.iter().map(|e| e.tagged.clone()).collect();
    let now = client.resolve_all(&tags).await;
    Ok(entries
        .into_iter()
        .zip(now)
        .map(|(e, now)| Verified {
            name: e.name,
            line: e.line,
            pinned: e.digest,
            reference: e.reference,
            now,
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tag_scalar(text: &str, value: &str) -> Scalar {
        let start = text.find(value).expect("the tag is in the text");
        Scalar {
            span: start..start + value.len(),
            style: Style::Plain,
            line: 1,
            column: 1,
        }
    }

    #[tokio::test]
    async fn a_pins_file_that_cannot_be_read_is_bad_input_naming_the_flag() {
        let dir = tempfile::tempdir().expect("dir");
        std::fs::create_dir(dir.path().join("folder.env")).expect("mkdir");
        let options = Options {
            base: dir.path().to_path_buf(),
            env: HashMap::new(),
            registry: relkit_registry::Options::default(),
        };
        for name in ["nope.env", "folder.env"] {
            let problems = verify(Path::new(name), &options)
                .await
                .expect_err("nothing to read");
            let [err] = problems.0.as_slice() else {
                panic!("one problem: {problems}")
            };
            assert!(err.is_bad_input(), "{err}");
            assert!(
                err.to_string().contains(&format!("--pins-file {name}")),
                "{err}"
            );
        }
    }

    #[test]
    fn a_path_is_matched_against_the_patterns_before_it_exists() {
        let base = Path::new("/work/project");
        let patterns = ["deploy/*.yml".to_owned(), "*.env".to_owned()];
        for (path, want) in [
            ("pins.env", Some("*.env")),
            ("./pins.env", Some("*.env")),
            ("/work/project/pins.env", Some("*.env")),
            ("deploy/pins.yml", Some("deploy/*.yml")),
            ("other/../deploy/pins.yml", Some("deploy/*.yml")),
            ("../project/deploy/pins.yml", Some("deploy/*.yml")),
            ("pins/v1.2.3.env", None),
            ("deploy/prod/pins.yml", None),
        ] {
            assert_eq!(
                pattern_matching(&patterns, base, Path::new(path)),
                want,
                "{path}"
            );
        }
        let deep = ["./deploy/**/*.env".to_owned()];
        assert_eq!(
            pattern_matching(&deep, base, Path::new("deploy/prod/pins.env")),
            Some("./deploy/**/*.env")
        );
    }

    #[test]
    fn a_pins_file_that_is_a_directory_stops_before_any_file_changes() {
        let dir = tempfile::tempdir().expect("dir");
        std::fs::write(dir.path().join("compose.yml"), "old").expect("write");
        std::fs::create_dir(dir.path().join("pins.env")).expect("mkdir");
        let resolution = Resolution {
            pins: Vec::new(),
            skipped: Vec::new(),
            changes: vec![Change {
                path: PathBuf::from("compose.yml"),
                before: "old".to_owned(),
                after: "new".to_owned(),
            }],
            pins_file: "A_IMAGE=a:1@sha256:00\n".to_owned(),
            requests: BTreeMap::new(),
        };
        let err =
            apply(&resolution, dir.path(), Some(Path::new("pins.env"))).expect_err("a directory");
        assert!(format!("{err}: {:?}", err).contains("directory"), "{err:?}");
        assert_eq!(
            std::fs::read_to_string(dir.path().join("compose.yml")).expect("read"),
            "old"
        );
        let left: Vec<_> = std::fs::read_dir(dir.path())
            .expect("ls")
            .flatten()
            .collect();
        assert_eq!(left.len(), 2, "no temporary file left behind: {left:?}");
    }

    #[test]
    fn a_rewrite_that_no_longer_parses_is_refused() {
        let broken = "images:\n  -   newTag: 1.2.3\n    digest: sha256:00\n      name: a\n";
        let err = reparses(Path::new("kustomization.yaml"), broken, &HashMap::new())
            .expect_err("a digest line at the wrong column");
        assert!(matches!(err, Error::RewriteBroke { .. }), "{err}");
        assert_eq!(err.location().map(|(_, line)| line), Some(3), "{err}");
        assert!(err.to_string().contains("nothing was written"), "{err}");
        assert!(err.is_bad_input());
    }

    #[test]
    fn a_digest_line_goes_under_a_block_entrys_tag_only() {
        let digest = Digest::sha256(b"x");
        let block = "images:\n- name: a\n  newTag: 1.2 # ok\n";
        let (at, line) = digest_line(block, &tag_scalar(block, "1.2"), &digest).expect("block");
        let mut after = block.to_owned();
        after.replace_range(at, &line);
        assert_eq!(
            after,
            format!("images:\n- name: a\n  newTag: 1.2 # ok\n  digest: {digest}\n")
        );
        let wide = "images:\n  -   newTag: 1.2.3\n      name: a\n";
        let (at, line) = digest_line(wide, &tag_scalar(wide, "1.2.3"), &digest).expect("wide");
        let mut after = wide.to_owned();
        after.replace_range(at, &line);
        assert_eq!(
            after,
            format!("images:\n  -   newTag: 1.2.3\n      digest: {digest}\n      name: a\n"),
            "the digest lines up with newTag however many spaces follow the dash"
        );
        assert!(reparses(Path::new("kustomization.yaml"), &after, &HashMap::new()).is_ok());
        let first = "images:\n- newTag: 1.2\n  name: a\n";
        let (at, line) = digest_line(first, &tag_scalar(first, "1.2"), &digest).expect("first key");
        let mut after = first.to_owned();
        after.replace_range(at, &line);
        assert_eq!(
            after,
            format!("images:\n- newTag: 1.2\n  digest: {digest}\n  name: a\n")
        );
        let flow = "images: [{name: a, newTag: 1.2}]\n";
        assert_eq!(digest_line(flow, &tag_scalar(flow, "1.2"), &digest), None);
    }
}
