use std::fmt;

use crate::Env;

const GITHUB_SERVER_URL: &str = "https://github.com";
const GITHUB_API_URL: &str = "https://api.github.com";

/// Where relkit is running, as told by the runner's environment variables.
///
/// Gitea's act_runner sets `GITEA_ACTIONS=true`; the Forgejo runner sets `FORGEJO_ACTIONS=true`
/// and, for compatibility, `GITEA_ACTIONS=true` as well; both set `GITHUB_ACTIONS=true` and the
/// other `GITHUB_*` variables. So detection goes from the most specific marker to the least.
/// Forgejo runners before v7 set no `FORGEJO_ACTIONS` and are seen as Gitea, which behaves the
/// same for everything this crate does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Platform {
    /// GitHub Actions on github.com.
    GitHub,
    /// GitHub Actions on GitHub Enterprise Server (or a GHE.com data-residency tenant).
    GitHubEnterprise {
        /// The web address, e.g. `https://github.example.com`.
        server_url: String,
        /// The REST API base, e.g. `https://github.example.com/api/v3`.
        api_url: String,
    },
    /// Gitea Actions (act_runner).
    Gitea {
        /// The instance's web address; act_runner always sets it, but a hand-made environment
        /// may not.
        server_url: Option<String>,
    },
    /// Forgejo Actions (Forgejo runner).
    Forgejo {
        /// The instance's web address.
        server_url: Option<String>,
    },
    /// No runner: a person at a terminal, or a script.
    Local,
}

impl Platform {
    /// Reads the platform from the runner's marker variables.
    pub fn detect(env: &Env) -> Self {
        if env.is_true("FORGEJO_ACTIONS") {
            Self::Forgejo {
                server_url: url(env, &["FORGEJO_SERVER_URL", "GITHUB_SERVER_URL"]),
            }
        } else if env.is_true("GITEA_ACTIONS") {
            Self::Gitea {
                server_url: url(env, &["GITHUB_SERVER_URL"]),
            }
        } else if env.is_true("GITHUB_ACTIONS") {
            detect_github(env)
        } else {
            Self::Local
        }
    }

    /// The forge's web address, when there is a forge.
    pub fn server_url(&self) -> Option<&str> {
        match self {
            Self::GitHub => Some(GITHUB_SERVER_URL),
            Self::GitHubEnterprise { server_url, .. } => Some(server_url),
            Self::Gitea { server_url } | Self::Forgejo { server_url } => server_url.as_deref(),
            Self::Local => None,
        }
    }

    /// The forge's REST API base, when there is a forge: GitHub's `GITHUB_API_URL`, or Gitea's
    /// and Forgejo's `{server}/api/v1`.
    pub fn api_url(&self) -> Option<String> {
        match self {
            Self::GitHub => Some(GITHUB_API_URL.to_owned()),
            Self::GitHubEnterprise { api_url, .. } => Some(api_url.clone()),
            Self::Gitea { server_url } | Self::Forgejo { server_url } => {
                server_url.as_ref().map(|server| format!("{server}/api/v1"))
            }
            Self::Local => None,
        }
    }

    /// Whether a runner reads this process's output for workflow commands.
    pub fn is_runner(&self) -> bool {
        !matches!(self, Self::Local)
    }

    /// Whether `::error file=…,line=…::` shows up as an annotation on the file.
    ///
    /// Gitea (up to 1.26, at least) and Forgejo only echo the command into the log, so there
    /// every finding must also be written as a readable line.
    pub fn supports_file_annotations(&self) -> bool {
        matches!(self, Self::GitHub | Self::GitHubEnterprise { .. })
    }

    /// Whether what is written to `GITHUB_STEP_SUMMARY` is shown to anyone.
    ///
    /// Gitea shows it from 1.27 on, but a step cannot learn the server's version, so Gitea and
    /// Forgejo count as not showing it: say everything important in the log too.
    pub fn supports_step_summary(&self) -> bool {
        matches!(self, Self::GitHub | Self::GitHubEnterprise { .. })
    }
}

impl fmt::Display for Platform {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::GitHub => "GitHub Actions",
            Self::GitHubEnterprise { .. } => "GitHub Actions (Enterprise)",
            Self::Gitea { .. } => "Gitea Actions",
            Self::Forgejo { .. } => "Forgejo Actions",
            Self::Local => "a terminal",
        })
    }
}

fn detect_github(env: &Env) -> Platform {
    let server_url = url(env, &["GITHUB_SERVER_URL"]);
    let api_url = url(env, &["GITHUB_API_URL"]);
    let is_dotcom = server_url
        .as_deref()
        .is_none_or(|url| url.eq_ignore_ascii_case(GITHUB_SERVER_URL))
        && api_url
            .as_deref()
            .is_none_or(|url| url.eq_ignore_ascii_case(GITHUB_API_URL));
    if is_dotcom {
        return Platform::GitHub;
    }
    // The runner sets both; deriving one from the other only helps hand-made environments.
    match (server_url, api_url) {
        (Some(server_url), Some(api_url)) => Platform::GitHubEnterprise {
            server_url,
            api_url,
        },
        (Some(server_url), None) => Platform::GitHubEnterprise {
            api_url: format!("{server_url}/api/v3"),
            server_url,
        },
        (None, Some(api_url)) => Platform::GitHubEnterprise {
            server_url: api_url
                .strip_suffix("/api/v3")
                .unwrap_or(&api_url)
                .to_owned(),
            api_url,
        },
        (None, None) => Platform::GitHub,
    }
}

/// The first of `names` that is set, without a trailing slash so that paths can be appended.
fn url(env: &Env, names: &[&str]) -> Option<String> {
    names
        .iter()
        .find_map(|name| env.get(name))
        .map(|url| url.trim_end_matches('/').to_owned())
}
