//! The `relkit` binary end to end: run as a person runs it in a terminal, as a workflow step runs
//! it on GitHub and Gitea runners, and as the composite actions call it.

mod act;
mod actions;
mod changelog;
mod create_release;
mod install;
mod pin_images;
mod promote;
mod scenarios;
mod support;
