//! The create-release action: a tag, a forge release with notes, and assets with their SHA-256
//! sums and a release manifest; or the next pre-release (`v1.2.0-pre.145+abc1234`) or release
//! candidate (`v1.2.3-rc.2`) of a stream.
//!
//! Written as plan, then apply. [`plan`] reads the repository and the forge and decides every
//! tag, release and asset it would touch, with their current and target state; every check of
//! the inputs happens there, so a bad input stops the run before anything is written.
//! [`apply`] carries a plan out in an order that survives interruption: the tag, then the
//! release as a draft, then its assets, and only then publishing it, so GitHub's immutable
//! releases never freeze a half-uploaded release. Every step checks what is already there, so a
//! re-run after a failure converges: a tag at the right commit, a release, an asset with the same
//! bytes are states to resume from.

mod error;

use std::collections::HashMap;
use std::path::PathBuf;

use relkit_changelog::{ConfigSource, Range, RepoLinks, Request};
use relkit_forge::{Forge, MakeLatest};
use relkit_git::Repository;
use relkit_release::{Draft, ManifestImage, Publication, ReleaseManifest, SCHEMA_VERSION};
use relkit_version::{
    Bump, PrereleaseBase, ShortSha, Stream, TaggedVersion, Version, VersionKind, next_prerelease,
    next_rc, prerelease_version,
};

pub use error::Error;
pub use relkit_release::{
    AssetStep, LocalAsset, MANIFEST, Outcome, PlannedAsset, Presence, ReleaseStep, SUMS, images,
};

/// Which version the release gets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VersionChoice {
    /// This version (from `--tag`, or the tag a tag push carries).
    Exact(Version),
    /// The newest full release of the stream bumped by this, or as the commits call for.
    Bump(BumpChoice),
    /// The next pre-release `X.Y.Z-pre.N+sha7` of the target commit.
    Prerelease(PrereleaseBase),
    /// The next release candidate `X.Y.Z-rc.N` of the version the bump leads to.
    Candidate(BumpChoice),
}

/// A fixed bump, or the one the commits call for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BumpChoice {
    Fixed(Bump),
    Auto,
}

/// Where the release notes come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NotesChoice {
    /// The changelog of the commits since the previous release of the same kind.
    Changelog(ConfigSource),
    /// This file.
    File(PathBuf),
}

/// The validated inputs of one run.
#[derive(Debug, Clone)]
pub struct Config {
    /// A directory inside the repository.
    pub repo: PathBuf,
    pub stream: Stream,
    pub version: VersionChoice,
    /// The commit to release (a revision the forge resolves).
    pub target: String,
    /// Where `target` came from, for errors: `--target`, or `GITHUB_SHA` on a runner.
    pub target_input: &'static str,
    /// The stream has never been released: counting from no release of it is intended.
    pub first_release: bool,
    /// Only commits that change these files count for the stream, in the bump and the notes (a
    /// monorepo's component; git-cliff's `include_paths`).
    pub include_paths: Vec<String>,
    /// Commits that change only these files do not count.
    pub exclude_paths: Vec<String>,
    /// The release's title; default, the tag.
    pub name: Option<String>,
    pub notes: NotesChoice,
    /// Links for the built-in notes template.
    pub links: Option<RepoLinks>,
    /// Leave the release a draft.
    pub draft: bool,
    pub make_latest: MakeLatest,
    /// Globs of files to attach, relative to `base`.
    pub assets: Vec<String>,
    /// The directory asset globs are relative to.
    pub base: PathBuf,
    pub allow_empty: bool,
    pub replace_assets: bool,
    pub images: Vec<ManifestImage>,
}

/// Everything a run would change, decided before any change: the version, and the publication
/// of its release (every tag, release and asset, current → target), which it reads as its own
/// fields.
#[derive(Debug, Clone)]
pub struct Plan {
    pub version: Version,
    /// What the plan does that a person should look at, though it is allowed.
    pub warnings: Vec<String>,
    pub publication: Publication,
}

/// The plan as a person reads it: every tag, release and asset, current → target.
impl std::fmt::Display for Plan {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.publication.fmt(f)
    }
}

impl std::ops::Deref for Plan {
    type Target = Publication;

    fn deref(&self) -> &Publication {
        &self.publication
    }
}

/// Decides what a run changes. Reads the repository and the forge; writes nothing.
pub async fn plan<F: Forge>(forge: &F, config: &Config) -> Result<Plan, Error> {
    let repo = Repository::discover(&config.repo)?;
    // A given version with notes from a file reads no history: a shallow clone will do.
    let needs_history = !matches!(config.version, VersionChoice::Exact(_))
        || matches!(config.notes, NotesChoice::Changelog(_));
    if needs_history && repo.is_shallow()? {
        return Err(Error::ShallowClone {
            path: repo.root().to_path_buf(),
        });
    }
    let commit = forge
        .resolve(&config.target)
        .await?
        .ok_or_else(|| Error::UnknownTarget {
            input: config.target_input,
            target: config.target.clone(),
            forge: forge.describe(),
        })?;
    let tags = repo.tags()?;
    let tag_commits: HashMap<&str, &str> = tags
        .iter()
        .map(|t| (t.ref_name.as_str(), t.commit.as_str()))
        .collect();
    let stream_tags = config
        .stream
        .releases(tags.iter().map(|t| t.ref_name.as_str()));
    // A stream with no release where other streams have some is most likely a mistyped prefix:
    // counting from 0.0.0, or a given version under it, would push a tag nobody meant. (A
    // pushed tag of a new stream is a tag of that stream: the check passes.)
    if stream_tags.is_empty() && !config.first_release {
        let mut found: Vec<String> = tags
            .iter()
            .filter_map(|t| relkit_version::prefix_of(&t.ref_name))
            .map(str::to_owned)
            .collect();
        found.sort();
        found.dedup();
        if !found.is_empty() {
            return Err(Error::NoTagsInStream {
                prefix: config.stream.prefix().to_owned(),
                found,
            });
        }
    }

    // The commit's history, each commit at its position (newest first): where versions count
    // from and where the notes start. Read once, and only when something needs it.
    let history: HashMap<String, usize> = if needs_history {
        repo.reachable(&commit)?
            .into_iter()
            .enumerate()
            .map(|(i, id)| (id, i))
            .collect()
    } else {
        HashMap::new()
    };
    let history = History {
        positions: &history,
        stream_tags: &stream_tags,
        tag_commits: &tag_commits,
    };
    let version = choose_version(forge, &repo, config, &commit, &history).await?;
    let tag = config.stream.tag_name(&version);
    if !repo.is_valid_tag_name(&tag)? {
        return Err(Error::InvalidTagName { tag });
    }
    let prerelease = !VersionKind::of(&version).is_full();

    let name = config.name.clone().unwrap_or_else(|| tag.clone());
    let mut warnings = Vec::new();
    // Assets are built from the working tree: it should hold what the released commit holds.
    let head = repo.resolve("HEAD")?;
    let tree_warning = if head.as_deref() == Some(commit.as_str()) {
        let changed = repo.uncommitted_changes()?;
        (!changed.is_empty()).then(|| {
            format!(
                "the working tree changes files of the commit released ({}): assets built from it may not match {tag}",
                changed.join(", ")
            )
        })
    } else {
        head.map(|head| {
            format!(
                "the working tree is at {}, not at {}, the commit released: check that the assets were built from {tag}",
                short(&head),
                short(&commit)
            )
        })
    };
    let (body, called_for) = notes(&repo, config, &version, &tag, &commit, &history)?;
    if let (VersionChoice::Exact(_), Some(called_for)) = (&config.version, &called_for)
        && VersionKind::of(&version).is_full()
        && version < *called_for
    {
        warnings.push(format!(
            "{tag} is below {}, the version its commits call for: check the bump (the notes say why)",
            config.stream.tag_name(called_for)
        ));
    }

    let files = relkit_release::find(&config.assets, &config.base, config.allow_empty)?;
    if !files.is_empty()
        && let Some(warning) = tree_warning
    {
        warnings.push(warning);
    }
    let manifest = ReleaseManifest {
        schema_version: SCHEMA_VERSION,
        stream: config.stream.prefix().to_owned(),
        tag: tag.clone(),
        version: version.clone(),
        commit: commit.clone(),
        assets: relkit_release::manifest_assets(&files),
        images: config.images.clone(),
        promotion: None,
    };
    let draft = Draft {
        tag,
        commit,
        name,
        body,
        prerelease,
        make_latest: config.make_latest,
        draft: config.draft,
        files,
        manifest,
        replace_assets: config.replace_assets,
    };
    let publication = relkit_release::plan(forge, &repo, draft).await?;
    warnings.extend(publication.warnings.iter().cloned());
    Ok(Plan {
        version,
        warnings,
        publication,
    })
}

/// The target commit's history and the stream's tags, as the version and the notes read them.
struct History<'h> {
    /// Each commit the target reaches, at its position from the target (0).
    positions: &'h HashMap<String, usize>,
    stream_tags: &'h [TaggedVersion],
    tag_commits: &'h HashMap<&'h str, &'h str>,
}

/// The stream's tags in the target's history, apart from those on the target commit itself:
/// what a version counts from and where notes start, the same before and after a run tags the
/// commit, so a re-run makes the same choice.
fn before_target<'t>(commit: &str, history: &History<'t>) -> Vec<&'t TaggedVersion> {
    history
        .stream_tags
        .iter()
        .filter(|t| {
            history
                .tag_commits
                .get(t.tag.as_str())
                .is_some_and(|c| *c != commit && history.positions.contains_key(*c))
        })
        .collect()
}

/// The stream's tags on the target commit itself.
fn at_target<'t>(commit: &str, history: &History<'t>) -> Vec<&'t TaggedVersion> {
    history
        .stream_tags
        .iter()
        .filter(|t| history.tag_commits.get(t.tag.as_str()) == Some(&commit))
        .collect()
}

async fn choose_version<F: Forge>(
    forge: &F,
    repo: &Repository,
    config: &Config,
    commit: &str,
    history: &History<'_>,
) -> Result<Version, Error> {
    if let VersionChoice::Exact(version) = &config.version {
        return Ok(version.clone());
    }
    // Versions count from the newest full release in the commit's own history, as the bump
    // decision does: on a hotfix branch cut from 1.1.0, the next patch is 1.1.1 even when 1.2.0
    // was released since on main. Tags on the commit itself are left out, so that a re-run
    // after this run's tag exists computes the same version and resumes it.
    let before = before_target(commit, history);
    let on_commit = at_target(commit, history);
    let is_full = |t: &TaggedVersion| VersionKind::of(&t.version).is_full();
    // A released commit has nothing left to try out or to become a candidate of: a pre-release
    // or candidate already on it (made before the release) is resumed, none is made.
    let trial: Option<fn(VersionKind) -> bool> = match config.version {
        VersionChoice::Prerelease(_) => Some(|k| matches!(k, VersionKind::Prerelease { .. })),
        VersionChoice::Candidate(_) => Some(|k| matches!(k, VersionKind::ReleaseCandidate { .. })),
        _ => None,
    };
    if let Some(kind) = trial
        && let Some(full) = on_commit.iter().filter(|t| is_full(t)).max()
    {
        return on_commit
            .iter()
            .filter(|t| kind(VersionKind::of(&t.version)))
            .max()
            .map(|t| t.version.clone())
            .ok_or_else(|| Error::NothingToRelease {
                tag: full.tag.clone(),
            });
    }
    // Versions other branches released, which this one must not take again.
    let elsewhere: Vec<TaggedVersion> = history
        .stream_tags
        .iter()
        .filter(|t| !on_commit.contains(t))
        .cloned()
        .collect();
    let latest_full = before.iter().copied().filter(|t| is_full(t)).max();
    // A branch cut before the stream's first release would count from 0.0.0.
    if latest_full.is_none()
        && !config.first_release
        && let Some(newest) = elsewhere.iter().filter(|t| is_full(t)).max()
    {
        return Err(Error::NoReleaseInHistory {
            target: config.target.clone(),
            newest: newest.tag.clone(),
        });
    }
    // A tag of the same kind already on the commit is a run to resume when it is the version
    // this choice makes, and a conflict otherwise: one commit is not released twice.
    let resume = |kind: fn(VersionKind) -> bool, version: Version| {
        let same_kind = || {
            on_commit
                .iter()
                .filter(|t| kind(VersionKind::of(&t.version)))
        };
        match same_kind().max() {
            Some(other) if !same_kind().any(|t| t.version == version) => {
                Err(Error::CommitReleasedAs {
                    tag: other.tag.clone(),
                    wanted: config.stream.tag_name(&version),
                })
            }
            _ => Ok(version),
        }
    };
    match &config.version {
        VersionChoice::Exact(version) => Ok(version.clone()),
        VersionChoice::Bump(choice) => {
            let (bump, next) = bumped(repo, config, commit, latest_full, *choice)?;
            let next = unreleased(next, bump, &elsewhere)?;
            resume(VersionKind::is_full, next)
        }
        VersionChoice::Candidate(choice) => {
            let is_rc = |k| matches!(k, VersionKind::ReleaseCandidate { .. });
            let (bump, bumped) = bumped(repo, config, commit, latest_full, *choice)?;
            let target = unreleased(bumped.clone(), bump, &elsewhere)?;
            let core = |v: &Version| (v.major, v.minor, v.patch);
            // The candidate already on the commit for this version is the one to resume, also
            // when a later commit has released the version since.
            if let Some(rc) = on_commit.iter().find(|t| {
                is_rc(VersionKind::of(&t.version))
                    && [core(&bumped), core(&target)].contains(&core(&t.version))
            }) {
                return Ok(rc.version.clone());
            }
            let existing: Vec<Version> = elsewhere.iter().map(|t| t.version.clone()).collect();
            resume(is_rc, next_rc(&target, &existing)?)
        }
        VersionChoice::Prerelease(base) => {
            // A monorepo component counts its own commits: the forge's compare cannot filter
            // by path, the local history can.
            let paths = !config.include_paths.is_empty() || !config.exclude_paths.is_empty();
            let count = match latest_full {
                Some(full) if paths => repo.count_touching(
                    &format!("{}..{commit}", full.tag),
                    &config.include_paths,
                    &config.exclude_paths,
                )?,
                Some(full) => forge.ahead_by(&full.tag, commit).await?,
                None if paths => {
                    repo.count_touching(commit, &config.include_paths, &config.exclude_paths)?
                }
                None => repo.count(commit)?,
            };
            if count == 0
                && let Some(full) = latest_full
            {
                // The commit is that release: there is nothing to try out before it.
                return Err(Error::NothingToRelease {
                    tag: full.tag.clone(),
                });
            }
            let sha = ShortSha::new(commit)?;
            let releases: Vec<Version> = before.iter().map(|t| t.version.clone()).collect();
            let version = match base {
                PrereleaseBase::Latest => {
                    next_prerelease(&releases, *base, Bump::None, count, &sha)?
                }
                PrereleaseBase::Next => {
                    let after = latest_full.map(|t| t.tag.as_str());
                    let bump = decision(repo, config, after, commit)?.max(Bump::Patch);
                    let current =
                        latest_full.map_or_else(|| Version::new(0, 0, 0), |t| t.version.clone());
                    let target = unreleased(bump.apply(&current)?, bump, &elsewhere)?;
                    prerelease_version(&target, count, &sha)
                }
            };
            // Pre-releases are cheap: another naming may add one to a commit that has one.
            Ok(version)
        }
    }
}

/// The newest full release bumped as chosen (with `auto`, as the commits since it call for),
/// and the bump.
fn bumped(
    repo: &Repository,
    config: &Config,
    commit: &str,
    latest_full: Option<&TaggedVersion>,
    choice: BumpChoice,
) -> Result<(Bump, Version), Error> {
    let current = latest_full.map_or_else(|| Version::new(0, 0, 0), |t| t.version.clone());
    let bump = match choice {
        BumpChoice::Fixed(bump) => bump,
        BumpChoice::Auto => {
            let bump = decision(repo, config, latest_full.map(|t| t.tag.as_str()), commit)?;
            if bump == Bump::None {
                return Err(Error::NothingToRelease {
                    tag: latest_full
                        .map_or_else(|| "the first commit".to_owned(), |t| t.tag.clone()),
                });
            }
            bump
        }
    };
    Ok((bump, bump.apply(&current)?))
}

/// `version`, or, when another branch has released it already, the next one the same bump
/// reaches that nobody has: main after a hotfix branch released 1.0.1 goes on to 1.0.2, and
/// after a release branch released 1.1.0, to 1.2.0.
fn unreleased(
    mut version: Version,
    bump: Bump,
    stream_tags: &[TaggedVersion],
) -> Result<Version, Error> {
    let released = |v: &Version| {
        stream_tags.iter().any(|t| {
            VersionKind::of(&t.version).is_full()
                && (t.version.major, t.version.minor, t.version.patch)
                    == (v.major, v.minor, v.patch)
        })
    };
    while released(&version) {
        version = bump.max(Bump::Patch).apply(&version)?;
    }
    Ok(version)
}

/// The bump the commits after the release `after` (all of them when `None`) call for: the same
/// commits the release's notes list. Applying it is the caller's, to the stream's newest release.
fn decision(
    repo: &Repository,
    config: &Config,
    after: Option<&str>,
    commit: &str,
) -> Result<Bump, Error> {
    let notes = relkit_changelog::generate(&Request {
        repo: repo.root().to_path_buf(),
        stream: config.stream.clone(),
        range: Range::Release {
            after: after.map(str::to_owned),
            to: commit.to_owned(),
        },
        config: changelog_config(config),
        include_paths: config.include_paths.clone(),
        exclude_paths: config.exclude_paths.clone(),
        first_release: true,
        ..Request::default()
    })?;
    Ok(notes.decision.bump)
}

fn changelog_config(config: &Config) -> ConfigSource {
    match &config.notes {
        NotesChoice::Changelog(source) => source.clone(),
        NotesChoice::File(_) => ConfigSource::Discover,
    }
}

/// The tag a release's notes start after, in the history of the target commit (tags on the
/// commit itself never: a re-run after this run's tag, or a promotion of the same commit, makes
/// the same notes).
///
/// A full release's notes start at the highest full release below it: after a hotfix branch
/// (v1.0.1, cut from v1.0.0) was merged into main, v1.1.1's notes start at v1.1.0, not at the
/// more recent v1.0.1. A pre-release's start at the nearest tag of the stream from the newest
/// full release on: pre-releases are named from the release they follow (`1.1.0-pre.4`) or the
/// one they lead to, never from an older one, so tags of older lines drop out.
fn notes_start(
    version: &Version,
    tag: &str,
    commit: &str,
    history: &History<'_>,
) -> Option<String> {
    let before: Vec<&TaggedVersion> = before_target(commit, history)
        .into_iter()
        .filter(|t| t.tag != tag)
        .collect();
    let full = before
        .iter()
        .copied()
        .filter(|t| VersionKind::of(&t.version).is_full());
    if VersionKind::of(version).is_full() {
        return full
            .filter(|t| t.version < *version)
            .max()
            .map(|t| t.tag.clone());
    }
    let core = |v: &Version| (v.major, v.minor, v.patch);
    let floor = full.max().map(|t| core(&t.version));
    before
        .iter()
        .filter(|t| floor.is_none_or(|floor| core(&t.version) >= floor))
        .filter_map(|t| {
            let position = history
                .positions
                .get(*history.tag_commits.get(t.tag.as_str())?)?;
            Some((position, *t))
        })
        .min_by_key(|(position, t)| (**position, std::cmp::Reverse(t.version.clone())))
        .map(|(_, t)| t.tag.clone())
}

/// The release notes: a file's text, or the changelog since the previous release of the same
/// kind (a full release's notes start at the previous full release, a pre-release's at the
/// previous tag of the stream) that the commit reaches.
fn notes(
    repo: &Repository,
    config: &Config,
    version: &Version,
    tag: &str,
    commit: &str,
    history: &History<'_>,
) -> Result<(String, Option<Version>), Error> {
    let source = match &config.notes {
        NotesChoice::File(path) => {
            let text = std::fs::read_to_string(path).map_err(|source| Error::NotesFile {
                path: path.clone(),
                source,
            })?;
            return Ok((text, None));
        }
        NotesChoice::Changelog(source) => source.clone(),
    };
    let after = notes_start(version, tag, commit, history);
    let notes = relkit_changelog::generate(&Request {
        repo: repo.root().to_path_buf(),
        stream: config.stream.clone(),
        range: Range::Release {
            after,
            to: commit.to_owned(),
        },
        config: source,
        links: config.links.clone(),
        include_paths: config.include_paths.clone(),
        exclude_paths: config.exclude_paths.clone(),
        first_release: true,
        next_version: Some(version.clone()),
        next_version_source: Some(match &config.version {
            VersionChoice::Exact(_) => "the given tag",
            VersionChoice::Bump(BumpChoice::Fixed(_)) => "--bump",
            VersionChoice::Bump(BumpChoice::Auto) => "the bump decision",
            VersionChoice::Candidate(_) => "the release candidate's naming",
            VersionChoice::Prerelease(_) => "the pre-release naming",
        }),
    })?;
    Ok((notes.markdown, Some(notes.called_for)))
}

/// Carries out `plan`, reporting each change through `log` as soon as it is made.
pub async fn apply<F: Forge>(
    forge: &F,
    plan: &Plan,
    log: &mut dyn FnMut(&str),
) -> Result<Outcome, Error> {
    Ok(relkit_release::apply(forge, &plan.publication, log).await?)
}

fn short(commit: &str) -> &str {
    commit.get(..7).unwrap_or(commit)
}
