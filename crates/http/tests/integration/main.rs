//! The retry loop against real sockets on 127.0.0.1: a server that answers from a script of
//! raw HTTP answers (or accepts and never answers), counting the requests it reads.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use relkit_http::{Budget, Call, Deadline, Error, Kind, Options, Policy, Run, Transport};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

/// What the server does with the n-th request.
#[derive(Clone)]
enum Answer {
    /// Writes this status line (and `Retry-After` when given) with an empty body.
    Status(u16, Option<u64>),
    /// Reads the request and never answers.
    Silence,
}

struct Server {
    url: String,
    requests: Arc<AtomicUsize>,
}

/// A server answering the n-th request with `script[n]` (the last entry repeats).
async fn server(script: Vec<Answer>) -> Server {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let url = format!("http://{}/", listener.local_addr().expect("address"));
    let requests = Arc::new(AtomicUsize::new(0));
    let counted = requests.clone();
    tokio::spawn(async move {
        loop {
            let Ok((mut socket, _)) = listener.accept().await else {
                return;
            };
            let counted = counted.clone();
            let script = script.clone();
            tokio::spawn(async move {
                let mut buffer = vec![0u8; 4096];
                loop {
                    // One request per read is enough for these bodiless requests.
                    match socket.read(&mut buffer).await {
                        Ok(0) | Err(_) => return,
                        Ok(_) => {}
                    }
                    let n = counted.fetch_add(1, Ordering::SeqCst);
                    let answer = script[n.min(script.len() - 1)].clone();
                    match answer {
                        Answer::Silence => {
                            tokio::time::sleep(Duration::from_secs(3600)).await;
                        }
                        Answer::Status(status, retry_after) => {
                            let extra = retry_after
                                .map(|s| format!("retry-after: {s}\r\n"))
                                .unwrap_or_default();
                            let text =
                                format!("HTTP/1.1 {status} X\r\ncontent-length: 0\r\n{extra}\r\n");
                            if socket.write_all(text.as_bytes()).await.is_err() {
                                return;
                            }
                        }
                    }
                }
            });
        }
    });
    Server { url, requests }
}

/// A transport with quick timeouts that keeps every notice it is told.
fn transport(deadline: Option<Deadline>) -> (Transport, Arc<Mutex<Vec<String>>>) {
    let notices = Arc::new(Mutex::new(Vec::new()));
    let kept = notices.clone();
    let transport = Transport::new(Options {
        policy: Policy {
            attempts: 3,
            backoff: Duration::from_millis(20),
            wait_budget: Duration::from_secs(30),
            connect_timeout: Duration::from_secs(2),
            read_timeout: Duration::from_millis(300),
        },
        run: Run {
            deadline,
            notice: Some(Arc::new(move |line: &str| {
                kept.lock().expect("notices").push(line.to_owned());
            })),
        },
        ..Options::default()
    })
    .expect("a transport");
    (transport, notices)
}

async fn get(transport: &Transport, url: &str, kind: Kind) -> Result<u16, Error> {
    let call = Call::new("127.0.0.1 test", "read the thing").kind(kind);
    let response = transport
        .send(&call, &mut Budget::default(), || {
            Ok::<_, Error>(transport.http().get(url))
        })
        .await?;
    Ok(response.status().as_u16())
}

#[tokio::test]
async fn a_server_that_never_answers_is_given_up_on_in_read_timeouts_saying_so() {
    let server = server(vec![Answer::Silence]).await;
    let (transport, notices) = transport(None);
    let started = Instant::now();
    let err = get(&transport, &server.url, Kind::Idempotent)
        .await
        .expect_err("no answer");
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
    assert!(
        matches!(err, Error::Unreachable { attempts: 3, .. }),
        "{err:?}"
    );
    assert_eq!(server.requests.load(Ordering::SeqCst), 3);
    let notices = notices.lock().expect("notices").clone();
    assert_eq!(notices.len(), 2, "{notices:?}");
    assert!(
        notices[0].starts_with(
            "no answer from 127.0.0.1 test in 300 ms (read the thing); attempt 2 of 3 in "
        ),
        "{notices:?}"
    );
}

#[tokio::test]
async fn the_deadline_stops_a_stalled_call() {
    let server = server(vec![Answer::Silence]).await;
    // A read timeout longer than the deadline: the deadline decides.
    let transport = Transport::new(Options {
        policy: Policy {
            read_timeout: Duration::from_secs(30),
            ..Policy::default()
        },
        run: Run {
            deadline: Some(Deadline::after(1, "--deadline")),
            notice: None,
        },
        ..Options::default()
    })
    .expect("a transport");
    let started = Instant::now();
    let err = get(&transport, &server.url, Kind::Idempotent)
        .await
        .expect_err("past the deadline");
    assert!(started.elapsed() < Duration::from_secs(3));
    assert!(
        matches!(
            err,
            Error::Deadline {
                seconds: 1,
                flag: "--deadline",
                ..
            }
        ),
        "{err:?}"
    );
}

#[tokio::test]
async fn a_5xx_is_retried_and_the_retry_said() {
    let server = server(vec![Answer::Status(503, None), Answer::Status(200, None)]).await;
    let (transport, notices) = transport(None);
    assert_eq!(
        get(&transport, &server.url, Kind::Idempotent).await,
        Ok(200)
    );
    assert_eq!(server.requests.load(Ordering::SeqCst), 2);
    let notices = notices.lock().expect("notices").clone();
    assert!(
        notices[0].starts_with(
            "127.0.0.1 test answered 503 Service Unavailable (read the thing); attempt 2 of 3 in "
        ),
        "{notices:?}"
    );
}

#[tokio::test]
async fn the_last_5xx_is_returned_for_the_caller_to_read() {
    let server = server(vec![Answer::Status(502, None)]).await;
    let (transport, _) = transport(None);
    assert_eq!(
        get(&transport, &server.url, Kind::Idempotent).await,
        Ok(502)
    );
    assert_eq!(server.requests.load(Ordering::SeqCst), 3);
}

#[tokio::test]
async fn a_create_is_sent_once_and_a_lost_answer_said() {
    let server = server(vec![Answer::Status(500, None), Answer::Status(201, None)]).await;
    let (transport, _) = transport(None);
    let err = get(&transport, &server.url, Kind::Create)
        .await
        .expect_err("unanswered");
    assert!(matches!(err, Error::Unanswered { .. }), "{err:?}");
    assert_eq!(server.requests.load(Ordering::SeqCst), 1);

    let silent = self::server(vec![Answer::Silence]).await;
    let err = get(&transport, &silent.url, Kind::Create)
        .await
        .expect_err("unanswered");
    assert!(matches!(err, Error::Unanswered { .. }), "{err:?}");
    assert_eq!(silent.requests.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn a_rate_limit_waits_as_told_within_the_budget() {
    let server = server(vec![
        Answer::Status(429, Some(1)),
        Answer::Status(200, None),
    ])
    .await;
    let (transport, notices) = transport(None);
    let started = Instant::now();
    assert_eq!(get(&transport, &server.url, Kind::Create).await, Ok(200));
    assert!(started.elapsed() >= Duration::from_secs(1));
    let notices = notices.lock().expect("notices").clone();
    assert_eq!(
        notices,
        ["127.0.0.1 test rate-limits read the thing (429 Too Many Requests): waiting 1.0 s"]
    );

    // Told to wait past the budget: refused at once, naming the limit.
    let server = self::server(vec![Answer::Status(429, Some(3600))]).await;
    let started = Instant::now();
    let err = get(&transport, &server.url, Kind::Idempotent)
        .await
        .expect_err("past the budget");
    assert!(started.elapsed() < Duration::from_secs(2));
    assert!(
        matches!(
            err,
            Error::RateLimited {
                needed: 3600,
                budget: 30,
                ..
            }
        ),
        "{err:?}"
    );
}

#[tokio::test]
async fn a_refused_connection_is_retried_then_named() {
    // A port that was free a moment ago: nothing listens there.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port();
    let (transport, notices) = transport(None);
    let err = get(
        &transport,
        &format!("http://127.0.0.1:{port}/"),
        Kind::Create,
    )
    .await
    .expect_err("refused");
    // Never connected, so even a create may go again.
    assert!(
        matches!(err, Error::Unreachable { attempts: 3, .. }),
        "{err:?}"
    );
    assert!(
        notices.lock().expect("notices")[0].starts_with("could not connect to 127.0.0.1 test"),
        "{notices:?}"
    );
}
