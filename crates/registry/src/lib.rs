//! An OCI distribution client for what relkit does with images: pin a tag to its digest with a
//! `HEAD`, and retag by copying manifest bytes so that the digest never changes.
//!
//! It implements the parts of the [OCI distribution spec] (and Docker's [token auth]) relkit
//! needs: manifests by tag and digest (OCI image and index, Docker v2 and manifest list), blob
//! mounts and monolithic uploads, anonymous and credentialed bearer tokens, Basic auth, and
//! credentials from the docker config.
//!
//! [OCI distribution spec]: https://github.com/opencontainers/distribution-spec/blob/main/spec.md
//! [token auth]: https://distribution.github.io/distribution/spec/auth/token/
//!
//! # What is borrowed and what is written here, and why
//!
//! - **`docker_credential`** reads `config.json` (`auths`, `credHelpers`, `credsStore`, identity
//!   tokens) and runs credential helpers. It is used through `get_credential_from_reader`, so the
//!   file's location comes from the injected environment (`DOCKER_CONFIG`, `HOME`) and not from
//!   the process's, and its errors are re-worded so a failed helper's output (which may hold a
//!   secret) never reaches a message.
//! - **`http-auth`** parses `WWW-Authenticate` (RFC 7235: quoted strings, escapes, several
//!   challenges in one header).
//! - **`oci-client`** (0.18) was evaluated and is not used. Its protocol code builds its own
//!   reqwest client, which leaves no way to share relkit's client, count requests per registry
//!   (the benchmark's "requests per reference") or retry; it has no retries or `Retry-After`
//!   handling; its raw pull drops the `Content-Type` a re-push needs; `mount_blob` treats the
//!   spec's 202 ("upload it yourself") as an error; the first credentials used for a registry
//!   stick to the client; and its auth step probes `GET /v2/` before each new scope, an extra
//!   request per repository. Wrapping it would have meant re-doing most of it around the
//!   outside. What relkit needs of the protocol is small (a dozen requests), so it is here, over
//!   the same reqwest + rustls/ring stack as the rest of relkit.
//! - **The reference grammar** is written here too. oci-client re-exports `oci-spec`'s
//!   `Reference`, which is one large regular expression: nearly every malformed input gives the
//!   same "invalid reference format" (its upper-case error is never returned), its tag pattern
//!   `\w` accepts non-ASCII letters, it accepts upper-case hex digests, it checks the length of
//!   the repository rather than the whole name, and it resolves Docker Hub to `index.docker.io`
//!   instead of the API host `registry-1.docker.io`. relkit checks each part separately so an
//!   error names the value and the rule it broke. The test suite checks that the two parsers
//!   agree on every valid reference in its table.
//!
//! # Behaviour worth knowing
//!
//! - Plain HTTP is used only for loopback registries (`localhost`, `127.0.0.0/8`, `[::1]`) and for
//!   registries listed as insecure; a token realm on plain HTTP elsewhere is refused.
//! - Every manifest request sends the four manifest media types, index types first, so a
//!   multi-platform tag resolves to its index (and distribution 2.8 does not 404 the `HEAD`).
//! - Manifests are never re-serialised; a digest computed from a body is checked with the
//!   algorithm of the digest it is compared to (SHA-256 unless the reference says otherwise).

mod auth;
mod client;
mod digest;
mod error;
mod http;
mod manifest;
pub mod pins;
mod reference;

pub use auth::{Challenge, Credential, Credentials, Secret};
pub use client::{Client, DEFAULT_CONCURRENCY, Options, Retagged, is_loopback};
pub use digest::{Digest, DigestError, DigestProblem};
pub use error::Error;
pub use http::{Policy, Stats};
pub use manifest::{
    ACCEPT, DOCKER_LIST, DOCKER_MANIFEST, Descriptor, Manifest, OCI_INDEX, OCI_MANIFEST,
};
pub use reference::{
    DOCKER_HUB, DOCKER_HUB_API, NAME_MAX, Problem, Reference, ReferenceError, TAG_MAX, api_host,
};
