//! create-release on the local forge, Gitea and GitHub, with real repositories: plans, runs,
//! re-runs, and runs interrupted at every step.

mod faults;
mod gitea;
mod github;
mod interrupted;
mod release;

use std::path::Path;

use relkit_changelog::ConfigSource;
use relkit_create_release::{BumpChoice, Config, NotesChoice, VersionChoice};
use relkit_forge::MakeLatest;
use relkit_forge::local::Local;
use relkit_git::Repository;
use relkit_testkit::GitRepo;
use relkit_version::{Stream, Version};

pub fn forge(repo: &GitRepo) -> Local {
    Local::in_repository(Repository::discover(repo.path()).expect("a repository"))
}

/// A full release `version` of HEAD with the files under `dist/` as assets.
pub fn config(repo: &GitRepo, version: VersionChoice) -> Config {
    Config {
        repo: repo.path().to_path_buf(),
        stream: Stream::new("v").expect("prefix"),
        version,
        target: "HEAD".to_owned(),
        target_input: "--target",
        first_release: false,
        include_paths: Vec::new(),
        exclude_paths: Vec::new(),
        name: None,
        notes: NotesChoice::Changelog(ConfigSource::Builtin),
        links: None,
        draft: false,
        make_latest: MakeLatest::Legacy,
        assets: vec!["dist/*".to_owned()],
        base: repo.path().to_path_buf(),
        allow_empty: false,
        replace_assets: false,
        images: Vec::new(),
    }
}

pub fn exact(v: &str) -> VersionChoice {
    VersionChoice::Exact(Version::parse(v).expect("a version"))
}

pub fn auto() -> VersionChoice {
    VersionChoice::Bump(BumpChoice::Auto)
}

/// Writes the build outputs a release attaches, outside the repository's history.
pub fn build(repo: &GitRepo, files: &[(&str, &str)]) {
    let dist = repo.path().join("dist");
    let _ = std::fs::remove_dir_all(&dist);
    for (name, contents) in files {
        std::fs::create_dir_all(&dist).expect("mkdir dist");
        std::fs::write(dist.join(name), contents).expect("write asset");
    }
    ignore(repo.path(), "dist/");
}

fn ignore(root: &Path, pattern: &str) {
    let exclude = root.join(".git/info/exclude");
    let text = std::fs::read_to_string(&exclude).unwrap_or_default();
    if !text.lines().any(|l| l == pattern) {
        std::fs::write(&exclude, format!("{text}{pattern}\n")).expect("write exclude");
    }
}
