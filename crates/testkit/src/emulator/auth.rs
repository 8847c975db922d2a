//! Tokens and what they may do, after GitHub's fine-grained permissions (`contents`, `issues`,
//! `statuses`, `checks`, `workflows`) — the same names a workflow's `permissions:` block uses.
//! Gitea's token scopes (`read:repository`, `write:issue`, …) map onto the same four levels.

use axum::http::HeaderMap;

/// How far a token may go with one kind of resource.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord)]
pub enum Access {
    #[default]
    None,
    Read,
    Write,
}

/// What a token may do. `Permissions::default()` may do nothing (it still authenticates, so its
/// requests get 403, not 401).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Permissions {
    /// Refs, tags, commits, releases and their assets.
    pub contents: Access,
    /// Issues, labels and comments.
    pub issues: Access,
    /// Commit statuses.
    pub statuses: Access,
    /// Check runs.
    pub checks: Access,
    /// May create or move a ref to a commit that changes `.github/workflows/` (GitHub only).
    pub workflows: bool,
}

impl Permissions {
    /// Everything, `workflows` included.
    pub fn all() -> Self {
        Self {
            contents: Access::Write,
            issues: Access::Write,
            statuses: Access::Write,
            checks: Access::Write,
            workflows: true,
        }
    }

    /// Read access to everything.
    pub fn read_only() -> Self {
        Self {
            contents: Access::Read,
            issues: Access::Read,
            statuses: Access::Read,
            checks: Access::Read,
            workflows: false,
        }
    }

    pub(crate) fn allows(&self, need: Need) -> bool {
        let (have, want) = match need {
            Need::Contents(want) => (self.contents, want),
            Need::Issues(want) => (self.issues, want),
            Need::Statuses(want) => (self.statuses, want),
            Need::Checks(want) => (self.checks, want),
        };
        have >= want
    }
}

/// The permission a route needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Need {
    Contents(Access),
    Issues(Access),
    Statuses(Access),
    Checks(Access),
}

impl Need {
    /// Gitea's name for the scope, as its 403 message says it.
    pub(crate) fn gitea_scope(self) -> &'static str {
        match self {
            Need::Contents(Access::Write)
            | Need::Statuses(Access::Write)
            | Need::Checks(Access::Write) => "write:repository",
            Need::Contents(_) | Need::Statuses(_) | Need::Checks(_) => "read:repository",
            Need::Issues(Access::Write) => "write:issue",
            Need::Issues(_) => "read:issue",
        }
    }
}

/// The token in an `Authorization` header: both forges take `token X` and `Bearer X` (any case of
/// the scheme, as Go's and Ruby's parsers do).
pub(crate) fn bearer(headers: &HeaderMap) -> Option<&str> {
    let value = headers
        .get(axum::http::header::AUTHORIZATION)?
        .to_str()
        .ok()?;
    let (scheme, token) = value.trim().split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("token") || scheme.eq_ignore_ascii_case("bearer"))
        .then_some(token)
        .filter(|t| !t.is_empty())
}
