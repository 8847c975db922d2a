//! What the emulator keeps in memory: releases, assets, issues, comments, labels, statuses and
//! check runs. Git state (refs, commits, tags) lives in the repository on disk instead.
//!
//! Ids come from one counter per kind, starting high enough that an id is never mistaken for an
//! issue number or a page number in a test.

use serde_json::Value;
use sha2::{Digest, Sha256};

use super::wire::str_field;

/// A release, draft or published.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Release {
    pub id: u64,
    pub tag_name: String,
    pub target_commitish: String,
    pub name: Option<String>,
    pub body: Option<String>,
    pub draft: bool,
    pub prerelease: bool,
    /// GitHub's immutable releases: set when published with the emulator's immutable option.
    pub immutable: bool,
    pub created_at: String,
    pub published_at: Option<String>,
    pub updated_at: String,
    /// Asset ids in upload order.
    pub assets: Vec<u64>,
}

/// A release asset (a Gitea attachment), with its bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Asset {
    pub id: u64,
    pub release_id: u64,
    pub name: String,
    pub label: Option<String>,
    pub content_type: String,
    pub bytes: Vec<u8>,
    /// Gitea's attachment UUID (its download path).
    pub uuid: String,
    pub download_count: u64,
    pub created_at: String,
    pub updated_at: String,
}

impl Asset {
    /// `sha256:<hex>`, as GitHub's `digest` field.
    pub fn digest(&self) -> String {
        format!("sha256:{}", hex::encode(Sha256::digest(&self.bytes)))
    }
}

/// An issue, or a pull request as the issues endpoint lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Issue {
    pub id: u64,
    pub number: u64,
    pub title: String,
    pub body: Option<String>,
    /// `open` or `closed`.
    pub state: String,
    pub state_reason: Option<String>,
    /// Label names.
    pub labels: Vec<String>,
    pub assignees: Vec<String>,
    pub pull_request: bool,
    pub comments: u64,
    pub created_at: String,
    pub updated_at: String,
    pub closed_at: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Comment {
    pub id: u64,
    pub issue_number: u64,
    pub body: String,
    pub created_at: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Label {
    pub id: u64,
    pub name: String,
    /// Six hex digits, without `#`.
    pub color: String,
    pub description: Option<String>,
}

/// A commit status (`POST /statuses/{sha}` on the real forge; seeded here by the test).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Status {
    pub id: u64,
    pub sha: String,
    /// `pending`, `success`, `failure` or `error`.
    pub state: String,
    pub context: String,
    pub description: Option<String>,
    pub target_url: Option<String>,
    pub created_at: String,
}

/// A check run (GitHub only).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckRun {
    pub id: u64,
    pub head_sha: String,
    pub name: String,
    /// `queued`, `in_progress` or `completed`.
    pub status: String,
    /// `success`, `failure`, … once completed.
    pub conclusion: Option<String>,
    pub started_at: String,
    pub completed_at: Option<String>,
}

/// What an upload gives for a new asset.
pub(crate) struct NewAsset {
    pub release_id: u64,
    pub name: String,
    pub label: Option<String>,
    pub content_type: String,
    pub bytes: Vec<u8>,
}

/// What a request (or a test's seed) gives for a new issue.
#[derive(Default)]
pub(crate) struct NewIssue {
    pub title: String,
    pub body: Option<String>,
    pub labels: Vec<String>,
    pub assignees: Vec<String>,
    pub closed: bool,
    pub pull_request: bool,
}

#[derive(Debug, Default)]
pub(crate) struct State {
    pub releases: Vec<Release>,
    pub assets: Vec<Asset>,
    pub issues: Vec<Issue>,
    pub comments: Vec<Comment>,
    pub labels: Vec<Label>,
    pub statuses: Vec<Status>,
    pub check_runs: Vec<CheckRun>,
    next_id: u64,
    next_number: u64,
}

impl State {
    /// A fresh id, unique across every kind of object.
    pub fn id(&mut self) -> u64 {
        if self.next_id == 0 {
            self.next_id = 1_000_000;
        }
        self.next_id += 1;
        self.next_id
    }

    /// The next issue (or pull request) number.
    pub fn number(&mut self) -> u64 {
        self.next_number += 1;
        self.next_number
    }

    pub fn release(&self, id: u64) -> Option<&Release> {
        self.releases.iter().find(|r| r.id == id)
    }

    pub fn release_mut(&mut self, id: u64) -> Option<&mut Release> {
        self.releases.iter_mut().find(|r| r.id == id)
    }

    pub fn asset(&self, id: u64) -> Option<&Asset> {
        self.assets.iter().find(|a| a.id == id)
    }

    pub fn release_assets(&self, release_id: u64) -> Vec<&Asset> {
        self.release(release_id)
            .map(|r| r.assets.iter().filter_map(|id| self.asset(*id)).collect())
            .unwrap_or_default()
    }

    pub fn issue_mut(&mut self, number: u64) -> Option<&mut Issue> {
        self.issues.iter_mut().find(|i| i.number == number)
    }

    pub fn label_named(&self, name: &str) -> Option<&Label> {
        self.labels
            .iter()
            .find(|l| l.name.eq_ignore_ascii_case(name))
    }

    /// The label `name`, created with GitHub's default colour when missing.
    pub fn ensure_label(&mut self, name: &str) -> String {
        match self.label_named(name) {
            Some(label) => label.name.clone(),
            None => self.add_label(name, "ededed", None).name,
        }
    }

    pub fn label_by_id(&self, id: u64) -> Option<&Label> {
        self.labels.iter().find(|l| l.id == id)
    }

    /// A new label; `color` may start with `#`.
    pub fn add_label(&mut self, name: &str, color: &str, description: Option<String>) -> Label {
        let label = Label {
            id: self.id(),
            name: name.to_owned(),
            color: color.trim_start_matches('#').to_owned(),
            description,
        };
        self.labels.push(label.clone());
        label
    }

    /// The newest published release that is not a pre-release: both forges' "latest".
    pub fn latest_published(&self) -> Option<&Release> {
        self.releases_newest_first()
            .into_iter()
            .find(|r| !r.draft && !r.prerelease)
    }

    /// A new release of `tag` at `target`, published now unless a draft; `name`, `body` and
    /// `prerelease` come from the create request's `json`, which both forges read alike.
    pub fn add_release(
        &mut self,
        json: &Value,
        tag: String,
        target: String,
        draft: bool,
        immutable: bool,
    ) -> Release {
        let now = super::wire::now();
        let release = Release {
            id: self.id(),
            tag_name: tag,
            target_commitish: target,
            name: str_field(json, "name"),
            body: str_field(json, "body"),
            draft,
            prerelease: json
                .get("prerelease")
                .and_then(Value::as_bool)
                .unwrap_or(false),
            immutable,
            created_at: now.clone(),
            published_at: (!draft).then(|| now.clone()),
            updated_at: now,
            assets: Vec::new(),
        };
        self.releases.push(release.clone());
        release
    }

    /// Stores `release` in place of the one with its id.
    pub fn put_release(&mut self, release: Release) {
        if let Some(slot) = self.release_mut(release.id) {
            *slot = release;
        }
    }

    /// Removes a release and its assets.
    pub fn remove_release(&mut self, id: u64) {
        self.releases.retain(|r| r.id != id);
        self.assets.retain(|a| a.release_id != id);
    }

    /// A new asset, last on its release; `uuid` names it from its id and bytes.
    pub fn add_asset(&mut self, new: NewAsset, uuid: fn(u64, &[u8]) -> String) -> Asset {
        let now = super::wire::now();
        let id = self.id();
        let asset = Asset {
            id,
            release_id: new.release_id,
            name: new.name,
            label: new.label,
            content_type: new.content_type,
            uuid: uuid(id, &new.bytes),
            bytes: new.bytes,
            download_count: 0,
            created_at: now.clone(),
            updated_at: now,
        };
        if let Some(release) = self.release_mut(new.release_id) {
            release.assets.push(id);
        }
        self.assets.push(asset.clone());
        asset
    }

    /// Stores `asset` in place of the one with its id.
    pub fn put_asset(&mut self, asset: Asset) {
        if let Some(slot) = self.assets.iter_mut().find(|a| a.id == asset.id) {
            *slot = asset;
        }
    }

    /// Removes an asset from its release and from the store.
    pub fn remove_asset(&mut self, id: u64) {
        self.assets.retain(|a| a.id != id);
        for release in &mut self.releases {
            release.assets.retain(|a| *a != id);
        }
    }

    pub fn issue(&self, number: u64) -> Option<&Issue> {
        self.issues.iter().find(|i| i.number == number)
    }

    /// A new issue (or pull request) with the next number, opened now.
    pub fn add_issue(&mut self, new: NewIssue) -> Issue {
        let (id, number, now) = (self.id(), self.number(), super::wire::now());
        let issue = Issue {
            id,
            number,
            title: new.title,
            body: new.body,
            state: if new.closed { "closed" } else { "open" }.to_owned(),
            state_reason: None,
            labels: new.labels,
            assignees: new.assignees,
            pull_request: new.pull_request,
            comments: 0,
            created_at: now.clone(),
            closed_at: new.closed.then(|| now.clone()),
            updated_at: now,
        };
        self.issues.push(issue.clone());
        issue
    }

    /// Stores `issue` in place of the one with its number.
    pub fn put_issue(&mut self, issue: Issue) {
        if let Some(slot) = self.issue_mut(issue.number) {
            *slot = issue;
        }
    }

    /// Issues in `state` (`open`, `closed` or `all`), newest first.
    pub fn issues_newest_first(&self, state: &str) -> Vec<&Issue> {
        let mut issues: Vec<&Issue> = self
            .issues
            .iter()
            .filter(|i| state == "all" || i.state == state)
            .collect();
        issues.sort_by_key(|i| std::cmp::Reverse(i.number));
        issues
    }

    /// The comments on issue `number`, oldest first.
    pub fn comments_on(&self, number: u64) -> impl Iterator<Item = &Comment> {
        self.comments
            .iter()
            .filter(move |c| c.issue_number == number)
    }

    /// A new comment on issue `number`, which counts it.
    pub fn add_comment(&mut self, number: u64, body: String) -> Comment {
        let (id, now) = (self.id(), super::wire::now());
        let comment = Comment {
            id,
            issue_number: number,
            body,
            created_at: now.clone(),
        };
        self.comments.push(comment.clone());
        if let Some(issue) = self.issue_mut(number) {
            issue.comments += 1;
            issue.updated_at = now;
        }
        comment
    }

    /// Releases newest first, as both forges list them.
    pub fn releases_newest_first(&self) -> Vec<&Release> {
        let mut releases: Vec<&Release> = self.releases.iter().collect();
        releases.sort_by_key(|r| std::cmp::Reverse(r.id));
        releases
    }
}
