//! The GitHub flavour: releases, assets, refs, issues, statuses and permissions.

use std::path::Path;

use reqwest::Method;
use serde_json::json;

use relkit_testkit::emulator::{Access, Emulator, Flavor, Permissions};

use crate::common::{Api, REPOS, has_tag, repo, serve, tagged_repo};

fn start(repo: &Path) -> (Emulator, Api) {
    serve(Emulator::start(Flavor::GitHub, repo), "t-write")
}

#[tokio::test]
async fn a_draft_has_no_tag_and_is_not_found_by_tag_until_published() {
    let (repo, _, head) = repo();
    let (_forge, api) = start(repo.path());

    let draft = api
        .create_release(json!({ "tag_name": "v1.0.0", "target_commitish": "main", "draft": true }))
        .await;
    assert_eq!(draft.status, 201, "{}", draft.json);
    assert_eq!(draft.json["draft"], true);
    assert!(draft.json["published_at"].is_null());
    assert!(draft.json["id"].is_u64());
    assert!(!has_tag(&repo, "v1.0.0"), "a draft must not create its tag");
    assert_eq!(
        api.get(&format!("{REPOS}/releases/tags/v1.0.0"))
            .await
            .status,
        404
    );

    let id = draft.u64("id");
    let published = api.publish(id).await;
    assert_eq!(published.status, 200, "{}", published.json);
    assert!(published.json["published_at"].is_string());
    assert!(has_tag(&repo, "v1.0.0"));
    assert_eq!(repo.git(&["rev-parse", "v1.0.0^{commit}"]), head);

    let by_tag = api.get(&format!("{REPOS}/releases/tags/v1.0.0")).await;
    assert_eq!(by_tag.status, 200);
    assert_eq!(by_tag.json["id"], id);
    let upload_url = by_tag.str("upload_url");
    assert!(
        upload_url.ends_with(&format!(
            "/uploads/repos/owner/app/releases/{id}/assets{{?name,label}}"
        )),
        "{upload_url}"
    );
}

/// GitHub's limit on a release body, in characters, on create and on update.
#[tokio::test]
async fn a_body_over_125000_characters_is_refused() {
    let (repo, _, _) = repo();
    let (forge, api) = start(repo.path());
    let long = "é".repeat(125_001);
    let refused = api
        .create_release(json!({ "tag_name": "v1.0.0", "draft": true, "body": long }))
        .await;
    assert_eq!(refused.status, 422, "{}", refused.json);
    assert_eq!(refused.json["errors"][0]["field"], "body");
    assert!(forge.releases().is_empty());
    let at_limit = "é".repeat(125_000);
    let made = api
        .create_release(json!({ "tag_name": "v1.0.0", "draft": true, "body": at_limit }))
        .await;
    assert_eq!(made.status, 201, "{}", made.json);
    let id = made.u64("id");
    let update = api
        .patch(&format!("{REPOS}/releases/{id}"), json!({ "body": long }))
        .await;
    assert_eq!(update.status, 422, "{}", update.json);
}

#[tokio::test]
async fn a_published_release_creates_its_tag_at_the_target_and_cannot_be_created_twice() {
    let (repo, first, _) = repo();
    let (forge, api) = start(repo.path());

    let created = api
        .create_release(
            json!({ "tag_name": "v0.1.0", "target_commitish": first, "name": "v0.1.0" }),
        )
        .await;
    assert_eq!(created.status, 201);
    assert_eq!(repo.git(&["rev-parse", "v0.1.0"]), first);
    assert!(created.header("location").is_some());
    assert!(created.header("x-github-request-id").is_some());
    assert_eq!(created.header("x-ratelimit-resource"), Some("core"));

    let again = api.create_release(json!({ "tag_name": "v0.1.0" })).await;
    assert_eq!(again.status, 422);
    assert_eq!(again.json["errors"][0]["code"], "already_exists");
    assert_eq!(forge.releases().len(), 1);

    let latest = api.get(&format!("{REPOS}/releases/latest")).await;
    assert_eq!(latest.json["tag_name"], "v0.1.0");
    assert_eq!(
        api.delete(&format!("{REPOS}/releases/{}", created.json["id"]))
            .await
            .status,
        204
    );
    assert!(forge.releases().is_empty());
    assert!(has_tag(&repo, "v0.1.0"), "deleting a release keeps its tag");
}

#[tokio::test]
async fn releases_are_paged_with_link_headers() {
    let (repo, _, _) = repo();
    let (_forge, api) = start(repo.path());
    for n in 0..5 {
        let r = api
            .create_release(json!({ "tag_name": format!("v0.{n}.0") }))
            .await;
        assert_eq!(r.status, 201);
    }
    let first = api.get(&format!("{REPOS}/releases?per_page=2")).await;
    assert_eq!(first.count(), 2);
    assert_eq!(first.json[0]["tag_name"], "v0.4.0", "newest first");
    let link = first.header("link").expect("the header").to_owned();
    assert!(
        link.contains(&format!(
            "<{}{REPOS}/releases?per_page=2&page=2>; rel=\"next\"",
            api.base
        )),
        "{link}"
    );
    assert!(link.contains("page=3>; rel=\"last\""), "{link}");

    let last = api
        .get(&format!("{REPOS}/releases?per_page=2&page=3"))
        .await;
    assert_eq!(last.count(), 1);
    assert!(
        !last
            .header("link")
            .expect("the header")
            .contains("rel=\"next\"")
    );
    let capped = api.get(&format!("{REPOS}/releases?per_page=500")).await;
    assert_eq!(capped.count(), 5);
}

#[tokio::test]
async fn assets_upload_download_and_carry_a_sha256_digest() {
    let (repo, _, _) = repo();
    let (forge, api) = start(repo.path());
    let release = api.create_release(json!({ "tag_name": "v1.0.0" })).await;
    let id = release.u64("id");
    let upload = release.str("upload_url").replace("{?name,label}", "");
    let data = b"binary bytes\x00\x01".to_vec();

    let asset = api
        .upload(
            &format!("{upload}?name=app.tar.gz&label=App"),
            "application/gzip",
            &data,
        )
        .await;
    assert_eq!(asset.status, 201, "{}", asset.json);
    assert_eq!(asset.json["name"], "app.tar.gz");
    assert_eq!(asset.json["label"], "App");
    assert_eq!(asset.json["state"], "uploaded");
    assert_eq!(asset.json["size"], data.len());
    assert_eq!(asset.json["content_type"], "application/gzip");
    let digest = asset.str("digest");
    assert_eq!(digest, format!("sha256:{}", sha256_hex(&data)));

    let duplicate = api
        .upload(
            &format!("{upload}?name=app.tar.gz"),
            "application/gzip",
            b"x",
        )
        .await;
    assert_eq!(duplicate.status, 422);
    assert_eq!(duplicate.json["errors"][0]["code"], "already_exists");
    // GitHub stores special characters as dots.
    let renamed = api
        .upload(
            &format!("{upload}?name=my%20app%20v1.tar.gz"),
            "application/gzip",
            b"y",
        )
        .await;
    assert_eq!(renamed.status, 201, "{}", renamed.json);
    assert_eq!(renamed.json["name"], "my.app.v1.tar.gz");
    let renamed_id = renamed.u64("id");
    api.delete(&format!("{REPOS}/releases/assets/{renamed_id}"))
        .await;

    let asset_id = asset.u64("id");
    let bytes = api
        .request(
            Method::GET,
            &format!("{REPOS}/releases/assets/{asset_id}"),
            |r| r.header("accept", "application/octet-stream"),
        )
        .await
        .expect("an answer");
    assert_eq!(bytes.status, 200);
    assert_eq!(bytes.bytes, data);
    let public = Api::new("", None)
        .get(asset.str("browser_download_url"))
        .await;
    assert_eq!(public.bytes, data);

    let listed = api.get(&format!("{REPOS}/releases/{id}/assets")).await;
    assert_eq!(listed.count(), 1);
    assert_eq!(forge.assets(id)[0].bytes, data);
    assert_eq!(forge.assets(id)[0].download_count, 2);

    assert_eq!(
        api.delete(&format!("{REPOS}/releases/assets/{asset_id}"))
            .await
            .status,
        204
    );
    assert!(forge.assets(id).is_empty());
}

#[tokio::test]
async fn an_upload_needs_a_content_type_and_the_ghes_layout_works() {
    let (repo, _, _) = repo();
    let (_forge, api) = start(repo.path());
    let ghes = Api::new(&_forge.ghes_url(), Some("t-write"));
    let release = ghes.create_release(json!({ "tag_name": "v1.0.0" })).await;
    assert_eq!(release.status, 201);
    let upload = release.str("upload_url").replace("{?name,label}", "");
    assert!(
        upload.contains("/api/uploads/repos/owner/app/releases/"),
        "{upload}"
    );
    assert!(release.str("url").contains("/api/v3/repos/"));

    let missing = api
        .request(Method::POST, &format!("{upload}?name=a.txt"), |r| {
            r.body("x")
        })
        .await
        .expect("an answer");
    assert_eq!(missing.status, 422);
    let ok = ghes
        .upload(&format!("{upload}?name=a.txt"), "text/plain", b"x")
        .await;
    assert_eq!(ok.status, 201);
}

#[tokio::test]
async fn tokens_are_checked_bad_credentials_and_missing_permissions() {
    let (repo, _, _) = repo();
    let (forge, _) = start(repo.path());
    forge.add_token("t-read", Permissions::read_only());

    let anonymous = Api::on(&forge, None)
        .get(&format!("{REPOS}/releases"))
        .await;
    assert_eq!(anonymous.status, 401);
    assert_eq!(anonymous.json["message"], "Bad credentials");
    let unknown = Api::on(&forge, Some("nope"))
        .get(&format!("{REPOS}/releases"))
        .await;
    assert_eq!(unknown.status, 401);

    let reader = Api::on(&forge, Some("t-read"));
    assert_eq!(reader.get(&format!("{REPOS}/releases")).await.status, 200);
    let denied = reader.create_release(json!({ "tag_name": "v1" })).await;
    assert_eq!(denied.status, 403);
    assert_eq!(
        denied.json["message"],
        "Resource not accessible by integration"
    );
    assert!(forge.releases().is_empty());

    // `token X` works as well as `Bearer X`.
    let token_scheme = reader
        .request(Method::GET, &format!("{REPOS}/releases"), |r| {
            r.header("authorization", "token t-read")
        })
        .await
        .expect("an answer");
    assert_eq!(token_scheme.status, 200);

    let writer = Api::on(&forge, Some("t-write"));
    assert_eq!(writer.get("/repos/someone/else/releases").await.status, 404);
    assert!(
        forge
            .requests()
            .iter()
            .all(|r| !r.target.contains("t-read") && !r.target.contains("t-write"))
    );
}

#[tokio::test]
async fn tags_at_commits_that_change_workflows_need_the_workflows_permission() {
    let (repo, _, _) = repo();
    let workflow = repo.commit_file(".github/workflows/ci.yml", "on: push\n", "ci: add workflow");
    let (forge, _) = start(repo.path());
    forge.add_token(
        "t-no-workflows",
        Permissions {
            contents: Access::Write,
            issues: Access::Write,
            workflows: false,
            ..Permissions::default()
        },
    );
    let limited = Api::on(&forge, Some("t-no-workflows"));
    let denied = limited
        .post(
            &format!("{REPOS}/git/refs"),
            json!({ "ref": "refs/tags/v2.0.0", "sha": workflow }),
        )
        .await;
    assert_eq!(denied.status, 403);
    assert!(
        denied.str("message").contains("`workflows` permission"),
        "{}",
        denied.json
    );
    assert!(!has_tag(&repo, "v2.0.0"));

    let release = limited
        .create_release(json!({ "tag_name": "v2.0.0", "target_commitish": workflow }))
        .await;
    assert_eq!(
        release.status, 403,
        "a release creating the tag needs it too"
    );

    let full = Api::on(&forge, Some("t-write"));
    let created = full
        .post(
            &format!("{REPOS}/git/refs"),
            json!({ "ref": "refs/tags/v2.0.0", "sha": workflow }),
        )
        .await;
    assert_eq!(created.status, 201);
    assert!(has_tag(&repo, "v2.0.0"));
}

#[tokio::test]
async fn refs_tags_commits_and_compare_read_the_real_repository() {
    let (repo, first, second) = tagged_repo();
    let (_forge, api) = start(repo.path());

    let exact = api.get(&format!("{REPOS}/git/ref/tags/v1.0")).await;
    assert_eq!(exact.status, 200);
    assert_eq!(exact.json["ref"], "refs/tags/v1.0");
    assert_eq!(exact.json["object"]["sha"], second);
    assert_eq!(exact.json["object"]["type"], "commit");
    assert_eq!(
        api.get(&format!("{REPOS}/git/ref/tags/v1")).await.status,
        404,
        "exact match only"
    );
    let matching = api
        .get(&format!("{REPOS}/git/matching-refs/tags/v1.0"))
        .await;
    assert_eq!(matching.count(), 2);
    assert_eq!(
        api.get(&format!("{REPOS}/git/ref/heads/main")).await.json["object"]["sha"],
        second
    );

    // An annotated tag: the tag object, then the ref.
    let tag = api
        .post(
            &format!("{REPOS}/git/tags"),
            json!({ "tag": "v2.0.0", "message": "Release 2", "object": first, "type": "commit" }),
        )
        .await;
    assert_eq!(tag.status, 201, "{}", tag.json);
    let tag_sha = tag.str("sha").to_owned();
    let r = api
        .post(
            &format!("{REPOS}/git/refs"),
            json!({ "ref": "refs/tags/v2.0.0", "sha": tag_sha }),
        )
        .await;
    assert_eq!(r.status, 201);
    assert_eq!(r.json["object"]["type"], "tag");
    assert_eq!(repo.git(&["cat-file", "-t", "v2.0.0"]), "tag");
    assert_eq!(repo.git(&["rev-parse", "v2.0.0^{commit}"]), first);
    let exists = api
        .post(
            &format!("{REPOS}/git/refs"),
            json!({ "ref": "refs/tags/v2.0.0", "sha": second }),
        )
        .await;
    assert_eq!(exists.status, 422);
    assert_eq!(exists.json["message"], "Reference already exists");

    // Moving a tag backwards needs force.
    let back = api
        .patch(
            &format!("{REPOS}/git/refs/tags/v1.0"),
            json!({ "sha": first }),
        )
        .await;
    assert_eq!(back.status, 422);
    let forced = api
        .patch(
            &format!("{REPOS}/git/refs/tags/v1.0"),
            json!({ "sha": first, "force": true }),
        )
        .await;
    assert_eq!(forced.status, 200);
    assert_eq!(repo.git(&["rev-parse", "v1.0"]), first);

    let commit = api.get(&format!("{REPOS}/commits/v1.0.1")).await;
    assert_eq!(commit.json["sha"], first);
    assert_eq!(commit.json["commit"]["message"], "feat: first");
    assert_eq!(
        commit.json["commit"]["author"]["date"],
        "2024-01-01T01:00:00Z"
    );
    assert_eq!(api.get(&format!("{REPOS}/commits/nope")).await.status, 422);

    let compare = api.get(&format!("{REPOS}/compare/{first}...main")).await;
    assert_eq!(compare.json["status"], "ahead");
    assert_eq!(compare.json["ahead_by"], 1);
    assert_eq!(compare.json["behind_by"], 0);
    assert_eq!(compare.json["total_commits"], 1);
    assert_eq!(compare.json["commits"][0]["sha"], second);
    assert_eq!(
        api.get(&format!("{REPOS}/compare/main...{first}"))
            .await
            .json["status"],
        "behind"
    );
}

#[tokio::test]
async fn immutable_releases_refuse_asset_and_tag_changes_once_published() {
    let (repo, first, _) = repo();
    let forge = Emulator::builder(Flavor::GitHub, repo.path())
        .immutable_releases(true)
        .start();
    let (forge, api) = serve(forge, "t");

    let draft = api
        .create_release(json!({ "tag_name": "v1.0.0", "draft": true }))
        .await;
    assert_eq!(draft.json["immutable"], false);
    let upload = draft.str("upload_url").replace("{?name,label}", "");
    assert_eq!(
        api.upload(&format!("{upload}?name=a"), "text/plain", b"a")
            .await
            .status,
        201,
        "drafts take assets"
    );

    let id = draft.u64("id");
    let published = api.publish(id).await;
    assert_eq!(published.json["immutable"], true);
    let late = api
        .upload(&format!("{upload}?name=b"), "text/plain", b"b")
        .await;
    assert_eq!(late.status, 422);
    let moved = api
        .patch(
            &format!("{REPOS}/git/refs/tags/v1.0.0"),
            json!({ "sha": first, "force": true }),
        )
        .await;
    assert_eq!(moved.status, 422);
    assert_eq!(forge.assets(id).len(), 1);
}

#[tokio::test]
async fn issues_labels_comments_and_pull_requests_in_the_issue_list() {
    let (repo, _, _) = repo();
    let (forge, api) = start(repo.path());
    let pr = forge.add_pull_request("feat: a pull request", &["incident"]);

    let unknown = api
        .post(
            &format!("{REPOS}/issues"),
            json!({ "title": "Rollback of v1.2.3", "assignees": ["captain"] }),
        )
        .await;
    assert_eq!(
        unknown.status, 422,
        "an assignee who cannot be assigned: {}",
        unknown.json
    );
    let issue = api
        .post(&format!("{REPOS}/issues"), json!({ "title": "Rollback of v1.2.3", "body": "why", "labels": ["incident", "rollback"], "assignees": ["octocat"] }))
        .await;
    assert_eq!(issue.status, 201, "{}", issue.json);
    let number = issue.u64("number");
    assert_ne!(number, pr);
    assert_eq!(issue.json["labels"].as_array().expect("an array").len(), 2);
    assert!(issue.json.get("pull_request").is_none());
    assert_eq!(forge.labels().len(), 2, "missing labels are created");

    let both = api
        .get(&format!(
            "{REPOS}/issues?labels=incident,rollback&state=open"
        ))
        .await;
    assert_eq!(both.count(), 1, "all labels must match");
    let incident = api.get(&format!("{REPOS}/issues?labels=incident")).await;
    let items = incident.json.as_array().expect("an array");
    assert_eq!(items.len(), 2, "the pull request is listed too");
    assert!(items.iter().any(|i| i["pull_request"].is_object()));

    let comment = api
        .post(
            &format!("{REPOS}/issues/{number}/comments"),
            json!({ "body": "again" }),
        )
        .await;
    assert_eq!(comment.status, 201);
    assert_eq!(forge.comments(number)[0].body, "again");
    let closed = api
        .patch(
            &format!("{REPOS}/issues/{number}"),
            json!({ "state": "closed" }),
        )
        .await;
    assert_eq!(closed.json["state"], "closed");
    assert_eq!(closed.json["comments"], 1);
    assert_eq!(
        api.get(&format!("{REPOS}/issues?labels=rollback"))
            .await
            .count(),
        0
    );
    assert_eq!(
        api.get(&format!("{REPOS}/issues?labels=rollback&state=all"))
            .await
            .count(),
        1
    );

    let label = api
        .post(
            &format!("{REPOS}/labels"),
            json!({ "name": "release", "color": "00ff00" }),
        )
        .await;
    assert_eq!(label.status, 201);
    assert_eq!(
        api.post(&format!("{REPOS}/labels"), json!({ "name": "release" }))
            .await
            .status,
        422
    );
    assert_eq!(api.get(&format!("{REPOS}/labels")).await.count(), 3);
}

#[tokio::test]
async fn combined_status_and_check_runs_reflect_what_was_added() {
    let (repo, first, second) = repo();
    let (forge, api) = start(repo.path());
    forge.add_status(&second, "pending", "ci/build");
    forge.add_status(&second, "success", "ci/build");
    forge.add_status(&second, "success", "ci/test");
    forge.add_status(&first, "failure", "ci/build");
    forge.add_check_run(&second, "build", Some("success"));
    forge.add_check_run(&second, "deploy", None);

    let status = api.get(&format!("{REPOS}/commits/main/status")).await;
    assert_eq!(status.status, 200);
    assert_eq!(
        status.json["state"], "success",
        "the latest status per context counts"
    );
    assert_eq!(status.json["total_count"], 2);
    assert_eq!(status.json["sha"], second);
    assert_eq!(
        api.get(&format!("{REPOS}/commits/{first}/status"))
            .await
            .json["state"],
        "failure"
    );

    let runs = api
        .get(&format!("{REPOS}/commits/{second}/check-runs"))
        .await;
    assert_eq!(runs.json["total_count"], 2);
    let deploy = api
        .get(&format!(
            "{REPOS}/commits/{second}/check-runs?check_name=deploy"
        ))
        .await;
    assert_eq!(deploy.json["check_runs"][0]["status"], "in_progress");
    assert!(deploy.json["check_runs"][0]["conclusion"].is_null());
}

fn sha256_hex(data: &[u8]) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(data))
}
