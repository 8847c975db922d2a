//! The registry client: resolve, read and write manifests, copy blobs, retag.

use std::collections::{BTreeMap, HashMap};
use std::net::IpAddr;
use std::sync::{Arc, Mutex, PoisonError};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use futures_util::StreamExt as _;
use reqwest::header::{ACCEPT, AUTHORIZATION, CONTENT_TYPE, LOCATION, WWW_AUTHENTICATE};
use reqwest::{Method, RequestBuilder, Response, StatusCode, Url};

use crate::Error;
use crate::auth::{Challenge, Credential, Credentials, Secret, Token, TokenResponse};
use crate::digest::Digest;
use crate::http::{HttpOptions, Peer, Policy, Stats, Transport, chain, error_message};
use crate::manifest::{self, Content, Descriptor, Manifest};
use crate::reference::{Reference, api_host};

/// How many references [`Client::resolve_all`] resolves at once by default.
pub const DEFAULT_CONCURRENCY: usize = 8;

/// How the client behaves.
#[derive(Debug, Clone)]
pub struct Options {
    pub policy: Policy,
    pub credentials: Credentials,
    /// Registries (as named in references) reached over plain HTTP although not on loopback.
    pub insecure: Vec<String>,
    /// How many references [`Client::resolve_all`] resolves at once.
    pub concurrency: usize,
    /// The run's deadline and where retries and waits are told.
    pub run: relkit_http::Run,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            policy: Policy::default(),
            credentials: Credentials::none(),
            insecure: Vec::new(),
            concurrency: DEFAULT_CONCURRENCY,
            run: relkit_http::Run::default(),
        }
    }
}

/// What [`Client::retag`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Retagged {
    /// The tag did not exist; it now holds `digest`.
    Created { digest: Digest },
    /// The tag already held `digest`: nothing was written.
    Unchanged { digest: Digest },
    /// The tag held `previous` and, as forced, now holds `digest`.
    Replaced { digest: Digest, previous: Digest },
}

impl Retagged {
    /// The digest the tag holds now.
    pub fn digest(&self) -> &Digest {
        match self {
            Self::Created { digest }
            | Self::Unchanged { digest }
            | Self::Replaced { digest, .. } => digest,
        }
    }
}

/// What the client learnt about one registry's auth.
#[derive(Debug, Default)]
struct Registry {
    /// `None` until the registry answered a request; then its challenge, or `None` when open.
    challenge: Option<Option<Challenge>>,
    /// `None` until looked up.
    credential: Option<Option<Credential>>,
    /// Bearer tokens by scope.
    tokens: HashMap<String, Token>,
    /// Whether a first request went out alone and came back, answered or not: after that,
    /// requests no longer wait for one another.
    probed: bool,
    /// What that first request met when the registry could not be reached after all its
    /// attempts (`attempts`, the last error): the requests that waited for it fail with the same,
    /// instead of each trying as long again.
    down: Option<GaveUp>,
    /// The same for the token server: once a fetch gave up on reaching it, the fetches that were
    /// waiting (for any scope) fail with its error.
    token_server_down: Option<GaveUp>,
}

/// An OCI distribution client. Cheap to share by reference across tasks.
#[derive(Debug)]
pub struct Client {
    transport: Transport,
    options: Options,
    registries: Mutex<HashMap<String, Registry>>,
    /// Requests that would repeat work under way wait for it instead, by registry and key: one
    /// token fetch per scope (keyed by the scope), one first request per registry while its
    /// challenge is unknown (keyed by the empty string).
    gates: Mutex<HashMap<(String, String), Gate>>,
}

/// A server that could not be reached after all the attempts of one request: the requests
/// that waited for that one fail the same way instead of trying as long again.
#[derive(Debug, Clone)]
struct GaveUp {
    attempts: u32,
    message: String,
}

impl GaveUp {
    fn of(error: &Error) -> Option<Self> {
        match error {
            Error::Unreachable {
                attempts, message, ..
            } => Some(Self {
                attempts: *attempts,
                message: message.clone(),
            }),
            _ => None,
        }
    }

    fn again(&self, registry: &str, what: &str) -> Error {
        Error::Unreachable {
            registry: registry.to_owned(),
            what: what.to_owned(),
            attempts: self.attempts,
            message: self.message.clone(),
        }
    }
}

/// Held while a token for one registry and scope is fetched.
type Gate = Arc<tokio::sync::Mutex<()>>;

/// The access a request needs, as token scopes.
type Scopes = Vec<String>;

fn pull(reference: &Reference) -> Scopes {
    vec![format!("repository:{}:pull", reference.repository())]
}

fn push(reference: &Reference) -> Scopes {
    vec![format!("repository:{}:pull,push", reference.repository())]
}

impl Client {
    pub fn new(options: Options) -> Result<Self, Error> {
        Ok(Self {
            transport: Transport::new(HttpOptions {
                policy: options.policy,
                run: options.run.clone(),
                ..HttpOptions::default()
            })?,
            options,
            registries: Mutex::new(HashMap::new()),
            gates: Mutex::new(HashMap::new()),
        })
    }

    /// Requests sent so far, by registry.
    pub fn stats(&self) -> BTreeMap<String, Stats> {
        self.transport.stats()
    }

    /// The digest `reference` names now (its tag, else its digest, else `latest`), by a `HEAD`
    /// on the manifest; a multi-platform image gives its index digest.
    pub async fn resolve(&self, reference: &Reference) -> Result<Digest, Error> {
        Ok(self.head(reference).await?.digest)
    }

    /// [`Client::resolve`] for many references, at most `concurrency` at a time, in order.
    pub async fn resolve_all(&self, references: &[Reference]) -> Vec<Result<Digest, Error>> {
        futures_util::stream::iter(references)
            .map(|r| self.resolve(r))
            .buffered(self.options.concurrency.max(1))
            .collect()
            .await
    }

    /// The digest and media type of what `reference` names now. Uses `HEAD` (which does not count
    /// against Docker Hub's pull limit) and falls back to `GET` only when the registry leaves out
    /// `Docker-Content-Digest`; a digest computed from a body is SHA-256 of the bytes.
    pub async fn head(&self, reference: &Reference) -> Result<Descriptor, Error> {
        let what = format!("the manifest of {reference}");
        let response = self
            .ask_manifest(Method::HEAD, reference, reference.manifest_ref(), &what)
            .await?;
        let media_type = header(&response, CONTENT_TYPE.as_str());
        // A stated digest is taken only with a manifest's media type: a login page or a proxy's
        // page answering 200 is read and refused by the GET below.
        let stated = header(&response, "docker-content-digest").filter(|_| {
            media_type
                .as_deref()
                .is_some_and(manifest::is_manifest_type)
        });
        match stated {
            Some(value) => {
                let digest = value.parse::<Digest>().map_err(|e| Error::Protocol {
                    registry: reference.registry().to_owned(),
                    what: what.clone(),
                    message: format!("Docker-Content-Digest: {e}"),
                })?;
                if reference.tag().is_none()
                    && let Some(expected) = reference.digest()
                    && digest != *expected
                {
                    return Err(Error::DigestMismatch {
                        reference: reference.to_string(),
                        expected: expected.clone(),
                        actual: digest,
                    });
                }
                Ok(Descriptor { digest, media_type })
            }
            None => {
                let manifest = self.fetch(reference, reference.manifest_ref()).await?;
                Ok(Descriptor {
                    digest: manifest.digest,
                    media_type: Some(manifest.media_type),
                })
            }
        }
    }

    /// The manifest `reference` names, as stored: by its digest when it has one, else its tag
    /// (or `latest`). The bytes are checked against the digest.
    pub async fn manifest(&self, reference: &Reference) -> Result<Manifest, Error> {
        let at = match reference.digest() {
            Some(digest) => digest.as_str(),
            None => reference.manifest_ref(),
        };
        self.fetch(reference, at).await
    }

    /// Points `target_tag` in the source's repository at the manifest `source` names, by copying
    /// the manifest's bytes: one read, one write, no blob moves, the digest unchanged.
    pub async fn retag(
        &self,
        source: &Reference,
        target_tag: &str,
        force: bool,
    ) -> Result<Retagged, Error> {
        let target = source.with_tag(target_tag)?;
        self.copy(source, &target, force).await
    }

    /// Makes `target`'s tag hold the manifest `source` names, with the same digest. Across
    /// repositories of one registry the blobs are mounted (and uploaded when the registry declines
    /// the mount); across registries they are copied. A tag that holds another digest is left
    /// alone unless `force`; one that holds the same digest is not written.
    pub async fn copy(
        &self,
        source: &Reference,
        target: &Reference,
        force: bool,
    ) -> Result<Retagged, Error> {
        let Some(tag) = target.tag() else {
            return Err(Error::Protocol {
                registry: target.registry().to_owned(),
                what: format!("copying {source} to {target}"),
                message: "the target needs a tag".to_owned(),
            });
        };
        let manifest = self.manifest(source).await?;
        let current = match self.head(&target.with_tag(tag)?).await {
            Ok(found) => Some(found.digest),
            Err(Error::NotFound { .. }) => None,
            Err(e) => return Err(e),
        };
        let previous = match current {
            Some(digest) if digest == manifest.digest => {
                return Ok(Retagged::Unchanged { digest });
            }
            Some(digest) if !force => {
                return Err(Error::TagHoldsOther {
                    target: target.to_string(),
                    current: digest,
                    wanted: manifest.digest,
                });
            }
            other => other,
        };
        if !source.same_repository(target) {
            self.carry(source, target, &manifest).await?;
        }
        self.put_manifest(target, tag, &manifest).await?;
        let digest = manifest.digest;
        Ok(match previous {
            Some(previous) => Retagged::Replaced { digest, previous },
            None => Retagged::Created { digest },
        })
    }

    /// Makes `target`'s tag hold `manifest`, a manifest of the same repository (read once for
    /// all the tags it gets), if the tag holds `expected` now (`None`: there is no such tag): a
    /// compare-and-swap, so a tag another writer moved since is left alone. One `HEAD`, one
    /// `PUT`, whose stated digest is checked; a tag that holds the manifest already is not
    /// written.
    pub async fn put_tag(
        &self,
        target: &Reference,
        manifest: &Manifest,
        expected: Option<&Digest>,
    ) -> Result<Retagged, Error> {
        let Some(tag) = target.tag() else {
            return Err(Error::Protocol {
                registry: target.registry().to_owned(),
                what: format!("writing {target}"),
                message: "the target needs a tag".to_owned(),
            });
        };
        let current = match self.head(&target.with_tag(tag)?).await {
            Ok(found) => Some(found.digest),
            Err(Error::NotFound { .. }) => None,
            Err(e) => return Err(e),
        };
        if current.as_ref() == Some(&manifest.digest) {
            return Ok(Retagged::Unchanged {
                digest: manifest.digest.clone(),
            });
        }
        if current.as_ref() != expected {
            return Err(match current {
                Some(current) => Error::TagHoldsOther {
                    target: target.to_string(),
                    current,
                    wanted: manifest.digest.clone(),
                },
                None => Error::NotFound {
                    registry: target.registry().to_owned(),
                    reference: target.to_string(),
                },
            });
        }
        self.put_manifest(target, tag, manifest).await?;
        let digest = manifest.digest.clone();
        Ok(match current {
            Some(previous) => Retagged::Replaced { digest, previous },
            None => Retagged::Created { digest },
        })
    }

    /// Brings what `manifest` refers to from `source`'s repository into `target`'s.
    async fn carry(
        &self,
        source: &Reference,
        target: &Reference,
        manifest: &Manifest,
    ) -> Result<(), Error> {
        let content = manifest::content(&manifest.bytes).map_err(|message| Error::Protocol {
            registry: source.registry().to_owned(),
            what: format!("the manifest of {source}"),
            message,
        })?;
        match content {
            Content::Image(blobs) => {
                for blob in blobs {
                    self.carry_blob(source, target, &blob).await?;
                }
            }
            Content::Index(children) => {
                for child in children {
                    let at_target = target.at_digest(child.clone());
                    match self.head(&at_target).await {
                        Ok(_) => continue,
                        Err(Error::NotFound { .. }) => {}
                        Err(e) => return Err(e),
                    }
                    let child_manifest = self.fetch(source, child.as_str()).await?;
                    Box::pin(self.carry(source, target, &child_manifest)).await?;
                    self.put_manifest(target, child.as_str(), &child_manifest)
                        .await?;
                }
            }
        }
        Ok(())
    }

    /// Makes blob `digest` of `source`'s repository available in `target`'s.
    async fn carry_blob(
        &self,
        source: &Reference,
        target: &Reference,
        digest: &Digest,
    ) -> Result<(), Error> {
        let registry = target.registry();
        let what = format!("blob {digest} for {}", target.name());
        let base = self.base_url(registry)?;
        let uploads = join(
            &base,
            &format!("/v2/{}/blobs/uploads/", target.repository()),
        )?;
        let location = if source.registry() == target.registry() {
            let mut scopes = push(target);
            scopes.extend(pull(source));
            let mut url = uploads.clone();
            url.query_pairs_mut()
                .append_pair("mount", digest.as_str())
                .append_pair("from", source.repository());
            let response = self
                .send(registry, &scopes, &what, || {
                    self.transport
                        .http
                        .post(url.clone())
                        .header("content-length", "0")
                })
                .await?;
            let response = self
                .expect(
                    target,
                    &what,
                    response,
                    &[StatusCode::CREATED, StatusCode::ACCEPTED],
                )
                .await?;
            if response.status() == StatusCode::CREATED {
                return Ok(());
            }
            // 202: the registry declined the mount and opened an upload session instead.
            self.location(registry, &what, &base, &response)?
        } else {
            let blob = join(
                &base,
                &format!("/v2/{}/blobs/{digest}", target.repository()),
            )?;
            let response = self
                .send(registry, &push(target), &what, || {
                    self.transport.http.head(blob.clone())
                })
                .await?;
            if response.status() == StatusCode::OK {
                return Ok(());
            }
            let response = self
                .send(registry, &push(target), &what, || {
                    self.transport
                        .http
                        .post(uploads.clone())
                        .header("content-length", "0")
                })
                .await?;
            let response = self
                .expect(target, &what, response, &[StatusCode::ACCEPTED])
                .await?;
            self.location(registry, &what, &base, &response)?
        };
        let bytes = self.blob(source, digest).await?;
        let mut url = location;
        url.query_pairs_mut().append_pair("digest", digest.as_str());
        let response = self
            .send(registry, &push(target), &what, || {
                self.transport
                    .http
                    .put(url.clone())
                    .header(CONTENT_TYPE, "application/octet-stream")
                    .body(bytes.clone())
            })
            .await?;
        self.expect(target, &what, response, &[StatusCode::CREATED])
            .await?;
        Ok(())
    }

    /// Blob `digest` of `reference`'s repository, checked against its digest.
    async fn blob(&self, reference: &Reference, digest: &Digest) -> Result<Vec<u8>, Error> {
        let registry = reference.registry();
        let what = format!("blob {digest} of {}", reference.name());
        let base = self.base_url(registry)?;
        let url = join(
            &base,
            &format!("/v2/{}/blobs/{digest}", reference.repository()),
        )?;
        let response = self
            .send(registry, &pull(reference), &what, || {
                self.transport.http.get(url.clone())
            })
            .await?;
        // Registries with object storage redirect blob reads; follow without our credentials.
        let response = if response.status().is_redirection() {
            let to = self.location(registry, &what, &base, &response)?;
            self.transport
                .send(registry, Peer::Registry, &what, || {
                    self.transport.http.get(to.clone())
                })
                .await?
        } else {
            response
        };
        let response = self
            .expect(reference, &what, response, &[StatusCode::OK])
            .await?;
        let bytes = self.transport.body(registry, &what, response).await?;
        if !digest.matches(&bytes) {
            return Err(Error::DigestMismatch {
                reference: format!("{}@{digest}", reference.name()),
                expected: digest.clone(),
                actual: digest.of(&bytes),
            });
        }
        Ok(bytes)
    }

    /// `GET` of the manifest at `at` (a tag or a digest) in `reference`'s repository.
    async fn fetch(&self, reference: &Reference, at: &str) -> Result<Manifest, Error> {
        let registry = reference.registry();
        let shown = if at.contains(':') {
            format!("{}@{at}", reference.name())
        } else {
            format!("{}:{at}", reference.name())
        };
        let what = format!("the manifest of {shown}");
        let response = self.ask_manifest(Method::GET, reference, at, &what).await?;
        let content_type = header(&response, CONTENT_TYPE.as_str());
        let announced = header(&response, "docker-content-digest");
        let bytes = self.transport.body(registry, &what, response).await?;

        // The digest of what was read: checked against the one asked for, or the one announced.
        let expected = at.parse::<Digest>().ok();
        let digest = match &expected {
            Some(expected) => expected.of(&bytes),
            None => Digest::sha256(&bytes),
        };
        if let Some(expected) = expected
            && expected != digest
        {
            return Err(Error::DigestMismatch {
                reference: shown,
                expected,
                actual: digest,
            });
        }
        if let Some(announced) = announced.and_then(|a| a.parse::<Digest>().ok())
            && announced.algorithm() == digest.algorithm()
            && announced != digest
        {
            return Err(Error::DigestMismatch {
                reference: shown,
                expected: announced,
                actual: digest,
            });
        }
        let media_type = manifest::verify(&bytes, content_type.as_deref()).map_err(|answer| {
            Error::NotAManifest {
                registry: registry.to_owned(),
                what: what.clone(),
                answer: format!("200 {answer}"),
            }
        })?;
        Ok(Manifest {
            bytes,
            media_type,
            digest,
        })
    }

    /// `HEAD` or `GET` of the manifest at `at` in `reference`'s repository, accepting every
    /// manifest type relkit reads; any answer but 200 is an error.
    ///
    /// Redirects are followed by hand, at most [`MAX_REDIRECTS`] of them (registry.k8s.io
    /// redirects every manifest request to the registry that holds it): with the registry's
    /// credentials while they stay on its origin, without them elsewhere, and never to plain HTTP
    /// on a host that would not be reached over plain HTTP as a registry.
    async fn ask_manifest(
        &self,
        method: Method,
        reference: &Reference,
        at: &str,
        what: &str,
    ) -> Result<Response, Error> {
        let registry = reference.registry();
        let origin = self.base_url(registry)?.origin();
        let mut url = self.manifest_url(reference, at)?;
        let mut hops = 0;
        loop {
            let request = || {
                self.transport
                    .http
                    .request(method.clone(), url.clone())
                    .header(ACCEPT, manifest::ACCEPT)
            };
            // A token is for the repository the URL names, which a redirect may change.
            let scopes = repository_in(&url)
                .map_or_else(|| pull(reference), |r| vec![format!("repository:{r}:pull")]);
            let response = if url.origin() == origin {
                self.send(registry, &scopes, what, request).await?
            } else {
                // Another registry (registry.k8s.io sends each request to the one that holds
                // the image): it is asked as itself, with its own credentials if the docker
                // configuration has some, and its own (often anonymous) token.
                self.send(&host_port(&url), &scopes, what, request).await?
            };
            if !is_redirect(response.status()) {
                return self
                    .expect(reference, what, response, &[StatusCode::OK])
                    .await;
            }
            let next = self.location(registry, what, &url, &response)?;
            hops += 1;
            if hops > MAX_REDIRECTS {
                return Err(Error::Protocol {
                    registry: registry.to_owned(),
                    what: what.to_owned(),
                    message: format!(
                        "gave up after {MAX_REDIRECTS} redirects (the next to {}); a registry \
                         answers within a few",
                        shown_url(&next)
                    ),
                });
            }
            if next.scheme() != "https"
                && !(next.scheme() == "http" && self.plain_http_allowed(&host_port(&next)))
            {
                return Err(Error::Insecure {
                    registry: registry.to_owned(),
                    what: format!("a redirect for {what}"),
                    url: shown_url(&next),
                });
            }
            url = next;
        }
    }

    /// `PUT` of `manifest` at `at` (a tag or its digest) in `target`'s repository.
    async fn put_manifest(
        &self,
        target: &Reference,
        at: &str,
        manifest: &Manifest,
    ) -> Result<(), Error> {
        let registry = target.registry();
        let what = format!("writing {}:{at}", target.name());
        let url = self.manifest_url(target, at)?;
        let response = self
            .send(registry, &push(target), &what, || {
                self.transport
                    .http
                    .put(url.clone())
                    .header(CONTENT_TYPE, manifest.media_type.as_str())
                    .body(manifest.bytes.clone())
            })
            .await?;
        let response = self
            .expect(
                target,
                &what,
                response,
                &[StatusCode::CREATED, StatusCode::OK],
            )
            .await?;
        if let Some(stored) =
            header(&response, "docker-content-digest").and_then(|d| d.parse::<Digest>().ok())
            && stored.algorithm() == manifest.digest.algorithm()
            && stored != manifest.digest
        {
            return Err(Error::DigestMismatch {
                reference: format!("{}:{at}", target.name()),
                expected: manifest.digest.clone(),
                actual: stored,
            });
        }
        Ok(())
    }

    /// Turns an unexpected status into an error naming the reference; returns expected answers.
    async fn expect(
        &self,
        reference: &Reference,
        what: &str,
        response: Response,
        ok: &[StatusCode],
    ) -> Result<Response, Error> {
        let status = response.status();
        if ok.contains(&status) {
            return Ok(response);
        }
        let registry = reference.registry().to_owned();
        let body = response.text().await.unwrap_or_default();
        Err(match status {
            StatusCode::NOT_FOUND => Error::NotFound {
                registry,
                reference: what
                    .strip_prefix("the manifest of ")
                    .map_or_else(|| reference.to_string(), str::to_owned),
            },
            StatusCode::FORBIDDEN => Error::Forbidden {
                registry,
                what: what.to_owned(),
                message: error_message(&body),
            },
            _ => Error::Http {
                registry,
                what: what.to_owned(),
                status: status.as_u16(),
                message: error_message(&body),
            },
        })
    }

    fn location(
        &self,
        registry: &str,
        what: &str,
        base: &Url,
        response: &Response,
    ) -> Result<Url, Error> {
        let location = header(response, LOCATION.as_str()).ok_or_else(|| Error::Protocol {
            registry: registry.to_owned(),
            what: what.to_owned(),
            message: "the answer has no Location".to_owned(),
        })?;
        base.join(&location).map_err(|e| Error::Protocol {
            registry: registry.to_owned(),
            what: what.to_owned(),
            message: format!("the Location {location:?} is not a URL: {e}"),
        })
    }

    fn manifest_url(&self, reference: &Reference, at: &str) -> Result<Url, Error> {
        let base = self.base_url(reference.registry())?;
        join(
            &base,
            &format!("/v2/{}/manifests/{at}", reference.repository()),
        )
    }

    /// `https://host/`, or `http://host/` for loopback and listed registries.
    fn base_url(&self, registry: &str) -> Result<Url, Error> {
        let host = api_host(registry);
        let scheme = if self.plain_http_allowed(registry) {
            "http"
        } else {
            "https"
        };
        Url::parse(&format!("{scheme}://{host}/")).map_err(|e| Error::Setup {
            message: format!("the registry {registry:?} does not make a URL: {e}"),
        })
    }

    fn plain_http_allowed(&self, registry: &str) -> bool {
        is_loopback(registry) || self.options.insecure.iter().any(|r| r == registry)
    }

    /// Sends a request to `registry` with the auth it asks for: learns the challenge from the
    /// first 401, then sends Basic credentials or a bearer token for `scopes` with each request.
    async fn send(
        &self,
        registry: &str,
        scopes: &[String],
        what: &str,
        make: impl Fn() -> RequestBuilder,
    ) -> Result<Response, Error> {
        // The first request to a registry goes alone: the others wait to learn whether and how it
        // wants credentials, instead of each collecting a 401.
        let unknown = |r: &mut Registry| r.challenge.is_none() && !r.probed;
        let probe = self.gate(registry, "");
        let probing = if self.with_registry(registry, unknown) {
            let guard = probe.lock().await;
            self.with_registry(registry, unknown).then_some(guard)
        } else {
            None
        };
        if let Some(gave_up) = self.with_registry(registry, |r| r.down.clone()) {
            return Err(gave_up.again(registry, what));
        }
        let mut answered_challenge = false;
        loop {
            let authorization = self.authorization(registry, scopes, what).await?;
            let response = self
                .transport
                .send(registry, Peer::Registry, what, || {
                    let request = make();
                    // Sensitive: left out of any `Debug` of the request and of HTTP/2 header
                    // tables.
                    match authorization
                        .as_ref()
                        .and_then(|v| reqwest::header::HeaderValue::from_str(v.expose()).ok())
                    {
                        Some(mut value) => {
                            value.set_sensitive(true);
                            request.header(AUTHORIZATION, value)
                        }
                        None => request,
                    }
                })
                .await;
            self.with_registry(registry, |r| {
                r.probed = true;
                if let (Some(_), Err(e)) = (&probing, &response) {
                    r.down = GaveUp::of(e);
                }
            });
            let response = response?;
            let status = response.status();
            if status != StatusCode::UNAUTHORIZED {
                self.with_registry(registry, |r| {
                    if r.challenge.is_none() {
                        r.challenge = Some(None);
                    }
                });
                return Ok(response);
            }
            let challenge =
                header(&response, WWW_AUTHENTICATE.as_str()).and_then(|h| Challenge::parse(&h));
            let body = response.text().await.unwrap_or_default();
            let known = self.with_registry(registry, |r| r.challenge.clone());
            // One more try after learning (or re-learning) the challenge, when a cached token may
            // have been revoked, or when another request learnt the challenge while this one was
            // on its way without credentials; a fresh answer that is still 401 is final.
            let retry = !answered_challenge && challenge.is_some();
            if retry {
                answered_challenge = true;
                let key = scopes.join(" ");
                let relearnt = known != Some(challenge.clone());
                self.with_registry(registry, |r| {
                    r.challenge = Some(challenge.clone());
                    // A token that was sent and refused is dropped; one another request just
                    // fetched is kept.
                    if relearnt || authorization.is_some() {
                        r.tokens.remove(&key);
                    }
                });
                continue;
            }
            let who = self
                .credential(registry)
                .await?
                .map_or_else(|| "anonymous access".to_owned(), |c| c.who());
            let message = if !body.trim().is_empty() {
                error_message(&body)
            } else if authorization.is_none() {
                "it asks for credentials, and none were given or found in the docker config"
                    .to_owned()
            } else {
                "the credentials were not accepted".to_owned()
            };
            return Err(Error::Unauthorized {
                registry: registry.to_owned(),
                who,
                what: what.to_owned(),
                message,
            });
        }
    }

    fn gate(&self, registry: &str, key: &str) -> Gate {
        Arc::clone(
            self.gates
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .entry((registry.to_owned(), key.to_owned()))
                .or_default(),
        )
    }

    /// The `Authorization` value for a request to `registry` needing `scopes`, if any.
    async fn authorization(
        &self,
        registry: &str,
        scopes: &[String],
        what: &str,
    ) -> Result<Option<Secret>, Error> {
        let challenge = self.with_registry(registry, |r| r.challenge.clone());
        match challenge {
            None | Some(None) => Ok(None),
            Some(Some(Challenge::Basic)) => Ok(match self.credential(registry).await? {
                Some(Credential::Basic { username, password }) => {
                    let pair = format!("{username}:{}", password.expose());
                    Some(Secret::new(format!("Basic {}", BASE64.encode(pair))))
                }
                // An identity token is only good at a token server.
                Some(Credential::IdentityToken(_)) | None => None,
            }),
            Some(Some(Challenge::Bearer { realm, service })) => {
                let key = scopes.join(" ");
                let gate = self.gate(registry, &key);
                let _fetching = gate.lock().await;
                let cached = self.with_registry(registry, |r| {
                    r.tokens
                        .get(&key)
                        .filter(|t| t.fresh())
                        .map(|t| t.secret.clone())
                });
                let token = match cached {
                    Some(token) => token,
                    None => {
                        if let Some(gave_up) =
                            self.with_registry(registry, |r| r.token_server_down.clone())
                        {
                            return Err(gave_up.again(registry, &format!("a token for {what}")));
                        }
                        let token = self
                            .fetch_token(registry, &realm, service.as_deref(), scopes, what)
                            .await
                            .inspect_err(|e| {
                                if let Some(gave_up) = GaveUp::of(e) {
                                    self.with_registry(registry, |r| {
                                        r.token_server_down = Some(gave_up);
                                    });
                                }
                            })?;
                        let secret = token.secret.clone();
                        self.with_registry(registry, |r| {
                            r.tokens.insert(key, token);
                        });
                        secret
                    }
                };
                Ok(Some(Secret::new(format!("Bearer {}", token.expose()))))
            }
        }
    }

    /// A token for `scopes` from the registry's token server.
    async fn fetch_token(
        &self,
        registry: &str,
        realm: &str,
        service: Option<&str>,
        scopes: &[String],
        what: &str,
    ) -> Result<Token, Error> {
        let credential = self.credential(registry).await?;
        let what_token = format!("a token for {what}");
        let url = Url::parse(realm).map_err(|e| Error::Protocol {
            registry: registry.to_owned(),
            what: what_token.clone(),
            message: format!("the token realm {realm:?} is not a URL: {e}"),
        })?;
        let realm_host = host_port(&url);
        // The realm's own host decides: a loopback or listed registry may still name a token
        // server elsewhere, and credentials must not reach that one in clear text.
        if url.scheme() != "https" && !self.plain_http_allowed(&realm_host) {
            return Err(Error::Insecure {
                registry: registry.to_owned(),
                what: "the token realm".to_owned(),
                url: shown_url(&url),
            });
        }
        let response = self
            .transport
            .send(
                registry,
                Peer::TokenServer,
                &what_token,
                || match &credential {
                    Some(Credential::IdentityToken(refresh)) => {
                        let mut form = vec![
                            ("grant_type", "refresh_token".to_owned()),
                            ("refresh_token", refresh.expose().to_owned()),
                            ("client_id", "relkit".to_owned()),
                            ("scope", scopes.join(" ")),
                        ];
                        if let Some(service) = service {
                            form.push(("service", service.to_owned()));
                        }
                        self.transport.http.post(url.clone()).form(&form)
                    }
                    other => {
                        let mut query: Vec<(&str, &str)> =
                            scopes.iter().map(|s| ("scope", s.as_str())).collect();
                        if let Some(service) = service {
                            query.push(("service", service));
                        }
                        let mut request = self.transport.http.get(url.clone()).query(&query);
                        if let Some(Credential::Basic { username, password }) = other {
                            request = request.basic_auth(username, Some(password.expose()));
                        }
                        request
                    }
                },
            )
            .await?;
        let status = response.status();
        let body = response.text().await.unwrap_or_default();
        if status == StatusCode::UNAUTHORIZED || status == StatusCode::FORBIDDEN {
            return Err(Error::Unauthorized {
                registry: registry.to_owned(),
                who: credential
                    .as_ref()
                    .map_or_else(|| "anonymous access".to_owned(), Credential::who),
                what: what.to_owned(),
                message: format!(
                    "the token server {realm_host} said: {}",
                    error_message(&body)
                ),
            });
        }
        if !status.is_success() {
            return Err(Error::Http {
                registry: registry.to_owned(),
                what: what_token,
                status: status.as_u16(),
                message: error_message(&body),
            });
        }
        let answer: TokenResponse = serde_json::from_str(&body).map_err(|e| Error::Protocol {
            registry: registry.to_owned(),
            what: what_token.clone(),
            message: format!("the token server's answer is not a token: {e}"),
        })?;
        let secret = answer
            .token
            .or(answer.access_token)
            .filter(|t| !t.is_empty())
            .ok_or_else(|| Error::Protocol {
                registry: registry.to_owned(),
                what: what_token,
                message: "the token server's answer holds no token".to_owned(),
            })?;
        Ok(Token::new(Secret::new(secret), answer.expires_in))
    }

    /// The credential for `registry`, looked up once (a credential helper may run, off the async
    /// threads).
    async fn credential(&self, registry: &str) -> Result<Option<Credential>, Error> {
        if let Some(known) = self.with_registry(registry, |r| r.credential.clone()) {
            return Ok(known);
        }
        let credentials = self.options.credentials.clone();
        let name = registry.to_owned();
        let found = tokio::task::spawn_blocking(move || credentials.lookup(&name))
            .await
            .map_err(|e| Error::Setup {
                message: format!("the credential lookup stopped: {}", chain(&e)),
            })?
            .map_err(|e| Error::Credentials {
                registry: registry.to_owned(),
                path: e.path.display().to_string(),
                message: e.message,
            })?
            .map(|(credential, _source)| credential);
        self.with_registry(registry, |r| r.credential = Some(found.clone()));
        Ok(found)
    }

    fn with_registry<T>(&self, registry: &str, f: impl FnOnce(&mut Registry) -> T) -> T {
        let mut registries = self
            .registries
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        f(registries.entry(registry.to_owned()).or_default())
    }
}

fn header(response: &Response, name: &str) -> Option<String> {
    response
        .headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
}

/// The repository a `/v2/<name>/manifests/<reference>` URL names.
fn repository_in(url: &Url) -> Option<String> {
    let path = url.path().strip_prefix("/v2/")?;
    let (name, _) = path.rsplit_once("/manifests/")?;
    (!name.is_empty()).then(|| name.to_owned())
}

/// The most redirects one manifest request follows.
const MAX_REDIRECTS: usize = 5;

/// The answers that send a `HEAD` or `GET` elsewhere.
fn is_redirect(status: StatusCode) -> bool {
    matches!(
        status,
        StatusCode::MOVED_PERMANENTLY
            | StatusCode::FOUND
            | StatusCode::SEE_OTHER
            | StatusCode::TEMPORARY_REDIRECT
            | StatusCode::PERMANENT_REDIRECT
    )
}

/// `host[:port]` of `url`, as registries are named.
fn host_port(url: &Url) -> String {
    match (url.host_str(), url.port()) {
        (Some(h), Some(p)) => format!("{h}:{p}"),
        (Some(h), None) => h.to_owned(),
        _ => String::new(),
    }
}

/// `url` without its query and fragment (a signed redirect carries its signature there).
fn shown_url(url: &Url) -> String {
    let mut shown = url.clone();
    shown.set_query(None);
    shown.set_fragment(None);
    shown.to_string()
}

fn join(base: &Url, path: &str) -> Result<Url, Error> {
    base.join(path).map_err(|e| Error::Setup {
        message: format!("{path:?} does not make a URL: {e}"),
    })
}

/// Whether `registry` (`host[:port]`) is this machine.
pub fn is_loopback(registry: &str) -> bool {
    let host = if let Some(rest) = registry.strip_prefix('[') {
        rest.split(']').next().unwrap_or(rest)
    } else {
        registry.split(':').next().unwrap_or(registry)
    };
    host.eq_ignore_ascii_case("localhost")
        || host.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_registries_are_recognised() {
        for r in [
            "localhost",
            "localhost:5000",
            "127.0.0.1:5000",
            "127.1.2.3",
            "[::1]:5000",
        ] {
            assert!(is_loopback(r), "{r}");
        }
        for r in ["ghcr.io", "10.0.0.1:5000", "localhost.example.com"] {
            assert!(!is_loopback(r), "{r}");
        }
    }
}
