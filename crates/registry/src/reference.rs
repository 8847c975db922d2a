//! Image references, parsed by the distribution reference grammar and normalised as Docker does:
//! `nginx` is `docker.io/library/nginx`, and `docker.io` is served by `registry-1.docker.io`.
//!
//! <https://github.com/distribution/distribution/blob/v2.8.2/reference/reference.go> (grammar)
//! and `reference/normalize.go` (Docker Hub).
//!
//! The grammar is checked one part at a time rather than by one large regular expression, so that
//! an error can say which part broke which rule.

use std::fmt;
use std::str::FromStr;

use thiserror::Error;

use crate::digest::{Digest, DigestProblem};

/// The registry name of Docker Hub in references.
pub const DOCKER_HUB: &str = "docker.io";
/// The host that serves Docker Hub's registry API.
pub const DOCKER_HUB_API: &str = "registry-1.docker.io";
/// The longest tag the distribution spec allows.
pub const TAG_MAX: usize = 128;
/// The longest name (`registry/repository`) distribution accepts.
pub const NAME_MAX: usize = 255;

/// A validated, normalised image reference.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Reference {
    registry: String,
    repository: String,
    tag: Option<String>,
    digest: Option<Digest>,
}

/// A string that is not an image reference.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("{value:?} is not a valid image reference: {problem}")]
pub struct ReferenceError {
    /// What was given, as given.
    pub value: String,
    pub problem: Problem,
}

/// Which rule of the reference grammar a string breaks.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum Problem {
    #[error("it is empty")]
    Empty,

    #[error("it contains {found:?}; a reference is one word of printable ASCII")]
    BadCharacter { found: char },

    #[error("there is no repository name before {before:?}")]
    NoName { before: char },

    #[error("the registry {registry:?} is followed by no repository")]
    NoRepository { registry: String },

    #[error("the registry {registry:?} has a port but no host; write `host:port/repository`")]
    PortWithoutHost { registry: String },

    #[error("the port in {registry:?} must be a number from 1 to 65535")]
    BadPort { registry: String },

    #[error(
        "the registry host {host:?} is malformed; host names are letters, digits and inner \
         dashes, separated by dots (or an IPv6 address in brackets)"
    )]
    BadHost { host: String },

    #[error("the repository {repository:?} has an empty path component (a doubled or edge '/')")]
    EmptyComponent { repository: String },

    #[error(
        "the repository {repository:?} has upper-case letters; repository names are lower case"
    )]
    Uppercase { repository: String },

    #[error(
        "the repository path component {component:?} is malformed; it must be lower-case \
         letters and digits, separated by one '.', one or two '_', or dashes, and start and end \
         with a letter or digit"
    )]
    BadComponent { component: String },

    #[error(
        "a 64-character hex string is an image id, not a repository name; add a registry or a \
         namespace"
    )]
    HexName,

    #[error("the name is {len} characters long; distribution allows at most {NAME_MAX}")]
    NameTooLong { len: usize },

    #[error("nothing follows ':'; write a tag after it, or leave out the ':'")]
    EmptyTag,

    #[error("the tag is {len} characters long; at most {TAG_MAX} are allowed")]
    TagTooLong { len: usize },

    #[error(
        "the tag {tag:?} is malformed; a tag starts with a letter, a digit or '_' and holds only \
         letters, digits, '_', '.' and '-'"
    )]
    BadTag { tag: String },

    #[error("nothing follows '@'; write a digest such as `sha256:` and 64 hex digits")]
    EmptyDigest,

    #[error("the digest {digest:?} is not valid: {problem}")]
    Digest {
        digest: String,
        problem: DigestProblem,
    },
}

impl Reference {
    /// The registry as named in the reference (`docker.io`, `ghcr.io`, `127.0.0.1:5000`).
    pub fn registry(&self) -> &str {
        &self.registry
    }

    /// The host (and port) that serves the registry API: `registry-1.docker.io` for Docker Hub.
    pub fn api_host(&self) -> &str {
        api_host(&self.registry)
    }

    /// The repository path (`library/nginx`).
    pub fn repository(&self) -> &str {
        &self.repository
    }

    /// The tag, if one was written.
    pub fn tag(&self) -> Option<&str> {
        self.tag.as_deref()
    }

    /// The digest, if one was written.
    pub fn digest(&self) -> Option<&Digest> {
        self.digest.as_ref()
    }

    /// `registry/repository`.
    pub fn name(&self) -> String {
        format!("{}/{}", self.registry, self.repository)
    }

    /// What goes after `/manifests/` to read what this reference names now: the tag when there is
    /// one, else the digest, else `latest` (as `docker pull` does).
    pub fn manifest_ref(&self) -> &str {
        match (&self.tag, &self.digest) {
            (Some(tag), _) => tag,
            (None, Some(digest)) => digest.as_str(),
            (None, None) => "latest",
        }
    }

    /// The same repository with `tag` and no digest.
    pub fn with_tag(&self, tag: &str) -> Result<Self, ReferenceError> {
        check_tag(tag).map_err(|problem| ReferenceError {
            value: format!("{}:{tag}", self.name()),
            problem,
        })?;
        Ok(Self {
            registry: self.registry.clone(),
            repository: self.repository.clone(),
            tag: Some(tag.to_owned()),
            digest: None,
        })
    }

    /// The same repository pinned to `digest`, keeping the tag.
    pub fn with_digest(&self, digest: Digest) -> Self {
        Self {
            digest: Some(digest),
            ..self.clone()
        }
    }

    /// The same repository named by `digest` alone.
    pub fn at_digest(&self, digest: Digest) -> Self {
        Self {
            tag: None,
            digest: Some(digest),
            ..self.clone()
        }
    }

    /// Whether both name the same repository on the same registry.
    pub fn same_repository(&self, other: &Self) -> bool {
        self.registry == other.registry && self.repository == other.repository
    }
}

/// The host serving `registry`'s API.
pub fn api_host(registry: &str) -> &str {
    if registry == DOCKER_HUB {
        DOCKER_HUB_API
    } else {
        registry
    }
}

impl fmt::Display for Reference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.registry, self.repository)?;
        if let Some(tag) = &self.tag {
            write!(f, ":{tag}")?;
        }
        if let Some(digest) = &self.digest {
            write!(f, "@{digest}")?;
        }
        Ok(())
    }
}

impl FromStr for Reference {
    type Err = ReferenceError;

    fn from_str(value: &str) -> Result<Self, Self::Err> {
        parse(value).map_err(|problem| ReferenceError {
            value: value.to_owned(),
            problem,
        })
    }
}

impl TryFrom<&str> for Reference {
    type Error = ReferenceError;

    fn try_from(value: &str) -> Result<Self, Self::Error> {
        value.parse()
    }
}

fn parse(value: &str) -> Result<Reference, Problem> {
    if value.is_empty() {
        return Err(Problem::Empty);
    }
    if let Some(found) = value.chars().find(|c| !c.is_ascii_graphic()) {
        return Err(Problem::BadCharacter { found });
    }

    let (rest, digest) = match value.split_once('@') {
        Some((rest, digest)) => (rest, Some(digest)),
        None => (value, None),
    };
    // A ':' after the last '/' starts the tag; one before it is the registry's port.
    let (name, tag) = match rest.rfind(':') {
        Some(at) if !rest[at..].contains('/') => (&rest[..at], Some(&rest[at + 1..])),
        _ => (rest, None),
    };
    if name.is_empty() {
        return Err(Problem::NoName {
            before: if tag.is_some() { ':' } else { '@' },
        });
    }
    if digest.is_none()
        && name.len() == 64
        && name.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
    {
        return Err(Problem::HexName);
    }

    let (registry, repository) = split_registry(name);
    if let Some(registry) = registry {
        check_registry(registry)?;
        if repository.is_empty() {
            return Err(Problem::NoRepository {
                registry: registry.to_owned(),
            });
        }
    }
    check_repository(repository)?;

    let registry = match registry {
        None | Some("index.docker.io") => DOCKER_HUB,
        Some(other) => other,
    };
    let repository = if registry == DOCKER_HUB && !repository.contains('/') {
        format!("library/{repository}")
    } else {
        repository.to_owned()
    };
    let len = registry.len() + 1 + repository.len();
    if len > NAME_MAX {
        return Err(Problem::NameTooLong { len });
    }

    if let Some(tag) = tag {
        check_tag(tag)?;
    }
    let digest = match digest {
        None => None,
        Some("") => return Err(Problem::EmptyDigest),
        Some(text) => Some(Digest::check(text).map_err(|problem| Problem::Digest {
            digest: text.to_owned(),
            problem,
        })?),
    };
    Ok(Reference {
        registry: registry.to_owned(),
        repository,
        tag: tag.map(str::to_owned),
        digest,
    })
}

/// Splits off the registry: the first component is one when it holds a '.' or a ':', or is
/// `localhost` (distribution's `splitDockerDomain`).
fn split_registry(name: &str) -> (Option<&str>, &str) {
    match name.split_once('/') {
        Some((first, rest)) if first.contains(['.', ':']) || first == "localhost" => {
            (Some(first), rest)
        }
        _ => (None, name),
    }
}

/// `host[:port]`, where host is a domain name or a bracketed IPv6 literal.
fn check_registry(registry: &str) -> Result<(), Problem> {
    let bad_host = |host: &str| Problem::BadHost {
        host: host.to_owned(),
    };
    let port = if let Some(inner) = registry.strip_prefix('[') {
        let (addr, after) = inner.split_once(']').ok_or_else(|| bad_host(registry))?;
        if addr.is_empty() || !addr.bytes().all(|b| b.is_ascii_hexdigit() || b == b':') {
            return Err(bad_host(registry));
        }
        match after {
            "" => None,
            _ => Some(after.strip_prefix(':').ok_or_else(|| bad_host(registry))?),
        }
    } else {
        let (host, port) = match registry.split_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (registry, None),
        };
        if host.is_empty() {
            return Err(Problem::PortWithoutHost {
                registry: registry.to_owned(),
            });
        }
        if !host.split('.').all(is_domain_component) {
            return Err(bad_host(host));
        }
        port
    };
    if let Some(port) = port {
        let valid = !port.is_empty()
            && port.bytes().all(|b| b.is_ascii_digit())
            && port.parse::<u16>().is_ok_and(|p| p > 0);
        if !valid {
            return Err(Problem::BadPort {
                registry: registry.to_owned(),
            });
        }
    }
    Ok(())
}

/// `[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9]`
fn is_domain_component(part: &str) -> bool {
    let bytes = part.as_bytes();
    !bytes.is_empty()
        && bytes[0].is_ascii_alphanumeric()
        && bytes[bytes.len() - 1].is_ascii_alphanumeric()
        && bytes
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || *b == b'-')
}

fn check_repository(repository: &str) -> Result<(), Problem> {
    for component in repository.split('/') {
        if component.is_empty() {
            return Err(Problem::EmptyComponent {
                repository: repository.to_owned(),
            });
        }
        if !is_path_component(component) {
            if is_path_component(&component.to_ascii_lowercase()) {
                return Err(Problem::Uppercase {
                    repository: repository.to_owned(),
                });
            }
            return Err(Problem::BadComponent {
                component: component.to_owned(),
            });
        }
    }
    Ok(())
}

/// `[a-z0-9]+(?:(?:[._]|__|[-]*)[a-z0-9]+)*`
fn is_path_component(component: &str) -> bool {
    let alnum = |b: u8| b.is_ascii_lowercase() || b.is_ascii_digit();
    let bytes = component.as_bytes();
    if bytes.is_empty() || !alnum(bytes[0]) || !alnum(bytes[bytes.len() - 1]) {
        return false;
    }
    let mut i = 0;
    while i < bytes.len() {
        if alnum(bytes[i]) {
            i += 1;
            continue;
        }
        let start = i;
        while i < bytes.len() && !alnum(bytes[i]) {
            i += 1;
        }
        let separator = &component[start..i];
        let ok = matches!(separator, "." | "_" | "__") || separator.bytes().all(|b| b == b'-');
        if !ok {
            return false;
        }
    }
    true
}

fn check_tag(tag: &str) -> Result<(), Problem> {
    if tag.is_empty() {
        return Err(Problem::EmptyTag);
    }
    if tag.len() > TAG_MAX {
        return Err(Problem::TagTooLong { len: tag.len() });
    }
    let word = |b: u8| b.is_ascii_alphanumeric() || b == b'_';
    let bytes = tag.as_bytes();
    if !word(bytes[0]) || !bytes.iter().all(|b| word(*b) || *b == b'.' || *b == b'-') {
        return Err(Problem::BadTag {
            tag: tag.to_owned(),
        });
    }
    Ok(())
}
