//! Structured logs on standard error: readable text by default, one JSON object per line with
//! `NASKAH_LOG_FORMAT=json`. Standard output is kept for what a command reports.

use std::io::IsTerminal;

use tracing_subscriber::EnvFilter;

/// How log lines are written: for a person at a terminal, or one JSON object a line for a
/// collector.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LogFormat {
    Text,
    Json,
}

/// Installs the process's log subscriber. `filter` was checked when the configuration loaded.
pub fn init(filter: &str, format: LogFormat) {
    let filter = EnvFilter::try_new(filter).unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .with_target(true);
    // A second call (tests that run several commands in one process) keeps the first subscriber.
    let _ = match format {
        LogFormat::Text => builder.try_init(),
        LogFormat::Json => builder.json().flatten_event(true).try_init(),
    };
}
