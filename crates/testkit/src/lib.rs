//! Test-only helpers for relkit: real git repositories built in temporary directories.
//!
//! Every repository gets a pinned identity, signing turned off and a clock that advances one hour
//! per commit from 2024-01-01, so commit ids are the same on every machine and snapshots can
//! name them. The builder drives the `git` CLI, exactly as a user's checkout would be made; it
//! never reads the project's own history or the developer's git configuration.
#![allow(clippy::missing_panics_doc)]

use std::cell::Cell;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use tempfile::TempDir;

/// Seconds since the epoch of the first commit's date: 2024-01-01T00:00:00Z.
const EPOCH: i64 = 1_704_067_200;

/// A git repository in a temporary directory, removed when dropped.
#[derive(Debug)]
pub struct GitRepo {
    dir: TempDir,
    clock: Cell<i64>,
    serial: Cell<u32>,
}

impl GitRepo {
    /// An empty repository whose default branch is `main`.
    pub fn new() -> Self {
        let dir = tempfile::Builder::new()
            .prefix("relkit-repo-")
            .tempdir()
            .expect("create a temporary directory");
        let repo = Self {
            dir,
            clock: Cell::new(EPOCH),
            serial: Cell::new(0),
        };
        repo.git(&["init", "--quiet", "--initial-branch=main"]);
        repo
    }

    /// The working tree.
    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Runs git in the repository and returns its trimmed standard output; panics when git fails,
    /// with git's own message.
    pub fn git(&self, args: &[&str]) -> String {
        let out = self.git_output(args);
        assert!(
            out.status.success(),
            "git {} failed: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).trim().to_owned()
    }

    /// Runs git in the repository and returns whatever happened, for tests of failures.
    pub fn git_output(&self, args: &[&str]) -> Output {
        let date = format!("{} +0000", self.clock.get());
        git_command(self.path())
            .args(args)
            .env("GIT_AUTHOR_DATE", &date)
            .env("GIT_COMMITTER_DATE", &date)
            .output()
            .expect("run git")
    }

    /// Commits a change to a file of its own with `message`, and returns the commit id.
    pub fn commit(&self, message: &str) -> String {
        let n = self.serial.get() + 1;
        self.serial.set(n);
        self.commit_file(
            &format!("changes/{n}.txt"),
            &format!("{message}\n"),
            message,
        )
    }

    /// Writes `contents` to `path` (relative to the work tree), commits it with `message` and
    /// returns the commit id.
    pub fn commit_file(&self, path: &str, contents: &str, message: &str) -> String {
        self.write(path, contents);
        self.git(&["add", "--", path]);
        self.commit_staged(message)
    }

    /// Commits whatever is staged (or nothing) with `message`.
    pub fn commit_staged(&self, message: &str) -> String {
        self.tick();
        self.git(&[
            "commit",
            "--quiet",
            "--allow-empty",
            "--cleanup=verbatim",
            "-m",
            message,
        ]);
        self.head()
    }

    /// Writes a file in the work tree without staging it.
    pub fn write(&self, path: &str, contents: &str) {
        let full = self.path().join(path);
        if let Some(parent) = full.parent() {
            std::fs::create_dir_all(parent).expect("create parent directories");
        }
        std::fs::write(full, contents).expect("write file");
    }

    /// A lightweight tag at HEAD.
    pub fn tag(&self, name: &str) {
        self.git(&["tag", name]);
    }

    /// An annotated tag at HEAD.
    pub fn annotated_tag(&self, name: &str, message: &str) {
        self.tick();
        self.git(&["tag", "--annotate", name, "-m", message]);
    }

    /// The full id of HEAD.
    pub fn head(&self) -> String {
        self.git(&["rev-parse", "HEAD"])
    }

    /// Creates `branch` at HEAD and switches to it.
    pub fn branch(&self, branch: &str) {
        self.git(&["switch", "--quiet", "--create", branch]);
    }

    /// Switches to an existing branch.
    pub fn switch(&self, branch: &str) {
        self.git(&["switch", "--quiet", branch]);
    }

    /// Merges `branch` into the current branch with a merge commit, and returns its id.
    pub fn merge(&self, branch: &str, message: &str) -> String {
        self.tick();
        self.git(&["merge", "--quiet", "--no-ff", "-m", message, branch]);
        self.head()
    }

    /// A shallow clone of this repository with `depth` commits, in a new temporary directory.
    pub fn shallow_clone(&self, depth: u32) -> (TempDir, PathBuf) {
        let dir = tempfile::Builder::new()
            .prefix("relkit-shallow-")
            .tempdir()
            .expect("create a temporary directory");
        let target = dir.path().join("clone");
        let source = format!("file://{}", self.path().display());
        let out = git_command(dir.path())
            .args(["clone", "--quiet", "--depth", &depth.to_string(), &source])
            .arg(&target)
            .output()
            .expect("run git clone");
        assert!(
            out.status.success(),
            "git clone failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        (dir, target)
    }

    /// Sets the clock so that the next commit, merge or annotated tag is dated `seconds` since
    /// the epoch (later ones follow an hour apart, as usual). Setting it back or to the same
    /// time again makes the skewed and equal clocks real histories have.
    pub fn set_clock(&self, seconds: i64) {
        self.clock.set(seconds - 3600);
    }

    fn tick(&self) {
        self.clock.set(self.clock.get() + 3600);
    }
}

impl Default for GitRepo {
    fn default() -> Self {
        Self::new()
    }
}

/// A `git` command isolated from the machine's and the user's configuration, with a pinned
/// identity and no signing, run in `dir`.
pub fn git_command(dir: &Path) -> Command {
    let mut cmd = Command::new("git");
    cmd.current_dir(dir)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_AUTHOR_NAME", "Release Captain")
        .env("GIT_AUTHOR_EMAIL", "captain@example.com")
        .env("GIT_COMMITTER_NAME", "Release Captain")
        .env("GIT_COMMITTER_EMAIL", "captain@example.com")
        .env("GIT_TERMINAL_PROMPT", "0")
        .args([
            "-c",
            "commit.gpgSign=false",
            "-c",
            "tag.gpgSign=false",
            "-c",
            "init.defaultBranch=main",
            "-c",
            "protocol.file.allow=always",
        ]);
    for var in ["GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE"] {
        cmd.env_remove(var);
    }
    cmd
}

mod background;
pub mod emulator;
pub mod files;
pub mod prism;
pub mod registry;
pub mod runner;
pub mod scenario;
