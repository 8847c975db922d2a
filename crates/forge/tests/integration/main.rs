//! Integration tests of relkit-forge's backends on real repositories.

mod contract;
mod gitea;
mod github;
mod local;
