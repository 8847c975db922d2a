use thiserror::Error;

use crate::digest::Digest;
use crate::reference::ReferenceError;

/// What failed while talking to a registry. Messages name the registry and the reference; they
/// never hold a password or a token.
#[derive(Debug, Error)]
pub enum Error {
    #[error(transparent)]
    Reference(#[from] ReferenceError),

    #[error("{reference}: not found on the registry {registry} (404)")]
    NotFound { registry: String, reference: String },

    #[error("the registry {registry} refused {who} (401) for {what}: {message}")]
    Unauthorized {
        registry: String,
        /// `user "ci"`, `an identity token`, or `anonymous access`.
        who: String,
        what: String,
        message: String,
    },

    #[error("the registry {registry} denied {what} (403): {message}")]
    Forbidden {
        registry: String,
        what: String,
        message: String,
    },

    #[error(
        "the registry {registry} could not be reached for {what} after {attempts} attempts: \
         {message}"
    )]
    Unreachable {
        registry: String,
        what: String,
        attempts: u32,
        message: String,
    },

    #[error(
        "the registry {registry} kept answering {status} to {what}; gave up after {attempts} \
         attempts: {message}"
    )]
    Unavailable {
        registry: String,
        what: String,
        status: u16,
        attempts: u32,
        message: String,
    },

    #[error(
        "the registry {registry} rate-limited {what} (429); waiting {needed} s more would pass \
         the {budget} s budget"
    )]
    RateLimited {
        registry: String,
        what: String,
        needed: u64,
        budget: u64,
    },

    #[error("the registry {registry} answered {status} to {what}: {message}")]
    Http {
        registry: String,
        what: String,
        status: u16,
        message: String,
    },

    #[error("the registry {registry} answered {what} in a way relkit cannot use: {message}")]
    Protocol {
        registry: String,
        what: String,
        message: String,
    },

    /// A 200 whose body is not a manifest (a login page, a proxy's error page): its digest is
    /// never used.
    #[error(
        "the registry {registry} answered {what} with {answer}, which is not a manifest; no \
         digest is taken from it"
    )]
    NotAManifest {
        registry: String,
        what: String,
        answer: String,
    },

    #[error("{reference}: the content has digest {actual}, not {expected}")]
    DigestMismatch {
        reference: String,
        expected: Digest,
        actual: Digest,
    },

    #[error("{target} holds {current}, not {wanted}; it was left as it was")]
    TagHoldsOther {
        target: String,
        current: Digest,
        wanted: Digest,
    },

    #[error("credentials for {registry} from {path}: {message}")]
    Credentials {
        registry: String,
        path: String,
        message: String,
    },

    /// A URL the registry sends relkit to (its token realm, a redirect) is plain HTTP on a host
    /// that is neither loopback nor listed as insecure.
    #[error(
        "plain HTTP to {url} ({what}, named by the registry {registry}) is refused: only \
         loopback hosts and hosts listed as insecure registries are reached without TLS, \
         whatever the registry itself is"
    )]
    Insecure {
        registry: String,
        what: String,
        url: String,
    },

    #[error("could not set up HTTP: {message}")]
    Setup { message: String },

    #[error(
        "the registry {registry} had not answered {what} by the run's deadline ({seconds} s, \
         {flag}); nothing after it was sent"
    )]
    Deadline {
        registry: String,
        what: String,
        seconds: u64,
        flag: &'static str,
    },
}

impl From<relkit_http::Error> for Error {
    fn from(error: relkit_http::Error) -> Self {
        use relkit_http::Error as E;
        match error {
            E::Setup { message } => Self::Setup { message },
            E::Unreachable {
                peer,
                what,
                attempts,
                message,
            } => Self::Unreachable {
                registry: peer,
                what,
                attempts,
                message,
            },
            // Every registry call is idempotent; a lost answer is one failed attempt.
            E::Unanswered {
                peer,
                what,
                message,
            } => Self::Unreachable {
                registry: peer,
                what,
                attempts: 1,
                message,
            },
            E::RateLimited {
                peer,
                what,
                needed,
                budget,
                ..
            } => Self::RateLimited {
                registry: peer,
                what,
                needed,
                budget,
            },
            E::Deadline {
                peer,
                what,
                seconds,
                flag,
            } => Self::Deadline {
                registry: peer,
                what,
                seconds,
                flag,
            },
        }
    }
}

impl Error {
    /// What the user can do about it, shown once as a `help:` line or in the annotation.
    pub fn help(&self) -> Option<&'static str> {
        match self {
            Self::Unauthorized { .. } => Some(
                "check the registry credentials: `docker login` writes them to \
                 ~/.docker/config.json (or DOCKER_CONFIG), and a CI token needs read access to \
                 the package (and write access to retag)",
            ),
            Self::Forbidden { .. } => {
                Some("the credentials are valid but lack the permission; retag needs push access")
            }
            Self::TagHoldsOther { .. } => Some(
                "a tag is never moved to other content by default; pass --force to overwrite it",
            ),
            Self::Unreachable { .. } => {
                Some("is the registry running and its address right? (proxies, DNS, firewalls)")
            }
            Self::NotAManifest { .. } => Some(
                "something else answers in the registry's place (a login page, a proxy): check \
                 the registry's address, and that it serves the distribution API under /v2/",
            ),
            Self::Insecure { .. } => Some(
                "serve it over HTTPS, or list its host (`host:port`) with --insecure-registries",
            ),
            _ => None,
        }
    }
}
