//! Notifications of what happened: `letter.signed` when every official a request's letter
//! names has signed it, `request.finished` when a request reaches an end of its SOP (finished
//! or rejected).
//!
//! An event is written in the transaction that makes it happen ([`letter_signed`],
//! [`request_finished`]), together with a notice in the applicant's inbox: nothing is
//! announced that did not happen, and nothing that happened goes unannounced after a crash.
//! The worker ([`worker`]) then makes out the event's deliveries — one per configured webhook
//! that wants it, one e-mail per recipient with an address — and delivers each at least once,
//! retrying with back-off, however many naskah processes share the database.

pub mod mail;
pub mod webhook;
pub mod worker;

use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde_json::{Value, json};

use crate::db::DbConn;
use crate::db::schema::{inbox, letters, notifications, offices, requests};
use crate::ids::{LetterId, OfficeId, PersonId, RequestId};
use crate::letters::LetterKind;

/// Every official a letter of a request names has signed it.
pub const LETTER_SIGNED: &str = "letter.signed";
/// A request reached an end of its SOP: finished, or rejected.
pub const REQUEST_FINISHED: &str = "request.finished";
/// The events, as webhooks name them in `events`.
pub const EVENTS: [&str; 2] = [LETTER_SIGNED, REQUEST_FINISHED];

/// The request an event is about, as its payload carries it.
struct About {
    office: OfficeId,
    office_code: String,
    applicant: PersonId,
    request: Value,
    application: String,
}

fn about(conn: &mut DbConn, request: RequestId) -> QueryResult<About> {
    let (office, office_code, applicant, application, organization, status, subdomain): (
        OfficeId,
        String,
        PersonId,
        String,
        String,
        String,
        Option<String>,
    ) = requests::table
        .inner_join(offices::table)
        .filter(requests::id.eq(request))
        .select((
            requests::office_id,
            offices::code,
            requests::applicant_id,
            requests::application_name,
            requests::applicant_organization,
            requests::status,
            requests::subdomain,
        ))
        .first(conn)?;
    Ok(About {
        office,
        office_code,
        applicant,
        request: json!({
            "id": request,
            "application": application,
            "organization": organization,
            "subdomain": subdomain,
            "status": status,
        }),
        application,
    })
}

/// Records that `letter` is signed by every official it names: a `letter.signed` event (for
/// the webhooks) and, when the letter goes to the applicant's agency, a notice to the
/// applicant. Letters outside a request (reports) go out by the schedule and are not
/// announced here. Call it inside the transaction that adds the last signature.
pub fn letter_signed(conn: &mut DbConn, letter: LetterId, now: NaiveDateTime) -> QueryResult<()> {
    let (request, kind, hal, public_id): (Option<RequestId>, String, String, String) =
        letters::table
            .find(letter)
            .select((
                letters::request_id,
                letters::kind,
                letters::hal,
                letters::public_id,
            ))
            .first(conn)?;
    let Some(request) = request else {
        return Ok(());
    };
    let about = about(conn, request)?;
    let number = crate::numbering::number_of(conn, letter)
        .map_err(|e| diesel::result::Error::QueryBuilderError(e.to_string().into()))?;
    let parsed = kind.parse::<LetterKind>().ok();
    let name = parsed.map_or(kind.clone(), |k| k.name().to_owned());
    let payload = json!({
        "office": about.office_code,
        "request": about.request,
        "letter": {
            "id": letter,
            "kind": kind,
            "name": name,
            "hal": hal,
            "number": number.as_ref().map(|(n, _)| n),
            "date": number.as_ref().map(|(_, d)| d.to_string()),
            "public_id": public_id,
        },
    });
    record(
        conn,
        LETTER_SIGNED,
        about.office,
        Some(request),
        Some(letter),
        &payload,
        now,
    )?;
    // The Dinas's own working papers (dispositions, its reports) are not the applicant's news.
    if !parsed.is_some_and(LetterKind::to_applicant) {
        return Ok(());
    }
    notice(
        conn,
        about.applicant,
        LETTER_SIGNED,
        &format!("{name} untuk {} telah ditandatangani", about.application),
        Some(letter),
        Some(request),
        now,
    )
}

/// Records that `request` reached an end of its SOP: a `request.finished` event (its
/// `status` says finished or rejected) and a notice to the applicant. Call it inside the
/// transaction that closes the request.
pub fn request_finished(
    conn: &mut DbConn,
    request: RequestId,
    now: NaiveDateTime,
) -> QueryResult<()> {
    let about = about(conn, request)?;
    let rejected = about.request["status"] == "rejected";
    let payload = json!({ "office": about.office_code, "request": about.request });
    record(
        conn,
        REQUEST_FINISHED,
        about.office,
        Some(request),
        None,
        &payload,
        now,
    )?;
    let subject = if rejected {
        format!("Permohonan {} ditolak", about.application)
    } else {
        format!("Permohonan {} selesai", about.application)
    };
    notice(
        conn,
        about.applicant,
        REQUEST_FINISHED,
        &subject,
        None,
        Some(request),
        now,
    )
}

fn record(
    conn: &mut DbConn,
    event: &str,
    office: OfficeId,
    request: Option<RequestId>,
    letter: Option<LetterId>,
    payload: &Value,
    now: NaiveDateTime,
) -> QueryResult<()> {
    diesel::insert_into(notifications::table)
        .values((
            notifications::event.eq(event),
            notifications::office_id.eq(office),
            notifications::request_id.eq(request),
            notifications::letter_id.eq(letter),
            notifications::payload.eq(payload.to_string()),
            notifications::created_at.eq(now),
        ))
        .execute(conn)
        .map(|_| ())
}

fn notice(
    conn: &mut DbConn,
    person: PersonId,
    kind: &str,
    subject: &str,
    letter: Option<LetterId>,
    request: Option<RequestId>,
    now: NaiveDateTime,
) -> QueryResult<()> {
    diesel::insert_into(inbox::table)
        .values((
            inbox::person_id.eq(person),
            inbox::kind.eq(kind),
            inbox::subject.eq(subject),
            inbox::letter_id.eq(letter),
            inbox::request_id.eq(request),
            inbox::created_at.eq(now),
        ))
        .execute(conn)
        .map(|_| ())
}
