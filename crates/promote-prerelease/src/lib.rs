//! The promote-prerelease action: a tested pre-release (`v1.2.0-pre.145+abc1234`) becomes a
//! release (`v1.3.0`) of the same commit, its images the same digests, its gates checked; a
//! rollback promotes an older pre-release the same way, and says so.
//!
//! Written as plan, then checks, then apply. [`plan`] reads the repository, the forge and the
//! registry: the pre-release and its release manifest, the direction (a rollback is told by the
//! history, not by a flag: the pre-release's commit does not contain the release production
//! runs), the version rules ([`relkit_version::check_promotion`]), the guard against bringing a
//! rolled-back build back, the gates (open blocker issues, the commit's checks, the images of
//! the last stable releases), every image tag with its current and target digest, and the
//! release to publish. Every failed check is collected into [`Plan::failures`], so one run
//! names them all and `--dry-run` shows the whole plan. [`apply`] then writes, in an order
//! that survives interruption: the release tag (the lock: of two promotions of one version, one
//! makes it, the other finds it at the same commit), each image tag by manifest copy, read back
//! to prove it holds the digest, then the release as a draft, its assets and manifest, and
//! publishing last. Every step checks what is there, so a re-run converges.

mod error;
mod images;

use std::collections::{HashMap, HashSet};
use std::fmt;
use std::path::PathBuf;

use relkit_changelog::{ConfigSource, Range, RepoLinks, Request};
use relkit_forge::{CheckState, Forge, MakeLatest, Release, Sha256};
use relkit_git::Repository;
use relkit_registry::Client;
use relkit_release::{
    Draft, LocalAsset, MANIFEST, ManifestImage, Promotion, Publication, ReleaseManifest, Rollback,
    SCHEMA_VERSION, SUMS,
};
use relkit_version::{
    Bump, ExistingRelease, PromotionRequest, Step, Stream, TaggedVersion, Version, VersionKind,
    check_promotion,
};

pub use error::Error;
pub use images::{ImagePlan, TagPlan, TagStep};

/// Which pre-release to promote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PrereleaseChoice {
    /// This tag (`v1.2.0-pre.145+abc1234`, `edge/v1.4.0-rc.1`).
    Tag(String),
    /// The stream's newest pre-release or release candidate: of the newest commit, then the
    /// highest version.
    Latest,
}

/// Which version the release gets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReleaseChoice {
    Version(Version),
    /// The version the commits since the previous full release call for.
    Auto,
}

/// Which floating tags move.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Floating {
    pub latest: bool,
    /// `v1.3`
    pub minor: bool,
    /// `v1`
    pub major: bool,
}

impl Default for Floating {
    fn default() -> Self {
        Self {
            latest: true,
            minor: true,
            major: true,
        }
    }
}

/// The validated inputs of one promotion.
#[derive(Debug, Clone)]
pub struct Config {
    /// A directory inside the repository.
    pub repo: PathBuf,
    pub stream: Stream,
    /// Only commits that change files matching these globs count for the version and the notes
    /// (a stream that is one part of the repository: `edge/**`).
    pub include_paths: Vec<String>,
    /// Leave out commits that change only files matching these globs.
    pub exclude_paths: Vec<String>,
    pub prerelease: PrereleaseChoice,
    pub release: ReleaseChoice,
    /// The user's word that this goes back; the history decides, and both must agree.
    pub is_rollback: bool,
    /// The repositories to promote (`ghcr.io/acme/api`, or a pins name); `None`: every image
    /// the pre-release's manifest records.
    pub images: Option<Vec<String>>,
    pub floating: Floating,
    /// Open issues with any of these labels block a forward promotion.
    pub blocker_labels: Vec<String>,
    /// The commit's checks must all have passed.
    pub require_checks: bool,
    /// No checks reported counts as passed.
    pub allow_no_checks: bool,
    /// The last this many full releases before this one must still have their images.
    pub keep_stable: usize,
    /// Failed gates (blockers, checks, stable images) go ahead; needs `override_reason`.
    pub override_gates: bool,
    /// Why: recorded in the release. Alone, it lets a rolled-back build be promoted again.
    pub override_reason: Option<String>,
    /// Refuse a version whose bump differs from what the commits call for.
    pub strict_bump: bool,
    /// The git-cliff configuration of the notes.
    pub notes_config: ConfigSource,
    /// The release notes from this file instead of the changelog (which still decides the bump).
    pub notes_file: Option<PathBuf>,
    pub links: Option<RepoLinks>,
    /// Who runs it and the workflow run, for the manifest.
    pub actor: Option<String>,
    pub run_url: Option<String>,
}

/// The pre-release being promoted.
#[derive(Debug, Clone)]
pub struct Source {
    pub tag: String,
    pub version: Version,
    pub commit: String,
    pub manifest: Option<ReleaseManifest>,
}

/// Where the promotion goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Direction {
    /// The pre-release contains what production runs (or nothing was released yet).
    Forward,
    /// It does not: production, on `from`, goes back to an older build.
    Rollback { from: String },
}

/// How a gate came out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GateOutcome {
    Passed,
    Failed,
    /// Not asked, and why is in the detail.
    Skipped,
    /// Failed, and overridden with the reason.
    Overridden,
}

/// One gate and what it found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Gate {
    pub name: String,
    pub outcome: GateOutcome,
    pub detail: String,
}

/// Everything a promotion would change and every check, decided before any change.
#[derive(Debug, Clone)]
pub struct Plan {
    pub source: Source,
    pub version: Version,
    pub tag: String,
    pub direction: Direction,
    /// The bump from the release below, and the one the commits call for.
    pub bump: Bump,
    pub commits_call_for: Bump,
    pub gates: Vec<Gate>,
    pub images: Vec<ImagePlan>,
    /// Every check that failed; the promotion goes ahead only when there is none.
    pub failures: Vec<String>,
    /// What a person should look at, though it is allowed.
    pub warnings: Vec<String>,
    /// The release to publish; `None` when the failures keep it from being planned, or for a
    /// rollback to a version the build had before ([`Plan::reuse`]).
    pub publication: Option<Publication>,
    /// The release a rollback re-uses, and the record it gets.
    pub reuse: Option<Reuse>,
    /// Who runs it and where, for the audit log.
    pub actor: Option<String>,
    pub run_url: Option<String>,
    /// The directory of the pre-release's assets, removed with the last copy of the plan.
    _assets: std::sync::Arc<tempfile::TempDir>,
}

/// What a promotion made.
#[derive(Debug, Clone)]
pub struct Outcome {
    pub release: Release,
    /// Every mutation of this run, in order.
    pub audit: Vec<AuditEntry>,
}

impl Outcome {
    /// The audit log as JSON lines, `audit.jsonl` as it is attached.
    pub fn audit_jsonl(&self) -> String {
        jsonl(&self.audit)
    }
}

fn jsonl(entries: &[AuditEntry]) -> String {
    entries
        .iter()
        .filter_map(|e| serde_json::to_string(e).ok())
        .map(|line| format!("{line}\n"))
        .collect()
}

/// One mutation, as the audit log (`audit.jsonl`, a JSON object a line) records it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct AuditEntry {
    /// UTC, RFC 3339.
    pub at: String,
    /// `tag`, `image tag`, `release`, `asset`, `publish`.
    pub what: &'static str,
    /// The tag, image reference or asset name.
    pub target: String,
    pub before: Option<String>,
    pub after: String,
    pub by: Option<String>,
    pub run_url: Option<String>,
}

/// The audit log of one run.
struct Audit<'p> {
    plan: &'p Plan,
    entries: Vec<AuditEntry>,
}

impl Audit<'_> {
    fn record(&mut self, what: &'static str, target: &str, before: Option<String>, after: String) {
        self.entries.push(AuditEntry {
            at: humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string(),
            what,
            target: target.to_owned(),
            before,
            after,
            by: self.plan.actor.clone(),
            run_url: self.plan.run_url.clone(),
        });
    }

    fn text(&self) -> String {
        jsonl(&self.entries)
    }
}

/// The stream's tags with their commits, as this repository has them.
struct Tags {
    all: Vec<TaggedVersion>,
    commits: HashMap<String, String>,
    /// The committer time of each tag's commit.
    times: HashMap<String, i64>,
}

impl Tags {
    fn commit(&self, tag: &str) -> Option<&str> {
        self.commits.get(tag).map(String::as_str)
    }

    fn full(&self) -> impl Iterator<Item = &TaggedVersion> {
        self.all
            .iter()
            .filter(|t| VersionKind::of(&t.version).is_full())
    }
}

/// Decides what a promotion changes and checks it. Reads the repository, the forge and the
/// registry; writes nothing.
pub async fn plan<F: Forge>(forge: &F, registry: &Client, config: &Config) -> Result<Plan, Error> {
    let repo = Repository::discover(&config.repo)?;
    if repo.is_shallow()? {
        return Err(Error::ShallowClone {
            path: repo.root().to_path_buf(),
        });
    }
    let refs = repo.tags()?;
    let tags = Tags {
        all: config
            .stream
            .releases(refs.iter().map(|t| t.ref_name.as_str())),
        commits: refs
            .iter()
            .map(|t| (t.ref_name.clone(), t.commit.clone()))
            .collect(),
        times: refs
            .iter()
            .map(|t| (t.ref_name.clone(), t.commit_time))
            .collect(),
    };
    let source = source(forge, config, &tags).await?;
    let mut failures = Vec::new();
    let mut warnings = Vec::new();

    // The direction, from the history: production runs the stream's highest full release.
    let reachable: HashSet<String> = repo.reachable(&source.commit)?.into_iter().collect();
    // Releases of the source commit itself are this promotion's own (a re-run, or the version a
    // rollback re-uses), not what it goes forward or back from.
    let production = tags
        .full()
        .filter(|t| tags.commit(&t.tag) != Some(source.commit.as_str()))
        .max_by(|a, b| a.version.cmp(&b.version));
    let direction = match production {
        Some(p) if tags.commit(&p.tag).is_some_and(|c| !reachable.contains(c)) => {
            Direction::Rollback {
                from: p.tag.clone(),
            }
        }
        _ => Direction::Forward,
    };
    match (&direction, config.is_rollback) {
        (Direction::Rollback { from }, false) => failures.push(format!(
            "{} is older than {from}, which production runs: set is-rollback to confirm the rollback",
            source.tag
        )),
        (Direction::Forward, true) => failures.push(format!(
            "is-rollback is set, but {} contains {}: this promotion goes forward",
            source.tag,
            production.map_or("every release", |p| p.tag.as_str())
        )),
        _ => {}
    }
    let is_rollback = matches!(direction, Direction::Rollback { .. });

    // The version and the notes, from the commits since the release below it.
    let in_history = |t: &&TaggedVersion| {
        tags.commit(&t.tag)
            .is_some_and(|c| reachable.contains(c) && c != source.commit)
    };
    let newest_before = tags
        .full()
        .filter(in_history)
        .max_by(|a, b| a.version.cmp(&b.version));
    let version = match &config.release {
        ReleaseChoice::Version(v) => v.clone(),
        ReleaseChoice::Auto => {
            let notes = notes(
                &repo,
                config,
                newest_before.map(|t| t.tag.as_str()),
                &source,
                None,
            )?;
            if notes.decision.bump == Bump::None {
                return Err(Error::NothingToRelease {
                    previous: newest_before
                        .map_or_else(|| "the first commit".to_owned(), |t| t.tag.clone()),
                });
            }
            notes.decision.next
        }
    };
    let tag = config.stream.tag_name(&version);
    let previous = tags
        .full()
        .filter(in_history)
        .filter(|t| t.version < version)
        .max_by(|a, b| a.version.cmp(&b.version));
    let notes = notes(
        &repo,
        config,
        previous.map(|t| t.tag.as_str()),
        &source,
        Some(&version),
    )?;
    let zero = Version::new(0, 0, 0);
    let base = previous.map_or(&zero, |p| &p.version);
    let commits_call_for = Step::between(base, &notes.called_for).bump();
    let bump = Step::between(base, &version).bump();

    let existing: Vec<ExistingRelease> = tags
        .all
        .iter()
        .map(|t| ExistingRelease {
            version: t.version.clone(),
            commit: tags.commit(&t.tag).map(str::to_owned),
        })
        .collect();
    match check_promotion(&PromotionRequest {
        stream: config.stream.clone(),
        release: version.clone(),
        prerelease: source.version.clone(),
        existing,
        target_commit: source.commit.clone(),
        is_rollback,
        commits_bump: commits_call_for,
        strict: config.strict_bump,
    }) {
        Ok(report) => {
            if let Some(mismatch) = report.mismatch {
                warnings.push(format!("{mismatch}: check the version (the notes say why)"));
            }
        }
        Err(
            e @ (relkit_version::PromotionError::HasPrerelease { .. }
            | relkit_version::PromotionError::HasBuildMetadata { .. }),
        ) => return Err(e.into()),
        Err(e) => failures.push(e.to_string()),
    }

    // What the stream's releases recorded: the rollbacks, and the images of stable releases.
    let releases = forge.releases().await?;
    let full: Vec<&TaggedVersion> = tags.full().collect();
    let mut manifests: HashMap<String, ReleaseManifest> = HashMap::new();
    for release in &releases {
        if full.iter().any(|t| t.tag == release.tag)
            && let Some(manifest) = relkit_release::read_manifest(forge, release).await?
        {
            manifests.insert(release.tag.clone(), manifest);
        }
    }
    // A failed gate goes ahead only with the reason to record; the rolled-back build guard
    // takes the reason alone, the gates `override_gates` as well.
    let gate_reason = config
        .override_reason
        .as_ref()
        .filter(|_| config.override_gates);
    let guard_reason = config.override_reason.as_ref();
    let overridden = |failure: String,
                      failures: &mut Vec<String>,
                      gates: &mut Vec<Gate>,
                      name: &str,
                      reason: Option<&String>| {
        match reason {
            Some(reason) => gates.push(Gate {
                name: name.to_owned(),
                outcome: GateOutcome::Overridden,
                detail: format!("{failure}; overridden: {reason}"),
            }),
            None => {
                failures.push(failure.clone());
                gates.push(Gate {
                    name: name.to_owned(),
                    outcome: GateOutcome::Failed,
                    detail: failure,
                });
            }
        }
    };
    let mut gates = Vec::new();

    // The guard: a build production was rolled back from does not come back by accident.
    let mut rolled_back_from: Vec<(String, String)> = manifests
        .values()
        .filter_map(|m| {
            let from = m.promotion.as_ref()?.rollback.as_ref()?;
            Some((from.from.clone(), m.tag.clone()))
        })
        .collect();
    // Rollbacks to a version the build had before are recorded beside that release.
    for release in releases
        .iter()
        .filter(|r| full.iter().any(|t| t.tag == r.tag))
    {
        for asset in release
            .assets
            .iter()
            .filter(|a| a.name.starts_with("rollback-from-") && a.name.ends_with(".json"))
        {
            let bytes = forge.download_asset(asset).await?;
            match serde_json::from_slice::<Promotion>(&bytes) {
                Ok(Promotion {
                    rollback: Some(rollback),
                    ..
                }) => rolled_back_from.push((rollback.from, release.tag.clone())),
                Ok(_) => {}
                Err(e) => failures.push(format!(
                    "{} of {} is not a rollback record: {e}",
                    asset.name, release.tag
                )),
            }
        }
    }
    rolled_back_from.sort_unstable();
    let bad: Vec<String> = rolled_back_from
        .iter()
        .filter(|(from, _)| tags.commit(from.as_str()) == Some(source.commit.as_str()))
        .map(|(from, by)| format!("{from} (rolled back by {by})"))
        .collect();
    if bad.is_empty() {
        gates.push(Gate {
            name: "rolled-back builds".to_owned(),
            outcome: GateOutcome::Passed,
            detail: format!(
                "production was never rolled back from commit {}",
                short(&source.commit)
            ),
        });
    } else {
        overridden(
            format!(
                "commit {} is the build of {}: promoting it again needs --override-reason",
                short(&source.commit),
                bad.join(", ")
            ),
            &mut failures,
            &mut gates,
            "rolled-back builds",
            guard_reason,
        );
    }
    if is_rollback
        && !tags
            .full()
            .any(|t| tags.commit(&t.tag) == Some(source.commit.as_str()))
    {
        warnings.push(format!(
            "production never ran commit {}: no full release was made from it",
            short(&source.commit)
        ));
    }

    // Open blockers: listed by label, one label at a time (GitHub's filter is AND, Gitea's OR).
    if is_rollback {
        gates.push(Gate {
            name: "blockers".to_owned(),
            outcome: GateOutcome::Skipped,
            detail: "a rollback goes ahead whatever blocks a release: the blocker is usually why"
                .to_owned(),
        });
    } else if !config.blocker_labels.is_empty() {
        let mut open: Vec<String> = Vec::new();
        for label in &config.blocker_labels {
            for issue in forge.open_issues_with_label(label).await? {
                let line = format!("#{} {} ({label})", issue.number, issue.title);
                if !open
                    .iter()
                    .any(|o| o.starts_with(&format!("#{} ", issue.number)))
                {
                    open.push(line);
                }
            }
        }
        if open.is_empty() {
            gates.push(Gate {
                name: "blockers".to_owned(),
                outcome: GateOutcome::Passed,
                detail: format!(
                    "no open issue labelled {}",
                    config.blocker_labels.join(", ")
                ),
            });
        } else {
            overridden(
                format!("open blockers: {}", open.join("; ")),
                &mut failures,
                &mut gates,
                "blockers",
                gate_reason,
            );
        }
    }

    // The commit's checks.
    if !config.require_checks {
        gates.push(skipped("checks", "--require-checks is false"));
    } else if !forge.reports_checks() {
        gates.push(skipped(
            "checks",
            &format!("{} runs no checks", forge.describe()),
        ));
    } else {
        let checks = forge.checks(&source.commit).await?;
        let not_green: Vec<String> = checks
            .checks
            .iter()
            .filter(|(_, state)| *state != CheckState::Success)
            .map(|(name, state)| format!("{name} ({})", state_name(*state)))
            .collect();
        if !not_green.is_empty() {
            overridden(
                format!(
                    "checks of {} not green: {}",
                    short(&source.commit),
                    not_green.join(", ")
                ),
                &mut failures,
                &mut gates,
                "checks",
                gate_reason,
            );
        } else if checks.checks.is_empty() && !config.allow_no_checks {
            overridden(
                format!(
                    "no checks reported for {}: \"none\" is not green (--allow-no-checks says it is)",
                    short(&source.commit)
                ),
                &mut failures,
                &mut gates,
                "checks",
                gate_reason,
            );
        } else {
            gates.push(Gate {
                name: "checks".to_owned(),
                outcome: GateOutcome::Passed,
                detail: if checks.checks.is_empty() {
                    "none reported, which --allow-no-checks allows".to_owned()
                } else {
                    format!("{} green", checks.checks.len())
                },
            });
        }
    }

    // The last stable releases keep their images, ready for a rollback.
    if config.keep_stable > 0 {
        let mut stable: Vec<&TaggedVersion> = tags.full().filter(|t| t.version < version).collect();
        stable.sort_by(|a, b| b.version.cmp(&a.version));
        stable.truncate(config.keep_stable);
        let mut missing = Vec::new();
        let mut unrecorded = Vec::new();
        for release in &stable {
            match manifests.get(&release.tag) {
                Some(manifest) => missing.extend(images::still_there(registry, manifest).await?),
                None => unrecorded.push(release.tag.clone()),
            }
        }
        if !unrecorded.is_empty() {
            warnings.push(format!(
                "{} {} no release manifest: {} images cannot be checked",
                unrecorded.join(", "),
                if unrecorded.len() == 1 { "has" } else { "have" },
                if unrecorded.len() == 1 {
                    "its"
                } else {
                    "their"
                },
            ));
        }
        let name = format!("keep {} stable", config.keep_stable);
        if missing.is_empty() {
            let checked: Vec<&str> = stable
                .iter()
                .map(|t| t.tag.as_str())
                .filter(|t| !unrecorded.iter().any(|u| u == t))
                .collect();
            gates.push(Gate {
                name,
                outcome: GateOutcome::Passed,
                detail: match (checked.as_slice(), stable.is_empty()) {
                    (_, true) => "no release before this one".to_owned(),
                    ([], false) => "no release before this one records its images".to_owned(),
                    ([one], false) => format!("{one} still has its images"),
                    (more, false) => format!("{} still have their images", more.join(", ")),
                },
            });
        } else {
            overridden(
                missing.join("; "),
                &mut failures,
                &mut gates,
                &name,
                gate_reason,
            );
        }
    }

    // The images, each the digest the pre-release was tested with.
    let recorded = match recorded_images(config, &source) {
        Ok(recorded) => recorded,
        Err(e @ (Error::ImageNotRecorded { .. } | Error::NoManifest { .. })) => {
            failures.push(e.to_string());
            Vec::new()
        }
        Err(e) => return Err(e),
    };
    if source.manifest.is_none() {
        warnings.push(format!(
            "{} has no release manifest: no image digests are known, so no image is promoted",
            source.tag
        ));
    }
    let full_versions: Vec<Version> = tags.full().map(|t| t.version.clone()).collect();
    let images = images::plan(
        registry,
        &recorded,
        &images::Request {
            stream: &config.stream,
            prerelease: &source.version,
            release: &version,
            full_releases: &full_versions,
            is_rollback,
            floating: config.floating,
        },
        &mut failures,
    )
    .await?;

    // A rollback to the version this build had before (v1.2.9 again): that release stays as it
    // was published, and the rollback is recorded beside it, in an asset of its own.
    let rollback_from = match &direction {
        Direction::Rollback { from } => Some(from.as_str()),
        Direction::Forward => None,
    };
    let reused = rollback_from
        .filter(|_| tags.commit(&tag) == Some(source.commit.as_str()))
        .and_then(|from| {
            let release = releases.iter().find(|r| r.tag == tag && !r.draft)?;
            // A release whose own manifest records this rollback is this promotion's, re-run.
            let own = manifests.get(&tag).is_some_and(|m| {
                m.promotion
                    .as_ref()
                    .and_then(|p| p.rollback.as_ref())
                    .is_some_and(|r| r.from == from)
            });
            (!own).then_some((release, from))
        });
    let (dir, publication, reuse) = if let Some((release, from)) = reused {
        let dir = temp_dir()?;
        let record = Promotion {
            from: source.tag.clone(),
            rollback: Some(Rollback {
                from: from.to_owned(),
            }),
            actor: config.actor.clone(),
            run_url: config.run_url.clone(),
            override_reason: config.override_reason.clone(),
        };
        let name = record_name(from);
        let text = format!(
            "{}\n",
            serde_json::to_string_pretty(&record).unwrap_or_default()
        );
        let path = dir.path().join(&name);
        std::fs::write(&path, &text).map_err(|e| Error::Io {
            path: path.clone(),
            source: e,
        })?;
        // The name says which rollback it records: one already there is this one, whoever ran it.
        let upload = !release.assets.iter().any(|a| a.name == name);
        let reuse = Reuse {
            release: release.clone(),
            record: LocalAsset {
                name,
                size: text.len() as u64,
                sha256: Sha256::of(text.as_bytes()),
                path,
            },
            upload,
        };
        (dir, None, Some(reuse))
    } else {
        // The release: the pre-release's assets, checked against its sums, and a new manifest.
        let (dir, files) = assets(forge, &source, &releases, &mut failures).await?;
        let mut manifest = ReleaseManifest {
            schema_version: SCHEMA_VERSION,
            stream: config.stream.prefix().to_owned(),
            tag: tag.clone(),
            version: version.clone(),
            commit: source.commit.clone(),
            assets: relkit_release::manifest_assets(&files),
            images: images
                .iter()
                .map(|i| ManifestImage {
                    name: i.name.clone(),
                    repository: i.repository.clone(),
                    tag: i.targets.first().map(|t| t.tag.clone()),
                    digest: i.digest.clone(),
                })
                .collect(),
            promotion: Some(Promotion {
                from: source.tag.clone(),
                rollback: match &direction {
                    Direction::Rollback { from } => Some(Rollback { from: from.clone() }),
                    Direction::Forward => None,
                },
                actor: config.actor.clone(),
                run_url: config.run_url.clone(),
                override_reason: config.override_reason.clone(),
            }),
        };
        // A run that stopped after it attached the manifest is resumed by any run, whoever
        // starts it: the manifest already there records this promotion.
        if let Some(existing) = manifests.get(&tag)
            && same_promotion(existing, &manifest)
        {
            manifest = existing.clone();
        }
        let body = match &config.notes_file {
            Some(path) => std::fs::read_to_string(path).map_err(|e| Error::NotesFile {
                path: path.clone(),
                source: e,
            })?,
            None => notes.markdown,
        };
        let draft = Draft {
            tag: tag.clone(),
            commit: source.commit.clone(),
            name: tag.clone(),
            body,
            prerelease: false,
            make_latest: MakeLatest::True,
            draft: false,
            files,
            manifest,
            replace_assets: false,
        };
        let publication = match relkit_release::plan(forge, &repo, draft).await {
            Ok(publication) => {
                warnings.extend(publication.warnings.iter().cloned());
                Some(publication)
            }
            Err(e) if e.is_bad_input() && !failures.is_empty() => {
                failures.push(e.to_string());
                None
            }
            Err(e) => return Err(e.into()),
        };
        (dir, publication, None)
    };

    Ok(Plan {
        source,
        version,
        tag,
        direction,
        bump,
        commits_call_for,
        gates,
        images,
        failures,
        warnings,
        publication,
        reuse,
        actor: config.actor.clone(),
        run_url: config.run_url.clone(),
        _assets: std::sync::Arc::new(dir),
    })
}

/// A rollback to a version the build had before: its release is kept as it is.
#[derive(Debug, Clone)]
pub struct Reuse {
    pub release: Release,
    /// `rollback-from-v1.3.0.json`: the promotion record of the rollback.
    pub record: LocalAsset,
    /// Whether the record is still to be attached.
    pub upload: bool,
}

/// The asset that records a rollback from `from` on the release it went back to.
fn record_name(from: &str) -> String {
    format!("rollback-from-{}.json", from.replace('/', "-"))
}

/// Whether two manifests record the same promotion: everything equal but who ran it and where.
fn same_promotion(a: &ReleaseManifest, b: &ReleaseManifest) -> bool {
    let strip = |m: &ReleaseManifest| {
        let mut m = m.clone();
        if let Some(p) = &mut m.promotion {
            p.actor = None;
            p.run_url = None;
        }
        m
    };
    strip(a) == strip(b)
}

fn temp_dir() -> Result<tempfile::TempDir, Error> {
    tempfile::Builder::new()
        .prefix("relkit-promote-")
        .tempdir()
        .map_err(|source| Error::Io {
            path: std::env::temp_dir(),
            source,
        })
}

/// The pre-release the choice names, with its commit and manifest.
async fn source<F: Forge>(forge: &F, config: &Config, tags: &Tags) -> Result<Source, Error> {
    let prefix = config.stream.prefix().to_owned();
    let chosen = match &config.prerelease {
        // The newest build: pre-releases of one commit line are named from different bases
        // (`1.0.0-pre.3` after `1.0.1-pre.2` when the naming changed), so versions don't say
        // which came last; the commit's time does, and the version breaks a tie.
        PrereleaseChoice::Latest => tags
            .all
            .iter()
            .filter(|t| !VersionKind::of(&t.version).is_full())
            .max_by(|a, b| {
                let time = |t: &TaggedVersion| tags.times.get(&t.tag).copied().unwrap_or(0);
                (time(a), &a.version).cmp(&(time(b), &b.version))
            })
            .cloned()
            .ok_or(Error::NoPrerelease { prefix })?,
        PrereleaseChoice::Tag(tag) => {
            let version = config
                .stream
                .parse_tag(tag)
                .ok_or_else(|| Error::NotInStream {
                    tag: tag.clone(),
                    prefix: prefix.clone(),
                })?;
            if tags.commit(tag).is_none() {
                return Err(Error::NoSuchPrerelease { tag: tag.clone() });
            }
            if VersionKind::of(&version).is_full() {
                return Err(Error::NotAPrerelease { tag: tag.clone() });
            }
            TaggedVersion {
                version,
                tag: tag.clone(),
            }
        }
    };
    let commit = tags
        .commit(&chosen.tag)
        .ok_or_else(|| Error::NoSuchPrerelease {
            tag: chosen.tag.clone(),
        })?
        .to_owned();
    let release = relkit_release::find_release(forge, &chosen.tag)
        .await?
        .ok_or_else(|| Error::NoPrereleaseRelease {
            tag: chosen.tag.clone(),
            forge: forge.describe(),
        })?;
    let manifest = relkit_release::read_manifest(forge, &release).await?;
    if let Some(m) = &manifest
        && (m.tag != chosen.tag || m.commit != commit)
    {
        return Err(
            relkit_release::Error::Manifest(relkit_release::ManifestError::Field {
                origin: format!("{MANIFEST} of {}", chosen.tag),
                field: "tag and commit".to_owned(),
                value: format!("{} at {}", m.tag, short(&m.commit)),
                rule: "are not the release's own",
            })
            .into(),
        );
    }
    Ok(Source {
        tag: chosen.tag,
        version: chosen.version,
        commit,
        manifest,
    })
}

/// The images to promote: what the pre-release recorded, or the part of it `--images` names.
fn recorded_images(config: &Config, source: &Source) -> Result<Vec<ManifestImage>, Error> {
    let Some(manifest) = &source.manifest else {
        return match &config.images {
            Some(wanted) if !wanted.is_empty() => Err(Error::NoManifest {
                tag: source.tag.clone(),
                repositories: wanted.join(", "),
            }),
            _ => Ok(Vec::new()),
        };
    };
    let Some(wanted) = &config.images else {
        return Ok(manifest.images.clone());
    };
    wanted
        .iter()
        .map(|repository| {
            let normalised = repository
                .parse::<relkit_registry::Reference>()
                .map(|r| r.name())
                .unwrap_or_else(|_| repository.clone());
            manifest
                .image(&normalised)
                .or_else(|| manifest.image(repository))
                .cloned()
                .ok_or_else(|| Error::ImageNotRecorded {
                    repository: repository.clone(),
                    tag: source.tag.clone(),
                    recorded: if manifest.images.is_empty() {
                        "no image".to_owned()
                    } else {
                        manifest
                            .images
                            .iter()
                            .map(|i| i.repository.as_str())
                            .collect::<Vec<_>>()
                            .join(", ")
                    },
                })
        })
        .collect()
}

/// The pre-release's own assets (not its sums and manifest, which the release makes anew),
/// downloaded and checked against what the pre-release recorded of them.
async fn assets<F: Forge>(
    forge: &F,
    source: &Source,
    releases: &[Release],
    failures: &mut Vec<String>,
) -> Result<(tempfile::TempDir, Vec<LocalAsset>), Error> {
    let dir = temp_dir()?;
    let Some(release) = releases.iter().find(|r| r.tag == source.tag) else {
        return Ok((dir, Vec::new()));
    };
    let sums: HashMap<String, String> = match release.assets.iter().find(|a| a.name == SUMS) {
        Some(asset) => String::from_utf8_lossy(&forge.download_asset(asset).await?)
            .lines()
            .filter_map(|l| l.split_once("  "))
            .map(|(hex, name)| (name.to_owned(), hex.to_owned()))
            .collect(),
        None => HashMap::new(),
    };
    let mut files = Vec::new();
    for asset in &release.assets {
        if asset.name == SUMS || asset.name == MANIFEST || relkit_release::is_record(&asset.name) {
            continue;
        }
        let bytes = forge.download_asset(asset).await?;
        let sha256 = Sha256::of(&bytes);
        let recorded = [
            (SUMS, sums.get(&asset.name).cloned()),
            (
                MANIFEST,
                source.manifest.as_ref().and_then(|m| {
                    m.assets
                        .iter()
                        .find(|a| a.name == asset.name)
                        .map(|a| a.sha256.clone())
                }),
            ),
        ];
        if recorded.iter().all(|(_, expected)| expected.is_none()) {
            failures.push(format!(
                "asset {} of {} is in neither its SHA256SUMS nor its manifest: what was tested is unknown",
                asset.name, source.tag
            ));
            continue;
        }
        let mut matches = true;
        for (list, expected) in recorded {
            if let Some(expected) = expected
                && expected != sha256.to_string()
            {
                failures.push(
                    Error::AssetSum {
                        name: asset.name.clone(),
                        tag: source.tag.clone(),
                        list,
                        expected,
                        actual: sha256.to_string(),
                    }
                    .to_string(),
                );
                matches = false;
            }
        }
        if !matches {
            continue;
        }
        let path = dir.path().join(&asset.name);
        std::fs::write(&path, &bytes).map_err(|e| Error::Io {
            path: path.clone(),
            source: e,
        })?;
        files.push(LocalAsset {
            name: asset.name.clone(),
            path,
            size: bytes.len() as u64,
            sha256,
        });
    }
    files.sort_by(|a, b| a.name.cmp(&b.name));
    Ok((dir, files))
}

/// The notes of the release: the commits after `after` up to the pre-release's commit.
fn notes(
    repo: &Repository,
    config: &Config,
    after: Option<&str>,
    source: &Source,
    version: Option<&Version>,
) -> Result<relkit_changelog::Notes, Error> {
    Ok(relkit_changelog::generate(&Request {
        repo: repo.root().to_path_buf(),
        stream: config.stream.clone(),
        range: Range::Release {
            after: after.map(str::to_owned),
            to: source.commit.clone(),
        },
        include_paths: config.include_paths.clone(),
        exclude_paths: config.exclude_paths.clone(),
        config: config.notes_config.clone(),
        links: config.links.clone(),
        first_release: true,
        next_version: version.cloned(),
        next_version_source: Some("--release-version"),
    })?)
}

/// Carries out a plan without failures, reporting each change through `log` as it is made.
pub async fn apply<F: Forge>(
    forge: &F,
    registry: &Client,
    plan: &Plan,
    log: &mut dyn FnMut(&str),
) -> Result<Outcome, Error> {
    if !plan.failures.is_empty() || (plan.publication.is_none() && plan.reuse.is_none()) {
        return Err(Error::Refused {
            failures: plan.failures.clone(),
        });
    }
    let mut audit = Audit {
        plan,
        entries: Vec::new(),
    };
    if let Some(publication) = &plan.publication {
        relkit_release::apply_tag(forge, publication, true, log).await?;
        if publication.tag_step == relkit_release::Presence::Create {
            audit.record("tag", &publication.tag, None, publication.commit.clone());
        }
    }
    for image in &plan.images {
        let writes: Vec<&TagPlan> = image
            .targets
            .iter()
            .filter(|t| matches!(t.step, TagStep::Create | TagStep::Move))
            .collect();
        if writes.is_empty() {
            continue;
        }
        // One read of the manifest for all its tags, checked against the tested digest.
        let manifest = registry.manifest(&image.source()?).await?;
        for target in writes {
            let reference = image.target(&target.tag)?;
            // Only from what the plan saw: another promotion that moved a floating tag since may
            // be the newer one, and an exact tag made since is another run's.
            match registry
                .put_tag(&reference, &manifest, target.current.as_ref())
                .await
            {
                Ok(relkit_registry::Retagged::Unchanged { .. }) => continue,
                Ok(_) => {}
                Err(relkit_registry::Error::TagHoldsOther { current, .. }) => {
                    return Err(Error::ImageReadBack {
                        reference: reference.to_string(),
                        what: format!(
                            "it holds {current} since the plan, which saw {}",
                            target
                                .current
                                .as_ref()
                                .map_or_else(|| "no such tag".to_owned(), ToString::to_string)
                        ),
                    });
                }
                Err(e) => return Err(e.into()),
            }
            log(&match &target.current {
                Some(previous) => format!(
                    "moved image tag {reference} to {} (from {previous})",
                    image.digest
                ),
                None => format!("created image tag {reference} at {}", image.digest),
            });
            audit.record(
                "image tag",
                &reference.to_string(),
                target.current.as_ref().map(ToString::to_string),
                image.digest.to_string(),
            );
        }
    }
    if let Some(publication) = &plan.publication {
        let release = relkit_release::apply_assets(forge, publication, log).await?;
        match &publication.release {
            relkit_release::ReleaseStep::Create => {
                audit.record("release", &publication.tag, None, "draft".to_owned());
            }
            relkit_release::ReleaseStep::Update(_, changes) => audit.record(
                "release",
                &publication.tag,
                None,
                format!("updated: {}", changes.join(", ")),
            ),
            relkit_release::ReleaseStep::Keep(_) => {}
        }
        for asset in &publication.assets {
            let before = match &asset.step {
                relkit_release::AssetStep::Keep => continue,
                relkit_release::AssetStep::Upload => None,
                relkit_release::AssetStep::Replace(old) => old.digest.map(|d| d.to_string()),
            };
            audit.record(
                "asset",
                &asset.file.name,
                before,
                asset.file.sha256.to_string(),
            );
        }
        // The log goes with the release, before publishing freezes it: what this run changed.
        // (Publishing, the last step, shows on the release itself.)
        if !audit.entries.is_empty() && !release.immutable {
            attach_audit(forge, &release, &audit, log).await?;
        }
        let outcome = relkit_release::apply_publish(forge, publication, release, log).await?;
        if publication.publish
            && !matches!(&publication.release, relkit_release::ReleaseStep::Keep(r) if !r.draft)
        {
            audit.record(
                "publish",
                &publication.tag,
                Some("draft".to_owned()),
                "published".to_owned(),
            );
        }
        return Ok(Outcome {
            release: outcome.release,
            audit: audit.entries,
        });
    }
    let Some(reuse) = &plan.reuse else {
        return Err(Error::Refused {
            failures: plan.failures.clone(),
        });
    };
    if reuse.upload {
        // Attached by a run that stopped before it could say so: the name is the record.
        attach_json(
            forge,
            &reuse.release,
            &reuse.record.name,
            &reuse.record.path,
        )
        .await?;
        log(&format!(
            "recorded the rollback on {} as {}",
            reuse.release.tag, reuse.record.name
        ));
        audit.record(
            "asset",
            &reuse.record.name,
            None,
            reuse.record.sha256.to_string(),
        );
    }
    let release = relkit_release::find_release(forge, &reuse.release.tag)
        .await?
        .unwrap_or_else(|| reuse.release.clone());
    Ok(Outcome {
        release,
        audit: audit.entries,
    })
}

/// Attaches this run's audit log to `release`: `audit.jsonl`, or `audit-2.jsonl`… when a run
/// before it left one.
async fn attach_audit<F: Forge>(
    forge: &F,
    release: &Release,
    audit: &Audit<'_>,
    log: &mut dyn FnMut(&str),
) -> Result<(), Error> {
    let taken = |name: &str| release.assets.iter().any(|a| a.name == name);
    let name = (1..)
        .map(|n| match n {
            1 => "audit.jsonl".to_owned(),
            n => format!("audit-{n}.jsonl"),
        })
        .find(|name| !taken(name))
        .unwrap_or_else(|| "audit.jsonl".to_owned());
    let dir = temp_dir()?;
    let path = dir.path().join(&name);
    std::fs::write(&path, audit.text()).map_err(|e| Error::Io {
        path: path.clone(),
        source: e,
    })?;
    // A lost answer: the log this run made is there.
    attach_json(forge, release, &name, &path).await?;
    log(&format!("attached the audit log as {name}"));
    Ok(())
}

/// Attaches one of relkit's JSON records to `release`; one already there under its name is this
/// run's or a run's before it that stopped before it could say so. A failure here comes after
/// writes began.
async fn attach_json<F: Forge>(
    forge: &F,
    release: &Release,
    name: &str,
    path: &std::path::Path,
) -> Result<(), Error> {
    let upload = relkit_forge::AssetUpload {
        name: name.to_owned(),
        path: path.to_path_buf(),
        content_type: "application/json".to_owned(),
    };
    match forge.upload_asset(release, &upload).await {
        Ok(_) | Err(relkit_forge::Error::AlreadyExists { .. }) => Ok(()),
        Err(e) => Err(relkit_release::Error::Stopped {
            error: Box::new(e.into()),
        }
        .into()),
    }
}

fn skipped(name: &str, why: &str) -> Gate {
    Gate {
        name: name.to_owned(),
        outcome: GateOutcome::Skipped,
        detail: why.to_owned(),
    }
}

fn state_name(state: CheckState) -> &'static str {
    match state {
        CheckState::Success => "success",
        CheckState::Pending => "pending",
        CheckState::Failure => "failure",
    }
}

fn short(commit: &str) -> &str {
    commit.get(..7).unwrap_or(commit)
}

fn short_digest(digest: &relkit_registry::Digest) -> String {
    let text = digest.to_string();
    text.get(..19).map_or(text.clone(), |s| format!("{s}…"))
}

impl Plan {
    /// Whether applying the plan would change nothing.
    pub fn is_noop(&self) -> bool {
        let release_done = match (&self.publication, &self.reuse) {
            (Some(publication), _) => publication.is_noop(),
            (None, Some(reuse)) => !reuse.upload,
            (None, None) => false,
        };
        release_done
            && self
                .images
                .iter()
                .flat_map(|i| &i.targets)
                .all(|t| matches!(t.step, TagStep::Keep | TagStep::Hold))
    }
}

impl fmt::Display for Plan {
    /// The plan as a person reads it: the promotion, its gates, every image tag and the release.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let what = match &self.direction {
            Direction::Forward => format!(
                "a {} (the commits call for {})",
                self.bump,
                match self.commits_call_for {
                    Bump::None => "none".to_owned(),
                    bump => format!("a {bump}"),
                }
            ),
            Direction::Rollback { .. } => "a rollback".to_owned(),
        };
        writeln!(
            f,
            "promote  {} ({}) → {}, {what}",
            self.source.tag,
            short(&self.source.commit),
            self.tag,
        )?;
        match &self.direction {
            Direction::Forward => writeln!(f, "direction forward")?,
            Direction::Rollback { from } => {
                writeln!(f, "direction rollback from {from}, which production runs")?
            }
        }
        for gate in &self.gates {
            let outcome = match gate.outcome {
                GateOutcome::Passed => "passed",
                GateOutcome::Failed => "FAILED",
                GateOutcome::Skipped => "skipped",
                GateOutcome::Overridden => "overridden",
            };
            writeln!(f, "gate     {} → {outcome}: {}", gate.name, gate.detail)?;
        }
        for image in &self.images {
            writeln!(
                f,
                "image    {}:{} = {} (as tested)",
                image.repository,
                image.source_tag,
                short_digest(&image.digest)
            )?;
            for target in &image.targets {
                let step = match (target.step, &target.current) {
                    (TagStep::Create, _) => "create".to_owned(),
                    (TagStep::Keep, _) => "holds it already".to_owned(),
                    (TagStep::Move, Some(from)) => format!("move from {}", short_digest(from)),
                    (TagStep::Move, None) => "move".to_owned(),
                    (TagStep::Hold, _) => "stays".to_owned(),
                };
                let why = target
                    .reason
                    .as_ref()
                    .map(|r| format!(" ({r})"))
                    .unwrap_or_default();
                writeln!(f, "  tag    {} → {step}{why}", target.tag)?;
            }
        }
        match (&self.publication, &self.reuse) {
            (Some(publication), _) => write!(f, "{publication}")?,
            (None, Some(reuse)) => {
                writeln!(
                    f,
                    "tag      {} → exists at {}: the release this build had, kept as published",
                    self.tag,
                    short(&self.source.commit)
                )?;
                writeln!(
                    f,
                    "asset    {} → {}",
                    reuse.record.name,
                    if reuse.upload {
                        "upload: the record of this rollback"
                    } else {
                        "there: this rollback is recorded"
                    }
                )?;
            }
            (None, None) => writeln!(f, "release  {} → not planned: see the failures", self.tag)?,
        }
        Ok(())
    }
}
