//! `naskah verify`: a report per file, readable or one JSON object per line, many files in
//! parallel. Exit 0 when every file is VALID, 1 when any is not, 2 on a usage error or a file
//! that cannot be read.

use std::path::PathBuf;
use std::sync::Arc;

use clap::Args;
use serde::Serialize;

use super::Failure;
use crate::verify::{self, Report, Roots, Verdict, VerifyError};

#[derive(Debug, Args)]
pub struct VerifyArgs {
    /// One JSON object per file, one per line.
    #[arg(long)]
    json: bool,
    /// A PEM file of trusted root certificates (repeatable).
    #[arg(long = "trust", value_name = "ROOT.pem")]
    trust: Vec<PathBuf>,
    #[arg(value_name = "FILE", required = true)]
    files: Vec<PathBuf>,
}

#[derive(Serialize)]
struct Line<'a> {
    file: String,
    #[serde(flatten)]
    report: &'a Report,
    archive: Option<()>,
}

fn readable(file: &str, report: &Report) -> String {
    let mut out = format!(
        "{file}: {} (SHA-256 {})\n",
        verify::name(&report.verdict),
        report.sha256
    );
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

pub fn run(args: &VerifyArgs) -> Result<(), Failure> {
    let roots =
        Roots::from_pem_files(&args.trust).map_err(|e| Failure::Usage(format!("--trust {e}")))?;
    let roots = Arc::new(roots);
    let workers = std::thread::available_parallelism().map_or(2, |n| n.get());
    let files: Arc<Vec<PathBuf>> = Arc::new(args.files.clone());
    let source = {
        let files = files.clone();
        Box::new(move |index: usize| {
            std::fs::read(&files[index])
                .map(Arc::new)
                .map_err(|e| VerifyError::Unreadable(e.to_string()))
        })
    };
    let results =
        verify::pool::verify_many(files.len(), source, roots, workers, verify::TIME_LIMIT);
    let mut unreadable = 0;
    let mut not_valid = 0;
    for (path, outcome) in args.files.iter().zip(results) {
        let file = path.display().to_string();
        match outcome {
            Ok(report) => {
                if report.verdict != Verdict::Valid {
                    not_valid += 1;
                }
                if args.json {
                    let line = Line {
                        file,
                        report: &report,
                        archive: None,
                    };
                    println!("{}", serde_json::to_string(&line).unwrap_or_default());
                } else {
                    print!("{}", readable(&file, &report));
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
