//! Benchmark (not a test): how many API calls `relkit create-release` makes for a release with
//! N assets, on the forge emulator's Gitea flavour, for a first run and for a re-run that finds
//! everything in place. Run with `cargo bench --bench release_calls`.
//!
//! A shell script doing the same with curl makes at least 2 + N calls (a tag, a release, an
//! upload per asset) and checks nothing; relkit also reads what is there first (the tag, the
//! release, the token's permissions, the attachment limits), so a re-run converges instead of
//! failing or duplicating.

// A benchmark's output is what it measures.
#![allow(clippy::print_stdout)]

use std::path::Path;
use std::process::Command;

use relkit_testkit::emulator::{Emulator, Flavor, Permissions};
use relkit_testkit::scenario;

const TOKEN: &str = "bench-token";

fn main() {
    println!("relkit create-release on Gitea (forge emulator), API calls per run");
    println!(
        "{:>7} {:>12} {:>8} {:>8} {:>14}",
        "assets", "first run", "reads", "writes", "re-run (reads)"
    );
    for n in [1, 5, 20] {
        let repo = scenario::product();
        let dist = repo.path().join("dist");
        std::fs::create_dir_all(&dist).expect("mkdir dist");
        for i in 0..n {
            std::fs::write(dist.join(format!("asset-{i}.tar.gz")), format!("asset {i}"))
                .expect("write asset");
        }
        std::fs::write(repo.path().join(".git/info/exclude"), "dist/\n").expect("exclude");
        let emulator = Emulator::start(Flavor::Gitea, repo.path());
        emulator.add_token(TOKEN, Permissions::all());

        release(&emulator, repo.path());
        let first = emulator.requests();
        let writes = first.iter().filter(|r| r.method != "GET").count();
        release(&emulator, repo.path());
        let rerun = emulator.requests().len() - first.len();
        println!(
            "{n:>7} {:>12} {:>8} {writes:>8} {rerun:>14}",
            first.len(),
            first.len() - writes
        );
    }
}

fn release(emulator: &Emulator, repo: &Path) {
    let status = Command::new(env!("CARGO_BIN_EXE_relkit"))
        .args([
            "create-release",
            "--forge",
            "gitea",
            "--tag",
            "v1.1.0",
            "--assets",
            "dist/*",
        ])
        .args([
            "--repository",
            "owner/app",
            "--api-url",
            &emulator.api_v1_url(),
        ])
        .env("GITEA_TOKEN", TOKEN)
        .env("NO_COLOR", "1")
        .env_remove("GITHUB_ACTIONS")
        .env_remove("RELKIT_TOKEN")
        .current_dir(repo)
        .stdout(std::process::Stdio::null())
        .status()
        .expect("run relkit");
    assert!(status.success(), "relkit create-release failed");
}
