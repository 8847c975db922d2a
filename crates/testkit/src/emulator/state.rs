//! What the emulator keeps in memory: releases, assets, issues, comments, labels, statuses and
//! check runs. Git state (refs, commits, tags) lives in the repository on disk instead.
//!
//! Ids come from one counter per kind, starting high enough that an id is never mistaken for an
//! issue number or a page number in a test.

use sha2::{Digest, Sha256};

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
        if let Some(label) = self.label_named(name) {
            return label.name.clone();
        }
        let id = self.id();
        self.labels.push(Label {
            id,
            name: name.to_owned(),
            color: "ededed".to_owned(),
            description: None,
        });
        name.to_owned()
    }

    /// Releases newest first, as both forges list them.
    pub fn releases_newest_first(&self) -> Vec<&Release> {
        let mut releases: Vec<&Release> = self.releases.iter().collect();
        releases.sort_by_key(|r| std::cmp::Reverse(r.id));
        releases
    }
}
