//! A file server on loopback, as a release's download URL or a mirror of it is: `GET /<name>`
//! answers the bytes put under that name, anything else 404. It counts the requests, so a test
//! can tell a download from a cache hit.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

use crate::background::Background;

#[derive(Debug, Default)]
struct Shared {
    files: Mutex<HashMap<String, Vec<u8>>>,
    requests: AtomicU64,
}

/// Serves until dropped.
#[derive(Debug)]
pub struct FileServer {
    url: String,
    shared: Arc<Shared>,
    _server: Background,
}

impl FileServer {
    /// Starts on a free port of 127.0.0.1 with no files.
    pub fn start() -> Self {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind a free port");
        let url = format!(
            "http://{}",
            listener.local_addr().expect("the listener's address")
        );
        let shared = Arc::new(Shared::default());
        let router = Router::new()
            .route("/{*name}", axum::routing::get(serve))
            .with_state(Arc::clone(&shared));
        let server = Background::start("file server".to_owned(), 1, listener, |listener| async {
            let _ = axum::serve(listener, router).await;
        });
        Self {
            url,
            shared,
            _server: server,
        }
    }

    /// `http://127.0.0.1:<port>`, without a trailing slash.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Serves `bytes` at `/<name>` from now on (`name` may hold slashes).
    pub fn put(&self, name: &str, bytes: impl Into<Vec<u8>>) {
        self.shared
            .files
            .lock()
            .expect("the file table")
            .insert(name.to_owned(), bytes.into());
    }

    /// The requests answered so far, found or not.
    pub fn requests(&self) -> u64 {
        self.shared.requests.load(Ordering::SeqCst)
    }
}

async fn serve(State(shared): State<Arc<Shared>>, Path(name): Path<String>) -> Response {
    shared.requests.fetch_add(1, Ordering::SeqCst);
    let found = shared
        .files
        .lock()
        .expect("the file table")
        .get(&name)
        .cloned();
    match found {
        Some(bytes) => bytes.into_response(),
        None => (StatusCode::NOT_FOUND, "no such file\n").into_response(),
    }
}
