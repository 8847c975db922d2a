//! What every action that publishes a release shares (create-release, promote-prerelease):
//!
//! - the **release manifest** ([`ReleaseManifest`]), `release-manifest.json`, a typed and
//!   versioned record of a release, written and read back with the same types;
//! - the **release writer** ([`plan`], [`apply`]): tag → draft → assets → publish, each step
//!   checking what the forge already holds, so a re-run converges;
//! - the release's **files**: assets found by globs, `SHA256SUMS`, and the images a pins file
//!   names.
//!
//! The exit code follows the phase: every error [`plan`] returns comes before any write; every
//! error [`apply`] returns is [`Error::Stopped`], after a write began.

mod assets;
mod error;
mod manifest;
mod writer;

pub use assets::{LocalAsset, MANIFEST, SUMS, find, images, is_record, manifest_assets, sums};
pub use error::Error;
pub use manifest::{
    ManifestAsset, ManifestError, ManifestImage, Promotion, ReleaseManifest, Rollback,
    SCHEMA_VERSION,
};
pub use writer::{
    AssetStep, Draft, Outcome, PlannedAsset, Presence, Publication, ReleaseStep, apply,
    apply_assets, apply_publish, apply_release, apply_tag, find_release, plan, read_manifest,
};
