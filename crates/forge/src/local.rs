//! The local forge: tags are real tags of the repository; releases, assets and issues are files
//! under a directory that people can read.
//!
//! ```text
//! .relkit/forge/
//!   .gitignore                      "*": the repository does not track the forge's files
//!   releases/v1.2.0/release.json    tag, target, name, flags, assets with sizes and SHA-256
//!   releases/v1.2.0/notes.md        the release notes
//!   releases/v1.2.0/assets/app.tgz  the assets
//!   releases/edge%2Fv1.0.0/         a tag's `/` is written `%2F`
//!   issues/1.md, issues/1.json      an issue for people, and its record
//!   labels.json
//! ```
//!
//! Each file is written to a temporary name and renamed into place, so an interrupted run
//! leaves the previous version or the new one, never half a file.

use std::path::{Path, PathBuf};

use relkit_git::Repository;
use serde::{Deserialize, Serialize};

use crate::{
    Asset, AssetUpload, CommitChecks, Error, Forge, Issue, Label, MakeLatest, NewIssue, NewRelease,
    NewTag, Release, ReleasePatch, Result, Sha256, Tag,
};

/// The local forge of one repository.
#[derive(Debug, Clone)]
pub struct Local {
    repo: Repository,
    dir: PathBuf,
}

#[derive(Debug, Serialize, Deserialize)]
struct ReleaseRecord {
    tag: String,
    target: String,
    name: String,
    draft: bool,
    prerelease: bool,
    make_latest: MakeLatest,
    /// Creation order, for listing newest first.
    serial: u64,
    assets: Vec<AssetRecord>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct AssetRecord {
    name: String,
    size: u64,
    sha256: Sha256,
}

#[derive(Debug, Serialize, Deserialize)]
struct IssueRecord {
    number: u64,
    title: String,
    body: String,
    labels: Vec<String>,
    assignees: Vec<String>,
    open: bool,
    comments: Vec<String>,
}

#[derive(Debug, Serialize, Deserialize)]
struct LabelRecord {
    name: String,
    color: String,
    description: String,
}

const RELEASE_FILE: &str = "release.json";
const NOTES_FILE: &str = "notes.md";
const ASSETS_DIR: &str = "assets";

impl Local {
    /// The local forge of `repo`, with its files in `dir`.
    pub fn new(repo: Repository, dir: PathBuf) -> Self {
        Self { repo, dir }
    }

    /// The local forge of `repo` in its default place, `.relkit/forge/` at the top of the work
    /// tree.
    pub fn in_repository(repo: Repository) -> Self {
        let dir = repo.root().join(".relkit").join("forge");
        Self::new(repo, dir)
    }

    /// Where the files are.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn releases_dir(&self) -> PathBuf {
        self.dir.join("releases")
    }

    fn release_dir(&self, tag: &str) -> PathBuf {
        self.releases_dir()
            .join(tag.replace('%', "%25").replace('/', "%2F"))
    }

    fn read_record(&self, tag: &str) -> Result<Option<ReleaseRecord>> {
        let path = self.release_dir(tag).join(RELEASE_FILE);
        read_json(&path)
    }

    /// The record of the release for `tag`, which must exist.
    fn record_of(&self, tag: &str) -> Result<ReleaseRecord> {
        self.read_record(tag)?.ok_or_else(|| Error::NotFound {
            forge: self.describe(),
            what: format!("the release for tag {tag}"),
        })
    }

    fn release(&self, record: ReleaseRecord) -> Result<Release> {
        let dir = self.release_dir(&record.tag);
        let notes = dir.join(NOTES_FILE);
        let body = match std::fs::read_to_string(&notes) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
            Err(e) => return Err(Error::io(&notes)(e)),
        };
        let assets = record
            .assets
            .iter()
            .map(|a| self.asset(&record.tag, a))
            .collect();
        Ok(Release {
            id: record.tag.clone(),
            tag: record.tag,
            target: record.target,
            name: record.name,
            body,
            draft: record.draft,
            prerelease: record.prerelease,
            immutable: false,
            url: dir.display().to_string(),
            assets,
        })
    }

    fn asset(&self, tag: &str, record: &AssetRecord) -> Asset {
        let path = self.release_dir(tag).join(ASSETS_DIR).join(&record.name);
        Asset {
            id: format!("{tag}\n{}", record.name),
            name: record.name.clone(),
            size: record.size,
            digest: Some(record.sha256),
            url: path.display().to_string(),
        }
    }

    fn records(&self) -> Result<Vec<ReleaseRecord>> {
        let mut records = Vec::new();
        for dir in entries(&self.releases_dir())? {
            if let Some(record) = read_json(&dir.join(RELEASE_FILE))? {
                records.push(record);
            }
        }
        Ok(records)
    }

    fn write_record(&self, record: &ReleaseRecord) -> Result<()> {
        self.prepare()?;
        let path = self.release_dir(&record.tag).join(RELEASE_FILE);
        write_json(&path, record)
    }

    /// Creates the directory with a `.gitignore` that keeps the forge out of the repository.
    fn prepare(&self) -> Result<()> {
        let ignore = self.dir.join(".gitignore");
        if !ignore.exists() {
            write_atomic(
                &ignore,
                b"# relkit's local forge: not part of the repository\n*\n",
            )?;
        }
        Ok(())
    }

    /// Publishing a release creates its tag at the target when the tag does not exist yet.
    fn tag_on_publish(&self, tag: &str, target: &str) -> Result<()> {
        if self.repo.tag_commit(tag)?.is_some() {
            return Ok(());
        }
        let commit = self.repo.resolve(target)?.ok_or_else(|| Error::NotFound {
            forge: self.describe(),
            what: format!("target {target:?} of release {tag}"),
        })?;
        self.repo.create_tag(tag, &commit, None)?;
        Ok(())
    }

    fn issues_dir(&self) -> PathBuf {
        self.dir.join("issues")
    }

    fn issue_records(&self) -> Result<Vec<IssueRecord>> {
        let mut records = Vec::new();
        for path in entries(&self.issues_dir())? {
            if path.extension().is_some_and(|e| e == "json")
                && let Some(record) = read_json::<IssueRecord>(&path)?
            {
                records.push(record);
            }
        }
        records.sort_by_key(|r| r.number);
        Ok(records)
    }

    fn write_issue(&self, record: &IssueRecord) -> Result<Issue> {
        self.prepare()?;
        let base = self.issues_dir().join(record.number.to_string());
        write_json(&base.with_extension("json"), record)?;
        let mut text = format!("# {}\n\n", record.title);
        text.push_str(&format!(
            "State: {} · Labels: {} · Assignees: {}\n\n{}\n",
            if record.open { "open" } else { "closed" },
            list_or_none(&record.labels),
            list_or_none(&record.assignees),
            record.body.trim_end(),
        ));
        for (n, comment) in record.comments.iter().enumerate() {
            text.push_str(&format!(
                "\n## Comment {}\n\n{}\n",
                n + 1,
                comment.trim_end()
            ));
        }
        let page = base.with_extension("md");
        write_atomic(&page, text.as_bytes())?;
        Ok(Issue {
            number: record.number,
            title: record.title.clone(),
            body: record.body.clone(),
            labels: record.labels.clone(),
            url: page.display().to_string(),
        })
    }

    fn labels_file(&self) -> PathBuf {
        self.dir.join("labels.json")
    }
}

impl Forge for Local {
    fn describe(&self) -> String {
        format!("the local forge in {}", self.dir.display())
    }

    async fn resolve(&self, rev: &str) -> Result<Option<String>> {
        Ok(self.repo.resolve(rev)?)
    }

    async fn tag(&self, name: &str) -> Result<Option<Tag>> {
        Ok(self.repo.tag_commit(name)?.map(|commit| Tag {
            name: name.to_owned(),
            commit,
        }))
    }

    async fn create_tag(&self, tag: &NewTag) -> Result<Tag> {
        if self.repo.tag_commit(&tag.name)?.is_some() {
            return Err(Error::AlreadyExists {
                forge: self.describe(),
                what: format!("tag {}", tag.name),
            });
        }
        self.repo
            .create_tag(&tag.name, &tag.commit, tag.message.as_deref())?;
        Ok(Tag {
            name: tag.name.clone(),
            commit: tag.commit.clone(),
        })
    }

    async fn ahead_by(&self, base: &str, head: &str) -> Result<u64> {
        Ok(self.repo.count(&format!("{base}..{head}"))?)
    }

    async fn release_by_tag(&self, tag: &str) -> Result<Option<Release>> {
        match self.read_record(tag)? {
            Some(record) if !record.draft => self.release(record).map(Some),
            _ => Ok(None),
        }
    }

    async fn releases(&self) -> Result<Vec<Release>> {
        let mut records = self.records()?;
        records.sort_by_key(|r| std::cmp::Reverse(r.serial));
        records.into_iter().map(|r| self.release(r)).collect()
    }

    async fn create_release(&self, new: &NewRelease) -> Result<Release> {
        if self.read_record(&new.tag)?.is_some() {
            return Err(Error::AlreadyExists {
                forge: self.describe(),
                what: format!("a release for tag {}", new.tag),
            });
        }
        if !new.draft {
            self.tag_on_publish(&new.tag, &new.target)?;
        }
        let serial = self.records()?.iter().map(|r| r.serial).max().unwrap_or(0) + 1;
        let record = ReleaseRecord {
            tag: new.tag.clone(),
            target: new.target.clone(),
            name: new.name.clone(),
            draft: new.draft,
            prerelease: new.prerelease,
            make_latest: new.make_latest,
            serial,
            assets: Vec::new(),
        };
        self.prepare()?;
        write_atomic(
            &self.release_dir(&new.tag).join(NOTES_FILE),
            new.body.as_bytes(),
        )?;
        self.write_record(&record)?;
        self.release(record)
    }

    async fn update_release(&self, release: &Release, patch: &ReleasePatch) -> Result<Release> {
        let mut record = self.record_of(&release.tag)?;
        if patch.draft == Some(false) && record.draft {
            self.tag_on_publish(&record.tag, &record.target)?;
        }
        if let Some(name) = &patch.name {
            record.name.clone_from(name);
        }
        if let Some(draft) = patch.draft {
            record.draft = draft;
        }
        if let Some(prerelease) = patch.prerelease {
            record.prerelease = prerelease;
        }
        if let Some(make_latest) = patch.make_latest {
            record.make_latest = make_latest;
        }
        if let Some(body) = &patch.body {
            write_atomic(
                &self.release_dir(&record.tag).join(NOTES_FILE),
                body.as_bytes(),
            )?;
        }
        self.write_record(&record)?;
        self.release(record)
    }

    async fn upload_asset(&self, release: &Release, upload: &AssetUpload) -> Result<Asset> {
        check_file_name(&upload.name)?;
        let mut record = self.record_of(&release.tag)?;
        if record.assets.iter().any(|a| a.name == upload.name) {
            return Err(Error::AlreadyExists {
                forge: self.describe(),
                what: format!("asset {} of release {}", upload.name, release.tag),
            });
        }
        let target = self
            .release_dir(&release.tag)
            .join(ASSETS_DIR)
            .join(&upload.name);
        // Hash the copy, not the source: the record describes the bytes the forge holds.
        let temp = temp_path(&target);
        let parent = temp.parent().unwrap_or(Path::new("."));
        std::fs::create_dir_all(parent).map_err(Error::io(parent))?;
        std::fs::copy(&upload.path, &temp).map_err(Error::io(&upload.path))?;
        let (sha256, size) = Sha256::of_file(&temp).map_err(Error::io(&temp))?;
        std::fs::rename(&temp, &target).map_err(Error::io(&target))?;
        let asset = AssetRecord {
            name: upload.name.clone(),
            size,
            sha256,
        };
        record.assets.push(asset.clone());
        self.write_record(&record)?;
        Ok(self.asset(&release.tag, &asset))
    }

    async fn download_asset(&self, asset: &Asset) -> Result<Vec<u8>> {
        std::fs::read(&asset.url).map_err(Error::io(&asset.url))
    }

    async fn delete_asset(&self, asset: &Asset) -> Result<()> {
        let (tag, name) = asset.id.split_once('\n').ok_or_else(|| Error::NotFound {
            forge: self.describe(),
            what: format!("asset {}", asset.name),
        })?;
        let mut record = self.record_of(tag)?;
        record.assets.retain(|a| a.name != name);
        self.write_record(&record)?;
        let path = self.release_dir(tag).join(ASSETS_DIR).join(name);
        match std::fs::remove_file(&path) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(Error::io(&path)(e)),
            _ => Ok(()),
        }
    }

    async fn ensure_labels(&self, labels: &[Label]) -> Result<()> {
        let path = self.labels_file();
        let mut known: Vec<LabelRecord> = read_json(&path)?.unwrap_or_default();
        let before = known.len();
        for label in labels {
            if !known.iter().any(|k| k.name == label.name) {
                known.push(LabelRecord {
                    name: label.name.clone(),
                    color: label.color.clone(),
                    description: label.description.clone(),
                });
            }
        }
        if known.len() != before {
            self.prepare()?;
            write_json(&path, &known)?;
        }
        Ok(())
    }

    async fn open_issues_with_label(&self, label: &str) -> Result<Vec<Issue>> {
        self.issue_records()?
            .into_iter()
            .filter(|r| r.open && r.labels.iter().any(|l| l == label))
            .map(|r| {
                Ok(Issue {
                    number: r.number,
                    url: self
                        .issues_dir()
                        .join(format!("{}.md", r.number))
                        .display()
                        .to_string(),
                    title: r.title,
                    body: r.body,
                    labels: r.labels,
                })
            })
            .collect()
    }

    async fn create_issue(&self, issue: &NewIssue) -> Result<Issue> {
        let number = self
            .issue_records()?
            .last()
            .map_or(1, |last| last.number + 1);
        self.write_issue(&IssueRecord {
            number,
            title: issue.title.clone(),
            body: issue.body.clone(),
            labels: issue.labels.clone(),
            assignees: issue.assignees.clone(),
            open: true,
            comments: Vec::new(),
        })
    }

    async fn comment(&self, issue: &Issue, body: &str) -> Result<()> {
        let path = self
            .issues_dir()
            .join(issue.number.to_string())
            .with_extension("json");
        let mut record: IssueRecord = read_json(&path)?.ok_or_else(|| Error::NotFound {
            forge: self.describe(),
            what: format!("issue #{}", issue.number),
        })?;
        record.comments.push(body.to_owned());
        self.write_issue(&record).map(drop)
    }

    async fn close_issue(&self, issue: &Issue) -> Result<()> {
        let path = self
            .issues_dir()
            .join(issue.number.to_string())
            .with_extension("json");
        let mut record: IssueRecord = read_json(&path)?.ok_or_else(|| Error::NotFound {
            forge: self.describe(),
            what: format!("issue #{}", issue.number),
        })?;
        if !record.open {
            return Ok(());
        }
        record.open = false;
        self.write_issue(&record).map(drop)
    }

    /// The local forge runs no CI: a commit has no checks.
    async fn checks(&self, _commit: &str) -> Result<CommitChecks> {
        Ok(CommitChecks::default())
    }

    fn reports_checks(&self) -> bool {
        false
    }
}

/// An asset name is one plain file name: it can never reach outside the release's directory.
fn check_file_name(name: &str) -> Result<()> {
    let plain =
        !name.is_empty() && name != "." && name != ".." && !name.contains(['/', '\\', '\0']);
    if plain {
        Ok(())
    } else {
        Err(Error::InvalidName {
            name: name.to_owned(),
            rule: "an asset name is a plain file name (no `/`, `\\`, `.` or `..`)",
        })
    }
}

fn list_or_none(items: &[String]) -> String {
    if items.is_empty() {
        "none".to_owned()
    } else {
        items.join(", ")
    }
}

/// The entries of `dir`; none when it does not exist yet.
fn entries(dir: &Path) -> Result<Vec<PathBuf>> {
    let listing = match std::fs::read_dir(dir) {
        Ok(listing) => listing,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(Error::io(dir)(e)),
    };
    listing
        .map(|entry| entry.map(|e| e.path()).map_err(Error::io(dir)))
        .collect()
}

fn read_json<T: for<'de> Deserialize<'de>>(path: &Path) -> Result<Option<T>> {
    let bytes = match std::fs::read(path) {
        Ok(bytes) => bytes,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(Error::io(path)(e)),
    };
    serde_json::from_slice(&bytes)
        .map(Some)
        .map_err(|e| Error::Corrupt {
            path: path.to_path_buf(),
            message: e.to_string(),
        })
}

fn write_json<T: Serialize>(path: &Path, value: &T) -> Result<()> {
    let mut bytes = serde_json::to_vec_pretty(value).map_err(|e| Error::Corrupt {
        path: path.to_path_buf(),
        message: e.to_string(),
    })?;
    bytes.push(b'\n');
    write_atomic(path, &bytes)
}

/// Writes `bytes` to a temporary file next to `path` and renames it into place.
fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let temp = temp_path(path);
    let parent = temp.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(parent).map_err(Error::io(parent))?;
    std::fs::write(&temp, bytes).map_err(Error::io(&temp))?;
    std::fs::rename(&temp, path).map_err(Error::io(path))
}

/// A hidden name next to `path` for writing before the rename.
fn temp_path(path: &Path) -> PathBuf {
    let name = path
        .file_name()
        .map_or_else(|| "file".into(), |n| n.to_string_lossy().into_owned());
    path.with_file_name(format!(".{name}.relkit-tmp"))
}
