//! A report made by hand from the reports page, in the background: computed over the period,
//! written as a nota dinas, numbered and signed by the official who asked (their passphrase
//! held in memory only while it runs), and delivered to the head of office's inbox, once per
//! period as the schedule would.

use super::Period;
use super::make::{self, Order, ReportError, ReportKind, Signer};
use crate::db::Db;
use crate::ids::PersonId;
use crate::jobs::{self, Outcome};
use crate::office::Office;

/// Starts making the `kind` report of `period` for `office`, signed by `person`.
pub fn start(
    db: Db,
    tte: crate::tte::Settings,
    person: PersonId,
    office: Office,
    kind: ReportKind,
    period: Period,
    passphrase: String,
) -> Result<i64, crate::db::DbError> {
    let job = jobs::start(&mut *db.get()?, person, jobs::REPORT, 1, crate::db::now())?;
    jobs::run_in_background(db, job, move |db| {
        let mut conn = db.get()?;
        let username = crate::people::find(&mut conn, person)?.username;
        let made = make::make(
            &mut conn,
            &tte,
            &Order {
                office: &office,
                kind,
                period: &period,
                made_by: &username,
                instance: &crate::jobs::instance_name(),
            },
            &Signer {
                person,
                passphrase: &passphrase,
            },
        );
        let name = match kind {
            ReportKind::Sla => format!("Laporan SLA {}", period.label()),
            ReportKind::Annual => format!("Laporan tahunan {}", period.label()),
        };
        let (outcome, ended) = match made {
            Ok(made) => (
                Outcome {
                    letter: Some(made.letter.0),
                    name: format!("{name}, nomor {}", made.number),
                    ok: true,
                    message: None,
                },
                Ok(()),
            ),
            Err(error) => {
                let why = match error {
                    ReportError::AlreadyMade { .. } => {
                        "laporan periode ini sudah pernah dibuat".to_owned()
                    }
                    ReportError::Missing(what) => format!("kantor ini belum memiliki {what}"),
                    ReportError::Failed(message) => message,
                    ReportError::Db(e) => return Err(e.into()),
                };
                (
                    Outcome {
                        letter: None,
                        name,
                        ok: false,
                        message: Some(why.clone()),
                    },
                    Err(why),
                )
            }
        };
        jobs::record(&mut conn, job, &outcome, crate::db::now())?;
        Ok(ended)
    })?;
    Ok(job)
}
