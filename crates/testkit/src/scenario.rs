//! Repositories shaped like the histories relkit meets, built commit by commit.
//!
//! Each function returns a fresh repository; the same function always builds the same commit
//! ids, so snapshots can show them.

use crate::GitRepo;

/// A product's history through 0.x into 1.0 and beyond: conventional commits of every kind
/// (`feat`, `fix`, `perf`, scopes, `!`, `BREAKING CHANGE:` footers), commits that are not
/// conventional, a merged branch, pre-release and release-candidate tags between full releases,
/// an annotated release tag, and unreleased work at the end (a feature, a fix and a refactor).
pub fn product() -> GitRepo {
    let repo = GitRepo::new();
    repo.commit("chore: initial commit");
    repo.commit("feat: add configuration loader");
    repo.commit("fix(parser): handle empty input");
    repo.tag("v0.1.0");

    repo.commit("feat(api)!: rename the status endpoint");
    repo.commit("docs: describe the configuration file");
    repo.commit("Update dependencies");
    repo.tag("v0.2.0");

    repo.branch("retries");
    repo.commit("feat(client): retry failed requests");
    repo.commit("fix(client): off-by-one in backoff");
    repo.switch("main");
    repo.commit("perf: parse manifests in one pass");
    repo.merge("retries", "Merge branch 'retries'");
    let head = repo.head();
    repo.tag(&format!("v1.0.0-pre.6+{}", &head[..7]));

    repo.commit("feat: export reports\n\nBREAKING CHANGE: the export format is now JSON");
    repo.tag("v1.0.0-rc.1");
    repo.commit("fix: crash when the cache is missing");
    repo.annotated_tag("v1.0.0", "Release 1.0.0");

    repo.commit("feat: add --quiet option (#12)");
    repo.commit("fix(ui): align the summary table");
    let head = repo.head();
    repo.tag(&format!("v1.0.1-pre.2+{}", &head[..7]));
    repo.commit("refactor: split the reporter");
    repo
}

/// Two release streams in one repository, `cloud/v` and `edge/v`, with changes under `cloud/`
/// and `edge/`, and a plain `v` tag that belongs to neither.
pub fn two_streams() -> GitRepo {
    let repo = GitRepo::new();
    repo.commit_file("README.md", "fleet\n", "chore: initial commit");
    repo.commit_file("cloud/api.txt", "1\n", "feat(cloud): add the fleet API");
    repo.commit_file("edge/agent.txt", "1\n", "feat(edge): add the device agent");
    repo.tag("cloud/v1.0.0");
    repo.tag("edge/v1.0.0");
    repo.commit_file("edge/agent.txt", "2\n", "fix(edge): reconnect after sleep");
    repo.tag("edge/v1.0.1");
    repo.commit_file("cloud/api.txt", "2\n", "feat(cloud): paginate device lists");
    repo.tag("v9.9.9");
    repo.commit_file("edge/agent.txt", "3\n", "feat(edge)!: new wire protocol");
    repo.commit_file("cloud/api.txt", "3\n", "fix(cloud): time zone of reports");
    repo
}

/// A project still in 0.x: one release, then a breaking change and a feature.
pub fn initial_development() -> GitRepo {
    let repo = GitRepo::new();
    repo.commit("feat: first cut");
    repo.tag("v0.3.0");
    repo.commit("feat!: drop the legacy flag");
    repo.commit("feat: add the status command");
    repo
}
