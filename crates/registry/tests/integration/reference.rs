//! The reference grammar: a table of malformed and edge-case references, each with the rule it
//! breaks, and valid ones with their normalised form, checked against oci-spec's parser (the one
//! oci-client uses) as a second opinion.

use relkit_registry::{DigestProblem, Problem, Reference};

const HEX64: &str = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

fn problem(value: &str) -> Problem {
    match value.parse::<Reference>() {
        Ok(r) => panic!("{value:?} parsed as {r}, expected an error"),
        Err(e) => {
            assert_eq!(e.value, value, "the error names the value as given");
            let message = e.to_string();
            assert!(
                message.contains(&format!("{value:?}")),
                "the message names the value: {message}"
            );
            e.problem
        }
    }
}

#[test]
fn malformed_references_are_refused_with_the_rule_they_break() {
    let long_tag = "t".repeat(129);
    let long_name = format!("example.com/{}", "a".repeat(250));
    let upper_hex = format!("nginx@sha256:{}", HEX64.to_uppercase());
    let short = format!("nginx@sha256:{}", &HEX64[..63]);
    let long = format!("nginx@sha256:{HEX64}0");
    let sha512_short = format!("nginx@sha512:{HEX64}");
    let md5 = "nginx@md5:0123456789abcdef0123456789abcdef".to_owned();
    let no_algorithm = format!("nginx@{HEX64}");
    let only_digest = format!("@sha256:{HEX64}");
    let tag_and_bad_digest = format!("nginx:1.25@sha256:{}", &HEX64[..10]);

    let cases: Vec<(&str, Problem)> = vec![
        ("", Problem::Empty),
        (" nginx", Problem::BadCharacter { found: ' ' }),
        ("nginx ", Problem::BadCharacter { found: ' ' }),
        ("ngi\tnx", Problem::BadCharacter { found: '\t' }),
        ("nginx\n", Problem::BadCharacter { found: '\n' }),
        ("nginé", Problem::BadCharacter { found: 'é' }),
        (
            "Nginx",
            Problem::Uppercase {
                repository: "Nginx".into(),
            },
        ),
        (
            "ghcr.io/Owner/app",
            Problem::Uppercase {
                repository: "Owner/app".into(),
            },
        ),
        (
            "library/NGINX:1",
            Problem::Uppercase {
                repository: "library/NGINX".into(),
            },
        ),
        (
            ":5000/app",
            Problem::PortWithoutHost {
                registry: ":5000".into(),
            },
        ),
        (
            ":5000/app:1",
            Problem::PortWithoutHost {
                registry: ":5000".into(),
            },
        ),
        (
            "localhost:/app",
            Problem::BadPort {
                registry: "localhost:".into(),
            },
        ),
        (
            "localhost:abc/app",
            Problem::BadPort {
                registry: "localhost:abc".into(),
            },
        ),
        (
            "localhost:70000/app",
            Problem::BadPort {
                registry: "localhost:70000".into(),
            },
        ),
        (
            "localhost:0/app",
            Problem::BadPort {
                registry: "localhost:0".into(),
            },
        ),
        (
            "-bad.example.com/app",
            Problem::BadHost {
                host: "-bad.example.com".into(),
            },
        ),
        (
            "bad-.example.com/app",
            Problem::BadHost {
                host: "bad-.example.com".into(),
            },
        ),
        (
            "bad..example.com/app",
            Problem::BadHost {
                host: "bad..example.com".into(),
            },
        ),
        (
            "[::1/app",
            Problem::BadHost {
                host: "[::1".into(),
            },
        ),
        (
            "ghcr.io/",
            Problem::NoRepository {
                registry: "ghcr.io".into(),
            },
        ),
        (
            "ghcr.io//app",
            Problem::EmptyComponent {
                repository: "/app".into(),
            },
        ),
        (
            "/nginx",
            Problem::EmptyComponent {
                repository: "/nginx".into(),
            },
        ),
        (
            "owner/app/",
            Problem::EmptyComponent {
                repository: "owner/app/".into(),
            },
        ),
        (
            "-nginx",
            Problem::BadComponent {
                component: "-nginx".into(),
            },
        ),
        (
            "nginx-",
            Problem::BadComponent {
                component: "nginx-".into(),
            },
        ),
        (
            "ng..inx",
            Problem::BadComponent {
                component: "ng..inx".into(),
            },
        ),
        (
            "ng___inx",
            Problem::BadComponent {
                component: "ng___inx".into(),
            },
        ),
        (
            "ng-.inx",
            Problem::BadComponent {
                component: "ng-.inx".into(),
            },
        ),
        (
            "ng+inx",
            Problem::BadComponent {
                component: "ng+inx".into(),
            },
        ),
        (HEX64, Problem::HexName),
        (&long_name, Problem::NameTooLong { len: 262 }),
        ("nginx:", Problem::EmptyTag),
        ("nginx:-1", Problem::BadTag { tag: "-1".into() }),
        ("nginx:.1", Problem::BadTag { tag: ".1".into() }),
        (
            "nginx:1+build",
            Problem::BadTag {
                tag: "1+build".into(),
            },
        ),
        (
            "nginx:a:b",
            Problem::BadComponent {
                component: "nginx:a".into(),
            },
        ),
        ("nginx@", Problem::EmptyDigest),
        (":tag", Problem::NoName { before: ':' }),
        (&only_digest, Problem::NoName { before: '@' }),
        ("@sha256:", Problem::NoName { before: '@' }),
        (
            "nginx@sha256:",
            Problem::Digest {
                digest: "sha256:".into(),
                problem: DigestProblem::Empty {
                    algorithm: "sha256".into(),
                    expected: 64,
                },
            },
        ),
        (
            &short,
            Problem::Digest {
                digest: short[6..].to_owned(),
                problem: DigestProblem::Length {
                    algorithm: "sha256".into(),
                    expected: 64,
                    found: 63,
                },
            },
        ),
        (
            &long,
            Problem::Digest {
                digest: long[6..].to_owned(),
                problem: DigestProblem::Length {
                    algorithm: "sha256".into(),
                    expected: 64,
                    found: 65,
                },
            },
        ),
        (
            &sha512_short,
            Problem::Digest {
                digest: sha512_short[6..].to_owned(),
                problem: DigestProblem::Length {
                    algorithm: "sha512".into(),
                    expected: 128,
                    found: 64,
                },
            },
        ),
        (
            &upper_hex,
            Problem::Digest {
                digest: upper_hex[6..].to_owned(),
                problem: DigestProblem::NotHex,
            },
        ),
        (
            &md5,
            Problem::Digest {
                digest: md5[6..].to_owned(),
                problem: DigestProblem::Unsupported {
                    algorithm: "md5".into(),
                },
            },
        ),
        (
            &no_algorithm,
            Problem::Digest {
                digest: HEX64.to_owned(),
                problem: DigestProblem::NoAlgorithm,
            },
        ),
        (
            "nginx@SHA256:abc",
            Problem::Digest {
                digest: "SHA256:abc".into(),
                problem: DigestProblem::BadAlgorithm {
                    algorithm: "SHA256".into(),
                },
            },
        ),
        (
            &tag_and_bad_digest,
            Problem::Digest {
                digest: tag_and_bad_digest
                    .split_once('@')
                    .map(|(_, d)| d.to_owned())
                    .unwrap_or_default(),
                problem: DigestProblem::Length {
                    algorithm: "sha256".into(),
                    expected: 64,
                    found: 10,
                },
            },
        ),
    ];
    let tag_case = problem(&format!("nginx:{long_tag}"));
    assert_eq!(tag_case, Problem::TagTooLong { len: 129 });

    assert!(cases.len() >= 30, "at least 30 cases");
    let mut failures = Vec::new();
    for (value, expected) in &cases {
        let got = problem(value);
        if got != *expected {
            failures.push(format!("{value:?}: expected {expected:?}, got {got:?}"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// A valid reference and what it normalises to.
struct Valid {
    input: String,
    registry: &'static str,
    repository: String,
    tag: Option<String>,
    digest: Option<String>,
    api: &'static str,
}

fn ok(
    input: &str,
    registry: &'static str,
    repository: &str,
    tag: Option<&str>,
    api: &'static str,
) -> Valid {
    Valid {
        input: input.to_owned(),
        registry,
        repository: repository.to_owned(),
        tag: tag.map(str::to_owned),
        digest: None,
        api,
    }
}

const HUB: &str = "registry-1.docker.io";

fn valid() -> Vec<Valid> {
    let d = format!("sha256:{HEX64}");
    let long_tag = "t".repeat(128);
    vec![
        ok("nginx", "docker.io", "library/nginx", None, HUB),
        ok(
            "nginx:1.25",
            "docker.io",
            "library/nginx",
            Some("1.25"),
            HUB,
        ),
        ok("library/nginx", "docker.io", "library/nginx", None, HUB),
        ok("docker.io/nginx", "docker.io", "library/nginx", None, HUB),
        ok(
            "index.docker.io/nginx:1",
            "docker.io",
            "library/nginx",
            Some("1"),
            HUB,
        ),
        ok(
            "bitnami/redis:7.2",
            "docker.io",
            "bitnami/redis",
            Some("7.2"),
            HUB,
        ),
        Valid {
            digest: Some(d.clone()),
            ..ok(
                &format!("nginx@{d}"),
                "docker.io",
                "library/nginx",
                None,
                HUB,
            )
        },
        Valid {
            digest: Some(d.clone()),
            ..ok(
                &format!("nginx:1.25@{d}"),
                "docker.io",
                "library/nginx",
                Some("1.25"),
                HUB,
            )
        },
        ok(
            "ghcr.io/owner/app:v1.2.3",
            "ghcr.io",
            "owner/app",
            Some("v1.2.3"),
            "ghcr.io",
        ),
        ok(
            "ghcr.io/a/b/c/d:1",
            "ghcr.io",
            "a/b/c/d",
            Some("1"),
            "ghcr.io",
        ),
        ok("localhost/app", "localhost", "app", None, "localhost"),
        ok(
            "localhost:5000/app:edge",
            "localhost:5000",
            "app",
            Some("edge"),
            "localhost:5000",
        ),
        ok(
            "127.0.0.1:5000/team/app:1",
            "127.0.0.1:5000",
            "team/app",
            Some("1"),
            "127.0.0.1:5000",
        ),
        ok("[::1]:5000/app", "[::1]:5000", "app", None, "[::1]:5000"),
        ok(
            "Registry.Example.COM/app",
            "Registry.Example.COM",
            "app",
            None,
            "Registry.Example.COM",
        ),
        // A name without '/' is a Docker Hub repository even when it looks like a host.
        ok(
            "localhost:5000",
            "docker.io",
            "library/localhost",
            Some("5000"),
            HUB,
        ),
        ok("example.com", "docker.io", "library/example.com", None, HUB),
        ok(
            "foo__bar/a-----b/c.d/e_f:latest",
            "docker.io",
            "foo__bar/a-----b/c.d/e_f",
            Some("latest"),
            HUB,
        ),
        ok(
            "nginx:_underscore",
            "docker.io",
            "library/nginx",
            Some("_underscore"),
            HUB,
        ),
        ok(
            &format!("nginx:{long_tag}"),
            "docker.io",
            "library/nginx",
            Some(&long_tag),
            HUB,
        ),
        ok(
            "gitea.example.com:3000/org/app:1.0.0-pre.145",
            "gitea.example.com:3000",
            "org/app",
            Some("1.0.0-pre.145"),
            "gitea.example.com:3000",
        ),
    ]
}

#[test]
fn valid_references_normalise_as_docker_does() {
    for want in valid() {
        let input = &want.input;
        let r: Reference = input.parse().unwrap_or_else(|e| panic!("{input:?}: {e}"));
        assert_eq!(r.registry(), want.registry, "{input}");
        assert_eq!(r.repository(), want.repository, "{input}");
        assert_eq!(r.tag().map(str::to_owned), want.tag, "{input}");
        assert_eq!(r.digest().map(ToString::to_string), want.digest, "{input}");
        assert_eq!(r.api_host(), want.api, "{input}");
        // The normal form parses to itself.
        let again: Reference = r.to_string().parse().expect("the normal form parses");
        assert_eq!(again, r, "{input}");
    }
}

#[test]
fn valid_references_parse_the_same_as_oci_spec() {
    for Valid { input, .. } in valid() {
        if input.starts_with('[') {
            continue; // oci-spec 0.10 has no IPv6 literals.
        }
        let ours: Reference = input.parse().expect("valid");
        let theirs: oci_spec::distribution::Reference = input
            .parse()
            .unwrap_or_else(|e| panic!("oci-spec refuses {input:?}: {e}"));
        assert_eq!(ours.registry(), theirs.registry(), "{input}");
        assert_eq!(ours.repository(), theirs.repository(), "{input}");
        // oci-spec fills in `latest`; relkit keeps "no tag" so that `check` can report it.
        let filled = ours.tag().or(ours.digest().is_none().then_some("latest"));
        assert_eq!(filled, theirs.tag(), "{input}");
        assert_eq!(
            ours.digest().map(ToString::to_string).as_deref(),
            theirs.digest(),
            "{input}"
        );
    }
}

#[test]
fn errors_name_the_value_and_the_rule() {
    let e = "ghcr.io/Owner/app:1"
        .parse::<Reference>()
        .expect_err("upper case");
    assert_eq!(
        e.to_string(),
        "\"ghcr.io/Owner/app:1\" is not a valid image reference: the repository \"Owner/app\" \
         has upper-case letters; repository names are lower case"
    );
    let e = format!("nginx@sha256:{}", &HEX64[..12])
        .parse::<Reference>()
        .expect_err("short");
    assert!(
        e.to_string()
            .ends_with("a sha256 digest has 64 hex digits, this one has 12"),
        "{e}"
    );
}

#[test]
fn a_tag_can_be_replaced_and_is_checked() {
    let r: Reference = "ghcr.io/o/app:1.0.0-rc.1".parse().expect("valid");
    assert_eq!(
        r.with_tag("1.0.0").expect("valid").to_string(),
        "ghcr.io/o/app:1.0.0"
    );
    let e = r.with_tag("no/slash").expect_err("bad tag");
    assert_eq!(e.value, "ghcr.io/o/app:no/slash");
}
