//! Tag prefixes checked against git itself, so our reading of git-check-ref-format is not the
//! only judge of it.

use std::process::Command;

use relkit_version::{Stream, StreamError, Version};

fn git_accepts(tag: &str) -> bool {
    Command::new("git")
        .args(["check-ref-format", &format!("refs/tags/{tag}")])
        .status()
        .expect("git runs")
        .success()
}

const PREFIXES: &[&str] = &[
    "",
    "v",
    "V",
    "edge/v",
    "cloud/v",
    "edge/",
    "release-",
    "rel_",
    "app+",
    "a@b/v",
    "x.lock",
    "é/v",
    "cloud2/v",
    "my v",
    "v~",
    "v^",
    "v:",
    "v?",
    "v*",
    "v[",
    "v\\",
    "v\t",
    "a..b/v",
    "edge//v",
    "a@{b/v",
    "/v",
    ".v",
    "edge/.v",
    "edge.lock/v",
    "edge/x.lock/v",
];

#[test]
fn git_accepts_every_tag_of_every_prefix_we_accept() {
    let version = Version::parse("1.2.0-pre.145+abc1234").expect("a version");
    for prefix in PREFIXES {
        if let Ok(stream) = Stream::new(prefix) {
            let tag = stream.tag_name(&version);
            assert!(git_accepts(&tag), "git refuses {tag:?}");
        }
    }
}

#[test]
fn git_refuses_what_we_refuse_by_its_rules() {
    let version = Version::new(1, 2, 3);
    for prefix in PREFIXES {
        let by_git_rules = match Stream::new(prefix) {
            Ok(_) => false,
            Err(error) => matches!(
                error,
                StreamError::Character { .. }
                    | StreamError::Sequence { .. }
                    | StreamError::LeadingSlash { .. }
                    | StreamError::DotPart { .. }
                    | StreamError::LockPart { .. }
            ),
        };
        if by_git_rules {
            let tag = format!("{prefix}{version}");
            assert!(!git_accepts(&tag), "git accepts {tag:?}, refused by us");
        }
    }
}
