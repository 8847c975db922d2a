//! Helpers, and the runner's reading of logs and output files (from testkit), so tests check what
//! the runner would do.

pub use relkit_testkit::runner::{commands, read_output_file, stop_token};
use relkit_workflow::{Env, Reporter};

pub type TestResult = Result<(), Box<dyn std::error::Error>>;

pub fn env(vars: &[(&str, &str)]) -> Env {
    vars.iter().copied().collect()
}

pub fn github() -> Env {
    env(&[
        ("GITHUB_ACTIONS", "true"),
        ("GITHUB_SERVER_URL", "https://github.com"),
        ("GITHUB_API_URL", "https://api.github.com"),
    ])
}

pub fn gitea() -> Env {
    env(&[
        ("GITHUB_ACTIONS", "true"),
        ("GITEA_ACTIONS", "true"),
        ("GITHUB_SERVER_URL", "https://gitea.example.com"),
    ])
}

pub fn reporter(env: &Env) -> Reporter<Vec<u8>> {
    Reporter::new(env, Vec::new(), false)
}

pub fn log(reporter: Reporter<Vec<u8>>) -> String {
    String::from_utf8(reporter.into_log()).expect("the log is UTF-8")
}
