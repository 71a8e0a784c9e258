//! The registers on the command line: letter numbers (a pattern previewed, numbers issued,
//! reserved, used, voided and listed, the benchmark) and an office's archive classification
//! codes.

use std::path::PathBuf;

use chrono::NaiveDate;
use clap::Subcommand;

use super::{Failure, letter_settings, open_migrated, read_file, write_file_atomically};
use crate::config::{Config, ConfigError, DatabaseUrl};
use crate::{letters, numbering, telemetry};

#[derive(Debug, Subcommand)]
pub(super) enum NumberCommand {
    /// Print the number a pattern gives (no database).
    Preview {
        /// Tokens: {kka} {seq} {seq:N} {sub} {unit} {series} {sifat_code} {month:roman} {month} {year}.
        #[arg(long)]
        pattern: String,
        #[arg(long)]
        seq: u32,
        /// A sisipan's sub-number (written with its dot: .8).
        #[arg(long, default_value_t = 0)]
        sub: u32,
        #[arg(long, value_name = "YYYY-MM-DD")]
        date: NaiveDate,
        /// A token's value, such as kka=500.12.6 or unit="Bid. Layanan E-Gov".
        #[arg(long = "set", value_name = "TOKEN=VALUE")]
        values: Vec<String>,
    },
    /// Print a register's log (or CSV with --csv).
    List {
        #[arg(long)]
        office: String,
        #[arg(long)]
        register: String,
        #[arg(long, value_name = "YYYY-MM-DD")]
        from: Option<NaiveDate>,
        #[arg(long, value_name = "YYYY-MM-DD")]
        to: Option<NaiveDate>,
        #[arg(long)]
        csv: bool,
    },
    /// Print a register's log for a period as a buku agenda PDF.
    Agenda {
        #[arg(long)]
        office: String,
        #[arg(long)]
        register: String,
        #[arg(long, value_name = "YYYY-MM-DD")]
        from: NaiveDate,
        #[arg(long, value_name = "YYYY-MM-DD")]
        to: NaiveDate,
        /// Who prints and signs the book (username).
        #[arg(long = "as", value_name = "USERNAME")]
        actor: String,
        #[arg(long, value_name = "FILE.pdf")]
        out: PathBuf,
    },
    /// Number a letter, as a person of the secretariat.
    Issue {
        #[arg(long)]
        office: String,
        #[arg(long)]
        register: String,
        #[arg(long)]
        letter: i64,
        /// The secretariat member issuing the number (username).
        #[arg(long = "as", value_name = "USERNAME")]
        actor: String,
        /// The letter's date (default: today in the office's time zone).
        #[arg(long, value_name = "YYYY-MM-DD")]
        date: Option<NaiveDate>,
    },
    /// Void a number, keeping it in the log with the reason.
    Void {
        #[arg(long)]
        number: i64,
        #[arg(long)]
        reason: String,
        #[arg(long = "as", value_name = "USERNAME")]
        actor: String,
    },
    /// Issue COUNT numbers from CLIENTS concurrent clients through the HTTP API of a server this
    /// command starts, then check the register; prints issued=, duplicates=, gaps=, rate=.
    Bench {
        #[arg(long, default_value_t = 32)]
        clients: usize,
        #[arg(long, default_value_t = 5000)]
        count: usize,
        /// Offices, each with its own register, the clients' requests spread over them.
        #[arg(long, default_value_t = 1)]
        offices: usize,
        /// The database (default: a new SQLite file in a temporary directory).
        #[arg(long, value_name = "URL")]
        database: Option<String>,
    },
}

#[derive(Debug, Subcommand)]
pub(super) enum KkaCommand {
    /// Print the office's codes and titles (retired ones marked).
    List {
        #[arg(long)]
        office: String,
    },
    /// Add a code or change its title, as a person of the secretariat.
    Set {
        #[arg(long)]
        office: String,
        #[arg(long = "as", value_name = "USERNAME")]
        actor: String,
        /// Such as 500.12.6.
        code: String,
        /// Its title (uraian), such as "Layanan E-Government".
        title: String,
    },
    /// Retire a code: letters filed under it keep it, new letters cannot use it.
    Retire {
        #[arg(long)]
        office: String,
        #[arg(long = "as", value_name = "USERNAME")]
        actor: String,
        code: String,
    },
    /// Set how long the records filed under a code are kept (jadwal retensi arsip); it holds
    /// for the codes below it that have none of their own.
    Retention {
        #[arg(long)]
        office: String,
        #[arg(long = "as", value_name = "USERNAME")]
        actor: String,
        code: String,
        /// Years active.
        #[arg(long)]
        active: i32,
        /// Years inactive.
        #[arg(long)]
        inactive: i32,
        /// What follows: musnah, permanen or dinilai_kembali.
        #[arg(long)]
        disposition: String,
    },
    /// Load a list of codes (one per line: code, space, title), in one transaction.
    Load {
        #[arg(long)]
        office: String,
        #[arg(long = "as", value_name = "USERNAME")]
        actor: String,
        /// The list (default: the bundled Permendagri 83/2022 list).
        #[arg(long, value_name = "FILE")]
        file: Option<PathBuf>,
    },
}

pub(super) fn preview(
    pattern: &str,
    seq: u32,
    sub: u32,
    date: NaiveDate,
    values: &[String],
) -> Result<(), Failure> {
    let pattern = numbering::pattern::Pattern::parse(pattern).map_err(Failure::Usage)?;
    let mut given = std::collections::BTreeMap::new();
    for value in values {
        let (token, text) = value
            .split_once('=')
            .ok_or_else(|| Failure::Usage(format!("--set {value}: write TOKEN=VALUE")))?;
        if !numbering::pattern::VALUE_TOKENS.contains(&token) {
            return Err(Failure::Usage(format!(
                "--set {value}: '{token}' is not a value token ({})",
                numbering::pattern::VALUE_TOKENS.join(", ")
            )));
        }
        given.insert(token.to_owned(), text.to_owned());
    }
    println!(
        "{}",
        pattern
            .format(seq, sub, date, &given)
            .map_err(Failure::Usage)?
    );
    Ok(())
}

/// The office with `code` and its register `register`.
fn office_register(
    conn: &mut crate::db::DbConn,
    code: &str,
    register: &str,
) -> Result<(crate::office::Office, numbering::Register), Failure> {
    let office = crate::office::find_by_code(conn, code)?
        .ok_or_else(|| Failure::Usage(format!("no office '{code}'")))?;
    let register = numbering::register_by_code(conn, office.id, register)
        .map_err(|e| Failure::Work(e.to_string()))?;
    Ok((office, register))
}

fn person_id(
    conn: &mut crate::db::DbConn,
    username: &str,
) -> Result<crate::ids::PersonId, Failure> {
    Ok(crate::people::find_by_username(conn, username)?
        .ok_or_else(|| Failure::Usage(format!("no person with username '{username}'")))?
        .id)
}

pub(super) fn number_command(config: &Config, command: &NumberCommand) -> Result<(), Failure> {
    let work = |e: numbering::NumberingError| Failure::Work(e.to_string());
    match command {
        NumberCommand::Preview { .. } => unreachable!("handled before the configuration is read"),
        NumberCommand::Bench {
            clients,
            count,
            offices,
            database,
        } => {
            telemetry::init("warn", config.log_format);
            let scratch = tempfile::tempdir()
                .map_err(|e| Failure::Work(format!("no temporary directory: {e}")))?;
            let url = match database {
                Some(url) => DatabaseUrl::parse(url)
                    .map_err(|p| Failure::Config(ConfigError::new("--database", p)))?,
                None => DatabaseUrl::Sqlite(scratch.path().join("bench.sqlite3")),
            };
            if *clients == 0 || *count == 0 || *offices == 0 {
                return Err(Failure::Usage(
                    "--clients, --count and --offices must be at least 1".into(),
                ));
            }
            if offices > count {
                return Err(Failure::Usage(
                    "--offices may not exceed --count: every office numbers at least one letter"
                        .into(),
                ));
            }
            let settings = letter_settings(config);
            let outcome = super::number_bench::run(
                &url,
                *clients,
                *count,
                *offices,
                config.db_pool_size,
                settings,
            )
            .map_err(|e| Failure::Work(e.to_string()))?;
            println!("{}", outcome.line());
            if outcome.duplicates > 0
                || outcome.gaps > 0
                || outcome.issued != *count
                || outcome.failed_requests > 0
            {
                return Err(Failure::Work(format!(
                    "the register does not hold {count} numbers once each ({} request(s) failed)",
                    outcome.failed_requests
                )));
            }
            Ok(())
        }
        NumberCommand::List {
            office,
            register,
            from,
            to,
            csv,
        } => {
            let (db, _) = open_migrated(config)?;
            let mut conn = db.get()?;
            let (_, register) = office_register(&mut conn, office, register)?;
            let numbers = numbering::log(
                &mut conn,
                register.id,
                from.unwrap_or(numbering::FIRST_DAY),
                to.unwrap_or(numbering::LAST_DAY),
            )
            .map_err(work)?;
            if *csv {
                print!("{}", numbering::csv(&numbers));
            } else {
                for n in &numbers {
                    let note = n
                        .void_reason
                        .as_deref()
                        .or(n.reason.as_deref())
                        .unwrap_or_default();
                    println!(
                        "{:<40} {} {:<8} {}",
                        n.number, n.letter_date, n.status, note
                    );
                }
            }
            Ok(())
        }
        NumberCommand::Issue {
            office,
            register,
            letter,
            actor,
            date,
        } => {
            let (db, _) = open_migrated(config)?;
            let mut conn = db.get()?;
            let (office, register) = office_register(&mut conn, office, register)?;
            let actor = person_id(&mut conn, actor)?;
            let date =
                date.unwrap_or_else(|| numbering::local_date(chrono::Utc::now(), office.zone()));
            let letter = crate::ids::LetterId(*letter);
            let issued = numbering::issue(
                &mut conn,
                register.id,
                letter,
                date,
                actor,
                crate::db::now(),
            )
            .map_err(work)?;
            let settings = letter_settings(config);
            letters::store::add_numbered_revision(&mut conn, letter, actor, &settings).map_err(
                |e| {
                    Failure::Work(format!(
                        "number {} issued, but the PDF was not renewed: {e}",
                        issued.number
                    ))
                },
            )?;
            println!("{}", issued.number);
            Ok(())
        }
        NumberCommand::Agenda {
            office,
            register,
            from,
            to,
            actor,
            out,
        } => {
            let (db, _) = open_migrated(config)?;
            let mut conn = db.get()?;
            let (_, register) = office_register(&mut conn, office, register)?;
            let actor = person_id(&mut conn, actor)?;
            let pdf = numbering::agenda::pdf(&mut conn, register.id, *from, *to, actor)
                .map_err(|e| Failure::Work(e.to_string()))?;
            write_file_atomically(out, &pdf)?;
            println!("{}: {} bytes", out.display(), pdf.len());
            Ok(())
        }
        NumberCommand::Void {
            number,
            reason,
            actor,
        } => {
            let (db, _) = open_migrated(config)?;
            let mut conn = db.get()?;
            let actor = person_id(&mut conn, actor)?;
            let voided = numbering::void(&mut conn, *number, reason, actor, crate::db::now())
                .map_err(work)?;
            println!(
                "{} void: {}",
                voided.number,
                voided.void_reason.unwrap_or_default()
            );
            Ok(())
        }
    }
}

pub(super) fn kka_command(config: &Config, command: &KkaCommand) -> Result<(), Failure> {
    use crate::classification;
    let work = |e: classification::ClassificationError| Failure::Work(e.to_string());
    let (db, _) = open_migrated(config)?;
    let mut conn = db.get()?;
    let office_of = |conn: &mut crate::db::DbConn, code: &str| {
        crate::office::find_by_code(conn, code)?
            .map(|o| o.id)
            .ok_or_else(|| Failure::Usage(format!("no office '{code}'")))
    };
    // Who changes the list: a person of the office's secretariat.
    let secretary = |conn: &mut crate::db::DbConn, office, username: &str| {
        let person = person_id(conn, username)?;
        numbering::Secretary::check(conn, person, office)
            .map_err(|e| Failure::Work(e.to_string()))?;
        Ok::<_, Failure>(Some(person))
    };
    match command {
        KkaCommand::List { office } => {
            let office = office_of(&mut conn, office)?;
            for code in classification::list(&mut conn, office).map_err(work)? {
                let retired = if code.retired_at.is_some() {
                    "  (tidak dipakai lagi)"
                } else {
                    ""
                };
                println!("{:<16} {}{retired}", code.code, code.title);
            }
        }
        KkaCommand::Set {
            office,
            actor,
            code,
            title,
        } => {
            let office = office_of(&mut conn, office)?;
            let actor = secretary(&mut conn, office, actor)?;
            classification::set(&mut conn, office, code, title, actor).map_err(work)?;
            println!("{code} {title}");
        }
        KkaCommand::Retention {
            office,
            actor,
            code,
            active,
            inactive,
            disposition,
        } => {
            let office = office_of(&mut conn, office)?;
            let actor = secretary(&mut conn, office, actor)?;
            let retention = classification::Retention {
                code: code.clone(),
                active_years: *active,
                inactive_years: *inactive,
                disposition: disposition.clone(),
            };
            classification::set_retention(&mut conn, office, &retention, actor).map_err(work)?;
            println!("{code}: {active} tahun aktif, {inactive} tahun inaktif, {disposition}");
        }
        KkaCommand::Retire {
            office,
            actor,
            code,
        } => {
            let office = office_of(&mut conn, office)?;
            let actor = secretary(&mut conn, office, actor)?;
            classification::retire(&mut conn, office, code, actor).map_err(work)?;
            println!("{code} retired");
        }
        KkaCommand::Load {
            office,
            actor,
            file,
        } => {
            let office = office_of(&mut conn, office)?;
            let actor = secretary(&mut conn, office, actor)?;
            let text = match file {
                Some(path) => read_file(path)?,
                None => classification::PERMENDAGRI_83_2022.to_owned(),
            };
            let count = classification::load(&mut conn, office, &text, actor).map_err(work)?;
            println!("{count} code(s) loaded");
        }
    }
    Ok(())
}
