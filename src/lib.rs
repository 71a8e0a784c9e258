//! naskah: the e-office service of a Dinas Kominfo. A hosting request from a regional agency
//! runs through the office's SOP as a chain of official letters, each generated as a PDF,
//! numbered by the secretariat, signed by the officials and archived. See ARCHITECTURE.md.

pub mod accounts;
pub mod admin;
pub mod archive;
pub mod attempts;
pub mod audit;
pub mod calendar;
pub mod classification;
pub mod cli;
pub mod config;
pub mod db;
pub mod demo;
pub mod digest;
pub mod handover;
pub mod hosting;
pub mod ids;
pub mod jobs;
pub mod letters;
pub mod notify;
pub mod numbering;
pub mod office;
pub mod people;
pub mod reports;
pub mod schedule;
pub mod signing;
pub mod sop;
pub mod telemetry;
pub mod tokens;
pub mod tte;
pub mod verify;
pub mod web;
pub mod workflow;
pub mod xml;
