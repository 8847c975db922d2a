//! The Gitea API v1 routes relkit uses (Forgejo serves the same), in the shapes of Gitea's
//! swagger (`../shared/specs/gitea-swagger.v1.json`, Gitea 1.28.0-dev), at `/api/v1`.
//!
//! Where Gitea differs from its swagger the emulator does what Gitea does
//! (`../shared/specs/README.md`):
//! - `GET /git/refs/{ref}` answers an array matched by prefix (`v1.0` also finds `v1.0.1`);
//! - `POST /tags` answers 201 (the swagger says 200);
//! - `POST /releases` answers 409 when a release (draft or not) exists for the tag;
//! - `limit` is capped at 50, and `Link` URLs are built from the public URL (`ROOT_URL`), which
//!   may not be where the client reached the server;
//! - creating an issue takes label ids; adding labels to an issue takes names or ids and drops
//!   unknown ones silently;
//! - a commit without statuses has an empty combined status (`state: ""`), as Gitea's handler
//!   writes `api.CombinedStatus{}`;
//! - a draft release is found by tag (Gitea only hides tag-only releases), but only by tokens
//!   that may write the repository.
//!
//! Other behaviour from Gitea's source: a published release creates its missing tag at the
//! target (annotated with `tag_message` when given), a draft does not; attachments may share a
//! name; `PATCH` on an issue or an attachment answers 201.

use std::sync::MutexGuard;

use serde_json::{Value, json};

use super::auth::{Access, Need, Permissions, bearer};
use super::git::{Commit, GitError, GitRef};
use super::server::{Shared, download, download_by_name, lock};
use super::state::{Asset, Issue, Label, NewAsset, NewIssue, Release, State};
use super::wire::{
    Incoming, Outcome, Reply, now, paginate, percent_encode, str_field, strings, zulu,
};

pub(crate) const DOCS: &str = "https://docs.gitea.com/api/1.28/";

/// Gitea's `[api] MAX_RESPONSE_ITEMS` and `DEFAULT_PAGING_NUM`.
const MAX_LIMIT: usize = 50;
const DEFAULT_LIMIT: usize = 30;

const BOT_LOGIN: &str = "gitea-actions";

pub(crate) fn route(shared: &Shared, req: &Incoming) -> Outcome {
    let segments = req.segments();
    let segs: Vec<&str> = segments.iter().map(String::as_str).collect();
    match segs.as_slice() {
        ["attachments", uuid] => {
            return download(shared, |a| a.uuid == *uuid).ok_or_else(not_found);
        }
        [owner, repo, "releases", "download", tag @ .., name] if !tag.is_empty() => {
            return download_by_name(shared, owner, repo, &tag.join("/"), name)
                .ok_or_else(not_found);
        }
        _ => {}
    }
    if req.method == "GET" && segs.as_slice() == ["api", "v1", "settings", "attachment"] {
        return Ok(attachment_settings(shared));
    }
    let ["api", "v1", "repos", owner, repo, tail @ ..] = segs.as_slice() else {
        return Err(not_found());
    };
    if !owner.eq_ignore_ascii_case(&shared.config.owner)
        || !repo.eq_ignore_ascii_case(&shared.config.repo)
    {
        return Err(not_found());
    }
    let permissions = bearer(&req.headers)
        .and_then(|t| shared.permissions(t))
        .ok_or_else(|| Reply::json(401, json!({ "message": "token is required", "url": DOCS })))?;
    let public = shared.public_url().to_owned();
    let (o, r) = (&shared.config.owner, &shared.config.repo);
    let mut ctx = Ctx {
        shared,
        req,
        permissions,
        state: lock(&shared.state),
        api: format!("{public}/api/v1/repos/{o}/{r}"),
        html: format!("{public}/{o}/{r}"),
        public: public.clone(),
    };
    let method = req.method.as_str();
    match (method, tail) {
        ("GET", []) => ctx.repository(),
        ("GET", ["git", "refs"]) => ctx.refs(""),
        ("GET", ["git", "refs", rest @ ..]) => ctx.refs(&rest.join("/")),
        ("GET", ["git", "commits", sha]) => ctx.get_commit(sha),
        ("GET", ["commits"]) => ctx.list_commits(),
        ("GET", ["commits", rest @ .., "status"]) if !rest.is_empty() => {
            ctx.combined_status(&rest.join("/"))
        }
        ("GET", ["compare", rest @ ..]) if !rest.is_empty() => ctx.compare(&rest.join("/")),
        ("POST", ["tags"]) => ctx.create_tag(),
        ("GET", ["tags", rest @ ..]) if !rest.is_empty() => ctx.get_tag(&rest.join("/")),
        ("DELETE", ["tags", rest @ ..]) if !rest.is_empty() => ctx.delete_tag(&rest.join("/")),
        ("GET", ["releases"]) => ctx.list_releases(),
        ("POST", ["releases"]) => ctx.create_release(),
        ("GET", ["releases", "latest"]) => ctx.latest_release(),
        ("GET", ["releases", "tags", rest @ ..]) if !rest.is_empty() => {
            ctx.release_by_tag(&rest.join("/"))
        }
        ("GET", ["releases", id]) => ctx.get_release(parse_id(id)?),
        ("PATCH", ["releases", id]) => ctx.update_release(parse_id(id)?),
        ("DELETE", ["releases", id]) => ctx.delete_release(parse_id(id)?),
        ("GET", ["releases", id, "assets"]) => ctx.list_assets(parse_id(id)?),
        ("POST", ["releases", id, "assets"]) => ctx.upload_asset(parse_id(id)?),
        ("GET", ["releases", id, "assets", aid]) => ctx.get_asset(parse_id(id)?, parse_id(aid)?),
        ("PATCH", ["releases", id, "assets", aid]) => {
            ctx.update_asset(parse_id(id)?, parse_id(aid)?)
        }
        ("DELETE", ["releases", id, "assets", aid]) => {
            ctx.delete_asset(parse_id(id)?, parse_id(aid)?)
        }
        ("GET", ["issues"]) => ctx.list_issues(),
        ("POST", ["issues"]) => ctx.create_issue(),
        ("GET", ["issues", n]) => ctx.get_issue(parse_id(n)?),
        ("PATCH", ["issues", n]) => ctx.update_issue(parse_id(n)?),
        ("GET", ["issues", n, "comments"]) => ctx.list_comments(parse_id(n)?),
        ("POST", ["issues", n, "comments"]) => ctx.create_comment(parse_id(n)?),
        ("POST", ["issues", n, "labels"]) => ctx.add_issue_labels(parse_id(n)?),
        ("GET", ["labels"]) => ctx.list_labels(),
        ("POST", ["labels"]) => ctx.create_label(),
        _ => Err(not_found()),
    }
}

/// `GET /settings/attachment`: what the instance accepts as attachments (Gitea's `[attachment]`
/// settings; its defaults where the emulator has none: any type, 2 GiB, 5 files).
fn attachment_settings(shared: &Shared) -> Reply {
    let config = &shared.config;
    let allowed = if config.attachment_allowed_types.is_empty() {
        "*/*".to_owned()
    } else {
        config.attachment_allowed_types.join(",")
    };
    Reply::json(
        200,
        json!({
            "enabled": true,
            "allowed_types": allowed,
            "max_size": config.attachment_max_size.unwrap_or(2048 << 20),
            "max_files": 5,
        }),
    )
}

fn parse_id(s: &str) -> Result<u64, Reply> {
    s.parse().map_err(|_| not_found())
}

fn not_found() -> Reply {
    Reply::json(
        404,
        json!({ "errors": [], "message": "The target couldn't be found.", "url": DOCS }),
    )
}

fn error(status: u16, message: &str) -> Reply {
    Reply::json(status, json!({ "message": message, "url": DOCS }))
}

fn server_error(e: &GitError) -> Reply {
    error(500, &format!("emulator: {}", e.0))
}

/// Gitea's validation errors: 422 with the binding's message.
fn validation(message: &str) -> Reply {
    error(422, message)
}

struct Ctx<'a> {
    shared: &'a Shared,
    req: &'a Incoming,
    permissions: Permissions,
    state: MutexGuard<'a, State>,
    /// `{public}/api/v1/repos/{owner}/{repo}`.
    api: String,
    /// `{public}/{owner}/{repo}`.
    html: String,
    public: String,
}

impl Ctx<'_> {
    fn need(&self, need: Need) -> Result<(), Reply> {
        if self.permissions.allows(need) {
            Ok(())
        } else {
            Err(error(
                403,
                &format!(
                    "token does not have at least one of required scope(s): [{}]",
                    need.gitea_scope()
                ),
            ))
        }
    }

    fn can_write(&self) -> bool {
        self.permissions.allows(Need::Contents(Access::Write))
    }

    fn body(&self) -> Result<Value, Reply> {
        match self.req.json() {
            Some(v @ Value::Object(_)) => Ok(v),
            _ => Err(validation("invalid JSON body")),
        }
    }

    /// `page` and `limit`, with Gitea's cap.
    fn paging(&self) -> (usize, usize) {
        (
            self.req.number("page", 1),
            self.req.number("limit", DEFAULT_LIMIT).min(MAX_LIMIT),
        )
    }

    /// One page with `Link` (from the public URL) and `X-Total-Count`.
    fn page(&self, items: Vec<Value>) -> Reply {
        let (page, limit) = self.paging();
        let base = format!("{}{}", self.public, self.req.path);
        let (slice, link) = paginate(&items, page, limit, &base, &self.req.query, "limit");
        let reply = Reply::json(200, Value::Array(slice.to_vec()))
            .with_header("x-total-count", items.len().to_string());
        match link {
            Some(link) => reply.with_header("link", link),
            None => reply,
        }
    }

    // ---- JSON shapes -------------------------------------------------------------------------

    fn user(&self) -> Value {
        json!({
            "id": -2,
            "login": BOT_LOGIN,
            "login_name": "",
            "source_id": 0,
            "full_name": "",
            "email": format!("{BOT_LOGIN}@noreply.localhost"),
            "avatar_url": format!("{}/assets/img/avatar_default.png", self.public),
            "html_url": format!("{}/{BOT_LOGIN}", self.public),
            "language": "",
            "is_admin": false,
            "last_login": "0001-01-01T00:00:00Z",
            "created": "0001-01-01T00:00:00Z",
            "restricted": false,
            "active": false,
            "prohibit_login": false,
            "location": "",
            "website": "",
            "description": "",
            "visibility": "public",
            "followers_count": 0,
            "following_count": 0,
            "starred_repos_count": 0,
            "username": BOT_LOGIN
        })
    }

    fn ref_json(&self, r: &GitRef) -> Value {
        let url = if r.kind == "tag" {
            format!("{}/git/tags/{}", self.api, r.sha)
        } else {
            format!("{}/git/commits/{}", self.api, r.sha)
        };
        json!({
            "ref": r.name,
            "url": format!("{}/git/{}", self.api, r.name),
            "object": { "type": r.kind, "sha": r.sha, "url": url }
        })
    }

    fn commit_meta(&self, sha: &str, created: &str) -> Value {
        json!({ "url": format!("{}/git/commits/{sha}", self.api), "sha": sha, "created": zulu(created) })
    }

    fn commit_json(&self, c: &Commit) -> Value {
        let person = |name: &str, email: &str, date: &str| json!({ "name": name, "email": email, "date": zulu(date) });
        json!({
            "url": format!("{}/git/commits/{}", self.api, c.sha),
            "sha": c.sha,
            "created": zulu(&c.committer_date),
            "html_url": format!("{}/commit/{}", self.html, c.sha),
            "commit": {
                "url": format!("{}/git/commits/{}", self.api, c.sha),
                "author": person(&c.author_name, &c.author_email, &c.author_date),
                "committer": person(&c.committer_name, &c.committer_email, &c.committer_date),
                "message": format!("{}\n", c.message),
                "tree": {
                    "url": format!("{}/git/trees/{}", self.api, c.tree),
                    "sha": c.tree,
                    "created": zulu(&c.committer_date)
                },
                "verification": {
                    "verified": false,
                    "reason": "gpg.error.not_signed_commit",
                    "signature": "",
                    "payload": ""
                }
            },
            "parents": c.parents.iter().map(|p| self.commit_meta(p, &c.committer_date)).collect::<Vec<_>>(),
            "files": [],
            "stats": { "total": 0, "additions": 0, "deletions": 0 }
        })
    }

    fn release_json(&self, r: &Release) -> Value {
        let assets: Vec<Value> = self
            .state
            .release_assets(r.id)
            .into_iter()
            .map(|a| self.asset_json(a))
            .collect();
        json!({
            "id": r.id,
            "tag_name": r.tag_name,
            "target_commitish": r.target_commitish,
            "name": r.name.clone().unwrap_or_default(),
            "body": r.body.clone().unwrap_or_default(),
            "url": format!("{}/releases/{}", self.api, r.id),
            "html_url": format!("{}/releases/tag/{}", self.html, r.tag_name),
            "tarball_url": format!("{}/archive/{}.tar.gz", self.html, r.tag_name),
            "zipball_url": format!("{}/archive/{}.zip", self.html, r.tag_name),
            "upload_url": format!("{}/releases/{}/assets", self.api, r.id),
            "draft": r.draft,
            "prerelease": r.prerelease,
            "created_at": r.created_at,
            "published_at": r.published_at.clone().unwrap_or_else(|| r.created_at.clone()),
            "author": self.user(),
            "assets": assets
        })
    }

    fn asset_json(&self, a: &Asset) -> Value {
        json!({
            "id": a.id,
            "name": a.name,
            "size": a.bytes.len(),
            "download_count": a.download_count,
            "created_at": a.created_at,
            "uuid": a.uuid,
            "browser_download_url": format!("{}/attachments/{}", self.public, a.uuid)
        })
    }

    fn label_json(&self, l: &Label) -> Value {
        json!({
            "id": l.id,
            "name": l.name,
            "exclusive": false,
            "is_archived": false,
            "color": l.color,
            "description": l.description.clone().unwrap_or_default(),
            "url": format!("{}/labels/{}", self.api, l.id)
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
        let kind = if i.pull_request { "pulls" } else { "issues" };
        let (o, r) = (&self.shared.config.owner, &self.shared.config.repo);
        let mut v = json!({
            "id": i.id,
            "url": format!("{}/issues/{}", self.api, i.number),
            "html_url": format!("{}/{kind}/{}", self.html, i.number),
            "number": i.number,
            "user": self.user(),
            "original_author": "",
            "original_author_id": 0,
            "title": i.title,
            "body": i.body.clone().unwrap_or_default(),
            "ref": "",
            "assets": [],
            "labels": labels,
            "milestone": null,
            "assignee": assignees.first().cloned(),
            "assignees": assignees,
            "state": i.state,
            "is_locked": false,
            "comments": i.comments,
            "created_at": i.created_at,
            "updated_at": i.updated_at,
            "closed_at": i.closed_at,
            "due_date": null,
            "pull_request": null,
            "repository": { "id": 1, "name": r, "owner": o, "full_name": format!("{o}/{r}") },
            "pin_order": 0
        });
        if i.pull_request {
            v["pull_request"] = json!({
                "merged": false,
                "merged_at": null,
                "draft": false,
                "html_url": format!("{}/pulls/{}", self.html, i.number)
            });
        }
        v
    }

    fn comment_json(&self, c: &super::state::Comment) -> Value {
        json!({
            "id": c.id,
            "html_url": format!("{}/issues/{}#issuecomment-{}", self.html, c.issue_number, c.id),
            "pull_request_url": "",
            "issue_url": format!("{}/issues/{}", self.html, c.issue_number),
            "user": self.user(),
            "original_author": "",
            "original_author_id": 0,
            "body": c.body,
            "assets": [],
            "created_at": c.created_at,
            "updated_at": c.created_at
        })
    }

    // ---- git ---------------------------------------------------------------------------------

    /// Gitea matches `refs/{prefix}` by prefix and answers an array (404 when empty).
    fn refs(&self, prefix: &str) -> Outcome {
        self.need(Need::Contents(Access::Read))?;
        let full = format!("refs/{prefix}");
        let refs = self.shared.git.refs().map_err(|e| server_error(&e))?;
        let matching: Vec<Value> = refs
            .iter()
            .filter(|r| r.name.starts_with(&full))
            .map(|r| self.ref_json(r))
            .collect();
        if matching.is_empty() {
            return Err(not_found());
        }
        Ok(Reply::json(200, Value::Array(matching)))
    }

    fn resolve(&self, rev: &str) -> Result<Commit, Reply> {
        let sha = self.shared.git.resolve(rev).ok_or_else(not_found)?;
        self.shared.git.commit(&sha).map_err(|e| server_error(&e))
    }

    fn get_commit(&self, sha: &str) -> Outcome {
        self.need(Need::Contents(Access::Read))?;
        Ok(Reply::json(200, self.commit_json(&self.resolve(sha)?)))
    }

    fn list_commits(&self) -> Outcome {
        self.need(Need::Contents(Access::Read))?;
        let head = match self.req.param("sha") {
            Some(rev) => self.resolve(rev)?.sha,
            None => self.resolve("HEAD")?.sha,
        };
        let (page, limit) = self.paging();
        let git = &self.shared.git;
        let total = git.count(&head).map_err(|e| server_error(&e))?;
        let shas = git
            .log(&head, (page - 1) * limit, limit)
            .map_err(|e| server_error(&e))?;
        let commits = shas
            .iter()
            .map(|s| git.commit(s).map(|c| self.commit_json(&c)))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| server_error(&e))?;
        let pages = total.div_ceil(limit).max(1);
        Ok(Reply::json(200, Value::Array(commits))
            .with_header("x-total", total.to_string())
            .with_header("x-total-count", total.to_string())
            .with_header("x-page", page.to_string())
            .with_header("x-perpage", limit.to_string())
            .with_header("x-pagecount", pages.to_string())
            .with_header("x-hasmore", (page < pages).to_string()))
    }

    fn compare(&self, spec: &str) -> Outcome {
        self.need(Need::Contents(Access::Read))?;
        let (base, head) = spec.split_once("...").ok_or_else(not_found)?;
        let base = self.resolve(base)?;
        let head = self.resolve(head)?;
        let git = &self.shared.git;
        let mut shas = git
            .range(&base.sha, &head.sha)
            .map_err(|e| server_error(&e))?;
        // Gitea lists them as `git log` does, newest first.
        shas.reverse();
        let commits = shas
            .iter()
            .map(|s| git.commit(s).map(|c| self.commit_json(&c)))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| server_error(&e))?;
        Ok(Reply::json(
            200,
            json!({ "total_commits": commits.len(), "commits": commits }),
        ))
    }

    fn combined_status(&self, rev: &str) -> Outcome {
        self.need(Need::Statuses(Access::Read))?;
        let c = self.resolve(rev)?;
        let mut latest: Vec<&super::state::Status> = Vec::new();
        for s in self.state.statuses.iter().rev().filter(|s| s.sha == c.sha) {
            if !latest.iter().any(|l| l.context == s.context) {
                latest.push(s);
            }
        }
        latest.reverse();
        if latest.is_empty() {
            return Ok(Reply::json(
                200,
                json!({
                    "state": "", "sha": "", "total_count": 0, "statuses": null,
                    "repository": null, "commit_url": "", "url": ""
                }),
            ));
        }
        let worst = ["error", "failure", "warning", "pending", "success"]
            .into_iter()
            .find(|w| latest.iter().any(|s| s.state == *w))
            .unwrap_or("success");
        let statuses: Vec<Value> = latest
            .iter()
            .map(|s| {
                json!({
                    "id": s.id,
                    "status": s.state,
                    "target_url": s.target_url.clone().unwrap_or_default(),
                    "description": s.description.clone().unwrap_or_default(),
                    "url": format!("{}/statuses/{}", self.api, s.sha),
                    "context": s.context,
                    "creator": self.user(),
                    "created_at": s.created_at,
                    "updated_at": s.created_at
                })
            })
            .collect();
        Ok(Reply::json(
            200,
            json!({
                "state": worst,
                "sha": c.sha,
                "total_count": statuses.len(),
                "statuses": statuses,
                "commit_url": format!("{}/commits/{}", self.api, c.sha),
                "url": format!("{}/commits/{}/status", self.api, c.sha)
            }),
        )
        .with_header("x-total-count", latest.len().to_string()))
    }

    fn tag_json(&self, r: &GitRef) -> Result<Value, Reply> {
        let tag = r.name.trim_start_matches("refs/tags/");
        let commit = self
            .shared
            .git
            .commit(&r.commit)
            .map_err(|e| server_error(&e))?;
        let message = self
            .shared
            .git
            .tag_object(&r.sha)
            .map_or_else(|| format!("{}\n", commit.message), |t| t.message);
        Ok(json!({
            "name": tag,
            "message": message,
            "id": r.sha,
            "commit": self.commit_meta(&r.commit, &commit.committer_date),
            "zipball_url": format!("{}/archive/{}.zip", self.html, percent_encode(tag)),
            "tarball_url": format!("{}/archive/{}.tar.gz", self.html, percent_encode(tag))
        }))
    }

    fn tag_ref(&self, tag: &str) -> Result<Option<GitRef>, Reply> {
        self.shared
            .git
            .find_ref(&format!("refs/tags/{tag}"))
            .map_err(|e| server_error(&e))
    }

    fn get_tag(&self, tag: &str) -> Outcome {
        self.need(Need::Contents(Access::Read))?;
        let r = self.tag_ref(tag)?.ok_or_else(not_found)?;
        Ok(Reply::json(200, self.tag_json(&r)?))
    }

    /// Creates `tag` at `target` (annotated when `message` is not empty).
    fn make_tag(&self, tag: &str, target: &str, message: &str) -> Result<(), Reply> {
        if !self.shared.git.valid_ref(&format!("refs/tags/{tag}")) {
            return Err(validation(&format!("tag name \"{tag}\" is invalid")));
        }
        let commit = self
            .shared
            .git
            .resolve(target)
            .ok_or_else(|| error(404, &format!("target \"{target}\" not found")))?;
        self.shared
            .git
            .create_tag(tag, &commit, message)
            .map_err(|e| server_error(&e))
    }

    fn create_tag(&mut self) -> Outcome {
        self.need(Need::Contents(Access::Write))?;
        let body = self.body()?;
        let tag = str_field(&body, "tag_name")
            .filter(|t| !t.is_empty())
            .ok_or_else(|| validation("[TagName]: Required"))?;
        let target = str_field(&body, "target")
            .filter(|t| !t.is_empty())
            .unwrap_or_else(|| "main".to_owned());
        if self.tag_ref(&tag)?.is_some() {
            return Err(error(409, "tag exist"));
        }
        self.make_tag(
            &tag,
            &target,
            &str_field(&body, "message").unwrap_or_default(),
        )?;
        let r = self.tag_ref(&tag)?.ok_or_else(not_found)?;
        Ok(Reply::json(201, self.tag_json(&r)?))
    }

    fn delete_tag(&mut self, tag: &str) -> Outcome {
        self.need(Need::Contents(Access::Write))?;
        let r = self.tag_ref(tag)?.ok_or_else(not_found)?;
        if self
            .state
            .releases
            .iter()
            .any(|x| x.tag_name == tag && !x.draft)
        {
            return Err(error(
                409,
                "a tag attached to a release cannot be deleted directly",
            ));
        }
        self.shared
            .git
            .delete_ref(&r.name)
            .map_err(|e| server_error(&e))?;
        Ok(Reply::empty(204))
    }

    // ---- releases ----------------------------------------------------------------------------

    fn visible(&self, r: &Release) -> bool {
        !r.draft || self.can_write()
    }

    fn release(&self, id: u64) -> Result<Release, Reply> {
        self.state
            .release(id)
            .filter(|r| self.visible(r))
            .cloned()
            .ok_or_else(not_found)
    }

    fn list_releases(&self) -> Outcome {
        self.need(Need::Contents(Access::Read))?;
        let draft = self.req.param("draft").map(|d| d == "true");
        let pre = self.req.param("pre-release").map(|d| d == "true");
        let items: Vec<Value> = self
            .state
            .releases_newest_first()
            .into_iter()
            .filter(|r| self.visible(r))
            .filter(|r| draft.is_none_or(|d| r.draft == d))
            .filter(|r| pre.is_none_or(|p| r.prerelease == p))
            .map(|r| self.release_json(r))
            .collect();
        Ok(self.page(items))
    }

    fn create_release(&mut self) -> Outcome {
        self.need(Need::Contents(Access::Write))?;
        let body = self.body()?;
        let tag = str_field(&body, "tag_name")
            .filter(|t| !t.is_empty())
            .ok_or_else(|| validation("[TagName]: Required"))?;
        if self.state.releases.iter().any(|r| r.tag_name == tag) {
            return Err(error(409, "Release is has no Tag"));
        }
        let draft = body.get("draft").and_then(Value::as_bool).unwrap_or(false);
        let target = str_field(&body, "target_commitish")
            .filter(|t| !t.is_empty())
            .unwrap_or_else(|| "main".to_owned());
        if !draft && self.tag_ref(&tag)?.is_none() {
            let message = str_field(&body, "tag_message").unwrap_or_default();
            self.make_tag(&tag, &target, &message)?;
        }
        let release = self.state.add_release(&body, tag, target, draft, false);
        Ok(Reply::json(201, self.release_json(&release)))
    }

    /// `GET /repos/{owner}/{repo}`, with what the token may do in `permissions`.
    fn repository(&self) -> Outcome {
        let (owner, name) = (&self.shared.config.owner, &self.shared.config.repo);
        let push = self.permissions.contents == Access::Write;
        Ok(Reply::json(
            200,
            json!({
                "id": 1,
                "name": name,
                "full_name": format!("{owner}/{name}"),
                "owner": { "id": 1, "login": owner },
                "html_url": self.html,
                "default_branch": "main",
                "private": false,
                "permissions": { "admin": false, "push": push, "pull": true },
            }),
        ))
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
            .find(|r| r.tag_name == tag && self.visible(r))
            .ok_or_else(not_found)?;
        Ok(Reply::json(200, self.release_json(r)))
    }

    fn get_release(&self, id: u64) -> Outcome {
        self.need(Need::Contents(Access::Read))?;
        Ok(Reply::json(200, self.release_json(&self.release(id)?)))
    }

    fn update_release(&mut self, id: u64) -> Outcome {
        self.need(Need::Contents(Access::Write))?;
        let body = self.body()?;
        let mut r = self.release(id)?;
        if let Some(tag) = str_field(&body, "tag_name").filter(|t| !t.is_empty())
            && tag != r.tag_name
        {
            if self
                .state
                .releases
                .iter()
                .any(|x| x.tag_name == tag && x.id != id)
            {
                return Err(error(409, "Release is has no Tag"));
            }
            r.tag_name = tag;
        }
        if let Some(target) = str_field(&body, "target_commitish").filter(|t| !t.is_empty()) {
            r.target_commitish = target;
        }
        if let Some(name) = str_field(&body, "name") {
            r.name = Some(name);
        }
        if let Some(text) = str_field(&body, "body") {
            r.body = Some(text);
        }
        if let Some(pre) = body.get("prerelease").and_then(Value::as_bool) {
            r.prerelease = pre;
        }
        if let Some(draft) = body.get("draft").and_then(Value::as_bool) {
            r.draft = draft;
        }
        if !r.draft {
            if self.tag_ref(&r.tag_name)?.is_none() {
                self.make_tag(&r.tag_name, &r.target_commitish, "")?;
            }
            if r.published_at.is_none() {
                r.published_at = Some(now());
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
        self.release(id)?;
        let items: Vec<Value> = self
            .state
            .release_assets(id)
            .into_iter()
            .map(|a| self.asset_json(a))
            .collect();
        Ok(Reply::json(200, Value::Array(items)))
    }

    /// Multipart field `attachment` (name from its filename unless `?name=` is given) or, since
    /// Gitea 1.22, the raw body with `?name=`.
    fn upload_asset(&mut self, id: u64) -> Outcome {
        self.need(Need::Contents(Access::Write))?;
        self.release(id)?;
        let content_type = self
            .req
            .header("content-type")
            .unwrap_or_default()
            .to_owned();
        let (filename, part_type, bytes) = if content_type
            .to_ascii_lowercase()
            .starts_with("multipart/form-data")
        {
            let part = multipart_field(&content_type, &self.req.body, "attachment")
                .ok_or_else(|| error(500, "http: no such file"))?;
            (part.filename, part.content_type, part.data)
        } else {
            (None, None, self.req.body.to_vec())
        };
        let name = self
            .req
            .param("name")
            .filter(|n| !n.is_empty())
            .map(str::to_owned)
            .or(filename)
            .filter(|n| !n.is_empty())
            .ok_or_else(|| error(400, "Could not determine name of attachment."))?;
        let config = &self.shared.config;
        if let Some(max) = config.attachment_max_size
            && bytes.len() as u64 > max
        {
            return Err(error(413, "file size exceeds the limit"));
        }
        let detected = part_type.unwrap_or_else(|| "application/octet-stream".to_owned());
        if !type_allowed(&config.attachment_allowed_types, &name, &detected) {
            return Err(error(
                400,
                &format!(
                    "This file cannot be uploaded or modified due to a forbidden file extension or type. Type: {detected}"
                ),
            ));
        }
        let new = NewAsset {
            release_id: id,
            name,
            label: None,
            content_type: detected,
            bytes,
        };
        let asset = self.state.add_asset(new, uuid);
        Ok(Reply::json(201, self.asset_json(&asset)))
    }

    fn asset(&self, release: u64, id: u64) -> Result<Asset, Reply> {
        self.release(release)?;
        self.state
            .asset(id)
            .filter(|a| a.release_id == release)
            .cloned()
            .ok_or_else(not_found)
    }

    fn get_asset(&self, release: u64, id: u64) -> Outcome {
        self.need(Need::Contents(Access::Read))?;
        Ok(Reply::json(200, self.asset_json(&self.asset(release, id)?)))
    }

    fn update_asset(&mut self, release: u64, id: u64) -> Outcome {
        self.need(Need::Contents(Access::Write))?;
        let body = self.body()?;
        let mut asset = self.asset(release, id)?;
        if let Some(name) = str_field(&body, "name").filter(|n| !n.is_empty()) {
            asset.name = name;
        }
        asset.updated_at = now();
        let json = self.asset_json(&asset);
        self.state.put_asset(asset);
        Ok(Reply::json(201, json))
    }

    fn delete_asset(&mut self, release: u64, id: u64) -> Outcome {
        self.need(Need::Contents(Access::Write))?;
        self.asset(release, id)?;
        self.state.remove_asset(id);
        Ok(Reply::empty(204))
    }

    // ---- issues ------------------------------------------------------------------------------

    fn issue(&self, number: u64) -> Result<Issue, Reply> {
        self.state.issue(number).cloned().ok_or_else(not_found)
    }

    fn list_issues(&self) -> Outcome {
        self.need(Need::Issues(Access::Read))?;
        let kind = self.req.param("type");
        let wanted = self.req.list("labels");
        let items = self
            .state
            .issues_newest_first(self.req.param("state").unwrap_or("open"))
            .into_iter()
            .filter(|i| match kind {
                Some("issues") => !i.pull_request,
                Some("pulls") => i.pull_request,
                _ => true,
            })
            // Gitea's `labels` filter wants any of the labels listed.
            .filter(|i| wanted.is_empty() || wanted.iter().any(|w| i.labels.iter().any(|l| l == w)))
            .map(|i| self.issue_json(i))
            .collect();
        Ok(self.page(items))
    }

    fn create_issue(&mut self) -> Outcome {
        self.need(Need::Issues(Access::Write))?;
        let body = self.body()?;
        let title = str_field(&body, "title")
            .filter(|t| !t.is_empty())
            .ok_or_else(|| validation("[Title]: Required"))?;
        // Label ids; names are not accepted here, and unknown ids are dropped.
        let labels: Vec<String> = body
            .get("labels")
            .and_then(Value::as_array)
            .map(|ids| {
                ids.iter()
                    .filter_map(Value::as_u64)
                    .filter_map(|id| self.state.label_by_id(id))
                    .map(|l| l.name.clone())
                    .collect()
            })
            .unwrap_or_default();
        // Gitea answers 422 for an assignee who does not exist.
        let assignees = strings(body.get("assignees"));
        if let Some(unknown) = assignees.iter().find(|a| *a != super::github::KNOWN_USER) {
            return Err(validation(&format!(
                "user does not exist [name: {unknown}]"
            )));
        }
        let issue = self.state.add_issue(NewIssue {
            title,
            body: str_field(&body, "body"),
            labels,
            assignees,
            closed: body.get("closed").and_then(Value::as_bool).unwrap_or(false),
            pull_request: false,
        });
        Ok(Reply::json(201, self.issue_json(&issue)))
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
        if let Some(text) = str_field(&body, "body") {
            issue.body = Some(text);
        }
        if let Some(state) = str_field(&body, "state") {
            if state == "closed" && issue.state != "closed" {
                issue.closed_at = Some(now());
            } else if state == "open" {
                issue.closed_at = None;
            }
            issue.state = state;
        }
        if body.get("assignees").is_some_and(Value::is_array) {
            issue.assignees = strings(body.get("assignees"));
        }
        issue.updated_at = now();
        let json = self.issue_json(&issue);
        self.state.put_issue(issue);
        Ok(Reply::json(201, json))
    }

    fn add_issue_labels(&mut self, number: u64) -> Outcome {
        self.need(Need::Issues(Access::Write))?;
        let body = self.body()?;
        let mut issue = self.issue(number)?;
        let requested = body
            .get("labels")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        for item in requested {
            let label = match &item {
                Value::Number(n) => n.as_u64().and_then(|id| self.state.label_by_id(id)),
                Value::String(name) => self.state.labels.iter().find(|l| &l.name == name),
                _ => None,
            };
            if let Some(label) = label
                && !issue.labels.contains(&label.name)
            {
                issue.labels.push(label.name.clone());
            }
        }
        issue.updated_at = now();
        let labels: Vec<Value> = issue
            .labels
            .iter()
            .filter_map(|n| self.state.label_named(n))
            .map(|l| self.label_json(l))
            .collect();
        self.state.put_issue(issue);
        Ok(Reply::json(200, Value::Array(labels)))
    }

    fn list_comments(&self, number: u64) -> Outcome {
        self.need(Need::Issues(Access::Read))?;
        self.issue(number)?;
        let items: Vec<Value> = self
            .state
            .comments_on(number)
            .map(|c| self.comment_json(c))
            .collect();
        Ok(Reply::json(200, Value::Array(items)))
    }

    fn create_comment(&mut self, number: u64) -> Outcome {
        self.need(Need::Issues(Access::Write))?;
        let body = self.body()?;
        self.issue(number)?;
        let text = str_field(&body, "body").ok_or_else(|| validation("[Body]: Required"))?;
        let comment = self.state.add_comment(number, text);
        Ok(Reply::json(201, self.comment_json(&comment)))
    }

    fn list_labels(&self) -> Outcome {
        self.need(Need::Issues(Access::Read))?;
        let items = self
            .state
            .labels
            .iter()
            .map(|l| self.label_json(l))
            .collect();
        Ok(self.page(items))
    }

    fn create_label(&mut self) -> Outcome {
        self.need(Need::Issues(Access::Write))?;
        let body = self.body()?;
        let name = str_field(&body, "name")
            .filter(|n| !n.is_empty())
            .ok_or_else(|| validation("[Name]: Required"))?;
        let color = str_field(&body, "color")
            .map(|c| c.trim_start_matches('#').to_ascii_lowercase())
            .filter(|c| c.len() == 6 && c.bytes().all(|b| b.is_ascii_hexdigit()))
            .ok_or_else(|| validation("[Color]: Invalid color"))?;
        let label = self
            .state
            .add_label(&name, &color, str_field(&body, "description"));
        Ok(Reply::json(201, self.label_json(&label)))
    }
}

/// A UUID-shaped id for an attachment, stable for the same id and content.
fn uuid(id: u64, bytes: &[u8]) -> String {
    use sha2::{Digest, Sha256};
    let mut h = Sha256::new();
    h.update(id.to_be_bytes());
    h.update(bytes);
    let hex = hex::encode(h.finalize());
    format!(
        "{}-{}-4{}-a{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[13..16],
        &hex[17..20],
        &hex[20..32]
    )
}

/// Gitea's `upload.Verify`: an entry `.ext` matches the file's extension, `type/sub` or
/// `type/*` the content type; an empty list or `*/*` allows everything.
fn type_allowed(allowed: &[String], name: &str, content_type: &str) -> bool {
    if allowed.is_empty() {
        return true;
    }
    let extension = name
        .rfind('.')
        .map(|i| name[i..].to_ascii_lowercase())
        .unwrap_or_default();
    let mime = content_type
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    allowed
        .iter()
        .map(|a| a.trim().to_ascii_lowercase())
        .any(|a| {
            a == "*/*"
                || (a.starts_with('.') && a == extension)
                || a == mime
                || a.strip_suffix("/*")
                    .is_some_and(|major| mime.split('/').next() == Some(major))
        })
}

#[derive(Debug)]
struct Part {
    filename: Option<String>,
    content_type: Option<String>,
    data: Vec<u8>,
}

/// The field `field` of a `multipart/form-data` body (RFC 7578).
fn multipart_field(content_type: &str, body: &[u8], field: &str) -> Option<Part> {
    let boundary = content_type.split(';').find_map(|p| {
        let p = p.trim();
        p.strip_prefix("boundary=")
            .map(|b| b.trim_matches('"').to_owned())
    })?;
    let delimiter = format!("--{boundary}");
    let mut rest = body;
    loop {
        let start = find(rest, delimiter.as_bytes())? + delimiter.len();
        rest = &rest[start..];
        if rest.starts_with(b"--") {
            return None;
        }
        let rest_after_crlf = rest.strip_prefix(b"\r\n").unwrap_or(rest);
        let header_end = find(rest_after_crlf, b"\r\n\r\n")?;
        let headers = String::from_utf8_lossy(&rest_after_crlf[..header_end]).into_owned();
        let content = &rest_after_crlf[header_end + 4..];
        let end = find(content, format!("\r\n{delimiter}").as_bytes())?;
        let data = &content[..end];
        let mut name = None;
        let mut filename = None;
        let mut part_type = None;
        for line in headers.lines() {
            let (key, value) = line.split_once(':').unwrap_or((line, ""));
            if key.trim().eq_ignore_ascii_case("content-disposition") {
                for param in value.split(';').map(str::trim) {
                    if let Some(v) = param.strip_prefix("name=") {
                        name = Some(v.trim_matches('"').to_owned());
                    } else if let Some(v) = param.strip_prefix("filename=") {
                        filename = Some(v.trim_matches('"').to_owned());
                    }
                }
            } else if key.trim().eq_ignore_ascii_case("content-type") {
                part_type = Some(value.trim().to_owned());
            }
        }
        if name.as_deref() == Some(field) {
            return Some(Part {
                filename,
                content_type: part_type,
                data: data.to_vec(),
            });
        }
        rest = &content[end..];
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn multipart_field_finds_the_attachment() {
        let body = b"--XyZ\r\nContent-Disposition: form-data; name=\"other\"\r\n\r\nnope\r\n--XyZ\r\nContent-Disposition: form-data; name=\"attachment\"; filename=\"a.tar.gz\"\r\nContent-Type: application/gzip\r\n\r\nDATA\r\n\r\n--XyZ--\r\n";
        let part = multipart_field("multipart/form-data; boundary=XyZ", body, "attachment")
            .expect("the attachment part");
        assert_eq!(part.filename.as_deref(), Some("a.tar.gz"));
        assert_eq!(part.content_type.as_deref(), Some("application/gzip"));
        assert_eq!(part.data, b"DATA\r\n");
    }

    #[test]
    fn allowed_types_match_extensions_and_mime_wildcards() {
        let allowed = vec![".zip".to_owned(), "image/*".to_owned()];
        assert!(type_allowed(&allowed, "a.ZIP", "application/octet-stream"));
        assert!(type_allowed(&allowed, "a.bin", "image/png"));
        assert!(!type_allowed(&allowed, "a.tar.gz", "application/gzip"));
        assert!(type_allowed(&[], "anything", "x/y"));
    }
}
