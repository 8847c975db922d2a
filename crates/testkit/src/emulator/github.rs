//! The GitHub REST API routes relkit uses, in the shapes of GitHub's OpenAPI description
//! (`@octokit/openapi`, `generated/api.github.com.json`; GHES: `ghes-3.19.json`), at `/` and,
//! for GHES, at `/api/v3` with uploads at `/api/uploads`.
//!
//! Behaviour follows GitHub's documentation where the contract is silent:
//! - a published release creates its missing tag at `target_commitish`; a draft has no tag until
//!   published, is not found by tag, and is only visible to tokens that may write contents;
//! - several drafts may share a tag, but only one published release may (`already_exists`);
//! - downloading an asset with `Accept: application/octet-stream` answers 302 to a URL that
//!   needs no token, as GitHub redirects to signed storage;
//! - creating or moving a ref to a commit that changes `.github/workflows/` needs the `workflows`
//!   permission;
//! - with immutable releases on, a published release's assets and tag cannot change
//!   (<https://docs.github.com/en/code-security/supply-chain-security/understanding-your-software-supply-chain/immutable-releases>).

use std::sync::MutexGuard;

use serde_json::{Value, json};

use super::auth::{Access, Need, Permissions, bearer};
use super::git::{Commit, GitError, GitRef};
use super::server::{Shared, download, download_by_name, lock};
use super::state::{Asset, Issue, Label, NewAsset, NewIssue, Release, State};
use super::wire::{
    Incoming, Outcome, Reply, now, now_secs, paginate, percent_encode, str_field, strings, zulu,
};

const DOCS: &str = "https://docs.github.com/rest";

/// The login every token acts as.
const BOT_LOGIN: &str = "github-actions[bot]";
const BOT_ID: u64 = 41_898_282;

pub(crate) fn route(shared: &Shared, req: &Incoming) -> Outcome {
    let segments = req.segments();
    let segs: Vec<&str> = segments.iter().map(String::as_str).collect();
    let root = shared.local_url.as_str();
    let dotcom = (root.to_owned(), format!("{root}/uploads"));
    let ghes = (format!("{root}/api/v3"), format!("{root}/api/uploads"));
    let ((api, uploads), upload, rest) = match segs.as_slice() {
        ["api", "v3", rest @ ..] => (ghes, false, rest),
        ["api", "uploads", rest @ ..] => (ghes, true, rest),
        ["uploads", rest @ ..] => (dotcom, true, rest),
        // Signed-storage stand-in: the asset's bytes, no token needed.
        ["_emulator", "assets", id] => {
            let id: u64 = id.parse().map_err(|_| not_found())?;
            return download(shared, |a| a.id == id).ok_or_else(not_found);
        }
        [owner, repo, "releases", "download", tag @ .., name] if !tag.is_empty() => {
            return download_by_name(shared, owner, repo, &tag.join("/"), name)
                .ok_or_else(not_found);
        }
        rest => (dotcom, false, rest),
    };
    let ["repos", owner, repo, tail @ ..] = rest else {
        return Err(not_found());
    };
    if !owner.eq_ignore_ascii_case(&shared.config.owner)
        || !repo.eq_ignore_ascii_case(&shared.config.repo)
    {
        return Err(not_found());
    }
    let permissions = bearer(&req.headers)
        .and_then(|t| shared.permissions(t))
        .ok_or_else(|| {
            Reply::json(
                401,
                json!({ "message": "Bad credentials", "documentation_url": DOCS, "status": "401" }),
            )
        })?;
    let repo_path = format!("repos/{}/{}", shared.config.owner, shared.config.repo);
    let mut ctx = Ctx {
        shared,
        req,
        permissions,
        state: lock(&shared.state),
        api: format!("{api}/{repo_path}"),
        api_root: api,
        uploads: format!("{uploads}/{repo_path}"),
        html: format!("{root}/{}/{}", shared.config.owner, shared.config.repo),
        root: root.to_owned(),
    };
    let method = req.method.as_str();
    if upload {
        return match (method, tail) {
            ("POST", ["releases", id, "assets"]) => ctx.upload_asset(parse_id(id)?),
            _ => Err(not_found()),
        };
    }
    match (method, tail) {
        ("GET", []) => ctx.full_repository(),
        ("GET", ["git", "ref", r @ ..]) if !r.is_empty() => ctx.get_ref(&r.join("/")),
        ("GET", ["git", "matching-refs", r @ ..]) => ctx.matching_refs(&r.join("/")),
        ("POST", ["git", "refs"]) => ctx.create_ref(),
        ("PATCH", ["git", "refs", r @ ..]) if !r.is_empty() => ctx.update_ref(&r.join("/")),
        ("DELETE", ["git", "refs", r @ ..]) if !r.is_empty() => ctx.delete_ref(&r.join("/")),
        ("POST", ["git", "tags"]) => ctx.create_tag_object(),
        ("GET", ["git", "tags", sha]) => ctx.get_tag_object(sha),
        ("GET", ["commits", r @ .., "status"]) if !r.is_empty() => {
            ctx.combined_status(&r.join("/"))
        }
        ("GET", ["commits", r @ .., "check-runs"]) if !r.is_empty() => ctx.check_runs(&r.join("/")),
        ("GET", ["commits", r @ ..]) if !r.is_empty() => ctx.get_commit(&r.join("/")),
        ("GET", ["compare", r @ ..]) if !r.is_empty() => ctx.compare(&r.join("/")),
        ("GET", ["releases"]) => ctx.list_releases(),
        ("POST", ["releases"]) => ctx.create_release(),
        ("GET", ["releases", "latest"]) => ctx.latest_release(),
        ("GET", ["releases", "tags", t @ ..]) if !t.is_empty() => ctx.release_by_tag(&t.join("/")),
        ("GET", ["releases", "assets", id]) => ctx.get_asset(parse_id(id)?),
        ("PATCH", ["releases", "assets", id]) => ctx.update_asset(parse_id(id)?),
        ("DELETE", ["releases", "assets", id]) => ctx.delete_asset(parse_id(id)?),
        ("GET", ["releases", id]) => ctx.get_release(parse_id(id)?),
        ("PATCH", ["releases", id]) => ctx.update_release(parse_id(id)?),
        ("DELETE", ["releases", id]) => ctx.delete_release(parse_id(id)?),
        ("GET", ["releases", id, "assets"]) => ctx.list_assets(parse_id(id)?),
        ("GET", ["issues"]) => ctx.list_issues(),
        ("POST", ["issues"]) => ctx.create_issue(),
        ("GET", ["issues", n]) => ctx.get_issue(parse_id(n)?),
        ("PATCH", ["issues", n]) => ctx.update_issue(parse_id(n)?),
        ("GET", ["issues", n, "comments"]) => ctx.list_comments(parse_id(n)?),
        ("POST", ["issues", n, "comments"]) => ctx.create_comment(parse_id(n)?),
        ("GET", ["labels"]) => ctx.list_labels(),
        ("POST", ["labels"]) => ctx.create_label(),
        _ => Err(not_found()),
    }
}

fn parse_id(s: &str) -> Result<u64, Reply> {
    s.parse().map_err(|_| not_found())
}

fn not_found() -> Reply {
    Reply::json(
        404,
        json!({ "message": "Not Found", "documentation_url": DOCS, "status": "404" }),
    )
}

fn server_error(e: &GitError) -> Reply {
    Reply::json(
        500,
        json!({ "message": format!("emulator: {}", e.0), "status": "500" }),
    )
}

/// 422 "Validation Failed" with one error entry, GitHub's shape for field problems.
/// An asset's name as GitHub stores it: every character but ASCII letters, digits and `-_.+@`
/// becomes a `.` (`my app.tar.gz` is `my.app.tar.gz`), and leading and trailing dots go.
pub(crate) fn github_asset_name(name: &str) -> String {
    let renamed: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "-_.+@".contains(c) {
                c
            } else {
                '.'
            }
        })
        .collect();
    renamed.trim_matches('.').to_owned()
}

/// The one user the emulator knows, who may be assigned.
pub(crate) const KNOWN_USER: &str = "octocat";

fn validation(resource: &str, code: &str, field: &str) -> Reply {
    Reply::json(
        422,
        json!({
            "message": "Validation Failed",
            "errors": [{ "resource": resource, "code": code, "field": field }],
            "documentation_url": DOCS,
            "status": "422"
        }),
    )
}

/// GitHub's limit on a release body: 422 with the field's message beyond 125,000 characters.
fn check_notes(body: &Value) -> Result<(), Reply> {
    const MAX: usize = 125_000;
    let long = body
        .get("body")
        .and_then(Value::as_str)
        .is_some_and(|b| b.chars().count() > MAX);
    if !long {
        return Ok(());
    }
    Err(Reply::json(
        422,
        json!({
            "message": "Validation Failed",
            "errors": [{
                "resource": "Release",
                "code": "custom",
                "field": "body",
                "message": format!("body is too long (maximum is {MAX} characters)")
            }],
            "documentation_url": DOCS,
            "status": "422"
        }),
    ))
}

fn unprocessable(message: &str) -> Reply {
    Reply::json(
        422,
        json!({ "message": message, "documentation_url": DOCS, "status": "422" }),
    )
}

struct Ctx<'a> {
    shared: &'a Shared,
    req: &'a Incoming,
    permissions: Permissions,
    state: MutexGuard<'a, State>,
    /// `…/repos/{owner}/{repo}` on the API host.
    api: String,
    /// The API root (`http://h:p` or `http://h:p/api/v3`).
    api_root: String,
    /// `…/repos/{owner}/{repo}` on the uploads host.
    uploads: String,
    /// `http://h:p/{owner}/{repo}`, the web pages.
    html: String,
    root: String,
}

impl Ctx<'_> {
    fn need(&self, need: Need) -> Result<(), Reply> {
        if self.permissions.allows(need) {
            Ok(())
        } else {
            Err(Reply::json(
                403,
                json!({
                    "message": "Resource not accessible by integration",
                    "documentation_url": DOCS,
                    "status": "403"
                }),
            ))
        }
    }

    fn body(&self) -> Result<Value, Reply> {
        match self.req.json() {
            Some(v @ Value::Object(_)) => Ok(v),
            _ => Err(Reply::json(
                400,
                json!({ "message": "Problems parsing JSON", "documentation_url": DOCS, "status": "400" }),
            )),
        }
    }

    fn can_write_contents(&self) -> bool {
        self.permissions.allows(Need::Contents(Access::Write))
    }

    fn per_page(&self) -> (usize, usize) {
        (
            self.req.number("page", 1),
            self.req.number("per_page", 30).min(100),
        )
    }

    /// One page of `items` with GitHub's `Link` header.
    fn page(&self, items: Vec<Value>, path: &str) -> Reply {
        let (page, per_page) = self.per_page();
        let base = format!("{}{}", self.api, path);
        let (slice, link) = paginate(&items, page, per_page, &base, &self.req.query, "per_page");
        let reply = Reply::json(200, Value::Array(slice.to_vec()));
        match link {
            Some(link) => reply.with_header("link", link),
            None => reply,
        }
    }

    // ---- JSON shapes -------------------------------------------------------------------------

    /// The `github-actions[bot]` user, who acts for the workflow's token.
    fn user(&self) -> Value {
        // As GitHub writes it in URLs: `github-actions%5Bbot%5D`.
        let login = percent_encode(BOT_LOGIN);
        self.simple_user(SimpleUser {
            login: BOT_LOGIN,
            url_login: &login,
            id: BOT_ID,
            node_id: "MDM6Qm90NDE4OTgyODI=",
            avatar_url: "https://avatars.githubusercontent.com/in/15368?v=4",
            html_url: format!("{}/apps/github-actions", self.root),
            kind: "Bot",
        })
    }

    /// The repository's owner.
    fn owner_user(&self) -> Value {
        let login = &self.shared.config.owner;
        self.simple_user(SimpleUser {
            login,
            url_login: login,
            id: 1,
            node_id: "MDQ6VXNlcjE=",
            avatar_url: "https://avatars.githubusercontent.com/u/1?v=4",
            html_url: format!("{}/{login}", self.root),
            kind: "User",
        })
    }

    /// GitHub's `simple-user` shape.
    fn simple_user(&self, user: SimpleUser<'_>) -> Value {
        let api = &self.api_root;
        let login = user.url_login;
        json!({
            "login": user.login,
            "id": user.id,
            "node_id": user.node_id,
            "avatar_url": user.avatar_url,
            "gravatar_id": "",
            "url": format!("{api}/users/{login}"),
            "html_url": user.html_url,
            "followers_url": format!("{api}/users/{login}/followers"),
            "following_url": format!("{api}/users/{login}/following{{/other_user}}"),
            "gists_url": format!("{api}/users/{login}/gists{{/gist_id}}"),
            "starred_url": format!("{api}/users/{login}/starred{{/owner}}{{/repo}}"),
            "subscriptions_url": format!("{api}/users/{login}/subscriptions"),
            "organizations_url": format!("{api}/users/{login}/orgs"),
            "repos_url": format!("{api}/users/{login}/repos"),
            "events_url": format!("{api}/users/{login}/events{{/privacy}}"),
            "received_events_url": format!("{api}/users/{login}/received_events"),
            "type": user.kind,
            "user_view_type": "public",
            "site_admin": false
        })
    }

    /// `minimal-repository`, as combined statuses embed it.
    fn repository(&self) -> Value {
        let a = &self.api;
        let (owner, name) = (&self.shared.config.owner, &self.shared.config.repo);
        let mut repo = json!({
            "id": 1_296_269,
            "node_id": "MDEwOlJlcG9zaXRvcnkxMjk2MjY5",
            "name": name,
            "full_name": format!("{owner}/{name}"),
            "owner": self.owner_user(),
            "private": false,
            "html_url": self.html,
            "description": null,
            "fork": false,
            "url": a
        });
        let templates = [
            ("archive_url", "/{archive_format}{/ref}"),
            ("assignees_url", "/assignees{/user}"),
            ("blobs_url", "/git/blobs{/sha}"),
            ("branches_url", "/branches{/branch}"),
            ("collaborators_url", "/collaborators{/collaborator}"),
            ("comments_url", "/comments{/number}"),
            ("commits_url", "/commits{/sha}"),
            ("compare_url", "/compare/{base}...{head}"),
            ("contents_url", "/contents/{+path}"),
            ("contributors_url", "/contributors"),
            ("deployments_url", "/deployments"),
            ("downloads_url", "/downloads"),
            ("events_url", "/events"),
            ("forks_url", "/forks"),
            ("git_commits_url", "/git/commits{/sha}"),
            ("git_refs_url", "/git/refs{/sha}"),
            ("git_tags_url", "/git/tags{/sha}"),
            ("hooks_url", "/hooks"),
            ("issue_comment_url", "/issues/comments{/number}"),
            ("issue_events_url", "/issues/events{/number}"),
            ("issues_url", "/issues{/number}"),
            ("keys_url", "/keys{/key_id}"),
            ("labels_url", "/labels{/name}"),
            ("languages_url", "/languages"),
            ("merges_url", "/merges"),
            ("milestones_url", "/milestones{/number}"),
            (
                "notifications_url",
                "/notifications{?since,all,participating}",
            ),
            ("pulls_url", "/pulls{/number}"),
            ("releases_url", "/releases{/id}"),
            ("stargazers_url", "/stargazers"),
            ("statuses_url", "/statuses/{sha}"),
            ("subscribers_url", "/subscribers"),
            ("subscription_url", "/subscription"),
            ("tags_url", "/tags"),
            ("teams_url", "/teams"),
            ("trees_url", "/git/trees{/sha}"),
        ];
        for (key, suffix) in templates {
            repo[key] = json!(format!("{a}{suffix}"));
        }
        repo
    }

    /// `GET /repos/{owner}/{repo}` (`full-repository`). As GitHub does, `permissions` is the
    /// user's role: an installation token (`ghs_…`) authenticates no user and gets `push: false`
    /// whatever it may do, and classic tokens (`ghp_…`) also get their scopes in
    /// `X-OAuth-Scopes` (`repo` with contents write, `workflow` with workflows).
    fn full_repository(&self) -> Outcome {
        self.need(Need::Contents(Access::Read))?;
        let token = bearer(&self.req.headers).unwrap_or_default();
        let installation = token.starts_with("ghs_");
        let push = !installation && self.permissions.contents == Access::Write;
        let (owner, name) = (&self.shared.config.owner, &self.shared.config.repo);
        let host = self.html.trim_end_matches(&format!("/{owner}/{name}"));
        let host = host.split("://").nth(1).unwrap_or(host);
        let created = "2011-01-26T19:01:12Z";
        let mut repo = self.repository();
        let fields = json!({
            "clone_url": format!("{}.git", self.html),
            "git_url": format!("git://{host}/{owner}/{name}.git"),
            "ssh_url": format!("git@{host}:{owner}/{name}.git"),
            "svn_url": self.html,
            "mirror_url": null,
            "homepage": null,
            "language": null,
            "license": null,
            "default_branch": "main",
            "forks": 0,
            "forks_count": 0,
            "open_issues": 0,
            "open_issues_count": 0,
            "stargazers_count": 0,
            "watchers": 0,
            "watchers_count": 0,
            "network_count": 0,
            "subscribers_count": 0,
            "size": 0,
            "has_issues": true,
            "has_projects": false,
            "has_wiki": false,
            "has_pages": false,
            "has_discussions": false,
            "archived": false,
            "disabled": false,
            "visibility": "public",
            "pushed_at": created,
            "created_at": created,
            "updated_at": created,
            "permissions": {
                "admin": false,
                "maintain": false,
                "push": push,
                "triage": push,
                "pull": !installation
            }
        });
        if let (Value::Object(repo), Value::Object(fields)) = (&mut repo, fields) {
            repo.extend(fields);
        }
        let reply = Reply::json(200, repo);
        if !token.starts_with("ghp_") {
            return Ok(reply);
        }
        let mut scopes = Vec::new();
        if self.permissions.contents == Access::Write {
            scopes.push("repo");
        }
        if self.permissions.workflows {
            scopes.push("workflow");
        }
        Ok(reply.with_header("x-oauth-scopes", scopes.join(", ")))
    }

    fn verification() -> Value {
        json!({ "verified": false, "reason": "unsigned", "signature": null, "payload": null, "verified_at": null })
    }

    fn ref_json(&self, r: &GitRef) -> Value {
        let short = r.name.trim_start_matches("refs/");
        let object_url = if r.kind == "tag" {
            format!("{}/git/tags/{}", self.api, r.sha)
        } else {
            format!("{}/git/commits/{}", self.api, r.sha)
        };
        json!({
            "ref": r.name,
            "node_id": format!("REF_{}", hex::encode(short)),
            "url": format!("{}/git/refs/{short}", self.api),
            "object": { "sha": r.sha, "type": r.kind, "url": object_url }
        })
    }

    fn commit_json(&self, c: &Commit) -> Value {
        let person = |name: &str, email: &str, date: &str| json!({ "name": name, "email": email, "date": zulu(date) });
        json!({
            "sha": c.sha,
            "node_id": format!("C_{}", c.sha),
            "url": format!("{}/commits/{}", self.api, c.sha),
            "html_url": format!("{}/commit/{}", self.html, c.sha),
            "comments_url": format!("{}/commits/{}/comments", self.api, c.sha),
            "commit": {
                "url": format!("{}/git/commits/{}", self.api, c.sha),
                "author": person(&c.author_name, &c.author_email, &c.author_date),
                "committer": person(&c.committer_name, &c.committer_email, &c.committer_date),
                "message": c.message,
                "comment_count": 0,
                "tree": { "sha": c.tree, "url": format!("{}/git/trees/{}", self.api, c.tree) },
                "verification": Self::verification()
            },
            // The commit's e-mail maps to no account here, as for most bot-made commits.
            "author": null,
            "committer": null,
            "parents": c.parents.iter().map(|p| json!({
                "sha": p,
                "url": format!("{}/commits/{p}", self.api),
                "html_url": format!("{}/commit/{p}", self.html)
            })).collect::<Vec<_>>()
        })
    }

    fn release_json(&self, r: &Release) -> Value {
        let assets: Vec<Value> = self
            .state
            .release_assets(r.id)
            .into_iter()
            .map(|a| self.asset_json(a, r))
            .collect();
        // A draft's page and archives have no tag to name yet.
        let (html_url, tarball, zipball) = if r.draft {
            (
                format!("{}/releases/tag/untagged-{:x}", self.html, r.id),
                Value::Null,
                Value::Null,
            )
        } else {
            (
                format!("{}/releases/tag/{}", self.html, r.tag_name),
                json!(format!("{}/tarball/{}", self.api, r.tag_name)),
                json!(format!("{}/zipball/{}", self.api, r.tag_name)),
            )
        };
        json!({
            "url": format!("{}/releases/{}", self.api, r.id),
            "html_url": html_url,
            "assets_url": format!("{}/releases/{}/assets", self.api, r.id),
            "upload_url": format!("{}/releases/{}/assets{{?name,label}}", self.uploads, r.id),
            "tarball_url": tarball,
            "zipball_url": zipball,
            "id": r.id,
            "node_id": format!("RE_kwDO{:08}", r.id),
            "tag_name": r.tag_name,
            "target_commitish": r.target_commitish,
            "name": r.name,
            "body": r.body,
            "draft": r.draft,
            "prerelease": r.prerelease,
            "immutable": r.immutable,
            "created_at": r.created_at,
            "updated_at": r.updated_at,
            "published_at": r.published_at,
            "author": self.user(),
            "assets": assets
        })
    }

    fn asset_json(&self, a: &Asset, r: &Release) -> Value {
        json!({
            "url": format!("{}/releases/assets/{}", self.api, a.id),
            "browser_download_url": format!(
                "{}/releases/download/{}/{}", self.html, percent_encode(&r.tag_name), percent_encode(&a.name)
            ),
            "id": a.id,
            "node_id": format!("RA_kwDO{:08}", a.id),
            "name": a.name,
            "label": a.label.clone().unwrap_or_default(),
            "state": "uploaded",
            "content_type": a.content_type,
            "size": a.bytes.len(),
            "digest": a.digest(),
            "download_count": a.download_count,
            "created_at": a.created_at,
            "updated_at": a.updated_at,
            "uploader": self.user()
        })
    }

    fn label_json(&self, l: &Label) -> Value {
        json!({
            "id": l.id,
            "node_id": format!("LA_kwDO{:08}", l.id),
            "url": format!("{}/labels/{}", self.api, percent_encode(&l.name)),
            "name": l.name,
            "description": l.description,
            "color": l.color,
            "default": false
        })
    }

    fn issue_json(&self, i: &Issue) -> Value {
        let labels: Vec<Value> = i
            .labels
            .iter()
            .filter_map(|n| self.state.label_named(n))
            .map(|l| self.label_json(l))
            .collect();
        let assignees: Vec<Value> = i.assignees.iter().map(|_| self.user()).collect();
        let kind = if i.pull_request { "pull" } else { "issues" };
        let mut v = json!({
            "id": i.id,
            "node_id": format!("I_kwDO{:08}", i.id),
            "url": format!("{}/issues/{}", self.api, i.number),
            "repository_url": self.api,
            "labels_url": format!("{}/issues/{}/labels{{/name}}", self.api, i.number),
            "comments_url": format!("{}/issues/{}/comments", self.api, i.number),
            "events_url": format!("{}/issues/{}/events", self.api, i.number),
            "html_url": format!("{}/{kind}/{}", self.html, i.number),
            "number": i.number,
            "state": i.state,
            "state_reason": i.state_reason,
            "title": i.title,
            "body": i.body,
            "user": self.user(),
            "labels": labels,
            "assignee": assignees.first().cloned(),
            "assignees": assignees,
            "milestone": null,
            "locked": false,
            "active_lock_reason": null,
            "comments": i.comments,
            "closed_at": i.closed_at,
            "created_at": i.created_at,
            "updated_at": i.updated_at,
            "author_association": "MEMBER"
        });
        if i.pull_request {
            v["pull_request"] = json!({
                "url": format!("{}/pulls/{}", self.api, i.number),
                "html_url": format!("{}/pull/{}", self.html, i.number),
                "diff_url": format!("{}/pull/{}.diff", self.html, i.number),
                "patch_url": format!("{}/pull/{}.patch", self.html, i.number),
                "merged_at": null
            });
        }
        v
    }

    // ---- git ---------------------------------------------------------------------------------

    fn git_ref(&self, short: &str) -> Result<Option<GitRef>, Reply> {
        self.shared
            .git
            .find_ref(&format!("refs/{short}"))
            .map_err(|e| server_error(&e))
    }

    fn get_ref(&self, short: &str) -> Outcome {
        self.need(Need::Contents(Access::Read))?;
        let r = self.git_ref(short)?.ok_or_else(not_found)?;
        Ok(Reply::json(200, self.ref_json(&r)))
    }

    fn matching_refs(&self, prefix: &str) -> Outcome {
        self.need(Need::Contents(Access::Read))?;
        let full = format!("refs/{prefix}");
        let refs = self.shared.git.refs().map_err(|e| server_error(&e))?;
        let matching: Vec<Value> = refs
            .iter()
            .filter(|r| r.name.starts_with(&full))
            .map(|r| self.ref_json(r))
            .collect();
        Ok(Reply::json(200, Value::Array(matching)))
    }

    /// GitHub refuses to point a ref at a commit that changes workflows without `workflows`.
    fn check_workflows(&self, commit: &str) -> Result<(), Reply> {
        if self.permissions.workflows {
            return Ok(());
        }
        let changed = self
            .shared
            .git
            .workflow_changes(commit)
            .map_err(|e| server_error(&e))?;
        match changed.first() {
            None => Ok(()),
            Some(file) => Err(Reply::json(
                403,
                json!({
                    "message": format!(
                        "refusing to allow a GitHub App to create or update workflow `{file}` without `workflows` permission"
                    ),
                    "documentation_url": DOCS,
                    "status": "403"
                }),
            )),
        }
    }

    /// The commit an object id leads to (itself, or what a tag object points at).
    fn peel(&self, sha: &str) -> Option<String> {
        match self.shared.git.object_type(sha)?.as_str() {
            "commit" => self.shared.git.resolve(sha),
            "tag" => self.shared.git.resolve(sha),
            _ => None,
        }
    }

    /// The published immutable release that owns tag `name`, if any.
    fn immutable_owner(&self, tag: &str) -> bool {
        self.state
            .releases
            .iter()
            .any(|r| r.immutable && !r.draft && r.tag_name == tag)
    }

    fn create_ref(&mut self) -> Outcome {
        self.need(Need::Contents(Access::Write))?;
        let body = self.body()?;
        let (Some(name), Some(sha)) = (str_field(&body, "ref"), str_field(&body, "sha")) else {
            return Err(unprocessable(
                "Invalid request.\n\n\"ref\" and \"sha\" are required.",
            ));
        };
        if !name.starts_with("refs/")
            || name.matches('/').count() < 2
            || !self.shared.git.valid_ref(&name)
        {
            return Err(unprocessable(
                "Reference name must start with 'refs/' and have at least two slashes.",
            ));
        }
        let commit = self
            .peel(&sha)
            .ok_or_else(|| unprocessable("Object does not exist"))?;
        if self.git_ref(name.trim_start_matches("refs/"))?.is_some() {
            return Err(unprocessable("Reference already exists"));
        }
        self.check_workflows(&commit)?;
        self.shared
            .git
            .update_ref(&name, &sha, true)
            .map_err(|_| unprocessable("Reference already exists"))?;
        let r = self
            .git_ref(name.trim_start_matches("refs/"))?
            .ok_or_else(not_found)?;
        let url = format!("{}/git/refs/{}", self.api, name.trim_start_matches("refs/"));
        Ok(Reply::json(201, self.ref_json(&r)).with_header("location", url))
    }

    fn update_ref(&mut self, short: &str) -> Outcome {
        self.need(Need::Contents(Access::Write))?;
        let body = self.body()?;
        let sha = str_field(&body, "sha")
            .ok_or_else(|| unprocessable("Invalid request.\n\n\"sha\" wasn't supplied."))?;
        let force = body.get("force").and_then(Value::as_bool).unwrap_or(false);
        let current = self
            .git_ref(short)?
            .ok_or_else(|| unprocessable("Reference does not exist"))?;
        if let Some(tag) = short.strip_prefix("tags/")
            && self.immutable_owner(tag)
        {
            return Err(unprocessable(
                "Cannot update a tag that belongs to an immutable release.",
            ));
        }
        let commit = self
            .peel(&sha)
            .ok_or_else(|| unprocessable("Object does not exist"))?;
        if !force
            && self
                .shared
                .git
                .merge_base(&current.commit, &commit)
                .as_deref()
                != Some(current.commit.as_str())
        {
            return Err(unprocessable("Update is not a fast forward"));
        }
        self.check_workflows(&commit)?;
        self.shared
            .git
            .update_ref(&current.name, &sha, false)
            .map_err(|e| server_error(&e))?;
        let r = self.git_ref(short)?.ok_or_else(not_found)?;
        Ok(Reply::json(200, self.ref_json(&r)))
    }

    fn delete_ref(&mut self, short: &str) -> Outcome {
        self.need(Need::Contents(Access::Write))?;
        let current = self
            .git_ref(short)?
            .ok_or_else(|| unprocessable("Reference does not exist"))?;
        if let Some(tag) = short.strip_prefix("tags/")
            && self.immutable_owner(tag)
        {
            return Err(unprocessable(
                "Cannot delete a tag that belongs to an immutable release.",
            ));
        }
        self.shared
            .git
            .delete_ref(&current.name)
            .map_err(|e| server_error(&e))?;
        Ok(Reply::empty(204))
    }

    fn tag_json(&self, sha: &str) -> Result<Value, Reply> {
        let t = self.shared.git.tag_object(sha).ok_or_else(not_found)?;
        let object_url = match t.object_type.as_str() {
            "tag" => format!("{}/git/tags/{}", self.api, t.object),
            other => format!("{}/git/{other}s/{}", self.api, t.object),
        };
        Ok(json!({
            "node_id": format!("TAG_{}", t.sha),
            "tag": t.tag,
            "sha": t.sha,
            "url": format!("{}/git/tags/{}", self.api, t.sha),
            "message": t.message,
            "tagger": { "name": t.tagger_name, "email": t.tagger_email, "date": t.tagger_date },
            "object": { "sha": t.object, "type": t.object_type, "url": object_url },
            "verification": Self::verification()
        }))
    }

    fn create_tag_object(&mut self) -> Outcome {
        self.need(Need::Contents(Access::Write))?;
        let body = self.body()?;
        let (Some(tag), Some(message), Some(object), Some(kind)) = (
            str_field(&body, "tag"),
            str_field(&body, "message"),
            str_field(&body, "object"),
            str_field(&body, "type"),
        ) else {
            return Err(unprocessable(
                "Invalid request.\n\n\"tag\", \"message\", \"object\" and \"type\" are required.",
            ));
        };
        let actual = self.shared.git.object_type(&object);
        if actual.as_deref() != Some(kind.as_str()) {
            return Err(unprocessable("Object does not exist"));
        }
        let tagger = body.get("tagger");
        let name = tagger
            .and_then(|t| str_field(t, "name"))
            .unwrap_or_else(|| BOT_LOGIN.to_owned());
        let email = tagger
            .and_then(|t| str_field(t, "email"))
            .unwrap_or_else(|| format!("{BOT_ID}+{BOT_LOGIN}@users.noreply.github.com"));
        let sha = self
            .shared
            .git
            .make_tag_object(&tag, &object, &kind, &message, (&name, &email, now_secs()))
            .map_err(|e| unprocessable(&e.0))?;
        let url = format!("{}/git/tags/{sha}", self.api);
        Ok(Reply::json(201, self.tag_json(&sha)?).with_header("location", url))
    }

    fn get_tag_object(&self, sha: &str) -> Outcome {
        self.need(Need::Contents(Access::Read))?;
        Ok(Reply::json(200, self.tag_json(sha)?))
    }

    fn resolve(&self, rev: &str) -> Result<Commit, Reply> {
        let sha = self.shared.git.resolve(rev).ok_or_else(|| {
            Reply::json(
                422,
                json!({ "message": format!("No commit found for SHA: {rev}"), "documentation_url": DOCS, "status": "422" }),
            )
        })?;
        self.shared.git.commit(&sha).map_err(|e| server_error(&e))
    }

    fn get_commit(&self, rev: &str) -> Outcome {
        self.need(Need::Contents(Access::Read))?;
        let c = self.resolve(rev)?;
        let mut v = self.commit_json(&c);
        v["stats"] = json!({ "additions": 0, "deletions": 0, "total": 0 });
        v["files"] = json!([]);
        Ok(Reply::json(200, v))
    }

    fn compare(&self, spec: &str) -> Outcome {
        self.need(Need::Contents(Access::Read))?;
        let (base, head) = spec.split_once("...").ok_or_else(not_found)?;
        let not_found_commit = || not_found();
        let base_sha = self.shared.git.resolve(base).ok_or_else(not_found_commit)?;
        let head_sha = self.shared.git.resolve(head).ok_or_else(not_found_commit)?;
        let git = &self.shared.git;
        let ahead = git
            .range(&base_sha, &head_sha)
            .map_err(|e| server_error(&e))?;
        let behind = git
            .range(&head_sha, &base_sha)
            .map_err(|e| server_error(&e))?;
        let merge_base = git
            .merge_base(&base_sha, &head_sha)
            .ok_or_else(|| Reply::json(404, json!({ "message": format!("No common ancestor between {base} and {head}."), "documentation_url": DOCS, "status": "404" })))?;
        let status = match (ahead.is_empty(), behind.is_empty()) {
            (true, true) => "identical",
            (false, true) => "ahead",
            (true, false) => "behind",
            (false, false) => "diverged",
        };
        // GitHub lists at most 250 commits, oldest first.
        let commits = ahead
            .iter()
            .take(250)
            .map(|sha| git.commit(sha).map(|c| self.commit_json(&c)))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| server_error(&e))?;
        let commit = |sha: &str| {
            git.commit(sha)
                .map(|c| self.commit_json(&c))
                .map_err(|e| server_error(&e))
        };
        Ok(Reply::json(
            200,
            json!({
                "url": format!("{}/compare/{spec}", self.api),
                "html_url": format!("{}/compare/{spec}", self.html),
                "permalink_url": format!("{}/compare/{}...{}", self.html, &base_sha, &head_sha),
                "diff_url": format!("{}/compare/{spec}.diff", self.html),
                "patch_url": format!("{}/compare/{spec}.patch", self.html),
                "base_commit": commit(&base_sha)?,
                "merge_base_commit": commit(&merge_base)?,
                "status": status,
                "ahead_by": ahead.len(),
                "behind_by": behind.len(),
                "total_commits": ahead.len(),
                "commits": commits,
                "files": []
            }),
        ))
    }

    fn combined_status(&self, rev: &str) -> Outcome {
        self.need(Need::Statuses(Access::Read))?;
        let c = self.resolve(rev)?;
        // The latest status of each context counts.
        let mut latest: Vec<&super::state::Status> = Vec::new();
        for s in self.state.statuses.iter().rev().filter(|s| s.sha == c.sha) {
            if !latest.iter().any(|l| l.context == s.context) {
                latest.push(s);
            }
        }
        latest.reverse();
        let state = if latest
            .iter()
            .any(|s| s.state == "failure" || s.state == "error")
        {
            "failure"
        } else if latest.is_empty() || latest.iter().any(|s| s.state == "pending") {
            "pending"
        } else {
            "success"
        };
        let statuses: Vec<Value> = latest
            .iter()
            .map(|s| {
                json!({
                    "url": format!("{}/statuses/{}", self.api, s.sha),
                    "avatar_url": "https://avatars.githubusercontent.com/in/15368?v=4",
                    "id": s.id,
                    "node_id": format!("SC_kwDO{:08}", s.id),
                    "state": s.state,
                    "description": s.description,
                    "target_url": s.target_url,
                    "context": s.context,
                    "created_at": s.created_at,
                    "updated_at": s.created_at
                })
            })
            .collect();
        Ok(Reply::json(
            200,
            json!({
                "state": state,
                "statuses": statuses,
                "sha": c.sha,
                "total_count": statuses.len(),
                "repository": self.repository(),
                "commit_url": format!("{}/commits/{}", self.api, c.sha),
                "url": format!("{}/commits/{}/status", self.api, c.sha)
            }),
        ))
    }

    fn check_runs(&self, rev: &str) -> Outcome {
        self.need(Need::Checks(Access::Read))?;
        let c = self.resolve(rev)?;
        let name = self.req.param("check_name");
        let status = self.req.param("status");
        let runs: Vec<Value> = self
            .state
            .check_runs
            .iter()
            .filter(|r| r.head_sha == c.sha)
            .filter(|r| name.is_none_or(|n| n == r.name))
            .filter(|r| status.is_none_or(|s| s == r.status))
            .map(|r| {
                json!({
                    "id": r.id,
                    "head_sha": r.head_sha,
                    "node_id": format!("CR_kwDO{:08}", r.id),
                    "external_id": "",
                    "url": format!("{}/check-runs/{}", self.api, r.id),
                    "html_url": format!("{}/runs/{}", self.html, r.id),
                    "details_url": format!("{}/runs/{}", self.html, r.id),
                    "status": r.status,
                    "conclusion": r.conclusion,
                    "started_at": r.started_at,
                    "completed_at": r.completed_at,
                    "output": {
                        "title": null,
                        "summary": null,
                        "text": null,
                        "annotations_count": 0,
                        "annotations_url": format!("{}/check-runs/{}/annotations", self.api, r.id)
                    },
                    "name": r.name,
                    "check_suite": { "id": r.id + 1 },
                    "app": null,
                    "pull_requests": []
                })
            })
            .collect();
        Ok(Reply::json(
            200,
            json!({ "total_count": runs.len(), "check_runs": runs }),
        ))
    }

    // ---- releases ----------------------------------------------------------------------------

    fn visible(&self, r: &Release) -> bool {
        !r.draft || self.can_write_contents()
    }

    fn release(&self, id: u64) -> Result<Release, Reply> {
        self.state
            .release(id)
            .filter(|r| self.visible(r))
            .cloned()
            .ok_or_else(not_found)
    }

    fn default_branch(&self) -> String {
        "main".to_owned()
    }

    /// A published release creates its tag at `target` when the tag is missing, as GitHub does.
    fn ensure_tag(&self, tag: &str, target: &str) -> Result<(), Reply> {
        if self.git_ref(&format!("tags/{tag}"))?.is_some() {
            return Ok(());
        }
        let commit = self
            .shared
            .git
            .resolve(target)
            .ok_or_else(|| validation("Release", "invalid", "target_commitish"))?;
        self.check_workflows(&commit)?;
        if !self.shared.git.valid_ref(&format!("refs/tags/{tag}")) {
            return Err(validation("Release", "invalid", "tag_name"));
        }
        self.shared
            .git
            .update_ref(&format!("refs/tags/{tag}"), &commit, true)
            .map_err(|e| server_error(&e))
    }

    fn published_with_tag(&self, tag: &str, except: u64) -> bool {
        self.state
            .releases
            .iter()
            .any(|r| !r.draft && r.tag_name == tag && r.id != except)
    }

    fn list_releases(&self) -> Outcome {
        self.need(Need::Contents(Access::Read))?;
        let items: Vec<Value> = self
            .state
            .releases_newest_first()
            .into_iter()
            .filter(|r| self.visible(r))
            .map(|r| self.release_json(r))
            .collect();
        Ok(self.page(items, "/releases"))
    }

    fn create_release(&mut self) -> Outcome {
        self.need(Need::Contents(Access::Write))?;
        let body = self.body()?;
        let tag = str_field(&body, "tag_name")
            .filter(|t| !t.is_empty())
            .ok_or_else(|| validation("Release", "missing_field", "tag_name"))?;
        check_notes(&body)?;
        let draft = body.get("draft").and_then(Value::as_bool).unwrap_or(false);
        let target = str_field(&body, "target_commitish").unwrap_or_else(|| self.default_branch());
        if self.published_with_tag(&tag, 0) {
            return Err(validation("Release", "already_exists", "tag_name"));
        }
        if self.git_ref(&format!("tags/{tag}"))?.is_none()
            && self.shared.git.resolve(&target).is_none()
        {
            return Err(validation("Release", "invalid", "target_commitish"));
        }
        if !draft {
            self.ensure_tag(&tag, &target)?;
        }
        let immutable = self.shared.config.immutable_releases && !draft;
        let release = self.state.add_release(&body, tag, target, draft, immutable);
        let location = format!("{}/releases/{}", self.api, release.id);
        Ok(Reply::json(201, self.release_json(&release)).with_header("location", location))
    }

    fn latest_release(&self) -> Outcome {
        self.need(Need::Contents(Access::Read))?;
        let r = self.state.latest_published().ok_or_else(not_found)?;
        Ok(Reply::json(200, self.release_json(r)))
    }

    fn release_by_tag(&self, tag: &str) -> Outcome {
        self.need(Need::Contents(Access::Read))?;
        let r = self
            .state
            .releases
            .iter()
            .find(|r| !r.draft && r.tag_name == tag)
            .ok_or_else(not_found)?;
        Ok(Reply::json(200, self.release_json(r)))
    }

    fn get_release(&self, id: u64) -> Outcome {
        self.need(Need::Contents(Access::Read))?;
        let r = self.release(id)?;
        Ok(Reply::json(200, self.release_json(&r)))
    }

    fn update_release(&mut self, id: u64) -> Outcome {
        self.need(Need::Contents(Access::Write))?;
        let body = self.body()?;
        check_notes(&body)?;
        let mut r = self.release(id)?;
        let locked = r.immutable && !r.draft;
        if let Some(tag) = str_field(&body, "tag_name")
            && tag != r.tag_name
        {
            if locked {
                return Err(unprocessable(
                    "Cannot change the tag of an immutable release.",
                ));
            }
            r.tag_name = tag;
        }
        if let Some(target) = str_field(&body, "target_commitish") {
            r.target_commitish = target;
        }
        if let Some(name) = body.get("name") {
            r.name = name.as_str().map(str::to_owned);
        }
        if let Some(text) = body.get("body") {
            r.body = text.as_str().map(str::to_owned);
        }
        if let Some(pre) = body.get("prerelease").and_then(Value::as_bool) {
            r.prerelease = pre;
        }
        if let Some(draft) = body.get("draft").and_then(Value::as_bool) {
            if draft && locked {
                return Err(unprocessable("Cannot unpublish an immutable release."));
            }
            r.draft = draft;
        }
        if !r.draft {
            if self.published_with_tag(&r.tag_name, r.id) {
                return Err(validation("Release", "already_exists", "tag_name"));
            }
            self.ensure_tag(&r.tag_name, &r.target_commitish)?;
            if r.published_at.is_none() {
                r.published_at = Some(now());
                r.immutable = self.shared.config.immutable_releases;
            }
        }
        r.updated_at = now();
        let json = self.release_json(&r);
        self.state.put_release(r);
        Ok(Reply::json(200, json))
    }

    fn delete_release(&mut self, id: u64) -> Outcome {
        self.need(Need::Contents(Access::Write))?;
        self.release(id)?;
        self.state.remove_release(id);
        Ok(Reply::empty(204))
    }

    fn list_assets(&self, id: u64) -> Outcome {
        self.need(Need::Contents(Access::Read))?;
        let r = self.release(id)?;
        let items: Vec<Value> = self
            .state
            .release_assets(id)
            .into_iter()
            .map(|a| self.asset_json(a, &r))
            .collect();
        Ok(self.page(items, &format!("/releases/{id}/assets")))
    }

    fn upload_asset(&mut self, id: u64) -> Outcome {
        self.need(Need::Contents(Access::Write))?;
        let r = self.release(id)?;
        let name = self
            .req
            .param("name")
            .filter(|n| !n.is_empty())
            .ok_or_else(|| validation("ReleaseAsset", "missing_field", "name"))?
            .to_owned();
        let name = github_asset_name(&name);
        let content_type = self
            .req
            .header("content-type")
            .filter(|c| !c.is_empty())
            .ok_or_else(|| validation("ReleaseAsset", "missing_field", "content_type"))?
            .to_owned();
        if r.immutable && !r.draft {
            return Err(unprocessable(
                "Cannot upload assets to an immutable release.",
            ));
        }
        if self.state.release_assets(id).iter().any(|a| a.name == name) {
            return Err(validation("ReleaseAsset", "already_exists", "name"));
        }
        let new = NewAsset {
            release_id: id,
            name,
            label: self.req.param("label").map(str::to_owned),
            content_type,
            bytes: self.req.body.to_vec(),
        };
        // GitHub has no UUID; the store keeps one for every asset.
        let asset = self.state.add_asset(new, |id, _| {
            format!("{:032x}", u128::from(id) * 0x9E37_79B9_7F4A_7C15)
        });
        Ok(Reply::json(201, self.asset_json(&asset, &r)))
    }

    fn asset(&self, id: u64) -> Result<(Asset, Release), Reply> {
        let asset = self.state.asset(id).cloned().ok_or_else(not_found)?;
        let release = self.release(asset.release_id)?;
        Ok((asset, release))
    }

    fn get_asset(&self, id: u64) -> Outcome {
        self.need(Need::Contents(Access::Read))?;
        let (asset, release) = self.asset(id)?;
        let wants_bytes = self
            .req
            .header("accept")
            .is_some_and(|a| a.contains("application/octet-stream"));
        if wants_bytes {
            // GitHub redirects to signed storage that takes no token.
            return Ok(Reply::empty(302).with_header(
                "location",
                format!("{}/_emulator/assets/{}", self.root, asset.id),
            ));
        }
        Ok(Reply::json(200, self.asset_json(&asset, &release)))
    }

    fn update_asset(&mut self, id: u64) -> Outcome {
        self.need(Need::Contents(Access::Write))?;
        let body = self.body()?;
        let (mut asset, release) = self.asset(id)?;
        if release.immutable && !release.draft {
            return Err(unprocessable(
                "Cannot modify assets of an immutable release.",
            ));
        }
        if let Some(name) = str_field(&body, "name") {
            if self
                .state
                .release_assets(release.id)
                .iter()
                .any(|a| a.name == name && a.id != id)
            {
                return Err(validation("ReleaseAsset", "already_exists", "name"));
            }
            asset.name = name;
        }
        if let Some(label) = str_field(&body, "label") {
            asset.label = Some(label);
        }
        asset.updated_at = now();
        let json = self.asset_json(&asset, &release);
        self.state.put_asset(asset);
        Ok(Reply::json(200, json))
    }

    fn delete_asset(&mut self, id: u64) -> Outcome {
        self.need(Need::Contents(Access::Write))?;
        let (_, release) = self.asset(id)?;
        if release.immutable && !release.draft {
            return Err(unprocessable(
                "Cannot delete assets of an immutable release.",
            ));
        }
        self.state.remove_asset(id);
        Ok(Reply::empty(204))
    }

    // ---- issues ------------------------------------------------------------------------------

    fn issue(&self, number: u64) -> Result<Issue, Reply> {
        self.state.issue(number).cloned().ok_or_else(not_found)
    }

    /// Label names from `labels`, which GitHub takes as names or `{ "name": … }` objects.
    fn label_names(value: Option<&Value>) -> Option<Vec<String>> {
        let items = value?.as_array()?;
        Some(
            items
                .iter()
                .filter_map(|v| {
                    v.as_str()
                        .map(str::to_owned)
                        .or_else(|| str_field(v, "name"))
                })
                .collect(),
        )
    }

    fn list_issues(&self) -> Outcome {
        self.need(Need::Issues(Access::Read))?;
        let wanted = self.req.list("labels");
        let items = self
            .state
            .issues_newest_first(self.req.param("state").unwrap_or("open"))
            .into_iter()
            // GitHub's `labels` filter wants every label listed.
            .filter(|i| {
                wanted
                    .iter()
                    .all(|w| i.labels.iter().any(|l| l.eq_ignore_ascii_case(w)))
            })
            .map(|i| self.issue_json(i))
            .collect();
        Ok(self.page(items, "/issues"))
    }

    fn create_issue(&mut self) -> Outcome {
        self.need(Need::Issues(Access::Write))?;
        let body = self.body()?;
        let title = body
            .get("title")
            .and_then(|t| {
                t.as_str()
                    .map(str::to_owned)
                    .or_else(|| t.as_i64().map(|n| n.to_string()))
            })
            .filter(|t| !t.is_empty())
            .ok_or_else(|| validation("Issue", "missing_field", "title"))?;
        let labels = Self::label_names(body.get("labels"))
            .unwrap_or_default()
            .iter()
            .map(|l| self.state.ensure_label(l))
            .collect();
        // GitHub refuses an assignee who cannot be assigned; the emulator knows one user.
        let assignees = strings(body.get("assignees"));
        if assignees.iter().any(|a| a != KNOWN_USER) {
            return Err(validation("Issue", "invalid", "assignees"));
        }
        let issue = self.state.add_issue(NewIssue {
            title,
            body: str_field(&body, "body"),
            labels,
            assignees,
            ..NewIssue::default()
        });
        let location = format!("{}/issues/{}", self.api, issue.number);
        Ok(Reply::json(201, self.issue_json(&issue)).with_header("location", location))
    }

    fn get_issue(&self, number: u64) -> Outcome {
        self.need(Need::Issues(Access::Read))?;
        Ok(Reply::json(200, self.issue_json(&self.issue(number)?)))
    }

    fn update_issue(&mut self, number: u64) -> Outcome {
        self.need(Need::Issues(Access::Write))?;
        let body = self.body()?;
        let mut issue = self.issue(number)?;
        if let Some(title) = str_field(&body, "title") {
            issue.title = title;
        }
        if let Some(text) = body.get("body") {
            issue.body = text.as_str().map(str::to_owned);
        }
        if let Some(state) = str_field(&body, "state") {
            if state != "open" && state != "closed" {
                return Err(validation("Issue", "invalid", "state"));
            }
            if state == "closed" && issue.state != "closed" {
                issue.closed_at = Some(now());
                issue.state_reason = Some(
                    str_field(&body, "state_reason").unwrap_or_else(|| "completed".to_owned()),
                );
            } else if state == "open" && issue.state != "open" {
                issue.closed_at = None;
                issue.state_reason = Some("reopened".to_owned());
            }
            issue.state = state;
        }
        if let Some(labels) = Self::label_names(body.get("labels")) {
            issue.labels = labels.iter().map(|l| self.state.ensure_label(l)).collect();
        }
        if body.get("assignees").is_some_and(Value::is_array) {
            issue.assignees = strings(body.get("assignees"));
        }
        issue.updated_at = now();
        let json = self.issue_json(&issue);
        self.state.put_issue(issue);
        Ok(Reply::json(200, json))
    }

    fn comment_json(&self, c: &super::state::Comment) -> Value {
        json!({
            "id": c.id,
            "node_id": format!("IC_kwDO{:08}", c.id),
            "url": format!("{}/issues/comments/{}", self.api, c.id),
            "html_url": format!("{}/issues/{}#issuecomment-{}", self.html, c.issue_number, c.id),
            "body": c.body,
            "user": self.user(),
            "created_at": c.created_at,
            "updated_at": c.created_at,
            "issue_url": format!("{}/issues/{}", self.api, c.issue_number),
            "author_association": "MEMBER"
        })
    }

    fn list_comments(&self, number: u64) -> Outcome {
        self.need(Need::Issues(Access::Read))?;
        self.issue(number)?;
        let items = self
            .state
            .comments_on(number)
            .map(|c| self.comment_json(c))
            .collect();
        Ok(self.page(items, &format!("/issues/{number}/comments")))
    }

    fn create_comment(&mut self, number: u64) -> Outcome {
        self.need(Need::Issues(Access::Write))?;
        let body = self.body()?;
        self.issue(number)?;
        let text = str_field(&body, "body")
            .ok_or_else(|| validation("IssueComment", "missing_field", "body"))?;
        let comment = self.state.add_comment(number, text);
        let location = format!("{}/issues/comments/{}", self.api, comment.id);
        Ok(Reply::json(201, self.comment_json(&comment)).with_header("location", location))
    }

    fn list_labels(&self) -> Outcome {
        self.need(Need::Issues(Access::Read))?;
        let items = self
            .state
            .labels
            .iter()
            .map(|l| self.label_json(l))
            .collect();
        Ok(self.page(items, "/labels"))
    }

    fn create_label(&mut self) -> Outcome {
        self.need(Need::Issues(Access::Write))?;
        let body = self.body()?;
        let name = str_field(&body, "name")
            .filter(|n| !n.is_empty())
            .ok_or_else(|| validation("Label", "missing_field", "name"))?;
        if self.state.label_named(&name).is_some() {
            return Err(validation("Label", "already_exists", "name"));
        }
        let color = str_field(&body, "color").unwrap_or_else(|| "ededed".to_owned());
        let label = self
            .state
            .add_label(&name, &color, str_field(&body, "description"));
        Ok(Reply::json(201, self.label_json(&label)))
    }
}

/// What differs between the users the emulator shows.
struct SimpleUser<'a> {
    login: &'a str,
    /// The login as it stands in URLs.
    url_login: &'a str,
    id: u64,
    node_id: &'a str,
    avatar_url: &'a str,
    html_url: String,
    kind: &'a str,
}
