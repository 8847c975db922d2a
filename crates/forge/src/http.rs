//! The forge backends' use of the HTTP layer (`relkit-http`): its timeouts, deadline, retries
//! and waits, plus what only a forge needs.
//!
//! - A request that creates something ([`Kind::Create`]) is never repeated blindly: when its
//!   answer is lost, the call returns [`Error::Unanswered`] so that the backend reads the state
//!   back and decides ([`found_or_again`]).
//! - GitHub's rate limits: 429, or 403 with `Retry-After` or `x-ratelimit-remaining: 0` (waiting
//!   until `x-ratelimit-reset`), and a 403 that only says "rate limit" in its message, which
//!   waits a minute as GitHub asks
//!   (<https://docs.github.com/rest/using-the-rest-api/rate-limits-for-the-rest-api>); every
//!   wait within the call's budget (60 s by default), then the call fails saying which limit.
//! - A token is sent only to the forge's own API origin, and to an origin the API itself named
//!   for uploads ([`Client::trust_origin`], GitHub's `upload_url`); never to another host, not
//!   even through a redirect. It never appears in an error, a log or `Debug` output.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use relkit_http::{Budget, Call, RateLimit, Transport};
pub use relkit_http::{Policy, Run, Secret as Token};
pub use reqwest::Url;
use reqwest::{Method, RequestBuilder, Response, StatusCode};

use crate::Error;

/// The authorization scheme a forge expects.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scheme {
    /// `Authorization: Bearer …` (GitHub).
    Bearer,
    /// `Authorization: token …` (Gitea, Forgejo).
    Token,
}

/// A client for one forge's API.
#[derive(Debug)]
pub struct Client {
    layer: Transport,
    api: Url,
    /// Origins besides the API's that get the token: only ones the API answered with.
    trusted: Mutex<Vec<reqwest::Url>>,
    token: Option<Token>,
    scheme: Scheme,
    forge: String,
    /// The variable the token came from, for messages.
    token_variable: String,
    calls: AtomicU64,
}

/// What a request is, for the retry policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Safe to send again: reads, and writes that set a state.
    Idempotent,
    /// Creates something: sent once; a lost answer is [`Error::Unanswered`].
    Create,
}

/// The result of a create, made safe to act on: when its answer was lost
/// ([`Error::Unanswered`]) the create may or may not have happened, so `find` looks for what it
/// would have made, and only when that is not there is it sent once more with `again`. Any
/// other result is returned as it is.
pub(crate) async fn found_or_again<T, Find, Again>(
    sent: Result<T, Error>,
    find: impl FnOnce() -> Find,
    again: impl FnOnce() -> Again,
) -> Result<T, Error>
where
    Find: Future<Output = Result<Option<T>, Error>>,
    Again: Future<Output = Result<T, Error>>,
{
    match sent {
        Err(Error::Unanswered { .. }) => match find().await? {
            Some(found) => Ok(found),
            None => again().await,
        },
        other => other,
    }
}

/// Creates each of `labels` that `existing` does not name (`same` is the forge's comparison of
/// names). A create whose answer was lost, or that the forge refused with one of the `conflict`
/// statuses because another run made the label first, is settled by reading the names again:
/// the label must be there now.
pub(crate) async fn ensure_labels(
    forge: String,
    labels: &[crate::Label],
    same: fn(&str, &str) -> bool,
    conflict: &[u16],
    existing: impl AsyncFn() -> Result<Vec<String>, Error>,
    create: impl AsyncFn(&crate::Label) -> Result<(), Error>,
) -> Result<(), Error> {
    let known = |names: &[String], label: &crate::Label| names.iter().any(|n| same(n, &label.name));
    let names = existing().await?;
    for label in labels.iter().filter(|l| !known(&names, l)) {
        match create(label).await {
            Err(Error::Unanswered { .. }) => {}
            Err(Error::Http { status, .. }) if conflict.contains(&status) => {}
            other => {
                other?;
                continue;
            }
        }
        if !known(&existing().await?, label) {
            return Err(Error::NotFound {
                forge,
                what: format!("the label {} after creating it", label.name),
            });
        }
    }
    Ok(())
}
impl Client {
    /// A client for the API at `api` (no trailing slash needed), named `forge` in messages.
    pub fn new(
        forge: &str,
        api: &str,
        token: Option<Token>,
        token_variable: &str,
        scheme: Scheme,
        policy: Policy,
    ) -> Result<Self, Error> {
        Self::with_headers(forge, api, token, token_variable, scheme, policy, &[])
    }

    /// As [`Client::new`], with `headers` on every request that does not set them itself (GitHub's
    /// `Accept` and `X-GitHub-Api-Version`).
    pub fn with_headers(
        forge: &str,
        api: &str,
        token: Option<Token>,
        token_variable: &str,
        scheme: Scheme,
        policy: Policy,
        headers: &[(&str, &str)],
    ) -> Result<Self, Error> {
        let config = |message: String| Error::Config {
            forge: forge.to_owned(),
            message,
        };
        let api = Url::parse(&format!("{}/", api.trim_end_matches('/')))
            .map_err(|e| config(format!("the API address {api:?} is not a URL: {e}")))?;
        let layer = Transport::new(relkit_http::Options {
            policy,
            // reqwest drops `Authorization` on a redirect to another host or port.
            follow_redirects: true,
            headers: headers
                .iter()
                .map(|(name, value)| ((*name).to_owned(), (*value).to_owned()))
                .collect(),
            run: Run::default(),
        })
        .map_err(|e| config(e.to_string()))?;
        Ok(Self {
            layer,
            api,
            trusted: Mutex::default(),
            token,
            scheme,
            forge: forge.to_owned(),
            token_variable: token_variable.to_owned(),
            calls: AtomicU64::new(0),
        })
    }

    /// The run's deadline, and where retries and waits are told.
    #[must_use]
    pub fn with_run(mut self, run: Run) -> Self {
        self.layer.set_run(run);
        self
    }

    /// The forge's name in messages.
    pub fn forge(&self) -> &str {
        &self.forge
    }

    /// The token sent to the API, if any.
    pub fn token(&self) -> Option<&Token> {
        self.token.as_ref()
    }

    /// How many requests went out, retries included.
    pub fn calls(&self) -> u64 {
        self.calls.load(Ordering::Relaxed)
    }

    /// The API address of `path` (relative to the API base; segments must be encoded already).
    pub fn url(&self, path: &str) -> Result<Url, Error> {
        self.api
            .join(path.trim_start_matches('/'))
            .map_err(|e| Error::Config {
                forge: self.forge.clone(),
                message: format!("bad API path {path:?}: {e}"),
            })
    }

    /// Sends the token to `url`'s origin too from now on. Only for an address the API itself
    /// answered with, such as GitHub's `upload_url` (`uploads.github.com`); never for one a user or
    /// a redirect supplied.
    pub fn trust_origin(&self, url: &Url) {
        let origin = url.origin();
        if !origin.is_tuple() || origin == self.api.origin() {
            return;
        }
        let mut trusted = self.trusted.lock().unwrap_or_else(PoisonError::into_inner);
        if !trusted.iter().any(|t| t.origin() == origin) {
            trusted.push(url.clone());
        }
    }

    fn gets_token(&self, url: &Url) -> bool {
        let origin = url.origin();
        origin == self.api.origin()
            || self
                .trusted
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .iter()
                .any(|t| t.origin() == origin)
    }

    /// A request to `url`, with the token when `url` is on the API's origin or one it named
    /// ([`Client::trust_origin`]). A redirect to another host loses the token (reqwest drops
    /// `Authorization` when the host or port changes).
    pub fn request(&self, method: Method, url: Url) -> RequestBuilder {
        let mut builder = self.layer.http().request(method, url.clone());
        if let Some(token) = &self.token
            && self.gets_token(&url)
        {
            let value = match self.scheme {
                Scheme::Bearer => format!("Bearer {}", token.expose()),
                Scheme::Token => format!("token {}", token.expose()),
            };
            // Sensitive: left out of any `Debug` of the request and of HTTP/2 header tables.
            if let Some(value) = relkit_http::sensitive(&value) {
                builder = builder.header(reqwest::header::AUTHORIZATION, value);
            }
        }
        builder
    }

    /// Sends the request `make` builds (again for each attempt) under the layer's rules and
    /// GitHub's rate limits, and returns a response whose status is a success, or 404 when
    /// `allow_404`.
    pub async fn send(
        &self,
        kind: Kind,
        what: &str,
        allow_404: bool,
        make: impl Fn() -> Result<RequestBuilder, Error>,
    ) -> Result<Response, Error> {
        let counted = |_: u32, _: u64| {
            self.calls.fetch_add(1, Ordering::Relaxed);
        };
        let call = Call::new(&self.forge, what)
            .kind(match kind {
                Kind::Idempotent => relkit_http::Kind::Idempotent,
                Kind::Create => relkit_http::Kind::Create,
            })
            .rate_limit(rate_limit)
            .on_attempt(&counted);
        let mut budget = Budget::default();
        loop {
            let response = self.layer.send(&call, &mut budget, &make).await?;
            let status = response.status();
            if status.is_success() || (allow_404 && status == StatusCode::NOT_FOUND) {
                return Ok(response);
            }
            let err = self.status_error(what, response).await;
            if !is_unmarked_rate_limit(&err) {
                return Err(err);
            }
            // GitHub: a rate limit that says neither when nor how long means "wait at least a
            // minute".
            self.layer
                .wait(
                    &call,
                    &mut budget,
                    Duration::from_secs(60),
                    "a rate limit without Retry-After (a minute at least)",
                )
                .await?;
        }
    }

    /// Reads a JSON answer.
    pub async fn json<T: serde::de::DeserializeOwned>(
        &self,
        what: &str,
        response: Response,
    ) -> Result<T, Error> {
        let bytes = self
            .layer
            .bytes(&Call::new(&self.forge, what), response)
            .await?;
        serde_json::from_slice(&bytes).map_err(|e| Error::Protocol {
            forge: self.forge.clone(),
            what: what.to_owned(),
            message: e.to_string(),
        })
    }

    async fn status_error(&self, what: &str, response: Response) -> Error {
        let status = response.status();
        let body = response.text().await.unwrap_or_default();
        let message = api_message(&body);
        match status {
            StatusCode::UNAUTHORIZED => Error::Unauthorized {
                forge: self.forge.clone(),
                variable: self.token_variable.clone(),
                message,
            },
            StatusCode::FORBIDDEN => Error::Forbidden {
                forge: self.forge.clone(),
                what: what.to_owned(),
                message,
                permission: None,
            },
            _ => Error::Http {
                forge: self.forge.clone(),
                what: what.to_owned(),
                status: status.as_u16(),
                message,
            },
        }
    }
}

/// GitHub's rate limits (Gitea answers 429 alike): how long an answer says to wait, or `None`
/// when it is not a rate limit.
fn rate_limit(response: &Response) -> Option<RateLimit> {
    let status = response.status();
    if status != StatusCode::TOO_MANY_REQUESTS && status != StatusCode::FORBIDDEN {
        return None;
    }
    let header = |name: &str| {
        response
            .headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    let limit = |wait: Duration, limit: &str| {
        Some(RateLimit {
            wait,
            limit: limit.to_owned(),
        })
    };
    if let Some(wait) = relkit_http::retry_after(response) {
        return limit(wait, "the secondary rate limit (Retry-After)");
    }
    if header("x-ratelimit-remaining").as_deref() == Some("0") {
        let reset = header("x-ratelimit-reset").and_then(|v| v.parse::<u64>().ok())?;
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        return limit(
            Duration::from_secs(reset.saturating_sub(now).max(1)),
            "the primary rate limit (x-ratelimit-remaining: 0)",
        );
    }
    (status == StatusCode::TOO_MANY_REQUESTS)
        .then(|| limit(Duration::from_secs(1), "429 Too Many Requests"))
        .flatten()
}

/// A 403 whose message says it is a rate limit although no header says so (GitHub's secondary
/// limits may come that way).
fn is_unmarked_rate_limit(err: &Error) -> bool {
    matches!(err, Error::Forbidden { message, .. }
        if message.to_ascii_lowercase().contains("rate limit"))
}

/// The `message` of a JSON error body with the codes of its `errors` (GitHub's
/// `Validation Failed: tag_name already_exists`), or the body's start.
fn api_message(body: &str) -> String {
    let json = serde_json::from_str::<serde_json::Value>(body).ok();
    let mut message = json
        .as_ref()
        .and_then(|v| v.get("message").and_then(|m| m.as_str()).map(str::to_owned))
        .unwrap_or_else(|| body.chars().take(300).collect());
    let details = json
        .as_ref()
        .and_then(|v| v.get("errors"))
        .and_then(|e| e.as_array())
        .into_iter()
        .flatten()
        .filter_map(|e| {
            let part = |key| e.get(key).and_then(|v| v.as_str());
            let text = [part("field"), part("code"), part("message")]
                .into_iter()
                .flatten()
                .collect::<Vec<_>>()
                .join(" ");
            (!text.is_empty()).then_some(text)
        })
        .collect::<Vec<_>>();
    if !details.is_empty() {
        message = format!("{}: {}", message.trim(), details.join("; "));
    }
    redact(message.trim())
}

/// Removes what looks like a credential from a text that may quote a URL.
pub(crate) fn redact(text: &str) -> String {
    text.split(' ')
        .map(
            |word| match word.find("token=").or_else(|| word.find("access_token=")) {
                Some(at) => format!("{}token=***", &word[..at]),
                None => word.to_owned(),
            },
        )
        .collect::<Vec<_>>()
        .join(" ")
}

/// Percent-encodes one path segment (a tag may hold `/` and `+`).
pub fn segment(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                out.push(char::from(byte));
            }
            _ => out.push_str(&format!("%{byte:02X}")),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_never_prints() {
        let token = Token::new("ghp_secret");
        assert_eq!(format!("{token:?}"), "***");
    }

    #[test]
    fn segments_encode_slashes_and_plus() {
        assert_eq!(
            segment("edge/v1.0.0-pre.3+abc1234"),
            "edge%2Fv1.0.0-pre.3%2Babc1234"
        );
    }

    fn authorization(client: &Client, url: &str) -> Option<String> {
        let url = Url::parse(url).expect("a URL");
        let request = client.request(Method::GET, url).build().expect("a request");
        request
            .headers()
            .get(reqwest::header::AUTHORIZATION)
            .map(|v| v.to_str().unwrap_or_default().to_owned())
    }

    #[test]
    fn the_token_goes_to_the_api_and_the_origins_it_named_only() {
        let client = Client::new(
            "GitHub",
            "https://api.github.com",
            Some(Token::new("ghs_secret")),
            "GITHUB_TOKEN",
            Scheme::Bearer,
            Policy::default(),
        )
        .expect("a client");
        let upload = "https://uploads.github.com/repos/o/r/releases/1/assets?name=a";
        assert_eq!(
            authorization(&client, "https://api.github.com/repos/o/r").as_deref(),
            Some("Bearer ghs_secret")
        );
        assert_eq!(authorization(&client, upload), None);
        assert_eq!(authorization(&client, "http://api.github.com/x"), None);
        client.trust_origin(&Url::parse(upload).expect("a URL"));
        assert!(authorization(&client, upload).is_some());
        assert_eq!(
            authorization(&client, "https://objects.githubusercontent.com/x"),
            None
        );
        assert!(!format!("{client:?}").contains("ghs_secret"));
    }

    #[test]
    fn validation_errors_keep_their_codes() {
        let body = r#"{"message":"Validation Failed","errors":[{"resource":"Release","code":"already_exists","field":"tag_name"}],"status":"422"}"#;
        assert_eq!(
            api_message(body),
            "Validation Failed: tag_name already_exists"
        );
        assert_eq!(api_message(r#"{"message":"Not Found"}"#), "Not Found");
    }

    #[test]
    fn credentials_in_quoted_urls_are_redacted() {
        assert_eq!(
            redact("GET https://x/y?access_token=abc failed"),
            "GET https://x/y?access_token=*** failed"
        );
    }
}
