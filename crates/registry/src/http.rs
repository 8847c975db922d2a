//! The registry's use of the HTTP layer (`relkit-http`): its rules, plus what only a registry
//! needs: redirects followed by hand (a token must not follow one to another host; client.rs),
//! and per-registry counters of requests and bytes.
//!
//! Every request the client sends is safe to send again (reads, manifest and blob writes are
//! content-addressed, a new upload session is harmless), so every call is idempotent: a
//! connection error, a timeout or a 5xx is retried with backoff, and a 429 waits as
//! `Retry-After` says, within the call's budget and the run's deadline.

use std::collections::BTreeMap;
use std::sync::{Mutex, PoisonError};

use relkit_http::{Budget, Call};
pub use relkit_http::{Options as HttpOptions, Policy, chain};
use reqwest::{RequestBuilder, Response};

use crate::Error;

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
    layer: relkit_http::Transport,
    pub http: reqwest::Client,
    stats: Mutex<BTreeMap<String, Stats>>,
}

impl Transport {
    pub fn new(options: HttpOptions) -> Result<Self, Error> {
        let layer = relkit_http::Transport::new(relkit_http::Options {
            // A token must not follow a redirect to another host: followed by hand.
            follow_redirects: false,
            ..options
        })?;
        Ok(Self {
            http: layer.http().clone(),
            layer,
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

    /// Sends the request `make` builds (again for each attempt) under the layer's rules. Returns
    /// any answer that is not a 429, and a 5xx only when the attempts are spent; the caller
    /// reads the status.
    pub async fn send(
        &self,
        registry: &str,
        peer: Peer,
        what: &str,
        make: impl Fn() -> RequestBuilder,
    ) -> Result<Response, Error> {
        let counted = |attempt: u32, sent: u64| {
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
        };
        let call = Call::new(registry, what).on_attempt(&counted);
        let response = self
            .layer
            .send(&call, &mut Budget::default(), || Ok::<_, Error>(make()))
            .await?;
        let status = response.status();
        if status.is_server_error() {
            let attempts = self.layer.policy().attempts;
            let message = error_message(&response.text().await.unwrap_or_default());
            return Err(Error::Unavailable {
                registry: registry.to_owned(),
                what: what.to_owned(),
                status: status.as_u16(),
                attempts,
                message,
            });
        }
        Ok(response)
    }

    /// Reads a response body, counting its bytes against `registry`.
    pub async fn body(
        &self,
        registry: &str,
        what: &str,
        response: Response,
    ) -> Result<Vec<u8>, Error> {
        let bytes = self
            .layer
            .bytes(&Call::new(registry, what), response)
            .await?;
        self.count(registry, |s| s.bytes_received += bytes.len() as u64);
        Ok(bytes)
    }
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
