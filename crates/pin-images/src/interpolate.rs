//! Compose's variable interpolation (<https://docs.docker.com/reference/compose-file/interpolation/>),
//! for image values: `$VAR`, `${VAR}`, `${VAR:-default}`, `${VAR-default}`, `${VAR:?message}`,
//! `${VAR?message}`, `${VAR:+replacement}`, `${VAR+replacement}`, nested defaults
//! (`${A:-${B:-x}}`) and `$$` for a literal `$`.
//!
//! Written here because no maintained crate implements compose's rules (shell-expansion crates
//! differ on `$$`, on `:?` and on what an unset variable becomes); the grammar is small.

use std::collections::HashMap;

/// Why a value could not be expanded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Unresolved {
    /// `variable` is not set and has no default.
    Unset { variable: String },
    /// `${variable:?message}` with the variable unset (or empty).
    Required { variable: String, message: String },
    /// A `${` without its `}`, or a name that is not a variable name.
    Malformed { at: usize },
}

impl std::fmt::Display for Unresolved {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Unset { variable } => {
                write!(f, "the variable {variable} is not set and has no default")
            }
            Self::Required { variable, message } if message.is_empty() => {
                write!(f, "the variable {variable} is required and not set")
            }
            Self::Required { variable, message } => {
                write!(
                    f,
                    "the variable {variable} is required and not set: {message}"
                )
            }
            Self::Malformed { at } => write!(
                f,
                "the variable reference at character {} is malformed (`${{NAME}}`, `${{NAME:-default}}`; `$$` is a literal `$`)",
                at + 1
            ),
        }
    }
}

/// Whether `text` refers to any variable (a `$` that is not part of `$$`).
pub fn has_variables(text: &str) -> bool {
    let bytes = text.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'$' {
            if bytes.get(i + 1) == Some(&b'$') {
                i += 2;
                continue;
            }
            return true;
        }
        i += 1;
    }
    false
}

/// `text` with its variables replaced from `env`.
pub fn expand(text: &str, env: &HashMap<String, String>) -> Result<String, Unresolved> {
    let (out, end) = expand_until(text, 0, env, false)?;
    debug_assert_eq!(end, text.len());
    Ok(out)
}

/// Expands from `start` to the end of `text`, or (inside a `${…}`) to the unmatched `}`; returns
/// the text and where it stopped.
fn expand_until(
    text: &str,
    start: usize,
    env: &HashMap<String, String>,
    nested: bool,
) -> Result<(String, usize), Unresolved> {
    let bytes = text.as_bytes();
    let mut out = String::new();
    let mut i = start;
    while i < bytes.len() {
        match bytes[i] {
            b'}' if nested => return Ok((out, i)),
            b'$' => match bytes.get(i + 1) {
                Some(b'$') => {
                    out.push('$');
                    i += 2;
                }
                Some(b'{') => {
                    let (value, next) = braced(text, i, env)?;
                    out.push_str(&value);
                    i = next;
                }
                Some(c) if c.is_ascii_alphabetic() || *c == b'_' => {
                    let name_end = name_end(bytes, i + 1);
                    let name = &text[i + 1..name_end];
                    out.push_str(lookup(env, name)?);
                    i = name_end;
                }
                _ => return Err(Unresolved::Malformed { at: i }),
            },
            _ => {
                let c = text[i..].chars().next().unwrap_or_default();
                out.push(c);
                i += c.len_utf8();
            }
        }
    }
    if nested {
        return Err(Unresolved::Malformed { at: start });
    }
    Ok((out, i))
}

fn name_end(bytes: &[u8], from: usize) -> usize {
    let mut end = from;
    while end < bytes.len() && (bytes[end].is_ascii_alphanumeric() || bytes[end] == b'_') {
        end += 1;
    }
    end
}

fn lookup<'a>(env: &'a HashMap<String, String>, name: &str) -> Result<&'a str, Unresolved> {
    env.get(name)
        .map(String::as_str)
        .ok_or_else(|| Unresolved::Unset {
            variable: name.to_owned(),
        })
}

/// `${…}` starting at `dollar`: its value and the index after its `}`.
fn braced(
    text: &str,
    dollar: usize,
    env: &HashMap<String, String>,
) -> Result<(String, usize), Unresolved> {
    let bytes = text.as_bytes();
    let start = dollar + 2;
    let end = name_end(bytes, start);
    let name = &text[start..end];
    if name.is_empty() || name.as_bytes()[0].is_ascii_digit() {
        return Err(Unresolved::Malformed { at: dollar });
    }
    let value = env.get(name).map(String::as_str);
    if bytes.get(end) == Some(&b'}') {
        return Ok((lookup(env, name)?.to_owned(), end + 1));
    }
    let (colon, op_at) = if bytes.get(end) == Some(&b':') {
        (true, end + 1)
    } else {
        (false, end)
    };
    let op = *bytes
        .get(op_at)
        .ok_or(Unresolved::Malformed { at: dollar })?;
    if !matches!(op, b'-' | b'?' | b'+') {
        return Err(Unresolved::Malformed { at: dollar });
    }
    let (word, close) = expand_until(text, op_at + 1, env, true)?;
    // `:` treats an empty value as unset.
    let set = value.filter(|v| !colon || !v.is_empty());
    let result = match (op, set) {
        (b'-', Some(v)) => v.to_owned(),
        (b'-', None) => word,
        (b'+', Some(_)) => word,
        (b'+', None) => String::new(),
        (b'?', Some(v)) => v.to_owned(),
        _ => {
            return Err(Unresolved::Required {
                variable: name.to_owned(),
                message: word,
            });
        }
    };
    Ok((result, close + 1))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env() -> HashMap<String, String> {
        [
            ("TAG", "2.1.0"),
            ("EMPTY", ""),
            ("REGISTRY", "ghcr.io/acme"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect()
    }

    #[test]
    fn compose_forms_expand_as_compose_does() {
        let cases = [
            ("nginx:1.25", "nginx:1.25"),
            ("app:$TAG", "app:2.1.0"),
            ("app:${TAG}", "app:2.1.0"),
            ("${REGISTRY}/api:${TAG}", "ghcr.io/acme/api:2.1.0"),
            ("app:${MISSING:-1.2}", "app:1.2"),
            ("app:${EMPTY:-1.2}", "app:1.2"),
            ("app:${EMPTY-1.2}", "app:"),
            ("app:${MISSING-1.2}", "app:1.2"),
            ("app:${MISSING:-${TAG}}", "app:2.1.0"),
            ("app:${MISSING:-${ALSO:-x}}", "app:x"),
            ("app:${TAG:+set}", "app:set"),
            ("app:${MISSING:+set}", "app:"),
            ("app:${TAG:?need a tag}", "app:2.1.0"),
            ("price$$", "price$"),
        ];
        for (input, want) in cases {
            assert_eq!(expand(input, &env()).as_deref(), Ok(want), "{input}");
        }
    }

    #[test]
    fn what_cannot_be_expanded_is_named() {
        assert_eq!(
            expand("app:${NOPE}", &env()),
            Err(Unresolved::Unset {
                variable: "NOPE".into()
            })
        );
        assert_eq!(
            expand("app:${NOPE:?set NOPE to the release}", &env()),
            Err(Unresolved::Required {
                variable: "NOPE".into(),
                message: "set NOPE to the release".into()
            })
        );
        assert_eq!(
            expand("app:${TAG", &env()),
            Err(Unresolved::Malformed { at: 4 })
        );
        assert_eq!(
            expand("app:${1X}", &env()),
            Err(Unresolved::Malformed { at: 4 })
        );
        assert!(has_variables("a:${B}"));
        assert!(!has_variables("a$$b"));
    }
}
