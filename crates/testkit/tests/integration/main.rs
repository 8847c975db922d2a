//! Integration tests of the forge emulator, driven over HTTP with reqwest as relkit's clients will
//! drive it, and (ignored unless Prism is installed) through Prism against the official contracts.

mod common;
mod faults;
mod gitea;
mod github;
mod prism;
