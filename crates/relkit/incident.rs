//! `relkit incident-on-rollback`: the incident of a rollback opened (or updated), or the
//! stream's incidents closed on recovery. promote-prerelease runs the same after a promotion.

use std::path::PathBuf;

use relkit_forge::Forge;
use relkit_incident_on_rollback::{Config, Outcome, Plan, Severity, Template, apply, plan};
use relkit_version::Stream;
use relkit_workflow::{Annotation, Env, Platform, Reporter};

use crate::changelog::links;
use crate::failure::{Failure, chain};
use crate::flags::{IncidentArgs, boolean, given};
use crate::forges::{self, Backend};

pub fn run(
    args: IncidentArgs,
    env: &Env,
    net: &relkit_http::Run,
    reporter: &mut Reporter,
) -> Result<(), Failure> {
    let dry_run = args.dry_run;
    let (config, forge_args) = inputs(args, env, reporter.platform())?;
    let repo = relkit_git::Repository::discover(&config.repo)
        .map_err(|e| Failure::bad_input(chain(&e)))?;
    let backend = forges::open(forge_args, env, net, reporter, repo)?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| Failure::failed(format!("could not start the async runtime: {e}")))?;
    runtime.block_on(async {
        match &backend {
            Backend::Local(forge) => incident(forge, &config, dry_run, OWN, reporter).await,
            Backend::Gitea(forge) => {
                incident(forge.as_ref(), &config, dry_run, OWN, reporter).await
            }
            Backend::GitHub(forge) => {
                incident(forge.as_ref(), &config, dry_run, OWN, reporter).await
            }
        }
    })
}

/// The names of the outputs: the issue's number and address, and what was done.
pub type Outputs = [&'static str; 3];

/// incident-on-rollback's own outputs.
const OWN: Outputs = ["issue-number", "issue-url", "action"];

/// Plans and (unless `dry_run`) carries out the incident of `config`, with its outputs (named
/// `outputs`) and summary.
pub async fn incident<F: Forge>(
    forge: &F,
    config: &Config,
    dry_run: bool,
    outputs: Outputs,
    reporter: &mut Reporter,
) -> Result<(), Failure> {
    let plan = plan(forge, config).await?;
    reporter.info("Incident:")?;
    reporter.print_untrusted(&plan.to_string())?;
    if dry_run {
        reporter.info("--dry-run: nothing was changed")?;
        return finish(&plan, None, outputs, reporter);
    }
    let mut log_failed = false;
    let outcome = apply(forge, &plan, &mut |line| {
        log_failed |= reporter.info(line).is_err();
    })
    .await?;
    if log_failed {
        return Err(Failure::failed("could not write to the log"));
    }
    for warning in &outcome.warnings {
        reporter.annotate(&Annotation::warning(warning.as_str()))?;
    }
    finish(&plan, Some(&outcome), outputs, reporter)
}

fn finish(
    plan: &Plan,
    outcome: Option<&Outcome>,
    [number, url, done]: Outputs,
    reporter: &mut Reporter,
) -> Result<(), Failure> {
    let issue = outcome.and_then(|o| o.issue.as_ref());
    let action = outcome.map_or("none", |o| o.action);
    reporter.set_output(
        number,
        &issue.map(|i| i.number.to_string()).unwrap_or_default(),
    )?;
    reporter.set_output(url, &issue.map(|i| i.url.clone()).unwrap_or_default())?;
    reporter.set_output(done, action)?;
    if let Some(issue) = issue {
        let line = format!("incident #{} {action}: {}", issue.number, issue.url);
        if reporter.platform().is_runner() {
            reporter.annotate(&Annotation::notice(line.as_str()))?;
        }
        reporter.append_summary(&format!(
            "### Incident\n\n[#{} {}]({}): {action}\n",
            issue.number,
            issue.title.replace(['[', ']'], ""),
            issue.url
        ))?;
    } else if outcome.is_none() {
        reporter.append_summary(&format!(
            "### Incident (dry run: planned, nothing changed)\n\n```text\n{plan}```\n"
        ))?;
    }
    Ok(())
}

fn inputs(
    args: IncidentArgs,
    env: &Env,
    platform: &Platform,
) -> Result<(Config, crate::flags::ForgeArgs), Failure> {
    let bad = |e: &dyn std::error::Error| Failure::bad_input(chain(e));
    let stream = Stream::new(&args.tag_prefix).map_err(|e| bad(&e))?;
    let release = given(args.rollback_version).ok_or_else(|| {
        Failure::bad_input(
            "say which release was just promoted: --rollback-version (RELKIT_ROLLBACK_VERSION) v1.3.1",
        )
    })?;
    let severity = match given(args.severity) {
        None => None,
        Some(s) => Some(Severity::parse(&s).ok_or_else(|| {
            Failure::bad_input(format!(
                "--severity (RELKIT_SEVERITY) {s:?} is not one of critical, high, medium, low"
            ))
        })?),
    };
    let list = |value: Option<String>| -> Vec<String> {
        value
            .unwrap_or_default()
            .split([',', '\n'])
            .map(str::trim)
            .filter(|v| !v.is_empty())
            .map(str::to_owned)
            .collect()
    };
    let mut labels = list(given(args.labels));
    if labels.is_empty() {
        labels = vec!["incident".to_owned(), "rollback".to_owned()];
    }
    let template = match given(args.template) {
        Some(path) => Some(Template::load(&PathBuf::from(path))?),
        None => None,
    };
    let close_on_recovery = boolean(
        args.close_on_recovery.as_deref(),
        true,
        "--close-on-recovery (RELKIT_CLOSE_ON_RECOVERY)",
    )
    .map_err(Failure::bad_input)?;
    let config = Config {
        repo: given(args.repo).map_or_else(|| PathBuf::from("."), PathBuf::from),
        stream,
        release,
        bad_version: given(args.bad_version),
        source: given(args.source),
        labels,
        severity,
        assignees: list(given(args.assignees)),
        template,
        run_url: given(args.run_url).or_else(|| run_url(env, platform)),
        actor: env.get("GITHUB_ACTOR").map(str::to_owned),
        close_on_recovery,
        links: links(env, platform),
    };
    Ok((config, args.forge))
}

/// The run the runner is in: `SERVER/OWNER/REPO/actions/runs/ID`.
pub fn run_url(env: &Env, platform: &Platform) -> Option<String> {
    let server = platform.server_url()?;
    let repository = env.get("GITHUB_REPOSITORY")?;
    let run = env.get("GITHUB_RUN_ID")?;
    Some(format!(
        "{}/{repository}/actions/runs/{run}",
        server.trim_end_matches('/')
    ))
}

/// The incident-on-rollback defaults for a release promote-prerelease just made.
pub fn after_promotion(
    repo: PathBuf,
    stream: Stream,
    release: String,
    env: &Env,
    platform: &Platform,
) -> Config {
    Config {
        repo,
        stream,
        release,
        bad_version: None,
        source: None,
        labels: vec!["incident".to_owned(), "rollback".to_owned()],
        severity: None,
        assignees: Vec::new(),
        template: None,
        run_url: run_url(env, platform),
        actor: env.get("GITHUB_ACTOR").map(str::to_owned),
        close_on_recovery: true,
        links: links(env, platform),
    }
}
