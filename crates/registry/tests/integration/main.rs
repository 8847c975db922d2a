//! relkit-registry against a real registry (Debian's `docker-registry`, CNCF distribution 2.8) on
//! loopback, in its three auth variants, plus the reference grammar.

mod common;
mod failures;
mod redirects;
mod reference;
mod resolve;
mod retag;
