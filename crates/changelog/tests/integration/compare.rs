//! relkit renders what the `git-cliff` CLI renders with the same configuration and range.
//!
//! These run the real CLI (2.14, `--no-default-features`, as `scripts/test` installs it) and so
//! are ignored by a bare `cargo test`; `scripts/test` runs them. relkit's rule that only full
//! releases of the stream split the notes is, in git-cliff's terms, `--tag-pattern` for the
//! stream and `--ignore-tags` for its pre-releases, so the CLI gets those two flags.

use std::path::{Path, PathBuf};
use std::process::Command;

use git_cliff_core::embed::{BuiltinConfig, EmbeddedConfig};
use relkit_changelog::{ConfigSource, Range, generate};
use relkit_testkit::{GitRepo, scenario};
use relkit_version::Stream;

use crate::request;

/// The example configurations git-cliff ships that need no forge API.
const EXAMPLES: &[&str] = &[
    "keepachangelog.toml",
    "detailed.toml",
    "minimal.toml",
    "scoped.toml",
    "scopesorted.toml",
    "statistics.toml",
    "unconventional.toml",
    "cocogitto.toml",
];

fn git_cliff() -> PathBuf {
    if let Some(path) = std::env::var_os("RELKIT_GIT_CLIFF") {
        return PathBuf::from(path);
    }
    let local = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/tools/bin/git-cliff");
    if local.is_file() {
        return local;
    }
    PathBuf::from("git-cliff")
}

/// What the CLI prints for `args` in `repo` with the configuration in `cliff.toml`.
fn cli(repo: &Path, prefix: &str, args: &[&str]) -> String {
    let escaped = regex::escape(prefix);
    let out = Command::new(git_cliff())
        .current_dir(repo)
        .env_remove("GIT_DIR")
        .args(["--config", "cliff.toml", "--offline"])
        .args(["--tag-pattern", &format!("^{escaped}[0-9]")])
        .args([
            "--ignore-tags",
            &format!("^{escaped}[0-9]+\\.[0-9]+\\.[0-9]+[-+]"),
        ])
        .args(args)
        .output()
        .unwrap_or_else(|e| {
            panic!(
                "run {} (install it with scripts/test): {e}",
                git_cliff().display()
            )
        });
    assert!(
        out.status.success(),
        "git-cliff failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("utf-8")
}

fn relkit(repo: &Path, prefix: &str, range: Range) -> String {
    let mut req = request(repo, range);
    req.stream = Stream::new(prefix).expect("valid prefix");
    req.config = ConfigSource::File("cliff.toml".into());
    generate(&req).expect("notes").markdown
}

fn configs() -> Vec<(String, String)> {
    let mut all = vec![(
        "git-cliff's default".to_owned(),
        EmbeddedConfig::get_config().expect("default config"),
    )];
    for name in EXAMPLES {
        let text = BuiltinConfig::get_config((*name).to_owned()).expect("example config");
        all.push(((*name).to_owned(), text));
    }
    all
}

fn assert_same_for_every_config(repo: &GitRepo, prefix: &str, range: &Range, cli_args: &[&str]) {
    assert_same_for_every_edited_config(repo, prefix, range, cli_args, str::to_owned);
}

/// As [`assert_same_for_every_config`], with each configuration passed through `edit` first.
fn assert_same_for_every_edited_config(
    repo: &GitRepo,
    prefix: &str,
    range: &Range,
    cli_args: &[&str],
    edit: fn(&str) -> String,
) {
    for (name, text) in configs() {
        repo.write("cliff.toml", &edit(&text));
        let expected = cli(repo.path(), prefix, cli_args);
        assert!(
            expected.lines().count() > 5,
            "git-cliff rendered next to nothing with {name}"
        );
        let actual = relkit(repo.path(), prefix, range.clone());
        assert_eq!(actual, expected, "config {name}, git-cliff {cli_args:?}");
    }
}

#[test]
#[ignore = "needs the git-cliff CLI: run scripts/test"]
fn the_whole_history_renders_as_the_git_cliff_cli_renders_it() {
    let repo = scenario::product();
    let all = Range::All {
        to: "HEAD".to_owned(),
    };
    assert_same_for_every_config(&repo, "v", &all, &[]);
}

#[test]
#[ignore = "needs the git-cliff CLI: run scripts/test"]
fn a_range_renders_as_the_git_cliff_cli_renders_it() {
    let repo = scenario::product();
    let range = Range::Between {
        from: "v0.1.0".to_owned(),
        to: "v1.0.0".to_owned(),
    };
    assert_same_for_every_config(&repo, "v", &range, &["v0.1.0..v1.0.0"]);
}

#[test]
#[ignore = "needs the git-cliff CLI: run scripts/test"]
fn a_prefixed_stream_renders_as_the_git_cliff_cli_renders_it() {
    let repo = scenario::two_streams();
    let all = Range::All {
        to: "HEAD".to_owned(),
    };
    assert_same_for_every_config(&repo, "edge/v", &all, &[]);
}

#[test]
#[ignore = "needs the git-cliff CLI: run scripts/test"]
fn a_path_filtered_stream_renders_as_the_git_cliff_cli_renders_it() {
    let repo = scenario::two_streams();
    for (name, text) in configs() {
        repo.write("cliff.toml", &text);
        let expected = cli(repo.path(), "edge/v", &["--include-path", "edge/**"]);
        let mut req = request(
            repo.path(),
            Range::All {
                to: "HEAD".to_owned(),
            },
        );
        req.stream = Stream::new("edge/v").expect("valid prefix");
        req.config = ConfigSource::File("cliff.toml".into());
        req.include_paths = vec!["edge/**".to_owned()];
        let actual = generate(&req).expect("notes").markdown;
        assert_eq!(actual, expected, "config {name}");
    }
}

#[test]
#[ignore = "needs the git-cliff CLI: run scripts/test"]
fn merged_branches_render_as_the_git_cliff_cli_renders_them() {
    let repo = GitRepo::new();
    repo.commit("feat: base");
    repo.tag("v1.0.0");
    repo.branch("a");
    repo.commit("feat(a): one");
    repo.switch("main");
    repo.commit("fix: two");
    repo.branch("b");
    repo.commit("perf(b): three");
    repo.switch("main");
    repo.merge("a", "Merge branch 'a'");
    repo.tag("v1.1.0");
    repo.merge("b", "Merge branch 'b'");
    repo.commit("feat: four");
    let all = Range::All {
        to: "HEAD".to_owned(),
    };
    assert_same_for_every_config(&repo, "v", &all, &[]);
}

/// `config` with `topo_order_commits = false`: commits in libgit2's time order, not topological.
fn in_time_order(config: &str) -> String {
    let mut text: String = config
        .lines()
        .filter(|line| !line.trim_start().starts_with("topo_order_commits"))
        .flat_map(|line| [line, "\n"])
        .collect();
    if text.contains("\n[git]\n") {
        text.replacen("\n[git]\n", "\n[git]\ntopo_order_commits = false\n", 1)
    } else {
        text.push_str("\n[git]\ntopo_order_commits = false\n");
        text
    }
}

/// Commits whose clocks agree to the second or run backwards, across a merge and two releases:
/// libgit2's time order is neither `git log --date-order` nor topological here.
fn clock_skewed_history() -> GitRepo {
    const T: i64 = 1_704_067_200;
    let repo = GitRepo::new();
    repo.set_clock(T);
    repo.commit("feat: base");
    repo.tag("v1.0.0");
    // A rebase or a script commits several in the same second.
    for message in [
        "feat: one",
        "fix: two",
        "perf: three",
        "feat: four",
        "fix: five",
    ] {
        repo.set_clock(T + 3600);
        repo.commit(message);
    }
    repo.branch("skewed");
    // Older than its parent, then far ahead: a machine whose clock was wrong.
    repo.set_clock(T + 600);
    repo.commit("fix(skewed): six");
    repo.set_clock(T + 90_000);
    repo.commit("feat(skewed): seven");
    repo.set_clock(T + 3600);
    repo.commit("perf(skewed): eight");
    repo.switch("main");
    repo.set_clock(T + 7200);
    repo.commit("fix: nine");
    repo.set_clock(T + 7200);
    repo.commit("feat: ten");
    repo.tag("v1.1.0");
    repo.set_clock(T + 7200);
    repo.merge("skewed", "Merge branch 'skewed'");
    repo.set_clock(T + 3600);
    repo.commit("feat: eleven");
    repo.set_clock(T + 3600);
    repo.commit("fix: twelve");
    repo
}

#[test]
#[ignore = "needs the git-cliff CLI: run scripts/test"]
fn the_whole_history_in_time_order_renders_as_the_git_cliff_cli_renders_it() {
    let repo = clock_skewed_history();
    let all = Range::All {
        to: "HEAD".to_owned(),
    };
    assert_same_for_every_edited_config(&repo, "v", &all, &[], in_time_order);
}

#[test]
#[ignore = "needs the git-cliff CLI: run scripts/test"]
fn a_walk_from_a_commit_in_time_order_renders_as_the_git_cliff_cli_renders_it() {
    let repo = clock_skewed_history();
    let merge = repo.git(&["rev-parse", "HEAD~2"]);
    let walk = Range::All { to: merge.clone() };
    assert_same_for_every_edited_config(&repo, "v", &walk, &[&merge], in_time_order);
}

#[test]
#[ignore = "needs the git-cliff CLI: run scripts/test"]
fn a_range_in_time_order_renders_as_the_git_cliff_cli_renders_it() {
    let repo = clock_skewed_history();
    let range = Range::Between {
        from: "v1.0.0".to_owned(),
        to: "HEAD".to_owned(),
    };
    assert_same_for_every_edited_config(&repo, "v", &range, &["v1.0.0..HEAD"], in_time_order);
}
