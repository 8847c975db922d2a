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
        timeout: Duration::from_secs(20),
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
