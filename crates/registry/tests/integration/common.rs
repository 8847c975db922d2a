use std::io::{Read, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use relkit_registry::{Client, Credential, Credentials, Options, Policy, Reference, Secret};
use relkit_testkit::registry::{Auth, Registry};

pub const USER: &str = "ci-bot";
pub const PASSWORD: &str = "pa55-Wd-never-printed";

/// The three registries every protocol test runs against.
pub fn variants() -> Vec<Auth> {
    vec![
        Auth::Open,
        Auth::basic(USER, PASSWORD),
        Auth::token(USER, PASSWORD),
    ]
}

/// Retries that finish in well under a second.
pub fn quick() -> Policy {
    Policy {
        attempts: 3,
        backoff: Duration::from_millis(20),
        wait_budget: Duration::from_secs(10),
        read_timeout: Duration::from_secs(20),
        connect_timeout: Duration::from_secs(2),
    }
}

/// A client holding the registry's own credentials (none for an open one).
pub fn client(registry: &Registry) -> Client {
    let credentials = match registry.auth().credentials() {
        Some((user, password)) => Credentials::none().with(
            registry.host(),
            Credential::Basic {
                username: user.to_owned(),
                password: Secret::new(password),
            },
        ),
        None => Credentials::none(),
    };
    client_with(credentials)
}

pub fn client_with(credentials: Credentials) -> Client {
    Client::new(Options {
        policy: quick(),
        credentials,
        ..Options::default()
    })
    .expect("a client")
}

/// `host/rest` as a reference.
pub fn reference(registry: &Registry, rest: &str) -> Reference {
    format!("{}/{rest}", registry.host())
        .parse()
        .expect("a valid reference")
}

/// The name of an auth variant, for assertion messages.
pub fn name(auth: &Auth) -> &'static str {
    match auth {
        Auth::Open => "open",
        Auth::Basic { .. } => "basic",
        Auth::Token { .. } => "token",
    }
}

/// A loopback server whose answer to the n-th request (its request line and headers given)
/// `answer` writes; returns its address and the request lines it saw.
pub fn serve(
    answer: impl Fn(usize, &str) -> String + Send + 'static,
) -> (String, Arc<Mutex<Vec<String>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let host = listener.local_addr().expect("address").to_string();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = seen.clone();
    std::thread::spawn(move || {
        for (n, stream) in listener.incoming().enumerate() {
            let Ok(mut stream) = stream else { break };
            let mut buf = [0u8; 8192];
            let read = stream.read(&mut buf).unwrap_or(0);
            let request = String::from_utf8_lossy(&buf[..read]).into_owned();
            let line = request.lines().next().unwrap_or_default().to_owned();
            let reply = answer(n, &request);
            log.lock().expect("log").push(line);
            let _ = stream.write_all(reply.as_bytes());
        }
    });
    (host, seen)
}

pub fn reply(status: &str, headers: &[&str], body: &str) -> String {
    let mut text = format!("HTTP/1.1 {status}\r\n");
    for h in headers {
        text.push_str(h);
        text.push_str("\r\n");
    }
    text.push_str(&format!(
        "Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    ));
    text
}
