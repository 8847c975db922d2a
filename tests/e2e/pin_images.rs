//! `relkit pin-images` against a real registry (Debian's docker-registry on loopback) in its three
//! auth variants: open, htpasswd Basic, and bearer tokens from a token server. Credentials reach
//! relkit the way `docker login` leaves them, in `$DOCKER_CONFIG/config.json`.

use std::path::Path;

use base64::Engine as _;
use relkit_testkit::registry::{Auth, Format, Front, Misbehaviour, Redirect, Registry};
use tempfile::TempDir;

use crate::support::{Run, Runner, run};

const USER: &str = "ci";
const PASSWORD: &str = "s3cret-registry-password";

/// A project with deploy files naming images on `registry`, and the docker config that logs in.
struct Project {
    dir: TempDir,
    docker: TempDir,
    host: String,
}

impl Project {
    fn new(registry: &Registry, password: &str) -> Self {
        let dir = tempfile::tempdir().expect("project dir");
        let docker = tempfile::tempdir().expect("docker config dir");
        let host = registry.host().to_owned();
        let auths = match registry.auth().credentials() {
            Some((user, _)) => {
                let auth =
                    base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
                format!(r#"{{"auths": {{"{host}": {{"auth": "{auth}"}}}}}}"#)
            }
            None => "{}".to_owned(),
        };
        std::fs::write(docker.path().join("config.json"), auths).expect("config.json");
        Self { dir, docker, host }
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    fn write(&self, name: &str, text: &str) {
        let path = self.path().join(name);
        std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
        std::fs::write(path, text).expect("write a deploy file");
    }

    fn read(&self, name: &str) -> String {
        std::fs::read_to_string(self.path().join(name)).expect("read a deploy file")
    }

    fn relkit(&self, runner: &Runner, args: &[&str]) -> Run {
        run(runner
            .relkit(args)
            .current_dir(self.path())
            .env("DOCKER_CONFIG", self.docker.path()))
    }
}

/// Pushes the images the deploy files name; returns their digests by `repo:tag`.
fn seed(registry: &Registry) -> Vec<(String, String)> {
    let mut digests = Vec::new();
    for (repo, tag, format) in [
        ("team/api", "1.4.2", Format::Oci),
        ("team/web", "2.0.0", Format::DockerV2),
        ("library/postgres", "16.1", Format::Oci),
        ("team/worker", "0.9.0", Format::Oci),
    ] {
        let image = registry.push_image(repo, tag, format);
        digests.push((format!("{repo}:{tag}"), image.digest));
    }
    let index = registry.push_index("team/edge", "3.1.0");
    digests.push(("team/edge:3.1.0".to_owned(), index.digest));
    digests
}

fn digest_of<'a>(digests: &'a [(String, String)], image: &str) -> &'a str {
    &digests
        .iter()
        .find(|(i, _)| i == image)
        .unwrap_or_else(|| panic!("no digest for {image}"))
        .1
}

/// Compose with anchors, comments and both quote styles; Kubernetes with two documents and CRLF;
/// Helm values with a repository/tag pair; an env file.
fn deploy_files(project: &Project) {
    let h = &project.host;
    project.write(
        "compose.yml",
        &format!(
            "# production stack\nx-common: &common\n  restart: unless-stopped\n  image: &api \"{h}/team/api:1.4.2\"   # the API\n\nservices:\n  api:\n    <<: *common\n  api-replica:\n    image: *api\n  web:\n    image: '{h}/team/web:2.0.0'\n    ports: [\"8080:80\"]\n  db:\n    image: {h}/library/postgres:16.1\n"
        ),
    );
    project.write(
        "k8s/workers.yaml",
        &format!(
            "apiVersion: apps/v1\r\nkind: Deployment\r\nmetadata:\r\n  name: worker\r\nspec:\r\n  template:\r\n    spec:\r\n      containers:\r\n        - name: worker\r\n          image: {h}/team/worker:0.9.0\r\n---\r\napiVersion: v1\r\nkind: Pod\r\nmetadata: {{name: edge}}\r\nspec:\r\n  containers: [{{name: edge, image: \"{h}/team/edge:3.1.0\"}}]\r\n"
        ),
    );
    project.write(
        "helm/values.yaml",
        &format!(
            "image:\n  repository: {h}/team/web\n  tag: \"2.0.0\" # chart default\n  pullPolicy: IfNotPresent\n"
        ),
    );
}

/// The rewritten text with every `@sha256:…` taken out: the original, byte for byte, when only
/// image values changed.
fn without_digests(text: &str) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(i) = rest.find("@sha256:") {
        out.push_str(&rest[..i]);
        rest = &rest[i + "@sha256:".len() + 64..];
    }
    out.push_str(rest);
    out
}

fn all_three_modes(auth: Auth) {
    let registry = Registry::start(auth);
    let digests = seed(&registry);
    let project = Project::new(&registry, PASSWORD);
    deploy_files(&project);
    let before: Vec<(&str, String)> = ["compose.yml", "k8s/workers.yaml", "helm/values.yaml"]
        .into_iter()
        .map(|f| (f, project.read(f)))
        .collect();

    // Production files before pinning: tags are full releases, but nothing is pinned.
    let runner = Runner::github();
    let unpinned = project
        .relkit(
            &runner,
            &[
                "pin-images",
                "check",
                "--production-files",
                "compose.yml",
                "--require-digest",
            ],
        )
        .expect_code(1);
    let errors = unpinned.errors();
    // Three images (the anchor and its two uses are one value), then the run's failure.
    assert_eq!(errors.len(), 3 + 1, "{errors:#?}");
    let lines: Vec<&str> = errors
        .iter()
        .filter_map(|e| e.properties.get("line").map(String::as_str))
        .collect();
    assert_eq!(lines, ["4", "12", "15"]);
    assert!(
        errors[..3]
            .iter()
            .all(|e| e.properties.get("file").map(String::as_str) == Some("compose.yml")),
        "{errors:#?}"
    );

    // --dry-run resolves and prints, and writes nothing.
    let dry: Vec<&str> = RESOLVE.iter().copied().chain(["--dry-run"]).collect();
    let before_dry = snapshot(&project);
    let out = project.relkit(&Runner::github(), &dry).expect_code(0);
    assert!(
        out.stdout.contains("--dry-run: nothing was written"),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout.contains("WEB_IMAGE="),
        "the pins it would write: {}",
        out.stdout
    );
    assert_eq!(snapshot(&project), before_dry);

    // resolve: a pins file and the files rewritten in place.
    let runner = Runner::github();
    project.relkit(&runner, &RESOLVE).expect_code(0);
    for (file, original) in &before {
        let after = project.read(file);
        assert_ne!(&after, original, "{file} was rewritten");
        assert_eq!(
            &without_digests(&after),
            original,
            "{file}: only image values changed"
        );
    }
    let compose = project.read("compose.yml");
    let api = digest_of(&digests, "team/api:1.4.2");
    assert!(
        compose.contains(&format!(
            "image: &api \"{}/team/api:1.4.2@{api}\"   # the API",
            project.host
        )),
        "{compose}"
    );
    assert!(compose.contains(&format!(
        "'{}/team/web:2.0.0@{}'",
        project.host,
        digest_of(&digests, "team/web:2.0.0")
    )));
    let k8s = project.read("k8s/workers.yaml");
    assert!(
        k8s.contains(&format!(
            "\"{}/team/edge:3.1.0@{}\"",
            project.host,
            digest_of(&digests, "team/edge:3.1.0")
        )),
        "a multi-platform image pins to its index: {k8s}"
    );
    let values = project.read("helm/values.yaml");
    assert!(
        values.contains(&format!(
            "tag: \"2.0.0@{}\" # chart default",
            digest_of(&digests, "team/web:2.0.0")
        )),
        "{values}"
    );

    let pins = project.read("pins/v1.2.3.env");
    let h = &project.host;
    for line in [
        format!("X_COMMON_IMAGE={h}/team/api:1.4.2@{api}"),
        format!(
            "WEB_IMAGE={h}/team/web:2.0.0@{}",
            digest_of(&digests, "team/web:2.0.0")
        ),
        format!(
            "DB_IMAGE={h}/library/postgres:16.1@{}",
            digest_of(&digests, "library/postgres:16.1")
        ),
        format!(
            "WORKER_IMAGE={h}/team/worker:0.9.0@{}",
            digest_of(&digests, "team/worker:0.9.0")
        ),
        format!(
            "EDGE_IMAGE={h}/team/edge:3.1.0@{}",
            digest_of(&digests, "team/edge:3.1.0")
        ),
    ] {
        assert!(pins.lines().any(|l| l == line), "{line} in\n{pins}");
    }
    assert_eq!(runner.output("pins"), pins);
    assert!(!pins.contains(PASSWORD) && !compose.contains(PASSWORD));

    // A re-run converges: every image is pinned already, nothing is written.
    let runner = Runner::github();
    let again = project.relkit(&runner, &RESOLVE).expect_code(0);
    assert!(
        again.stdout.contains("nothing to write"),
        "{}",
        again.stdout
    );
    assert_eq!(project.read("compose.yml"), compose);

    // check passes on pinned full releases; verify finds every pin in place.
    project
        .relkit(
            &Runner::github(),
            &[
                "pin-images",
                "check",
                "--production-files",
                "compose.yml\nk8s/*.yaml",
                "--require-digest",
            ],
        )
        .expect_code(0);
    project
        .relkit(
            &Runner::github(),
            &["pin-images", "verify", "--pins-file", "pins/v1.2.3.env"],
        )
        .expect_code(0);

    // The tag moves: verify names the pin that drifted, at its line.
    registry.push_image("team/worker", "0.9.0", Format::Oci);
    let runner = Runner::github();
    let drift = project
        .relkit(
            &runner,
            &["pin-images", "verify", "--pins-file", "pins/v1.2.3.env"],
        )
        .expect_code(1);
    let drifted: Vec<_> = drift
        .errors()
        .into_iter()
        .filter(|e| {
            e.properties
                .get("title")
                .is_some_and(|t| t.contains("drift"))
        })
        .collect();
    assert_eq!(drifted.len(), 1, "{:#?}", drift.errors());
    assert!(
        drifted[0].data.starts_with("WORKER_IMAGE: "),
        "{}",
        drifted[0].data
    );
    let worker_line = pins
        .lines()
        .position(|l| l.starts_with("WORKER_IMAGE="))
        .map(|i| (i + 1).to_string());
    assert_eq!(drifted[0].properties.get("line"), worker_line.as_ref());
    assert_eq!(runner.output("drifted"), "1");
    for out in [&drift.stdout, &drift.stderr, &unpinned.stdout] {
        assert!(!out.contains(PASSWORD), "no secret in the log");
    }
}

#[test]
fn resolve_check_and_verify_on_an_open_registry() {
    all_three_modes(Auth::Open);
}

#[test]
fn resolve_check_and_verify_with_basic_auth() {
    all_three_modes(Auth::basic(USER, PASSWORD));
}

#[test]
fn resolve_check_and_verify_with_token_auth() {
    all_three_modes(Auth::token(USER, PASSWORD));
}

/// Every file's bytes, to show a failed run wrote nothing.
fn snapshot(project: &Project) -> Vec<(String, Vec<u8>)> {
    let mut files = Vec::new();
    let mut dirs = vec![project.path().to_path_buf()];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).expect("read dir").flatten() {
            let path = entry.path();
            if path.is_dir() {
                dirs.push(path);
            } else {
                let name = path
                    .strip_prefix(project.path())
                    .expect("inside")
                    .display()
                    .to_string();
                files.push((name, std::fs::read(&path).expect("read")));
            }
        }
    }
    files.sort();
    files
}

const RESOLVE: [&str; 7] = [
    "pin-images",
    "resolve",
    "--files",
    "compose.yml\nk8s/*.yaml\nhelm/values.yaml",
    "--pins-file",
    "pins/v1.2.3.env",
    "--write",
];

#[test]
fn an_image_the_registry_lacks_is_named_with_its_file_and_line_and_nothing_is_written() {
    let registry = Registry::start(Auth::Open);
    seed(&registry);
    let project = Project::new(&registry, PASSWORD);
    deploy_files(&project);
    let compose = project
        .read("compose.yml")
        .replace("team/web:2.0.0", "team/web:9.9.9");
    project.write("compose.yml", &compose);
    let before = snapshot(&project);
    let out = project.relkit(&Runner::github(), &RESOLVE).expect_code(2);
    let errors = out.errors();
    assert_eq!(errors.len(), 2, "{errors:#?}");
    assert_eq!(
        errors[0].properties.get("file").map(String::as_str),
        Some("compose.yml")
    );
    assert_eq!(
        errors[0].properties.get("line").map(String::as_str),
        Some("12")
    );
    assert!(
        errors[0].data.contains("team/web:9.9.9"),
        "{}",
        errors[0].data
    );
    assert!(errors[0].data.contains("not found"), "{}", errors[0].data);
    assert_eq!(snapshot(&project), before, "no file was touched");
}

/// A file that is not YAML and a malformed reference, each in its own file: one run names both
/// and stops before asking the registry (which lacks the third file's image); nothing is
/// written.
#[test]
fn every_file_problem_is_reported_in_one_run() {
    let registry = Registry::start(Auth::Open);
    seed(&registry);
    let project = Project::new(&registry, PASSWORD);
    let h = project.host.clone();
    project.write(
        "x/a.yml",
        &format!("services:\n  web:\n    image: {h}/team/web:9.9.9\n"),
    );
    project.write(
        "x/b.yml",
        &format!("services:\n  web:\n    image: {h}/Team/web:2.0.0\n"),
    );
    project.write("x/c.yml", "services:\n\tweb: {}\n");
    let out = project
        .relkit(
            &Runner::github(),
            &[
                "pin-images",
                "resolve",
                "--files",
                "x/*.yml",
                "--pins-file",
                "pins.env",
            ],
        )
        .expect_code(2);
    let mut files: Vec<String> = out
        .errors()
        .iter()
        .filter_map(|e| e.properties.get("file").cloned())
        .collect();
    files.sort();
    assert_eq!(files, ["x/b.yml", "x/c.yml"], "{}", out.stdout);
    assert!(!project.path().join("pins.env").exists(), "nothing written");
}

#[test]
fn wrong_credentials_name_the_registry_and_never_the_secret() {
    let registry = Registry::start(Auth::basic(USER, PASSWORD));
    seed(&registry);
    let wrong = "not-the-password-4711";
    let project = Project::new(&registry, wrong);
    deploy_files(&project);
    let before = snapshot(&project);
    let out = project.relkit(&Runner::github(), &RESOLVE).expect_code(2);
    let first = &out.errors()[0];
    assert!(
        first
            .data
            .contains(&format!("the registry {}", project.host)),
        "{}",
        first.data
    );
    assert!(first.data.contains("401"), "{}", first.data);
    for text in [&out.stdout, &out.stderr] {
        assert!(
            !text.contains(wrong) && !text.contains(PASSWORD),
            "no secret: {text}"
        );
        let encoded = base64::engine::general_purpose::STANDARD.encode(format!("{USER}:{wrong}"));
        assert!(!text.contains(&encoded), "not even encoded");
    }
    assert_eq!(snapshot(&project), before);
}

#[test]
fn a_registry_that_is_down_is_reported_after_retries() {
    let mut registry = Registry::start(Auth::Open);
    let project = Project::new(&registry, PASSWORD);
    deploy_files(&project);
    registry.stop();
    let before = snapshot(&project);
    let out = project.relkit(&Runner::github(), &RESOLVE).expect_code(1);
    let first = &out.errors()[0];
    assert!(
        first.data.contains("could not be reached") && first.data.contains("attempts"),
        "{}",
        first.data
    );
    assert_eq!(snapshot(&project), before);
}

#[test]
fn bad_input_stops_before_any_request() {
    let registry = Registry::start(Auth::Open);
    let project = Project::new(&registry, PASSWORD);
    project.write("compose.yml", "services:\n  a:\n    image: Team/App:1.0\n  b:\n    image: \"app:${TAG:?set TAG}\"\n  c:\n    image: \"nginx@sha256:\"\n");
    project.write("broken.yaml", "services:\n\tweb:\n    image: nginx:1\n");
    let before = snapshot(&project);
    let runner = Runner::github();
    let out = project
        .relkit(
            &runner,
            &[
                "pin-images",
                "resolve",
                "--files",
                "*.yaml\ncompose.yml",
                "--write",
            ],
        )
        .expect_code(2);
    let located: Vec<(String, String)> = out
        .errors()
        .iter()
        .filter_map(|e| {
            Some((
                e.properties.get("file")?.clone(),
                e.properties.get("line")?.clone(),
            ))
        })
        .collect();
    assert_eq!(
        located,
        [
            ("broken.yaml", "2"),
            ("compose.yml", "3"),
            ("compose.yml", "5"),
            ("compose.yml", "7"),
        ]
        .map(|(f, l)| (f.to_owned(), l.to_owned())),
        "a file that is not YAML and the other file's bad references, in one run: {:#?}",
        out.errors()
    );
    project.write("broken.yaml", "services: {}\n");
    let out = project
        .relkit(
            &runner,
            &["pin-images", "resolve", "--files", "compose.yml", "--write"],
        )
        .expect_code(2);
    let messages: Vec<String> = out.errors().iter().map(|e| e.data.clone()).collect();
    assert!(messages[0].contains("upper-case"), "{messages:#?}");
    assert!(
        messages[1].contains("TAG") && messages[1].contains("set TAG"),
        "{messages:#?}"
    );
    assert!(
        messages[2].contains("nothing follows '@'") || messages[2].contains("digest"),
        "{messages:#?}"
    );
    assert!(
        registry.access_log("").is_empty()
            || !registry
                .access_log("")
                .iter()
                .any(|l| l.contains("/manifests/")),
        "no registry request"
    );
    let _ = before;

    for (args, message) in [
        (
            &["pin-images", "pin"][..],
            "mode \"pin\" is not one of resolve, check, verify",
        ),
        (
            &["pin-images", "resolve", "--files", "compose.yml"][..],
            "say which",
        ),
        (
            &["pin-images", "resolve", "--pins-file", "p.env"][..],
            "resolve needs --files",
        ),
        (
            &["pin-images", "check", "--production-files", "deploy/*.yml"][..],
            "matches no file",
        ),
        (&["pin-images", "verify"][..], "verify needs --pins-file"),
        (
            &[
                "pin-images",
                "resolve",
                "--files",
                "compose.yml",
                "--write",
                "--concurrency",
                "0",
            ][..],
            "--concurrency \"0\"",
        ),
    ] {
        let out = project.relkit(&Runner::github(), args).expect_code(2);
        let errors = out.errors();
        assert_eq!(errors.len(), 1, "{args:?}: {errors:#?}");
        assert!(
            errors[0].data.contains(message),
            "{args:?}: {}",
            errors[0].data
        );
    }
}

/// The playbooks' rule: production gets full releases. `check` fails on `:latest`, pre-release
/// and commit tags with an annotation at each, passes on release tags and digests, and warns when
/// a digest is one platform's manifest inside a multi-platform index.
#[test]
fn check_holds_production_files_to_the_release_rules() {
    let registry = Registry::start(Auth::Open);
    let index = registry.push_index("team/edge", "3.1.0");
    let h = registry.host().to_owned();
    let project = Project::new(&registry, PASSWORD);
    let platform = &index.platforms[1].1.digest;
    let index_digest = &index.digest;
    project.write(
        "deploy/prod.yml",
        &format!("services:\n  app:\n    image: ghcr.io/acme/app:latest\n  rc:\n    image: ghcr.io/acme/app:v1.3.0-rc.2\n  pre:\n    image: ghcr.io/acme/app:pre-latest\n  sha:\n    image: ghcr.io/acme/app:abc1234\n  ok:\n    image: ghcr.io/acme/app:v1.2.3\n  arm:\n    image: {h}/team/edge:3.1.0@{platform}\n  gone:\n    image: {h}/team/edge:3.1.0@sha256:0000000000000000000000000000000000000000000000000000000000000000\n  bare:\n    image: {h}/team/edge@sha256:1111111111111111111111111111111111111111111111111111111111111111\n  old:\n    image: {h}/team/edge:0.0.1@{index_digest}\n"),
    );
    let runner = Runner::github();
    let out = project
        .relkit(
            &runner,
            &["pin-images", "check", "--production-files", "deploy/*.yml"],
        )
        .expect_code(1);
    let found: Vec<(String, String, String)> = out
        .commands()
        .into_iter()
        .filter(|c| c.properties.contains_key("line"))
        .map(|c| {
            (
                c.name.clone(),
                c.properties["line"].clone(),
                c.properties.get("title").cloned().unwrap_or_default(),
            )
        })
        .collect();
    let want = [
        ("error", "3", "pin-images: latest"),
        ("error", "5", "pin-images: pre-release"),
        ("error", "7", "pin-images: pre-release"),
        ("error", "9", "pin-images: commit-tag"),
        ("warning", "13", "pin-images: platform-manifest"),
        // A digest the registry does not hold, with a tag or alone: nothing could pull it.
        ("error", "15", "pin-images: digest-missing"),
        ("error", "17", "pin-images: digest-missing"),
        // A tag deleted since, its digest still there.
        ("warning", "19", "pin-images: tag-moved"),
    ]
    .map(|(a, b, c)| (a.to_owned(), b.to_owned(), c.to_owned()));
    assert_eq!(found, want, "{}", out.stdout);
    assert_eq!(runner.output("errors"), "6");
    assert_eq!(runner.output("warnings"), "2");

    // A team that moves `latest` only on full releases allows it; the rest still fails.
    let allowing = Runner::github();
    project
        .relkit(
            &allowing,
            &[
                "pin-images",
                "check",
                "--production-files",
                "deploy/*.yml",
                "--allow-latest",
            ],
        )
        .expect_code(1);
    assert_eq!(allowing.output("errors"), "5");
    let summary = runner.summary();
    assert!(
        summary.contains("| rule |") && summary.contains("`deploy/prod.yml`"),
        "{summary}"
    );

    // Full release tags and the index digest pass, with its tag or alone.
    project.write(
        "deploy/prod.yml",
        &format!("services:\n  ok:\n    image: ghcr.io/acme/app:v1.2.3\n  edge:\n    image: {h}/team/edge:3.1.0@{}\n  bare:\n    image: {h}/team/edge@{}\n", index.digest, index.digest),
    );
    let runner = Runner::github();
    project
        .relkit(
            &runner,
            &["pin-images", "check", "--production-files", "deploy/*.yml"],
        )
        .expect_code(0);
    assert_eq!(runner.output("errors"), "0");
}

/// What real projects hold: a compose file reached through a link, `.env` values built from
/// earlier ones, a service compose builds itself, a compose override tag, a `%YAML` directive, a
/// placeholder image, and a digest-only pin that `verify` must accept.
#[test]
fn real_project_shapes_resolve_and_verify() {
    let registry = Registry::start(Auth::Open);
    let digests = seed(&registry);
    let project = Project::new(&registry, PASSWORD);
    let h = project.host.clone();
    let api = digest_of(&digests, "team/api:1.4.2").to_owned();
    project.write(
        "shared/compose.yml",
        &format!(
            "%YAML 1.2\n---\nservices:\n  api:\n    image: !override {h}/team/api:1.4.2\n  web:\n    build: ./web\n    image: {h}/acme/web:local\n  db:\n    image: {h}/library/postgres@{pg}\n  later:\n    image: \"\"\n",
            pg = digest_of(&digests, "library/postgres:16.1")
        ),
    );
    std::fs::create_dir_all(project.path().join("app")).expect("mkdir");
    std::os::unix::fs::symlink(
        "../shared/compose.yml",
        project.path().join("app/compose.yml"),
    )
    .expect("symlink");
    project.write(
        "prod.env",
        &format!("REGISTRY={h}\nWORKER_IMAGE=${{REGISTRY}}/team/worker:0.9.0\n"),
    );
    let runner = Runner::github();
    let out = project
        .relkit(
            &runner,
            &[
                "pin-images",
                "resolve",
                "--files",
                "app/compose.yml\nprod.env",
                "--pins-file",
                "pins.env",
                "--write",
            ],
        )
        .expect_code(0);
    assert!(
        out.stdout.contains("skipped: built by compose"),
        "{}",
        out.stdout
    );
    let link = std::fs::symlink_metadata(project.path().join("app/compose.yml")).expect("stat");
    assert!(link.file_type().is_symlink(), "the link stays a link");
    let compose = project.read("shared/compose.yml");
    assert!(
        compose.contains(&format!("image: !override {h}/team/api:1.4.2@{api}\n")),
        "the file behind the link is pinned, its tag kept: {compose}"
    );
    assert!(
        compose.contains("acme/web:local\n"),
        "a built image is left alone"
    );
    let pins = project.read("pins.env");
    assert!(
        pins.contains(&format!(
            "WORKER_IMAGE={h}/team/worker:0.9.0@{}",
            digest_of(&digests, "team/worker:0.9.0")
        )),
        "{pins}"
    );
    assert!(
        pins.contains("DB_IMAGE=") && !pins.contains("WEB_IMAGE="),
        "{pins}"
    );
    // The pins file holds a digest-only pin; verify takes it.
    project
        .relkit(
            &Runner::github(),
            &["pin-images", "verify", "--pins-file", "pins.env"],
        )
        .expect_code(0);

    // Writing the pins over a scanned file is refused before anything happens.
    let refused = refusal(
        &project,
        &["--files", "prod.env", "--pins-file", "prod.env"],
    );
    assert!(refused.contains("is also one of the --files"), "{refused}");
    assert!(project.read("prod.env").starts_with("REGISTRY="));
    // So is a pins file the patterns would match, before it exists and after: both runs give
    // the same answer, and neither writes it.
    let before = snapshot(&project);
    for _ in 0..2 {
        let refused = refusal(
            &project,
            &["--files", "*.env", "--pins-file", "release.env"],
        );
        assert!(
            refused.contains("--pins-file release.env is also one of the --files")
                && refused.contains("\"*.env\""),
            "{refused}"
        );
        assert_eq!(snapshot(&project), before);
    }

    // A Helm pair whose tag is empty comes from the chart's appVersion: refused, named.
    project.write(
        "values.yaml",
        &format!("image:\n  repository: {h}/team/web\n  tag: \"\"\n"),
    );
    let refused = refusal(
        &project,
        &["--files", "values.yaml", "--pins-file", "helm.env"],
    );
    assert!(refused.contains("has no `tag`"), "{refused}");
    assert!(!project.path().join("helm.env").exists());
}

/// `relkit pin-images resolve ARGS`, which must refuse its input: the first error.
fn refusal(project: &Project, args: &[&str]) -> String {
    let mut all = vec!["pin-images", "resolve"];
    all.extend_from_slice(args);
    let out = project.relkit(&Runner::github(), &all).expect_code(2);
    out.errors()
        .first()
        .map(|e| e.data.clone())
        .unwrap_or_else(|| panic!("no error: {}", out.stdout))
}

#[test]
fn a_link_named_pin_images_runs_it() {
    let dir = tempfile::tempdir().expect("dir");
    std::fs::write(
        dir.path().join("prod.yml"),
        "services:\n  a:\n    image: nginx:latest\n",
    )
    .expect("write");
    for name in ["pin-images", "relkit-pin-images"] {
        let link = dir.path().join(name);
        std::os::unix::fs::symlink(crate::support::binary(), &link).expect("symlink");
        let out = run(crate::support::command(
            &link,
            &["check", "--offline", "--production-files", "prod.yml"],
        )
        .current_dir(dir.path()))
        .expect_code(1);
        assert!(out.stderr.contains("prod.yml:3"), "{name}: {}", out.stderr);
        let help = run(&mut crate::support::command(&link, &["--help"])).expect_code(0);
        assert!(
            help.stdout
                .contains("Usage: relkit pin-images [OPTIONS] [MODE]"),
            "{name}: the name once\n{}",
            help.stdout
        );
    }
}

/// A kustomize overlay sets the tags production runs: its `images:` entries are checked, and
/// pinned by a `digest:` line of their own under each `newTag`, nothing else moved.
#[test]
fn kustomize_overlays_are_checked_and_pinned() {
    let registry = Registry::start(Auth::Open);
    let digests = seed(&registry);
    let project = Project::new(&registry, PASSWORD);
    let h = project.host.clone();
    let overlay = format!(
        "apiVersion: kustomize.config.k8s.io/v1beta1\r\nkind: Kustomization\r\nresources:\r\n  - ../../base\r\nimages:\r\n  - name: api\r\n    newName: {h}/team/api\r\n    newTag: \"1.4.2\" # promoted\r\n  - name: worker\r\n    newName: {h}/team/worker\r\n    newTag: 0.9.0\r\n  - name: web # keeps the base's tag\r\n    newName: {h}/team/web\r\n  -   newTag: \"16.1\"\r\n      newName: {h}/library/postgres\r\n      name: db\r\n"
    );
    project.write("overlays/prod/kustomization.yaml", &overlay);
    let runner = Runner::github();
    project
        .relkit(
            &runner,
            &[
                "pin-images",
                "resolve",
                "--files",
                "overlays/*/kustomization.yaml",
                "--write",
            ],
        )
        .expect_code(0);
    let api = digest_of(&digests, "team/api:1.4.2");
    let worker = digest_of(&digests, "team/worker:0.9.0");
    // An entry whose `-` is followed by more than one space: `digest:` lines up with `newTag`.
    let postgres = digest_of(&digests, "library/postgres:16.1");
    let want = overlay
        .replace(
            "    newTag: \"1.4.2\" # promoted\r\n",
            &format!("    newTag: \"1.4.2\" # promoted\r\n    digest: {api}\r\n"),
        )
        .replace(
            "    newTag: 0.9.0\r\n",
            &format!("    newTag: 0.9.0\r\n    digest: {worker}\r\n"),
        )
        .replace(
            "  -   newTag: \"16.1\"\r\n",
            &format!("  -   newTag: \"16.1\"\r\n      digest: {postgres}\r\n"),
        );
    assert_eq!(project.read("overlays/prod/kustomization.yaml"), want);
    assert_eq!(
        runner.output("images"),
        "3",
        "the rename-only entry is judged in the base"
    );

    project.write(
        "overlays/prod/kustomization.yaml",
        "images:\n  - name: nginx\n    newTag: latest\n",
    );
    let out = project
        .relkit(
            &Runner::github(),
            &[
                "pin-images",
                "check",
                "--offline",
                "--production-files",
                "overlays/prod/kustomization.yaml",
            ],
        )
        .expect_code(1);
    assert_eq!(
        out.errors()[0].properties.get("line").map(String::as_str),
        Some("3")
    );
}

/// registry.k8s.io redirects every manifest request to the registry that holds the image:
/// resolve, check and verify follow, and the pins keep the name the files use.
#[test]
fn resolve_check_and_verify_follow_a_registry_that_redirects() {
    let registry = Registry::start(Auth::Open);
    let image = registry.push_image("team/api", "1.4.2", Format::Oci);
    let front = Redirect::start(registry.host());
    let project = Project::new(&registry, PASSWORD);
    let f = front.host();
    project.write(
        "compose.yml",
        &format!("services:\n  api:\n    image: {f}/team/api:1.4.2\n"),
    );
    project
        .relkit(
            &Runner::github(),
            &[
                "pin-images",
                "resolve",
                "--files",
                "compose.yml",
                "--pins-file",
                "pins.env",
                "--write",
            ],
        )
        .expect_code(0);
    let pinned = format!("{f}/team/api:1.4.2@{}", image.digest);
    assert!(
        project.read("compose.yml").contains(&pinned),
        "{}",
        project.read("compose.yml")
    );
    assert!(
        project
            .read("pins.env")
            .contains(&format!("API_IMAGE={pinned}")),
        "{}",
        project.read("pins.env")
    );
    let redirected = front.redirected();
    assert!(redirected >= 1, "{redirected}");
    project
        .relkit(
            &Runner::github(),
            &["pin-images", "check", "--production-files", "compose.yml"],
        )
        .expect_code(0);
    project
        .relkit(
            &Runner::github(),
            &["pin-images", "verify", "--pins-file", "pins.env"],
        )
        .expect_code(0);
    assert!(
        front.redirected() >= redirected + 2,
        "check and verify went through it too"
    );
}

/// A `--pins-file` that cannot be written is bad input, found before any deploy file changes.
#[test]
fn a_pins_file_that_cannot_be_written_is_refused_before_any_write() {
    let registry = Registry::start(Auth::Open);
    seed(&registry);
    let project = Project::new(&registry, PASSWORD);
    let h = project.host.clone();
    project.write(
        "compose.yml",
        &format!("services:\n  api:\n    image: {h}/team/api:1.4.2\n"),
    );
    project.write("pins/keep", "");
    project.write("notes.txt", "a file, not a folder\n");
    let before = snapshot(&project);
    for (pins, rule) in [
        ("pins", "is a directory"),
        ("notes.txt/pins.env", "notes.txt is not a directory"),
    ] {
        let refused = refusal(
            &project,
            &["--files", "compose.yml", "--pins-file", pins, "--write"],
        );
        assert!(
            refused.contains(&format!("--pins-file {pins}")) && refused.contains(rule),
            "{refused}"
        );
        assert_eq!(snapshot(&project), before, "{pins}: nothing was written");
    }
}

/// A pins file that is not there is the user's input, not the world failing: exit 2, naming the
/// flag, before any registry is asked.
#[test]
fn verify_of_a_missing_pins_file_is_bad_input() {
    let dir = tempfile::tempdir().expect("dir");
    let out = run(Runner::github()
        .relkit(&["pin-images", "verify", "--pins-file", "nope.env"])
        .current_dir(dir.path()))
    .expect_code(2);
    let errors = out.errors();
    assert!(
        errors.iter().any(|e| e
            .data
            .contains("--pins-file nope.env: cannot read the pins file")),
        "{errors:#?}"
    );
}

/// A sign-in page answering `200 text/html` in the registry's place: nothing is pinned to the
/// page's hash, no file changes, and the error names the registry, the reference and the page.
#[test]
fn resolve_writes_no_digest_it_did_not_verify() {
    let registry = Registry::start(Auth::Open);
    registry.push_image("team/api", "1.4.2", Format::Oci);
    for how in [Misbehaviour::LoginPage, Misbehaviour::Truncated] {
        let front = Front::start(registry.host(), how);
        let project = Project::new(&registry, PASSWORD);
        let compose = format!(
            "services:\n  api:\n    image: {}/team/api:1.4.2\n",
            front.host()
        );
        project.write("compose.yml", &compose);
        let out = project.relkit(
            &Runner::github(),
            &[
                "pin-images",
                "resolve",
                "--files",
                "compose.yml",
                "--pins-file",
                "pins.env",
                "--write",
            ],
        );
        assert_eq!(out.code, Some(1), "{how:?}: {}", out.stdout);
        assert_eq!(project.read("compose.yml"), compose, "{how:?}: unchanged");
        assert!(
            !project.path().join("pins.env").exists(),
            "{how:?}: no pins file"
        );
        let errors = out.errors();
        let message = &errors.first().expect("an ::error").data;
        assert!(
            message.contains(&format!("the registry {}", front.host())),
            "{message}"
        );
        assert!(message.contains("team/api:1.4.2"), "{message}");
        assert!(message.contains("which is not a manifest"), "{message}");
        if how == Misbehaviour::LoginPage {
            assert!(message.contains("200 text/html"), "{message}");
        }
    }
}

/// A check that cannot ask the registry (down, or a login page in its place) fails, naming the
/// image and what went wrong; `--offline` checks the rules alone.
#[test]
fn check_fails_when_the_registry_cannot_be_asked_unless_offline() {
    let registry = Registry::start(Auth::Open);
    let image = registry.push_image("team/api", "1.4.2", Format::Oci);
    let front = Front::start(registry.host(), Misbehaviour::LoginPage);
    let closed = std::net::TcpListener::bind("127.0.0.1:0").expect("a port");
    let down = closed.local_addr().expect("its address").to_string();
    drop(closed);
    for host in [front.host().to_owned(), down] {
        let project = Project::new(&registry, PASSWORD);
        project.write(
            "deploy/compose.yml",
            &format!(
                "services:\n  api:\n    image: {host}/team/api:1.4.2@{}\n",
                image.digest
            ),
        );
        let args = ["pin-images", "check", "--production-files", "deploy/*.yml"];
        let out = project.relkit(&Runner::github(), &args).expect_code(1);
        let errors = out.errors();
        assert!(
            errors
                .iter()
                .any(|e| e.data.contains("could not look it up") && e.data.contains("--offline")),
            "{host}: {}",
            out.stdout
        );
        let mut offline = args.to_vec();
        offline.push("--offline");
        project.relkit(&Runner::github(), &offline).expect_code(0);
    }
}

/// A server on 127.0.0.1 that accepts connections and never answers, until dropped.
struct Silent {
    host: String,
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Silent {
    fn start() -> Self {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a port");
        listener.set_nonblocking(true).expect("nonblocking");
        let host = listener.local_addr().expect("its address").to_string();
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let stopping = stop.clone();
        let thread = std::thread::spawn(move || {
            let mut held = Vec::new();
            while !stopping.load(std::sync::atomic::Ordering::SeqCst) {
                if let Ok((socket, _)) = listener.accept() {
                    held.push(socket);
                }
                std::thread::sleep(std::time::Duration::from_millis(10));
            }
        });
        Self {
            host,
            stop,
            thread: Some(thread),
        }
    }
}

impl Drop for Silent {
    fn drop(&mut self) {
        self.stop.store(true, std::sync::atomic::Ordering::SeqCst);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

#[test]
fn a_registry_that_never_answers_stops_at_the_deadline_and_nothing_is_written() {
    let registry = Registry::start(Auth::Open);
    let silent = Silent::start();
    let project = Project::new(&registry, PASSWORD);
    project.write(
        "compose.yml",
        &format!(
            "services:\n  api:\n    image: {}/team/api:1.4.2\n",
            silent.host
        ),
    );
    let before = snapshot(&project);
    let started = std::time::Instant::now();
    let args = [
        "pin-images",
        "resolve",
        "--files",
        "compose.yml",
        "--pins-file",
        "pins/v1.2.3.env",
        "--write",
        "--deadline",
        "2",
    ];
    let out = project.relkit(&Runner::github(), &args).expect_code(1);
    assert!(
        started.elapsed() < std::time::Duration::from_secs(15),
        "{:?}",
        started.elapsed()
    );
    let errors = out.errors();
    assert!(
        errors.iter().any(
            |e| e.data.contains("by the run's deadline (2 s, --deadline)")
                && e.data.contains(&silent.host)
        ),
        "{}",
        out.stdout
    );
    assert_eq!(snapshot(&project), before);

    let out = project
        .relkit(
            &Runner::github(),
            &["pin-images", "resolve", "--deadline", "soon"],
        )
        .expect_code(2);
    assert!(
        out.stdout
            .contains(r#"--deadline (RELKIT_DEADLINE) "soon" is not a whole number of seconds"#),
        "{}",
        out.stdout
    );
}
