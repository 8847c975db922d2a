//! `relkit promote-prerelease`: validated inputs in, the plan and every failed check printed,
//! then carried out.

use std::path::{Path, PathBuf};

use relkit_changelog::ConfigSource;
use relkit_forge::Forge;
use relkit_promote_prerelease::{
    Config, Direction, Floating, Plan, PrereleaseChoice, ReleaseChoice, TagStep, apply, plan,
};
use relkit_registry::{Client, Credentials};
use relkit_version::Stream;
use relkit_workflow::{Annotation, Env, Platform, Reporter};

use crate::changelog::links;
use crate::failure::{Failure, chain};
use crate::flags::{PromoteArgs, boolean, given, lines};
use crate::forges::{self, Backend};

/// The validated inputs of one run.
struct Inputs {
    config: Config,
    dry_run: bool,
    /// The incident to open (or close) after the promotion, with its release still to fill in.
    incident: Option<relkit_incident_on_rollback::Config>,
}

/// The promotion's names for incident-on-rollback's outputs.
const INCIDENT: crate::incident::Outputs = ["incident-number", "incident-url", "incident-action"];

pub fn run(
    args: PromoteArgs,
    env: &Env,
    net: &relkit_http::Run,
    reporter: &mut Reporter,
) -> Result<(), Failure> {
    let (inputs, forge_args, insecure) = inputs(args, env, reporter.platform())?;
    let repo = relkit_git::Repository::discover(&inputs.config.repo)
        .map_err(|e| Failure::bad_input(chain(&e)))?;
    let backend = forges::open(forge_args, env, net, reporter, repo)?;
    let vars: std::collections::HashMap<String, String> = env
        .iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
    let registry = Client::new(relkit_registry::Options {
        run: net.clone(),
        credentials: Credentials::from_env(&vars),
        insecure,
        ..relkit_registry::Options::default()
    })
    .map_err(|e| Failure::failed(chain(&e)))?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| Failure::failed(format!("could not start the async runtime: {e}")))?;
    runtime.block_on(async {
        match &backend {
            Backend::Local(forge) => promote(forge, &registry, &inputs, reporter).await,
            Backend::Gitea(forge) => promote(forge.as_ref(), &registry, &inputs, reporter).await,
            Backend::GitHub(forge) => promote(forge.as_ref(), &registry, &inputs, reporter).await,
        }
    })
}

async fn promote<F: Forge>(
    forge: &F,
    registry: &Client,
    inputs: &Inputs,
    reporter: &mut Reporter,
) -> Result<(), Failure> {
    let plan = plan(forge, registry, &inputs.config).await?;
    show_plan(&plan, reporter)?;
    if !plan.failures.is_empty() {
        // Each failure once, as its own annotation; then what it means.
        for failure in &plan.failures {
            reporter.annotate(&Annotation::error(failure.as_str()))?;
        }
        if inputs.dry_run {
            finish(&plan, None, true, reporter)?;
        }
        let refused = relkit_promote_prerelease::Error::Refused {
            failures: plan.failures.clone(),
        };
        let mut failure = Failure::bad_input(format!(
            "the promotion of {} was refused: {} (above); nothing was changed",
            plan.source.tag,
            match plan.failures.len() {
                1 => "1 check failed".to_owned(),
                n => format!("{n} checks failed"),
            }
        ));
        if let Some(hint) = refused.hint() {
            failure = failure.with_hint(hint);
        }
        return Err(failure);
    }
    if inputs.dry_run {
        reporter.info("--dry-run: nothing was changed")?;
        for name in INCIDENT {
            reporter.set_output(name, "")?;
        }
        return finish(&plan, None, true, reporter);
    }
    if plan.is_noop() {
        reporter.info(&format!("{} is already promoted as planned", plan.tag))?;
    }
    let mut log_failed = false;
    let outcome = apply(forge, registry, &plan, &mut |line| {
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
    finish(&plan, Some(&outcome.release), false, reporter)?;
    if let Some(incident) = &inputs.incident {
        // The playbook's "incident issue auto-created": a rollback opens its incident, a forward
        // promotion closes the stream's. The promotion is done whatever happens here.
        // What the promotion knows already: the release rolled back from and the pre-release.
        let config = relkit_incident_on_rollback::Config {
            release: plan.tag.clone(),
            bad_version: match &plan.direction {
                Direction::Rollback { from } => Some(from.clone()),
                Direction::Forward => None,
            },
            source: Some(plan.source.tag.clone()),
            ..incident.clone()
        };
        crate::incident::incident(forge, &config, false, INCIDENT, reporter)
            .await
            .map_err(|f| Failure {
                status: relkit_workflow::ExitStatus::Failed,
                message: format!(
                    "{} is promoted; its incident was not: {}",
                    plan.tag, f.message
                ),
                hint: f.hint.or_else(|| {
                    Some(
                        "run it again: the promotion is done, and the incident is opened once"
                            .to_owned(),
                    )
                }),
            })?;
    } else {
        for name in INCIDENT {
            reporter.set_output(name, "")?;
        }
    }
    if !outcome.audit.is_empty() {
        let lines = outcome.audit_jsonl();
        reporter.append_summary(&format!("\n#### Audit log\n\n```json\n{lines}```\n"))?;
    }
    Ok(())
}

type Parsed = (Inputs, crate::flags::ForgeArgs, Vec<String>);

fn inputs(args: PromoteArgs, env: &Env, platform: &Platform) -> Result<Parsed, Failure> {
    let bad = |e: &dyn std::error::Error| Failure::bad_input(chain(e));
    let stream = Stream::new(&args.tag_prefix).map_err(|e| bad(&e))?;
    let prerelease = match given(args.pre_release).as_deref() {
        None => {
            return Err(Failure::bad_input(
                "say which pre-release to promote: --pre-release TAG (RELKIT_PRE_RELEASE), or latest",
            ));
        }
        Some("latest") => PrereleaseChoice::Latest,
        Some(tag) => PrereleaseChoice::Tag(tag.to_owned()),
    };
    let release = match given(args.release_version).as_deref() {
        None => {
            return Err(Failure::bad_input(
                "say which version to release: --release-version (RELKIT_RELEASE_VERSION) v1.2.3, or auto",
            ));
        }
        Some("auto") => ReleaseChoice::Auto,
        Some(value) => {
            let version = stream
                .parse_tag(value)
                .map_or_else(
                    || stream.parse_version("--release-version (RELKIT_RELEASE_VERSION)", value),
                    Ok,
                )
                .map_err(|e| bad(&e))?;
            ReleaseChoice::Version(version)
        }
    };
    let is_rollback = boolean(
        args.is_rollback.as_deref(),
        false,
        "--is-rollback (RELKIT_IS_ROLLBACK)",
    )
    .map_err(Failure::bad_input)?;
    let require_checks = boolean(
        args.require_checks.as_deref(),
        true,
        "--require-checks (RELKIT_REQUIRE_CHECKS)",
    )
    .map_err(Failure::bad_input)?;
    let floating = floating(given(args.floating_tags).as_deref())?;
    let blocker_labels: Vec<String> = given(args.blocker_labels)
        .unwrap_or_else(|| "priority:p0,priority:p1,release-blocker".to_owned())
        .split(',')
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(str::to_owned)
        .collect();
    let keep_stable = match given(args.keep_stable) {
        None => 2,
        Some(n) => n.trim().parse().map_err(|_| {
            Failure::bad_input(format!(
                "--keep-stable (RELKIT_KEEP_STABLE) {n:?} is not a number of releases"
            ))
        })?,
    };
    let override_reason = match (args.override_gates, given(args.override_reason)) {
        (true, Some(reason)) if !reason.trim().is_empty() => Some(reason.trim().to_owned()),
        (true, _) => {
            return Err(Failure::bad_input(
                "--override-gates needs --override-reason (RELKIT_OVERRIDE_REASON): the release records why",
            ));
        }
        (false, Some(reason)) if !reason.trim().is_empty() => Some(reason.trim().to_owned()),
        (false, _) => None,
    };
    let images = images(&args.images)?;
    let notes_config = match given(args.config) {
        None => ConfigSource::Discover,
        Some(c) if c == "builtin" => ConfigSource::Builtin,
        Some(c) => ConfigSource::File(c.into()),
    };
    let run_url = crate::incident::run_url(env, platform);
    let config = Config {
        repo: given(args.repo).map_or_else(|| PathBuf::from("."), PathBuf::from),
        stream,
        include_paths: crate::changelog::globs(&args.paths.include_path),
        exclude_paths: crate::changelog::globs(&args.paths.exclude_path),
        prerelease,
        release,
        is_rollback,
        images,
        floating,
        blocker_labels,
        require_checks,
        allow_no_checks: args.allow_no_checks,
        keep_stable,
        override_gates: args.override_gates,
        override_reason,
        strict_bump: args.strict_bump,
        notes_config,
        notes_file: given(args.notes_file).map(PathBuf::from),
        links: links(env, platform),
        actor: env.get("GITHUB_ACTOR").map(str::to_owned),
        run_url,
    };
    let insecure = lines(&args.insecure_registries).collect();
    let open_incident = boolean(
        args.open_incident.as_deref(),
        true,
        "--open-incident (RELKIT_OPEN_INCIDENT)",
    )
    .map_err(Failure::bad_input)?;
    let incident = open_incident.then(|| {
        crate::incident::after_promotion(
            config.repo.clone(),
            config.stream.clone(),
            String::new(),
            env,
            platform,
        )
    });
    Ok((
        Inputs {
            config,
            dry_run: args.dry_run,
            incident,
        },
        args.forge,
        insecure,
    ))
}

/// `latest,minor,major`, any of them, or `none`.
fn floating(value: Option<&str>) -> Result<Floating, Failure> {
    let Some(value) = value else {
        return Ok(Floating::default());
    };
    let mut floating = Floating {
        latest: false,
        minor: false,
        major: false,
    };
    for item in value.split(',').map(str::trim).filter(|i| !i.is_empty()) {
        match item {
            "latest" => floating.latest = true,
            "minor" => floating.minor = true,
            "major" => floating.major = true,
            "none" => {}
            other => {
                return Err(Failure::bad_input(format!(
                    "--floating-tags (RELKIT_FLOATING_TAGS) {other:?} is not one of latest, minor, major, none"
                )));
            }
        }
    }
    Ok(floating)
}

/// The repositories of `--images`: lines, or a JSON file (the CANFAR playbook's
/// `release-images.json`: a list of objects naming an image).
fn images(values: &[String]) -> Result<Option<Vec<String>>, Failure> {
    let items: Vec<String> = lines(values).collect();
    match items.as_slice() {
        [] => Ok(None),
        [one] if one.ends_with(".json") => {
            let path = Path::new(one);
            let text = std::fs::read_to_string(path).map_err(|e| {
                Failure::bad_input(format!(
                    "--images (RELKIT_IMAGES) {one:?} cannot be read: {e}"
                ))
            })?;
            images_json(one, &text).map(Some)
        }
        _ => Ok(Some(items)),
    }
}

fn images_json(file: &str, text: &str) -> Result<Vec<String>, Failure> {
    let value: serde_json::Value = serde_json::from_str(text)
        .map_err(|e| Failure::bad_input(format!("--images {file}: not JSON: {e}")))?;
    let list = value
        .as_array()
        .or_else(|| value.get("images").and_then(|v| v.as_array()))
        .ok_or_else(|| {
            Failure::bad_input(format!(
                "--images {file}: expected a list of images (or an object with an `images` list)"
            ))
        })?;
    list.iter()
        .enumerate()
        .map(|(i, item)| {
            let name = item.as_str().or_else(|| {
                ["image", "repository", "name"]
                    .iter()
                    .find_map(|k| item.get(k).and_then(|v| v.as_str()))
            });
            name.map(str::to_owned).ok_or_else(|| {
                Failure::bad_input(format!(
                    "--images {file}: [{i}] names no image (a string, or an object with `image`, `repository` or `name`)"
                ))
            })
        })
        .collect()
}

fn show_plan(plan: &Plan, reporter: &mut Reporter) -> Result<(), Failure> {
    crate::create_release::show(&plan.to_string(), &plan.warnings, reporter)
}

/// The outputs and the step summary: of the release made, or on a dry run of the plan.
fn finish(
    plan: &Plan,
    release: Option<&relkit_forge::Release>,
    dry_run: bool,
    reporter: &mut Reporter,
) -> Result<(), Failure> {
    let images: serde_json::Map<String, serde_json::Value> = plan
        .images
        .iter()
        .map(|i| {
            let tags: Vec<&str> = i
                .targets
                .iter()
                .filter(|t| t.step != TagStep::Hold)
                .map(|t| t.tag.as_str())
                .collect();
            (
                i.repository.clone(),
                serde_json::json!({ "digest": i.digest.to_string(), "tags": tags }),
            )
        })
        .collect();
    let (is_rollback, from) = match &plan.direction {
        Direction::Rollback { from } => (true, from.clone()),
        Direction::Forward => (false, String::new()),
    };
    let notes = match (&plan.publication, &plan.reuse) {
        (Some(publication), _) => publication.body.clone(),
        (None, Some(reuse)) => reuse.release.body.clone(),
        (None, None) => String::new(),
    };
    for (name, value) in [
        ("release-tag", plan.tag.clone()),
        ("version", plan.version.to_string()),
        ("commit", plan.source.commit.clone()),
        (
            "release-url",
            release.map(|r| r.url.clone()).unwrap_or_default(),
        ),
        ("images", serde_json::Value::Object(images).to_string()),
        ("is-rollback", is_rollback.to_string()),
        ("rolled-back-from", from),
        ("bump", plan.bump.to_string()),
        ("notes", notes),
    ] {
        reporter.set_output(name, &value)?;
    }
    let mut summary = format!(
        "### Promotion {} → {}{}\n\n",
        plan.source.tag,
        plan.tag,
        if dry_run {
            " (dry run: planned, nothing changed)"
        } else {
            ""
        }
    );
    // A fence longer than any run of backticks in the text (an issue title may hold some).
    let text = plan.to_string();
    let longest = text.split(|c| c != '`').map(str::len).max().unwrap_or(0);
    let fence = "`".repeat(longest.max(2) + 1);
    summary.push_str(&format!("{fence}text\n{text}{fence}\n\n"));
    summary.push_str("| gate | outcome | detail |\n| --- | --- | --- |\n");
    for gate in &plan.gates {
        summary.push_str(&format!(
            "| {} | {:?} | {} |\n",
            gate.name,
            gate.outcome,
            gate.detail.replace('|', "\\|")
        ));
    }
    if !plan.images.is_empty() {
        summary.push_str("\n```mermaid\nflowchart LR\n");
        summary.push_str(&format!(
            "  pre[\"{}\"] --> rel[\"{}\"]\n",
            plan.source.tag, plan.tag
        ));
        for (n, image) in plan.images.iter().enumerate() {
            let tags: Vec<&str> = image
                .targets
                .iter()
                .filter(|t| t.step != TagStep::Hold)
                .map(|t| t.tag.as_str())
                .collect();
            summary.push_str(&format!(
                "  rel --> img{n}[\"{}@{}<br/>{}\"]\n",
                image.repository,
                image.digest,
                tags.join(", ")
            ));
        }
        summary.push_str("```\n");
    }
    if !plan.failures.is_empty() {
        summary.push_str("\n**Refused:**\n\n");
        for failure in &plan.failures {
            summary.push_str(&format!("- {failure}\n"));
        }
    }
    reporter.append_summary(&summary)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_images_file_is_a_list_of_names_or_of_objects_naming_an_image() {
        let got = images_json(
            "release-images.json",
            r#"[{"image": "ghcr.io/acme/api", "build": "api/"}, {"name": "ghcr.io/acme/web"}, "ghcr.io/acme/cli"]"#,
        )
        .map_err(|f| f.message)
        .expect("a list");
        assert_eq!(
            got,
            ["ghcr.io/acme/api", "ghcr.io/acme/web", "ghcr.io/acme/cli"]
        );
        let wrapped = images_json("f.json", r#"{"images": [{"repository": "x/y"}]}"#)
            .map_err(|f| f.message)
            .expect("an object with a list");
        assert_eq!(wrapped, ["x/y"]);
    }

    #[test]
    fn a_malformed_images_file_is_named_with_its_json_path() {
        let err = images_json("release-images.json", r#"[{"image": "a/b"}, {"tag": "1"}]"#)
            .expect_err("no image in [1]");
        assert!(
            err.message
                .contains("release-images.json: [1] names no image"),
            "{}",
            err.message
        );
        let err = images_json("f.json", "{not json").expect_err("not JSON");
        assert!(
            err.message.contains("--images f.json: not JSON"),
            "{}",
            err.message
        );
    }
}
