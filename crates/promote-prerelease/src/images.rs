//! The images of a promotion: each one the pre-release recorded, checked to still hold the digest
//! it was tested with, and the tags the release gives it (its version, and the floating tags
//! `latest`, `1.3`, `1`), written by manifest copy: no blob moves, the digest unchanged.

use relkit_registry::{Client, Digest, Reference};
use relkit_release::{ManifestImage, ReleaseManifest};
use relkit_version::{FloatingLine, Stream, Version, floating_tags, oci_floating_tag, oci_tag};

use crate::{Error, Floating};

/// One image and what happens to its tags.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImagePlan {
    /// The name the pre-release's manifest gives it (`API_IMAGE`).
    pub name: String,
    /// `registry/repository`.
    pub repository: String,
    /// The pre-release's tag of the image, in its OCI form.
    pub source_tag: String,
    /// The digest the pre-release recorded: what was tested.
    pub digest: Digest,
    /// The tags the release gives it.
    pub targets: Vec<TagPlan>,
}

/// One tag of a promoted image.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TagPlan {
    pub tag: String,
    /// What the tag holds now.
    pub current: Option<Digest>,
    pub step: TagStep,
    /// Why, for a floating tag: "v1.3.0 is the highest 1.3.x release".
    pub reason: Option<String>,
}

/// What happens to a tag.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TagStep {
    /// It does not exist: made.
    Create,
    /// It holds the digest already.
    Keep,
    /// A floating tag that moves to the digest.
    Move,
    /// A floating tag that stays: a higher release holds its line.
    Hold,
}

impl ImagePlan {
    pub(crate) fn source(&self) -> Result<Reference, Error> {
        Ok(format!("{}@{}", self.repository, self.digest).parse::<Reference>()?)
    }

    pub(crate) fn target(&self, tag: &str) -> Result<Reference, Error> {
        Ok(format!("{}:{tag}", self.repository).parse::<Reference>()?)
    }
}

/// What the images of a promotion need to know.
pub(crate) struct Request<'r> {
    pub stream: &'r Stream,
    pub prerelease: &'r Version,
    pub release: &'r Version,
    /// The stream's full releases, for which floating tags move.
    pub full_releases: &'r [Version],
    pub is_rollback: bool,
    pub floating: Floating,
}

/// The tag form an image's pre-release tag was written in: with the stream's prefix
/// (`v1.2.0-pre.4-abc1234`) or without (`1.2.0-pre.4-abc1234`); the release's tags follow it.
fn prefixed(image: &ManifestImage, request: &Request<'_>) -> Result<Result<bool, String>, Error> {
    let with = oci_tag(request.prerelease, request.stream, true)?;
    let without = oci_tag(request.prerelease, request.stream, false)?;
    Ok(match image.tag.as_deref() {
        Some(tag) if tag == with => Ok(true),
        Some(tag) if tag == without => Ok(false),
        Some(tag) => Err(format!(
            "image {} records tag {tag}, which is not the pre-release's tag in its OCI form ({without} or {with}): relkit cannot tell which release tags to give it",
            image.repository
        )),
        None => Err(format!(
            "image {} is recorded by digest alone: the pre-release's tag of it is unknown",
            image.repository
        )),
    })
}

/// Plans each image; problems that a person must fix are pushed to `failures`, so one run shows
/// them all.
pub(crate) async fn plan(
    client: &Client,
    recorded: &[ManifestImage],
    request: &Request<'_>,
    failures: &mut Vec<String>,
) -> Result<Vec<ImagePlan>, Error> {
    let mut plans = Vec::new();
    for image in recorded {
        let prefix = match prefixed(image, request)? {
            Ok(prefix) => prefix,
            Err(failure) => {
                failures.push(failure);
                continue;
            }
        };
        let source_tag = image.tag.clone().unwrap_or_default();
        let source: Reference = format!("{}:{source_tag}", image.repository).parse()?;
        match now(client, &source).await? {
            None => failures.push(format!(
                "image {source} is missing: the pre-release's tag is gone, so the tested image cannot be promoted"
            )),
            Some(digest) if digest != image.digest => failures.push(format!(
                "image digest mismatch: {source} holds {digest}, but the pre-release was tested with {}",
                image.digest
            )),
            Some(_) => {}
        }
        let mut plan = ImagePlan {
            name: image.name.clone(),
            repository: image.repository.clone(),
            source_tag,
            digest: image.digest.clone(),
            targets: Vec::new(),
        };
        let release_tag = oci_tag(request.release, request.stream, prefix)?;
        let current = now(client, &plan.target(&release_tag)?).await?;
        let step = match &current {
            None => TagStep::Create,
            Some(d) if *d == plan.digest => TagStep::Keep,
            Some(d) => {
                failures.push(format!(
                    "image tag {}:{release_tag} holds {d}, not {}: an image tag is never overwritten",
                    plan.repository, plan.digest
                ));
                TagStep::Hold
            }
        };
        plan.targets.push(TagPlan {
            tag: release_tag,
            current,
            step,
            reason: None,
        });
        for floating in floating_tags(
            request.stream,
            request.release,
            request.full_releases,
            request.is_rollback,
        ) {
            if !request.floating.wants(floating.line) {
                continue;
            }
            let tag = oci_floating_tag(floating.line, request.stream, prefix)?;
            let current = now(client, &plan.target(&tag)?).await?;
            let step = match (&current, floating.moves) {
                (Some(d), _) if *d == plan.digest => TagStep::Keep,
                (_, false) => TagStep::Hold,
                (None, true) => TagStep::Create,
                (Some(_), true) => TagStep::Move,
            };
            plan.targets.push(TagPlan {
                tag,
                current,
                step,
                reason: Some(floating.reason),
            });
        }
        plans.push(plan);
    }
    Ok(plans)
}

/// What `reference` names now; `None` when the registry has no such tag.
pub(crate) async fn now(client: &Client, reference: &Reference) -> Result<Option<Digest>, Error> {
    match client.resolve(reference).await {
        Ok(digest) => Ok(Some(digest)),
        Err(relkit_registry::Error::NotFound { .. }) => Ok(None),
        Err(e) => Err(e.into()),
    }
}

/// Each image of `manifest` that a prior stable release needs is still there: its tag holds the
/// recorded digest, and an index still has every platform's manifest.
pub(crate) async fn still_there(
    client: &Client,
    manifest: &ReleaseManifest,
) -> Result<Vec<String>, Error> {
    let mut missing = Vec::new();
    for image in &manifest.images {
        let pinned: Reference = format!("{}@{}", image.repository, image.digest).parse()?;
        let held = match client.manifest(&pinned).await {
            Ok(held) => held,
            Err(relkit_registry::Error::NotFound { .. }) => {
                missing.push(format!(
                    "{}: image {pinned} is gone from the registry",
                    manifest.tag
                ));
                continue;
            }
            Err(e) => return Err(e.into()),
        };
        for child in held.platform_manifests() {
            let child_ref = pinned.at_digest(child.clone());
            if now(client, &child_ref).await?.is_none() {
                missing.push(format!(
                    "{}: image {pinned} lacks its platform manifest {child}",
                    manifest.tag
                ));
            }
        }
        if let Some(tag) = &image.tag {
            let tagged: Reference = format!("{}:{tag}", image.repository).parse()?;
            match now(client, &tagged).await? {
                Some(d) if d == image.digest => {}
                Some(d) => missing.push(format!(
                    "{}: image tag {tagged} holds {d}, not the release's {}",
                    manifest.tag, image.digest
                )),
                None => missing.push(format!(
                    "{}: image tag {tagged} is gone (its digest {} is still there)",
                    manifest.tag, image.digest
                )),
            }
        }
    }
    Ok(missing)
}

impl Floating {
    fn wants(self, line: FloatingLine) -> bool {
        match line {
            FloatingLine::Latest => self.latest,
            FloatingLine::Minor { .. } => self.minor,
            FloatingLine::Major { .. } => self.major,
        }
    }
}
