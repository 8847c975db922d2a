//! relkit-workflow
