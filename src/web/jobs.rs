//! Work that takes a while, as the API and the pages start and follow it: signing every letter
//! that waits for the caller's signature (or those named) with one passphrase.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use super::AppState;
use super::auth::Caller;
use super::desk::{PageError, PageResult, Viewer};
use super::error::ApiError;
use super::pages::{page, see_other};
use crate::ids::{LetterId, PersonId};
use crate::jobs::Job;
use crate::tte::Credential;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/api/v1/signing-jobs", web::post().to(sign_api))
        .route("/api/v1/jobs/{id}", web::get().to(job_api))
        .route("/tandatangan", web::post().to(sign_page))
        .route("/proses/{id}", web::get().to(job_page));
}

/// Starts signing `letters` (none: every letter waiting for `person`'s signature).
async fn start(
    state: &AppState,
    person: PersonId,
    letters: Option<Vec<i64>>,
    passphrase: String,
) -> Result<i64, ApiError> {
    if passphrase.is_empty() {
        return Err(ApiError::bad_request("passphrase harus diisi"));
    }
    let (db, settings) = (state.db.clone(), state.tte.clone());
    state
        .db
        .run(move |conn| -> Result<i64, ApiError> {
            let letters: Vec<LetterId> = match letters {
                Some(ids) => ids.into_iter().map(LetterId).collect(),
                None => crate::workflow::desk::waiting(conn, person, chrono::Utc::now())?
                    .into_iter()
                    .filter(|w| w.what == "sign")
                    .filter_map(|w| w.letter)
                    .collect(),
            };
            if letters.is_empty() {
                return Err(ApiError::bad_request(
                    "tidak ada surat yang menunggu tanda tangan Anda",
                ));
            }
            if letters.len() > crate::tte::bulk::MAX_LETTERS {
                return Err(ApiError::bad_request(format!(
                    "paling banyak {} surat sekaligus",
                    crate::tte::bulk::MAX_LETTERS
                )));
            }
            Ok(crate::tte::bulk::start(
                db,
                settings,
                person,
                letters,
                Credential::Passphrase(passphrase),
            )?)
        })
        .await
}

async fn find(state: &AppState, person: PersonId, id: i64) -> Result<Job, ApiError> {
    state
        .db
        .run(move |conn| -> Result<Job, ApiError> {
            crate::jobs::find(conn, id, person, crate::db::now())?
                .ok_or_else(|| ApiError::not_found("pekerjaan"))
        })
        .await
}

#[derive(Deserialize)]
struct SignBody {
    passphrase: String,
    letters: Option<Vec<i64>>,
}

async fn sign_api(
    state: web::Data<AppState>,
    caller: Caller,
    body: web::Json<SignBody>,
) -> Result<HttpResponse, ApiError> {
    let SignBody {
        passphrase,
        letters,
    } = body.into_inner();
    let id = start(&state, caller.person, letters, passphrase).await?;
    Ok(HttpResponse::Accepted()
        .insert_header(("Location", format!("/api/v1/jobs/{id}")))
        .json(serde_json::json!({ "job": id })))
}

async fn job_api(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    let job = find(&state, caller.person, path.into_inner()).await?;
    Ok(HttpResponse::Ok().json(job))
}

#[derive(Deserialize)]
struct SignForm {
    #[serde(default)]
    csrf: String,
    passphrase: String,
}

async fn sign_page(
    state: web::Data<AppState>,
    viewer: Viewer,
    form: web::Form<SignForm>,
) -> PageResult {
    let SignForm { csrf, passphrase } = form.into_inner();
    viewer.check(&csrf)?;
    let job = start(&state, viewer.person, None, passphrase)
        .await
        .map_err(|e| PageError::from(e).back_to("/beranda".into()))?;
    Ok(see_other(&format!("/proses/{job}")))
}

#[derive(Template)]
#[template(path = "progress.html")]
struct ProgressPage {
    job: Job,
    running: bool,
    percent: i32,
}

async fn job_page(state: web::Data<AppState>, viewer: Viewer, path: web::Path<i64>) -> PageResult {
    let job = find(&state, viewer.person, path.into_inner()).await?;
    Ok(page(
        StatusCode::OK,
        &ProgressPage {
            running: job.status == "running",
            percent: job.percent(),
            job,
        },
    ))
}
