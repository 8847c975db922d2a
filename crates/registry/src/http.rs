//! The HTTP layer under the client: one reqwest client on rustls with the ring provider, relkit's
//! retry policy, and per-registry counters.
//!
//! Every request the client sends is safe to send again (reads, manifest and blob writes are
//! content-addressed, a new upload session is harmless), so a connection error, a timeout or a
//! 5xx answer is retried with exponential backoff and jitter, up to `attempts` in all. A 429 (or
//! a 503 with `Retry-After`) waits as told, as long as the total wait stays within the budget.

use std::collections::BTreeMap;
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use reqwest::{RequestBuilder, Response, StatusCode};

use crate::Error;

/// How hard to try.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Policy {
    /// Attempts of one request, the first included.
    pub attempts: u32,
    /// The first backoff; each next one doubles, with up to half again of jitter.
    pub backoff: Duration,
    /// The most time spent waiting (backoffs and `Retry-After`) for one request.
    pub wait_budget: Duration,
    /// One request's time limit.
    pub timeout: Duration,
    /// The time limit to open a connection.
    pub connect_timeout: Duration,
}

impl Default for Policy {
    fn default() -> Self {
        Self {
            attempts: 4,
            backoff: Duration::from_millis(250),
            wait_budget: Duration::from_secs(60),
            timeout: Duration::from_secs(120),
            connect_timeout: Duration::from_secs(10),
        }
    }
}

/// What the client sent to one registry (by the registry's name in references).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Stats {
    /// Requests to the registry API, retries included.
    pub requests: u64,
    /// Requests to its token server.
    pub token_requests: u64,
    /// Requests sent again after a failure or a rate limit.
    pub retries: u64,
    /// Request body bytes sent to the registry API.
    pub bytes_sent: u64,
    /// Response body bytes read from the registry API.
    pub bytes_received: u64,
}

/// Whom a request goes to, for the counters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Peer {
    Registry,
    TokenServer,
}

#[derive(Debug)]
pub(crate) struct Transport {
    pub http: reqwest::Client,
    policy: Policy,
    stats: Mutex<BTreeMap<String, Stats>>,
}

impl Transport {
    pub fn new(policy: Policy) -> Result<Self, Error> {
        // reqwest is built without a default crypto provider: relkit uses ring everywhere.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let http = reqwest::Client::builder()
            .user_agent(concat!("relkit/", env!("CARGO_PKG_VERSION")))
            .timeout(policy.timeout)
            .connect_timeout(policy.connect_timeout)
            // A token must not follow a redirect to another host: manifest and blob redirects
            // are followed by hand (client.rs), credentials only on the registry's own origin.
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| Error::Setup { message: chain(&e) })?;
        Ok(Self {
            http,
            policy,
            stats: Mutex::new(BTreeMap::new()),
        })
    }

    pub fn stats(&self) -> BTreeMap<String, Stats> {
        self.stats
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    fn count(&self, registry: &str, update: impl FnOnce(&mut Stats)) {
        let mut stats = self.stats.lock().unwrap_or_else(PoisonError::into_inner);
        update(stats.entry(registry.to_owned()).or_default());
    }

    /// Sends the request `make` builds (again for each attempt) under the retry policy. Returns
    /// any answer that is not a 5xx or a 429; the caller reads the status.
    pub async fn send(
        &self,
        registry: &str,
        peer: Peer,
        what: &str,
        make: impl Fn() -> RequestBuilder,
    ) -> Result<Response, Error> {
        let mut waited = Duration::ZERO;
        let mut attempt = 0;
        loop {
            attempt += 1;
            let request = make().build().map_err(|e| Error::Setup {
                message: chain(&e.without_url()),
            })?;
            let sent = request
                .body()
                .and_then(reqwest::Body::as_bytes)
                .map_or(0, |b| b.len() as u64);
            self.count(registry, |s| {
                match peer {
                    Peer::Registry => {
                        s.requests += 1;
                        s.bytes_sent += sent;
                    }
                    Peer::TokenServer => s.token_requests += 1,
                }
                if attempt > 1 {
                    s.retries += 1;
                }
            });
            let wait = match self.http.execute(request).await {
                Err(e) => {
                    if attempt >= self.policy.attempts {
                        return Err(Error::Unreachable {
                            registry: registry.to_owned(),
                            what: what.to_owned(),
                            attempts: attempt,
                            message: chain(&e.without_url()),
                        });
                    }
                    self.backoff(attempt)
                }
                Ok(response) => {
                    let status = response.status();
                    let told = retry_after(&response);
                    if status == StatusCode::TOO_MANY_REQUESTS {
                        let wait = told.unwrap_or_else(|| self.backoff(attempt));
                        if waited + wait > self.policy.wait_budget {
                            return Err(Error::RateLimited {
                                registry: registry.to_owned(),
                                what: what.to_owned(),
                                needed: wait.as_secs().max(1),
                                budget: self.policy.wait_budget.as_secs(),
                            });
                        }
                        wait
                    } else if status.is_server_error() {
                        if attempt >= self.policy.attempts {
                            let message = error_message(&response.text().await.unwrap_or_default());
                            return Err(Error::Unavailable {
                                registry: registry.to_owned(),
                                what: what.to_owned(),
                                status: status.as_u16(),
                                attempts: attempt,
                                message,
                            });
                        }
                        told.unwrap_or_else(|| self.backoff(attempt))
                    } else {
                        return Ok(response);
                    }
                }
            };
            if waited + wait > self.policy.wait_budget {
                return Err(Error::Unreachable {
                    registry: registry.to_owned(),
                    what: what.to_owned(),
                    attempts: attempt,
                    message: "gave up: the wait budget is spent".to_owned(),
                });
            }
            waited += wait;
            tokio::time::sleep(wait).await;
        }
    }

    /// Reads a response body, counting its bytes against `registry`.
    pub async fn body(
        &self,
        registry: &str,
        what: &str,
        response: Response,
    ) -> Result<Vec<u8>, Error> {
        let bytes = response.bytes().await.map_err(|e| Error::Unreachable {
            registry: registry.to_owned(),
            what: what.to_owned(),
            attempts: 1,
            message: format!("the answer broke off: {}", chain(&e.without_url())),
        })?;
        self.count(registry, |s| s.bytes_received += bytes.len() as u64);
        Ok(bytes.to_vec())
    }

    fn backoff(&self, attempt: u32) -> Duration {
        let base = self.policy.backoff * 2u32.saturating_pow(attempt.saturating_sub(1));
        // Up to half again, so that parallel jobs hitting one outage don't retry in step.
        let mut byte = [0u8; 1];
        let jitter = getrandom::fill(&mut byte).map_or(0, |()| u32::from(byte[0]));
        base + base * jitter / 512
    }
}

/// `Retry-After` in seconds (the HTTP-date form is rare from registries; it counts as absent).
fn retry_after(response: &Response) -> Option<Duration> {
    response
        .headers()
        .get(reqwest::header::RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok())
        .map(|s| Duration::from_secs(s.clamp(1, 3600)))
}

/// An error and its sources, one line.
pub(crate) fn chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(e) = source {
        let next = e.to_string();
        if !text.contains(&next) {
            text.push_str(": ");
            text.push_str(&next);
        }
        source = e.source();
    }
    text
}

/// The distribution error body (`{"errors":[{"code","message"}]}`) as one line, or the body's
/// start.
pub(crate) fn error_message(body: &str) -> String {
    #[derive(serde::Deserialize)]
    struct Errors {
        errors: Vec<One>,
    }
    #[derive(serde::Deserialize)]
    struct One {
        #[serde(default)]
        code: String,
        #[serde(default)]
        message: String,
    }
    if let Ok(errors) = serde_json::from_str::<Errors>(body)
        && !errors.errors.is_empty()
    {
        return errors
            .errors
            .iter()
            .map(|e| match (e.code.is_empty(), e.message.is_empty()) {
                (false, false) => format!("{}: {}", e.code, e.message),
                (false, true) => e.code.clone(),
                _ => e.message.clone(),
            })
            .collect::<Vec<_>>()
            .join("; ");
    }
    // Token servers answer `{"details": …}` (distribution's), `{"message": …}` or
    // `{"error": …, "error_description": …}` (OAuth2).
    if let Ok(serde_json::Value::Object(fields)) = serde_json::from_str(body) {
        let found: Vec<&str> = ["details", "message", "error", "error_description"]
            .iter()
            .filter_map(|k| fields.get(*k).and_then(serde_json::Value::as_str))
            .collect();
        if !found.is_empty() {
            return found.join(": ");
        }
    }
    let text: String = body.trim().chars().take(300).collect();
    if text.is_empty() {
        "(no details)".to_owned()
    } else {
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn distribution_errors_read_as_code_and_message() {
        assert_eq!(
            error_message(
                r#"{"errors":[{"code":"MANIFEST_UNKNOWN","message":"manifest unknown","detail":{}}]}"#
            ),
            "MANIFEST_UNKNOWN: manifest unknown"
        );
        assert_eq!(error_message(""), "(no details)");
        assert_eq!(
            error_message(r#"{"details":"incorrect username or password"}"#),
            "incorrect username or password"
        );
    }
}
