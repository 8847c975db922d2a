//! relkit-changelog
