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

mod assets;
mod error;

use std::collections::HashMap;
use std::fmt;
use std::path::{Path, PathBuf};

use relkit_changelog::{ConfigSource, Range, RepoLinks, Request};
use relkit_forge::{
    Asset, AssetUpload, Forge, MakeLatest, NewRelease, NewTag, Release, ReleasePatch, Sha256,
};
use relkit_git::Repository;
use relkit_version::{
    Bump, PrereleaseBase, ShortSha, Stream, TaggedVersion, Version, VersionKind, next_prerelease,
    next_rc, prerelease_version,
};

pub use assets::{Image, LocalAsset, MANIFEST, SUMS, images};
pub use error::Error;

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
    pub images: Vec<Image>,
}

/// Whether a thing is made or already there.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Presence {
    Create,
    Exists,
}

/// What happens to the release itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReleaseStep {
    /// Created as a draft.
    Create,
    /// Exists; these fields change.
    Update(Release, Vec<&'static str>),
    /// Exists as planned.
    Keep(Release),
}

/// What happens to one asset.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AssetStep {
    Upload,
    /// The release has it with the same bytes.
    Keep,
    /// The release has different bytes under this name, and replacing was asked for.
    Replace(Asset),
}

/// One file of the release and what happens to it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlannedAsset {
    pub file: LocalAsset,
    pub step: AssetStep,
}

/// Everything a run would change, decided before any change.
#[derive(Debug, Clone)]
pub struct Plan {
    pub tag: String,
    pub version: Version,
    pub commit: String,
    pub prerelease: bool,
    pub name: String,
    pub body: String,
    pub tag_step: Presence,
    pub release: ReleaseStep,
    /// Whether the release ends published (it is created, and kept, as a draft until then).
    pub publish: bool,
    pub make_latest: MakeLatest,
    /// The user's assets, then `SHA256SUMS` and the manifest.
    pub assets: Vec<PlannedAsset>,
    /// Assets already on the release that this run does not attach: left as they are, and
    /// listed in neither `SHA256SUMS` nor the manifest.
    pub others: Vec<String>,
    /// What the plan does that a person should look at, though it is allowed.
    pub warnings: Vec<String>,
    /// The release manifest's text.
    pub manifest: String,
    /// The directory of the generated files, removed with the last copy of the plan.
    _generated: std::sync::Arc<tempfile::TempDir>,
}

/// What a run made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    pub release: Release,
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

    let tag_step = match forge.tag(&tag).await? {
        Some(existing) if existing.commit != commit => {
            return Err(Error::TagElsewhere {
                tag,
                at: existing.commit,
                target: commit,
            });
        }
        Some(_) => Presence::Exists,
        None => Presence::Create,
    };

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

    let existing = find_release(forge, &tag).await?;
    let release = match existing {
        None => ReleaseStep::Create,
        Some(release) => {
            let mut changes = Vec::new();
            if release.name != name {
                changes.push("name");
            }
            if release.body != body {
                changes.push("notes");
            }
            if release.prerelease != prerelease {
                changes.push("pre-release flag");
            }
            if changes.is_empty() {
                ReleaseStep::Keep(release)
            } else {
                ReleaseStep::Update(release, changes)
            }
        }
    };

    let files = assets::find(&config.assets, &config.base, config.allow_empty)?;
    if !files.is_empty()
        && let Some(warning) = tree_warning
    {
        warnings.push(warning);
    }
    let manifest = assets::manifest(&tag, &version, &commit, &files, &config.images);
    let generated = tempfile::Builder::new()
        .prefix("relkit-release-")
        .tempdir()
        .map_err(|source| Error::Io {
            path: std::env::temp_dir(),
            source,
        })?;
    let mut all = files.clone();
    all.push(write_generated(generated.path(), MANIFEST, &manifest)?);
    let sums = assets::sums(&all);
    all.push(write_generated(generated.path(), SUMS, &sums)?);

    let current: &[Asset] = match &release {
        ReleaseStep::Create => &[],
        ReleaseStep::Update(r, _) | ReleaseStep::Keep(r) => &r.assets,
    };
    let mut planned = Vec::new();
    for file in all {
        let step = match current.iter().find(|a| a.name == file.name) {
            None => AssetStep::Upload,
            Some(existing) => {
                let digest = match existing.digest {
                    Some(digest) => digest,
                    None => Sha256::of(&forge.download_asset(existing).await?),
                };
                if digest == file.sha256 {
                    AssetStep::Keep
                } else if config.replace_assets {
                    AssetStep::Replace(existing.clone())
                } else {
                    return Err(Error::AssetDiffers {
                        name: file.name.clone(),
                        tag,
                        path: file.path.clone(),
                        existing: digest.to_string(),
                        new: file.sha256.to_string(),
                    });
                }
            }
        };
        planned.push(PlannedAsset { file, step });
    }

    let others: Vec<String> = current
        .iter()
        .filter(|a| !planned.iter().any(|p| p.file.name == a.name))
        .map(|a| a.name.clone())
        .collect();
    if !others.is_empty() {
        warnings.push(format!(
            "release {tag} keeps assets this run does not attach, and SHA256SUMS and the manifest leave them out: {}",
            others.join(", ")
        ));
    }

    preflight(forge, &repo, &commit, (&release, &body), &planned, tag_step).await?;

    let publish = !config.draft;
    if let ReleaseStep::Update(r, _) | ReleaseStep::Keep(r) = &release
        && config.draft
        && !r.draft
    {
        warnings.push(format!(
            "release {tag} is published already: a draft is only made of a new release, a published one stays published"
        ));
    }
    if let ReleaseStep::Update(r, _) | ReleaseStep::Keep(r) = &release
        && r.immutable
    {
        let mut what: Vec<String> = changes_of(&release)
            .iter()
            .map(|c| (*c).to_owned())
            .collect();
        what.extend(
            planned
                .iter()
                .filter(|a| a.step != AssetStep::Keep)
                .map(|a| format!("asset {}", a.file.name)),
        );
        if !what.is_empty() {
            return Err(Error::Immutable {
                tag: r.tag.clone(),
                what: what.join(", "),
            });
        }
    }

    Ok(Plan {
        tag,
        version,
        commit,
        prerelease,
        name,
        body,
        tag_step,
        release,
        publish,
        make_latest: config.make_latest,
        assets: planned,
        others,
        warnings,
        manifest,
        _generated: std::sync::Arc::new(generated),
    })
}

/// What the forge says before any write: the token may push, the notes are not too long, and
/// each file to upload fits the instance's attachment limits.
async fn preflight<F: Forge>(
    forge: &F,
    repo: &Repository,
    commit: &str,
    (release, body): (&ReleaseStep, &str),
    assets: &[PlannedAsset],
    tag_step: Presence,
) -> Result<(), Error> {
    let uploads: Vec<&PlannedAsset> = assets
        .iter()
        .filter(|a| a.step != AssetStep::Keep)
        .collect();
    let writes = tag_step == Presence::Create
        || !matches!(release, ReleaseStep::Keep(_))
        || !uploads.is_empty();
    if !writes {
        return Ok(());
    }
    let checked = forge.preflight().await?;
    if checked.can_write == Some(false) {
        return Err(Error::CannotWrite {
            forge: forge.describe(),
        });
    }
    let writes_notes = match release {
        ReleaseStep::Create => true,
        ReleaseStep::Update(_, changes) => changes.contains(&"notes"),
        ReleaseStep::Keep(_) => false,
    };
    let chars = body.chars().count();
    if writes_notes
        && let Some(max) = checked.max_notes
        && chars > max
    {
        return Err(Error::NotesTooLong {
            chars,
            max,
            forge: forge.describe(),
        });
    }
    if tag_step == Presence::Create && checked.can_write_workflows == Some(false) {
        // GitHub checks the commit against its first parent; a commit git cannot read here is
        // left to the forge, which refuses before anything is written (the tag is the first write).
        if let Ok(changed) = repo.changed_files(&format!("{commit}^!"))
            && let Some(file) = changed
                .values()
                .flatten()
                .find(|f| f.starts_with(".github/workflows/"))
        {
            return Err(Error::CannotTagWorkflows {
                commit: commit.to_owned(),
                file: file.clone(),
                forge: forge.describe(),
            });
        }
    }
    if let Some(limits) = &checked.attachments {
        for asset in uploads {
            let file = &asset.file;
            if limits.max_size > 0 && file.size > limits.max_size {
                return Err(Error::AttachmentTooLarge {
                    name: file.name.clone(),
                    size: file.size,
                    max: limits.max_size,
                    forge: forge.describe(),
                });
            }
            let content_type = content_type(&file.name);
            if !limits.allows(&file.name, content_type) {
                return Err(Error::AttachmentType {
                    name: file.name.clone(),
                    content_type: content_type.to_owned(),
                    allowed: limits.allowed_types.join(", "),
                    forge: forge.describe(),
                });
            }
        }
    }
    Ok(())
}

fn changes_of(step: &ReleaseStep) -> &[&'static str] {
    match step {
        ReleaseStep::Update(_, changes) => changes,
        _ => &[],
    }
}

fn write_generated(dir: &Path, name: &str, text: &str) -> Result<LocalAsset, Error> {
    let path = dir.join(name);
    std::fs::write(&path, text).map_err(|source| Error::Io {
        path: path.clone(),
        source,
    })?;
    Ok(LocalAsset {
        name: name.to_owned(),
        path,
        size: text.len() as u64,
        sha256: Sha256::of(text.as_bytes()),
    })
}

/// The release of `tag`, published or draft (drafts are found only by listing).
async fn find_release<F: Forge>(forge: &F, tag: &str) -> Result<Option<Release>, Error> {
    if let Some(release) = forge.release_by_tag(tag).await? {
        return Ok(Some(release));
    }
    Ok(forge.releases().await?.into_iter().find(|r| r.tag == tag))
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

/// Carries out `plan`, reporting each change through `log` as it is made.
pub async fn apply<F: Forge>(
    forge: &F,
    plan: &Plan,
    log: &mut dyn FnMut(&str),
) -> Result<Outcome, Error> {
    if plan.tag_step == Presence::Create {
        let new = NewTag {
            name: plan.tag.clone(),
            commit: plan.commit.clone(),
            message: Some(plan.name.clone()),
        };
        match forge.create_tag(&new).await {
            Ok(_) => log(&format!(
                "created tag {} at {}",
                plan.tag,
                short(&plan.commit)
            )),
            // Made by a run that failed before it could say so: fine if it is where we want it.
            Err(relkit_forge::Error::AlreadyExists { .. }) => {
                confirm_tag(forge, plan).await?;
            }
            Err(e) => return Err(e.into()),
        }
    }

    let mut release = match &plan.release {
        ReleaseStep::Keep(release) => release.clone(),
        ReleaseStep::Update(release, _) => {
            let patch = ReleasePatch {
                name: Some(plan.name.clone()),
                body: Some(plan.body.clone()),
                prerelease: Some(plan.prerelease),
                ..ReleasePatch::default()
            };
            let updated = forge.update_release(release, &patch).await?;
            log(&format!("updated release {}", plan.tag));
            updated
        }
        ReleaseStep::Create => {
            let new = NewRelease {
                tag: plan.tag.clone(),
                target: plan.commit.clone(),
                name: plan.name.clone(),
                body: plan.body.clone(),
                draft: true,
                prerelease: plan.prerelease,
                make_latest: plan.make_latest,
            };
            match forge.create_release(&new).await {
                Ok(release) => {
                    log(&format!("created draft release {}", plan.tag));
                    release
                }
                Err(relkit_forge::Error::AlreadyExists { .. }) => find_release(forge, &plan.tag)
                    .await?
                    .ok_or_else(|| relkit_forge::Error::NotFound {
                        forge: forge.describe(),
                        what: format!("the release for tag {}", plan.tag),
                    })?,
                Err(e) => return Err(e.into()),
            }
        }
    };

    for asset in &plan.assets {
        let upload = AssetUpload {
            name: asset.file.name.clone(),
            path: asset.file.path.clone(),
            content_type: content_type(&asset.file.name).to_owned(),
        };
        match &asset.step {
            AssetStep::Keep => continue,
            AssetStep::Replace(old) => {
                forge.delete_asset(old).await?;
                log(&format!("deleted the old {}", old.name));
            }
            AssetStep::Upload => {}
        }
        match forge.upload_asset(&release, &upload).await {
            Ok(_) => log(&format!(
                "uploaded {} ({} bytes, sha256 {})",
                asset.file.name, asset.file.size, asset.file.sha256
            )),
            Err(relkit_forge::Error::AlreadyExists { .. }) => {
                confirm_asset(forge, &plan.tag, &asset.file).await?;
            }
            Err(e) => return Err(e.into()),
        }
    }

    if plan.publish && release.draft {
        let patch = ReleasePatch {
            draft: Some(false),
            make_latest: Some(plan.make_latest),
            ..ReleasePatch::default()
        };
        release = forge.update_release(&release, &patch).await?;
        log(&format!("published release {}", plan.tag));
    }
    // Read back once: the release as the forge now holds it, with every asset.
    let release = find_release(forge, &plan.tag).await?.unwrap_or(release);
    Ok(Outcome { release })
}

async fn confirm_tag<F: Forge>(forge: &F, plan: &Plan) -> Result<(), Error> {
    match forge.tag(&plan.tag).await? {
        Some(tag) if tag.commit == plan.commit => Ok(()),
        Some(tag) => Err(Error::TagElsewhere {
            tag: plan.tag.clone(),
            at: tag.commit,
            target: plan.commit.clone(),
        }),
        None => Err(relkit_forge::Error::NotFound {
            forge: forge.describe(),
            what: format!("tag {}", plan.tag),
        }
        .into()),
    }
}

/// After an upload that the forge says exists: the bytes there must be ours.
async fn confirm_asset<F: Forge>(forge: &F, tag: &str, file: &LocalAsset) -> Result<(), Error> {
    let release = find_release(forge, tag).await?;
    let existing = release
        .iter()
        .flat_map(|r| r.assets.iter())
        .find(|a| a.name == file.name);
    let Some(existing) = existing else {
        return Err(relkit_forge::Error::NotFound {
            forge: forge.describe(),
            what: format!("asset {} of release {tag}", file.name),
        }
        .into());
    };
    let digest = match existing.digest {
        Some(digest) => digest,
        None => Sha256::of(&forge.download_asset(existing).await?),
    };
    if digest == file.sha256 {
        Ok(())
    } else {
        Err(Error::AssetDiffers {
            name: file.name.clone(),
            tag: tag.to_owned(),
            path: file.path.clone(),
            existing: digest.to_string(),
            new: file.sha256.to_string(),
        })
    }
}

fn content_type(name: &str) -> &'static str {
    let lower = name.to_ascii_lowercase();
    if lower.ends_with(".json") {
        "application/json"
    } else if lower.ends_with(".txt") || lower.ends_with(".md") || name == SUMS {
        "text/plain"
    } else if lower.ends_with(".tar.gz") || lower.ends_with(".tgz") {
        "application/gzip"
    } else if lower.ends_with(".zip") {
        "application/zip"
    } else {
        "application/octet-stream"
    }
}

fn short(commit: &str) -> &str {
    commit.get(..7).unwrap_or(commit)
}

impl fmt::Display for Plan {
    /// The plan as a person reads it: every tag, release and asset, current → target.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let tag = match self.tag_step {
            Presence::Create => format!("create at {}", short(&self.commit)),
            Presence::Exists => format!("exists at {}", short(&self.commit)),
        };
        writeln!(f, "tag      {} → {tag}", self.tag)?;
        let kind = if self.prerelease {
            " (pre-release)"
        } else {
            ""
        };
        let end = if self.publish {
            "published"
        } else {
            "left a draft"
        };
        let release = match &self.release {
            ReleaseStep::Create => format!("create as a draft, upload, then {end}"),
            ReleaseStep::Update(r, changes) => format!(
                "update {} ({}){}",
                changes.join(", "),
                if r.draft { "draft" } else { "published" },
                if r.draft && self.publish {
                    ", then published"
                } else {
                    ""
                }
            ),
            ReleaseStep::Keep(r) if r.draft && self.publish => "publish".to_owned(),
            ReleaseStep::Keep(_) => "up to date".to_owned(),
        };
        writeln!(
            f,
            "release  {}{kind} \"{}\" → {release}",
            self.tag, self.name
        )?;
        for asset in &self.assets {
            let step = match &asset.step {
                AssetStep::Upload => "upload",
                AssetStep::Keep => "same bytes, kept",
                AssetStep::Replace(_) => "different bytes, replaced",
            };
            writeln!(
                f,
                "asset    {} ({} bytes, sha256 {}…) → {step}",
                asset.file.name,
                asset.file.size,
                &asset.file.sha256.to_string()[..12]
            )?;
        }
        for name in &self.others {
            writeln!(
                f,
                "asset    {name} → left as it is: on the release, not among this run's assets (SHA256SUMS and the manifest leave it out)"
            )?;
        }
        Ok(())
    }
}

impl Plan {
    /// Whether applying the plan would change nothing.
    pub fn is_noop(&self) -> bool {
        let release_done = match &self.release {
            ReleaseStep::Keep(r) => !(r.draft && self.publish),
            _ => false,
        };
        self.tag_step == Presence::Exists
            && release_done
            && self.assets.iter().all(|a| a.step == AssetStep::Keep)
    }
}
