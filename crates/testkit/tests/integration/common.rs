//! A small HTTP helper over reqwest and repositories for the emulator to serve.

use reqwest::header::HeaderMap;
use reqwest::{Client, Method};
use serde_json::{Value, json};

use relkit_testkit::GitRepo;
use relkit_testkit::emulator::{Emulator, Flavor, Permissions};

/// The repository every emulator serves.
pub const REPOS: &str = "/repos/owner/app";

/// reqwest on rustls with the ring provider, as relkit builds it; redirects followed.
pub fn client() -> Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    Client::builder().build().expect("build a reqwest client")
}

/// What came back: status, headers, the JSON body (or `Null`) and the raw bytes.
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub headers: HeaderMap,
    pub json: Value,
    pub bytes: Vec<u8>,
}

impl Answer {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// The integer `field` of the JSON body (an `id`, a `number`).
    pub fn u64(&self, field: &str) -> u64 {
        self.json[field].as_u64().expect("an integer")
    }

    /// The string `field` of the JSON body.
    pub fn str(&self, field: &str) -> &str {
        self.json[field].as_str().expect("a string")
    }

    /// How many items the JSON body, an array, holds.
    pub fn count(&self) -> usize {
        self.json.as_array().expect("an array").len()
    }
}

/// A client bound to one API base and token.
#[derive(Debug, Clone)]
pub struct Api {
    pub base: String,
    pub token: Option<String>,
    pub client: Client,
}

impl Api {
    pub fn new(base: &str, token: Option<&str>) -> Self {
        Self {
            base: base.to_owned(),
            token: token.map(str::to_owned),
            client: client(),
        }
    }

    /// A client of `forge`'s API: GitHub's at the root, Gitea's at `/api/v1`.
    pub fn on(forge: &Emulator, token: Option<&str>) -> Self {
        match forge.flavor() {
            Flavor::GitHub => Self::new(forge.url(), token),
            Flavor::Gitea => Self::new(&forge.api_v1_url(), token),
        }
    }

    pub fn url(&self, path: &str) -> String {
        if path.starts_with("http") {
            path.to_owned()
        } else {
            format!("{}{path}", self.base)
        }
    }

    pub async fn request(
        &self,
        method: Method,
        path: &str,
        build: impl FnOnce(reqwest::RequestBuilder) -> reqwest::RequestBuilder,
    ) -> Result<Answer, reqwest::Error> {
        let mut req = self.client.request(method, self.url(path));
        if let Some(token) = &self.token {
            req = req.header("authorization", format!("Bearer {token}"));
        }
        let resp = build(req).send().await?;
        let status = resp.status().as_u16();
        let headers = resp.headers().clone();
        let bytes = resp.bytes().await?.to_vec();
        let json = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        Ok(Answer {
            status,
            headers,
            json,
            bytes,
        })
    }

    pub async fn get(&self, path: &str) -> Answer {
        self.request(Method::GET, path, |r| r).await.expect("GET")
    }

    pub async fn delete(&self, path: &str) -> Answer {
        self.request(Method::DELETE, path, |r| r)
            .await
            .expect("DELETE")
    }

    pub async fn post(&self, path: &str, body: Value) -> Answer {
        self.request(Method::POST, path, |r| r.json(&body))
            .await
            .expect("POST")
    }

    pub async fn patch(&self, path: &str, body: Value) -> Answer {
        self.request(Method::PATCH, path, |r| r.json(&body))
            .await
            .expect("PATCH")
    }

    /// Creates a release of [`REPOS`] from `body`.
    pub async fn create_release(&self, body: Value) -> Answer {
        self.post(&format!("{REPOS}/releases"), body).await
    }

    /// Publishes the draft release `id` of [`REPOS`].
    pub async fn publish(&self, id: u64) -> Answer {
        self.patch(&format!("{REPOS}/releases/{id}"), json!({ "draft": false }))
            .await
    }

    pub async fn upload(&self, url: &str, content_type: &str, data: &[u8]) -> Answer {
        let data = data.to_vec();
        let content_type = content_type.to_owned();
        self.request(Method::POST, url, move |r| {
            r.header("content-type", content_type).body(data)
        })
        .await
        .expect("upload")
    }
}

/// Gives `token` every permission on `forge`; returns it and a client holding the token.
pub fn serve(forge: Emulator, token: &str) -> (Emulator, Api) {
    forge.add_token(token, Permissions::all());
    let api = Api::on(&forge, Some(token));
    (forge, api)
}

/// A repository with two commits on `main`; returns it and the commit ids.
pub fn repo() -> (GitRepo, String, String) {
    let repo = GitRepo::new();
    let first = repo.commit("feat: first");
    let second = repo.commit("fix: second");
    (repo, first, second)
}

/// [`repo`] with the tags `v1.0` at the second commit and `v1.0.1` at the first, so that the
/// prefix `v1.0` matches both.
pub fn tagged_repo() -> (GitRepo, String, String) {
    let (repo, first, second) = repo();
    repo.tag("v1.0");
    repo.git(&["tag", "v1.0.1", &first]);
    (repo, first, second)
}

/// Whether `tag` exists in `repo`, as git sees it.
pub fn has_tag(repo: &GitRepo, tag: &str) -> bool {
    repo.git_output(&[
        "rev-parse",
        "--verify",
        "--quiet",
        &format!("refs/tags/{tag}"),
    ])
    .status
    .success()
}
