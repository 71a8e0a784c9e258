//! `naskah office add|sop`: an office set up from the command line, as the operator who runs
//! naskah does once per Dinas: the office and its letterhead, the regulation's classification
//! codes, its SOP, and its first administrator (who keeps the rest in the browser:
//! accounts, roles, registers, holidays, letterhead). A later SOP is installed as a new
//! version; requests keep the version they were filed under.

use std::path::PathBuf;

use clap::{Args, Subcommand};

use super::Failure;
use crate::audit::{self, Event};
use crate::db::{DbConn, write_transaction};

#[derive(Debug, Subcommand)]
pub enum OfficeCommand {
    /// Set up an office with its SOP and its first administrator.
    Add(Box<AddArgs>),
    /// Install a new version of an office's SOP.
    Sop {
        /// The office's code.
        code: String,
        /// The SOP definition (XML).
        file: PathBuf,
    },
}

/// What `office add` takes.
#[derive(Debug, Args)]
pub struct AddArgs {
    /// A short code for addresses and the command line, such as `banggai`.
    code: String,
    /// The government, as the letterhead prints it: "PEMERINTAH KABUPATEN BANGGAI".
    #[arg(long)]
    government: String,
    /// The office's name, as printed: "DINAS KOMUNIKASI DAN INFORMATIKA".
    #[arg(long)]
    name: String,
    #[arg(long)]
    address: String,
    /// The place written before a letter's date.
    #[arg(long)]
    city: String,
    /// WIB, WITA or WIT.
    #[arg(long)]
    zone: String,
    /// The SOP definition (XML; `naskah sop check` reads it first).
    #[arg(long)]
    sop: PathBuf,
    /// The first administrator's username.
    #[arg(long)]
    admin: String,
    /// Their full name.
    #[arg(long)]
    admin_name: String,
    /// The environment variable holding their password (at least 10 characters).
    #[arg(long)]
    password_env: String,
    #[arg(long)]
    unit: Option<String>,
    #[arg(long)]
    postal_code: Option<String>,
    #[arg(long)]
    phone: Option<String>,
    #[arg(long)]
    website: Option<String>,
    #[arg(long)]
    email: Option<String>,
}

pub fn run(conn: &mut DbConn, command: &OfficeCommand) -> Result<(), Failure> {
    match command {
        OfficeCommand::Add(args) => {
            let AddArgs {
                code,
                government,
                name,
                address,
                city,
                zone,
                sop,
                admin,
                admin_name,
                password_env,
                unit,
                postal_code,
                phone,
                website,
                email,
            } = args.as_ref();
            let code = code.trim();
            if code.is_empty()
                || code.len() > 32
                || !code
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
            {
                return Err(Failure::Usage(format!(
                    "'{code}': an office code is 1-32 lowercase letters, digits or '-'"
                )));
            }
            let zone: crate::office::TimeZone = zone.parse().map_err(Failure::Usage)?;
            let text = std::fs::read_to_string(sop)
                .map_err(|e| Failure::Usage(format!("{}: {e}", sop.display())))?;
            crate::sop::Sop::from_xml(&text).map_err(|problems| {
                Failure::Usage(format!(
                    "{}: {} (naskah sop check names each)",
                    sop.display(),
                    problems
                        .iter()
                        .map(ToString::to_string)
                        .collect::<Vec<_>>()
                        .join("; ")
                ))
            })?;
            let password = std::env::var(password_env).map_err(|_| {
                Failure::Usage(format!("--password-env: {password_env} is not set"))
            })?;
            let hash = crate::accounts::hash_password(&password)
                .map_err(|e| Failure::Usage(e.to_string()))?;
            let made = write_transaction(conn, |conn| -> Result<_, Failure> {
                if crate::office::find_by_code(conn, code)?.is_some() {
                    return Err(Failure::Usage(format!("office '{code}' exists already")));
                }
                if crate::people::find_by_username(conn, admin)?.is_some() {
                    return Err(Failure::Usage(format!(
                        "username '{admin}' is taken already"
                    )));
                }
                let now = crate::db::now();
                let office = crate::office::create(
                    conn,
                    &crate::office::NewOffice {
                        code,
                        government: government.trim(),
                        name: name.trim(),
                        unit: unit.as_deref(),
                        address: address.trim(),
                        city: city.trim(),
                        postal_code: postal_code.as_deref(),
                        phone: phone.as_deref(),
                        website: website.as_deref(),
                        email: email.as_deref(),
                        emblem_path: None,
                        time_zone: zone.code(),
                        created_at: now,
                    },
                    serde_json::json!({ "code": code }),
                )
                .map_err(Failure::Work)?;
                let version = crate::workflow::install_sop(conn, office, &text, None)
                    .map_err(|e| Failure::Work(e.to_string()))?;
                let person = crate::people::insert(
                    conn,
                    &crate::people::NewPerson {
                        username: admin,
                        full_name: admin_name.trim(),
                        nip: None,
                        nik: None,
                        email: None,
                        rank: None,
                        position: Some("Administrator naskah"),
                        organization: None,
                        password_hash: Some(&hash),
                        active: true,
                        created_at: now,
                    },
                )?;
                crate::people::grant_role(conn, person, office, crate::people::roles::ADMIN)?;
                audit::append(
                    conn,
                    Event {
                        actor: None,
                        office: Some(office),
                        action: "person.created",
                        subject: format!("person:{person}"),
                        detail: serde_json::json!({ "username": admin, "roles": [crate::people::roles::ADMIN] }),
                    },
                )?;
                crate::letters::letterhead_of(&crate::office::find(conn, office)?)
                    .map_err(|e| Failure::Usage(format!("the letterhead: {e}")))?;
                Ok((office, version))
            })?;
            println!(
                "office {code} set up (id {}), SOP version {}; {admin} administers it at /admin/{code}",
                made.0, made.1
            );
            Ok(())
        }
        OfficeCommand::Sop { code, file } => {
            let office = crate::office::find_by_code(conn, code)?
                .ok_or_else(|| Failure::Usage(format!("no office '{code}'")))?;
            let text = std::fs::read_to_string(file)
                .map_err(|e| Failure::Usage(format!("{}: {e}", file.display())))?;
            let version = crate::workflow::install_sop(conn, office.id, &text, None)
                .map_err(|e| Failure::Usage(e.to_string()))?;
            println!("office {code}: SOP in force is version {version}");
            Ok(())
        }
    }
}
