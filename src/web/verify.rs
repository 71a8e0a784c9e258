//! Verification over HTTP, open to anyone (an auditor, the recipient of a letter, a citizen who
//! scanned its QR code): upload a PDF and get naskah's report, with what the archive knows of
//! it; or look up an archived letter by the id in its QR code. Nothing private is shown: the
//! letter's number, kind, date, office and state, as its paper copy shows them.

use std::sync::Arc;

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use serde::Serialize;

use super::AppState;
use super::error::ApiError;
use crate::verify::{self, Report, archive};

/// The largest upload: official letters are well under a megabyte.
pub const MAX_UPLOAD: usize = 20 << 20;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/api/v1/verify", web::post().to(upload))
        .route("/api/v1/verify/{public_id}", web::get().to(archived));
}

#[derive(Serialize)]
struct Answer {
    #[serde(flatten)]
    report: Report,
    archive: Option<archive::Archived>,
}

async fn upload(state: web::Data<AppState>, body: web::Payload) -> Result<HttpResponse, ApiError> {
    let pdf = body
        .to_bytes_limited(MAX_UPLOAD)
        .await
        .map_err(|_| {
            ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "too_large",
                format!("berkas lebih dari {} MB", MAX_UPLOAD >> 20),
            )
        })?
        .map_err(|e| ApiError::bad_request(format!("unggahan terputus: {e}")))?
        .to_vec();
    if !pdf.starts_with(b"%PDF-") {
        return Err(ApiError::bad_request("berkas bukan PDF"));
    }
    let pdf = Arc::new(pdf);
    let roots = state.roots.clone();
    let checked = pdf.clone();
    let report = web::block(move || verify::verify_within(checked, roots, verify::TIME_LIMIT))
        .await
        .map_err(ApiError::internal)?
        .map_err(|e| ApiError::bad_request(e.to_string()))?;
    let archive = state
        .db
        .run(move |conn| {
            let ends = verify::revisions::ends(&pdf);
            archive::lookup(conn, &pdf, &ends).map_err(crate::db::DbError::from)
        })
        .await?;
    Ok(HttpResponse::Ok().json(Answer { report, archive }))
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
