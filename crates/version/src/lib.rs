//! relkit-version
