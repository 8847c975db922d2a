//! Credentials and the registry auth handshake.
//!
//! A registry answers 401 with a `WWW-Authenticate` challenge: `Basic realm=…` means send the
//! credentials with every request; `Bearer realm=…,service=…` means ask the realm (the token
//! server) for a token covering the repository scope and send that. Tokens are cached per scope
//! until shortly before they expire. Credentials come from the caller or from the docker config
//! (`config.json`: `auths`, `credHelpers`, `credsStore`), located through the injected
//! environment (`DOCKER_CONFIG`, else `HOME/.docker`).
//!
//! <https://distribution.github.io/distribution/spec/auth/token/> and
//! <https://distribution.github.io/distribution/spec/auth/oauth/> (identity tokens).

use std::collections::HashMap;
use std::fmt;
use std::path::PathBuf;
use std::time::{Duration, Instant};

/// A secret that prints as `***` in `Debug` and `Display`.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(secret: impl Into<String>) -> Self {
        Self(secret.into())
    }

    /// The secret itself, for a header or for masking.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

/// What a client presents to a registry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Credential {
    /// A user name and password (or personal access token): sent as Basic auth to a Basic
    /// registry, or to the token server of a Bearer one.
    Basic { username: String, password: Secret },
    /// A docker identity token (`identitytoken` in config.json, or a helper's `<token>` user):
    /// an OAuth2 refresh token exchanged at the token server.
    IdentityToken(Secret),
}

impl Credential {
    /// Who the credential speaks for, for messages; never the secret.
    pub fn who(&self) -> String {
        match self {
            Self::Basic { username, .. } => format!("user {username:?}"),
            Self::IdentityToken(_) => "an identity token".to_owned(),
        }
    }
}

/// Where a credential came from, for messages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    Given,
    DockerConfig(PathBuf),
}

/// How the client finds credentials for a registry: first the ones given for it, then the docker
/// config file, if any.
#[derive(Debug, Clone, Default)]
pub struct Credentials {
    given: HashMap<String, Credential>,
    docker_config: Option<PathBuf>,
}

impl Credentials {
    /// No credentials: every registry is reached anonymously.
    pub fn none() -> Self {
        Self::default()
    }

    /// Credentials from the docker config that `env` points at: `$DOCKER_CONFIG/config.json`,
    /// else `$HOME/.docker/config.json`. A missing file means none.
    pub fn from_env(env: &HashMap<String, String>) -> Self {
        let dir = env
            .get("DOCKER_CONFIG")
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
            .or_else(|| {
                env.get("HOME")
                    .filter(|v| !v.is_empty())
                    .map(|home| PathBuf::from(home).join(".docker"))
            });
        Self {
            given: HashMap::new(),
            docker_config: dir.map(|d| d.join("config.json")),
        }
    }

    /// Credentials from this docker config file.
    pub fn from_docker_config(path: impl Into<PathBuf>) -> Self {
        Self {
            given: HashMap::new(),
            docker_config: Some(path.into()),
        }
    }

    /// Uses `credential` for `registry` (as written in references: `docker.io`, `ghcr.io`,
    /// `127.0.0.1:5000`), before anything the docker config says.
    pub fn with(mut self, registry: &str, credential: Credential) -> Self {
        self.given.insert(registry.to_owned(), credential);
        self
    }

    /// The credential for `registry`, if any. May run a credential helper, so call it off the
    /// async threads.
    pub(crate) fn lookup(
        &self,
        registry: &str,
    ) -> Result<Option<(Credential, Source)>, LookupError> {
        if let Some(credential) = self.given.get(registry) {
            return Ok(Some((credential.clone(), Source::Given)));
        }
        let Some(path) = &self.docker_config else {
            return Ok(None);
        };
        let file = match std::fs::File::open(path) {
            Ok(file) => file,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => {
                return Err(LookupError {
                    path: path.clone(),
                    message: format!("cannot read it: {e}"),
                });
            }
        };
        // Docker keys Docker Hub by its legacy v1 address, everything else by host[:port].
        let server = if registry == crate::reference::DOCKER_HUB {
            "https://index.docker.io/v1/"
        } else {
            registry
        };
        match docker_credential::get_credential_from_reader(std::io::BufReader::new(file), server) {
            Ok(docker_credential::DockerCredential::UsernamePassword(username, password)) => {
                Ok(Some((
                    Credential::Basic {
                        username,
                        password: Secret::new(password),
                    },
                    Source::DockerConfig(path.clone()),
                )))
            }
            Ok(docker_credential::DockerCredential::IdentityToken(token)) => Ok(Some((
                Credential::IdentityToken(Secret::new(token)),
                Source::DockerConfig(path.clone()),
            ))),
            Err(docker_credential::CredentialRetrievalError::NoCredentialConfigured) => Ok(None),
            Err(e) => Err(LookupError {
                path: path.clone(),
                message: describe(&e),
            }),
        }
    }
}

/// The docker config could not give a credential.
#[derive(Debug, Clone)]
pub(crate) struct LookupError {
    pub path: PathBuf,
    pub message: String,
}

/// docker_credential's message, without a failed helper's output (which may hold a secret).
fn describe(e: &docker_credential::CredentialRetrievalError) -> String {
    use docker_credential::CredentialRetrievalError as E;
    match e {
        E::HelperFailure { helper, .. } => format!("the credential helper `{helper}` failed"),
        E::HelperCommunicationError => {
            "could not run the credential helper (is `docker-credential-…` on PATH?)".to_owned()
        }
        E::ConfigReadError => "it is not valid JSON of the docker config format".to_owned(),
        other => other.to_string().to_lowercase(),
    }
}

/// What a registry asked for in its `WWW-Authenticate` header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Challenge {
    Basic,
    Bearer {
        realm: String,
        service: Option<String>,
    },
}

impl Challenge {
    /// The first challenge relkit can answer in a `WWW-Authenticate` value (Bearer before Basic).
    pub fn parse(header: &str) -> Option<Self> {
        let mut basic = false;
        for challenge in http_auth::ChallengeParser::new(header).flatten() {
            if challenge.scheme.eq_ignore_ascii_case("bearer") {
                let param = |name: &str| {
                    challenge
                        .params
                        .iter()
                        .find(|(k, _)| k.eq_ignore_ascii_case(name))
                        .map(|(_, v)| v.to_unescaped())
                };
                if let Some(realm) = param("realm") {
                    return Some(Self::Bearer {
                        realm,
                        service: param("service"),
                    });
                }
            } else if challenge.scheme.eq_ignore_ascii_case("basic") {
                basic = true;
            }
        }
        basic.then_some(Self::Basic)
    }
}

/// A bearer token for one scope, until it expires.
#[derive(Debug, Clone)]
pub(crate) struct Token {
    pub secret: Secret,
    pub until: Instant,
}

impl Token {
    pub fn new(secret: Secret, expires_in: Option<u64>) -> Self {
        // The spec's default lifetime is 60 s; keep a margin so a token never expires in flight.
        let lifetime = Duration::from_secs(expires_in.unwrap_or(60).max(60));
        let margin = Duration::from_secs(15);
        Self {
            secret,
            until: Instant::now() + lifetime - margin,
        }
    }

    pub fn fresh(&self) -> bool {
        Instant::now() < self.until
    }
}

/// The token server's answer.
#[derive(Debug, serde::Deserialize)]
pub(crate) struct TokenResponse {
    #[serde(default)]
    pub token: Option<String>,
    #[serde(default)]
    pub access_token: Option<String>,
    #[serde(default)]
    pub expires_in: Option<u64>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bearer_challenge_gives_realm_and_service() {
        let c = Challenge::parse(
            r#"Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/nginx:pull""#,
        );
        assert_eq!(
            c,
            Some(Challenge::Bearer {
                realm: "https://auth.docker.io/token".to_owned(),
                service: Some("registry.docker.io".to_owned())
            })
        );
    }

    #[test]
    fn a_basic_challenge_is_basic() {
        assert_eq!(
            Challenge::parse(r#"Basic realm="Registry Realm""#),
            Some(Challenge::Basic)
        );
        assert_eq!(Challenge::parse("Negotiate"), None);
    }

    #[test]
    fn secrets_never_print() {
        let c = Credential::Basic {
            username: "ci".to_owned(),
            password: Secret::new("hunter2"),
        };
        assert!(!format!("{c:?}").contains("hunter2"));
        assert!(!format!("{}", Secret::new("hunter2")).contains("hunter2"));
    }

    #[test]
    fn the_docker_config_comes_from_docker_config_then_home() {
        let env = HashMap::from([
            ("HOME".to_owned(), "/home/u".to_owned()),
            ("DOCKER_CONFIG".to_owned(), "/etc/dc".to_owned()),
        ]);
        assert_eq!(
            Credentials::from_env(&env).docker_config,
            Some(PathBuf::from("/etc/dc/config.json"))
        );
        let env = HashMap::from([("HOME".to_owned(), "/home/u".to_owned())]);
        assert_eq!(
            Credentials::from_env(&env).docker_config,
            Some(PathBuf::from("/home/u/.docker/config.json"))
        );
    }
}
