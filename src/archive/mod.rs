//! The archive: every PDF a letter ever had (`letter_revisions`: generated, numbered, each
//! signature, each LTV update), stored with its SHA-256 and size in the transaction that made
//! it, never changed or removed (the database refuses both), and each recorded with that
//! SHA-256 in the hash-chained audit log. `integrity.rs` checks all of it again.

pub mod check;
pub mod export;
pub mod integrity;
pub mod job;
pub mod lookup;
