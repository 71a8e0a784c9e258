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
use super::pages::{form_field, page, see_other};
use crate::ids::{LetterId, PersonId};
use crate::jobs::Job;
use crate::tte::Credential;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/api/v1/signing-jobs", web::post().to(sign_api))
        .route("/api/v1/jobs/{id}", web::get().to(job_api))
        .route(
            "/api/v1/offices/{office}/exports",
            web::post().to(export_api),
        )
        .route("/api/v1/jobs/{id}/download", web::get().to(download))
        .route(
            "/api/v1/offices/{office}/reports",
            web::post().to(report_api),
        )
        .route("/laporan/{office}/buat", web::post().to(report_page))
        .route("/tandatangan", web::post().to(sign_page))
        .route("/arsip/{office}/ekspor", web::post().to(export_page))
        .route("/proses/{id}", web::get().to(job_page))
        .route("/proses/{id}/unduh", web::get().to(download_page));
}

/// Starts making the `kind` report (`sla`, `annual`) of `period` for the office with `code`,
/// signed by `person`: an official (with a NIP) of its staff.
async fn start_report(
    state: &AppState,
    person: PersonId,
    code: String,
    kind: String,
    period: String,
    passphrase: String,
) -> Result<i64, ApiError> {
    let kind: crate::reports::make::ReportKind = kind
        .parse()
        .map_err(|_| ApiError::bad_request("jenis laporan adalah sla atau annual"))?;
    let period = crate::reports::Period::parse(&period).map_err(|_| {
        ApiError::bad_request(format!(
            "'{}' bukan periode: tulis 2026-W47 (pekan), 2026-11 (bulan) atau 2026 (tahun)",
            period.trim()
        ))
    })?;
    if passphrase.is_empty() {
        return Err(ApiError::bad_request("passphrase harus diisi"));
    }
    let (db, tte) = (state.db.clone(), state.tte.clone());
    state
        .db
        .run(move |conn| -> Result<i64, ApiError> {
            let (office, roles) = super::auth::office_roles(conn, person, &code)?;
            let official = crate::people::find(conn, person)?.nip.is_some();
            if !official || crate::workflow::applicant_only(conn, office, &roles)? {
                return Err(ApiError::new(
                    StatusCode::FORBIDDEN,
                    "forbidden",
                    "laporan dibuat dan ditandatangani oleh pejabat kantor ini",
                ));
            }
            one_at_a_time(conn, person, crate::jobs::REPORT)?;
            let office = crate::office::find(conn, office)?;
            Ok(crate::reports::job::start(
                db, tte, person, office, kind, period, passphrase,
            )?)
        })
        .await
}

#[derive(Deserialize)]
struct ReportBody {
    kind: String,
    period: String,
    passphrase: String,
}

async fn report_api(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<String>,
    body: web::Json<ReportBody>,
) -> Result<HttpResponse, ApiError> {
    let ReportBody {
        kind,
        period,
        passphrase,
    } = body.into_inner();
    let id = start_report(
        &state,
        caller.person,
        path.into_inner(),
        kind,
        period,
        passphrase,
    )
    .await?;
    Ok(accepted(id))
}

async fn report_page(
    state: web::Data<AppState>,
    viewer: Viewer,
    path: web::Path<String>,
    form: web::Form<Vec<(String, String)>>,
) -> PageResult {
    let code = path.into_inner();
    let back = format!("/laporan/{code}");
    let form = form.into_inner();
    let field = |name: &str| form_field(&form, name).unwrap_or_default().to_owned();
    viewer.check(&field("csrf"))?;
    let job = start_report(
        &state,
        viewer.person,
        code,
        field("jenis"),
        field("periode"),
        field("passphrase"),
    )
    .await
    .map_err(|e| PageError::from(e).back_to(back))?;
    Ok(see_other(&format!("/proses/{job}")))
}

/// Starts exporting the letters of the office with `code` (created `from` to `to`) for
/// `person`, who must be of its staff (auditors included).
async fn start_export(
    state: &AppState,
    person: PersonId,
    code: String,
    from: Option<chrono::NaiveDate>,
    to: Option<chrono::NaiveDate>,
) -> Result<i64, ApiError> {
    if let (Some(from), Some(to)) = (from, to)
        && from > to
    {
        return Err(ApiError::bad_request("tanggal awal sesudah tanggal akhir"));
    }
    let (db, data_dir) = (state.db.clone(), state.data_dir.clone());
    state
        .db
        .run(move |conn| -> Result<i64, ApiError> {
            let (office, roles) = super::auth::office_roles(conn, person, &code)?;
            if crate::workflow::applicant_only(conn, office, &roles)? {
                return Err(ApiError::new(
                    StatusCode::FORBIDDEN,
                    "forbidden",
                    "arsip kantor hanya diekspor oleh petugas dan auditornya",
                ));
            }
            one_at_a_time(conn, person, crate::jobs::EXPORT)?;
            let selection = crate::archive::export::Selection {
                office: Some(code),
                request: None,
                from,
                to,
            };
            Ok(crate::archive::job::start(db, data_dir, person, selection)?)
        })
        .await
}

#[derive(Deserialize)]
struct ExportBody {
    from: Option<chrono::NaiveDate>,
    to: Option<chrono::NaiveDate>,
}

async fn export_api(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<String>,
    body: web::Json<ExportBody>,
) -> Result<HttpResponse, ApiError> {
    let ExportBody { from, to } = body.into_inner();
    let id = start_export(&state, caller.person, path.into_inner(), from, to).await?;
    Ok(accepted(id))
}

async fn export_page(
    state: web::Data<AppState>,
    viewer: Viewer,
    path: web::Path<String>,
    form: web::Form<Vec<(String, String)>>,
) -> PageResult {
    let code = path.into_inner();
    let back = format!("/laporan/{code}");
    let form = form.into_inner();
    let field = |name: &str| form_field(&form, name);
    viewer.check(field("csrf").unwrap_or_default())?;
    let refused = |e: ApiError| PageError::from(e).back_to(back.clone());
    let date = |name: &str| -> Result<Option<chrono::NaiveDate>, PageError> {
        match field(name).filter(|v| !v.is_empty()) {
            Some(text) => text
                .parse()
                .map(Some)
                .map_err(|_| refused(ApiError::bad_request("tanggal tidak valid"))),
            None => Ok(None),
        }
    };
    let (from, to) = (date("dari")?, date("sampai")?);
    let job = start_export(&state, viewer.person, code.clone(), from, to)
        .await
        .map_err(refused)?;
    Ok(see_other(&format!("/proses/{job}")))
}

/// The ZIP of a finished export job, for its owner: read a piece at a time.
async fn export_file(
    state: &AppState,
    person: PersonId,
    id: i64,
) -> Result<HttpResponse, ApiError> {
    let job = find(state, person, id).await?;
    if job.kind != crate::jobs::EXPORT {
        return Err(ApiError::not_found("berkas ekspor"));
    }
    if job.status != "finished" {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "conflict",
            "ekspor belum selesai",
        ));
    }
    let path = crate::archive::job::zip_path(&state.data_dir, id);
    let file = std::fs::File::open(&path).map_err(|_| ApiError::not_found("berkas ekspor"))?;
    let size = file.metadata().map(|m| m.len()).unwrap_or(0);
    let chunks = futures_util::stream::unfold(Some(file), |file| async move {
        let mut file = file?;
        let read = web::block(move || {
            use std::io::Read;
            let mut buffer = vec![0u8; 256 * 1024];
            let n = file.read(&mut buffer)?;
            buffer.truncate(n);
            Ok::<_, std::io::Error>((file, buffer))
        })
        .await;
        match read {
            Ok(Ok((_, buffer))) if buffer.is_empty() => None,
            Ok(Ok((file, buffer))) => Some((
                Ok::<_, std::io::Error>(web::Bytes::from(buffer)),
                Some(file),
            )),
            Ok(Err(e)) => Some((Err(e), None)),
            Err(e) => Some((Err(std::io::Error::other(e.to_string())), None)),
        }
    });
    Ok(HttpResponse::Ok()
        .content_type("application/zip")
        .insert_header((
            "Content-Disposition",
            format!("attachment; filename=\"arsip-{id}.zip\""),
        ))
        .no_chunking(size)
        .streaming(chunks))
}

async fn download(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    export_file(&state, caller.person, path.into_inner()).await
}

async fn download_page(
    state: web::Data<AppState>,
    viewer: Viewer,
    path: web::Path<i64>,
) -> PageResult {
    Ok(export_file(&state, viewer.person, path.into_inner()).await?)
}

/// Refuses a second job of `kind` while `person`'s first still runs.
fn one_at_a_time(
    conn: &mut crate::db::DbConn,
    person: PersonId,
    kind: &str,
) -> Result<(), ApiError> {
    if crate::jobs::running(conn, person, kind, crate::db::now())? {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "conflict",
            "pekerjaan Anda yang sejenis masih berjalan; tunggu sampai selesai",
        ));
    }
    Ok(())
}

/// A job started: where to follow it.
fn accepted(id: i64) -> HttpResponse {
    HttpResponse::Accepted()
        .insert_header(("Location", format!("/api/v1/jobs/{id}")))
        .json(serde_json::json!({ "job": id }))
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
            one_at_a_time(conn, person, crate::jobs::SIGN_LETTERS)?;
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
    Ok(accepted(id))
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
    /// An export: its ZIP is offered once finished.
    export: bool,
    /// A report made by hand.
    report: bool,
}

async fn job_page(state: web::Data<AppState>, viewer: Viewer, path: web::Path<i64>) -> PageResult {
    let job = find(&state, viewer.person, path.into_inner()).await?;
    Ok(page(
        StatusCode::OK,
        &ProgressPage {
            running: job.status == "running",
            percent: job.percent(),
            export: job.kind == crate::jobs::EXPORT,
            report: job.kind == crate::jobs::REPORT,
            job,
        },
    ))
}
