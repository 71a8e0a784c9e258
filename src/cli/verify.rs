//! `naskah verify`: a report per file, readable or one JSON object per line, many files in
//! parallel. Exit 0 when every file is VALID, 1 when any is not, 2 on a usage error or a file
//! that cannot be read.

use clap::Args;
use serde::Serialize;
use std::path::PathBuf;

use super::Failure;
use crate::archive::lookup::{self as archive, Archived};
use crate::config::{Config, Overrides};
use crate::db::{Db, DbError};
use crate::verify::sandbox::{Limits, Sandbox};
use crate::verify::{self, Report, Roots, Verdict};

#[derive(Debug, Args)]
pub struct VerifyArgs {
    /// One JSON object per file, one per line.
    #[arg(long)]
    json: bool,
    /// A PEM file of trusted root certificates (repeatable).
    #[arg(long = "trust", value_name = "ROOT.pem")]
    trust: Vec<PathBuf>,
    /// Also look each file up in naskah's archive, the configured database (--config,
    /// NASKAH_DATABASE_URL): its letter, number and whether its bytes are the archived ones.
    #[arg(long)]
    archive: bool,
    /// Fetch revocation a document does not carry from the authorities' OCSP responders and
    /// CRL distribution points (http:// only, 10 s each).
    #[arg(long)]
    fetch_revocation: bool,
    /// How far a CRL's or OCSP response's times may be off and still speak for the validation
    /// time (clocks disagree).
    #[arg(long, value_name = "MINUTES", default_value_t = crate::verify::trust::REVOCATION_GRACE.num_minutes(),
          value_parser = clap::value_parser!(i64).range(0..=10_080))]
    revocation_grace: i64,
    /// How long one file may take (wall-clock and CPU time) before it is given up on; each
    /// file is read in a worker process within a memory budget as well.
    #[arg(long, value_name = "SECONDS", default_value_t = crate::verify::TIME_LIMIT.as_secs(),
          value_parser = clap::value_parser!(u64).range(1..=3600))]
    seconds: u64,
    #[arg(value_name = "FILE", required = true)]
    files: Vec<PathBuf>,
}

#[derive(Serialize)]
struct Line<'a> {
    file: String,
    #[serde(flatten)]
    report: &'a Report,
    archive: Option<&'a Archived>,
}

fn readable(file: &str, report: &Report, archived: Option<&Archived>) -> String {
    let mut out = format!(
        "{file}: {} (SHA-256 {})\n",
        verify::name(&report.verdict),
        report.sha256
    );
    if let Some(letter) = archived {
        let matched = match letter.matched {
            archive::Match::Whole => "sama persis dengan revisi arsip",
            archive::Match::Prefix => "diawali revisi arsip, ditambah bagian di luar arsip",
        };
        out.push_str(&format!(
            "  arsip: {} nomor {}, {}, tanggal {}, status {}; {matched} {} dari {}\n",
            letter.kind_name,
            letter.number.as_deref().unwrap_or("(belum bernomor)"),
            letter.office,
            letter.date.map_or("-".to_owned(), |d| d.to_string()),
            letter.status,
            letter.revision,
            letter.revisions,
        ));
    }
    for s in &report.signatures {
        let who =
            s.signer
                .as_ref()
                .map_or("(penanda tangan tidak diketahui)".to_owned(), |signer| {
                    let mut who = signer.name.clone();
                    if let Some(nip) = &signer.nip {
                        who.push_str(&format!(", NIP {nip}"));
                    }
                    if let Some(position) = &signer.position {
                        who.push_str(&format!(", {position}"));
                    }
                    who
                });
        let kind = match s.kind {
            verify::Kind::Signature => "tanda tangan",
            verify::Kind::Timestamp => "cap waktu dokumen",
        };
        out.push_str(&format!("  {kind} {}: {who}\n", s.field));
        let at = |t: &Option<chrono::DateTime<chrono::Utc>>| {
            t.map_or("-".to_owned(), |t| {
                t.format("%Y-%m-%d %H:%M:%S UTC").to_string()
            })
        };
        out.push_str(&format!(
            "    waktu {}; cap waktu {}; level {}\n    integritas {}; kepercayaan {}; perubahan sesudahnya {}\n",
            at(&s.signed_at),
            at(&s.timestamp_at),
            s.level.as_deref().unwrap_or("-"),
            verify::name(&s.integrity),
            verify::name(&s.trust),
            verify::name(&s.changes_after)
        ));
        for change in &s.changes {
            out.push_str(&format!("    - {change}\n"));
        }
        for problem in &s.problems {
            out.push_str(&format!("    ! {problem}\n"));
        }
    }
    out
}

/// The archive to look files up in, opened only when asked for.
fn open_archive(args: &VerifyArgs, config_file: Option<PathBuf>) -> Result<Option<Db>, Failure> {
    if !args.archive {
        return Ok(None);
    }
    let config = Config::load(&Overrides {
        config_file,
        bind: None,
    })?;
    Ok(Some(super::open_db(&config, 1)?))
}

/// What the archive knows of the file at `path`.
fn look_up(db: &Db, path: &PathBuf) -> Result<Option<Archived>, Failure> {
    let pdf =
        std::fs::read(path).map_err(|e| Failure::Usage(format!("{}: {e}", path.display())))?;
    let ends = verify::revisions::ends(&pdf);
    archive::lookup(&mut *db.get()?, &pdf, &ends).map_err(|e| Failure::from(DbError::from(e)))
}

pub fn run(args: &VerifyArgs, config_file: Option<PathBuf>) -> Result<(), Failure> {
    let roots = Roots::from_pem_files(&args.trust)
        .map_err(|e| Failure::Usage(format!("--trust {e}")))?
        .fetching_revocation(args.fetch_revocation)
        .with_revocation_grace(chrono::Duration::minutes(args.revocation_grace));
    let archive = open_archive(args, config_file)?;
    let limits = Limits {
        time: std::time::Duration::from_secs(args.seconds),
        ..Limits::default()
    };
    let sandbox = Sandbox::own(&roots, limits).map_err(Failure::Work)?;
    let results = sandbox.verify_files(&args.files);
    let mut unreadable = 0;
    let mut not_valid = 0;
    for (path, outcome) in args.files.iter().zip(results) {
        let file = path.display().to_string();
        match outcome {
            Ok(report) => {
                if report.verdict != Verdict::Valid {
                    not_valid += 1;
                }
                let archived = match &archive {
                    Some(db) => look_up(db, path)?,
                    None => None,
                };
                if args.json {
                    let line = Line {
                        file,
                        report: &report,
                        archive: archived.as_ref(),
                    };
                    println!("{}", serde_json::to_string(&line).unwrap_or_default());
                } else {
                    print!("{}", readable(&file, &report, archived.as_ref()));
                }
            }
            Err(error) => {
                unreadable += 1;
                eprintln!("{file}: {error}");
            }
        }
    }
    if unreadable > 0 {
        Err(Failure::Usage(format!(
            "{unreadable} file(s) could not be read"
        )))
    } else if not_valid > 0 {
        Err(Failure::Work(format!("{not_valid} file(s) not VALID")))
    } else {
        Ok(())
    }
}
