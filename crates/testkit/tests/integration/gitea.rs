//! The Gitea flavour, including where Gitea departs from its swagger.

use std::path::Path;

use reqwest::Method;
use serde_json::json;

use relkit_testkit::emulator::{Emulator, Flavor, Permissions};

use crate::common::{Api, REPOS, has_tag, repo, serve, tagged_repo};

fn start(repo: &Path) -> (Emulator, Api) {
    serve(Emulator::start(Flavor::Gitea, repo), "t-write")
}

fn multipart(field: &str, filename: &str, content_type: &str, data: &[u8]) -> (String, Vec<u8>) {
    let boundary = "relkit-test-boundary";
    let mut body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"{field}\"; filename=\"{filename}\"\r\nContent-Type: {content_type}\r\n\r\n"
    )
    .into_bytes();
    body.extend_from_slice(data);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

#[tokio::test]
async fn refs_match_by_prefix_and_tags_are_created_with_201() {
    let (repo, first, second) = tagged_repo();
    let (_forge, api) = start(repo.path());

    let refs = api.get(&format!("{REPOS}/git/refs/tags/v1.0")).await;
    assert_eq!(refs.status, 200);
    let names: Vec<&str> = refs
        .json
        .as_array()
        .expect("an array")
        .iter()
        .map(|r| r["ref"].as_str().expect("a string"))
        .collect();
    assert_eq!(
        names,
        ["refs/tags/v1.0", "refs/tags/v1.0.1"],
        "v1.0 also finds v1.0.1"
    );
    assert_eq!(
        api.get(&format!("{REPOS}/git/refs/tags/v9")).await.status,
        404
    );

    let created = api
        .post(
            &format!("{REPOS}/tags"),
            json!({ "tag_name": "v2.0.0", "target": first, "message": "Release 2" }),
        )
        .await;
    assert_eq!(created.status, 201, "{}", created.json);
    assert_eq!(created.json["commit"]["sha"], first);
    assert_eq!(
        repo.git(&["cat-file", "-t", "v2.0.0"]),
        "tag",
        "a message makes it annotated"
    );
    let light = api
        .post(
            &format!("{REPOS}/tags"),
            json!({ "tag_name": "v2.0.1", "target": "main" }),
        )
        .await;
    assert_eq!(light.status, 201);
    assert_eq!(repo.git(&["cat-file", "-t", "v2.0.1"]), "commit");
    assert_eq!(
        api.post(&format!("{REPOS}/tags"), json!({ "tag_name": "v2.0.1" }))
            .await
            .status,
        409
    );

    let tag = api.get(&format!("{REPOS}/tags/v2.0.0")).await;
    assert_eq!(tag.json["message"], "Release 2\n");
    assert_eq!(tag.json["commit"]["sha"], first);

    let commit = api.get(&format!("{REPOS}/git/commits/{second}")).await;
    assert_eq!(commit.json["sha"], second);
    let latest = api
        .get(&format!("{REPOS}/commits?sha=v1.0.1&limit=1"))
        .await;
    assert_eq!(latest.json[0]["sha"], first);
    assert_eq!(latest.header("x-total"), Some("1"));
    let compare = api.get(&format!("{REPOS}/compare/{first}...main")).await;
    assert_eq!(compare.json["total_commits"], 1);
    assert_eq!(compare.json["commits"][0]["sha"], second);
}

#[tokio::test]
async fn releases_conflict_with_409_and_drafts_get_their_tag_when_published() {
    let (repo, _, head) = repo();
    let (forge, api) = start(repo.path());

    let draft = api
        .create_release(json!({ "tag_name": "v1.0.0", "draft": true }))
        .await;
    assert_eq!(draft.status, 201, "{}", draft.json);
    assert!(!has_tag(&repo, "v1.0.0"));
    let again = api.create_release(json!({ "tag_name": "v1.0.0" })).await;
    assert_eq!(again.status, 409, "a draft holds the tag name on Gitea");

    forge.add_token("t-read", Permissions::read_only());
    let reader = Api::on(&forge, Some("t-read"));
    assert_eq!(
        reader
            .get(&format!("{REPOS}/releases/tags/v1.0.0"))
            .await
            .status,
        404,
        "readers do not see drafts"
    );
    assert_eq!(
        api.get(&format!("{REPOS}/releases/tags/v1.0.0"))
            .await
            .status,
        200,
        "writers do"
    );

    let id = draft.u64("id");
    let published = api.publish(id).await;
    assert_eq!(published.status, 200);
    assert_eq!(repo.git(&["rev-parse", "v1.0.0"]), head);
    assert_eq!(
        reader
            .get(&format!("{REPOS}/releases/tags/v1.0.0"))
            .await
            .status,
        200
    );

    let annotated = api
        .create_release(json!({ "tag_name": "v1.1.0", "tag_message": "notes" }))
        .await;
    assert_eq!(annotated.status, 201);
    assert_eq!(repo.git(&["cat-file", "-t", "v1.1.0"]), "tag");
    assert_eq!(
        api.delete(&format!("{REPOS}/releases/{id}")).await.status,
        204
    );
    assert_eq!(forge.releases().len(), 1);
}

#[tokio::test]
async fn release_pages_cap_the_limit_and_link_to_the_public_url() {
    let (repo, _, _) = repo();
    let forge = Emulator::builder(Flavor::Gitea, repo.path())
        .public_url("https://gitea.example.com/")
        .start();
    let (forge, api) = serve(forge, "t-write");
    for n in 0..55 {
        let r = api
            .create_release(json!({ "tag_name": format!("v0.{n}.0"), "draft": true }))
            .await;
        assert_eq!(r.status, 201);
    }
    let page = api.get(&format!("{REPOS}/releases?limit=100")).await;
    assert_eq!(page.count(), 50, "limit is capped at 50");
    assert_eq!(page.header("x-total-count"), Some("55"));
    let link = page.header("link").expect("the header");
    assert!(
        link.contains("<https://gitea.example.com/api/v1/repos/owner/app/releases?limit=50&page=2>; rel=\"next\""),
        "{link}"
    );
    assert!(
        page.json[0]["url"]
            .as_str()
            .expect("a string")
            .starts_with("https://gitea.example.com/api/v1/")
    );
    let second = api.get(&format!("{REPOS}/releases?limit=50&page=2")).await;
    assert_eq!(second.count(), 5);
    drop(forge);
}

#[tokio::test]
async fn attachments_upload_as_multipart_or_raw_and_download_by_uuid() {
    let (repo, _, _) = repo();
    let (forge, api) = start(repo.path());
    let release = api.create_release(json!({ "tag_name": "v1.0.0" })).await;
    let id = release.u64("id");

    let (content_type, body) =
        multipart("attachment", "app.tar.gz", "application/gzip", b"tarball");
    let multipart_upload = api
        .upload(
            &format!("{REPOS}/releases/{id}/assets"),
            &content_type,
            &body,
        )
        .await;
    assert_eq!(multipart_upload.status, 201, "{}", multipart_upload.json);
    assert_eq!(multipart_upload.json["name"], "app.tar.gz");
    assert_eq!(multipart_upload.json["size"], 7);
    let url = multipart_upload.str("browser_download_url");
    assert!(url.contains("/attachments/"), "{url}");
    assert_eq!(Api::new("", None).get(url).await.bytes, b"tarball");

    let raw = api
        .upload(
            &format!("{REPOS}/releases/{id}/assets?name=SHA256SUMS"),
            "application/octet-stream",
            b"sums",
        )
        .await;
    assert_eq!(raw.status, 201);
    let (content_type, body) = multipart("attachment", "app.tar.gz", "application/gzip", b"again");
    let same_name = api
        .upload(
            &format!("{REPOS}/releases/{id}/assets"),
            &content_type,
            &body,
        )
        .await;
    assert_eq!(
        same_name.status, 201,
        "Gitea allows two attachments with one name"
    );

    let listed = api.get(&format!("{REPOS}/releases/{id}/assets")).await;
    assert_eq!(listed.count(), 3);
    let aid = raw.u64("id");
    let renamed = api
        .patch(
            &format!("{REPOS}/releases/{id}/assets/{aid}"),
            json!({ "name": "SUMS" }),
        )
        .await;
    assert_eq!(renamed.status, 201);
    assert_eq!(
        api.get(&format!("{REPOS}/releases/{id}/assets/{aid}"))
            .await
            .json["name"],
        "SUMS"
    );
    assert_eq!(
        api.delete(&format!("{REPOS}/releases/{id}/assets/{aid}"))
            .await
            .status,
        204
    );
    assert_eq!(forge.assets(id).len(), 2);

    let nameless = api
        .upload(
            &format!("{REPOS}/releases/{id}/assets"),
            "application/octet-stream",
            b"x",
        )
        .await;
    assert_eq!(nameless.status, 400);
}

#[tokio::test]
async fn attachment_settings_reject_large_and_forbidden_files() {
    let (repo, _, _) = repo();
    let forge = Emulator::builder(Flavor::Gitea, repo.path())
        .attachment_max_size(8)
        .attachment_allowed_types(&[".gz", "text/*"])
        .start();
    let (forge, api) = serve(forge, "t-write");
    let release = api.create_release(json!({ "tag_name": "v1.0.0" })).await;
    let id = release.u64("id");
    let path = format!("{REPOS}/releases/{id}/assets");

    let (ct, body) = multipart(
        "attachment",
        "big.tar.gz",
        "application/gzip",
        b"0123456789",
    );
    assert_eq!(api.upload(&path, &ct, &body).await.status, 413);
    let (ct, body) = multipart("attachment", "app.exe", "application/x-msdownload", b"MZ");
    let forbidden = api.upload(&path, &ct, &body).await;
    assert_eq!(forbidden.status, 400);
    assert!(forbidden.str("message").contains("forbidden"));
    let (ct, body) = multipart("attachment", "notes", "text/plain", b"ok");
    assert_eq!(api.upload(&path, &ct, &body).await.status, 201);
    assert_eq!(forge.assets(id).len(), 1);
}

#[tokio::test]
async fn issues_take_label_ids_and_labels_by_name_drop_unknown_ones() {
    let (repo, _, _) = repo();
    let (forge, api) = start(repo.path());
    let incident = api
        .post(
            &format!("{REPOS}/labels"),
            json!({ "name": "incident", "color": "#ff0000" }),
        )
        .await;
    assert_eq!(incident.status, 201);
    assert_eq!(incident.json["color"], "ff0000");
    let incident_id = incident.u64("id");
    let rollback_id = forge.add_label("rollback", "00ff00");
    forge.add_pull_request("a pull request", &["incident"]);

    let issue = api
        .post(
            &format!("{REPOS}/issues"),
            json!({ "title": "Rollback", "labels": [incident_id, 999_999] }),
        )
        .await;
    assert_eq!(issue.status, 201, "{}", issue.json);
    let number = issue.u64("number");
    assert_eq!(issue.json["labels"].as_array().expect("an array").len(), 1);
    assert!(issue.json["pull_request"].is_null());

    let added = api
        .post(
            &format!("{REPOS}/issues/{number}/labels"),
            json!({ "labels": ["rollback", "does-not-exist"] }),
        )
        .await;
    assert_eq!(added.status, 200);
    assert_eq!(added.count(), 2);
    assert!(forge.labels().iter().all(|l| l.name != "does-not-exist"));
    assert!(forge.labels().iter().any(|l| l.id == rollback_id));

    let any = api
        .get(&format!(
            "{REPOS}/issues?state=open&labels=rollback,nothing"
        ))
        .await;
    assert_eq!(any.count(), 1, "any of the labels matches");
    let all_kinds = api.get(&format!("{REPOS}/issues?labels=incident")).await;
    assert_eq!(all_kinds.count(), 2);
    let issues_only = api
        .get(&format!("{REPOS}/issues?labels=incident&type=issues"))
        .await;
    assert_eq!(issues_only.count(), 1);

    let comment = api
        .post(
            &format!("{REPOS}/issues/{number}/comments"),
            json!({ "body": "again" }),
        )
        .await;
    assert_eq!(comment.status, 201);
    let closed = api
        .patch(
            &format!("{REPOS}/issues/{number}"),
            json!({ "state": "closed" }),
        )
        .await;
    assert_eq!(closed.status, 201);
    assert_eq!(
        forge
            .issues()
            .iter()
            .find(|i| i.number == number)
            .expect("the issue")
            .state,
        "closed"
    );
}

#[tokio::test]
async fn combined_status_is_empty_without_statuses() {
    let (repo, first, second) = repo();
    let (forge, api) = start(repo.path());
    forge.add_status(&second, "success", "ci");
    forge.add_status(&second, "failure", "lint");
    let status = api.get(&format!("{REPOS}/commits/main/status")).await;
    assert_eq!(status.json["state"], "failure");
    assert_eq!(status.json["total_count"], 2);
    let none = api.get(&format!("{REPOS}/commits/{first}/status")).await;
    assert_eq!(none.status, 200);
    assert_eq!(none.json["state"], "");
    assert!(none.json["statuses"].is_null());
}

#[tokio::test]
async fn gitea_tokens_unauthorized_and_forbidden() {
    let (repo, _, _) = repo();
    let (forge, _) = start(repo.path());
    forge.add_token("t-read", Permissions::read_only());
    assert_eq!(
        Api::on(&forge, None)
            .get(&format!("{REPOS}/releases"))
            .await
            .status,
        401
    );
    let reader = Api::on(&forge, Some("t-read"));
    let token_scheme = reader
        .request(Method::GET, &format!("{REPOS}/releases"), |r| {
            r.header("authorization", "token t-read")
        })
        .await
        .expect("an answer");
    assert_eq!(token_scheme.status, 200);
    let denied = reader
        .post(&format!("{REPOS}/issues"), json!({ "title": "x" }))
        .await;
    assert_eq!(denied.status, 403);
    assert!(denied.str("message").contains("write:issue"));
    assert!(denied.json["url"].is_string());
    assert_eq!(reader.get("/repos/owner/other/releases").await.status, 404);
}
