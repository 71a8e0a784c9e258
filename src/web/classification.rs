//! An office's archive classification codes: every member reads them (they fill the letter
//! forms); only the secretariat adds, retitles and retires them.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use serde::Deserialize;

use super::AppState;
use super::auth::{Caller, office_roles};
use super::error::ApiError;
use crate::classification::{self, ClassificationError};
use crate::db::DbConn;
use crate::ids::OfficeId;
use crate::numbering::Secretary;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route(
        "/api/v1/offices/{office}/classification",
        web::get().to(list),
    )
    .route(
        "/api/v1/offices/{office}/classification/{code}",
        web::put().to(set),
    )
    .route(
        "/api/v1/offices/{office}/classification/{code}",
        web::delete().to(retire),
    );
}

impl From<ClassificationError> for ApiError {
    fn from(error: ClassificationError) -> Self {
        use ClassificationError as E;
        let status = match &error {
            E::Unknown(_) => StatusCode::NOT_FOUND,
            E::Malformed(_)
            | E::NoParent { .. }
            | E::NoTitle(_)
            | E::Line { .. }
            | E::Disposition(_)
            | E::Years => StatusCode::UNPROCESSABLE_ENTITY,
            E::Database(cause) => return ApiError::internal(cause),
        };
        let code = if status == StatusCode::NOT_FOUND {
            "not_found"
        } else {
            "invalid"
        };
        ApiError::new(status, code, error.to_string())
    }
}

async fn list(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let office = path.into_inner();
    let codes = state
        .db
        .run(move |conn| -> Result<_, ApiError> {
            let (office, _) = office_roles(conn, caller.person, &office)?;
            Ok(classification::list(conn, office)?)
        })
        .await?;
    Ok(HttpResponse::Ok().json(codes))
}

/// The office, when the caller is of its secretariat.
fn secretariat_office(conn: &mut DbConn, caller: Caller, code: &str) -> Result<OfficeId, ApiError> {
    let (office, roles) = office_roles(conn, caller.person, code)?;
    Secretary::from_roles(caller.person, office, &roles)?;
    Ok(office)
}

#[derive(Deserialize)]
struct SetBody {
    title: String,
}

async fn set(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<(String, String)>,
    body: web::Json<SetBody>,
) -> Result<HttpResponse, ApiError> {
    let (office, code) = path.into_inner();
    let title = body.into_inner().title;
    state
        .db
        .run(move |conn| -> Result<_, ApiError> {
            let office = secretariat_office(conn, caller, &office)?;
            Ok(classification::set(
                conn,
                office,
                &code,
                &title,
                Some(caller.person),
            )?)
        })
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

async fn retire(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    let (office, code) = path.into_inner();
    state
        .db
        .run(move |conn| -> Result<_, ApiError> {
            let office = secretariat_office(conn, caller, &office)?;
            Ok(classification::retire(
                conn,
                office,
                &code,
                Some(caller.person),
            )?)
        })
        .await?;
    Ok(HttpResponse::NoContent().finish())
}
