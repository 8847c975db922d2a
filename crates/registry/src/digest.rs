//! Content digests as the OCI image spec defines them (`algorithm:encoded`), limited to the two
//! registered algorithms a registry computes: `sha256` and `sha512`.
//!
//! <https://github.com/opencontainers/image-spec/blob/main/descriptor.md#digests>

use std::fmt;
use std::str::FromStr;

use sha2::{Digest as _, Sha256, Sha512};
use thiserror::Error;

/// A validated digest such as `sha256:` followed by 64 lower-case hex digits.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Digest(String);

/// A string that is not a digest.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("{value:?} is not a valid digest: {problem}")]
pub struct DigestError {
    pub value: String,
    pub problem: DigestProblem,
}

/// What is wrong with a digest; also the reason inside a [`crate::ReferenceError`].
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum DigestProblem {
    #[error("it has no algorithm; a digest is `sha256:` followed by 64 hex digits")]
    NoAlgorithm,

    #[error(
        "the algorithm {algorithm:?} is malformed; it must be lower-case letters and digits \
         (`sha256`)"
    )]
    BadAlgorithm { algorithm: String },

    #[error("the algorithm {algorithm:?} is not supported; use sha256 (or sha512)")]
    Unsupported { algorithm: String },

    #[error("nothing follows `{algorithm}:`; a {algorithm} digest has {expected} hex digits")]
    Empty { algorithm: String, expected: usize },

    #[error("a {algorithm} digest has {expected} hex digits, this one has {found}")]
    Length {
        algorithm: String,
        expected: usize,
        found: usize,
    },

    #[error("the hex part must be lower-case hex digits (0-9, a-f)")]
    NotHex,
}

impl Digest {
    /// The SHA-256 digest of `bytes`.
    pub fn sha256(bytes: &[u8]) -> Self {
        Self(format!("sha256:{}", hex::encode(Sha256::digest(bytes))))
    }

    /// The algorithm (`sha256`).
    pub fn algorithm(&self) -> &str {
        self.0.split_once(':').map_or("", |(a, _)| a)
    }

    /// The hex part.
    pub fn hex(&self) -> &str {
        self.0.split_once(':').map_or("", |(_, h)| h)
    }

    /// The whole digest, `sha256:…`.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Whether `bytes` hash to this digest under its own algorithm.
    pub fn matches(&self, bytes: &[u8]) -> bool {
        self.of(bytes) == *self
    }

    /// `bytes` hashed with this digest's algorithm.
    pub fn of(&self, bytes: &[u8]) -> Self {
        match self.algorithm() {
            "sha512" => Self(format!("sha512:{}", hex::encode(Sha512::digest(bytes)))),
            _ => Self::sha256(bytes),
        }
    }

    pub(crate) fn check(value: &str) -> Result<Self, DigestProblem> {
        let Some((algorithm, encoded)) = value.split_once(':') else {
            return Err(DigestProblem::NoAlgorithm);
        };
        let expected = match algorithm {
            "sha256" => 64,
            "sha512" => 128,
            _ if is_algorithm(algorithm) => {
                return Err(DigestProblem::Unsupported {
                    algorithm: algorithm.to_owned(),
                });
            }
            _ => {
                return Err(DigestProblem::BadAlgorithm {
                    algorithm: algorithm.to_owned(),
                });
            }
        };
        if encoded.is_empty() {
            return Err(DigestProblem::Empty {
                algorithm: algorithm.to_owned(),
                expected,
            });
        }
        if !encoded
            .bytes()
            .all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
        {
            return Err(DigestProblem::NotHex);
        }
        if encoded.len() != expected {
            return Err(DigestProblem::Length {
                algorithm: algorithm.to_owned(),
                expected,
                found: encoded.len(),
            });
        }
        Ok(Self(value.to_owned()))
    }
}

/// `[a-z0-9]+([+._-][a-z0-9]+)*`, the OCI algorithm grammar.
fn is_algorithm(text: &str) -> bool {
    !text.is_empty()
        && text.split(['+', '.', '_', '-']).all(|part| {
            !part.is_empty()
                && part
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        })
}

impl FromStr for Digest {
    type Err = DigestError;

    fn from_str(value: &str) -> Result<Self, Self::Err> {
        Self::check(value).map_err(|problem| DigestError {
            value: value.to_owned(),
            problem,
        })
    }
}

/// As its text, `sha256:…`; read back through [`Digest::from_str`], so a manifest with a malformed
/// digest is refused with the rule it breaks.
impl serde::Serialize for Digest {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.0)
    }
}

impl<'de> serde::Deserialize<'de> for Digest {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

impl fmt::Display for Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Digest({})", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sha256_of_empty_input_is_the_well_known_one() {
        assert_eq!(
            Digest::sha256(b"").as_str(),
            "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
    }

    #[test]
    fn a_digest_checks_bytes_with_its_own_algorithm() {
        let d: Digest = format!("sha512:{}", hex::encode(Sha512::digest(b"x")))
            .parse()
            .expect("valid");
        assert!(d.matches(b"x"));
        assert!(!d.matches(b"y"));
    }

    #[test]
    fn upper_case_hex_is_refused() {
        let err = "sha256:E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855"
            .parse::<Digest>()
            .expect_err("upper case");
        assert_eq!(err.problem, DigestProblem::NotHex);
    }
}
