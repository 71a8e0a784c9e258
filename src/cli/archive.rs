//! `naskah audit verify`: the audit log's chain and the archive against it, every break named
//! with its position; exit 0 when all holds, 1 when anything does not. `naskah archive
//! export|check`: the export for auditors and national systems, and its offline check.

use std::path::PathBuf;

use clap::Subcommand;

use super::Failure;
use crate::archive::export::Selection;
use crate::archive::integrity::findings;
use crate::audit::{Break, Fault};
use crate::db::DbConn;

#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// Re-check the audit log's hash chain and the SHA-256 of every archived revision.
    Verify {
        /// One JSON object instead of lines of text.
        #[arg(long)]
        json: bool,
    },
    /// Record the head of every office's chain in the deployment's chain, so that a tail cut
    /// later shows (the daily audit check does this when the log is intact).
    Checkpoint,
}

fn describe(found: &Break) -> String {
    let chain = match &found.office {
        Some(office) => format!("office {office}'s audit chain"),
        None => "the deployment's audit chain".to_owned(),
    };
    match found.fault {
        Fault::Altered { seq } => {
            format!("{chain}, entry {seq}: its content does not match its hash")
        }
        Fault::Unlinked { seq } => {
            format!("{chain}, entry {seq}: its link is not the hash of the entry before it")
        }
        Fault::Missing { from, to } if from == to => format!("{chain}, entry {from}: missing"),
        Fault::Missing { from, to } => format!("{chain}, entries {from} to {to}: missing"),
        Fault::Truncated { from, to } if from == to => {
            format!(
                "{chain}, entry {from}: recorded by a checkpoint, gone (the chain's tail was cut)"
            )
        }
        Fault::Truncated { from, to } => format!(
            "{chain}, entries {from} to {to}: recorded by a checkpoint, gone (the chain's tail was cut)"
        ),
        Fault::Rewritten { seq } => {
            format!(
                "{chain}, entry {seq}: not the entry a checkpoint recorded (the chain was rewritten)"
            )
        }
    }
}

pub fn run(conn: &mut DbConn, command: &AuditCommand) -> Result<(), Failure> {
    let json = match command {
        AuditCommand::Verify { json } => *json,
        AuditCommand::Checkpoint => {
            let entry = crate::db::write_transaction(conn, crate::audit::checkpoint)
                .map_err(|e| Failure::Work(e.to_string()))?;
            let heads = serde_json::from_str::<serde_json::Value>(&entry.detail)
                .ok()
                .and_then(|d| d["heads"].as_array().map(Vec::len))
                .unwrap_or(0);
            println!(
                "checkpoint: entry {} of the deployment's audit chain records {heads} office chain(s)",
                entry.seq
            );
            return Ok(());
        }
    };
    let found = findings(conn)?;
    if json {
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

#[derive(Debug, Subcommand)]
pub enum ArchiveCommand {
    /// Write the letters of a request, or of an office over a period, to a ZIP: every PDF
    /// revision and a manifest in XML and JSON.
    Export {
        /// The ZIP to write (not overwritten when it exists).
        #[arg(long, value_name = "FILE.zip")]
        out: PathBuf,
        /// The letters of this request.
        #[arg(long, value_name = "ID")]
        request: Option<i64>,
        /// The letters of this office (its code).
        #[arg(long)]
        office: Option<String>,
        /// Letters created on or after this date (YYYY-MM-DD).
        #[arg(long)]
        from: Option<chrono::NaiveDate>,
        /// Letters created on or before this date (YYYY-MM-DD).
        #[arg(long)]
        to: Option<chrono::NaiveDate>,
        /// Who exports, as the audit log records it (a username).
        #[arg(long, value_name = "USERNAME")]
        user: Option<String>,
    },
    /// Verify an export offline: manifests, hashes, audit entries, signatures. Exit 0 only
    /// when all holds.
    Check {
        #[arg(value_name = "FILE.zip")]
        file: PathBuf,
        /// A PEM file of trusted root certificates (repeatable); without one, trust is not
        /// judged.
        #[arg(long = "trust", value_name = "ROOT.pem")]
        trust: Vec<PathBuf>,
    },
}

/// `archive export`.
pub fn export(conn: &mut DbConn, command: &ArchiveCommand) -> Result<(), Failure> {
    let ArchiveCommand::Export {
        out,
        request,
        office,
        from,
        to,
        user,
    } = command
    else {
        return Err(Failure::Usage("not an export".into()));
    };
    if request.is_none() && office.is_none() {
        return Err(Failure::Usage(
            "say what to export: --request ID, or --office CODE (with --from/--to)".into(),
        ));
    }
    let actor = match user {
        Some(name) => Some(
            crate::people::find_by_username(conn, name)?
                .ok_or_else(|| Failure::Usage(format!("no person with username '{name}'")))?
                .id,
        ),
        None => None,
    };
    let selection = Selection {
        office: office.clone(),
        request: *request,
        from: *from,
        to: *to,
    };
    // Written beside the target and moved into place only when complete.
    let dir = out.parent().filter(|p| !p.as_os_str().is_empty());
    let mut partial = tempfile::NamedTempFile::new_in(dir.unwrap_or(std::path::Path::new(".")))
        .map_err(|e| Failure::Usage(format!("{}: {e}", out.display())))?;
    let exported = crate::archive::export::export(conn, &selection, actor, partial.as_file_mut())
        .map_err(|e| Failure::Work(e.to_string()))?;
    partial
        .persist_noclobber(out)
        .map_err(|e| Failure::Usage(format!("{}: {}", out.display(), e.error)))?;
    println!(
        "{}: {} letters, {} revisions; manifest SHA-256 {} (audit entry {})",
        out.display(),
        exported.letters,
        exported.revisions,
        exported.manifest_sha256,
        exported.audit_entry
    );
    Ok(())
}

/// `archive check`.
pub fn check(file: &std::path::Path, trust: &[PathBuf]) -> Result<(), Failure> {
    let roots = crate::verify::Roots::from_pem_files(trust)
        .map_err(|e| Failure::Usage(format!("--trust {e}")))?;
    let input = std::fs::File::open(file)
        .map_err(|e| Failure::Usage(format!("{}: {e}", file.display())))?;
    let sandbox =
        crate::verify::sandbox::Sandbox::own(&roots, Default::default()).map_err(Failure::Work)?;
    let checked = crate::archive::check::check(std::io::BufReader::new(input), &sandbox)
        .map_err(|e| Failure::Work(format!("{}: {e}", file.display())))?;
    for problem in &checked.problems {
        println!("{problem}");
    }
    println!(
        "{}: {} letters, {} files, {} signed revisions verified{}; {} problem(s)",
        file.display(),
        checked.letters,
        checked.files,
        checked.verified,
        if roots.is_empty() {
            " (trust not judged: no --trust)"
        } else {
            ""
        },
        checked.problems.len()
    );
    if checked.problems.is_empty() {
        Ok(())
    } else {
        Err(Failure::Work(format!(
            "{}: the export does not hold",
            file.display()
        )))
    }
}
