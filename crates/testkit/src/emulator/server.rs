//! The HTTP side: a listener whose connections a fault can cut, and the one handler every request
//! goes through (log, faults, then the forge's routes on a blocking thread, since they run git).

use std::collections::HashMap;
use std::io;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::task::{Context, Poll};

use axum::body::to_bytes;
use axum::extract::connect_info::Connected;
use axum::extract::{ConnectInfo, Request, State as AxumState};
use axum::response::Response;
use axum::serve::{IncomingStream, Listener};
use serde_json::json;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};

use super::auth::Permissions;
use super::faults::{Fault, Faults};
use super::git::Git;
use super::state::{Asset, State};
use super::wire::{Incoming, Reply, now_secs, parse_query, redacted_target};
use super::{Flavor, RequestRecord, gitea, github};

/// Request bodies above this are refused outright (the forges' own limits are far lower).
const MAX_BODY: usize = 256 * 1024 * 1024;

/// Settings fixed when the emulator starts.
#[derive(Debug, Clone)]
pub(crate) struct Config {
    pub owner: String,
    pub repo: String,
    /// Gitea's `ROOT_URL`: the base of every URL it writes, which may not be where it listens.
    pub public_url: Option<String>,
    pub immutable_releases: bool,
    pub attachment_max_size: Option<u64>,
    pub attachment_allowed_types: Vec<String>,
    pub rate_limit: u64,
}

/// Everything the handler shares.
#[derive(Debug)]
pub(crate) struct Shared {
    pub flavor: Flavor,
    pub config: Config,
    pub git: Git,
    /// Where the emulator listens, `http://127.0.0.1:PORT`.
    pub local_url: String,
    pub state: Mutex<State>,
    pub faults: Mutex<Faults>,
    pub log: Mutex<Vec<RequestRecord>>,
    pub tokens: Mutex<HashMap<String, Permissions>>,
    pub served: AtomicU64,
    pub started: i64,
}

impl Shared {
    /// The base of the URLs a Gitea writes.
    pub fn public_url(&self) -> &str {
        self.config.public_url.as_deref().unwrap_or(&self.local_url)
    }

    pub fn permissions(&self, token: &str) -> Option<Permissions> {
        lock(&self.tokens).get(token).copied()
    }
}

/// A poisoned lock only means a handler panicked; the data is still what the tests want to see.
pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Accepts TCP connections wrapped so that a fault can cut them.
#[derive(Debug)]
pub(crate) struct CuttableListener(pub TcpListener);

/// The handle a request holds on its own connection.
#[derive(Debug, Clone, Default)]
pub(crate) struct Conn {
    cut: Arc<AtomicBool>,
}

impl Conn {
    /// From now on the connection reads EOF and every write fails, so hyper closes it without
    /// sending the response it is about to write.
    fn cut(&self) {
        self.cut.store(true, Ordering::SeqCst);
    }
}

#[derive(Debug)]
pub(crate) struct CuttableStream {
    inner: TcpStream,
    cut: Arc<AtomicBool>,
}

impl Listener for CuttableListener {
    type Io = CuttableStream;
    type Addr = Conn;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        loop {
            match self.0.accept().await {
                Ok((inner, _)) => {
                    let _ = inner.set_nodelay(true);
                    let conn = Conn::default();
                    let io = CuttableStream {
                        inner,
                        cut: conn.cut.clone(),
                    };
                    return (io, conn);
                }
                // Out of file descriptors and the like: wait instead of spinning.
                Err(_) => tokio::time::sleep(std::time::Duration::from_millis(20)).await,
            }
        }
    }

    fn local_addr(&self) -> io::Result<Self::Addr> {
        Ok(Conn::default())
    }
}

impl Connected<IncomingStream<'_, CuttableListener>> for Conn {
    fn connect_info(stream: IncomingStream<'_, CuttableListener>) -> Self {
        stream.remote_addr().clone()
    }
}

impl CuttableStream {
    fn is_cut(&self) -> bool {
        self.cut.load(Ordering::SeqCst)
    }
}

impl AsyncRead for CuttableStream {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        if self.is_cut() {
            return Poll::Ready(Ok(()));
        }
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl AsyncWrite for CuttableStream {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        if self.is_cut() {
            return Poll::Ready(Err(io::ErrorKind::BrokenPipe.into()));
        }
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        if self.is_cut() {
            return Poll::Ready(Err(io::ErrorKind::BrokenPipe.into()));
        }
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

/// The one handler: every route of both forges goes through here.
pub(crate) async fn handle(
    AxumState(shared): AxumState<Arc<Shared>>,
    ConnectInfo(conn): ConnectInfo<Conn>,
    request: Request,
) -> Response {
    let (parts, body) = request.into_parts();
    let method = parts.method.clone();
    let target = redacted_target(parts.uri.path(), parts.uri.query());
    let serial = shared.served.fetch_add(1, Ordering::SeqCst) + 1;

    let fault = lock(&shared.faults).take(method.as_str(), &target);
    let mut after = None;
    match fault {
        None => {}
        Some(Fault::Delay(d)) => tokio::time::sleep(d).await,
        Some(Fault::AfterCommit(inner)) => after = Some(*inner),
        Some(Fault::DropConnection) => {
            conn.cut();
            record(&shared, &method, target, None);
            return Reply::empty(502).into_response();
        }
        Some(other) => {
            let reply = fault_reply(&shared, &other, serial);
            record(&shared, &method, target, Some(reply.status.as_u16()));
            return reply.into_response();
        }
    }

    let reply = match to_bytes(body, MAX_BODY).await {
        Err(_) => Reply::json(413, json!({ "message": "request body too large" })),
        Ok(bytes) => {
            let incoming = Incoming {
                method: method.clone(),
                path: parts.uri.path().to_owned(),
                query: parse_query(parts.uri.query().unwrap_or_default()),
                headers: parts.headers,
                body: bytes,
            };
            let worker = shared.clone();
            tokio::task::spawn_blocking(move || dispatch(&worker, &incoming))
                .await
                .unwrap_or_else(|_| {
                    Reply::json(500, json!({ "message": "emulator handler panicked" }))
                })
        }
    };

    let reply = match after {
        None => reply,
        Some(Fault::DropConnection) => {
            conn.cut();
            record(&shared, &method, target, None);
            return Reply::empty(502).into_response();
        }
        Some(Fault::Delay(d)) => {
            tokio::time::sleep(d).await;
            reply
        }
        Some(Fault::AfterCommit(inner)) => fault_reply(&shared, &inner, serial),
        Some(other) => fault_reply(&shared, &other, serial),
    };
    let reply = decorate(&shared, reply, serial);
    record(&shared, &method, target, Some(reply.status.as_u16()));
    reply.into_response()
}

fn dispatch(shared: &Shared, request: &Incoming) -> Reply {
    let result = match shared.flavor {
        Flavor::GitHub => github::route(shared, request),
        Flavor::Gitea => gitea::route(shared, request),
    };
    result.unwrap_or_else(|reply| reply)
}

fn record(shared: &Shared, method: &axum::http::Method, target: String, status: Option<u16>) {
    lock(&shared.log).push(RequestRecord {
        method: method.to_string(),
        target,
        status,
    });
}

/// GitHub's headers on every answer: rate-limit state and a request id.
fn decorate(shared: &Shared, reply: Reply, serial: u64) -> Reply {
    if shared.flavor != Flavor::GitHub
        || reply
            .headers
            .iter()
            .any(|(n, _)| n == "x-ratelimit-remaining")
    {
        return reply;
    }
    let limit = shared.config.rate_limit;
    let used = serial.min(limit);
    reply
        .with_header("x-ratelimit-limit", limit.to_string())
        .with_header("x-ratelimit-remaining", (limit - used).to_string())
        .with_header("x-ratelimit-reset", (shared.started + 3600).to_string())
        .with_header("x-ratelimit-used", used.to_string())
        .with_header("x-ratelimit-resource", "core")
        .with_header("x-github-request-id", request_id(serial))
        .with_header("x-github-api-version-selected", "2022-11-28")
}

fn request_id(serial: u64) -> String {
    format!(
        "E4A1:{:04X}:{:06X}:{:07X}:{:08X}",
        serial % 0xFFFF,
        serial * 7 % 0xFF_FFFF,
        serial * 13 % 0xFFF_FFFF,
        serial
    )
}

/// The answer a fault gives instead of the emulator's, in each forge's shape.
fn fault_reply(shared: &Shared, fault: &Fault, serial: u64) -> Reply {
    let github = shared.flavor == Flavor::GitHub;
    match fault {
        Fault::Status(code) => {
            let reply = if github {
                Reply::json(
                    *code,
                    json!({ "message": "Server Error", "status": code.to_string() }),
                )
            } else {
                Reply::json(
                    *code,
                    json!({ "message": "Server Error", "url": gitea::DOCS }),
                )
            };
            decorate(shared, reply, serial)
        }
        Fault::SecondaryRateLimit { retry_after_secs } => {
            let reply = if github {
                Reply::json(
                    403,
                    json!({
                        "message": format!(
                            "You have exceeded a secondary rate limit. Please wait a few minutes before you try again. If you reach out to GitHub Support for help, please include the request ID {}.",
                            request_id(serial)
                        ),
                        "documentation_url": "https://docs.github.com/free-pro-team@latest/rest/overview/rate-limits-for-the-rest-api#about-secondary-rate-limits",
                        "status": "403"
                    }),
                )
            } else {
                Reply::json(
                    429,
                    json!({ "message": "Too Many Requests", "url": gitea::DOCS }),
                )
            };
            decorate(
                shared,
                reply.with_header("retry-after", retry_after_secs.to_string()),
                serial,
            )
        }
        Fault::PrimaryRateLimit { reset_in_secs } => {
            let reset = now_secs() + *reset_in_secs as i64;
            let limit = shared.config.rate_limit;
            let reply = if github {
                Reply::json(
                    403,
                    json!({
                        "message": "API rate limit exceeded for installation ID 1. If you reach out to GitHub Support for help, please include the request ID ".to_owned() + &request_id(serial) + " and timestamp " + &super::wire::now() + ".",
                        "documentation_url": "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api",
                        "status": "403"
                    }),
                )
                .with_header("x-github-request-id", request_id(serial))
                .with_header("x-ratelimit-resource", "core")
            } else {
                Reply::json(
                    429,
                    json!({ "message": "Too Many Requests", "url": gitea::DOCS }),
                )
            };
            reply
                .with_header("x-ratelimit-limit", limit.to_string())
                .with_header("x-ratelimit-remaining", "0")
                .with_header("x-ratelimit-used", limit.to_string())
                .with_header("x-ratelimit-reset", reset.to_string())
        }
        // Handled before or after the route runs; here only as an inner fault's fallback.
        Fault::Delay(_) | Fault::DropConnection | Fault::AfterCommit(_) => decorate(
            shared,
            Reply::json(502, json!({ "message": "Server Error" })),
            serial,
        ),
    }
}

/// Counts a download of the first asset `pick` accepts and answers with its bytes; `None` when
/// there is none (each flavour answers its own 404).
pub(crate) fn download(shared: &Shared, pick: impl Fn(&Asset) -> bool) -> Option<Reply> {
    let mut state = lock(&shared.state);
    let asset = state.assets.iter_mut().find(|a| pick(a))?;
    asset.download_count += 1;
    Some(Reply::bytes(
        asset.bytes.clone(),
        "application/octet-stream",
    ))
}

/// The web download of asset `name` of the published release of `tag`, as both forges serve it
/// at `/{owner}/{repo}/releases/download/{tag}/{name}`.
pub(crate) fn download_by_name(
    shared: &Shared,
    owner: &str,
    repo: &str,
    tag: &str,
    name: &str,
) -> Option<Reply> {
    if !owner.eq_ignore_ascii_case(&shared.config.owner)
        || !repo.eq_ignore_ascii_case(&shared.config.repo)
    {
        return None;
    }
    let release = lock(&shared.state)
        .releases
        .iter()
        .find(|r| !r.draft && r.tag_name == tag)
        .map(|r| r.id)?;
    download(shared, |a| a.release_id == release && a.name == name)
}
