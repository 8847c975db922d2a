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
    schema_version: Option<u64>,
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

/// Whether `media_type` (a `Content-Type` value, parameters allowed) is one of the manifest types
/// relkit asks for.
pub(crate) fn is_manifest_type(media_type: &str) -> bool {
    let essence = media_type.split(';').next().unwrap_or(media_type).trim();
    [OCI_INDEX, OCI_MANIFEST, DOCKER_LIST, DOCKER_MANIFEST]
        .iter()
        .any(|t| t.eq_ignore_ascii_case(essence))
}

/// Checks that an answer is a manifest: a manifest media type (the `Content-Type`, or for a
/// missing or generic JSON one the body's own `mediaType`) and a body that parses as a manifest of
/// that kind. Returns the media type; the error describes what came back instead.
pub(crate) fn verify(bytes: &[u8], header: Option<&str>) -> Result<String, String> {
    let essence = header.map(|h| h.split(';').next().unwrap_or(h).trim().to_ascii_lowercase());
    let shape = serde_json::from_slice::<Shape>(bytes);
    let declared = match essence.as_deref() {
        Some(t) if is_manifest_type(t) => t.to_owned(),
        None | Some("application/json") => match &shape {
            Ok(Shape {
                media_type: Some(t),
                ..
            }) if is_manifest_type(t) => t.clone(),
            _ => {
                return Err(format!(
                    "{} and a body without a manifest mediaType ({})",
                    essence.as_deref().unwrap_or("no Content-Type"),
                    glimpse(bytes)
                ));
            }
        },
        Some(other) => return Err(format!("{other} ({})", glimpse(bytes))),
    };
    let shape = shape.map_err(|e| {
        format!(
            "{declared} whose body is not JSON: {e} ({})",
            glimpse(bytes)
        )
    })?;
    if shape.schema_version != Some(2) {
        return Err(format!(
            "{declared} whose body has schemaVersion {}, not 2 ({})",
            shape
                .schema_version
                .map_or_else(|| "missing".to_owned(), |v| v.to_string()),
            glimpse(bytes)
        ));
    }
    let is_index = declared == OCI_INDEX || declared == DOCKER_LIST;
    let fits = if is_index {
        shape.manifests.is_some()
    } else {
        shape.config.is_some() && shape.layers.is_some()
    };
    if !fits {
        let wants = if is_index {
            "a manifests list"
        } else {
            "a config and layers"
        };
        return Err(format!(
            "{declared} whose body lacks {wants} ({})",
            glimpse(bytes)
        ));
    }
    content(bytes).map_err(|e| format!("{declared} with {e}"))?;
    Ok(declared)
}

/// The first bytes of a body and its size, for an error.
fn glimpse(bytes: &[u8]) -> String {
    let text = String::from_utf8_lossy(bytes);
    let mut shown: String = text.chars().take(60).collect();
    if shown.len() < text.len() {
        shown.push('…');
    }
    format!("{} bytes: {shown:?}", bytes.len())
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
