//! Release notes from conventional commits, and the semver bump they call for.
//!
//! Rendering is git-cliff-core's (<https://git-cliff.org>), with the repository's own git-cliff
//! configuration when it has one, so a team keeps its template and gets the text the `git-cliff`
//! CLI would give it. Building the list of releases is relkit's: one `git log` walk of the range
//! and one pass over the commit graph (see [`releases`]), where the CLI walks the history once per
//! tag.
//!
//! Releases come from one tag stream ([`relkit_version::Stream`], e.g. `v` or `edge/v`): only full
//! releases of the stream split the notes. Pre-release (`-pre.N+sha`) and release-candidate tags
//! never do, exactly as if they were listed in git-cliff's `ignore_tags`; tags of other streams are
//! not releases at all. The configuration's own `tag_pattern`, `skip_tags`, `ignore_tags` and
//! `count_tags` apply on top.
//!
//! Three ranges ([`Range`]):
//! - **unreleased** — since the newest full release of the stream reachable from `to`: the notes
//!   of the next release, headed by the version decision ("minor: 3 features, no breaking
//!   change"), which the release playbooks want recorded in the notes;
//! - **between** two revisions — what `git cliff FROM..TO` renders;
//! - **all** of the history — what `git cliff` renders.

mod commands;
mod config;
mod file;
pub mod releases;

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};

use git_cliff_core::changelog::Changelog as Renderer;
use git_cliff_core::commit::{Commit, CommitStatistics};
use git_cliff_core::config::{CommitParser, Config};
use git_cliff_core::release::Release;
use relkit_version::{BumpDecision, BumpError, BumpPolicy, CommitCounts, Step, Stream, Version};

pub use commands::CommandFailure;
pub use config::{ConfigOrigin, ConfigSource, RepoLinks};
use relkit_git::{RawCommit, Repository, TagRef};

/// Why notes could not be made. Every variant names the input and value at fault.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{} is not inside a git repository", path.display())]
    NotARepository { path: PathBuf },
    #[error("the repository at {} has no commits yet", path.display())]
    NoCommits { path: PathBuf },
    #[error("the repository at {} is a shallow clone: its history stops before the releases the notes need", path.display())]
    ShallowClone { path: PathBuf },
    #[error("{input} \"{value}\" is not a commit, branch or tag of this repository")]
    UnknownRevision { input: &'static str, value: String },
    #[error("tag prefix \"{prefix}\" matches no release tags; the repository has version tags with {}", found.iter().map(|p| format!("\"{p}\"")).collect::<Vec<_>>().join(", "))]
    NoTagsInStream { prefix: String, found: Vec<String> },
    #[error("git-cliff configuration {} does not exist", path.display())]
    ConfigNotFound { path: PathBuf },
    #[error("git-cliff configuration {} is not a regular file (a directory, a device?)", path.display())]
    ConfigNotAFile { path: PathBuf },
    #[error("invalid git-cliff configuration in {}: {message}", path.display())]
    InvalidConfig { path: PathBuf, message: String },
    #[error("{input} \"{value}\" is not a valid path pattern: {message}")]
    InvalidPattern {
        input: &'static str,
        value: String,
        message: String,
    },
    #[error("the commits in range break a rule of {origin}: {message}")]
    CommitRule {
        origin: ConfigOrigin,
        message: String,
    },
    #[error("{0}")]
    CommandFailed(Box<CommandFailure>),
    #[error("rendering the notes with {origin} failed: {message}")]
    Render {
        origin: ConfigOrigin,
        message: String,
    },
    #[error(transparent)]
    Git(relkit_git::Error),
    #[error(transparent)]
    Bump(#[from] BumpError),
    #[error("could not read or write {}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

impl Error {
    /// What the user can do about it, shown once as `help:` or in the annotation.
    pub fn hint(&self) -> Option<&'static str> {
        Some(match self {
            Self::NotARepository { .. } => "run relkit inside a checkout, or point --repo at one",
            Self::ShallowClone { .. } => {
                "check out the full history: actions/checkout with `fetch-depth: 0`, or `git fetch --unshallow`"
            }
            Self::UnknownRevision { .. } => {
                "check the spelling, and fetch tags (actions/checkout with `fetch-depth: 0` fetches them)"
            }
            Self::NoTagsInStream { .. } => {
                "use one of the prefixes found, or pass --first-release if this stream has never been released"
            }
            Self::InvalidConfig { .. } => {
                "fix the file: see https://git-cliff.org/docs/configuration"
            }
            Self::Render { .. } => "check the templates of the configuration",
            Self::CommandFailed(_) => {
                "install what the command runs, or fix or remove the entry: relkit stops rather than leave commits out of the notes and the version decision"
            }
            _ => return None,
        })
    }

    /// Whether the error is the user's input (exit code 2) rather than a failure (exit code 1).
    pub fn is_bad_input(&self) -> bool {
        !matches!(self, Self::Git(_) | Self::Io { .. })
    }
}

impl From<relkit_git::Error> for Error {
    fn from(err: relkit_git::Error) -> Self {
        match err {
            relkit_git::Error::NotARepository { path } => Self::NotARepository { path },
            other => Self::Git(other),
        }
    }
}

/// Which commits the notes cover.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Range {
    /// Since the newest full release of the stream that `to` reaches.
    Unreleased { to: String },
    /// One release's section, as [`Range::Unreleased`] renders it, over the commits after the
    /// stream tag `after` (all that `to` reaches when `None`, for a first release). Tags in
    /// between, even the release's own tag, split nothing: a re-run after the tag was created
    /// makes the same notes.
    Release { after: Option<String>, to: String },
    /// `from..to`, as `git cliff FROM..TO`.
    Between { from: String, to: String },
    /// The whole history that `to` reaches, as `git cliff`.
    All { to: String },
}

impl Default for Range {
    fn default() -> Self {
        Self::Unreleased {
            to: "HEAD".to_owned(),
        }
    }
}

/// What to make notes for.
#[derive(Debug, Clone, Default)]
pub struct Request {
    /// A directory inside the repository.
    pub repo: PathBuf,
    /// The tag stream whose releases split the notes.
    pub stream: Stream,
    pub range: Range,
    /// Only commits that change files matching these globs (git-cliff's `include_paths`).
    pub include_paths: Vec<String>,
    /// Leave out commits that change only files matching these globs.
    pub exclude_paths: Vec<String>,
    pub config: ConfigSource,
    /// Links for the built-in template; user templates have their own. Without them, a clone of
    /// github.com gets links from its `origin` remote.
    pub links: Option<RepoLinks>,
    /// The stream has no release yet: don't treat its lack of tags as a mistyped prefix.
    pub first_release: bool,
    /// Use this version for the next release instead of the one the commits call for.
    pub next_version: Option<Version>,
    /// Who set `next_version`, for the reason line; default `--next-version`.
    pub next_version_source: Option<&'static str>,
}

/// A release the notes start after.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PreviousRelease {
    pub tag: String,
    pub version: Version,
    pub commit: String,
}

/// The notes and the version decision.
#[derive(Debug, Clone)]
pub struct Notes {
    /// The bump the commits call for, the next version and why (the version is `next_version`
    /// when one was given).
    pub decision: BumpDecision,
    /// The version the commits call for, whatever `next_version` says.
    pub called_for: Version,
    /// The tag the next version would get in the stream.
    pub next_tag: String,
    /// The newest full release before the unreleased commits, if there is one.
    pub previous: Option<PreviousRelease>,
    /// The commits the notes cover, after path filters.
    pub commits: usize,
    /// The notes as markdown: for an unreleased range the decision line and the release's
    /// section; otherwise exactly what the template renders.
    pub markdown: String,
    /// The configuration used.
    pub origin: ConfigOrigin,
    /// What `write` puts into a changelog file.
    section: Section,
}

#[derive(Debug, Clone)]
enum Section {
    /// A release section to prepend, and the header for a new file.
    Prepend {
        body: String,
        header: String,
        marker: String,
        /// The stream's full releases: a section naming one is never replaced.
        released: Vec<Version>,
    },
    /// The whole changelog.
    Whole(String),
}

/// What [`Notes::write`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WriteOutcome {
    Created,
    Updated,
    /// The file already held these notes.
    Unchanged,
}

/// Makes the notes `request` asks for. Reads the repository, writes nothing.
pub fn generate(request: &Request) -> Result<Notes, Error> {
    let repo = Repository::discover(&request.repo)?;
    if !repo.has_commits()? {
        return Err(Error::NoCommits {
            path: repo.root().to_path_buf(),
        });
    }
    if repo.is_shallow()? {
        return Err(Error::ShallowClone {
            path: repo.root().to_path_buf(),
        });
    }
    let links = match &request.links {
        Some(links) => Some(links.clone()),
        None => repo
            .origin_url()?
            .as_deref()
            .and_then(RepoLinks::from_remote),
    };
    let loaded = config::load(repo.root(), &request.config, links.as_ref())?;
    let origin = loaded.origin;
    let mut config = loaded.config;
    add_path_filters(&mut config, request)?;
    add_cliffignore(&mut config, repo.root())?;
    let commands = commands::Watch::install(&mut config, repo.root())?;

    let all_tags = repo.tags()?;
    let stream_tags = stream_tags(&all_tags, &request.stream);
    if stream_tags.is_empty() && !request.first_release {
        let found = other_prefixes(&all_tags);
        if !found.is_empty() {
            return Err(Error::NoTagsInStream {
                prefix: request.stream.prefix().to_owned(),
                found,
            });
        }
    }
    let release_tags = releases::order_tags(
        release_tags(&stream_tags, &request.stream, &config),
        config.git.topo_order,
    );

    let generator = Generator {
        repo: &repo,
        request,
        origin: &origin,
        release_tags: &release_tags,
        links,
        commands: commands.as_ref(),
    };
    match &request.range {
        Range::Unreleased { to } => {
            let to_id = generator.resolve("--to", to)?;
            // `--to v1.1.0` names a release: its notes, since the release before it.
            if request.next_version.is_none()
                && let Some(own) = release_tags.iter().find(|t| t.ref_name == *to)
                && let Some(version) = request.stream.parse_tag(&own.ref_name)
            {
                let mut before: HashSet<String> = repo.reachable(&to_id)?.into_iter().collect();
                before.remove(&own.commit);
                let previous = generator.newest_release_in(&before);
                let named = Request {
                    next_version: Some(version),
                    next_version_source: Some("the tag --to names"),
                    ..request.clone()
                };
                let generator = Generator {
                    request: &named,
                    ..generator
                };
                return generator.section(config, &to_id, previous);
            }
            let previous = generator.base(&to_id)?;
            generator.section(config, &to_id, previous)
        }
        Range::Release { after, to } => {
            let to_id = generator.resolve("--to", to)?;
            let previous = after
                .as_deref()
                .map(|tag| generator.stream_tag("--from", tag))
                .transpose()?;
            generator.section(config, &to_id, previous)
        }
        Range::Between { from, to } => {
            let from_id = generator.resolve("--from", from)?;
            generator.resolve("--to", to)?;
            generator.tagged(config, &format!("{from_id}..{to}"), to)
        }
        Range::All { to } => {
            generator.resolve("--to", to)?;
            generator.tagged(config, to, to)
        }
    }
}

impl Notes {
    /// Writes the notes into the changelog file at `path`: an unreleased range is prepended
    /// below the header (once: a file that already starts with this section is left alone), a
    /// whole changelog replaces the file.
    pub fn write(&self, path: &Path) -> Result<WriteOutcome, Error> {
        let io = |source| Error::Io {
            path: path.to_path_buf(),
            source,
        };
        let existing = match std::fs::read_to_string(path) {
            Ok(text) => Some(text),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
            Err(e) => return Err(io(e)),
        };
        let text = match (&self.section, &existing) {
            (Section::Whole(text), _) => text.clone(),
            (Section::Prepend { body, header, .. }, None) => format!("{header}{body}"),
            (
                Section::Prepend {
                    body,
                    header,
                    marker,
                    released,
                },
                Some(old),
            ) => {
                if body.trim().is_empty() || old.contains(file::in_file_endings(old, body).trim()) {
                    return Ok(WriteOutcome::Unchanged);
                }
                // An unreleased version above the last release: an earlier run's section.
                let last = self.previous.as_ref().map(|p| &p.version);
                let is_coming = |version: &Version| {
                    last.is_none_or(|last| version > last) && !released.contains(version)
                };
                file::prepend(old, body, header, marker, is_coming)
            }
        };
        if existing.as_deref() == Some(text.as_str()) {
            return Ok(WriteOutcome::Unchanged);
        }
        std::fs::write(path, text).map_err(io)?;
        Ok(if existing.is_some() {
            WriteOutcome::Updated
        } else {
            WriteOutcome::Created
        })
    }
}

struct Generator<'g> {
    repo: &'g Repository,
    request: &'g Request,
    origin: &'g ConfigOrigin,
    release_tags: &'g [TagRef],
    /// The request's links, or those of a github.com `origin` remote.
    links: Option<RepoLinks>,
    /// The configuration's shell commands, when it has any.
    commands: Option<&'g commands::Watch>,
}

impl Generator<'_> {
    fn resolve(&self, input: &'static str, rev: &str) -> Result<String, Error> {
        self.repo
            .resolve(rev)?
            .ok_or_else(|| Error::UnknownRevision {
                input,
                value: rev.to_owned(),
            })
    }

    /// The newest full release that `to` reaches, by version.
    fn base(&self, to_id: &str) -> Result<Option<PreviousRelease>, Error> {
        if self.release_tags.is_empty() {
            return Ok(None);
        }
        let reachable: HashSet<String> = self.repo.reachable(to_id)?.into_iter().collect();
        Ok(self.newest_release_in(&reachable))
    }

    /// The newest release of the stream whose commit is in `commits`.
    fn newest_release_in(&self, commits: &HashSet<String>) -> Option<PreviousRelease> {
        let reachable = commits;
        self.release_tags
            .iter()
            .filter(|t| reachable.contains(&t.commit))
            .filter_map(|t| {
                Some(PreviousRelease {
                    version: self.request.stream.parse_tag(&t.ref_name)?,
                    tag: t.name.clone(),
                    commit: t.commit.clone(),
                })
            })
            .max_by(|a, b| a.version.cmp(&b.version))
    }

    /// The tag `tag` of the stream as a release the notes start after.
    fn stream_tag(&self, input: &'static str, tag: &str) -> Result<PreviousRelease, Error> {
        let unknown = || Error::UnknownRevision {
            input,
            value: tag.to_owned(),
        };
        let version = self.request.stream.parse_tag(tag).ok_or_else(unknown)?;
        let commit = self.repo.tag_commit(tag)?.ok_or_else(unknown)?;
        Ok(PreviousRelease {
            tag: tag.to_owned(),
            version,
            commit,
        })
    }

    /// One section of notes for the commits after `previous` up to `to_id`, titled with the
    /// next version, with the version decision on top.
    fn section(
        &self,
        mut config: Config,
        to_id: &str,
        previous: Option<PreviousRelease>,
    ) -> Result<Notes, Error> {
        let to_id = to_id.to_owned();
        let range = match &previous {
            Some(p) => format!("{}..{to_id}", p.commit),
            None => to_id.clone(),
        };
        let walk = self.repo.commits(&range, config.git.topo_order_commits)?;
        let shown = self.shown(&walk, &config, &range)?;

        let header = config.changelog.header.take();
        let marker = config.changelog.header_marker.clone();
        config.changelog.footer = None;
        let newest_first = sorts_newest_first(&config);
        let statistics = self.statistics(&config, &range)?;
        let mut commits: Vec<Commit> = shown
            .iter()
            .rev()
            .map(|raw| {
                let mut commit = releases::commit(raw);
                if let Some(stats) = statistics.as_ref().and_then(|s| s.get(&raw.id)) {
                    commit.statistics = stats.clone();
                }
                commit
            })
            .collect();
        if newest_first {
            commits.reverse();
        }
        let release = Release {
            commits,
            commit_id: Some(to_id.clone()),
            repository: Some(self.repo.root().to_string_lossy().into_owned()),
            previous: previous.as_ref().map(|p| {
                Box::new(Release {
                    version: Some(p.tag.clone()),
                    commit_id: Some(p.commit.clone()),
                    ..Release::default()
                })
            }),
            ..Release::default()
        };
        let mut renderer = self.renderer(vec![release], config.clone())?;
        let current = previous
            .as_ref()
            .map_or_else(|| Version::new(0, 0, 0), |p| p.version.clone());
        let processed = renderer
            .releases
            .first()
            .map(|r| r.commits.as_slice())
            .unwrap_or_default();
        let (decision, called_for) = match &previous {
            // A pre-release's notes start at the pre-release before it, but the decision is
            // about the next full release: every commit since the last one counts.
            Some(p) if !p.version.pre.is_empty() => {
                let base = self.base(&to_id)?;
                let range = match &base {
                    Some(b) => format!("{}..{to_id}", b.commit),
                    None => to_id.clone(),
                };
                let walk = self.repo.commits(&range, config.git.topo_order_commits)?;
                let commits = self
                    .shown(&walk, &config, &range)?
                    .iter()
                    .rev()
                    .map(|raw| releases::commit(raw))
                    .collect();
                let since = Release {
                    commits,
                    ..Release::default()
                };
                let counted = self.renderer(vec![since], config.clone())?;
                let base_version = base.map_or_else(|| Version::new(0, 0, 0), |b| b.version);
                let processed = counted
                    .releases
                    .first()
                    .map(|r| r.commits.as_slice())
                    .unwrap_or_default();
                self.decide(&base_version, processed, &config)?
            }
            _ => self.decide(&current, processed, &config)?,
        };
        let next_tag = self.request.stream.tag_name(&decision.next);
        let timestamp = self.repo.commit_time(&to_id)?;
        if let Some(release) = renderer.releases.first_mut() {
            release.version = Some(next_tag.clone());
            release.timestamp = Some(timestamp);
        }
        let body = self.render(&renderer)?;

        let header = match header {
            Some(header) => {
                config.changelog.header = Some(header);
                config.changelog.body = String::new();
                self.render(&self.renderer(Vec::new(), config)?)?
            }
            None => String::new(),
        };
        let markdown = format!(
            "{}\n\n{body}",
            decision_line(&decision, previous.as_ref(), &next_tag)
        );
        Ok(Notes {
            next_tag,
            previous,
            commits: shown.len(),
            markdown,
            origin: self.origin.clone(),
            section: Section::Prepend {
                body,
                header,
                marker,
                released: self
                    .release_tags
                    .iter()
                    .filter_map(|t| self.request.stream.parse_tag(&t.ref_name))
                    .collect(),
            },
            decision,
            called_for,
        })
    }

    fn tagged(&self, config: Config, range: &str, to: &str) -> Result<Notes, Error> {
        let walk = self.repo.commits(range, config.git.topo_order_commits)?;
        let shown = self.shown(&walk, &config, range)?;
        let statistics = self.statistics(&config, range)?;
        let history = releases::History {
            walk: &walk,
            shown: &shown,
            statistics: statistics.as_ref(),
            tags: self.release_tags,
            repository: self.repo.root().to_string_lossy().into_owned(),
            newest_first: sorts_newest_first(&config),
        };
        let built = releases::build(&history);
        let renderer = self.renderer(built, config.clone())?;
        let markdown = self.render(&renderer)?;

        // The version decision covers what no release tag of the stream holds yet.
        let to_id = self.resolve("--to", to)?;
        // The whole history of `to` was just walked: no second walk to find what it reaches.
        let previous = if range == to {
            let walked: HashSet<String> = walk.iter().map(|c| c.id.clone()).collect();
            self.newest_release_in(&walked)
        } else {
            self.base(&to_id)?
        };
        let current = previous
            .as_ref()
            .map_or_else(|| Version::new(0, 0, 0), |p| p.version.clone());
        let unreleased = renderer
            .releases
            .iter()
            .find(|r| r.version.is_none())
            .map(|r| r.commits.as_slice())
            .unwrap_or_default();
        let (decision, called_for) = self.decide(&current, unreleased, &config)?;
        Ok(Notes {
            next_tag: self.request.stream.tag_name(&decision.next),
            previous,
            commits: shown.len(),
            section: Section::Whole(markdown.clone()),
            markdown,
            origin: self.origin.clone(),
            decision,
            called_for,
        })
    }

    /// The walked commits the notes show: less those outside the path filters, those
    /// `.git-blame-ignore-revs` lists, and beyond `limit_commits`.
    fn shown<'w>(
        &self,
        walk: &'w [RawCommit],
        config: &Config,
        range: &str,
    ) -> Result<Vec<&'w RawCommit>, Error> {
        let include = normalized(&config.git.include_paths);
        let exclude = normalized(&config.git.exclude_paths);
        let ignore_revs = std::fs::read_to_string(self.repo.root().join(".git-blame-ignore-revs"))
            .ok()
            .map(|text| {
                text.lines()
                    .map(str::trim)
                    .filter(|l| !l.is_empty() && !l.starts_with('#'))
                    .map(str::to_owned)
                    .collect::<Vec<_>>()
            })
            .filter(|ids| !ids.is_empty());
        let files = if include.is_empty() && exclude.is_empty() && ignore_revs.is_none() {
            None
        } else {
            Some(self.repo.changed_files(range)?)
        };
        let empty = Vec::new();
        let mut shown: Vec<&RawCommit> = walk
            .iter()
            .filter(|commit| {
                let Some(files) = &files else { return true };
                let changed = files.get(&commit.id).unwrap_or(&empty);
                let paths_ok = match (include.is_empty(), exclude.is_empty()) {
                    (true, true) => true,
                    (false, true) => changed.iter().any(|f| matches(&include, f)),
                    (false, false) => changed
                        .iter()
                        .any(|f| matches(&include, f) && !matches(&exclude, f)),
                    (true, false) => changed.iter().any(|f| !matches(&exclude, f)),
                };
                let ignored = ignore_revs.as_ref().is_some_and(|ids| {
                    ids.iter().any(|id| commit.id.starts_with(id.as_str()))
                        || (changed.len() == 1 && changed[0] == ".git-blame-ignore-revs")
                });
                paths_ok && !ignored
            })
            .collect();
        if let Some(limit) = config.git.limit_commits {
            shown.truncate(limit);
        }
        Ok(shown)
    }

    fn statistics(
        &self,
        config: &Config,
        range: &str,
    ) -> Result<Option<HashMap<String, CommitStatistics>>, Error> {
        let used = config
            .uses_commit_statistics()
            .map_err(|e| self.classify(e))?;
        if !used {
            return Ok(None);
        }
        let stats = self.repo.statistics(range)?;
        Ok(Some(
            stats
                .into_iter()
                .map(|(id, s)| {
                    let stats = CommitStatistics {
                        files_changed: s.files_changed,
                        additions: s.additions,
                        deletions: s.deletions,
                    };
                    (id, stats)
                })
                .collect(),
        ))
    }

    fn renderer<'a>(
        &self,
        releases: Vec<Release<'a>>,
        config: Config,
    ) -> Result<Renderer<'a>, Error> {
        let subjects = self.commands.map(|_| subjects(&releases));
        let renderer = Renderer::new(releases, config, None);
        self.check_commands(subjects.as_ref())?;
        let mut renderer = renderer.map_err(|e| self.classify(e))?;
        let commit_url = self.links.as_ref().map(RepoLinks::commit_url);
        renderer
            .add_context("relkit", serde_json::json!({ "commit_url": commit_url }))
            .map_err(|e| self.classify(e))?;
        Ok(renderer)
    }

    fn render(&self, renderer: &Renderer<'_>) -> Result<String, Error> {
        let mut out = Vec::new();
        let generated = renderer.generate(&mut out);
        self.check_commands(None)?;
        generated.map_err(|e| Error::Render {
            origin: self.origin.clone(),
            message: e.to_string(),
        })?;
        Ok(String::from_utf8_lossy(&out).into_owned())
    }

    /// A command of the configuration that failed, as an error: never a commit left out.
    fn check_commands(&self, subjects: Option<&HashMap<String, String>>) -> Result<(), Error> {
        let Some(commands) = self.commands else {
            return Ok(());
        };
        let subjects: HashMap<&str, &str> = subjects
            .into_iter()
            .flatten()
            .map(|(id, subject)| (id.as_str(), subject.as_str()))
            .collect();
        commands.check(self.origin, &subjects)
    }

    /// Sorts git-cliff-core's errors into a broken configuration and commits that break it.
    fn classify(&self, error: git_cliff_core::error::Error) -> Error {
        use git_cliff_core::error::Error as E;
        let message = error.to_string();
        match error {
            E::UnconventionalCommitsError(_) | E::UnmatchedCommitsError(_) | E::ParseError(_) => {
                Error::CommitRule {
                    origin: self.origin.clone(),
                    message,
                }
            }
            _ => match self.origin {
                ConfigOrigin::File(path) => Error::InvalidConfig {
                    path: path.clone(),
                    message,
                },
                ConfigOrigin::Builtin => Error::Render {
                    origin: self.origin.clone(),
                    message,
                },
            },
        }
    }

    fn decide(
        &self,
        current: &Version,
        commits: &[Commit<'_>],
        config: &Config,
    ) -> Result<(BumpDecision, Version), Error> {
        let counts = count(commits);
        let policy = BumpPolicy {
            breaking_always_major: config.bump.breaking_always_bump_major.unwrap_or(true),
            features_always_minor: config.bump.features_always_bump_minor.unwrap_or(true),
        };
        let decision = relkit_version::decide(current, &counts, &policy)?;
        let called_for = decision.next.clone();
        let decision = match &self.request.next_version {
            Some(forced) if *forced != decision.next => BumpDecision {
                bump: Step::between(current, forced).bump(),
                reason: format!(
                    "the commits call for {} ({}); {} sets {forced}",
                    decision.next,
                    decision.reason,
                    self.request.next_version_source.unwrap_or("--next-version")
                ),
                next: forced.clone(),
            },
            _ => decision,
        };
        Ok((decision, called_for))
    }
}

/// Each commit's subject by id, for naming a commit a command failed on.
fn subjects(releases: &[Release<'_>]) -> HashMap<String, String> {
    releases
        .iter()
        .flat_map(|r| &r.commits)
        .map(|c| {
            let subject = c.message.lines().next().unwrap_or_default().to_owned();
            (c.id.clone(), subject)
        })
        .collect()
}

/// The first line of unreleased notes: the version decision and why.
fn decision_line(
    decision: &BumpDecision,
    previous: Option<&PreviousRelease>,
    next_tag: &str,
) -> String {
    let from = previous.map_or_else(|| "no release yet".to_owned(), |p| p.tag.clone());
    format!(
        "**Version decision:** {} ({from} → {next_tag})",
        decision.reason
    )
}

/// Counts processed commits by the bump they call for.
///
/// A message whose whole text is not a conventional commit (most often a body with no blank
/// line after the subject) is still counted by its subject when that line is one: `feat: x`
/// directly followed by text is a feature to the person who wrote it, and the default
/// configuration files it under Features too.
pub fn count(commits: &[Commit<'_>]) -> CommitCounts {
    let mut counts = CommitCounts::default();
    for commit in commits {
        let subject;
        let conv = match &commit.conv {
            Some(conv) => Some(conv),
            None => {
                subject = git_conventional::Commit::parse(
                    commit.message.lines().next().unwrap_or_default(),
                )
                .ok();
                subject.as_ref()
            }
        };
        match conv {
            Some(conv) if conv.breaking() => counts.breaking += 1,
            Some(conv) if conv.type_() == git_conventional::Type::FEAT => counts.features += 1,
            Some(conv)
                if [git_conventional::Type::FIX, git_conventional::Type::PERF]
                    .contains(&conv.type_()) =>
            {
                counts.fixes += 1;
            }
            _ => counts.other += 1,
        }
    }
    counts
}

fn sorts_newest_first(config: &Config) -> bool {
    config.git.sort_commits.eq_ignore_ascii_case("newest")
}

/// Tags of the stream (full releases and pre-releases alike).
fn stream_tags<'t>(tags: &'t [TagRef], stream: &Stream) -> Vec<&'t TagRef> {
    tags.iter()
        .filter(|t| stream.parse_tag(&t.ref_name).is_some())
        .collect()
}

/// The tags that are release boundaries: full releases of the stream, filtered by the
/// configuration's tag rules as the git-cliff CLI does (skip tags stay: their commits are dropped
/// when rendering).
fn release_tags(stream_tags: &[&TagRef], stream: &Stream, config: &Config) -> Vec<TagRef> {
    let git = &config.git;
    stream_tags
        .iter()
        .filter(|t| {
            stream
                .parse_tag(&t.ref_name)
                .is_some_and(|v| v.pre.is_empty() && v.build.is_empty())
        })
        .filter(|t| git.tag_pattern.as_ref().is_none_or(|r| r.is_match(&t.name)))
        .filter(|t| {
            git.skip_tags.as_ref().is_some_and(|r| r.is_match(&t.name))
                || (git.count_tags.as_ref().is_none_or(|r| r.is_match(&t.name))
                    && !git
                        .ignore_tags
                        .as_ref()
                        .is_some_and(|r| !r.as_str().trim().is_empty() && r.is_match(&t.name)))
        })
        .map(|t| (*t).clone())
        .collect()
}

/// The prefixes of the repository's version tags, for the error on a mistyped prefix.
fn other_prefixes(tags: &[TagRef]) -> Vec<String> {
    let mut prefixes: Vec<String> = tags
        .iter()
        .filter_map(|t| relkit_version::prefix_of(&t.ref_name).map(str::to_owned))
        .collect();
    prefixes.sort();
    prefixes.dedup();
    prefixes
}

fn add_path_filters(config: &mut Config, request: &Request) -> Result<(), Error> {
    for (input, values, target) in [
        (
            "--include-path",
            &request.include_paths,
            &mut config.git.include_paths,
        ),
        (
            "--exclude-path",
            &request.exclude_paths,
            &mut config.git.exclude_paths,
        ),
    ] {
        for value in values {
            let pattern = glob::Pattern::new(value).map_err(|e| Error::InvalidPattern {
                input,
                value: value.clone(),
                message: e.to_string(),
            })?;
            target.push(pattern);
        }
    }
    Ok(())
}

/// Commits listed in `.cliffignore` are skipped, as the git-cliff CLI does.
fn add_cliffignore(config: &mut Config, root: &Path) -> Result<(), Error> {
    let path = root.join(".cliffignore");
    let Ok(text) = std::fs::read_to_string(&path) else {
        return Ok(());
    };
    for sha in text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
    {
        config.git.commit_parsers.insert(
            0,
            CommitParser {
                sha: Some(sha.to_owned()),
                skip: Some(true),
                ..CommitParser::default()
            },
        );
    }
    Ok(())
}

/// git-cliff's reading of a path pattern: `dir/` means everything below it, `./` is dropped.
fn normalized(patterns: &[glob::Pattern]) -> Vec<glob::Pattern> {
    patterns
        .iter()
        .filter_map(|p| {
            let mut text = p.as_str().to_owned();
            if text.ends_with('/') {
                text.push_str("**");
            }
            let text = text.strip_prefix("./").unwrap_or(&text);
            glob::Pattern::new(text).ok()
        })
        .collect()
}

fn matches(patterns: &[glob::Pattern], path: &str) -> bool {
    patterns.iter().any(|p| p.matches_path(Path::new(path)))
}
