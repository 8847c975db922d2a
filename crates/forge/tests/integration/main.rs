//! Integration tests of relkit-forge's backends on real repositories.

mod contract;
mod gitea;
mod github;
mod issues;
mod local;

use std::time::Duration;

use relkit_forge::http::Policy;
use relkit_forge::{AssetUpload, MakeLatest, NewRelease};
use relkit_testkit::GitRepo;

/// A quick policy: tests wait milliseconds, not seconds, between attempts.
pub fn policy() -> Policy {
    Policy {
        attempts: 4,
        backoff: Duration::from_millis(20),
        wait_budget: Duration::from_secs(5),
        read_timeout: Duration::from_secs(5),
        connect_timeout: Duration::from_secs(5),
    }
}

/// A draft release of `tag` on `main`.
pub fn release(tag: &str) -> NewRelease {
    NewRelease {
        tag: tag.to_owned(),
        target: "main".to_owned(),
        name: tag.to_owned(),
        body: "notes".to_owned(),
        draft: true,
        prerelease: false,
        make_latest: MakeLatest::Legacy,
    }
}

/// A file to upload as `name`, kept out of the working tree (under `.git/`).
pub fn file(repo: &GitRepo, name: &str, contents: &str) -> AssetUpload {
    let path = repo.path().join(".git").join(name);
    std::fs::write(&path, contents).expect("write");
    AssetUpload {
        name: name.to_owned(),
        path,
        content_type: "application/gzip".to_owned(),
    }
}
