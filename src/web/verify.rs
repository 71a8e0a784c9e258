//! Verification over HTTP, open to anyone (an auditor, the recipient of a letter, a citizen who
//! scanned its QR code): upload a PDF and get naskah's report, with what the archive knows of
//! it; or look up an archived letter by the id in its QR code. Nothing private is shown: the
//! letter's number, kind, date, office and state, as its paper copy shows them.
//!
//! The same as pages for people: `/verifikasi/{public_id}`, the QR code's target, shows the
//! archived letter and a form to upload the PDF one holds; `/verifikasi` takes the upload and
//! shows the report. Uploads are checked, never stored; no session is involved, so the form
//! carries no CSRF token (it changes nothing).

use std::sync::Arc;

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;
use serde::Serialize;

use super::AppState;
use super::error::ApiError;
use super::pages::page;
use crate::archive::lookup as archive;
use crate::verify::sandbox::Wait;
use crate::verify::{self, ChangesAfter, Integrity, Kind, Report, Trust, Verdict, VerifyError};

/// The largest upload: official letters are well under a megabyte.
pub const MAX_UPLOAD: usize = 20 << 20;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/api/v1/verify", web::post().to(upload))
        .route("/api/v1/verify/{public_id}", web::get().to(archived))
        .route("/verifikasi", web::get().to(form_page))
        .route("/verifikasi", web::post().to(upload_page))
        .route("/verifikasi/{public_id}", web::get().to(letter_page));
}

#[derive(Serialize)]
struct Answer {
    #[serde(flatten)]
    report: Report,
    archive: Option<archive::Archived>,
}

fn too_large() -> ApiError {
    ApiError::new(
        StatusCode::PAYLOAD_TOO_LARGE,
        "too_large",
        format!("berkas lebih dari {} MB", MAX_UPLOAD >> 20),
    )
}

async fn upload(
    state: web::Data<AppState>,
    request: actix_web::HttpRequest,
    body: web::Payload,
) -> Result<HttpResponse, ApiError> {
    // Refused before the body is read when it says it is too large or every worker is busy.
    super::pages::declared_within(&request, MAX_UPLOAD)?;
    if !state.verifier.has_room() {
        return Err(busy());
    }
    let pdf = body
        .to_bytes_limited(MAX_UPLOAD)
        .await
        .map_err(|_| too_large())?
        .map_err(|e| ApiError::bad_request(format!("unggahan terputus: {e}")))?
        .to_vec();
    let (report, archive) = examine(&state, pdf).await?;
    Ok(HttpResponse::Ok().json(Answer { report, archive }))
}

/// How long a caller told that every worker is busy should wait before trying again.
const RETRY_AFTER_SECONDS: u64 = 5;

pub fn busy() -> ApiError {
    ApiError::new(
        StatusCode::SERVICE_UNAVAILABLE,
        "busy",
        VerifyError::Busy.to_string(),
    )
    .retry_after(RETRY_AFTER_SECONDS)
}

/// Verifies an uploaded PDF in a worker process and looks it up in the archive.
async fn examine(
    state: &AppState,
    pdf: Vec<u8>,
) -> Result<(Report, Option<archive::Archived>), ApiError> {
    if !pdf.starts_with(b"%PDF-") {
        return Err(ApiError::bad_request("berkas bukan PDF"));
    }
    let pdf = Arc::new(pdf);
    let verifier = state.verifier.clone();
    let checked = pdf.clone();
    let report = web::block(move || verifier.verify(&checked, Wait::No))
        .await
        .map_err(ApiError::internal)?
        .map_err(|e| match e {
            VerifyError::Busy => busy(),
            other => ApiError::bad_request(other.to_string()),
        })?;
    let archive = state
        .db
        .run(move |conn| {
            let ends = verify::revisions::ends(&pdf);
            archive::lookup(conn, &pdf, &ends).map_err(crate::db::DbError::from)
        })
        .await?;
    Ok((report, archive))
}

async fn archived(
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let public_id = path.into_inner();
    let found = state
        .db
        .run(move |conn| archive::by_public_id(conn, &public_id).map_err(crate::db::DbError::from))
        .await?;
    match found {
        Some(letter) => Ok(HttpResponse::Ok().json(letter)),
        None => Err(ApiError::not_found("surat")),
    }
}

// The pages.

/// An archived letter as the pages show it.
struct LetterView {
    kind_name: String,
    number: String,
    date: String,
    office: String,
    status: String,
    revisions: i64,
    matched: &'static str,
}

impl From<archive::Archived> for LetterView {
    fn from(letter: archive::Archived) -> LetterView {
        LetterView {
            kind_name: letter.kind_name,
            number: letter
                .number
                .unwrap_or_else(|| "(belum bernomor)".to_owned()),
            date: letter
                .date
                .map_or("-".to_owned(), crate::letters::indonesian::long_date),
            office: letter.office,
            status: letter
                .status
                .parse::<crate::letters::LetterState>()
                .map_or(letter.status.clone(), |s| s.label().to_owned()),
            revisions: letter.revisions,
            matched: match letter.matched {
                archive::Match::Whole => "berkas ini sama persis dengan revisi yang diarsipkan",
                archive::Match::Prefix => {
                    "berkas ini diawali revisi yang diarsipkan, ditambah bagian yang tidak \
                     berasal dari naskah"
                }
            },
        }
    }
}

/// One signature as the report page shows it.
struct SignatureView {
    kind: &'static str,
    field: String,
    signer: String,
    nip: String,
    position: String,
    signed_at: String,
    timestamp_at: String,
    level: String,
    integrity: &'static str,
    trust: &'static str,
    changes_after: &'static str,
    findings: Vec<String>,
}

impl From<&verify::SignatureReport> for SignatureView {
    fn from(s: &verify::SignatureReport) -> SignatureView {
        let time = |t: Option<chrono::DateTime<chrono::Utc>>| {
            t.map_or("-".to_owned(), |t| {
                t.format("%Y-%m-%d %H:%M:%S UTC").to_string()
            })
        };
        let dash = |text: Option<&String>| text.cloned().unwrap_or_else(|| "-".to_owned());
        // Trust and later changes are judged only for a signature that holds.
        let judged = s.integrity == Integrity::Intact;
        SignatureView {
            kind: match s.kind {
                Kind::Signature => "Tanda tangan",
                Kind::Timestamp => "Cap waktu dokumen",
            },
            field: s.field.clone(),
            signer: s
                .signer
                .as_ref()
                .map_or("(tidak diketahui)".to_owned(), |p| p.name.clone()),
            nip: dash(s.signer.as_ref().and_then(|p| p.nip.as_ref())),
            position: dash(s.signer.as_ref().and_then(|p| p.position.as_ref())),
            signed_at: time(s.signed_at),
            timestamp_at: time(s.timestamp_at),
            level: dash(s.level.as_ref()),
            integrity: match s.integrity {
                Integrity::Intact => "utuh",
                Integrity::Broken => "rusak",
            },
            trust: match s.trust {
                _ if !judged => "tidak diperiksa",
                Trust::Trusted => "tepercaya",
                Trust::Untrusted => "tidak tepercaya",
                Trust::Expired => "sertifikat kedaluwarsa",
                Trust::Revoked => "sertifikat dicabut",
                Trust::Indeterminate => "belum dapat dipastikan",
            },
            changes_after: match s.changes_after {
                _ if !judged => "tidak diperiksa",
                ChangesAfter::None => "tidak ada",
                ChangesAfter::Permitted => "hanya yang diizinkan",
                ChangesAfter::Disallowed => "ada yang tidak diizinkan",
            },
            findings: s.changes.iter().chain(&s.problems).cloned().collect(),
        }
    }
}

#[derive(Template)]
#[template(path = "verify_form.html")]
struct FormPage {
    letter: Option<LetterView>,
    missing: bool,
    max_mb: usize,
}

#[derive(Template)]
#[template(path = "verify_report.html")]
struct ReportPage {
    verdict: &'static str,
    verdict_class: &'static str,
    verdict_text: &'static str,
    sha256: String,
    letter: Option<LetterView>,
    signatures: Vec<SignatureView>,
    max_mb: usize,
}

fn error_page(error: &ApiError) -> HttpResponse {
    let title = match error.status {
        StatusCode::PAYLOAD_TOO_LARGE => "Berkas terlalu besar",
        StatusCode::SERVICE_UNAVAILABLE => "Pemeriksa sedang penuh",
        StatusCode::NOT_FOUND => "Tidak ditemukan",
        status if status.is_client_error() => "Berkas tidak dapat diperiksa",
        _ => "Terjadi kesalahan",
    };
    let message = if error.status == StatusCode::SERVICE_UNAVAILABLE {
        error.message.clone()
    } else if error.status.is_server_error() {
        "Silakan coba lagi nanti.".to_owned()
    } else {
        error.message.clone()
    };
    let mut answer = page(
        error.status,
        &super::pages::ErrorPage {
            title,
            message,
            back: "/verifikasi",
            back_label: "Kembali ke verifikasi",
        },
    );
    super::pages::retry_after(&mut answer, error);
    answer
}

async fn form_page() -> HttpResponse {
    page(
        StatusCode::OK,
        &FormPage {
            letter: None,
            missing: false,
            max_mb: MAX_UPLOAD >> 20,
        },
    )
}

async fn letter_page(state: web::Data<AppState>, path: web::Path<String>) -> HttpResponse {
    let public_id = path.into_inner();
    let found = state
        .db
        .run(move |conn| archive::by_public_id(conn, &public_id).map_err(crate::db::DbError::from))
        .await;
    match found {
        Ok(letter) => {
            let status = if letter.is_some() {
                StatusCode::OK
            } else {
                StatusCode::NOT_FOUND
            };
            let missing = letter.is_none();
            page(
                status,
                &FormPage {
                    letter: letter.map(LetterView::from),
                    missing,
                    max_mb: MAX_UPLOAD >> 20,
                },
            )
        }
        Err(error) => error_page(&ApiError::from(error)),
    }
}

/// The PDF of an upload form: the field `berkas`, at most [`MAX_UPLOAD`] bytes.
async fn uploaded_file(form: actix_multipart::Multipart) -> Result<Vec<u8>, ApiError> {
    let mut parts = super::pages::read_parts(form, MAX_UPLOAD, |_| Ok(())).await?;
    match parts.files.iter().position(|(name, _, _)| name == "berkas") {
        Some(at) => Ok(parts.files.swap_remove(at).2),
        None => Err(ApiError::bad_request("tidak ada berkas yang diunggah")),
    }
}

async fn upload_page(
    state: web::Data<AppState>,
    request: actix_web::HttpRequest,
    form: actix_multipart::Multipart,
) -> HttpResponse {
    if let Err(error) = super::pages::declared_within(&request, MAX_UPLOAD + 64 * 1024) {
        return error_page(&error);
    }
    if !state.verifier.has_room() {
        return error_page(&busy());
    }
    let examined = match uploaded_file(form).await {
        Ok(pdf) => examine(&state, pdf).await,
        Err(error) => Err(error),
    };
    let (report, letter) = match examined {
        Ok(found) => found,
        Err(error) => return error_page(&error),
    };
    let (verdict, verdict_class, verdict_text) = match report.verdict {
        Verdict::Valid => (
            "SAH",
            "good",
            "Semua tanda tangan utuh dan tepercaya, dan tidak ada perubahan yang tidak \
             diizinkan sesudahnya.",
        ),
        Verdict::NoSignature => (
            "TIDAK BERTANDA TANGAN",
            "neutral",
            "Berkas ini tidak memuat tanda tangan elektronik.",
        ),
        Verdict::Invalid => (
            "TIDAK SAH",
            "bad",
            "Sebuah tanda tangan rusak: yang ditandatangani tidak sama dengan isi berkas ini.",
        ),
        Verdict::Modified => (
            "DIUBAH",
            "bad",
            "Berkas diubah sesudah ditandatangani, dengan perubahan yang tidak diizinkan.",
        ),
        Verdict::Untrusted => (
            "TIDAK TEPERCAYA",
            "bad",
            "Sertifikat penanda tangan tidak berantai ke akar tepercaya, sudah kedaluwarsa, \
             atau dicabut.",
        ),
        Verdict::Indeterminate => (
            "BELUM DAPAT DIPASTIKAN",
            "neutral",
            "Tanda tangan utuh, tetapi kepercayaannya belum dapat dipastikan: status pencabutan \
             sertifikat tidak diketahui atau sudah usang, rantai sertifikat tidak lengkap, atau \
             algoritmanya tidak lagi diterima. Alasannya tertulis pada tanda tangan di bawah.",
        ),
    };
    page(
        StatusCode::OK,
        &ReportPage {
            verdict,
            verdict_class,
            verdict_text,
            sha256: report.sha256.clone(),
            letter: letter.map(LetterView::from),
            signatures: report.signatures.iter().map(SignatureView::from).collect(),
            max_mb: MAX_UPLOAD >> 20,
        },
    )
}
