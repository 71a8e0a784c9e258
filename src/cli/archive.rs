//! `naskah audit verify`: the audit log's chain and the archive against it, every break named
//! with its position; exit 0 when all holds, 1 when anything does not.

use clap::Subcommand;
use diesel::prelude::*;
use serde::Serialize;

use super::Failure;
use crate::archive::integrity::{self, Checked, Flaw};
use crate::audit::{self, Break};
use crate::db::DbConn;

#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// Re-check the audit log's hash chain and the SHA-256 of every archived revision.
    Verify {
        /// One JSON object instead of lines of text.
        #[arg(long)]
        json: bool,
    },
}

/// Everything `audit verify` found.
#[derive(Serialize)]
pub struct Findings {
    pub entries: i64,
    pub breaks: Vec<Break>,
    pub archive: Checked,
    pub flaws: Vec<Flaw>,
}

impl Findings {
    pub fn intact(&self) -> bool {
        self.breaks.is_empty() && self.flaws.is_empty()
    }
}

/// The whole check, as the command and the daily job run it.
pub fn findings(conn: &mut DbConn) -> Result<Findings, Failure> {
    let entries: i64 = crate::db::schema::audit_log::table
        .count()
        .get_result(conn)?;
    let breaks = audit::verify(conn)?;
    let (flaws, archive) = integrity::check(conn)?;
    Ok(Findings {
        entries,
        breaks,
        archive,
        flaws,
    })
}

fn describe(found: &Break) -> String {
    match found {
        Break::Altered { id } => format!("audit entry {id}: its content does not match its hash"),
        Break::Unlinked { id } => {
            format!("audit entry {id}: its link is not the hash of the entry before it")
        }
        Break::Missing { from, to } if from == to => format!("audit entry {from}: missing"),
        Break::Missing { from, to } => format!("audit entries {from} to {to}: missing"),
    }
}

pub fn run(conn: &mut DbConn, command: &AuditCommand) -> Result<(), Failure> {
    let AuditCommand::Verify { json } = command;
    let found = findings(conn)?;
    if *json {
        println!("{}", serde_json::to_string(&found).unwrap_or_default());
    } else {
        for line in found.breaks.iter().map(describe) {
            println!("{line}");
        }
        for flaw in &found.flaws {
            println!("{flaw}");
        }
        println!(
            "audit log: {} entries, {} break(s); archive: {} revisions ({} bytes), {} flaw(s)",
            found.entries,
            found.breaks.len(),
            found.archive.revisions,
            found.archive.bytes,
            found.flaws.len()
        );
    }
    if found.intact() {
        Ok(())
    } else {
        Err(Failure::Work(format!(
            "the audit log or the archive does not hold: {} break(s), {} flaw(s)",
            found.breaks.len(),
            found.flaws.len()
        )))
    }
}
