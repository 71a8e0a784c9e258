//! The work pages: file a request, see a request (its steps as a timeline against their
//! standards, its records and letter chain) and act on it — complete a step or decide, upload an
//! attachment, enter a record, write a letter from its draft, number it, sign it. Every page
//! needs a session; every form repeats the session's CSRF token. The pages call the same
//! operations as the API (`work.rs`), so they check the same roles and offices.

use std::future::Future;
use std::pin::Pin;

use actix_web::http::StatusCode;
use actix_web::{FromRequest, HttpRequest, HttpResponse, ResponseError, dev::Payload, web};
use askama::Template;
use serde::Deserialize;

use super::AppState;
use super::error::ApiError;
use super::pages::{ErrorPage, cookie, declared_within, page, read_parts, see_other};
use super::session::SESSION_COOKIE;
use super::work;
use crate::ids::{PersonId, RequestId};
use crate::sop::Attachment;
use crate::workflow::{ItemRef, desk};

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/permohonan/baru", web::get().to(new_form))
        .route("/permohonan", web::post().to(file))
        .route("/permohonan/{id}", web::get().to(show))
        .route("/permohonan/{id}/langkah", web::post().to(complete))
        .route("/permohonan/{id}/berkas", web::post().to(add_item))
        .route("/permohonan/{id}/akun", web::post().to(hand_over))
        .route("/permohonan/{id}/akun/lihat", web::post().to(reveal));
}

/// The signed-in person of a page request; without a session, the page sends them to sign in.
pub struct Viewer {
    pub person: PersonId,
    pub csrf: String,
}

impl Viewer {
    /// Refuses a form that does not repeat the session's token.
    pub fn check(&self, given: &str) -> Result<(), PageError> {
        self.check_token(given).map_err(PageError::from)
    }

    /// [`Viewer::check`] as the API's error, for a form read part by part.
    pub fn check_token(&self, given: &str) -> Result<(), ApiError> {
        if crate::accounts::same_secret(given, &self.csrf) {
            Ok(())
        } else {
            Err(ApiError::new(
                StatusCode::FORBIDDEN,
                "csrf",
                "Formulir kedaluwarsa atau tidak berasal dari naskah; muat ulang halaman dan \
                 coba lagi.",
            ))
        }
    }
}

impl FromRequest for Viewer {
    type Error = PageError;
    type Future = Pin<Box<dyn Future<Output = Result<Viewer, PageError>>>>;

    fn from_request(request: &HttpRequest, _: &mut Payload) -> Self::Future {
        let token = cookie(request, SESSION_COOKIE);
        let state = request.app_data::<web::Data<AppState>>().cloned();
        Box::pin(async move {
            let (Some(token), Some(state)) = (token, state) else {
                return Err(PageError::SignIn);
            };
            super::session::open(&state, token)
                .await?
                .map(|s| Viewer {
                    person: s.person,
                    csrf: s.csrf,
                })
                .ok_or(PageError::SignIn)
        })
    }
}

/// Why a page was not shown or a form not taken: no session (to the sign-in page), or a
/// refusal shown as a page with a way back.
#[derive(Debug)]
pub enum PageError {
    SignIn,
    Refused { error: ApiError, back: String },
}

impl PageError {
    pub fn back_to(self, back: String) -> PageError {
        match self {
            PageError::Refused { error, .. } => PageError::Refused { error, back },
            other => other,
        }
    }
}

impl From<ApiError> for PageError {
    fn from(error: ApiError) -> Self {
        PageError::Refused {
            error,
            back: "/beranda".to_owned(),
        }
    }
}

impl std::fmt::Display for PageError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PageError::SignIn => f.write_str("sign-in required"),
            PageError::Refused { error, .. } => error.fmt(f),
        }
    }
}

impl ResponseError for PageError {
    fn status_code(&self) -> StatusCode {
        match self {
            PageError::SignIn => StatusCode::SEE_OTHER,
            PageError::Refused { error, .. } => error.status,
        }
    }

    fn error_response(&self) -> HttpResponse {
        match self {
            PageError::SignIn => see_other("/masuk"),
            PageError::Refused { error, back } => {
                let title = match error.status {
                    StatusCode::NOT_FOUND => "Tidak ditemukan",
                    StatusCode::FORBIDDEN => "Tidak diizinkan",
                    StatusCode::PAYLOAD_TOO_LARGE => "Berkas terlalu besar",
                    status if status.is_server_error() => "Terjadi kesalahan",
                    _ => "Tidak dapat diproses",
                };
                page(
                    error.status,
                    &ErrorPage {
                        title,
                        message: error.message.clone(),
                        back,
                        back_label: "Kembali",
                    },
                )
            }
        }
    }
}

pub type PageResult = Result<HttpResponse, PageError>;

pub(super) fn request_page(id: RequestId) -> String {
    format!("/permohonan/{}", id.0)
}

fn when(t: chrono::NaiveDateTime) -> String {
    t.format("%d-%m-%Y %H:%M").to_string()
}

// Filing.

struct OfficeChoice {
    code: String,
    name: String,
    attachments: Vec<(String, String)>,
}

#[derive(Template)]
#[template(path = "request_new.html")]
struct NewPage {
    csrf: String,
    organization: String,
    offices: Vec<OfficeChoice>,
    max_mb: usize,
}

/// The offices where `person` may file (holds an applicant role), with what the first step of
/// each one's SOP asks to attach.
fn filing_offices(
    conn: &mut crate::db::DbConn,
    person: PersonId,
) -> Result<Vec<OfficeChoice>, ApiError> {
    let mut out = Vec::new();
    for office in crate::office::list(conn)? {
        let roles = crate::people::roles_in(conn, person, office.id)?;
        if roles.is_empty() {
            continue;
        }
        let Ok((_, sop)) = crate::workflow::current_sop(conn, office.id) else {
            continue;
        };
        if !roles
            .iter()
            .any(|r| sop.role(r).is_some_and(|role| role.applicant))
        {
            continue;
        }
        let attachments = sop
            .first_step()
            .map(|step| {
                step.requires
                    .iter()
                    .filter_map(|item| match item {
                        crate::sop::Item::Attachment { id } => {
                            Some((id.id().to_owned(), id.name().to_owned()))
                        }
                        _ => None,
                    })
                    .collect()
            })
            .unwrap_or_default();
        out.push(OfficeChoice {
            code: office.code,
            name: format!("{} ({})", office.name, office.city),
            attachments,
        });
    }
    Ok(out)
}

fn not_an_applicant() -> ApiError {
    ApiError::new(
        StatusCode::FORBIDDEN,
        "forbidden",
        "Anda tidak terdaftar sebagai pemohon di kantor ini.",
    )
}

async fn new_form(state: web::Data<AppState>, viewer: Viewer) -> PageResult {
    let person = viewer.person;
    let (offices, organization) = state
        .db
        .run(move |conn| -> Result<_, ApiError> {
            let offices = filing_offices(conn, person)?;
            let organization = crate::people::find(conn, person)?
                .organization
                .unwrap_or_default();
            Ok((offices, organization))
        })
        .await?;
    if offices.is_empty() {
        return Err(not_an_applicant().into());
    }
    Ok(page(
        StatusCode::OK,
        &NewPage {
            csrf: viewer.csrf,
            organization,
            offices,
            max_mb: work::MAX_ATTACHMENT >> 20,
        },
    ))
}

/// The whole filing form: a few text fields and the first step's attachments.
const MAX_FILING: usize = 8 * work::MAX_ATTACHMENT;

async fn file(
    state: web::Data<AppState>,
    viewer: Viewer,
    request: actix_web::HttpRequest,
    form: actix_multipart::Multipart,
) -> PageResult {
    declared_within(&request, MAX_FILING)?;
    // Who may file where is known before the form is read: its files are read only after its
    // token and its office (the first fields) pass.
    let person = viewer.person;
    let offices: Vec<String> = state
        .db
        .run(move |conn| -> Result<_, ApiError> {
            Ok(filing_offices(conn, person)?
                .into_iter()
                .map(|office| office.code)
                .collect())
        })
        .await?;
    if offices.is_empty() {
        return Err(not_an_applicant().into());
    }
    let parts = read_parts(form, MAX_FILING, |parts| {
        viewer.check_token(parts.text("csrf").unwrap_or_default())?;
        match parts.text("office") {
            Some(office) if offices.iter().any(|o| o == office) => Ok(()),
            _ => Err(not_an_applicant()),
        }
    })
    .await?;
    let text = |name: &str| parts.text(name).map(str::to_owned);
    let filing = work::Filing {
        organization: text("organization"),
        application_name: text("application_name").unwrap_or_default(),
        subdomain: text("subdomain"),
        application_type: text("application_type"),
    };
    let mut attachments = Vec::new();
    for (field, file_name, bytes) in &parts.files {
        let Some(id) = field.strip_prefix("lampiran_") else {
            continue;
        };
        let attachment = id
            .parse::<Attachment>()
            .map_err(|_| ApiError::bad_request(format!("'{id}' bukan jenis lampiran")))?;
        attachments.push((attachment, file_name.clone(), bytes.clone()));
    }
    let office = text("office").unwrap_or_default();
    let id = work::file(&state, viewer.person, office, filing, attachments)
        .await
        .map_err(|e| PageError::from(e).back_to("/permohonan/baru".into()))?;
    Ok(see_other(&request_page(id)))
}

// A request.

struct StepLine {
    no: String,
    description: String,
    standard: String,
    entered: String,
    deadline: String,
    completed: String,
    taken: String,
    decision: String,
    late: bool,
    open: bool,
}

struct RecordLine {
    name: String,
    value: String,
    step: String,
    at: String,
}

struct LetterLine {
    id: i64,
    name: String,
    hal: String,
    status: &'static str,
    number: String,
    signers: String,
    draft: bool,
    viewer_signs: bool,
}

#[derive(Template)]
#[template(path = "request.html")]
struct RequestPage {
    csrf: String,
    id: i64,
    application: String,
    organization: String,
    subdomain: String,
    application_type: String,
    office: String,
    sop_title: String,
    state: &'static str,
    filed: String,
    steps: Vec<StepLine>,
    current: Option<desk::Current>,
    current_deadline: String,
    records: Vec<RecordLine>,
    letters: Vec<LetterLine>,
    may_number: bool,
    max_mb: usize,
    handovers: Vec<HandoverLine>,
    /// The viewer is the applicant and a password waits for them.
    may_reveal: bool,
}

struct HandoverLine {
    account: String,
    at: String,
    state: &'static str,
}

fn state_label(status: &str) -> &'static str {
    match status {
        "finished" => "selesai",
        "rejected" => "ditolak",
        "withdrawn" => "ditarik",
        _ => "dalam proses",
    }
}

fn letter_state(status: &str) -> &'static str {
    match status {
        "draft" => "konsep",
        "numbered" => "bernomor",
        "signed" => "ditandatangani",
        "void" => "dibatalkan",
        _ => "-",
    }
}

async fn show(state: web::Data<AppState>, viewer: Viewer, path: web::Path<i64>) -> PageResult {
    let id = RequestId(path.into_inner());
    let found = work::overview(&state, viewer.person, id).await?;
    let day = chrono::Duration::hours(8);
    let steps = found
        .timeline
        .iter()
        .map(|s| StepLine {
            no: s.step_no.clone(),
            description: s.description.clone(),
            standard: s.standard.clone(),
            entered: when(s.entered_at),
            deadline: s.deadline.map(when).unwrap_or_else(|| "-".into()),
            completed: s.completed_at.map(when).unwrap_or_default(),
            taken: crate::reports::duration_text(chrono::Duration::minutes(s.working_minutes), day),
            decision: s.decision.clone().unwrap_or_default(),
            late: s.late,
            open: s.completed_at.is_none(),
        })
        .collect();
    let records = found
        .records
        .iter()
        .map(|r| RecordLine {
            name: r.name.clone(),
            value: r.value.clone(),
            step: r.step_no.clone().unwrap_or_default(),
            at: when(r.created_at),
        })
        .collect();
    let letters = found
        .letters
        .iter()
        .map(|l| LetterLine {
            id: l.id.0,
            name: l.name.clone(),
            hal: l.hal.clone(),
            status: letter_state(&l.status),
            number: l.number.clone().unwrap_or_default(),
            signers: l
                .signers
                .iter()
                .map(|(name, done)| {
                    let state = match done {
                        Some(true) => "sudah",
                        Some(false) => "belum",
                        None => "tanda tangan di atas kertas",
                    };
                    format!("{name} ({state})")
                })
                .collect::<Vec<_>>()
                .join(", "),
            draft: l.status == "draft" && !l.incoming,
            viewer_signs: l.viewer_signs,
        })
        .collect();
    let req = &found.request;
    let handovers = found
        .handovers
        .iter()
        .map(|h| HandoverLine {
            account: h.account.clone(),
            at: when(h.created_at),
            state: match (h.revealed_at, h.replaced) {
                (None, _) => "menunggu dilihat pemohon",
                (Some(_), true) => "diganti dengan penyerahan berikutnya",
                (Some(_), false) => "sudah dilihat pemohon",
            },
        })
        .collect();
    let may_reveal = req.applicant_id == viewer.person
        && found.handovers.iter().any(|h| h.revealed_at.is_none());
    Ok(page(
        StatusCode::OK,
        &RequestPage {
            handovers,
            may_reveal,
            csrf: viewer.csrf,
            id: req.id.0,
            application: req.application_name.clone(),
            organization: req.applicant_organization.clone(),
            subdomain: req.subdomain.clone().unwrap_or_else(|| "-".into()),
            application_type: req.application_type.clone().unwrap_or_else(|| "-".into()),
            office: found.office_name.clone(),
            sop_title: found.sop_title.clone(),
            state: state_label(&req.status),
            filed: format!("{} {}", when(found.filed_local), found.zone),
            steps,
            current_deadline: found
                .current
                .as_ref()
                .and_then(|c| c.deadline)
                .map(when)
                .unwrap_or_else(|| "tanpa batas waktu".into()),
            current: found.current,
            records,
            letters,
            may_number: found.may_number,
            max_mb: work::MAX_ATTACHMENT >> 20,
        },
    ))
}

#[derive(Deserialize)]
struct StepForm {
    #[serde(default)]
    csrf: String,
    step: String,
    decision: Option<String>,
    note: Option<String>,
}

async fn complete(
    state: web::Data<AppState>,
    viewer: Viewer,
    path: web::Path<i64>,
    form: web::Form<StepForm>,
) -> PageResult {
    let id = RequestId(path.into_inner());
    let back = request_page(id);
    let StepForm {
        csrf,
        step,
        decision,
        note,
    } = form.into_inner();
    viewer.check(&csrf)?;
    work::complete(&state, viewer.person, id, step, decision, note)
        .await
        .map_err(|e| PageError::from(e).back_to(back.clone()))?;
    Ok(see_other(&back))
}

async fn add_item(
    state: web::Data<AppState>,
    viewer: Viewer,
    request: actix_web::HttpRequest,
    path: web::Path<i64>,
    form: actix_multipart::Multipart,
) -> PageResult {
    let id = RequestId(path.into_inner());
    let back = request_page(id);
    let refused = |e: ApiError| PageError::from(e).back_to(back.clone());
    let limit = work::MAX_ATTACHMENT + 64 * 1024;
    declared_within(&request, limit).map_err(refused)?;
    // Whether the viewer may see the request and attach to it is known before its file is
    // read; the token and the item come first in the form.
    let applicant = work::applicant_of(&state, viewer.person, id)
        .await
        .map_err(refused)?;
    let parts = read_parts(form, limit, |parts| {
        viewer.check_token(parts.text("csrf").unwrap_or_default())?;
        match work::item_ref(parts.text("item").unwrap_or_default())? {
            ItemRef::Attachment(_) if applicant != viewer.person => Err(work::not_applicant()),
            _ => Ok(()),
        }
    })
    .await
    .map_err(refused)?;
    let item = work::item_ref(parts.text("item").unwrap_or_default()).map_err(refused)?;
    let (value, file) = match item {
        ItemRef::Attachment(_) => match parts.file("berkas") {
            Some((_, name, bytes)) => (name.clone(), Some(bytes.clone())),
            None => (String::new(), None),
        },
        ItemRef::Artefact(_) => (parts.text("value").unwrap_or_default().to_owned(), None),
    };
    work::add(&state, viewer.person, id, item, value, file)
        .await
        .map_err(refused)?;
    Ok(see_other(&back))
}

#[derive(Deserialize)]
struct HandoverForm {
    #[serde(default)]
    csrf: String,
    account: String,
    password: String,
}

async fn hand_over(
    state: web::Data<AppState>,
    viewer: Viewer,
    path: web::Path<i64>,
    form: web::Form<HandoverForm>,
) -> PageResult {
    let id = RequestId(path.into_inner());
    let back = request_page(id);
    let HandoverForm {
        csrf,
        account,
        password,
    } = form.into_inner();
    viewer.check(&csrf)?;
    work::hand_over(&state, viewer.person, id, account, password)
        .await
        .map_err(|e| PageError::from(e).back_to(back.clone()))?;
    Ok(see_other(&back))
}

#[derive(Template)]
#[template(path = "handover.html")]
struct HandoverPage {
    id: i64,
    application: String,
    account: String,
    password: String,
}

#[derive(Deserialize)]
struct CsrfForm {
    #[serde(default)]
    csrf: String,
}

/// The applicant sees the hosting password once (a POST: a link or a reload cannot spend it).
async fn reveal(
    state: web::Data<AppState>,
    viewer: Viewer,
    path: web::Path<i64>,
    form: web::Form<CsrfForm>,
) -> PageResult {
    let id = RequestId(path.into_inner());
    let back = request_page(id);
    viewer.check(&form.csrf)?;
    let revealed = work::reveal(&state, viewer.person, id)
        .await
        .map_err(|e| PageError::from(e).back_to(back))?;
    Ok(page(
        StatusCode::OK,
        &HandoverPage {
            id: id.0,
            application: revealed.application,
            account: revealed.account,
            password: revealed.password,
        },
    ))
}
