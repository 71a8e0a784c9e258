//! Signing many letters at once: one passphrase, the letters signed one after another in the
//! background, each in its own transaction, with the progress in a job (`crate::jobs`) the
//! page follows. A wrong passphrase or a locked signer stops the job at once (five wrong
//! ones in a row lock signing); any other refusal is noted for its letter and the rest go
//! on. The passphrase lives in the worker's memory only, for as long as it runs.

use diesel::prelude::*;

use super::{Credential, Mode, Settings, TteError};
use crate::db::Db;
use crate::db::schema::letters;
use crate::ids::{LetterId, PersonId};
use crate::jobs::{self, Outcome};

/// The most letters one job signs.
pub const MAX_LETTERS: usize = 200;

/// Starts signing `letters` as `person` with `credential`; returns the job's id at once.
pub fn start(
    db: Db,
    settings: Settings,
    person: PersonId,
    letters: Vec<LetterId>,
    credential: Credential,
) -> Result<i64, crate::db::DbError> {
    let letters: Vec<LetterId> = letters.into_iter().take(MAX_LETTERS).collect();
    let job = jobs::start(
        &mut *db.get()?,
        person,
        jobs::SIGN_LETTERS,
        letters.len(),
        crate::db::now(),
    )?;
    jobs::run_in_background(db, job, move |db| {
        run(db, &settings, job, person, &letters, &credential)
    })?;
    Ok(job)
}

fn run(
    db: &Db,
    settings: &Settings,
    job: i64,
    person: PersonId,
    letters: &[LetterId],
    credential: &Credential,
) -> Result<jobs::Ended, crate::db::DbError> {
    for letter in letters {
        let mut conn = db.get()?;
        let name = match super::visible(&mut conn, *letter, person) {
            Ok(_) => describe(&mut conn, *letter)?,
            Err(TteError::Database(e)) => return Err(e.into()),
            // A letter the signer may not see is named by the id they gave, nothing more.
            Err(_) => format!("surat {letter}"),
        };
        let result = super::sign_letter_with(
            &mut conn,
            settings,
            *letter,
            person,
            credential,
            Mode::Signature,
        );
        let stop = matches!(
            result,
            Err(TteError::WrongPassphrase { .. } | TteError::Locked { .. })
        );
        let outcome = Outcome {
            letter: Some(letter.0),
            name,
            ok: result.is_ok(),
            message: result.as_ref().err().map(ToString::to_string),
        };
        jobs::record(&mut conn, job, &outcome, crate::db::now())?;
        if stop {
            return Ok(Err(format!(
                "{}; pekerjaan dihentikan",
                outcome.message.as_deref().unwrap_or_default()
            )));
        }
    }
    Ok(Ok(()))
}

/// "Surat Rekomendasi 500.12/7/DKIP/2026 (SIMPUS)", or the letter's id when it is unknown.
fn describe(conn: &mut crate::db::DbConn, letter: LetterId) -> Result<String, crate::db::DbError> {
    let found: Option<(String, String)> = letters::table
        .find(letter)
        .select((letters::kind, letters::hal))
        .first(conn)
        .optional()?;
    let Some((kind, hal)) = found else {
        return Ok(format!("surat {letter}"));
    };
    let name = kind
        .parse::<crate::letters::LetterKind>()
        .map_or(kind.clone(), |k| k.name().to_owned());
    let number = crate::numbering::number_of(conn, letter)
        .ok()
        .flatten()
        .map(|(n, _)| format!(" {n}"))
        .unwrap_or_default();
    Ok(format!("{name}{number} — {hal}"))
}
