//! Manifests as bytes: relkit never re-serialises a manifest, because any change of whitespace or
//! key order changes its digest. It reads only what a copy needs: the media type, the child
//! manifests of an index, and the blobs of an image manifest.
//!
//! <https://github.com/opencontainers/image-spec/blob/main/manifest.md>,
//! <https://github.com/opencontainers/image-spec/blob/main/image-index.md>,
//! <https://distribution.github.io/distribution/spec/manifest-v2-2/>

use serde::Deserialize;

use crate::digest::Digest;

pub const OCI_INDEX: &str = "application/vnd.oci.image.index.v1+json";
pub const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
pub const DOCKER_LIST: &str = "application/vnd.docker.distribution.manifest.list.v2+json";
pub const DOCKER_MANIFEST: &str = "application/vnd.docker.distribution.manifest.v2+json";

/// The `Accept` header of every manifest request. Index types first, so a multi-arch tag resolves
/// to its index; distribution 2.8 answers 404 to a HEAD whose list lacks the OCI types.
pub const ACCEPT: &str = "application/vnd.oci.image.index.v1+json, \
     application/vnd.docker.distribution.manifest.list.v2+json, \
     application/vnd.oci.image.manifest.v1+json, \
     application/vnd.docker.distribution.manifest.v2+json";

/// A manifest as the registry stored it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Manifest {
    /// The exact bytes; their digest is [`Manifest::digest`].
    pub bytes: Vec<u8>,
    pub media_type: String,
    pub digest: Digest,
}

impl Manifest {
    /// The platform manifests of an index (or manifest list); empty for an image manifest or a
    /// body that is not a manifest.
    pub fn platform_manifests(&self) -> Vec<Digest> {
        match content(&self.bytes) {
            Ok(Content::Index(children)) => children,
            _ => Vec::new(),
        }
    }
}

/// A manifest's digest and type without its body (the answer to a HEAD).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Descriptor {
    pub digest: Digest,
    /// The `Content-Type` the registry gave, if any.
    pub media_type: Option<String>,
}

impl Descriptor {
    /// Whether this names a multi-platform index (an OCI index or a Docker manifest list).
    pub fn is_index(&self) -> bool {
        self.media_type
            .as_deref()
            .is_some_and(|t| t == OCI_INDEX || t == DOCKER_LIST)
    }
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Shape {
    #[serde(default)]
    media_type: Option<String>,
    #[serde(default)]
    manifests: Option<Vec<Entry>>,
    #[serde(default)]
    config: Option<Entry>,
    #[serde(default)]
    layers: Option<Vec<Entry>>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Entry {
    #[serde(default)]
    media_type: Option<String>,
    digest: String,
    /// Foreign layers (Windows base images) live elsewhere and are not copied.
    #[serde(default)]
    urls: Option<Vec<String>>,
}

/// What a copy has to carry along with a manifest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Content {
    /// An index: these child manifests.
    Index(Vec<Digest>),
    /// An image: these blobs (config first, then layers).
    Image(Vec<Digest>),
}

/// The media type to send with `bytes`, when the registry's `Content-Type` is missing or generic:
/// the body's own `mediaType`, else the OCI type its shape says.
pub(crate) fn media_type_of(bytes: &[u8], header: Option<&str>) -> String {
    let header = header.map(|h| h.split(';').next().unwrap_or(h).trim());
    if let Some(h) = header
        && h.starts_with("application/vnd.")
    {
        return h.to_owned();
    }
    match serde_json::from_slice::<Shape>(bytes) {
        Ok(Shape {
            media_type: Some(t),
            ..
        }) => t,
        Ok(Shape {
            manifests: Some(_), ..
        }) => OCI_INDEX.to_owned(),
        _ => OCI_MANIFEST.to_owned(),
    }
}

/// The children or blobs of a manifest.
pub(crate) fn content(bytes: &[u8]) -> Result<Content, String> {
    let shape: Shape = serde_json::from_slice(bytes).map_err(|e| format!("not a manifest: {e}"))?;
    let parse = |e: &Entry| {
        e.digest
            .parse::<Digest>()
            .map_err(|err| format!("a descriptor's digest: {err}"))
    };
    if let Some(children) = &shape.manifests {
        return children
            .iter()
            .map(parse)
            .collect::<Result<_, _>>()
            .map(Content::Index);
    }
    let mut blobs = Vec::new();
    if let Some(config) = &shape.config {
        blobs.push(parse(config)?);
    }
    for layer in shape.layers.iter().flatten() {
        let foreign = layer.urls.as_ref().is_some_and(|u| !u.is_empty())
            || layer
                .media_type
                .as_deref()
                .is_some_and(|t| t.contains("foreign"));
        if !foreign {
            blobs.push(parse(layer)?);
        }
    }
    Ok(Content::Image(blobs))
}
