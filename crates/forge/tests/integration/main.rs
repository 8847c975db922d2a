//! Integration tests of relkit-forge's backends on real repositories.

mod gitea;
mod local;
