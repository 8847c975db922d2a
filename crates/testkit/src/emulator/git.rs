//! The emulated repository's git side, read and written with the git CLI on a real repository,
//! so what a forge backend sees through the API is exactly what `git` sees locally.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Stdio;

use crate::git_command;

/// A ref as `git for-each-ref` reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GitRef {
    /// Full name, `refs/tags/v1.0.0`.
    pub name: String,
    /// What the ref points at: a commit, or a tag object for an annotated tag.
    pub sha: String,
    /// `commit` or `tag`.
    pub kind: String,
    /// The commit an annotated tag points at (the commit itself for other refs).
    pub commit: String,
}

/// One commit, as `git show` reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Commit {
    pub sha: String,
    pub tree: String,
    pub parents: Vec<String>,
    pub author_name: String,
    pub author_email: String,
    pub author_date: String,
    pub committer_name: String,
    pub committer_email: String,
    pub committer_date: String,
    pub message: String,
}

/// An annotated tag object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TagObject {
    pub sha: String,
    pub tag: String,
    pub object: String,
    pub object_type: String,
    pub tagger_name: String,
    pub tagger_email: String,
    pub tagger_date: String,
    pub message: String,
}

/// Git failed in a way the caller reports as a server error.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GitError(pub String);

#[derive(Debug, Clone)]
pub(crate) struct Git {
    dir: PathBuf,
}

impl Git {
    pub fn new(dir: &Path) -> Self {
        Self {
            dir: dir.to_path_buf(),
        }
    }

    fn run(&self, args: &[&str]) -> Result<String, GitError> {
        let out = git_command(&self.dir)
            .args(args)
            .output()
            .map_err(|e| GitError(format!("cannot run git: {e}")))?;
        if out.status.success() {
            Ok(String::from_utf8_lossy(&out.stdout).into_owned())
        } else {
            Err(GitError(format!(
                "git {} failed: {}",
                args.first().copied().unwrap_or_default(),
                String::from_utf8_lossy(&out.stderr).trim()
            )))
        }
    }

    /// Whether `name` is a valid ref name (`git check-ref-format`).
    pub fn valid_ref(&self, full: &str) -> bool {
        self.run(&["check-ref-format", full]).is_ok()
    }

    /// Every tag and branch.
    pub fn refs(&self) -> Result<Vec<GitRef>, GitError> {
        let out = self.run(&[
            "for-each-ref",
            "--format=%(refname)%00%(objectname)%00%(objecttype)%00%(*objectname)",
            "refs/tags/",
            "refs/heads/",
        ])?;
        Ok(out
            .lines()
            .filter_map(|line| {
                let mut f = line.split('\0');
                let name = f.next()?.to_owned();
                let sha = f.next()?.to_owned();
                let kind = f.next()?.to_owned();
                let peeled = f.next().unwrap_or_default();
                let commit = if peeled.is_empty() {
                    sha.clone()
                } else {
                    peeled.to_owned()
                };
                Some(GitRef {
                    name,
                    sha,
                    kind,
                    commit,
                })
            })
            .collect())
    }

    /// The ref with this full name.
    pub fn find_ref(&self, full: &str) -> Result<Option<GitRef>, GitError> {
        Ok(self.refs()?.into_iter().find(|r| r.name == full))
    }

    /// The commit a sha, branch or tag names, as the forges resolve it: a full or abbreviated sha,
    /// then a branch, then a tag.
    pub fn resolve(&self, rev: &str) -> Option<String> {
        if rev.is_empty() || rev.starts_with('-') || rev.contains("..") {
            return None;
        }
        let candidates = [
            format!("refs/heads/{rev}^{{commit}}"),
            format!("refs/tags/{rev}^{{commit}}"),
            format!("{rev}^{{commit}}"),
        ];
        candidates.iter().find_map(|c| {
            self.run(&["rev-parse", "--verify", "--quiet", "--end-of-options", c])
                .ok()
                .map(|s| s.trim().to_owned())
                .filter(|s| !s.is_empty())
        })
    }

    /// The type of an object (`commit`, `tag`, …), if it exists.
    pub fn object_type(&self, sha: &str) -> Option<String> {
        if !is_hex(sha) {
            return None;
        }
        self.run(&["cat-file", "-t", sha])
            .ok()
            .map(|s| s.trim().to_owned())
    }

    pub fn commit(&self, sha: &str) -> Result<Commit, GitError> {
        let out = self.run(&[
            "show",
            "-s",
            "--format=%H%x00%T%x00%P%x00%an%x00%ae%x00%aI%x00%cn%x00%ce%x00%cI%x00%B",
            "--end-of-options",
            sha,
        ])?;
        let mut f = out.splitn(10, '\0');
        let mut next = || f.next().unwrap_or_default().to_owned();
        Ok(Commit {
            sha: next(),
            tree: next(),
            parents: next().split_whitespace().map(str::to_owned).collect(),
            author_name: next(),
            author_email: next(),
            author_date: next(),
            committer_name: next(),
            committer_email: next(),
            committer_date: next(),
            message: next().trim_end_matches('\n').to_owned(),
        })
    }

    /// The tag object `sha`, when it is one.
    pub fn tag_object(&self, sha: &str) -> Option<TagObject> {
        if self.object_type(sha).as_deref() != Some("tag") {
            return None;
        }
        let raw = self.run(&["cat-file", "tag", sha]).ok()?;
        let (head, message) = raw.split_once("\n\n").unwrap_or((&raw, ""));
        let mut tag = TagObject {
            sha: sha.to_owned(),
            tag: String::new(),
            object: String::new(),
            object_type: String::new(),
            tagger_name: String::new(),
            tagger_email: String::new(),
            tagger_date: String::new(),
            message: message.to_owned(),
        };
        for line in head.lines() {
            let (key, value) = line.split_once(' ').unwrap_or((line, ""));
            match key {
                "object" => value.clone_into(&mut tag.object),
                "type" => value.clone_into(&mut tag.object_type),
                "tag" => value.clone_into(&mut tag.tag),
                "tagger" => {
                    // `Name <email> 1704067200 +0000`
                    let (name, rest) = value.split_once(" <").unwrap_or((value, ""));
                    let (email, when) = rest.split_once("> ").unwrap_or((rest, ""));
                    tag.tagger_name = name.to_owned();
                    tag.tagger_email = email.to_owned();
                    let secs = when
                        .split_whitespace()
                        .next()
                        .and_then(|s| s.parse::<i64>().ok())
                        .unwrap_or(0);
                    tag.tagger_date = super::wire::iso8601(secs);
                }
                _ => {}
            }
        }
        Some(tag)
    }

    /// Writes an annotated tag object (no ref), as GitHub's `POST /git/tags` does.
    pub fn make_tag_object(
        &self,
        tag: &str,
        object: &str,
        object_type: &str,
        message: &str,
        tagger: (&str, &str, i64),
    ) -> Result<String, GitError> {
        let (name, email, when) = tagger;
        let mut message = message.to_owned();
        if !message.ends_with('\n') {
            message.push('\n');
        }
        let content = format!(
            "object {object}\ntype {object_type}\ntag {tag}\ntagger {name} <{email}> {when} +0000\n\n{message}"
        );
        let mut child = git_command(&self.dir)
            .args(["mktag"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| GitError(format!("cannot run git: {e}")))?;
        if let Some(mut stdin) = child.stdin.take() {
            stdin
                .write_all(content.as_bytes())
                .map_err(|e| GitError(format!("cannot write to git mktag: {e}")))?;
        }
        let out = child
            .wait_with_output()
            .map_err(|e| GitError(format!("git mktag: {e}")))?;
        if !out.status.success() {
            return Err(GitError(format!(
                "git mktag failed: {}",
                String::from_utf8_lossy(&out.stderr).trim()
            )));
        }
        Ok(String::from_utf8_lossy(&out.stdout).trim().to_owned())
    }

    /// Points `full` at `sha`; with `must_not_exist`, fails when it exists.
    pub fn update_ref(&self, full: &str, sha: &str, must_not_exist: bool) -> Result<(), GitError> {
        if must_not_exist {
            self.run(&["update-ref", "--no-deref", full, sha, ""])?;
        } else {
            self.run(&["update-ref", "--no-deref", full, sha])?;
        }
        Ok(())
    }

    pub fn delete_ref(&self, full: &str) -> Result<(), GitError> {
        self.run(&["update-ref", "-d", full]).map(|_| ())
    }

    /// Creates the tag `name` at `commit`: annotated when `message` is not empty.
    pub fn create_tag(&self, name: &str, commit: &str, message: &str) -> Result<(), GitError> {
        if message.is_empty() {
            self.run(&["tag", "--end-of-options", name, commit])?;
        } else {
            self.run(&[
                "tag",
                "--annotate",
                "-m",
                message,
                "--end-of-options",
                name,
                commit,
            ])?;
        }
        Ok(())
    }

    /// Commits reachable from `head` and not from `base`, oldest first.
    pub fn range(&self, base: &str, head: &str) -> Result<Vec<String>, GitError> {
        let out = self.run(&["rev-list", "--reverse", &format!("{base}..{head}")])?;
        Ok(out.lines().map(str::to_owned).collect())
    }

    pub fn merge_base(&self, a: &str, b: &str) -> Option<String> {
        self.run(&["merge-base", a, b])
            .ok()
            .map(|s| s.trim().to_owned())
    }

    /// Commits reachable from `head`, newest first, at most `limit` after skipping `skip`.
    pub fn log(&self, head: &str, skip: usize, limit: usize) -> Result<Vec<String>, GitError> {
        let out = self.run(&[
            "rev-list",
            &format!("--skip={skip}"),
            &format!("--max-count={limit}"),
            head,
        ])?;
        Ok(out.lines().map(str::to_owned).collect())
    }

    pub fn count(&self, head: &str) -> Result<usize, GitError> {
        let out = self.run(&["rev-list", "--count", head])?;
        Ok(out.trim().parse().unwrap_or(0))
    }

    /// The workflow files (`.github/workflows/…`) commit `sha` changes against its first parent
    /// (all of them for a root commit).
    pub fn workflow_changes(&self, sha: &str) -> Result<Vec<String>, GitError> {
        let commit = self.commit(sha)?;
        let files = match commit.parents.first() {
            Some(parent) => self.run(&["diff", "--name-only", parent, sha])?,
            None => self.run(&["ls-tree", "-r", "--name-only", sha])?,
        };
        Ok(files
            .lines()
            .filter(|f| f.starts_with(".github/workflows/"))
            .map(str::to_owned)
            .collect())
    }
}

pub(crate) fn is_hex(s: &str) -> bool {
    (4..=64).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_hexdigit())
}
