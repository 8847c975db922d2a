//! `relkit`: one binary behind the five composite actions.
//!
//! Only this file reads the process environment and the command line; everything below it takes
//! an [`Env`] and a [`Reporter`]. The exit code is 0 when the command did its job, 1 when
//! something failed (a re-run converges), 2 when an input was invalid and nothing was changed.

mod changelog;
mod create_release;
mod failure;
mod flags;
mod forges;
mod incident;
mod pin_images;
mod promote;

use std::ffi::OsString;
use std::io::{IsTerminal, Write as _};
use std::path::Path;
use std::process::ExitCode;

use clap::Parser;
use relkit_workflow::{Annotation, Env, ExitStatus, Reporter};

use crate::failure::Failure;
use crate::flags::{Cli, Command};

fn main() -> ExitCode {
    quiet_panics();
    let env = Env::from_os_vars(std::env::vars_os());
    let color = wants_color(&env);
    let log: Box<dyn std::io::Write + Send> = Box::new(std::io::stdout());
    let mut reporter: Reporter =
        Reporter::new(&env, log, color).with_diagnostics(Box::new(std::io::stderr()));
    let status = match Cli::try_parse_from(multi_call(std::env::args_os())) {
        Ok(cli) => run(cli, &env, &mut reporter),
        Err(err) if !err.use_stderr() => {
            // --help and --version: clap prints them and this is a success.
            let _ = err.print();
            ExitStatus::Done
        }
        Err(err) => {
            // clap starts its message with its own "error: ", which the annotation adds too.
            let message = err.render().to_string();
            let message = message.trim_end();
            let message = message.strip_prefix("error: ").unwrap_or(message);
            report(&mut reporter, &Failure::bad_input(message))
        }
    };
    let _ = reporter.flush();
    status.into()
}

fn run(cli: Cli, env: &Env, reporter: &mut Reporter) -> ExitStatus {
    let net = match network(cli.deadline.as_deref()) {
        Ok(net) => net,
        Err(failure) => return report(reporter, &failure),
    };
    let result = match cli.command {
        Command::Changelog(args) => changelog::run(args, env, reporter),
        Command::CreateRelease(args) => create_release::run(*args, env, &net, reporter),
        Command::PinImages(args) => pin_images::run(args, env, &net, reporter),
        Command::PromotePrerelease(args) => promote::run(*args, env, &net, reporter),
        Command::IncidentOnRollback(args) => incident::run(*args, env, &net, reporter),
    };
    match result {
        Ok(()) => ExitStatus::Done,
        Err(failure) => report(reporter, &failure),
    }
}

/// What every forge and registry client of the run shares: the deadline `--deadline` sets, and
/// a line on stderr (the runner's log) for each retry and wait as it starts, so a run that waits
/// is never silent.
fn network(deadline: Option<&str>) -> Result<relkit_http::Run, Failure> {
    let deadline = match deadline.map(str::trim).filter(|d| !d.is_empty()) {
        None => None,
        Some(text) => match text.parse::<u64>() {
            Ok(seconds) if seconds > 0 => Some(relkit_http::Deadline::after(seconds, "--deadline")),
            _ => {
                return Err(Failure::bad_input(format!(
                    "--deadline (RELKIT_DEADLINE) {text:?} is not a whole number of seconds above 0"
                )));
            }
        },
    };
    Ok(relkit_http::Run {
        deadline,
        notice: Some(std::sync::Arc::new(|line: &str| {
            use std::io::Write as _;
            // A lost notice line must not stop the run.
            let _ = writeln!(std::io::stderr().lock(), "{line}");
        })),
    })
}

fn report(reporter: &mut Reporter, failure: &Failure) -> ExitStatus {
    let mut annotation = Annotation::error(&failure.message);
    if let Some(hint) = &failure.hint {
        annotation = annotation.with_hint(hint);
    }
    if reporter.annotate(&annotation).is_err() {
        // The log itself is gone (a closed pipe): the exit code still tells.
        return ExitStatus::Failed;
    }
    failure.status
}

/// No panic text reaches the user. A library thread that panics (git-cliff-core's stdin writer
/// did, on a command that exits without reading) says nothing: the code waiting for its work
/// reports the failure. A panic of relkit's own is a bug, and says so in one line.
fn quiet_panics() {
    std::panic::set_hook(Box::new(|info| {
        if std::thread::current().name() != Some("main") {
            return;
        }
        let at = info
            .location()
            .map(|l| format!(" at {}:{}", l.file(), l.line()))
            .unwrap_or_default();
        let _ = writeln!(
            std::io::stderr(),
            "relkit stopped on an internal error{at}; please report it at https://github.com/relkit/relkit/issues"
        );
    }));
}

/// Called through a link named after an action (`changelog`, `relkit-changelog`), relkit runs
/// that action's subcommand.
fn multi_call(args: impl Iterator<Item = OsString>) -> Vec<OsString> {
    let mut args: Vec<OsString> = args.collect();
    let name = args
        .first()
        .and_then(|a| Path::new(a).file_stem())
        .and_then(|s| s.to_str())
        .map(|s| s.strip_prefix("relkit-").unwrap_or(s).to_owned());
    if let Some(name) = name
        && Command::MULTI_CALL.contains(&name.as_str())
    {
        // Usage lines read `relkit pin-images …`, not `pin-images pin-images …`.
        args[0] = OsString::from("relkit");
        args.insert(1, OsString::from(name));
    }
    args
}

/// Colour in a terminal unless `NO_COLOR` is set; `CLICOLOR_FORCE` forces it. What is painted
/// (messages, findings, headings) goes to stderr, so that is the terminal asked.
fn wants_color(env: &Env) -> bool {
    if env.get("CLICOLOR_FORCE").is_some_and(|v| v != "0") {
        return true;
    }
    env.get("NO_COLOR").is_none() && std::io::stderr().is_terminal()
}
