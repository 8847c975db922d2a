//! A repository through the `git` CLI: one walk of the history, one listing of the tags, and the
//! few writes relkit makes (tags).
//!
//! The `git` CLI (not libgit2) is used on purpose: `git log` streams 50,000 commits in a fraction
//! of a second and it is what every runner already has. Failures are classified by asking git
//! precise questions (`rev-parse --verify`, `--is-shallow-repository`) and reading exit codes,
//! never by matching the text of its error messages.
//!
//! Where git and libgit2 (which the git-cliff CLI reads with) walk a history differently, the
//! walk is put in libgit2's order here: see [`libgit2_time_order`].

use std::collections::HashMap;
use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

mod revwalk;

pub use revwalk::{UnknownCommit, WalkCommit, libgit2_time_order};

/// Why git could not answer. Questions git answers with "no" (no such commit) are `Option`s,
/// not errors.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{} is not inside a git repository", path.display())]
    NotARepository { path: PathBuf },
    #[error("{command} failed (exit status {}): {stderr}", status.map_or_else(|| "none".to_owned(), |s| s.to_string()))]
    Failed {
        command: String,
        status: Option<i32>,
        stderr: String,
    },
    #[error("{command} printed output relkit could not read")]
    Unreadable { command: String },
    #[error("the history walk reached commit {id}, which git did not list")]
    Unlisted { id: String },
    #[error("could not run git: is it installed and on PATH?")]
    Missing {
        #[source]
        source: std::io::Error,
    },
}

/// What a commit changed against its first parent.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DiffStat {
    pub files_changed: usize,
    pub additions: usize,
    pub deletions: usize,
}

/// Options that make git's output independent of the user's configuration.
const NEUTRAL_CONFIG: &[&str] = &[
    "-c",
    "core.quotePath=off",
    "-c",
    "log.showSignature=false",
    "-c",
    "color.ui=never",
];

/// The fields of a commit `git log` prints, one per line, the message last.
const LOG_FORMAT: &str = "--format=%H%n%P%n%an%n%ae%n%at%n%cn%n%ce%n%ct%n%B";

/// How many commits of a range's hidden history are read at first; enough for libgit2's walk
/// unless clocks are far off.
const FIRST_ANCESTRY_READ: usize = 1024;

/// Part of a hidden revision's history: times and parents of its newest commits.
#[derive(Debug)]
struct Ancestry {
    /// The hidden commit itself.
    tip: String,
    /// `(id, committer time, parents)`.
    commits: Vec<(String, i64, Vec<String>)>,
    /// Whether `commits` is all of the history.
    complete: bool,
}

/// Where a commit of libgit2's walk is: in git's walk of the same range (at this index), or
/// not, by id.
#[derive(Debug)]
enum Slot {
    Walked(usize),
    Unwalked(String),
}

/// A commit as the history walk saw it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawCommit {
    pub id: String,
    pub parents: Vec<String>,
    pub author: Person,
    pub committer: Person,
    /// The full message with trailing white space removed.
    pub message: String,
}

/// A signature of a commit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Person {
    pub name: String,
    pub email: String,
    pub timestamp: i64,
}

/// A tag and the commit it finally points at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TagRef {
    /// The name git-cliff shows: the ref name, or for an annotated tag the name recorded in it.
    pub name: String,
    /// The name under `refs/tags/`.
    pub ref_name: String,
    pub commit: String,
    /// The annotated tag's message with any signature removed; `None` for a lightweight tag.
    pub message: Option<String>,
    /// Committer time of the tagged commit.
    pub commit_time: i64,
}

/// A repository reached through the `git` CLI.
#[derive(Debug, Clone)]
pub struct Repository {
    root: PathBuf,
}

impl Repository {
    /// Finds the repository that contains `path`.
    pub fn discover(path: &Path) -> Result<Self, Error> {
        let not_a_repo = || Error::NotARepository {
            path: path.to_path_buf(),
        };
        if !path.is_dir() {
            return Err(not_a_repo());
        }
        let out = run(path, ["rev-parse", "--show-toplevel"])?;
        if !out.status.success() {
            return Err(not_a_repo());
        }
        let root = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim_end());
        if root.as_os_str().is_empty() {
            // A bare repository has no work tree and so no files to read a configuration from.
            return Err(not_a_repo());
        }
        Ok(Self { root })
    }

    /// The top of the work tree.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Whether the clone is shallow: its history stops before the first commit.
    pub fn is_shallow(&self) -> Result<bool, Error> {
        Ok(self.read(["rev-parse", "--is-shallow-repository"])?.trim() == "true")
    }

    /// The tracked files the working tree or the index changes (untracked files, such as build
    /// outputs, are not counted).
    pub fn uncommitted_changes(&self) -> Result<Vec<String>, Error> {
        Ok(self
            .read(["status", "--porcelain", "--untracked-files=no"])?
            .lines()
            .filter_map(|l| l.get(3..))
            .map(str::to_owned)
            .collect())
    }

    /// Whether HEAD points at a commit (false in a repository with no commits yet).
    pub fn has_commits(&self) -> Result<bool, Error> {
        Ok(self
            .run(["rev-parse", "--verify", "--quiet", "HEAD^{commit}"])?
            .status
            .success())
    }

    /// Resolves a revision (tag, branch, commit id) to a full commit id, or `None` when the
    /// repository has no such commit.
    pub fn resolve(&self, rev: &str) -> Result<Option<String>, Error> {
        if rev.starts_with('-') {
            return Ok(None);
        }
        let spec = format!("{rev}^{{commit}}");
        let out = self.run([
            "rev-parse",
            "--verify",
            "--quiet",
            "--end-of-options",
            &spec,
        ])?;
        Ok(out
            .status
            .success()
            .then(|| String::from_utf8_lossy(&out.stdout).trim().to_owned()))
    }

    /// Every tag in the repository that points (through any number of tag objects) at a commit,
    /// ordered by name.
    pub fn tags(&self) -> Result<Vec<TagRef>, Error> {
        // %(*objectname) peels one level; the rare tag of a tag is peeled with rev-parse below.
        let format = "%(refname:strip=2)%00%(objecttype)%00%(objectname)%00%(*objecttype)%00%(*objectname)%00%(tag)%00%(contents)%00%00";
        let text = self.read([
            "for-each-ref",
            "--sort=refname",
            &format!("--format={format}"),
            "refs/tags",
        ])?;
        let mut tags = Vec::new();
        for record in text.split("\0\0\n").filter(|r| !r.is_empty()) {
            let fields: Vec<&str> = record.splitn(7, '\0').collect();
            let [
                ref_name,
                kind,
                object,
                peeled_kind,
                peeled,
                tag_name,
                contents,
            ] = fields[..]
            else {
                continue;
            };
            let (commit, name, message) = match (kind, peeled_kind) {
                ("commit", _) => (object.to_owned(), ref_name, None),
                ("tag", "commit") => (peeled.to_owned(), tag_name, Some(contents)),
                ("tag", "tag") => match self.resolve(&format!("refs/tags/{ref_name}"))? {
                    Some(commit) => (commit, tag_name, Some(contents)),
                    None => continue,
                },
                // Tags of trees and blobs are not releases.
                _ => continue,
            };
            tags.push(TagRef {
                name: if name.is_empty() { ref_name } else { name }.to_owned(),
                ref_name: ref_name.to_owned(),
                commit,
                message: message.map(strip_signature),
                commit_time: 0,
            });
        }
        let times = self.commit_times(tags.iter().map(|t| t.commit.as_str()))?;
        for tag in &mut tags {
            tag.commit_time = times.get(&tag.commit).copied().unwrap_or_default();
        }
        Ok(tags)
    }

    /// Walks the commits of `range` (`A..B`, or a single revision for everything it reaches),
    /// newest first: in topological order when `topo` is set (git's `--topo-order` is libgit2's),
    /// otherwise in the order libgit2 gives a walk sorted by time, which is what the git-cliff
    /// CLI shows with `topo_order_commits = false` (see [`libgit2_time_order`]).
    pub fn commits(&self, range: &str, topo: bool) -> Result<Vec<RawCommit>, Error> {
        let order = if topo { "--topo-order" } else { "--date-order" };
        let walk = self.log(&[order, "--end-of-options", range, "--"])?;
        if topo {
            Ok(walk)
        } else {
            self.in_libgit2_time_order(range, walk)
        }
    }

    /// The commits `git log` lists for `args`, in its order.
    fn log(&self, args: &[&str]) -> Result<Vec<RawCommit>, Error> {
        let mut command = vec!["log", "-z", LOG_FORMAT];
        command.extend_from_slice(args);
        self.read(command)?
            .split('\0')
            .filter(|record| !record.is_empty())
            .map(parse_commit)
            .collect::<Option<Vec<_>>>()
            .ok_or_else(|| Error::Unreadable {
                command: "git log".to_owned(),
            })
    }

    /// Puts `walk`, git's walk of `range`, in libgit2's time order, with the revisions pushed as
    /// git-cliff pushes them: a single revision with `git_revwalk_push`, `A..B` with
    /// `git_revwalk_push_range` (hide A, push B). relkit walks no `A...B`, which git-cliff
    /// refuses too.
    ///
    /// A walk of one revision needs nothing more than `walk`. A range needs the commits libgit2
    /// reads behind A to decide where to stop, and those are read (time and parents only) from
    /// the newest of A's history, reading further back only when libgit2 would go further.
    fn in_libgit2_time_order(
        &self,
        range: &str,
        walk: Vec<RawCommit>,
    ) -> Result<Vec<RawCommit>, Error> {
        let (from, to) = match range.split_once("..") {
            Some((from, to)) => (Some(or_head(from)), or_head(to)),
            None => (None, range),
        };
        // git log shows the tip of the walk first: the commit git-cliff pushes.
        let start = match walk.first() {
            Some(tip) => tip.id.clone(),
            None if from.is_none() => return Ok(walk),
            // git sees nothing in A..B; libgit2 may still show B if it stops early.
            None => match self.resolve(to)? {
                Some(id) => id,
                None => return Ok(walk),
            },
        };
        let mut behind = match from {
            Some(from) => Some(self.ancestry(from, FIRST_ANCESTRY_READ)?),
            None => None,
        };

        let position: HashMap<&str, usize> = walk
            .iter()
            .enumerate()
            .map(|(i, c)| (c.id.as_str(), i))
            .collect();
        let slots = loop {
            let hidden_known: HashMap<&str, WalkCommit<'_>> = behind
                .iter()
                .flat_map(|a| &a.commits)
                .map(|(id, time, parents)| {
                    (
                        id.as_str(),
                        WalkCommit {
                            time: *time,
                            parents,
                        },
                    )
                })
                .collect();
            let hidden: Vec<&str> = behind.iter().map(|a| a.tip.as_str()).collect();
            let lookup = |id: &str| match position.get(id) {
                Some(&i) => Some(WalkCommit {
                    time: walk[i].committer.timestamp,
                    parents: &walk[i].parents,
                }),
                None => hidden_known.get(id).copied(),
            };
            match libgit2_time_order(lookup, &[start.as_str()], &hidden) {
                Ok(order) => {
                    break order
                        .into_iter()
                        .map(|id| match position.get(id) {
                            Some(&i) => Slot::Walked(i),
                            None => Slot::Unwalked(id.to_owned()),
                        })
                        .collect::<Vec<_>>();
                }
                Err(UnknownCommit(id)) => match (from, &behind) {
                    (Some(from), Some(read)) if !read.complete => {
                        let more = read.commits.len().saturating_mul(4);
                        behind = Some(self.ancestry(from, more)?);
                    }
                    _ => return Err(Error::Unlisted { id }),
                },
            }
        };

        // libgit2 can show commits of A's history that git leaves out of A..B.
        let extra: Vec<&str> = slots
            .iter()
            .filter_map(|slot| match slot {
                Slot::Walked(_) => None,
                Slot::Unwalked(id) => Some(id.as_str()),
            })
            .collect();
        let mut extra: HashMap<String, RawCommit> = if extra.is_empty() {
            HashMap::new()
        } else {
            let mut args = vec!["--no-walk=unsorted", "--end-of-options"];
            args.extend(extra);
            args.push("--");
            self.log(&args)?
                .into_iter()
                .map(|c| (c.id.clone(), c))
                .collect()
        };
        let mut walk: Vec<Option<RawCommit>> = walk.into_iter().map(Some).collect();
        slots
            .into_iter()
            .map(|slot| {
                match slot {
                    Slot::Walked(i) => walk[i].take(),
                    Slot::Unwalked(id) => extra.remove(&id),
                }
                .ok_or_else(|| Error::Unreadable {
                    command: "git log".to_owned(),
                })
            })
            .collect()
    }

    /// The newest `limit` commits of `rev`'s history in git's default order, `rev` first, with
    /// their committer times and parents.
    fn ancestry(&self, rev: &str, limit: usize) -> Result<Ancestry, Error> {
        let unreadable = || Error::Unreadable {
            command: "git rev-list".to_owned(),
        };
        let text = self.read([
            "rev-list",
            "--timestamp",
            "--parents",
            &format!("--max-count={limit}"),
            "--end-of-options",
            rev,
            "--",
        ])?;
        let mut commits = Vec::new();
        for line in text.lines() {
            let mut fields = line.split(' ');
            let time = fields.next().and_then(|t| t.parse().ok());
            let (Some(time), Some(id)) = (time, fields.next()) else {
                return Err(unreadable());
            };
            commits.push((id.to_owned(), time, fields.map(str::to_owned).collect()));
        }
        let tip = commits.first().ok_or_else(unreadable)?.0.clone();
        Ok(Ancestry {
            tip,
            complete: commits.len() < limit,
            commits,
        })
    }

    /// The files each commit of `range` changed against its first parent (all files for a root
    /// commit), as git-cliff's path filters see them.
    pub fn changed_files(&self, range: &str) -> Result<HashMap<String, Vec<String>>, Error> {
        Ok(self.diff_log(range, "--name-only")?.into_iter().collect())
    }

    /// Files changed, lines added and lines deleted by each commit of `range` against its first
    /// parent, as libgit2's diff statistics count them for the git-cliff CLI.
    pub fn statistics(&self, range: &str) -> Result<HashMap<String, DiffStat>, Error> {
        let mut stats = HashMap::new();
        for (id, lines) in self.diff_log(range, "--numstat")? {
            let mut entry = DiffStat::default();
            for line in lines {
                let mut parts = line.splitn(3, '\t');
                let (Some(added), Some(deleted)) = (parts.next(), parts.next()) else {
                    continue;
                };
                entry.files_changed += 1;
                // Binary files show "-": libgit2 counts no lines for them either.
                entry.additions += added.parse::<usize>().unwrap_or(0);
                entry.deletions += deleted.parse::<usize>().unwrap_or(0);
            }
            stats.insert(id, entry);
        }
        Ok(stats)
    }

    /// Each commit of `range` with the lines a diff `listing` option (`--name-only`,
    /// `--numstat`) prints for it against its first parent.
    fn diff_log(&self, range: &str, listing: &str) -> Result<Vec<(String, Vec<String>)>, Error> {
        let text = self.read([
            "log",
            "-z",
            "--format=%x01%H",
            listing,
            "--no-renames",
            "--diff-merges=first-parent",
            "--end-of-options",
            range,
            "--",
        ])?;
        let mut commits: Vec<(String, Vec<String>)> = Vec::new();
        for field in text.split('\0') {
            let field = field.trim_start_matches('\n');
            if let Some(id) = field.strip_prefix('\u{1}') {
                commits.push((id.to_owned(), Vec::new()));
            } else if !field.is_empty()
                && let Some((_, lines)) = commits.last_mut()
            {
                lines.push(field.to_owned());
            }
        }
        Ok(commits)
    }

    /// The commit ids reachable from `rev`, including itself.
    pub fn reachable(&self, rev: &str) -> Result<Vec<String>, Error> {
        Ok(self
            .read(["rev-list", "--end-of-options", rev, "--"])?
            .lines()
            .map(str::to_owned)
            .collect())
    }

    /// The committer time of `rev`.
    pub fn commit_time(&self, rev: &str) -> Result<i64, Error> {
        Ok(self
            .read(["show", "-s", "--format=%ct", "--end-of-options", rev, "--"])?
            .trim()
            .parse()
            .unwrap_or_default())
    }

    /// How many commits `range` holds (`A..B`, or a revision for all it reaches).
    pub fn count(&self, range: &str) -> Result<u64, Error> {
        let text = self.read(["rev-list", "--count", "--end-of-options", range, "--"])?;
        text.trim().parse().map_err(|_| Error::Unreadable {
            command: "git rev-list --count".to_owned(),
        })
    }

    /// How many commits of `range` change a file matching one of the `include` globs (any file
    /// when there are none) other than only files matching `exclude` ones: a monorepo
    /// component's commits, as git-cliff's `include_paths`/`exclude_paths` choose them.
    pub fn count_touching(
        &self,
        range: &str,
        include: &[String],
        exclude: &[String],
    ) -> Result<u64, Error> {
        let mut args: Vec<String> = ["rev-list", "--count", "--end-of-options", range, "--"]
            .map(str::to_owned)
            .to_vec();
        if include.is_empty() {
            args.push(":(top)".to_owned());
        }
        args.extend(include.iter().map(|g| format!(":(top,glob){g}")));
        args.extend(exclude.iter().map(|g| format!(":(top,glob,exclude){g}")));
        let text = self.read(&args)?;
        text.trim().parse().map_err(|_| Error::Unreadable {
            command: "git rev-list --count".to_owned(),
        })
    }

    /// The commit the tag `name` points at, through any tag objects; `None` when there is no
    /// such tag.
    pub fn tag_commit(&self, name: &str) -> Result<Option<String>, Error> {
        self.resolve(&format!("refs/tags/{name}"))
    }

    /// The message of the annotated tag `name`; `None` for a lightweight or missing tag.
    pub fn tag_message(&self, name: &str) -> Result<Option<String>, Error> {
        let reference = format!("refs/tags/{name}");
        let kind = self.run(["cat-file", "-t", "--end-of-options", &reference])?;
        if !kind.status.success() || String::from_utf8_lossy(&kind.stdout).trim() != "tag" {
            return Ok(None);
        }
        let text = self.read(["tag", "--list", "--format=%(contents)", "--", name])?;
        Ok(Some(strip_signature(&text)))
    }

    /// Whether git accepts `name` as a tag name (`git check-ref-format`).
    pub fn is_valid_tag_name(&self, name: &str) -> Result<bool, Error> {
        if name.starts_with('-') {
            return Ok(false);
        }
        Ok(self
            .run(["check-ref-format", &format!("refs/tags/{name}")])?
            .status
            .success())
    }

    /// Creates the tag `name` at `commit`: annotated with `message` when there is one. Fails
    /// when the tag exists (git never moves it here). A repository with no identity configured
    /// tags as "relkit".
    pub fn create_tag(&self, name: &str, commit: &str, message: Option<&str>) -> Result<(), Error> {
        let mut args: Vec<&str> = Vec::new();
        let has_identity = self.run(["config", "user.email"])?.status.success();
        if message.is_some() && !has_identity {
            args.extend([
                "-c",
                "user.name=relkit",
                "-c",
                "user.email=relkit@localhost",
            ]);
        }
        args.push("tag");
        if let Some(message) = message {
            args.extend(["--annotate", "--cleanup=verbatim", "--message", message]);
        }
        args.extend(["--no-sign", "--end-of-options", name, commit]);
        self.read(args).map(drop)
    }

    /// The URL of the `origin` remote, when there is one.
    pub fn origin_url(&self) -> Result<Option<String>, Error> {
        let out = self.run(["config", "--get", "remote.origin.url"])?;
        Ok(out
            .status
            .success()
            .then(|| String::from_utf8_lossy(&out.stdout).trim().to_owned()))
    }

    fn commit_times<'a>(
        &self,
        ids: impl Iterator<Item = &'a str>,
    ) -> Result<HashMap<String, i64>, Error> {
        let mut unique: Vec<&str> = ids.collect();
        unique.sort_unstable();
        unique.dedup();
        if unique.is_empty() {
            return Ok(HashMap::new());
        }
        let mut args = vec!["show", "-s", "--no-walk=unsorted", "--format=%H %ct"];
        args.extend(unique);
        Ok(self
            .read(args)?
            .lines()
            .filter_map(|line| {
                let (id, time) = line.split_once(' ')?;
                Some((id.to_owned(), time.parse().ok()?))
            })
            .collect())
    }

    fn run<I, S>(&self, args: I) -> Result<Output, Error>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        run(&self.root, args)
    }

    /// Runs git and returns its standard output; a non-zero exit is an error carrying git's
    /// message.
    fn read<I, S>(&self, args: I) -> Result<String, Error>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        let args: Vec<S> = args.into_iter().collect();
        let out = self.run(&args)?;
        if !out.status.success() {
            return Err(Error::Failed {
                command: describe(&args),
                status: out.status.code(),
                stderr: String::from_utf8_lossy(&out.stderr).trim().to_owned(),
            });
        }
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    }
}

fn run<I, S>(dir: &Path, args: I) -> Result<Output, Error>
where
    I: IntoIterator<Item = S>,
    S: AsRef<OsStr>,
{
    Command::new("git")
        .current_dir(dir)
        .args(NEUTRAL_CONFIG)
        .args(args)
        .env("GIT_TERMINAL_PROMPT", "0")
        .env_remove("GIT_PAGER")
        .output()
        .map_err(|source| Error::Missing { source })
}

/// An empty side of `A..B` means HEAD, as git reads it.
fn or_head(rev: &str) -> &str {
    if rev.is_empty() { "HEAD" } else { rev }
}

fn describe<S: AsRef<OsStr>>(args: &[S]) -> String {
    let words: Vec<String> = args
        .iter()
        .take(2)
        .map(|a| a.as_ref().to_string_lossy().into_owned())
        .collect();
    format!("git {}", words.join(" "))
}

fn parse_commit(record: &str) -> Option<RawCommit> {
    let mut lines = record.trim_start_matches('\n').splitn(9, '\n');
    let id = lines.next()?.to_owned();
    let parents = lines
        .next()?
        .split_whitespace()
        .map(str::to_owned)
        .collect();
    let mut person = || -> Option<Person> {
        Some(Person {
            name: lines.next()?.to_owned(),
            email: lines.next()?.to_owned(),
            timestamp: lines.next()?.parse().ok()?,
        })
    };
    let author = person()?;
    let committer = person()?;
    // libgit2, which the git-cliff CLI reads with, drops leading blank lines of a message.
    let message = lines
        .next()
        .unwrap_or_default()
        .trim_start_matches('\n')
        .trim_end()
        .to_owned();
    Some(RawCommit {
        id,
        parents,
        author,
        committer,
        message,
    })
}

/// Removes an armoured signature from a tag message, as git-cliff does, and trims it.
fn strip_signature(message: &str) -> String {
    let mut text = message.to_owned();
    while let Some(start) = text.find("-----BEGIN ") {
        let Some(end_marker) = text[start..].find("-----END ") else {
            break;
        };
        let end_from = start + end_marker + "-----END ".len();
        let Some(close) = text[end_from..].find("-----") else {
            break;
        };
        text.replace_range(start..end_from + close + "-----".len(), "");
    }
    text.trim().to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_signature_is_removed_from_a_tag_message() {
        let message =
            "Release 1.0\n-----BEGIN PGP SIGNATURE-----\nabc\n-----END PGP SIGNATURE-----\n";
        assert_eq!(strip_signature(message), "Release 1.0");
    }

    #[test]
    fn a_commit_record_is_split_into_its_fields() {
        let record = "\nabc\np1 p2\nAnn\nann@x\n10\nBob\nbob@x\n20\n\nfeat: x\n\nbody\n";
        let commit = parse_commit(record).expect("a commit");
        assert_eq!(commit.id, "abc");
        assert_eq!(commit.parents, ["p1", "p2"]);
        assert_eq!(commit.author.timestamp, 10);
        assert_eq!(commit.committer.name, "Bob");
        assert_eq!(commit.message, "feat: x\n\nbody");
    }
}
