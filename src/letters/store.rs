//! Letters in the database: a letter is created with its generated PDF as revision 1, in one
//! transaction with its audit entry; later revisions (signatures, LTV updates) are appended,
//! never rewritten. A request's letters, in the order they were made, are its letter chain.

use std::path::PathBuf;

use chrono::NaiveDate;
use diesel::prelude::*;
use serde::Serialize;
use serde_json::Value;

use super::{Electronic, Info, LetterKind, Letterhead, RenderError};
use crate::audit::{self, Event};
use crate::db::schema::{letter_revisions, letters};
use crate::db::{DbConn, write_transaction};
use crate::digest::sha256_hex;
use crate::ids::{LetterId, OfficeId, PersonId, RequestId};

/// What every generated letter needs from the installation.
#[derive(Clone, Debug)]
pub struct Settings {
    /// Where people reach naskah: the QR code opens `{public_url}/verifikasi/{public_id}`.
    pub public_url: String,
    pub tte_issuer: String,
    /// A directory of the office's own templates (`KIND.xml`), when it has any.
    pub templates: Option<PathBuf>,
}

#[derive(Debug, thiserror::Error)]
pub enum LetterError {
    #[error(transparent)]
    Render(#[from] RenderError),
    #[error("kata acak tidak dapat dibuat: {0}")]
    Random(String),
    #[error("nomor surat tidak dapat dibaca: {0}")]
    Numbering(String),
    #[error(transparent)]
    Classification(#[from] crate::classification::ClassificationError),
    #[error("surat {0} berubah sementara itu; muat ulang dan coba lagi")]
    Moved(LetterId),
    #[error(transparent)]
    Database(#[from] diesel::result::Error),
}

/// A new letter's place: its office, and the request it belongs to, if any.
#[derive(Clone, Copy, Debug)]
pub struct Owner {
    pub office: OfficeId,
    pub request: Option<RequestId>,
    pub actor: Option<PersonId>,
}

/// A letter as a request's chain lists it.
#[derive(Clone, Debug, PartialEq, Eq, Queryable, Serialize)]
pub struct LetterSummary {
    pub id: LetterId,
    pub kind: String,
    pub public_id: String,
    pub status: String,
    pub hal: String,
    pub letter_date: Option<NaiveDate>,
    pub created_at: chrono::NaiveDateTime,
}

/// A stored PDF revision.
#[derive(Clone, Debug, Queryable, Serialize)]
pub struct Revision {
    pub revision: i32,
    pub purpose: String,
    pub sha256: String,
    pub size: i64,
    #[serde(skip)]
    pub pdf: Vec<u8>,
    pub created_at: chrono::NaiveDateTime,
}

fn text(data: &Value, key: &str) -> String {
    data.get(key)
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned()
}

/// Renders a letter of `kind` from `data` and stores it, with its PDF as revision 1.
pub fn create(
    conn: &mut DbConn,
    owner: Owner,
    letterhead: &Letterhead,
    kind: LetterKind,
    data: &Value,
    settings: &Settings,
    at: chrono::NaiveDateTime,
) -> Result<LetterId, LetterError> {
    let public_id =
        crate::digest::random_hex(16).map_err(|e| LetterError::Random(e.to_string()))?;
    let (template, file) = super::template(kind, settings.templates.as_deref())?;
    let electronic = Electronic {
        verification_url: format!("{}/verifikasi/{public_id}", settings.public_url),
        issuer: settings.tte_issuer.clone(),
    };
    let info = Info {
        title: format!("{}: {}", kind.name(), text(data, "hal")),
        author: letterhead.name.clone(),
        created: at,
        document_id: public_id.clone(),
    };
    let rendered = super::render(&template, &file, data, letterhead, &electronic, &info)?;
    let sha256 = sha256_hex(&rendered.pdf);
    let letter_date = data
        .get("date")
        .and_then(Value::as_str)
        .and_then(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").ok());
    let classification = data
        .get("kka")
        .and_then(Value::as_str)
        .filter(|code| !code.trim().is_empty());
    write_transaction(conn, |conn| {
        if let Some(code) = classification {
            crate::classification::check_for_letter(conn, owner.office, code)?;
        }
        let id: LetterId = diesel::insert_into(letters::table)
            .values((
                letters::office_id.eq(owner.office),
                letters::request_id.eq(owner.request),
                letters::kind.eq(kind.id()),
                letters::public_id.eq(&public_id),
                letters::status.eq("draft"),
                letters::letter_date.eq(letter_date),
                letters::sifat.eq(text(data, "sifat")),
                letters::hal.eq(text(data, "hal")),
                letters::sender.eq(&letterhead.name),
                letters::addressee.eq(text(data, "addressee")),
                letters::classification_code.eq(classification),
                letters::fields.eq(data.to_string()),
                letters::created_by.eq(owner.actor),
                letters::created_at.eq(at),
            ))
            .returning(letters::id)
            .get_result(conn)?;
        diesel::insert_into(letter_revisions::table)
            .values((
                letter_revisions::letter_id.eq(id),
                letter_revisions::revision.eq(1),
                letter_revisions::purpose.eq("generated"),
                letter_revisions::sha256.eq(&sha256),
                letter_revisions::size.eq(rendered.pdf.len() as i64),
                letter_revisions::pdf.eq(&rendered.pdf),
                letter_revisions::actor_id.eq(owner.actor),
                letter_revisions::created_at.eq(at),
            ))
            .execute(conn)?;
        audit::append(
            conn,
            Event {
                actor: owner.actor,
                office: Some(owner.office),
                action: "letter.created",
                subject: format!("letter:{id}"),
                detail: serde_json::json!({
                    "kind": kind.id(),
                    "request": owner.request,
                    "revision": 1,
                    "sha256": sha256,
                    "pages": rendered.pages,
                }),
            },
        )?;
        Ok(id)
    })
}

/// The latest revision of `letter`: its number, purpose and PDF.
pub fn latest_revision(
    conn: &mut DbConn,
    letter: LetterId,
) -> QueryResult<Option<(i32, String, Vec<u8>)>> {
    letter_revisions::table
        .filter(letter_revisions::letter_id.eq(letter))
        .order(letter_revisions::revision.desc())
        .select((
            letter_revisions::revision,
            letter_revisions::purpose,
            letter_revisions::pdf,
        ))
        .first(conn)
        .optional()
}

/// Renders `letter` from its stored data, with its number and date when it has them.
pub fn render_stored(
    conn: &mut DbConn,
    letter: LetterId,
    settings: &Settings,
) -> Result<super::Rendered, LetterError> {
    let (office_id, kind, public_id, fields): (OfficeId, String, String, String) = letters::table
        .find(letter)
        .select((
            letters::office_id,
            letters::kind,
            letters::public_id,
            letters::fields,
        ))
        .first(conn)?;
    let office = crate::office::find(conn, office_id)?;
    let letterhead = super::letterhead_of(&office)?;
    let kind: LetterKind = kind.parse().map_err(|e: String| {
        LetterError::Render(RenderError::Unreadable {
            file: "letters.kind".into(),
            problem: e,
        })
    })?;
    let mut data: Value = serde_json::from_str(&fields).unwrap_or(Value::Null);
    let number = crate::numbering::number_of(conn, letter)
        .map_err(|e| LetterError::Numbering(e.to_string()))?;
    if let (Some((number, date)), Some(map)) = (number, data.as_object_mut()) {
        map.insert("number".into(), number.into());
        map.insert("date".into(), date.format("%Y-%m-%d").to_string().into());
    }
    let (template, file) = super::template(kind, settings.templates.as_deref())?;
    let electronic = Electronic {
        verification_url: format!("{}/verifikasi/{public_id}", settings.public_url),
        issuer: settings.tte_issuer.clone(),
    };
    let info = Info {
        title: format!("{}: {}", kind.name(), text(&data, "hal")),
        author: letterhead.name.clone(),
        created: crate::db::now(),
        document_id: public_id,
    };
    Ok(super::render(
        &template,
        &file,
        &data,
        &letterhead,
        &electronic,
        &info,
    )?)
}

/// A revision about to be appended.
pub struct NewRevision<'a> {
    /// The revision it follows; appending fails with [`LetterError::Moved`] when another was
    /// appended in between.
    pub after: i32,
    /// `numbered`, `paraf`, `signature`, `ltv` or `timestamp`.
    pub purpose: &'a str,
    pub pdf: &'a [u8],
    /// Who made it; none for naskah's own maintenance (`naskah ltv refresh`).
    pub actor: Option<PersonId>,
    /// More for the audit entry (never a secret).
    pub detail: serde_json::Value,
}

/// Appends a revision after `new.after`, with its SHA-256 and an audit entry, in one
/// transaction; `then` runs inside it (to change the letter's state with it). Returns the new
/// revision's number and SHA-256.
pub fn append_revision(
    conn: &mut DbConn,
    letter: LetterId,
    new: NewRevision<'_>,
    then: impl FnOnce(&mut DbConn) -> Result<(), LetterError>,
) -> Result<(i32, String), LetterError> {
    let sha256 = sha256_hex(new.pdf);
    let at = crate::db::now();
    let revision = new.after + 1;
    write_transaction(conn, |conn| {
        let office: OfficeId = letters::table
            .find(letter)
            .select(letters::office_id)
            .first(conn)?;
        let last: Option<i32> = letter_revisions::table
            .filter(letter_revisions::letter_id.eq(letter))
            .select(diesel::dsl::max(letter_revisions::revision))
            .first(conn)?;
        if last != Some(new.after) {
            return Err(LetterError::Moved(letter));
        }
        diesel::insert_into(letter_revisions::table)
            .values((
                letter_revisions::letter_id.eq(letter),
                letter_revisions::revision.eq(revision),
                letter_revisions::purpose.eq(new.purpose),
                letter_revisions::sha256.eq(&sha256),
                letter_revisions::size.eq(new.pdf.len() as i64),
                letter_revisions::pdf.eq(new.pdf),
                letter_revisions::actor_id.eq(new.actor),
                letter_revisions::created_at.eq(at),
            ))
            .execute(conn)?;
        let mut detail = serde_json::json!({
            "revision": revision,
            "purpose": new.purpose,
            "sha256": sha256,
        });
        if let (Some(into), Some(more)) = (detail.as_object_mut(), new.detail.as_object()) {
            into.extend(more.clone());
        }
        audit::append(
            conn,
            Event {
                actor: new.actor,
                office: Some(office),
                action: "letter.revised",
                subject: format!("letter:{letter}"),
                detail,
            },
        )?;
        then(conn)?;
        Ok((revision, sha256.clone()))
    })
}

/// After a letter is numbered, renders it again with its number and appends the result as a
/// revision "numbered", in its own transaction. A letter without a generated PDF (an incoming
/// letter in the agenda book, a letter made outside naskah) has none to renew and is left as it
/// is. Should the process stop between the two transactions, the letter is numbered without the
/// numbered revision until [`repair_numbered`] runs at the next start (or signing renders it
/// from the stored data first).
pub fn add_numbered_revision(
    conn: &mut DbConn,
    letter: LetterId,
    actor: PersonId,
    settings: &Settings,
) -> Result<Option<i32>, LetterError> {
    let Some((last, _, _)) = latest_revision(conn, letter)? else {
        return Ok(None);
    };
    let rendered = render_stored(conn, letter, settings)?;
    let new = NewRevision {
        after: last,
        purpose: "numbered",
        pdf: &rendered.pdf,
        actor: Some(actor),
        detail: serde_json::json!({}),
    };
    let (revision, _) = append_revision(conn, letter, new, |_| Ok(()))?;
    Ok(Some(revision))
}

/// Letters numbered whose newest revision is still the one generated before the number: the
/// process stopped between numbering and rendering. Each gets its numbered revision now, as
/// the one who numbered it; `serve` calls this before it serves, so that no numbered letter is
/// downloaded without its number. How many were repaired.
pub fn repair_numbered(conn: &mut DbConn, settings: &Settings) -> Result<usize, LetterError> {
    use crate::db::schema::issued_numbers;
    let rows: Vec<(LetterId, i32, String)> = letters::table
        .inner_join(letter_revisions::table)
        .filter(letters::status.eq("numbered"))
        .select((
            letters::id,
            letter_revisions::revision,
            letter_revisions::purpose,
        ))
        .load(conn)?;
    let mut newest: std::collections::BTreeMap<LetterId, (i32, String)> = Default::default();
    for (letter, revision, purpose) in rows {
        let entry = newest.entry(letter).or_insert((revision, purpose.clone()));
        if revision > entry.0 {
            *entry = (revision, purpose);
        }
    }
    let mut repaired = 0;
    for (letter, (_, purpose)) in newest {
        if purpose != "generated" {
            continue;
        }
        let numbered_by: Option<PersonId> = issued_numbers::table
            .filter(issued_numbers::letter_id.eq(letter))
            .filter(issued_numbers::status.ne("void"))
            .select(issued_numbers::issued_by)
            .first(conn)
            .optional()?;
        let Some(actor) = numbered_by else {
            continue;
        };
        add_numbered_revision(conn, letter, actor, settings)?;
        tracing::warn!(%letter, "a numbered letter got its numbered revision at start-up");
        repaired += 1;
    }
    Ok(repaired)
}

/// The letters of `request` in the order they were made: permohonan, disposisi, …, berita acara.
pub fn chain(conn: &mut DbConn, request: RequestId) -> QueryResult<Vec<LetterSummary>> {
    letters::table
        .filter(letters::request_id.eq(request))
        .order(letters::id)
        .select((
            letters::id,
            letters::kind,
            letters::public_id,
            letters::status,
            letters::hal,
            letters::letter_date,
            letters::created_at,
        ))
        .load(conn)
}

/// Every revision of `letter`, oldest first.
pub fn revisions(conn: &mut DbConn, letter: LetterId) -> QueryResult<Vec<Revision>> {
    letter_revisions::table
        .filter(letter_revisions::letter_id.eq(letter))
        .order(letter_revisions::revision)
        .select((
            letter_revisions::revision,
            letter_revisions::purpose,
            letter_revisions::sha256,
            letter_revisions::size,
            letter_revisions::pdf,
            letter_revisions::created_at,
        ))
        .load(conn)
}
