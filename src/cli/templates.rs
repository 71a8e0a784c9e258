//! What a template author runs without a database: the letter kinds and a letter rendered
//! from its data, and SOP files checked and shown.

use std::path::PathBuf;

use clap::Subcommand;

use super::{Failure, read_file, write_file_atomically};
use crate::config::{Config, Overrides};
use crate::demo;
use crate::letters::{self, LetterKind};
use crate::sop::{self, Sop};

#[derive(Debug, Subcommand)]
pub(super) enum LetterCommand {
    /// List the letter kinds, one a line: identifier, then name.
    Kinds,
    /// Render one letter to a PDF/A file.
    Render {
        /// The letter kind (see `naskah letter kinds`).
        #[arg(long)]
        kind: String,
        /// The letter's data as a JSON object.
        #[arg(
            long,
            value_name = "FILE.json",
            conflicts_with = "sample",
            required_unless_present = "sample"
        )]
        data: Option<PathBuf>,
        /// Use the built-in sample data of the kind.
        #[arg(long)]
        sample: bool,
        #[arg(long, value_name = "FILE.pdf")]
        out: PathBuf,
        /// The demo office whose letterhead is printed (default banggai).
        #[arg(long, default_value = "banggai")]
        office: String,
        /// A directory of the office's own templates (KIND.xml), used instead of the built-in ones.
        #[arg(long, value_name = "DIR")]
        templates: Option<PathBuf>,
    },
}

#[derive(Debug, Subcommand)]
pub(super) enum SopCommand {
    /// Check definitions; print each problem as FILE:LINE:COLUMN: problem. Exit 1 if any.
    Check {
        #[arg(required = true, value_name = "FILE")]
        files: Vec<PathBuf>,
    },
    /// Print the flow of a definition: steps, actors, times, documents and branches.
    Show {
        #[arg(value_name = "FILE")]
        file: PathBuf,
        /// Print the definition as JSON instead.
        #[arg(long)]
        json: bool,
    },
}

pub(super) fn sop_command(command: &SopCommand) -> Result<(), Failure> {
    match command {
        SopCommand::Check { files } => {
            let mut total = 0;
            let mut failing = 0;
            for file in files {
                let text = read_file(file)?;
                if let Err(problems) = Sop::from_xml(&text) {
                    failing += 1;
                    total += problems.len();
                    for problem in problems {
                        println!(
                            "{}:{}: {}",
                            file.display(),
                            problem.position,
                            problem.message
                        );
                    }
                }
            }
            if total > 0 {
                return Err(Failure::Work(format!(
                    "{total} problem(s) in {failing} of {} file(s)",
                    files.len()
                )));
            }
            println!("{} file(s) checked, no problems", files.len());
            Ok(())
        }
        SopCommand::Show { file, json } => {
            let text = read_file(file)?;
            let sop = Sop::from_xml(&text).map_err(|problems| {
                let first = problems.first().map(|p| p.to_string()).unwrap_or_default();
                Failure::Work(format!(
                    "{} has {} problem(s), the first at {first}; run naskah sop check",
                    file.display(),
                    problems.len()
                ))
            })?;
            if *json {
                let text = serde_json::to_string_pretty(&sop)
                    .map_err(|e| Failure::Work(format!("cannot write JSON: {e}")))?;
                println!("{text}");
            } else {
                print!("{}", sop::show(&sop));
            }
            Ok(())
        }
    }
}

pub(super) fn letter_command(
    command: &LetterCommand,
    config_file: Option<PathBuf>,
) -> Result<(), Failure> {
    match command {
        LetterCommand::Kinds => {
            for kind in LetterKind::ALL {
                println!("{}\t{}", kind.id(), kind.name());
            }
            Ok(())
        }
        LetterCommand::Render {
            kind,
            data,
            sample,
            out,
            office,
            templates,
        } => {
            let config = Config::load(&Overrides {
                config_file,
                bind: None,
            })?;
            let kind: LetterKind = kind.parse().map_err(|e: String| {
                Failure::Usage(format!("{e}; `naskah letter kinds` lists them"))
            })?;
            let letterhead = demo::letterhead(office).ok_or_else(|| {
                Failure::Usage(format!(
                    "unknown office '{office}' (the demo offices are {})",
                    demo::office_codes().join(", ")
                ))
            })?;
            let data: serde_json::Value = match (data, sample) {
                (Some(path), _) => serde_json::from_str(&read_file(path)?)
                    .map_err(|e| Failure::Usage(format!("{} is not JSON: {e}", path.display())))?,
                (None, _) => letters::sample(kind),
            };
            if !data.is_object() {
                return Err(Failure::Usage(
                    "the letter's data must be a JSON object".into(),
                ));
            }
            let (template, file) = letters::template(kind, templates.as_deref())
                .map_err(|e| Failure::Work(e.to_string()))?;
            let id = crate::digest::sha256_hex(format!("{kind}\n{data}").as_bytes());
            let electronic = letters::Electronic {
                verification_url: format!("{}/verifikasi/{}", config.public_url, &id[..32]),
                issuer: config.tte_issuer.clone(),
            };
            let info = letters::Info {
                title: kind.name().to_owned(),
                author: letterhead.name.clone(),
                created: chrono::Utc::now().naive_utc(),
                document_id: id[..32].to_owned(),
            };
            let rendered =
                letters::render(&template, &file, &data, &letterhead, &electronic, &info)
                    .map_err(|e| Failure::Work(e.to_string()))?;
            write_file_atomically(out, &rendered.pdf)?;
            println!(
                "{}: {} page(s), {} bytes",
                out.display(),
                rendered.pages,
                rendered.pdf.len()
            );
            Ok(())
        }
    }
}
