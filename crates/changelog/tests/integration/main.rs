//! Integration tests of relkit-changelog on real git repositories built by relkit-testkit.

mod commands;
mod compare;
mod errors;
mod notes;

use std::path::Path;

use relkit_changelog::{ConfigSource, Range, Request};
use relkit_version::Stream;

/// A request for the repository at `path`, on stream `v`, with relkit's built-in configuration.
pub fn request(path: &Path, range: Range) -> Request {
    Request {
        repo: path.to_path_buf(),
        stream: Stream::new("v").expect("valid prefix"),
        range,
        config: ConfigSource::Discover,
        ..Request::default()
    }
}

pub fn head() -> String {
    "HEAD".to_owned()
}
