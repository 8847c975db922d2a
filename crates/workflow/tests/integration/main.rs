//! The crate's behaviour as its callers and the runner see it: what lands in the log, in the
//! `GITHUB_OUTPUT` file and in the step summary, read back the way the runner reads them.

mod common;

mod escaping;
mod outputs;
mod platform;
mod runner;
mod summary;
mod terminal;
mod untrusted;
