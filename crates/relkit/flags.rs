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

    /// The most seconds the whole run may take talking to forges and registries: nothing waits
    /// or is sent past it [default: no limit]
    #[arg(long, global = true, env = "RELKIT_DEADLINE", value_name = "SECONDS")]
    pub deadline: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Release notes from conventional commits, and the semver bump they call for.
    Changelog(ChangelogArgs),
    /// Tag, release and assets with SHA-256 sums; or the next pre-release or release candidate.
    // Boxed: its flags outweigh the other commands' several times over.
    CreateRelease(Box<CreateReleaseArgs>),
    /// Pin image tags to digests, check production deploy files, verify a pins file.
    PinImages(PinImagesArgs),
    /// Promote a tested pre-release to a release: the same commit, the same image digests,
    /// gates checked; a rollback promotes an older pre-release the same way.
    PromotePrerelease(Box<PromoteArgs>),
    /// Open the incident issue of a rollback (or comment on it when it is open); close the
    /// stream's incidents when a forward promotion recovers.
    IncidentOnRollback(Box<IncidentArgs>),
}

impl Command {
    /// The names relkit answers to when called through a link: `changelog` or `relkit-changelog`.
    pub const MULTI_CALL: &'static [&'static str] = &[
        "changelog",
        "create-release",
        "pin-images",
        "promote-prerelease",
        "incident-on-rollback",
    ];
}

/// Which repository and which of its tag streams: flags every command shares.
#[derive(Debug, Args)]
pub struct StreamArgs {
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

    /// The stream has never been released: no tag with its prefix is expected (without it, a
    /// prefix with no tags in a repository that has other version tags is refused as a typo).
    #[arg(long, env = "RELKIT_FIRST_RELEASE", value_parser = switch)]
    pub first_release: bool,

    #[command(flatten)]
    pub paths: PathArgs,
}

/// Which commits belong to a stream, by the files they change.
#[derive(Debug, Args)]
pub struct PathArgs {
    /// Only commits that change files matching this glob count for the stream (repeat, or
    /// separate with commas): a monorepo's component.
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
}

/// Flags of `relkit changelog`.
#[derive(Debug, Args)]
pub struct ChangelogArgs {
    #[command(flatten)]
    pub stream: StreamArgs,

    /// Start after this tag or commit (notes of FROM..TO, as `git cliff FROM..TO`).
    #[arg(long, env = "RELKIT_FROM", value_name = "REV")]
    pub from: Option<String>,

    /// End at this tag, branch or commit [default: HEAD]
    #[arg(long, env = "RELKIT_TO", value_name = "REV")]
    pub to: Option<String>,

    /// The whole history, one section per release (as `git cliff`).
    #[arg(long, env = "RELKIT_ALL", value_parser = switch)]
    pub all: bool,

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
}

/// Flags of `relkit create-release`.
#[derive(Debug, Args)]
pub struct CreateReleaseArgs {
    #[command(flatten)]
    pub release: ReleaseArgs,

    #[command(flatten)]
    pub forge: ForgeArgs,
}

/// What to release: the flags of `relkit create-release` other than the forge's.
#[derive(Debug, Args)]
pub struct ReleaseArgs {
    #[command(flatten)]
    pub stream: StreamArgs,

    /// The release's tag or version (`v1.2.3` or `1.2.3`). Default on a tag push: the pushed tag.
    #[arg(long, env = "RELKIT_TAG", value_name = "TAG")]
    pub tag: Option<String>,

    /// Release the newest full release bumped by `patch`, `minor` or `major`, or by what the
    /// commits call for (`auto`).
    #[arg(long, env = "RELKIT_BUMP", value_name = "BUMP")]
    pub bump: Option<String>,

    /// Mint the next pre-release `X.Y.Z-pre.N+sha7` of the target: `auto` or `latest` names it
    /// after the newest full release, `next` after the version the commits lead to.
    #[arg(long, env = "RELKIT_PRERELEASE", value_name = "BASE")]
    pub prerelease: Option<String>,

    /// Mint the next release candidate `X.Y.Z-rc.N` of the version --bump leads to (default
    /// auto).
    #[arg(long, env = "RELKIT_RC", value_parser = switch)]
    pub rc: bool,

    /// The commit to release [default: GITHUB_SHA under a runner, else HEAD]
    #[arg(long, env = "RELKIT_TARGET", value_name = "REV")]
    pub target: Option<String>,

    /// The release's title [default: the tag]
    #[arg(long, env = "RELKIT_NAME", value_name = "TEXT")]
    pub name: Option<String>,

    /// The release notes from this file instead of the changelog.
    #[arg(long, env = "RELKIT_NOTES_FILE", value_name = "FILE")]
    pub notes_file: Option<OsString>,

    /// git-cliff configuration for the notes, or `builtin`. Default: the repository's own.
    #[arg(long, env = "RELKIT_CONFIG", value_name = "FILE")]
    pub config: Option<OsString>,

    /// Files to attach: globs relative to the working directory, one per line (repeat the flag
    /// or put several lines in one value).
    #[arg(long, env = "RELKIT_ASSETS", value_name = "GLOBS")]
    pub assets: Vec<String>,

    /// A glob that matches no file is not an error.
    #[arg(long, env = "RELKIT_ALLOW_EMPTY", value_parser = switch)]
    pub allow_empty: bool,

    /// Replace an asset that holds different bytes (never done otherwise).
    #[arg(long, env = "RELKIT_REPLACE_ASSETS", value_parser = switch)]
    pub replace_assets: bool,

    /// Images the release ships, for the manifest: `NAME=REFERENCE@sha256:DIGEST`, one per line
    /// (a pins file's text as it is: `#` comments and blank lines are skipped).
    #[arg(long, env = "RELKIT_IMAGES", value_name = "LINES")]
    pub images: Vec<String>,

    /// Leave the release a draft.
    #[arg(long, env = "RELKIT_DRAFT", value_parser = switch)]
    pub draft: bool,

    /// Whether the release becomes the repository's latest: `true`, `false` or `legacy` (the
    /// forge decides) [default: legacy]
    #[arg(long, env = "RELKIT_MAKE_LATEST", value_name = "WHEN")]
    pub make_latest: Option<String>,

    /// Print the plan and change nothing.
    #[arg(long, env = "RELKIT_DRY_RUN", value_parser = switch)]
    pub dry_run: bool,
}

/// Which forge, where, and with which token: flags every command that talks to a forge shares.
#[derive(Debug, Args)]
pub struct ForgeArgs {
    /// `local` (tags in the repository, releases as files), `github` (and Enterprise Server),
    /// `gitea` (Gitea and Forgejo) [default: the runner's forge; local in a terminal]
    #[arg(long, env = "RELKIT_FORGE", value_name = "FORGE")]
    pub forge: Option<String>,

    /// The local forge's directory [default: .relkit/forge at the top of the repository]
    #[arg(long, env = "RELKIT_FORGE_DIR", value_name = "DIR")]
    pub forge_dir: Option<OsString>,

    /// The repository on the forge, `OWNER/NAME` [default: GITHUB_REPOSITORY]
    #[arg(long, env = "RELKIT_REPOSITORY", value_name = "OWNER/NAME")]
    pub repository: Option<String>,

    /// The forge's API address [default: the runner's: GITHUB_API_URL, or GITHUB_SERVER_URL/api/v1
    /// on Gitea; https://api.github.com]
    #[arg(long, env = "RELKIT_API_URL", value_name = "URL")]
    pub api_url: Option<String>,

    /// The variable that holds the token [default: RELKIT_TOKEN, then GITHUB_TOKEN or GH_TOKEN
    /// on GitHub, GITEA_TOKEN or GITHUB_TOKEN on Gitea]. The token itself is never a flag: it
    /// would show in process lists.
    #[arg(long, env = "RELKIT_TOKEN_ENV", value_name = "NAME")]
    pub token_env: Option<String>,

    /// The most seconds to wait out rate limits and retries in one call [default: 60]
    #[arg(long, env = "RELKIT_RATE_LIMIT_WAIT", value_name = "SECONDS")]
    pub rate_limit_wait: Option<String>,

    /// Forge hosts (`host` or `host:port`) the token may reach over plain HTTP, one per line;
    /// loopback always may.
    #[arg(long, env = "RELKIT_INSECURE_API", value_name = "HOSTS")]
    pub insecure_api: Vec<String>,
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

/// Values of a multi-line input: one item per line, blank lines dropped.
pub fn lines(values: &[String]) -> impl Iterator<Item = String> + '_ {
    values
        .iter()
        .flat_map(|v| v.lines())
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(str::to_owned)
}

/// Flags of `relkit pin-images`.
#[derive(Debug, Args)]
pub struct PinImagesArgs {
    /// `resolve` (pin tags to digests: a pins file and/or the files rewritten), `check` (production
    /// files follow the release rules) or `verify` (a pins file still matches the registries).
    #[arg(value_name = "MODE")]
    pub mode: Option<String>,

    /// The mode, as a flag (what the action passes).
    #[arg(
        long = "mode",
        env = "RELKIT_MODE",
        value_name = "MODE",
        hide_short_help = true
    )]
    pub mode_flag: Option<String>,

    /// Deploy files to resolve: compose files, Kubernetes manifests, Helm values, `.env` files.
    /// Globs relative to the working directory, one per line (repeat the flag or put several
    /// lines in one value).
    #[arg(long, env = "RELKIT_FILES", value_name = "GLOBS")]
    pub files: Vec<String>,

    /// Production deploy files for `check` [default: --files]
    #[arg(long, env = "RELKIT_PRODUCTION_FILES", value_name = "GLOBS")]
    pub production_files: Vec<String>,

    /// The pins file `resolve` writes and `verify` reads (`NAME_IMAGE=repo:tag@sha256:…`).
    #[arg(long, env = "RELKIT_PINS_FILE", value_name = "FILE")]
    pub pins_file: Option<OsString>,

    /// `resolve`: rewrite each image in its file to `repo:tag@sha256:…`, changing nothing else.
    #[arg(long, env = "RELKIT_WRITE", value_parser = switch)]
    pub write: bool,

    /// `check`: an image without a digest breaks the rules too.
    #[arg(long, env = "RELKIT_REQUIRE_DIGEST", value_parser = switch)]
    pub require_digest: bool,

    /// `check`: allow `:latest` (and no tag), for pipelines that move `latest` only on full
    /// releases; `latest-*` variants (`latest-ubuntu`), `pre-latest` and other channels still
    /// fail.
    #[arg(long, env = "RELKIT_ALLOW_LATEST", value_parser = switch)]
    pub allow_latest: bool,

    /// `check`: only the rules, no registry lookups (which warn when a digest is one platform's
    /// manifest inside a multi-platform index).
    #[arg(long, env = "RELKIT_OFFLINE", value_parser = switch)]
    pub offline: bool,

    /// Registries reached over plain HTTP although not on loopback, one per line.
    #[arg(long, env = "RELKIT_INSECURE_REGISTRIES", value_name = "HOSTS")]
    pub insecure_registries: Vec<String>,

    /// How many registry lookups run at once [default: 8]
    #[arg(long, env = "RELKIT_CONCURRENCY", value_name = "N")]
    pub concurrency: Option<String>,

    /// Print what would be written and change nothing.
    #[arg(long, env = "RELKIT_DRY_RUN", value_parser = switch)]
    pub dry_run: bool,
}

/// Flags of `relkit promote-prerelease`.
#[derive(Debug, Args)]
pub struct PromoteArgs {
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

    #[command(flatten)]
    pub paths: PathArgs,

    /// The pre-release to promote (`v1.2.0-pre.145+abc1234`, `edge/v1.4.0-rc.1`), or `latest`
    /// for the stream's newest.
    #[arg(long, env = "RELKIT_PRE_RELEASE", value_name = "TAG")]
    pub pre_release: Option<String>,

    /// The release's version (`v1.3.0` or `1.3.0`), or `auto` for the one the commits call for.
    #[arg(long, env = "RELKIT_RELEASE_VERSION", value_name = "VERSION")]
    pub release_version: Option<String>,

    /// `true` confirms a rollback (the history decides whether it is one; both must agree)
    /// [default: false]
    #[arg(long, env = "RELKIT_IS_ROLLBACK", value_name = "BOOL")]
    pub is_rollback: Option<String>,

    /// The image repositories to promote (`ghcr.io/acme/api`, or a pins name), one per line, or
    /// a JSON file listing them (`[{"image": "ghcr.io/acme/api"}]`) [default: every image of the
    /// pre-release's manifest]
    #[arg(long, env = "RELKIT_IMAGES", value_name = "LINES|FILE")]
    pub images: Vec<String>,

    /// Floating tags to move: any of `latest`, `minor` (v1.3), `major` (v1), or `none`
    /// [default: latest,minor,major]
    #[arg(long, env = "RELKIT_FLOATING_TAGS", value_name = "LIST")]
    pub floating_tags: Option<String>,

    /// Open issues with any of these labels block a forward promotion (comma-separated)
    /// [default: priority:p0,priority:p1,release-blocker]
    #[arg(long, env = "RELKIT_BLOCKER_LABELS", value_name = "LABELS")]
    pub blocker_labels: Option<String>,

    /// The commit's checks must all be green [default: true]
    #[arg(long, env = "RELKIT_REQUIRE_CHECKS", value_name = "BOOL")]
    pub require_checks: Option<String>,

    /// No checks reported counts as green.
    #[arg(long, env = "RELKIT_ALLOW_NO_CHECKS", value_parser = switch)]
    pub allow_no_checks: bool,

    /// The last this many full releases must still have their images [default: 2]
    #[arg(long, env = "RELKIT_KEEP_STABLE", value_name = "N")]
    pub keep_stable: Option<String>,

    /// Go ahead although gates or guards fail; needs --override-reason, which the release
    /// records.
    #[arg(long, env = "RELKIT_OVERRIDE_GATES", value_parser = switch)]
    pub override_gates: bool,

    /// Why the gates are overridden.
    #[arg(long, env = "RELKIT_OVERRIDE_REASON", value_name = "TEXT")]
    pub override_reason: Option<String>,

    /// Refuse a version whose bump differs from what the commits call for.
    #[arg(long, env = "RELKIT_STRICT_BUMP", value_parser = switch)]
    pub strict_bump: bool,

    /// git-cliff configuration for the notes, or `builtin`. Default: the repository's own.
    #[arg(long, env = "RELKIT_CONFIG", value_name = "FILE")]
    pub config: Option<OsString>,

    /// The release notes from this file instead of the changelog.
    #[arg(long, env = "RELKIT_NOTES_FILE", value_name = "FILE")]
    pub notes_file: Option<OsString>,

    /// Registries reached over plain HTTP although not on loopback, one per line.
    #[arg(long, env = "RELKIT_INSECURE_REGISTRIES", value_name = "HOSTS")]
    pub insecure_registries: Vec<String>,

    /// After the promotion, open the incident of a rollback, or close the stream's incidents
    /// on a forward promotion, as incident-on-rollback does with its defaults [default: true]
    #[arg(long, env = "RELKIT_OPEN_INCIDENT", value_name = "BOOL")]
    pub open_incident: Option<String>,

    /// Print the plan, every gate and failure, and change nothing.
    #[arg(long, env = "RELKIT_DRY_RUN", value_parser = switch)]
    pub dry_run: bool,

    #[command(flatten)]
    pub forge: ForgeArgs,
}

/// Flags of `relkit incident-on-rollback`.
#[derive(Debug, Args)]
pub struct IncidentArgs {
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

    /// The release just promoted (`v1.3.1`): a rollback's incident is opened, a forward
    /// promotion recovers the stream's incidents.
    #[arg(long, env = "RELKIT_ROLLBACK_VERSION", value_name = "VERSION")]
    pub rollback_version: Option<String>,

    /// The release production ran before the rollback [default: the rollback's manifest says,
    /// else the newest full release its commit does not contain]
    #[arg(long, env = "RELKIT_BAD_VERSION", value_name = "VERSION")]
    pub bad_version: Option<String>,

    /// The pre-release the rollback came from [default: its manifest says]
    #[arg(long, env = "RELKIT_SOURCE", value_name = "TAG")]
    pub source: Option<String>,

    /// The incident's labels, comma-separated; the first finds open incidents
    /// [default: incident,rollback]
    #[arg(long, env = "RELKIT_LABELS", value_name = "LABELS")]
    pub labels: Option<String>,

    /// `critical`, `high`, `medium` or `low`: a `severity:<x>` label.
    #[arg(long, env = "RELKIT_SEVERITY", value_name = "SEVERITY")]
    pub severity: Option<String>,

    /// Who to assign, comma-separated (an unknown one is left out, with a warning).
    #[arg(long, env = "RELKIT_ASSIGNEES", value_name = "USERS")]
    pub assignees: Option<String>,

    /// A markdown file with `{placeholders}`, or an issue template with front matter.
    #[arg(long, env = "RELKIT_TEMPLATE", value_name = "FILE")]
    pub template: Option<OsString>,

    /// The workflow run to link [default: the runner's]
    #[arg(long, env = "RELKIT_RUN_URL", value_name = "URL")]
    pub run_url: Option<String>,

    /// A forward promotion closes the stream's open incidents [default: true]
    #[arg(long, env = "RELKIT_CLOSE_ON_RECOVERY", value_name = "BOOL")]
    pub close_on_recovery: Option<String>,

    /// Print what would be done and change nothing.
    #[arg(long, env = "RELKIT_DRY_RUN", value_parser = switch)]
    pub dry_run: bool,

    #[command(flatten)]
    pub forge: ForgeArgs,
}

/// A boolean input read as text: workflow_dispatch booleans arrive as strings, and some clients
/// drop them (empty is the default). `input` names the flag and its variable in the error.
pub fn boolean(value: Option<&str>, default: bool, input: &str) -> Result<bool, String> {
    match value.map(str::trim) {
        None | Some("") => Ok(default),
        Some(v) => switch(v).map_err(|_| format!("{input} {v:?} is not true or false")),
    }
}
