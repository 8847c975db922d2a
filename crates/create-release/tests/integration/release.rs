//! Plans and runs on the local forge.

use relkit_create_release::{
    AssetStep, BumpChoice, Error, MANIFEST, NotesChoice, Presence, ReleaseStep, SUMS,
    VersionChoice, apply, plan,
};
use relkit_forge::{Forge, Sha256};
use relkit_testkit::{GitRepo, scenario};
use relkit_version::{Bump, PrereleaseBase};

use crate::{auto, build, config, exact, forge};

#[tokio::test]
async fn a_full_release_gets_its_tag_notes_assets_sums_and_manifest() {
    let repo = scenario::product();
    build(&repo, &[("app.tar.gz", "app"), ("app.sbom.json", "{}")]);
    let forge = forge(&repo);
    let plan = plan(&forge, &config(&repo, exact("1.1.0")))
        .await
        .expect("plan");
    assert_eq!(plan.tag, "v1.1.0");
    assert_eq!(plan.commit, repo.head());
    assert_eq!(plan.tag_step, Presence::Create);
    assert_eq!(plan.release, ReleaseStep::Create);
    let names: Vec<&str> = plan.assets.iter().map(|a| a.file.name.as_str()).collect();
    assert_eq!(names, ["app.sbom.json", "app.tar.gz", MANIFEST, SUMS]);

    let mut log = Vec::new();
    let outcome = apply(&forge, &plan, &mut |line| log.push(line.to_owned()))
        .await
        .expect("apply");
    let release = outcome.release;
    assert!(!release.draft, "published at the end");
    assert!(!release.prerelease);
    assert!(release.body.contains("## v1.1.0 - "), "{}", release.body);
    assert!(
        release.body.contains("Add --quiet option"),
        "notes since v1.0.0"
    );
    assert!(
        !release.body.contains("Crash when the cache is missing"),
        "not before v1.0.0"
    );
    assert_eq!(
        log.first().map(String::as_str),
        Some(&*format!("created tag v1.1.0 at {}", &repo.head()[..7]))
    );
    assert_eq!(
        log.last().map(String::as_str),
        Some("published release v1.1.0")
    );

    let tag = forge.tag("v1.1.0").await.expect("read").expect("the tag");
    assert_eq!(tag.commit, repo.head());
    let sums = release
        .assets
        .iter()
        .find(|a| a.name == SUMS)
        .expect("sums");
    let sums =
        String::from_utf8(forge.download_asset(sums).await.expect("download")).expect("text");
    assert!(
        sums.contains(&format!("{}  app.tar.gz\n", Sha256::of(b"app"))),
        "{sums}"
    );
    assert!(sums.contains(&format!("  {MANIFEST}\n")), "{sums}");
    let manifest = release
        .assets
        .iter()
        .find(|a| a.name == MANIFEST)
        .expect("manifest");
    let manifest: serde_json::Value =
        serde_json::from_slice(&forge.download_asset(manifest).await.expect("download"))
            .expect("JSON");
    assert_eq!(manifest["tag"], "v1.1.0");
    assert_eq!(manifest["commit"], repo.head());
    assert_eq!(manifest["assets"][1]["name"], "app.tar.gz");
    assert_eq!(
        manifest["assets"][1]["sha256"],
        Sha256::of(b"app").to_string()
    );
}

#[tokio::test]
async fn a_second_run_changes_nothing() {
    let repo = scenario::product();
    build(&repo, &[("app.tar.gz", "app")]);
    let forge = forge(&repo);
    let cfg = config(&repo, exact("1.1.0"));
    let first = plan(&forge, &cfg).await.expect("plan");
    apply(&forge, &first, &mut |_| {}).await.expect("apply");

    let again = plan(&forge, &cfg).await.expect("plan again");
    assert!(again.is_noop(), "{again}");
    let mut log = Vec::new();
    apply(&forge, &again, &mut |line| log.push(line.to_owned()))
        .await
        .expect("apply again");
    assert!(log.is_empty(), "{log:?}");
    assert_eq!(forge.releases().await.expect("list").len(), 1);
}

#[tokio::test]
async fn an_automatic_bump_resumes_at_the_tag_it_made() {
    let repo = scenario::product();
    build(&repo, &[("app.tar.gz", "app")]);
    let forge = forge(&repo);
    let cfg = config(&repo, auto());
    let first = plan(&forge, &cfg).await.expect("plan");
    assert_eq!(first.tag, "v1.1.0", "a feature since v1.0.0");
    apply(&forge, &first, &mut |_| {}).await.expect("apply");
    let again = plan(&forge, &cfg).await.expect("plan again");
    assert_eq!(
        again.tag, "v1.1.0",
        "not v1.2.0: the commit already has its release"
    );
    assert!(again.is_noop(), "{again}");
}

#[tokio::test]
async fn a_fixed_bump_applies_to_the_newest_full_release() {
    let repo = scenario::product();
    build(&repo, &[("app.tar.gz", "app")]);
    let forge = forge(&repo);
    let cfg = config(&repo, VersionChoice::Bump(BumpChoice::Fixed(Bump::Major)));
    assert_eq!(plan(&forge, &cfg).await.expect("plan").tag, "v2.0.0");
}

#[tokio::test]
async fn a_prerelease_is_named_after_the_base_count_and_commit_and_converges() {
    let repo = scenario::product();
    build(&repo, &[("app.tar.gz", "app")]);
    let forge = forge(&repo);
    let cfg = config(&repo, VersionChoice::Prerelease(PrereleaseBase::Latest));
    let first = plan(&forge, &cfg).await.expect("plan");
    let sha7 = &repo.head()[..7];
    assert_eq!(first.tag, format!("v1.0.0-pre.3+{sha7}"));
    assert!(first.prerelease);
    // Notes start at the previous pre-release of the stream, v1.0.1-pre.2.
    assert!(first.body.contains("Split the reporter"), "{}", first.body);
    assert!(!first.body.contains("Add --quiet option"), "{}", first.body);
    apply(&forge, &first, &mut |_| {}).await.expect("apply");
    let again = plan(&forge, &cfg).await.expect("plan again");
    assert_eq!(again.tag, first.tag);
    assert!(again.is_noop(), "{again}");

    let next = config(&repo, VersionChoice::Prerelease(PrereleaseBase::Next));
    assert_eq!(
        plan(&forge, &next).await.expect("plan").tag,
        format!("v1.1.0-pre.3+{sha7}")
    );
}

#[tokio::test]
async fn release_candidates_count_up() {
    let repo = scenario::product();
    build(&repo, &[("app.tar.gz", "app")]);
    let forge = forge(&repo);
    let cfg = config(&repo, VersionChoice::Candidate(BumpChoice::Auto));
    let first = plan(&forge, &cfg).await.expect("plan");
    assert_eq!(first.tag, "v1.1.0-rc.1");
    apply(&forge, &first, &mut |_| {}).await.expect("apply");
    assert_eq!(
        plan(&forge, &cfg).await.expect("plan").tag,
        "v1.1.0-rc.1",
        "resumed"
    );
    repo.commit("fix: one more");
    assert_eq!(plan(&forge, &cfg).await.expect("plan").tag, "v1.1.0-rc.2");
}

#[tokio::test]
async fn different_bytes_under_an_asset_name_stop_the_plan_unless_replacing() {
    let repo = scenario::product();
    build(&repo, &[("app.tar.gz", "app")]);
    let forge = forge(&repo);
    let mut cfg = config(&repo, exact("1.1.0"));
    apply(
        &forge,
        &plan(&forge, &cfg).await.expect("plan"),
        &mut |_| {},
    )
    .await
    .expect("apply");

    build(&repo, &[("app.tar.gz", "rebuilt")]);
    let err = plan(&forge, &cfg).await.expect_err("different bytes");
    assert!(
        matches!(err, Error::Release(relkit_release::Error::AssetDiffers { ref name, .. }) if name == "app.tar.gz"),
        "{err}"
    );
    assert!(err.is_bad_input());

    cfg.replace_assets = true;
    let replacing = plan(&forge, &cfg).await.expect("plan");
    let step = |name: &str| {
        replacing
            .assets
            .iter()
            .find(|a| a.file.name == name)
            .map(|a| a.step.clone())
    };
    assert!(matches!(step("app.tar.gz"), Some(AssetStep::Replace(_))));
    assert!(
        matches!(step(SUMS), Some(AssetStep::Replace(_))),
        "the sums change too"
    );
    let outcome = apply(&forge, &replacing, &mut |_| {}).await.expect("apply");
    let asset = outcome
        .release
        .assets
        .iter()
        .find(|a| a.name == "app.tar.gz")
        .expect("asset");
    assert_eq!(
        forge.download_asset(asset).await.expect("download"),
        b"rebuilt"
    );
}

#[tokio::test]
async fn a_tag_at_another_commit_is_never_moved() {
    let repo = scenario::product();
    build(&repo, &[("app.tar.gz", "app")]);
    let forge = forge(&repo);
    let err = plan(&forge, &config(&repo, exact("1.0.0")))
        .await
        .expect_err("exists");
    assert!(
        matches!(err, Error::Release(relkit_release::Error::TagElsewhere { ref tag, .. }) if tag == "v1.0.0"),
        "{err}"
    );
    assert!(err.hint().is_some());
}

#[tokio::test]
async fn asset_globs_must_match_and_names_must_be_unique() {
    let repo = scenario::product();
    build(&repo, &[("app.tar.gz", "app")]);
    std::fs::create_dir_all(repo.path().join("other")).expect("mkdir");
    std::fs::write(repo.path().join("other/app.tar.gz"), "other").expect("write");
    let forge = forge(&repo);

    let mut cfg = config(&repo, exact("1.1.0"));
    cfg.assets = vec!["dist/*.zip".to_owned()];
    let err = plan(&forge, &cfg).await.expect_err("no match");
    assert!(
        matches!(err, Error::Release(relkit_release::Error::NoMatch { .. })),
        "{err}"
    );
    cfg.allow_empty = true;
    let allowed = plan(&forge, &cfg).await.expect("allowed");
    assert_eq!(allowed.assets.len(), 2, "the manifest and the sums");

    cfg.assets = vec!["dist/*".to_owned(), "other/*".to_owned()];
    let err = plan(&forge, &cfg).await.expect_err("two app.tar.gz");
    assert!(
        matches!(
            err,
            Error::Release(relkit_release::Error::DuplicateAsset { .. })
        ),
        "{err}"
    );
    assert_eq!(
        forge.tag("v1.1.0").await.expect("read"),
        None,
        "nothing written"
    );
}

#[tokio::test]
async fn a_draft_stays_a_draft_when_asked() {
    let repo = scenario::product();
    build(&repo, &[("app.tar.gz", "app")]);
    let forge = forge(&repo);
    let mut cfg = config(&repo, exact("1.1.0"));
    cfg.draft = true;
    let outcome = apply(
        &forge,
        &plan(&forge, &cfg).await.expect("plan"),
        &mut |_| {},
    )
    .await
    .expect("apply");
    assert!(outcome.release.draft);
    cfg.draft = false;
    let publish = plan(&forge, &cfg).await.expect("plan");
    assert_eq!(
        publish
            .to_string()
            .lines()
            .nth(1)
            .map(|l| l.ends_with("→ publish")),
        Some(true),
        "{publish}"
    );
    let outcome = apply(&forge, &publish, &mut |_| {}).await.expect("apply");
    assert!(!outcome.release.draft);
}

/// A hotfix branch cut from an older release counts from that release, whatever the choice:
/// 1.2.0 released on main since does not make the fix 1.2.1 or a pre-release of 1.2.0.
#[tokio::test]
async fn a_hotfix_branch_counts_from_the_release_it_was_cut_from() {
    let repo = GitRepo::new();
    repo.commit("feat: a");
    repo.tag("v1.0.0");
    repo.commit("feat: b");
    repo.tag("v1.1.0");
    repo.commit("feat: c");
    repo.tag("v1.2.0");
    repo.git(&["switch", "-q", "-c", "hotfix/1.1", "v1.1.0"]);
    repo.commit("fix: urgent");
    build(&repo, &[("app.tar.gz", "app")]);
    let sha7 = &repo.head()[..7];
    let cases = [
        (auto(), "v1.1.1".to_owned()),
        (
            VersionChoice::Bump(BumpChoice::Fixed(Bump::Patch)),
            "v1.1.1".to_owned(),
        ),
        (
            VersionChoice::Candidate(BumpChoice::Auto),
            "v1.1.1-rc.1".to_owned(),
        ),
        (
            VersionChoice::Prerelease(PrereleaseBase::Latest),
            format!("v1.1.0-pre.1+{sha7}"),
        ),
        (
            VersionChoice::Prerelease(PrereleaseBase::Next),
            format!("v1.1.1-pre.1+{sha7}"),
        ),
    ];
    assert_planned_tags(&repo, cases).await;
}

/// The commit of a release has nothing left to try out or to become a candidate of.
#[tokio::test]
async fn a_released_commit_gets_no_prerelease_or_candidate_of_its_release() {
    let repo = GitRepo::new();
    repo.commit("feat: a");
    repo.tag("v1.0.0");
    build(&repo, &[("app.tar.gz", "app")]);
    let forge = forge(&repo);
    for choice in [
        VersionChoice::Prerelease(PrereleaseBase::Latest),
        VersionChoice::Candidate(BumpChoice::Auto),
    ] {
        let err = plan(&forge, &config(&repo, choice.clone()))
            .await
            .expect_err("refused");
        assert!(
            matches!(err, Error::NothingToRelease { ref tag } if tag == "v1.0.0"),
            "{choice:?}: {err}"
        );
    }
}

/// Main goes past versions other branches released: after a release branch shipped 1.1.0 and
/// a hotfix branch 1.0.1, main's next minor is 1.2.0 and its next patch 1.0.2.
#[tokio::test]
async fn versions_released_on_other_branches_are_skipped() {
    let repo = GitRepo::new();
    repo.commit("feat: a");
    repo.tag("v1.0.0");
    repo.git(&["switch", "-q", "-c", "hotfix/1.0"]);
    repo.commit("fix: urgent");
    repo.tag("v1.0.1");
    repo.git(&["switch", "-q", "-c", "release/1.1", "v1.0.0"]);
    repo.commit("feat: b");
    repo.tag("v1.1.0");
    repo.git(&["switch", "-q", "-c", "trunk", "v1.0.0"]);
    repo.commit("feat: c");
    build(&repo, &[("app.tar.gz", "app")]);
    let sha7 = &repo.head()[..7];
    let cases = [
        (auto(), "v1.2.0".to_owned()),
        (
            VersionChoice::Bump(BumpChoice::Fixed(Bump::Patch)),
            "v1.0.2".to_owned(),
        ),
        (
            VersionChoice::Candidate(BumpChoice::Auto),
            "v1.2.0-rc.1".to_owned(),
        ),
        (
            VersionChoice::Prerelease(PrereleaseBase::Next),
            format!("v1.2.0-pre.1+{sha7}"),
        ),
    ];
    assert_planned_tags(&repo, cases).await;
}

/// A shallow clone (actions/checkout's default) is refused where history is read, and serves a
/// given tag released with notes from a file.
#[tokio::test]
async fn a_shallow_clone_serves_a_given_tag_with_notes_from_a_file() {
    let repo = scenario::product();
    let (_dir, clone) = repo.shallow_clone(1);
    std::fs::create_dir_all(clone.join("dist")).expect("mkdir");
    std::fs::write(clone.join("dist/app.tar.gz"), "app").expect("write");
    std::fs::write(clone.join("NOTES.md"), "Hand-written notes.\n").expect("write");
    let forge = relkit_forge::local::Local::in_repository(
        relkit_git::Repository::discover(&clone).expect("a repository"),
    );
    let mut cfg = config(&repo, auto());
    cfg.repo = clone.clone();
    cfg.base = clone.clone();
    let err = plan(&forge, &cfg).await.expect_err("history is needed");
    assert!(matches!(err, Error::ShallowClone { .. }), "{err}");

    cfg.version = exact("1.1.0");
    cfg.notes = NotesChoice::File(clone.join("NOTES.md"));
    let planned = plan(&forge, &cfg).await.expect("plan");
    assert_eq!(planned.tag, "v1.1.0");
    assert_eq!(planned.body, "Hand-written notes.\n");
    apply(&forge, &planned, &mut |_| {}).await.expect("apply");
    assert!(plan(&forge, &cfg).await.expect("plan again").is_noop());
}

/// A prefix no tag has, where other streams have releases, is a typo until --first-release
/// says it is a new stream.
#[tokio::test]
async fn a_prefix_without_tags_is_refused_unless_a_first_release() {
    let repo = GitRepo::new();
    repo.commit("feat: a");
    repo.tag("edge/v1.0.0");
    repo.commit("feat: b");
    build(&repo, &[("app.tar.gz", "app")]);
    let forge = forge(&repo);
    for choice in [
        auto(),
        VersionChoice::Candidate(BumpChoice::Auto),
        VersionChoice::Prerelease(PrereleaseBase::Latest),
    ] {
        let err = plan(&forge, &config(&repo, choice.clone()))
            .await
            .expect_err("refused");
        assert!(
            matches!(&err, Error::NoTagsInStream { prefix, found } if prefix == "v" && found == &["edge/v"]),
            "{choice:?}: {err}"
        );
    }
    let mut first = config(&repo, auto());
    first.first_release = true;
    assert_eq!(plan(&forge, &first).await.expect("plan").tag, "v0.1.0");
    // A version given outright under the mistyped prefix would push a tag nobody meant too.
    let err = plan(&forge, &config(&repo, exact("1.0.0")))
        .await
        .expect_err("refused");
    assert!(matches!(err, Error::NoTagsInStream { .. }), "{err}");
    let mut given = config(&repo, exact("1.0.0"));
    given.first_release = true;
    assert_eq!(plan(&forge, &given).await.expect("plan").tag, "v1.0.0");
    // A pushed tag of a new stream is in the stream: nothing to refuse.
    repo.tag("v1.0.0");
    let pushed = plan(&forge, &config(&repo, exact("1.0.0")))
        .await
        .expect("plan");
    assert_eq!(pushed.tag, "v1.0.0");
}

/// Names that would fail on the forge or in git after the first write are refused in the plan.
#[tokio::test]
async fn an_asset_or_tag_name_git_or_a_forge_refuses_stops_the_plan() {
    let repo = scenario::product();
    build(&repo, &[("a\\b.bin", "x")]);
    let forge = forge(&repo);
    let err = plan(&forge, &config(&repo, exact("1.1.0")))
        .await
        .expect_err("refused");
    assert!(
        matches!(&err, Error::Release(relkit_release::Error::AssetName { name, .. }) if name == "a\\b.bin"),
        "{err}"
    );
    assert!(err.is_bad_input());
    // GitHub would store these as `my.app.tar.gz` and `app.tar.gz`: the sums would lie.
    for renamed in ["my app.tar.gz", ".app.tar.gz", "appé.tar.gz"] {
        build(&repo, &[(renamed, "x")]);
        let err = plan(&forge, &config(&repo, exact("1.1.0")))
            .await
            .expect_err("refused");
        assert!(
            matches!(&err, Error::Release(relkit_release::Error::AssetName { name, .. }) if name == renamed),
            "{renamed}: {err}"
        );
        assert!(err.to_string().contains("GitHub renames others"), "{err}");
    }
    build(&repo, &[("app.tar.gz", "app")]);
    let err = plan(&forge, &config(&repo, exact("1.1.0-x.lock")))
        .await
        .expect_err("refused");
    assert!(
        matches!(&err, Error::InvalidTagName { tag } if tag == "v1.1.0-x.lock"),
        "{err}"
    );
    assert!(err.is_bad_input());
    assert!(
        repo.git(&["tag", "-l", "v1.1.0*"]).is_empty(),
        "no tag made"
    );
}

/// An asset of an earlier run that this run does not attach stays, and the plan says so.
#[tokio::test]
async fn assets_this_run_does_not_attach_are_named_in_the_plan() {
    let repo = scenario::product();
    build(&repo, &[("a.tar.gz", "a"), ("b.tar.gz", "b")]);
    let forge = forge(&repo);
    let cfg = config(&repo, exact("1.1.0"));
    let first = plan(&forge, &cfg).await.expect("plan");
    assert!(first.others.is_empty());
    apply(&forge, &first, &mut |_| {}).await.expect("apply");

    build(&repo, &[("a.tar.gz", "a")]);
    let mut replace = config(&repo, exact("1.1.0"));
    replace.replace_assets = true;
    let second = plan(&forge, &replace).await.expect("plan");
    assert_eq!(second.others, ["b.tar.gz"]);
    assert!(
        second
            .to_string()
            .contains("asset    b.tar.gz → left as it is"),
        "{second}"
    );
    assert!(
        !second.manifest_text.contains("b.tar.gz"),
        "{}",
        second.manifest_text
    );
}

/// In a monorepo, a component's stream counts only the commits that change its files, in the
/// version and in the notes.
#[tokio::test]
async fn a_monorepo_component_counts_only_its_own_commits() {
    let repo = GitRepo::new();
    repo.write("edge/a", "a");
    repo.write("cloud/b", "b");
    repo.git(&["add", "--all"]);
    repo.commit_staged("feat: init");
    repo.tag("edge/v1.0.0");
    repo.tag("cloud/v2.0.0");
    repo.commit_file("edge/a", "a2", "feat(edge): faster sync");
    repo.commit_file("cloud/b", "b2", "feat(cloud)!: drop the old API");
    build(&repo, &[("app.tar.gz", "app")]);
    let forge = forge(&repo);
    let mut cfg = config(&repo, auto());
    cfg.stream = relkit_version::Stream::new("edge/v").expect("prefix");
    assert_eq!(
        plan(&forge, &cfg).await.expect("plan").tag,
        "edge/v2.0.0",
        "without paths, the cloud's breaking change counts"
    );
    cfg.include_paths = vec!["edge/**".to_owned()];
    let planned = plan(&forge, &cfg).await.expect("plan");
    assert_eq!(planned.tag, "edge/v1.1.0");
    assert!(planned.body.contains("Faster sync"), "{}", planned.body);
    assert!(!planned.body.contains("old API"), "{}", planned.body);

    // Its pre-releases count its own commits, and none is made without one.
    let sha7 = repo.head()[..7].to_owned();
    let mut pre = config(&repo, VersionChoice::Prerelease(PrereleaseBase::Latest));
    pre.stream = cfg.stream.clone();
    pre.include_paths = cfg.include_paths.clone();
    assert_eq!(
        plan(&forge, &pre).await.expect("plan").tag,
        format!("edge/v1.0.0-pre.1+{sha7}")
    );
    let mut excluded = pre.clone();
    excluded.include_paths = Vec::new();
    excluded.exclude_paths = vec!["cloud/**".to_owned()];
    assert_eq!(
        plan(&forge, &excluded).await.expect("plan").tag,
        format!("edge/v1.0.0-pre.1+{sha7}")
    );
    repo.tag("edge/v1.1.0");
    repo.commit_file("cloud/b", "b3", "fix(cloud): only the cloud changes");
    let err = plan(&forge, &pre).await.expect_err("nothing of edge's own");
    assert!(
        matches!(&err, Error::NothingToRelease { tag } if tag == "edge/v1.1.0"),
        "{err}"
    );
}

/// A given tag below what the commits call for is released, with a warning and notes that say
/// what the commits called for.
#[tokio::test]
async fn a_given_tag_below_what_the_commits_call_for_is_a_warning() {
    let repo = scenario::product();
    build(&repo, &[("app.tar.gz", "app")]);
    let forge = forge(&repo);
    let called_for = plan(&forge, &config(&repo, exact("1.1.0")))
        .await
        .expect("plan");
    assert_eq!(called_for.warnings, Vec::<String>::new());
    assert!(
        !called_for.body.contains("the given tag sets"),
        "{}",
        called_for.body
    );

    let below = plan(&forge, &config(&repo, exact("1.0.1")))
        .await
        .expect("plan");
    assert_eq!(
        below.warnings,
        [
            "v1.0.1 is below v1.1.0, the version its commits call for: check the bump (the notes say why)"
        ]
    );
    assert!(
        below
            .body
            .contains("the commits call for 1.1.0 (minor: 1 feature"),
        "{}",
        below.body
    );
    let above = plan(&forge, &config(&repo, exact("2.0.0")))
        .await
        .expect("plan");
    assert!(above.warnings.is_empty(), "a larger step is a choice");
}

/// Releasing HEAD from a tree that changes its files, or asking a published release to be a
/// draft, goes ahead with a warning that says so.
#[tokio::test]
async fn a_changed_working_tree_and_a_draft_of_a_published_release_are_warnings() {
    let repo = scenario::product();
    build(&repo, &[("app.tar.gz", "app")]);
    let forge = forge(&repo);
    let cfg = config(&repo, exact("1.1.0"));
    let clean = plan(&forge, &cfg).await.expect("plan");
    assert_eq!(clean.warnings, Vec::<String>::new());
    apply(&forge, &clean, &mut |_| {}).await.expect("apply");

    let tracked = repo.git(&["ls-files"]);
    let file = tracked.lines().next().expect("a tracked file");
    repo.write(file, "changed, not committed\n");
    let mut draft = config(&repo, exact("1.1.0"));
    draft.draft = true;
    let warned = plan(&forge, &draft).await.expect("plan");
    assert_eq!(warned.warnings.len(), 2, "{:?}", warned.warnings);
    assert!(
        warned.warnings[0].starts_with("the working tree changes files of the commit released")
            && warned.warnings[0].contains(file),
        "{:?}",
        warned.warnings
    );
    assert!(
        warned.warnings[1].contains("is published already"),
        "{:?}",
        warned.warnings
    );

    // Assets come from the working tree; releasing another commit says so.
    let mut older = config(&repo, exact("1.0.0"));
    older.target = "v1.0.0".to_owned();
    let warned = plan(&forge, &older).await.expect("plan");
    assert!(
        warned
            .warnings
            .iter()
            .any(|w| w.starts_with("the working tree is at ") && w.contains("not at")),
        "{:?}",
        warned.warnings
    );
}

/// Plans each choice for HEAD and checks the tag it gets.
async fn assert_planned_tags(
    repo: &GitRepo,
    cases: impl IntoIterator<Item = (VersionChoice, String)>,
) {
    let forge = forge(repo);
    for (choice, tag) in cases {
        let planned = plan(&forge, &config(repo, choice.clone()))
            .await
            .unwrap_or_else(|e| panic!("{choice:?}: {e}"));
        assert_eq!(planned.tag, tag, "{choice:?}");
    }
}

/// A branch cut before the stream's first release would count from 0.0.0: refused, unless
/// --first-release says so.
#[tokio::test]
async fn a_branch_without_the_streams_releases_is_refused() {
    let repo = GitRepo::new();
    repo.commit("feat: a");
    repo.git(&["switch", "-q", "-c", "old"]);
    repo.git(&["switch", "-q", "-"]);
    repo.commit("feat: b");
    repo.tag("v1.0.0");
    repo.git(&["switch", "-q", "old"]);
    repo.commit("feat: c");
    build(&repo, &[("app.tar.gz", "app")]);
    let forge = forge(&repo);
    let err = plan(&forge, &config(&repo, auto()))
        .await
        .expect_err("refused");
    assert!(
        matches!(&err, Error::NoReleaseInHistory { newest, .. } if newest == "v1.0.0"),
        "{err}"
    );
    let mut meant = config(&repo, auto());
    meant.first_release = true;
    assert_eq!(plan(&forge, &meant).await.expect("plan").tag, "v0.1.0");
}

/// After a hotfix branch (v1.0.1, cut from v1.0.0) was merged back into main, main's next
/// release counts and starts its notes at v1.1.0, the newest release in its history, not at
/// the more recent v1.0.1, whose line never had main's feature.
#[tokio::test]
async fn a_merged_hotfix_leaves_notes_starting_at_the_newest_release() {
    let repo = GitRepo::new();
    repo.commit("feat: first");
    repo.tag("v1.0.0");
    repo.commit("feat: main feature");
    repo.tag("v1.1.0");
    repo.git(&["switch", "-q", "-c", "hotfix/1.0", "v1.0.0"]);
    repo.commit("fix: urgent");
    repo.tag("v1.0.1");
    repo.switch("main");
    repo.merge("hotfix/1.0", "Merge branch 'hotfix/1.0'");
    repo.commit("fix: after the merge");
    build(&repo, &[("app.tar.gz", "app")]);
    let forge = forge(&repo);
    let full = plan(&forge, &config(&repo, auto())).await.expect("plan");
    assert_eq!(full.tag, "v1.1.1");
    assert!(full.body.contains("(v1.1.0 → v1.1.1)"), "{}", full.body);
    assert!(full.body.contains("After the merge"), "{}", full.body);
    // New to the 1.1 line: v1.1.0 did not have it.
    assert!(full.body.contains("Urgent"), "{}", full.body);
    assert!(!full.body.contains("Main feature"), "{}", full.body);

    let pre = config(&repo, VersionChoice::Prerelease(PrereleaseBase::Latest));
    let pre = plan(&forge, &pre).await.expect("plan");
    assert!(pre.tag.starts_with("v1.1.0-pre."), "{}", pre.tag);
    assert!(!pre.body.contains("Main feature"), "{}", pre.body);
}

/// The version counts from the stream's newest release even when the repository's cliff.toml
/// has a `tag_pattern` that hides the stream's tags from the notes.
#[tokio::test]
async fn a_tag_pattern_that_hides_the_stream_never_lowers_the_version() {
    let repo = GitRepo::new();
    let cliff = include_str!("../../../changelog/src/default-cliff.toml").replacen(
        "[git]\n",
        "[git]\ntag_pattern = \"^v[0-9]\"\n",
        1,
    );
    repo.commit_file("cliff.toml", &cliff, "feat: a");
    repo.tag("v1.0.0");
    repo.tag("edge/v0.5.0");
    repo.commit("fix: b");
    repo.tag("edge/v0.5.1");
    repo.commit("fix: c");
    build(&repo, &[("app.tar.gz", "app")]);
    let forge = forge(&repo);
    let mut cfg = config(&repo, auto());
    cfg.stream = relkit_version::Stream::new("edge/v").expect("prefix");
    cfg.notes = NotesChoice::Changelog(relkit_changelog::ConfigSource::Discover);
    assert_eq!(plan(&forge, &cfg).await.expect("plan").tag, "edge/v0.5.2");
    cfg.version = VersionChoice::Candidate(BumpChoice::Auto);
    assert_eq!(
        plan(&forge, &cfg).await.expect("plan").tag,
        "edge/v0.5.2-rc.1"
    );
}

/// A commit released by one choice is resumed by the same choice and refused by another: a bump
/// never silently answers with the tag an earlier run made.
#[tokio::test]
async fn a_released_commit_is_resumed_by_its_choice_and_refused_by_another() {
    let repo = GitRepo::new();
    repo.commit("feat: a");
    repo.tag("v1.0.0");
    repo.commit("feat: b");
    build(&repo, &[("app.tar.gz", "app")]);
    let forge = forge(&repo);
    let rc = config(&repo, VersionChoice::Candidate(BumpChoice::Auto));
    let first = plan(&forge, &rc).await.expect("plan");
    assert_eq!(first.tag, "v1.1.0-rc.1");
    apply(&forge, &first, &mut |_| {}).await.expect("apply");
    assert!(plan(&forge, &rc).await.expect("again").is_noop());
    let major_rc = config(
        &repo,
        VersionChoice::Candidate(BumpChoice::Fixed(Bump::Major)),
    );
    let err = plan(&forge, &major_rc).await.expect_err("refused");
    assert!(
        matches!(&err, Error::CommitReleasedAs { tag, wanted } if tag == "v1.1.0-rc.1" && wanted == "v2.0.0-rc.1"),
        "{err}"
    );

    let minor = config(&repo, VersionChoice::Bump(BumpChoice::Fixed(Bump::Minor)));
    let release = plan(&forge, &minor).await.expect("plan");
    assert_eq!(release.tag, "v1.1.0");
    apply(&forge, &release, &mut |_| {}).await.expect("apply");
    for same in [minor, config(&repo, auto())] {
        let again = plan(&forge, &same).await.expect("again");
        assert_eq!(again.tag, "v1.1.0");
        assert!(again.is_noop(), "{again}");
    }
    let major = config(&repo, VersionChoice::Bump(BumpChoice::Fixed(Bump::Major)));
    let err = plan(&forge, &major).await.expect_err("refused");
    assert!(
        matches!(&err, Error::CommitReleasedAs { tag, wanted } if tag == "v1.1.0" && wanted == "v2.0.0"),
        "{err}"
    );
    // The candidate made before the release is resumed as it was.
    assert!(plan(&forge, &rc).await.expect("rc again").is_noop());
}

/// A pre-release on a candidate's commit lists the commits since the last release, not none;
/// after that commit is promoted, both jobs re-run to the same result.
#[tokio::test]
async fn tags_on_the_commit_itself_neither_start_notes_nor_block_a_rerun() {
    let repo = GitRepo::new();
    repo.commit("feat: a");
    repo.tag("v1.0.0");
    repo.commit("feat: b");
    repo.commit("fix: c");
    build(&repo, &[("app.tar.gz", "app")]);
    let forge = forge(&repo);
    let rc = config(&repo, VersionChoice::Candidate(BumpChoice::Auto));
    let candidate = plan(&forge, &rc).await.expect("plan");
    apply(&forge, &candidate, &mut |_| {}).await.expect("apply");
    let pre = config(&repo, VersionChoice::Prerelease(PrereleaseBase::Latest));
    let prerelease = plan(&forge, &pre).await.expect("plan");
    assert!(
        prerelease.body.contains("(v1.0.0 → "),
        "{}",
        prerelease.body
    );
    assert!(prerelease.body.contains("B"), "{}", prerelease.body);
    apply(&forge, &prerelease, &mut |_| {})
        .await
        .expect("apply");
    let full = plan(&forge, &config(&repo, exact("1.1.0")))
        .await
        .expect("plan");
    apply(&forge, &full, &mut |_| {}).await.expect("apply");
    for choice in [rc, pre] {
        let again = plan(&forge, &choice).await.expect("again");
        assert!(again.is_noop(), "{again}");
    }
}

/// A candidate's job re-run on its commit resumes the candidate, also after a later commit
/// released its version.
#[tokio::test]
async fn a_candidate_rerun_resumes_after_a_later_commit_released_its_version() {
    let repo = GitRepo::new();
    repo.commit("feat: a");
    repo.tag("v1.0.0");
    let candidate = repo.commit("feat: b");
    build(&repo, &[("app.tar.gz", "app")]);
    let forge = forge(&repo);
    let mut rc = config(&repo, VersionChoice::Candidate(BumpChoice::Auto));
    let first = plan(&forge, &rc).await.expect("plan");
    assert_eq!(first.tag, "v1.1.0-rc.1");
    apply(&forge, &first, &mut |_| {}).await.expect("apply");
    repo.commit("fix: d");
    let release = plan(&forge, &config(&repo, auto())).await.expect("plan");
    assert_eq!(release.tag, "v1.1.0");
    apply(&forge, &release, &mut |_| {}).await.expect("apply");
    rc.target = candidate;
    let again = plan(&forge, &rc).await.expect("again");
    assert_eq!(again.tag, "v1.1.0-rc.1");
    assert!(again.is_noop(), "{again}");
}

/// Another run that attached other bytes under an asset's name between this run's plan and its
/// upload: found after this run's first write, so it is a failure to look at (exit 1), not bad
/// input (exit 2), and nothing of the other run is replaced.
#[tokio::test]
async fn a_conflict_found_after_the_first_write_is_a_failure_not_bad_input() {
    let repo = scenario::product();
    build(&repo, &[("app.tar.gz", "ours")]);
    let forge = forge(&repo);
    let cfg = config(&repo, exact("1.1.0"));
    let ours = plan(&forge, &cfg).await.expect("plan");

    build(&repo, &[("app.tar.gz", "theirs")]);
    let theirs = plan(&forge, &cfg).await.expect("plan");
    apply(&forge, &theirs, &mut |_| {})
        .await
        .expect("the other run");

    let err = apply(&forge, &ours, &mut |_| {})
        .await
        .expect_err("other bytes");
    assert!(
        matches!(
            &err,
            Error::Release(relkit_release::Error::Stopped { error })
                if matches!(**error, relkit_release::Error::AssetDiffers { .. })
        ),
        "{err:?}"
    );
    assert!(!err.is_bad_input(), "after a write: exit 1");
    assert!(err.to_string().contains("holds different bytes"), "{err}");
    assert!(err.hint().expect("a hint").contains("--replace-assets"));
    let release = forge
        .release_by_tag("v1.1.0")
        .await
        .expect("read")
        .expect("the release");
    let asset = release
        .assets
        .iter()
        .find(|a| a.name == "app.tar.gz")
        .expect("the asset");
    assert_eq!(
        Sha256::of(&forge.download_asset(asset).await.expect("download")),
        Sha256::of(b"theirs")
    );
}
