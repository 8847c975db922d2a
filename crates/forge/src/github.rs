//! GitHub.com and GitHub Enterprise Server through the REST API, version `2022-11-28`
//! (<https://docs.github.com/rest>; OpenAPI description in npm `@octokit/openapi`). The API base
//! comes from the caller: `https://api.github.com`, or `https://HOST/api/v3` on GitHub Enterprise
//! Server (`GITHUB_API_URL` under a runner).
//!
//! This backend speaks through relkit's own [`crate::http::Client`], as the Gitea one does, and
//! not through octocrab's transport, although octocrab covers these calls:
//! - relkit owns one retry and rate-limit policy for every forge; octocrab's default retry sends a
//!   POST again at once and without backoff, so a create whose answer was lost comes back as
//!   "already exists", and it sets no timeouts by default;
//! - on GitHub Enterprise Server, octocrab's `upload_asset` puts the base path in front of the
//!   absolute upload URL (`…/api/v3/api/uploads/…`), and it holds the whole file in memory;
//! - one HTTP stack for all forges: one TLS setup, one redaction rule, one call count.
//!
//! GitHub's ways, as followed here:
//! - every API request says `Accept: application/vnd.github+json` and `X-GitHub-Api-Version`;
//! - `GET …/git/ref/tags/{tag}` matches exactly; the ref of an annotated tag points at a tag
//!   object, which is peeled to its commit; a tag is made as a tag object, then a ref;
//! - a draft has no tag until published and is never found by tag; several drafts may share a
//!   tag, so a create whose answer was lost is looked for among the releases, newest first;
//! - assets are uploaded to the release's `upload_url`, on another origin (`uploads.github.com`,
//!   `HOST/api/uploads` on GHES). The token goes there because the API named it, and to no other
//!   host: downloads ask the API for the asset's bytes, and the redirect to signed storage is
//!   followed without the token;
//! - listings take 100 items a page and follow `Link: rel="next"`;
//! - assets carry a `digest` (`sha256:…`) and releases an `immutable` flag;
//! - a 403 names the permission the call needed; a tag on a commit that changes
//!   `.github/workflows/` needs the `workflows` permission, which `GITHUB_TOKEN` never has.

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};

use reqwest::header::{ACCEPT, CONTENT_LENGTH, CONTENT_TYPE, HeaderMap, LINK};
use reqwest::{Method, StatusCode, Url};
use serde::Deserialize;
use serde_json::json;

use crate::error::Permission;
use crate::http::{Client, Kind, Policy, Scheme, Token, ensure_labels, found_or_again, segment};
use crate::{
    Asset, AssetUpload, CheckState, CommitChecks, Error, Forge, Issue, Label, MakeLatest, NewIssue,
    NewRelease, NewTag, Preflight, Release, ReleasePatch, Result, Tag,
};

/// GitHub's largest page.
const PAGE: usize = 100;

/// The REST API version relkit is written against.
pub const API_VERSION: &str = "2022-11-28";

/// The headers GitHub asks every API client to send.
const HEADERS: [(&str, &str); 2] = [
    ("accept", "application/vnd.github+json"),
    ("x-github-api-version", API_VERSION),
];

/// A client for the GitHub API at `api` (`https://api.github.com`, or `https://HOST/api/v3`):
/// bearer token and GitHub's headers.
pub fn client(
    forge: &str,
    api: &str,
    token: Option<Token>,
    token_variable: &str,
    policy: Policy,
) -> Result<Client> {
    Client::with_headers(
        forge,
        api,
        token,
        token_variable,
        Scheme::Bearer,
        policy,
        &HEADERS,
    )
}

/// A repository on GitHub.com or a GitHub Enterprise Server.
#[derive(Debug)]
pub struct GitHub {
    client: Client,
    /// `repos/{owner}/{repo}`, encoded.
    repo: String,
    /// Each release's upload address as the API gave it (`upload_url` without its template).
    uploads: Mutex<HashMap<u64, String>>,
}

#[derive(Deserialize)]
struct ReleaseDto {
    id: u64,
    tag_name: String,
    #[serde(default)]
    target_commitish: String,
    name: Option<String>,
    body: Option<String>,
    draft: bool,
    prerelease: bool,
    #[serde(default)]
    immutable: bool,
    #[serde(default)]
    html_url: String,
    upload_url: String,
    #[serde(default)]
    assets: Vec<AssetDto>,
}

#[derive(Deserialize)]
struct AssetDto {
    id: u64,
    name: String,
    size: u64,
    /// `uploaded`, or `open` for an upload that never finished.
    #[serde(default)]
    state: String,
    digest: Option<String>,
    #[serde(default)]
    browser_download_url: String,
}

#[derive(Deserialize)]
struct RefDto {
    object: ObjectDto,
}

#[derive(Deserialize)]
struct ObjectDto {
    sha: String,
    #[serde(rename = "type")]
    kind: String,
}

#[derive(Deserialize)]
struct TagObjectDto {
    sha: String,
    object: ObjectDto,
}

#[derive(Deserialize)]
struct CommitDto {
    sha: String,
}

#[derive(Deserialize)]
struct CompareDto {
    ahead_by: u64,
}

#[derive(Deserialize)]
struct LabelDto {
    name: String,
}

/// An issue's label: GitHub's contract allows a bare name or an object.
#[derive(Deserialize)]
#[serde(untagged)]
enum IssueLabelDto {
    Name(String),
    Object { name: Option<String> },
}

#[derive(Deserialize)]
struct IssueDto {
    number: u64,
    title: String,
    #[serde(default)]
    body: Option<String>,
    #[serde(default)]
    labels: Vec<IssueLabelDto>,
    #[serde(default)]
    html_url: String,
    #[serde(default)]
    pull_request: Option<serde_json::Value>,
}

#[derive(Deserialize)]
struct CombinedStatusDto {
    #[serde(default)]
    statuses: Vec<StatusDto>,
}

#[derive(Deserialize)]
struct StatusDto {
    context: String,
    state: String,
}

#[derive(Deserialize)]
struct CheckRunsDto {
    #[serde(default)]
    check_runs: Vec<CheckRunDto>,
}

#[derive(Deserialize)]
struct CheckRunDto {
    name: String,
    conclusion: Option<String>,
}

impl From<AssetDto> for Asset {
    fn from(dto: AssetDto) -> Self {
        Self {
            id: dto.id.to_string(),
            name: dto.name,
            size: dto.size,
            // Only SHA-256 is understood; another algorithm reads as "no digest".
            digest: dto.digest.and_then(|d| d.parse().ok()),
            url: dto.browser_download_url,
        }
    }
}

impl From<ReleaseDto> for Release {
    fn from(dto: ReleaseDto) -> Self {
        Self {
            id: dto.id.to_string(),
            tag: dto.tag_name,
            target: dto.target_commitish,
            name: dto.name.unwrap_or_default(),
            body: dto.body.unwrap_or_default(),
            draft: dto.draft,
            prerelease: dto.prerelease,
            immutable: dto.immutable,
            url: dto.html_url,
            assets: dto.assets.into_iter().map(Asset::from).collect(),
        }
    }
}

impl From<IssueDto> for Issue {
    fn from(dto: IssueDto) -> Self {
        Self {
            number: dto.number,
            title: dto.title,
            body: dto.body.unwrap_or_default(),
            labels: dto
                .labels
                .into_iter()
                .filter_map(|l| match l {
                    IssueLabelDto::Name(name) => Some(name),
                    IssueLabelDto::Object { name } => name,
                })
                .collect(),
            url: dto.html_url,
        }
    }
}

#[derive(Deserialize)]
struct RepositoryDto {
    #[serde(default)]
    private: bool,
    #[serde(default)]
    permissions: Option<RepositoryPermissionsDto>,
}

#[derive(Deserialize)]
struct RepositoryPermissionsDto {
    #[serde(default)]
    push: bool,
}

/// Who a token speaks for, by its prefix (<https://github.blog/2021-04-05-behind-githubs-new-authentication-token-formats/>).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum TokenKind {
    /// A personal access token (classic `ghp_`, fine-grained `github_pat_`), an OAuth app's
    /// (`gho_`) or a GitHub App's user-to-server token (`ghu_`): the repository's `permissions`
    /// are this user's.
    User,
    /// A GitHub App installation token (`ghs_`), the workflow's `GITHUB_TOKEN` included: it
    /// authenticates no user, so the repository's `permissions` say nothing about it.
    Installation,
    /// No known prefix (older Enterprise Servers, tests): nothing is inferred.
    Unknown,
}

impl TokenKind {
    fn of(token: &str) -> Self {
        if ["ghp_", "github_pat_", "gho_", "ghu_"]
            .iter()
            .any(|p| token.starts_with(p))
        {
            Self::User
        } else if token.starts_with("ghs_") {
            Self::Installation
        } else {
            Self::Unknown
        }
    }
}

/// What the repository and the token's scopes say about writing, as far as they say anything.
///
/// `X-OAuth-Scopes` comes with classic personal and OAuth tokens only: `repo` (or `public_repo`
/// on a public repository) writes contents, `workflow` lets a tag point at a commit that changes
/// workflows. Fine-grained and installation tokens report no scopes, and an installation's
/// `permissions` block is not its own, so for them only the first write can tell.
fn write_access(
    kind: TokenKind,
    scopes: Option<&str>,
    repository: &RepositoryDto,
) -> (Option<bool>, Option<bool>) {
    let scopes: Option<Vec<&str>> = scopes.map(|s| s.split(',').map(str::trim).collect());
    let scoped = scopes
        .as_ref()
        .map(|s| s.contains(&"repo") || (!repository.private && s.contains(&"public_repo")));
    let role = match kind {
        TokenKind::User => repository.permissions.as_ref().map(|p| p.push),
        TokenKind::Installation | TokenKind::Unknown => None,
    };
    let can_write = match (scoped, role) {
        (Some(a), Some(b)) => Some(a && b),
        (a, b) => a.or(b),
    };
    let workflows = scopes.as_ref().map(|s| s.contains(&"workflow"));
    (can_write, workflows)
}

/// The permission a 403 lacked: `permission`, or `workflows` when GitHub says so.
fn needing(permission: Permission) -> impl Fn(Error) -> Error {
    move |err| match err {
        Error::Forbidden {
            forge,
            what,
            message,
            permission: None,
        } => {
            // "refusing to allow a GitHub App to create or update workflow `…` without
            // `workflows` permission" (or "`workflow` scope" for OAuth and personal tokens).
            let permission =
                if message.contains("refusing to allow") && message.contains("workflow") {
                    Permission::Workflows
                } else {
                    permission
                };
            Error::Forbidden {
                forge,
                what,
                message,
                permission: Some(permission),
            }
        }
        other => other,
    }
}

/// The target of `rel="next"` in a `Link` header (RFC 8288).
fn next_link(headers: &HeaderMap) -> Option<String> {
    let value = headers.get(LINK)?.to_str().ok()?;
    let mut rest = value;
    while let Some(open) = rest.find('<') {
        let close = open + rest[open..].find('>')?;
        let target = &rest[open + 1..close];
        let after = &rest[close + 1..];
        let params = after.find('<').map_or(after, |next| &after[..next]);
        let is_next = params.split(';').any(|param| {
            param
                .trim()
                .trim_end_matches(',')
                .trim()
                .strip_prefix("rel=")
                .is_some_and(|rel| rel.trim_matches('"').split(' ').any(|r| r == "next"))
        });
        if is_next {
            return Some(target.to_owned());
        }
        rest = after;
    }
    None
}

/// `make_latest` where it means something: "Drafts and prereleases cannot be set as latest", and
/// GitHub refuses `true` on them ("Latest release cannot be draft or prerelease").
fn make_latest(draft: bool, prerelease: bool, value: MakeLatest) -> Option<MakeLatest> {
    (!draft && !prerelease).then_some(value)
}

fn create_body(new: &NewRelease) -> serde_json::Value {
    let mut body = json!({
        "tag_name": new.tag,
        "target_commitish": new.target,
        "name": new.name,
        "body": new.body,
        "draft": new.draft,
        "prerelease": new.prerelease,
    });
    if let Some(latest) = make_latest(new.draft, new.prerelease, new.make_latest) {
        body["make_latest"] = json!(latest);
    }
    body
}

fn update_body(release: &Release, patch: &ReleasePatch) -> serde_json::Value {
    let mut body = json!(patch);
    let draft = patch.draft.unwrap_or(release.draft);
    let prerelease = patch.prerelease.unwrap_or(release.prerelease);
    if let Some(latest) = patch
        .make_latest
        .and_then(|value| make_latest(draft, prerelease, value))
    {
        body["make_latest"] = json!(latest);
    }
    body
}

/// GitHub refuses a release body longer than this many characters ("body is too long (maximum
/// is 125000 characters)"), after the tag was pushed if nothing checked it before.
pub const MAX_NOTES: usize = 125_000;

fn is_commit_id(text: &str) -> bool {
    text.len() == 40 && text.bytes().all(|b| b.is_ascii_hexdigit())
}

impl GitHub {
    /// The repository `owner/name` through `client`, made by [`client`] (GitHub's headers, bearer
    /// token).
    pub fn new(client: Client, owner: &str, name: &str) -> Self {
        Self {
            client,
            repo: format!("repos/{}/{}", segment(owner), segment(name)),
            uploads: Mutex::default(),
        }
    }

    /// The client, for its call count.
    pub fn client(&self) -> &Client {
        &self.client
    }

    fn url(&self, path: &str) -> Result<Url> {
        self.client.url(&format!("{}/{path}", self.repo))
    }

    /// One answer of `url` and the next page's address; `None` on 404.
    async fn fetch<T: serde::de::DeserializeOwned>(
        &self,
        what: &str,
        url: &Url,
        need: Permission,
    ) -> Result<Option<(T, Option<Url>)>> {
        let response = self
            .client
            .send(Kind::Idempotent, what, true, || {
                Ok(self.client.request(Method::GET, url.clone()))
            })
            .await
            .map_err(needing(need))?;
        if response.status() == StatusCode::NOT_FOUND {
            return Ok(None);
        }
        let next = next_link(response.headers())
            .and_then(|link| Url::parse(&link).ok())
            .map(|link| {
                // A proxy may rewrite the host that GitHub writes into its links: page on through
                // the address relkit was given, with the link's parameters.
                if link.origin() == url.origin() {
                    link
                } else {
                    let mut same = url.clone();
                    same.set_query(link.query());
                    same
                }
            })
            .filter(|next| next != url);
        let value = self.client.json(what, response).await?;
        Ok(Some((value, next)))
    }

    async fn get<T: serde::de::DeserializeOwned>(
        &self,
        what: &str,
        path: &str,
        need: Permission,
    ) -> Result<Option<T>> {
        let url = self.url(path)?;
        Ok(self.fetch(what, &url, need).await?.map(|(value, _)| value))
    }

    /// Every page of a listing, following `Link: rel="next"`.
    async fn pages<T: serde::de::DeserializeOwned>(
        &self,
        what: &str,
        path: &str,
        need: Permission,
    ) -> Result<Vec<T>> {
        let separator = if path.contains('?') { '&' } else { '?' };
        let mut next = Some(self.url(&format!("{path}{separator}per_page={PAGE}"))?);
        let mut pages = Vec::new();
        while let Some(url) = next.take() {
            let Some((page, link)) = self.fetch::<T>(what, &url, need).await? else {
                break;
            };
            pages.push(page);
            next = link;
        }
        Ok(pages)
    }

    /// Every item of a listing.
    async fn all<T: serde::de::DeserializeOwned>(
        &self,
        what: &str,
        path: &str,
        need: Permission,
    ) -> Result<Vec<T>> {
        let pages: Vec<Vec<T>> = self.pages(what, path, need).await?;
        Ok(pages.into_iter().flatten().collect())
    }

    async fn send_json<T: serde::de::DeserializeOwned>(
        &self,
        method: Method,
        kind: Kind,
        what: &str,
        path: &str,
        body: &serde_json::Value,
        need: Permission,
    ) -> Result<T> {
        let url = self.url(path)?;
        let response = self
            .client
            .send(kind, what, false, || {
                Ok(self.client.request(method.clone(), url.clone()).json(body))
            })
            .await
            .map_err(needing(need))?;
        self.client.json(what, response).await
    }

    /// The domain release, keeping its upload address for [`Forge::upload_asset`].
    fn release(&self, dto: ReleaseDto) -> Release {
        let address = dto
            .upload_url
            .split_once('{')
            .map_or(dto.upload_url.as_str(), |(address, _)| address)
            .to_owned();
        self.uploads
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(dto.id, address);
        Release::from(dto)
    }

    fn already_exists(&self, what: String) -> Error {
        Error::AlreadyExists {
            forge: self.describe(),
            what,
        }
    }

    fn release_id(&self, release: &Release) -> Result<u64> {
        release.id.parse().map_err(|_| Error::NotFound {
            forge: self.describe(),
            what: format!("release {} (id {:?})", release.tag, release.id),
        })
    }

    /// The commit `rev` names, which must exist.
    async fn commit_of(&self, rev: &str) -> Result<String> {
        if is_commit_id(rev) {
            return Ok(rev.to_owned());
        }
        self.resolve(rev).await?.ok_or_else(|| Error::NotFound {
            forge: self.describe(),
            what: format!("the commit {rev}"),
        })
    }

    async fn post_tag(&self, tag: &NewTag, commit: &str) -> Result<Tag> {
        let sha = match &tag.message {
            Some(message) => {
                let body = json!({
                    "tag": tag.name,
                    "message": message,
                    "object": commit,
                    "type": "commit",
                });
                // A tag object that no ref points at is harmless, so sending it again is too.
                let object: TagObjectDto = self
                    .send_json(
                        Method::POST,
                        Kind::Idempotent,
                        &format!("create the tag object of {}", tag.name),
                        "git/tags",
                        &body,
                        Permission::ContentsWrite,
                    )
                    .await?;
                object.sha
            }
            None => commit.to_owned(),
        };
        let body = json!({ "ref": format!("refs/tags/{}", tag.name), "sha": sha });
        let what = format!("create tag {}", tag.name);
        match self
            .send_json::<RefDto>(
                Method::POST,
                Kind::Create,
                &what,
                "git/refs",
                &body,
                Permission::ContentsWrite,
            )
            .await
        {
            Ok(_) => Ok(Tag {
                name: tag.name.clone(),
                commit: commit.to_owned(),
            }),
            // "Reference already exists", or another validation failure: the tag tells which.
            Err(err @ Error::Http { status: 422, .. }) => match self.tag(&tag.name).await? {
                Some(_) => Err(self.already_exists(format!("tag {}", tag.name))),
                None => Err(err),
            },
            Err(err) => Err(err),
        }
    }

    async fn post_release(&self, new: &NewRelease) -> Result<Release> {
        let what = format!("create the release {}", new.tag);
        let body = create_body(new);
        match self
            .send_json::<ReleaseDto>(
                Method::POST,
                Kind::Create,
                &what,
                "releases",
                &body,
                Permission::ContentsWrite,
            )
            .await
        {
            Ok(created) => Ok(self.release(created)),
            // "Validation Failed: tag_name already_exists": a published release has the tag.
            Err(Error::Http {
                status: 422,
                message,
                ..
            }) if message.contains("already_exists") => {
                Err(self.already_exists(format!("a release for tag {}", new.tag)))
            }
            Err(err) => Err(err),
        }
    }

    /// The release's upload address, from the API's own answer.
    async fn upload_address(&self, release: &Release) -> Result<Url> {
        let id = self.release_id(release)?;
        let known = |uploads: &Mutex<HashMap<u64, String>>| {
            uploads
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .get(&id)
                .cloned()
        };
        let address = match known(&self.uploads) {
            Some(address) => address,
            None => {
                let found: Option<ReleaseDto> = self
                    .get(
                        "read a release",
                        &format!("releases/{id}"),
                        Permission::ContentsRead,
                    )
                    .await?;
                let found = found.ok_or_else(|| Error::NotFound {
                    forge: self.describe(),
                    what: format!("release {}", release.tag),
                })?;
                self.release(found);
                known(&self.uploads).unwrap_or_default()
            }
        };
        Url::parse(&address).map_err(|e| Error::Protocol {
            forge: self.describe(),
            what: format!("read the upload address of release {}", release.tag),
            message: format!("{address:?} is not a URL: {e}"),
        })
    }

    async fn post_asset(
        &self,
        address: &Url,
        release: &Release,
        upload: &AssetUpload,
        size: u64,
    ) -> Result<Asset> {
        let what = format!("upload {} to the release {}", upload.name, release.tag);
        let url =
            Url::parse(&format!("{address}?name={}", segment(&upload.name))).map_err(|e| {
                Error::Protocol {
                    forge: self.describe(),
                    what: what.clone(),
                    message: format!("{address} is not a base for uploads: {e}"),
                }
            })?;
        let response = self
            .client
            .send(Kind::Create, &what, false, || {
                // Streamed from the file, opened again for each attempt.
                let file = std::fs::File::open(&upload.path).map_err(Error::io(&upload.path))?;
                Ok(self
                    .client
                    .request(Method::POST, url.clone())
                    .header(CONTENT_TYPE, &upload.content_type)
                    .header(CONTENT_LENGTH, size)
                    .body(reqwest::Body::from(tokio::fs::File::from_std(file))))
            })
            .await
            .map_err(needing(Permission::ContentsWrite));
        match response {
            Ok(response) => {
                let created: AssetDto = self.client.json(&what, response).await?;
                Ok(created.into())
            }
            Err(Error::Http {
                status: 422,
                message,
                ..
            }) if message.contains("already_exists") => Err(self.already_exists(format!(
                "the asset {} of release {}",
                upload.name, release.tag
            ))),
            Err(err) => Err(err),
        }
    }

    async fn find_asset(&self, release_id: u64, name: &str) -> Result<Option<AssetDto>> {
        let assets: Vec<AssetDto> = self
            .all(
                "list release assets",
                &format!("releases/{release_id}/assets"),
                Permission::ContentsRead,
            )
            .await?;
        Ok(assets.into_iter().find(|a| a.name == name))
    }

    async fn delete_asset_id(&self, id: &str, name: &str) -> Result<()> {
        let url = self.url(&format!("releases/assets/{}", segment(id)))?;
        let what = format!("delete {name}");
        self.client
            .send(Kind::Idempotent, &what, true, || {
                Ok(self.client.request(Method::DELETE, url.clone()))
            })
            .await
            .map_err(needing(Permission::ContentsWrite))?;
        Ok(())
    }

    async fn post_issue(&self, issue: &NewIssue) -> Result<Issue> {
        let body = json!({
            "title": issue.title,
            "body": issue.body,
            "labels": issue.labels,
            "assignees": issue.assignees,
        });
        let what = format!("open the issue {:?}", issue.title);
        let created: IssueDto = self
            .send_json(
                Method::POST,
                Kind::Create,
                &what,
                "issues",
                &body,
                Permission::IssuesWrite,
            )
            .await?;
        Ok(created.into())
    }
}

impl Forge for GitHub {
    fn describe(&self) -> String {
        self.client.forge().to_owned()
    }

    async fn resolve(&self, rev: &str) -> Result<Option<String>> {
        // 422 "No commit found for SHA" is GitHub's answer to a name that resolves to nothing.
        match self
            .get::<CommitDto>(
                "resolve a revision",
                &format!("commits/{}", segment(rev)),
                Permission::ContentsRead,
            )
            .await
        {
            Ok(found) => Ok(found.map(|c| c.sha)),
            Err(Error::Http { status: 422, .. }) => Ok(None),
            Err(err) => Err(err),
        }
    }

    async fn tag(&self, name: &str) -> Result<Option<Tag>> {
        let path = format!("git/ref/{}", segment(&format!("tags/{name}")));
        let found: Option<RefDto> = self
            .get("read a tag", &path, Permission::ContentsRead)
            .await?;
        let Some(found) = found else {
            return Ok(None);
        };
        let mut object = found.object;
        // An annotated tag's ref names a tag object; a tag of a tag names another one.
        for _ in 0..8 {
            match object.kind.as_str() {
                "commit" => {
                    return Ok(Some(Tag {
                        name: name.to_owned(),
                        commit: object.sha,
                    }));
                }
                "tag" => {
                    let path = format!("git/tags/{}", segment(&object.sha));
                    let tag: Option<TagObjectDto> = self
                        .get("read a tag object", &path, Permission::ContentsRead)
                        .await?;
                    object = tag
                        .ok_or_else(|| Error::NotFound {
                            forge: self.describe(),
                            what: format!("the tag object {} of tag {name}", object.sha),
                        })?
                        .object;
                }
                other => {
                    return Err(Error::Protocol {
                        forge: self.describe(),
                        what: format!("read tag {name}"),
                        message: format!("the tag points at a {other}, not a commit"),
                    });
                }
            }
        }
        Err(Error::Protocol {
            forge: self.describe(),
            what: format!("read tag {name}"),
            message: "more than 8 tags of tags before a commit".to_owned(),
        })
    }

    async fn create_tag(&self, tag: &NewTag) -> Result<Tag> {
        let commit = self.commit_of(&tag.commit).await?;
        found_or_again(
            self.post_tag(tag, &commit).await,
            || self.tag(&tag.name),
            || self.post_tag(tag, &commit),
        )
        .await
    }

    async fn ahead_by(&self, base: &str, head: &str) -> Result<u64> {
        // One commit a page: only the count is wanted, not the commits.
        let path = format!("compare/{}...{}?per_page=1", segment(base), segment(head));
        let compare: Option<CompareDto> = self
            .get("compare commits", &path, Permission::ContentsRead)
            .await?;
        compare.map(|c| c.ahead_by).ok_or_else(|| Error::NotFound {
            forge: self.describe(),
            what: format!("the comparison {base}...{head}"),
        })
    }

    async fn release_by_tag(&self, tag: &str) -> Result<Option<Release>> {
        let path = format!("releases/tags/{}", segment(tag));
        let found: Option<ReleaseDto> = self
            .get("read a release", &path, Permission::ContentsRead)
            .await?;
        Ok(found.filter(|r| !r.draft).map(|r| self.release(r)))
    }

    async fn releases(&self) -> Result<Vec<Release>> {
        let all: Vec<ReleaseDto> = self
            .all("list releases", "releases", Permission::ContentsRead)
            .await?;
        Ok(all.into_iter().map(|r| self.release(r)).collect())
    }

    async fn create_release(&self, new: &NewRelease) -> Result<Release> {
        // Several drafts may share a tag: the newest one of that kind is the one just made.
        let find = || async {
            Ok(self
                .releases()
                .await?
                .into_iter()
                .find(|r| r.tag == new.tag && r.draft == new.draft))
        };
        found_or_again(self.post_release(new).await, find, || {
            self.post_release(new)
        })
        .await
    }

    async fn update_release(&self, release: &Release, patch: &ReleasePatch) -> Result<Release> {
        let id = self.release_id(release)?;
        let what = format!("update the release {}", release.tag);
        let updated: ReleaseDto = self
            .send_json(
                Method::PATCH,
                Kind::Idempotent,
                &what,
                &format!("releases/{id}"),
                &update_body(release, patch),
                Permission::ContentsWrite,
            )
            .await?;
        Ok(self.release(updated))
    }

    async fn upload_asset(&self, release: &Release, upload: &AssetUpload) -> Result<Asset> {
        if release.immutable && !release.draft {
            return Err(Error::Immutable {
                forge: self.describe(),
                tag: release.tag.clone(),
            });
        }
        let size = std::fs::metadata(&upload.path)
            .map_err(Error::io(&upload.path))?
            .len();
        let address = self.upload_address(release).await?;
        // The API named this address: the token may go there (uploads.github.com).
        self.client.trust_origin(&address);
        match self.post_asset(&address, release, upload, size).await {
            // GitHub refuses a second asset of one name: look before sending again.
            Err(Error::Unanswered { .. }) => {
                let id = self.release_id(release)?;
                match self.find_asset(id, &upload.name).await? {
                    Some(found) if found.state == "uploaded" && found.size == size => {
                        Ok(found.into())
                    }
                    // An upload cut short leaves an asset that is not `uploaded` and holds the
                    // name: remove it first.
                    Some(found) if found.state != "uploaded" => {
                        self.delete_asset_id(&found.id.to_string(), &found.name)
                            .await?;
                        self.post_asset(&address, release, upload, size).await
                    }
                    _ => self.post_asset(&address, release, upload, size).await,
                }
            }
            other => other,
        }
    }

    async fn download_asset(&self, asset: &Asset) -> Result<Vec<u8>> {
        let what = format!("download {}", asset.name);
        let url = self.url(&format!("releases/assets/{}", segment(&asset.id)))?;
        // GitHub answers with a redirect to signed storage on another host, which reqwest follows
        // without the `Authorization` header.
        let response = self
            .client
            .send(Kind::Idempotent, &what, false, || {
                Ok(self
                    .client
                    .request(Method::GET, url.clone())
                    .header(ACCEPT, "application/octet-stream"))
            })
            .await
            .map_err(needing(Permission::ContentsRead))?;
        let bytes = response.bytes().await.map_err(|e| Error::Unanswered {
            forge: self.describe(),
            what,
            message: e.without_url().to_string(),
        })?;
        Ok(bytes.to_vec())
    }

    async fn delete_asset(&self, asset: &Asset) -> Result<()> {
        self.delete_asset_id(&asset.id, &asset.name).await
    }

    async fn ensure_labels(&self, labels: &[Label]) -> Result<()> {
        let names = async || {
            let labels: Vec<LabelDto> = self
                .all("list labels", "labels", Permission::IssuesRead)
                .await?;
            Ok(labels.into_iter().map(|l| l.name).collect())
        };
        let create = async |label: &Label| {
            let body = json!({
                "name": label.name,
                "color": label.color.trim_start_matches('#'),
                "description": label.description,
            });
            let what = format!("create the label {}", label.name);
            self.send_json::<LabelDto>(
                Method::POST,
                Kind::Create,
                &what,
                "labels",
                &body,
                Permission::IssuesWrite,
            )
            .await
            .map(drop)
        };
        // GitHub's label names are unique regardless of case.
        let same = |a: &str, b: &str| a.eq_ignore_ascii_case(b);
        ensure_labels(self.describe(), labels, same, &[422], names, create).await
    }

    async fn open_issues_with_label(&self, label: &str) -> Result<Vec<Issue>> {
        let path = format!("issues?state=open&labels={}", segment(label));
        let issues: Vec<IssueDto> = self
            .all("list issues", &path, Permission::IssuesRead)
            .await?;
        Ok(issues
            .into_iter()
            // The issues endpoint lists pull requests too.
            .filter(|i| {
                i.pull_request
                    .as_ref()
                    .is_none_or(serde_json::Value::is_null)
            })
            .map(Issue::from)
            .filter(|i| i.labels.iter().any(|l| l.eq_ignore_ascii_case(label)))
            .collect())
    }

    async fn create_issue(&self, issue: &NewIssue) -> Result<Issue> {
        let sent = self.post_issue(issue).await;
        crate::issue_found_or_again(self, issue, sent, || self.post_issue(issue)).await
    }

    async fn comment(&self, issue: &Issue, body: &str) -> Result<()> {
        let what = format!("comment on issue #{}", issue.number);
        let _: serde_json::Value = self
            .send_json(
                Method::POST,
                Kind::Create,
                &what,
                &format!("issues/{}/comments", issue.number),
                &json!({ "body": body }),
                Permission::IssuesWrite,
            )
            .await?;
        Ok(())
    }

    async fn close_issue(&self, issue: &Issue) -> Result<()> {
        let what = format!("close issue #{}", issue.number);
        let _: serde_json::Value = self
            .send_json(
                Method::PATCH,
                Kind::Idempotent,
                &what,
                &format!("issues/{}", issue.number),
                &json!({ "state": "closed", "state_reason": "completed" }),
                Permission::IssuesWrite,
            )
            .await?;
        Ok(())
    }

    async fn preflight(&self) -> Result<Preflight> {
        let url = self.client.url(&self.repo)?;
        let response = self
            .client
            .send(Kind::Idempotent, "read the repository", true, || {
                Ok(self.client.request(Method::GET, url.clone()))
            })
            .await
            .map_err(needing(Permission::ContentsRead))?;
        if response.status() == StatusCode::NOT_FOUND {
            return Err(Error::NotFound {
                forge: self.describe(),
                what: format!("the repository {}", self.repo.trim_start_matches("repos/")),
            });
        }
        let scopes = response
            .headers()
            .get("x-oauth-scopes")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let repository: RepositoryDto = self.client.json("read the repository", response).await?;
        let kind = self
            .client
            .token()
            .map_or(TokenKind::Unknown, |t| TokenKind::of(t.expose()));
        let (can_write, can_write_workflows) = write_access(kind, scopes.as_deref(), &repository);
        Ok(Preflight {
            can_write,
            can_write_workflows,
            attachments: None,
            max_notes: Some(MAX_NOTES),
        })
    }

    async fn checks(&self, commit: &str) -> Result<CommitChecks> {
        let rev = segment(commit);
        let combined: Option<CombinedStatusDto> = self
            .get(
                "read commit statuses",
                &format!("commits/{rev}/status?per_page={PAGE}"),
                Permission::StatusesRead,
            )
            .await?;
        let runs: Vec<CheckRunsDto> = self
            .pages(
                "read check runs",
                &format!("commits/{rev}/check-runs"),
                Permission::ChecksRead,
            )
            .await?;
        let statuses = combined.map(|c| c.statuses).unwrap_or_default();
        let mut checks: Vec<(String, CheckState)> = statuses
            .into_iter()
            .map(|s| {
                let state = match s.state.as_str() {
                    "success" => CheckState::Success,
                    "pending" => CheckState::Pending,
                    _ => CheckState::Failure,
                };
                (s.context, state)
            })
            .collect();
        checks.extend(runs.into_iter().flat_map(|p| p.check_runs).map(|r| {
            let state = match r.conclusion.as_deref() {
                // No conclusion yet: queued or in progress.
                None => CheckState::Pending,
                Some("success" | "neutral" | "skipped") => CheckState::Success,
                Some(_) => CheckState::Failure,
            };
            (r.name, state)
        }));
        Ok(CommitChecks { checks })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn link(value: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(LINK, value.parse().expect("a header value"));
        headers
    }

    fn repository(private: bool, push: Option<bool>) -> RepositoryDto {
        RepositoryDto {
            private,
            permissions: push.map(|push| RepositoryPermissionsDto { push }),
        }
    }

    #[test]
    fn write_access_is_inferred_only_where_github_states_it() {
        use TokenKind::{Installation, Unknown, User};
        assert_eq!(TokenKind::of("ghs_abc"), Installation);
        assert_eq!(TokenKind::of("ghp_abc"), User);
        assert_eq!(TokenKind::of("github_pat_abc"), User);
        assert_eq!(TokenKind::of("v1.abc"), Unknown);
        let cases = [
            // An installation token's `push: false` is not its own: unknown.
            (
                Installation,
                None,
                repository(false, Some(false)),
                (None, None),
            ),
            (Unknown, None, repository(false, Some(false)), (None, None)),
            (
                User,
                None,
                repository(false, Some(false)),
                (Some(false), None),
            ),
            (
                User,
                None,
                repository(false, Some(true)),
                (Some(true), None),
            ),
            // Classic tokens: the scopes and the user's role must both allow it.
            (
                User,
                Some("repo, workflow"),
                repository(true, Some(true)),
                (Some(true), Some(true)),
            ),
            (
                User,
                Some("repo"),
                repository(true, Some(false)),
                (Some(false), Some(false)),
            ),
            (
                User,
                Some("read:org"),
                repository(false, Some(true)),
                (Some(false), Some(false)),
            ),
            (
                User,
                Some("public_repo"),
                repository(false, Some(true)),
                (Some(true), Some(false)),
            ),
            (
                User,
                Some("public_repo"),
                repository(true, Some(true)),
                (Some(false), Some(false)),
            ),
            (
                User,
                Some(""),
                repository(false, None),
                (Some(false), Some(false)),
            ),
        ];
        for (kind, scopes, repo, want) in cases {
            assert_eq!(
                write_access(kind, scopes, &repo),
                want,
                "{kind:?} {scopes:?}"
            );
        }
    }

    #[test]
    fn the_next_page_is_read_from_the_link_header() {
        let headers = link(
            r#"<https://api.github.com/repositories/1/releases?per_page=100&page=2>; rel="next", <https://api.github.com/repositories/1/releases?per_page=100&page=5>; rel="last""#,
        );
        assert_eq!(
            next_link(&headers).as_deref(),
            Some("https://api.github.com/repositories/1/releases?per_page=100&page=2")
        );
        let last = link(r#"<https://h/x?page=1>; rel="prev", <https://h/x?page=1>; rel="first""#);
        assert_eq!(next_link(&last), None);
        let commas = link(r#"<https://h/x?labels=a,b&page=3>; rel="next""#);
        assert_eq!(
            next_link(&commas).as_deref(),
            Some("https://h/x?labels=a,b&page=3")
        );
    }

    #[test]
    fn make_latest_goes_only_with_a_published_full_release() {
        let new = NewRelease {
            tag: "v1.0.0".to_owned(),
            target: "main".to_owned(),
            name: "v1.0.0".to_owned(),
            body: String::new(),
            draft: true,
            prerelease: false,
            make_latest: MakeLatest::True,
        };
        assert_eq!(create_body(&new).get("make_latest"), None);
        let published = create_body(&NewRelease {
            draft: false,
            ..new.clone()
        });
        assert_eq!(published["make_latest"], "true");

        let draft = Release {
            id: "1".to_owned(),
            tag: "v1.0.0".to_owned(),
            target: "main".to_owned(),
            name: String::new(),
            body: String::new(),
            draft: true,
            prerelease: false,
            immutable: false,
            url: String::new(),
            assets: Vec::new(),
        };
        let publish = ReleasePatch {
            draft: Some(false),
            make_latest: Some(MakeLatest::Legacy),
            ..ReleasePatch::default()
        };
        assert_eq!(update_body(&draft, &publish)["make_latest"], "legacy");
        let rename = ReleasePatch {
            name: Some("n".to_owned()),
            make_latest: Some(MakeLatest::False),
            ..ReleasePatch::default()
        };
        assert_eq!(
            update_body(&draft, &rename),
            json!({ "name": "n" }),
            "only the fields to change"
        );
    }

    #[test]
    fn a_refusal_to_touch_workflows_names_the_workflows_permission() {
        let forbidden = |message: &str| Error::Forbidden {
            forge: "GitHub".to_owned(),
            what: "create tag v1.0.0".to_owned(),
            message: message.to_owned(),
            permission: None,
        };
        let err = needing(Permission::ContentsWrite)(forbidden(
            "refusing to allow a GitHub App to create or update workflow `.github/workflows/ci.yml` without `workflows` permission",
        ));
        assert!(
            err.hint().expect("a hint").contains("`workflows`"),
            "{err:?}"
        );
        let err =
            needing(Permission::IssuesWrite)(forbidden("Resource not accessible by integration"));
        assert!(
            err.hint().expect("a hint").contains("issues: write"),
            "{err:?}"
        );
    }
}
