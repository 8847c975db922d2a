//! Faults a test arms before a request: the failures relkit's forge clients must survive — a
//! gateway error, a dropped connection, GitHub's primary and secondary rate limits
//! (<https://docs.github.com/en/rest/using-the-rest-api/rate-limits-for-the-rest-api>), a slow
//! answer, and the worst one, a request that took effect but whose answer never arrived
//! ([`Fault::AfterCommit`]), after which a client can only learn what happened by reading again.

use std::time::Duration;

/// Which requests a fault applies to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Matcher {
    /// An HTTP method (`"POST"`), or `None` for any.
    pub method: Option<String>,
    /// A substring of the request's path and query as sent (`"/releases"`, `"name=app.tar.gz"`).
    pub path_contains: String,
}

impl Matcher {
    /// Requests of any method whose path and query contain `path_contains`.
    pub fn any(path_contains: &str) -> Self {
        Self {
            method: None,
            path_contains: path_contains.to_owned(),
        }
    }

    /// Requests with `method` whose path and query contain `path_contains`.
    pub fn new(method: &str, path_contains: &str) -> Self {
        Self {
            method: Some(method.to_ascii_uppercase()),
            path_contains: path_contains.to_owned(),
        }
    }

    pub(crate) fn matches(&self, method: &str, target: &str) -> bool {
        self.method
            .as_deref()
            .is_none_or(|m| m.eq_ignore_ascii_case(method))
            && target.contains(&self.path_contains)
    }
}

/// A failure injected in place of (or after) the emulator's answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fault {
    /// Answer with this status and a short JSON message; the request has no effect.
    Status(u16),
    /// Close the connection without answering; the request has no effect.
    DropConnection,
    /// GitHub's secondary rate limit: 403 with `retry-after` and the documented message (on Gitea,
    /// which has none, what a proxy in front of it sends: 429 with `retry-after`).
    SecondaryRateLimit { retry_after_secs: u64 },
    /// GitHub's primary rate limit: 403 with `x-ratelimit-remaining: 0` and `x-ratelimit-reset`
    /// (on Gitea: 429 with the same headers).
    PrimaryRateLimit { reset_in_secs: u64 },
    /// Wait this long, then answer normally.
    Delay(Duration),
    /// Apply the request (create the release, store the asset, …), then fail the answer with the
    /// inner fault: the client saw an error although the change happened.
    AfterCommit(Box<Fault>),
}

#[derive(Debug)]
pub(crate) struct Armed {
    pub matcher: Matcher,
    pub remaining: u32,
    pub fault: Fault,
}

/// The armed faults, first armed first matched.
#[derive(Debug, Default)]
pub(crate) struct Faults {
    armed: Vec<Armed>,
}

impl Faults {
    pub fn arm(&mut self, matcher: Matcher, times: u32, fault: Fault) {
        if times > 0 {
            self.armed.push(Armed {
                matcher,
                remaining: times,
                fault,
            });
        }
    }

    /// The fault for this request, counting it as used.
    pub fn take(&mut self, method: &str, target: &str) -> Option<Fault> {
        let index = self
            .armed
            .iter()
            .position(|a| a.matcher.matches(method, target))?;
        let armed = &mut self.armed[index];
        armed.remaining -= 1;
        let fault = armed.fault.clone();
        if armed.remaining == 0 {
            self.armed.remove(index);
        }
        Some(fault)
    }

    pub fn pending(&self) -> usize {
        self.armed.iter().map(|a| a.remaining as usize).sum()
    }
}
