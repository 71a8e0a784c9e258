//! The command line: one subcommand per job. Parsing is clap's; each subcommand is a function
//! that returns what went wrong, and [`main`] turns that into one line on standard error and an
//! exit code: 2 for bad configuration or usage, 1 for a failure while working.

use std::io::Write;
use std::net::TcpListener;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::config::{Config, ConfigError, Overrides};
use crate::db::{Db, DbError, migrate};
use crate::{demo, telemetry, web};

#[derive(Debug, Parser)]
#[command(
    name = "naskah",
    version,
    about = "naskah: official letters of a Dinas Kominfo, generated, numbered, signed and archived"
)]
pub struct Cli {
    /// A TOML configuration file (also NASKAH_CONFIG).
    #[arg(long, global = true, value_name = "FILE")]
    config: Option<PathBuf>,

    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the web service.
    Serve {
        /// Address and port to listen on (also NASKAH_BIND; default 127.0.0.1:8080).
        #[arg(long, value_name = "ADDR")]
        bind: Option<String>,
        /// Create the demo offices and accounts first, when they are missing.
        #[arg(long)]
        demo: bool,
    },
    /// Apply the database migrations that are pending.
    Migrate,
    /// Create the demo data (offices of the five seed SOPs and their officials).
    Demo,
}

/// Why a command did not succeed.
#[derive(Debug, thiserror::Error)]
pub enum Failure {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error("{0}")]
    Work(String),
}

impl Failure {
    fn exit_code(&self) -> ExitCode {
        match self {
            Failure::Config(_) => ExitCode::from(2),
            Failure::Work(_) => ExitCode::from(1),
        }
    }
}

impl From<DbError> for Failure {
    fn from(error: DbError) -> Self {
        Failure::Work(error.to_string())
    }
}

impl From<diesel::result::Error> for Failure {
    fn from(error: diesel::result::Error) -> Self {
        Failure::Work(error.to_string())
    }
}

/// Parses the command line, runs the command, and reports a failure in one line.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => {
            eprintln!("naskah: {failure}");
            failure.exit_code()
        }
    }
}

fn run(cli: Cli) -> Result<(), Failure> {
    let mut overrides = Overrides {
        config_file: cli.config,
        bind: None,
    };
    match cli.command {
        Command::Serve { bind, demo } => {
            overrides.bind = bind;
            serve(&Config::load(&overrides)?, demo)
        }
        Command::Migrate => {
            let config = Config::load(&overrides)?;
            let applied = open_migrated(&config)?.1;
            if applied.is_empty() {
                println!("database is up to date");
            } else {
                println!(
                    "applied {} migration(s): {}",
                    applied.len(),
                    applied.join(", ")
                );
            }
            Ok(())
        }
        Command::Demo => {
            let config = Config::load(&overrides)?;
            let (db, _) = open_migrated(&config)?;
            let summary = demo::create(&mut *db.get()?)?;
            println!(
                "demo data: {} office(s) and {} person(s) created",
                summary.offices_created, summary.people_created
            );
            Ok(())
        }
    }
}

/// Starts logging, opens the database and brings its schema up to date. An unreachable
/// database is a configuration error naming the setting the URL came from.
fn open_migrated(config: &Config) -> Result<(Db, Vec<String>), Failure> {
    telemetry::init(&config.log_filter, config.log_format);
    config.prepare_directories()?;
    let db = Db::open(&config.database, config.db_pool_size).map_err(|error| match error {
        DbError::Connect { .. } => {
            Failure::Config(ConfigError::new(&config.database_origin, error.to_string()))
        }
        other => Failure::from(other),
    })?;
    let applied = migrate::run_pending(&mut *db.get()?)?;
    tracing::info!(
        backend = config.database.backend(),
        applied = applied.len(),
        "database schema up to date"
    );
    Ok((db, applied))
}

fn serve(config: &Config, with_demo: bool) -> Result<(), Failure> {
    let listener = TcpListener::bind(config.bind).map_err(|e| {
        ConfigError::new(
            &config.bind_origin,
            format!("cannot listen on {}: {e}", config.bind),
        )
    })?;
    let (db, _) = open_migrated(config)?;
    if with_demo {
        let summary = demo::create(&mut *db.get()?)?;
        tracing::info!(
            offices = summary.offices_created,
            people = summary.people_created,
            "demo data ready"
        );
    }
    actix_web::rt::System::new().block_on(async {
        let (server, addr) = web::start(listener, db)
            .map_err(|e| Failure::Work(format!("cannot start the web server: {e}")))?;
        // The one line on standard output: tests and scripts read the port from it.
        let mut stdout = std::io::stdout();
        let _ = writeln!(stdout, "naskah listening on http://{addr}");
        let _ = stdout.flush();
        tracing::info!(%addr, "serving");
        server
            .await
            .map_err(|e| Failure::Work(format!("the web server failed: {e}")))?;
        tracing::info!("stopped");
        Ok(())
    })
}
