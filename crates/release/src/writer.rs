//! The release writer: tag, then the release as a draft, then its assets (with `SHA256SUMS` and
//! the release manifest), and only then publishing it, so GitHub's immutable releases never
//! freeze a half-uploaded release. [`plan`] reads what the forge holds and decides each step;
//! [`apply`] carries the steps out. Every step checks what is already there, so a re-run after a
//! failure converges: a tag at the right commit, a release, an asset with the same bytes are
//! states to resume from; a tag at another commit, or other bytes under an asset's name, stop
//! the plan.

use std::fmt;
use std::path::Path;

use relkit_forge::{
    Asset, AssetUpload, Forge, MakeLatest, NewRelease, NewTag, Release, ReleasePatch, Sha256,
};
use relkit_git::Repository;

use crate::assets::{self, LocalAsset, MANIFEST, SUMS};
use crate::error::Error;
use crate::manifest::ReleaseManifest;

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

/// A release to publish: everything decided but what the forge already holds.
#[derive(Debug, Clone)]
pub struct Draft {
    pub tag: String,
    /// The full id of the commit the tag is to point at.
    pub commit: String,
    pub name: String,
    pub body: String,
    pub prerelease: bool,
    pub make_latest: MakeLatest,
    /// Leave the release a draft.
    pub draft: bool,
    /// The files to attach besides `SHA256SUMS` and the manifest, which are made from them.
    pub files: Vec<LocalAsset>,
    pub manifest: ReleaseManifest,
    /// Replace an asset that holds other bytes under its name, instead of refusing.
    pub replace_assets: bool,
}

/// Every tag, release and asset a release's publication would touch, with their current and
/// target state, decided before any change.
#[derive(Debug, Clone)]
pub struct Publication {
    pub tag: String,
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
    /// The release manifest, and its text as attached.
    pub manifest: ReleaseManifest,
    pub manifest_text: String,
    /// The directory of the generated files, removed with the last copy of the plan.
    _generated: std::sync::Arc<tempfile::TempDir>,
}

/// What a run made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    pub release: Release,
}

/// Decides what publishing `draft` changes: reads the forge (and the repository, for what the
/// token may tag), writes nothing. An existing tag at another commit, an asset with other bytes
/// (unless `replace_assets`), an immutable release that would change, and whatever the forge's
/// preflight says it would refuse stop here.
pub async fn plan<F: Forge>(
    forge: &F,
    repo: &Repository,
    draft: Draft,
) -> Result<Publication, Error> {
    let Draft {
        tag,
        commit,
        name,
        body,
        prerelease,
        make_latest,
        draft,
        files,
        manifest,
        replace_assets,
    } = draft;
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

    let manifest_text = manifest.to_text();
    let generated = tempfile::Builder::new()
        .prefix("relkit-release-")
        .tempdir()
        .map_err(|source| Error::Io {
            path: std::env::temp_dir(),
            source,
        })?;
    let mut all = files;
    all.push(write_generated(generated.path(), MANIFEST, &manifest_text)?);
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
                } else if replace_assets {
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

    let mut warnings = Vec::new();
    let others: Vec<String> = current
        .iter()
        .filter(|a| !planned.iter().any(|p| p.file.name == a.name) && !assets::is_record(&a.name))
        .map(|a| a.name.clone())
        .collect();
    if !others.is_empty() {
        warnings.push(format!(
            "release {tag} keeps assets this run does not attach, and SHA256SUMS and the manifest leave them out: {}",
            others.join(", ")
        ));
    }

    preflight(forge, repo, &commit, (&release, &body), &planned, tag_step).await?;

    let publish = !draft;
    if let ReleaseStep::Update(r, _) | ReleaseStep::Keep(r) = &release
        && draft
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

    Ok(Publication {
        tag,
        commit,
        prerelease,
        name,
        body,
        tag_step,
        release,
        publish,
        make_latest,
        assets: planned,
        others,
        warnings,
        manifest,
        manifest_text,
        _generated: std::sync::Arc::new(generated),
    })
}

/// The release manifest attached to `release`, read back with the types it was written with;
/// `None` when the release has none.
pub async fn read_manifest<F: Forge>(
    forge: &F,
    release: &Release,
) -> Result<Option<ReleaseManifest>, Error> {
    let Some(asset) = release.assets.iter().find(|a| a.name == MANIFEST) else {
        return Ok(None);
    };
    let bytes = forge.download_asset(asset).await?;
    let origin = format!("{MANIFEST} of {}", release.tag);
    Ok(Some(ReleaseManifest::parse(
        &origin,
        &String::from_utf8_lossy(&bytes),
    )?))
}

/// The release of `tag`, published or draft (drafts are found only by listing).
pub async fn find_release<F: Forge>(forge: &F, tag: &str) -> Result<Option<Release>, Error> {
    if let Some(release) = forge.release_by_tag(tag).await? {
        return Ok(Some(release));
    }
    Ok(forge.releases().await?.into_iter().find(|r| r.tag == tag))
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

/// Carries out `plan`, reporting each change through `log` as soon as it is made. Any failure
/// here comes after a write began: it is [`Error::Stopped`], and a re-run resumes.
pub async fn apply<F: Forge>(
    forge: &F,
    plan: &Publication,
    log: &mut dyn FnMut(&str),
) -> Result<Outcome, Error> {
    apply_tag(forge, plan, false, log).await?;
    apply_release(forge, plan, log).await
}

/// The first step of [`apply`] alone: the tag. A promotion moves its images between this and
/// [`apply_release`], and takes the tag as its lock (`exclusive`): a tag another run made since
/// the plan is [`Error::TagTaken`], and this run stops before it drafts a second release (GitHub
/// keeps any number of drafts for one tag). Without `exclusive`, a tag already at the commit is
/// a state to resume from, as [`apply`] takes it.
pub async fn apply_tag<F: Forge>(
    forge: &F,
    plan: &Publication,
    exclusive: bool,
    log: &mut dyn FnMut(&str),
) -> Result<(), Error> {
    write_tag(forge, plan, exclusive, log)
        .await
        .map_err(stopped)
}

/// The rest of [`apply`]: the release as a draft, its assets, then publishing it.
pub async fn apply_release<F: Forge>(
    forge: &F,
    plan: &Publication,
    log: &mut dyn FnMut(&str),
) -> Result<Outcome, Error> {
    let release = apply_assets(forge, plan, log).await?;
    apply_publish(forge, plan, release, log).await
}

/// The release as a draft (or as it is) with every planned asset: [`apply_release`] without
/// publishing, so a caller can attach what only the run knows (an audit log) first.
pub async fn apply_assets<F: Forge>(
    forge: &F,
    plan: &Publication,
    log: &mut dyn FnMut(&str),
) -> Result<Release, Error> {
    write_release(forge, plan, log).await.map_err(stopped)
}

/// Publishes `release` (what [`apply_assets`] returned), when the plan publishes it.
pub async fn apply_publish<F: Forge>(
    forge: &F,
    plan: &Publication,
    release: Release,
    log: &mut dyn FnMut(&str),
) -> Result<Outcome, Error> {
    write_publish(forge, plan, release, log)
        .await
        .map_err(stopped)
}

fn stopped(error: Error) -> Error {
    match error {
        Error::Stopped { .. } => error,
        error => Error::Stopped {
            error: Box::new(error),
        },
    }
}

async fn write_tag<F: Forge>(
    forge: &F,
    plan: &Publication,
    exclusive: bool,
    log: &mut dyn FnMut(&str),
) -> Result<(), Error> {
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
            // The forge reads a create whose answer was lost back itself: an existing tag is
            // another run's.
            Err(relkit_forge::Error::AlreadyExists { .. }) if exclusive => {
                return Err(Error::TagTaken {
                    tag: plan.tag.clone(),
                });
            }
            // Made by a run that failed before it could say so: fine if it is where we want it.
            Err(relkit_forge::Error::AlreadyExists { .. }) => {
                confirm_tag(forge, plan).await?;
            }
            Err(e) => return Err(e.into()),
        }
    }

    Ok(())
}

async fn write_release<F: Forge>(
    forge: &F,
    plan: &Publication,
    log: &mut dyn FnMut(&str),
) -> Result<Release, Error> {
    let release = match &plan.release {
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

    Ok(release)
}

async fn write_publish<F: Forge>(
    forge: &F,
    plan: &Publication,
    mut release: Release,
    log: &mut dyn FnMut(&str),
) -> Result<Outcome, Error> {
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

async fn confirm_tag<F: Forge>(forge: &F, plan: &Publication) -> Result<(), Error> {
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

impl fmt::Display for Publication {
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

impl Publication {
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
