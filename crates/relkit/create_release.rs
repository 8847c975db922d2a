//! `relkit create-release`: validated inputs in, a plan printed, then carried out.

use std::path::PathBuf;

use relkit_changelog::ConfigSource;
use relkit_create_release::{
    BumpChoice, Config, NotesChoice, Plan, ReleaseStep, VersionChoice, apply, plan,
};
use relkit_forge::{Forge, MakeLatest, Release};
use relkit_git::Repository;
use relkit_version::{Bump, PrereleaseBase, Stream};
use relkit_workflow::{Annotation, Env, Platform, Reporter};

use crate::changelog::links;
use crate::failure::{Failure, chain};
use crate::flags::{CreateReleaseArgs, ReleaseArgs, given, lines};
use crate::forges::{self, Backend};

/// The validated inputs of one run.
struct Inputs {
    config: Config,
    dry_run: bool,
}

pub fn run(
    args: CreateReleaseArgs,
    env: &Env,
    net: &relkit_http::Run,
    reporter: &mut Reporter,
) -> Result<(), Failure> {
    let forge_args = args.forge;
    let inputs = inputs(args.release, env, reporter.platform())?;
    let repo = Repository::discover(&inputs.config.repo)
        .map_err(|e| Failure::from(relkit_create_release::Error::from(e)))?;
    let backend = forges::open(forge_args, env, net, reporter, repo)?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| Failure::failed(format!("could not start the async runtime: {e}")))?;
    runtime.block_on(async {
        match &backend {
            Backend::Local(forge) => release(forge, &inputs, reporter).await,
            Backend::Gitea(forge) => release(forge.as_ref(), &inputs, reporter).await,
            Backend::GitHub(forge) => release(forge.as_ref(), &inputs, reporter).await,
        }
    })
}

async fn release<F: Forge>(
    forge: &F,
    inputs: &Inputs,
    reporter: &mut Reporter,
) -> Result<(), Failure> {
    let plan = plan(forge, &inputs.config).await?;
    show_plan(&plan, reporter)?;
    if inputs.dry_run {
        reporter.info("--dry-run: nothing was changed")?;
        // The outputs as planned, so a job can show what a release would be.
        let existing = match &plan.release {
            ReleaseStep::Create => None,
            ReleaseStep::Update(release, _) | ReleaseStep::Keep(release) => Some(release),
        };
        return finish(&plan, existing, true, reporter);
    }
    if plan.is_noop() {
        reporter.info(&format!("{} is already released as planned", plan.tag))?;
    }
    // Each step is reported when it is done: a run killed during an upload leaves in the log
    // what it had made.
    let mut log_failed = false;
    let outcome = apply(forge, &plan, &mut |line| {
        log_failed |= reporter.info(line).is_err();
    })
    .await?;
    if log_failed {
        return Err(Failure::failed("could not write to the log"));
    }
    reporter.info(&format!(
        "{} → {}",
        outcome.release.tag, outcome.release.url
    ))?;
    finish(&plan, Some(&outcome.release), false, reporter)
}

fn inputs(args: ReleaseArgs, env: &Env, platform: &Platform) -> Result<Inputs, Failure> {
    let bad = |e: &dyn std::error::Error| Failure::bad_input(chain(e));
    let stream = Stream::new(&args.stream.tag_prefix).map_err(|e| bad(&e))?;
    let version = version_choice(
        &stream,
        given(args.tag),
        given(args.bump),
        given(args.prerelease),
        args.rc,
        env,
        platform,
    )?;
    let make_latest = match given(args.make_latest).as_deref() {
        None | Some("legacy") => MakeLatest::Legacy,
        Some("true") => MakeLatest::True,
        Some("false") => MakeLatest::False,
        Some(other) => {
            return Err(Failure::bad_input(format!(
                "--make-latest {other:?} is not one of true, false, legacy"
            )));
        }
    };
    let notes = match (given(args.notes_file), given(args.config)) {
        (Some(file), _) => NotesChoice::File(file.into()),
        (None, None) => NotesChoice::Changelog(ConfigSource::Discover),
        (None, Some(c)) if c == "builtin" => NotesChoice::Changelog(ConfigSource::Builtin),
        (None, Some(c)) => NotesChoice::Changelog(ConfigSource::File(c.into())),
    };
    let images = relkit_create_release::images(&args.images.join("\n")).map_err(|e| bad(&e))?;
    let (target_input, target) = match given(args.target) {
        Some(target) => ("--target", target),
        None => match env.get("GITHUB_SHA").filter(|_| platform.is_runner()) {
            Some(sha) => ("the workflow's commit (GITHUB_SHA)", sha.to_owned()),
            None => ("--target", "HEAD".to_owned()),
        },
    };
    let base = std::env::current_dir()
        .map_err(|e| Failure::failed(format!("could not read the working directory: {e}")))?;
    Ok(Inputs {
        config: Config {
            repo: given(args.stream.repo).map_or_else(|| PathBuf::from("."), PathBuf::from),
            stream,
            version,
            target,
            target_input,
            first_release: args.stream.first_release,
            include_paths: crate::changelog::globs(&args.stream.paths.include_path),
            exclude_paths: crate::changelog::globs(&args.stream.paths.exclude_path),
            name: given(args.name),
            notes,
            links: links(env, platform),
            draft: args.draft,
            make_latest,
            assets: lines(&args.assets).collect(),
            base,
            allow_empty: args.allow_empty,
            replace_assets: args.replace_assets,
            images,
        },
        dry_run: args.dry_run,
    })
}

/// Which version: exactly one of --tag, --bump, --prerelease and --rc (which may take a
/// --bump), or on a tag push the pushed tag.
fn version_choice(
    stream: &Stream,
    tag: Option<String>,
    bump: Option<String>,
    prerelease: Option<String>,
    rc: bool,
    env: &Env,
    platform: &Platform,
) -> Result<VersionChoice, Failure> {
    let bump = bump
        .map(|b| match b.as_str() {
            "auto" => Ok(BumpChoice::Auto),
            "patch" => Ok(BumpChoice::Fixed(Bump::Patch)),
            "minor" => Ok(BumpChoice::Fixed(Bump::Minor)),
            "major" => Ok(BumpChoice::Fixed(Bump::Major)),
            other => Err(Failure::bad_input(format!(
                "--bump {other:?} is not one of patch, minor, major, auto"
            ))),
        })
        .transpose()?;
    let given: Vec<&str> = [
        tag.as_ref().map(|_| "--tag"),
        prerelease.as_ref().map(|_| "--prerelease"),
        (rc || bump.is_some()).then_some(if rc { "--rc" } else { "--bump" }),
    ]
    .into_iter()
    .flatten()
    .collect();
    if given.len() > 1 {
        return Err(Failure::bad_input(format!(
            "{} exclude each other: each chooses the release's version",
            given.join(" and ")
        )));
    }
    if let Some(base) = prerelease {
        let base = match base.as_str() {
            "auto" => PrereleaseBase::Latest,
            other => other
                .parse()
                .map_err(|_: relkit_version::PrereleaseError| {
                    Failure::bad_input(format!(
                        "--prerelease {other:?} is not one of auto, latest, next"
                    ))
                })?,
        };
        return Ok(VersionChoice::Prerelease(base));
    }
    if rc {
        return Ok(VersionChoice::Candidate(bump.unwrap_or(BumpChoice::Auto)));
    }
    if let Some(bump) = bump {
        return Ok(VersionChoice::Bump(bump));
    }
    let pushed = platform
        .is_runner()
        .then(|| env.get("GITHUB_REF")?.strip_prefix("refs/tags/"))
        .flatten();
    let (input, tag) = match (tag.as_deref(), pushed) {
        (Some(tag), _) => ("--tag", tag),
        (None, Some(tag)) => ("the pushed tag (GITHUB_REF)", tag),
        (None, None) => {
            return Err(Failure::bad_input(
                "say which version to release: --tag, --bump, --prerelease or --rc",
            ));
        }
    };
    let version = match stream.parse_tag(tag) {
        Some(version) => version,
        None => stream.parse_version(input, tag).map_err(|e| {
            match relkit_version::prefix_of(tag).filter(|other| *other != stream.prefix()) {
                Some(other) => Failure::bad_input(format!(
                    "{input} {tag:?} is a tag of the stream {other:?}, not of {:?}: set --tag-prefix {other} (the action's tag-prefix)",
                    stream.prefix()
                )),
                None => Failure::bad_input(chain(&e)),
            }
        })?,
    };
    Ok(VersionChoice::Exact(version))
}

fn show_plan(plan: &Plan, reporter: &mut Reporter) -> Result<(), Failure> {
    show(&plan.to_string(), &plan.warnings, reporter)
}

/// A plan as the log shows it, in a group under a runner, and its warnings as annotations.
/// Names and file names come from the user's inputs: printed as text the runner won't act on.
pub(crate) fn show(
    plan: &str,
    warnings: &[String],
    reporter: &mut Reporter,
) -> Result<(), Failure> {
    if reporter.platform().is_runner() {
        reporter.begin_group("Plan")?;
        reporter.print_untrusted(plan)?;
        reporter.end_group()?;
    } else {
        reporter.info("Plan:")?;
        reporter.print_untrusted(plan)?;
    }
    for warning in warnings {
        reporter.annotate(&Annotation::warning(warning.as_str()))?;
    }
    Ok(())
}

/// The outputs and the step summary: of the release made, or on a dry run of the plan (the
/// release's address and id only when it exists already).
fn finish(
    plan: &Plan,
    release: Option<&Release>,
    dry_run: bool,
    reporter: &mut Reporter,
) -> Result<(), Failure> {
    for (name, value) in [
        ("tag", plan.tag.clone()),
        ("version", plan.version.to_string()),
        ("commit", plan.commit.clone()),
        ("prerelease", plan.prerelease.to_string()),
        (
            "release-url",
            release.map(|r| r.url.clone()).unwrap_or_default(),
        ),
        (
            "release-id",
            release.map(|r| r.id.clone()).unwrap_or_default(),
        ),
        ("manifest", plan.manifest_text.clone()),
    ] {
        reporter.set_output(name, &value)?;
    }
    let mut table = format!(
        "### Release {}{}\n\n| asset | size | sha256 |\n| --- | ---: | --- |\n",
        plan.tag,
        if dry_run {
            " (dry run: planned, nothing changed)"
        } else {
            ""
        }
    );
    for asset in &plan.assets {
        table.push_str(&format!(
            "| `{}` | {} | `{}` |\n",
            asset.file.name.replace('|', "\\|"),
            asset.file.size,
            asset.file.sha256
        ));
    }
    reporter.append_summary(&table)?;
    Ok(())
}
