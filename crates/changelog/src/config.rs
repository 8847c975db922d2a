//! Finding and loading the git-cliff configuration a repository asks for.
//!
//! A repository keeps its git-cliff configuration in `cliff.toml`, `.cliff.toml` or
//! `.config/cliff.toml`, or in `[package.metadata.git-cliff]`/`[workspace.metadata.git-cliff]` of
//! `Cargo.toml` or `[tool.git-cliff]` of `pyproject.toml`, and relkit reads the same places the
//! `git-cliff` CLI does, at the top of the repository. (The CLI also reads a per-user file from
//! the home directory; a release pipeline should not depend on whose machine it runs, so relkit
//! does not.) Without one, relkit's built-in configuration applies.

use std::fmt;
use std::path::{Path, PathBuf};

use git_cliff_core::config::{Config, TextProcessor};
use regex::Regex;

use crate::Error;

/// The built-in configuration: sections for breaking changes, features, fixes, performance and
/// everything else.
const BUILTIN: &str = include_str!("default-cliff.toml");

/// The project configuration files git-cliff looks for, in its order.
const CONFIG_FILES: &[&str] = &["cliff.toml", ".cliff.toml", ".config/cliff.toml"];

/// Manifests that may carry a git-cliff section, and the table prefix of that section.
const MANIFESTS: &[(&str, &str)] = &[
    (
        "Cargo.toml",
        r"(?m)^\[(?:workspace|package)\.metadata\.git\-cliff\.",
    ),
    ("pyproject.toml", r"(?m)^\[(?:tool)\.git\-cliff\."),
];

/// Which configuration to use.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum ConfigSource {
    /// The repository's own configuration if it has one, else the built-in one.
    #[default]
    Discover,
    /// This file (a `cliff.toml`, or a manifest with a git-cliff section).
    File(PathBuf),
    /// relkit's built-in configuration, whatever the repository has.
    Builtin,
}

/// Where the configuration in use came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConfigOrigin {
    File(PathBuf),
    Builtin,
}

impl fmt::Display for ConfigOrigin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::File(path) => write!(f, "{}", path.display()),
            Self::Builtin => f.write_str("relkit's built-in configuration"),
        }
    }
}

/// Web links to a repository on its forge, for the built-in template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RepoLinks {
    /// The repository's web address, e.g. `https://github.com/owner/repo`.
    pub web_url: String,
    /// Path segment of pull requests: `pull` on GitHub, `pulls` on Gitea and Forgejo.
    pub pulls: &'static str,
}

impl RepoLinks {
    /// Links on GitHub or GitHub Enterprise Server.
    pub fn github(web_url: &str) -> Self {
        Self {
            web_url: web_url.trim_end_matches('/').to_owned(),
            pulls: "pull",
        }
    }

    /// Links on Gitea or Forgejo.
    pub fn gitea(web_url: &str) -> Self {
        Self {
            web_url: web_url.trim_end_matches('/').to_owned(),
            pulls: "pulls",
        }
    }

    /// Links for a clone of github.com, from its remote URL (`https://github.com/o/r.git`,
    /// `git@github.com:o/r.git`, `ssh://git@github.com/o/r`). Other hosts give none: a remote
    /// URL does not say whether a host runs GitHub Enterprise, Gitea or Forgejo, whose links
    /// differ; under a runner the forge is known and this is not needed.
    pub fn from_remote(url: &str) -> Option<Self> {
        let path = url
            .strip_prefix("https://github.com/")
            .or_else(|| url.strip_prefix("git@github.com:"))
            .or_else(|| url.strip_prefix("ssh://git@github.com/"))?;
        let path = path.trim_end_matches('/');
        let path = path.strip_suffix(".git").unwrap_or(path);
        let (owner, repo) = path.split_once('/')?;
        let valid = |s: &str| {
            !s.is_empty()
                && s.chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        };
        (valid(owner) && valid(repo))
            .then(|| Self::github(&format!("https://github.com/{owner}/{repo}")))
    }

    /// The base of a commit's link, to which the full commit id is appended.
    pub fn commit_url(&self) -> String {
        format!("{}/commit/", self.web_url)
    }
}

/// A loaded configuration and where it came from.
#[derive(Debug)]
pub struct Loaded {
    pub config: Config,
    pub origin: ConfigOrigin,
}

/// Loads the configuration `source` names, for the repository at `root`.
pub fn load(
    root: &Path,
    source: &ConfigSource,
    links: Option<&RepoLinks>,
) -> Result<Loaded, Error> {
    let path = match source {
        ConfigSource::Builtin => None,
        ConfigSource::File(path) => {
            let path = if path.is_absolute() {
                path.clone()
            } else {
                root.join(path)
            };
            if !path.exists() {
                return Err(Error::ConfigNotFound { path });
            }
            if !path.is_file() {
                return Err(Error::ConfigNotAFile { path });
            }
            Some(path)
        }
        ConfigSource::Discover => discover(root),
    };
    let Some(path) = path else {
        return Ok(Loaded {
            config: builtin(links)?,
            origin: ConfigOrigin::Builtin,
        });
    };
    let text = std::fs::read_to_string(&path).map_err(|source| Error::Io {
        path: path.clone(),
        source,
    })?;
    let text = manifest_section(&path, &text).unwrap_or(text);
    let config = text
        .parse::<Config>()
        .map_err(|source| Error::InvalidConfig {
            path: path.clone(),
            message: source.to_string(),
        })?;
    Ok(Loaded {
        config,
        origin: ConfigOrigin::File(path),
    })
}

/// The first project configuration file at the top of the repository, or a manifest that
/// carries a git-cliff section.
fn discover(root: &Path) -> Option<PathBuf> {
    CONFIG_FILES
        .iter()
        .map(|name| root.join(name))
        .find(|path| path.is_file())
        .or_else(|| {
            MANIFESTS.iter().find_map(|(name, _)| {
                let path = root.join(name);
                let text = std::fs::read_to_string(&path).ok()?;
                manifest_section(&path, &text).map(|_| path)
            })
        })
}

/// For a manifest with a git-cliff section, the manifest rewritten so that section's tables
/// are top-level tables (`[package.metadata.git-cliff.changelog]` becomes `[changelog]`).
fn manifest_section(path: &Path, text: &str) -> Option<String> {
    let name = path.file_name()?.to_str()?;
    let (_, pattern) = MANIFESTS.iter().find(|(m, _)| *m == name)?;
    let regex = Regex::new(pattern).expect("the manifest patterns are valid");
    regex
        .is_match(text)
        .then(|| regex.replace_all(text, "[").into_owned())
}

fn builtin(links: Option<&RepoLinks>) -> Result<Config, Error> {
    let mut config: Config =
        BUILTIN
            .parse()
            .map_err(|e: git_cliff_core::error::Error| Error::InvalidConfig {
                path: PathBuf::from("<built-in>"),
                message: e.to_string(),
            })?;
    if let Some(links) = links {
        let pulls = format!("{}/{}/", links.web_url, links.pulls);
        // "(#12)" at the end of a squash-merged subject becomes a link to the pull request.
        config.changelog.postprocessors.push(TextProcessor {
            pattern: Regex::new(r"\(#([0-9]+)\)").expect("valid pattern"),
            replace: Some(format!("([#${{1}}]({pulls}${{1}}))")),
            replace_command: None,
        });
    }
    Ok(config)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_builtin_configuration_parses() {
        let config = builtin(None).expect("built-in config");
        assert!(config.git.conventional_commits);
        assert_eq!(config.git.commit_parsers.len(), 6);
    }

    #[test]
    fn a_cargo_manifest_section_becomes_top_level_tables() {
        let text =
            "[package]\nname = \"x\"\n\n[package.metadata.git-cliff.changelog]\nbody = \"b\"\n";
        let rewritten = manifest_section(Path::new("Cargo.toml"), text).expect("has a section");
        assert!(rewritten.contains("\n[changelog]\nbody"));
    }

    #[test]
    fn a_manifest_without_a_section_is_not_a_configuration() {
        assert_eq!(
            manifest_section(Path::new("Cargo.toml"), "[package]\n"),
            None
        );
    }

    #[test]
    fn a_github_remote_gives_links_in_every_url_form() {
        for url in [
            "https://github.com/owner/app.git",
            "https://github.com/owner/app",
            "git@github.com:owner/app.git",
            "ssh://git@github.com/owner/app",
        ] {
            assert_eq!(
                RepoLinks::from_remote(url),
                Some(RepoLinks::github("https://github.com/owner/app")),
                "{url}"
            );
        }
    }

    #[test]
    fn other_remotes_give_no_links() {
        for url in [
            "https://gitea.example.com/owner/app.git",
            "git@github.com:owner",
            "https://github.com/owner/app/extra",
            "/srv/git/app.git",
            "",
        ] {
            assert_eq!(RepoLinks::from_remote(url), None, "{url}");
        }
    }
}
