//! naskah's integration tests: one binary, so that the suite links once. Database tests run on
//! SQLite and on PostgreSQL, each on a database of its own.

// A test that cannot go on should stop with the reason; `expect` is how it says so.
#![allow(clippy::expect_used, clippy::unwrap_used)]

mod access;
mod admin;
mod archive;
mod browser;
mod classification;
mod cli;
mod common;
mod database;
mod interop;
mod layers;
mod letters;
mod notify;
mod numbering;
mod openapi;
mod probe;
mod reports;
mod schedule;
mod serve;
mod session;
mod signing;
mod sop;
mod tte;
mod verify;
mod workflow;
