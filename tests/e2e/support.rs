//! Runs the real `relkit` binary the way a terminal or a workflow runner would, and reads back
//! what it left: exit code, log, output file, step summary.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use relkit_testkit::runner::{Parsed, commands, read_output_file};
use tempfile::TempDir;

pub type TestResult = Result<(), Box<dyn std::error::Error>>;

/// The built binary.
pub fn binary() -> &'static Path {
    Path::new(env!("CARGO_BIN_EXE_relkit"))
}

/// `relkit` with an environment stripped of everything the test machine (or the CI runner the
/// tests themselves run in) would leak into it: runner variables, relkit's own inputs, colour
/// settings and the user's git configuration.
pub fn relkit(args: &[&str]) -> Command {
    command(binary(), args)
}

/// Like [`relkit`], for another program name (a link to the binary).
pub fn command(program: &Path, args: &[&str]) -> Command {
    let mut cmd = Command::new(program);
    cmd.env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("NO_COLOR", "1")
        .args(args);
    cmd
}

/// What a run left behind, as text.
#[derive(Debug)]
pub struct Run {
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    pub fn of(output: Output) -> Self {
        Self {
            code: output.status.code(),
            stdout: String::from_utf8(output.stdout).expect("stdout is UTF-8"),
            stderr: String::from_utf8(output.stderr).expect("stderr is UTF-8"),
        }
    }

    /// Panics with the whole log unless the exit code is `code`.
    #[track_caller]
    pub fn expect_code(self, code: i32) -> Self {
        assert_eq!(
            self.code,
            Some(code),
            "exit code\n--- stdout\n{}\n--- stderr\n{}",
            self.stdout,
            self.stderr
        );
        self
    }

    /// The workflow commands the runner would act on in the log.
    pub fn commands(&self) -> Vec<Parsed> {
        commands(&self.stdout)
    }

    /// The `::error` commands in the log.
    pub fn errors(&self) -> Vec<Parsed> {
        self.commands()
            .into_iter()
            .filter(|c| c.name == "error")
            .collect()
    }
}

pub fn run(cmd: &mut Command) -> Run {
    Run::of(cmd.output().expect("run relkit"))
}

/// A simulated job on a runner: the variables and files the runner gives a step.
#[derive(Debug)]
pub struct Runner {
    dir: TempDir,
    vars: Vec<(&'static str, String)>,
}

impl Runner {
    /// A job on github.com in `owner/app`.
    pub fn github() -> Self {
        Self::new(vec![
            ("GITHUB_ACTIONS", "true".to_owned()),
            ("GITHUB_SERVER_URL", "https://github.com".to_owned()),
            ("GITHUB_API_URL", "https://api.github.com".to_owned()),
            ("GITHUB_REPOSITORY", "owner/app".to_owned()),
        ])
    }

    /// A job on a Gitea instance in `owner/app`.
    pub fn gitea() -> Self {
        Self::new(vec![
            ("GITHUB_ACTIONS", "true".to_owned()),
            ("GITEA_ACTIONS", "true".to_owned()),
            ("GITHUB_SERVER_URL", "https://gitea.example.com".to_owned()),
            ("GITHUB_REPOSITORY", "owner/app".to_owned()),
        ])
    }

    fn new(mut vars: Vec<(&'static str, String)>) -> Self {
        let dir = tempfile::Builder::new()
            .prefix("relkit-runner-")
            .tempdir()
            .expect("create the runner's directory");
        let temp = dir.path().join("temp");
        std::fs::create_dir(&temp).expect("create RUNNER_TEMP");
        for (name, file) in [
            ("GITHUB_OUTPUT", "output"),
            ("GITHUB_STEP_SUMMARY", "summary"),
            ("GITHUB_PATH", "path"),
        ] {
            let path = dir.path().join(file);
            std::fs::write(&path, "").expect("create a runner file");
            vars.push((name, path.display().to_string()));
        }
        vars.push(("RUNNER_TEMP", temp.display().to_string()));
        let tool_cache = dir.path().join("toolcache");
        std::fs::create_dir(&tool_cache).expect("create RUNNER_TOOL_CACHE");
        vars.push(("RUNNER_TOOL_CACHE", tool_cache.display().to_string()));
        vars.push(("CI", "true".to_owned()));
        Self { dir, vars }
    }

    /// `relkit` as a step of this job would run it.
    pub fn relkit(&self, args: &[&str]) -> Command {
        let mut cmd = relkit(args);
        cmd.envs(self.vars.iter().map(|(k, v)| (k, v)));
        cmd
    }

    /// A step's `run:` script as the runner runs a `shell: bash` step (from a file, with
    /// `bash --noprofile --norc -eo pipefail`), with the built relkit first on `PATH`.
    pub fn bash(&self, script: &str) -> Command {
        let file = self.dir.path().join("step.sh");
        std::fs::write(&file, script).expect("write the step's script");
        let mut path = vec![binary().parent().expect("a directory").to_path_buf()];
        path.extend(std::env::split_paths(
            &std::env::var_os("PATH").unwrap_or_default(),
        ));
        let mut cmd = command(
            Path::new("bash"),
            &["--noprofile", "--norc", "-eo", "pipefail"],
        );
        cmd.arg(file)
            .env("PATH", std::env::join_paths(path).expect("a PATH"))
            .envs(self.vars.iter().map(|(k, v)| (k, v)));
        cmd
    }

    /// The directories a step added to `PATH` for the steps after it.
    pub fn path_added(&self) -> Vec<String> {
        std::fs::read_to_string(self.dir.path().join("path"))
            .expect("read GITHUB_PATH")
            .lines()
            .map(str::to_owned)
            .collect()
    }

    /// `RUNNER_TEMP`.
    pub fn temp(&self) -> PathBuf {
        self.dir.path().join("temp")
    }

    /// The step outputs, read as the runner reads `GITHUB_OUTPUT`.
    pub fn outputs(&self) -> Vec<(String, String)> {
        let text = std::fs::read_to_string(self.dir.path().join("output")).expect("read outputs");
        read_output_file(&text).expect("the output file is readable")
    }

    /// One output's value; panics when it was not set.
    #[track_caller]
    pub fn output(&self, name: &str) -> String {
        self.outputs()
            .into_iter()
            .find(|(n, _)| n == name)
            .unwrap_or_else(|| panic!("no output {name}"))
            .1
    }

    /// The step summary.
    pub fn summary(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("summary")).expect("read the summary")
    }
}

/// Everything a step left, in one text for a snapshot: the command, its exit code, its log, the
/// outputs it set (as the runner reads them) and its summary. Paths under `dir` (the project)
/// and the runner's own directory are written `[PROJECT]` and `[RUNNER]`; [`scrub`] replaces
/// what changes from run to run.
pub fn transcript(args: &[&str], out: &Run, runner: &Runner, dir: &Path) -> String {
    let mut text = format!("$ relkit {}\nexit: {:?}\n", args.join(" "), out.code);
    text.push_str("--- log\n");
    text.push_str(&out.stdout);
    if !out.stderr.is_empty() {
        text.push_str("--- stderr\n");
        text.push_str(&out.stderr);
    }
    text.push_str("--- outputs\n");
    for (name, value) in runner.outputs() {
        if value.contains('\n') {
            text.push_str(&format!("{name}:\n{}\n", value.trim_end()));
        } else {
            text.push_str(&format!("{name}: {value}\n"));
        }
    }
    text.push_str("--- summary\n");
    text.push_str(&runner.summary());
    text.replace(&dir.display().to_string(), "[PROJECT]")
        .replace(&runner.dir.path().display().to_string(), "[RUNNER]")
}

/// Runs `check` (an insta assertion) with filters for what differs between runs: the
/// `stop-commands` token, dates and loopback ports, and the test's own `more` filters.
pub fn scrub(more: &[(&str, &str)], check: impl FnOnce()) {
    let mut settings = insta::Settings::clone_current();
    for (pattern, replacement) in more {
        settings.add_filter(pattern, *replacement);
    }
    settings.add_filter(r"::stop-commands::[0-9a-f]{32}", "::stop-commands::[TOKEN]");
    settings.add_filter(r"(?m)^::[0-9a-f]{32}::$", "::[TOKEN]::");
    settings.add_filter(
        r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})",
        "[DATE]",
    );
    settings.add_filter(r"127\.0\.0\.1:\d+", "127.0.0.1:[PORT]");
    settings.bind(check);
}

/// Runs `relkit <command> <args>` under a GitHub runner in `dir` for each case and checks that it
/// exits 2 with exactly one `::error` holding the case's message, and sets no output.
/// `unchanged` then checks, with the runner, that nothing was written.
pub fn assert_bad_input(
    dir: &Path,
    command: &str,
    cases: &[(&[&str], &str)],
    unchanged: impl Fn(&[&str], &Runner),
) {
    for (args, message) in cases {
        let runner = Runner::github();
        let mut all = vec![command];
        all.extend_from_slice(args);
        let out = run(runner.relkit(&all).current_dir(dir)).expect_code(2);
        let errors = out.errors();
        assert_eq!(errors.len(), 1, "{args:?}: {}", out.stdout);
        assert!(
            errors[0].data.contains(message),
            "{args:?}: {:?} lacks {message:?}",
            errors[0].data
        );
        assert!(runner.outputs().is_empty(), "{args:?}: no outputs");
        unchanged(args, &runner);
    }
}
