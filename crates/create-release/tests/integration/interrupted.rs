//! The fault matrix the HTTP forges share: a fault armed at one write, a run, a re-run, and the
//! state they must converge on.

use relkit_create_release::{Config, apply, plan};
use relkit_forge::Forge;
use relkit_testkit::GitRepo;
use relkit_testkit::emulator::{Emulator, Fault, Matcher};

/// Each kind of fault, before and after the write takes effect, and a rate limit.
pub fn faults() -> Vec<Fault> {
    vec![
        Fault::Status(502),
        Fault::DropConnection,
        Fault::AfterCommit(Box::new(Fault::Status(502))),
        Fault::AfterCommit(Box::new(Fault::DropConnection)),
        Fault::SecondaryRateLimit {
            retry_after_secs: 1,
        },
    ]
}

/// Arms `fault` three times in a row at the write `matcher` names (more than the retries of a
/// read or a state change), runs the release of `v1.1.0`, runs it again without faults, and
/// checks one tag at HEAD, one published release with each asset once, and nothing left to do.
pub async fn converges<F: Forge>(
    emulator: &Emulator,
    forge: &F,
    repo: &GitRepo,
    cfg: &Config,
    (matcher, fault): (Matcher, Fault),
    case: &str,
) {
    emulator.fault(matcher, 3, fault);
    let first = plan(forge, cfg).await.expect("plan");
    let _ = apply(forge, &first, &mut |_| {}).await;

    let again = plan(forge, cfg)
        .await
        .unwrap_or_else(|e| panic!("{case}: the re-run cannot plan: {e}"));
    apply(forge, &again, &mut |_| {})
        .await
        .unwrap_or_else(|e| panic!("{case}: the re-run fails: {e}"));

    assert_eq!(emulator.releases().len(), 1, "{case}: one release");
    let release = forge
        .release_by_tag("v1.1.0")
        .await
        .expect("read")
        .unwrap_or_else(|| panic!("{case}: published"));
    let mut names: Vec<&str> = release.assets.iter().map(|a| a.name.as_str()).collect();
    names.sort_unstable();
    assert_eq!(
        names,
        ["SHA256SUMS", "app.tar.gz", "release-manifest.json"],
        "{case}: each asset once"
    );
    let id: u64 = release.id.parse().expect("numeric id");
    assert_eq!(emulator.assets(id).len(), 3, "{case}: no stray assets");
    assert_eq!(
        forge.tag("v1.1.0").await.expect("read").map(|t| t.commit),
        Some(repo.head()),
        "{case}"
    );
    assert!(
        plan(forge, cfg).await.expect("plan").is_noop(),
        "{case}: converged"
    );
}
