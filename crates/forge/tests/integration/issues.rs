//! Labels and issues, which the GitHub and Gitea backends must handle alike: what
//! incident-on-rollback does, and a re-run after an answer was lost on the way back.

use relkit_forge::{Forge, Issue, Label, NewIssue};
use relkit_testkit::emulator::{Emulator, Fault, Matcher};

fn label(name: &str, color: &str) -> Label {
    Label {
        name: name.to_owned(),
        color: color.to_owned(),
        description: String::new(),
    }
}

fn incident(title: &str, labels: &[&str]) -> NewIssue {
    NewIssue {
        title: title.to_owned(),
        body: "what happened".to_owned(),
        labels: labels.iter().map(|l| (*l).to_owned()).collect(),
        assignees: vec!["octocat".to_owned()],
    }
}

fn labelled(emulator: &Emulator, name: &str) -> usize {
    emulator.labels().iter().filter(|l| l.name == name).count()
}

/// Only missing labels are made; open issues with a label leave out pull requests and other
/// labels; an issue is opened with its labels and takes a comment.
pub async fn labels_issues_and_comments(emulator: &Emulator, forge: &impl Forge) {
    emulator.add_label("incident", "ff0000");
    emulator.add_pull_request("a pull request", &["incident"]);
    emulator.add_issue("an older incident", &["incident"]);
    emulator.add_issue("unrelated", &["bug"]);
    let mut rollback = label("rollback", "#00ff00");
    rollback.description = "A rollback was promoted".to_owned();
    forge
        .ensure_labels(&[label("incident", "ff0000"), rollback])
        .await
        .expect("labels");
    let made = emulator
        .labels()
        .into_iter()
        .find(|l| l.name == "rollback")
        .expect("created");
    assert_eq!(made.color, "00ff00");
    assert_eq!(made.description.as_deref(), Some("A rollback was promoted"));
    assert_eq!(emulator.count("POST", "/labels"), 1, "only the missing one");

    let open = forge
        .open_issues_with_label("incident")
        .await
        .expect("list");
    let titles: Vec<&str> = open.iter().map(|i| i.title.as_str()).collect();
    assert_eq!(titles, ["an older incident"], "no pull requests");

    let issue = forge
        .create_issue(&incident("Rollback to v1.0.0", &["incident", "rollback"]))
        .await
        .expect("issue");
    assert_eq!(issue.labels, ["incident", "rollback"]);
    let stored = emulator
        .issues()
        .into_iter()
        .find(|i| i.number == issue.number)
        .expect("stored");
    assert_eq!(stored.assignees, ["octocat"]);
    assert_eq!(stored.body.as_deref(), Some("what happened"));
    forge
        .comment(&issue, "still rolling back")
        .await
        .expect("comment");
    let comments = emulator.comments(issue.number);
    assert_eq!(comments.len(), 1);
    assert_eq!(comments[0].body, "still rolling back");

    let listed = forge
        .open_issues_with_label("rollback")
        .await
        .expect("list");
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].body, "what happened", "the body is read back");
    forge.close_issue(&issue).await.expect("close");
    forge
        .close_issue(&issue)
        .await
        .expect("closing again changes nothing");
    let closed = emulator
        .issues()
        .into_iter()
        .find(|i| i.number == issue.number)
        .expect("stored");
    assert_eq!(closed.state, "closed");
    assert!(
        forge
            .open_issues_with_label("rollback")
            .await
            .expect("list")
            .is_empty()
    );
}

/// A label or issue made although its answer was lost is found, not made twice; one refused
/// as already there (another run was first) counts as made; one that never arrived is sent again.
pub async fn lost_answers_are_read_back(emulator: &Emulator, forge: &impl Forge) {
    let after = |fault| Fault::AfterCommit(Box::new(fault));
    emulator.fault(
        Matcher::new("POST", "/labels"),
        1,
        after(Fault::Status(502)),
    );
    emulator.fault(
        Matcher::new("POST", "/labels"),
        1,
        after(Fault::Status(422)),
    );
    forge
        .ensure_labels(&[label("rollback", "00ff00"), label("incident", "ff0000")])
        .await
        .expect("labels");
    assert_eq!(labelled(emulator, "rollback"), 1);
    assert_eq!(labelled(emulator, "incident"), 1);
    assert_eq!(emulator.count("POST", "/labels"), 2, "one create each");

    emulator.fault(
        Matcher::new("POST", "/issues"),
        1,
        after(Fault::DropConnection),
    );
    let opened = forge
        .create_issue(&incident("Rollback to v1.0.0", &["rollback"]))
        .await
        .expect("issue");
    assert_eq!(opened.title, "Rollback to v1.0.0");
    assert_eq!(emulator.issues().len(), 1, "one issue, not two");
    assert_eq!(emulator.count("POST", "/issues"), 1);

    emulator.fault(Matcher::new("POST", "/issues"), 1, Fault::Status(502));
    let again: Issue = forge
        .create_issue(&incident("Rollback to v0.9.0", &["rollback"]))
        .await
        .expect("issue");
    assert_eq!(again.title, "Rollback to v0.9.0");
    assert_eq!(emulator.issues().len(), 2);
    assert_eq!(
        emulator.count("POST", "/issues"),
        3,
        "the lost one sent again"
    );
}
