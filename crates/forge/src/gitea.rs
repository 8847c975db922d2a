//! Gitea and Forgejo through their API v1 (`{server}/api/v1`, Swagger in
//! `../shared/specs/gitea-swagger.v1.json`), mapped onto GitHub's semantics.
//!
//! Where Gitea differs from its own contract or from GitHub (see `../shared/specs/README.md`):
//! - tags are read with `GET …/tags/{tag}`, not the ref lookup that matches by prefix;
//! - `POST …/releases` answers 409 for a tag that has a release: [`Error::AlreadyExists`];
//! - Gitea finds drafts by tag where GitHub does not: a draft is not returned by
//!   [`Forge::release_by_tag`], as on GitHub;
//! - pages hold at most 50 items and `Link` headers carry the server's public address, which a
//!   runner may not reach: pages are counted here, not followed;
//! - issues take label ids, so names are looked up first;
//! - attachments carry no digest: callers download and hash them.

use reqwest::Method;
use serde::Deserialize;
use serde_json::json;

use crate::http::{Client, Kind, ensure_labels, found_or_again, segment};
use crate::{
    Asset, AssetUpload, AttachmentLimits, CheckState, CommitChecks, Error, Forge, Issue, Label,
    NewIssue, NewRelease, NewTag, Preflight, Release, ReleasePatch, Result, Tag,
};

/// Gitea's largest page.
const PAGE: usize = 50;

/// A repository on a Gitea or Forgejo server.
#[derive(Debug)]
pub struct Gitea {
    client: Client,
    /// `repos/{owner}/{repo}`, encoded.
    repo: String,
}

#[derive(Deserialize)]
struct ReleaseDto {
    id: u64,
    tag_name: String,
    #[serde(default)]
    target_commitish: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    body: String,
    draft: bool,
    prerelease: bool,
    #[serde(default)]
    html_url: String,
    #[serde(default)]
    assets: Vec<AttachmentDto>,
}

#[derive(Deserialize)]
struct AttachmentDto {
    id: u64,
    name: String,
    size: u64,
    browser_download_url: String,
}

#[derive(Deserialize)]
struct TagDto {
    name: String,
    commit: CommitMeta,
}

#[derive(Deserialize)]
struct CommitMeta {
    sha: String,
}

#[derive(Deserialize)]
struct CompareDto {
    total_commits: u64,
}

#[derive(Deserialize)]
struct LabelDto {
    id: u64,
    name: String,
}

#[derive(Deserialize)]
struct IssueDto {
    number: u64,
    title: String,
    #[serde(default)]
    body: Option<String>,
    #[serde(default)]
    labels: Vec<LabelDto>,
    #[serde(default)]
    html_url: String,
    #[serde(default)]
    pull_request: Option<serde_json::Value>,
}

impl From<IssueDto> for Issue {
    fn from(dto: IssueDto) -> Self {
        Self {
            number: dto.number,
            title: dto.title,
            body: dto.body.unwrap_or_default(),
            labels: dto.labels.into_iter().map(|l| l.name).collect(),
            url: dto.html_url,
        }
    }
}

#[derive(Deserialize)]
struct CombinedStatusDto {
    #[serde(default)]
    statuses: Option<Vec<StatusDto>>,
}

#[derive(Deserialize)]
struct StatusDto {
    context: String,
    status: String,
}

impl Gitea {
    /// The repository `owner/name` through `client`, whose API base is `{server}/api/v1`.
    pub fn new(client: Client, owner: &str, name: &str) -> Self {
        Self {
            client,
            repo: format!("repos/{}/{}", segment(owner), segment(name)),
        }
    }

    /// The client, for its call count.
    pub fn client(&self) -> &Client {
        &self.client
    }

    async fn get<T: serde::de::DeserializeOwned>(
        &self,
        what: &str,
        path: &str,
    ) -> Result<Option<T>> {
        let url = if path.is_empty() {
            self.client.url(&self.repo)?
        } else {
            self.client.url(&format!("{}/{path}", self.repo))?
        };
        let response = self
            .client
            .send(Kind::Idempotent, what, true, || {
                Ok(self.client.request(Method::GET, url.clone()))
            })
            .await?;
        if response.status() == reqwest::StatusCode::NOT_FOUND {
            return Ok(None);
        }
        self.client.json(what, response).await.map(Some)
    }

    /// Every item of a listing, page by page.
    async fn all<T: serde::de::DeserializeOwned>(&self, what: &str, path: &str) -> Result<Vec<T>> {
        let mut items = Vec::new();
        for page in 1.. {
            let separator = if path.contains('?') { '&' } else { '?' };
            let batch: Vec<T> = self
                .get(what, &format!("{path}{separator}page={page}&limit={PAGE}"))
                .await?
                .unwrap_or_default();
            let last = batch.len() < PAGE;
            items.extend(batch);
            if last {
                break;
            }
        }
        Ok(items)
    }

    async fn send_json<T: serde::de::DeserializeOwned>(
        &self,
        method: Method,
        kind: Kind,
        what: &str,
        path: &str,
        body: &serde_json::Value,
    ) -> Result<T> {
        let url = self.client.url(&format!("{}/{path}", self.repo))?;
        let response = self
            .client
            .send(kind, what, false, || {
                Ok(self.client.request(method.clone(), url.clone()).json(body))
            })
            .await?;
        self.client.json(what, response).await
    }

    fn release(&self, dto: ReleaseDto) -> Release {
        Release {
            id: dto.id.to_string(),
            tag: dto.tag_name,
            target: dto.target_commitish,
            name: dto.name,
            body: dto.body,
            draft: dto.draft,
            prerelease: dto.prerelease,
            immutable: false,
            url: dto.html_url,
            assets: dto
                .assets
                .into_iter()
                .map(|a| Asset {
                    id: format!("{}/{}", dto.id, a.id),
                    name: a.name,
                    size: a.size,
                    digest: None,
                    url: a.browser_download_url,
                })
                .collect(),
        }
    }

    async fn post_tag(&self, tag: &NewTag) -> Result<Tag> {
        let what = format!("create tag {}", tag.name);
        let body = json!({
            "tag_name": tag.name,
            "target": tag.commit,
            "message": tag.message.clone().unwrap_or_default(),
        });
        match self
            .send_json::<TagDto>(Method::POST, Kind::Create, &what, "tags", &body)
            .await
        {
            Ok(created) => Ok(Tag {
                name: created.name,
                commit: created.commit.sha,
            }),
            Err(Error::Http {
                status: 409 | 422, ..
            }) => Err(Error::AlreadyExists {
                forge: self.client.forge().to_owned(),
                what: format!("tag {}", tag.name),
            }),
            Err(e) => Err(e),
        }
    }

    async fn post_release(&self, new: &NewRelease) -> Result<Release> {
        let what = format!("create the release {}", new.tag);
        let body = json!({
            "tag_name": new.tag,
            "target_commitish": new.target,
            "name": new.name,
            "body": new.body,
            "draft": new.draft,
            "prerelease": new.prerelease,
        });
        match self
            .send_json::<ReleaseDto>(Method::POST, Kind::Create, &what, "releases", &body)
            .await
        {
            Ok(created) => Ok(self.release(created)),
            Err(Error::Http { status: 409, .. }) => Err(Error::AlreadyExists {
                forge: self.client.forge().to_owned(),
                what: format!("a release for tag {}", new.tag),
            }),
            Err(e) => Err(e),
        }
    }

    async fn post_asset(
        &self,
        release: &Release,
        upload: &AssetUpload,
        bytes: &[u8],
    ) -> Result<Asset> {
        let what = format!("upload {} to the release {}", upload.name, release.tag);
        let url = self.client.url(&format!(
            "{}/releases/{}/assets?name={}",
            self.repo,
            release.id,
            segment(&upload.name)
        ))?;
        let response = self
            .client
            .send(Kind::Create, &what, false, || {
                let part = reqwest::multipart::Part::bytes(bytes.to_vec())
                    .file_name(upload.name.clone())
                    .mime_str(&upload.content_type)
                    .map_err(|e| Error::Config {
                        forge: self.client.forge().to_owned(),
                        message: format!("content type {:?}: {e}", upload.content_type),
                    })?;
                let form = reqwest::multipart::Form::new().part("attachment", part);
                Ok(self
                    .client
                    .request(Method::POST, url.clone())
                    .multipart(form))
            })
            .await?;
        let created: AttachmentDto = self.client.json(&what, response).await?;
        Ok(Asset {
            id: format!("{}/{}", release.id, created.id),
            name: created.name,
            size: created.size,
            digest: None,
            url: created.browser_download_url,
        })
    }

    async fn find_draft(&self, tag: &str) -> Result<Option<Release>> {
        Ok(self.releases().await?.into_iter().find(|r| r.tag == tag))
    }

    async fn post_issue(&self, issue: &NewIssue, label_ids: &[u64]) -> Result<Issue> {
        let body = json!({
            "title": issue.title,
            "body": issue.body,
            "labels": label_ids,
            "assignees": issue.assignees,
        });
        let what = format!("open the issue {:?}", issue.title);
        let created: IssueDto = self
            .send_json(Method::POST, Kind::Create, &what, "issues", &body)
            .await?;
        Ok(created.into())
    }

    async fn label_ids(&self, names: &[String]) -> Result<Vec<u64>> {
        let labels: Vec<LabelDto> = self.all("list labels", "labels").await?;
        Ok(names
            .iter()
            .filter_map(|name| labels.iter().find(|l| &l.name == name).map(|l| l.id))
            .collect())
    }
}

#[derive(Deserialize)]
struct RepositoryDto {
    #[serde(default)]
    permissions: Option<PermissionDto>,
}

#[derive(Deserialize)]
struct PermissionDto {
    #[serde(default)]
    push: bool,
}

#[derive(Deserialize)]
struct AttachmentSettingsDto {
    #[serde(default)]
    allowed_types: String,
    #[serde(default)]
    max_size: u64,
}

impl Forge for Gitea {
    fn describe(&self) -> String {
        self.client.forge().to_owned()
    }

    async fn resolve(&self, rev: &str) -> Result<Option<String>> {
        let path = format!(
            "commits?sha={}&limit=1&stat=false&files=false",
            segment(rev)
        );
        let commits: Option<Vec<CommitMeta>> = self.get("resolve a revision", &path).await?;
        Ok(commits.and_then(|c| c.into_iter().next()).map(|c| c.sha))
    }

    async fn tag(&self, name: &str) -> Result<Option<Tag>> {
        let tag: Option<TagDto> = self
            .get("read a tag", &format!("tags/{}", segment(name)))
            .await?;
        Ok(tag.map(|t| Tag {
            name: t.name,
            commit: t.commit.sha,
        }))
    }

    async fn create_tag(&self, tag: &NewTag) -> Result<Tag> {
        found_or_again(
            self.post_tag(tag).await,
            || self.tag(&tag.name),
            || self.post_tag(tag),
        )
        .await
    }

    async fn ahead_by(&self, base: &str, head: &str) -> Result<u64> {
        let path = format!("compare/{}...{}", segment(base), segment(head));
        let compare: Option<CompareDto> = self.get("compare commits", &path).await?;
        compare
            .map(|c| c.total_commits)
            .ok_or_else(|| Error::NotFound {
                forge: self.describe(),
                what: format!("the comparison {base}...{head}"),
            })
    }

    async fn release_by_tag(&self, tag: &str) -> Result<Option<Release>> {
        let path = format!("releases/tags/{}", segment(tag));
        let found: Option<ReleaseDto> = self.get("read a release", &path).await?;
        Ok(found.filter(|r| !r.draft).map(|r| self.release(r)))
    }

    async fn releases(&self) -> Result<Vec<Release>> {
        // No `draft` filter: Gitea's `draft=true` lists drafts alone, and without it a token that
        // may write the repository is shown drafts and published releases both.
        let all: Vec<ReleaseDto> = self.all("list releases", "releases").await?;
        Ok(all.into_iter().map(|r| self.release(r)).collect())
    }

    async fn create_release(&self, new: &NewRelease) -> Result<Release> {
        found_or_again(
            self.post_release(new).await,
            || self.find_draft(&new.tag),
            || self.post_release(new),
        )
        .await
    }

    async fn update_release(&self, release: &Release, patch: &ReleasePatch) -> Result<Release> {
        let what = format!("update the release {}", release.tag);
        let updated: ReleaseDto = self
            .send_json(
                Method::PATCH,
                Kind::Idempotent,
                &what,
                &format!("releases/{}", release.id),
                &json!(patch),
            )
            .await?;
        Ok(self.release(updated))
    }

    async fn upload_asset(&self, release: &Release, upload: &AssetUpload) -> Result<Asset> {
        let bytes = std::fs::read(&upload.path).map_err(Error::io(&upload.path))?;
        // Gitea keeps two attachments of one name: look before sending again.
        let find = || async {
            let current = self.releases().await?;
            Ok(current
                .into_iter()
                .filter(|r| r.id == release.id)
                .flat_map(|r| r.assets)
                .find(|a| a.name == upload.name && a.size == bytes.len() as u64))
        };
        found_or_again(self.post_asset(release, upload, &bytes).await, find, || {
            self.post_asset(release, upload, &bytes)
        })
        .await
    }

    async fn download_asset(&self, asset: &Asset) -> Result<Vec<u8>> {
        let what = format!("download {}", asset.name);
        let url = reqwest::Url::parse(&asset.url).map_err(|e| Error::Protocol {
            forge: self.describe(),
            what: what.clone(),
            message: format!("{:?} is not a URL: {e}", asset.url),
        })?;
        let response = self
            .client
            .send(Kind::Idempotent, &what, false, || {
                Ok(self.client.request(Method::GET, url.clone()))
            })
            .await?;
        let bytes = response.bytes().await.map_err(|e| Error::Unanswered {
            forge: self.describe(),
            what,
            message: e.to_string(),
        })?;
        Ok(bytes.to_vec())
    }

    async fn delete_asset(&self, asset: &Asset) -> Result<()> {
        let (release, id) = asset.id.split_once('/').ok_or_else(|| Error::NotFound {
            forge: self.describe(),
            what: format!("asset {}", asset.name),
        })?;
        let url = self
            .client
            .url(&format!("{}/releases/{release}/assets/{id}", self.repo))?;
        let what = format!("delete {}", asset.name);
        self.client
            .send(Kind::Idempotent, &what, true, || {
                Ok(self.client.request(Method::DELETE, url.clone()))
            })
            .await?;
        Ok(())
    }

    async fn ensure_labels(&self, labels: &[Label]) -> Result<()> {
        let names = async || {
            let labels: Vec<LabelDto> = self.all("list labels", "labels").await?;
            Ok(labels.into_iter().map(|l| l.name).collect())
        };
        let create = async |label: &Label| {
            let body = json!({
                "name": label.name,
                "color": format!("#{}", label.color.trim_start_matches('#')),
                "description": label.description,
            });
            let what = format!("create the label {}", label.name);
            self.send_json::<LabelDto>(Method::POST, Kind::Create, &what, "labels", &body)
                .await
                .map(drop)
        };
        ensure_labels(
            self.describe(),
            labels,
            |a, b| a == b,
            &[409, 422],
            names,
            create,
        )
        .await
    }

    async fn open_issues_with_label(&self, label: &str) -> Result<Vec<Issue>> {
        let path = format!("issues?state=open&type=issues&labels={}", segment(label));
        let issues: Vec<IssueDto> = self.all("list issues", &path).await?;
        Ok(issues
            .into_iter()
            .filter(|i| {
                i.pull_request
                    .as_ref()
                    .is_none_or(serde_json::Value::is_null)
            })
            .map(Issue::from)
            .filter(|i| i.labels.iter().any(|l| l == label))
            .collect())
    }

    async fn create_issue(&self, issue: &NewIssue) -> Result<Issue> {
        let labels = self.label_ids(&issue.labels).await?;
        let sent = self.post_issue(issue, &labels).await;
        crate::issue_found_or_again(self, issue, sent, || self.post_issue(issue, &labels)).await
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
                &json!({ "state": "closed" }),
            )
            .await?;
        Ok(())
    }

    async fn preflight(&self) -> Result<Preflight> {
        let repository: Option<RepositoryDto> = self.get("read the repository", "").await?;
        let repository = repository.ok_or_else(|| Error::NotFound {
            forge: self.describe(),
            what: format!("the repository {}", self.repo.trim_start_matches("repos/")),
        })?;
        let url = self.client.url("settings/attachment")?;
        let response = self
            .client
            .send(
                Kind::Idempotent,
                "read the attachment settings",
                true,
                || Ok(self.client.request(Method::GET, url.clone())),
            )
            .await?;
        let attachments = if response.status() == reqwest::StatusCode::NOT_FOUND {
            None
        } else {
            let settings: AttachmentSettingsDto = self
                .client
                .json("read the attachment settings", response)
                .await?;
            Some(AttachmentLimits {
                max_size: settings.max_size,
                allowed_types: settings
                    .allowed_types
                    .split(',')
                    .map(str::trim)
                    .filter(|t| !t.is_empty())
                    .map(str::to_owned)
                    .collect(),
            })
        };
        Ok(Preflight {
            can_write: repository.permissions.map(|p| p.push),
            can_write_workflows: None,
            attachments,
            // A release's note is a TEXT column: no limit a changelog reaches.
            max_notes: None,
        })
    }

    async fn checks(&self, commit: &str) -> Result<CommitChecks> {
        let path = format!("commits/{}/status", segment(commit));
        let combined: Option<CombinedStatusDto> = self.get("read commit statuses", &path).await?;
        let statuses = combined.and_then(|c| c.statuses).unwrap_or_default();
        Ok(CommitChecks {
            checks: statuses
                .into_iter()
                .map(|s| {
                    let state = match s.status.as_str() {
                        "success" => CheckState::Success,
                        "pending" => CheckState::Pending,
                        _ => CheckState::Failure,
                    };
                    (s.context, state)
                })
                .collect(),
        })
    }
}
