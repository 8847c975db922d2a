//! The one HTTP client the forge and registry layers use: reqwest on rustls with the ring
//! provider, relkit's user agent, timeouts that fit a CI step, a deadline for the whole run, and
//! one retry loop.
//!
//! - **Timeouts.** A connection must open within `connect_timeout` (10 s) and every read must
//!   bring bytes within `read_timeout` (30 s): a server that accepts a connection and never
//!   answers is given up on in seconds, not minutes. There is no limit on a whole request, so a
//!   3 GB upload that keeps moving is never cut off.
//! - **Deadline.** With [`Run::deadline`], no request, body read or wait goes past that
//!   instant; what was still waiting fails with [`Error::Deadline`].
//! - **Retries.** A request that is safe to send again ([`Kind::Idempotent`]) is retried with
//!   exponential backoff and jitter after a connection error, a timeout or a 5xx answer, up to
//!   `attempts` in all; the last 5xx answer is returned for the caller to read. A request that
//!   creates something ([`Kind::Create`]) is never repeated blindly: once it may have reached the
//!   server, a lost answer or a 5xx is [`Error::Unanswered`], and the caller reads the state back.
//! - **Rate limits.** The caller's [`Call::rate_limit`] says which answers are rate limits and
//!   how long they ask to wait (`Retry-After` is bounded to an hour); a wait is taken only while
//!   the call's [`Budget`] allows, then [`Error::RateLimited`] says which limit was hit.
//! - **Saying so.** Each retry and wait is told to [`Run::notice`] as it starts ("no answer
//!   from 127.0.0.1:5055 in 30 s; attempt 2 of 3 in 0.5 s"), so a run that waits is never silent.
//! - **Secrets.** [`Secret`] prints as `***`; [`sensitive`] makes the `Authorization` value
//!   that reqwest leaves out of `Debug` output and HTTP/2 header tables.
//!
//! Nothing here knows about forges or registries: which host gets a token, redirects followed by
//! hand, counters and error bodies stay with the layer that knows them.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

pub use reqwest;
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use reqwest::{RequestBuilder, Response};
use tokio::time::Instant;

/// A credential: a token or a password. Prints as `***`, in `Debug` too.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(secret: impl Into<String>) -> Self {
        Self(secret.into())
    }

    /// The secret itself, for a header and for masking in the log.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

/// An `Authorization` value (`Bearer …`, `token …`) marked sensitive; `None` when the text
/// cannot be a header value.
pub fn sensitive(value: &str) -> Option<HeaderValue> {
    let mut value = HeaderValue::from_str(value).ok()?;
    value.set_sensitive(true);
    Some(value)
}

/// How hard to try.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Policy {
    /// Attempts of an idempotent request, the first included.
    pub attempts: u32,
    /// The first backoff; each next one doubles, with up to half again of jitter.
    pub backoff: Duration,
    /// The most time one call spends waiting, backoffs and rate limits together.
    pub wait_budget: Duration,
    /// The time limit to open a connection.
    pub connect_timeout: Duration,
    /// The most time between two reads of an answer (its headers included) before the request
    /// counts as unanswered.
    pub read_timeout: Duration,
}

impl Default for Policy {
    fn default() -> Self {
        Self {
            attempts: 3,
            backoff: Duration::from_millis(500),
            wait_budget: Duration::from_secs(60),
            connect_timeout: Duration::from_secs(10),
            read_timeout: Duration::from_secs(30),
        }
    }
}

/// Told each retry and wait as it starts, one line.
pub type Notice = Arc<dyn Fn(&str) + Send + Sync>;

/// How a [`Transport`] is set up.
#[derive(Debug, Clone, Default)]
pub struct Options {
    pub policy: Policy,
    /// Follow redirects (reqwest drops `Authorization` when one changes host or port). Off, the
    /// caller sees each 3xx and decides.
    pub follow_redirects: bool,
    /// Headers on every request that does not set them itself.
    pub headers: Vec<(String, String)>,
    pub run: Run,
}

/// What the whole run shares, whichever client it talks through: its deadline, and where
/// retries and waits are told.
#[derive(Clone, Default)]
pub struct Run {
    /// No request or wait goes past this instant.
    pub deadline: Option<Deadline>,
    pub notice: Option<Notice>,
}

impl fmt::Debug for Run {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Run")
            .field("deadline", &self.deadline)
            .field("notice", &self.notice.is_some())
            .finish()
    }
}

/// The end of the run's time: an instant, and the flag that set it, for messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Deadline {
    pub at: Instant,
    /// The whole allowance in seconds, as the user gave it.
    pub seconds: u64,
    /// The flag that set it (`--deadline`).
    pub flag: &'static str,
}

impl Deadline {
    /// A deadline `seconds` from now.
    pub fn after(seconds: u64, flag: &'static str) -> Self {
        Self {
            at: Instant::now() + Duration::from_secs(seconds),
            seconds,
            flag,
        }
    }
}

/// What a request is, for the retry rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Safe to send again: reads, and writes that set a state or are content-addressed.
    Idempotent,
    /// Creates something: never repeated once it may have reached the server.
    Create,
}

/// A rate limit an answer reports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RateLimit {
    /// How long it asks to wait.
    pub wait: Duration,
    /// Which limit, for messages ("the secondary rate limit (Retry-After)").
    pub limit: String,
}

/// One call: whom it goes to and what it is, for the rules and the messages.
#[derive(Clone, Copy)]
pub struct Call<'a> {
    /// Who answers, as messages name it ("GitHub at https://api.github.com", "127.0.0.1:5055").
    pub peer: &'a str,
    /// What the call does ("create the release v1.2.3").
    pub what: &'a str,
    pub kind: Kind,
    /// Which answers are rate limits, and how long they ask to wait.
    pub rate_limit: fn(&Response) -> Option<RateLimit>,
    /// Told each attempt as it is sent: its number (1 for the first) and its body's size.
    pub on_attempt: Option<&'a (dyn Fn(u32, u64) + Sync)>,
}

impl fmt::Debug for Call<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Call")
            .field("peer", &self.peer)
            .field("what", &self.what)
            .field("kind", &self.kind)
            .finish_non_exhaustive()
    }
}

impl<'a> Call<'a> {
    /// An idempotent call whose only rate limit is a 429 ([`too_many_requests`]).
    pub fn new(peer: &'a str, what: &'a str) -> Self {
        Self {
            peer,
            what,
            kind: Kind::Idempotent,
            rate_limit: too_many_requests,
            on_attempt: None,
        }
    }

    pub fn kind(self, kind: Kind) -> Self {
        Self { kind, ..self }
    }

    pub fn rate_limit(self, rate_limit: fn(&Response) -> Option<RateLimit>) -> Self {
        Self { rate_limit, ..self }
    }

    pub fn on_attempt(self, on_attempt: &'a (dyn Fn(u32, u64) + Sync)) -> Self {
        Self {
            on_attempt: Some(on_attempt),
            ..self
        }
    }
}

/// The time one call has spent waiting, against [`Policy::wait_budget`]. One per call, so that a
/// caller that sends again after reading an answer ([`Transport::wait`]) stays within it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Budget {
    waited: Duration,
}

impl Budget {
    pub fn waited(&self) -> Duration {
        self.waited
    }
}

/// Why a call failed in the HTTP layer. The layers above name the peer in their own terms.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    #[error("could not set up HTTP: {message}")]
    Setup { message: String },
    #[error("{peer} could not be reached to {what} ({attempts} attempts): {message}")]
    Unreachable {
        peer: String,
        what: String,
        attempts: u32,
        message: String,
    },
    #[error(
        "{peer} did not answer whether it could {what} ({message}); it is not sent again blindly"
    )]
    Unanswered {
        peer: String,
        what: String,
        message: String,
    },
    #[error(
        "{peer} rate-limits {what}: {limit} asks for {needed} s more, past the {budget} s the call may wait (waited {waited} s)"
    )]
    RateLimited {
        peer: String,
        what: String,
        limit: String,
        waited: u64,
        needed: u64,
        budget: u64,
    },
    #[error(
        "{peer}: {what} was not done by the run's deadline ({seconds} s, {flag}); nothing after it was sent"
    )]
    Deadline {
        peer: String,
        what: String,
        seconds: u64,
        flag: &'static str,
    },
}

/// The client: one reqwest client and the rules above.
pub struct Transport {
    http: reqwest::Client,
    policy: Policy,
    deadline: Option<Deadline>,
    notice: Option<Notice>,
}

impl fmt::Debug for Transport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Transport")
            .field("policy", &self.policy)
            .field("deadline", &self.deadline)
            .finish_non_exhaustive()
    }
}

impl Transport {
    pub fn new(options: Options) -> Result<Self, Error> {
        // reqwest is built without a default crypto provider: relkit uses ring everywhere.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let mut headers = HeaderMap::new();
        for (name, value) in &options.headers {
            let (Ok(header), Ok(text)) = (
                HeaderName::try_from(name.as_str()),
                HeaderValue::try_from(value.as_str()),
            ) else {
                return Err(Error::Setup {
                    message: format!("{name:?}: {value:?} is not an HTTP header"),
                });
            };
            headers.insert(header, text);
        }
        let redirects = if options.follow_redirects {
            reqwest::redirect::Policy::limited(10)
        } else {
            reqwest::redirect::Policy::none()
        };
        let http = reqwest::Client::builder()
            .user_agent(concat!("relkit/", env!("CARGO_PKG_VERSION")))
            .default_headers(headers)
            .connect_timeout(options.policy.connect_timeout)
            .read_timeout(options.policy.read_timeout)
            .redirect(redirects)
            .build()
            .map_err(|e| Error::Setup { message: chain(&e) })?;
        Ok(Self {
            http,
            policy: options.policy,
            deadline: options.run.deadline,
            notice: options.run.notice,
        })
    }

    /// The run's deadline and notices, for a transport made before they were known.
    pub fn set_run(&mut self, run: Run) {
        self.deadline = run.deadline;
        self.notice = run.notice;
    }

    /// The reqwest client, to build requests with.
    pub fn http(&self) -> &reqwest::Client {
        &self.http
    }

    pub fn policy(&self) -> &Policy {
        &self.policy
    }

    /// Sends the request `make` builds (again for each attempt) under the rules above. Returns
    /// the first answer that is neither a rate limit nor a 5xx, or the last 5xx of an idempotent
    /// call; the caller reads the status.
    pub async fn send<E: From<Error>>(
        &self,
        call: &Call<'_>,
        budget: &mut Budget,
        make: impl Fn() -> Result<RequestBuilder, E>,
    ) -> Result<Response, E> {
        let mut attempt = 0;
        loop {
            attempt += 1;
            let request = make()?.build().map_err(|e| Error::Setup {
                message: chain(&e.without_url()),
            })?;
            if let Some(on_attempt) = call.on_attempt {
                let size = request
                    .body()
                    .and_then(reqwest::Body::as_bytes)
                    .map_or(0, |b| b.len() as u64);
                on_attempt(attempt, size);
            }
            let answer = match self.deadline {
                Some(deadline) => tokio::time::timeout_at(deadline.at, self.http.execute(request))
                    .await
                    .map_err(|_| deadline_error(call, deadline))?,
                None => self.http.execute(request).await,
            };
            let (wait, why) = match answer {
                Err(e) => {
                    // Not connected: the request never left, so even a create may go again.
                    if call.kind == Kind::Create && !e.is_connect() {
                        return Err(Error::Unanswered {
                            peer: call.peer.to_owned(),
                            what: call.what.to_owned(),
                            message: chain(&e.without_url()),
                        }
                        .into());
                    }
                    if attempt >= self.policy.attempts {
                        return Err(Error::Unreachable {
                            peer: call.peer.to_owned(),
                            what: call.what.to_owned(),
                            attempts: attempt,
                            message: chain(&e.without_url()),
                        }
                        .into());
                    }
                    let why = if e.is_timeout() {
                        format!(
                            "no answer from {} in {}",
                            call.peer,
                            seconds(self.policy.read_timeout)
                        )
                    } else if e.is_connect() {
                        format!("could not connect to {}", call.peer)
                    } else {
                        format!("the connection to {} broke off", call.peer)
                    };
                    (self.backoff(attempt), why)
                }
                Ok(response) => {
                    if let Some(limit) = (call.rate_limit)(&response) {
                        self.wait(call, budget, limit.wait, &limit.limit).await?;
                        continue;
                    }
                    let status = response.status();
                    if !status.is_server_error() {
                        return Ok(response);
                    }
                    if call.kind == Kind::Create {
                        return Err(Error::Unanswered {
                            peer: call.peer.to_owned(),
                            what: call.what.to_owned(),
                            message: format!("HTTP {status}"),
                        }
                        .into());
                    }
                    if attempt >= self.policy.attempts {
                        return Ok(response);
                    }
                    let wait = retry_after(&response).unwrap_or_else(|| self.backoff(attempt));
                    (wait, format!("{} answered {status}", call.peer))
                }
            };
            self.spend(call, budget, wait, &|| Error::Unreachable {
                peer: call.peer.to_owned(),
                what: call.what.to_owned(),
                attempts: attempt,
                message: format!("{why}, and the call may wait no longer"),
            })?;
            self.say(&format!(
                "{why} ({}); attempt {} of {} in {}",
                call.what,
                attempt + 1,
                self.policy.attempts,
                seconds(wait)
            ));
            tokio::time::sleep(wait).await;
        }
    }

    /// Waits `wait` for the rate limit `limit` within the call's budget and the deadline.
    pub async fn wait(
        &self,
        call: &Call<'_>,
        budget: &mut Budget,
        wait: Duration,
        limit: &str,
    ) -> Result<(), Error> {
        let waited = budget.waited;
        self.spend(call, budget, wait, &|| Error::RateLimited {
            peer: call.peer.to_owned(),
            what: call.what.to_owned(),
            limit: limit.to_owned(),
            waited: waited.as_secs(),
            needed: wait.as_secs().max(1),
            budget: self.policy.wait_budget.as_secs(),
        })?;
        self.say(&format!(
            "{} rate-limits {} ({limit}): waiting {}",
            call.peer,
            call.what,
            seconds(wait)
        ));
        tokio::time::sleep(wait).await;
        Ok(())
    }

    /// Reads an answer's body within the deadline.
    pub async fn bytes(&self, call: &Call<'_>, response: Response) -> Result<Vec<u8>, Error> {
        let broke = |e: reqwest::Error| Error::Unreachable {
            peer: call.peer.to_owned(),
            what: call.what.to_owned(),
            attempts: 1,
            message: format!("the answer broke off: {}", chain(&e.without_url())),
        };
        let body = match self.deadline {
            Some(deadline) => tokio::time::timeout_at(deadline.at, response.bytes())
                .await
                .map_err(|_| deadline_error(call, deadline))?,
            None => response.bytes().await,
        };
        Ok(body.map_err(broke)?.to_vec())
    }

    /// Takes `wait` from the budget, or says why not: past the budget (`over`), or past the
    /// deadline.
    fn spend(
        &self,
        call: &Call<'_>,
        budget: &mut Budget,
        wait: Duration,
        over: &dyn Fn() -> Error,
    ) -> Result<(), Error> {
        if budget.waited + wait > self.policy.wait_budget {
            return Err(over());
        }
        if let Some(deadline) = self.deadline
            && Instant::now() + wait > deadline.at
        {
            return Err(deadline_error(call, deadline));
        }
        budget.waited += wait;
        Ok(())
    }

    fn say(&self, line: &str) {
        if let Some(notice) = &self.notice {
            notice(line);
        }
    }

    fn backoff(&self, attempt: u32) -> Duration {
        let base = self.policy.backoff * 2u32.saturating_pow(attempt.saturating_sub(1));
        // Up to half again, so that parallel jobs hitting one outage don't retry in step.
        let mut byte = [0u8; 1];
        let jitter = getrandom::fill(&mut byte).map_or(0, |()| u32::from(byte[0]));
        base + base * jitter / 512
    }
}

fn deadline_error(call: &Call<'_>, deadline: Deadline) -> Error {
    Error::Deadline {
        peer: call.peer.to_owned(),
        what: call.what.to_owned(),
        seconds: deadline.seconds,
        flag: deadline.flag,
    }
}

fn seconds(wait: Duration) -> String {
    if wait < Duration::from_secs(1) {
        format!("{} ms", wait.as_millis())
    } else if wait < Duration::from_secs(10) {
        format!("{:.1} s", wait.as_secs_f64())
    } else {
        format!("{} s", wait.as_secs())
    }
}

/// `Retry-After` in seconds, between 1 s and an hour (the HTTP-date form counts as absent).
pub fn retry_after(response: &Response) -> Option<Duration> {
    response
        .headers()
        .get(reqwest::header::RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok())
        .map(|s| Duration::from_secs(s.clamp(1, 3600)))
}

/// The plain rate limit: a 429, waiting as `Retry-After` says (a second when it says nothing).
pub fn too_many_requests(response: &Response) -> Option<RateLimit> {
    (response.status() == reqwest::StatusCode::TOO_MANY_REQUESTS).then(|| RateLimit {
        wait: retry_after(response).unwrap_or(Duration::from_secs(1)),
        limit: "429 Too Many Requests".to_owned(),
    })
}

/// An error and its sources, one line.
pub fn chain(error: &dyn std::error::Error) -> String {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_secret_never_prints() {
        let secret = Secret::new("ghp_secret");
        assert_eq!(format!("{secret:?}"), "***");
        assert!(sensitive("Bearer ghp_secret").is_some_and(|v| v.is_sensitive()));
        assert!(sensitive("Bearer \n").is_none());
    }

    #[test]
    fn a_budget_and_a_deadline_bound_every_wait() {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a runtime");
        runtime.block_on(async {
            let transport = Transport::new(Options {
                policy: Policy {
                    wait_budget: Duration::from_secs(5),
                    ..Policy::default()
                },
                run: Run {
                    deadline: Some(Deadline::after(60, "--deadline")),
                    notice: None,
                },
                ..Options::default()
            })
            .expect("a transport");
            let call = Call::new("127.0.0.1:5055", "read the manifest");
            let mut budget = Budget::default();
            let over = transport
                .wait(&call, &mut budget, Duration::from_secs(6), "429")
                .await
                .expect_err("past the budget");
            assert!(
                over.to_string()
                    .contains("asks for 6 s more, past the 5 s the call may wait"),
                "{over}"
            );
            assert_eq!(budget.waited(), Duration::ZERO);

            let late = Transport::new(Options {
                policy: Policy {
                    wait_budget: Duration::from_secs(600),
                    ..Policy::default()
                },
                run: Run {
                    deadline: Some(Deadline::after(2, "--deadline")),
                    notice: None,
                },
                ..Options::default()
            })
            .expect("a transport");
            let err = late
                .wait(&call, &mut budget, Duration::from_secs(30), "429")
                .await
                .expect_err("past the deadline");
            assert_eq!(
                err.to_string(),
                "127.0.0.1:5055: read the manifest was not done by the run's deadline (2 s, --deadline); nothing after it was sent"
            );
        });
    }
}
