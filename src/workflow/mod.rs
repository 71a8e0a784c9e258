//! The workflow engine: a hosting request as an instance of its office's SOP.
//!
//! A request keeps the SOP version its office had when it was filed. It moves one step at a
//! time, only when the acting person holds the step's role in the office (or is the request's
//! applicant, for the applicant's steps) and everything the step requires and must output
//! exists. Each move is recorded in `request_steps` (with its SLA clock) and in the audit log,
//! in the same transaction; a refused move changes nothing.

pub mod compose;
pub mod desk;
mod reach;
mod sla;
mod sops;

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use serde::Serialize;

pub use reach::{Reach, applicant_only, files_anywhere, reach, requests_within, visible_requests};
pub use sla::{StepRecord, history};
pub use sops::{current_sop, install_sop, sop_version};

use crate::audit::{self, Event};
use crate::calendar;
use crate::db::schema::{letters, request_items, request_steps, requests};
use crate::db::{DbConn, write_transaction};
use crate::digest::sha256_hex;
use crate::ids::{LetterId, OfficeId, PersonId, RequestId, SopVersionId};
use crate::letters::{LetterKind, LetterState, letterhead_of, store as letter_store};
use crate::office;
use crate::people;
use crate::sop::{Artefact, Attachment, Item, Outcome, Route, Sop, Step, Target};

/// Why the workflow refused. The messages are what the person acting reads, in Indonesian.
#[derive(Debug, thiserror::Error)]
pub enum WorkflowError {
    #[error("permohonan {0} tidak ditemukan")]
    NotFound(RequestId),
    #[error("kantor ini belum memiliki SOP")]
    NoSop,
    #[error("SOP tidak dapat dipakai: {0}")]
    InvalidSop(String),
    #[error("permohonan sudah berakhir ({0})")]
    Closed(String),
    #[error("permohonan sedang berada pada langkah {current}, bukan langkah {given}")]
    OutOfOrder { current: String, given: String },
    #[error(
        "langkah {step} dikerjakan oleh {roles}; Anda tidak memegang peran tersebut di kantor ini"
    )]
    WrongRole { step: String, roles: String },
    #[error("langkah {step} hanya dapat dikerjakan oleh pemohon permohonan ini")]
    NotApplicant { step: String },
    #[error("langkah {step} belum dapat diselesaikan; belum ada: {missing}")]
    Missing { step: String, missing: String },
    #[error("langkah {step} memerlukan keputusan: {choices}")]
    DecisionRequired { step: String, choices: String },
    #[error("'{given}' bukan pilihan keputusan langkah {step} ({choices})")]
    UnknownDecision {
        step: String,
        given: String,
        choices: String,
    },
    #[error("langkah {step} bukan langkah keputusan")]
    NotADecision { step: String },
    #[error("{0}")]
    Invalid(String),
    /// The person may not do this at all (not a matter of what they sent).
    #[error("{0}")]
    Forbidden(String),
    /// What was asked for was there once and is no more (a password already revealed).
    #[error("{0}")]
    Gone(String),
    #[error(transparent)]
    Letter(#[from] letter_store::LetterError),
    #[error(transparent)]
    Database(#[from] diesel::result::Error),
}

pub type Result<T> = std::result::Result<T, WorkflowError>;

/// A request as stored.
#[derive(Clone, Debug, Queryable, Selectable, Serialize)]
#[diesel(table_name = requests)]
pub struct Request {
    pub id: RequestId,
    pub office_id: OfficeId,
    pub sop_version_id: SopVersionId,
    pub applicant_id: PersonId,
    pub applicant_organization: String,
    pub application_name: String,
    pub subdomain: Option<String>,
    pub application_type: Option<String>,
    pub current_step: Option<String>,
    pub status: String,
    pub filed_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    pub finished_at: Option<NaiveDateTime>,
}

/// What an applicant fills in to file a request.
#[derive(Clone, Debug)]
pub struct NewRequest<'a> {
    pub organization: &'a str,
    pub application_name: &'a str,
    pub subdomain: Option<&'a str>,
    pub application_type: Option<&'a str>,
}

/// An attachment or a record, as `request_items` keeps it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ItemRef {
    Attachment(Attachment),
    Artefact(Artefact),
}

impl ItemRef {
    fn kind(self) -> &'static str {
        match self {
            ItemRef::Attachment(_) => "attachment",
            ItemRef::Artefact(_) => "artefact",
        }
    }

    fn id(self) -> &'static str {
        match self {
            ItemRef::Attachment(a) => a.id(),
            ItemRef::Artefact(a) => a.id(),
        }
    }
}

/// A completed step: where the request was and where it went.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Moved {
    pub from: String,
    pub to: Target,
    pub decision: Option<String>,
}

/// The database's form of a moment: UTC to the microsecond.
pub(crate) fn stored(at: DateTime<Utc>) -> NaiveDateTime {
    DateTime::from_timestamp_micros(at.timestamp_micros())
        .unwrap_or(at)
        .naive_utc()
}

pub fn find(conn: &mut DbConn, request: RequestId) -> Result<Request> {
    requests::table
        .find(request)
        .select(Request::as_select())
        .first(conn)
        .optional()?
        .ok_or(WorkflowError::NotFound(request))
}

/// Files a request at `office` under its SOP in force; it starts at the SOP's first step.
pub fn file_request(
    conn: &mut DbConn,
    office: OfficeId,
    applicant: PersonId,
    new: &NewRequest<'_>,
    at: DateTime<Utc>,
) -> Result<RequestId> {
    if new.application_name.trim().is_empty() {
        return Err(WorkflowError::Invalid("nama aplikasi wajib diisi".into()));
    }
    for (label, text) in [
        ("nama aplikasi", Some(new.application_name)),
        ("nama perangkat daerah", Some(new.organization)),
        ("subdomain", new.subdomain),
        ("jenis aplikasi", new.application_type),
    ] {
        one_line(label, text.unwrap_or_default())?;
    }
    write_transaction(conn, |conn| {
        let (version, sop) = current_sop(conn, office)?;
        let first = sop.first_step().ok_or(WorkflowError::NoSop)?;
        let applicant_role = sop.roles.iter().find(|r| r.applicant);
        let held = people::roles_in(conn, applicant, office)?;
        if !applicant_role.is_some_and(|role| held.contains(&role.id)) {
            return Err(WorkflowError::Forbidden(format!(
                "hanya {} yang terdaftar di kantor ini yang dapat mengajukan permohonan",
                applicant_role.map_or("pemohon", |r| r.name.as_str())
            )));
        }
        let now = stored(at);
        let id: RequestId = diesel::insert_into(requests::table)
            .values((
                requests::office_id.eq(office),
                requests::sop_version_id.eq(version),
                requests::applicant_id.eq(applicant),
                requests::applicant_organization.eq(new.organization),
                requests::application_name.eq(new.application_name.trim()),
                requests::subdomain.eq(new.subdomain),
                requests::application_type.eq(new.application_type),
                requests::current_step.eq(&first.no),
                requests::status.eq("open"),
                requests::filed_at.eq(now),
                requests::updated_at.eq(now),
            ))
            .returning(requests::id)
            .get_result(conn)?;
        enter_step(conn, office, id, first, now)?;
        audit::append(
            conn,
            Event {
                actor: Some(applicant),
                office: Some(office),
                action: "request.filed",
                subject: format!("request:{id}"),
                detail: serde_json::json!({
                    "sop_version": version,
                    "application": new.application_name.trim(),
                    "step": first.no,
                }),
            },
        )?;
        Ok(id)
    })
}

/// Opens the SLA clock of `step` for `request` at `now` (UTC).
fn enter_step(
    conn: &mut DbConn,
    office: OfficeId,
    request: RequestId,
    step: &Step,
    now: NaiveDateTime,
) -> Result<()> {
    let offset = office::find(conn, office)?.zone().offset();
    let calendar = calendar::for_office(conn, office)?;
    let deadline = step
        .time
        .deadline(&calendar, now + offset)
        .map(|local| local - offset);
    diesel::insert_into(request_steps::table)
        .values((
            request_steps::request_id.eq(request),
            request_steps::step_no.eq(&step.no),
            request_steps::entered_at.eq(now),
            request_steps::deadline_at.eq(deadline),
        ))
        .execute(conn)?;
    Ok(())
}

/// Adds an attachment (by the applicant) or a record (by the Dinas) to an open request.
/// `value` is what a person reads: a file name, a subdomain, an IP address, an account name;
/// never a password.
pub fn add_item(
    conn: &mut DbConn,
    request: RequestId,
    actor: PersonId,
    item: ItemRef,
    value: &str,
    content: Option<&[u8]>,
    at: DateTime<Utc>,
) -> Result<()> {
    write_transaction(conn, |conn| {
        add_item_in(conn, request, actor, item, value, content, at)
    })
}

/// Refuses text meant for one line that holds a control character (a NUL byte, a line
/// break, an escape), which no page or letter can show as it was typed.
pub fn one_line(label: &str, text: &str) -> Result<()> {
    if text.contains(char::is_control) {
        return Err(WorkflowError::Invalid(format!(
            "{label} memuat karakter kendali; tulis dalam satu baris tanpa karakter khusus"
        )));
    }
    Ok(())
}

/// The most bytes of attachments one request keeps, and the most attachments.
pub const ATTACHMENT_QUOTA: i64 = 100 << 20;
pub const MAX_ATTACHMENTS: i64 = 50;

/// The bytes to store for an attachment of `request`: none when the same file is stored for it
/// already (the row then names it by its SHA-256); refused past the request's quota.
fn stored_once<'a>(
    conn: &mut DbConn,
    request: RequestId,
    item: ItemRef,
    bytes: &'a [u8],
    sha256: &str,
) -> Result<Option<&'a [u8]>> {
    let stored: i64 = request_items::table
        .filter(request_items::request_id.eq(request))
        .filter(request_items::sha256.eq(sha256))
        .filter(request_items::content.is_not_null())
        .count()
        .get_result(conn)?;
    if stored > 0 {
        return Ok(None);
    }
    let (count, size): (i64, Option<i64>) = request_items::table
        .filter(request_items::request_id.eq(request))
        .filter(request_items::kind.eq(item.kind()))
        .select((
            diesel::dsl::count_star(),
            diesel::dsl::sql::<diesel::sql_types::Nullable<diesel::sql_types::BigInt>>(
                "CAST(SUM(LENGTH(content)) AS BIGINT)",
            ),
        ))
        .first(conn)?;
    if count >= MAX_ATTACHMENTS || size.unwrap_or(0) + bytes.len() as i64 > ATTACHMENT_QUOTA {
        return Err(WorkflowError::Invalid(format!(
            "lampiran permohonan ini sudah mencapai batas ({MAX_ATTACHMENTS} berkas, {} MB)",
            ATTACHMENT_QUOTA >> 20
        )));
    }
    Ok(Some(bytes))
}

/// [`add_item`] inside the caller's write transaction.
pub(crate) fn add_item_in(
    conn: &mut DbConn,
    request: RequestId,
    actor: PersonId,
    item: ItemRef,
    value: &str,
    content: Option<&[u8]>,
    at: DateTime<Utc>,
) -> Result<()> {
    if value.trim().is_empty() {
        return Err(WorkflowError::Invalid("isian tidak boleh kosong".into()));
    }
    one_line("isian", value)?;
    {
        let req = find(conn, request)?;
        if req.status != "open" {
            return Err(WorkflowError::Closed(req.status));
        }
        let is_applicant = req.applicant_id == actor;
        // Staff: someone holding one of the SOP's roles other than the applicant's.
        let sop = sop_version(conn, req.sop_version_id)?;
        let staff = people::roles_in(conn, actor, req.office_id)?
            .iter()
            .any(|held| sop.role(held).is_some_and(|r| !r.applicant));
        match item {
            ItemRef::Attachment(_) if !is_applicant => {
                return Err(WorkflowError::Forbidden(
                    "lampiran permohonan hanya dapat diunggah oleh pemohon".into(),
                ));
            }
            ItemRef::Artefact(_) if !staff => {
                return Err(WorkflowError::Forbidden(
                    "catatan pelaksanaan hanya dapat diisi oleh petugas kantor ini".into(),
                ));
            }
            _ => {}
        }
        let sha256 = content.map(sha256_hex);
        let content = match (content, &sha256) {
            (Some(bytes), Some(sha256)) => stored_once(conn, request, item, bytes, sha256)?,
            _ => None,
        };
        if content.is_none() && sha256.is_some() {
            // The same file again for the same item: it is there already.
            let again: i64 = request_items::table
                .filter(request_items::request_id.eq(request))
                .filter(request_items::item.eq(item.id()))
                .filter(request_items::sha256.eq(&sha256))
                .count()
                .get_result(conn)?;
            if again > 0 {
                return Ok(());
            }
        }
        diesel::insert_into(request_items::table)
            .values((
                request_items::request_id.eq(request),
                request_items::kind.eq(item.kind()),
                request_items::item.eq(item.id()),
                request_items::value.eq(value.trim()),
                request_items::content.eq(content),
                request_items::sha256.eq(&sha256),
                request_items::step_no.eq(&req.current_step),
                request_items::created_by.eq(actor),
                request_items::created_at.eq(stored(at)),
            ))
            .execute(conn)?;
        audit::append(
            conn,
            Event {
                actor: Some(actor),
                office: Some(req.office_id),
                action: "request.item_added",
                subject: format!("request:{request}"),
                detail: serde_json::json!({ "kind": item.kind(), "item": item.id(), "value": value.trim() }),
            },
        )?;
        Ok(())
    }
}

/// Generates a letter of `kind` for the step `request` is at, as `actor`, from its template and
/// `fields` (a JSON object; the request supplies the applicant, application, subdomain and date
/// where `fields` leave them out), and stores it with its PDF as revision 1.
pub fn produce_letter(
    conn: &mut DbConn,
    request: RequestId,
    actor: PersonId,
    kind: LetterKind,
    fields: &serde_json::Value,
    settings: &letter_store::Settings,
    at: DateTime<Utc>,
) -> Result<LetterId> {
    let req = find(conn, request)?;
    if req.status != "open" {
        return Err(WorkflowError::Closed(req.status));
    }
    let sop = sop_version(conn, req.sop_version_id)?;
    let step_no = req.current_step.clone().unwrap_or_default();
    let step = sop
        .step(&step_no)
        .ok_or_else(|| WorkflowError::InvalidSop(format!("step {step_no} is not in the SOP")))?;
    authorize(conn, &sop, step, &req, actor)?;
    let makes = step
        .every_item()
        .any(|item| matches!(item, Item::Letter { kind: k, .. } if *k == kind));
    if !makes {
        return Err(WorkflowError::Invalid(format!(
            "langkah {step_no} tidak menghasilkan {}",
            kind.name()
        )));
    }
    let serde_json::Value::Object(mut data) = fields.clone() else {
        return Err(WorkflowError::Invalid(
            "isian surat harus berupa objek JSON".into(),
        ));
    };
    // A blank subdomain is one not yet known: the request's, when it has one, else the letter
    // is refused by its template with the field named.
    if data
        .get("subdomain")
        .and_then(serde_json::Value::as_str)
        .is_some_and(|s| s.trim().is_empty())
    {
        data.remove("subdomain");
    }
    let office = office::find(conn, req.office_id)?;
    let local_date = (stored(at) + office.zone().offset()).date();
    let defaults = [
        (
            "applicant_organization",
            Some(req.applicant_organization.clone()),
        ),
        ("application_name", Some(req.application_name.clone())),
        ("subdomain", req.subdomain.clone()),
        ("date", Some(local_date.format("%Y-%m-%d").to_string())),
        ("sifat", Some("Biasa".to_owned())),
        ("lampiran", Some("-".to_owned())),
    ];
    for (key, value) in defaults {
        if let Some(value) = value {
            data.entry(key).or_insert(serde_json::Value::String(value));
        }
    }
    let letterhead = letterhead_of(&office).map_err(letter_store::LetterError::from)?;
    let owner = letter_store::Owner {
        office: req.office_id,
        request: Some(request),
        actor: Some(actor),
    };
    Ok(letter_store::create(
        conn,
        owner,
        &letterhead,
        kind,
        &serde_json::Value::Object(data),
        settings,
        stored(at),
    )?)
}

/// Whether `item` exists for `request`.
fn exists(conn: &mut DbConn, request: RequestId, item: &Item) -> Result<bool> {
    let count: i64 = match item {
        Item::Letter { kind, state } => {
            let states: Vec<&str> = [
                LetterState::Draft,
                LetterState::Numbered,
                LetterState::Signed,
            ]
            .into_iter()
            .filter(|s| s >= state)
            .map(LetterState::id)
            .collect();
            letters::table
                .filter(letters::request_id.eq(request))
                .filter(letters::kind.eq(kind.id()))
                .filter(letters::status.eq_any(states))
                .count()
                .get_result(conn)?
        }
        Item::Attachment { id } => count_items(conn, request, ItemRef::Attachment(*id))?,
        Item::Artefact { id } => count_items(conn, request, ItemRef::Artefact(*id))?,
    };
    Ok(count > 0)
}

fn count_items(conn: &mut DbConn, request: RequestId, item: ItemRef) -> Result<i64> {
    Ok(request_items::table
        .filter(request_items::request_id.eq(request))
        .filter(request_items::kind.eq(item.kind()))
        .filter(request_items::item.eq(item.id()))
        .count()
        .get_result(conn)?)
}

/// Refuses `actor` unless they may take `step` of `req`.
fn authorize(
    conn: &mut DbConn,
    sop: &Sop,
    step: &Step,
    req: &Request,
    actor: PersonId,
) -> Result<()> {
    let applicant_step = step
        .actors
        .iter()
        .any(|a| sop.role(a).is_some_and(|r| r.applicant));
    if applicant_step && actor == req.applicant_id {
        return Ok(());
    }
    let held = people::roles_in(conn, actor, req.office_id)?;
    if step
        .actors
        .iter()
        .any(|a| held.contains(a) && sop.role(a).is_some_and(|r| !r.applicant))
    {
        return Ok(());
    }
    if applicant_step && step.actors.len() == 1 {
        return Err(WorkflowError::NotApplicant {
            step: step.no.clone(),
        });
    }
    let roles: Vec<&str> = step
        .actors
        .iter()
        .map(|a| sop.role(a).map_or(a.as_str(), |r| r.name.as_str()))
        .collect();
    Err(WorkflowError::WrongRole {
        step: step.no.clone(),
        roles: roles.join(" atau "),
    })
}

/// Completes `step_no` of `request` as `actor`, with `decision` on a decision step, and moves
/// the request on. Everything is checked first; a refusal changes nothing.
pub fn advance(
    conn: &mut DbConn,
    request: RequestId,
    actor: PersonId,
    step_no: &str,
    decision: Option<&str>,
    note: Option<&str>,
    at: DateTime<Utc>,
) -> Result<Moved> {
    write_transaction(conn, |conn| {
        let req = find(conn, request)?;
        if req.status != "open" {
            return Err(WorkflowError::Closed(req.status));
        }
        let sop = sop_version(conn, req.sop_version_id)?;
        let current = req.current_step.clone().unwrap_or_default();
        if current != step_no {
            return Err(WorkflowError::OutOfOrder {
                current,
                given: step_no.to_owned(),
            });
        }
        let step = sop.step(step_no).ok_or_else(|| {
            WorkflowError::InvalidSop(format!("step {step_no} is not in the SOP"))
        })?;
        authorize(conn, &sop, step, &req, actor)?;

        let (target, branch_outputs) = match (&step.route, decision) {
            (Route::Next { to }, None) => (to.clone(), Vec::new()),
            (Route::Next { .. }, Some(_)) => {
                return Err(WorkflowError::NotADecision {
                    step: step.no.clone(),
                });
            }
            (Route::Decision { branches, .. }, given) => {
                let choices = branches
                    .iter()
                    .map(|b| b.value.as_str())
                    .collect::<Vec<_>>()
                    .join(", ");
                let Some(given) = given else {
                    return Err(WorkflowError::DecisionRequired {
                        step: step.no.clone(),
                        choices,
                    });
                };
                let branch = branches.iter().find(|b| b.value == given).ok_or_else(|| {
                    WorkflowError::UnknownDecision {
                        step: step.no.clone(),
                        given: given.to_owned(),
                        choices,
                    }
                })?;
                (branch.to.clone(), branch.outputs.clone())
            }
        };

        let mut missing = Vec::new();
        for item in step
            .requires
            .iter()
            .chain(&step.outputs)
            .chain(&branch_outputs)
        {
            if !exists(conn, request, item)? && !missing.contains(item) {
                missing.push(item.clone());
            }
        }
        if !missing.is_empty() {
            let names: Vec<String> = missing.iter().map(ToString::to_string).collect();
            return Err(WorkflowError::Missing {
                step: step.no.clone(),
                missing: names.join("; "),
            });
        }

        let now = stored(at);
        let (next_step, status, finished_at) = match &target {
            Target::Step(no) => (Some(no.clone()), "open", None),
            Target::End(Outcome::Finished) => (None, Outcome::Finished.id(), Some(now)),
            Target::End(Outcome::Rejected) => (None, Outcome::Rejected.id(), Some(now)),
        };
        // Guarded on the step it was read at, so that of two people completing the same step
        // at once, one moves the request and the other is refused.
        let updated = diesel::update(
            requests::table
                .filter(requests::id.eq(request))
                .filter(requests::status.eq("open"))
                .filter(requests::current_step.eq(step_no)),
        )
        .set((
            requests::current_step.eq(&next_step),
            requests::status.eq(status),
            requests::updated_at.eq(now),
            requests::finished_at.eq(finished_at),
        ))
        .execute(conn)?;
        if updated != 1 {
            let moved_on = find(conn, request)?;
            return Err(WorkflowError::OutOfOrder {
                current: moved_on.current_step.unwrap_or(moved_on.status),
                given: step_no.to_owned(),
            });
        }
        let next_label = next_step.clone().unwrap_or_else(|| format!("end:{status}"));
        diesel::update(
            request_steps::table
                .filter(request_steps::request_id.eq(request))
                .filter(request_steps::step_no.eq(step_no))
                .filter(request_steps::completed_at.is_null()),
        )
        .set((
            request_steps::completed_at.eq(now),
            request_steps::completed_by.eq(actor),
            request_steps::decision.eq(decision),
            request_steps::next_step.eq(&next_label),
            request_steps::note.eq(note),
        ))
        .execute(conn)?;
        if let Target::Step(no) = &target {
            let next = sop
                .step(no)
                .ok_or_else(|| WorkflowError::InvalidSop(format!("step {no} is not in the SOP")))?;
            enter_step(conn, req.office_id, request, next, now)?;
        } else {
            crate::notify::request_finished(conn, request, now)?;
        }
        audit::append(
            conn,
            Event {
                actor: Some(actor),
                office: Some(req.office_id),
                action: "request.step_completed",
                subject: format!("request:{request}"),
                detail: serde_json::json!({
                    "from": step_no,
                    "to": next_label,
                    "decision": decision,
                    "note": note,
                }),
            },
        )?;
        Ok(Moved {
            from: step_no.to_owned(),
            to: target,
            decision: decision.map(str::to_owned),
        })
    })
}
