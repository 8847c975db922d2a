//! What the user typed: clap's view of the command line, before any validation.
//!
//! Every flag has an environment fallback (`RELKIT_*`), which is how the composite actions pass
//! their inputs: a step maps each input to its variable under `env:`, so no input is ever pasted
//! into a shell script. Validation into typed requests happens in the command modules.
//!
//! An action passes every input, so an input left empty arrives as an empty variable. clap takes
//! an empty variable as an empty value, not as an absent one; the flags are typed to match: text
//! and paths are read as strings (empty means the default, see [`given`]), and switches accept
//! an empty value as off. Flags that exclude each other are checked by value in the command
//! modules, because clap counts a switch set to `false` by its variable as given.

use std::ffi::OsString;

use clap::{Args, Parser, Subcommand};

/// Carry a release from a tested pre-release to production.
#[derive(Debug, Parser)]
#[command(
    name = "relkit",
    version,
    about,
    after_help = "Exit codes: 0 done, 1 failed, 2 bad input.",
    max_term_width = 100
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Release notes from conventional commits, and the semver bump they call for.
    Changelog(ChangelogArgs),
}

impl Command {
    /// The names relkit answers to when called through a link: `changelog` or `relkit-changelog`.
    pub const MULTI_CALL: &'static [&'static str] = &["changelog"];
}

/// Flags of `relkit changelog`.
#[derive(Debug, Args)]
pub struct ChangelogArgs {
    /// A directory inside the repository [default: .]
    #[arg(long, env = "RELKIT_REPO", value_name = "DIR")]
    pub repo: Option<OsString>,

    /// The tag stream: the prefix before the version (`v`, `edge/v`, `cloud/v`; empty for none).
    #[arg(
        long,
        env = "RELKIT_TAG_PREFIX",
        default_value = "v",
        value_name = "PREFIX"
    )]
    pub tag_prefix: String,

    /// Start after this tag or commit (notes of FROM..TO, as `git cliff FROM..TO`).
    #[arg(long, env = "RELKIT_FROM", value_name = "REV")]
    pub from: Option<String>,

    /// End at this tag, branch or commit [default: HEAD]
    #[arg(long, env = "RELKIT_TO", value_name = "REV")]
    pub to: Option<String>,

    /// The whole history, one section per release (as `git cliff`).
    #[arg(long, env = "RELKIT_ALL", value_parser = switch)]
    pub all: bool,

    /// Only commits that change files matching this glob (repeat, or separate with commas).
    #[arg(
        long,
        env = "RELKIT_INCLUDE_PATH",
        value_name = "GLOB",
        value_delimiter = ','
    )]
    pub include_path: Vec<String>,

    /// Leave out commits that change only files matching this glob.
    #[arg(
        long,
        env = "RELKIT_EXCLUDE_PATH",
        value_name = "GLOB",
        value_delimiter = ','
    )]
    pub exclude_path: Vec<String>,

    /// git-cliff configuration to use, or `builtin` for relkit's own. Default: the
    /// repository's `cliff.toml` (or its git-cliff section in Cargo.toml/pyproject.toml).
    #[arg(long, env = "RELKIT_CONFIG", value_name = "FILE")]
    pub config: Option<OsString>,

    /// Prepend the notes to this changelog file (with --all: write the whole changelog).
    /// Running it twice adds nothing.
    #[arg(long, env = "RELKIT_WRITE", value_name = "FILE")]
    pub write: Option<OsString>,

    /// Also write the notes to this file (default under a runner: $RUNNER_TEMP/relkit-notes.md).
    #[arg(long, env = "RELKIT_NOTES_FILE", value_name = "FILE")]
    pub notes_file: Option<OsString>,

    /// Use this version for the next release instead of the one the commits call for.
    #[arg(long, env = "RELKIT_NEXT_VERSION", value_name = "SEMVER")]
    pub next_version: Option<String>,

    /// The stream has never been released: no tag with its prefix is expected.
    #[arg(long, env = "RELKIT_FIRST_RELEASE", value_parser = switch)]
    pub first_release: bool,
}

/// A switch's value from its variable: `true`/`false` as the actions write them, the usual
/// yes/no spellings, and empty for off.
fn switch(value: &str) -> Result<bool, String> {
    match value.trim().to_ascii_lowercase().as_str() {
        "true" | "yes" | "on" | "1" => Ok(true),
        "false" | "no" | "off" | "0" | "" => Ok(false),
        _ => Err("expected true or false".to_owned()),
    }
}

/// A text or path flag that was given a value: an empty one (an action input left empty) is
/// the same as none.
pub fn given<T: AsRef<std::ffi::OsStr>>(value: Option<T>) -> Option<T> {
    value.filter(|v| !v.as_ref().is_empty())
}
