//! The register's log printed as a buku agenda: every number of a period with its date, subject,
//! status and reasons, signed by hand by the person who prints it.

use chrono::NaiveDate;
use diesel::prelude::*;
use serde_json::json;

use super::{NumberingError, log, register};
use crate::db::DbConn;
use crate::db::schema::letters;
use crate::ids::{PersonId, RegisterId};
use crate::letters::{Info, RenderError, agenda_book, indonesian, letterhead_of};

#[derive(Debug, thiserror::Error)]
pub enum AgendaError {
    #[error(transparent)]
    Numbering(#[from] NumberingError),
    #[error(transparent)]
    Render(#[from] RenderError),
    #[error(transparent)]
    Database(#[from] diesel::result::Error),
}

fn status_label(status: &str) -> &'static str {
    match status {
        "issued" => "diberikan",
        "reserved" => "dicadangkan",
        "used" => "dipakai",
        "void" => "dibatalkan",
        _ => "-",
    }
}

/// The buku agenda of `register` for letters dated `from` to `to`, as a PDF.
pub fn pdf(
    conn: &mut DbConn,
    register_id: RegisterId,
    from: NaiveDate,
    to: NaiveDate,
    printed_by: PersonId,
) -> Result<Vec<u8>, AgendaError> {
    let register = register(conn, register_id)?;
    let numbers = log(conn, register_id, from, to)?;
    let mut rows = Vec::with_capacity(numbers.len());
    for (i, n) in numbers.iter().enumerate() {
        let hal: Option<String> = match n.letter_id {
            Some(letter) => letters::table
                .find(letter)
                .select(letters::hal)
                .first(conn)
                .optional()?,
            None => None,
        };
        let note = match (&n.void_reason, &n.reason) {
            (Some(void), _) => format!("batal: {void}"),
            (None, Some(reason)) => reason.clone(),
            (None, None) => String::new(),
        };
        rows.push(json!({
            "no": i + 1,
            "number": n.number,
            "date": indonesian::long_date(n.letter_date),
            "hal": hal.unwrap_or_default(),
            "status": status_label(&n.status),
            "note": note,
        }));
    }
    let person = crate::people::find(conn, printed_by)?;
    let data = json!({
        "register_name": register.name,
        "from": from.format("%Y-%m-%d").to_string(),
        "to": to.format("%Y-%m-%d").to_string(),
        "rows": rows,
        "count": numbers.len(),
        "signers": [{
            "position": person.position.clone().unwrap_or_else(|| "Sekretariat".into()),
            "name": person.full_name,
            "nip": person.nip,
        }],
    });
    let office = crate::office::find(conn, register.office_id)?;
    let letterhead = letterhead_of(&office)?;
    let info = Info {
        title: format!("{} {from} - {to}", register.name),
        author: office.name.clone(),
        created: crate::db::now(),
        document_id: crate::digest::sha256_hex(
            format!("agenda {register_id} {from} {to}").as_bytes(),
        )[..32]
            .to_owned(),
    };
    Ok(agenda_book(&letterhead, &data, &info)?.pdf)
}
