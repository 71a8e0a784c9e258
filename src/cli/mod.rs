//! The command line: one subcommand per job. Parsing is clap's; each subcommand is a function
//! that returns what went wrong, and [`main`] turns that into one line on standard error and an
//! exit code: 2 for bad configuration or usage, 1 for a failure while working.

mod archive;
pub mod number_bench;
mod office;
mod registers;
mod serve;
mod signing;
mod templates;
mod verify;

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::config::{Config, ConfigError, Overrides};
use crate::db::{Db, DbError, migrate};
use crate::letters;
use crate::{demo, telemetry};
use registers::{KkaCommand, NumberCommand, kka_command, number_command, preview};
use templates::{LetterCommand, SopCommand, letter_command, sop_command};

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
    /// Offices: set one up with its SOP and first administrator; install a new SOP version.
    Office {
        #[command(subcommand)]
        command: office::OfficeCommand,
    },
    /// Create the demo data (offices of the five seed SOPs and their officials).
    Demo,
    /// Check and show SOP definitions.
    Sop {
        #[command(subcommand)]
        command: SopCommand,
    },
    /// Letter kinds and rendering, without a database (for template authors).
    Letter {
        #[command(subcommand)]
        command: LetterCommand,
    },
    /// Letter numbers: preview a pattern, read and work on a register, benchmark issuing.
    Number {
        #[command(subcommand)]
        command: NumberCommand,
    },
    /// An office's archive classification codes (kode klasifikasi arsip).
    Kka {
        #[command(subcommand)]
        command: KkaCommand,
    },
    /// Verify signed PDFs: every signature's integrity, trust, level and later changes.
    Verify(verify::VerifyArgs),
    /// A worker process that reads untrusted PDFs for its parent (verify::sandbox), within
    /// MEMORY bytes of data and SECONDS of CPU time per file.
    #[command(name = "verify-worker", hide = true)]
    VerifyWorker { memory: u64, seconds: u64 },
    /// The audit log and the archive, checked again.
    Audit {
        #[command(subcommand)]
        command: archive::AuditCommand,
    },
    /// Make a report (sla or annual) of an office for a period by hand: numbered, signed and
    /// delivered to the head of office's inbox, once per period.
    Report {
        /// sla or annual.
        kind: String,
        /// The office's code.
        #[arg(long)]
        office: String,
        /// 2025-W40 (a week) or 2025-10 (a month) for sla, 2025 for annual.
        #[arg(long)]
        period: String,
        /// The official who signs it (a username).
        #[arg(long, value_name = "USERNAME")]
        signer: String,
        /// The environment variable holding the signer's passphrase; without it, the demo
        /// PKI's passphrase file is read (demo only).
        #[arg(long, value_name = "VAR")]
        passphrase_env: Option<String>,
    },
    /// Set a person's password for signing in to the pages: read from an environment
    /// variable, never from the command line.
    Password {
        /// The person's username.
        #[arg(long, value_name = "USERNAME")]
        user: String,
        /// The environment variable holding the new password (at least 10 characters).
        #[arg(long, value_name = "VAR")]
        password_env: String,
    },
    /// The hosting records of an office: applications, subdomains, IP addresses, servers,
    /// hosting accounts (never passwords), OPD and state, as the workflow recorded them.
    Hosting {
        #[arg(long)]
        office: String,
        /// One JSON array instead of lines of text.
        #[arg(long)]
        json: bool,
    },
    /// Exports of the archive, and their offline check.
    Archive {
        #[command(subcommand)]
        command: archive::ArchiveCommand,
    },
    /// Sign one PDF with a PKCS#12 key (PAdES).
    Sign(signing::SignArgs),
    /// Long-term validation of signed letters.
    Ltv {
        #[command(subcommand)]
        command: LtvCommand,
    },
    /// Certificates: the demo PKI.
    Certs {
        #[command(subcommand)]
        command: signing::CertsCommand,
    },
    /// API tokens.
    Token {
        #[command(subcommand)]
        command: TokenCommand,
    },
}

#[derive(Debug, Subcommand)]
enum LtvCommand {
    /// Re-stamp signed letters whose newest time-stamp's authority certificate expires within
    /// DAYS: the DSS brought up to date and a new document time-stamp, as a new revision. Uses
    /// the configured time-stamp authority (NASKAH_TSA_URL).
    Refresh {
        #[arg(long, default_value_t = 90, value_name = "DAYS")]
        within_days: u32,
    },
}

#[derive(Debug, Subcommand)]
enum TokenCommand {
    /// Make an API token for a person; it is printed once and cannot be read back.
    Create {
        #[arg(long, value_name = "USERNAME")]
        user: String,
        #[arg(long, default_value = "api")]
        name: String,
    },
}

/// Why a command did not succeed.
#[derive(Debug, thiserror::Error)]
pub enum Failure {
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// A command given something it cannot use (an unreadable file).
    #[error("{0}")]
    Usage(String),
    #[error("{0}")]
    Work(String),
}

impl Failure {
    fn exit_code(&self) -> ExitCode {
        match self {
            Failure::Config(_) | Failure::Usage(_) => ExitCode::from(2),
            Failure::Work(_) => ExitCode::from(1),
        }
    }
}

impl From<DbError> for Failure {
    fn from(error: DbError) -> Self {
        Failure::Work(error.to_string())
    }
}

impl From<demo::DemoError> for Failure {
    fn from(error: demo::DemoError) -> Self {
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
    if let Command::Sop { command } = &cli.command {
        return sop_command(command);
    }
    if let Command::Letter { command } = &cli.command {
        return letter_command(command, cli.config.clone());
    }
    if let Command::Archive {
        command: archive::ArchiveCommand::Check { file, trust },
    } = &cli.command
    {
        return archive::check(file, trust);
    }
    if let Command::Verify(args) = &cli.command {
        return verify::run(args, cli.config.clone());
    }
    if let Command::VerifyWorker { memory, seconds } = &cli.command {
        return crate::verify::sandbox::worker(*memory, *seconds).map_err(Failure::Work);
    }
    if let Command::Sign(args) = &cli.command {
        return signing::sign(args);
    }
    if let Command::Certs { command } = &cli.command {
        return signing::certs(command);
    }
    if let Command::Number {
        command:
            NumberCommand::Preview {
                pattern,
                seq,
                sub,
                date,
                values,
            },
    } = &cli.command
    {
        return preview(pattern, *seq, *sub, *date, values);
    }
    let mut overrides = Overrides {
        config_file: cli.config,
        bind: None,
    };
    match cli.command {
        Command::Serve { bind, demo } => {
            overrides.bind = bind;
            serve::serve(&Config::load(&overrides)?, demo)
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
            demo_pki(&config)?;
            println!(
                "demo data: {} office(s) and {} person(s) created; demo PKI in {}",
                summary.offices_created,
                summary.people_created,
                config.pki_dir.display()
            );
            Ok(())
        }
        Command::Number { command } => {
            let config = Config::load(&overrides)?;
            number_command(&config, &command)
        }
        Command::Ltv {
            command: LtvCommand::Refresh { within_days },
        } => {
            let config = Config::load(&overrides)?;
            let Some(tsa_url) = config.tsa_url.clone() else {
                return Err(Failure::Usage(
                    "naskah ltv refresh needs a time-stamp authority: set NASKAH_TSA_URL or tsa_url"
                        .into(),
                ));
            };
            let (db, _) = open_migrated(&config)?;
            let mut conn = db.get()?;
            let settings = tte_settings(&config, Some(&tsa_url), letter_settings(&config));
            let within = chrono::Duration::days(i64::from(within_days));
            let crate::tte::RefreshOutcome { refreshed, failed } =
                crate::tte::refresh_ltv(&mut conn, &settings, within, None)
                    .map_err(|e| Failure::Work(e.to_string()))?;
            for done in &refreshed {
                println!(
                    "letter {}: re-stamped as revision {} (the time-stamp authority's certificate expires {})",
                    done.letter,
                    done.revision,
                    done.authority_expires.format("%Y-%m-%d")
                );
            }
            for (letter, error) in &failed {
                eprintln!("letter {letter}: not re-stamped: {error}");
            }
            println!(
                "{} letter(s) re-stamped, {} failed",
                refreshed.len(),
                failed.len()
            );
            if failed.is_empty() {
                Ok(())
            } else {
                Err(Failure::Work(format!(
                    "{} letter(s) could not be re-stamped",
                    failed.len()
                )))
            }
        }
        Command::Kka { command } => {
            let config = Config::load(&overrides)?;
            kka_command(&config, &command)
        }
        Command::Audit { command } => {
            let config = Config::load(&overrides)?;
            let (db, _) = open_migrated(&config)?;
            archive::run(&mut *db.get()?, &command)
        }
        Command::Report {
            kind,
            office,
            period,
            signer,
            passphrase_env,
        } => {
            let config = Config::load(&overrides)?;
            let (db, _) = open_migrated(&config)?;
            let mut conn = db.get()?;
            report_command(
                &config,
                &mut conn,
                &kind,
                &office,
                &period,
                &signer,
                passphrase_env.as_deref(),
            )
        }
        Command::Password { user, password_env } => {
            let password = std::env::var(&password_env).map_err(|_| {
                Failure::Usage(format!("--password-env: {password_env} is not set"))
            })?;
            let config = Config::load(&overrides)?;
            let (db, _) = open_migrated(&config)?;
            let mut conn = db.get()?;
            let person = crate::people::find_by_username(&mut conn, &user)?
                .ok_or_else(|| Failure::Usage(format!("no person with username '{user}'")))?;
            crate::accounts::set_password(&mut conn, person.id, &password, None)
                .map_err(|e| Failure::Usage(e.to_string()))?;
            println!("password of {user} set");
            Ok(())
        }
        Command::Hosting { office, json } => {
            let config = Config::load(&overrides)?;
            let (db, _) = open_migrated(&config)?;
            let mut conn = db.get()?;
            let found = crate::office::find_by_code(&mut conn, &office)?
                .ok_or_else(|| Failure::Usage(format!("no office '{office}'")))?;
            let records = crate::hosting::records(&mut conn, found.id, None)?;
            if json {
                println!("{}", serde_json::to_string(&records).unwrap_or_default());
            } else {
                for r in &records {
                    let shown = |v: &Option<String>| v.clone().unwrap_or_else(|| "-".into());
                    println!(
                        "{}\t{}\t{}\t{}\t{}\t{}\t{}",
                        r.application,
                        r.opd,
                        r.state,
                        shown(&r.subdomain),
                        shown(&r.ip_address),
                        shown(&r.server),
                        shown(&r.account)
                    );
                }
            }
            Ok(())
        }
        Command::Office { command } => {
            let config = Config::load(&overrides)?;
            let (db, _) = open_migrated(&config)?;
            office::run(&mut *db.get()?, &command)
        }
        Command::Archive { command } => {
            let config = Config::load(&overrides)?;
            let (db, _) = open_migrated(&config)?;
            archive::export(&mut *db.get()?, &command)
        }
        Command::Token {
            command: TokenCommand::Create { user, name },
        } => {
            let config = Config::load(&overrides)?;
            let (db, _) = open_migrated(&config)?;
            let mut conn = db.get()?;
            let person = crate::people::find_by_username(&mut conn, &user)?
                .ok_or_else(|| Failure::Usage(format!("no person with username '{user}'")))?;
            let token = crate::tokens::create(&mut conn, person.id, &name)
                .map_err(|e| Failure::Work(e.to_string()))?;
            println!("{token}");
            Ok(())
        }
        Command::Sop { .. }
        | Command::Letter { .. }
        | Command::Sign(_)
        | Command::Verify(_)
        | Command::VerifyWorker { .. }
        | Command::Certs { .. } => {
            unreachable!("handled above: they need no database")
        }
    }
}

fn read_bytes(path: &Path) -> Result<Vec<u8>, Failure> {
    std::fs::read(path).map_err(|e| Failure::Usage(format!("cannot read {}: {e}", path.display())))
}

fn read_file(path: &Path) -> Result<String, Failure> {
    std::fs::read_to_string(path)
        .map_err(|e| Failure::Usage(format!("cannot read {}: {e}", path.display())))
}

/// What generating letters needs from the configuration.
fn letter_settings(config: &Config) -> letters::store::Settings {
    letters::store::Settings {
        public_url: config.public_url.clone(),
        tte_issuer: config.tte_issuer.clone(),
        templates: None,
    }
}

/// Writes `bytes` to `path` through a temporary file beside it, so that a crash never leaves a
/// half-written file under the final name.
fn write_file_atomically(path: &Path, bytes: &[u8]) -> Result<(), Failure> {
    let fail = |e: std::io::Error| Failure::Work(format!("cannot write {}: {e}", path.display()));
    let dir = match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    };
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let temporary = dir.join(format!(".{name}.{}.tmp", std::process::id()));
    std::fs::write(&temporary, bytes).map_err(fail)?;
    std::fs::rename(&temporary, path).map_err(|e| {
        let _ = std::fs::remove_file(&temporary);
        fail(e)
    })
}

/// Starts logging, opens the database and brings its schema up to date. An unreachable
/// database is a configuration error naming the setting the URL came from.
fn open_migrated(config: &Config) -> Result<(Db, Vec<String>), Failure> {
    telemetry::init(&config.log_filter, config.log_format);
    config.prepare_directories()?;
    let db = open_db(config, config.db_pool_size)?;
    let applied = migrate::run_pending(&mut *db.get()?)?;
    tracing::info!(
        backend = config.database.backend(),
        applied = applied.len(),
        "database schema up to date"
    );
    Ok((db, applied))
}

/// The configured database with `pool_size` connections; one that cannot be reached is a
/// configuration error naming the setting its URL came from.
pub(crate) fn open_db(config: &Config, pool_size: u32) -> Result<Db, Failure> {
    Db::open(&config.database, pool_size).map_err(|error| match error {
        DbError::Connect { .. } => {
            Failure::Config(ConfigError::new(&config.database_origin, error.to_string()))
        }
        other => Failure::from(other),
    })
}

/// The demo PKI under the configured PKI directory, made when missing.
fn demo_pki(config: &Config) -> Result<(), Failure> {
    let dir = &config.pki_dir;
    if dir.join(crate::signing::pki::ROOT_CERT).exists() {
        return Ok(());
    }
    let made = crate::demo::init_pki(dir).map_err(|e| Failure::Work(e.to_string()))?;
    tracing::info!(
        dir = %dir.display(),
        officials = made.officials.len(),
        "demo PKI made; passphrases in passphrases.txt"
    );
    Ok(())
}

/// `naskah report`.
fn report_command(
    config: &Config,
    conn: &mut crate::db::DbConn,
    kind: &str,
    office: &str,
    period: &str,
    signer: &str,
    passphrase_env: Option<&str>,
) -> Result<(), Failure> {
    use crate::reports::make::{self, ReportKind};
    let kind: ReportKind = kind.parse().map_err(Failure::Usage)?;
    let period = crate::reports::Period::parse(period).map_err(Failure::Usage)?;
    let office = crate::office::find_by_code(conn, office)?
        .ok_or_else(|| Failure::Usage(format!("no office '{office}'")))?;
    let person = crate::people::find_by_username(conn, signer)?
        .ok_or_else(|| Failure::Usage(format!("no person with username '{signer}'")))?;
    let passphrase = match passphrase_env {
        Some(var) => std::env::var(var)
            .map_err(|_| Failure::Usage(format!("--passphrase-env: {var} is not set")))?,
        None => crate::signing::pki::passphrase_of(
            &config.pki_dir,
            &crate::signing::pki::official_p12(signer),
        )
        .ok_or_else(|| {
            Failure::Usage(format!(
                "no passphrase for {signer}: give --passphrase-env VAR (the demo PKI's file has none)"
            ))
        })?,
    };
    let tte = tte_settings(config, config.tsa_url.as_deref(), letter_settings(config));
    let made = make::make(
        conn,
        &tte,
        &make::Order {
            office: &office,
            kind,
            period: &period,
            made_by: signer,
            instance: &crate::jobs::instance_name(),
        },
        &make::Signer {
            person: person.id,
            passphrase: &passphrase,
        },
    )
    .map_err(|e| Failure::Work(e.to_string()))?;
    println!(
        "{} report {} of {}: letter {} number {}, delivered to the head of office's inbox",
        kind.id(),
        period.key,
        office.code,
        made.letter,
        made.number
    );
    Ok(())
}

/// Signing in the workflow as configured: keys under the PKI directory, the CRLs there (for
/// B-LT), the time-stamp authority at `tsa_url`, BSrE for the officials configured to use it.
fn tte_settings(
    config: &Config,
    tsa_url: Option<&str>,
    letters: letters::store::Settings,
) -> crate::tte::Settings {
    let crls = [
        crate::signing::pki::INTERMEDIATE_CRL,
        crate::signing::pki::ROOT_CRL,
    ]
    .iter()
    .filter_map(|name| std::fs::read(config.pki_dir.join(name)).ok())
    .collect();
    crate::tte::Settings {
        pki_dir: config.pki_dir.clone(),
        level: config.level(tsa_url.is_some()),
        time_stamper: tsa_url.map(crate::signing::tsa::TimeStamper::new),
        crls,
        remote: config.bsre.clone(),
        letters,
    }
}
