//! The local forge: real tags, releases and issues as files.

use relkit_forge::local::Local;
use relkit_forge::{
    AssetUpload, Error, Forge, Label, MakeLatest, NewIssue, NewRelease, NewTag, ReleasePatch,
    Sha256,
};
use relkit_git::Repository;
use relkit_testkit::{GitRepo, scenario};

fn forge(repo: &GitRepo) -> Local {
    Local::in_repository(Repository::discover(repo.path()).expect("a repository"))
}

fn release(tag: &str, draft: bool) -> NewRelease {
    NewRelease {
        tag: tag.to_owned(),
        target: "HEAD".to_owned(),
        name: tag.to_owned(),
        body: format!("notes of {tag}\n"),
        draft,
        prerelease: false,
        make_latest: MakeLatest::Legacy,
    }
}

fn upload(repo: &GitRepo, name: &str, contents: &str) -> AssetUpload {
    let path = repo.path().join("dist").join(name);
    std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
    std::fs::write(&path, contents).expect("write");
    AssetUpload {
        name: name.to_owned(),
        path,
        content_type: "application/octet-stream".to_owned(),
    }
}

#[tokio::test]
async fn a_published_release_creates_its_tag_at_the_target() {
    let repo = scenario::product();
    let forge = forge(&repo);
    let created = forge
        .create_release(&release("v1.1.0", false))
        .await
        .expect("create");
    assert_eq!(created.tag, "v1.1.0");
    assert_eq!(created.body, "notes of v1.1.0\n");
    let tag = forge.tag("v1.1.0").await.expect("read").expect("tagged");
    assert_eq!(tag.commit, repo.head());
    let found = forge.release_by_tag("v1.1.0").await.expect("read");
    assert_eq!(found, Some(created));
}

#[tokio::test]
async fn a_draft_has_no_tag_until_it_is_published() {
    let repo = scenario::product();
    let forge = forge(&repo);
    let draft = forge
        .create_release(&release("v1.1.0", true))
        .await
        .expect("create");
    assert_eq!(forge.tag("v1.1.0").await.expect("read"), None);
    assert_eq!(forge.release_by_tag("v1.1.0").await.expect("read"), None);
    let listed = forge.releases().await.expect("list");
    assert_eq!(listed.len(), 1, "drafts are found by listing");

    let patch = ReleasePatch {
        draft: Some(false),
        ..ReleasePatch::default()
    };
    let published = forge.update_release(&draft, &patch).await.expect("publish");
    assert!(!published.draft);
    assert!(forge.tag("v1.1.0").await.expect("read").is_some());
    assert!(
        forge
            .release_by_tag("v1.1.0")
            .await
            .expect("read")
            .is_some()
    );
}

#[tokio::test]
async fn a_second_release_for_a_tag_is_refused() {
    let repo = scenario::product();
    let forge = forge(&repo);
    forge
        .create_release(&release("v1.1.0", true))
        .await
        .expect("create");
    let err = forge
        .create_release(&release("v1.1.0", false))
        .await
        .expect_err("exists");
    assert!(matches!(err, Error::AlreadyExists { .. }), "{err:?}");
}

#[tokio::test]
async fn an_asset_keeps_its_bytes_size_and_digest_and_is_never_replaced() {
    let repo = scenario::product();
    let forge = forge(&repo);
    let rel = forge
        .create_release(&release("v1.1.0", true))
        .await
        .expect("create");
    let asset = forge
        .upload_asset(&rel, &upload(&repo, "app.tar.gz", "first"))
        .await
        .expect("upload");
    assert_eq!(asset.size, 5);
    assert_eq!(asset.digest, Some(Sha256::of(b"first")));
    assert_eq!(
        forge.download_asset(&asset).await.expect("download"),
        b"first"
    );

    let err = forge
        .upload_asset(&rel, &upload(&repo, "app.tar.gz", "second"))
        .await
        .expect_err("exists");
    assert!(matches!(err, Error::AlreadyExists { .. }), "{err:?}");
    assert_eq!(
        forge.download_asset(&asset).await.expect("download"),
        b"first"
    );

    forge.delete_asset(&asset).await.expect("delete");
    let rel = &forge.releases().await.expect("list")[0];
    assert!(rel.assets.is_empty());
    forge
        .upload_asset(rel, &upload(&repo, "app.tar.gz", "second"))
        .await
        .expect("upload after delete");
}

#[tokio::test]
async fn an_asset_name_cannot_leave_the_release_directory() {
    let repo = scenario::product();
    let forge = forge(&repo);
    let rel = forge
        .create_release(&release("v1.1.0", true))
        .await
        .expect("create");
    for name in ["../escape", "a/b", "..", ""] {
        let mut up = upload(&repo, "x", "x");
        up.name = name.to_owned();
        let err = forge.upload_asset(&rel, &up).await.expect_err("refused");
        assert!(
            matches!(err, Error::InvalidName { .. }),
            "{name:?}: {err:?}"
        );
    }
}

#[tokio::test]
async fn releases_list_newest_first_across_streams() {
    let repo = scenario::two_streams();
    let forge = forge(&repo);
    for tag in ["cloud/v1.1.0", "edge/v1.1.0", "v2.0.0"] {
        forge
            .create_release(&release(tag, false))
            .await
            .expect("create");
    }
    let tags: Vec<String> = forge
        .releases()
        .await
        .expect("list")
        .into_iter()
        .map(|r| r.tag)
        .collect();
    assert_eq!(tags, ["v2.0.0", "edge/v1.1.0", "cloud/v1.1.0"]);
    assert!(
        forge
            .dir()
            .join("releases/edge%2Fv1.1.0/notes.md")
            .is_file()
    );
}

#[tokio::test]
async fn the_forge_files_stay_out_of_the_repository() {
    let repo = scenario::product();
    let forge = forge(&repo);
    let rel = forge
        .create_release(&release("v1.1.0", false))
        .await
        .expect("create");
    forge
        .upload_asset(&rel, &upload(&repo, "app.tar.gz", "x"))
        .await
        .expect("upload");
    std::fs::remove_dir_all(repo.path().join("dist")).expect("clean the source files");
    assert_eq!(repo.git(&["status", "--porcelain"]), "");
}

#[tokio::test]
async fn tags_are_real_and_never_moved() {
    let repo = scenario::product();
    let forge = forge(&repo);
    let v1 = forge
        .resolve("v1.0.0")
        .await
        .expect("resolve")
        .expect("a commit");
    let err = forge
        .create_tag(&NewTag {
            name: "v1.0.0".to_owned(),
            commit: repo.head(),
            message: None,
        })
        .await
        .expect_err("exists");
    assert!(matches!(err, Error::AlreadyExists { .. }), "{err:?}");
    assert_eq!(
        forge
            .tag("v1.0.0")
            .await
            .expect("read")
            .expect("tag")
            .commit,
        v1
    );
    assert_eq!(forge.ahead_by("v1.0.0", "HEAD").await.expect("count"), 3);
}

#[tokio::test]
async fn issues_are_numbered_found_by_label_and_commented() {
    let repo = GitRepo::new();
    repo.commit("chore: start");
    let forge = forge(&repo);
    let incident = Label {
        name: "incident".to_owned(),
        color: "d73a4a".to_owned(),
        description: "A rollback reached production".to_owned(),
    };
    forge
        .ensure_labels(std::slice::from_ref(&incident))
        .await
        .expect("labels");
    forge
        .ensure_labels(&[incident])
        .await
        .expect("labels again");
    let first = forge
        .create_issue(&NewIssue {
            title: "Rollback to v1.0.0".to_owned(),
            body: "Production runs v1.0.0 again.".to_owned(),
            labels: vec!["incident".to_owned()],
            assignees: vec!["captain".to_owned()],
        })
        .await
        .expect("create");
    let second = forge
        .create_issue(&NewIssue {
            title: "Unrelated".to_owned(),
            ..NewIssue::default()
        })
        .await
        .expect("create");
    assert_eq!((first.number, second.number), (1, 2));
    let open = forge
        .open_issues_with_label("incident")
        .await
        .expect("search");
    assert_eq!(open, std::slice::from_ref(&first));
    forge
        .comment(&first, "Rolled back again.")
        .await
        .expect("comment");
    let page = std::fs::read_to_string(&first.url).expect("the issue page");
    assert!(page.starts_with("# Rollback to v1.0.0\n"), "{page}");
    assert!(
        page.contains("## Comment 1\n\nRolled back again."),
        "{page}"
    );
    let labels = std::fs::read_to_string(forge.dir().join("labels.json")).expect("labels");
    assert_eq!(labels.matches("\"incident\"").count(), 1);
}
