//! Integration tests of relkit-forge's backends on real repositories.

mod local;
