//! A run interrupted at any step, before or after the step took effect, converges when run
//! again: one tag at the commit, one published release, each asset once with its bytes.

use std::cell::Cell;

use relkit_create_release::{Config, apply, plan};
use relkit_forge::local::Local;
use relkit_forge::{
    Asset, AssetUpload, CommitChecks, Error, Forge, Issue, Label, NewIssue, NewRelease, NewTag,
    Release, ReleasePatch, Result, Sha256, Tag,
};
use relkit_testkit::scenario;

use crate::{build, config, exact, forge};

/// Where the fault strikes the chosen write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Strike {
    /// The write fails and does nothing.
    Before,
    /// The write takes effect, then the answer is lost (a timeout after sending).
    After,
}

/// The local forge, with the `nth` write (0-based) failing.
struct Faulty {
    inner: Local,
    nth: usize,
    strike: Strike,
    writes: Cell<usize>,
}

impl Faulty {
    fn lost(&self) -> Error {
        Error::NotFound {
            forge: "a forge that stopped answering".to_owned(),
            what: "the answer".to_owned(),
        }
    }

    /// Runs a write, failing it when its turn comes.
    async fn write<T>(&self, op: impl std::future::Future<Output = Result<T>>) -> Result<T> {
        let n = self.writes.get();
        self.writes.set(n + 1);
        if n != self.nth {
            return op.await;
        }
        match self.strike {
            Strike::Before => Err(self.lost()),
            Strike::After => {
                op.await?;
                Err(self.lost())
            }
        }
    }
}

impl Forge for Faulty {
    fn describe(&self) -> String {
        self.inner.describe()
    }
    async fn resolve(&self, rev: &str) -> Result<Option<String>> {
        self.inner.resolve(rev).await
    }
    async fn tag(&self, name: &str) -> Result<Option<Tag>> {
        self.inner.tag(name).await
    }
    async fn create_tag(&self, tag: &NewTag) -> Result<Tag> {
        self.write(self.inner.create_tag(tag)).await
    }
    async fn ahead_by(&self, base: &str, head: &str) -> Result<u64> {
        self.inner.ahead_by(base, head).await
    }
    async fn release_by_tag(&self, tag: &str) -> Result<Option<Release>> {
        self.inner.release_by_tag(tag).await
    }
    async fn releases(&self) -> Result<Vec<Release>> {
        self.inner.releases().await
    }
    async fn create_release(&self, release: &NewRelease) -> Result<Release> {
        self.write(self.inner.create_release(release)).await
    }
    async fn update_release(&self, release: &Release, patch: &ReleasePatch) -> Result<Release> {
        self.write(self.inner.update_release(release, patch)).await
    }
    async fn upload_asset(&self, release: &Release, upload: &AssetUpload) -> Result<Asset> {
        self.write(self.inner.upload_asset(release, upload)).await
    }
    async fn download_asset(&self, asset: &Asset) -> Result<Vec<u8>> {
        self.inner.download_asset(asset).await
    }
    async fn delete_asset(&self, asset: &Asset) -> Result<()> {
        self.write(self.inner.delete_asset(asset)).await
    }
    async fn ensure_labels(&self, labels: &[Label]) -> Result<()> {
        self.write(self.inner.ensure_labels(labels)).await
    }
    async fn open_issues_with_label(&self, label: &str) -> Result<Vec<Issue>> {
        self.inner.open_issues_with_label(label).await
    }
    async fn create_issue(&self, issue: &NewIssue) -> Result<Issue> {
        self.write(self.inner.create_issue(issue)).await
    }
    async fn comment(&self, issue: &Issue, body: &str) -> Result<()> {
        self.write(self.inner.comment(issue, body)).await
    }
    async fn close_issue(&self, issue: &Issue) -> Result<()> {
        self.write(self.inner.close_issue(issue)).await
    }
    async fn checks(&self, commit: &str) -> Result<CommitChecks> {
        self.inner.checks(commit).await
    }
}

/// Tag, draft, three assets (one file, the manifest, the sums), publish.
const WRITES: usize = 6;

async fn interrupted_then_rerun(
    cfg: &Config,
    repo: &relkit_testkit::GitRepo,
    nth: usize,
    strike: Strike,
) {
    let faulty = Faulty {
        inner: forge(repo),
        nth,
        strike,
        writes: Cell::new(0),
    };
    let first = plan(&faulty, cfg).await.expect("plan");
    let err = apply(&faulty, &first, &mut |_| {}).await;
    assert!(err.is_err(), "write {nth} {strike:?} should fail the run");

    let forge = forge(repo);
    let again = plan(&forge, cfg)
        .await
        .unwrap_or_else(|e| panic!("write {nth} {strike:?}: the re-run cannot plan: {e}"));
    apply(&forge, &again, &mut |_| {})
        .await
        .unwrap_or_else(|e| panic!("write {nth} {strike:?}: the re-run fails: {e}"));

    let releases = forge.releases().await.expect("list");
    assert_eq!(releases.len(), 1, "write {nth} {strike:?}: one release");
    let release = &releases[0];
    assert!(!release.draft, "write {nth} {strike:?}: published");
    let mut names: Vec<&str> = release.assets.iter().map(|a| a.name.as_str()).collect();
    names.sort_unstable();
    assert_eq!(
        names,
        ["SHA256SUMS", "app.tar.gz", "release-manifest.json"],
        "write {nth} {strike:?}"
    );
    let app = release
        .assets
        .iter()
        .find(|a| a.name == "app.tar.gz")
        .expect("asset");
    assert_eq!(app.digest, Some(Sha256::of(b"app")));
    assert_eq!(
        forge.tag("v1.1.0").await.expect("read").map(|t| t.commit),
        Some(repo.head())
    );
    assert!(
        plan(&forge, cfg).await.expect("plan").is_noop(),
        "write {nth} {strike:?}: converged"
    );
}

#[tokio::test]
async fn a_run_interrupted_at_any_write_converges_when_run_again() {
    for strike in [Strike::Before, Strike::After] {
        for nth in 0..WRITES {
            let repo = scenario::product();
            build(&repo, &[("app.tar.gz", "app")]);
            let cfg = config(&repo, exact("1.1.0"));
            interrupted_then_rerun(&cfg, &repo, nth, strike).await;
        }
    }
}
