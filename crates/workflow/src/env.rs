use std::collections::BTreeMap;
use std::ffi::OsString;
use std::fmt;

/// The process environment, read once by `main` and handed down.
///
/// Taking it as a value (rather than calling `std::env::var`) lets every behaviour of this crate
/// be tested with any environment, in parallel, without touching the real one.
///
/// An empty variable counts as unset: runners pass an input nobody gave as an empty string.
///
/// `Debug` lists names only, because the environment holds tokens.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Env(BTreeMap<String, String>);

impl Env {
    /// An empty environment: a terminal with nothing set.
    pub fn new() -> Self {
        Self::default()
    }

    /// Builds the map from `std::env::vars_os()`.
    ///
    /// Variables whose name or value is not UTF-8 are left out: every variable relkit reads is
    /// UTF-8, and `std::env::vars()` would panic on the others.
    pub fn from_os_vars(vars: impl IntoIterator<Item = (OsString, OsString)>) -> Self {
        vars.into_iter()
            .filter_map(|(name, value)| Some((name.into_string().ok()?, value.into_string().ok()?)))
            .collect()
    }

    /// The value of `name`, unless it is unset or empty.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .get(name)
            .map(String::as_str)
            .filter(|value| !value.is_empty())
    }

    /// Whether `name` is set to `true` (in any case), the way runners set their markers.
    pub fn is_true(&self, name: &str) -> bool {
        self.get(name)
            .is_some_and(|value| value.eq_ignore_ascii_case("true"))
    }

    /// Every variable, empty ones included (compose tells `${A-x}` from `${A:-x}` by them).
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.0.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }

    /// Sets `name`, replacing any previous value.
    pub fn set(&mut self, name: impl Into<String>, value: impl Into<String>) -> &mut Self {
        self.0.insert(name.into(), value.into());
        self
    }

    /// Unsets `name`.
    pub fn remove(&mut self, name: &str) -> &mut Self {
        self.0.remove(name);
        self
    }
}

impl<K: Into<String>, V: Into<String>> FromIterator<(K, V)> for Env {
    fn from_iter<I: IntoIterator<Item = (K, V)>>(vars: I) -> Self {
        Self(
            vars.into_iter()
                .map(|(name, value)| (name.into(), value.into()))
                .collect(),
        )
    }
}

impl fmt::Debug for Env {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Env")
            .field(&self.0.keys().collect::<Vec<_>>())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_empty_variable_counts_as_unset() {
        let env = Env::from_iter([("GITHUB_OUTPUT", "")]);
        assert_eq!(env.get("GITHUB_OUTPUT"), None);
    }

    #[test]
    fn debug_shows_names_but_never_values() {
        let env = Env::from_iter([("GITHUB_TOKEN", "ghp_secret")]);
        let debug = format!("{env:?}");
        assert!(debug.contains("GITHUB_TOKEN"));
        assert!(!debug.contains("ghp_secret"));
    }

    #[cfg(unix)]
    #[test]
    fn variables_that_are_not_utf8_are_left_out() {
        use std::os::unix::ffi::OsStringExt;

        let env = Env::from_os_vars([
            (OsString::from("GOOD"), OsString::from("yes")),
            (OsString::from("BAD"), OsString::from_vec(vec![0xff])),
        ]);
        assert_eq!(env.get("GOOD"), Some("yes"));
        assert_eq!(env.get("BAD"), None);
    }
}
