//! One incident per rollback: opened, commented on when the rollback runs again, closed when a
//! forward promotion recovers; found by its marker, never twice, on every forge.

use relkit_forge::Forge;
use relkit_incident_on_rollback::{Action, Severity, Template, apply, marker, plan};
use relkit_testkit::GitRepo;
use relkit_testkit::emulator::{Emulator, Fault, Flavor, Matcher, Permissions};

use crate::{TOKEN, gitea, github, incident, local, promote, release, rolled_back, stream};

/// The whole life of an incident on `forge`.
async fn opens_updates_and_closes<F: Forge>(forge: &F, repo: &GitRepo) {
    rolled_back(forge, repo).await;
    let mut config = incident(repo, "v1.3.1");
    config.severity = Some(Severity::High);
    config.links = Some(relkit_changelog::RepoLinks::github(
        "https://github.com/owner/app",
    ));
    let planned = plan(forge, &config).await.expect("plan");
    // Commits and pull requests link to the forge.
    assert!(
        planned
            .body
            .contains("(https://github.com/owner/app/commit/"),
        "{}",
        planned.body
    );
    assert!(
        planned
            .body
            .contains("([#42](https://github.com/owner/app/pull/42))"),
        "{}",
        planned.body
    );
    assert_eq!(planned.action, Action::Create, "{planned}");
    assert_eq!(planned.title, "Investigate rollback to v1.3.1");
    assert_eq!(planned.bad.as_deref(), Some("v1.3.0"));
    for part in [
        "Production was rolled back from",
        "`v1.3.0`",
        "feat: a new cache ([#42](",
        "is the build of pre-release `v1.2.0-pre.1+",
        "Rolled back by octocat at ",
        " in https://example.test/runs/7",
        "- [ ] Root cause documented",
        "- [ ] Postmortem linked",
        "is refused by promote-prerelease until someone overrides it with a reason",
        &marker(&stream(), "v1.3.1"),
    ] {
        assert!(planned.body.contains(part), "{part:?} in\n{}", planned.body);
    }
    let labels: Vec<&str> = planned.labels.iter().map(|l| l.name.as_str()).collect();
    assert_eq!(labels, ["incident", "rollback", "severity:high"]);
    let made = apply(forge, &planned, &mut |_| {}).await.expect("apply");
    assert_eq!(made.action, "created");
    let issue = made.issue.expect("the issue");
    let open = forge
        .open_issues_with_label("incident")
        .await
        .expect("list");
    assert_eq!(open.len(), 1);
    assert_eq!(open[0].labels, ["incident", "rollback", "severity:high"]);

    // The same rollback again: a comment, not a second issue.
    let again = plan(forge, &config).await.expect("plan");
    assert_eq!(again.action, Action::Update(open[0].clone()));
    let updated = apply(forge, &again, &mut |_| {}).await.expect("apply");
    assert_eq!(updated.action, "updated");
    assert_eq!(updated.issue.map(|i| i.number), Some(issue.number));
    assert_eq!(
        forge
            .open_issues_with_label("incident")
            .await
            .expect("list")
            .len(),
        1
    );

    // The fix goes forward as v1.3.2: the incident is closed with a comment.
    repo.commit("fix: the cache keeps its entries");
    let fixed = release(forge, repo, None).await;
    promote(forge, repo, &fixed, "1.3.2", false).await;
    let recovered = plan(forge, &incident(repo, "v1.3.2")).await.expect("plan");
    assert!(
        matches!(&recovered.action, Action::Close(issues) if issues.len() == 1),
        "{recovered}"
    );
    assert!(
        recovered.comment.starts_with("Recovered by "),
        "{}",
        recovered.comment
    );
    let closed = apply(forge, &recovered, &mut |_| {}).await.expect("apply");
    assert_eq!(closed.action, "closed");
    assert!(
        forge
            .open_issues_with_label("incident")
            .await
            .expect("list")
            .is_empty()
    );
    let nothing = plan(forge, &incident(repo, "v1.3.2")).await.expect("plan");
    assert_eq!(nothing.action, Action::Nothing);
}

#[tokio::test]
async fn on_the_local_forge_an_incident_is_opened_updated_and_closed() {
    let repo = GitRepo::new();
    opens_updates_and_closes(&local(&repo), &repo).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_github_and_ghes_an_incident_is_opened_updated_and_closed() {
    for ghes in [false, true] {
        let repo = GitRepo::new();
        let emulator = Emulator::start(Flavor::GitHub, repo.path());
        emulator.add_token(TOKEN, Permissions::all());
        // A pull request with the label is no incident.
        emulator.add_pull_request("Revert the cache", &["incident"]);
        let api = if ghes {
            emulator.ghes_url()
        } else {
            emulator.url().to_owned()
        };
        opens_updates_and_closes(&github(&api), &repo).await;
        let made = emulator
            .labels()
            .into_iter()
            .find(|l| l.name == "severity:high")
            .expect("the severity label is created");
        assert_eq!(made.color, "d93f0b");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_gitea_an_incident_is_opened_updated_and_closed() {
    let repo = GitRepo::new();
    let emulator = Emulator::start(Flavor::Gitea, repo.path());
    emulator.add_token(TOKEN, Permissions::all());
    opens_updates_and_closes(&gitea(&emulator), &repo).await;
}

/// An issue created although its answer was lost is found by the re-run, not opened twice.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lost_create_answer_then_a_rerun_opens_exactly_one_issue() {
    for flavor in [Flavor::GitHub, Flavor::Gitea] {
        let repo = GitRepo::new();
        let emulator = Emulator::start(flavor, repo.path());
        emulator.add_token(TOKEN, Permissions::all());
        let config = incident(&repo, "v1.3.1");
        match flavor {
            Flavor::GitHub => {
                let forge = github(emulator.url());
                rolled_back(&forge, &repo).await;
                // Once: the matcher also names the comments of an issue.
                emulator.fault(
                    Matcher::new("POST", "/app/issues"),
                    1,
                    Fault::AfterCommit(Box::new(Fault::DropConnection)),
                );
                let first = plan(&forge, &config).await.expect("plan");
                let _ = apply(&forge, &first, &mut |_| {}).await;
                let again = plan(&forge, &config).await.expect("plan");
                let _ = apply(&forge, &again, &mut |_| {})
                    .await
                    .expect("the re-run");
            }
            _ => {
                let forge = gitea(&emulator);
                rolled_back(&forge, &repo).await;
                // Once: the matcher also names the comments of an issue.
                emulator.fault(
                    Matcher::new("POST", "/app/issues"),
                    1,
                    Fault::AfterCommit(Box::new(Fault::DropConnection)),
                );
                let first = plan(&forge, &config).await.expect("plan");
                let _ = apply(&forge, &first, &mut |_| {}).await;
                let again = plan(&forge, &config).await.expect("plan");
                let _ = apply(&forge, &again, &mut |_| {})
                    .await
                    .expect("the re-run");
            }
        }
        let issues: Vec<_> = emulator
            .issues()
            .into_iter()
            .filter(|i| !i.pull_request)
            .collect();
        assert_eq!(issues.len(), 1, "{flavor:?}: one issue");
    }
}

/// A token that may not write issues is named with the `permissions:` line to add, and nothing
/// is opened.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_without_issues_write_is_named_with_the_permission() {
    let repo = GitRepo::new();
    let emulator = Emulator::start(Flavor::GitHub, repo.path());
    emulator.add_token(TOKEN, Permissions::all());
    let forge = github(emulator.url());
    rolled_back(&forge, &repo).await;
    let mut read_only = Permissions::all();
    read_only.issues = relkit_testkit::emulator::Access::Read;
    emulator.add_token(TOKEN, read_only);
    let planned = plan(&forge, &incident(&repo, "v1.3.1"))
        .await
        .expect("plan");
    let err = apply(&forge, &planned, &mut |_| {})
        .await
        .expect_err("refused");
    let hint = err.hint().unwrap_or_default();
    assert!(hint.contains("issues: write"), "{err}: {hint}");
    assert!(emulator.issues().is_empty());
}

/// The team's own template: a markdown file with placeholders, or an issue template whose
/// front matter gives the title and labels; an unknown placeholder is named with its line.
#[tokio::test]
async fn a_template_of_the_team_shapes_the_issue() {
    let repo = GitRepo::new();
    let forge = local(&repo);
    rolled_back(&forge, &repo).await;
    let dir = repo.path().join(".github/ISSUE_TEMPLATE");
    std::fs::create_dir_all(&dir).expect("mkdir");
    let file = dir.join("rollback.md");
    std::fs::write(
        &file,
        "---\nname: Rollback\nabout: After a rollback\ntitle: \"[incident] {bad_tag} rolled back to {rollback_tag}\"\nlabels: [\"sev-2\"]\n---\nProduction left `{bad_commit}`.\n\n{commits}\n\n{checklist}\n",
    )
    .expect("write");
    let mut config = incident(&repo, "v1.3.1");
    config.template = Some(Template::load(&file).expect("a template"));
    let planned = plan(&forge, &config).await.expect("plan");
    assert_eq!(planned.title, "[incident] v1.3.0 rolled back to v1.3.1");
    assert!(
        planned.body.starts_with("Production left `"),
        "{}",
        planned.body
    );
    assert!(
        planned.body.contains("feat: a new cache"),
        "{}",
        planned.body
    );
    let labels: Vec<&str> = planned.labels.iter().map(|l| l.name.as_str()).collect();
    assert_eq!(labels, ["incident", "rollback", "sev-2"]);

    std::fs::write(&file, "Left {bad_tag}\nbroken {rollback_tga}\n").expect("write");
    let err = Template::load(&file).expect_err("a typo");
    assert!(
        err.to_string()
            .contains("rollback.md:2: {rollback_tga} is not a placeholder"),
        "{err}"
    );
}

/// Bad input before anything is written: an unknown version, and a bad version that is the
/// rollback itself.
#[tokio::test]
async fn unknown_versions_are_refused_by_name() {
    let repo = GitRepo::new();
    let forge = local(&repo);
    rolled_back(&forge, &repo).await;
    let err = plan(&forge, &incident(&repo, "v9.9.9"))
        .await
        .expect_err("unknown");
    assert_eq!(
        err.to_string(),
        "--rollback-version \"v9.9.9\" is not a full release of the stream \"v\""
    );
    assert!(err.is_bad_input());
    let mut same = incident(&repo, "v1.3.1");
    same.bad_version = Some("1.3.1".to_owned());
    let err = plan(&forge, &same).await.expect_err("the same");
    assert!(err.to_string().contains("is the rollback itself"), "{err}");
    assert!(
        forge
            .open_issues_with_label("incident")
            .await
            .expect("list")
            .is_empty()
    );
}

/// An assignee the forge does not know must not lose the incident: it is opened without the
/// assignees, and the run warns.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unknown_assignee_leaves_the_incident_opened_with_a_warning() {
    for flavor in [Flavor::GitHub, Flavor::Gitea] {
        let repo = GitRepo::new();
        let emulator = Emulator::start(flavor, repo.path());
        emulator.add_token(TOKEN, Permissions::all());
        let mut config = incident(&repo, "v1.3.1");
        config.assignees = vec!["octocat".to_owned(), "no-such-user".to_owned()];
        let made = if flavor == Flavor::GitHub {
            let forge = github(emulator.url());
            rolled_back(&forge, &repo).await;
            let planned = plan(&forge, &config).await.expect("plan");
            apply(&forge, &planned, &mut |_| {}).await.expect("opened")
        } else {
            let forge = gitea(&emulator);
            rolled_back(&forge, &repo).await;
            let planned = plan(&forge, &config).await.expect("plan");
            apply(&forge, &planned, &mut |_| {}).await.expect("opened")
        };
        assert_eq!(made.action, "created", "{flavor:?}");
        assert!(
            made.warnings
                .iter()
                .any(|w| w.contains("refused the assignees octocat, no-such-user")),
            "{flavor:?}: {:?}",
            made.warnings
        );
        let issues: Vec<_> = emulator
            .issues()
            .into_iter()
            .filter(|i| !i.pull_request)
            .collect();
        assert_eq!(issues.len(), 1, "{flavor:?}");
        assert!(issues[0].assignees.is_empty());
    }
}
