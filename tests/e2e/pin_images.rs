//! `relkit pin-images` against a real registry (Debian's docker-registry on loopback) in its three
//! auth variants: open, htpasswd Basic, and bearer tokens from a token server. Credentials reach
//! relkit the way `docker login` leaves them, in `$DOCKER_CONFIG/config.json`.

use std::path::Path;

use base64::Engine as _;
use relkit_testkit::registry::{Auth, Format, Registry};
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

    // resolve: a pins file and the files rewritten in place.
    let runner = Runner::github();
    project
        .relkit(
            &runner,
            &[
                "pin-images",
                "resolve",
                "--files",
                "compose.yml\nk8s/*.yaml\nhelm/values.yaml",
                "--pins-file",
                "pins/v1.2.3.env",
                "--write",
            ],
        )
        .expect_code(0);
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
    let again = project
        .relkit(
            &runner,
            &[
                "pin-images",
                "resolve",
                "--files",
                "compose.yml\nk8s/*.yaml\nhelm/values.yaml",
                "--pins-file",
                "pins/v1.2.3.env",
                "--write",
            ],
        )
        .expect_code(0);
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
