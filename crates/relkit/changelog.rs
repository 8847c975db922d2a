//! `relkit changelog`: validated inputs in, notes and the version decision out.

use std::path::PathBuf;

use relkit_changelog::{ConfigSource, Notes, Range, RepoLinks, Request, WriteOutcome};
use relkit_version::Stream;
use relkit_workflow::{Env, Platform, Reporter};

use crate::failure::{Failure, chain};
use crate::flags::{ChangelogArgs, given};

/// The validated inputs of one run.
struct Plan {
    request: Request,
    write: Option<PathBuf>,
    notes_file: Option<PathBuf>,
}

pub fn run(args: ChangelogArgs, env: &Env, reporter: &mut Reporter) -> Result<(), Failure> {
    let plan = plan(args, env, reporter.platform())?;
    let notes = relkit_changelog::generate(&plan.request)?;
    if let (Some(next), Some(previous)) = (&plan.request.next_version, &notes.previous)
        && *next <= previous.version
    {
        return Err(Failure::bad_input(format!(
            "--next-version {next} is not above {}, the release the notes follow",
            previous.tag
        )));
    }

    let mut written = Vec::new();
    if let Some(path) = &plan.notes_file {
        std::fs::write(path, &notes.markdown).map_err(|e| {
            Failure::failed(format!(
                "could not write the notes to {}: {}",
                path.display(),
                chain(&e)
            ))
        })?;
    }
    if let Some(path) = &plan.write {
        let outcome = notes.write(path)?;
        written.push((path.clone(), outcome));
    }
    show(&notes, &written, reporter)?;
    outputs(&notes, plan.notes_file.as_deref(), reporter)?;
    Ok(())
}

fn plan(args: ChangelogArgs, env: &Env, platform: &Platform) -> Result<Plan, Failure> {
    let from = given(args.from);
    let write = given(args.write).map(PathBuf::from);
    if args.all && from.is_some() {
        return Err(Failure::bad_input(
            "--all and --from (inputs `all` and `from`) exclude each other: \
             --all covers the whole history",
        ));
    }
    if write.is_some() && from.is_some() {
        return Err(Failure::bad_input(
            "--write and --from (inputs `write` and `from`) exclude each other: \
             a changelog file gets the unreleased notes or, with --all, the whole history",
        ));
    }
    let stream = Stream::new(&args.stream.tag_prefix).map_err(|e| Failure::bad_input(chain(&e)))?;
    let next_version = given(args.next_version)
        .map(|v| stream.parse_version("--next-version", &v))
        .transpose()
        .map_err(|e| Failure::bad_input(chain(&e)))?;
    let to = given(args.to).unwrap_or_else(|| "HEAD".to_owned());
    let range = match (args.all, from) {
        (true, _) => Range::All { to },
        (false, Some(from)) => Range::Between { from, to },
        (false, None) => Range::Unreleased { to },
    };
    let config = match given(args.config) {
        None => ConfigSource::Discover,
        Some(path) if path == "builtin" => ConfigSource::Builtin,
        Some(path) => ConfigSource::File(path.into()),
    };
    let notes_file = given(args.notes_file).map(PathBuf::from).or_else(|| {
        platform
            .is_runner()
            .then(|| env.get("RUNNER_TEMP"))
            .flatten()
            .map(|dir| PathBuf::from(dir).join("relkit-notes.md"))
    });
    Ok(Plan {
        request: Request {
            repo: given(args.stream.repo).map_or_else(|| PathBuf::from("."), PathBuf::from),
            stream,
            range,
            include_paths: globs(&args.stream.paths.include_path),
            exclude_paths: globs(&args.stream.paths.exclude_path),
            config,
            links: links(env, platform),
            first_release: args.stream.first_release,
            next_version,
            next_version_source: None,
        },
        write,
        notes_file,
    })
}

/// Path globs from a comma-separated input: spaces around each trimmed, empty ones dropped.
pub(crate) fn globs(values: &[String]) -> Vec<String> {
    values
        .iter()
        .map(|g| g.trim())
        .filter(|g| !g.is_empty())
        .map(str::to_owned)
        .collect()
}

/// Links to the repository on the forge the runner belongs to.
pub(crate) fn links(env: &Env, platform: &Platform) -> Option<RepoLinks> {
    let server = platform.server_url()?;
    let repository = env.get("GITHUB_REPOSITORY")?;
    let web = format!("{}/{repository}", server.trim_end_matches('/'));
    Some(match platform {
        Platform::Gitea { .. } | Platform::Forgejo { .. } => RepoLinks::gitea(&web),
        _ => RepoLinks::github(&web),
    })
}

fn show(
    notes: &Notes,
    written: &[(PathBuf, WriteOutcome)],
    reporter: &mut Reporter,
) -> Result<(), Failure> {
    let previous = notes
        .previous
        .as_ref()
        .map_or_else(|| "no release yet".to_owned(), |p| p.tag.clone());
    reporter.info(&format!(
        "{} → {} ({}), {}, notes from {}",
        previous,
        notes.next_tag,
        notes.decision.bump,
        crate::pin_images::count(notes.commits, "commit"),
        notes.origin
    ))?;
    for (path, outcome) in written {
        let what = match outcome {
            WriteOutcome::Created => "created",
            WriteOutcome::Updated => "updated",
            WriteOutcome::Unchanged => "already up to date",
        };
        reporter.info(&format!("{}: {what}", path.display()))?;
    }
    // Notes are made of commit messages: text relkit did not write.
    if reporter.platform().is_runner() {
        reporter.begin_group("Release notes")?;
        reporter.print_untrusted(&notes.markdown)?;
        reporter.end_group()?;
        reporter.append_summary(&notes.markdown)?;
    } else {
        reporter.info("")?;
        reporter.print_untrusted(&notes.markdown)?;
    }
    Ok(())
}

fn outputs(
    notes: &Notes,
    notes_file: Option<&std::path::Path>,
    reporter: &mut Reporter,
) -> Result<(), Failure> {
    let previous_version = notes
        .previous
        .as_ref()
        .map(|p| p.version.to_string())
        .unwrap_or_default();
    let previous_tag = notes
        .previous
        .as_ref()
        .map(|p| p.tag.clone())
        .unwrap_or_default();
    let notes_file = notes_file
        .map(|p| p.display().to_string())
        .unwrap_or_default();
    for (name, value) in [
        ("bump", notes.decision.bump.to_string()),
        ("next-version", notes.decision.next.to_string()),
        ("next-tag", notes.next_tag.clone()),
        ("previous-version", previous_version),
        ("previous-tag", previous_tag),
        ("reason", notes.decision.reason.clone()),
        ("commits", notes.commits.to_string()),
        ("notes", notes.markdown.clone()),
        ("notes-file", notes_file),
    ] {
        reporter.set_output(name, &value)?;
    }
    Ok(())
}
