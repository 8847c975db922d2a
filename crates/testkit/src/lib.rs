//! relkit-testkit
