//! What a person sees of a request and of their work: a request's overview (its SOP steps as
//! a timeline, its records and letter chain, and what the viewer may do now), and the work
//! waiting for a person (steps to take, letters to number, letters to sign), with deadlines.
//! Both check the viewer: a request of an office where they hold no role, or another
//! applicant's, is "not found".

use std::collections::HashMap;

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use serde::Serialize;
use serde_json::Value;

use super::{Request, Result, StepRecord, WorkflowError, applicant_only, find, history};
use super::{sop_version, stored};
use crate::db::DbConn;
use crate::db::schema::{letter_signatures, letters, person_roles, request_items, request_steps};
use crate::db::schema::{offices, requests};
use crate::ids::{LetterId, OfficeId, PersonId, RequestId, SopVersionId};
use crate::letters::{LetterKind, LetterState};
use crate::sop::{Item, Route, Sop, Step};

/// A request as its page shows it to one viewer.
#[derive(Debug, Serialize)]
pub struct Overview {
    pub request: Request,
    pub office_code: String,
    pub office_name: String,
    pub sop_title: String,
    /// The office's time zone (WIB, WITA, WIT): every time below is local to it.
    pub zone: &'static str,
    /// When the request was filed, office local time.
    pub filed_local: NaiveDateTime,
    /// Every pass through a step so far, the open one last.
    pub timeline: Vec<StepRecord>,
    /// The step the request waits at, none once it has ended.
    pub current: Option<Current>,
    pub records: Vec<Record>,
    pub letters: Vec<ChainLetter>,
    /// The viewer may number letters of this office (the secretariat).
    pub may_number: bool,
    /// Hosting accounts handed over, oldest first (never their passwords).
    pub handovers: Vec<crate::handover::Handover>,
}

/// The open step, and what the viewer can do at it.
#[derive(Debug, Serialize)]
pub struct Current {
    pub no: String,
    pub description: String,
    /// The roles that take it, by name.
    pub roles: Vec<String>,
    /// Office local time.
    pub deadline: Option<NaiveDateTime>,
    pub late: bool,
    /// The question and its choices (value, label) at a decision step.
    pub decision: Option<(String, Vec<(String, String)>)>,
    /// What must still exist before it can be completed (a decision's branch outputs are
    /// checked when it is taken).
    pub missing: Vec<String>,
    /// The viewer may take this step.
    pub mine: bool,
    /// What the viewer may make at it: letter kinds, attachments and records, by id and name.
    pub letters: Vec<(String, String)>,
    pub attachments: Vec<(String, String)>,
    pub artefacts: Vec<(String, String)>,
}

/// An attachment or a record of the request.
#[derive(Debug, Serialize)]
pub struct Record {
    pub kind: String,
    pub item: String,
    pub name: String,
    pub value: String,
    pub step_no: Option<String>,
    pub has_file: bool,
    /// Office local time.
    pub created_at: NaiveDateTime,
}

/// A letter of the chain.
#[derive(Debug, Serialize)]
pub struct ChainLetter {
    pub id: LetterId,
    pub kind: String,
    pub name: String,
    pub status: String,
    pub hal: String,
    pub number: Option<String>,
    pub public_id: String,
    /// Each signature block: name, and whether signed — none for a party without a NIP, who
    /// holds no certificate and signs the printed copy.
    pub signers: Vec<(String, Option<bool>)>,
    /// The viewer is a signer who has not signed yet and the letter is numbered.
    pub viewer_signs: bool,
    /// The applicant's own letter: numbered by the applicant's agency, not by this office.
    pub incoming: bool,
}

/// The overview of `request` for `viewer`, as of `now`.
pub fn overview(
    conn: &mut DbConn,
    request: RequestId,
    viewer: PersonId,
    now: DateTime<Utc>,
) -> Result<Overview> {
    let req = find(conn, request)?;
    let Some(roles) = roles_if_visible(conn, &req, viewer)? else {
        return Err(WorkflowError::NotFound(request));
    };
    let sop = sop_version(conn, req.sop_version_id)?;
    let office = crate::office::find(conn, req.office_id)?;
    let offset = office.zone().offset();
    let timeline = history(conn, request, now)?;
    let viewer_person = crate::people::find(conn, viewer)?;
    let current = match (&req.current_step, timeline.last()) {
        (Some(no), Some(record)) if req.status == "open" => {
            let step = sop
                .step(no)
                .ok_or_else(|| WorkflowError::InvalidSop(format!("step {no} is not in the SOP")))?;
            Some(current(conn, &sop, step, &req, viewer, &roles, record)?)
        }
        _ => None,
    };
    let mut records = records(conn, request)?;
    for record in &mut records {
        record.created_at += offset;
    }
    let letters = chain(conn, request, viewer_person.nip.as_deref())?;
    Ok(Overview {
        may_number: roles.iter().any(|r| r == crate::people::roles::SECRETARIAT),
        zone: office.zone().code(),
        filed_local: req.filed_at + offset,
        office_code: office.code,
        office_name: office.name,
        sop_title: sop.header.title.clone(),
        timeline,
        current,
        records,
        letters,
        handovers: crate::handover::of_request(conn, req.id)?,
        request: req,
    })
}

/// The viewer's roles in the request's office when they may see the request: staff of its
/// office see all of its requests, an applicant their own. None: not theirs to see.
pub fn roles_if_visible(
    conn: &mut DbConn,
    req: &Request,
    viewer: PersonId,
) -> Result<Option<Vec<String>>> {
    let roles = crate::people::roles_in(conn, viewer, req.office_id)?;
    let visible = !roles.is_empty()
        && (req.applicant_id == viewer || !applicant_only(conn, req.office_id, &roles)?);
    Ok(visible.then_some(roles))
}

/// A letter as a viewer who may see it knows it.
#[derive(Debug)]
pub struct SeenLetter {
    pub office: OfficeId,
    pub request: Option<RequestId>,
    pub kind: String,
}

/// The one rule of who may see a letter, for every route that names one (its PDF, signing
/// it, a job's outcome): staff of its office, and the applicant of its request. None: the
/// letter is as unknown to the viewer as one that does not exist, whatever its state.
pub fn letter_if_visible(
    conn: &mut DbConn,
    letter: LetterId,
    viewer: PersonId,
) -> Result<Option<SeenLetter>> {
    let found: Option<(OfficeId, Option<RequestId>, String)> = letters::table
        .find(letter)
        .select((letters::office_id, letters::request_id, letters::kind))
        .first(conn)
        .optional()?;
    let Some((office, request, kind)) = found else {
        return Ok(None);
    };
    let roles = crate::people::roles_in(conn, viewer, office)?;
    if roles.is_empty() {
        return Ok(None);
    }
    let applicant = match applicant_only(conn, office, &roles) {
        Ok(applicant) => applicant,
        // An office without an SOP has no applicants: its people are its staff.
        Err(WorkflowError::NoSop) => false,
        Err(error) => return Err(error),
    };
    let own = match request {
        Some(request) => find(conn, request)?.applicant_id == viewer,
        None => false,
    };
    Ok((!applicant || own).then_some(SeenLetter {
        office,
        request,
        kind,
    }))
}

fn current(
    conn: &mut DbConn,
    sop: &Sop,
    step: &Step,
    req: &Request,
    viewer: PersonId,
    roles: &[String],
    record: &StepRecord,
) -> Result<Current> {
    let mine = may_take(sop, step, req.applicant_id, viewer, roles);
    let mut missing = Vec::new();
    for item in step.requires.iter().chain(&step.outputs) {
        if !super::exists(conn, req.id, item)? && !missing.contains(&item.to_string()) {
            missing.push(item.to_string());
        }
    }
    let mut letters = Vec::new();
    let mut attachments = Vec::new();
    let mut artefacts = Vec::new();
    for item in step.every_item() {
        let entry = match item {
            Item::Letter { kind, .. } => (&mut letters, kind.id(), kind.name()),
            Item::Attachment { id } => (&mut attachments, id.id(), id.name()),
            Item::Artefact { id } => (&mut artefacts, id.id(), id.name()),
        };
        if !entry
            .0
            .iter()
            .any(|(id, _): &(String, String)| id == entry.1)
        {
            entry.0.push((entry.1.to_owned(), entry.2.to_owned()));
        }
    }
    Ok(Current {
        no: step.no.clone(),
        description: step.description.clone(),
        roles: step
            .actors
            .iter()
            .map(|a| sop.role(a).map_or(a.clone(), |r| r.name.clone()))
            .collect(),
        deadline: record.deadline,
        late: record.late,
        decision: match &step.route {
            Route::Decision {
                question, branches, ..
            } => Some((
                question.clone(),
                branches
                    .iter()
                    .map(|b| (b.value.clone(), b.label.clone()))
                    .collect(),
            )),
            Route::Next { .. } => None,
        },
        missing,
        mine,
        letters: if mine { letters } else { Vec::new() },
        attachments: if mine { attachments } else { Vec::new() },
        artefacts: if mine { artefacts } else { Vec::new() },
    })
}

/// Whether `viewer`, holding `roles` in the request's office, may take `step` (as
/// [`super::authorize`] decides, without reading the database again).
fn may_take(
    sop: &Sop,
    step: &Step,
    applicant: PersonId,
    viewer: PersonId,
    roles: &[String],
) -> bool {
    step.actors.iter().any(|actor| {
        sop.role(actor).is_some_and(|role| {
            if role.applicant {
                applicant == viewer
            } else {
                roles.contains(actor)
            }
        })
    })
}

fn records(conn: &mut DbConn, request: RequestId) -> Result<Vec<Record>> {
    type Row = (
        String,
        String,
        String,
        Option<String>,
        Option<String>,
        NaiveDateTime,
    );
    let rows: Vec<Row> = request_items::table
        .filter(request_items::request_id.eq(request))
        .order(request_items::id)
        .select((
            request_items::kind,
            request_items::item,
            request_items::value,
            request_items::step_no,
            request_items::sha256,
            request_items::created_at,
        ))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|(kind, item, value, step_no, sha256, created_at)| Record {
            name: match kind.as_str() {
                "attachment" => item
                    .parse::<crate::sop::Attachment>()
                    .map_or(item.clone(), |a| a.name().to_owned()),
                _ => item
                    .parse::<crate::sop::Artefact>()
                    .map_or(item.clone(), |a| a.name().to_owned()),
            },
            kind,
            item,
            value,
            step_no,
            has_file: sha256.is_some(),
            created_at,
        })
        .collect())
}

fn chain(
    conn: &mut DbConn,
    request: RequestId,
    viewer_nip: Option<&str>,
) -> Result<Vec<ChainLetter>> {
    let rows: Vec<(LetterId, String, String, String, String, String)> = letters::table
        .filter(letters::request_id.eq(request))
        .order(letters::id)
        .select((
            letters::id,
            letters::kind,
            letters::status,
            letters::hal,
            letters::public_id,
            letters::fields,
        ))
        .load(conn)?;
    let mut out = Vec::with_capacity(rows.len());
    for (id, kind, status, hal, public_id, fields) in rows {
        let signed: Vec<String> = letter_signatures::table
            .filter(letter_signatures::letter_id.eq(id))
            .filter(letter_signatures::kind.eq("signature"))
            .select(letter_signatures::field_name)
            .load(conn)?;
        let fields: Value = serde_json::from_str(&fields).unwrap_or(Value::Null);
        let blocks = fields
            .get("signers")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        let nips = crate::letters::signer_nips(&fields);
        let own = viewer_nip.map(digits).unwrap_or_default();
        let mut viewer_signs = false;
        let signers = blocks
            .iter()
            .enumerate()
            .map(|(i, block)| {
                let done = signed.contains(&format!("TTE-{}", i + 1));
                let nip = nips.get(i).filter(|n| !n.is_empty());
                if !done && status == "numbered" && nip.is_some_and(|n| *n == own) {
                    viewer_signs = true;
                }
                let name = block
                    .get("name")
                    .and_then(Value::as_str)
                    .unwrap_or("-")
                    .to_owned();
                (name, nip.is_some().then_some(done))
            })
            .collect();
        let number = crate::numbering::number_of(conn, id)
            .map_err(|e| WorkflowError::Invalid(e.to_string()))?
            .map(|(number, _)| number);
        out.push(ChainLetter {
            incoming: kind == LetterKind::SuratPermohonan.id(),
            name: kind
                .parse::<LetterKind>()
                .map_or(kind.clone(), |k| k.name().to_owned()),
            id,
            kind,
            status,
            hal,
            number,
            public_id,
            signers,
            viewer_signs,
        });
    }
    Ok(out)
}

/// A piece of work waiting for a person.
#[derive(Debug, Serialize)]
pub struct Waiting {
    pub request: RequestId,
    pub office_code: String,
    pub application: String,
    pub organization: String,
    /// What to do, in words: "Langkah 2: Menerima surat permohonan…", "Beri nomor: Lembar
    /// Disposisi", "Tanda tangani: Surat Rekomendasi".
    pub task: String,
    /// The step's deadline, office local time.
    pub deadline: Option<NaiveDateTime>,
    pub late: bool,
    pub letter: Option<LetterId>,
    /// What kind of task: `step`, `number` or `sign`.
    pub what: &'static str,
}

/// The most waiting items listed.
const MAX_WAITING: usize = 200;

/// Everything waiting for `person`: steps of open requests they may take, draft letters
/// their office's secretariat must number before the step can go on, and numbered letters
/// that wait for their signature. Oldest deadline first; late ones first of all.
pub fn waiting(conn: &mut DbConn, person: PersonId, now: DateTime<Utc>) -> Result<Vec<Waiting>> {
    let held: Vec<(OfficeId, String)> = person_roles::table
        .filter(person_roles::person_id.eq(person))
        .select((person_roles::office_id, person_roles::role))
        .load(conn)?;
    let nip = crate::people::find(conn, person)?.nip;
    let now = stored(now);
    let mut offices_held: Vec<OfficeId> = held.iter().map(|(o, _)| *o).collect();
    offices_held.sort();
    offices_held.dedup();
    let mut sops: HashMap<SopVersionId, Sop> = HashMap::new();
    let mut out = Vec::new();
    for office in offices_held {
        let roles: Vec<String> = held
            .iter()
            .filter(|(o, _)| *o == office)
            .map(|(_, r)| r.clone())
            .collect();
        let secretary = roles.iter().any(|r| r == crate::people::roles::SECRETARIAT);
        let code: String = offices::table
            .find(office)
            .select(offices::code)
            .first(conn)?;
        type Row = (
            RequestId,
            SopVersionId,
            PersonId,
            String,
            String,
            Option<String>,
        );
        let open: Vec<Row> = requests::table
            .filter(requests::office_id.eq(office))
            .filter(requests::status.eq("open"))
            .select((
                requests::id,
                requests::sop_version_id,
                requests::applicant_id,
                requests::application_name,
                requests::applicant_organization,
                requests::current_step,
            ))
            .load(conn)?;
        // The open steps' deadlines, read on their own (joined to the requests, both
        // databases walked every open step of every office: 3 ms at 10,000 requests), from
        // the index request_steps_open_by_request alone.
        let deadlines: HashMap<RequestId, Option<NaiveDateTime>> = request_steps::table
            .filter(request_steps::completed_at.is_null())
            .filter(
                request_steps::request_id.eq_any(
                    requests::table
                        .filter(requests::office_id.eq(office))
                        .filter(requests::status.eq("open"))
                        .select(requests::id),
                ),
            )
            .select((request_steps::request_id, request_steps::deadline_at))
            .load::<(RequestId, Option<NaiveDateTime>)>(conn)?
            .into_iter()
            .collect();
        let offset = crate::office::find(conn, office)?.zone().offset();
        // The letters of the office's open requests still to be numbered or signed, in one
        // read rather than one a request: the home page's hot path.
        type Pending = (Option<RequestId>, LetterId, String, String, String);
        let pending: Vec<Pending> = if secretary || nip.is_some() {
            letters::table
                .inner_join(requests::table)
                .filter(requests::office_id.eq(office))
                .filter(requests::status.eq("open"))
                .filter(letters::status.eq_any(["draft", "numbered"]))
                .select((
                    letters::request_id,
                    letters::id,
                    letters::kind,
                    letters::status,
                    letters::fields,
                ))
                .load(conn)?
        } else {
            Vec::new()
        };
        for (id, version, applicant, application, organization, step_no) in open {
            let deadline = deadlines.get(&id).copied().flatten();
            let Some(step_no) = step_no else { continue };
            if let std::collections::hash_map::Entry::Vacant(slot) = sops.entry(version) {
                slot.insert(sop_version(conn, version)?);
            }
            let Some(sop) = sops.get(&version) else {
                continue;
            };
            let Some(step) = sop.step(&step_no) else {
                continue;
            };
            let item = |what: &'static str, task: String, letter: Option<LetterId>| Waiting {
                what,
                request: id,
                office_code: code.clone(),
                application: application.clone(),
                organization: organization.clone(),
                task,
                deadline: deadline.map(|d| d + offset),
                late: deadline.is_some_and(|d| now > d),
                letter,
            };
            if may_take(sop, step, applicant, person, &roles) {
                out.push(item(
                    "step",
                    format!("Langkah {}: {}", step.no, step.description),
                    None,
                ));
            }
            // Letters of this request the step needs numbered or signed.
            let wanted: Vec<LetterKind> = needed_letters(step);
            if wanted.is_empty() || !(secretary || nip.is_some()) {
                continue;
            }
            let found = pending.iter().filter(|(request, _, kind, _, _)| {
                *request == Some(id) && wanted.iter().any(|w| w.id() == kind)
            });
            for (_, letter, kind, status, fields) in found {
                let letter = *letter;
                let name = kind
                    .parse::<LetterKind>()
                    .map_or(kind.clone(), |k| k.name().to_owned());
                if status == "draft" && secretary {
                    out.push(item("number", format!("Beri nomor: {name}"), Some(letter)));
                } else if status == "numbered"
                    && let Some(nip) = &nip
                    && awaits(conn, letter, fields, nip)?
                {
                    out.push(item("sign", format!("Tanda tangani: {name}"), Some(letter)));
                }
            }
        }
    }
    out.sort_by_key(|w| (!w.late, w.deadline.is_none(), w.deadline, w.request));
    out.truncate(MAX_WAITING);
    Ok(out)
}

/// The letter kinds `step` needs numbered or signed (any branch of a decision).
fn needed_letters(step: &Step) -> Vec<LetterKind> {
    let mut kinds = Vec::new();
    for item in step.every_item() {
        if let Item::Letter { kind, state } = item
            && *state >= LetterState::Numbered
            && !kinds.contains(kind)
        {
            kinds.push(*kind);
        }
    }
    kinds
}

/// Whether the official with `nip` is a signer of `letter` who has not signed it yet.
fn awaits(conn: &mut DbConn, letter: LetterId, fields: &str, nip: &str) -> Result<bool> {
    let fields: Value = serde_json::from_str(fields).unwrap_or(Value::Null);
    let own = digits(nip);
    let Some(index) = crate::letters::signer_nips(&fields)
        .iter()
        .position(|n| !own.is_empty() && *n == own)
    else {
        return Ok(false);
    };
    let signed: i64 = letter_signatures::table
        .filter(letter_signatures::letter_id.eq(letter))
        .filter(letter_signatures::field_name.eq(format!("TTE-{}", index + 1)))
        .count()
        .get_result(conn)?;
    Ok(signed == 0)
}

/// A NIP's digits, as signature blocks are matched on.
fn digits(text: &str) -> String {
    text.chars().filter(char::is_ascii_digit).collect()
}

/// The request a letter belongs to, for pages that act on a letter and return to its request.
pub fn request_of(conn: &mut DbConn, letter: LetterId) -> Result<Option<RequestId>> {
    Ok(letters::table
        .find(letter)
        .select(letters::request_id)
        .first::<Option<RequestId>>(conn)
        .optional()?
        .flatten())
}
