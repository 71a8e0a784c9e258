//! What a person sees of the work: the requests they may see, and their inbox (reports
//! delivered to them, the audit check's alarms). Both need a caller; an anonymous call is 401.

use actix_web::{HttpResponse, web};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};

use super::AppState;
use super::auth::Caller;
use super::error::ApiError;
use crate::db::schema::inbox;
use crate::ids::{LetterId, RequestId};

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/api/v1/requests", web::get().to(list))
        .route("/api/v1/inbox", web::get().to(own_inbox))
        .route("/api/v1/inbox/read", web::post().to(read_api))
        .route("/kotak-masuk/dibaca", web::post().to(read_page));
}

/// Marks `person`'s notices read: those named, else every unread one. Another person's
/// notices are never touched. Returns how many were marked.
async fn mark_read(
    state: &AppState,
    person: crate::ids::PersonId,
    ids: Option<Vec<i64>>,
) -> Result<usize, ApiError> {
    state
        .db
        .run(move |conn| {
            let mine = inbox::table
                .filter(inbox::person_id.eq(person))
                .filter(inbox::read_at.is_null());
            let marked = match ids {
                Some(ids) => diesel::update(mine.filter(inbox::id.eq_any(ids)))
                    .set(inbox::read_at.eq(Some(crate::db::now())))
                    .execute(conn),
                None => diesel::update(mine)
                    .set(inbox::read_at.eq(Some(crate::db::now())))
                    .execute(conn),
            };
            marked.map_err(ApiError::from)
        })
        .await
}

#[derive(Deserialize)]
struct ReadBody {
    ids: Option<Vec<i64>>,
}

async fn read_api(
    state: web::Data<AppState>,
    caller: Caller,
    body: web::Json<ReadBody>,
) -> Result<HttpResponse, ApiError> {
    let marked = mark_read(&state, caller.person, body.into_inner().ids).await?;
    Ok(HttpResponse::Ok().json(serde_json::json!({ "marked": marked })))
}

#[derive(Deserialize)]
struct CsrfForm {
    #[serde(default)]
    csrf: String,
}

/// The home page's "mark all read".
async fn read_page(
    state: web::Data<AppState>,
    viewer: super::desk::Viewer,
    form: web::Form<CsrfForm>,
) -> super::desk::PageResult {
    viewer.check(&form.csrf)?;
    mark_read(&state, viewer.person, None).await?;
    Ok(super::pages::see_other("/beranda"))
}

#[derive(Deserialize)]
struct Page {
    /// At most this many (default 100, at most 500).
    limit: Option<i64>,
    /// Those with ids below this one: the next page.
    before: Option<i64>,
}

async fn list(
    state: web::Data<AppState>,
    caller: Caller,
    page: web::Query<Page>,
) -> Result<HttpResponse, ApiError> {
    let Page { limit, before } = page.into_inner();
    let found = state
        .db
        .run(move |conn| -> Result<_, ApiError> {
            crate::workflow::visible_requests(
                conn,
                caller.person,
                limit.unwrap_or(100),
                before.map(RequestId),
            )
            .map_err(|e| ApiError::internal(e.to_string()))
        })
        .await?;
    Ok(HttpResponse::Ok().json(found))
}

#[derive(Serialize)]
struct Item {
    id: i64,
    kind: String,
    subject: String,
    letter: Option<LetterId>,
    /// The request the notice is about (a signed letter's, a finished one).
    request: Option<RequestId>,
    created_at: chrono::NaiveDateTime,
    read_at: Option<chrono::NaiveDateTime>,
}

async fn own_inbox(state: web::Data<AppState>, caller: Caller) -> Result<HttpResponse, ApiError> {
    let items = state
        .db
        .run(move |conn| {
            inbox::table
                .filter(inbox::person_id.eq(caller.person))
                .order(inbox::id.desc())
                .limit(200)
                .select((
                    inbox::id,
                    inbox::kind,
                    inbox::subject,
                    inbox::letter_id,
                    inbox::request_id,
                    inbox::created_at,
                    inbox::read_at,
                ))
                .load::<(
                    i64,
                    String,
                    String,
                    Option<LetterId>,
                    Option<crate::ids::RequestId>,
                    chrono::NaiveDateTime,
                    Option<chrono::NaiveDateTime>,
                )>(conn)
                .map_err(crate::db::DbError::from)
        })
        .await?
        .into_iter()
        .map(
            |(id, kind, subject, letter, request, created_at, read_at)| Item {
                id,
                kind,
                subject,
                letter,
                request,
                created_at,
                read_at,
            },
        )
        .collect::<Vec<_>>();
    Ok(HttpResponse::Ok().json(items))
}
