//! The release version rules, through the public API: one module per rule set, property tests in
//! `properties`, and a cross-check of tag prefixes against git itself in `git_refs`.

mod bump;
mod floating;
mod git_refs;
mod oci;
mod prerelease;
mod promotion;
mod properties;
mod stream;

use relkit_version::Version;

/// A version written in a test; only valid ones are.
fn v(s: &str) -> Version {
    Version::parse(s).expect("tests write valid versions")
}

fn versions(list: &[&str]) -> Vec<Version> {
    list.iter().map(|s| v(s)).collect()
}
