//! A small HTTP helper over reqwest and repositories for the emulator to serve.

use reqwest::header::HeaderMap;
use reqwest::{Client, Method};
use serde_json::Value;

use relkit_testkit::GitRepo;

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

/// A repository with two commits on `main`; returns it and the commit ids.
pub fn repo() -> (GitRepo, String, String) {
    let repo = GitRepo::new();
    let first = repo.commit("feat: first");
    let second = repo.commit("fix: second");
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
