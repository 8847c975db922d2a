//! Which forge a command talks to: from `--forge`, else the runner's; and its address, repository
//! and token, each checked before anything is sent.
//!
//! The API address always comes from the chosen forge: on Gitea and Forgejo runners
//! `github.token` is the Gitea token, and it must never reach api.github.com.

use std::path::PathBuf;
use std::time::Duration;

use relkit_forge::gitea::Gitea;
use relkit_forge::github::{self, GitHub};
use relkit_forge::http::{Client, Policy, Scheme, Token};
use relkit_forge::local::Local;
use relkit_git::Repository;
use relkit_workflow::{Env, Platform, Reporter};

use crate::failure::Failure;
use crate::flags::{ForgeArgs, given};

/// The forge a command runs against.
#[derive(Debug)]
pub enum Backend {
    Local(Local),
    Gitea(Box<Gitea>),
    GitHub(Box<GitHub>),
}

/// Opens the forge `args` and the runner call for. Reads the token and masks it.
pub fn open(
    args: ForgeArgs,
    env: &Env,
    net: &relkit_http::Run,
    reporter: &mut Reporter,
    repo: Repository,
) -> Result<Backend, Failure> {
    let platform = reporter.platform().clone();
    let kind = match given(args.forge).as_deref() {
        Some("local") => "local",
        Some("gitea" | "forgejo") => "gitea",
        Some("github") => "github",
        Some(other) => {
            return Err(Failure::bad_input(format!(
                "--forge {other:?} is not one of local, github, gitea"
            )));
        }
        None => match platform {
            Platform::Gitea { .. } | Platform::Forgejo { .. } => "gitea",
            Platform::GitHub | Platform::GitHubEnterprise { .. } => "github",
            Platform::Local => "local",
        },
    };
    if kind == "local" {
        return Ok(Backend::Local(match given(args.forge_dir) {
            Some(dir) => Local::new(repo, PathBuf::from(dir)),
            None => Local::in_repository(repo),
        }));
    }

    let repository = given(args.repository)
        .or_else(|| env.get("GITHUB_REPOSITORY").map(str::to_owned))
        .ok_or_else(|| {
            Failure::bad_input(
                "no repository: pass --repository OWNER/NAME (or set GITHUB_REPOSITORY)",
            )
        })?;
    let (owner, name) = repository
        .split_once('/')
        .filter(|(o, n)| !o.is_empty() && !n.is_empty() && !n.contains('/'))
        .ok_or_else(|| {
            Failure::bad_input(format!("--repository {repository:?} is not OWNER/NAME"))
        })?;
    let gitea_runner = matches!(platform, Platform::Gitea { .. } | Platform::Forgejo { .. });
    let runner_api = match (kind, gitea_runner) {
        ("gitea", true) | ("github", false) => platform.api_url(),
        _ => None,
    };
    let api = given(args.api_url)
        .or(runner_api)
        .or_else(|| (kind == "github").then(|| "https://api.github.com".to_owned()))
        .ok_or_else(|| {
            Failure::bad_input(
                "no API address for the gitea forge: pass --api-url https://HOST/api/v1 \
                 (on a Gitea or Forgejo runner it comes from GITHUB_SERVER_URL)",
            )
        })?;
    let url = reqwest_url(&api)?;
    // The token is never sent in the clear to another machine, unless a flag names the host.
    let host_port = match (url.host_str(), url.port()) {
        (Some(host), Some(port)) => format!("{host}:{port}"),
        (Some(host), None) => host.to_owned(),
        _ => String::new(),
    };
    let allowed: Vec<String> = crate::flags::lines(&args.insecure_api).collect();
    if url.scheme() == "http"
        && !relkit_registry::is_loopback(&host_port)
        && !allowed
            .iter()
            .any(|h| h == &host_port || Some(h.as_str()) == url.host_str())
    {
        return Err(Failure::bad_input(format!(
            "--api-url {api:?} is plain HTTP to {host_port}: the token would cross the network unencrypted; use https, or name the host with --insecure-api (RELKIT_INSECURE_API)"
        )));
    }
    if kind == "gitea" && url.host_str() == Some("api.github.com") {
        return Err(Failure::bad_input(format!(
            "--api-url {api:?} is GitHub's API, but the forge is gitea: relkit never sends a \
             Gitea token to GitHub"
        )));
    }
    let defaults: &[&'static str] = if kind == "github" {
        &["GITHUB_TOKEN", "GH_TOKEN"]
    } else {
        &["GITEA_TOKEN", "GITHUB_TOKEN"]
    };
    let (variable, token) = token(args.token_env.as_deref(), defaults, env)?;
    // On Gitea and Forgejo runners GITHUB_TOKEN (github.token) is the Gitea token.
    if kind == "github"
        && gitea_runner
        && matches!(variable.as_str(), "GITHUB_TOKEN" | "RELKIT_TOKEN")
    {
        return Err(Failure::bad_input(format!(
            "--forge github on a Gitea or Forgejo runner: {variable} holds the Gitea token, which \
             relkit never sends to GitHub; put a GitHub token in a secret and name it with \
             --token-env"
        )));
    }
    reporter.mask(token.expose())?;
    let wait = match given(args.rate_limit_wait) {
        None => Duration::from_secs(60),
        Some(text) => text.parse::<u64>().map(Duration::from_secs).map_err(|_| {
            Failure::bad_input(format!(
                "--rate-limit-wait {text:?} is not a whole number of seconds"
            ))
        })?,
    };
    let policy = Policy {
        wait_budget: wait,
        ..Policy::default()
    };
    let origin = url.origin().ascii_serialization();
    if kind == "github" {
        let forge = format!("GitHub at {origin}");
        let client = github::client(&forge, &api, Some(token), &variable, policy)
            .map_err(|e| Failure::bad_input(e.to_string()))?
            .with_run(net.clone());
        return Ok(Backend::GitHub(Box::new(GitHub::new(client, owner, name))));
    }
    let forge = format!("Gitea at {origin}");
    let client = Client::new(&forge, &api, Some(token), &variable, Scheme::Token, policy)
        .map_err(|e| Failure::bad_input(e.to_string()))?
        .with_run(net.clone());
    Ok(Backend::Gitea(Box::new(Gitea::new(client, owner, name))))
}

/// The token and the variable it came from: `--token-env NAME`, else `RELKIT_TOKEN` (what the
/// actions pass), else the forge's usual variables in order.
fn token(
    named: Option<&str>,
    defaults: &[&'static str],
    env: &Env,
) -> Result<(String, Token), Failure> {
    let candidates: Vec<&str> = match named.filter(|n| !n.is_empty()) {
        Some(name) => vec![name],
        None => std::iter::once("RELKIT_TOKEN")
            .chain(defaults.iter().copied())
            .collect(),
    };
    candidates
        .iter()
        .find_map(|name| env.get(name).map(|v| ((*name).to_owned(), Token::new(v))))
        .ok_or_else(|| {
            Failure::bad_input(format!(
                "no token: set {} to a token that may write to the repository",
                candidates.join(" or ")
            ))
        })
}

fn reqwest_url(api: &str) -> Result<relkit_forge::http::Url, Failure> {
    let url = relkit_forge::http::Url::parse(api)
        .map_err(|e| Failure::bad_input(format!("--api-url {api:?} is not a URL: {e}")))?;
    if !matches!(url.scheme(), "https" | "http") {
        return Err(Failure::bad_input(format!(
            "--api-url {api:?} is not an http(s) address"
        )));
    }
    Ok(url)
}
