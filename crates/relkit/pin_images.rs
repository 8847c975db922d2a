//! `relkit pin-images resolve|check|verify`.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use relkit_pin_images::{
    Error, Level, Options, Policy, Problems, Report, Resolution, Rewrite, Verified, apply, check,
    files, pattern_matching, resolve, verify,
};
use relkit_registry::Credentials;
use relkit_workflow::{Annotation, Env, Reporter};

use crate::failure::{Failure, chain};
use crate::flags::{PinImagesArgs, given, lines};

enum Mode {
    Resolve,
    Check,
    Verify,
}

pub fn run(
    args: PinImagesArgs,
    env: &Env,
    net: &relkit_http::Run,
    reporter: &mut Reporter,
) -> Result<(), Failure> {
    let mode = given(args.mode.or(args.mode_flag)).unwrap_or_default();
    let mode = match mode.trim() {
        "resolve" => Mode::Resolve,
        "check" => Mode::Check,
        "verify" => Mode::Verify,
        "" => {
            return Err(Failure::bad_input(
                "say which mode: resolve, check or verify (`relkit pin-images check`)",
            ));
        }
        other => {
            return Err(Failure::bad_input(format!(
                "mode {other:?} is not one of resolve, check, verify"
            )));
        }
    };
    let concurrency = match given(args.concurrency.as_deref()) {
        None => relkit_registry::DEFAULT_CONCURRENCY,
        Some(n) => n
            .parse::<usize>()
            .ok()
            .filter(|n| (1..=64).contains(n))
            .ok_or_else(|| {
                Failure::bad_input(format!("--concurrency {n:?} is not a number from 1 to 64"))
            })?,
    };
    let vars: HashMap<String, String> = env
        .iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
    let base = std::env::current_dir()
        .map_err(|e| Failure::failed(format!("could not read the working directory: {e}")))?;
    let options = Options {
        base: base.clone(),
        registry: relkit_registry::Options {
            run: net.clone(),
            credentials: Credentials::from_env(&vars),
            insecure: lines(&args.insecure_registries).collect(),
            concurrency,
            ..relkit_registry::Options::default()
        },
        env: vars,
    };
    let pins_file = given(args.pins_file).map(PathBuf::from);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| Failure::failed(format!("could not start the async runtime: {e}")))?;
    match mode {
        Mode::Resolve => {
            let patterns: Vec<String> = lines(&args.files).collect();
            if patterns.is_empty() {
                return Err(Failure::bad_input(
                    "resolve needs --files (the deploy files whose images to pin)",
                ));
            }
            if pins_file.is_none() && !args.write {
                return Err(Failure::bad_input(
                    "resolve writes a pins file (--pins-file), rewrites the files (--write), or both: say which",
                ));
            }
            if let Some(pins) = &pins_file {
                pins_target(&base, pins)?;
                // Refused whether or not the pins file exists yet: the first run would write it
                // and every later one read it as a deploy file.
                if let Some(pattern) = pattern_matching(&patterns, &base, pins) {
                    return Err(Failure::bad_input(format!(
                        "--pins-file {} is also one of the --files (it matches {pattern:?}): the pins file is written whole and would be read as a deploy file on the next run; write the pins elsewhere (edge/pins/v1.2.3.env)",
                        pins.display()
                    )));
                }
            }
            let targets = files(&patterns, &base, "files").map_err(|e| one(e, reporter))?;
            if let Some(pins) = &pins_file {
                let same = |a: &Path, b: &Path| match (
                    std::fs::canonicalize(base.join(a)),
                    std::fs::canonicalize(base.join(b)),
                ) {
                    (Ok(a), Ok(b)) => a == b,
                    _ => a == b,
                };
                if let Some(clash) = targets.iter().find(|t| same(t, pins)) {
                    return Err(Failure::bad_input(format!(
                        "--pins-file {} is also one of the --files: the pins file is written whole and would replace it; write the pins elsewhere (edge/pins/v1.2.3.env)",
                        clash.display()
                    )));
                }
            }
            let resolution = runtime
                .block_on(resolve(&targets, &options, args.write))
                .map_err(|p| problems(&p, reporter))?;
            show_resolution(&resolution, reporter)?;
            if args.dry_run {
                reporter.info("--dry-run: nothing was written")?;
                if let Some(path) = &pins_file {
                    reporter.info(&format!("{} would hold:", path.display()))?;
                    reporter.print_untrusted(&resolution.pins_file)?;
                }
                return Ok(());
            }
            let written = apply(&resolution, &base, pins_file.as_deref())
                .map_err(|e| Failure::failed(chain(&e)))?;
            for path in &written {
                let shown = path.strip_prefix(&base).unwrap_or(path);
                reporter.info(&format!("wrote {}", shown.display()))?;
            }
            if written.is_empty() {
                reporter.info("every file already holds these digests: nothing to write")?;
            }
            let changed: Vec<String> = resolution
                .changes
                .iter()
                .map(|c| c.path.display().to_string())
                .collect();
            let pins_file = pins_file
                .map(|p| p.display().to_string())
                .unwrap_or_default();
            let images = resolution.pins.len().to_string();
            outputs(
                reporter,
                &[
                    ("pins", &resolution.pins_file),
                    ("pins-file", &pins_file),
                    ("changed-files", &changed.join("\n")),
                    ("images", &images),
                ],
            )
        }
        Mode::Check => {
            let mut patterns: Vec<String> = lines(&args.production_files).collect();
            if patterns.is_empty() {
                patterns = lines(&args.files).collect();
            }
            if patterns.is_empty() {
                return Err(Failure::bad_input(
                    "check needs --production-files (or --files): the deploy files that reach production",
                ));
            }
            let targets =
                files(&patterns, &base, "production-files").map_err(|e| one(e, reporter))?;
            let report = runtime
                .block_on(check(
                    &targets,
                    &options,
                    Policy {
                        require_digest: args.require_digest,
                        allow_latest: args.allow_latest,
                    },
                    !args.offline,
                ))
                .map_err(|p| problems(&p, reporter))?;
            show_report(&report, reporter)
        }
        Mode::Verify => {
            let Some(path) = pins_file else {
                return Err(Failure::bad_input("verify needs --pins-file"));
            };
            let verified = runtime
                .block_on(verify(&path, &options))
                .map_err(|p| problems(&p, reporter))?;
            show_verified(&path, &verified, reporter)
        }
    }
}

/// Refuses a `--pins-file` that could not be written, before anything is resolved or written:
/// a directory, or a path under a file.
fn pins_target(base: &Path, pins: &Path) -> Result<(), Failure> {
    let full = base.join(pins);
    if full.is_dir() {
        return Err(Failure::bad_input(format!(
            "--pins-file {} is a directory: it names the file the pins are written to (edge/pins/v1.2.3.env)",
            pins.display()
        )));
    }
    if let Some(blocker) = full
        .ancestors()
        .skip(1)
        .find(|a| a.exists())
        .filter(|a| !a.is_dir())
    {
        return Err(Failure::bad_input(format!(
            "--pins-file {}: {} is not a directory, so the pins file cannot be written under it",
            pins.display(),
            blocker.strip_prefix(base).unwrap_or(blocker).display()
        )));
    }
    Ok(())
}

/// One problem: annotated at its file and line when it has them.
fn one(error: Error, reporter: &mut Reporter) -> Failure {
    problems(&Problems(vec![error]), reporter)
}

/// Every problem as an annotation at its file and line, then one failure that counts them.
fn problems(problems: &Problems, reporter: &mut Reporter) -> Failure {
    let bad_input = problems.0.iter().all(Error::is_bad_input);
    if let [only] = problems.0.as_slice()
        && only.location().is_none()
    {
        let failure = if bad_input {
            Failure::bad_input(chain(only))
        } else {
            Failure::failed(chain(only))
        };
        return failure;
    }
    for problem in &problems.0 {
        let mut annotation = Annotation::error(chain(problem));
        if let Some((path, line)) = problem.location()
            && line > 0
        {
            annotation = annotation
                .with_file(path.display().to_string())
                .with_line(u32::try_from(line).unwrap_or(u32::MAX));
        }
        let _ = reporter.annotate(&annotation);
    }
    let message = match problems.0.len() {
        1 => "pin-images stopped before writing anything".to_owned(),
        n => format!("{n} problems; pin-images stopped before writing anything"),
    };
    if bad_input {
        Failure::bad_input(message)
    } else {
        Failure::failed(message)
    }
}

/// Every output of the action, so a workflow can read any of them after any mode: `given`, the
/// rest empty.
fn outputs(reporter: &mut Reporter, given: &[(&str, &str)]) -> Result<(), Failure> {
    for name in [
        "images",
        "errors",
        "warnings",
        "drifted",
        "pins",
        "pins-file",
        "changed-files",
    ] {
        let value = given
            .iter()
            .find(|(n, _)| *n == name)
            .map_or("", |(_, v)| v);
        reporter.set_output(name, value)?;
    }
    Ok(())
}

/// `1 file`, `2 files`.
pub(crate) fn count(n: usize, noun: &str) -> String {
    if n == 1 {
        format!("1 {noun}")
    } else {
        format!("{n} {noun}s")
    }
}

fn cell(text: &str) -> String {
    text.replace('|', "\\|")
}

fn show_resolution(resolution: &Resolution, reporter: &mut Reporter) -> Result<(), Failure> {
    let mut text = String::new();
    let mut table = String::from(
        "### Pinned images\n\n| file | line | image | digest | in the file |\n| --- | ---: | --- | --- | --- |\n",
    );
    for pin in &resolution.pins {
        let state = match &pin.rewrite {
            Rewrite::None => "unchanged".to_owned(),
            Rewrite::Pinned => "rewritten".to_owned(),
            Rewrite::AlreadyPinned => "already pinned".to_owned(),
            Rewrite::Left { why } => format!("left as written: {why}"),
        };
        text.push_str(&format!(
            "{}:{}  {} → {}  ({state})\n",
            pin.found.file.display(),
            pin.found.line,
            pin.found.written,
            pin.digest
        ));
        table.push_str(&format!(
            "| `{}` | {} | `{}` | `{}` | {} |\n",
            cell(&pin.found.file.display().to_string()),
            pin.found.line,
            cell(&pin.found.written),
            pin.digest,
            cell(&state)
        ));
    }
    for (found, why) in &resolution.skipped {
        text.push_str(&format!(
            "{}:{}  {}  (skipped: {why})\n",
            found.file.display(),
            found.line,
            found.written
        ));
        table.push_str(&format!(
            "| `{}` | {} | `{}` | | skipped: {} |\n",
            cell(&found.file.display().to_string()),
            found.line,
            cell(&found.written),
            cell(why)
        ));
    }
    let requests: u64 = resolution.requests.values().sum();
    text.push_str(&format!(
        "{}, {}\n",
        count(resolution.pins.len(), "image"),
        count(
            usize::try_from(requests).unwrap_or(usize::MAX),
            "registry request"
        )
    ));
    reporter.print_untrusted(&text)?;
    reporter.append_summary(&table)?;
    Ok(())
}

fn show_report(report: &Report, reporter: &mut Reporter) -> Result<(), Failure> {
    let mut table = String::from("### Production images\n\n");
    if report.findings.is_empty() {
        table.push_str(&format!(
            "{} in {} follow the release rules.\n",
            count(report.images, "image"),
            count(report.files.len(), "file")
        ));
    } else {
        table.push_str("| | file | line | image | rule | what to do |\n| --- | --- | ---: | --- | --- | --- |\n");
    }
    for finding in &report.findings {
        let annotation = match finding.level {
            Level::Error => Annotation::error(&finding.message),
            Level::Warning => Annotation::warning(&finding.message),
        };
        reporter.annotate(
            &annotation
                .with_title(format!("pin-images: {}", finding.rule))
                .with_file(finding.file.display().to_string())
                .with_line(u32::try_from(finding.line).unwrap_or(u32::MAX))
                .with_col(u32::try_from(finding.column).unwrap_or(u32::MAX)),
        )?;
        table.push_str(&format!(
            "| {} | `{}` | {} | `{}` | {} | {} |\n",
            if finding.level == Level::Error {
                "❌"
            } else {
                "⚠️"
            },
            cell(&finding.file.display().to_string()),
            finding.line,
            cell(&finding.image),
            finding.rule,
            cell(&finding.message)
        ));
    }
    reporter.append_summary(&table)?;
    let errors = report.errors();
    outputs(
        reporter,
        &[
            ("images", &report.images.to_string()),
            ("errors", &errors.to_string()),
            ("warnings", &(report.findings.len() - errors).to_string()),
        ],
    )?;
    if errors > 0 {
        // Images, not findings: one image may break two rules.
        let breaking: std::collections::HashSet<(&std::path::Path, usize)> = report
            .findings
            .iter()
            .filter(|f| f.level == relkit_pin_images::Level::Error)
            .map(|f| (f.file.as_path(), f.line))
            .collect();
        return Err(Failure::failed(format!(
            "{} of {} in production files break the release rules",
            breaking.len(),
            count(report.images, "image")
        ))
        .with_hint("production gets full release tags, pinned by digest: no :latest, no pre-release, no commit tags"));
    }
    reporter.info(&format!(
        "{} in {} follow the release rules",
        count(report.images, "image"),
        count(report.files.len(), "file")
    ))?;
    Ok(())
}

fn show_verified(
    path: &Path,
    verified: &[Verified],
    reporter: &mut Reporter,
) -> Result<(), Failure> {
    let mut table = format!(
        "### Pins in `{}`\n\n| name | image | pinned | now |\n| --- | --- | --- | --- |\n",
        cell(&path.display().to_string())
    );
    let mut drifted = 0;
    for entry in verified {
        let now = match &entry.now {
            Ok(d) if *d == entry.pinned => "same".to_owned(),
            Ok(d) => d.to_string(),
            Err(e) => e.to_string(),
        };
        if entry.drifted() {
            drifted += 1;
            let message = match &entry.now {
                Ok(d) => format!(
                    "{}: {} now names {d}, not the pinned {}",
                    entry.name,
                    entry
                        .reference
                        .with_tag(entry.reference.tag().unwrap_or("latest"))
                        .map_or_else(|_| entry.reference.to_string(), |r| r.to_string()),
                    entry.pinned
                ),
                Err(e) => format!("{}: {e}", entry.name),
            };
            reporter.annotate(
                &Annotation::error(message)
                    .with_title("pin-images: drift")
                    .with_file(path.display().to_string())
                    .with_line(u32::try_from(entry.line).unwrap_or(u32::MAX)),
            )?;
        }
        table.push_str(&format!(
            "| `{}` | `{}` | `{}` | {} |\n",
            cell(&entry.name),
            cell(&entry.reference.to_string()),
            entry.pinned,
            cell(&now)
        ));
    }
    reporter.append_summary(&table)?;
    outputs(
        reporter,
        &[
            ("images", &verified.len().to_string()),
            ("drifted", &drifted.to_string()),
        ],
    )?;
    if drifted > 0 {
        return Err(Failure::failed(format!(
            "{drifted} of {} in {} no longer match their registry",
            count(verified.len(), "pin"),
            path.display()
        ))
        .with_hint("re-run `relkit pin-images resolve` to pin what the tags name now, after checking why they moved"));
    }
    reporter.info(&format!(
        "{} in {} match their registries",
        count(verified.len(), "pin"),
        path.display()
    ))?;
    Ok(())
}
