//! The work on requests, as the JSON API offers it and the pages use it: file a request, read
//! its overview, complete a step, add an attachment or a record, draft and make a letter,
//! download a letter's PDF, and list what waits for the caller. Each operation here is the one
//! both surfaces call, so that a page can do nothing the API refuses and the reverse.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use serde::Deserialize;
use serde_json::Value;

use super::AppState;
use super::auth::Caller;
use super::error::ApiError;
use crate::db::DbConn;
use crate::ids::{LetterId, OfficeId, PersonId, RequestId};
use crate::letters::LetterKind;
use crate::sop::{Artefact, Attachment};
use crate::verify::VerifyError;
use crate::verify::sandbox::Wait;
use crate::workflow::{self, ItemRef, NewRequest, WorkflowError, compose, desk};

/// The largest attachment an applicant may upload.
pub const MAX_ATTACHMENT: usize = 20 << 20;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route(
        "/api/v1/offices/{office}/requests",
        web::post().to(file_api),
    )
    .route("/api/v1/requests/{id}", web::get().to(overview_api))
    .route(
        "/api/v1/requests/{id}/steps/{step}",
        web::post().to(complete_api),
    )
    .route("/api/v1/requests/{id}/records", web::post().to(record_api))
    .route(
        "/api/v1/requests/{id}/attachments/{item}",
        web::post().to(attachment_api),
    )
    .route(
        "/api/v1/requests/{id}/letters/draft/{kind}",
        web::get().to(draft_api),
    )
    .route("/api/v1/requests/{id}/letters", web::post().to(letter_api))
    .route("/api/v1/letters/{id}/pdf", web::get().to(pdf_api))
    .route("/api/v1/waiting", web::get().to(waiting_api))
    .route(
        "/api/v1/requests/{id}/handover",
        web::post().to(hand_over_api),
    )
    .route(
        "/api/v1/requests/{id}/handover/reveal",
        web::post().to(reveal_api),
    );
}

impl From<WorkflowError> for ApiError {
    fn from(error: WorkflowError) -> Self {
        use WorkflowError as E;
        let (status, code) = match &error {
            E::NotFound(_) => (StatusCode::NOT_FOUND, "not_found"),
            E::WrongRole { .. } | E::NotApplicant { .. } | E::Forbidden(_) => {
                (StatusCode::FORBIDDEN, "forbidden")
            }
            E::Closed(_) | E::OutOfOrder { .. } | E::NoSop => (StatusCode::CONFLICT, "conflict"),
            E::Gone(_) => (StatusCode::GONE, "gone"),
            E::Missing { .. }
            | E::DecisionRequired { .. }
            | E::UnknownDecision { .. }
            | E::NotADecision { .. }
            | E::Invalid(_) => (StatusCode::UNPROCESSABLE_ENTITY, "invalid"),
            E::Letter(crate::letters::store::LetterError::Render(_)) => {
                (StatusCode::UNPROCESSABLE_ENTITY, "invalid")
            }
            E::Letter(crate::letters::store::LetterError::Moved(_)) => {
                (StatusCode::CONFLICT, "conflict")
            }
            E::InvalidSop(_) | E::Letter(_) | E::Database(_) => {
                return ApiError::internal(&error);
            }
        };
        ApiError::new(status, code, error.to_string())
    }
}

/// What filing a request takes.
#[derive(Debug, Deserialize)]
pub struct Filing {
    /// The applicant's agency; their own recorded one when left out.
    pub organization: Option<String>,
    pub application_name: String,
    pub subdomain: Option<String>,
    pub application_type: Option<String>,
}

/// Files a request at the office with `office` (its code) as `person`, with `attachments`
/// (attachment id, file name, PDF) added at once, all or nothing.
pub async fn file(
    state: &AppState,
    person: PersonId,
    office: String,
    filing: Filing,
    attachments: Vec<(Attachment, String, Vec<u8>)>,
) -> Result<RequestId, ApiError> {
    for (_, name, pdf) in &attachments {
        check_pdf(state, name, pdf).await?;
    }
    state
        .db
        .run(move |conn| -> Result<RequestId, ApiError> {
            let (office, _) = super::auth::office_roles(conn, person, &office)?;
            let organization = match filing.organization.filter(|o| !o.trim().is_empty()) {
                Some(given) => given,
                None => crate::people::find(conn, person)?
                    .organization
                    .unwrap_or_default(),
            };
            let new = NewRequest {
                organization: organization.trim(),
                application_name: &filing.application_name,
                subdomain: blank_none(filing.subdomain.as_deref()),
                application_type: blank_none(filing.application_type.as_deref()),
            };
            let now = chrono::Utc::now();
            crate::db::write_transaction(conn, |conn| {
                let id = workflow::file_request(conn, office, person, &new, now)?;
                for (item, name, pdf) in &attachments {
                    workflow::add_item(
                        conn,
                        id,
                        person,
                        ItemRef::Attachment(*item),
                        name,
                        Some(pdf),
                        now,
                    )?;
                }
                Ok::<_, WorkflowError>(id)
            })
            .map_err(ApiError::from)
        })
        .await
}

fn blank_none(text: Option<&str>) -> Option<&str> {
    text.map(str::trim).filter(|t| !t.is_empty())
}

/// Refuses an attachment that is too large or is not a PDF that reads: it is parsed in a
/// verification worker, within the same budget as any uploaded PDF (503 when all are busy).
pub async fn check_pdf(state: &AppState, name: &str, pdf: &[u8]) -> Result<(), ApiError> {
    if pdf.len() > MAX_ATTACHMENT {
        return Err(ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "too_large",
            format!("{name}: berkas lebih dari {} MB", MAX_ATTACHMENT >> 20),
        ));
    }
    if !pdf.starts_with(b"%PDF-") {
        return Err(ApiError::bad_request(format!(
            "{name}: lampiran harus berupa berkas PDF"
        )));
    }
    let verifier = state.verifier.clone();
    let bytes = pdf.to_vec();
    let inspected = web::block(move || verifier.inspect(&bytes, Wait::No))
        .await
        .map_err(ApiError::internal)?;
    match inspected {
        Ok(found) if found.pages > 0 => Ok(()),
        Ok(_) => Err(ApiError::bad_request(format!(
            "{name}: PDF ini tidak memiliki halaman"
        ))),
        Err(VerifyError::Busy) => Err(super::verify::busy()),
        Err(error) => Err(ApiError::bad_request(format!(
            "{name}: lampiran harus berupa berkas PDF yang dapat dibaca ({error})"
        ))),
    }
}

/// The overview of a request for `person`.
pub async fn overview(
    state: &AppState,
    person: PersonId,
    request: RequestId,
) -> Result<desk::Overview, ApiError> {
    state
        .db
        .run(move |conn| {
            desk::overview(conn, request, person, chrono::Utc::now()).map_err(ApiError::from)
        })
        .await
}

/// Refuses `person` unless they may see `request` (as its overview decides).
fn visible(conn: &mut DbConn, request: RequestId, person: PersonId) -> Result<(), ApiError> {
    let req = workflow::find(conn, request)?;
    match desk::roles_if_visible(conn, &req, person)? {
        Some(_) => Ok(()),
        None => Err(ApiError::not_found("permohonan")),
    }
}

/// The applicant of `request`, when `person` may see it: known before an upload is read.
pub async fn applicant_of(
    state: &AppState,
    person: PersonId,
    request: RequestId,
) -> Result<PersonId, ApiError> {
    state
        .db
        .run(move |conn| {
            visible(conn, request, person)?;
            Ok(workflow::find(conn, request)?.applicant_id)
        })
        .await
}

/// Who is not the request's applicant may not attach its documents.
pub fn not_applicant() -> ApiError {
    ApiError::from(WorkflowError::Forbidden(
        "lampiran permohonan hanya dapat diunggah oleh pemohon".into(),
    ))
}

/// Completes `step` of `request` as `person`.
pub async fn complete(
    state: &AppState,
    person: PersonId,
    request: RequestId,
    step: String,
    decision: Option<String>,
    note: Option<String>,
) -> Result<workflow::Moved, ApiError> {
    state
        .db
        .run(move |conn| {
            visible(conn, request, person)?;
            workflow::advance(
                conn,
                request,
                person,
                &step,
                blank_none(decision.as_deref()),
                blank_none(note.as_deref()),
                chrono::Utc::now(),
            )
            .map_err(ApiError::from)
        })
        .await
}

/// Adds an attachment (with its PDF) or a record (a value) to `request` as `person`.
pub async fn add(
    state: &AppState,
    person: PersonId,
    request: RequestId,
    item: ItemRef,
    value: String,
    file: Option<Vec<u8>>,
) -> Result<(), ApiError> {
    match (&item, &file) {
        (ItemRef::Attachment(_), Some(pdf)) => check_pdf(state, &value, pdf).await?,
        (ItemRef::Attachment(a), None) => {
            return Err(ApiError::bad_request(format!(
                "{}: pilih berkas PDF yang diunggah",
                a.name()
            )));
        }
        (ItemRef::Artefact(_), _) => {}
    }
    state
        .db
        .run(move |conn| {
            visible(conn, request, person)?;
            workflow::add_item(
                conn,
                request,
                person,
                item,
                &value,
                file.as_deref(),
                chrono::Utc::now(),
            )
            .map_err(ApiError::from)
        })
        .await
}

/// Hands a hosting account over on `request` as `person` (staff): its name recorded, its
/// password sealed for the applicant.
pub async fn hand_over(
    state: &AppState,
    person: PersonId,
    request: RequestId,
    account: String,
    password: String,
) -> Result<(), ApiError> {
    let key = state.handover.clone();
    state
        .db
        .run(move |conn| {
            visible(conn, request, person)?;
            crate::handover::hand_over(
                conn,
                &key,
                request,
                person,
                &account,
                &password,
                chrono::Utc::now(),
            )
            .map_err(ApiError::from)
        })
        .await
}

/// Reveals the waiting hosting password of `request` to `person` (its applicant), once.
pub async fn reveal(
    state: &AppState,
    person: PersonId,
    request: RequestId,
) -> Result<crate::handover::Revealed, ApiError> {
    let key = state.handover.clone();
    state
        .db
        .run(move |conn| {
            visible(conn, request, person)?;
            crate::handover::reveal(conn, &key, request, person, chrono::Utc::now())
                .map_err(ApiError::from)
        })
        .await
}

/// An item id as the forms and the API give it: an attachment's or a record's.
pub fn item_ref(id: &str) -> Result<ItemRef, ApiError> {
    if let Ok(attachment) = id.parse::<Attachment>() {
        return Ok(ItemRef::Attachment(attachment));
    }
    id.parse::<Artefact>()
        .map(ItemRef::Artefact)
        .map_err(|_| ApiError::bad_request(format!("'{id}' bukan lampiran atau catatan")))
}

pub fn letter_kind(id: &str) -> Result<LetterKind, ApiError> {
    id.parse::<LetterKind>()
        .map_err(|_| ApiError::bad_request(format!("'{id}' bukan jenis surat")))
}

/// The office's local date now, as letters write it.
fn today(conn: &mut DbConn, office: OfficeId) -> Result<String, ApiError> {
    Ok(super::numbers::today(conn, office)?
        .format("%Y-%m-%d")
        .to_string())
}

/// The first draft of a letter of `kind` for `request`, as `person` would write it.
pub async fn draft(
    state: &AppState,
    person: PersonId,
    request: RequestId,
    kind: LetterKind,
) -> Result<Value, ApiError> {
    state
        .db
        .run(move |conn| {
            visible(conn, request, person)?;
            let office = workflow::find(conn, request)?.office_id;
            let date = today(conn, office)?;
            compose::draft(conn, request, kind, person, &date).map_err(ApiError::from)
        })
        .await
}

/// Makes a letter of `kind` for `request` as `person`: the draft with `changes` (an object of
/// fields) laid over it, generated and stored.
pub async fn make_letter(
    state: &web::Data<AppState>,
    person: PersonId,
    request: RequestId,
    kind: LetterKind,
    changes: Value,
) -> Result<LetterId, ApiError> {
    let Value::Object(changes) = changes else {
        return Err(ApiError::bad_request("isian surat harus berupa objek JSON"));
    };
    let state = state.clone();
    state
        .clone()
        .db
        .run(move |conn| {
            visible(conn, request, person)?;
            let office = workflow::find(conn, request)?.office_id;
            let date = today(conn, office)?;
            let mut fields = compose::draft(conn, request, kind, person, &date)?;
            if let Value::Object(fields) = &mut fields {
                fields.extend(changes);
            }
            workflow::produce_letter(
                conn,
                request,
                person,
                kind,
                &fields,
                &state.letters,
                chrono::Utc::now(),
            )
            .map_err(ApiError::from)
        })
        .await
}

/// The newest revision of `letter` as a PDF, for a person who may see it: staff of its office,
/// or the applicant of its request.
pub async fn pdf(
    state: &AppState,
    person: PersonId,
    letter: LetterId,
) -> Result<(String, Vec<u8>), ApiError> {
    state
        .db
        .run(move |conn| {
            let kind = desk::letter_if_visible(conn, letter, person)?
                .ok_or_else(|| ApiError::not_found("surat"))?
                .kind;
            let (revision, _, pdf) = crate::letters::store::latest_revision(conn, letter)?
                .ok_or_else(|| ApiError::not_found("surat"))?;
            Ok((format!("{kind}-{}-r{revision}.pdf", letter.0), pdf))
        })
        .await
}

/// The PDF as a download.
pub fn pdf_response(name: &str, pdf: Vec<u8>) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/pdf")
        .insert_header((
            "Content-Disposition",
            format!("inline; filename=\"{name}\""),
        ))
        .insert_header(("X-Content-Type-Options", "nosniff"))
        .insert_header(("Cache-Control", "no-store"))
        .body(pdf)
}

/// What waits for `person`.
pub async fn waiting(state: &AppState, person: PersonId) -> Result<Vec<desk::Waiting>, ApiError> {
    state
        .db
        .run(move |conn| desk::waiting(conn, person, chrono::Utc::now()).map_err(ApiError::from))
        .await
}

// The API's handlers: each reads its input and calls the operation above.

async fn file_api(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<String>,
    body: web::Json<Filing>,
) -> Result<HttpResponse, ApiError> {
    let id = file(
        &state,
        caller.person,
        path.into_inner(),
        body.into_inner(),
        Vec::new(),
    )
    .await?;
    Ok(HttpResponse::Created().json(serde_json::json!({ "id": id })))
}

async fn overview_api(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    let found = overview(&state, caller.person, RequestId(path.into_inner())).await?;
    Ok(HttpResponse::Ok().json(found))
}

#[derive(Deserialize)]
struct StepBody {
    decision: Option<String>,
    note: Option<String>,
}

async fn complete_api(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<(i64, String)>,
    body: web::Json<StepBody>,
) -> Result<HttpResponse, ApiError> {
    let (id, step) = path.into_inner();
    let StepBody { decision, note } = body.into_inner();
    let moved = complete(&state, caller.person, RequestId(id), step, decision, note).await?;
    Ok(HttpResponse::Ok().json(moved))
}

#[derive(Deserialize)]
struct RecordBody {
    item: String,
    value: String,
}

async fn record_api(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<i64>,
    body: web::Json<RecordBody>,
) -> Result<HttpResponse, ApiError> {
    let RecordBody { item, value } = body.into_inner();
    let item = match item_ref(&item)? {
        ItemRef::Attachment(_) => {
            return Err(ApiError::bad_request(
                "lampiran diunggah sebagai PDF ke /api/v1/requests/{id}/attachments/{item}",
            ));
        }
        artefact => artefact,
    };
    add(
        &state,
        caller.person,
        RequestId(path.into_inner()),
        item,
        value,
        None,
    )
    .await?;
    Ok(HttpResponse::NoContent().finish())
}

#[derive(Deserialize)]
struct HandoverBody {
    account: String,
    password: String,
}

async fn hand_over_api(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<i64>,
    body: web::Json<HandoverBody>,
) -> Result<HttpResponse, ApiError> {
    let HandoverBody { account, password } = body.into_inner();
    hand_over(
        &state,
        caller.person,
        RequestId(path.into_inner()),
        account,
        password,
    )
    .await?;
    Ok(HttpResponse::NoContent().finish())
}

async fn reveal_api(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    let revealed = reveal(&state, caller.person, RequestId(path.into_inner())).await?;
    Ok(HttpResponse::Ok()
        .insert_header(("Cache-Control", "no-store"))
        .json(revealed))
}

#[derive(Deserialize)]
struct AttachmentQuery {
    /// The file's name as the applicant knows it.
    name: Option<String>,
}

async fn attachment_api(
    state: web::Data<AppState>,
    caller: Caller,
    request: actix_web::HttpRequest,
    path: web::Path<(i64, String)>,
    query: web::Query<AttachmentQuery>,
    body: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let (id, item) = path.into_inner();
    let item = match item_ref(&item)? {
        ItemRef::Artefact(_) => return Err(ApiError::bad_request("bukan jenis lampiran")),
        attachment => attachment,
    };
    // Size, then who may attach, before a byte of the body is read.
    super::pages::declared_within(&request, MAX_ATTACHMENT)?;
    if applicant_of(&state, caller.person, RequestId(id)).await? != caller.person {
        return Err(not_applicant());
    }
    let pdf = body.to_bytes_limited(MAX_ATTACHMENT).await.map_err(|_| {
        ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "too_large",
            format!("berkas lebih dari {} MB", MAX_ATTACHMENT >> 20),
        )
    })?;
    let pdf = pdf.map_err(|e| ApiError::bad_request(format!("unggahan tidak terbaca: {e}")))?;
    let name = query
        .into_inner()
        .name
        .unwrap_or_else(|| "lampiran.pdf".to_owned());
    add(
        &state,
        caller.person,
        RequestId(id),
        item,
        name,
        Some(pdf.to_vec()),
    )
    .await?;
    Ok(HttpResponse::NoContent().finish())
}

async fn draft_api(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<(i64, String)>,
) -> Result<HttpResponse, ApiError> {
    let (id, kind) = path.into_inner();
    let fields = draft(&state, caller.person, RequestId(id), letter_kind(&kind)?).await?;
    Ok(HttpResponse::Ok().json(fields))
}

#[derive(Deserialize)]
struct LetterBody {
    kind: String,
    /// Fields laid over the draft; none: the draft as it is.
    #[serde(default)]
    fields: Option<Value>,
}

async fn letter_api(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<i64>,
    body: web::Json<LetterBody>,
) -> Result<HttpResponse, ApiError> {
    let LetterBody { kind, fields } = body.into_inner();
    let id = make_letter(
        &state,
        caller.person,
        RequestId(path.into_inner()),
        letter_kind(&kind)?,
        fields.unwrap_or_else(|| Value::Object(serde_json::Map::new())),
    )
    .await?;
    Ok(HttpResponse::Created().json(serde_json::json!({ "id": id })))
}

async fn pdf_api(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    let (name, pdf) = pdf(&state, caller.person, LetterId(path.into_inner())).await?;
    Ok(pdf_response(&name, pdf))
}

async fn waiting_api(state: web::Data<AppState>, caller: Caller) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(waiting(&state, caller.person).await?))
}
